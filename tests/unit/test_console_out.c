// SPDX-License-Identifier: GPL-2.0
/*
 * The console's output buffer (vmm/console_out.c) in front of a
 * non-blocking pipe: one that takes everything, one nobody reads, one
 * read a little at a time, one whose reader has gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "vmm/console_out.h"

static int pfd[2];
static struct console_out *o;

static void setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	o = calloc(1, sizeof(*o));
	ck_assert_ptr_nonnull(o);
	console_out_init(o, pfd[1]);
}

static void teardown(void)
{
	console_out_destroy(o);
	free(o);
	if (pfd[0] >= 0)
		close(pfd[0]);
	close(pfd[1]);
}

/* Fills the pipe as a reader that stopped reading leaves it. */
static size_t fill_pipe(void)
{
	uint8_t junk[4096];
	size_t n = 0;
	ssize_t r;

	memset(junk, 'j', sizeof(junk));
	while ((r = write(pfd[1], junk, sizeof(junk))) > 0)
		n += r;
	ck_assert_int_eq(errno, EAGAIN);
	return n;
}

/* Reads up to max bytes (all there are with max 0) into buf, if any. */
static size_t read_pipe(uint8_t *buf, size_t max)
{
	uint8_t junk[4096];
	size_t n = 0;

	while (!max || n < max) {
		size_t want = max ? max - n : sizeof(junk);
		ssize_t r;

		if (want > sizeof(junk))
			want = sizeof(junk);
		r = read(pfd[0], buf ? buf + n : junk, want);
		if (r <= 0)
			break;
		n += r;
	}
	return n;
}

static size_t wr(const void *buf, size_t len, bool *wait)
{
	return console_out_write(o, buf, len, wait);
}

/* Nothing waits: the bytes go straight to the pipe. */
START_TEST(test_out_direct)
{
	uint8_t got[16];
	bool wait = false, room = false;

	ck_assert_uint_eq(wr("hello", 5, &wait), 5);
	ck_assert(!wait);
	ck_assert_uint_eq(read_pipe(got, 0), 5);
	ck_assert_mem_eq(got, "hello", 5);
	ck_assert_uint_eq(console_out_flush(o, &room), 0);
	ck_assert(!room);
	ck_assert_uint_eq(wr("", 0, &wait), 0);
}
END_TEST

/*
 * A reader that does not read: the buffer takes CONSOLE_OUT_SIZE bytes,
 * says once that they wait, then refuses; nothing is written, nothing
 * blocks. When the reader takes the pipe's bytes, the buffer follows, in
 * order, and the refused writer is owed its room call.
 */
START_TEST(test_out_full)
{
	static uint8_t data[CONSOLE_OUT_SIZE + 100], got[CONSOLE_OUT_SIZE + 100];
	size_t junk = fill_pipe();
	bool wait = false, room = false;

	unit_fill_random(data, sizeof(data), 17);
	ck_assert_uint_eq(wr(data, 5, &wait), 5);
	ck_assert(wait);
	wait = false;
	ck_assert_uint_eq(wr(data + 5, sizeof(data) - 5, &wait), CONSOLE_OUT_SIZE - 5);
	ck_assert(!wait);
	ck_assert_uint_eq(wr(data, 1, &wait), 0);
	ck_assert_uint_eq(console_out_flush(o, &room), CONSOLE_OUT_SIZE);
	ck_assert(!room);

	ck_assert_uint_eq(read_pipe(NULL, junk), junk);
	ck_assert_uint_eq(console_out_flush(o, &room), 0);
	ck_assert(room);
	ck_assert_uint_eq(read_pipe(got, 0), CONSOLE_OUT_SIZE);
	ck_assert_mem_eq(got, data, CONSOLE_OUT_SIZE);
	/* Empty again: straight to the pipe. */
	ck_assert_uint_eq(wr(data + CONSOLE_OUT_SIZE, 100, &wait), 100);
	ck_assert(!wait);
	ck_assert_uint_eq(read_pipe(got, 0), 100);
	ck_assert_mem_eq(got, data + CONSOLE_OUT_SIZE, 100);
}
END_TEST

/* The room call is due once the buffer is half empty, once per refusal. */
START_TEST(test_out_room_at_half)
{
	static uint8_t data[CONSOLE_OUT_SIZE];
	bool wait = false, room = false;
	size_t junk = fill_pipe();

	ck_assert_uint_ge(junk, CONSOLE_OUT_SIZE);
	ck_assert_uint_eq(wr(data, sizeof(data), &wait), sizeof(data));
	ck_assert_uint_eq(wr(data, 1, &wait), 0);
	/* A pipe takes whole pages: a quarter, then another. */
	ck_assert_uint_eq(read_pipe(NULL, CONSOLE_OUT_SIZE / 4), CONSOLE_OUT_SIZE / 4);
	ck_assert_uint_eq(console_out_flush(o, &room), CONSOLE_OUT_SIZE * 3 / 4);
	ck_assert(!room);
	ck_assert_uint_eq(read_pipe(NULL, CONSOLE_OUT_SIZE / 4), CONSOLE_OUT_SIZE / 4);
	ck_assert_uint_eq(console_out_flush(o, &room), CONSOLE_OUT_SIZE / 2);
	ck_assert(room);
	room = false;
	ck_assert_uint_eq(console_out_flush(o, &room), CONSOLE_OUT_SIZE / 2);
	ck_assert(!room);
	/* No refusal since: nothing is owed. */
	ck_assert_uint_eq(read_pipe(NULL, 0), junk);
	ck_assert_uint_eq(console_out_flush(o, &room), 0);
	ck_assert(!room);
}
END_TEST

/*
 * A one-page pipe read in odd amounts while writes of odd sizes go on:
 * partial writes, EAGAIN, the ring wrapping round many times, and every
 * byte arrives once, in order.
 */
START_TEST(test_out_partial_wrap)
{
	enum { TOTAL = 8 * CONSOLE_OUT_SIZE + 333 };
	static uint8_t data[TOTAL], got[TOTAL];
	uint64_t rnd = 99;
	size_t sent = 0, recv = 0, refusals = 0, rooms = 0;
	bool owed = false;

	ck_assert_int_ge(fcntl(pfd[1], F_SETPIPE_SZ, 4096), 4096);
	unit_fill_random(data, sizeof(data), 5);
	while (recv < TOTAL) {
		size_t len = unit_rand(&rnd) % 3000 + 1, n;
		bool wait = false, room = false;

		if (len > TOTAL - sent)
			len = TOTAL - sent;
		if (len) {
			n = wr(data + sent, len, &wait);
			sent += n;
			if (n < len) {
				refusals++;
				owed = true;
			}
		}
		recv += read_pipe(got + recv, unit_rand(&rnd) % 1500 + 1);
		console_out_flush(o, &room);
		if (room) {
			ck_assert(owed);
			owed = false;
			rooms++;
		}
		ck_assert_uint_le(recv, sent);
	}
	ck_assert_mem_eq(got, data, TOTAL);
	ck_assert_uint_gt(refusals, 0);
	ck_assert_uint_gt(rooms, 0);
}
END_TEST

/* The reader goes away (EPIPE): what waits and all that follows is
 * discarded, and a refused writer is released. */
START_TEST(test_out_reader_gone)
{
	static uint8_t data[CONSOLE_OUT_SIZE + 1];
	bool wait = false, room = false;

	fill_pipe();
	ck_assert_uint_eq(wr(data, sizeof(data), &wait), CONSOLE_OUT_SIZE);
	close(pfd[0]);
	pfd[0] = -1;
	ck_assert_uint_eq(console_out_flush(o, &room), 0);
	ck_assert(room);
	wait = false;
	ck_assert_uint_eq(wr(data, sizeof(data), &wait), sizeof(data));
	ck_assert(!wait);
	ck_assert_uint_eq(console_out_discard(o), 0);
}
END_TEST

/* No descriptor (--console none): everything is taken, nothing waits. */
START_TEST(test_out_nowhere)
{
	struct console_out *none = calloc(1, sizeof(*none));
	bool wait = false, room = false;

	ck_assert_ptr_nonnull(none);
	console_out_init(none, -1);
	ck_assert_uint_eq(console_out_write(none, (const uint8_t *)"abc", 3, &wait), 3);
	ck_assert(!wait);
	ck_assert_uint_eq(console_out_flush(none, &room), 0);
	console_out_destroy(none);
	free(none);
}
END_TEST

/* The end: what the reader never took is discarded and counted. */
START_TEST(test_out_discard)
{
	bool wait = false;

	fill_pipe();
	ck_assert_uint_eq(wr("12345", 5, &wait), 5);
	ck_assert_uint_eq(console_out_discard(o), 5);
	ck_assert_uint_eq(console_out_discard(o), 0);
}
END_TEST

#define THREAD_BYTES	(1 << 18)

static uint8_t thread_data[THREAD_BYTES];

/* A vCPU's UART output: a byte at a time, offered again when refused. */
static void *writer(void *arg)
{
	(void)arg;
	for (size_t sent = 0; sent < THREAD_BYTES;) {
		bool wait = false;

		if (console_out_write(o, thread_data + sent, 1, &wait))
			sent++;
		else
			usleep(50);
	}
	return NULL;
}

/* A vCPU thread writing while the I/O thread flushes and the reader
 * reads: every byte once, in order. */
START_TEST(test_out_threads)
{
	static uint8_t got[THREAD_BYTES];
	size_t recv = 0;
	pthread_t t;

	unit_fill_random(thread_data, sizeof(thread_data), 3);
	ck_assert_int_eq(pthread_create(&t, NULL, writer, NULL), 0);
	while (recv < THREAD_BYTES) {
		bool room = false;

		recv += read_pipe(got + recv, THREAD_BYTES - recv);
		console_out_flush(o, &room);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_mem_eq(got, thread_data, THREAD_BYTES);
}
END_TEST

static Suite *console_out_suite(void)
{
	Suite *s = suite_create("console_out");
	TCase *tc = tcase_create("buffer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_out_direct);
	tcase_add_test(tc, test_out_full);
	tcase_add_test(tc, test_out_room_at_half);
	tcase_add_test(tc, test_out_partial_wrap);
	tcase_add_test(tc, test_out_reader_gone);
	tcase_add_test(tc, test_out_nowhere);
	tcase_add_test(tc, test_out_discard);
	tcase_add_test(tc, test_out_threads);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(console_out_suite)
