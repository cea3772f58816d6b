/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System call filters (seccomp). Once set-up is over, each kvmini thread
 * runs under an allow-list of the system calls it still needs, so that a
 * guest that takes over a device model cannot open files, make sockets,
 * start programs or map executable memory. A call outside the list
 * traps: kvmini restores the terminal, prints "kvmini: error: forbidden
 * system call N (name)" and exits with EXIT_SECCOMP (docs/exit-codes.md).
 * --no-seccomp installs no filter.
 *
 * Filters are per thread (no TSYNC) and a thread's filter is inherited by
 * threads it creates later, so the order matters (vm_run):
 *
 *   seccomp_prepare()       main thread, before any vCPU thread exists
 *   seccomp_confine_vcpu()  each vCPU thread, before its first KVM_RUN
 *   seccomp_confine_snapshot()  the snapshot thread (--control only),
 *                           before it takes its first job
 *   seccomp_confine_io()    main thread, once the vCPU threads run; it
 *                           creates no thread after this
 *
 * The allow-lists, with the reason for every entry, are in seccomp.c;
 * docs/threat-model.md says what they protect.
 *
 * Testing: with KVMINI_SECCOMP_SELFTEST=io (or =vcpu) in the environment,
 * the I/O thread (or vCPU 0) makes a forbidden call (socket) right after
 * its filter is installed; with =io:NAME (or =vcpu:NAME) it calls NAME on
 * fd -1 instead, which must be forbidden too (tests/native/run.sh checks
 * the message and status).
 */
#ifndef KVMINI_SECCOMP_H
#define KVMINI_SECCOMP_H

struct vm;
struct vcpu;

/* The SIGSYS handler and the system call names it prints. 0, or -errno
 * after one error line. */
int seccomp_prepare(struct vm *vm);

/* Installs the calling thread's filter, the end of its set-up: then
 * what set-up used is given back (lib/trim.h), with --no-seccomp too.
 * 0, or -errno after one error line. */
int seccomp_confine_vcpu(struct vcpu *vcpu);
int seccomp_confine_io(struct vm *vm);
int seccomp_confine_snapshot(struct vm *vm);

#endif
