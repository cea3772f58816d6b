/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Giving back what set-up alone used, so that a running VM's RSS is its
 * steady state: heap pages malloc() holds free (malloc_trim), and the
 * mappings of read-only file pages, the code and constants of kvmini and
 * its libraries (the pages stay in the page cache, shared with every
 * process; what the run still uses faults back in). Writable and RELRO
 * segments are left alone: their private copies cannot be re-read from
 * the file. Best effort, never fails; any thread may call it, at any time,
 * as often as it likes: a thread that ends its set-up calls it (vmm/seccomp.c).
 */
#ifndef KVMINI_TRIM_H
#define KVMINI_TRIM_H

void trim_after_setup(void);

#endif
