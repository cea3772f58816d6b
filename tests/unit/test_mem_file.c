// SPDX-License-Identifier: GPL-2.0
/* Guest RAM saved to a sparse file and restored: private and shared RAM. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "lib/mem_file.h"

#define RAM	(4UL << 20)
#define PAGE	4096UL

/* A few pages with data, the rest never touched. */
static void fill(struct guest_mem *m)
{
	memset(m->map + 0, 0xaa, PAGE);
	memset(m->map + 5 * PAGE + 100, 0x55, 10);
	memset(m->map + RAM - PAGE, 0x11, PAGE);
}

static int tmpfile_fd(void)
{
	char path[] = "/var/tmp/kvmini-memfile.XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	return fd;
}

static void check_contents(const struct guest_mem *m)
{
	ck_assert_uint_eq(m->map[0], 0xaa);
	ck_assert_uint_eq(m->map[PAGE - 1], 0xaa);
	ck_assert_uint_eq(m->map[PAGE], 0);
	ck_assert_uint_eq(m->map[5 * PAGE + 100], 0x55);
	ck_assert_uint_eq(m->map[5 * PAGE + 110], 0);
	ck_assert_uint_eq(m->map[RAM - 1], 0x11);
}

START_TEST(test_save_is_sparse_and_restores)
{
	struct guest_mem a, b;
	struct stat st;
	uint8_t byte;
	int fd = tmpfile_fd();

	ck_assert_int_eq(gmem_init(&a, RAM), 0);
	fill(&a);
	ck_assert_int_eq(gmem_save(&a, fd), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_size, RAM);
	/* Three pages of data, not 4 MiB (a file system without holes
	 * would fail this; /var/tmp has them on every machine we use). */
	ck_assert_uint_le((uint64_t)st.st_blocks * 512, 64 * 1024);

	ck_assert_int_eq(gmem_init(&b, RAM), 0);
	memset(b.map + 7 * PAGE, 0x77, PAGE);	/* must be gone after */
	ck_assert_int_eq(gmem_restore(&b, fd), 0);
	check_contents(&b);
	ck_assert_uint_eq(b.map[7 * PAGE], 0);
	/* Copy-on-write: the guest's writes never reach the file. */
	b.map[0] = 0x01;
	ck_assert_int_eq(pread(fd, &byte, 1, 0), 1);
	ck_assert_uint_eq(byte, 0xaa);
	gmem_exit(&a);
	gmem_exit(&b);
	close(fd);
}
END_TEST

START_TEST(test_restore_into_shared_ram_copies)
{
	struct guest_mem a, b;
	uint8_t byte;
	int fd = tmpfile_fd();

	ck_assert_int_eq(gmem_init(&a, RAM), 0);
	fill(&a);
	ck_assert_int_eq(gmem_save(&a, fd), 0);
	ck_assert_int_eq(gmem_init_shared(&b, RAM), 0);
	ck_assert_int_eq(gmem_restore(&b, fd), 0);
	check_contents(&b);
	/* Still the memfd another process can map. */
	ck_assert_int_eq(pread(b.fd, &byte, 1, RAM - 1), 1);
	ck_assert_uint_eq(byte, 0x11);
	gmem_exit(&a);
	gmem_exit(&b);
	close(fd);
}
END_TEST

/* A restore may fill shared RAM early (vmm/vm.c) and again in its turn:
 * the second fill from the same file copies nothing; another file, or
 * the same one rewritten, is copied. */
START_TEST(test_shared_refill_from_same_file_skipped)
{
	struct guest_mem a, b;
	struct timespec later[2] = { { .tv_sec = 1 }, { .tv_sec = 1 } };
	int fd = tmpfile_fd(), fd2 = tmpfile_fd();

	ck_assert_int_eq(gmem_init(&a, RAM), 0);
	fill(&a);
	ck_assert_int_eq(gmem_save(&a, fd), 0);
	ck_assert_int_eq(gmem_save(&a, fd2), 0);
	ck_assert_int_eq(gmem_init_shared(&b, RAM), 0);
	ck_assert_int_eq(gmem_restore(&b, fd), 0);
	b.map[0] = 0x42;		/* as if the machine wrote there */
	ck_assert_int_eq(gmem_restore(&b, fd), 0);
	ck_assert_uint_eq(b.map[0], 0x42);
	ck_assert_int_eq(gmem_restore(&b, fd2), 0);
	ck_assert_uint_eq(b.map[0], 0xaa);
	check_contents(&b);
	b.map[0] = 0x42;
	ck_assert_int_eq(futimens(fd2, later), 0);	/* rewritten */
	ck_assert_int_eq(gmem_restore(&b, fd2), 0);
	ck_assert_uint_eq(b.map[0], 0xaa);
	gmem_exit(&a);
	gmem_exit(&b);
	close(fd);
	close(fd2);
}
END_TEST

START_TEST(test_wrong_size_refused_untouched)
{
	struct guest_mem a, b;
	int fd = tmpfile_fd();

	ck_assert_int_eq(gmem_init(&a, RAM), 0);
	fill(&a);
	ck_assert_int_eq(gmem_save(&a, fd), 0);
	ck_assert_int_eq(gmem_init(&b, 2 * RAM), 0);
	b.map[0] = 0x42;
	ck_assert_int_eq(gmem_restore(&b, fd), -EINVAL);
	ck_assert_uint_eq(b.map[0], 0x42);
	ck_assert_int_eq(ftruncate(fd, RAM - 1), 0);
	ck_assert_int_eq(gmem_restore(&a, fd), -EINVAL);
	gmem_exit(&a);
	gmem_exit(&b);
	close(fd);
}
END_TEST

static Suite *mem_file_suite(void)
{
	Suite *s = suite_create("mem_file");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_save_is_sparse_and_restores);
	tcase_add_test(tc, test_restore_into_shared_ram_copies);
	tcase_add_test(tc, test_shared_refill_from_same_file_skipped);
	tcase_add_test(tc, test_wrong_size_refused_untouched);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(mem_file_suite)
