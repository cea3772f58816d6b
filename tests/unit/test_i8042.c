// SPDX-License-Identifier: GPL-2.0
/* The i8042 model, driven the way Linux's i8042 and reboot code do. */
#include <errno.h>
#include <string.h>

#include "lib/sbuf.h"

#include "unit.h"
#include "legacy/i8042.h"

#define DATA	0
#define CMD	4
#define STATUS	4

#define STS_OBF		0x01
#define STS_SYS		0x04
#define STS_CMD		0x08
#define STS_UNLOCKED	0x10
#define STS_AUXDATA	0x20

static struct i8042 *kbc;
static int nr_resets;

static void rec_reset(void *ctx)
{
	ck_assert_ptr_eq(ctx, &kbc);
	nr_resets++;
}

static const struct i8042_ops rec_ops = { .reset = rec_reset };

static void setup(void)
{
	nr_resets = 0;
	kbc = i8042_new(&rec_ops, &kbc);
	ck_assert_ptr_nonnull(kbc);
}

static void teardown(void)
{
	i8042_free(kbc);
	kbc = NULL;
}

static uint8_t rd(uint64_t off)
{
	uint8_t v = 0xff;

	i8042_access(kbc, off, &v, 1, false);
	return v;
}

static void wr(uint64_t off, uint8_t v)
{
	i8042_access(kbc, off, &v, 1, true);
}

/* A command with one result byte, read as i8042_command() does. */
static uint8_t command_result(uint8_t cmd)
{
	wr(CMD, cmd);
	ck_assert_uint_eq(rd(STATUS) & (STS_OBF | STS_AUXDATA), STS_OBF);
	return rd(DATA);
}

START_TEST(test_idle_status)
{
	uint8_t st = rd(STATUS);

	/* Nothing to read, input buffer free, no keylock, POST passed. */
	ck_assert_uint_eq(st & 0x03, 0);
	ck_assert_uint_eq(st & STS_UNLOCKED, STS_UNLOCKED);
	ck_assert_uint_eq(st & STS_SYS, STS_SYS);
	ck_assert_int_eq(nr_resets, 0);
}
END_TEST

START_TEST(test_reset)
{
	wr(CMD, 0xfe);
	ck_assert_int_eq(nr_resets, 1);
	wr(CMD, 0xfe);
	ck_assert_int_eq(nr_resets, 2);
	/* Pulses that leave bit 0 (reset) alone, and data bytes, do not. */
	wr(CMD, 0xff);
	wr(CMD, 0xfd);
	wr(DATA, 0xfe);
	ck_assert_int_eq(nr_resets, 2);
	/* Any pulse command with bit 0 clear includes the reset line. */
	wr(CMD, 0xf0);
	ck_assert_int_eq(nr_resets, 3);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
}
END_TEST

START_TEST(test_self_tests)
{
	ck_assert_uint_eq(command_result(0xaa), 0x55);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
	ck_assert_uint_eq(command_result(0xab), 0x00);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
}
END_TEST

START_TEST(test_command_byte)
{
	ck_assert_uint_eq(command_result(0x20), 0x45);
	wr(CMD, 0x60);
	ck_assert_uint_eq(rd(STATUS) & (STS_OBF | STS_CMD), STS_CMD);
	wr(DATA, 0x56);
	ck_assert_uint_eq(rd(STATUS) & STS_CMD, 0);
	ck_assert_uint_eq(command_result(0x20), 0x56);
	/* Linux re-reads until two reads agree. */
	ck_assert_uint_eq(command_result(0x20), 0x56);

	/* Status bit 2 follows the command byte's system flag. */
	wr(CMD, 0x60);
	wr(DATA, 0x00);
	ck_assert_uint_eq(rd(STATUS) & STS_SYS, 0);
	ck_assert_uint_eq(command_result(0x20), 0x00);
	/* A data byte with no command waiting goes to the keyboard. */
	wr(DATA, 0x44);
	ck_assert_uint_eq(command_result(0x20), 0x00);
}
END_TEST

START_TEST(test_port_enables)
{
	wr(CMD, 0xa7);
	ck_assert_uint_eq(command_result(0x20), 0x65);
	wr(CMD, 0xad);
	ck_assert_uint_eq(command_result(0x20), 0x75);
	wr(CMD, 0xa8);
	ck_assert_uint_eq(command_result(0x20), 0x55);
	wr(CMD, 0xae);
	ck_assert_uint_eq(command_result(0x20), 0x45);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
}
END_TEST

START_TEST(test_aux_loop)
{
	wr(CMD, 0xd3);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
	wr(DATA, 0x5a);
	ck_assert_uint_eq(rd(STATUS) & (STS_OBF | STS_AUXDATA),
			  STS_OBF | STS_AUXDATA);
	ck_assert_uint_eq(rd(DATA), 0x5a);
	ck_assert_uint_eq(rd(STATUS) & (STS_OBF | STS_AUXDATA), 0);
	/* Only the one byte loops back. */
	wr(DATA, 0xa5);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
}
END_TEST

START_TEST(test_unknown_command)
{
	wr(CMD, 0xc0);
	ck_assert_uint_eq(rd(STATUS) & STS_OBF, 0);
	/* A new command cancels one that was waiting for its data. */
	wr(CMD, 0x60);
	wr(CMD, 0xc7);
	wr(DATA, 0x00);
	ck_assert_uint_eq(command_result(0x20), 0x45);
	ck_assert_int_eq(nr_resets, 0);
}
END_TEST

START_TEST(test_odd_accesses)
{
	static const uint32_t lens[] = { 0, 1, 2, 4, 8 };
	uint8_t data[8];

	for (uint64_t off = 0; off < 12; off++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memset(data, 0xff, sizeof(data));
			i8042_access(kbc, off, data, lens[i], false);
			if (off != DATA && off != STATUS)
				ck_assert_uint_eq(data[0], 0xff);
			for (uint32_t j = 1; j < sizeof(data); j++)
				ck_assert_uint_eq(data[j], 0xff);
		}
	}
	/* Writes off the two ports, and empty ones, do nothing. */
	memset(data, 0xfe, sizeof(data));
	for (uint64_t off = 1; off < 4; off++)
		i8042_access(kbc, off, data, 1, true);
	i8042_access(kbc, CMD, data, 0, true);
	i8042_access(kbc, UINT64_MAX, data, 8, true);
	ck_assert_int_eq(nr_resets, 0);
	/* A wide write acts on its low byte. */
	i8042_access(kbc, CMD, data, 4, true);
	ck_assert_int_eq(nr_resets, 1);

	i8042_free(NULL);
	i8042_free(i8042_new(NULL, NULL));
}
END_TEST


START_TEST(test_state_round_trip)
{
	struct sbuf b = { 0 };

	wr(CMD, 0x60);
	wr(DATA, 0x47);
	wr(CMD, 0xd3);		/* aux loop: waits for its data byte */
	i8042_save(kbc, &b);
	ck_assert(sbuf_ok(&b));
	i8042_free(kbc);
	kbc = i8042_new(&rec_ops, &kbc);
	ck_assert_int_eq(i8042_load(kbc, b.data, b.len), 0);
	wr(DATA, 0x99);
	ck_assert_uint_eq(rd(STATUS) & (STS_OBF | STS_AUXDATA), STS_OBF | STS_AUXDATA);
	ck_assert_uint_eq(rd(DATA), 0x99);
	ck_assert_uint_eq(command_result(0x20), 0x47);

	for (size_t n = 0; n < b.len; n++)
		ck_assert_int_eq(i8042_load(kbc, b.data, n), -EINVAL);
	/* Left as at power-on: the firmware's command byte. */
	ck_assert_uint_eq(command_result(0x20), 0x45);
	b.data[5] = 0x02;	/* status: input buffer full, never ours */
	ck_assert_int_eq(i8042_load(kbc, b.data, b.len), -EINVAL);
	b.data[5] = 0;
	b.data[7] = 0xa8;	/* pending: a command that takes no data */
	ck_assert_int_eq(i8042_load(kbc, b.data, b.len), -EINVAL);
	sbuf_free(&b);
}
END_TEST

static Suite *i8042_suite(void)
{
	Suite *suite = suite_create("i8042");
	TCase *tc = tcase_create("controller");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_idle_status);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_self_tests);
	tcase_add_test(tc, test_command_byte);
	tcase_add_test(tc, test_port_enables);
	tcase_add_test(tc, test_aux_loop);
	tcase_add_test(tc, test_unknown_command);
	tcase_add_test(tc, test_odd_accesses);
	tcase_add_test(tc, test_state_round_trip);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(i8042_suite)
