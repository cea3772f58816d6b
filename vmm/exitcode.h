/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmini's exit status (docs/exit-codes.md). A guest that ends the VM
 * through the exit device picks any status 0..255 itself; the codes below
 * follow timeout(1) and `docker run` so scripts can tell them apart.
 */
#ifndef KVMINI_EXITCODE_H
#define KVMINI_EXITCODE_H

#define EXIT_GUEST_OK		0	/* poweroff, reboot, exit device 0 */
#define EXIT_GUEST_CRASH	122	/* panic, triple fault, KVM gave up */
#define EXIT_TIMEOUT		124	/* --timeout expired */
#define EXIT_VMM_ERROR		125	/* kvmini itself failed; see stderr */
#define EXIT_SIGNAL_BASE	128	/* + signal number (SIGINT, SIGTERM…) */
/* A system call the seccomp filter forbids: 128 + SIGSYS (31), what a
 * shell reports for a process the kernel kills for one (vmm/seccomp.h). */
#define EXIT_SECCOMP		159

#endif
