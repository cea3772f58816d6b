// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net receive (net.c's top comment has the whole picture): the
 * pool of popped receive chains, the reads a tap gets over them through
 * the io_uring engine (net_uring.c) and what a completed read hands the
 * guest, and the copy of a callback backend's frames into the same pool.
 * A popped buffer is never given back to the avail ring: it waits in the
 * pool, in posting order, until a frame lands in it.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "virtio/net.h"

#define VNET_RX_ERR_MAX		64	/* failed reads in a row: stop */

/* ---- the receive pool --------------------------------------------------- */

void vnet_pool_reset(struct vnet *n)
{
	n->nr_rx_free = VNET_QUEUE_MAX;
	for (unsigned int i = 0; i < VNET_QUEUE_MAX; i++)
		n->rx_free[i] = VNET_QUEUE_MAX - 1 - i;
	n->ready_head = n->nr_ready = 0;
	n->ready_bytes = 0;
}

static uint16_t vnet_ready_at(const struct vnet *n, unsigned int i)
{
	return n->rx_ready[(n->ready_head + i) % VNET_QUEUE_MAX];
}

static uint16_t vnet_ready_pop(struct vnet *n)
{
	uint16_t b = n->rx_ready[n->ready_head];

	n->ready_head = (n->ready_head + 1) % VNET_QUEUE_MAX;
	n->nr_ready--;
	n->ready_bytes -= n->rx_pool[b].len;
	return b;
}

static void vnet_ready_push_back(struct vnet *n, uint16_t b)
{
	n->rx_ready[(n->ready_head + n->nr_ready) % VNET_QUEUE_MAX] = b;
	n->nr_ready++;
	n->ready_bytes += n->rx_pool[b].len;
}

/* Buffers a read did not need go first: they were posted earlier. */
static void vnet_ready_push_front(struct vnet *n, uint16_t b)
{
	n->ready_head = (n->ready_head + VNET_QUEUE_MAX - 1) % VNET_QUEUE_MAX;
	n->rx_ready[n->ready_head] = b;
	n->nr_ready++;
	n->ready_bytes += n->rx_pool[b].len;
}

static void vnet_rxbuf_used(struct vnet *n, uint16_t b, uint32_t len)
{
	virtq_add_used(&n->vdev->vqs[n->rxq], n->rx_pool[b].head, len);
	n->rx_free[n->nr_rx_free++] = b;
	n->rx_dirty = true;
}

/*
 * Pops one receive chain into the pool: 1, 0 when the driver has posted
 * none, -errno when it broke the queue. A chain the device cannot use
 * (readable parts, too many segments, shorter than a header) goes back
 * at once with length 0: the driver sees an empty buffer, no frame.
 */
static int vnet_rx_pop(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;
	struct virtq_chain *c = &n->scratch;
	struct vnet_rxbuf *buf;
	uint16_t b;
	int r;

	r = virtio_pop(vdev, n->rxq, c);
	if (r <= 0)
		return r;
	if (!n->nr_rx_free || VNET_QUEUE_MAX - n->nr_rx_free >= vdev->vqs[n->rxq].size) {
		virtio_needs_reset(vdev, "more receive buffers than the queue holds");
		return -EINVAL;
	}
	if (c->err || c->nr_out || c->nr_in > VNET_RXBUF_SEGS || c->in_len < n->hdr_len) {
		pr_warn_once("virtio %s: unusable receive buffer (%u readable, %u writable segments, %u bytes)",
			     n->name, c->nr_out, c->nr_in, c->in_len);
		virtq_add_used(&vdev->vqs[n->rxq], c->head, 0);
		n->rx_dirty = true;
		return 1;
	}
	b = n->rx_free[--n->nr_rx_free];
	buf = &n->rx_pool[b];
	buf->head = c->head;
	buf->nr_iov = c->nr_in;
	buf->len = c->in_len;
	memcpy(buf->iov, c->iov, c->nr_in * sizeof(c->iov[0]));
	vnet_ready_push_back(n, b);
	return 1;
}

/*
 * Pops until the ready buffers hold want bytes (one buffer without
 * MRG_RXBUF): 1 when they do, 0 when the driver posted too few (or broke
 * the queue), -EAGAIN when *budget chains were popped first. Unusable
 * buffers go straight back, so a driver re-posting one would keep this
 * loop going: the caller leaves the rest for the next turn.
 */
static int vnet_rx_gather(struct vnet *n, uint64_t want, unsigned int *budget)
{
	for (;;) {
		if (n->mrg ? n->ready_bytes >= want : n->nr_ready >= 1)
			return 1;
		if (!*budget) {
			virtio_requeue(n->vdev, n->rxq);
			return -EAGAIN;
		}
		--*budget;
		if (vnet_rx_pop(n) <= 0)
			return 0;
	}
}

/* ---- receive, fd backends -------------------------------------------------- */

/* The read over the oldest ready buffers: enough for any frame. */
static void vnet_rx_build(struct vnet *n, struct vnet_rx_op *op)
{
	uint64_t bytes = 0, want = n->hdr_len + n->frame_max;

	op->nr_bufs = op->nr_iov = 0;
	while (n->nr_ready && op->nr_bufs < VNET_RX_OP_BUFS && bytes < want) {
		uint16_t b = vnet_ready_at(n, 0);
		struct vnet_rxbuf *buf = &n->rx_pool[b];

		if (op->nr_iov + buf->nr_iov > VNET_RX_OP_IOVS)
			break;
		vnet_ready_pop(n);
		memcpy(op->iov + op->nr_iov, buf->iov, buf->nr_iov * sizeof(buf->iov[0]));
		op->nr_iov += buf->nr_iov;
		op->bufs[op->nr_bufs++] = b;
		bytes += buf->len;
		if (!n->mrg)
			break;
	}
}

static bool vnet_rx_submit(struct vnet *n, struct vnet_rx_op *op)
{
	if (!vnet_submit_rw(n, false, op->iov, op->nr_iov, op->need_poll, op))
		return false;
	op->busy = true;
	return true;
}

/* The op's buffers back to the ready ring, first, in their order. */
static void vnet_rx_unuse(struct vnet *n, struct vnet_rx_op *op, unsigned int from)
{
	for (unsigned int i = op->nr_bufs; i > from; i--)
		vnet_ready_push_front(n, op->bufs[i - 1]);
	op->nr_bufs = 0;
	op->busy = false;
}

/*
 * Starts reads while there are free operations and buffers for them.
 * Out of buffers, kicks on the receive queue come back on: the driver's
 * next kick brings more (virtq_enable_notify() says if some came meanwhile).
 */
void vnet_rx_fill(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;
	uint64_t want = n->hdr_len + n->frame_max;
	unsigned int budget = VIRTIO_BUDGET(&vdev->vqs[n->rxq]);
	int r;

	if (!vdev->active || n->rx_stopped || !n->enabled)
		return;
	for (unsigned int i = 0; i < VNET_RX_OPS; i++) {
		struct vnet_rx_op *op = &n->rx_ops[i];

		if (op->busy)
			continue;
		virtq_disable_notify(&vdev->vqs[n->rxq]);
		while ((r = vnet_rx_gather(n, want, &budget)) <= 0) {
			/* A frame of any size must fit: partial reads would
			 * lose the frames that do not. */
			if (r < 0 || !vdev->active ||
			    !virtq_enable_notify(&vdev->vqs[n->rxq]))
				return;
		}
		vnet_rx_build(n, op);
		op->need_poll = false;
		if (!vnet_rx_submit(n, op)) {
			vnet_rx_unuse(n, op, 0);
			return;
		}
	}
}

/* num_buffers: how many buffers the frame took (1 without MRG_RXBUF). */
static void vnet_set_num_buffers(struct vnet *n, const struct iovec *iov,
				 unsigned int cnt, uint16_t nr)
{
	uint16_t v = htole16(nr);

	if (n->hdr_len >= VNET_NUM_BUFFERS_OFF + sizeof(v))
		virtq_iov_from_buf(iov, cnt, VNET_NUM_BUFFERS_OFF, &v, sizeof(v));
}

static void vnet_rx_frame(struct vnet *n, struct vnet_rx_op *op, size_t bytes)
{
	uint32_t lens[VNET_RX_OP_BUFS], used[VNET_RX_OP_BUFS];
	unsigned int k;

	for (unsigned int i = 0; i < op->nr_bufs; i++)
		lens[i] = n->rx_pool[op->bufs[i]].len;
	k = vnet_rx_account(lens, op->nr_bufs, bytes, used);
	vnet_set_num_buffers(n, op->iov, op->nr_iov, k);
	for (unsigned int i = 0; i < k; i++)
		vnet_rxbuf_used(n, op->bufs[i], used[i]);
	vnet_rx_unuse(n, op, k);
	n->stats.rx_packets++;
	n->stats.rx_bytes += bytes - n->hdr_len;
}

void vnet_rx_done(struct vnet *n, struct vnet_rx_op *op, int res)
{
	/* A snapshot waits: a read that brought no frame is not retried. */
	if (n->quiescing && !(res >= (int)n->hdr_len && res > 0))
		return vnet_rx_unuse(n, op, 0);
	if (res == -EAGAIN || res == -EINTR || res == -ECANCELED) {
		/* ECANCELED outside a drain: the linked poll failed. */
		op->need_poll = res != -EINTR;
		if (res != -ECANCELED || ++n->rx_errors < VNET_RX_ERR_MAX) {
			if (vnet_rx_submit(n, op))
				return;
		}
	} else if (res >= (int)n->hdr_len && res > 0) {
		n->rx_errors = 0;
		return vnet_rx_frame(n, op, res);
	} else {
		/* The frame did not fit, or the tap failed: the frame is
		 * gone, the buffers stay for the next one. */
		n->stats.rx_dropped++;
		pr_warn_once("virtio %s: a read from the tap failed: %s", n->name,
			     res < 0 ? strerror(-res) : "short frame");
		if (++n->rx_errors < VNET_RX_ERR_MAX && vnet_rx_submit(n, op))
			return;
	}
	if (n->rx_errors >= VNET_RX_ERR_MAX && !n->rx_stopped) {
		pr_warn("virtio %s: the tap keeps failing; receiving stops until the guest resets the device",
			n->name);
		n->rx_stopped = true;
	}
	vnet_rx_unuse(n, op, 0);
}

/* ---- receive, callback backends --------------------------------------------- */

static bool vnet_receive(struct vnet *n, const void *frame, size_t len)
{
	struct virtio_dev *vdev = n->vdev;
	uint32_t lens[VNET_RX_OP_BUFS], used[VNET_RX_OP_BUFS];
	uint8_t hdr[VNET_HDR_LEN] = { 0 };
	struct vnet_rx_op *op = &n->rx_ops[0];
	unsigned int budget = VIRTIO_BUDGET(&vdev->vqs[n->rxq]);
	uint64_t room = 0;
	unsigned int k;
	int r;

	/* A frame no buffers could ever hold is dropped, not refused: a
	 * refused one waits for rx_space, which would never come for it. */
	if (len > n->frame_max) {
		n->stats.rx_dropped++;
		return true;
	}
	virtq_disable_notify(&vdev->vqs[n->rxq]);
	while ((r = vnet_rx_gather(n, n->hdr_len + len, &budget)) <= 0) {
		/* Out of budget: the requeued kick asks for the frame again
		 * (vnet_rx_space()). */
		if (r < 0 || !vdev->active ||
		    !virtq_enable_notify(&vdev->vqs[n->rxq])) {
			n->rx_refused = true;
			return false;
		}
	}
	/* Without MRG_RXBUF the frame has one buffer, which must hold it. */
	if (!n->mrg && n->rx_pool[vnet_ready_at(n, 0)].len < n->hdr_len + len) {
		n->stats.rx_dropped++;
		return true;
	}
	vnet_rx_build(n, op);
	for (unsigned int i = 0; i < op->nr_bufs; i++)
		room += lens[i] = n->rx_pool[op->bufs[i]].len;
	if (room < n->hdr_len + len) {
		/* Buffers too small to hold it in VNET_RX_OP_BUFS of them. */
		vnet_rx_unuse(n, op, 0);
		n->stats.rx_dropped++;
		return true;
	}
	k = vnet_rx_account(lens, op->nr_bufs, n->hdr_len + len, used);
	virtq_iov_from_buf(op->iov, op->nr_iov, 0, hdr, n->hdr_len);
	vnet_set_num_buffers(n, op->iov, op->nr_iov, k);
	virtq_iov_from_buf(op->iov, op->nr_iov, n->hdr_len, frame, len);
	for (unsigned int i = 0; i < k; i++)
		vnet_rxbuf_used(n, op->bufs[i], used[i]);
	vnet_rx_unuse(n, op, k);
	n->stats.rx_packets++;
	n->stats.rx_bytes += len;
	return true;
}

/* Callback backends have one pair. */
bool virtio_net_receive(struct virtio_dev *vdev, const void *frame, size_t len)
{
	struct vnet_nic *nic = vdev->priv;
	struct vnet *n = nic->pairs[0];
	bool ok = false;

	pthread_mutex_lock(&vdev->lock);
	if (vdev->active && !vnet_has_fd(n))
		ok = vnet_receive(n, frame, len);
	else
		n->rx_refused = true;
	vnet_publish(n);
	pthread_mutex_unlock(&vdev->lock);
	return ok;
}

void vnet_rx_space(struct vnet *n)
{
	if (!n->rx_refused)
		return;
	n->rx_refused = false;
	if (n->be.rx_space)
		n->be.rx_space(n->be.ctx);
}
