// SPDX-License-Identifier: GPL-2.0
/*
 * term_out_open(): non-blocking output that leaves the description the
 * shell shares as it was, or restores it (lib/term.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "lib/term.h"

static int fl(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	ck_assert_int_ge(flags, 0);
	return flags;
}

/* A pipe is opened again: kvmini's own description is non-blocking, the
 * shared one is untouched, and both lead to the same pipe. */
START_TEST(test_term_out_pipe)
{
	int p[2], out;
	char c = 0;

	ck_assert_int_eq(pipe(p), 0);
	out = term_out_open(p[1]);
	ck_assert_int_ge(out, 0);
	ck_assert_int_ne(out, p[1]);
	ck_assert(fl(out) & O_NONBLOCK);
	ck_assert(!(fl(p[1]) & O_NONBLOCK));
	ck_assert(fcntl(out, F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(write(out, "x", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	term_out_close(out, p[1]);
	ck_assert_int_eq(fcntl(out, F_GETFD), -1);
	ck_assert_int_ge(fcntl(p[1], F_GETFD), 0);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* /dev/null, a character device, is opened again too; a regular file
 * and a descriptor already non-blocking are used as they are. */
START_TEST(test_term_out_as_is)
{
	FILE *f = tmpfile();
	int null = open("/dev/null", O_WRONLY), p[2], out;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(null, 0);
	out = term_out_open(null);
	ck_assert_int_ne(out, null);
	ck_assert(fl(out) & O_NONBLOCK);
	term_out_close(out, null);

	ck_assert_int_eq(term_out_open(fileno(f)), fileno(f));
	ck_assert(!(fl(fileno(f)) & O_NONBLOCK));
	term_out_close(fileno(f), fileno(f));
	ck_assert_int_ge(fcntl(fileno(f), F_GETFD), 0);

	ck_assert_int_eq(pipe2(p, O_NONBLOCK), 0);
	ck_assert_int_eq(term_out_open(p[1]), p[1]);
	term_out_close(p[1], p[1]);
	ck_assert(fl(p[1]) & O_NONBLOCK);
	ck_assert_int_ge(fcntl(p[1], F_GETFD), 0);
	close(p[0]);
	close(p[1]);
	close(null);
	fclose(f);
}
END_TEST

/*
 * A socket cannot be opened again: its shared description gets
 * O_NONBLOCK, and its flags come back at term_out_close() or, on the
 * ways out that skip it, term_restore(). One such at a time.
 */
START_TEST(test_term_out_socket)
{
	int sv[2], sv2[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_APPEND), 0);
	ck_assert_int_eq(term_out_open(sv[1]), sv[1]);
	ck_assert_int_eq(fl(sv[1]) & (O_NONBLOCK | O_APPEND), O_NONBLOCK | O_APPEND);
	ck_assert_int_eq(term_out_open(sv2[1]), -EBUSY);
	ck_assert(!(fl(sv2[1]) & O_NONBLOCK));
	term_out_close(sv[1], sv[1]);
	ck_assert_int_eq(fl(sv[1]) & (O_NONBLOCK | O_APPEND), O_APPEND);
	ck_assert_int_ge(fcntl(sv[1], F_GETFD), 0);

	ck_assert_int_eq(term_out_open(sv2[1]), sv2[1]);
	ck_assert(fl(sv2[1]) & O_NONBLOCK);
	term_restore();
	ck_assert(!(fl(sv2[1]) & O_NONBLOCK));
	/* Restored once: closing afterwards changes nothing more. */
	ck_assert_int_eq(fcntl(sv2[1], F_SETFL, O_NONBLOCK), 0);
	term_out_close(sv2[1], sv2[1]);
	ck_assert(fl(sv2[1]) & O_NONBLOCK);
	close(sv[0]);
	close(sv[1]);
	close(sv2[0]);
	close(sv2[1]);
}
END_TEST

START_TEST(test_term_out_closed)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	close(p[1]);
	ck_assert_int_eq(term_out_open(p[1]), -EBADF);
	term_out_close(-1, p[1]);
}
END_TEST

static Suite *term_suite(void)
{
	Suite *s = suite_create("term");
	TCase *tc = tcase_create("out");

	tcase_add_test(tc, test_term_out_pipe);
	tcase_add_test(tc, test_term_out_as_is);
	tcase_add_test(tc, test_term_out_socket);
	tcase_add_test(tc, test_term_out_closed);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(term_suite)
