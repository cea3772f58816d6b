// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue, device side. The driver runs on other CPUs and may
 * rewrite any ring byte at any time, so every guest field is read exactly
 * once into a local and checked there, and every loop over guest data is
 * bounded by a count rather than by what the guest wrote.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "lib/log.h"
#include "virtio/virtq.h"

/* The state of one chain walk, shared by the direct and indirect parts. */
struct chain_walk {
	struct virtq_chain *c;
	bool seen_write;	/* a device-writable descriptor came already */
	uint64_t out_len;
	uint64_t in_len;
};

static int __attribute__((format(printf, 3, 4)))
virtq_fail(struct virtq *vq, int err, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	/* Sticky until a reset, and logged a few times in the queue's life:
	 * a guest must not be able to flood the log. */
	if (vq->broken)
		return vq->err;
	vq->broken = true;
	vq->err = err;
	if (vq->breaks_logged == VIRTQ_BREAKS_LOGGED) {
		vq->breaks_unlogged++;
		return err;
	}
	vq->breaks_logged++;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_warn("virtq %s: guest broke the queue: %s%s", vq->name, why,
		vq->breaks_logged == VIRTQ_BREAKS_LOGGED ?
		" (further breaks of this queue are counted, not logged)" : "");
	return err;
}

int virtq_init(struct virtq *vq, const struct guest_mem *mem,
	       unsigned int max_size, const char *name)
{
	memset(vq, 0, sizeof(*vq));
	if (!max_size || max_size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	vq->mem = mem;
	vq->max_size = max_size;
	vq->name = name ? name : "?";
	return 0;
}

void virtq_reset(struct virtq *vq)
{
	const struct guest_mem *mem = vq->mem;
	const char *name = vq->name;
	unsigned int max_size = vq->max_size;
	bool warned_long = vq->warned_long;
	unsigned int logged = vq->breaks_logged;
	unsigned long unlogged = vq->breaks_unlogged;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->name = name;
	vq->max_size = max_size;
	vq->warned_long = warned_long;
	vq->breaks_logged = logged;
	vq->breaks_unlogged = unlogged;
}

void virtq_exit(struct virtq *vq)
{
	if (vq->breaks_unlogged)
		pr_warn("virtq %s: %lu more breaks of the queue, not logged",
			vq->name, vq->breaks_unlogged);
	vq->breaks_unlogged = 0;
}

/*
 * Host alignment is checked as well as the guest's: the rings are read
 * with atomic loads, which must not be misaligned on the host either.
 */
static int map_ring(const struct virtq *vq, uint64_t gpa, uint64_t len,
		    unsigned int align, void **hva)
{
	void *p;

	if (gpa & (align - 1))
		return -EINVAL;
	p = gmem_ptr(vq->mem, gpa, len);
	if (!p)
		return -EFAULT;
	if ((uintptr_t)p & (align - 1))
		return -EINVAL;
	*hva = p;
	return 0;
}

/* Half-open ranges of host memory, where the device's writes land. */
static bool overlap(const void *a, uint64_t a_len, const void *b, uint64_t b_len)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;

	return x < y + b_len && y < x + a_len;
}

int virtq_enable(struct virtq *vq)
{
	uint64_t n = vq->size, evt, desc_len, avail_len, used_len;
	void *desc, *avail, *used;
	int r;

	if (vq->ready)
		return -EBUSY;
	if (!n || n > vq->max_size || (n & (n - 1)))
		return -EINVAL;
	vq->event_idx = vq->features & (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = vq->features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	evt = vq->event_idx ? sizeof(uint16_t) : 0;
	desc_len = n * sizeof(struct vring_desc);
	avail_len = sizeof(struct vring_avail) + n * sizeof(uint16_t) + evt;
	used_len = sizeof(struct vring_used) +
		   n * sizeof(struct vring_used_elem) + evt;

	r = map_ring(vq, vq->desc_gpa, desc_len, VRING_DESC_ALIGN_SIZE, &desc);
	if (!r)
		r = map_ring(vq, vq->avail_gpa, avail_len,
			     VRING_AVAIL_ALIGN_SIZE, &avail);
	if (!r)
		r = map_ring(vq, vq->used_gpa, used_len,
			     VRING_USED_ALIGN_SIZE, &used);
	if (r)
		return r;
	/*
	 * Each part is written by the driver or by the device, not both
	 * (virtio 1.2 section 2.7). Overlapping rings would let the device's
	 * own writes (used flags and idx, avail_event) move what it reads as
	 * avail idx, and its drain loop would find new buffers forever.
	 * Adjacent parts, as in the legacy layout, are fine.
	 */
	if (overlap(desc, desc_len, avail, avail_len) ||
	    overlap(desc, desc_len, used, used_len) ||
	    overlap(avail, avail_len, used, used_len))
		return -EINVAL;

	vq->desc = desc;
	vq->avail = avail;
	vq->used = used;
	vq->used_event = &vq->avail->ring[n];
	vq->avail_event = (uint16_t *)&vq->used->ring[n];
	vq->last_avail = vq->avail_seen = 0;
	vq->used_idx = vq->used_published = vq->used_signalled = 0;
	vq->broken = false;
	vq->err = 0;
	vq->ready = true;
	return 0;
}

/* Ring fields: one atomic load each (see GUEST_LOAD() in virtq.h). */
static uint16_t load16(const uint16_t *p, int order)
{
	return le16toh(__atomic_load_n(p, order));
}

static void store16(uint16_t *p, uint16_t v, int order)
{
	__atomic_store_n(p, htole16(v), order);
}

/*
 * Reads avail idx afresh: the number of chains it makes available, which
 * the next pops take without reading it again.
 */
static int avail_update(struct virtq *vq)
{
	uint16_t idx, n;

	/* Acquire: the ring entries and descriptors the driver wrote before
	 * bumping idx must not be read from before it. */
	idx = load16(&vq->avail->idx, __ATOMIC_ACQUIRE);
	n = idx - vq->last_avail;
	if (n > vq->size)
		return virtq_fail(vq, -EINVAL, "avail idx %u is %u ahead of %u",
				  idx, n, vq->last_avail);
	vq->avail_seen = idx;
	return n;
}

/* Number of chains the driver has made available that we have not popped. */
static int avail_pending(struct virtq *vq)
{
	uint16_t n = vq->avail_seen - vq->last_avail;

	if (n)
		return n;
	return avail_update(vq);
}

/*
 * A descriptor may sit anywhere in an indirect table: copy, never cast.
 * One snapshot (guest_copy()): the walk checks d->len, d->next and
 * d->flags and then uses them, and none of them may be read again from
 * the table in between.
 */
static void read_desc(const uint8_t *table, uint32_t i, struct vring_desc *d)
{
	guest_copy(d, table + (size_t)i * sizeof(*d), sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static void add_seg(struct chain_walk *w, void *p, uint64_t len, bool write)
{
	struct virtq_chain *c = w->c;
	unsigned int nr = c->nr_out + c->nr_in;

	if (c->err)
		return;
	if (nr == VIRTQ_MAX_SEGS) {
		/* Keep walking without storing: a chain that is also broken
		 * further on must still break the queue. */
		c->err = -E2BIG;
		return;
	}
	c->iov[nr] = (struct iovec){ .iov_base = p, .iov_len = len };
	if (write)
		c->nr_in++;
	else
		c->nr_out++;
}

/*
 * A buffer may run from one RAM region into the next when they are
 * adjacent in guest-physical space; each region's part is one segment.
 * The loop ends because every pass consumes at least one byte of len.
 */
static int map_buf(struct virtq *vq, struct chain_walk *w, uint64_t addr,
		   uint32_t len, bool write)
{
	uint64_t at = addr, left = len;

	while (left) {
		uint64_t end = gmem_region_end(vq->mem, at);
		uint64_t n;
		void *p;

		if (!end)
			break;
		n = left < end - at ? left : end - at;
		p = gmem_ptr(vq->mem, at, n);
		if (!p)
			break;
		add_seg(w, p, n, write);
		at += n;
		left -= n;
	}
	if (left)
		return virtq_fail(vq, -EFAULT, "buffer 0x%llx+%u not in RAM",
				  (unsigned long long)addr, len);
	return 0;
}

static int add_desc(struct virtq *vq, struct chain_walk *w,
		    const struct vring_desc *d)
{
	bool write = d->flags & VRING_DESC_F_WRITE;

	if (!write && w->seen_write)
		return virtq_fail(vq, -EINVAL,
				  "readable descriptor after a writable one");
	w->seen_write |= write;
	if (write)
		w->in_len += d->len;
	else
		w->out_len += d->len;
	if (w->out_len + w->in_len > UINT32_MAX)
		return virtq_fail(vq, -EOVERFLOW, "chain longer than 4 GiB");
	return map_buf(vq, w, d->addr, d->len, write);
}

static int walk_indirect(struct virtq *vq, struct chain_walk *w,
			 const struct vring_desc *ind)
{
	const uint8_t *table;
	struct vring_desc d;
	uint32_t n, i = 0, count = 0;

	if (!vq->indirect)
		return virtq_fail(vq, -EINVAL, "indirect not negotiated");
	if (ind->flags & VRING_DESC_F_NEXT)
		return virtq_fail(vq, -EINVAL, "indirect descriptor with NEXT");
	n = ind->len / sizeof(d);
	if (!ind->len || ind->len % sizeof(d) || n > vq->size)
		return virtq_fail(vq, -EINVAL, "indirect table length %u",
				  ind->len);
	table = gmem_ptr(vq->mem, ind->addr, ind->len);
	if (!table)
		return virtq_fail(vq, -EFAULT,
				  "indirect table 0x%llx+%u not in RAM",
				  (unsigned long long)ind->addr, ind->len);

	for (;;) {
		int r;

		if (++count > n)
			return virtq_fail(vq, -ELOOP, "indirect chain loops");
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return virtq_fail(vq, -EINVAL, "nested indirect table");
		r = add_desc(vq, w, &d);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return virtq_fail(vq, -EINVAL, "indirect next %u >= %u",
					  d.next, n);
		i = d.next;
	}
}

/*
 * Direct descriptors, possibly ending in one indirect descriptor (the
 * specification lets a chain of direct descriptors end in a table).
 * Without a loop a chain cannot be longer than its table, so counting is
 * the loop detection.
 */
static int walk_chain(struct virtq *vq, struct chain_walk *w, uint16_t head)
{
	struct vring_desc d;
	uint32_t i = head, count = 0;

	for (;;) {
		int r;

		if (++count > vq->size)
			return virtq_fail(vq, -ELOOP, "chain from %u loops",
					  head);
		read_desc(vq->desc, i, &d);
		/* The WRITE flag of an indirect descriptor means nothing. */
		if (d.flags & VRING_DESC_F_INDIRECT)
			return walk_indirect(vq, w, &d);
		r = add_desc(vq, w, &d);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->size)
			return virtq_fail(vq, -EINVAL, "next %u >= size %u",
					  d.next, vq->size);
		i = d.next;
	}
}

static void chain_finish(struct virtq *vq, struct chain_walk *w)
{
	struct virtq_chain *c = w->c;

	c->out_len = w->out_len;
	c->in_len = w->in_len;
	if (!c->err)
		return;
	/* No half chain: a device that forgets to check err sees nothing. */
	c->nr_out = c->nr_in = 0;
	if (!vq->warned_long) {
		vq->warned_long = true;
		pr_warn("virtq %s: failed a chain of more than %d segments",
			vq->name, VIRTQ_MAX_SEGS);
	}
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c)
{
	struct chain_walk w = { .c = c };
	uint16_t head;
	int r;

	if (vq->broken)
		return vq->err;
	if (!vq->ready)
		return 0;
	r = avail_pending(vq);
	if (r <= 0)
		return r;

	head = load16(&vq->avail->ring[vq->last_avail & (vq->size - 1)],
		      __ATOMIC_RELAXED);
	if (head >= vq->size)
		return virtq_fail(vq, -EINVAL, "head %u >= size %u",
				  head, vq->size);
	c->head = head;
	c->err = 0;
	c->nr_out = c->nr_in = 0;
	r = walk_chain(vq, &w, head);
	if (r)
		return r;
	chain_finish(vq, &w);
	vq->last_avail++;
	return 1;
}

void virtq_add_used(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e;

	if (!vq->ready || vq->broken)
		return;
	e = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(len), __ATOMIC_RELAXED);
	vq->used_idx++;
}

void virtq_flush(struct virtq *vq)
{
	if (!vq->ready || vq->broken || vq->used_idx == vq->used_published)
		return;
	/* Release: the used entries and the data written into the buffers
	 * are visible to the driver before the index that exposes them. */
	store16(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	vq->used_published = vq->used_idx;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	virtq_add_used(vq, head, len);
	virtq_flush(vq);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->used_signalled, new = vq->used_published;
	uint16_t event;

	if (!vq->ready || vq->broken)
		return false;
	vq->used_signalled = new;
	/*
	 * The driver re-enables interrupts and then re-reads used idx; we
	 * publish used idx and then read its suppression field. Without a
	 * full barrier on both sides each could miss the other's store and
	 * the driver would sleep on a used buffer.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->event_idx) {
		event = load16(vq->used_event, __ATOMIC_RELAXED);
		return vring_need_event(event, new, old);
	}
	return new != old &&
	       !(load16(&vq->avail->flags, __ATOMIC_RELAXED) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}

/*
 * With EVENT_IDX nothing needs writing: the driver kicks only when its idx
 * crosses avail_event, which stays behind until kicks are enabled again.
 */
void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken || vq->event_idx)
		return;
	store16(&vq->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx)
		store16(vq->avail_event, vq->last_avail, __ATOMIC_RELAXED);
	else
		store16(&vq->used->flags, 0, __ATOMIC_RELAXED);
	/*
	 * The driver publishes avail idx and then reads our suppression
	 * field; we write that field and then re-read avail idx. The full
	 * barrier makes sure at least one of us sees the other's store, so a
	 * buffer added meanwhile is either kicked or found here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/*
	 * One read, checked as virtq_pop() checks it, is both the answer and
	 * what the next pops take: a guest that moves avail idx back and forth
	 * cannot make a drain loop go round without popping. A broken queue
	 * answers true too, so that the device pops and hears of it now.
	 */
	return avail_update(vq) != 0;
}

void virtq_get_indices(const struct virtq *vq, struct virtq_indices *ix)
{
	ix->last_avail = vq->last_avail;
	ix->used_idx = vq->used_published;
	ix->used_signalled = vq->used_signalled;
}

/*
 * Nothing else needs checking: any 16-bit value is an index the ring's
 * arithmetic handles, and the next avail_update() judges the guest's
 * avail idx against last_avail as always. avail_seen starts at
 * last_avail, so the first pop reads avail idx afresh.
 */
int virtq_restore(struct virtq *vq, const struct virtq_indices *ix)
{
	if (!vq->ready || ix->last_avail != ix->used_idx)
		return -EINVAL;
	vq->last_avail = vq->avail_seen = ix->last_avail;
	vq->used_idx = vq->used_published = ix->used_idx;
	vq->used_signalled = ix->used_signalled;
	return 0;
}

void virtq_unpop(struct virtq *vq, uint16_t n)
{
	if (n > virtq_outstanding(vq))
		n = virtq_outstanding(vq);
	vq->last_avail -= n;
}

size_t virtq_out_pos(const struct virtq_chain *c, unsigned int seg, size_t off)
{
	size_t pos = off;

	for (unsigned int i = 0; i < seg && i < c->nr_out; i++)
		pos += c->iov[i].iov_len;
	return pos;
}

void virtq_out_seek(const struct virtq_chain *c, size_t pos, unsigned int *seg,
		    size_t *off)
{
	unsigned int i = 0;

	while (i < c->nr_out && pos >= c->iov[i].iov_len)
		pos -= c->iov[i++].iov_len;
	*seg = i;
	*off = i < c->nr_out ? pos : 0;
}

/* One walk for both directions: to_iov copies buf into the iovecs, else
 * the iovecs into buf. */
static size_t virtq_iov_copy(const struct iovec *iov, unsigned int cnt,
			     size_t off, uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned int i = 0; i < cnt && done < len; i++) {
		size_t n = iov[i].iov_len;
		uint8_t *seg;

		if (off >= n) {
			off -= n;
			continue;
		}
		n -= off;
		if (n > len - done)
			n = len - done;
		seg = (uint8_t *)iov[i].iov_base + off;
		if (to_iov)
			memcpy(seg, buf + done, n);
		else
			memcpy(buf + done, seg, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t virtq_iov_to_buf(void *dst, const struct iovec *iov, unsigned int cnt,
			size_t off, size_t len)
{
	size_t done = virtq_iov_copy(iov, cnt, off, dst, len, false);

	/* One snapshot of guest bytes: what is checked in dst is never
	 * read from the guest again. */
	guest_barrier();
	return done;
}

size_t virtq_iov_from_buf(const struct iovec *iov, unsigned int cnt, size_t off,
			  const void *src, size_t len)
{
	/* src is only read: to_iov copies out of buf. */
	return virtq_iov_copy(iov, cnt, off, (uint8_t *)src, len, true);
}
