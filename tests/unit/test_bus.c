// SPDX-License-Identifier: GPL-2.0
/* Port-I/O / MMIO bus: registration rules and dispatch to the owner. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "lib/bus.h"

#define NR_DEVS		32

/* A device that records its last access and reads back its own id. */
struct dev {
	uint8_t id;
	unsigned int calls;
	uint64_t off;
	uint32_t len;
	bool is_write;
	uint8_t data[8];
};

static struct bus bus;
static struct dev devs[NR_DEVS];

static void dev_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		       bool is_write)
{
	struct dev *d = opaque;

	ck_assert_uint_le(len, sizeof(d->data));
	d->calls++;
	d->off = off;
	d->len = len;
	d->is_write = is_write;
	if (is_write)
		memcpy(d->data, data, len);
	else
		memset(data, d->id, len);
}

static void setup(void)
{
	memset(&bus, 0, sizeof(bus));
	memset(devs, 0, sizeof(devs));
	for (int i = 0; i < NR_DEVS; i++)
		devs[i].id = i + 1;
}

static void teardown(void)
{
	bus_exit(&bus);
}

static int reg(uint64_t base, uint64_t len, int dev)
{
	return bus_register(&bus, base, len, dev_access, &devs[dev]);
}

static unsigned int total_calls(void)
{
	unsigned int n = 0;

	for (int i = 0; i < NR_DEVS; i++)
		n += devs[i].calls;
	return n;
}

/* A read of len at addr must reach dev at off. */
static void expect_read(uint64_t addr, uint32_t len, int dev, uint64_t off)
{
	uint8_t data[8], want[8];
	unsigned int calls = devs[dev].calls;

	memset(want, devs[dev].id, sizeof(want));
	ck_assert(bus_dispatch(&bus, addr, data, len, false));
	ck_assert_uint_eq(devs[dev].calls, calls + 1);
	ck_assert_uint_eq(devs[dev].off, off);
	ck_assert_uint_eq(devs[dev].len, len);
	ck_assert(!devs[dev].is_write);
	ck_assert_mem_eq(data, want, len);
}

/* A read nobody claims: no handler runs and the guest sees all ones. */
static void expect_unclaimed(uint64_t addr, uint32_t len)
{
	uint8_t data[8], ones[8];
	unsigned int calls = total_calls();

	memset(data, 0x11, sizeof(data));
	memset(ones, 0xff, sizeof(ones));
	ck_assert(!bus_dispatch(&bus, addr, data, len, false));
	ck_assert_mem_eq(data, ones, len);
	ck_assert_uint_eq(total_calls(), calls);
}

START_TEST(test_empty)
{
	expect_unclaimed(0, 1);
	expect_unclaimed(0x3f8, 8);
	expect_unclaimed(UINT64_MAX, 1);
}
END_TEST

START_TEST(test_edges)
{
	ck_assert_int_eq(reg(0x100, 0x10, 0), 0);
	ck_assert_int_eq(reg(0x110, 0x10, 1), 0);	/* adjacent */
	ck_assert_int_eq(reg(0x200, 1, 2), 0);

	expect_unclaimed(0xff, 1);
	expect_read(0x100, 1, 0, 0);
	expect_read(0x10f, 1, 0, 0xf);
	expect_read(0x10c, 4, 0, 0xc);
	expect_read(0x108, 8, 0, 0x8);
	expect_read(0x110, 1, 1, 0);
	expect_read(0x11f, 1, 1, 0xf);
	expect_unclaimed(0x120, 1);
	expect_unclaimed(0x1ff, 1);
	expect_read(0x200, 1, 2, 0);
	expect_unclaimed(0x201, 1);
	/* Straddling a device's end, even into its neighbour: dropped. */
	expect_unclaimed(0x10d, 4);
	expect_unclaimed(0x10f, 2);
	expect_unclaimed(0x11e, 4);
	expect_unclaimed(0x200, 2);
	/* Straddling the start is an access below the device. */
	expect_unclaimed(0xfe, 4);
}
END_TEST

START_TEST(test_write)
{
	static const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	uint8_t data[8];

	ck_assert_int_eq(reg(0xd0000000, 0x1000, 3), 0);
	memcpy(data, bytes, sizeof(data));
	ck_assert(bus_dispatch(&bus, 0xd0000ff8, data, 8, true));
	ck_assert_uint_eq(devs[3].calls, 1);
	ck_assert_uint_eq(devs[3].off, 0xff8);
	ck_assert(devs[3].is_write);
	ck_assert_mem_eq(devs[3].data, bytes, 8);
	/* A write nobody claims leaves the guest's data alone. */
	ck_assert(!bus_dispatch(&bus, 0xd0001000, data, 4, true));
	ck_assert(!bus_dispatch(&bus, 0xd0000ffe, data, 4, true));
	ck_assert_mem_eq(data, bytes, 8);
	ck_assert_uint_eq(devs[3].calls, 1);
}
END_TEST

START_TEST(test_overlap)
{
	static const uint64_t bad[][2] = {
		{ 0x100, 0x100 },	/* same */
		{ 0x80, 0x81 },		/* over the start */
		{ 0x1ff, 0x101 },	/* over the end */
		{ 0x150, 0x10 },	/* inside */
		{ 0x100, 1 },		/* first byte */
		{ 0x1ff, 1 },		/* last byte */
		{ 0, 0x1000 },		/* around */
		{ 0, UINT64_MAX },	/* around everything */
		{ 0x2ff, 2 },		/* into the second device */
		{ 0x3ff, 0x200 },	/* out of the second into the third */
		{ 0x1f0, 0x400 },	/* over all of them */
	};

	ck_assert_int_eq(reg(0x100, 0x100, 0), 0);
	ck_assert_int_eq(reg(0x300, 0x100, 1), 0);
	ck_assert_int_eq(reg(0x500, 0x100, 2), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(reg(bad[i][0], bad[i][1], 3) == -EEXIST,
			      "[%#llx, +%#llx) was not rejected",
			      (unsigned long long)bad[i][0], (unsigned long long)bad[i][1]);
	ck_assert_uint_eq(bus.nr, 3);
	/* The gaps, exactly, are free. */
	ck_assert_int_eq(reg(0, 0x100, 3), 0);
	ck_assert_int_eq(reg(0x200, 0x100, 4), 0);
	ck_assert_int_eq(reg(0x600, 0x100, 5), 0);
	expect_read(0xff, 1, 3, 0xff);
	expect_read(0x200, 1, 4, 0);
	expect_read(0x2ff, 1, 4, 0xff);
	expect_read(0x300, 1, 1, 0);
	expect_read(0x600, 1, 5, 0);
	expect_unclaimed(0x400, 1);
}
END_TEST

START_TEST(test_bad_ranges)
{
	ck_assert_int_eq(reg(0x100, 0, 0), -EINVAL);
	ck_assert_int_eq(reg(UINT64_MAX, 2, 0), -EINVAL);
	ck_assert_int_eq(reg(UINT64_MAX - 0xf, 0x11, 0), -EINVAL);
	ck_assert_int_eq(reg(2, UINT64_MAX, 0), -EINVAL);
	ck_assert_uint_eq(bus.nr, 0);
	/* The very last byte is a valid one-byte range... */
	ck_assert_int_eq(reg(UINT64_MAX, 1, 0), 0);
	expect_read(UINT64_MAX, 1, 0, 0);
	/* ...and an access running past it is not its own. */
	expect_unclaimed(UINT64_MAX, 2);
	expect_unclaimed(UINT64_MAX - 1, 2);
}
END_TEST

/* Registered in a scrambled order, every device is still found. */
START_TEST(test_many)
{
	for (int i = 0; i < NR_DEVS; i++) {
		int d = (i * 7) % NR_DEVS;

		ck_assert_int_eq(reg(0x1000 + d * 0x100, 0x80, d), 0);
	}
	ck_assert_uint_eq(bus.nr, NR_DEVS);
	for (size_t i = 1; i < bus.nr; i++)
		ck_assert_uint_lt(bus.ranges[i - 1].base, bus.ranges[i].base);
	for (int d = 0; d < NR_DEVS; d++) {
		expect_read(0x1000 + d * 0x100, 1, d, 0);
		expect_read(0x1000 + d * 0x100 + 0x7c, 4, d, 0x7c);
		expect_unclaimed(0x1000 + d * 0x100 + 0x80, 1);
		ck_assert_int_eq(reg(0x1000 + d * 0x100 + 0x7f, 2, 0), -EEXIST);
	}
	expect_unclaimed(0xfff, 1);
}
END_TEST

/*
 * KNOWN BUG (lib/bus.c:17 and :19, bus_register): the overlap checks
 * compute base + len, which is 0 for a range that ends at 2^64, so such
 * a range is never seen to overlap anything. Both calls below return 0
 * instead of -EEXIST, leaving two devices on the same addresses.
 */
START_TEST(test_bug_overlap_at_top)
{
	ck_assert_int_eq(reg(UINT64_MAX - 0xf, 0x10, 0), 0);
	ck_assert_int_eq(reg(UINT64_MAX - 7, 4, 1), -EEXIST);
	bus_exit(&bus);

	ck_assert_int_eq(reg(UINT64_MAX - 7, 4, 1), 0);
	ck_assert_int_eq(reg(UINT64_MAX - 0xf, 0x10, 0), -EEXIST);
}
END_TEST

static Suite *bus_suite(void)
{
	Suite *suite = suite_create("bus");
	TCase *tc = tcase_create("dispatch");
	TCase *bugs = tcase_create("known_bugs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_bad_ranges);
	tcase_add_test(tc, test_many);
	suite_add_tcase(suite, tc);
	tcase_add_checked_fixture(bugs, setup, teardown);
	tcase_add_test(bugs, test_bug_overlap_at_top);
	suite_add_tcase(suite, bugs);
	return suite;
}

UNIT_SUITE(bus_suite)
