/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM's console: where guest output goes (stdout, stderr, a file or
 * nowhere) and where keyboard input comes from (stdin, with the Ctrl-A
 * escape). A device (UART, virtio-console) attaches as the console's
 * backend.
 *
 * No thread ever waits for the reader of the output: it goes out through
 * a non-blocking descriptor of kvmini's own, with a bounded buffer
 * (vmm/console_out.h) behind it that the I/O thread writes out when the
 * descriptor has room. When the buffer is full, console_output() takes
 * less than offered and the device holds the guest back until the
 * console calls its output room callback. At the end, what still waits
 * gets CONSOLE_FLUSH_MS to go out; the rest is dropped, with a warning
 * that counts it.
 */
#ifndef KVMINI_CONSOLE_H
#define KVMINI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct console;

/* At most this long at the end for a slow reader to take what waits. */
#define CONSOLE_FLUSH_MS	200

/* Accepts up to len bytes of input for the guest; returns how many. */
typedef size_t console_push_fn(void *ctx, const uint8_t *buf, size_t len);
/* The console has room for output again, after it took less than
 * offered; called once per such refusal, on the I/O thread. */
typedef void console_room_fn(void *ctx);

int console_init(struct vm *vm);
void console_exit(struct vm *vm);

/*
 * Device side, from any thread; never blocks. Returns how many bytes the
 * console took, fewer than len when its reader is behind: the device
 * keeps the rest and offers it again after its room callback.
 * console_output() also watches what it took for a kernel panic (the
 * virtio-console's stream); console_write() does not.
 */
size_t console_output(struct console *c, const uint8_t *buf, size_t len);
size_t console_write(struct console *c, const uint8_t *buf, size_t len);
/* The UART's stream, console or not, watched for a kernel panic as the
 * guest writes it (vmm/vm_uart.c); calls never overlap. */
void console_scan(struct console *c, const uint8_t *buf, size_t len);
void console_attach(struct console *c, console_push_fn *push, void *ctx);
void console_attach_output(struct console *c, console_room_fn *room, void *ctx);
/* The backend had refused input and now has room for more. */
void console_input_space(struct console *c);

#endif
