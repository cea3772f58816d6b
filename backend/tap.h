/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tap backend of virtio-net (--net tap=NAME): a tap device opened
 * with IFF_VNET_HDR, whose descriptor the device reads and writes with
 * io_uring (struct vnet_backend, virtio/net_backend.h).
 *
 * tap_open() attaches to the tap NAME when it exists (its owner, or
 * CAP_NET_ADMIN), or else creates it (CAP_NET_ADMIN). A tap kvmini
 * creates is not persistent: the kernel removes it when kvmini's
 * descriptor closes, however kvmini ends, SIGKILL included. An existing
 * tap stays as it was.
 *
 * With cfg->queues > 1 the tap is multi-queue (made so, or found so; one
 * found without multi_queue gives one queue, with a notice, unless
 * queues= asked for more): one descriptor per queue, tap_queue_fd(), the
 * first of them tap_fd(); the device detaches those past the pairs its
 * driver uses (TUNSETQUEUE).
 */
#ifndef KVMINI_TAP_H
#define KVMINI_TAP_H


struct net_config;
struct tap;
struct vnet_backend;

/* NULL after one error line naming the tap and what to do. */
struct tap *tap_open(const struct net_config *cfg);
const struct vnet_backend *tap_backend(struct tap *t);
int tap_fd(const struct tap *t);
/* 1..CONFIG_NET_QUEUES_MAX, and queue i's descriptor (-1 past them). */
unsigned int tap_nr_queues(const struct tap *t);
int tap_queue_fd(const struct tap *t, unsigned int i);
/* After the device that used it is gone. NULL is fine. */
void tap_close(struct tap *t);

#endif
