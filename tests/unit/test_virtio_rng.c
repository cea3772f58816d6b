// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng through its ops, with the fake guest of fake_virtq.c as the
 * driver and the transport.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "fake_virtq.h"
#include "virtio/devices.h"

#define QSIZE		8
#define F_INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)

static struct fake_guest g;
static struct virtio_dev *rng;

static void setup(void)
{
	fake_guest_init(&g);
	rng = virtio_rng_new(&g.mem);
	ck_assert_ptr_nonnull(rng);
	fake_attach(&g, rng);
}

static void teardown(void)
{
	virtio_dev_exit(rng);
	free(rng);
	fake_guest_exit(&g);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static bool all_byte(const uint8_t *p, size_t len, uint8_t b)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != b)
			return false;
	return true;
}

static void expect_used(uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert(fake_get_used(&g, 0, &id, &l));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

static void expect_no_more_used(void)
{
	uint32_t id, l;

	ck_assert(!fake_get_used(&g, 0, &id, &l));
}

START_TEST(test_rng_identity)
{
	ck_assert_uint_eq(rng->ops->device_id, VIRTIO_ID_RNG);
	ck_assert_uint_eq(rng->ops->nr_queues, 1);
	ck_assert_uint_eq(rng->ops->queue_max, 256);
	ck_assert_uint_eq(rng->ops->config_size, 0);
	ck_assert_uint_eq(rng->ops->features, 0);
	ck_assert_ptr_nonnull(rng->priv);
}
END_TEST

START_TEST(test_rng_one_segment)
{
	uint64_t buf = fake_alloc_guarded(&g, 64);
	struct fake_seg s = { buf, 64, true };
	uint16_t head;

	fake_driver_start(&g, rng, 0, QSIZE);
	head = fake_add_chain(&g, 0, &s, 1);
	fake_kick(&g, rng, 0);
	expect_used(head, 64);
	expect_no_more_used();
	fake_check_guards(&g, buf, 64);
	ck_assert(!all_zero(fake_ptr(&g, buf), 64));
	ck_assert_uint_eq(g.interrupts, 1);
}
END_TEST

START_TEST(test_rng_three_segments)
{
	static const uint32_t lens[] = { 1, 100, 4096 };
	struct fake_seg s[3];
	uint16_t head;

	for (unsigned int i = 0; i < 3; i++)
		s[i] = (struct fake_seg){ fake_alloc_guarded(&g, lens[i]),
					  lens[i], true };
	fake_driver_start(&g, rng, 0, QSIZE);
	head = fake_add_chain(&g, 0, s, 3);
	fake_kick(&g, rng, 0);
	expect_used(head, 1 + 100 + 4096);
	for (unsigned int i = 0; i < 3; i++)
		fake_check_guards(&g, s[i].gpa, s[i].len);
	ck_assert(!all_zero(fake_ptr(&g, s[1].gpa), 100));
	ck_assert(!all_zero(fake_ptr(&g, s[2].gpa), 4096));
}
END_TEST

START_TEST(test_rng_indirect)
{
	struct fake_seg s[2] = {
		{ fake_alloc_guarded(&g, 48), 48, true },
		{ fake_alloc_guarded(&g, 80), 80, true },
	};
	uint16_t head;

	fake_driver_start(&g, rng, F_INDIRECT, QSIZE);
	head = fake_add_indirect(&g, 0, s, 2);
	fake_kick(&g, rng, 0);
	expect_used(head, 128);
	fake_check_guards(&g, s[0].gpa, 48);
	fake_check_guards(&g, s[1].gpa, 80);
	ck_assert(!all_zero(fake_ptr(&g, s[0].gpa), 48));
	ck_assert(!all_zero(fake_ptr(&g, s[1].gpa), 80));
}
END_TEST

/* Readable buffers (which the driver must not post) are never written. */
START_TEST(test_rng_readable_only)
{
	uint64_t buf = fake_alloc_guarded(&g, 32);
	struct fake_seg r = { buf, 32, false };
	struct fake_seg empty = { 0, 0, true };
	uint16_t h1, h2;

	memset(fake_ptr(&g, buf), 0x5a, 32);
	fake_driver_start(&g, rng, 0, QSIZE);
	h1 = fake_add_chain(&g, 0, &r, 1);
	h2 = fake_add_chain(&g, 0, &empty, 1);
	fake_kick(&g, rng, 0);
	expect_used(h1, 0);
	expect_used(h2, 0);
	ck_assert(all_byte(fake_ptr(&g, buf), 32, 0x5a));
	fake_check_guards(&g, buf, 32);
	ck_assert(!rng->broken);
}
END_TEST

START_TEST(test_rng_readable_then_writable)
{
	struct fake_seg s[2] = {
		{ fake_alloc_guarded(&g, 16), 16, false },
		{ fake_alloc_guarded(&g, 32), 32, true },
	};
	uint16_t head;

	memset(fake_ptr(&g, s[0].gpa), 0x5a, 16);
	fake_driver_start(&g, rng, 0, QSIZE);
	head = fake_add_chain(&g, 0, s, 2);
	fake_kick(&g, rng, 0);
	expect_used(head, 32);
	ck_assert(all_byte(fake_ptr(&g, s[0].gpa), 16, 0x5a));
	ck_assert(!all_zero(fake_ptr(&g, s[1].gpa), 32));
	fake_check_guards(&g, s[1].gpa, 32);
}
END_TEST

/* 1 MiB asked, VIRTIO_RNG_MAX_REQUEST given; nothing past it written. */
START_TEST(test_rng_cap)
{
	uint32_t len = 1 << 20;
	uint64_t buf = fake_alloc_guarded(&g, len);
	struct fake_seg s = { buf, len, true };
	uint8_t *p = fake_ptr(&g, buf);
	uint16_t head;

	ck_assert_uint_eq(VIRTIO_RNG_MAX_REQUEST, 64 * 1024);
	memset(p, 0x5a, len);
	fake_driver_start(&g, rng, 0, QSIZE);
	head = fake_add_chain(&g, 0, &s, 1);
	fake_kick(&g, rng, 0);
	expect_used(head, VIRTIO_RNG_MAX_REQUEST);
	ck_assert(!all_byte(p + VIRTIO_RNG_MAX_REQUEST - 64, 64, 0x5a));
	ck_assert(all_byte(p + VIRTIO_RNG_MAX_REQUEST,
			   len - VIRTIO_RNG_MAX_REQUEST, 0x5a));
	fake_check_guards(&g, buf, len);
}
END_TEST

/* The cap falls inside the second segment. */
START_TEST(test_rng_cap_mid_segment)
{
	uint32_t len = 60 * 1024, rest = VIRTIO_RNG_MAX_REQUEST - len;
	struct fake_seg s[2] = {
		{ fake_alloc_guarded(&g, len), len, true },
		{ fake_alloc_guarded(&g, len), len, true },
	};
	uint8_t *p2 = fake_ptr(&g, s[1].gpa);
	uint16_t head;

	memset(p2, 0x5a, len);
	fake_driver_start(&g, rng, 0, QSIZE);
	head = fake_add_chain(&g, 0, s, 2);
	fake_kick(&g, rng, 0);
	expect_used(head, VIRTIO_RNG_MAX_REQUEST);
	ck_assert(!all_byte(p2 + rest - 64, 64, 0x5a));
	ck_assert(all_byte(p2 + rest, len - rest, 0x5a));
}
END_TEST

/* Several requests in one kick: one publication, one interrupt. */
START_TEST(test_rng_batch)
{
	uint16_t heads[3];

	fake_driver_start(&g, rng, 0, QSIZE);
	for (unsigned int i = 0; i < 3; i++) {
		struct fake_seg s = { fake_alloc(&g, 16, 16), 16, true };

		heads[i] = fake_add_chain(&g, 0, &s, 1);
	}
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 3);
	for (unsigned int i = 0; i < 3; i++)
		expect_used(heads[i], 16);
	ck_assert_uint_eq(g.interrupts, 1);
	ck_assert_uint_eq(g.isr, VIRTIO_ISR_USED);

	/* A kick with nothing new neither writes nor interrupts. */
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 3);
	ck_assert_uint_eq(g.interrupts, 1);
}
END_TEST

START_TEST(test_rng_no_interrupt_flag)
{
	struct fake_seg s = { fake_alloc(&g, 16, 16), 16, true };

	fake_driver_start(&g, rng, 0, QSIZE);
	fake_set_avail_flags(&g, 0, VRING_AVAIL_F_NO_INTERRUPT);
	fake_add_chain(&g, 0, &s, 1);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 1);
	ck_assert_uint_eq(g.interrupts, 0);
	fake_set_avail_flags(&g, 0, 0);
	fake_add_chain(&g, 0, &s, 1);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(g.interrupts, 1);
}
END_TEST

static void post(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct fake_seg s = { fake_alloc(&g, 16, 16), 16, true };

		fake_add_chain(&g, 0, &s, 1);
	}
}

START_TEST(test_rng_event_idx)
{
	fake_driver_start(&g, rng, F_EVENT_IDX, QSIZE);
	/* used_event 0: interrupt once entry 0 is used. */
	fake_set_used_event(&g, 0, 0);
	post(3);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 3);
	ck_assert_uint_eq(g.interrupts, 1);

	/* used_event 5: entry 3 does not interest the driver ... */
	fake_set_used_event(&g, 0, 5);
	post(1);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 4);
	ck_assert_uint_eq(g.interrupts, 1);

	/* ... entries 4 and 5 in one batch include 5. */
	post(2);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 6);
	ck_assert_uint_eq(g.interrupts, 2);

	/* The avail ring flags mean nothing with EVENT_IDX. */
	fake_set_avail_flags(&g, 0, VRING_AVAIL_F_NO_INTERRUPT);
	fake_set_used_event(&g, 0, 6);
	post(1);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(g.interrupts, 3);
}
END_TEST

/* After a kick the device re-arms kicks at its position in the ring. */
START_TEST(test_rng_event_idx_rearms_kicks)
{
	fake_driver_start(&g, rng, F_EVENT_IDX, QSIZE);
	post(2);
	ck_assert(fake_kick_wanted(&g, 0));
	fake_kick(&g, rng, 0);
	post(1);
	ck_assert(fake_kick_wanted(&g, 0));
}
END_TEST

START_TEST(test_rng_broken_head)
{
	struct fake_seg s = { fake_alloc(&g, 16, 16), 16, true };

	fake_driver_start(&g, rng, 0, QSIZE);
	fake_add_chain(&g, 0, &s, 1);
	fake_add_head(&g, 0, QSIZE);	/* not in the table */
	fake_kick(&g, rng, 0);
	ck_assert(rng->broken);
	ck_assert(!rng->active);
	/* The good request before it is not answered either. */
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);
	ck_assert_uint_eq(g.interrupts, 1);
	ck_assert_uint_eq(g.isr, VIRTIO_ISR_CONFIG);

	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);
	ck_assert_uint_eq(g.interrupts, 1);

	/* A reset and a new start bring it back. */
	ck_assert(fake_set_status(rng, 0));
	ck_assert(!rng->broken);
	fake_driver_start(&g, rng, 0, QSIZE);
	post(1);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 1);
}
END_TEST

START_TEST(test_rng_loop_breaks)
{
	struct fake_seg s[2] = {
		{ fake_alloc(&g, 16, 16), 16, true },
		{ fake_alloc(&g, 16, 16), 16, true },
	};
	struct vring_desc *d;
	uint16_t head;

	fake_driver_start(&g, rng, 0, QSIZE);
	head = fake_add_chain(&g, 0, s, 2);
	d = fake_ptr(&g, g.q[0].desc);
	d[head + 1].flags |= htole16(VRING_DESC_F_NEXT);
	d[head + 1].next = htole16(head);
	fake_kick(&g, rng, 0);
	ck_assert(rng->broken);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);
}
END_TEST

/* Kicks reach a device that is not running only through a bad transport;
 * they must still leave the rings alone. */
START_TEST(test_rng_not_active)
{
	struct fake_seg s = { fake_alloc(&g, 16, 16), 16, true };

	fake_driver_start(&g, rng, 0, QSIZE);
	fake_add_chain(&g, 0, &s, 1);
	/* A kick for a queue that does not exist is ignored. */
	pthread_mutex_lock(&rng->lock);
	rng->ops->notify(rng, 1);
	pthread_mutex_unlock(&rng->lock);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);

	ck_assert(fake_set_status(rng, rng->status | VIRTIO_CONFIG_S_FAILED));
	ck_assert(!rng->active);
	fake_kick(&g, rng, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);
	ck_assert(all_zero(fake_ptr(&g, s.gpa), 16));
	ck_assert_uint_eq(g.interrupts, 0);
}
END_TEST

static Suite *virtio_rng_suite(void)
{
	Suite *s = suite_create("virtio_rng");
	TCase *tc = tcase_create("rng");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_rng_identity);
	tcase_add_test(tc, test_rng_one_segment);
	tcase_add_test(tc, test_rng_three_segments);
	tcase_add_test(tc, test_rng_indirect);
	tcase_add_test(tc, test_rng_readable_only);
	tcase_add_test(tc, test_rng_readable_then_writable);
	tcase_add_test(tc, test_rng_cap);
	tcase_add_test(tc, test_rng_cap_mid_segment);
	tcase_add_test(tc, test_rng_batch);
	tcase_add_test(tc, test_rng_no_interrupt_flag);
	tcase_add_test(tc, test_rng_event_idx);
	tcase_add_test(tc, test_rng_event_idx_rearms_kicks);
	tcase_add_test(tc, test_rng_broken_head);
	tcase_add_test(tc, test_rng_loop_breaks);
	tcase_add_test(tc, test_rng_not_active);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(virtio_rng_suite)
