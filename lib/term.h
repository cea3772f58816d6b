/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user's terminal and standard streams: raw mode while the guest owns
 * the terminal, and non-blocking output that leaves the shell's streams
 * as they were; both restored on every way out of kvmini (normal exit,
 * error, fatal signal).
 */
#ifndef KVMINI_TERM_H
#define KVMINI_TERM_H

#include <stdbool.h>

/* Puts fd (a tty) in raw mode; 0 or -errno. No-op when fd is not a tty. */
int term_raw(int fd);
/* The terminal's modes and the flags term_out_open() changed, back. */
void term_restore(void);
bool term_is_raw(void);

/*
 * A descriptor whose writes to fd (stdout or stderr) never wait for a
 * reader, without O_NONBLOCK on the file description that the shell and
 * its other programs share with kvmini:
 *  - a pipe, FIFO, terminal or other character device is opened again
 *    through /proc/self/fd, a description of kvmini's own;
 *  - what cannot be opened again (a socket, a FIFO with no reader) gets
 *    O_NONBLOCK on the shared description, which term_restore() undoes;
 *  - fd itself when its writes never wait for a reader (a regular file,
 *    a block device) or it is non-blocking already.
 * Returns the descriptor, to be given to term_out_close(), or -errno
 * (-EBADF: fd is closed).
 */
int term_out_open(int fd);
void term_out_close(int out, int fd);

#endif
