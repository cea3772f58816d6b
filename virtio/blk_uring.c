// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk's io_uring engine: each parsed request becomes operations on
 * the image (readv/writev on the guest's buffers, or through a bounce
 * buffer when O_DIRECT cannot take them; fdatasync; fallocate or written
 * zeroes), short transfers go on from where they stopped, and completions
 * finish requests through vblk_finish(). The ring is restricted to these
 * operations on the image alone (vblk_ring_init()). blk.c's top comment
 * tells how this fits the device; everything here runs under vdev->lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/uring.h"
#include "virtio/blk.h"

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
void vblk_fail(struct vblk *b, struct vblk_req *req, int err)
{
	pr_warn_once("virtio %s: %s at sector %llu failed: %s (the guest gets an I/O error)",
		     b->name, vblk_op_name(req), (unsigned long long)req->sector,
		     err ? strerror(-err) : "unexpected end of file");
	vblk_finish(b, req, VIRTIO_BLK_S_IOERR);
}

/* ---- reads and writes ----------------------------------------------- */

/* O_DIRECT takes guest buffers as they are only when they are aligned. */
bool vblk_aligned(const struct vblk *b, const struct vblk_req *req)
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
			virtq_iov_to_buf(req->bounce, req->iov, req->iovcnt, 0, req->chunk);
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
		virtq_iov_from_buf(req->iov, req->iovcnt, 0, req->bounce, res);
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
void vblk_dwz_next(struct vblk *b, struct vblk_req *req)
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

/*
 * Queues the request's next operation; the caller submits the batch.
 * The ring has room for every request in flight: it is full only when
 * the kernel refused a submission, and then it is time to try again.
 */
void vblk_submit(struct vblk *b, struct vblk_req *req)
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
void vblk_reap(struct vblk *b, bool drop)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&b->u.ring, head, cqe) {
		uint64_t tag = io_uring_cqe_get_data64(cqe);
		struct vblk_req *req = (struct vblk_req *)(uintptr_t)tag;

		n++;
		if (!drop)
			b->st.cqes++;
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
void vblk_flush_sq(struct vblk *b)
{
	for (unsigned int tries = 0; io_uring_sq_ready(&b->u.ring); tries++) {
		int r = io_uring_submit(&b->u.ring);

		if (r > 0) {
			b->st.submits++;
			continue;
		}
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
void vblk_drain(struct vblk *b)
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

/*
 * As vblk_drain(), but every request runs to its end and completes as
 * usual: a snapshot's guest must find its requests done, not lost. A
 * completion may queue its request's next piece (a short transfer's
 * rest, the next range), which the next round submits.
 */
void vblk_complete_all(struct vblk *b)
{
	while (b->u.ready && b->nr_inflight) {
		int r = io_uring_submit_and_wait(&b->u.ring, 1);

		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			pr_err("virtio %s: cannot wait for requests in flight: %s",
			       b->name, strerror(-r));
			abort();
		}
		vblk_reap(b, false);
	}
}

/*
 * The ring may do what this device does and nothing else, on the image
 * alone: a bound on what a guest could make of a flaw in the engine.
 */
int vblk_ring_init(struct vblk *b, const struct disk *disk)
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
	/* A reset's cancel only saves waiting for queued requests, which
	 * end by themselves: without IORING_ASYNC_CANCEL_ANY (Linux 5.19),
	 * which older kernels refuse, the reset just waits. */
	b->can_cancel = uring_has_op(&b->u, IORING_OP_ASYNC_CANCEL) &&
			uring_probe_cancel_any(&b->u) == 1;
	return 0;
}
