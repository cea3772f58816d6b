// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net's io_uring engine for fd backends (a tap): the ring and
 * what goes through it, whichever the direction. Transmit (net_tx.c)
 * and receive (net_rx.c) queue their writev and readv here; completions
 * come back on the ring's eventfd, on the I/O thread, and go to the
 * operation their tag names. vnet_drain() is how a reset and teardown
 * know that no frame can land in guest memory any more. net.c's top
 * comment says how the whole device fits together.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <liburing.h>

#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/uring.h"
#include "virtio/net.h"

/* Completions (twice this) for every operation and poll in flight, and
 * two cancels for each busy slot and read (a reset on an older kernel,
 * vnet_cancel_all()). */
#define VNET_RING_SIZE		256
#define VNET_TAG_CANCEL		1ULL
/* A poll's tag: the tag of what it leads (a slot or read, 8-byte
 * aligned) with this bit, so each poll can be cancelled by its own. */
#define VNET_TAG_POLL		2ULL
#define VNET_SUBMIT_TRIES	100
#define VNET_FILE		0	/* the tap, registered */
#define VNET_PASSES		32	/* reap-and-refill rounds per wake-up */

_Static_assert(_Alignof(struct vnet_tx_slot) > VNET_TAG_POLL &&
	       _Alignof(struct vnet_rx_op) > VNET_TAG_POLL, "poll tag bit");
#define VNET_MAX_INFLIGHT	(2 * VNET_TX_SLOTS + 2 * VNET_RX_OPS)
_Static_assert(VNET_MAX_INFLIGHT <= VNET_RING_SIZE, "submission ring");
_Static_assert(VNET_MAX_INFLIGHT + 2 * (VNET_TX_SLOTS + VNET_RX_OPS) <=
	       2 * VNET_RING_SIZE, "completion ring");

/* ---- the ring ------------------------------------------------------------ */

static void vnet_flush_sq(struct vnet *n)
{
	for (unsigned int tries = 0; io_uring_sq_ready(&n->u.ring); tries++) {
		int r = io_uring_submit(&n->u.ring);

		if (r > 0)
			continue;
		if (r == -EBUSY)
			return;
		if (tries == VNET_SUBMIT_TRIES) {
			pr_warn_once("virtio %s: io_uring submit: %s", n->name,
				     r ? strerror(-r) : "nothing taken");
			return;
		}
	}
}

/* The ring holds every operation the device may have in flight, so a
 * missing entry means the kernel refused a submission: try once more. */
static struct io_uring_sqe *vnet_sqe(struct vnet *n)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&n->u.ring);

	if (!sqe) {
		vnet_flush_sq(n);
		sqe = io_uring_get_sqe(&n->u.ring);
	}
	if (!sqe)
		pr_warn_once("virtio %s: io_uring submission queue full", n->name);
	return sqe;
}

/* A kernel whose io_uring gives EAGAIN back for a nonblocking file gets
 * a poll linked in front of the retry, never a busy loop. */
static bool vnet_prep_poll(struct vnet *n, short events, void *tag)
{
	struct io_uring_sqe *sqe = vnet_sqe(n);

	if (!sqe)
		return false;
	io_uring_prep_poll_add(sqe, VNET_FILE, events);
	io_uring_sqe_set_data64(sqe, (uintptr_t)tag | VNET_TAG_POLL);
	sqe->flags |= IOSQE_IO_LINK | IOSQE_FIXED_FILE;
	n->nr_inflight++;
	n->nr_polls++;
	return true;
}

/* One readv or writev on the tap, a poll linked in front of it when the
 * last try said EAGAIN. */
bool vnet_submit_rw(struct vnet *n, bool write, const struct iovec *iov,
		    unsigned int cnt, bool need_poll, void *tag)
{
	struct io_uring_sqe *sqe;

	if (need_poll && !vnet_prep_poll(n, write ? POLLOUT : POLLIN, tag))
		return false;
	sqe = vnet_sqe(n);
	if (!sqe)
		return false;
	if (write)
		io_uring_prep_writev(sqe, VNET_FILE, iov, cnt, 0);
	else
		io_uring_prep_readv(sqe, VNET_FILE, iov, cnt, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, tag);
	n->nr_inflight++;
	return true;
}

/* ---- completions ------------------------------------------------------------- */

static void vnet_cqe(struct vnet *n, uint64_t tag, int res)
{
	enum vnet_op_kind *kind = (enum vnet_op_kind *)(uintptr_t)tag;

	if (*kind == VNET_OP_TX)
		vnet_tx_done(n, (struct vnet_tx_slot *)kind, res);
	else
		vnet_rx_done(n, (struct vnet_rx_op *)kind, res);
}

static unsigned int vnet_reap(struct vnet *n, bool drop)
{
	struct io_uring_cqe *cqe;
	unsigned int head, nr = 0;

	io_uring_for_each_cqe(&n->u.ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);

		nr++;
		n->nr_inflight--;
		if (tag == VNET_TAG_CANCEL)
			n->cancel_pending = false;
		else if (tag & VNET_TAG_POLL)
			n->nr_polls--;
		else if (!drop)
			vnet_cqe(n, tag, cqe->res);
	}
	io_uring_cq_advance(&n->u.ring, nr);
	return nr;
}

static void vnet_cancel(struct vnet *n, uint64_t tag, int flags)
{
	struct io_uring_sqe *sqe = vnet_sqe(n);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, tag, flags);
	sqe->flags |= IOSQE_FIXED_FILE;	/* the ring requires it */
	io_uring_sqe_set_data64(sqe, VNET_TAG_CANCEL);
	n->cancel_pending = true;
	n->nr_inflight++;
}

/* One busy read or transmit slot: the operation, or the poll in front
 * of it (cancelling that cancels what it leads); one of the two misses. */
static void vnet_cancel_op(struct vnet *n, void *tag)
{
	vnet_cancel(n, (uintptr_t)tag, 0);
	vnet_cancel(n, (uintptr_t)tag | VNET_TAG_POLL, 0);
}

/*
 * What may wait forever: a read on an idle tap (io_uring polls inside
 * the kernel for a file that can wait without blocking), a write the
 * tap has no room for, and a poll of ours linked in front of either
 * (older kernels answer EAGAIN instead). One cancel takes them all on
 * Linux 5.19 and later. Before, a cancel finds one request by its tag:
 * so each busy read and transmit slot, and its poll, by theirs.
 */
static void vnet_cancel_all(struct vnet *n)
{
	bool free_slot[VNET_TX_SLOTS] = { false };

	if (n->cancel_any)
		return vnet_cancel(n, 0, IORING_ASYNC_CANCEL_ANY);
	for (unsigned int i = 0; n->rx_ops && i < VNET_RX_OPS; i++)
		if (n->rx_ops[i].busy)
			vnet_cancel_op(n, &n->rx_ops[i]);
	for (struct vnet_tx_slot *s = n->tx_free; s; s = s->next_free)
		free_slot[s - n->tx] = true;
	for (unsigned int i = 0; n->tx && i < VNET_TX_SLOTS; i++)
		if (!free_slot[i])
			vnet_cancel_op(n, &n->tx[i]);
}

/*
 * Waits until nothing is in flight, cancelling what waits (reads on an
 * idle tap wait forever). Runs on whichever thread resets the device,
 * with its lock held: a reset is not over while a read may still land.
 */
void vnet_drain(struct vnet *n)
{
	if (!n->u.ready)
		goto out;
	if (n->nr_inflight)
		vnet_cancel_all(n);
	while (n->nr_inflight) {
		int r = io_uring_submit_and_wait(&n->u.ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			pr_err("virtio %s: cannot wait for frames in flight: %s",
			       n->name, strerror(-r));
			abort();
		}
		vnet_reap(n, true);
	}
out:
	for (unsigned int i = 0; n->rx_ops && i < VNET_RX_OPS; i++)
		n->rx_ops[i].busy = false;
	n->tx_free = NULL;
	for (unsigned int i = 0; n->tx && i < VNET_TX_SLOTS; i++) {
		n->tx[i].kind = VNET_OP_TX;
		n->tx[i].next_free = n->tx_free;
		n->tx_free = &n->tx[i];
	}
	n->tx_held = 0;
	n->tx_throttled = n->tx_dirty = n->rx_dirty = false;
	n->rx_stopped = false;
	n->rx_errors = 0;
	vnet_pool_reset(n);
}

static void vnet_wait(struct vnet *n)
{
	int r = io_uring_submit_and_wait(&n->u.ring, 1);

	if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
		pr_err("virtio %s: cannot wait for frames in flight: %s",
		       n->name, strerror(-r));
		abort();
	}
	vnet_reap(n, false);
}

/* Quiescing from here: held writes end, reads in flight are cancelled
 * (a frame one already read is still delivered). */
static void vnet_quiesce_begin(struct vnet *n)
{
	n->quiescing = true;
	while (n->tx_held)
		vnet_wait(n);
	for (unsigned int i = 0; i < VNET_RX_OPS; i++)
		if (n->rx_ops[i].busy)
			vnet_cancel_op(n, &n->rx_ops[i]);
}

void vnet_quiesce_io(struct vnet *n)
{
	if (!n->u.ready)
		return;
	vnet_quiesce_begin(n);
	while (n->nr_inflight)
		vnet_wait(n);
	n->quiescing = false;
}

void vnet_rx_stop(struct vnet *n)
{
	bool busy = true;

	if (!n->u.ready)
		return;
	/* Writes end before the tap queue is detached under them. */
	vnet_quiesce_begin(n);
	while (busy) {
		busy = false;
		for (unsigned int i = 0; i < VNET_RX_OPS; i++)
			busy |= n->rx_ops[i].busy;
		if (busy)
			vnet_wait(n);
	}
	n->quiescing = false;
}

/* What completed: transmit slots free again, frames for the guest; then
 * the reads and writes that can start because of it. */
static unsigned int vnet_take(struct vnet *n)
{
	unsigned int nr = vnet_reap(n, false);

	if (n->vdev->active) {
		if (n->tx_throttled && n->tx_free)
			vnet_tx_process(n);
		vnet_rx_fill(n);
	}
	return nr;
}

/*
 * Submits what waits. A read submitted while frames wait on the tap, and
 * a write the tap takes at once, complete inside the submit itself: take
 * those in the same turn, round after round until nothing more completes
 * (or VNET_PASSES, to leave the I/O thread to others), so that the guest
 * hears once per batch. Under load that is a syscall per frame or less,
 * and no wake-up in between.
 */
void vnet_pump(struct vnet *n)
{
	for (unsigned int pass = 0;; pass++) {
		vnet_flush_sq(n);
		if (pass == VNET_PASSES || !vnet_take(n))
			return;
	}
}

void vnet_complete(struct vnet *n)
{
	struct virtio_dev *vdev = n->vdev;
	uint64_t v;

	if (read(n->u.efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn_once("virtio %s: completion eventfd: %s", n->name,
			     strerror(errno));
	pthread_mutex_lock(&vdev->lock);
	vnet_take(n);
	vnet_pump(n);
	vnet_publish(n);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_net_complete(struct virtio_dev *vdev)
{
	struct vnet_nic *nic = vdev->priv;

	for (unsigned int i = 0; i < nic->nr_pairs; i++)
		vnet_complete(nic->pairs[i]);
}

int virtio_net_completion_fd(const struct virtio_dev *vdev)
{
	const struct vnet_nic *nic = vdev->priv;

	return nic->pairs[0]->u.efd;
}

static void vnet_on_completion(struct ev_handler *h, uint32_t events)
{
	struct vnet *n = container_of(h, struct vnet, ev);

	(void)events;
	vnet_complete(n);
}

/* ---- creation ------------------------------------------------------------------- */

/* Reads, writes, the polls linked in front of them, and the cancel that
 * a reset needs: reads on an idle tap never end by themselves. */
int vnet_ring_init(struct vnet *n)
{
	static const uint8_t ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_POLL_ADD,
		IORING_OP_ASYNC_CANCEL,
	};
	char name[8 + sizeof(n->name)];
	struct uring_spec spec = {
		.name = name,
		.entries = VNET_RING_SIZE,
		.files = &n->be.fd,
		.nr_files = 1,
		.ops = ops,
		.nr_ops = sizeof(ops),
		.sqe_flags = IOSQE_IO_LINK,
	};
	int err;

	snprintf(name, sizeof(name), "virtio %s", n->name);
	err = uring_init(&n->u, &spec);
	if (err)
		return err;
	for (unsigned int i = 0; i < sizeof(ops); i++) {
		if (!uring_has_op(&n->u, ops[i])) {
			pr_err("virtio %s: this kernel's io_uring lacks vectored I/O, poll or cancel (Linux 5.6 or later needed)",
			       n->name);
			return -ENOTSUP;
		}
	}
	return vnet_cancel_mode(n, uring_probe_cancel_any(&n->u));
}

/* A probe's answer (uring_probe_cancel_any()): how a reset cancels. */
int vnet_cancel_mode(struct vnet *n, int probe)
{
	if (probe < 0) {
		pr_err("virtio %s: cannot ask io_uring how it cancels: %s",
		       n->name, strerror(-probe));
		return probe;
	}
	n->cancel_any = probe;
	if (!probe)
		pr_info("virtio %s: io_uring cancels one request at a time (all at once needs Linux 5.19): a reset cancels each read, write and poll by its tag",
			n->name);
	return 0;
}

int vnet_loop_add(struct vnet *n, struct evloop *loop)
{
	if (!loop || !vnet_has_fd(n))
		return 0;
	n->ev = (struct ev_handler){ .fd = n->u.efd, .fn = vnet_on_completion };
	if (evloop_add(loop, &n->ev, EPOLLIN)) {
		pr_err("virtio %s: cannot watch its completions", n->name);
		return -EIO;
	}
	n->loop = loop;
	n->on_loop = true;
	return 0;
}

