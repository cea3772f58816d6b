// SPDX-License-Identifier: GPL-2.0
/*
 * --vsock CID[,uds=PATH] on kvmini run's command line: what it fills in,
 * and one error line naming the culprit for everything it refuses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"
#include "lib/config.h"

#define MAX_ARGS	8

struct run {
	int ret;
	char *out, *err;
	struct vm_config cfg;
};

static void parse(struct run *r, const char *const *args)
{
	char *argv[MAX_ARGS + 1];
	int argc = unit_argv(argv, MAX_ARGS, "kvmini", args);
	struct unit_capture_std c;

	unit_capture_std_begin(&c);
	r->ret = cli_parse(argc, argv, &r->cfg);
	unit_capture_std_end(&c, &r->out, &r->err);
}

#define PARSE(r, ...) parse(r, (const char *const[]){ "run", "--kernel", "k", __VA_ARGS__, NULL })

static void done(struct run *r)
{
	free(r->out);
	free(r->err);
}

START_TEST(test_vsock_none)
{
	struct run r;

	parse(&r, (const char *const[]){ "run", "--kernel", "k", NULL });
	ck_assert_int_eq(r.ret, 0);
	ck_assert_uint_eq(r.cfg.vsock.cid, 0);
	ck_assert_ptr_null(r.cfg.vsock.uds);
	done(&r);
}
END_TEST

START_TEST(test_vsock_ok)
{
	struct run r;

	PARSE(&r, "--vsock", "3");
	ck_assert_int_eq(r.ret, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_uint_eq(r.cfg.vsock.cid, 3);
	ck_assert_ptr_null(r.cfg.vsock.uds);
	done(&r);
	PARSE(&r, "--vsock", "4294967294,uds=/run/v,1.sock");
	ck_assert_int_eq(r.ret, 0);
	ck_assert_uint_eq(r.cfg.vsock.cid, 4294967294U);
	ck_assert_str_eq(r.cfg.vsock.uds, "/run/v,1.sock");
	done(&r);
}
END_TEST

START_TEST(test_vsock_bad)
{
	static const char *const bad[][2] = {
		{ "2", "CID must be a number from 3" },
		{ "0", "CID must be a number from 3" },
		{ "4294967295", "CID must be a number from 3" },
		{ "99999999999", "CID must be a number from 3" },
		{ "", "CID must be a number from 3" },
		{ "x", "CID must be a number from 3" },
		{ "-3", "CID must be a number from 3" },
		{ ",uds=/a", "CID must be a number from 3" },
		{ "3,", "only uds=PATH may follow" },
		{ "3,uds=", "only uds=PATH may follow" },
		{ "3,path=/a", "only uds=PATH may follow" },
	};
	struct run r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		PARSE(&r, "--vsock", bad[i][0]);
		ck_assert_int_eq(r.ret, -EINVAL);
		unit_check_error_line(r.out, r.err, "--vsock");
		ck_assert_msg(strstr(r.err, bad[i][1]), "'%s': %s", bad[i][0], r.err);
		done(&r);
	}
	PARSE(&r, "--vsock", "3", "--vsock", "4");
	ck_assert_int_eq(r.ret, -EINVAL);
	unit_check_error_line(r.out, r.err, "only one vsock device");
	done(&r);
}
END_TEST

static Suite *vsock_cli_suite(void)
{
	Suite *s = suite_create("virtio_vsock_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_test(tc, test_vsock_none);
	tcase_add_test(tc, test_vsock_ok);
	tcase_add_test(tc, test_vsock_bad);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(vsock_cli_suite)
