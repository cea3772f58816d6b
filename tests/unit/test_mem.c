// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory lookups, on a scaled-down PC layout: low RAM up to the
 * "hole", then high RAM from "4G" on, both backed by one host buffer as
 * gmem_init()'s callers do.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lib/mem.h"

#define LOW_GPA		0x0ULL
#define LOW_SIZE	0x3000ULL	/* "3 GiB" */
#define HIGH_GPA	0x4000ULL	/* "4 GiB" */
#define HIGH_SIZE	0x2000ULL
#define HIGH_END	(HIGH_GPA + HIGH_SIZE)

static struct guest_mem mem;
static uint8_t *ram;

static void setup(void)
{
	memset(&mem, 0, sizeof(mem));
	/* Exactly the regions' size, so ASan catches any stray pointer. */
	ram = malloc(LOW_SIZE + HIGH_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, LOW_SIZE + HIGH_SIZE);
	ck_assert_int_eq(gmem_add_region(&mem, LOW_GPA, LOW_SIZE, ram), 0);
	ck_assert_int_eq(gmem_add_region(&mem, HIGH_GPA, HIGH_SIZE, ram + LOW_SIZE), 0);
}

static void teardown(void)
{
	free(ram);
}

START_TEST(test_regions)
{
	ck_assert_uint_eq(mem.nr_regions, 2);
	ck_assert_uint_eq(mem.ram_size, LOW_SIZE + HIGH_SIZE);
}
END_TEST

START_TEST(test_inside)
{
	ck_assert_ptr_eq(gmem_ptr(&mem, 0, 1), ram);
	ck_assert_ptr_eq(gmem_ptr(&mem, 0, LOW_SIZE), ram);
	ck_assert_ptr_eq(gmem_ptr(&mem, 0x1234, 0x10), ram + 0x1234);
	ck_assert_ptr_eq(gmem_ptr(&mem, LOW_SIZE - 1, 1), ram + LOW_SIZE - 1);
	ck_assert_ptr_eq(gmem_ptr(&mem, HIGH_GPA, HIGH_SIZE), ram + LOW_SIZE);
	ck_assert_ptr_eq(gmem_ptr(&mem, HIGH_GPA + 0x10, 8), ram + LOW_SIZE + 0x10);
	ck_assert_ptr_eq(gmem_ptr(&mem, HIGH_END - 1, 1), ram + LOW_SIZE + HIGH_SIZE - 1);
	/* Empty ranges inside RAM, up to the last byte. */
	ck_assert_ptr_eq(gmem_ptr(&mem, 0x10, 0), ram + 0x10);
	ck_assert_ptr_eq(gmem_ptr(&mem, LOW_SIZE - 1, 0), ram + LOW_SIZE - 1);
}
END_TEST

START_TEST(test_outside)
{
	/* Straddling a region's end, though the host buffer goes on. */
	ck_assert_ptr_null(gmem_ptr(&mem, LOW_SIZE - 1, 2));
	ck_assert_ptr_null(gmem_ptr(&mem, 0, LOW_SIZE + 1));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_END - 4, 8));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_GPA, HIGH_SIZE + 1));
	/* In the hole, across it, and beyond the top. */
	ck_assert_ptr_null(gmem_ptr(&mem, LOW_SIZE, 1));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_GPA - 1, 1));
	ck_assert_ptr_null(gmem_ptr(&mem, LOW_SIZE - 1, HIGH_GPA - LOW_SIZE + 2));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_END, 1));
	ck_assert_ptr_null(gmem_ptr(&mem, UINT64_MAX, 1));
	/* An empty range at the end is not inside RAM: its gpa is not. */
	ck_assert_ptr_null(gmem_ptr(&mem, LOW_SIZE, 0));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_END, 0));
}
END_TEST

/* gpa + len past 2^64 must not wrap back into RAM. */
START_TEST(test_overflow)
{
	ck_assert_ptr_null(gmem_ptr(&mem, 0x10, UINT64_MAX));
	ck_assert_ptr_null(gmem_ptr(&mem, 0x10, UINT64_MAX - 0xf));
	ck_assert_ptr_null(gmem_ptr(&mem, 0x10, UINT64_MAX - 0xe));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_GPA + 1, UINT64_MAX));
	ck_assert_ptr_null(gmem_ptr(&mem, HIGH_GPA + 1, 0 - HIGH_GPA));
	ck_assert_ptr_null(gmem_ptr(&mem, UINT64_MAX - 0xf, 0x20));
	ck_assert_ptr_null(gmem_ptr(&mem, 0, (uint64_t)1 << 63));
}
END_TEST

/* Two regions adjacent in guest space are still two regions. */
START_TEST(test_adjacent)
{
	struct guest_mem m = { 0 };
	uint8_t *a = malloc(0x1000), *b = malloc(0x1000);

	ck_assert(a && b);
	ck_assert_int_eq(gmem_add_region(&m, 0x10000, 0x1000, a), 0);
	ck_assert_int_eq(gmem_add_region(&m, 0x11000, 0x1000, b), 0);
	ck_assert_ptr_eq(gmem_ptr(&m, 0x10fff, 1), a + 0xfff);
	ck_assert_ptr_eq(gmem_ptr(&m, 0x11000, 1), b);
	ck_assert_ptr_null(gmem_ptr(&m, 0x10fff, 2));
	ck_assert_ptr_null(gmem_ptr(&m, 0xffff, 1));
	ck_assert_uint_eq(gmem_region_end(&m, 0x10000), 0x11000);
	ck_assert_uint_eq(gmem_region_end(&m, 0x11000), 0x12000);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_region_end)
{
	ck_assert_uint_eq(gmem_region_end(&mem, 0), LOW_SIZE);
	ck_assert_uint_eq(gmem_region_end(&mem, LOW_SIZE - 1), LOW_SIZE);
	ck_assert_uint_eq(gmem_region_end(&mem, LOW_SIZE), 0);
	ck_assert_uint_eq(gmem_region_end(&mem, HIGH_GPA - 1), 0);
	ck_assert_uint_eq(gmem_region_end(&mem, HIGH_GPA), HIGH_END);
	ck_assert_uint_eq(gmem_region_end(&mem, HIGH_END - 1), HIGH_END);
	ck_assert_uint_eq(gmem_region_end(&mem, HIGH_END), 0);
	ck_assert_uint_eq(gmem_region_end(&mem, UINT64_MAX), 0);
}
END_TEST

START_TEST(test_write)
{
	static const uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t zero[16];

	ck_assert_int_eq(gmem_write(&mem, LOW_SIZE - 8, bytes, 8), 0);
	ck_assert_mem_eq(ram + LOW_SIZE - 8, bytes, 8);
	ck_assert_int_eq(gmem_write(&mem, HIGH_GPA, bytes, 8), 0);
	ck_assert_mem_eq(ram + LOW_SIZE, bytes, 8);
	ck_assert_int_eq(gmem_write(&mem, HIGH_END - 8, bytes, 8), 0);
	ck_assert_mem_eq(ram + LOW_SIZE + HIGH_SIZE - 8, bytes, 8);

	/* Failed writes copy nothing at all, not even the part in RAM. */
	memset(ram, 0, LOW_SIZE + HIGH_SIZE);
	ck_assert_int_eq(gmem_write(&mem, LOW_SIZE - 4, bytes, 8), -EFAULT);
	ck_assert_int_eq(gmem_write(&mem, LOW_SIZE, bytes, 8), -EFAULT);
	ck_assert_int_eq(gmem_write(&mem, HIGH_END - 4, bytes, 8), -EFAULT);
	ck_assert_int_eq(gmem_write(&mem, HIGH_END, bytes, 1), -EFAULT);
	ck_assert_int_eq(gmem_write(&mem, UINT64_MAX, bytes, 8), -EFAULT);
	ck_assert_int_eq(gmem_write(&mem, 8, bytes, UINT64_MAX), -EFAULT);
	ck_assert_mem_eq(ram + LOW_SIZE - 16, zero, 16);
	ck_assert_mem_eq(ram + LOW_SIZE + HIGH_SIZE - 16, zero, 16);
	ck_assert_mem_eq(ram, zero, 16);
}
END_TEST

START_TEST(test_add_region)
{
	struct guest_mem m = { 0 };
	uint8_t buf[16];

	ck_assert_int_eq(gmem_add_region(&m, 0x1000, 0, buf), -EINVAL);
	ck_assert_int_eq(gmem_add_region(&m, UINT64_MAX, 2, buf), -EINVAL);
	ck_assert_int_eq(gmem_add_region(&m, 1, UINT64_MAX, buf), -EINVAL);
	ck_assert_uint_eq(m.nr_regions, 0);
	for (int i = 0; i < GMEM_MAX_REGIONS; i++)
		ck_assert_int_eq(gmem_add_region(&m, i * 0x10, 0x10, buf), 0);
	ck_assert_int_eq(gmem_add_region(&m, 0x1000, 0x10, buf), -EINVAL);
	ck_assert_uint_eq(m.nr_regions, GMEM_MAX_REGIONS);
	ck_assert_uint_eq(m.ram_size, GMEM_MAX_REGIONS * 0x10);
}
END_TEST

/* gmem_init maps the backing store; the arch code adds the regions. */
START_TEST(test_init)
{
	struct guest_mem m;

	ck_assert_int_eq(gmem_init(&m, 1 << 20), 0);
	ck_assert_ptr_nonnull(m.map);
	ck_assert_uint_eq(m.map_size, 1 << 20);
	/* On a 2 MiB boundary, so that KVM may map it with huge pages. */
	ck_assert_uint_eq((uintptr_t)m.map & ((2 << 20) - 1), 0);
	ck_assert_uint_eq(m.nr_regions, 0);
	ck_assert_int_eq(gmem_add_region(&m, 0, 1 << 20, m.map), 0);
	ck_assert_int_eq(gmem_write(&m, (1 << 20) - 4, "abcd", 4), 0);
	ck_assert_mem_eq(m.map + (1 << 20) - 4, "abcd", 4);
	gmem_exit(&m);
	ck_assert_ptr_null(m.map);
	ck_assert_uint_eq(m.nr_regions, 0);
	ck_assert_ptr_null(gmem_ptr(&m, 0, 1));
}
END_TEST

/* Shareable RAM: the memfd is the guest's memory, region by region. */
START_TEST(test_init_shared)
{
	struct guest_mem m, zero = { 0 };
	char back[4];
	int fd;

	ck_assert_int_eq(gmem_init_shared(&m, 2 << 20), 0);
	ck_assert_int_ge(m.fd, 0);
	ck_assert_uint_eq((uintptr_t)m.map & ((2 << 20) - 1), 0);
	ck_assert_int_eq(gmem_add_region(&m, 0, 1 << 20, m.map), 0);
	ck_assert_int_eq(gmem_add_region(&m, 1ULL << 32, 1 << 20, m.map + (1 << 20)), 0);
	ck_assert_uint_eq(gmem_offset(&m, &m.region[0]), 0);
	ck_assert_uint_eq(gmem_offset(&m, &m.region[1]), 1 << 20);
	ck_assert_int_eq(gmem_write(&m, (1ULL << 32) + 8, "wxyz", 4), 0);
	ck_assert_int_eq(pread(m.fd, back, 4, (1 << 20) + 8), 4);
	ck_assert_mem_eq(back, "wxyz", 4);
	ck_assert_int_eq(pwrite(m.fd, "abcd", 4, 16), 4);
	ck_assert_mem_eq(gmem_ptr(&m, 16, 4), "abcd", 4);
	fd = m.fd;
	gmem_exit(&m);
	ck_assert_int_eq(m.fd, -1);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	/* Anonymous RAM has no descriptor; a guest_mem never mapped owns
	 * none either (not fd 0). */
	ck_assert_int_eq(gmem_init(&m, 1 << 20), 0);
	ck_assert_int_eq(m.fd, -1);
	gmem_exit(&m);
	gmem_exit(&zero);
	ck_assert_int_ge(fcntl(STDIN_FILENO, F_GETFD), 0);
}
END_TEST

static Suite *mem_suite(void)
{
	Suite *suite = suite_create("mem");
	TCase *tc = tcase_create("gmem");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_regions);
	tcase_add_test(tc, test_inside);
	tcase_add_test(tc, test_outside);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_adjacent);
	tcase_add_test(tc, test_region_end);
	tcase_add_test(tc, test_write);
	tcase_add_test(tc, test_add_region);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_init_shared);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(mem_suite)
