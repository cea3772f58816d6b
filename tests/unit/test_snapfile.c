// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot state file: write and read back every field; refusal of a
 * wrong magic, version or architecture, any flipped byte, any
 * truncation, a section past the end, a repeated section, an empty file;
 * the configuration compare.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "lib/config.h"
#include "lib/snap_dir.h"
#include "lib/snapfile.h"

static const uint8_t payload_a[] = { 1, 2, 3, 4, 5 };

/* Two sections of bytes, one of fields, one empty, and the config. */
static void build(struct snap_writer *w, uint32_t arch, const struct vm_config *cfg,
		  const uint64_t *sizes)
{
	struct sbuf *b;

	snap_writer_init(w, arch, "v1.2-test-dirty");
	snap_add(w, SNAP_TAG_X86_REGS, 0, payload_a, sizeof(payload_a));
	snap_add(w, SNAP_TAG_X86_REGS, 1, "xyz", 3);
	b = snap_begin(w, SNAP_TAG_X86_MSRS, 7);
	sbuf_put_u32(b, 0xdeadbeef);
	sbuf_put_u64(b, 0x0123456789abcdefULL);
	snap_end(w);
	snap_add(w, SNAP_TAG_DEVICE, 3, NULL, 0);
	if (cfg)
		snap_config_put(w, cfg, sizes);
}

static void host_file(struct snap_writer *w)
{
	build(w, SNAP_ARCH_HOST, NULL, NULL);
	ck_assert_int_eq(snap_finish(w), 0);
}

/* Refused with one error line naming culprit. */
static void refused(const uint8_t *d, size_t len, const char *culprit)
{
	struct unit_capture_std c;
	struct snap_reader r;
	char *out, *err;
	uint8_t *copy = unit_memdup(d, len);
	int ret;

	unit_capture_std_begin(&c);
	ret = snap_parse(&r, copy, len, "DIR/state");
	unit_capture_std_end(&c, &out, &err);
	ck_assert_int_eq(ret, -EINVAL);
	ck_assert_ptr_null(r.sects);
	unit_check_error_line(out, err, culprit);
	free(out);
	free(err);
	free(copy);
}

/* The loops below refuse hundreds of files: their lines go to a capture. */
static void quiet_begin(struct unit_capture *c)
{
	unit_capture_begin(c, 2);
}

static void quiet_end(struct unit_capture *c)
{
	free(unit_capture_end(c));
}

/* Recomputes the trailer so that only the change under test is wrong. */
static void reseal(uint8_t *d, size_t len)
{
	uint32_t crc = snap_crc32c(0, d, len - 4);

	for (int i = 0; i < 4; i++)
		d[len - 4 + i] = crc >> (8 * i);
}

START_TEST(test_snapfile_crc32c)
{
	ck_assert_uint_eq(snap_crc32c(0, "123456789", 9), 0xe3069283);
	ck_assert_uint_eq(snap_crc32c(0, "", 0), 0);
	/* Incremental equals one pass. */
	ck_assert_uint_eq(snap_crc32c(snap_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}
END_TEST

START_TEST(test_snapfile_round_trip)
{
	struct snap_writer w;
	struct snap_reader r;
	struct sbuf_rd p;
	uint8_t got[5];

	host_file(&w);
	/* The header, byte by byte as docs/snapshot.md has it. */
	ck_assert(!memcmp(w.buf.data, "KVMINI\0S", 8));
	ck_assert_uint_eq(w.buf.data[8], SNAP_VERSION);
	ck_assert_uint_eq(w.buf.data[12], SNAP_ARCH_HOST);
	ck_assert_uint_eq(w.buf.data[20], 4);
	ck_assert_str_eq((char *)w.buf.data + 24, "v1.2-test-dirty");
	ck_assert_uint_eq(w.buf.len, SNAP_HDR_LEN + 4 * SNAP_SECT_HDR_LEN + 5 + 3 + 12 + 0 + 4);

	ck_assert_int_eq(snap_parse(&r, w.buf.data, w.buf.len, "x"), 0);
	ck_assert_uint_eq(r.nr_sections, 4);
	ck_assert_uint_eq(r.flags, 0);
	ck_assert_str_eq(r.version, "v1.2-test-dirty");

	ck_assert(snap_find(&r, SNAP_TAG_X86_REGS, 0, &p));
	ck_assert_uint_eq(p.len, 5);
	sbuf_get(&p, got, 5);
	ck_assert(!memcmp(got, payload_a, 5));
	ck_assert(sbuf_rd_done(&p));

	ck_assert(snap_find(&r, SNAP_TAG_X86_REGS, 1, &p));
	ck_assert_uint_eq(p.len, 3);
	ck_assert(!memcmp(p.data, "xyz", 3));

	ck_assert(snap_find(&r, SNAP_TAG_X86_MSRS, 7, &p));
	ck_assert_uint_eq(sbuf_get_u32(&p), 0xdeadbeef);
	ck_assert_uint_eq(sbuf_get_u64(&p), 0x0123456789abcdefULL);
	ck_assert(sbuf_rd_done(&p));

	ck_assert(snap_find(&r, SNAP_TAG_DEVICE, 3, &p));
	ck_assert_uint_eq(p.len, 0);
	ck_assert(sbuf_rd_done(&p));

	ck_assert(!snap_find(&r, SNAP_TAG_X86_REGS, 2, &p));
	ck_assert(!snap_find(&r, SNAP_TAG_DEVICE, 0, &p));
	ck_assert(!snap_find(&r, SNAP_TAG_CONFIG, 0, &p));
	snap_reader_free(&r);
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_long_version_cut)
{
	struct snap_writer w;
	struct snap_reader r;
	char v[100];

	memset(v, 'a', sizeof(v) - 1);
	v[99] = '\0';
	snap_writer_init(&w, SNAP_ARCH_HOST, v);
	ck_assert_int_eq(snap_finish(&w), 0);
	ck_assert_int_eq(snap_parse(&r, w.buf.data, w.buf.len, "x"), 0);
	ck_assert_uint_eq(strlen(r.version), SNAP_KVMINI_VERSION_LEN - 1);
	ck_assert_uint_eq(r.nr_sections, 0);
	snap_reader_free(&r);
	snap_writer_free(&w);
}
END_TEST

/* A header field changed and the file sealed again: each refused with
 * its own reason, not the checksum's. */
START_TEST(test_snapfile_bad_header)
{
	static const struct {
		size_t off;
		uint8_t val;
		const char *why;
	} cases[] = {
		{ 0, 'Q', "not a kvmini snapshot" },
		{ 8, 3, "format version 3, this kvmini reads 1" },
		{ 16, 0x10, "unknown flags 0x10" },
	};
	struct snap_writer w;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		host_file(&w);
		w.buf.data[cases[i].off] = cases[i].val;
		reseal(w.buf.data, w.buf.len);
		refused(w.buf.data, w.buf.len, cases[i].why);
		snap_writer_free(&w);
	}
}
END_TEST

START_TEST(test_snapfile_wrong_arch)
{
	struct snap_writer w;
	uint32_t other = SNAP_ARCH_HOST == SNAP_ARCH_X86_64 ? SNAP_ARCH_ARM64 : SNAP_ARCH_X86_64;

	build(&w, other, NULL, NULL);
	ck_assert_int_eq(snap_finish(&w), 0);
	refused(w.buf.data, w.buf.len, other == SNAP_ARCH_ARM64 ? "taken on arm64" : "taken on x86_64");
	w.buf.data[12] = 9;
	reseal(w.buf.data, w.buf.len);
	refused(w.buf.data, w.buf.len, "unknown architecture");
	snap_writer_free(&w);
}
END_TEST

/* Every bit of every byte: refused (magic, version and arch bytes by
 * their own checks, the rest by the checksum). */
START_TEST(test_snapfile_flipped_byte_anywhere)
{
	struct snap_writer w;
	struct snap_reader r;
	struct unit_capture q;

	host_file(&w);
	quiet_begin(&q);
	for (size_t i = 0; i < w.buf.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *copy = unit_memdup(w.buf.data, w.buf.len);

			copy[i] ^= 1 << bit;
			ck_assert_msg(snap_parse(&r, copy, w.buf.len, "x") == -EINVAL,
				      "flipped bit %d of byte %zu accepted", bit, i);
			free(copy);
		}
	}
	quiet_end(&q);
	refused(w.buf.data, w.buf.len - 1, "checksum mismatch");
	snap_writer_free(&w);
}
END_TEST

/* Every truncation, into an exact-size copy (ASan sees a read past it). */
START_TEST(test_snapfile_truncated_everywhere)
{
	struct snap_writer w;
	struct snap_reader r;
	struct unit_capture q;

	host_file(&w);
	quiet_begin(&q);
	for (size_t n = 0; n < w.buf.len; n++) {
		uint8_t *copy = unit_memdup(w.buf.data, n);

		ck_assert_msg(snap_parse(&r, copy, n, "x") == -EINVAL,
			      "truncated at %zu accepted", n);
		free(copy);
	}
	quiet_end(&q);
	refused(w.buf.data, 10, "truncated (10 bytes)");
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_empty)
{
	refused((const uint8_t *)"", 0, "truncated (0 bytes)");
}
END_TEST

/* A length that points past the end, with a checksum that matches. */
START_TEST(test_snapfile_section_past_end)
{
	struct snap_writer w;
	size_t len_off = SNAP_HDR_LEN + 8;

	host_file(&w);
	w.buf.data[len_off] = 0xff;
	reseal(w.buf.data, w.buf.len);
	refused(w.buf.data, w.buf.len, "past the end");
	/* 2^63: no wrap-around in the bounds check. */
	w.buf.data[len_off] = 0;
	w.buf.data[len_off + 7] = 0x80;
	reseal(w.buf.data, w.buf.len);
	refused(w.buf.data, w.buf.len, "past the end");
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_section_count_wrong)
{
	struct snap_writer w;

	host_file(&w);
	w.buf.data[20] = 5;		/* one more than there are */
	reseal(w.buf.data, w.buf.len);
	refused(w.buf.data, w.buf.len, "starts past the end");
	w.buf.data[20] = 3;		/* one fewer: bytes left over */
	reseal(w.buf.data, w.buf.len);
	refused(w.buf.data, w.buf.len, "after the last section");
	w.buf.data[20] = 0xff;
	w.buf.data[23] = 0xff;
	reseal(w.buf.data, w.buf.len);
	refused(w.buf.data, w.buf.len, "cannot fit");
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_duplicate_refused)
{
	struct snap_writer w;

	snap_writer_init(&w, SNAP_ARCH_HOST, "t");
	snap_add(&w, SNAP_TAG_X86_LAPIC, 2, "a", 1);
	snap_add(&w, SNAP_TAG_X86_LAPIC, 1, "b", 1);
	snap_add(&w, SNAP_TAG_X86_LAPIC, 2, "c", 1);
	ck_assert_int_eq(snap_finish(&w), 0);
	refused(w.buf.data, w.buf.len, "appears twice");
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_writer_misuse)
{
	struct snap_writer w;

	snap_writer_init(&w, SNAP_ARCH_HOST, "t");
	snap_end(&w);
	ck_assert_int_eq(snap_finish(&w), -EINVAL);
	snap_writer_free(&w);

	snap_writer_init(&w, SNAP_ARCH_HOST, "t");
	snap_begin(&w, 1, 0);
	ck_assert_int_eq(snap_finish(&w), -EINVAL);	/* left open */
	snap_writer_free(&w);

	snap_writer_init(&w, SNAP_ARCH_HOST, "t");
	ck_assert_int_eq(snap_finish(&w), 0);
	ck_assert_int_eq(snap_finish(&w), -EINVAL);	/* sealed already */
	snap_writer_free(&w);

	/* More than the reader takes: refused at the writer. */
	snap_writer_init(&w, SNAP_ARCH_HOST, "t");
	for (uint32_t i = 0; i <= SNAP_SECTIONS_MAX; i++)
		snap_add(&w, SNAP_TAG_DEVICE, i, NULL, 0);
	ck_assert_int_eq(snap_finish(&w), -EFBIG);
	snap_writer_free(&w);
}
END_TEST

static void cfg_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mem = 256ULL << 20;
	c->cpus = 2;
	c->console = CONSOLE_STDIO;
	c->vsock.cid = 3;
	c->nr_disks = 2;
	c->disks[0].arg = "/img/root.raw,ro";
	c->disks[0].path_len = 13;
	c->disks[0].ro = true;
	c->disks[1].arg = "/img/data.raw";
	c->disks[1].path_len = 13;
	strcpy(c->disks[1].serial, "data");
	c->nr_nets = 1;
	c->nets[0].kind = NET_USER;
	memcpy(c->nets[0].mac, "\x52\x54\x00\x12\x34\x56", 6);
	c->nr_shares = 1;
	c->shares[0].path = "/srv";
	c->shares[0].path_len = 4;
	strcpy(c->shares[0].tag, "srv");
}

static const uint64_t cfg_sizes[] = { 1 << 20, 64 << 20 };

/* The reader of a file with cfg's configuration section. */
static void cfg_file(struct snap_writer *w, struct snap_reader *r)
{
	struct vm_config c;

	cfg_init(&c);
	build(w, SNAP_ARCH_HOST, &c, cfg_sizes);
	ck_assert_int_eq(snap_finish(w), 0);
	ck_assert_int_eq(snap_parse(r, w->buf.data, w->buf.len, "D/state"), 0);
}

static void cfg_refused(const struct snap_reader *r, const struct vm_config *c,
			const uint64_t *sizes, const char *culprit)
{
	struct unit_capture_std cap;
	char *out, *err;

	unit_capture_std_begin(&cap);
	ck_assert_int_eq(snap_config_check(r, c, sizes), -EINVAL);
	unit_capture_std_end(&cap, &out, &err);
	unit_check_error_line(out, err, culprit);
	free(out);
	free(err);
}

START_TEST(test_snapfile_config_same)
{
	struct snap_writer w;
	struct snap_reader r;
	struct vm_config c;

	cfg_file(&w, &r);
	cfg_init(&c);
	ck_assert_int_eq(snap_config_check(&r, &c, cfg_sizes), 0);
	/* What does not matter to the saved state: disk paths, the console
	 * between host-side kinds, timeouts. */
	c.disks[1].arg = "/moved/data.raw";
	c.disks[1].path_len = 15;
	c.console = CONSOLE_NONE;
	c.timeout = 5;
	ck_assert_int_eq(snap_config_check(&r, &c, cfg_sizes), 0);
	snap_reader_free(&r);
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_config_mismatch)
{
	struct snap_writer w;
	struct snap_reader r;
	struct vm_config c;
	const uint64_t bigger[] = { 1 << 20, 65 << 20 };

	cfg_file(&w, &r);
	cfg_init(&c);
	c.mem = 512ULL << 20;
	cfg_refused(&r, &c, cfg_sizes, "--mem 256M, this VM has 512M");
	cfg_init(&c);
	c.cpus = 1;
	cfg_refused(&r, &c, cfg_sizes, "--cpus 2, this VM has 1");
	cfg_init(&c);
	c.console = CONSOLE_VIRTIO;
	cfg_refused(&r, &c, cfg_sizes, "--console stdio, this VM has virtio");
	cfg_init(&c);
	c.no_rng = true;
	cfg_refused(&r, &c, cfg_sizes, "--no-rng");
	cfg_init(&c);
	c.vsock.cid = 4;
	cfg_refused(&r, &c, cfg_sizes, "vsock CID 3, this VM has 4");
	cfg_init(&c);
	c.nr_disks = 1;
	cfg_refused(&r, &c, cfg_sizes, "2 disks, this VM has 1");
	cfg_init(&c);
	cfg_refused(&r, &c, bigger, "disk 1 (/img/data.raw) is 68157440 bytes, it was 67108864");
	cfg_init(&c);
	c.disks[0].ro = false;
	cfg_refused(&r, &c, cfg_sizes, "disk 0 (/img/root.raw) was read-only");
	cfg_init(&c);
	c.nets[0].mac[5] = 0x57;
	cfg_refused(&r, &c, cfg_sizes, "--net 0");
	cfg_init(&c);
	c.nr_nets = 0;
	cfg_refused(&r, &c, cfg_sizes, "1 --net, this VM has 0");
	cfg_init(&c);
	strcpy(c.shares[0].tag, "srv2");
	cfg_refused(&r, &c, cfg_sizes, "--share 0 (tag srv2)");
	cfg_init(&c);
	c.shares[0].ro = true;
	cfg_refused(&r, &c, cfg_sizes, "--share 0");
	snap_reader_free(&r);
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_config_missing_or_malformed)
{
	struct snap_writer w;
	struct snap_reader r;
	struct vm_config c;
	struct unit_capture q;

	cfg_init(&c);
	host_file(&w);
	ck_assert_int_eq(snap_parse(&r, w.buf.data, w.buf.len, "D/state"), 0);
	cfg_refused(&r, &c, cfg_sizes, "no configuration section");
	snap_reader_free(&r);
	snap_writer_free(&w);

	/* Every truncation of the section's payload (resealed): malformed. */
	snap_writer_init(&w, SNAP_ARCH_HOST, "t");
	snap_config_put(&w, &c, cfg_sizes);
	ck_assert_int_eq(snap_finish(&w), 0);
	quiet_begin(&q);
	for (size_t cut = 1; cut < w.buf.len - SNAP_HDR_LEN - SNAP_SECT_HDR_LEN - 4; cut++) {
		size_t len = w.buf.len - cut;
		uint8_t *copy = unit_memdup(w.buf.data, len);
		uint64_t plen = len - SNAP_HDR_LEN - SNAP_SECT_HDR_LEN - 4;

		for (int i = 0; i < 8; i++)
			copy[SNAP_HDR_LEN + 8 + i] = plen >> (8 * i);
		reseal(copy, len);
		ck_assert_int_eq(snap_parse(&r, copy, len, "D/state"), 0);
		ck_assert_msg(snap_config_check(&r, &c, cfg_sizes) == -EINVAL,
			      "config cut by %zu accepted", cut);
		snap_reader_free(&r);
		free(copy);
	}
	quiet_end(&q);
	snap_writer_free(&w);
}
END_TEST

START_TEST(test_snapfile_write_read_dir)
{
	char dir[] = "/tmp/kvmini-snap-XXXXXX";
	struct snap_writer w;
	struct snap_reader r;
	struct sbuf_rd p;
	struct snap_dir d;
	struct stat st;
	char path[64];
	struct unit_capture q;
	int fd;

	/* As vmm/snapshot.c writes it: sealed, into a snapshot directory
	 * that appears whole (lib/snap_dir.h). */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	rmdir(dir);
	build(&w, SNAP_ARCH_HOST, NULL, NULL);
	ck_assert_int_eq(snap_finish(&w), 0);
	ck_assert_int_eq(snap_dir_create(&d, dir), 0);
	fd = snap_dir_file(&d, SNAP_FILE_NAME);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, w.buf.data, w.buf.len), (ssize_t)w.buf.len);
	close(fd);
	ck_assert_int_eq(snap_dir_commit(&d), 0);
	snprintf(path, sizeof(path), "%s/state", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.st_size, w.buf.len);
	snap_writer_free(&w);

	ck_assert_int_eq(snap_read(&r, dir), 0);
	ck_assert_uint_eq(r.nr_sections, 4);
	ck_assert(snap_find(&r, SNAP_TAG_X86_REGS, 1, &p));
	ck_assert(!memcmp(p.data, "xyz", 3));
	snap_reader_free(&r);

	/* A truncated file on disk: refused by snap_read too. */
	quiet_begin(&q);
	snprintf(path, sizeof(path), "%s/state", dir);
	ck_assert_int_eq(truncate(path, 30), 0);
	ck_assert_int_eq(snap_read(&r, dir), -EINVAL);
	unlink(path);
	ck_assert_int_eq(snap_read(&r, dir), -ENOENT);
	rmdir(dir);
	ck_assert_int_eq(snap_read(&r, dir), -ENOENT);
	quiet_end(&q);
}
END_TEST

static Suite *snapfile_suite(void)
{
	Suite *s = suite_create("snapfile");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_snapfile_crc32c);
	tcase_add_test(tc, test_snapfile_round_trip);
	tcase_add_test(tc, test_snapfile_long_version_cut);
	tcase_add_test(tc, test_snapfile_bad_header);
	tcase_add_test(tc, test_snapfile_wrong_arch);
	tcase_add_test(tc, test_snapfile_flipped_byte_anywhere);
	tcase_add_test(tc, test_snapfile_truncated_everywhere);
	tcase_add_test(tc, test_snapfile_empty);
	tcase_add_test(tc, test_snapfile_section_past_end);
	tcase_add_test(tc, test_snapfile_section_count_wrong);
	tcase_add_test(tc, test_snapfile_duplicate_refused);
	tcase_add_test(tc, test_snapfile_writer_misuse);
	tcase_add_test(tc, test_snapfile_config_same);
	tcase_add_test(tc, test_snapfile_config_mismatch);
	tcase_add_test(tc, test_snapfile_config_missing_or_malformed);
	tcase_add_test(tc, test_snapfile_write_read_dir);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(snapfile_suite)
