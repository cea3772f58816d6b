// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2 section 5.2) on a raw image, with io_uring.
 *
 * A kick pops every request of its queue, parses it (blk_req.c) and
 * queues one io_uring operation for it: vectored reads and writes whose
 * iovecs are the guest's own buffers, fdatasync for FLUSH, fallocate for
 * DISCARD and WRITE_ZEROES; then one io_uring_submit() for the whole
 * batch. The ring may do these operations on the image and nothing else
 * (lib/uring.h): the kernel refuses any other. Completions wake an eventfd registered on the ring, whose
 * handler runs on the I/O thread (virtio_blk_complete(), under
 * vdev->lock like every other entry point): it finishes requests, sends
 * on what is left of short transfers, starts requests that waited for a
 * free slot, and publishes the used rings. Their interrupts may wait a
 * little on a timer when the driver keeps several requests in flight
 * (virtio/coalesce.h).
 *
 * Bounds: at most VBLK_MAX_INFLIGHT requests in flight per disk (each
 * has at most one operation in the ring, so the submission ring never
 * fills and the completion ring, twice its size, never overflows); a
 * queue with more waits, kicks off, until completions free slots. io-wq
 * gets at most VBLK_IOWQ_WORKERS workers of each kind.
 *
 * Reset, and every other way the device stops (FAILED, DEVICE_NEEDS_RESET,
 * teardown), waits in vblk_drain() until nothing is in flight, cancelling
 * what has not started, and drops the results: once ops->reset() returns,
 * no read lands in guest memory and no status byte is written.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/uring.h"
#include "virtio/blk.h"
#include "virtio/blk_backend.h"
#include "virtio/coalesce.h"
#include "virtio/devices.h"

#define VBLK_MAX_QUEUES		16
#define VBLK_MAX_INFLIGHT	128
#define VBLK_RING_SIZE		VBLK_MAX_INFLIGHT
#define VBLK_IOWQ_WORKERS	4
#define VBLK_BOUNCE_SIZE	(64U << 10)	/* per request, O_DIRECT only */
#define VBLK_ZERO_SIZE		(64U << 10)	/* write zeroes by hand */
#define VBLK_BUF_ALIGN		4096
#define VBLK_CANCEL_TAG		1ULL		/* user_data; no request is there */
#define VBLK_SUBMIT_TRIES	100
#define VBLK_FILE		0		/* the image: registered file 0 */

struct vblk_queue {
	unsigned int inflight;	/* popped, not yet completed */
	bool throttled;		/* out of slots: resume on a completion */
	bool dirty;		/* used entries added since the last flush */
	struct coalesce co;	/* whether its interrupt may wait */
};

struct vblk {
	struct virtio_dev *vdev;
	struct disk disk;
	char name[8];
	unsigned int nr_queues;
	uint32_t blk_size;

	struct uring u;			/* restricted to the operations below */
	bool can_fallocate;
	bool can_cancel;
	struct ev_handler ev;
	struct evloop *loop;
	bool on_loop;
	/* Held interrupts: a timer at the earliest one's deadline. */
	int timer_fd;			/* -1: no event loop, none held */
	struct ev_handler timer_ev;
	uint64_t timer_at;		/* armed for then; 0: not armed */

	/* Set at DRIVER_OK from the negotiated features. */
	struct vblk_limits lim;
	bool writethrough;		/* FLUSH not negotiated */
	/* Learnt from the file system: fallocate modes it lacks. */
	bool no_punch;
	bool no_zero_range;

	unsigned int nr_inflight;
	bool cancel_pending;
	struct vblk_req *reqs;		/* VBLK_MAX_INFLIGHT of them */
	struct vblk_req *free_reqs;
	uint8_t *zeroes;		/* VBLK_ZERO_SIZE, aligned for O_DIRECT */
	struct vblk_queue q[VBLK_MAX_QUEUES];
};

/* The ops carry this disk's queue count and features, so each device has
 * its own, living exactly as long as the struct virtio_dev. */
struct vblk_dev {
	struct virtio_dev vdev;		/* first: free(vdev) frees both */
	struct virtio_dev_ops ops;
};

static void vblk_submit(struct vblk *b, struct vblk_req *req);

/* ---- request slots and completion --------------------------------- */

static void vblk_put_req(struct vblk *b, struct vblk_req *req)
{
	req->next_free = b->free_reqs;
	b->free_reqs = req;
	b->nr_inflight--;
}

/* Status, used entry, slot back. The flush comes later, once per batch. */
static void vblk_finish(struct vblk *b, struct vblk_req *req, uint8_t status)
{
	struct vblk_queue *q = &b->q[req->q];
	uint32_t len = 0;

	if (req->status) {
		*req->status = status;
		len = 1 + (status == VIRTIO_BLK_S_OK ? req->in_len : 0);
	}
	virtq_add_used(&b->vdev->vqs[req->q], req->chain.head, len);
	q->dirty = true;
	q->inflight--;
	vblk_put_req(b, req);
}

/* ---- interrupts ------------------------------------------------------ */

/* Zero when interrupts are not held: no event loop runs a timer. */
static uint64_t vblk_now(const struct vblk *b)
{
	return b->timer_fd < 0 ? 0 : evloop_now_ns();
}

/* The timer at the earliest held interrupt's deadline. A deadline that
 * moved later meanwhile is found when the timer fires early. */
static void vblk_arm(struct vblk *b)
{
	struct itimerspec its = { 0 };
	uint64_t at = 0;

	for (unsigned int i = 0; i < b->nr_queues; i++) {
		uint64_t d;

		if (!coalesce_held(&b->q[i].co))
			continue;
		d = coalesce_deadline(&b->q[i].co);
		if (!at || d < at)
			at = d;
	}
	if (!at || (b->timer_at && b->timer_at <= at))
		return;
	/* Zero would disarm it: a deadline that early is long past. */
	its.it_value.tv_sec = at / 1000000000ULL;
	its.it_value.tv_nsec = at % 1000000000ULL ? at % 1000000000ULL : 1;
	if (timerfd_settime(b->timer_fd, TFD_TIMER_ABSTIME, &its, NULL)) {
		pr_warn_once("virtio %s: interrupt timer: %s (interrupts go at once)",
			     b->name, strerror(errno));
		for (unsigned int i = 0; i < b->nr_queues; i++)
			if (coalesce_held(&b->q[i].co)) {
				coalesce_reset(&b->q[i].co);
				virtio_notify_used(b->vdev, i);
			}
		return;
	}
	b->timer_at = at;
}

/* Raises what is due among queue q's interrupts, or holds it. */
static void vblk_interrupt(struct vblk *b, unsigned int q, uint64_t now)
{
	if (now && coalesce_hold(&b->q[q].co, now))
		return;
	virtio_notify_used(b->vdev, q);
}

static void vblk_publish(struct vblk *b)
{
	uint64_t now = vblk_now(b);

	for (unsigned int i = 0; i < b->nr_queues; i++) {
		if (!b->q[i].dirty)
			continue;
		b->q[i].dirty = false;
		virtq_flush(&b->vdev->vqs[i]);
		vblk_interrupt(b, i, now);
	}
	if (now)
		vblk_arm(b);
}

static void vblk_on_timer(struct ev_handler *h, uint32_t events)
{
	struct vblk *b = container_of(h, struct vblk, timer_ev);
	struct virtio_dev *vdev = b->vdev;
	uint64_t n, now;

	(void)events;
	if (read(b->timer_fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&vdev->lock);
	b->timer_at = 0;
	now = vblk_now(b);
	for (unsigned int i = 0; i < b->nr_queues && vdev->active && now; i++)
		if (coalesce_held(&b->q[i].co))
			vblk_interrupt(b, i, now);
	if (vdev->active && now)
		vblk_arm(b);
	pthread_mutex_unlock(&vdev->lock);
}

static const char *vblk_op_name(const struct vblk_req *req)
{
	static const char *const names[] = {
		[VBLK_OP_READ] = "read", [VBLK_OP_WRITE] = "write",
		[VBLK_OP_FLUSH] = "flush", [VBLK_OP_DISCARD] = "discard",
		[VBLK_OP_WRITE_ZEROES] = "write zeroes",
	};

	return req->op < sizeof(names) / sizeof(names[0]) && names[req->op] ?
	       names[req->op] : "request";
}

/* A host I/O error: the guest gets IOERR, the user one line per disk. */
static void vblk_fail(struct vblk *b, struct vblk_req *req, int err)
{
	pr_warn_once("virtio %s: %s at sector %llu failed: %s (the guest gets an I/O error)",
		     b->name, vblk_op_name(req), (unsigned long long)req->sector,
		     err ? strerror(-err) : "unexpected end of file");
	vblk_finish(b, req, VIRTIO_BLK_S_IOERR);
}

/* ---- reads and writes ----------------------------------------------- */

/* O_DIRECT takes guest buffers as they are only when they are aligned. */
static bool vblk_aligned(const struct vblk *b, const struct vblk_req *req)
{
	for (unsigned int i = 0; i < req->iovcnt; i++) {
		if ((uintptr_t)req->iov[i].iov_base % b->disk.mem_align ||
		    req->iov[i].iov_len % b->disk.off_align)
			return false;
	}
	return true;
}

static void vblk_prep_rw(struct vblk *b, struct vblk_req *req,
			 struct io_uring_sqe *sqe)
{
	bool write = req->op == VBLK_OP_WRITE;

	if (!req->use_bounce) {
		req->chunk = req->left;
		if (write)
			io_uring_prep_writev(sqe, VBLK_FILE, req->iov, req->iovcnt,
					     req->off);
		else
			io_uring_prep_readv(sqe, VBLK_FILE, req->iov, req->iovcnt,
					    req->off);
	} else {
		req->chunk = req->left < VBLK_BOUNCE_SIZE ? req->left : VBLK_BOUNCE_SIZE;
		if (write) {
			vblk_iov_to_buf(req->bounce, req->iov, req->iovcnt, req->chunk);
			io_uring_prep_write(sqe, VBLK_FILE, req->bounce, req->chunk,
					    req->off);
		} else {
			io_uring_prep_read(sqe, VBLK_FILE, req->bounce, req->chunk,
					   req->off);
		}
	}
	if (write && b->writethrough)
		sqe->rw_flags = RWF_DSYNC;
}

/* Short transfers go on from where they stopped; none counts as success. */
static void vblk_rw_done(struct vblk *b, struct vblk_req *req, int res)
{
	if (res == -EAGAIN || res == -EINTR)
		return vblk_submit(b, req);
	if (res <= 0 || (uint32_t)res > req->chunk)
		return vblk_fail(b, req, res < 0 ? res : 0);
	if (req->use_bounce && req->op == VBLK_OP_READ)
		vblk_iov_from_buf(req->iov, req->iovcnt, req->bounce, res);
	vblk_iov_advance(&req->iov, &req->iovcnt, res);
	req->off += res;
	req->left -= res;
	if (req->left)
		return vblk_submit(b, req);
	vblk_finish(b, req, VIRTIO_BLK_S_OK);
}

/* ---- discard and write zeroes --------------------------------------- */

/* The first way to zero a range that the file system may still have. */
static enum vblk_wz_mode vblk_wz_mode(const struct vblk *b, bool unmap)
{
	if (unmap && !b->no_punch)
		return VBLK_WZ_PUNCH;
	if (!b->no_zero_range)
		return VBLK_WZ_ZERO_RANGE;
	return VBLK_WZ_WRITE;
}

static void vblk_prep_wz(struct vblk *b, struct vblk_req *req,
			 struct io_uring_sqe *sqe)
{
	struct vblk_range *r = &req->range[req->cur];
	unsigned int n = 0;
	uint64_t len = 0;

	switch (req->wz_mode) {
	case VBLK_WZ_PUNCH:
		io_uring_prep_fallocate(sqe, VBLK_FILE,
					FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					r->off, r->len);
		return;
	case VBLK_WZ_ZERO_RANGE:
		io_uring_prep_fallocate(sqe, VBLK_FILE,
					FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					r->off, r->len);
		return;
	case VBLK_WZ_WRITE:
		break;
	}
	while (n < VBLK_ZERO_IOVS && len < r->len) {
		uint64_t l = r->len - len < VBLK_ZERO_SIZE ? r->len - len : VBLK_ZERO_SIZE;

		req->zero_iov[n++] = (struct iovec){ b->zeroes, l };
		len += l;
	}
	req->chunk = len;
	io_uring_prep_writev(sqe, VBLK_FILE, req->zero_iov, n, r->off);
	if (b->writethrough)
		sqe->rw_flags = RWF_DSYNC;
}

/*
 * Starts the next piece of a discard or write zeroes, or completes it.
 * A discard the file system cannot do is done anyway: it is a hint.
 */
static void vblk_dwz_next(struct vblk *b, struct vblk_req *req)
{
	bool discard = req->op == VBLK_OP_DISCARD;

	for (; req->cur < req->nr_ranges; req->cur++) {
		struct vblk_range *r = &req->range[req->cur];

		if (r->len && !(discard && b->no_punch)) {
			req->wz_mode = vblk_wz_mode(b, r->unmap);
			return vblk_submit(b, req);
		}
	}
	if (req->sync_after) {
		/* Write-through: the zeroes must be stable before completion. */
		req->op = VBLK_OP_FLUSH;
		return vblk_submit(b, req);
	}
	vblk_finish(b, req, VIRTIO_BLK_S_OK);
}

static void vblk_next_range(struct vblk *b, struct vblk_req *req)
{
	req->cur++;
	vblk_dwz_next(b, req);
}

static bool vblk_unsupported(int res)
{
	return res == -EOPNOTSUPP || res == -ENOSYS || res == -ENOTTY;
}

static void vblk_discard_done(struct vblk *b, struct vblk_req *req, int res)
{
	if (vblk_unsupported(res)) {
		b->no_punch = true;
		pr_info("virtio %s: the image's file system cannot punch holes; discards do nothing",
			b->name);
	} else if (res < 0) {
		return vblk_fail(b, req, res);
	}
	vblk_next_range(b, req);
}

static void vblk_wz_done(struct vblk *b, struct vblk_req *req, int res)
{
	struct vblk_range *r = &req->range[req->cur];

	if (vblk_unsupported(res) && req->wz_mode != VBLK_WZ_WRITE) {
		/* Learn it once, then take the next way for this range. */
		if (req->wz_mode == VBLK_WZ_PUNCH)
			b->no_punch = true;
		else
			b->no_zero_range = true;
		req->wz_mode = vblk_wz_mode(b, r->unmap);
		return vblk_submit(b, req);
	}
	if (res == -EAGAIN || res == -EINTR)
		return vblk_submit(b, req);
	if (res < 0)
		return vblk_fail(b, req, res);
	if (req->wz_mode == VBLK_WZ_WRITE) {
		if (!res || (uint32_t)res > req->chunk)
			return vblk_fail(b, req, 0);
		r->off += res;
		r->len -= res;
		if (r->len)
			return vblk_submit(b, req);
	}
	vblk_next_range(b, req);
}

/* ---- the ring -------------------------------------------------------- */

static void vblk_flush_sq(struct vblk *b);

/*
 * Queues the request's next operation; the caller submits the batch.
 * The ring has room for every request in flight: it is full only when
 * the kernel refused a submission, and then it is time to try again.
 */
static void vblk_submit(struct vblk *b, struct vblk_req *req)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&b->u.ring);

	if (!sqe) {
		vblk_flush_sq(b);
		sqe = io_uring_get_sqe(&b->u.ring);
	}
	if (!sqe) {
		pr_warn_once("virtio %s: io_uring submission queue full", b->name);
		return vblk_finish(b, req, VIRTIO_BLK_S_IOERR);
	}
	switch (req->op) {
	case VBLK_OP_READ:
	case VBLK_OP_WRITE:
		vblk_prep_rw(b, req, sqe);
		break;
	case VBLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, VBLK_FILE, IORING_FSYNC_DATASYNC);
		/* After every write submitted before it, and so after every
		 * write the guest saw complete before it sent the flush. */
		if (!req->sync_after)
			sqe->flags |= IOSQE_IO_DRAIN;
		break;
	case VBLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, VBLK_FILE,
					FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					req->range[req->cur].off,
					req->range[req->cur].len);
		break;
	case VBLK_OP_WRITE_ZEROES:
		vblk_prep_wz(b, req, sqe);
		break;
	case VBLK_OP_DONE:
		break;
	}
	/* The ring takes no other kind of file (lib/uring.h). */
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, req);
}

static void vblk_cqe(struct vblk *b, struct vblk_req *req, int res)
{
	switch (req->op) {
	case VBLK_OP_READ:
	case VBLK_OP_WRITE:
		vblk_rw_done(b, req, res);
		break;
	case VBLK_OP_FLUSH:
		if (res < 0)
			vblk_fail(b, req, res);
		else
			vblk_finish(b, req, VIRTIO_BLK_S_OK);
		break;
	case VBLK_OP_DISCARD:
		vblk_discard_done(b, req, res);
		break;
	case VBLK_OP_WRITE_ZEROES:
		vblk_wz_done(b, req, res);
		break;
	case VBLK_OP_DONE:
		vblk_finish(b, req, VIRTIO_BLK_S_IOERR);
		break;
	}
}

/*
 * Every completion so far; each may queue the next piece of its request.
 * With drop, what a completion would have done is dropped instead: the
 * guest's memory and rings are no longer ours to touch (vblk_drain()).
 */
static void vblk_reap(struct vblk *b, bool drop)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&b->u.ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		struct vblk_req *req = (struct vblk_req *)(uintptr_t)tag;

		n++;
		if (tag == VBLK_CANCEL_TAG)
			b->cancel_pending = false;
		else if (drop)
			vblk_put_req(b, req);
		else
			vblk_cqe(b, req, cqe->res);
	}
	io_uring_cq_advance(&b->u.ring, n);
}

/*
 * Submits what is queued. The guest may wait for exactly these requests
 * and kick no more, so a kernel short of memory (-EAGAIN) is asked again
 * rather than left to the next event. -EBUSY means completions wait to
 * be reaped: their eventfd brings the handler, which submits again.
 */
static void vblk_flush_sq(struct vblk *b)
{
	for (unsigned int tries = 0; io_uring_sq_ready(&b->u.ring); tries++) {
		int r = io_uring_submit(&b->u.ring);

		if (r > 0)
			continue;
		if (r == -EBUSY)
			return;
		if (tries == VBLK_SUBMIT_TRIES) {
			pr_warn_once("virtio %s: io_uring submit: %s", b->name,
				     r ? strerror(-r) : "nothing taken");
			return;
		}
	}
}

/*
 * Waits until nothing is in flight. Operations io-wq has not started are
 * cancelled; those running (a read into guest memory, say) are waited
 * for. This runs on whichever thread resets the device, with its lock
 * held: a reset is not complete while the device may still write.
 */
static void vblk_drain(struct vblk *b)
{
	struct io_uring_sqe *sqe;

	if (!b->u.ready || !b->nr_inflight)
		goto out;
	/* Said when asked (--verbose): the lab's reset tests look for it. */
	pr_info("virtio %s: reset with %u requests in flight", b->name,
		b->nr_inflight);
	if (b->can_cancel && (sqe = io_uring_get_sqe(&b->u.ring))) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, VBLK_CANCEL_TAG);
		b->cancel_pending = true;
	}
	while (b->nr_inflight || b->cancel_pending) {
		int r = io_uring_submit_and_wait(&b->u.ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			/* Giving up would let the kernel write guest memory
			 * behind the guest's back. */
			pr_err("virtio %s: cannot wait for requests in flight: %s",
			       b->name, strerror(-r));
			abort();
		}
		vblk_reap(b, true);
	}
out:
	for (unsigned int i = 0; i < b->nr_queues; i++)
		b->q[i] = (struct vblk_queue){ 0 };
}

/* ---- queues ------------------------------------------------------- */

static void vblk_start(struct vblk *b, unsigned int q, struct vblk_req *req)
{
	req->q = q;
	vblk_parse(req, &b->lim);
	req->cur = 0;
	req->sync_after = false;
	req->use_bounce = false;
	switch (req->op) {
	case VBLK_OP_DONE:
		return vblk_finish(b, req, req->result);
	case VBLK_OP_READ:
	case VBLK_OP_WRITE:
		if (b->disk.direct && !vblk_aligned(b, req)) {
			if (!req->bounce)
				req->bounce = aligned_alloc(VBLK_BUF_ALIGN, VBLK_BOUNCE_SIZE);
			if (!req->bounce)
				return vblk_fail(b, req, -ENOMEM);
			req->use_bounce = true;
		}
		break;
	case VBLK_OP_WRITE_ZEROES:
		req->sync_after = b->writethrough;
		/* fall through */
	case VBLK_OP_DISCARD:
		return vblk_dwz_next(b, req);
	case VBLK_OP_FLUSH:
		break;
	}
	vblk_submit(b, req);
}

/*
 * Pops and starts queue q's requests while slots last; out of slots, the
 * queue stays with kicks off until a completion frees one. More requests
 * in flight than the queue holds means the driver re-posted buffers the
 * device still has.
 */
static void vblk_process(struct vblk *b, unsigned int q)
{
	struct virtio_dev *vdev = b->vdev;
	struct virtq *vq = &vdev->vqs[q];
	uint64_t now = vblk_now(b);
	int r = 0;

	b->q[q].throttled = false;
	for (;;) {
		virtq_disable_notify(vq);
		while (b->free_reqs) {
			struct vblk_req *req = b->free_reqs;

			r = virtio_pop(vdev, q, &req->chain);
			if (r <= 0)
				break;
			if (b->q[q].inflight == vq->size) {
				virtio_needs_reset(vdev, "more buffers than the queue holds");
				return;
			}
			b->free_reqs = req->next_free;
			b->nr_inflight++;
			b->q[q].inflight++;
			if (now)
				coalesce_request(&b->q[q].co, now);
			vblk_start(b, q, req);
		}
		if (r < 0 || !vdev->active)
			return;
		if (!b->free_reqs) {
			b->q[q].throttled = true;
			return;
		}
		if (!virtq_enable_notify(vq))
			return;
	}
}

static void vblk_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vblk *b = vdev->priv;

	if (q >= b->nr_queues || !vdev->active)
		return;
	vblk_process(b, q);
	vblk_flush_sq(b);
	if (vdev->active)
		vblk_publish(b);
}

void virtio_blk_complete(struct virtio_dev *vdev)
{
	struct vblk *b = vdev->priv;
	uint64_t n;

	/* Non-blocking: nothing new is fine, the ring says what is done. */
	if (read(b->u.efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		pr_warn_once("virtio %s: completion eventfd: %s", b->name,
			     strerror(errno));
	pthread_mutex_lock(&vdev->lock);
	vblk_reap(b, false);
	for (unsigned int i = 0; i < b->nr_queues && vdev->active; i++)
		if (b->q[i].throttled && b->free_reqs)
			vblk_process(b, i);
	vblk_flush_sq(b);
	if (vdev->active)
		vblk_publish(b);
	pthread_mutex_unlock(&vdev->lock);
}

int virtio_blk_completion_fd(const struct virtio_dev *vdev)
{
	const struct vblk *b = vdev->priv;

	return b->u.efd;
}

static void vblk_on_completion(struct ev_handler *h, uint32_t events)
{
	struct vblk *b = container_of(h, struct vblk, ev);

	(void)events;
	virtio_blk_complete(b->vdev);
}

/* ---- virtio ops -------------------------------------------------------- */

static int vblk_activate(struct virtio_dev *vdev)
{
	struct vblk *b = vdev->priv;

	b->lim.discard = virtio_has_feature(vdev, VIRTIO_BLK_F_DISCARD);
	b->lim.write_zeroes = virtio_has_feature(vdev, VIRTIO_BLK_F_WRITE_ZEROES);
	/* Without FLUSH a completed write must already be stable (virtio
	 * 1.2, 5.2.6.2: FLUSH offered but not negotiated). */
	b->writethrough = !virtio_has_feature(vdev, VIRTIO_BLK_F_FLUSH);
	return 0;
}

static void vblk_reset(struct virtio_dev *vdev)
{
	vblk_drain(vdev->priv);
}

static void vblk_config_read(struct virtio_dev *vdev, uint32_t off,
			     uint8_t *data, uint32_t len)
{
	struct vblk *b = vdev->priv;
	struct virtio_blk_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.capacity = htole64(b->lim.capacity);
	cfg.size_max = htole32(VBLK_SIZE_MAX);
	cfg.seg_max = htole32(VBLK_SEG_MAX);
	cfg.blk_size = htole32(b->blk_size);
	cfg.num_queues = htole16(b->nr_queues);
	if (vdev->host_features & (1ULL << VIRTIO_BLK_F_DISCARD)) {
		cfg.max_discard_sectors = htole32(VBLK_DWZ_MAX_SECTORS);
		cfg.max_discard_seg = htole32(VBLK_DWZ_MAX_SEG);
		/* Punching less than a host block only zeroes it. */
		cfg.discard_sector_alignment = htole32(b->disk.block_size /
						       VBLK_SECTOR_SIZE);
	}
	if (vdev->host_features & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)) {
		cfg.max_write_zeroes_sectors = htole32(VBLK_DWZ_MAX_SECTORS);
		cfg.max_write_zeroes_seg = htole32(VBLK_DWZ_MAX_SEG);
		cfg.write_zeroes_may_unmap = 1;
	}
	if (off > sizeof(cfg) || len > sizeof(cfg) - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, (const uint8_t *)&cfg + off, len);
}

static void vblk_free(struct virtio_dev *vdev)
{
	struct vblk *b = vdev->priv;

	if (!b)
		return;
	vblk_drain(b);
	if (b->on_loop)
		evloop_del(b->loop, &b->ev);
	if (b->timer_fd >= 0) {
		evloop_del(b->loop, &b->timer_ev);
		close(b->timer_fd);
	}
	uring_exit(&b->u);
	disk_close(&b->disk);
	for (unsigned int i = 0; b->reqs && i < VBLK_MAX_INFLIGHT; i++)
		free(b->reqs[i].bounce);
	free(b->reqs);
	free(b->zeroes);
	free(b);
	vdev->priv = NULL;
}

/* ---- creation ---------------------------------------------------------- */

/*
 * The ring may do what this device does and nothing else, on the image
 * alone: a bound on what a guest could make of a flaw in the engine.
 */
static int vblk_ring_init(struct vblk *b, const struct disk *disk)
{
	static const uint8_t ops[] = {
		IORING_OP_READV, IORING_OP_WRITEV, IORING_OP_READ,
		IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_FALLOCATE,
		IORING_OP_ASYNC_CANCEL,
	};
	char who[16];
	struct uring_spec spec = {
		.name = who,
		.entries = VBLK_RING_SIZE,
		.max_workers = VBLK_IOWQ_WORKERS,
		.files = &disk->fd,
		.nr_files = 1,
		.ops = ops,
		.nr_ops = sizeof(ops),
		.sqe_flags = IOSQE_IO_DRAIN,	/* FLUSH after the writes */
	};
	int err;

	snprintf(who, sizeof(who), "virtio %s", b->name);
	err = uring_init(&b->u, &spec);
	if (err)
		return err;
	for (unsigned int i = 0; i <= 4; i++) {
		if (!uring_has_op(&b->u, ops[i])) {
			pr_err("virtio %s: this kernel's io_uring lacks vectored I/O or fsync (Linux 5.6 or later needed)",
			       b->name);
			return -ENOTSUP;
		}
	}
	b->can_fallocate = uring_has_op(&b->u, IORING_OP_FALLOCATE);
	b->can_cancel = uring_has_op(&b->u, IORING_OP_ASYNC_CANCEL);
	return 0;
}

static int vblk_alloc(struct vblk *b)
{
	b->reqs = calloc(VBLK_MAX_INFLIGHT, sizeof(*b->reqs));
	b->zeroes = aligned_alloc(VBLK_BUF_ALIGN, VBLK_ZERO_SIZE);
	if (!b->reqs || !b->zeroes) {
		pr_err("virtio %s: out of memory", b->name);
		return -ENOMEM;
	}
	memset(b->zeroes, 0, VBLK_ZERO_SIZE);
	/* Every slot starts free. */
	for (unsigned int i = 0; i < VBLK_MAX_INFLIGHT; i++) {
		b->reqs[i].next_free = b->free_reqs;
		b->free_reqs = &b->reqs[i];
	}
	return 0;
}

static void vblk_setup(struct vblk *b, const struct disk *disk,
		       unsigned int nr_queues, unsigned int index)
{
	b->u.efd = -1;
	b->disk.fd = -1;
	b->timer_fd = -1;
	b->nr_queues = nr_queues < 1 ? 1 :
		       nr_queues > VBLK_MAX_QUEUES ? VBLK_MAX_QUEUES : nr_queues;
	snprintf(b->name, sizeof(b->name), "blk%u", index);
	/* The guest takes blk_size as its logical block size: what
	 * O_DIRECT needs, or a sector. */
	b->blk_size = disk->direct ? disk->off_align : VBLK_SECTOR_SIZE;
	b->lim = (struct vblk_limits){
		.capacity = disk->size >> VBLK_SECTOR_SHIFT,
		.off_align = disk->direct ? disk->off_align : VBLK_SECTOR_SIZE,
		.ro = disk->ro,
	};
}

static void vblk_ops(struct vblk *b, const struct disk *disk,
		     struct virtio_dev_ops *ops)
{
	uint64_t f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) |
		     (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		     (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		     (1ULL << VIRTIO_BLK_F_FLUSH) |
		     (1ULL << VIRTIO_BLK_F_MQ);

	if (disk->ro)
		f |= 1ULL << VIRTIO_BLK_F_RO;
	else if (b->can_fallocate)
		f |= (1ULL << VIRTIO_BLK_F_DISCARD) |
		     (1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
	*ops = (struct virtio_dev_ops){
		.device_id	= VIRTIO_ID_BLOCK,
		.nr_queues	= b->nr_queues,
		.queue_max	= VBLK_QUEUE_MAX,
		.features	= f,
		.config_size	= sizeof(struct virtio_blk_config),
		.config_read	= vblk_config_read,
		.activate	= vblk_activate,
		.reset		= vblk_reset,
		.notify		= vblk_notify,
		.free		= vblk_free,
	};
}

/* Without its timer the device still works; interrupts go at once. */
static void vblk_timer_init(struct vblk *b)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0) {
		pr_warn("virtio %s: no interrupt timer: %s", b->name, strerror(errno));
		return;
	}
	b->timer_ev = (struct ev_handler){ .fd = fd, .fn = vblk_on_timer };
	if (evloop_add(b->loop, &b->timer_ev, EPOLLIN)) {
		pr_warn("virtio %s: cannot watch its interrupt timer", b->name);
		close(fd);
		return;
	}
	b->timer_fd = fd;
}

struct virtio_dev *virtio_blk_new(const struct guest_mem *mem, struct disk *disk,
				  unsigned int nr_queues, struct evloop *loop,
				  unsigned int index)
{
	struct vblk_dev *dev = calloc(1, sizeof(*dev));
	struct vblk *b = calloc(1, sizeof(*b));

	if (!dev || !b) {
		pr_err("virtio blk%u: out of memory", index);
		goto fail;
	}
	vblk_setup(b, disk, nr_queues, index);
	b->lim.serial = b->disk.serial;
	if (vblk_alloc(b) || vblk_ring_init(b, disk))
		goto fail;
	vblk_ops(b, disk, &dev->ops);
	if (virtio_dev_init(&dev->vdev, &dev->ops, mem, b->name, b)) {
		/* virtio_dev_init() fails before its mutex exists. */
		free(dev->vdev.vqs);
		goto fail;
	}
	b->vdev = &dev->vdev;
	if (loop) {
		b->ev = (struct ev_handler){ .fd = b->u.efd, .fn = vblk_on_completion };
		if (evloop_add(loop, &b->ev, EPOLLIN)) {
			pr_err("virtio %s: cannot watch its completions", b->name);
			virtio_dev_exit(&dev->vdev);
			free(dev);
			return NULL;
		}
		b->loop = loop;
		b->on_loop = true;
		vblk_timer_init(b);
	}
	/* Only now the device owns the disk: on failure the caller does. */
	b->disk = *disk;
	disk->fd = -1;
	return &dev->vdev;
fail:
	if (b) {
		struct virtio_dev tmp = { .priv = b };

		vblk_free(&tmp);
	}
	free(dev);
	return NULL;
}
