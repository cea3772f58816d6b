// SPDX-License-Identifier: GPL-2.0
/*
 * trim_after_setup() (lib/trim.c): code pages leave the RSS, and nothing
 * a process wrote (data, heap, the relocated GOT) changes. Check runs
 * each test in a child of its own, so the trim touches no other test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lib/trim.h"

/*
 * The mapping of /proc/self/smaps that holds addr: its Size and Rss, KiB.
 * Read with read() and parsed here, not with stdio: what it runs of libc
 * faults libc's code back in, which is what the test measures.
 */
static char smaps[1 << 20];

static long field(const char *p, const char *name)
{
	p = strstr(p, name);
	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static void mapping_of(const void *addr, long *size, long *rss)
{
	unsigned long a = (unsigned long)addr;
	ssize_t n, len = 0;
	int fd = open("/proc/self/smaps", O_RDONLY);
	char *p, *next;

	ck_assert_int_ge(fd, 0);
	while ((n = read(fd, smaps + len, sizeof(smaps) - 1 - len)) > 0)
		len += n;
	close(fd);
	smaps[len] = 0;
	*size = *rss = -1;
	/* A mapping's first line: "lo-hi perms ...", at a line start. */
	for (p = smaps; p; p = next) {
		char *end;
		unsigned long lo = strtoul(p, &end, 16), hi;

		next = strchr(p, '\n');
		next = next ? next + 1 : NULL;
		if (*end != '-')
			continue;
		hi = strtoul(end + 1, &end, 16);
		if (*end != ' ' || a < lo || a >= hi)
			continue;
		*size = field(p, "\nSize:");
		*rss = field(p, "\nRss:");
		return;
	}
}

/* libc's code, every page of it touched first: it is dropped, and only
 * what runs afterwards comes back. */
START_TEST(test_trim_drops_code)
{
	const volatile char *code = (const volatile char *)(void *)&getpid;
	long size, rss, page = sysconf(_SC_PAGESIZE);
	unsigned long lo, hi;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	/* Its mapping's bounds, then a read of each of its pages. */
	ck_assert_ptr_nonnull(f);
	lo = hi = 0;
	while (fgets(line, sizeof(line), f) &&
	       !(sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		 lo <= (unsigned long)code && (unsigned long)code < hi))
		;
	fclose(f);
	ck_assert_uint_lt(lo, hi);
	for (unsigned long p = lo; p < hi; p += page)
		(void)*(const volatile char *)p;
	mapping_of((const void *)code, &size, &rss);
	ck_assert_int_gt(size, 256);
	ck_assert_int_eq(rss, size);

	trim_after_setup();
	mapping_of((const void *)code, &size, &rss);
	/* Less than all: what ran since (this test, read(), strtoul())
	 * came back in, each fault with its neighbours (the kernel maps
	 * up to 64 KiB around a fault), about half of libc here. */
	ck_assert_int_ge(rss, 0);
	ck_assert_int_lt(rss, size - 64);
}
END_TEST

static int written_data = 1;
static const char constant[] = "read-only data, read again from the file";

/* What was written stays; constants and calls through the GOT still work. */
START_TEST(test_trim_keeps_written)
{
	char *heap = malloc(1 << 20);
	char buf[64];

	ck_assert_ptr_nonnull(heap);
	memset(heap, 0x5a, 1 << 20);
	written_data = 42;

	trim_after_setup();
	ck_assert_int_eq(written_data, 42);
	for (int i = 0; i < 1 << 20; i += 4096)
		ck_assert_int_eq(heap[i], 0x5a);
	ck_assert_str_eq(constant, "read-only data, read again from the file");
	ck_assert_int_eq(snprintf(buf, sizeof(buf), "%d", getpid()) > 0, 1);
	free(heap);
	trim_after_setup();	/* again, after a free: harmless */
	ck_assert_int_eq(written_data, 42);
}
END_TEST

static Suite *trim_suite(void)
{
	Suite *s = suite_create("trim");
	TCase *tc = tcase_create("trim");

	tcase_add_test(tc, test_trim_drops_code);
	tcase_add_test(tc, test_trim_keeps_written);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(trim_suite)
