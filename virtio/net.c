// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2 section 5.1): one receive queue, one transmit
 * queue and a control queue, in front of a backend (virtio/devices.h).
 * This file is the device: its features and config space, the control
 * queue, activate, reset, free and creation. The rest:
 *
 *   net_tx.c     transmit, both kinds of backend
 *   net_rx.c     receive: the buffer pool, reads, num_buffers, the
 *                callback backends' frames
 *   net_uring.c  the io_uring engine of fd backends: submission,
 *                completions, drain, the ring itself
 *   net_hdr.c    features, header sizes, the transmit frame check,
 *                receive-buffer accounting (no queue, no descriptor)
 *   net_ctrl.c   the control commands' parsing (no queue)
 *   net.h        what these files share
 *
 * An fd backend (a tap) is driven through io_uring, with the guest's
 * buffers as the iovecs, header and all:
 *
 *  - Transmit: a kick pops every chain (at most VNET_TX_SLOTS in flight),
 *    checks it (net_hdr.c: a malformed frame is dropped and counted, its
 *    buffer given back) and queues one writev per frame; one submit for
 *    the kick. A completion gives the buffer back with used length 0.
 *  - Receive: up to VNET_RX_OPS readv operations wait on the tap, each
 *    over enough posted buffers for the largest frame the negotiated
 *    features allow: one chain, or with MRG_RXBUF as many as it takes.
 *    A completion says how many bytes the frame took; the buffers that
 *    hold it go to the used ring together (num_buffers in the header),
 *    the others stay with the device for the next read. Popped buffers
 *    wait in a pool (rx_pool, in posting order), so nothing is ever
 *    given back to the avail ring. Without buffers nothing is read: the
 *    tap's own queue holds frames until the guest posts more and kicks.
 *
 * Completions wake an eventfd registered on the ring; its handler runs on
 * the I/O thread under vdev->lock. Reads that find frames waiting, and
 * writes the tap takes at once, complete inside the submit: vnet_pump()
 * takes them in the same turn, from a kick as from a wake-up, and the
 * guest hears once per batch. A status write (activate) on a vCPU
 * thread only writes that eventfd, so that every read is submitted, and
 * its poll armed, by the I/O thread. Reset, FAILED, DEVICE_NEEDS_RESET and
 * teardown wait in vnet_drain() until nothing is in flight: once
 * ops->reset() returns, no frame lands in guest memory.
 *
 * A callback backend (user networking) gets each frame without its header
 * from be->transmit and gives frames through virtio_net_receive(); it
 * lists no offloads, so checksums are always complete.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/uring.h"
#include "virtio/devices.h"
#include "virtio/net.h"

struct vnet_dev {
	struct virtio_dev vdev;		/* first: free(vdev) frees both */
	struct virtio_dev_ops ops;
};

/* ---- control queue ---------------------------------------------------------- */

static int vnet_configure(struct vnet *n, uint64_t features)
{
	if (!n->be.configure)
		return 0;
	return n->be.configure(n->be.ctx, n->hdr_len, features);
}

/* What an accepted command changes outside the recorded state. */
static uint8_t vnet_ctrl_apply(struct vnet *n, struct vnet_ctrl_state *st)
{
	uint64_t f = n->vdev->features;

	if (st->offloads_changed) {
		st->offloads_changed = false;
		if (vnet_configure(n, (f & ~VNET_GUEST_OFFLOADS) | st->guest_offloads))
			return VIRTIO_NET_ERR;
	}
	st->mac_changed = false;
	n->ctrl = *st;
	return VIRTIO_NET_OK;
}

/* One command; returns the bytes written (the ack, or none). */
static uint32_t vnet_ctrl_one(void *ctx, struct virtq_chain *c)
{
	struct vnet *n = ctx;
	struct vnet_ctrl_state st = n->ctrl;
	const struct iovec *ack;
	uint8_t r;

	/* The ack is the last writable byte; segments are never empty. */
	if (c->err || !c->nr_in) {
		pr_warn_once("virtio %s: control command without room for its ack",
			     n->name);
		return 0;
	}
	ack = &c->iov[c->nr_out + c->nr_in - 1];
	r = vnet_ctrl_cmd(&st, n->vdev->features, c->iov, c->nr_out, c->out_len);
	if (r == VIRTIO_NET_OK)
		r = vnet_ctrl_apply(n, &st);
	((uint8_t *)ack->iov_base)[ack->iov_len - 1] = r;
	return 1;
}

static void vnet_ctrl(struct vnet *n)
{
	virtio_drain(n->vdev, VNET_CTRLQ, &n->scratch, vnet_ctrl_one, n);
	virtio_publish(n->vdev, VNET_CTRLQ);
}

/* ---- used buffers ------------------------------------------------------------ */

void vnet_publish(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;

	if (!vdev->active)
		return;
	if (n->tx_dirty) {
		n->tx_dirty = false;
		virtq_flush(&vdev->vqs[VNET_TXQ]);
		virtio_notify_used(vdev, VNET_TXQ);
	}
	if (n->rx_dirty) {
		n->rx_dirty = false;
		virtq_flush(&vdev->vqs[VNET_RXQ]);
		virtio_notify_used(vdev, VNET_RXQ);
	}
}


/* ---- virtio ops ---------------------------------------------------------------- */

static void vnet_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vnet *n = vdev->priv;

	if (!vdev->active)
		return;
	switch (q) {
	case VNET_TXQ:
		if (vnet_has_fd(n))
			vnet_tx_process(n);
		else
			vnet_tx_callbacks(n);
		break;
	case VNET_RXQ:
		if (vnet_has_fd(n)) {
			vnet_rx_fill(n);
		} else {
			virtq_disable_notify(&vdev->vqs[VNET_RXQ]);
			vnet_rx_space(n);
		}
		break;
	case VNET_CTRLQ:
		vnet_ctrl(n);
		break;
	}
	if (vnet_has_fd(n))
		vnet_pump(n);
	vnet_publish(n);
}

static bool vnet_features_accept(struct virtio_dev *vdev, uint64_t features)
{
	(void)vdev;
	return vnet_features_ok(features);
}

static int vnet_activate(struct virtio_dev *vdev)
{
	struct vnet *n = vdev->priv;
	uint64_t one = 1;
	int err;

	n->hdr_len = vnet_hdr_len(vdev->features);
	n->mrg = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
	n->frame_max = vnet_rx_frame_max(vdev->features);
	/* A snapshot's offloads are what the driver last set. */
	if (!n->ctrl_loaded)
		n->ctrl.guest_offloads = vdev->features & VNET_GUEST_OFFLOADS;
	n->ctrl_loaded = false;
	err = vnet_configure(n, (vdev->features & ~VNET_GUEST_OFFLOADS) |
				n->ctrl.guest_offloads);
	if (err)
		return err;
	if (!vnet_has_fd(n)) {
		vnet_rx_space(n);
		return 0;
	}
	/* Reads start on the I/O thread (see the top of this file). */
	if (write(n->u.efd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

static void vnet_reset(struct virtio_dev *vdev)
{
	struct vnet *n = vdev->priv;

	vnet_drain(n);
	memset(&n->ctrl, 0, sizeof(n->ctrl));
	memcpy(n->ctrl.mac, n->mac, 6);
	n->ctrl_loaded = false;
}

/* ---- snapshots ------------------------------------------------------------------ */

#define VNET_STATE_VERSION	1

/*
 * Writes complete; reads are cancelled. The receive chains the device
 * held unused are the last ones popped (the pool uses them in order), so
 * they go back to the avail ring whole and are popped again later.
 */
static void vnet_quiesce(struct virtio_dev *vdev)
{
	struct vnet *n = vdev->priv;
	struct virtq *rxq = &vdev->vqs[VNET_RXQ];

	if (!vdev->active)
		return;
	if (vnet_has_fd(n))
		vnet_quiesce_io(n);
	vnet_publish(n);
	if (!vdev->active)
		return;
	virtq_unpop(rxq, virtq_outstanding(rxq));
	vnet_pool_reset(n);
	/* Receiving and a transmit that waited for a slot go on after. */
	virtio_requeue(vdev, VNET_RXQ);
	if (n->tx_throttled) {
		n->tx_throttled = false;
		virtio_requeue(vdev, VNET_TXQ);
	}
}

static void vnet_put_table(struct sbuf *b, unsigned int entries, bool overflow,
			   uint8_t (*mac)[6])
{
	sbuf_put_u32(b, entries);
	sbuf_put_u8(b, overflow);
	sbuf_put(b, mac, VNET_MAC_TABLE_MAX * 6);
}

/* The control queue's state; the backend is the new process's. */
static int vnet_save(struct virtio_dev *vdev, struct sbuf *b)
{
	struct vnet *n = vdev->priv;

	sbuf_put_u32(b, VNET_STATE_VERSION);
	sbuf_put(b, n->ctrl.mac, 6);
	sbuf_put_u8(b, n->ctrl.promisc);
	sbuf_put_u8(b, n->ctrl.allmulti);
	vnet_put_table(b, n->ctrl.uc_entries, n->ctrl.uc_overflow, n->ctrl.uc);
	vnet_put_table(b, n->ctrl.mc_entries, n->ctrl.mc_overflow, n->ctrl.mc);
	sbuf_put_u64(b, n->ctrl.guest_offloads);
	return 0;
}

static bool vnet_get_table(struct sbuf_rd *r, unsigned int *entries,
			   bool *overflow, uint8_t (*mac)[6])
{
	uint32_t n = sbuf_get_u32(r);
	uint8_t o = sbuf_get_u8(r);

	sbuf_get(r, mac, VNET_MAC_TABLE_MAX * 6);
	*entries = n;
	*overflow = o;
	return o == (n > VNET_MAC_TABLE_MAX);
}

/* Offloads as ctrl_offloads() accepts them, and none before DRIVER_OK
 * (activate sets them). */
static bool vnet_offloads_valid(const struct virtio_dev *vdev, uint64_t o)
{
	uint64_t f = vdev->features;

	if (!(vdev->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return !o;
	return !(o & ~(f & VNET_GUEST_OFFLOADS)) &&
	       vnet_features_ok(o | (f & ~VNET_GUEST_OFFLOADS));
}

static int vnet_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	struct vnet *n = vdev->priv;
	struct vnet_ctrl_state st = { 0 };
	uint32_t version = sbuf_get_u32(r);
	uint8_t promisc, allmulti;
	bool tables;

	sbuf_get(r, st.mac, 6);
	promisc = sbuf_get_u8(r);
	allmulti = sbuf_get_u8(r);
	tables = vnet_get_table(r, &st.uc_entries, &st.uc_overflow, st.uc);
	tables &= vnet_get_table(r, &st.mc_entries, &st.mc_overflow, st.mc);
	st.guest_offloads = sbuf_get_u64(r);
	if (r->bad)
		return 0;	/* the core says truncated */
	if (version != VNET_STATE_VERSION || promisc > 1 || allmulti > 1 ||
	    !tables || !vnet_offloads_valid(vdev, st.guest_offloads)) {
		pr_err("virtio %s: snapshot state refused: bad control state", n->name);
		return -EINVAL;
	}
	st.promisc = promisc;
	st.allmulti = allmulti;
	n->ctrl = st;
	n->ctrl_loaded = true;
	return 0;
}

static void vnet_config_read(struct virtio_dev *vdev, uint32_t off,
			     uint8_t *data, uint32_t len)
{
	struct vnet *n = vdev->priv;
	struct virtio_net_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, n->ctrl.mac, 6);
	cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	cfg.max_virtqueue_pairs = htole16(1);
	if (off > sizeof(cfg) || len > sizeof(cfg) - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, (const uint8_t *)&cfg + off, len);
}

/* Legacy drivers without CTRL_MAC_ADDR write the MAC in place. */
static void vnet_config_write(struct virtio_dev *vdev, uint32_t off,
			      const uint8_t *data, uint32_t len)
{
	struct vnet *n = vdev->priv;

	if (virtio_has_feature(vdev, VIRTIO_F_VERSION_1) || off >= 6 || len > 6 - off)
		return;
	memcpy(n->ctrl.mac + off, data, len);
}

void virtio_net_stats(struct virtio_dev *vdev, struct vnet_stats *st)
{
	struct vnet *n = vdev->priv;

	pthread_mutex_lock(&vdev->lock);
	*st = n->stats;
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_net_ctrl_state(struct virtio_dev *vdev, struct vnet_ctrl_state *st)
{
	struct vnet *n = vdev->priv;

	pthread_mutex_lock(&vdev->lock);
	*st = n->ctrl;
	pthread_mutex_unlock(&vdev->lock);
}

static void vnet_free(struct virtio_dev *vdev)
{
	struct vnet *n = vdev->priv;
	const struct vnet_stats *s;

	if (!n)
		return;
	s = &n->stats;
	vnet_drain(n);
	if (n->vdev)
		pr_info("virtio %s: tx %llu frames, %llu bytes, %llu malformed, %llu refused; rx %llu frames, %llu bytes, %llu dropped",
			n->name, (unsigned long long)s->tx_packets,
			(unsigned long long)s->tx_bytes, (unsigned long long)s->tx_dropped,
			(unsigned long long)s->tx_errors, (unsigned long long)s->rx_packets,
			(unsigned long long)s->rx_bytes, (unsigned long long)s->rx_dropped);
	if (n->on_loop)
		evloop_del(n->loop, &n->ev);
	uring_exit(&n->u);
	free(n->tx);
	free(n->rx_ops);
	free(n);
	vdev->priv = NULL;
}

/* ---- creation ------------------------------------------------------------------- */

static int vnet_alloc(struct vnet *n)
{
	n->tx = calloc(VNET_TX_SLOTS, sizeof(*n->tx));
	n->rx_ops = calloc(VNET_RX_OPS, sizeof(*n->rx_ops));
	if (!n->tx || !n->rx_ops) {
		pr_err("virtio %s: out of memory", n->name);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < VNET_RX_OPS; i++)
		n->rx_ops[i].kind = VNET_OP_RX;
	vnet_drain(n);		/* nothing in flight: sets the free lists */
	return 0;
}

static void vnet_ops(const struct vnet *n, struct virtio_dev_ops *ops)
{
	*ops = (struct virtio_dev_ops){
		.device_id	= VIRTIO_ID_NET,
		.nr_queues	= VNET_NR_QUEUES,
		.queue_max	= VNET_QUEUE_MAX,
		.features	= vnet_offered(n->be.offloads),
		.config_size	= sizeof(struct virtio_net_config),
		.config_read	= vnet_config_read,
		.config_write	= vnet_config_write,
		.features_ok	= vnet_features_accept,
		.activate	= vnet_activate,
		.reset		= vnet_reset,
		.notify		= vnet_notify,
		.free		= vnet_free,
		.quiesce	= vnet_quiesce,
		.save		= vnet_save,
		.load		= vnet_load,
	};
}

struct virtio_dev *virtio_net_new(const struct guest_mem *mem,
				  const struct vnet_backend *be,
				  const uint8_t mac[6], struct evloop *loop,
				  unsigned int index)
{
	struct vnet_dev *dev = calloc(1, sizeof(*dev));
	struct vnet *n = calloc(1, sizeof(*n));

	if (!dev || !n) {
		pr_err("virtio net%u: out of memory", index);
		goto fail;
	}
	n->u.efd = -1;
	n->be = *be;
	snprintf(n->name, sizeof(n->name), "net%u", index);
	memcpy(n->mac, mac, 6);
	memcpy(n->ctrl.mac, mac, 6);
	if (!vnet_has_fd(n))
		n->be.offloads = 0;	/* frames go to it complete */
	if (vnet_alloc(n) || (vnet_has_fd(n) && vnet_ring_init(n)))
		goto fail;
	vnet_ops(n, &dev->ops);
	if (virtio_dev_init(&dev->vdev, &dev->ops, mem, n->name, n)) {
		free(dev->vdev.vqs);
		goto fail;
	}
	n->vdev = &dev->vdev;
	if (vnet_loop_add(n, loop)) {
		virtio_dev_exit(&dev->vdev);
		free(dev);
		return NULL;
	}
	return &dev->vdev;
fail:
	if (n) {
		struct virtio_dev tmp = { .priv = n };

		vnet_free(&tmp);
	}
	free(dev);
	return NULL;
}
