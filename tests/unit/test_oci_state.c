// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini oci's state: container IDs (no path tricks), the per-container
 * directory and its lock, state.json written whole and read back, a
 * damaged one refused, the status derived from the process, and two
 * creates of one ID racing: exactly one wins.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "lib/json.h"
#include "oci/oci.h"

static char root[] = "/tmp/kvmini-oci-state.XXXXXX";
static char state_root[PATH_MAX];
static struct oci_ctx ctx;

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(root));
	/* Not there yet: create makes it. */
	snprintf(state_root, sizeof(state_root), "%s/run/oci", root);
	ctx = (struct oci_ctx){ .root = state_root };
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(root, "/tmp/kvmini-oci-state.XXXXXX");
}

/* fn's return and its one error line (or none). */
#define CAPTURE(ret, out, err, call)					\
	do {								\
		struct unit_capture_std __c;				\
		unit_capture_std_begin(&__c);				\
		ret = (call);						\
		unit_capture_std_end(&__c, &out, &err);			\
	} while (0)

static void expect_id_bad(const char *id, const char *culprit)
{
	char *out, *err;
	int ret;

	CAPTURE(ret, out, err, oci_id_check(&ctx, id));
	ck_assert_msg(ret == -EINVAL, "'%s' accepted", id);
	unit_check_error_line(out, err, culprit);
	free(out);
	free(err);
}

START_TEST(test_oci_id)
{
	char id[OCI_ID_MAX + 2];

	ck_assert_int_eq(oci_id_check(&ctx, "abc"), 0);
	ck_assert_int_eq(oci_id_check(&ctx, "a.b_c-d+E9"), 0);
	ck_assert_int_eq(oci_id_check(&ctx, "..."), 0);	/* a name, not a step up */
	memset(id, 'x', OCI_ID_MAX);
	id[OCI_ID_MAX] = '\0';
	ck_assert_int_eq(oci_id_check(&ctx, id), 0);
	id[OCI_ID_MAX] = 'x';
	id[OCI_ID_MAX + 1] = '\0';
	expect_id_bad(id, "1 to 128 characters");
	expect_id_bad("", "1 to 128 characters");
	expect_id_bad(".", "'.' is not a valid name");
	expect_id_bad("..", "'..' is not a valid name");
	expect_id_bad("a/b", "holds '/'");
	expect_id_bad("../etc", "holds '/'");
	expect_id_bad("a b", "holds ' '");
	expect_id_bad("a\nb", "holds '?'");
}
END_TEST

static void fill_state(struct oci_state *s, pid_t pid)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->id, "c1");
	s->pid = pid;
	s->start_time = oci_proc_start_time(pid);
	s->bundle = strdup("/some/\"bundle\"");
	s->created = 1700000000;
	s->annotations[0].key = strdup("org.kvmini.mem");
	s->annotations[0].value = strdup("1G");
	s->nr_annotations = 1;
}

START_TEST(test_oci_state_roundtrip)
{
	struct oci_state s, r;
	struct oci_dir d, d2;
	struct json_doc doc;
	char buf[4096], *out, *err;
	long n;
	int ret;

	ck_assert_int_eq(oci_dir_create(&ctx, "c1", &d), 0);
	ck_assert_int_eq(oci_state_read(&ctx, &d, &r), -ENOENT);
	fill_state(&s, getpid());
	ck_assert_uint_ne(s.start_time, 0);
	ck_assert_int_eq(oci_state_write(&ctx, &d, &s), 0);
	ck_assert_int_eq(oci_state_read(&ctx, &d, &r), 0);
	ck_assert_str_eq(r.id, "c1");
	ck_assert_int_eq(r.pid, getpid());
	ck_assert_uint_eq(r.start_time, s.start_time);
	ck_assert_str_eq(r.bundle, s.bundle);
	ck_assert_int_eq(r.created, 1700000000);
	ck_assert(!r.started);
	ck_assert_uint_eq(r.nr_annotations, 1);
	ck_assert_str_eq(r.annotations[0].value, "1G");
	/* This process lives: created, then running once started. */
	ck_assert_int_eq(oci_state_status(&r), OCI_CREATED);
	r.started = true;
	ck_assert_int_eq(oci_state_status(&r), OCI_RUNNING);
	/* The spec's state: it parses, and says so. */
	n = oci_state_json(&r, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(json_parse(&doc, buf, n), 0);
	ck_assert_str_eq(json_str(json_get(json_root(&doc), "status")), "running");
	ck_assert_str_eq(json_str(json_get(json_root(&doc), "ociVersion")), OCI_VERSION);
	ck_assert_str_eq(json_str(json_get(json_root(&doc), "bundle")), "/some/\"bundle\"");
	ck_assert_ptr_nonnull(json_get(json_root(&doc), "pid"));
	ck_assert_str_eq(json_str(json_get(json_get(json_root(&doc), "annotations"),
					   "org.kvmini.mem")), "1G");
	json_free(&doc);
	/* A PID that is someone else's now (another start time): stopped,
	 * and the spec's state then has no pid. */
	r.start_time++;
	ck_assert_int_eq(oci_state_status(&r), OCI_STOPPED);
	n = oci_state_json(&r, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_null(strstr(buf, "\"pid\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"status\":\"stopped\""));
	oci_state_free(&r);
	/* No temporary left beside it. */
	ck_assert_int_eq(faccessat(d.dfd, OCI_STATE_FILE ".tmp", F_OK, 0), -1);

	/* A second create of the ID fails, naming it. */
	CAPTURE(ret, out, err, oci_dir_create(&ctx, "c1", &d2));
	ck_assert_int_eq(ret, -EEXIST);
	unit_check_error_line(out, err, "container c1 exists already");
	free(out);
	free(err);

	/* Remove: gone, and open says so. */
	ck_assert_int_eq(oci_dir_remove(&ctx, "c1", &d), 0);
	CAPTURE(ret, out, err, oci_dir_open(&ctx, "c1", &d2));
	ck_assert_int_eq(ret, -ENOENT);
	unit_check_error_line(out, err, "container c1 does not exist");
	free(out);
	free(err);
	oci_state_free(&s);
}
END_TEST

START_TEST(test_oci_state_dead)
{
	struct oci_state s;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (!pid) {
		pause();
		_exit(0);
	}
	fill_state(&s, pid);
	ck_assert_uint_ne(s.start_time, 0);
	ck_assert_int_eq(oci_state_status(&s), OCI_CREATED);
	/* Another start time: someone else's process, left alone. */
	s.start_time++;
	ck_assert_int_eq(oci_state_signal(&s, SIGKILL), -ESRCH);
	usleep(20000);
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
	s.start_time--;
	ck_assert_int_eq(oci_state_signal(&s, SIGKILL), 0);
	/* A zombie is stopped already; a reaped one too. */
	for (int i = 0; i < 200 && oci_state_status(&s) != OCI_STOPPED; i++)
		usleep(5000);
	ck_assert_int_eq(oci_state_status(&s), OCI_STOPPED);
	waitpid(pid, NULL, 0);
	ck_assert_int_eq(oci_state_status(&s), OCI_STOPPED);
	ck_assert_int_eq(oci_state_signal(&s, SIGKILL), -ESRCH);
	oci_state_free(&s);
}
END_TEST

START_TEST(test_oci_state_damaged)
{
	static const char *const bad[] = {
		"", "{", "[]", "{\"id\":\"c1\"}",
		"{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"pid\":-5,\"bundle\":\"/b\",\"annotations\":{},"
		"\"created\":1,\"startTime\":1,\"started\":false}",
		"{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"pid\":5,\"bundle\":\"/b\",\"annotations\":{\"a\":1},"
		"\"created\":1,\"startTime\":1,\"started\":false}",
	};
	struct oci_state r;
	struct oci_dir d;
	char *out, *err;
	int ret;

	ck_assert_int_eq(oci_dir_create(&ctx, "c1", &d), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(oci_write_file(&ctx, d.dfd, OCI_STATE_FILE, bad[i],
						strlen(bad[i])), 0);
		CAPTURE(ret, out, err, oci_state_read(&ctx, &d, &r));
		ck_assert_msg(ret < 0, "accepted: %s", bad[i]);
		unit_check_error_line(out, err, "damaged");
		free(out);
		free(err);
	}
	oci_dir_close(&d);
}
END_TEST

/* While one command holds a container, another waits for it. */
START_TEST(test_oci_state_lock)
{
	char path[PATH_MAX + 64];
	struct oci_dir d;
	int fd;

	ck_assert_int_eq(oci_dir_create(&ctx, "c1", &d), 0);
	snprintf(path, sizeof(path), "%s/c1/%s", state_root, OCI_LOCK_FILE);
	fd = open(path, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	oci_dir_close(&d);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
	/* The directory is 0700: the state is its owner's alone. */
	{
		struct stat st;

		snprintf(path, sizeof(path), "%s/c1", state_root);
		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0700);
	}
}
END_TEST

/* Eight creates of one ID at once: exactly one makes it. */
START_TEST(test_oci_state_race)
{
	enum { N = 8 };
	pid_t pids[N];
	int wins = 0, fd;
	int go[2];
	char b;

	ck_assert_int_eq(pipe(go), 0);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (!pids[i]) {
			struct oci_dir d;

			close(go[1]);
			fd = open("/dev/null", O_WRONLY);
			dup2(fd, STDERR_FILENO);	/* the losers' lines */
			if (read(go[0], &b, 1) != 0)
				_exit(2);
			_exit(oci_dir_create(&ctx, "same", &d) ? 1 : 0);
		}
	}
	close(go[0]);
	close(go[1]);		/* all go at once */
	for (int i = 0; i < N; i++) {
		int st;

		ck_assert_int_eq(waitpid(pids[i], &st, 0), pids[i]);
		ck_assert(WIFEXITED(st));
		ck_assert_int_le(WEXITSTATUS(st), 1);
		wins += !WEXITSTATUS(st);
	}
	ck_assert_int_eq(wins, 1);
}
END_TEST

static Suite *oci_state_suite(void)
{
	Suite *s = suite_create("oci_state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_oci_id);
	tcase_add_test(tc, test_oci_state_roundtrip);
	tcase_add_test(tc, test_oci_state_dead);
	tcase_add_test(tc, test_oci_state_damaged);
	tcase_add_test(tc, test_oci_state_lock);
	tcase_add_test(tc, test_oci_state_race);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(oci_state_suite)
