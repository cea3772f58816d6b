// SPDX-License-Identifier: GPL-2.0
/* Saved-state byte buffers: round trips, byte order, short reads. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "lib/sbuf.h"

static void put_all(struct sbuf *b)
{
	sbuf_put_u8(b, 0x12);
	sbuf_put_u16(b, 0x3456);
	sbuf_put_u32(b, 0x789abcde);
	sbuf_put_u64(b, 0x0123456789abcdefULL);
	sbuf_put(b, "tail", 4);
}

START_TEST(test_sbuf_round_trip)
{
	struct sbuf b = { 0 };
	struct sbuf_rd r;
	char tail[4];

	put_all(&b);
	ck_assert(sbuf_ok(&b));
	ck_assert_uint_eq(b.len, 1 + 2 + 4 + 8 + 4);
	/* Little-endian on the wire, whatever the host. */
	ck_assert_uint_eq(b.data[1], 0x56);
	ck_assert_uint_eq(b.data[2], 0x34);
	sbuf_rd_init(&r, b.data, b.len);
	ck_assert_uint_eq(sbuf_get_u8(&r), 0x12);
	ck_assert_uint_eq(sbuf_get_u16(&r), 0x3456);
	ck_assert_uint_eq(sbuf_get_u32(&r), 0x789abcde);
	ck_assert_uint_eq(sbuf_get_u64(&r), 0x0123456789abcdefULL);
	sbuf_get(&r, tail, 4);
	ck_assert(!memcmp(tail, "tail", 4));
	ck_assert(sbuf_rd_done(&r));
	sbuf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_sbuf_grows)
{
	struct sbuf b = { 0 };

	for (uint32_t i = 0; i < 100000; i++)
		sbuf_put_u32(&b, i);
	ck_assert(sbuf_ok(&b));
	ck_assert_uint_eq(b.len, 400000);
	ck_assert_uint_eq(b.data[4 * 99999], 99999 & 0xff);
	sbuf_free(&b);
}
END_TEST

/* Every truncation of a valid record: the reader goes bad, yields zeroes
 * for what is missing, and never reads past the end (ASan would see it). */
START_TEST(test_sbuf_truncated_everywhere)
{
	struct sbuf b = { 0 };

	put_all(&b);
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		struct sbuf_rd r;
		char tail[4];

		memcpy(copy, b.data, n);
		sbuf_rd_init(&r, copy, n);
		sbuf_get_u8(&r);
		sbuf_get_u16(&r);
		sbuf_get_u32(&r);
		ck_assert(sbuf_get_u64(&r) == 0 || n >= 15);
		sbuf_get(&r, tail, 4);
		ck_assert(r.bad);
		ck_assert(!sbuf_rd_done(&r));
		free(copy);
	}
	sbuf_free(&b);
}
END_TEST

START_TEST(test_sbuf_leftover_is_not_done)
{
	const uint8_t bytes[5] = { 1, 2, 3, 4, 5 };
	struct sbuf_rd r;

	sbuf_rd_init(&r, bytes, sizeof(bytes));
	ck_assert_uint_eq(sbuf_get_u32(&r), 0x04030201);
	ck_assert(!r.bad);
	ck_assert(!sbuf_rd_done(&r));
	/* Once bad, later gets give zeroes even where bytes remain. */
	sbuf_get_u64(&r);
	ck_assert(r.bad);
	ck_assert_uint_eq(sbuf_get_u8(&r), 0);
}
END_TEST

static Suite *sbuf_suite(void)
{
	Suite *s = suite_create("sbuf");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sbuf_round_trip);
	tcase_add_test(tc, test_sbuf_grows);
	tcase_add_test(tc, test_sbuf_truncated_everywhere);
	tcase_add_test(tc, test_sbuf_leftover_is_not_done);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(sbuf_suite)
