// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of a virtio device, the core's part (virtio/virtio_state.c)
 * and the mmio transport's: a driver sets a device up and posts chains,
 * the state goes into a blob and into a fresh device, and the driver
 * carries on with that one. Blobs cut short or forged are refused and
 * leave the device reset. virtio-rng is the device: it has no state of
 * its own, so what is tested is the core's.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "fake_virtq.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"
#include "virtio/mmio.h"

#define QSIZE		8
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)

/* Offsets in the core's blob (docs/snapshot-devices.md). */
#define OFF_STATUS	4
#define OFF_FEATURES	14
#define OFF_ISR		22
#define OFF_Q0		34
#define OFF_Q0_SIZE	(OFF_Q0 + 1)
#define OFF_Q0_DESC	(OFF_Q0 + 5)
#define OFF_Q0_LAST	(OFF_Q0 + 29)

static struct fake_guest g;
static struct virtio_dev *rng, *rng2;
static struct sbuf blob;

static void setup(void)
{
	fake_guest_init(&g);
	rng = virtio_rng_new(&g.mem);
	ck_assert_ptr_nonnull(rng);
	fake_attach(&g, rng);
	rng2 = virtio_rng_new(&g.mem);
	ck_assert_ptr_nonnull(rng2);
	fake_attach(&g, rng2);
	memset(&blob, 0, sizeof(blob));
}

static void teardown(void)
{
	virtio_dev_exit(rng);
	free(rng);
	virtio_dev_exit(rng2);
	free(rng2);
	sbuf_free(&blob);
	fake_guest_exit(&g);
}

static int save(struct virtio_dev *vdev)
{
	int err;

	sbuf_free(&blob);
	pthread_mutex_lock(&vdev->lock);
	virtio_dev_quiesce(vdev);
	err = virtio_dev_save(vdev, &blob);
	pthread_mutex_unlock(&vdev->lock);
	return err;
}

/* The whole blob, or its first len bytes, into vdev. */
static int load_n(struct virtio_dev *vdev, const void *p, size_t len)
{
	struct sbuf_rd r;
	int err;

	sbuf_rd_init(&r, p, len);
	pthread_mutex_lock(&vdev->lock);
	err = virtio_dev_load(vdev, &r);
	pthread_mutex_unlock(&vdev->lock);
	if (!err && !sbuf_rd_done(&r))
		err = -EMSGSIZE;
	return err;
}

static void expect_used(uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert(fake_get_used(&g, 0, &id, &l));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

static uint16_t add_buf(uint32_t len)
{
	struct fake_seg s = { fake_alloc_guarded(&g, len), len, true };

	return fake_add_chain(&g, 0, &s, 1);
}

static void expect_reset(struct virtio_dev *vdev)
{
	ck_assert_uint_eq(vdev->status, 0);
	ck_assert(!vdev->active);
	ck_assert_uint_eq(vdev->features, 0);
	ck_assert(!vdev->vqs[0].ready);
}

/* A driver that used one chain and posted two more, without a kick the
 * device has seen: the state saved then. */
static void busy_saved(uint16_t *heads)
{
	fake_driver_start(&g, rng, F_EVENT_IDX, QSIZE);
	heads[0] = add_buf(16);
	fake_kick(&g, rng, 0);
	expect_used(heads[0], 16);
	heads[1] = add_buf(32);
	heads[2] = add_buf(48);
	ck_assert_int_eq(save(rng), 0);
}

START_TEST(test_state_round_trip)
{
	unsigned int irqs, requeues = g.requeues[0];
	uint16_t heads[3];

	busy_saved(heads);
	/* The driver wants an interrupt for the next used entry. */
	fake_set_used_event(&g, 0, 1);
	ck_assert_int_eq(load_n(rng2, blob.data, blob.len), 0);
	ck_assert(rng2->active);
	ck_assert_uint_eq(rng2->status, rng->status);
	ck_assert_uint_eq(rng2->features, rng->features);
	ck_assert_uint_eq(rng2->vqs[0].size, QSIZE);
	/* The buffers already posted are served without a new kick. */
	ck_assert_uint_eq(g.requeues[0], requeues + 1);
	irqs = g.interrupts;
	fake_kick(&g, rng2, 0);
	expect_used(heads[1], 32);
	expect_used(heads[2], 48);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 3);
	ck_assert_uint_eq(g.interrupts, irqs + 1);
	/* EVENT_IDX goes on: no interrupt before used_event is passed. */
	fake_set_used_event(&g, 0, 10);
	add_buf(8);
	fake_kick(&g, rng2, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 4);
	ck_assert_uint_eq(g.interrupts, irqs + 1);
}
END_TEST

/* A pending interrupt status is raised again: its edge may have been
 * lost with the old process. */
START_TEST(test_state_isr_raised)
{
	uint16_t heads[3];

	busy_saved(heads);
	blob.data[OFF_ISR] = VIRTIO_ISR_USED;
	g.interrupts = 0;
	ck_assert_int_eq(load_n(rng2, blob.data, blob.len), 0);
	ck_assert_uint_eq(g.interrupts, 1);
	ck_assert_uint_eq(rng2->isr, VIRTIO_ISR_USED);
}
END_TEST

START_TEST(test_state_truncated)
{
	uint16_t heads[3];

	busy_saved(heads);
	for (size_t n = 0; n < blob.len; n++) {
		ck_assert_int_eq(load_n(rng2, blob.data, n), -EINVAL);
		expect_reset(rng2);
	}
	ck_assert_int_eq(load_n(rng2, blob.data, blob.len), 0);
}
END_TEST

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

START_TEST(test_state_forged)
{
	static const struct { unsigned int off, len; uint64_t v; } bad[] = {
		{ 0, 4, 2 },				/* layout version */
		{ OFF_STATUS, 1, 0x07 },		/* DRIVER_OK, no FEATURES_OK */
		{ OFF_STATUS, 1, 0x0d },		/* a step skipped */
		{ OFF_STATUS, 1, 0x4f },		/* NEEDS_RESET is the device's */
		{ OFF_STATUS + 1, 1, 0x04 },		/* unknown flag */
		{ OFF_STATUS + 1, 1, 0x01 },		/* legacy on a modern one */
		{ OFF_STATUS + 2, 8, 0x0ffffffff },	/* other offered features */
		{ OFF_FEATURES, 8, 1ULL << 40 },	/* a feature not offered */
		{ OFF_FEATURES, 8, F_EVENT_IDX },	/* no VERSION_1 */
		{ OFF_ISR, 4, 4 },
		{ OFF_ISR + 8, 4, 2 },			/* queue count */
		{ OFF_Q0, 1, 0x04 },			/* unknown queue flag */
		{ OFF_Q0, 1, 0x03 },			/* broken, device not */
		{ OFF_Q0_SIZE, 4, 3 },
		{ OFF_Q0_SIZE, 4, 512 },		/* above queue_max */
		{ OFF_Q0_SIZE, 4, 0 },
		{ OFF_Q0_DESC, 8, 0x1000 },		/* outside RAM */
		{ OFF_Q0_DESC, 8, FAKE_RAM_GPA + 8 },	/* misaligned */
		{ OFF_Q0_DESC, 8, FAKE_RAM_GPA + FAKE_RAM_SIZE - 16 },
		{ OFF_Q0_LAST, 2, 7 },			/* chains in flight */
	};
	uint16_t heads[3];
	uint8_t *copy;

	busy_saved(heads);
	copy = malloc(blob.len + 1);
	ck_assert_ptr_nonnull(copy);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(copy, blob.data, blob.len);
		put_le(copy + bad[i].off, bad[i].v, bad[i].len);
		ck_assert_msg(load_n(rng2, copy, blob.len) == -EINVAL,
			      "forgery %zu accepted", i);
		expect_reset(rng2);
	}
	/* A queue ready before FEATURES_OK. */
	memcpy(copy, blob.data, blob.len);
	copy[OFF_STATUS] = 0x03;
	put_le(copy + OFF_FEATURES, 0, 8);
	ck_assert_int_eq(load_n(rng2, copy, blob.len), -EINVAL);
	/* The original still loads. */
	ck_assert_int_eq(load_n(rng2, blob.data, blob.len), 0);
	free(copy);
}
END_TEST

/* A chain popped and not used is in flight: no save until quiesced. */
START_TEST(test_state_busy_refused)
{
	struct virtq_chain *c = malloc(sizeof(*c));

	ck_assert_ptr_nonnull(c);
	fake_driver_start(&g, rng, 0, QSIZE);
	add_buf(16);
	pthread_mutex_lock(&rng->lock);
	ck_assert_int_eq(virtio_pop(rng, 0, c), 1);
	ck_assert_int_eq(virtio_dev_save(rng, &blob), -EBUSY);
	pthread_mutex_unlock(&rng->lock);
	free(c);
}
END_TEST

/* A device the driver has not started, and one it broke, load as such. */
START_TEST(test_state_idle_and_broken)
{
	uint16_t heads[3];

	ck_assert_int_eq(save(rng), 0);
	ck_assert_int_eq(load_n(rng2, blob.data, blob.len), 0);
	expect_reset(rng2);

	busy_saved(heads);
	fake_add_head(&g, 0, 100);		/* a head out of the table */
	fake_kick(&g, rng, 0);
	ck_assert(rng->broken);
	ck_assert_int_eq(save(rng), 0);
	ck_assert_int_eq(load_n(rng2, blob.data, blob.len), 0);
	ck_assert(rng2->broken);
	ck_assert(!rng2->active);
	ck_assert(virtq_is_broken(&rng2->vqs[0]));
}
END_TEST

/* ---- the mmio transport ---- */

static void mmio_wr(struct virtio_mmio *m, uint64_t off, uint32_t v)
{
	uint32_t le = htole32(v);

	virtio_mmio_access(m, off, (uint8_t *)&le, 4, true);
}

static uint32_t mmio_rd(struct virtio_mmio *m, uint64_t off)
{
	uint32_t le = 0;

	virtio_mmio_access(m, off, (uint8_t *)&le, 4, false);
	return le32toh(le);
}

/* A modern driver through the registers, as Linux's virtio_mmio does. */
static void mmio_start(struct virtio_mmio *m)
{
	uint64_t desc = fake_alloc(&g, 16 * QSIZE, 4096);
	uint64_t avail = fake_alloc(&g, 6 + 2 * QSIZE, 4096);
	uint64_t used = fake_alloc(&g, 6 + 8 * QSIZE, 4096);

	mmio_wr(m, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(m, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(m, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	mmio_wr(m, VIRTIO_MMIO_STATUS, 0xb);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc >> 32);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_AVAIL_LOW, avail);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, avail >> 32);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_USED_LOW, used);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_USED_HIGH, used >> 32);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_wr(m, VIRTIO_MMIO_STATUS, 0xf);
	/* Selectors left where a driver might leave them. */
	mmio_wr(m, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	mmio_wr(m, VIRTIO_MMIO_QUEUE_SEL, 5);
}

START_TEST(test_state_mmio)
{
	struct virtio_dev *a = virtio_rng_new(&g.mem), *b = virtio_rng_new(&g.mem);
	struct virtio_mmio *ma, *mb;

	ck_assert(a && b);
	ma = virtio_mmio_new(a, 0x1000, 5, false);
	mb = virtio_mmio_new(b, 0x2000, 6, false);
	ck_assert(ma && mb);
	mmio_start(ma);
	ck_assert(a->active);
	ck_assert_int_eq(virtio_mmio_save(ma, &blob), 0);

	/* Every cut is refused; the transport and device stay reset. */
	for (size_t n = 0; n < blob.len; n++) {
		ck_assert_int_eq(virtio_mmio_load(mb, blob.data, n), -EINVAL);
		ck_assert_uint_eq(mmio_rd(mb, VIRTIO_MMIO_STATUS), 0);
	}
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), 0);
	ck_assert(b->active);
	ck_assert_uint_eq(mmio_rd(mb, VIRTIO_MMIO_STATUS), 0xf);
	ck_assert_uint_eq(mmio_rd(mb, VIRTIO_MMIO_DEVICE_FEATURES), 0x1);
	mmio_wr(mb, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(mmio_rd(mb, VIRTIO_MMIO_QUEUE_READY), 1);

	/* A legacy QueuePFN on a modern transport, and a byte too many. */
	blob.data[24] = 1;
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), -EINVAL);
	blob.data[24] = 0;
	sbuf_put_u8(&blob, 0);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), -EINVAL);
	ck_assert(!b->active);

	virtio_mmio_free(ma);
	virtio_mmio_free(mb);
	virtio_dev_exit(a);
	virtio_dev_exit(b);
	free(a);
	free(b);
}
END_TEST

/* Legacy: QueuePFN reads back what the driver wrote. */
START_TEST(test_state_mmio_legacy)
{
	struct virtio_dev *a = virtio_rng_new(&g.mem), *b = virtio_rng_new(&g.mem);
	struct virtio_mmio *ma, *mb;
	uint64_t ring = fake_alloc(&g, 3 * 4096, 4096);

	ck_assert(a && b);
	ma = virtio_mmio_new(a, 0x1000, 5, true);
	mb = virtio_mmio_new(b, 0x2000, 6, true);
	ck_assert(ma && mb);
	mmio_wr(ma, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
	mmio_wr(ma, VIRTIO_MMIO_STATUS, 1);
	mmio_wr(ma, VIRTIO_MMIO_STATUS, 3);
	mmio_wr(ma, VIRTIO_MMIO_QUEUE_SEL, 0);
	mmio_wr(ma, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	mmio_wr(ma, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
	mmio_wr(ma, VIRTIO_MMIO_QUEUE_PFN, ring / 4096);
	mmio_wr(ma, VIRTIO_MMIO_STATUS, 7);
	ck_assert(a->active);
	ck_assert_int_eq(virtio_mmio_save(ma, &blob), 0);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), 0);
	ck_assert(b->active);
	ck_assert_uint_eq(mmio_rd(mb, VIRTIO_MMIO_QUEUE_PFN), ring / 4096);
	ck_assert_uint_eq(b->vqs[0].used_gpa, a->vqs[0].used_gpa);
	/* A PFN of 0 for a ready queue, one that does not say where the
	 * rings are, and a page size that puts them elsewhere. */
	memset(blob.data + 24, 0, 4);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), -EINVAL);
	memcpy(blob.data + 24, &(uint32_t){ htole32(ring / 4096 + 1) }, 4);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), -EINVAL);
	memcpy(blob.data + 24, &(uint32_t){ htole32(ring / 4096) }, 4);
	memcpy(blob.data + 16, &(uint32_t){ htole32(8192) }, 4);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), -EINVAL);
	memcpy(blob.data + 16, &(uint32_t){ htole32(4096) }, 4);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), 0);
	/* Loading a legacy blob into a modern transport. */
	virtio_mmio_free(mb);
	virtio_dev_exit(b);
	free(b);
	b = virtio_rng_new(&g.mem);
	mb = virtio_mmio_new(b, 0x2000, 6, false);
	ck_assert_int_eq(virtio_mmio_load(mb, blob.data, blob.len), -EINVAL);

	virtio_mmio_free(ma);
	virtio_mmio_free(mb);
	virtio_dev_exit(a);
	virtio_dev_exit(b);
	free(a);
	free(b);
}
END_TEST

static Suite *virtio_state_suite(void)
{
	Suite *suite = suite_create("virtio_state");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_state_isr_raised);
	tcase_add_test(tc, test_state_truncated);
	tcase_add_test(tc, test_state_forged);
	tcase_add_test(tc, test_state_busy_refused);
	tcase_add_test(tc, test_state_idle_and_broken);
	tcase_add_test(tc, test_state_mmio);
	tcase_add_test(tc, test_state_mmio_legacy);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(virtio_state_suite)
