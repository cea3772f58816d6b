/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user's terminal: raw while the guest owns it, restored on every way
 * out of kvmini (normal exit, error, fatal signal).
 */
#ifndef KVMINI_TERM_H
#define KVMINI_TERM_H

#include <stdbool.h>

/* Puts fd (a tty) in raw mode; 0 or -errno. No-op when fd is not a tty. */
int term_raw(int fd);
void term_restore(void);
bool term_is_raw(void);

#endif
