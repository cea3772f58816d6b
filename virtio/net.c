// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2 section 5.1): receive and transmit queue pairs
 * and a control queue, in front of a backend (virtio/devices.h). One
 * pair, or with a multi-queue tap up to VNET_PAIRS_MAX (VIRTIO_NET_F_MQ):
 * pair i is queues 2i and 2i+1, the control queue comes last, and each
 * pair has the tap queue, io_uring and buffer pool of its own (struct
 * vnet), so a pair is what the single-pair device was; struct vnet_nic
 * is what they share. The driver starts on the first pair and asks for
 * more with CTRL_MQ_VQ_PAIRS_SET; the tap steers frames only to the
 * queues of the pairs in use (vnet_set_pairs()).
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

static int vnet_configure(struct vnet_nic *nic, uint64_t features)
{
	if (!nic->be.configure)
		return 0;
	return nic->be.configure(nic->be.ctx, nic->pairs[0]->hdr_len, features);
}

/* Reads start on the I/O thread: the pair's eventfd wakes it. */
static int vnet_start(struct vnet *n)
{
	uint64_t one = 1;

	if (vnet_has_fd(n) && write(n->u.efd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

/*
 * The driver uses the first count pairs from now on. A pair leaving stops
 * receiving first (its reads cancelled; a frame that landed is delivered),
 * then the backend detaches its tap queue, so that the tap steers no frame
 * to it; a pair joining is attached first, then its reads start.
 */
static int vnet_set_pairs(struct vnet_nic *nic, unsigned int count)
{
	int err = 0;

	for (unsigned int i = count; i < nic->nr_pairs; i++) {
		struct vnet *p = nic->pairs[i];

		if (!p->enabled)
			continue;
		p->enabled = false;
		if (vnet_has_fd(p))
			vnet_rx_stop(p);
	}
	if (nic->be.set_pairs)
		err = nic->be.set_pairs(nic->be.ctx, count);
	if (err)
		return err;
	for (unsigned int i = 0; i < count; i++) {
		struct vnet *p = nic->pairs[i];

		if (p->enabled)
			continue;
		p->enabled = true;
		err = vnet_start(p);
		if (err)
			return err;
	}
	return 0;
}

/* What an accepted command changes outside the recorded state. */
static uint8_t vnet_ctrl_apply(struct vnet_nic *nic, struct vnet_ctrl_state *st)
{
	uint64_t f = nic->vdev->features;

	if (st->offloads_changed) {
		st->offloads_changed = false;
		if (vnet_configure(nic, (f & ~VNET_GUEST_OFFLOADS) | st->guest_offloads))
			return VIRTIO_NET_ERR;
	}
	if (st->pairs_changed) {
		st->pairs_changed = false;
		if (vnet_set_pairs(nic, st->pairs)) {
			pr_warn_once("virtio %s: cannot switch to %u queue pairs",
				     nic->name, st->pairs);
			return VIRTIO_NET_ERR;
		}
	}
	st->mac_changed = false;
	nic->ctrl = *st;
	return VIRTIO_NET_OK;
}

/* One command; returns the bytes written (the ack, or none). */
static uint32_t vnet_ctrl_one(void *ctx, struct virtq_chain *c)
{
	struct vnet_nic *nic = ctx;
	struct vnet_ctrl_state st = nic->ctrl;
	const struct iovec *ack;
	uint8_t r;

	/* The ack is the last writable byte; segments are never empty. */
	if (c->err || !c->nr_in) {
		pr_warn_once("virtio %s: control command without room for its ack",
			     nic->name);
		return 0;
	}
	ack = &c->iov[c->nr_out + c->nr_in - 1];
	r = vnet_ctrl_cmd(&st, nic->vdev->features, c->iov, c->nr_out, c->out_len);
	if (r == VIRTIO_NET_OK)
		r = vnet_ctrl_apply(nic, &st);
	((uint8_t *)ack->iov_base)[ack->iov_len - 1] = r;
	return 1;
}

static void vnet_ctrl(struct vnet_nic *nic)
{
	unsigned int q = VNET_CTRLQ_OF(nic->nr_pairs);

	virtio_drain(nic->vdev, q, &nic->scratch, vnet_ctrl_one, nic);
	virtio_publish(nic->vdev, q);
}

/* ---- used buffers ------------------------------------------------------------ */

void vnet_publish(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;

	if (!vdev->active)
		return;
	if (n->tx_dirty) {
		n->tx_dirty = false;
		virtq_flush(&vdev->vqs[n->txq]);
		virtio_notify_used(vdev, n->txq);
	}
	if (n->rx_dirty) {
		n->rx_dirty = false;
		virtq_flush(&vdev->vqs[n->rxq]);
		virtio_notify_used(vdev, n->rxq);
	}
}


/* ---- virtio ops ---------------------------------------------------------------- */

static void vnet_notify_pair(struct vnet *n, bool tx)
{
	if (tx) {
		if (vnet_has_fd(n))
			vnet_tx_process(n);
		else
			vnet_tx_callbacks(n);
	} else if (vnet_has_fd(n)) {
		vnet_rx_fill(n);
	} else {
		virtq_disable_notify(&n->vdev->vqs[n->rxq]);
		vnet_rx_space(n);
	}
	if (vnet_has_fd(n))
		vnet_pump(n);
	vnet_publish(n);
}

static void vnet_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vnet_nic *nic = vdev->priv;

	if (!vdev->active)
		return;
	if (q < 2 * nic->nr_pairs)
		return vnet_notify_pair(nic->pairs[q / 2], q & 1);
	if (q != VNET_CTRLQ_OF(nic->nr_pairs))
		return;
	vnet_ctrl(nic);
	/* Pairs that stopped may have delivered a last frame. */
	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		vnet_publish(nic->pairs[i]);
}

static bool vnet_features_accept(struct virtio_dev *vdev, uint64_t features)
{
	(void)vdev;
	return vnet_features_ok(features);
}

static int vnet_activate(struct virtio_dev *vdev)
{
	struct vnet_nic *nic = vdev->priv;
	int err;

	for (unsigned int i = 0; i < nic->nr_pairs; i++) {
		struct vnet *p = nic->pairs[i];

		p->hdr_len = vnet_hdr_len(vdev->features);
		p->mrg = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
		p->frame_max = vnet_rx_frame_max(vdev->features);
		p->enabled = !i;
	}
	/* A snapshot's offloads are what the driver last set. */
	if (!nic->ctrl_loaded)
		nic->ctrl.guest_offloads = vdev->features & VNET_GUEST_OFFLOADS;
	nic->ctrl_loaded = false;
	err = vnet_configure(nic, (vdev->features & ~VNET_GUEST_OFFLOADS) |
				  nic->ctrl.guest_offloads);
	if (err)
		return err;
	/* Multi-queue starts with one pair (virtio 1.2, 5.1.6.5.5). */
	nic->ctrl.pairs = 1;
	if (nic->nr_pairs > 1 && nic->be.set_pairs) {
		err = nic->be.set_pairs(nic->be.ctx, 1);
		if (err)
			return err;
	}
	if (!vnet_has_fd(nic->pairs[0])) {
		vnet_rx_space(nic->pairs[0]);
		return 0;
	}
	return vnet_start(nic->pairs[0]);
}

static void vnet_reset(struct virtio_dev *vdev)
{
	struct vnet_nic *nic = vdev->priv;

	for (unsigned int i = 0; i < nic->nr_pairs; i++) {
		vnet_drain(nic->pairs[i]);
		nic->pairs[i]->enabled = !i;
	}
	memset(&nic->ctrl, 0, sizeof(nic->ctrl));
	memcpy(nic->ctrl.mac, nic->mac, 6);
	nic->ctrl.max_pairs = nic->nr_pairs;
	nic->ctrl.pairs = 1;
	nic->ctrl_loaded = false;
}

/* ---- snapshots ------------------------------------------------------------------ */

#define VNET_STATE_VERSION	1

/*
 * Writes complete; reads are cancelled. The receive chains the device
 * held unused are the last ones popped (the pool uses them in order), so
 * they go back to the avail ring whole and are popped again later.
 */
static void vnet_quiesce_pair(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;
	struct virtq *rxq = &vdev->vqs[n->rxq];

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
	virtio_requeue(vdev, n->rxq);
	if (n->tx_throttled) {
		n->tx_throttled = false;
		virtio_requeue(vdev, n->txq);
	}
}

static void vnet_quiesce(struct virtio_dev *vdev)
{
	struct vnet_nic *nic = vdev->priv;

	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		vnet_quiesce_pair(nic->pairs[i]);
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
	struct vnet_nic *nic = vdev->priv;

	if (nic->nr_pairs > 1) {
		pr_err("virtio %s: snapshots of a multi-queue NIC are not supported yet (give it --net tap=NAME,queues=1)",
		       nic->name);
		return -ENOTSUP;
	}
	sbuf_put_u32(b, VNET_STATE_VERSION);
	sbuf_put(b, nic->ctrl.mac, 6);
	sbuf_put_u8(b, nic->ctrl.promisc);
	sbuf_put_u8(b, nic->ctrl.allmulti);
	vnet_put_table(b, nic->ctrl.uc_entries, nic->ctrl.uc_overflow, nic->ctrl.uc);
	vnet_put_table(b, nic->ctrl.mc_entries, nic->ctrl.mc_overflow, nic->ctrl.mc);
	sbuf_put_u64(b, nic->ctrl.guest_offloads);
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
	struct vnet_nic *nic = vdev->priv;
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
	if (nic->nr_pairs > 1) {
		pr_err("virtio %s: snapshots of a multi-queue NIC are not supported yet (give it --net tap=NAME,queues=1)",
		       nic->name);
		return -ENOTSUP;
	}
	if (version != VNET_STATE_VERSION || promisc > 1 || allmulti > 1 ||
	    !tables || !vnet_offloads_valid(vdev, st.guest_offloads)) {
		pr_err("virtio %s: snapshot state refused: bad control state", nic->name);
		return -EINVAL;
	}
	st.promisc = promisc;
	st.allmulti = allmulti;
	st.max_pairs = st.pairs = 1;
	nic->ctrl = st;
	nic->ctrl_loaded = true;
	return 0;
}

static void vnet_config_read(struct virtio_dev *vdev, uint32_t off,
			     uint8_t *data, uint32_t len)
{
	struct vnet_nic *nic = vdev->priv;
	struct virtio_net_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, nic->ctrl.mac, 6);
	cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	cfg.max_virtqueue_pairs = htole16(nic->nr_pairs);
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
	struct vnet_nic *nic = vdev->priv;

	if (virtio_has_feature(vdev, VIRTIO_F_VERSION_1) || off >= 6 || len > 6 - off)
		return;
	memcpy(nic->ctrl.mac + off, data, len);
}

static void vnet_stats_sum(const struct vnet_nic *nic, struct vnet_stats *st)
{
	memset(st, 0, sizeof(*st));
	for (unsigned int i = 0; i < nic->nr_pairs && nic->pairs[i]; i++) {
		const struct vnet_stats *s = &nic->pairs[i]->stats;

		st->tx_packets += s->tx_packets;
		st->tx_bytes += s->tx_bytes;
		st->tx_dropped += s->tx_dropped;
		st->tx_errors += s->tx_errors;
		st->rx_packets += s->rx_packets;
		st->rx_bytes += s->rx_bytes;
		st->rx_dropped += s->rx_dropped;
	}
}

void virtio_net_stats(struct virtio_dev *vdev, struct vnet_stats *st)
{
	struct vnet_nic *nic = vdev->priv;

	pthread_mutex_lock(&vdev->lock);
	vnet_stats_sum(nic, st);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_net_ctrl_state(struct virtio_dev *vdev, struct vnet_ctrl_state *st)
{
	struct vnet_nic *nic = vdev->priv;

	pthread_mutex_lock(&vdev->lock);
	*st = nic->ctrl;
	pthread_mutex_unlock(&vdev->lock);
}

unsigned int virtio_net_pairs(struct virtio_dev *vdev)
{
	struct vnet_nic *nic = vdev->priv;
	unsigned int n = 0;

	pthread_mutex_lock(&vdev->lock);
	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		n += nic->pairs[i]->enabled;
	pthread_mutex_unlock(&vdev->lock);
	return n;
}

static void vnet_pair_free(struct vnet *n)
{
	vnet_drain(n);
	if (n->on_loop)
		evloop_del(n->loop, &n->ev);
	uring_exit(&n->u);
	free(n->tx);
	free(n->rx_ops);
	free(n);
}

static void vnet_nic_free(struct vnet_nic *nic)
{
	struct vnet_stats s;

	vnet_stats_sum(nic, &s);
	if (nic->vdev)
		pr_info("virtio %s: tx %llu frames, %llu bytes, %llu malformed, %llu refused; rx %llu frames, %llu bytes, %llu dropped",
			nic->name, (unsigned long long)s.tx_packets,
			(unsigned long long)s.tx_bytes, (unsigned long long)s.tx_dropped,
			(unsigned long long)s.tx_errors, (unsigned long long)s.rx_packets,
			(unsigned long long)s.rx_bytes, (unsigned long long)s.rx_dropped);
	for (unsigned int i = 0; i < nic->nr_pairs && nic->vdev; i++) {
		const struct vnet_stats *p = &nic->pairs[i]->stats;

		/* Where the frames went: lab tests check both pairs. */
		if (nic->nr_pairs > 1)
			pr_info("virtio %s: pair %u: tx %llu frames, rx %llu frames",
				nic->name, i, (unsigned long long)p->tx_packets,
				(unsigned long long)p->rx_packets);
	}
	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		if (nic->pairs[i])
			vnet_pair_free(nic->pairs[i]);
	free(nic);
}

static void vnet_free(struct virtio_dev *vdev)
{
	if (!vdev->priv)
		return;
	vnet_nic_free(vdev->priv);
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

/* Pair i: its queues and descriptor, its engine. */
static struct vnet *vnet_pair_new(struct vnet_nic *nic, unsigned int i)
{
	struct vnet *n = calloc(1, sizeof(*n));

	if (!n) {
		pr_err("virtio %s: out of memory", nic->name);
		return NULL;
	}
	nic->pairs[i] = n;
	n->nic = nic;
	n->u.efd = -1;
	n->be = nic->be;
	if (nic->nr_pairs > 1)
		n->be.fd = nic->be.qfd[i];
	n->rxq = VNET_RXQ_OF(i);
	n->txq = VNET_TXQ_OF(i);
	n->enabled = !i;
	if (i)
		snprintf(n->name, sizeof(n->name), "%s.q%u", nic->name, i);
	else
		snprintf(n->name, sizeof(n->name), "%s", nic->name);
	if (vnet_alloc(n) || (vnet_has_fd(n) && vnet_ring_init(n)))
		return NULL;
	return n;
}

static void vnet_ops(const struct vnet_nic *nic, struct virtio_dev_ops *ops)
{
	uint64_t features = vnet_offered(nic->be.offloads);

	if (nic->nr_pairs > 1)
		features |= VNET_F(VIRTIO_NET_F_MQ);
	*ops = (struct virtio_dev_ops){
		.device_id	= VIRTIO_ID_NET,
		.nr_queues	= VNET_NR_QUEUES_OF(nic->nr_pairs),
		.queue_max	= VNET_QUEUE_MAX,
		.features	= features,
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

/* Pairs: the backend's descriptors, if it has more than one and a valid
 * one for each; else one. */
static unsigned int vnet_nr_pairs(const struct vnet_backend *be)
{
	if (be->fd < 0 || be->nr_pairs <= 1 || be->nr_pairs > VNET_PAIRS_MAX ||
	    be->qfd[0] != be->fd)
		return 1;
	for (unsigned int i = 0; i < be->nr_pairs; i++)
		if (be->qfd[i] < 0)
			return 1;
	return be->nr_pairs;
}

struct virtio_dev *virtio_net_new(const struct guest_mem *mem,
				  const struct vnet_backend *be,
				  const uint8_t mac[6], struct evloop *loop,
				  unsigned int index)
{
	struct vnet_dev *dev = calloc(1, sizeof(*dev));
	struct vnet_nic *nic = calloc(1, sizeof(*nic));

	if (!dev || !nic) {
		pr_err("virtio net%u: out of memory", index);
		goto fail;
	}
	nic->be = *be;
	snprintf(nic->name, sizeof(nic->name), "net%u", index);
	memcpy(nic->mac, mac, 6);
	memcpy(nic->ctrl.mac, mac, 6);
	if (nic->be.fd < 0)
		nic->be.offloads = 0;	/* frames go to it complete */
	nic->nr_pairs = vnet_nr_pairs(be);
	nic->ctrl.max_pairs = nic->nr_pairs;
	nic->ctrl.pairs = 1;
	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		if (!vnet_pair_new(nic, i))
			goto fail;
	vnet_ops(nic, &dev->ops);
	if (virtio_dev_init(&dev->vdev, &dev->ops, mem, nic->name, nic)) {
		free(dev->vdev.vqs);
		goto fail;
	}
	nic->vdev = &dev->vdev;
	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		nic->pairs[i]->vdev = &dev->vdev;
	for (unsigned int i = 0; i < nic->nr_pairs; i++) {
		if (vnet_loop_add(nic->pairs[i], loop)) {
			virtio_dev_exit(&dev->vdev);
			free(dev);
			return NULL;
		}
	}
	return &dev->vdev;
fail:
	if (nic)
		vnet_nic_free(nic);
	free(dev);
	return NULL;
}
