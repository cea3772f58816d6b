// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net transmit (net.c's top comment has the whole picture): every
 * chain the guest sends is checked first (vnet_tx_check(), net_hdr.c),
 * then goes to a callback backend without its header at once, or to a
 * tap as one writev through the io_uring engine (net_uring.c), at most
 * VNET_TX_SLOTS at a time: the header checked (a copy the guest cannot
 * change), then the guest's own buffers after its header.
 */
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "virtio/net.h"

/* Checks a popped chain, its header copied into *hdr; false when it was
 * dropped (and given back). */
static bool vnet_tx_valid(struct vnet *n, const struct virtq_chain *c,
			  struct virtio_net_hdr_v1 *hdr)
{
	const char *why = vnet_tx_check(c, n->hdr_len, n->vdev->features, hdr);

	if (!why)
		return true;
	pr_warn_once("virtio %s: dropped a malformed frame: %s", n->name, why);
	n->stats.tx_dropped++;
	return false;
}

/* ---- callback backends ------------------------------------------------- */

/* The chain's frame after its header into iov; the number of segments. */
static unsigned int vnet_tx_frame(struct vnet *n, const struct virtq_chain *c,
				  struct iovec *iov)
{
	unsigned int cnt = 0;
	size_t skip = n->hdr_len;

	for (unsigned int i = 0; i < c->nr_out; i++) {
		size_t len = c->iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		iov[cnt++] = (struct iovec){
			(uint8_t *)c->iov[i].iov_base + skip, len - skip };
		skip = 0;
	}
	return cnt;
}

/* A frame of the chain without its header, for a callback backend. */
static void vnet_tx_callback(struct vnet *n, const struct virtq_chain *c)
{
	unsigned int cnt = vnet_tx_frame(n, c, n->tx_iov);

	if (n->be.transmit)
		n->be.transmit(n->be.ctx, n->tx_iov, cnt, c->out_len - n->hdr_len);
	n->stats.tx_packets++;
	n->stats.tx_bytes += c->out_len - n->hdr_len;
}

static uint32_t vnet_tx_callback_one(void *ctx, struct virtq_chain *c)
{
	struct vnet *n = ctx;
	struct virtio_net_hdr_v1 hdr;

	if (vnet_tx_valid(n, c, &hdr))
		vnet_tx_callback(n, c);
	n->tx_dirty = true;
	return 0;
}

/* Published with the receive side's frames, by vnet_publish(). */
void vnet_tx_callbacks(struct vnet *n)
{
	virtio_drain(n->vdev, n->txq, &n->scratch, vnet_tx_callback_one, n);
}

/* ---- fd backends --------------------------------------------------------- */

static uint32_t vnet_tx_refuse_one(void *ctx, struct virtq_chain *c)
{
	struct vnet *n = ctx;

	(void)c;
	n->stats.tx_dropped++;
	n->tx_dirty = true;
	return 0;
}

/* A pair the driver does not use (past CTRL_MQ_VQ_PAIRS_SET's count):
 * its tap queue is detached, so its frames go back unsent. */
static void vnet_tx_refuse(struct vnet *n)
{
	pr_warn_once("virtio %s: frames on a queue pair the driver disabled: dropped",
		     n->name);
	virtio_drain(n->vdev, n->txq, &n->scratch, vnet_tx_refuse_one, n);
}

static void vnet_tx_put(struct vnet *n, struct vnet_tx_slot *s)
{
	virtq_add_used(&n->vdev->vqs[n->txq], s->chain.head, 0);
	n->tx_dirty = true;
	n->tx_held--;
	s->next_free = n->tx_free;
	n->tx_free = s;
}

static bool vnet_tx_submit(struct vnet *n, struct vnet_tx_slot *s)
{
	return vnet_submit_rw(n, true, s->iov, s->nr_iov, s->need_poll, s);
}

/* What the write sends: the checked header, not the guest's. */
static void vnet_tx_build(struct vnet *n, struct vnet_tx_slot *s)
{
	s->iov[0] = (struct iovec){ &s->hdr, n->hdr_len };
	s->nr_iov = 1 + vnet_tx_frame(n, &s->chain, s->iov + 1);
}

void vnet_tx_process(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;
	struct virtq *vq = &vdev->vqs[n->txq];
	unsigned int budget = VIRTIO_BUDGET(vq);
	int r = 0;

	if (!n->enabled)
		return vnet_tx_refuse(n);
	n->tx_throttled = false;
	for (;;) {
		virtq_disable_notify(vq);
		while (n->tx_free) {
			struct vnet_tx_slot *s = n->tx_free;

			/* Dropped frames free their slot at once: a driver
			 * re-posting them gets the rest next turn. */
			if (!budget--) {
				virtio_requeue(vdev, n->txq);
				return;
			}
			if (n->tx_held == vq->size) {
				virtio_needs_reset(vdev, "more buffers than the queue holds");
				return;
			}
			r = virtio_pop(vdev, n->txq, &s->chain);
			if (r <= 0)
				break;
			n->tx_free = s->next_free;
			n->tx_held++;
			s->need_poll = false;
			if (!vnet_tx_valid(n, &s->chain, &s->hdr)) {
				vnet_tx_put(n, s);
				continue;
			}
			vnet_tx_build(n, s);
			if (!vnet_tx_submit(n, s))
				vnet_tx_put(n, s);
		}
		if (r < 0 || !vdev->active)
			return;
		if (!n->tx_free) {
			n->tx_throttled = true;
			return;
		}
		if (!virtq_enable_notify(vq))
			return;
	}
}

void vnet_tx_done(struct vnet *n, struct vnet_tx_slot *s, int res)
{
	if (res == -EAGAIN || res == -EINTR) {
		s->need_poll = res == -EAGAIN;
		if (vnet_tx_submit(n, s))
			return;
	} else if (res < 0) {
		pr_warn_once("virtio %s: the tap refused a frame: %s", n->name,
			     strerror(-res));
		n->stats.tx_errors++;
	} else {
		n->stats.tx_packets++;
		n->stats.tx_bytes += (unsigned int)res > n->hdr_len ? res - n->hdr_len : 0;
	}
	vnet_tx_put(n, s);
}
