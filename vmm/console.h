/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM's console: where guest output goes (stdout, a file or nowhere)
 * and where keyboard input comes from (stdin, with the Ctrl-A escape). A
 * device (UART, virtio-console) attaches as the console's backend.
 */
#ifndef KVMINI_CONSOLE_H
#define KVMINI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct console;

/* Accepts up to len bytes of input for the guest; returns how many. */
typedef size_t console_push_fn(void *ctx, const uint8_t *buf, size_t len);

int console_init(struct vm *vm);
void console_exit(struct vm *vm);

/* Device side, from any thread. */
void console_output(struct console *c, const uint8_t *buf, size_t len);
/* Output of a device that is not the user's console: only watched for a
 * kernel panic. */
void console_scan(struct console *c, const uint8_t *buf, size_t len);
void console_attach(struct console *c, console_push_fn *push, void *ctx);
/* The backend had refused input and now has room for more. */
void console_input_space(struct console *c);

#endif
