/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtiofsd's life cycle: one QEMU virtiofsd (Debian: /usr/lib/qemu/
 * virtiofsd, package qemu-system-common; KVMINI_VIRTIOFSD overrides the
 * path) per shared directory, serving the vhost-user socket of one
 * virtio-fs device (virtio/fs.c). See docs/virtio-fs.md.
 *
 *  - It gets a listening socket in a private directory that kvmini
 *    removes at once, with kvmini's connection already queued on it:
 *    no other process can reach it.
 *  - A read-only share is enforced on the host: virtiofsd runs in a
 *    mount namespace of its own where the directory, and every mount
 *    below it, is a read-only bind mount. Whatever the guest does,
 *    even remounting its side read-write, writes fail with EROFS.
 *  - It runs in its own session (a terminal's Ctrl-C is kvmini's to
 *    handle), dies with kvmini (PR_SET_PDEATHSIG, even on SIGKILL), and
 *    is reaped through a pidfd on every exit path.
 *  - Its stderr is kept; the last line explains a failed start.
 *  - A share with as_nobody (kvmini exec's root) is read with the host's
 *    rights of nobody: virtiofsd runs in a user namespace that maps every
 *    id to itself, as 65534:65534 with no supplementary group and
 *    CAP_FOWNER alone, in mount and network namespaces of its own whose
 *    /proc shows no other process, with no environment. Without user
 *    namespaces the start fails, with one line. See docs/exec.md.
 *
 * virtiofsd itself needs root (it sandboxes itself in namespaces).
 */
#ifndef KVMINI_VIRTIOFSD_H
#define KVMINI_VIRTIOFSD_H

#include "lib/config.h"

struct evloop;
struct virtiofsd;

#define VIRTIOFSD_DEFAULT	"/usr/lib/qemu/virtiofsd"
/* share_config.as_nobody: the host's uid and gid its access is checked
 * as (Debian's nobody and nogroup). */
#define VIRTIOFSD_NOBODY	65534
/* How long an ended connection may take to end virtiofsd, before it is
 * killed. */
#define VIRTIOFSD_STOP_MS	2000

/*
 * Starts virtiofsd for s: 0 with *out and *sock (kvmini's end of the
 * vhost-user connection), or -errno after one error line (virtiofsd
 * missing, the directory missing, no fork…). Call it from a thread that
 * lives as long as the VM (the main thread): PR_SET_PDEATHSIG fires when
 * the thread that forked ends.
 */
int virtiofsd_start(const struct share_config *s, struct virtiofsd **out, int *sock);

/*
 * Starts s's virtiofsd ahead of the VM, so that it comes up (an exec, a
 * dynamic loader, namespaces: most of its start) while the caller does
 * other set-up, and sets s->early; virtiofsd_start() for s, or for a
 * copy of it, then hands that one over instead of starting another. 0,
 * or -errno after virtiofsd_start()'s error line. virtiofsd_early_free()
 * ends one never handed over (the VM failed before its shares) and frees
 * s->early; call it once the VM is gone, from the thread that started it.
 */
int virtiofsd_start_early(struct share_config *s);
void virtiofsd_early_free(struct share_config *s);

/* Drains its stderr on the I/O thread from now on (a full pipe would
 * stop it) and warns when it exits. 0 or -errno. */
int virtiofsd_watch(struct virtiofsd *d, struct evloop *loop);

/* For virtio-fs's backend stop: the socket is closed already. Waits at
 * most VIRTIOFSD_STOP_MS for it to exit, kills it otherwise, reaps it,
 * frees d. Only pidfd and poll calls: fine under seccomp. */
void virtiofsd_stop(void *d);

/*
 * The vhost-user set-up with it failed with err: closes sock, stops d,
 * and prints one error line, with virtiofsd's last words when it died.
 */
void virtiofsd_failed(struct virtiofsd *d, int sock, int err);

#endif
