/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 16550A UART: COM1 on x86 (port I/O), an ns16550a on arm64 (MMIO), with
 * its eight registers one byte apart in both cases. The model knows
 * nothing about KVM: the VMM wires it up through struct serial_ops.
 *
 * serial_access() runs on vCPU threads, serial_rx_push() and
 * serial_tx_ready() on the main thread; the model locks itself. No
 * callback may call back into serial_*(). set_irq, output and tx_watch
 * run with the device lock held, so the line and the bytes are ordered like the
 * state changes behind them: output must never block (the VM console
 * buffers, and says how much it took). rx_space runs without the lock.
 */
#ifndef KVMINI_SERIAL_H
#define KVMINI_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "lib/bus.h"

#define SERIAL_NR_REGS		8
/* Host input the guest has not read yet; deeper than the 16-byte FIFO so
 * a paste is held back rather than lost. */
#define SERIAL_RX_BUF_SIZE	1024
/* The transmit FIFO, with FCR's FIFO enable; one byte (THR) without. */
#define SERIAL_TX_FIFO_SIZE	16

struct sbuf;
struct serial;

struct serial_ops {
	/* The interrupt line changed to level (0 or 1). */
	void (*set_irq)(void *ctx, int level);
	/*
	 * The guest transmitted these bytes: returns how many the host
	 * took. The rest stay in the transmit FIFO, with THRE and TEMT
	 * clear so that the guest's driver waits, until the host calls
	 * serial_tx_ready(). Calls never overlap.
	 */
	size_t (*output)(void *ctx, const uint8_t *buf, size_t len);
	/* Each byte the guest writes to THR, when it writes it: also the
	 * ones still waiting for the host, and the ones lost to a full
	 * FIFO. For a host that watches the stream (a panic detector). */
	void (*tx_watch)(void *ctx, uint8_t byte);
	/*
	 * A serial_rx_push() took fewer bytes than offered and there is
	 * room again: called once per such refusal, possibly on a vCPU
	 * thread. The room may be gone again by the time the main thread
	 * pushes, which then simply accepts less.
	 */
	void (*rx_space)(void *ctx);
};

/* ops is copied; it and any callback may be NULL. NULL without memory. */
struct serial *serial_new(const struct serial_ops *ops, void *ctx);
void serial_free(struct serial *s);

/* opaque is the struct serial *; see bus_access_fn. */
bus_access_fn serial_access;

/*
 * The host has room for output again, after an output call took less
 * than offered: what the transmit FIFO holds goes out, and once it is
 * empty THRE is set and its interrupt raised, as when a real UART's
 * FIFO drains. Any thread.
 */
void serial_tx_ready(struct serial *s);

/*
 * Queue host input for the guest; returns how many bytes were accepted,
 * which is fewer than len when the buffer fills and none while the guest
 * has the UART in loopback (the line is disconnected then).
 */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len);

/*
 * Snapshots: every register, both FIFOs' contents and what the interrupt
 * depends on. serial_load() reads a whole blob into s (fresh from
 * serial_new(), or any UART) and checks it as untrusted input: 0, or
 * -EINVAL after one error line, s left as serial_new() makes it. Then
 * the interrupt line is driven to the restored level (set_irq), and
 * bytes the host had not taken go out (output).
 */
#define SERIAL_STATE_VERSION	1
void serial_save(struct serial *s, struct sbuf *b);
int serial_load(struct serial *s, const void *blob, size_t len);

#endif
