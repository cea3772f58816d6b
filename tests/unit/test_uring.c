// SPDX-License-Identifier: GPL-2.0
/*
 * lib/uring.c on this host's io_uring: a confined ring does what its spec
 * allows, on its registered file, and the kernel refuses everything else:
 * other operations, plain file descriptors, other SQE flags, and new
 * registrations.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "lib/uring.h"

static struct uring u;
static char path[64];
static int fd = -1;

static const uint8_t read_write[] = { IORING_OP_READ, IORING_OP_WRITE };

static void setup_ring(uint8_t sqe_flags)
{
	const char *dir = getenv("TMPDIR");
	struct uring_spec spec = {
		.name = "test",
		.entries = 8,
		.files = &fd,
		.nr_files = 1,
		.ops = read_write,
		.nr_ops = sizeof(read_write),
		.sqe_flags = sqe_flags,
	};

	snprintf(path, sizeof(path), "%s/kvmini-uring-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "kvmini", 6, 0), 6);
	ck_assert_int_eq(uring_init(&u, &spec), 0);
}

static void teardown(void)
{
	uring_exit(&u);
	if (fd >= 0)
		close(fd);
	fd = -1;
	unlink(path);
}

/* Submits sqe's batch and returns the one completion's result. */
static int run_one(void)
{
	struct io_uring_cqe *cqe;
	int res;

	ck_assert_int_eq(io_uring_submit_and_wait(&u.ring, 1), 1);
	ck_assert_int_eq(io_uring_peek_cqe(&u.ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(&u.ring, cqe);
	return res;
}

static struct io_uring_sqe *sqe(void)
{
	struct io_uring_sqe *s = io_uring_get_sqe(&u.ring);

	ck_assert_ptr_nonnull(s);
	return s;
}

START_TEST(allowed_read_on_the_registered_file)
{
	char buf[8] = { 0 };
	struct io_uring_sqe *s;
	struct pollfd p;

	setup_ring(0);
	ck_assert(uring_has_op(&u, IORING_OP_READ));
	ck_assert(!uring_has_op(&u, IORING_OP_OPENAT));
	s = sqe();
	io_uring_prep_read(s, 0, buf, 6, 0);
	s->flags |= IOSQE_FIXED_FILE;
	ck_assert_int_eq(run_one(), 6);
	ck_assert_str_eq(buf, "kvmini");
	/* The completion was signalled on the eventfd. */
	p = (struct pollfd){ .fd = u.efd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 0), 1);
	teardown();
}
END_TEST

START_TEST(forbidden_opcode_refused)
{
	struct io_uring_sqe *s;

	setup_ring(0);
	s = sqe();
	io_uring_prep_fsync(s, 0, 0);
	s->flags |= IOSQE_FIXED_FILE;
	ck_assert_int_eq(run_one(), -EACCES);
	s = sqe();
	io_uring_prep_openat(s, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	s->flags |= IOSQE_FIXED_FILE;
	ck_assert_int_eq(run_one(), -EACCES);
	s = sqe();
	io_uring_prep_nop(s);
	ck_assert_int_eq(run_one(), -EACCES);
	teardown();
}
END_TEST

/* The file the process has open, named by its descriptor, is not the
 * ring's: only the registered one, by index, is. */
START_TEST(plain_fd_refused)
{
	char buf[8];
	struct io_uring_sqe *s;

	setup_ring(0);
	s = sqe();
	io_uring_prep_read(s, fd, buf, 6, 0);
	ck_assert_int_eq(run_one(), -EACCES);
	teardown();
}
END_TEST

START_TEST(sqe_flags_limited)
{
	char buf[8];
	struct io_uring_sqe *s;

	setup_ring(0);
	s = sqe();
	io_uring_prep_read(s, 0, buf, 6, 0);
	s->flags |= IOSQE_FIXED_FILE | IOSQE_IO_DRAIN;
	ck_assert_int_eq(run_one(), -EACCES);
	teardown();

	setup_ring(IOSQE_IO_DRAIN);
	s = sqe();
	io_uring_prep_read(s, 0, buf, 6, 0);
	s->flags |= IOSQE_FIXED_FILE | IOSQE_IO_DRAIN;
	ck_assert_int_eq(run_one(), 6);
	teardown();
}
END_TEST

START_TEST(registrations_closed)
{
	int files[1] = { -1 };

	setup_ring(0);
	ck_assert_int_eq(io_uring_register_eventfd(&u.ring, u.efd), -EACCES);
	ck_assert_int_eq(io_uring_register_files(&u.ring, files, 1), -EACCES);
	/* Giving the file back is the one registration left. */
	ck_assert_int_eq(io_uring_unregister_files(&u.ring), 0);
	teardown();
}
END_TEST

/* Released at uring_exit(), not later by the kernel's ring tear-down:
 * the last reference, so a lock on it goes at once. */
START_TEST(exit_releases_the_file)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int other;

	setup_ring(0);
	ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
	close(fd);
	fd = -1;
	other = open(path, O_RDWR);
	ck_assert_int_ge(other, 0);
	ck_assert_int_eq(fcntl(other, F_OFD_SETLK, &fl), -1);
	uring_exit(&u);
	ck_assert_int_eq(fcntl(other, F_OFD_SETLK, &fl), 0);
	close(other);
	teardown();
}
END_TEST

/* What a probe's completion says, whatever kernel this is. */
START_TEST(cancel_any_results)
{
	ck_assert_int_eq(uring_cancel_any_says(0), 1);
	ck_assert_int_eq(uring_cancel_any_says(-ENOENT), 1);
	ck_assert_int_eq(uring_cancel_any_says(-EINVAL), 0);
	ck_assert_int_eq(uring_cancel_any_says(-EACCES), -EACCES);
}
END_TEST

/*
 * The real probe, on a confined ring with the cancel allowed and fixed
 * files required, as the tap's ring is. The hosts kvmini is built and
 * tested on run Linux 5.19 or later (Debian 12: 6.1), so it must say
 * yes here; and it leaves the ring idle, its eventfd quiet.
 */
START_TEST(cancel_any_probe)
{
	static const uint8_t ops[] = { IORING_OP_READ, IORING_OP_ASYNC_CANCEL };
	const char *dir = getenv("TMPDIR");
	struct uring_spec spec = {
		.name = "test", .entries = 8,
		.files = &fd, .nr_files = 1, .ops = ops, .nr_ops = sizeof(ops),
	};
	struct io_uring_cqe *cqe;
	uint64_t v;

	snprintf(path, sizeof(path), "%s/kvmini-uring-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(uring_init(&u, &spec), 0);
	ck_assert(uring_has_op(&u, IORING_OP_ASYNC_CANCEL));
	ck_assert_int_eq(uring_probe_cancel_any(&u), 1);
	ck_assert_int_eq(io_uring_peek_cqe(&u.ring, &cqe), -EAGAIN);
	ck_assert_int_lt(read(u.efd, &v, sizeof(v)), 0);
	ck_assert_int_eq(errno, EAGAIN);
	/* A cancel flag this kernel does not know gets -EINVAL, as
	 * IORING_ASYNC_CANCEL_ANY does before 5.19: the probe's "no". */
	{
		struct io_uring_sqe *s = sqe();

		io_uring_prep_cancel64(s, 0, 1U << 30);
		s->flags |= IOSQE_FIXED_FILE;
		ck_assert_int_eq(uring_cancel_any_says(run_one()), 0);
	}
	teardown();
}
END_TEST

/*
 * The io-wq bound is the submitting thread's, not the ring's: a ring
 * that never registered one reports the bound u registered (asking with
 * zeros reads the thread's bound), and another bound registered on it
 * is the thread's, u's included. Hence one bound for every ring
 * (URING_IOWQ_WORKERS). u is restricted, so the asking is on the other.
 */
START_TEST(iowq_bound_is_the_threads)
{
	unsigned int two[2] = { 2, 2 }, ask[2] = { 0, 0 };
	struct io_uring other;

	setup_ring(0);
	ck_assert_int_eq(io_uring_queue_init(4, &other, 0), 0);
	ck_assert_int_eq(io_uring_register_iowq_max_workers(&other, ask), 0);
	ck_assert_uint_eq(ask[0], URING_IOWQ_WORKERS);
	ck_assert_uint_eq(ask[1], URING_IOWQ_WORKERS);
	ck_assert_int_eq(io_uring_register_iowq_max_workers(&other, two), 0);
	ask[0] = ask[1] = 0;
	ck_assert_int_eq(io_uring_register_iowq_max_workers(&other, ask), 0);
	ck_assert_uint_eq(ask[0], 2);
	ck_assert_uint_eq(ask[1], 2);
	io_uring_queue_exit(&other);
	teardown();
}
END_TEST

static Suite *uring_suite(void)
{
	Suite *s = suite_create("uring");
	TCase *tc = tcase_create("restricted");

	tcase_add_test(tc, allowed_read_on_the_registered_file);
	tcase_add_test(tc, forbidden_opcode_refused);
	tcase_add_test(tc, plain_fd_refused);
	tcase_add_test(tc, sqe_flags_limited);
	tcase_add_test(tc, registrations_closed);
	tcase_add_test(tc, exit_releases_the_file);
	tcase_add_test(tc, cancel_any_results);
	tcase_add_test(tc, cancel_any_probe);
	tcase_add_test(tc, iowq_bound_is_the_threads);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(uring_suite)
