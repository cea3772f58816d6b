/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Split virtqueue, device side (virtio 1.2 section 2.7; also the legacy
 * virtio-mmio v1 layout, whose ring addresses the transport computes).
 *
 * Life cycle: the device calls virtq_init() once. While the queue is not
 * ready the transport writes size, desc_gpa, avail_gpa, used_gpa and
 * features (the negotiated feature bits), then calls virtq_enable(),
 * which validates them and translates the rings to host pointers once:
 * guest RAM does not move while the VM runs. virtq_reset() forgets all
 * of it again.
 *
 * Threads: one thread at a time. The device's I/O thread owns a ready
 * queue; the transport must quiesce that thread around virtq_enable()
 * and virtq_reset(). Notifications (eventfds) belong to the transport;
 * this code only says whether one is due.
 *
 * The ring fields are little endian (virtio 1.x) or guest-native (legacy);
 * kvmini's hosts and guests are all little endian, so both are the same.
 *
 * Error policy. The guest is hostile, and every value read from the rings
 * is checked. Anything the specification forbids the driver to do to the
 * ring structure is "the queue is broken": virtq_pop() returns -errno,
 * logs the reason, and keeps returning that error until virtq_reset();
 * the caller sets DEVICE_NEEDS_RESET. Only the first VIRTQ_BREAKS_LOGGED
 * breaks of a queue's lifetime are logged, resets or not; the rest are
 * counted, and virtq_exit() says how many. That covers:
 *
 *   -EINVAL      avail idx more than size ahead of the last chain popped;
 *                head or next index out of the table; a device-readable
 *                descriptor after a device-writable one; INDIRECT when
 *                the feature was not negotiated, together with NEXT, or
 *                inside an indirect table; an indirect table length that
 *                is 0, not a multiple of 16 or of more than size entries
 *   -ELOOP       a chain longer than its table: it must revisit an entry
 *   -EFAULT      a buffer not entirely in guest RAM, or an indirect table
 *                not inside one RAM region
 *   -EOVERFLOW   a chain of more than UINT32_MAX bytes in total
 *
 * One thing fails just the request: a well-formed chain with more than
 * VIRTQ_MAX_SEGS non-empty segments, which the specification allows but
 * this device does not take ("reasonable limit of descriptors"). Then
 * virtq_pop() returns 1 with c->err = -E2BIG and no segments; the device
 * completes c->head with length 0 and goes on.
 *
 * Zero-length descriptors are legal: they count towards the chain length
 * and the readable-before-writable rule but give no segment, and their
 * address is not looked at.
 */
#ifndef KVMINI_VIRTQ_H
#define KVMINI_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_ring.h>

#include "lib/mem.h"

/*
 * Reading what the guest shares (rings, descriptors, request headers).
 * The driver may rewrite any of it while the device looks, so a value
 * the device checks must be the value it uses. A plain load does not
 * promise that in the generated code: the compiler, assuming no other
 * thread writes, may load a field again where the C code uses its
 * checked local, and see what the guest wrote after the check. So each
 * guest read is one of these two, and the device then looks only at
 * its local copy:
 *
 *   GUEST_LOAD(p)	an aligned scalar: one relaxed atomic load
 *   guest_copy()	bytes into private memory, then a compiler barrier:
 *			nothing read before it can be read again after it
 *			(the way Linux's READ_ONCE() read aggregates), so
 *			every later use sees that one snapshot. A torn
 *			snapshot is still one set of values, checked as such.
 *
 * Ordering against other fields (avail idx before the entries it
 * exposes) needs the acquire loads and fences of virtq.c on top.
 */
#define GUEST_LOAD(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define guest_barrier()	__asm__ __volatile__("" ::: "memory")

static inline void guest_copy(void *dst, const void *src, size_t len)
{
	__builtin_memcpy(dst, src, len);
	guest_barrier();
}

/*
 * Copy between a buffer and a chain's bytes from off on (its iovecs),
 * for every device; return the bytes copied (fewer when the iovecs end
 * first). What virtq_iov_to_buf() copies is one snapshot, as
 * guest_copy() takes: only dst is checked and used.
 */
size_t virtq_iov_to_buf(void *dst, const struct iovec *iov, unsigned int cnt,
			size_t off, size_t len);
size_t virtq_iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off,
			  const void *src, size_t len);

#define VIRTQ_MAX_SIZE	32768
/* Below IOV_MAX (1024), so a chain's iovecs go to readv/writev as they are. */
#define VIRTQ_MAX_SEGS	256
/* Breaks of one queue logged, for the VM's lifetime. */
#define VIRTQ_BREAKS_LOGGED	3

/*
 * One popped chain. iov[0, nr_out) are device-readable ("out") segments,
 * iov[nr_out, nr_out + nr_in) device-writable ("in") ones; they point
 * straight into guest RAM. A buffer that crosses from one RAM region into
 * the next takes one segment per region.
 */
struct virtq_chain {
	uint16_t head;		/* give back to virtq_add_used() */
	int err;		/* 0, or -E2BIG: complete with length 0 */
	unsigned int nr_out;
	unsigned int nr_in;
	uint32_t out_len;	/* bytes in the readable segments */
	uint32_t in_len;	/* bytes in the writable segments */
	struct iovec iov[VIRTQ_MAX_SEGS];
};

struct virtq {
	/* Set once by virtq_init(); kept by virtq_reset(). */
	const struct guest_mem *mem;
	const char *name;		/* for log messages */
	unsigned int max_size;
	/* The log's limits, for the queue's lifetime: kept by virtq_reset(),
	 * or a driver breaking and resetting it in a loop floods the log. */
	bool warned_long;
	unsigned int breaks_logged;	/* at most VIRTQ_BREAKS_LOGGED */
	unsigned long breaks_unlogged;	/* the ones after: virtq_exit() */

	/* Written by the transport while the queue is not ready. */
	unsigned int size;
	uint64_t desc_gpa;
	uint64_t avail_gpa;		/* driver area */
	uint64_t used_gpa;		/* device area */
	uint64_t features;		/* negotiated feature bits */

	/* Everything below belongs to this file. */
	bool ready;
	bool broken;
	bool event_idx;
	bool indirect;
	int err;			/* why broken */
	const uint8_t *desc;		/* host views of the rings */
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t *used_event;		/* EVENT_IDX: after avail ring */
	uint16_t *avail_event;		/* EVENT_IDX: after used ring */
	uint16_t last_avail;		/* next avail ring entry to pop */
	uint16_t avail_seen;		/* avail idx as last read */
	uint16_t used_idx;		/* next used ring entry to fill */
	uint16_t used_published;	/* used idx as last published */
	uint16_t used_signalled;	/* used idx at the last notify check */
};

/* Returns 0, or -EINVAL when max_size is not 1..VIRTQ_MAX_SIZE. */
int virtq_init(struct virtq *vq, const struct guest_mem *mem,
	       unsigned int max_size, const char *name);

/*
 * Validates the transport's settings: size a power of two no larger than
 * max_size (else -EINVAL); each ring's guest address aligned as the
 * specification says (descriptors 16, avail 2, used 4; else -EINVAL) and
 * the whole ring, with its event index when EVENT_IDX was negotiated,
 * inside one RAM region (else -EFAULT); no two rings overlapping (else
 * -EINVAL; adjacent is fine). -EBUSY when already ready.
 */
int virtq_enable(struct virtq *vq);

/* Back to the state after virtq_init(): not ready, not broken; the log's
 * limits stay. */
void virtq_reset(struct virtq *vq);
/* The queue's end: one line for the breaks that were not logged, if any. */
void virtq_exit(struct virtq *vq);

static inline bool virtq_is_broken(const struct virtq *vq)
{
	return vq->broken;
}

/*
 * Takes the next available chain: 1 with *c filled in (check c->err),
 * 0 when there is none (or the queue is not ready), -errno when the queue
 * is broken (see the error policy above).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c);

/*
 * Returns a chain to the driver, len being the bytes written into its
 * writable segments. virtq_add_used() only fills the used ring entry;
 * virtq_flush() makes every entry added so far visible to the driver at
 * once, so devices add a batch and flush it once; virtq_push() is the two
 * together, for one chain (the tests use it). All three do nothing on a
 * queue that is not ready or is broken, so completions of requests still
 * in flight across a reset never touch guest memory.
 */
void virtq_add_used(struct virtq *vq, uint16_t head, uint32_t len);
void virtq_flush(struct virtq *vq);
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/*
 * After a flush: should the device interrupt the driver now? Honours
 * used_event with EVENT_IDX, VRING_AVAIL_F_NO_INTERRUPT without. Call it
 * after every flush, so that fewer than 65536 entries separate two calls.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Available buffer notifications ("kicks"). A device drains the queue
 * with kicks disabled and re-enables them before sleeping:
 *
 *	for (;;) {
 *		virtq_disable_notify(vq);
 *		while ((r = virtq_pop(vq, &c)) > 0)
 *			handle(&c);
 *		if (r < 0 || !virtq_enable_notify(vq))
 *			break;
 *	}
 *
 * virtq_enable_notify() returns true when buffers arrived while kicks
 * were off: the driver may not kick for those, so pop them now. Then the
 * next virtq_pop() returns at least one chain, or an error: true also
 * when the queue broke (avail idx moved back, or more than size ahead),
 * so no round of the loop is for nothing.
 */
void virtq_disable_notify(struct virtq *vq);
bool virtq_enable_notify(struct virtq *vq);

/*
 * Snapshots (virtio/virtio_state.c). The indices that say what happens
 * next: the next avail entry to pop, the used idx published (after a
 * flush, the next entry to fill too) and the used idx at the last
 * notify check (EVENT_IDX compares against it).
 *
 * virtq_restore() sets them on a queue virtq_enable() just made ready:
 * -EINVAL unless the queue is ready and as many chains were used as
 * popped (a quiesced device holds none). virtq_unpop() gives the n
 * chains popped last back to the avail ring, for a device that held
 * them unused (a receive buffer, a transmit the backend had no room
 * for): they are popped again, same heads, as the driver made them
 * available; n must not exceed the chains popped and not used.
 */
struct virtq_indices {
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t used_signalled;
};

void virtq_get_indices(const struct virtq *vq, struct virtq_indices *ix);
int virtq_restore(struct virtq *vq, const struct virtq_indices *ix);
/* Chains popped and not yet added to the used ring. */
static inline uint16_t virtq_outstanding(const struct virtq *vq)
{
	return (uint16_t)(vq->last_avail - vq->used_idx);
}
void virtq_unpop(struct virtq *vq, uint16_t n);
/*
 * A device that held a partly written transmit chain and gave it back
 * (virtq_unpop()) remembers how far it got as a byte position in the
 * chain's readable segments, and finds its place again when it pops the
 * chain anew; a position past the end is the end.
 */
size_t virtq_out_pos(const struct virtq_chain *c, unsigned int seg, size_t off);
void virtq_out_seek(const struct virtq_chain *c, size_t pos, unsigned int *seg,
		    size_t *off);
/* Nothing popped and unused, nothing added and unpublished. */
static inline bool virtq_quiet(const struct virtq *vq)
{
	return !virtq_outstanding(vq) && vq->used_idx == vq->used_published;
}

#endif
