// SPDX-License-Identifier: GPL-2.0
/*
 * The newc writer: headers field by field, 4-byte alignment of names and
 * data, the trailer, raw archives in front, and sticky errors. The
 * archive is also unpacked by cpio(1) when the host has it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "exec/cpio.h"

/* Field i (0 = c_ino … 12 = c_check) of the header at off. */
static unsigned long field(const struct cpio *c, size_t off, int i)
{
	char hex[9];

	memcpy(hex, c->buf + off + 6 + 8 * i, 8);
	hex[8] = '\0';
	return strtoul(hex, NULL, 16);
}

/* Checks one entry at *off and moves past it. */
static void expect_entry(const struct cpio *c, size_t *off, const char *name,
			 unsigned long mode, const void *data, size_t len)
{
	size_t name_len = strlen(name) + 1;

	ck_assert_uint_eq(*off % 4, 0);
	ck_assert_uint_le(*off + 110, c->len);
	ck_assert(!memcmp(c->buf + *off, "070701", 6));
	ck_assert_uint_eq(field(c, *off, 1), mode);
	ck_assert_uint_eq(field(c, *off, 2), 0);	/* uid */
	ck_assert_uint_eq(field(c, *off, 3), 0);	/* gid */
	ck_assert_uint_eq(field(c, *off, 5), 0);	/* mtime */
	ck_assert_uint_eq(field(c, *off, 6), len);
	ck_assert_uint_eq(field(c, *off, 11), name_len);
	ck_assert_uint_eq(field(c, *off, 12), 0);
	*off += 110;
	ck_assert(!memcmp(c->buf + *off, name, name_len));
	*off += name_len;
	while (*off % 4)
		ck_assert_uint_eq(c->buf[(*off)++], 0);
	ck_assert(!memcmp(c->buf + *off, data, len));
	*off += len;
	while (*off % 4)
		ck_assert_uint_eq(c->buf[(*off)++], 0);
}

START_TEST(test_cpio_entries)
{
	struct cpio c;
	size_t off = 0;

	cpio_init(&c);
	ck_assert_int_eq(cpio_add_dir(&c, "etc", 0755), 0);
	ck_assert_int_eq(cpio_add_file(&c, "init", 0755, "abc", 3), 0);
	ck_assert_int_eq(cpio_add_file(&c, "etc/e", 0600, "", 0), 0);
	ck_assert_int_eq(cpio_finish(&c), 0);
	expect_entry(&c, &off, "etc", S_IFDIR | 0755, "", 0);
	ck_assert_uint_eq(field(&c, 0, 4), 2);		/* a directory's nlink */
	ck_assert_uint_eq(field(&c, 0, 0), 1);		/* inode numbers */
	expect_entry(&c, &off, "init", S_IFREG | 0755, "abc", 3);
	expect_entry(&c, &off, "etc/e", S_IFREG | 0600, "", 0);
	expect_entry(&c, &off, "TRAILER!!!", 0, "", 0);
	ck_assert_uint_eq(off, c.len);
	cpio_free(&c);
}
END_TEST

/* Every name and data length modulo 4 pads right. */
START_TEST(test_cpio_alignment)
{
	static const char data[] = "0123456789";
	char name[8];
	struct cpio c;
	size_t off = 0;

	cpio_init(&c);
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "%.*s", i % 4 + 1, "nnnn");
		ck_assert_int_eq(cpio_add_file(&c, name, 0644, data, i), 0);
	}
	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "%.*s", i % 4 + 1, "nnnn");
		expect_entry(&c, &off, name, S_IFREG | 0644, data, i);
	}
	ck_assert_uint_eq(off, c.len);
	cpio_free(&c);
}
END_TEST

/* Another archive in front, kept byte for byte, then zeros to 4 bytes. */
START_TEST(test_cpio_raw_prefix)
{
	struct cpio c;
	size_t off = 8;

	cpio_init(&c);
	ck_assert_int_eq(cpio_add_raw(&c, "\x1f\x8b" "gzip", 6), 0);
	ck_assert_uint_eq(c.len, 8);
	ck_assert(!memcmp(c.buf, "\x1f\x8b" "gzip\0\0", 8));
	ck_assert_int_eq(cpio_add_file(&c, "job", 0600, "x", 1), 0);
	expect_entry(&c, &off, "job", S_IFREG | 0600, "x", 1);
	cpio_free(&c);
}
END_TEST

/* Big enough to grow the buffer several times. */
START_TEST(test_cpio_large)
{
	size_t len = 3 << 20;
	uint8_t *data = malloc(len);
	struct cpio c;
	size_t off = 0;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < len; i++)
		data[i] = i * 7;
	cpio_init(&c);
	ck_assert_int_eq(cpio_add_file(&c, "big", 0644, data, len), 0);
	expect_entry(&c, &off, "big", S_IFREG | 0644, data, len);
	cpio_free(&c);
	free(data);
}
END_TEST

/* A bad name fails, and so does everything after it. */
START_TEST(test_cpio_sticky_error)
{
	char *name = malloc(5000);
	struct cpio c;

	memset(name, 'a', 4999);
	name[4999] = '\0';
	cpio_init(&c);
	ck_assert_int_eq(cpio_add_file(&c, "", 0644, "", 0), -ENAMETOOLONG);
	ck_assert_int_eq(cpio_add_dir(&c, "ok", 0755), -ENAMETOOLONG);
	ck_assert_int_eq(cpio_finish(&c), -ENAMETOOLONG);
	cpio_free(&c);
	cpio_init(&c);
	ck_assert_int_eq(cpio_add_file(&c, name, 0644, "", 0), -ENAMETOOLONG);
	cpio_free(&c);
	free(name);
}
END_TEST

/* What cpio(1) makes of it, when this host has it. */
START_TEST(test_cpio_unpacks)
{
	char dir[] = "/tmp/kvmini-cpio.XXXXXX", cmd[256], got[16] = "";
	struct cpio c;
	FILE *f;

	if (system("command -v cpio >/dev/null 2>&1")) {
		unit_skip("test_cpio: cpio missing (apt-get install cpio)");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	cpio_init(&c);
	cpio_add_dir(&c, "d", 0700);
	cpio_add_file(&c, "d/f", 0640, "hello", 5);
	ck_assert_int_eq(cpio_finish(&c), 0);
	snprintf(cmd, sizeof(cmd), "cd %s && cpio -i --quiet -d", dir);
	f = popen(cmd, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(c.buf, 1, c.len, f), c.len);
	ck_assert_int_eq(pclose(f), 0);
	snprintf(cmd, sizeof(cmd), "%s/d/f", dir);
	f = fopen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(got, 1, sizeof(got) - 1, f), 5);
	fclose(f);
	ck_assert_str_eq(got, "hello");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
	cpio_free(&c);
}
END_TEST

static Suite *cpio_suite(void)
{
	Suite *s = suite_create("cpio");
	TCase *tc = tcase_create("newc");

	tcase_add_test(tc, test_cpio_entries);
	tcase_add_test(tc, test_cpio_alignment);
	tcase_add_test(tc, test_cpio_raw_prefix);
	tcase_add_test(tc, test_cpio_large);
	tcase_add_test(tc, test_cpio_sticky_error);
	tcase_add_test(tc, test_cpio_unpacks);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(cpio_suite)
