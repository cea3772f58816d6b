// SPDX-License-Identifier: GPL-2.0
/*
 * --disk: the option's syntax (cli.c) and opening the image (disk.c):
 * sizes, file kinds, read-only, locks, one error line for each mistake.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "lib/config.h"
#include "backend/disk.h"

static char path[64];

static void setup(void)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/kvmini-disk-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

static void teardown(void)
{
	unlink(path);
}

/* "kvmini run --kernel k ARGS...": cli_parse's status, stderr in *err. */
static int parse(struct vm_config *cfg, char **err, const char *const *args)
{
	char *argv[32] = { "kvmini", "run", "--kernel", "k" };
	struct unit_capture c;
	int argc = 4, r;

	for (; *args; args++)
		argv[argc++] = (char *)*args;
	unit_capture_begin(&c, STDERR_FILENO);
	r = cli_parse(argc, argv, cfg);
	*err = unit_capture_end(&c);
	return r;
}

#define PARSE(cfg, err, ...) parse(cfg, err, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_error(const char *arg, const char *culprit)
{
	struct vm_config cfg;
	char *err;

	ck_assert_int_eq(PARSE(&cfg, &err, "--disk", arg), -EINVAL);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_msg(strstr(err, culprit), "'%s' lacks '%s'", err, culprit);
	free(err);
}

START_TEST(test_cli_disks)
{
	struct vm_config cfg;
	char *err;

	ck_assert_int_eq(PARSE(&cfg, &err, "--disk", "a.img", "--disk",
			       "/x/b.img,ro,direct,serial=SN-1 2", "--disk", "c,direct"), 0);
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_uint_eq(cfg.nr_disks, 3);
	ck_assert_uint_eq(cfg.disks[0].path_len, 5);
	ck_assert(!cfg.disks[0].ro && !cfg.disks[0].direct);
	ck_assert_str_eq(cfg.disks[0].serial, "");
	ck_assert_uint_eq(cfg.disks[1].path_len, 8);
	ck_assert(!strncmp(cfg.disks[1].arg, "/x/b.img", 8));
	ck_assert(cfg.disks[1].ro && cfg.disks[1].direct);
	ck_assert_str_eq(cfg.disks[1].serial, "SN-1 2");
	ck_assert(!cfg.disks[2].ro && cfg.disks[2].direct);

	ck_assert_int_eq(PARSE(&cfg, &err, "--cpus", "2"), 0);
	free(err);
	ck_assert_uint_eq(cfg.nr_disks, 0);
}
END_TEST

START_TEST(test_cli_disk_errors)
{
	struct vm_config cfg;
	char *err;

	expect_error(",ro", "no file name");
	expect_error("", "no file name");
	expect_error("a.img,rw", "unknown flag 'rw'");
	expect_error("a.img,", "unknown flag ''");
	expect_error("a.img,ro,,direct", "unknown flag ''");
	expect_error("a.img,serial=", "serial must be 1 to 20");
	expect_error("a.img,serial=123456789012345678901", "serial must be 1 to 20");
	expect_error("a.img,serial=a\tb", "printable");
	ck_assert_int_eq(PARSE(&cfg, &err, "--disk", "a,serial=12345678901234567890"), 0);
	free(err);
	ck_assert_str_eq(cfg.disks[0].serial, "12345678901234567890");

	ck_assert_int_eq(PARSE(&cfg, &err, "--disk", "1", "--disk", "2", "--disk", "3",
			       "--disk", "4", "--disk", "5", "--disk", "6",
			       "--disk", "7", "--disk", "8", "--disk", "9"), -EINVAL);
	ck_assert_msg(strstr(err, "at most 8 disks"), "%s", err);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	free(err);
}
END_TEST

/* disk_open() on p with flags; its status, stderr in *err. */
static int try_open(const char *p, bool ro, bool direct, struct disk *d,
		    char **err)
{
	struct disk_config cfg = { .arg = p, .path_len = strlen(p), .ro = ro,
				   .direct = direct };
	struct unit_capture c;
	int r;

	strcpy(cfg.serial, "S");
	unit_capture_begin(&c, STDERR_FILENO);
	r = disk_open(&cfg, d);
	*err = unit_capture_end(&c);
	return r;
}

static void expect_open_error(const char *p, bool ro, const char *culprit)
{
	struct disk d;
	char *err;

	ck_assert_int_lt(try_open(p, ro, false, &d, &err), 0);
	ck_assert_int_eq(d.fd, -1);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_msg(strstr(err, "kvmini: error: --disk '"), "%s", err);
	ck_assert_msg(strstr(err, culprit), "'%s' lacks '%s'", err, culprit);
	free(err);
}

START_TEST(test_disk_open)
{
	struct disk d;
	char *err;

	ck_assert_int_eq(try_open(path, false, false, &d, &err), 0);
	ck_assert_str_eq(err, "");
	free(err);
	ck_assert_int_ge(d.fd, 0);
	ck_assert_uint_eq(d.size, 1 << 20);
	ck_assert(!d.ro);
	ck_assert_uint_eq(d.off_align, 512);
	ck_assert_uint_ge(d.block_size, 512);
	ck_assert_str_eq(d.serial, "S");
	/* Read-write: the descriptor writes. */
	ck_assert_int_eq(pwrite(d.fd, "x", 1, 0), 1);
	disk_close(&d);
	ck_assert_int_eq(d.fd, -1);
	disk_close(&d);

	ck_assert_int_eq(try_open(path, true, false, &d, &err), 0);
	free(err);
	ck_assert(d.ro);
	ck_assert_int_lt(pwrite(d.fd, "x", 1, 0), 0);
	disk_close(&d);
}
END_TEST

START_TEST(test_disk_open_errors)
{
	char p[80];
	int fd;

	expect_open_error("/nonexistent/kvmini.img", false, "No such file");
	expect_open_error("/dev/null", true, "not a regular file or block device");
	expect_open_error("/", true, "is a directory");
	expect_open_error("/", false, "is a directory");
	snprintf(p, sizeof(p), "%s.empty", path);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	expect_open_error(p, false, "is empty");
	unlink(p);
}
END_TEST

/* Odd sizes: the guest sees whole sectors, the user hears about it. */
START_TEST(test_disk_partial_sector)
{
	struct disk d;
	char *err;
	int fd = open(path, O_WRONLY);

	ck_assert_int_eq(ftruncate(fd, 4096 + 100), 0);
	close(fd);
	ck_assert_int_eq(try_open(path, false, false, &d, &err), 0);
	ck_assert_msg(strstr(err, "warning") && strstr(err, "last 100 bytes"), "%s", err);
	free(err);
	ck_assert_uint_eq(d.size, 4196);
	disk_close(&d);
}
END_TEST

/* One writer, or any number of readers: open file description locks
 * conflict between two opens even in one process. */
START_TEST(test_disk_locks)
{
	struct disk w, r1, r2, d;
	char *err;

	ck_assert_int_eq(try_open(path, false, false, &w, &err), 0);
	free(err);
	expect_open_error(path, false, "in use by another VM");
	expect_open_error(path, true, "in use by another VM");
	disk_close(&w);

	ck_assert_int_eq(try_open(path, true, false, &r1, &err), 0);
	free(err);
	ck_assert_int_eq(try_open(path, true, false, &r2, &err), 0);
	free(err);
	expect_open_error(path, false, "in use by another VM");
	disk_close(&r1);
	disk_close(&r2);
	/* Closing is unlocking. */
	ck_assert_int_eq(try_open(path, false, false, &d, &err), 0);
	free(err);
	disk_close(&d);
}
END_TEST

START_TEST(test_disk_direct)
{
	struct disk d;
	char *err;
	int r = try_open(path, false, true, &d, &err);

	if (r == -EINVAL) {
		/* No O_DIRECT here: the error says so. */
		ck_assert_msg(strstr(err, "does not support O_DIRECT"), "%s", err);
		free(err);
		unit_skip("test_disk: no O_DIRECT in %s's file system", path);
		return;
	}
	ck_assert_int_eq(r, 0);
	free(err);
	ck_assert(d.direct);
	ck_assert_uint_ge(d.off_align, 512);
	ck_assert_uint_ge(d.mem_align, 1);
	ck_assert_int_eq(fcntl(d.fd, F_GETFL) & O_DIRECT, O_DIRECT);
	disk_close(&d);
}
END_TEST

static Suite *disk_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cli_disks);
	tcase_add_test(tc, test_cli_disk_errors);
	tcase_add_test(tc, test_disk_open);
	tcase_add_test(tc, test_disk_open_errors);
	tcase_add_test(tc, test_disk_partial_sector);
	tcase_add_test(tc, test_disk_locks);
	tcase_add_test(tc, test_disk_direct);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(disk_suite)
