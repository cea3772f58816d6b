// SPDX-License-Identifier: GPL-2.0
/*
 * bzImage parser: the real guest kernel must parse, and every way a file
 * can lie in its setup header must be caught. Corrupted copies are
 * allocated at their exact size so that ASan sees any read past the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util.h"
#include "arch/x86/x86.h"

/* Offsets from Documentation/x86/boot.rst, kept apart from the kernel's
 * struct so that a wrong struct layout would show. */
#define OFF_SETUP_SECTS		0x1f1
#define OFF_SYSSIZE		0x1f4
#define OFF_BOOT_FLAG		0x1fe
#define OFF_JUMP		0x200
#define OFF_HEADER		0x202
#define OFF_VERSION		0x206
#define OFF_LOADFLAGS		0x211
#define OFF_XLOADFLAGS		0x236
#define OFF_PREF_ADDRESS	0x258
#define OFF_INIT_SIZE		0x260
#define HDR_END			0x26c	/* end of protocol 2.15's header */

static uint8_t *img;
static size_t img_size;

static void setup(void)
{
	img = unit_read_guest_file("bzImage", &img_size);
}

static void teardown(void)
{
	free(img);
}

static uint64_t get(const uint8_t *buf, size_t off, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, buf + off, len);
	return v;
}

static void put(uint8_t *buf, size_t off, uint64_t v, size_t len)
{
	memcpy(buf + off, &v, len);
}

/* Parses buf and checks the error and that a reason was given. */
static void expect_err(const uint8_t *buf, size_t size, int err)
{
	struct bzimage bz;
	const char *why = NULL;

	ck_assert_int_eq(bzimage_parse(buf, size, &bz, &why), err);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_ne(why, "");
}

/* A copy of the real image with one header field changed. */
static void expect_field_err(size_t off, uint64_t v, size_t len, int err)
{
	uint8_t *copy = unit_memdup(img, img_size);

	put(copy, off, v, len);
	expect_err(copy, img_size, err);
	free(copy);
}

START_TEST(test_real_bzimage)
{
	unsigned int sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
	size_t setup = (sects + 1) * 512;
	size_t hdr_end = OFF_JUMP + 2 + img[OFF_JUMP + 1];
	uint64_t init_size = get(img, OFF_INIT_SIZE, 4);
	const char *why = NULL;
	struct bzimage bz;

	ck_assert_int_eq(bzimage_parse(img, img_size, &bz, &why), 0);
	ck_assert_ptr_eq(bz.hdr, img + OFF_SETUP_SECTS);
	ck_assert_uint_eq(bz.load_addr, get(img, OFF_PREF_ADDRESS, 8));
	ck_assert_uint_ge(bz.load_addr, X86_HIMEM_START);
	ck_assert_uint_eq(bz.load_addr % 4096, 0);
	/* The jump at 0x200 skips the header: its length must cover at
	 * least init_size (protocol 2.12+) and stay inside the struct. */
	ck_assert_uint_eq(bz.hdr_len, (hdr_end < HDR_END ? hdr_end : HDR_END) - OFF_SETUP_SECTS);
	ck_assert_uint_ge(bz.hdr_len, OFF_INIT_SIZE + 4 - OFF_SETUP_SECTS);
	ck_assert_uint_le(bz.hdr_len, sizeof(struct setup_header));
	ck_assert_ptr_eq(bz.kernel, img + setup);
	ck_assert_uint_eq(bz.kernel_size, img_size - setup);
	ck_assert_uint_ge(bz.kernel_size, get(img, OFF_SYSSIZE, 4) * 16);
	ck_assert_uint_ge(bz.mem_size, bz.kernel_size);
	ck_assert_uint_eq(bz.mem_size, init_size > bz.kernel_size ? init_size : bz.kernel_size);
}
END_TEST

START_TEST(test_too_small)
{
	uint8_t *copy = unit_memdup(img, 100);

	expect_err(copy, 100, -ENOEXEC);
	free(copy);
	/* One byte short of the whole setup header. */
	copy = unit_memdup(img, OFF_SETUP_SECTS + sizeof(struct setup_header) - 1);
	expect_err(copy, OFF_SETUP_SECTS + sizeof(struct setup_header) - 1, -ENOEXEC);
	free(copy);
	expect_err(img, 0, -ENOEXEC);
}
END_TEST

START_TEST(test_bad_magic)
{
	expect_field_err(OFF_BOOT_FLAG, 0x55aa, 2, -ENOEXEC);
	expect_field_err(OFF_BOOT_FLAG, 0, 2, -ENOEXEC);
	expect_field_err(OFF_HEADER, 0x53726449, 4, -ENOEXEC);
	expect_field_err(OFF_HEADER, 0, 4, -ENOEXEC);
}
END_TEST

START_TEST(test_old_protocol)
{
	uint8_t *copy = unit_memdup(img, img_size);
	struct bzimage bz;
	const char *why;

	expect_field_err(OFF_VERSION, 0x0200, 2, -EINVAL);
	expect_field_err(OFF_VERSION, 0x020b, 2, -EINVAL);
	/* 2.12 is the oldest that is enough. */
	put(copy, OFF_VERSION, 0x020c, 2);
	ck_assert_int_eq(bzimage_parse(copy, img_size, &bz, &why), 0);
	free(copy);
}
END_TEST

START_TEST(test_flags)
{
	uint64_t xl = get(img, OFF_XLOADFLAGS, 2);
	uint64_t lf = get(img, OFF_LOADFLAGS, 1);

	ck_assert(xl & XLF_KERNEL_64);
	ck_assert(lf & LOADED_HIGH);
	expect_field_err(OFF_XLOADFLAGS, xl & ~XLF_KERNEL_64, 2, -EINVAL);
	expect_field_err(OFF_LOADFLAGS, lf & ~LOADED_HIGH, 1, -EINVAL);
}
END_TEST

START_TEST(test_setup_past_eof)
{
	size_t size = 64 * 1024;
	uint8_t *copy = unit_memdup(img, size);

	/* 255 sectors of setup do not fit in 64 KiB. */
	put(copy, OFF_SETUP_SECTS, 255, 1);
	expect_err(copy, size, -EINVAL);
	free(copy);

	/* Setup exactly as long as the file leaves no kernel at all, even
	 * with a syssize that claims none. */
	size = 8 * 512;
	copy = unit_memdup(img, size);
	put(copy, OFF_SETUP_SECTS, 7, 1);
	put(copy, OFF_SYSSIZE, 0, 4);
	expect_err(copy, size, -EINVAL);
	free(copy);
}
END_TEST

START_TEST(test_truncated)
{
	uint64_t syssize = get(img, OFF_SYSSIZE, 4);
	unsigned int sects = img[OFF_SETUP_SECTS] ? img[OFF_SETUP_SECTS] : 4;
	size_t need = (sects + 1) * 512 + syssize * 16;
	uint8_t *copy;

	ck_assert_uint_le(need, img_size);
	copy = unit_memdup(img, need - 1);
	expect_err(copy, need - 1, -EINVAL);
	free(copy);
	copy = unit_memdup(img, img_size / 2);
	expect_err(copy, img_size / 2, -EINVAL);
	free(copy);
	/* A syssize larger than the file, in a complete copy. */
	expect_field_err(OFF_SYSSIZE, 0xffffffff, 4, -EINVAL);
}
END_TEST

START_TEST(test_pref_address)
{
	uint8_t *copy = unit_memdup(img, img_size);
	const uint64_t good[] = { X86_HIMEM_START, X86_MMIO_HOLE - 4096 };
	struct bzimage bz;
	const char *why;

	expect_field_err(OFF_PREF_ADDRESS, 0, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, X86_HIMEM_START - 4096, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, X86_MMIO_HOLE, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, X86_DEV_BASE, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, X86_IOAPIC_ADDR, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, X86_4G, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, UINT64_MAX & ~0xfffULL, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, 0x1000001, 8, -EINVAL);
	expect_field_err(OFF_PREF_ADDRESS, 0x1000800, 8, -EINVAL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		put(copy, OFF_PREF_ADDRESS, good[i], 8);
		ck_assert_int_eq(bzimage_parse(copy, img_size, &bz, &why), 0);
		ck_assert_uint_eq(bz.load_addr, good[i]);
	}
	free(copy);
}
END_TEST

/* setup_sects 0 means 4, as it did for the oldest boot sectors. */
START_TEST(test_setup_sects_zero)
{
	uint8_t *copy = unit_memdup(img, img_size);
	struct bzimage bz;
	const char *why;

	put(copy, OFF_SETUP_SECTS, 0, 1);
	ck_assert_int_eq(bzimage_parse(copy, img_size, &bz, &why), 0);
	ck_assert_ptr_eq(bz.kernel, copy + 5 * 512);
	ck_assert_uint_eq(bz.kernel_size, img_size - 5 * 512);
	free(copy);
}
END_TEST

/* The header length comes from a byte of the file: it must be clamped. */
START_TEST(test_hdr_len_clamped)
{
	uint8_t *copy = unit_memdup(img, img_size);
	struct bzimage bz;
	const char *why;

	put(copy, OFF_JUMP + 1, 0xff, 1);
	ck_assert_int_eq(bzimage_parse(copy, img_size, &bz, &why), 0);
	ck_assert_uint_eq(bz.hdr_len, sizeof(struct setup_header));
	put(copy, OFF_JUMP + 1, 0, 1);
	ck_assert_int_eq(bzimage_parse(copy, img_size, &bz, &why), 0);
	ck_assert_uint_eq(bz.hdr_len, OFF_JUMP + 2 - OFF_SETUP_SECTS);
	free(copy);
}
END_TEST

START_TEST(test_garbage)
{
	const size_t sizes[] = { 1, 511, 512, 0x26c, 4096, 1 << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *buf = calloc(1, sizes[i]);

		ck_assert_ptr_nonnull(buf);
		expect_err(buf, sizes[i], -ENOEXEC);
		for (uint64_t seed = 1; seed <= 16; seed++) {
			unit_fill_random(buf, sizes[i], seed * 0x9e3779b97f4a7c15ULL);
			expect_err(buf, sizes[i], -ENOEXEC);
		}
		free(buf);
	}
}
END_TEST

/*
 * Random bytes in a valid header: whatever the result, a success must
 * describe a kernel inside the buffer at a usable address.
 */
START_TEST(test_header_fuzz)
{
	uint8_t saved[HDR_END];
	uint64_t state = 0x1234567;
	unsigned int ok = 0;

	memcpy(saved, img, HDR_END);
	for (int iter = 0; iter < 20000; iter++) {
		struct bzimage bz;
		const char *why = NULL;
		int err;

		memcpy(img, saved, HDR_END);
		/* Keep the magic, or nothing gets past the first check. */
		for (int n = unit_rand(&state) % 4 + 1; n; n--) {
			size_t off = OFF_SETUP_SECTS + unit_rand(&state) % (HDR_END - OFF_SETUP_SECTS);

			if (off >= OFF_BOOT_FLAG && off < OFF_BOOT_FLAG + 2)
				continue;
			if (off >= OFF_HEADER && off < OFF_HEADER + 4)
				continue;
			img[off] = unit_rand(&state);
		}
		err = bzimage_parse(img, img_size, &bz, &why);
		if (err) {
			ck_assert(err == -EINVAL || err == -ENOEXEC);
			ck_assert_ptr_nonnull(why);
			continue;
		}
		ok++;
		ck_assert(bz.kernel > img && bz.kernel + bz.kernel_size == img + img_size);
		ck_assert_uint_le(bz.hdr_len, sizeof(struct setup_header));
		ck_assert_uint_ge(bz.load_addr, X86_HIMEM_START);
		ck_assert_uint_lt(bz.load_addr, X86_MMIO_HOLE);
		ck_assert_uint_eq(bz.load_addr % 4096, 0);
		ck_assert_uint_ge(bz.mem_size, bz.kernel_size);
	}
	/* The mutations must not all have been rejected early. */
	ck_assert_uint_gt(ok, 1000);
}
END_TEST

static Suite *bzimage_suite(void)
{
	Suite *suite = suite_create("bzimage");
	TCase *tc = tcase_create("parse");
	TCase *junk = tcase_create("junk");

	/* Every parse test edits a copy of the real bzImage. */
	tcase_set_tags(tc, UNIT_TAG_KERNEL);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_real_bzimage);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_bad_magic);
	tcase_add_test(tc, test_old_protocol);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_setup_past_eof);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_pref_address);
	tcase_add_test(tc, test_setup_sects_zero);
	tcase_add_test(tc, test_hdr_len_clamped);
	tcase_add_test(tc, test_header_fuzz);
	suite_add_tcase(suite, tc);
	/* Needs no kernel file. */
	tcase_add_test(junk, test_garbage);
	suite_add_tcase(suite, junk);
	return suite;
}

UNIT_SUITE(bzimage_suite)
