// SPDX-License-Identifier: GPL-2.0
/*
 * The AML encoder against byte sequences worked out by hand from the ACPI
 * 6.x grammar (section 20.2) and resource descriptor layouts (6.4).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/aml.h"

#define BUF	256

/* Runs body on a fresh encoder and compares its output with want. */
#define EXPECT(want, body)						\
	do {								\
		static const uint8_t w_[] = want;			\
		uint8_t b_[BUF];					\
		struct aml a_, *a = &a_;				\
									\
		aml_init(a, b_, sizeof(b_));				\
		body;							\
		ck_assert_int_eq(aml_finish(a), sizeof(w_));		\
		ck_assert_mem_eq(b_, w_, sizeof(w_));			\
	} while (0)

#define EXPECT_ERR(err, body)						\
	do {								\
		uint8_t b_[BUF];					\
		struct aml a_, *a = &a_;				\
									\
		aml_init(a, b_, sizeof(b_));				\
		body;							\
		ck_assert_int_eq(aml_finish(a), err);			\
	} while (0)

#define B(...)	{ __VA_ARGS__ }

START_TEST(test_integer)
{
	EXPECT(B(0x00), aml_integer(a, 0));
	EXPECT(B(0x01), aml_integer(a, 1));
	EXPECT(B(0x0a, 0x02), aml_integer(a, 2));
	EXPECT(B(0x0a, 0xff), aml_integer(a, 0xff));
	EXPECT(B(0x0b, 0x00, 0x01), aml_integer(a, 0x100));
	EXPECT(B(0x0b, 0xff, 0xff), aml_integer(a, 0xffff));
	EXPECT(B(0x0c, 0x00, 0x00, 0x01, 0x00), aml_integer(a, 0x10000));
	EXPECT(B(0x0c, 0x00, 0x10, 0x00, 0xd0), aml_integer(a, 0xd0001000));
	EXPECT(B(0x0e, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08),
	       aml_integer(a, 0x0807060504030201ULL));
	EXPECT(B(0x0e, 0, 0, 0, 0, 1, 0, 0, 0), aml_integer(a, 1ULL << 32));
}
END_TEST

START_TEST(test_string)
{
	EXPECT(B(0x0d, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0),
	       aml_string(a, "LNRO0005"));
	EXPECT(B(0x0d, 0), aml_string(a, ""));
	EXPECT_ERR(-EINVAL, aml_string(a, "caf\xc3\xa9"));
}
END_TEST

START_TEST(test_eisaid)
{
	/* Values every PC's DSDT has: PNP0501, PNP0A03, PNP0C0F. */
	EXPECT(B(0x0c, 0x41, 0xd0, 0x05, 0x01), aml_eisaid(a, "PNP0501"));
	EXPECT(B(0x0c, 0x41, 0xd0, 0x0a, 0x03), aml_eisaid(a, "PNP0A03"));
	EXPECT(B(0x0c, 0x41, 0xd0, 0x0c, 0x0f), aml_eisaid(a, "PNP0C0F"));
	EXPECT_ERR(-EINVAL, aml_eisaid(a, "pnp0501"));
	EXPECT_ERR(-EINVAL, aml_eisaid(a, "PNP050"));
	EXPECT_ERR(-EINVAL, aml_eisaid(a, "PNP05011"));
	EXPECT_ERR(-EINVAL, aml_eisaid(a, "PNP05G1"));
	EXPECT_ERR(-EINVAL, aml_eisaid(a, "PN00501"));
}
END_TEST

START_TEST(test_namestring)
{
	EXPECT(B('_', 'H', 'I', 'D'), aml_namestring(a, "_HID"));
	EXPECT(B('_', 'S', 'B', '_'), aml_namestring(a, "_SB"));
	EXPECT(B('V', 'R', '0', '0'), aml_namestring(a, "VR00"));
	EXPECT(B('\\', '_', 'S', 'B', '_'), aml_namestring(a, "\\_SB"));
	EXPECT(B('\\', 0), aml_namestring(a, "\\"));
	EXPECT(B(0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '1'),
	       aml_namestring(a, "_SB.COM1"));
	EXPECT(B('\\', 0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0', 'I', 'S', 'A', '_'),
	       aml_namestring(a, "\\_SB.PCI0.ISA"));
	EXPECT(B('^', '^', 'F', 'O', 'O', '_'), aml_namestring(a, "^^FOO"));
	EXPECT(B(0x08, '_', 'S', '5', '_'), aml_name(a, "_S5"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, ""));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "1ABC"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "ABCDE"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "_sb"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "A..B"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "A."));
	EXPECT_ERR(-EINVAL, aml_namestring(a, ".A"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "\\^A"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "^\\A"));
	EXPECT_ERR(-EINVAL, aml_namestring(a, "\\\\A"));
}
END_TEST

/* Decodes a PkgLength; returns its byte count and sets *len. */
static size_t pkglen_decode(const uint8_t *p, size_t *len)
{
	size_t n = (p[0] >> 6) + 1;

	if (n == 1) {
		*len = p[0] & 0x3f;
		return 1;
	}
	ck_assert_uint_eq(p[0] & 0x30, 0);	/* reserved bits */
	*len = p[0] & 0x0f;
	for (size_t i = 1; i < n; i++)
		*len |= (size_t)p[i] << (4 + 8 * (i - 1));
	return n;
}

static size_t pkglen_bytes(size_t total_without)
{
	if (total_without + 1 <= 0x3f)
		return 1;
	if (total_without + 2 < (1 << 12))
		return 2;
	if (total_without + 3 < (1 << 20))
		return 3;
	return 4;
}

/* A scope holding n bytes after its name: PkgLength covers itself, the
 * name and the bytes, in as few bytes as the encoding allows. */
static void check_scope_len(size_t n)
{
	size_t size = n + 16, len, got;
	uint8_t *buf = malloc(size);
	uint8_t *fill = calloc(1, n + 1);
	struct aml a;
	struct aml_mark m;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(fill);
	aml_init(&a, buf, size);
	m = aml_scope_begin(&a, "A");
	aml_bytes(&a, fill, n);
	aml_end(&a, m);
	ck_assert_int_eq(aml_finish(&a), 1 + pkglen_bytes(4 + n) + 4 + n);
	ck_assert_uint_eq(buf[0], 0x10);
	got = pkglen_decode(buf + 1, &len);
	ck_assert_uint_eq(got, pkglen_bytes(4 + n));
	ck_assert_uint_eq(len, got + 4 + n);
	ck_assert_mem_eq(buf + 1 + got, "A___", 4);
	free(fill);
	free(buf);
}

START_TEST(test_pkglength)
{
	static const size_t around[] = { 0, 58, 63 - 4, 4095 - 4, (1 << 20) - 4,
					 (1 << 21) };

	for (size_t i = 0; i < sizeof(around) / sizeof(around[0]); i++)
		for (size_t n = around[i] ? around[i] - 4 : 0; n < around[i] + 4; n++)
			check_scope_len(n);
	/* The smallest lengths of each size, by hand. */
	EXPECT(B(0x10, 0x05, 'A', '_', '_', '_'), {
		struct aml_mark m = aml_scope_begin(a, "A");

		aml_end(a, m);
	});
}
END_TEST

START_TEST(test_objects)
{
	/* Package (0x02) { 5, Zero } */
	EXPECT(B(0x12, 0x05, 0x02, 0x0a, 0x05, 0x00), {
		struct aml_mark m = aml_package_begin(a, 2);

		aml_integer(a, 5);
		aml_integer(a, 0);
		aml_end(a, m);
	});
	/* Device (DEV0) { Name (_UID, One) } */
	EXPECT(B(0x5b, 0x82, 0x0b, 'D', 'E', 'V', '0', 0x08, '_', 'U', 'I', 'D', 0x01), {
		struct aml_mark m = aml_device_begin(a, "DEV0");

		aml_name(a, "_UID");
		aml_integer(a, 1);
		aml_end(a, m);
	});
	/* Buffer () { 1, 2, 3 }: BufferSize inside the PkgLength */
	EXPECT(B(0x11, 0x06, 0x0a, 0x03, 1, 2, 3), {
		struct aml_mark m = aml_buffer_begin(a);

		aml_bytes(a, "\x01\x02\x03", 3);
		aml_end(a, m);
	});
	EXPECT(B(0x11, 0x02, 0x00), {
		struct aml_mark m = aml_buffer_begin(a);

		aml_end(a, m);
	});
}
END_TEST

START_TEST(test_big_buffer)
{
	uint8_t buf[400], fill[300] = { 0 };
	struct aml a;
	struct aml_mark m;

	aml_init(&a, buf, sizeof(buf));
	m = aml_buffer_begin(&a);
	aml_bytes(&a, fill, sizeof(fill));
	aml_end(&a, m);
	/* PkgLength 2 + WordPrefix 300 (3) + 300 = 305 */
	ck_assert_int_eq(aml_finish(&a), 1 + 2 + 3 + 300);
	ck_assert_uint_eq(buf[1], 0x40 | (305 & 0xf));
	ck_assert_uint_eq(buf[2], 305 >> 4);
	ck_assert_uint_eq(buf[3], 0x0b);
	ck_assert_uint_eq(buf[4] | buf[5] << 8, 300);
}
END_TEST

START_TEST(test_resources)
{
	EXPECT(B(0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08), aml_res_io(a, 0x3f8, 8));
	EXPECT(B(0x22, 0x10, 0x00), aml_res_irq_noflags(a, 4));
	EXPECT(B(0x22, 0x00, 0x80), aml_res_irq_noflags(a, 15));
	EXPECT_ERR(-EINVAL, aml_res_irq_noflags(a, 16));
	EXPECT(B(0x86, 0x09, 0x00, 0x01, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00),
	       aml_res_memory32_fixed(a, true, 0xd0001000, 0x200));
	EXPECT(B(0x86, 0x09, 0x00, 0x00, 0x00, 0x10, 0x00, 0xd0, 0x00, 0x02, 0x00, 0x00),
	       aml_res_memory32_fixed(a, false, 0xd0001000, 0x200));
	EXPECT(B(0x89, 0x06, 0x00, 0x03, 0x01, 0x05, 0x00, 0x00, 0x00),
	       aml_res_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, 5));
	EXPECT(B(0x89, 0x06, 0x00, 0x0d, 0x01, 0x20, 0x01, 0x00, 0x00),
	       aml_res_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_ACTIVE_LOW |
				 AML_IRQ_SHARED, 0x120));
}
END_TEST

/* ResourceTemplate () { IRQNoFlags () {4} }: the end tag's checksum makes
 * the template's bytes sum to zero. */
START_TEST(test_restemplate)
{
	EXPECT(B(0x11, 0x08, 0x0a, 0x05, 0x22, 0x10, 0x00, 0x79, 0x55), {
		struct aml_mark m = aml_restemplate_begin(a);

		aml_res_irq_noflags(a, 4);
		aml_end(a, m);
	});
	EXPECT(B(0x11, 0x05, 0x0a, 0x02, 0x79, 0x87), {
		struct aml_mark m = aml_restemplate_begin(a);

		aml_end(a, m);
	});
}
END_TEST

/* A small DSDT body: what acpi.c writes, in miniature. */
static long sample(uint8_t *buf, size_t size)
{
	struct aml a;
	struct aml_mark sb, dev, crs, pkg;

	aml_init(&a, buf, size);
	sb = aml_scope_begin(&a, "\\_SB");
	dev = aml_device_begin(&a, "VR00");
	aml_name(&a, "_HID");
	aml_string(&a, "LNRO0005");
	aml_name(&a, "_CRS");
	crs = aml_restemplate_begin(&a);
	aml_res_memory32_fixed(&a, true, 0xd0001000, 0x200);
	aml_res_interrupt(&a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, 5);
	aml_end(&a, crs);
	aml_end(&a, dev);
	aml_end(&a, sb);
	aml_name(&a, "_S5");
	pkg = aml_package_begin(&a, 1);
	aml_integer(&a, 5);
	aml_end(&a, pkg);
	return aml_finish(&a);
}

/* Any buffer too small fails cleanly, without a byte written past it
 * (ASan watches the exact-size allocations). */
/* Method, If, LEqual, Arg, Return, Notify: GED's _EVT and VGEN's ADDR. */
START_TEST(test_methods)
{
	/* Method (ADDR, 0) { Return (Package (2) { 0x9F000, Zero }) } */
	EXPECT(B(0x14, 0x10, 'A', 'D', 'D', 'R', 0x00,
		 0xa4, 0x12, 0x08, 0x02, 0x0c, 0x00, 0xf0, 0x09, 0x00, 0x00), {
		struct aml_mark m = aml_method_begin(a, "ADDR", 0);
		struct aml_mark p;

		aml_return(a);
		p = aml_package_begin(a, 2);
		aml_integer(a, 0x9f000);
		aml_integer(a, 0);
		aml_end(a, p);
		aml_end(a, m);
	});
	/* Method (_EVT, 1) { If (LEqual (Arg0, 23)) { Notify (\_SB.VGEN, 0x80) } } */
	EXPECT(B(0x14, 0x19, '_', 'E', 'V', 'T', 0x01,
		 0xa0, 0x12, 0x93, 0x68, 0x0a, 0x17,
		 0x86, '\\', 0x2e, '_', 'S', 'B', '_', 'V', 'G', 'E', 'N', 0x0a, 0x80), {
		struct aml_mark m = aml_method_begin(a, "_EVT", 1);
		struct aml_mark c = aml_if_begin(a);

		aml_lequal(a);
		aml_arg(a, 0);
		aml_integer(a, 23);
		aml_notify(a, "\\_SB.VGEN", 0x80);
		aml_end(a, c);
		aml_end(a, m);
	});
	EXPECT(B(0x6e), aml_arg(a, 6));
	EXPECT(B(0x14, 0x06, 'M', '_', '_', '_', 0x07), {
		struct aml_mark m = aml_method_begin(a, "M", 7);

		aml_end(a, m);
	});
	EXPECT_ERR(-EINVAL, aml_arg(a, 7));
	EXPECT_ERR(-EINVAL, aml_method_begin(a, "M", 8));
	EXPECT_ERR(-EINVAL, aml_notify(a, "1BAD", 0x80));
}
END_TEST

START_TEST(test_overflow)
{
	uint8_t full[BUF];
	long need = sample(full, sizeof(full));

	ck_assert_int_gt(need, 0);
	for (long size = 0; size <= need; size++) {
		uint8_t *buf = malloc(size ? size : 1);

		ck_assert_ptr_nonnull(buf);
		ck_assert_int_eq(sample(buf, size), size < need ? -ENOSPC : need);
		if (size == need)
			ck_assert_mem_eq(buf, full, need);
		free(buf);
	}
}
END_TEST

/* The first error sticks and nothing more is written. */
START_TEST(test_sticky_error)
{
	uint8_t buf[BUF];
	struct aml a;
	struct aml_mark m;

	aml_init(&a, buf, sizeof(buf));
	m = aml_device_begin(&a, "not a name");
	aml_integer(&a, 7);
	aml_end(&a, m);
	ck_assert_int_eq(aml_finish(&a), -EINVAL);
	ck_assert_uint_le(a.len, 2);
}
END_TEST

static Suite *aml_suite(void)
{
	Suite *suite = suite_create("aml");
	TCase *tc = tcase_create("encoder");

	tcase_add_test(tc, test_integer);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_eisaid);
	tcase_add_test(tc, test_namestring);
	tcase_add_test(tc, test_pkglength);
	tcase_add_test(tc, test_objects);
	tcase_add_test(tc, test_big_buffer);
	tcase_add_test(tc, test_resources);
	tcase_add_test(tc, test_restemplate);
	tcase_add_test(tc, test_methods);
	tcase_add_test(tc, test_overflow);
	tcase_add_test(tc, test_sticky_error);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(aml_suite)
