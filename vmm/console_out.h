/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The console's output on its way to a descriptor that may be slow or
 * never read (a pipe, a FIFO, a terminal), without any thread waiting
 * for it. The descriptor is non-blocking (lib/term.h: term_out_open()),
 * or a file whose writes never wait for a reader.
 *
 * A write goes straight to the descriptor while nothing waits before it;
 * what the descriptor does not take waits in a buffer of
 * CONSOLE_OUT_SIZE bytes that the I/O thread writes out when the
 * descriptor is writable (console_out_flush()). Once the buffer is full
 * a write takes less than offered, and the device holds the rest back
 * from the guest (the UART's THR stays full, virtio-console leaves the
 * guest's buffers in its queue): back-pressure, not loss. Such a refusal
 * is owed a "room again" call, which console_out_flush() says is due
 * once the buffer is half empty or the reader has gone.
 *
 * Any thread may write (vCPU threads for the UART, the I/O thread for
 * virtio-console); the struct locks itself.
 */
#ifndef KVMINI_CONSOLE_OUT_H
#define KVMINI_CONSOLE_OUT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * 16 KiB: four of a terminal's or a pipe's own writes, enough to ride out
 * a reader's pauses; a guest whose reader stops for longer waits for it,
 * and at most this much is lost when kvmini ends first.
 */
#define CONSOLE_OUT_SIZE	(16 * 1024)

struct console_out {
	pthread_mutex_t lock;
	int fd;			/* -1: everything is discarded */
	bool gone;		/* a write failed (EPIPE…): discard from now on */
	bool refused;		/* a write took less than offered */
	size_t head, len;	/* the bytes waiting in buf, a ring */
	uint8_t buf[CONSOLE_OUT_SIZE];
};

void console_out_init(struct console_out *o, int fd);
void console_out_destroy(struct console_out *o);

/*
 * Takes up to len bytes, in order after those before; returns how many.
 * *wait becomes true when bytes now wait in the buffer where none did:
 * the caller has the I/O thread call console_out_flush() whenever the
 * descriptor is writable until it returns 0.
 */
size_t console_out_write(struct console_out *o, const uint8_t *buf, size_t len,
			 bool *wait);

/*
 * Writes what waits, as much as the descriptor takes; returns how many
 * bytes still wait. *room becomes true when a refused writer is owed its
 * "room again" call (once per refusal).
 */
size_t console_out_flush(struct console_out *o, bool *room);

/* Discards what waits; returns how many bytes that was. */
size_t console_out_discard(struct console_out *o);

#endif
