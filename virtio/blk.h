/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-blk internals: what blk_req.c (request parsing and validation)
 * hands blk.c (the device) and blk_uring.c (its io_uring engine), what
 * those two share, and what the unit tests look at. The public side is in virtio/devices.h.
 *
 * Layout of a request, whatever its descriptors (a device must not
 * assume any particular split, virtio 1.2 section 2.7.4): the first 16
 * device-readable bytes are the header, the last device-writable byte is
 * the status. Between them is the data: device-readable for writes,
 * discard and write zeroes (their segment list), device-writable for
 * reads and GET_ID. Anything else is the driver's mistake and fails that
 * request alone.
 */
#ifndef KVMINI_VIRTIO_BLK_H
#define KVMINI_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_blk.h>

#include "lib/evloop.h"
#include "lib/uring.h"
#include "virtio/blk_backend.h"
#include "virtio/coalesce.h"
#include "virtio/virtq.h"

#define VBLK_SECTOR_SHIFT	9
#define VBLK_SECTOR_SIZE	(1U << VBLK_SECTOR_SHIFT)
#define VBLK_HDR_SIZE		16	/* struct virtio_blk_outhdr */

/*
 * Limits the device advertises in its config space, and enforces.
 * SEG_MAX leaves two descriptors of a queue-sized indirect table for the
 * header and the status (a table may not be longer than the queue), and
 * stays within VIRTQ_MAX_SEGS.
 */
#define VBLK_QUEUE_MAX		256
#define VBLK_SEG_MAX		(VBLK_QUEUE_MAX - 2)
#define VBLK_SIZE_MAX		(1U << 20)	/* data bytes in one segment */
#define VBLK_DWZ_MAX_SEG	16		/* discard, write zeroes */
#define VBLK_DWZ_MAX_SECTORS	(1U << 22)	/* 2 GiB in one segment */

_Static_assert(VBLK_SEG_MAX + 2 <= VIRTQ_MAX_SEGS, "SEG_MAX too large");

enum vblk_op {
	VBLK_OP_DONE,		/* nothing to do: complete with ->result */
	VBLK_OP_READ,
	VBLK_OP_WRITE,
	VBLK_OP_FLUSH,
	VBLK_OP_DISCARD,
	VBLK_OP_WRITE_ZEROES,
};

/* A discard or write zeroes segment, validated, in bytes. */
struct vblk_range {
	uint64_t off;
	uint64_t len;
	bool unmap;		/* write zeroes may deallocate */
};

/* What the disk and the negotiated features let a request do. */
struct vblk_limits {
	uint64_t capacity;	/* sectors */
	uint32_t off_align;	/* reads, writes: offset and length, bytes */
	bool ro;
	bool discard;		/* VIRTIO_BLK_F_DISCARD negotiated */
	bool write_zeroes;	/* VIRTIO_BLK_F_WRITE_ZEROES negotiated */
	const char *serial;	/* VIRTIO_BLK_ID_BYTES, NUL-padded */
};

enum vblk_wz_mode {
	VBLK_WZ_PUNCH,		/* fallocate punch hole (unmap allowed) */
	VBLK_WZ_ZERO_RANGE,	/* fallocate zero range */
	VBLK_WZ_WRITE,		/* plain writes of zeroes */
};

#define VBLK_ZERO_IOVS		16

struct vblk_req {
	/* As popped. Parsing trims the iovecs in place to the data, which
	 * is why each request has its own chain. */
	struct virtq_chain chain;
	unsigned int q;

	/* Set by vblk_parse(). */
	enum vblk_op op;
	uint8_t result;		/* VIRTIO_BLK_S_*, for VBLK_OP_DONE */
	uint8_t *status;	/* in guest RAM; NULL: complete with length 0 */
	uint32_t in_len;	/* data bytes a success writes (reads, GET_ID) */
	uint64_t sector;	/* for messages */
	/* Reads and writes: what is left to transfer. */
	struct iovec *iov;
	unsigned int iovcnt;
	uint64_t off;
	uint64_t left;
	/* Discard and write zeroes: the segments, copied out of guest RAM
	 * before they were checked. */
	struct vblk_range range[VBLK_DWZ_MAX_SEG];
	unsigned int nr_ranges;

	/* The engine's (blk.c). */
	unsigned int cur;	/* range in progress */
	enum vblk_wz_mode wz_mode;
	bool sync_after;	/* write-through: fdatasync before completing */
	uint8_t *bounce;	/* O_DIRECT with unaligned guest buffers */
	bool use_bounce;
	uint32_t chunk;		/* bytes the operation in flight covers */
	struct iovec zero_iov[VBLK_ZERO_IOVS];
	struct vblk_req *next_free;
};

/*
 * Parses and validates r->chain against lim: sets op, status, in_len
 * and the data (iov, off, left) or the ranges; a request that needs no
 * I/O (GET_ID, errors, empty transfers) comes back as VBLK_OP_DONE with
 * its result, GET_ID's bytes already written.
 */
void vblk_parse(struct vblk_req *r, const struct vblk_limits *lim);

/* Moves *iov past n bytes, trimming its first segment in place. */
void vblk_iov_advance(struct iovec **iov, unsigned int *cnt, size_t n);

/* ---- the device (blk.c) and its io_uring engine (blk_uring.c) ------- */

#define VBLK_MAX_QUEUES		16
#define VBLK_MAX_INFLIGHT	128
#define VBLK_RING_SIZE		VBLK_MAX_INFLIGHT
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

/*
 * What a queue did, for the user (--verbose, when the device goes) and
 * the tests: how requests arrive (per kick), how completions leave (per
 * interrupt), and who suppressed which interrupt. A reset keeps them.
 */
struct vblk_queue_stats {
	uint64_t kicks;		/* notifications taken (vblk_notify()) */
	uint64_t reqs;		/* requests popped */
	uint64_t done;		/* used entries added */
	uint64_t publishes;	/* used index published with new entries */
	uint64_t held;		/* of those, the interrupt waited (coalesce) */
	uint64_t asked;		/* interrupts the device asked for */
	uint64_t raised;	/* of those, the driver wanted (EVENT_IDX) */
};

/* The device's side of the ring: submissions and completion wake-ups. */
struct vblk_stats {
	uint64_t submits;	/* io_uring_submit() calls that took some */
	uint64_t wakes;		/* completion handler runs */
	uint64_t cqes;		/* completions reaped */
	struct vblk_queue_stats q[VBLK_MAX_QUEUES];
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
	struct vblk_stats st;
};

/* For tests: a copy of the counters (takes vdev->lock). */
void virtio_blk_stats(struct virtio_dev *vdev, struct vblk_stats *st);

/* blk.c: status, used entry, slot back (the flush comes once per batch);
 * the slot alone, for a request whose result is dropped. */
void vblk_finish(struct vblk *b, struct vblk_req *req, uint8_t status);
void vblk_put_req(struct vblk *b, struct vblk_req *req);

/*
 * blk_uring.c. vblk_ring_init(): a ring restricted to this device's
 * operations on the image. vblk_submit() queues a request's next
 * operation and vblk_flush_sq() submits the batch; vblk_dwz_next()
 * starts a discard or write zeroes range by range; vblk_reap() takes
 * every completion (dropping results with drop); vblk_drain() waits
 * until nothing is in flight (resets). vblk_fail() completes a request
 * with IOERR after one warning; vblk_aligned() says whether O_DIRECT
 * takes its buffers as they are.
 */
int vblk_ring_init(struct vblk *b, const struct disk *disk);
void vblk_submit(struct vblk *b, struct vblk_req *req);
void vblk_dwz_next(struct vblk *b, struct vblk_req *req);
void vblk_flush_sq(struct vblk *b);
void vblk_reap(struct vblk *b, bool drop);
void vblk_drain(struct vblk *b);
/* Snapshots: waits until every request in flight has completed, with
 * its result (vblk_drain() drops them), starting nothing new. */
void vblk_complete_all(struct vblk *b);
void vblk_fail(struct vblk *b, struct vblk_req *req, int err);
bool vblk_aligned(const struct vblk *b, const struct vblk_req *req);

#endif
