// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2 section 5.2) on a raw image, with io_uring.
 *
 * A kick pops every request of its queue, parses it (blk_req.c) and
 * queues one io_uring operation for it (the engine is blk_uring.c):
 * vectored reads and writes whose iovecs are the guest's own buffers,
 * fdatasync for FLUSH, fallocate for DISCARD and WRITE_ZEROES; then one
 * io_uring_submit() for the whole batch. The ring may do these
 * operations on the image and nothing else (lib/uring.h): the kernel
 * refuses any other. Completions wake an eventfd registered on the ring,
 * whose handler runs on the I/O thread (virtio_blk_complete(), under
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
 * workers are the I/O thread's, shared with every other ring, and
 * bounded there (URING_IOWQ_WORKERS, lib/uring.h).
 *
 * Reset, and every other way the device stops (FAILED, DEVICE_NEEDS_RESET,
 * teardown), waits in vblk_drain() until nothing is in flight, cancelling
 * what has not started, and drops the results: once ops->reset() returns,
 * no read lands in guest memory and no status byte is written.
 */
#include <endian.h>
#include <errno.h>
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
#include "lib/sbuf.h"
#include "lib/uring.h"
#include "virtio/blk.h"
#include "virtio/blk_backend.h"
#include "virtio/coalesce.h"
#include "virtio/devices.h"

/* The ops carry this disk's queue count and features, so each device has
 * its own, living exactly as long as the struct virtio_dev. */
struct vblk_dev {
	struct virtio_dev vdev;		/* first: free(vdev) frees both */
	struct virtio_dev_ops ops;
};

/* ---- request slots and completion --------------------------------- */

void vblk_put_req(struct vblk *b, struct vblk_req *req)
{
	req->next_free = b->free_reqs;
	b->free_reqs = req;
	b->nr_inflight--;
}

/* Status, used entry, slot back. The flush comes later, once per batch. */
void vblk_finish(struct vblk *b, struct vblk_req *req, uint8_t status)
{
	struct vblk_queue *q = &b->q[req->q];
	uint32_t len = 0;

	if (req->status) {
		*req->status = status;
		len = 1 + (status == VIRTIO_BLK_S_OK ? req->in_len : 0);
	}
	virtq_add_used(&b->vdev->vqs[req->q], req->chain.head, len);
	b->st.q[req->q].done++;
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

/* Asks for queue q's interrupt, counting what the driver let through. */
static void vblk_raise(struct vblk *b, unsigned int q)
{
	b->st.q[q].asked++;
	if (virtio_notify_used(b->vdev, q))
		b->st.q[q].raised++;
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
				vblk_raise(b, i);
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
	vblk_raise(b, q);
}

static void vblk_publish(struct vblk *b)
{
	uint64_t now = vblk_now(b);

	for (unsigned int i = 0; i < b->nr_queues; i++) {
		if (!b->q[i].dirty)
			continue;
		b->q[i].dirty = false;
		virtq_flush(&b->vdev->vqs[i]);
		b->st.q[i].publishes++;
		vblk_interrupt(b, i, now);
		if (coalesce_held(&b->q[i].co))
			b->st.q[i].held++;
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
 * device still has. At most VIRTIO_BUDGET chains per call: requests that
 * complete without I/O give their slot straight back, so a driver that
 * re-posts them would never let the loop end; the rest waits for the
 * next turn (virtio_requeue()), kicks still off.
 */
static void vblk_process(struct vblk *b, unsigned int q)
{
	struct virtio_dev *vdev = b->vdev;
	struct virtq *vq = &vdev->vqs[q];
	unsigned int budget = VIRTIO_BUDGET(vq);
	uint64_t now = vblk_now(b);
	int r = 0;

	b->q[q].throttled = false;
	for (;;) {
		virtq_disable_notify(vq);
		while (b->free_reqs) {
			struct vblk_req *req = b->free_reqs;

			if (!budget--) {
				virtio_requeue(vdev, q);
				return;
			}
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
			b->st.q[q].reqs++;
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
	b->st.q[q].kicks++;
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
	b->st.wakes++;
	vblk_reap(b, false);
	for (unsigned int i = 0; i < b->nr_queues && vdev->active; i++)
		if (b->q[i].throttled && b->free_reqs)
			vblk_process(b, i);
	vblk_flush_sq(b);
	if (vdev->active)
		vblk_publish(b);
	pthread_mutex_unlock(&vdev->lock);
}

void virtio_blk_stats(struct virtio_dev *vdev, struct vblk_stats *st)
{
	struct vblk *b = vdev->priv;

	pthread_mutex_lock(&vdev->lock);
	*st = b->st;
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

/* ---- snapshots ---------------------------------------------------------- */

#define VBLK_STATE_VERSION	1

/*
 * Every request in flight completes and is published, and every held
 * interrupt goes now. A queue that waited for a free slot gets its kick
 * back for the next turn: requests still in its avail ring are the
 * driver's, served after the snapshot as before it.
 */
static void vblk_quiesce(struct virtio_dev *vdev)
{
	struct vblk *b = vdev->priv;

	vblk_complete_all(b);
	if (!vdev->active)
		return;
	vblk_publish(b);
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		if (coalesce_held(&b->q[i].co)) {
			coalesce_reset(&b->q[i].co);
			vblk_raise(b, i);
		}
		if (b->q[i].throttled) {
			b->q[i].throttled = false;
			virtio_requeue(vdev, i);
		}
	}
}

/* The disk is the user's, named again at restore: only its size is the
 * device's, and the guest has taken it as its capacity. */
static int vblk_save(struct virtio_dev *vdev, struct sbuf *b)
{
	struct vblk *blk = vdev->priv;

	sbuf_put_u32(b, VBLK_STATE_VERSION);
	sbuf_put_u64(b, blk->lim.capacity);
	return 0;
}

static int vblk_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	struct vblk *b = vdev->priv;
	uint32_t version = sbuf_get_u32(r);
	uint64_t capacity = sbuf_get_u64(r);

	if (r->bad)
		return 0;	/* the core says truncated */
	if (version != VBLK_STATE_VERSION) {
		pr_err("virtio %s: snapshot state refused: unknown layout version", b->name);
		return -EINVAL;
	}
	if (capacity != b->lim.capacity) {
		pr_err("virtio %s: snapshot state refused: the disk had %llu sectors, now %llu: give the disk the snapshot was taken with",
		       b->name, (unsigned long long)capacity,
		       (unsigned long long)b->lim.capacity);
		return -EINVAL;
	}
	return 0;
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

/*
 * Said when asked (--verbose): requests per kick show how the driver
 * batches its notifications, completions per interrupt how the device
 * batches its own, and asked against raised what EVENT_IDX suppressed.
 */
static void vblk_log_stats(const struct vblk *b)
{
	const struct vblk_stats *s = &b->st;

	pr_info("virtio %s: %llu io_uring submits, %llu completion wake-ups, %llu completions",
		b->name, (unsigned long long)s->submits,
		(unsigned long long)s->wakes, (unsigned long long)s->cqes);
	for (unsigned int i = 0; i < b->nr_queues; i++) {
		const struct vblk_queue_stats *q = &s->q[i];

		if (!q->reqs)
			continue;
		pr_info("virtio %s: queue %u: %llu requests in %llu kicks; %llu completions in %llu publishes (%llu held to coalesce), %llu interrupts asked, %llu raised",
			b->name, i, (unsigned long long)q->reqs,
			(unsigned long long)q->kicks, (unsigned long long)q->done,
			(unsigned long long)q->publishes, (unsigned long long)q->held,
			(unsigned long long)q->asked, (unsigned long long)q->raised);
	}
}

static void vblk_free(struct virtio_dev *vdev)
{
	struct vblk *b = vdev->priv;

	if (!b)
		return;
	vblk_drain(b);
	if (b->vdev)
		vblk_log_stats(b);
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
		.quiesce	= vblk_quiesce,
		.save		= vblk_save,
		.load		= vblk_load,
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
