/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 16550A UART: COM1 on x86 (port I/O), an ns16550a on arm64 (MMIO), with
 * its eight registers one byte apart in both cases. The model knows
 * nothing about KVM: the VMM wires it up through struct serial_ops.
 *
 * serial_access() runs on vCPU threads and serial_rx_push() on the main
 * thread; the model locks itself. No callback may call back into
 * serial_*(). set_irq runs with the device lock held, so raising and
 * lowering the line is ordered like the state changes behind it; output
 * and rx_space run without it, so a host stdout that blocks never stalls
 * serial_rx_push().
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

struct serial;

struct serial_ops {
	/* The interrupt line changed to level (0 or 1). */
	void (*set_irq)(void *ctx, int level);
	/* The guest transmitted these bytes; calls never overlap. */
	void (*output)(void *ctx, const uint8_t *buf, size_t len);
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
 * Queue host input for the guest; returns how many bytes were accepted,
 * which is fewer than len when the buffer fills and none while the guest
 * has the UART in loopback (the line is disconnected then).
 */
size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len);

#endif
