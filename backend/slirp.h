/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --net user: a virtio-net backend on libslirp, the user-mode TCP/IP stack
 * QEMU uses. The guest sits alone on 10.0.2.0/24: DHCP gives it
 * 10.0.2.15, the gateway 10.0.2.2 (which is also the host's loopback) and
 * the DNS forwarder 10.0.2.3; its TCP and UDP leave through ordinary
 * sockets of kvmini's, so nothing needs privileges. IPv4 only.
 *
 * Everything here runs on the I/O thread: libslirp is single-threaded,
 * and the device calls transmit from its queue kicks there. Set-up
 * (slirp_net_new, which binds the hostfwd ports) is done before the
 * seccomp filters go on. docs/net.md has the user's side.
 *
 * Without libslirp at build time (the static and arm64 builds) these are
 * stubs: slirp_net_new says so in one error line and returns NULL.
 */
#ifndef KVMINI_SLIRP_H
#define KVMINI_SLIRP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evloop;
struct net_config;
struct virtio_dev;
struct vnet_backend;
struct slirp_net;

/* The stack, its hostfwd ports bound, its event sources on loop. NULL
 * after one error line (a port in use names the port). */
struct slirp_net *slirp_net_new(const struct net_config *cfg, struct evloop *loop);
/* For virtio_net_new(): fd -1, no offloads, transmit and rx_space. */
const struct vnet_backend *slirp_net_backend(struct slirp_net *s);
/* Frames from the stack go to virtio_net_receive(vdev, ...) from now on;
 * until then they wait in the backlog. */
void slirp_net_attach(struct slirp_net *s, struct virtio_dev *vdev);
/* After the device is gone; NULL is fine. */
void slirp_net_free(struct slirp_net *s);

/*
 * Frames on their way to the guest wait in a bounded backlog: libslirp
 * produces them in the middle of transmit (an ARP or DHCP reply, with the
 * device's lock held) or while the guest has posted no buffers. Beyond
 * SLIRP_NET_BACKLOG frames they are dropped and counted; TCP resends.
 */
#define SLIRP_NET_MTU		1500
#define SLIRP_NET_FRAME_MAX	(14 + SLIRP_NET_MTU)	/* Ethernet header */
#define SLIRP_NET_BACKLOG	256

struct slirp_net_stats {
	uint64_t tx_dropped;	/* guest frames refused: bad length */
	uint64_t rx_dropped;	/* frames for the guest: backlog full */
	unsigned int backlog;	/* frames waiting now */
};

void slirp_net_get_stats(const struct slirp_net *s, struct slirp_net_stats *st);

/* Tests: where frames for the guest go instead of virtio_net_receive().
 * deliver returns false to refuse a frame (no buffers): it stays first in
 * the backlog until the backend's rx_space callback. */
void slirp_net_set_deliver(struct slirp_net *s,
			   bool (*deliver)(void *ctx, const void *frame, size_t len),
			   void *ctx);

#endif
