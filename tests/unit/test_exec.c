// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini exec: its options (defaults, every option, one error line for
 * each bad input), the job spec they become, byte for byte, and its
 * frame; the snapshot cache's key (what changes it, what does not) and
 * its entries on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "exec/exec.h"

#define MAX_ARGS	32

struct exec_run {
	int ret;
	char *out;
	char *err;
	struct exec_config ec;
	char *argv[MAX_ARGS + 1];	/* ec.argv points in here */
};

static char dir[] = "/tmp/kvmini-exec.XXXXXX";
static char file[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/f", dir);
	ck_assert_int_eq(close(creat(file, 0644)), 0);
}

static void teardown(void)
{
	unlink(file);
	rmdir(dir);
	strcpy(dir, "/tmp/kvmini-exec.XXXXXX");
}

/* "kvmini exec args..." (NULL-terminated), both streams captured. */
static void run(struct exec_run *r, const char *const *args)
{
	int argc = unit_argv(r->argv, MAX_ARGS, "exec", args);
	struct unit_capture_std c;

	unit_capture_std_begin(&c);
	r->ret = exec_parse(argc, r->argv, &r->ec);
	unit_capture_std_end(&c, &r->out, &r->err);
}

static void done(struct exec_run *r)
{
	exec_config_free(&r->ec);
	free(r->out);
	free(r->err);
}

#define RUN(r, ...) run(r, (const char *const[]){ __VA_ARGS__, NULL })

static void expect_ok(struct exec_run *r)
{
	ck_assert_msg(r->ret == 0, "exec_parse: %d, stderr: %s", r->ret, r->err);
	ck_assert_str_eq(r->err, "");
	ck_assert_str_eq(r->out, "");
}

/* One error line naming the culprit; ec freed. */
#define EXPECT_ERROR(culprit, ...)					\
	do {								\
		struct exec_run __r;					\
		RUN(&__r, __VA_ARGS__);					\
		ck_assert_int_lt(__r.ret, 0);				\
		unit_check_error_line(__r.out, __r.err, culprit);	\
		done(&__r);						\
	} while (0)

START_TEST(test_exec_defaults)
{
	struct exec_run r;

	RUN(&r, "--", "true");
	expect_ok(&r);
	ck_assert_int_eq(r.ec.argc, 1);
	ck_assert_str_eq(r.ec.argv[0], "true");
	ck_assert_ptr_null(r.ec.argv[1]);
	ck_assert_str_eq(r.ec.workdir, "/");
	ck_assert_int_eq(r.ec.root, EXEC_ROOT_HOST);
	ck_assert_uint_eq(r.ec.vm.mem, 512ULL << 20);
	ck_assert_uint_eq(r.ec.vm.cpus, 1);
	ck_assert_int_eq(r.ec.vm.console, CONSOLE_NONE);
	ck_assert_uint_eq(r.ec.vm.timeout, 0);
	ck_assert(!r.ec.net_user);
	ck_assert_ptr_null(r.ec.kernel);
	ck_assert_uint_eq(r.ec.nr_shares + r.ec.nr_env, 0);
	ck_assert(r.ec.snapshot);
	ck_assert_ptr_null(r.ec.snapshot_dir);
	done(&r);

	RUN(&r, "--no-snapshot", "--snapshot-dir", "/tmp/s", "--", "true");
	expect_ok(&r);
	ck_assert(!r.ec.snapshot);
	ck_assert_str_eq(r.ec.snapshot_dir, "/tmp/s");
	done(&r);
	EXPECT_ERROR("--snapshot-dir", "--snapshot-dir", "", "--", "true");

	/* Without "--", the first word that is no option is the command;
	 * what follows is its own. */
	RUN(&r, "--cpus", "2", "ls", "-l", "--cpus", "3");
	expect_ok(&r);
	ck_assert_uint_eq(r.ec.vm.cpus, 2);
	ck_assert_int_eq(r.ec.argc, 4);
	ck_assert_str_eq(r.ec.argv[3], "3");
	done(&r);
}
END_TEST

START_TEST(test_exec_options)
{
	char share1[128], share2[128];
	struct exec_run r;

	snprintf(share1, sizeof(share1), "%s:/src,ro", dir);
	snprintf(share2, sizeof(share2), "%s/", dir);
	setenv("KVMINI_TEST_ENV", "from host", 1);
	RUN(&r, "--share", share1, "--share", share2, "--env", "A=1=2",
	    "--env", "KVMINI_TEST_ENV", "--net", "user", "--mem", "1G",
	    "--cpus", "4", "--timeout", "30", "--kernel", "k", "--initrd", "i",
	    "--root", "initrd", "--verbose", "--", "make", "-j4");
	expect_ok(&r);
	ck_assert_uint_eq(r.ec.nr_shares, 2);
	ck_assert_str_eq(r.ec.shares[0].host, dir);
	ck_assert_str_eq(r.ec.shares[0].guest, "/src");
	ck_assert(r.ec.shares[0].ro);
	/* GUESTDIR defaults to the resolved host path. */
	ck_assert_str_eq(r.ec.shares[1].host, dir);
	ck_assert_str_eq(r.ec.shares[1].guest, dir);
	ck_assert(!r.ec.shares[1].ro);
	ck_assert_str_eq(r.ec.workdir, "/src");
	ck_assert_uint_eq(r.ec.nr_env, 2);
	ck_assert_str_eq(r.ec.env[0], "A=1=2");
	ck_assert_str_eq(r.ec.env[1], "KVMINI_TEST_ENV=from host");
	ck_assert(r.ec.net_user);
	ck_assert_uint_eq(r.ec.vm.mem, 1ULL << 30);
	ck_assert_uint_eq(r.ec.vm.cpus, 4);
	ck_assert_uint_eq(r.ec.vm.timeout, 30);
	ck_assert_str_eq(r.ec.kernel, "k");
	ck_assert_str_eq(r.ec.initrd, "i");
	ck_assert_int_eq(r.ec.root, EXEC_ROOT_INITRD);
	ck_assert(r.ec.vm.verbose);
	ck_assert_int_eq(r.ec.argc, 2);
	done(&r);

	RUN(&r, "--share", share1, "--workdir", "/elsewhere", "pwd");
	expect_ok(&r);
	ck_assert_str_eq(r.ec.workdir, "/elsewhere");
	ck_assert(!r.ec.tty);
	done(&r);

	/* -t and --tty; a -t after the command is the command's. */
	RUN(&r, "-t", "ls", "-t");
	expect_ok(&r);
	ck_assert(r.ec.tty);
	ck_assert_int_eq(r.ec.argc, 2);
	ck_assert_str_eq(r.ec.argv[1], "-t");
	done(&r);
	RUN(&r, "--tty", "--", "sh");
	expect_ok(&r);
	ck_assert(r.ec.tty);
	done(&r);
}
END_TEST

START_TEST(test_exec_errors)
{
	char s[160];

	EXPECT_ERROR("no command given", "--cpus", "1");
	EXPECT_ERROR("no command given", "--");
	EXPECT_ERROR("--share '/nonexistent-kvmini': /nonexistent-kvmini: No such file",
		     "--share", "/nonexistent-kvmini", "true");
	EXPECT_ERROR("is not a directory", "--share", file, "true");
	snprintf(s, sizeof(s), "%s:relative", dir);
	EXPECT_ERROR("GUESTDIR must be an absolute path", "--share", s, "true");
	snprintf(s, sizeof(s), "%s:/", dir);
	EXPECT_ERROR("GUESTDIR", "--share", s, "true");
	snprintf(s, sizeof(s), "%s:/a/../etc", dir);
	EXPECT_ERROR("GUESTDIR", "--share", s, "true");
	snprintf(s, sizeof(s), "%s:/a/./b", dir);
	EXPECT_ERROR("GUESTDIR", "--share", s, "true");
	snprintf(s, sizeof(s), "%s,rox", dir);
	EXPECT_ERROR("unknown flag 'rox'", "--share", s, "true");
	EXPECT_ERROR("no host directory", "--share", ":/x", "true");
	EXPECT_ERROR("at most 7 shares", "--share", dir, "--share", dir, "--share", dir,
		     "--share", dir, "--share", dir, "--share", dir, "--share", dir,
		     "--share", dir, "true");
	EXPECT_ERROR("--env '=x'", "--env", "=x", "true");
	EXPECT_ERROR("--env ''", "--env", "", "true");
	unsetenv("KVMINI_UNSET_VAR");
	EXPECT_ERROR("--env 'KVMINI_UNSET_VAR': not set", "--env", "KVMINI_UNSET_VAR", "true");
	EXPECT_ERROR("--net 'tap'", "--net", "tap", "true");
	EXPECT_ERROR("--root 'disk'", "--root", "disk", "true");
	EXPECT_ERROR("--root initrd needs --initrd", "--root", "initrd", "true");
	EXPECT_ERROR("--workdir 'rel'", "--workdir", "rel", "true");
	EXPECT_ERROR("--cpus '0'", "--cpus", "0", "true");
	EXPECT_ERROR("--timeout '0'", "--timeout", "0", "true");
	EXPECT_ERROR("--mem 'lots'", "--mem", "lots", "true");
	EXPECT_ERROR("unknown option '--disk' (see kvmini exec --help)", "--disk", "x.img", "true");
	EXPECT_ERROR("option '--kernel' needs a value", "--kernel");
	EXPECT_ERROR("option '--timeout' needs a value (see kvmini exec --help)", "--timeout");
}
END_TEST

START_TEST(test_exec_help)
{
	struct exec_run r;

	RUN(&r, "--help");
	ck_assert_int_eq(r.ret, 1);
	ck_assert_str_eq(r.err, "");
	ck_assert(strstr(r.out, "usage: kvmini exec"));
	done(&r);
}
END_TEST

/* The spec: NUL-separated pairs, in the order docs/exec.md gives. */
START_TEST(test_exec_job_spec)
{
	static const char want[] =
		"kvmini-job\0" "1\0"
		"root\0" "root\0"
		"share\0" "share0 ro /src dir\0"
		"share\0" "share1 rw /out\0"
		"workdir\0" "/src dir\0"
		"net\0" "user\0"
		"verbose\0" "0\0"
		"env\0" "K=a b\0"
		"arg\0" "sh\0"
		"arg\0" "-c\0"
		"arg\0" "echo \"$K\"\n'x'\0"
		"arg\0" "\0";
	char *argv[] = { "sh", "-c", "echo \"$K\"\n'x'", "", NULL };
	struct exec_config ec = {
		.root = EXEC_ROOT_HOST,
		.shares = {
			{ .guest = "/src dir", .ro = true },
			{ .guest = "/out" },
		},
		.nr_shares = 2,
		.workdir = "/src dir",
		.env = { "K=a b" },
		.nr_env = 1,
		.net_user = true,
		.argv = argv,
		.argc = 4,
	};
	char *buf;
	size_t len;

	ck_assert_int_eq(exec_job_encode(&ec, &buf, &len), 0);
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert(!memcmp(buf, want, len));
	free(buf);

	ec.root = EXEC_ROOT_INITRD;
	ec.nr_shares = ec.nr_env = 0;
	ec.net_user = false;
	ec.vm.verbose = true;
	ec.argc = 1;
	ec.workdir = NULL;
	ck_assert_int_eq(exec_job_encode(&ec, &buf, &len), 0);
	ck_assert_uint_eq(len, sizeof("kvmini-job\0" "1\0" "root\0" "initrd\0"
				      "workdir\0" "/\0" "net\0" "none\0"
				      "verbose\0" "1\0" "arg\0" "sh\0") - 1);
	ck_assert(!memcmp(buf + 18, "initrd\0workdir\0/\0net\0none\0verbose\0" "1\0", 34));
	free(buf);

	/* -t: "tty" "1" before the working directory; absent without. */
	ec.tty = true;
	ck_assert_int_eq(exec_job_encode(&ec, &buf, &len), 0);
	ck_assert(!memcmp(buf + 18, "initrd\0tty\0" "1\0workdir\0", 21));
	free(buf);
}
END_TEST


/* Length (LE), the entropy, then the spec, as the agent reads them. */
START_TEST(test_exec_job_frame)
{
	uint8_t entropy[EXEC_JOB_ENTROPY];
	char *buf;
	size_t len;

	for (unsigned int i = 0; i < sizeof(entropy); i++)
		entropy[i] = i + 1;
	ck_assert_int_eq(exec_job_frame("ab\0c", 4, entropy, &buf, &len), 0);
	ck_assert_uint_eq(len, 4 + EXEC_JOB_ENTROPY + 4);
	ck_assert(!memcmp(buf, "\4\0\0\0", 4));
	ck_assert(!memcmp(buf + 4, entropy, EXEC_JOB_ENTROPY));
	ck_assert(!memcmp(buf + 4 + EXEC_JOB_ENTROPY, "ab\0c", 4));
	free(buf);
	ck_assert_int_eq(exec_job_frame("", EXEC_JOB_MAX + 1, entropy, &buf, &len), -E2BIG);
}
END_TEST

/* A "ctl" message as the agent decodes it: the type, three zero bytes,
 * the value in 64-bit little-endian, whatever the bytes there before. */
START_TEST(test_exec_ctl_message)
{
	uint8_t m[EXEC_CTL_SIZE];

	memset(m, 0xff, sizeof(m));
	exec_ctl_encode(m, EXEC_CTL_EOF, 0x0102030405060708ULL);
	ck_assert(!memcmp(m, "E\0\0\0\x08\x07\x06\x05\x04\x03\x02\x01", EXEC_CTL_SIZE));
	exec_ctl_encode(m, EXEC_CTL_SIGNAL, SIGTERM);
	ck_assert(!memcmp(m, "S\0\0\0\x0f\0\0\0\0\0\0\0", EXEC_CTL_SIZE));
	exec_ctl_encode(m, EXEC_CTL_WINSIZE, 24 | 80 << 16);
	ck_assert(!memcmp(m, "W\0\0\0\x18\0\x50\0\0\0\0\0", EXEC_CTL_SIZE));
	exec_ctl_encode(m, EXEC_CTL_EOF, 0);
	ck_assert(!memcmp(m, "E\0\0\0\0\0\0\0\0\0\0\0", EXEC_CTL_SIZE));
}
END_TEST

/* What kvmini exec passes on, and what it cannot: SIGUSR1 kicks the
 * vCPUs, SIGKILL and SIGSTOP never reach it. */
START_TEST(test_exec_signals_forwarded)
{
	static const int yes[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2, SIGWINCH };
	static const int no[] = { SIGUSR1, SIGKILL, SIGSTOP, SIGPIPE, SIGCHLD, SIGSEGV, 0, -1, 65 };

	for (unsigned int i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		ck_assert_msg(exec_signal_forwarded(yes[i]), "signal %d", yes[i]);
	for (unsigned int i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		ck_assert_msg(!exec_signal_forwarded(no[i]), "signal %d", no[i]);
}
END_TEST

static char *key_of(const struct exec_config *ec, const struct stat *st)
{
	char *k = exec_cache_key(ec, "/k/bzImage", st, "v1");

	ck_assert_ptr_nonnull(k);
	return k;
}

/* Everything that shapes the VM changes the key; what the job carries
 * (command, environment, working directory, shares' host paths) not. */
START_TEST(test_exec_cache_key)
{
	char *argv[] = { "true", NULL }, *argv2[] = { "false", NULL };
	struct exec_config ec = {
		.vm = { .mem = 512ULL << 20, .cpus = 1, .cmdline = "quiet",
			.shares = { { .path = "/", .tag = "root", .ro = true, .as_nobody = true },
				    { .path = "/a", .tag = "share0" } },
			.nr_shares = 2 },
		.argv = argv, .argc = 1, .workdir = "/",
	};
	struct stat st = { .st_dev = 8, .st_ino = 42, .st_size = 2 << 20 };
	char *base = key_of(&ec, &st), *k;
	struct exec_config e;

	ck_assert_uint_eq(exec_cache_hash("", 0), 0xcbf29ce484222325ULL);
	ck_assert_uint_eq(exec_cache_hash("a", 1), 0xaf63dc4c8601ec8cULL);
	ck_assert(strstr(base, "version v1\n"));
	ck_assert(strstr(base, "kernel /k/bzImage dev 8 ino 42 size 2097152"));

	/* Per job: the same key. */
	e = ec;
	e.argv = argv2;
	e.env[0] = "K=V";
	e.nr_env = 1;
	e.workdir = "/tmp";
	e.vm.shares[1].path = "/elsewhere";
	e.vm.timeout = 9;
	k = key_of(&e, &st);
	ck_assert_str_eq(k, base);
	free(k);

#define KEY_CHANGES(stmt)						\
	do {								\
		struct stat s2 = st;					\
		e = ec;							\
		stmt;							\
		k = key_of(&e, &s2);					\
		ck_assert_msg(strcmp(k, base), "same key after " #stmt);	\
		free(k);						\
	} while (0)
	KEY_CHANGES(e.vm.mem <<= 1);
	KEY_CHANGES(e.vm.cpus = 2);
	KEY_CHANGES(e.vm.cmdline = "loglevel=7");
	KEY_CHANGES(e.vm.console = CONSOLE_STDERR);
	KEY_CHANGES(e.vm.shares[1].ro = true);
	KEY_CHANGES(e.vm.nr_shares = 1);
	KEY_CHANGES(e.net_user = true);
	KEY_CHANGES(e.vm.vsock.cid = 3);
	KEY_CHANGES(e.root = EXEC_ROOT_INITRD);
	KEY_CHANGES(s2.st_mtim.tv_nsec = 1);
	KEY_CHANGES(s2.st_ino = 43);
	KEY_CHANGES(s2.st_size = 1);
#undef KEY_CHANGES
	k = exec_cache_key(&ec, "/k/other", &st, "v1");
	ck_assert_str_ne(k, base);
	free(k);
	k = exec_cache_key(&ec, "/k/bzImage", &st, "v2");
	ck_assert_str_ne(k, base);
	free(k);
	free(base);
}
END_TEST

/* An entry is a hit only with its exact key text and its snapshot; a
 * dropped entry is gone. */
START_TEST(test_exec_cache_entry)
{
	struct exec_cache_entry e;
	char path[128], sub[160], *cdir;

	snprintf(path, sizeof(path), "%s/c/d", dir);
	cdir = exec_cache_dir(path);
	ck_assert_ptr_nonnull(cdir);
	ck_assert_str_eq(cdir, path);
	/* Another's, or writable by others: no cache. */
	ck_assert_int_eq(chmod(path, 0777), 0);
	ck_assert_ptr_null(exec_cache_dir(path));
	ck_assert_int_eq(chmod(path, 0700), 0);
	ck_assert_int_eq(exec_cache_entry(cdir, "key one\n", &e), 0);
	ck_assert_uint_eq(strlen(e.path), strlen(path) + 17);
	ck_assert(!exec_cache_hit(&e, "key one\n"));
	ck_assert_int_eq(exec_cache_put_key(&e, "key one\n"), 0);
	ck_assert(!exec_cache_hit(&e, "key one\n"));	/* no snapshot yet */
	ck_assert_int_eq(mkdir(e.path, 0700), 0);
	ck_assert(exec_cache_hit(&e, "key one\n"));
	ck_assert(!exec_cache_hit(&e, "key one\nmore"));
	ck_assert(!exec_cache_hit(&e, "key one"));
	snprintf(sub, sizeof(sub), "%s/state", e.path);
	ck_assert_int_eq(close(creat(sub, 0600)), 0);
	exec_cache_drop(&e);
	ck_assert_int_ne(access(e.path, F_OK), 0);
	ck_assert(!exec_cache_hit(&e, "key one\n"));
	ck_assert_int_eq(unlink(e.key_path), 0);
	exec_cache_entry_free(&e);
	ck_assert_int_eq(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/c", dir);
	ck_assert_int_eq(rmdir(path), 0);
	free(cdir);
}
END_TEST

static Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("options");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_exec_defaults);
	tcase_add_test(tc, test_exec_options);
	tcase_add_test(tc, test_exec_errors);
	tcase_add_test(tc, test_exec_help);
	suite_add_tcase(s, tc);

	tc = tcase_create("job");
	tcase_add_test(tc, test_exec_job_spec);
	tcase_add_test(tc, test_exec_job_frame);
	tcase_add_test(tc, test_exec_ctl_message);
	tcase_add_test(tc, test_exec_signals_forwarded);
	suite_add_tcase(s, tc);

	tc = tcase_create("cache");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_exec_cache_key);
	tcase_add_test(tc, test_exec_cache_entry);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(exec_suite)
