// SPDX-License-Identifier: GPL-2.0
/* Snapshot directories: all or nothing, first committer wins, no debris. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "lib/snap_dir.h"

static char base[64];
static char path[128];

static void setup(void)
{
	strcpy(base, "/var/tmp/kvmini-snapdir.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/snap", base);
}

static unsigned int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(struct snap_dir *d, const char *name)
{
	int fd = snap_dir_file(d, name);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
}

START_TEST(test_commit_makes_whole_dir)
{
	struct snap_dir d;
	struct stat st;
	char f[160];

	ck_assert_int_eq(snap_dir_create(&d, path), 0);
	write_file(&d, "state");
	write_file(&d, "memory");
	/* Not there under its name until committed. */
	ck_assert_int_ne(stat(path, &st), 0);
	ck_assert_int_eq(snap_dir_file(&d, "state"), -EEXIST);
	ck_assert_int_eq(snap_dir_commit(&d), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	snprintf(f, sizeof(f), "%s/memory", path);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(entries(path), 2);
	ck_assert_uint_eq(entries(base), 1);	/* no temporary left */
}
END_TEST

START_TEST(test_existing_path_refused)
{
	struct snap_dir d;

	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(snap_dir_create(&d, path), -EEXIST);
	snap_dir_abort(&d);
	ck_assert_uint_eq(entries(base), 1);
}
END_TEST

START_TEST(test_first_committer_wins)
{
	struct snap_dir a, b;
	char f[160];
	struct stat st;

	ck_assert_int_eq(snap_dir_create(&a, path), 0);
	ck_assert_int_eq(snap_dir_create(&b, path), 0);
	write_file(&a, "from-a");
	write_file(&b, "from-b");
	ck_assert_int_eq(snap_dir_commit(&a), 0);
	ck_assert_int_eq(snap_dir_commit(&b), -EEXIST);
	snap_dir_abort(&b);
	snprintf(f, sizeof(f), "%s/from-a", path);
	ck_assert_int_eq(stat(f, &st), 0);
	ck_assert_uint_eq(entries(path), 1);
	ck_assert_uint_eq(entries(base), 1);
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
	struct snap_dir d;

	ck_assert_int_eq(snap_dir_create(&d, path), 0);
	write_file(&d, "state");
	snap_dir_abort(&d);
	snap_dir_abort(&d);
	ck_assert_uint_eq(entries(base), 0);
}
END_TEST

START_TEST(test_bad_parent)
{
	struct snap_dir d;

	ck_assert_int_eq(snap_dir_create(&d, "/nonexistent-kvmini/snap"), -ENOENT);
	snap_dir_abort(&d);
	ck_assert_int_eq(snap_dir_create(&d, "/"), -EINVAL);
	snap_dir_abort(&d);
}
END_TEST

static Suite *snap_dir_suite(void)
{
	Suite *s = suite_create("snap_dir");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_commit_makes_whole_dir);
	tcase_add_test(tc, test_existing_path_refused);
	tcase_add_test(tc, test_first_committer_wins);
	tcase_add_test(tc, test_abort_leaves_nothing);
	tcase_add_test(tc, test_bad_parent);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(snap_dir_suite)
