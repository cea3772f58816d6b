// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 Image header parser (arch/arm64/image.c, built into the unit tests
 * on any host): the real guest Image, then the same header broken in every
 * way the parser must notice, truncated, and filled with noise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"
#include "arch/arm64/arm64.h"

#define OFF_TEXT_OFFSET		8
#define OFF_IMAGE_SIZE		16
#define OFF_FLAGS		24
#define OFF_MAGIC		56

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* A valid header on a 1 MiB "kernel": 4K pages, placed anywhere. */
static uint8_t *fake_image(size_t *size)
{
	uint8_t *buf;

	*size = 1 << 20;
	buf = calloc(1, *size);
	ck_assert_ptr_nonnull(buf);
	put_le64(buf + OFF_TEXT_OFFSET, 0);
	put_le64(buf + OFF_IMAGE_SIZE, 3 << 20);
	put_le64(buf + OFF_FLAGS, 1 << 1 | 1 << 3);
	memcpy(buf + OFF_MAGIC, "ARM\x64", 4);
	return buf;
}

static void parse_fails(const uint8_t *buf, size_t size, int want, const char *want_why)
{
	struct arm64_image img;
	const char *why = NULL;
	int err = arm64_image_parse(buf, size, &img, &why);

	ck_assert_int_eq(err, want);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, want_why), "why is \"%s\", want \"%s\"", why, want_why);
}

/* The guest kernel this project builds: 4K pages, text_offset 0. */
START_TEST(test_real_image)
{
	struct arm64_image img;
	const char *why = NULL;
	size_t size;
	uint8_t *buf = unit_read_arm64_guest_file("Image", &size);

	ck_assert_int_eq(arm64_image_parse(buf, size, &img, &why), 0);
	ck_assert_uint_eq(img.text_offset, 0);
	ck_assert_uint_eq(img.mem_size, get_le64(buf + OFF_IMAGE_SIZE));
	/* image_size covers the BSS, which the file does not hold. */
	ck_assert_uint_gt(img.mem_size, size);
	ck_assert_uint_eq(img.page_size, 4096);
	ck_assert(img.anywhere);
	free(buf);
}
END_TEST

START_TEST(test_fake_image)
{
	struct arm64_image img;
	const char *why = NULL;
	size_t size;
	uint8_t *buf = fake_image(&size);

	ck_assert_int_eq(arm64_image_parse(buf, size, &img, &why), 0);
	ck_assert_uint_eq(img.text_offset, 0);
	ck_assert_uint_eq(img.mem_size, 3 << 20);
	ck_assert_uint_eq(img.page_size, 4096);
	ck_assert(img.anywhere);
	free(buf);
}
END_TEST

/* flags bits 1-2: 0 = not said, 1 = 4K, 2 = 16K, 3 = 64K. */
START_TEST(test_page_sizes)
{
	static const unsigned int want[] = { 0, 4096, 16384, 65536 };
	struct arm64_image img;
	const char *why;
	size_t size;
	uint8_t *buf = fake_image(&size);

	put_le64(buf + OFF_FLAGS, (uint64_t)_i << 1);
	ck_assert_int_eq(arm64_image_parse(buf, size, &img, &why), 0);
	ck_assert_uint_eq(img.page_size, want[_i]);
	ck_assert(!img.anywhere);
	free(buf);
}
END_TEST

/* A kernel before 3.17: image_size 0 means text_offset 0x80000, whatever
 * the field says, and no more than the file is known to be needed. */
START_TEST(test_old_kernel)
{
	struct arm64_image img;
	const char *why;
	size_t size;
	uint8_t *buf = fake_image(&size);

	put_le64(buf + OFF_IMAGE_SIZE, 0);
	put_le64(buf + OFF_TEXT_OFFSET, 0x8000000000000ULL);	/* big-endian 0x80000 */
	put_le64(buf + OFF_FLAGS, 1);	/* no flags field back then */
	ck_assert_int_eq(arm64_image_parse(buf, size, &img, &why), 0);
	ck_assert_uint_eq(img.text_offset, 0x80000);
	ck_assert_uint_eq(img.mem_size, size);
	free(buf);
}
END_TEST

/* A signature appended past image_size: the whole file still loads. */
START_TEST(test_image_size_below_file)
{
	struct arm64_image img;
	const char *why;
	size_t size;
	uint8_t *buf = fake_image(&size);

	put_le64(buf + OFF_IMAGE_SIZE, size - 4096);
	ck_assert_int_eq(arm64_image_parse(buf, size, &img, &why), 0);
	ck_assert_uint_eq(img.mem_size, size);
	free(buf);
}
END_TEST

struct corruption {
	unsigned int off;
	uint64_t value;
	int want;
	const char *why;
};

static const struct corruption corruptions[] = {
	{ OFF_MAGIC, 0x644d5240, -ENOEXEC, "magic" },
	{ OFF_MAGIC, 0x41524d64, -ENOEXEC, "magic" },	/* byte-swapped */
	{ OFF_FLAGS, 1 << 0 | 1 << 1, -EINVAL, "big-endian" },
	{ OFF_TEXT_OFFSET, 0x1001, -EINVAL, "text_offset" },
	{ OFF_TEXT_OFFSET, 0x200000, -EINVAL, "text_offset" },
	{ OFF_TEXT_OFFSET, ~0ULL, -EINVAL, "text_offset" },
	{ OFF_IMAGE_SIZE, (1ULL << 40) + 1, -EINVAL, "image_size" },
	{ OFF_IMAGE_SIZE, ~0ULL, -EINVAL, "image_size" },
};

START_TEST(test_corrupt)
{
	const struct corruption *c = &corruptions[_i];
	size_t size;
	uint8_t *buf = fake_image(&size);

	if (c->off == OFF_MAGIC) {
		uint8_t m[4] = { c->value, c->value >> 8, c->value >> 16, c->value >> 24 };

		memcpy(buf + OFF_MAGIC, m, 4);
	} else {
		put_le64(buf + c->off, c->value);
	}
	parse_fails(buf, size, c->want, c->why);
	free(buf);
}
END_TEST

/* Every length short of a header, each in a buffer of exactly that size
 * (ASan sees any read past it under make check-sanitize). */
START_TEST(test_truncated)
{
	size_t size;
	uint8_t *img = unit_read_arm64_guest_file("Image", &size);

	for (size_t len = 0; len < ARM64_IMAGE_HDR_SIZE; len++) {
		uint8_t *buf = unit_memdup(img, len);

		parse_fails(buf, len, -ENOEXEC, "not an arm64 Linux Image");
		free(buf);
	}
	free(img);
}
END_TEST

/* Another architecture's kernel is refused as not an Image at all. */
START_TEST(test_x86_kernel)
{
	size_t size;
	uint8_t *buf = unit_read_guest_file("bzImage", &size);

	parse_fails(buf, size, -ENOEXEC, "not an arm64 Linux Image");
	free(buf);
}
END_TEST

/* Noise with the magic in place: accepted or refused with a reason, and
 * what it accepts is within the limits the loader relies on. */
START_TEST(test_noise)
{
	uint8_t buf[ARM64_IMAGE_HDR_SIZE];

	for (uint64_t seed = 1; seed <= 2000; seed++) {
		struct arm64_image img;
		const char *why = NULL;
		int err;

		unit_fill_random(buf, sizeof(buf), seed);
		memcpy(buf + OFF_MAGIC, "ARM\x64", 4);
		err = arm64_image_parse(buf, sizeof(buf), &img, &why);
		if (err) {
			ck_assert_int_eq(err, -EINVAL);
			ck_assert_ptr_nonnull(why);
			continue;
		}
		ck_assert_uint_lt(img.text_offset, ARM64_KERNEL_ALIGN);
		ck_assert_uint_eq(img.text_offset % 4096, 0);
		ck_assert_uint_ge(img.mem_size, sizeof(buf));
		ck_assert_uint_le(img.mem_size, ARM64_IPA_LIMIT);
	}
}
END_TEST

static Suite *arm64_image_suite(void)
{
	Suite *s = suite_create("arm64_image");
	TCase *real = tcase_create("real");
	TCase *tc = tcase_create("parse");

	/* The guest builds' Image and bzImage. */
	tcase_set_tags(real, UNIT_TAG_KERNEL);
	tcase_add_test(real, test_real_image);
	tcase_add_test(real, test_truncated);
	tcase_add_test(real, test_x86_kernel);
	suite_add_tcase(s, real);
	tcase_add_test(tc, test_fake_image);
	tcase_add_loop_test(tc, test_page_sizes, 0, 4);
	tcase_add_test(tc, test_old_kernel);
	tcase_add_test(tc, test_image_size_below_file);
	tcase_add_loop_test(tc, test_corrupt, 0, sizeof(corruptions) / sizeof(corruptions[0]));
	tcase_add_test(tc, test_noise);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(arm64_image_suite)
