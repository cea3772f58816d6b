// SPDX-License-Identifier: GPL-2.0
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "fake_virtq.h"

void fake_guest_init(struct fake_guest *g)
{
	memset(g, 0, sizeof(*g));
	g->ram = aligned_alloc(4096, FAKE_RAM_SIZE);
	ck_assert_ptr_nonnull(g->ram);
	memset(g->ram, 0, FAKE_RAM_SIZE);
	ck_assert_int_eq(gmem_add_region(&g->mem, FAKE_RAM_GPA, FAKE_RAM_SIZE,
					 g->ram), 0);
	g->brk = FAKE_RAM_GPA;
}

void fake_guest_exit(struct fake_guest *g)
{
	free(g->ram);
	g->ram = NULL;
}

void *fake_ptr(struct fake_guest *g, uint64_t gpa)
{
	ck_assert(gpa >= FAKE_RAM_GPA && gpa - FAKE_RAM_GPA < FAKE_RAM_SIZE);
	return g->ram + (gpa - FAKE_RAM_GPA);
}

uint64_t fake_alloc(struct fake_guest *g, uint64_t len, uint64_t align)
{
	uint64_t gpa = (g->brk + align - 1) & ~(align - 1);

	ck_assert_msg(gpa + len <= FAKE_RAM_GPA + FAKE_RAM_SIZE,
		      "fake guest RAM exhausted");
	g->brk = gpa + len;
	return gpa;
}

uint64_t fake_alloc_guarded(struct fake_guest *g, uint64_t len)
{
	uint64_t gpa = fake_alloc(g, len + 2 * FAKE_GUARD, 16) + FAKE_GUARD;

	memset(fake_ptr(g, gpa - FAKE_GUARD), FAKE_GUARD_BYTE, FAKE_GUARD);
	memset(fake_ptr(g, gpa + len), FAKE_GUARD_BYTE, FAKE_GUARD);
	return gpa;
}

void fake_check_guards(struct fake_guest *g, uint64_t gpa, uint64_t len)
{
	const uint8_t *before = fake_ptr(g, gpa - FAKE_GUARD);
	const uint8_t *after = fake_ptr(g, gpa + len);

	for (unsigned int i = 0; i < FAKE_GUARD; i++) {
		ck_assert_msg(before[i] == FAKE_GUARD_BYTE,
			      "guard byte %u before 0x%llx overwritten", i,
			      (unsigned long long)gpa);
		ck_assert_msg(after[i] == FAKE_GUARD_BYTE,
			      "guard byte %u after 0x%llx+%llu overwritten", i,
			      (unsigned long long)gpa, (unsigned long long)len);
	}
}

static void fake_interrupt(struct virtio_dev *vdev, int q)
{
	struct fake_guest *g = vdev->transport;

	(void)q;
	g->interrupts++;
	g->isr |= __atomic_load_n(&vdev->isr, __ATOMIC_ACQUIRE);
}

static void fake_requeue(struct virtio_dev *vdev, unsigned int q)
{
	struct fake_guest *g = vdev->transport;

	ck_assert_uint_lt(q, FAKE_MAX_QUEUES);
	g->requeues[q]++;
}

void fake_attach(struct fake_guest *g, struct virtio_dev *vdev)
{
	g->tops.interrupt = fake_interrupt;
	g->tops.requeue = fake_requeue;
	/* A modern transport offers VERSION_1 on top of the device's bits. */
	vdev->host_features |= 1ULL << VIRTIO_F_VERSION_1;
	vdev->tops = &g->tops;
	vdev->transport = g;
}

bool fake_set_status(struct virtio_dev *vdev, uint8_t status)
{
	bool ok;

	pthread_mutex_lock(&vdev->lock);
	ok = virtio_dev_set_status(vdev, status);
	pthread_mutex_unlock(&vdev->lock);
	return ok;
}

static void fake_setup_queue(struct fake_guest *g, struct virtio_dev *vdev,
			     unsigned int i, unsigned int size)
{
	struct fake_queue *fq = &g->q[i];
	struct virtq *vq = &vdev->vqs[i];

	memset(fq, 0, sizeof(*fq));
	fq->size = size;
	fq->event_idx = virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	fq->desc = fake_alloc(g, 16 * size, 4096);
	fq->avail = fake_alloc(g, 6 + 2 * size, 4096);
	fq->used = fake_alloc(g, 6 + 8 * size, 4096);

	vq->size = size;
	vq->desc_gpa = fq->desc;
	vq->avail_gpa = fq->avail;
	vq->used_gpa = fq->used;
	vq->features = vdev->features;
	ck_assert_int_eq(virtq_enable(vq), 0);
}

void fake_driver_start(struct fake_guest *g, struct virtio_dev *vdev,
		       uint64_t features, unsigned int qsize)
{
	uint8_t s = VIRTIO_CONFIG_S_ACKNOWLEDGE;

	ck_assert_uint_le(vdev->ops->nr_queues, FAKE_MAX_QUEUES);
	if (!vdev->tops)
		fake_attach(g, vdev);
	ck_assert(fake_set_status(vdev, s));
	s |= VIRTIO_CONFIG_S_DRIVER;
	ck_assert(fake_set_status(vdev, s));
	pthread_mutex_lock(&vdev->lock);
	vdev->features = features | (1ULL << VIRTIO_F_VERSION_1);
	pthread_mutex_unlock(&vdev->lock);
	s |= VIRTIO_CONFIG_S_FEATURES_OK;
	ck_assert(fake_set_status(vdev, s));

	pthread_mutex_lock(&vdev->lock);
	g->nr_queues = vdev->ops->nr_queues;
	for (unsigned int i = 0; i < g->nr_queues; i++)
		fake_setup_queue(g, vdev, i, qsize);
	pthread_mutex_unlock(&vdev->lock);

	s |= VIRTIO_CONFIG_S_DRIVER_OK;
	ck_assert(fake_set_status(vdev, s));
	ck_assert(vdev->active);
}

static uint64_t fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct fake_queue *fake_q(struct fake_guest *g, unsigned int q)
{
	ck_assert_uint_lt(q, g->nr_queues);
	return &g->q[q];
}

static void put_desc(uint8_t *table, unsigned int i, const struct fake_seg *s,
		     uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(s->gpa),
		.len = htole32(s->len),
		.flags = htole16(flags | (s->write ? VRING_DESC_F_WRITE : 0)),
		.next = htole16(next),
	};

	memcpy(table + i * sizeof(d), &d, sizeof(d));
}

void fake_add_head(struct fake_guest *g, unsigned int q, uint16_t head)
{
	struct fake_queue *fq = fake_q(g, q);
	struct vring_avail *avail = fake_ptr(g, fq->avail);

	avail->ring[fq->avail_idx % fq->size] = htole16(head);
	fq->avail_idx++;
	/* Release: the descriptors and the ring entry before the index. */
	__atomic_store_n(&avail->idx, htole16(fq->avail_idx), __ATOMIC_RELEASE);
}

uint16_t fake_add_chain(struct fake_guest *g, unsigned int q,
			const struct fake_seg *segs, unsigned int n)
{
	struct fake_queue *fq = fake_q(g, q);
	uint8_t *table = fake_ptr(g, fq->desc);
	uint16_t head = fq->next_desc;

	ck_assert(n >= 1 && n <= fq->size);
	for (unsigned int i = 0; i < n; i++) {
		uint16_t at = fq->next_desc;

		fq->next_desc = (fq->next_desc + 1) % fq->size;
		put_desc(table, at, &segs[i],
			 i + 1 < n ? VRING_DESC_F_NEXT : 0, fq->next_desc);
	}
	fake_add_head(g, q, head);
	return head;
}

uint16_t fake_add_indirect(struct fake_guest *g, unsigned int q,
			   const struct fake_seg *segs, unsigned int n)
{
	struct fake_queue *fq = fake_q(g, q);
	uint64_t table = fake_alloc(g, 16 * n, 16);
	struct fake_seg ind = { .gpa = table, .len = 16 * n };
	uint16_t head = fq->next_desc;

	for (unsigned int i = 0; i < n; i++)
		put_desc(fake_ptr(g, table), i, &segs[i],
			 i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
	fq->next_desc = (fq->next_desc + 1) % fq->size;
	put_desc(fake_ptr(g, fq->desc), head, &ind, VRING_DESC_F_INDIRECT, 0);
	fake_add_head(g, q, head);
	return head;
}

static uint16_t load16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

bool fake_kick_wanted(struct fake_guest *g, unsigned int q)
{
	struct fake_queue *fq = fake_q(g, q);
	struct vring_used *used = fake_ptr(g, fq->used);
	uint16_t avail_event;

	if (!fq->event_idx)
		return fq->avail_idx != fq->kicked_idx &&
		       !(load16(&used->flags) & VRING_USED_F_NO_NOTIFY);
	memcpy(&avail_event, &used->ring[fq->size], sizeof(avail_event));
	return vring_need_event(le16toh(avail_event), fq->avail_idx,
				fq->kicked_idx);
}

void fake_kick(struct fake_guest *g, struct virtio_dev *vdev, unsigned int q)
{
	fake_q(g, q)->kicked_idx = g->q[q].avail_idx;
	pthread_mutex_lock(&vdev->lock);
	vdev->ops->notify(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

struct fake_kicker {
	struct fake_guest *g;
	struct virtio_dev *vdev;
	unsigned int q;
	void (*fn)(void *arg);
	void *arg;
	bool done;
};

static void *fake_kicker_run(void *arg)
{
	struct fake_kicker *k = arg;

	if (k->fn)
		k->fn(k->arg);
	else
		fake_kick(k->g, k->vdev, k->q);
	__atomic_store_n(&k->done, true, __ATOMIC_RELEASE);
	return NULL;
}

bool fake_kick_reposting(struct fake_guest *g, struct virtio_dev *vdev,
			 unsigned int q, uint16_t head, unsigned int timeout_ms)
{
	return fake_run_reposting(g, vdev, q, head, NULL, NULL, timeout_ms);
}

bool fake_run_reposting(struct fake_guest *g, struct virtio_dev *vdev,
			unsigned int q, uint16_t head, void (*fn)(void *arg),
			void *arg, unsigned int timeout_ms)
{
	struct fake_queue *fq = fake_q(g, q);
	struct vring_avail *avail = fake_ptr(g, fq->avail);
	const uint16_t *last = &vdev->vqs[q].last_avail;
	struct fake_kicker k = { g, vdev, q, fn, arg, false };
	uint64_t end = fake_now_ms() + timeout_ms;
	pthread_t t;
	bool yielded;

	for (unsigned int i = 0; i < fq->size; i++)
		avail->ring[i] = htole16(head);
	/* Every entry holds head: keeping the index a ring ahead of the
	 * device's is re-posting what it takes. */
	fq->avail_idx = __atomic_load_n(last, __ATOMIC_RELAXED) + fq->size;
	__atomic_store_n(&avail->idx, htole16(fq->avail_idx), __ATOMIC_RELEASE);
	ck_assert_int_eq(pthread_create(&t, NULL, fake_kicker_run, &k), 0);
	while (!__atomic_load_n(&k.done, __ATOMIC_ACQUIRE) && fake_now_ms() < end) {
		fq->avail_idx = __atomic_load_n(last, __ATOMIC_RELAXED) + fq->size;
		__atomic_store_n(&avail->idx, htole16(fq->avail_idx), __ATOMIC_RELEASE);
	}
	yielded = __atomic_load_n(&k.done, __ATOMIC_ACQUIRE);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	/* One last re-post: a ring's worth waits for the next turn. */
	fq->avail_idx = *last + fq->size;
	__atomic_store_n(&avail->idx, htole16(fq->avail_idx), __ATOMIC_RELEASE);
	fq->kicked_idx = fq->avail_idx;
	return yielded;
}

uint16_t fake_used_idx(struct fake_guest *g, unsigned int q)
{
	struct vring_used *used = fake_ptr(g, fake_q(g, q)->used);

	return load16(&used->idx);
}

bool fake_get_used(struct fake_guest *g, unsigned int q, uint32_t *id,
		   uint32_t *len)
{
	struct fake_queue *fq = fake_q(g, q);
	struct vring_used *used = fake_ptr(g, fq->used);
	struct vring_used_elem *e;

	if (load16(&used->idx) == fq->used_seen)
		return false;
	e = &used->ring[fq->used_seen % fq->size];
	*id = le32toh(e->id);
	*len = le32toh(e->len);
	fq->used_seen++;
	return true;
}

void fake_set_used_event(struct fake_guest *g, unsigned int q, uint16_t v)
{
	struct fake_queue *fq = fake_q(g, q);
	struct vring_avail *avail = fake_ptr(g, fq->avail);

	avail->ring[fq->size] = htole16(v);
}

void fake_set_avail_flags(struct fake_guest *g, unsigned int q, uint16_t v)
{
	struct vring_avail *avail = fake_ptr(g, fake_q(g, q)->avail);

	avail->flags = htole16(v);
}
