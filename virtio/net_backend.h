/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contract between virtio-net and its backends (backend/tap.c,
 * backend/slirp.c, the unit tests' socket): struct vnet_backend, the
 * offload bits a backend may claim and their TUN_F_* translation, and
 * the iovec copies a callback backend needs. The device's internals
 * stay in virtio/net.h, which backends do not include.
 */
#ifndef KVMINI_VIRTIO_NET_BACKEND_H
#define KVMINI_VIRTIO_NET_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

/*
 * Where virtio-net's frames go (virtio_net_new() in virtio/devices.h) is a
 * backend, owned by the caller, which must outlive the device:
 *
 *  - An fd backend (a tap opened with IFF_VNET_HDR): fd >= 0. The device
 *    moves frames, each with its struct virtio_net_hdr in front, between
 *    the guest's buffers and fd with io_uring, no copies. At DRIVER_OK it
 *    calls configure() with the header size the driver uses and the
 *    negotiated features (TUNSETVNETHDRSZ, TUNSETOFFLOAD), on a vCPU
 *    thread.
 *  - A multi-queue fd backend (a tap with IFF_MULTI_QUEUE): nr_pairs
 *    (2..VNET_PAIRS_MAX) descriptors in qfd[], qfd[0] == fd, one per
 *    receive/transmit queue pair, each with an io_uring of its own. The
 *    device offers VIRTIO_NET_F_MQ with max_virtqueue_pairs = nr_pairs,
 *    and calls set_pairs(n) (1..nr_pairs) when the driver changes how
 *    many pairs it uses (at DRIVER_OK: 1): frames from then on go to and
 *    come from qfd[0..n-1] only. configure() acts on fd (queue 0), which
 *    stays in use; it sets the whole tap.
 *  - A callback backend (user networking): fd == -1. The device hands it
 *    each transmitted frame without its header, checksums complete, and
 *    takes received frames from virtio_net_receive().
 *
 * offloads are the VIRTIO_NET_F_* offload bits (CSUM, GUEST_CSUM, the
 * TSO/UFO/USO ones) the backend can take and deliver; the device offers
 * those only. Callbacks run with vdev->lock held and must not call back
 * into the device; rx_space only wakes the backend's own event source.
 * Any callback may be NULL.
 */
struct iovec;

#define VNET_PAIRS_MAX		8

struct vnet_backend {
	int fd;
	unsigned int nr_pairs;		/* 0 or 1: one pair, fd */
	int qfd[VNET_PAIRS_MAX];	/* nr_pairs > 1 only */
	uint64_t offloads;
	int (*set_pairs)(void *ctx, unsigned int n);
	int (*configure)(void *ctx, unsigned int hdr_len, uint64_t features);
	void (*transmit)(void *ctx, const struct iovec *iov, unsigned int iovcnt,
			 size_t len);
	/* The guest posted receive buffers after virtio_net_receive()
	 * refused a frame: offer frames again. */
	void (*rx_space)(void *ctx);
	void *ctx;
};

#define VNET_F(bit)		(1ULL << (bit))
/* The offloads a backend may list in vnet_backend.offloads. No UFO
 * (Linux guests stopped sending it in 4.14, and a tap delivers none)
 * and no USO (TUN_F_USO4/6 and the virtio bits arrive with Linux 6.2). */
#define VNET_OFFLOADS		(VNET_F(VIRTIO_NET_F_CSUM) | VNET_F(VIRTIO_NET_F_GUEST_CSUM) | \
				 VNET_F(VIRTIO_NET_F_HOST_TSO4) | VNET_F(VIRTIO_NET_F_HOST_TSO6) | \
				 VNET_F(VIRTIO_NET_F_HOST_ECN) | VNET_F(VIRTIO_NET_F_GUEST_TSO4) | \
				 VNET_F(VIRTIO_NET_F_GUEST_TSO6) | VNET_F(VIRTIO_NET_F_GUEST_ECN))

/* TUN_F_* flags for TUNSETOFFLOAD: what the guest may receive. */
unsigned int vnet_tun_offloads(uint64_t features);


#endif
