// SPDX-License-Identifier: GPL-2.0
/* Interrupt coalescing: which interrupts wait, and until when. */
#include "unit.h"
#include "virtio/coalesce.h"

#define US	COALESCE_NSEC_PER_USEC
#define T0	(1000000 * US)	/* any monotonic time after boot */

static struct coalesce c;

static void setup(void)
{
	coalesce_reset(&c);
}

static void teardown(void)
{
}

/* n requests gap_us apart from t, then, half a gap after the last, their
 * completion, whose interrupt must go at once; returns when the next
 * request is due at the same pace. */
static uint64_t batch_at_once(uint64_t t, unsigned int n, unsigned int gap_us)
{
	for (unsigned int i = 0; i < n; i++, t += gap_us * US)
		coalesce_request(&c, t);
	ck_assert(!coalesce_hold(&c, t - gap_us * US / 2));
	ck_assert(!coalesce_held(&c));
	return t;
}

/* One request at a time: each interrupt goes at once, whatever the pace. */
START_TEST(test_one_in_flight)
{
	uint64_t t = T0;

	for (unsigned int i = 0; i < 100; i++)
		t = batch_at_once(t, 1, i % 7 * 10 + 1);
	ck_assert_uint_eq(c.batch, COALESCE_ONE);
}
END_TEST

/* Two interrupts' worth of n requests gap_us apart make the driver busy;
 * then one more request, whose completion just after it waits. Returns
 * when the last interrupt went. */
static uint64_t held_when_busy(unsigned int n, unsigned int gap_us)
{
	uint64_t t = batch_at_once(batch_at_once(T0, n, gap_us), n, gap_us);

	ck_assert_uint_ge(c.batch, COALESCE_BUSY);
	ck_assert_uint_eq(c.gap, gap_us * US);
	coalesce_request(&c, t);
	ck_assert(coalesce_hold(&c, t + 1));
	ck_assert(coalesce_held(&c));
	return t - gap_us * US / 2;
}

/* A driver that keeps sending more than a request per interrupt: even
 * the first completion after an interrupt waits, until HOLD_GAPS gaps
 * after that interrupt. */
START_TEST(test_busy_driver_waits)
{
	uint64_t irq = held_when_busy(3, 100);

	ck_assert_uint_eq(coalesce_deadline(&c), irq + COALESCE_HOLD_GAPS * 100 * US);
	/* Later completions join it until then. */
	ck_assert(coalesce_hold(&c, irq + COALESCE_HOLD_GAPS * 100 * US - 1));
	ck_assert(!coalesce_hold(&c, irq + COALESCE_HOLD_GAPS * 100 * US));
	ck_assert(!coalesce_held(&c));
}
END_TEST

/* Back to one request at a time: held for a few interrupts, then not. */
START_TEST(test_busy_then_one)
{
	uint64_t t = T0;
	unsigned int held = 0;

	for (unsigned int i = 0; i < 10; i++)
		t = batch_at_once(t, 8, 10);
	for (unsigned int i = 0; i < 100; i++, t += 1000 * US) {
		coalesce_request(&c, t);
		if (coalesce_hold(&c, t + 10 * US)) {
			held++;
			ck_assert(!coalesce_hold(&c, coalesce_deadline(&c)));
		}
	}
	ck_assert_uint_gt(held, 0);
	ck_assert_uint_lt(held, 16);
	ck_assert_uint_lt(c.batch, COALESCE_BUSY);
}
END_TEST

/* However slow the driver's pace, an interrupt waits at most HOLD_MAX,
 * and an idle driver's pause counts as at most GAP_MAX. */
START_TEST(test_hold_max)
{
	uint64_t irq = held_when_busy(4, 900);

	ck_assert_uint_ge(COALESCE_HOLD_GAPS * c.gap, COALESCE_HOLD_MAX);
	ck_assert_uint_eq(coalesce_deadline(&c), irq + COALESCE_HOLD_MAX);
	coalesce_request(&c, irq + 3600000000ULL * US);
	ck_assert_uint_eq(c.gap, 900 * US - 900 * US / 8 + COALESCE_GAP_MAX / 8);
}
END_TEST

/* Requests at the same instant (or a clock that went back) teach no
 * pace; without one, or before any interrupt, nothing waits. */
START_TEST(test_no_pace)
{
	coalesce_request(&c, T0);
	coalesce_request(&c, T0);
	coalesce_request(&c, T0 - 1);
	ck_assert_uint_eq(c.gap, 0);
	ck_assert(!coalesce_hold(&c, T0 + US));
	coalesce_request(&c, T0 + 2 * US);
	coalesce_request(&c, T0 + 2 * US);
	coalesce_request(&c, T0 + 2 * US);
	ck_assert(!coalesce_hold(&c, T0 + 3 * US));
	coalesce_reset(&c);
	ck_assert_uint_eq(c.batch, 0);
	ck_assert(!coalesce_held(&c));
}
END_TEST

static Suite *coalesce_suite(void)
{
	Suite *suite = suite_create("coalesce");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_one_in_flight);
	tcase_add_test(tc, test_busy_driver_waits);
	tcase_add_test(tc, test_busy_then_one);
	tcase_add_test(tc, test_hold_max);
	tcase_add_test(tc, test_no_pace);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(coalesce_suite)
