// SPDX-License-Identifier: GPL-2.0
/* The janitor: kvmini's files go however it ends, and only those. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "lib/janitor.h"

static char dir[64];
static char path[128];

static void setup(void)
{
	strcpy(dir, "/var/tmp/kvmini-janitor.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
}

static void make_file(void)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
}

static bool exists(void)
{
	struct stat st;

	return !lstat(path, &st);
}

static unsigned int fds_of(pid_t pid)
{
	char p[64];
	DIR *d;
	struct dirent *e;
	unsigned int n = 0;

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	d = opendir(p);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

START_TEST(test_finish_removes)
{
	struct janitor j;

	make_file();
	janitor_init(&j);
	ck_assert_int_eq(janitor_add(&j, path), 0);
	ck_assert_int_gt(j.pid, 0);
	/* It holds the pipe and nothing else (once it has closed the rest,
	 * straight after the fork). */
	for (int i = 0; i < 100 && fds_of(j.pid) != 1; i++)
		usleep(10 * 1000);
	ck_assert_uint_eq(fds_of(j.pid), 1);
	ck_assert(exists());
	janitor_finish(&j);
	ck_assert(!exists());
}
END_TEST

/* Files made after the janitor started reach it through the pipe. */
START_TEST(test_later_files_removed)
{
	char second[160];
	struct janitor j;
	int fd;

	make_file();
	snprintf(second, sizeof(second), "%s/second", dir);
	janitor_init(&j);
	ck_assert_int_eq(janitor_add(&j, path), 0);
	fd = open(second, O_CREAT | O_WRONLY | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(janitor_add(&j, second), 0);
	janitor_finish(&j);
	ck_assert(!exists());
	ck_assert_int_ne(access(second, F_OK), 0);
}
END_TEST

START_TEST(test_replaced_file_stays)
{
	struct janitor j;
	char other[160];
	int fd;

	make_file();
	janitor_init(&j);
	ck_assert_int_eq(janitor_add(&j, path), 0);
	/* Someone else's file at the path now (made while ours exists, so
	 * it cannot reuse its inode): not ours to remove. */
	snprintf(other, sizeof(other), "%s/other", dir);
	fd = open(other, O_CREAT | O_WRONLY | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(rename(other, path), 0);
	janitor_finish(&j);
	ck_assert(exists());
}
END_TEST

/* kvmini killed outright: the files still go, and Ctrl-C to the group
 * does not take the janitor with it. */
START_TEST(test_killed_owner)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	pid_t owner;
	int status;

	make_file();
	owner = fork();
	ck_assert_int_ge(owner, 0);
	if (owner == 0) {
		struct janitor j;

		janitor_init(&j);
		if (janitor_add(&j, path))
			_exit(1);
		kill(j.pid, SIGINT);
		pause();
		_exit(2);
	}
	usleep(100 * 1000);
	ck_assert(exists());
	kill(owner, SIGKILL);
	ck_assert_int_eq(waitpid(owner, &status, 0), owner);
	for (int i = 0; i < 300 && exists(); i++)
		nanosleep(&ts, NULL);
	ck_assert(!exists());
}
END_TEST

START_TEST(test_missing_file_refused)
{
	struct janitor j;

	janitor_init(&j);
	ck_assert_int_lt(janitor_add(&j, path), 0);
	ck_assert_int_eq(j.pid, 0);	/* nothing to watch: no process */
	janitor_finish(&j);
}
END_TEST

static Suite *janitor_suite(void)
{
	Suite *s = suite_create("janitor");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_finish_removes);
	tcase_add_test(tc, test_later_files_removed);
	tcase_add_test(tc, test_replaced_file_stays);
	tcase_add_test(tc, test_killed_owner);
	tcase_add_test(tc, test_missing_file_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(janitor_suite)
