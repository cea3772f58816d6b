// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk through its ops, with the fake guest of fake_virtq.c as the
 * driver and a temporary image file as the disk: requests are crafted
 * chains, the I/O is real io_uring I/O, and completions are driven by
 * waiting on the device's eventfd and calling virtio_blk_complete(), as
 * the I/O thread would.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "util.h"
#include "fake_virtq.h"
#include "virtio/blk.h"
#include "virtio/devices.h"
#include "lib/sbuf.h"
#include "backend/disk.h"

#define QSIZE		16
#define BIGQ		256
#define DISK_SECTORS	2048		/* 1 MiB */
#define DISK_BYTES	(DISK_SECTORS * 512ULL)
#define SENTINEL	0xee
#define F(bit)		(1ULL << (bit))
#define F_INDIRECT	F(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	F(VIRTIO_RING_F_EVENT_IDX)
#define F_BLK		(F(VIRTIO_BLK_F_FLUSH) | F(VIRTIO_BLK_F_DISCARD) | \
			 F(VIRTIO_BLK_F_WRITE_ZEROES) | F(VIRTIO_BLK_F_MQ) | \
			 F(VIRTIO_BLK_F_BLK_SIZE) | F(VIRTIO_BLK_F_SEG_MAX) | \
			 F(VIRTIO_BLK_F_SIZE_MAX))

static struct fake_guest g;
static struct virtio_dev *blk;
static char path[64];
static int file_fd = -1;	/* the test's own view of the image */

/* ---- the image and the device ---------------------------------------- */

/* Sector s of the initial image is filled with byte (s * 7 + 1). */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)((off / 512) * 7 + 1);
}

static void make_image_in(const char *dir)
{
	uint8_t *buf = malloc(DISK_BYTES);

	ck_assert_ptr_nonnull(buf);
	snprintf(path, sizeof(path), "%s/kvmini-blk-XXXXXX", dir);
	file_fd = mkstemp(path);
	ck_assert_int_ge(file_fd, 0);
	for (uint64_t i = 0; i < DISK_BYTES; i++)
		buf[i] = pattern(i);
	ck_assert_int_eq(pwrite(file_fd, buf, DISK_BYTES, 0), DISK_BYTES);
	free(buf);
}

static void make_image(void)
{
	const char *dir = getenv("TMPDIR");

	make_image_in(dir && *dir ? dir : "/tmp");
}

static void setup(void)
{
	fake_guest_init(&g);
	make_image();
	blk = NULL;
}

static void teardown(void)
{
	if (blk) {
		virtio_dev_exit(blk);
		free(blk);
	}
	blk = NULL;
	close(file_fd);
	unlink(path);
	fake_guest_exit(&g);
}

/* Opens the image as --disk would; 0 or the disk_open() error. */
static int open_disk(struct disk *d, bool ro, bool direct)
{
	struct disk_config cfg = {
		.arg = path, .path_len = strlen(path), .ro = ro, .direct = direct,
	};

	strcpy(cfg.serial, "kvmini-test-serial");
	return disk_open(&cfg, d);
}

static void new_blk_queues(bool ro, bool direct, unsigned int queues)
{
	struct disk d;

	ck_assert_int_eq(open_disk(&d, ro, direct), 0);
	blk = virtio_blk_new(&g.mem, &d, queues, NULL, 0);
	ck_assert_ptr_nonnull(blk);
	ck_assert_int_eq(d.fd, -1);	/* the device owns it now */
	fake_attach(&g, blk);
}

static void new_blk(bool ro)
{
	new_blk_queues(ro, false, 1);
}

static void start(uint64_t features, unsigned int qsize)
{
	fake_driver_start(&g, blk, features, qsize);
}

/* ---- requests ---------------------------------------------------------- */

static uint64_t put_hdr(uint32_t type, uint64_t sector)
{
	uint64_t gpa = fake_alloc_guarded(&g, VBLK_HDR_SIZE);
	struct virtio_blk_outhdr h = {
		.type = htole32(type), .sector = htole64(sector),
	};

	memcpy(fake_ptr(&g, gpa), &h, sizeof(h));
	return gpa;
}

static uint64_t new_status(void)
{
	uint64_t gpa = fake_alloc_guarded(&g, 1);

	*(uint8_t *)fake_ptr(&g, gpa) = SENTINEL;
	return gpa;
}

static uint8_t status_of(uint64_t gpa)
{
	return *(uint8_t *)fake_ptr(&g, gpa);
}

/* header, one data buffer (if len), status: the layout Linux uses. */
static uint16_t add_req(unsigned int q, uint32_t type, uint64_t sector,
			uint64_t data, uint32_t len, bool data_write,
			uint64_t status)
{
	struct fake_seg s[3];
	unsigned int n = 0;

	s[n++] = (struct fake_seg){ put_hdr(type, sector), VBLK_HDR_SIZE, false };
	if (len)
		s[n++] = (struct fake_seg){ data, len, data_write };
	s[n++] = (struct fake_seg){ status, 1, true };
	return fake_add_chain(&g, q, s, n);
}

/* Kicks like the transport, then completes I/O until the used ring has
 * want more entries (or 5 s pass). */
static void run(unsigned int q, uint16_t want)
{
	uint16_t goal = fake_used_idx(&g, q) + want;
	int fd = virtio_blk_completion_fd(blk);

	fake_kick(&g, blk, q);
	for (int i = 0; i < 500 && fake_used_idx(&g, q) != goal; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10);
		virtio_blk_complete(blk);
	}
	ck_assert_uint_eq(fake_used_idx(&g, q), goal);
}

static void expect_used(unsigned int q, uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert(fake_get_used(&g, q, &id, &l));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

/* One request on queue 0, run to completion; returns the status byte. */
static uint8_t do_req(uint32_t type, uint64_t sector, uint64_t data,
		      uint32_t len, bool data_write, uint32_t used_len)
{
	uint64_t st = new_status();
	uint16_t head = add_req(0, type, sector, data, len, data_write, st);

	run(0, 1);
	expect_used(0, head, used_len);
	return status_of(st);
}

static void file_read(uint64_t off, void *buf, size_t len)
{
	ck_assert_int_eq(pread(file_fd, buf, len, off), (ssize_t)len);
}

static bool file_is(uint64_t off, size_t len, uint8_t (*want)(uint64_t))
{
	uint8_t *buf = malloc(len);
	bool ok = true;

	file_read(off, buf, len);
	for (size_t i = 0; i < len && ok; i++)
		ok = buf[i] == want(off + i);
	free(buf);
	return ok;
}

static uint8_t zero(uint64_t off)
{
	(void)off;
	return 0;
}

static uint8_t inverse(uint64_t off)
{
	return ~pattern(off);
}

static void fill(uint64_t gpa, uint64_t disk_off, size_t len,
		 uint8_t (*fn)(uint64_t))
{
	uint8_t *p = fake_ptr(&g, gpa);

	for (size_t i = 0; i < len; i++)
		p[i] = fn(disk_off + i);
}

static bool guest_is(uint64_t gpa, uint64_t disk_off, size_t len,
		     uint8_t (*fn)(uint64_t))
{
	const uint8_t *p = fake_ptr(&g, gpa);

	for (size_t i = 0; i < len; i++)
		if (p[i] != fn(disk_off + i))
			return false;
	return true;
}

/* ---- identity and config ---------------------------------------------- */

static void cfg_read(struct virtio_blk_config *c)
{
	pthread_mutex_lock(&blk->lock);
	blk->ops->config_read(blk, 0, (uint8_t *)c, sizeof(*c));
	pthread_mutex_unlock(&blk->lock);
}

START_TEST(test_blk_identity)
{
	struct virtio_blk_config c;

	new_blk_queues(false, false, 3);
	ck_assert_uint_eq(blk->ops->device_id, VIRTIO_ID_BLOCK);
	ck_assert_uint_eq(blk->ops->nr_queues, 3);
	ck_assert_uint_eq(blk->ops->queue_max, VBLK_QUEUE_MAX);
	ck_assert_uint_eq(blk->ops->config_size, sizeof(c));
	ck_assert_uint_eq(blk->host_features & F_BLK, F_BLK);
	ck_assert(!(blk->host_features & F(VIRTIO_BLK_F_RO)));
	ck_assert(blk->host_features & F_INDIRECT);
	ck_assert(blk->host_features & F_EVENT_IDX);
	ck_assert_str_eq(blk->name, "blk0");
	cfg_read(&c);
	ck_assert_uint_eq(le64toh(c.capacity), DISK_SECTORS);
	ck_assert_uint_eq(le32toh(c.seg_max), VBLK_SEG_MAX);
	ck_assert_uint_eq(le32toh(c.size_max), VBLK_SIZE_MAX);
	ck_assert_uint_eq(le32toh(c.blk_size), 512);
	ck_assert_uint_eq(le16toh(c.num_queues), 3);
	ck_assert_uint_eq(le32toh(c.max_discard_seg), VBLK_DWZ_MAX_SEG);
	ck_assert_uint_eq(le32toh(c.max_discard_sectors), VBLK_DWZ_MAX_SECTORS);
	ck_assert_uint_ge(le32toh(c.discard_sector_alignment), 1);
	ck_assert_uint_eq(le32toh(c.max_write_zeroes_seg), VBLK_DWZ_MAX_SEG);
	ck_assert_uint_eq(le32toh(c.max_write_zeroes_sectors), VBLK_DWZ_MAX_SECTORS);
	ck_assert_uint_eq(c.write_zeroes_may_unmap, 1);
}
END_TEST

START_TEST(test_blk_identity_ro)
{
	struct virtio_blk_config c;

	new_blk(true);
	ck_assert(blk->host_features & F(VIRTIO_BLK_F_RO));
	ck_assert(!(blk->host_features & F(VIRTIO_BLK_F_DISCARD)));
	ck_assert(!(blk->host_features & F(VIRTIO_BLK_F_WRITE_ZEROES)));
	cfg_read(&c);
	ck_assert_uint_eq(le64toh(c.capacity), DISK_SECTORS);
	ck_assert_uint_eq(le32toh(c.max_discard_seg), 0);
	/* Config reads past the end give zeroes, not memory. */
	pthread_mutex_lock(&blk->lock);
	blk->ops->config_read(blk, sizeof(c) - 2, (uint8_t *)&c, 4);
	pthread_mutex_unlock(&blk->lock);
	ck_assert_uint_eq(c.capacity & 0xffffffff, 0);
}
END_TEST

/* ---- good requests ------------------------------------------------------ */

START_TEST(test_blk_write_then_read)
{
	uint64_t w = fake_alloc_guarded(&g, 4096);
	uint64_t r = fake_alloc_guarded(&g, 4096);

	new_blk(false);
	start(F_BLK, QSIZE);
	fill(w, 8 * 512, 4096, inverse);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_OUT, 8, w, 4096, false, 1),
			  VIRTIO_BLK_S_OK);
	/* Acknowledged means in the file, and nothing around it moved. */
	ck_assert(file_is(8 * 512, 4096, inverse));
	ck_assert(file_is(0, 8 * 512, pattern));
	ck_assert(file_is(16 * 512, DISK_BYTES - 16 * 512, pattern));

	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 8, r, 4096, true, 4097),
			  VIRTIO_BLK_S_OK);
	ck_assert(guest_is(r, 8 * 512, 4096, inverse));
	fake_check_guards(&g, w, 4096);
	fake_check_guards(&g, r, 4096);
	ck_assert_uint_ge(g.interrupts, 2);
}
END_TEST

/* Data in several descriptors, through an indirect table, at the end. */
START_TEST(test_blk_read_segments_indirect)
{
	static const uint32_t lens[] = { 512, 1536, 2048 };
	struct fake_seg s[5];
	uint64_t st = new_status();
	uint64_t sector = DISK_SECTORS - 8;
	uint64_t off = sector * 512;
	uint16_t head;

	new_blk(false);
	start(F_BLK | F_INDIRECT, QSIZE);
	s[0] = (struct fake_seg){ put_hdr(VIRTIO_BLK_T_IN, sector), 16, false };
	for (unsigned int i = 0; i < 3; i++)
		s[i + 1] = (struct fake_seg){ fake_alloc_guarded(&g, lens[i]),
					      lens[i], true };
	s[4] = (struct fake_seg){ st, 1, true };
	head = fake_add_indirect(&g, 0, s, 5);
	run(0, 1);
	expect_used(0, head, 4096 + 1);
	ck_assert_uint_eq(status_of(st), VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert(guest_is(s[i + 1].gpa, off, lens[i], pattern));
		fake_check_guards(&g, s[i + 1].gpa, lens[i]);
		off += lens[i];
	}
}
END_TEST

/* The header may arrive in pieces, the status with data before it in
 * the same buffer: bytes count, not descriptors. */
START_TEST(test_blk_any_layout)
{
	uint64_t hdr = put_hdr(VIRTIO_BLK_T_IN, 3);
	uint64_t buf = fake_alloc_guarded(&g, 513);
	struct fake_seg s[3] = {
		{ hdr, 8, false }, { hdr + 8, 8, false }, { buf, 513, true },
	};
	uint16_t head;

	new_blk(false);
	start(F_BLK, QSIZE);
	memset(fake_ptr(&g, buf), SENTINEL, 513);
	head = fake_add_chain(&g, 0, s, 3);
	run(0, 1);
	expect_used(0, head, 513);
	ck_assert(guest_is(buf, 3 * 512, 512, pattern));
	ck_assert_uint_eq(status_of(buf + 512), VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(test_blk_flush)
{
	new_blk(false);
	start(F_BLK, QSIZE);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, 1),
			  VIRTIO_BLK_S_OK);
}
END_TEST

START_TEST(test_blk_get_id)
{
	uint64_t id = fake_alloc_guarded(&g, VIRTIO_BLK_ID_BYTES);
	char want[VIRTIO_BLK_ID_BYTES] = "kvmini-test-serial";

	new_blk(false);
	start(F_BLK, QSIZE);
	memset(fake_ptr(&g, id), SENTINEL, VIRTIO_BLK_ID_BYTES);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES,
				 true, VIRTIO_BLK_ID_BYTES + 1), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(fake_ptr(&g, id), want, VIRTIO_BLK_ID_BYTES);
	fake_check_guards(&g, id, VIRTIO_BLK_ID_BYTES);
}
END_TEST

static uint64_t put_ranges(const struct virtio_blk_discard_write_zeroes *r,
			   unsigned int n)
{
	uint64_t gpa = fake_alloc_guarded(&g, n * sizeof(*r));

	memcpy(fake_ptr(&g, gpa), r, n * sizeof(*r));
	return gpa;
}

static struct virtio_blk_discard_write_zeroes range(uint64_t sector,
						    uint32_t n, uint32_t flags)
{
	return (struct virtio_blk_discard_write_zeroes){
		.sector = htole64(sector), .num_sectors = htole32(n),
		.flags = htole32(flags),
	};
}

static uint64_t file_blocks(void)
{
	struct stat st;

	ck_assert_int_eq(fstat(file_fd, &st), 0);
	return st.st_blocks;
}

/* Discard punches holes: the file's blocks go, the range reads zeroes. */
START_TEST(test_blk_discard)
{
	struct virtio_blk_discard_write_zeroes r[2] = {
		range(0, 256, 0), range(1024, 512, 0),
	};
	uint64_t segs = put_ranges(r, 2);
	uint64_t before;

	new_blk(false);
	start(F_BLK, QSIZE);
	fsync(file_fd);
	before = file_blocks();
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_DISCARD, 0, segs, sizeof(r), false, 1),
			  VIRTIO_BLK_S_OK);
	ck_assert(file_is(0, 256 * 512, zero));
	ck_assert(file_is(256 * 512, 768 * 512, pattern));
	ck_assert(file_is(1024 * 512, 512 * 512, zero));
	ck_assert(file_is(1536 * 512, 512 * 512, pattern));
	ck_assert_uint_lt(file_blocks(), before);
	/* The size stays: discarding is not truncating. */
	ck_assert_int_eq(lseek(file_fd, 0, SEEK_END), DISK_BYTES);
}
END_TEST

START_TEST(test_blk_write_zeroes)
{
	/* An empty segment in the middle is legal and does nothing. */
	struct virtio_blk_discard_write_zeroes r[3] = {
		range(10, 5, 0), range(50, 0, 0),
		range(100, 300, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
	};
	uint64_t segs = put_ranges(r, 3);

	new_blk(false);
	start(F_BLK, QSIZE);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, segs, sizeof(r),
				 false, 1), VIRTIO_BLK_S_OK);
	ck_assert(file_is(0, 10 * 512, pattern));
	ck_assert(file_is(10 * 512, 5 * 512, zero));
	ck_assert(file_is(15 * 512, 85 * 512, pattern));
	ck_assert(file_is(100 * 512, 300 * 512, zero));
	ck_assert(file_is(400 * 512, DISK_BYTES - 400 * 512, pattern));
	ck_assert_int_eq(lseek(file_fd, 0, SEEK_END), DISK_BYTES);
}
END_TEST

/* ---- bad requests: each fails alone, the device goes on ------------- */

/* A request that must fail with status st, touching nothing. */
static void expect_fail(uint32_t type, uint64_t sector, uint64_t data,
			uint32_t len, bool data_write, uint8_t st)
{
	ck_assert_uint_eq(do_req(type, sector, data, len, data_write, 1), st);
	ck_assert(file_is(0, DISK_BYTES, pattern));
}

START_TEST(test_blk_bad_rw)
{
	uint64_t buf = fake_alloc_guarded(&g, 2048);

	new_blk(false);
	start(F_BLK, QSIZE);
	fill(buf, 0, 2048, inverse);
	/* Length not a multiple of 512. */
	expect_fail(VIRTIO_BLK_T_OUT, 0, buf, 1000, false, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_IN, 0, buf, 100, true, VIRTIO_BLK_S_IOERR);
	/* Beyond the end, by one sector. */
	expect_fail(VIRTIO_BLK_T_OUT, DISK_SECTORS - 1, buf, 1024, false,
		    VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_IN, DISK_SECTORS, buf, 512, true,
		    VIRTIO_BLK_S_IOERR);
	/* Sectors whose byte offset overflows 64 bits. */
	expect_fail(VIRTIO_BLK_T_OUT, UINT64_MAX, buf, 512, false,
		    VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_OUT, (UINT64_MAX >> 9) + 1, buf, 512, false,
		    VIRTIO_BLK_S_IOERR);
	/* Data on the wrong side: a write with writable data, a read with
	 * readable data. */
	expect_fail(VIRTIO_BLK_T_OUT, 0, buf, 512, true, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_IN, 0, buf, 512, false, VIRTIO_BLK_S_IOERR);
	/* Unknown types, and the legacy SCSI one. */
	expect_fail(0x42, 0, buf, 512, false, VIRTIO_BLK_S_UNSUPP);
	expect_fail(2, 0, buf, 512, false, VIRTIO_BLK_S_UNSUPP);
	expect_fail(VIRTIO_BLK_T_GET_ID, 0, 0, 0, false, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_GET_ID, 0, buf, 20, false, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_FLUSH, 0, buf, 512, false, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_FLUSH, 0, buf, 512, true, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, buf, 16, true, VIRTIO_BLK_S_IOERR);
	ck_assert(guest_is(buf, 0, 2048, inverse));
	/* An empty transfer is a success with nothing to do. */
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, DISK_SECTORS, 0, 0, true, 1),
			  VIRTIO_BLK_S_OK);
	/* And the device still works. */
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, DISK_SECTORS - 1, buf, 512,
				 true, 513), VIRTIO_BLK_S_OK);
	ck_assert(guest_is(buf, (DISK_SECTORS - 1) * 512, 512, pattern));
	fake_check_guards(&g, buf, 2048);
}
END_TEST

START_TEST(test_blk_short_header)
{
	uint64_t hdr = put_hdr(VIRTIO_BLK_T_IN, 0);
	uint64_t buf = fake_alloc_guarded(&g, 512);
	uint64_t st = new_status();
	struct fake_seg s[3] = { { hdr, 8, false }, { buf, 512, true }, { st, 1, true } };
	uint16_t head;

	new_blk(false);
	start(F_BLK, QSIZE);
	memset(fake_ptr(&g, buf), SENTINEL, 512);
	head = fake_add_chain(&g, 0, s, 3);
	run(0, 1);
	expect_used(0, head, 1);
	ck_assert_uint_eq(status_of(st), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(*(uint8_t *)fake_ptr(&g, buf), SENTINEL);
}
END_TEST

/* No writable byte at all: nothing to put a status in, length 0. */
START_TEST(test_blk_no_status)
{
	uint64_t hdr = put_hdr(VIRTIO_BLK_T_OUT, 0);
	uint64_t buf = fake_alloc_guarded(&g, 512);
	uint64_t st = new_status();
	struct fake_seg missing[2] = { { hdr, 16, false }, { buf, 512, false } };
	struct fake_seg readable[3] = {
		{ hdr, 16, false }, { buf, 512, false }, { st, 1, false },
	};
	uint16_t h1, h2;

	new_blk(false);
	start(F_BLK, QSIZE);
	fill(buf, 0, 512, inverse);
	h1 = fake_add_chain(&g, 0, missing, 2);
	h2 = fake_add_chain(&g, 0, readable, 3);
	run(0, 2);
	expect_used(0, h1, 0);
	expect_used(0, h2, 0);
	ck_assert_uint_eq(status_of(st), SENTINEL);
	ck_assert(file_is(0, DISK_BYTES, pattern));
}
END_TEST

/* A header-only chain with its status: IOERR, whatever the type. */
START_TEST(test_blk_header_missing)
{
	uint64_t st = new_status();
	struct fake_seg s[1] = { { st, 1, true } };
	uint16_t head;

	new_blk(false);
	start(F_BLK, QSIZE);
	head = fake_add_chain(&g, 0, s, 1);
	run(0, 1);
	expect_used(0, head, 1);
	ck_assert_uint_eq(status_of(st), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(test_blk_write_ro)
{
	uint64_t buf = fake_alloc_guarded(&g, 512);
	struct virtio_blk_discard_write_zeroes r = range(0, 8, 0);
	uint64_t segs = put_ranges(&r, 1);

	new_blk(true);
	start((F_BLK & ~(F(VIRTIO_BLK_F_DISCARD) | F(VIRTIO_BLK_F_WRITE_ZEROES))) |
	      F(VIRTIO_BLK_F_RO), QSIZE);
	fill(buf, 0, 512, inverse);
	expect_fail(VIRTIO_BLK_T_OUT, 0, buf, 512, false, VIRTIO_BLK_S_IOERR);
	/* Features a read-only disk does not offer are not negotiated. */
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, segs, sizeof(r), false,
		    VIRTIO_BLK_S_UNSUPP);
	/* Reads and flushes work. */
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false, 1),
			  VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 1, buf, 512, true, 513),
			  VIRTIO_BLK_S_OK);
	ck_assert(guest_is(buf, 512, 512, pattern));
}
END_TEST

START_TEST(test_blk_bad_ranges)
{
	struct virtio_blk_discard_write_zeroes many[VBLK_DWZ_MAX_SEG + 1];
	struct virtio_blk_discard_write_zeroes r;
	uint64_t buf;

	new_blk(false);
	start(F_BLK, QSIZE);
	/* Past the end, and overflowing. */
	r = range(DISK_SECTORS - 4, 5, 0);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, put_ranges(&r, 1), sizeof(r), false,
		    VIRTIO_BLK_S_IOERR);
	r = range(UINT64_MAX - 1, 4, 0);
	expect_fail(VIRTIO_BLK_T_WRITE_ZEROES, 0, put_ranges(&r, 1), sizeof(r),
		    false, VIRTIO_BLK_S_IOERR);
	/* More sectors than one segment may have. */
	r = range(0, VBLK_DWZ_MAX_SECTORS + 1, 0);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, put_ranges(&r, 1), sizeof(r), false,
		    VIRTIO_BLK_S_IOERR);
	/* unmap on a discard, unknown flags anywhere. */
	r = range(0, 8, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, put_ranges(&r, 1), sizeof(r), false,
		    VIRTIO_BLK_S_UNSUPP);
	r = range(0, 8, 2);
	expect_fail(VIRTIO_BLK_T_WRITE_ZEROES, 0, put_ranges(&r, 1), sizeof(r),
		    false, VIRTIO_BLK_S_UNSUPP);
	/* Too many segments; none; a partial one. A bad segment fails the
	 * whole request before any is done. */
	for (unsigned int i = 0; i < VBLK_DWZ_MAX_SEG + 1; i++)
		many[i] = range(i * 8, 8, 0);
	buf = put_ranges(many, VBLK_DWZ_MAX_SEG + 1);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, buf, sizeof(many), false,
		    VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, 0, 0, false, VIRTIO_BLK_S_IOERR);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, buf, 20, false, VIRTIO_BLK_S_IOERR);
	many[3] = range(DISK_SECTORS, 1, 0);
	buf = put_ranges(many, 4);
	expect_fail(VIRTIO_BLK_T_WRITE_ZEROES, 0, buf, 4 * sizeof(r), false,
		    VIRTIO_BLK_S_IOERR);
	/* The most segments allowed is fine. */
	buf = put_ranges(many, 3);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, buf, 3 * sizeof(r),
				 false, 1), VIRTIO_BLK_S_OK);
	ck_assert(file_is(0, 24 * 512, zero));
}
END_TEST

/* Without the features negotiated, discard and write zeroes are unknown. */
START_TEST(test_blk_dwz_not_negotiated)
{
	struct virtio_blk_discard_write_zeroes r = range(0, 8, 0);

	new_blk(false);
	start(F(VIRTIO_BLK_F_FLUSH), QSIZE);
	expect_fail(VIRTIO_BLK_T_DISCARD, 0, put_ranges(&r, 1), sizeof(r), false,
		    VIRTIO_BLK_S_UNSUPP);
	expect_fail(VIRTIO_BLK_T_WRITE_ZEROES, 0, put_ranges(&r, 1), sizeof(r),
		    false, VIRTIO_BLK_S_UNSUPP);
}
END_TEST

/* ---- many requests, several queues, reset ------------------------------ */

/* More requests than slots: the rest wait, then all complete. */
START_TEST(test_blk_many_in_flight)
{
	enum { N = 200 };
	uint64_t buf[N], st[N];

	new_blk(false);
	start(F_BLK | F_INDIRECT | F_EVENT_IDX, BIGQ);
	for (unsigned int i = 0; i < N; i++) {
		struct fake_seg s[3];

		buf[i] = fake_alloc_guarded(&g, 512);
		st[i] = new_status();
		s[0] = (struct fake_seg){ put_hdr(VIRTIO_BLK_T_IN, i), 16, false };
		s[1] = (struct fake_seg){ buf[i], 512, true };
		s[2] = (struct fake_seg){ st[i], 1, true };
		fake_add_indirect(&g, 0, s, 3);
	}
	run(0, N);
	for (unsigned int i = 0; i < N; i++) {
		uint32_t id, len;

		ck_assert(fake_get_used(&g, 0, &id, &len));
		ck_assert_uint_eq(len, 513);
		ck_assert_uint_eq(status_of(st[i]), VIRTIO_BLK_S_OK);
		ck_assert(guest_is(buf[i], i * 512, 512, pattern));
		fake_check_guards(&g, buf[i], 512);
	}
}
END_TEST

/* With MQ, each queue completes its own requests. */
START_TEST(test_blk_multiqueue)
{
	uint64_t b0 = fake_alloc_guarded(&g, 512), b2 = fake_alloc_guarded(&g, 512);
	uint64_t s0 = new_status(), s2 = new_status();
	uint16_t h0, h2;

	new_blk_queues(false, false, 3);
	start(F_BLK, QSIZE);
	h2 = add_req(2, VIRTIO_BLK_T_IN, 20, b2, 512, true, s2);
	h0 = add_req(0, VIRTIO_BLK_T_IN, 10, b0, 512, true, s0);
	run(2, 1);
	expect_used(2, h2, 513);
	run(0, 1);
	expect_used(0, h0, 513);
	ck_assert(guest_is(b0, 10 * 512, 512, pattern));
	ck_assert(guest_is(b2, 20 * 512, 512, pattern));
	ck_assert_uint_eq(fake_used_idx(&g, 1), 0);
}
END_TEST

/*
 * The counters --verbose logs: every request popped, submitted, reaped
 * and published; each interrupt the device asked for is raised only when
 * the driver's used_event lets it (EVENT_IDX honoured), and the counter
 * of raised ones matches what the transport saw.
 */
START_TEST(test_blk_stats)
{
	enum { N = 8 };
	uint64_t buf = fake_alloc_guarded(&g, 512), st_gpa[N];
	struct vblk_stats st;
	unsigned int irqs;

	new_blk_queues(false, false, 2);
	start(F_BLK | F_EVENT_IDX, BIGQ);
	for (unsigned int i = 0; i < N; i++) {
		st_gpa[i] = new_status();
		add_req(1, VIRTIO_BLK_T_IN, i, buf, 512, true, st_gpa[i]);
	}
	run(1, N);
	for (unsigned int i = 0; i < N; i++)
		ck_assert_uint_eq(status_of(st_gpa[i]), VIRTIO_BLK_S_OK);
	virtio_blk_stats(blk, &st);
	ck_assert_uint_eq(st.q[1].reqs, N);
	ck_assert_uint_eq(st.q[1].done, N);
	ck_assert_uint_eq(st.q[1].kicks, 1);
	ck_assert_uint_eq(st.cqes, N);
	ck_assert_uint_ge(st.submits, 1);
	ck_assert_uint_le(st.submits, N);
	ck_assert_uint_ge(st.wakes, 1);
	ck_assert_uint_ge(st.q[1].publishes, 1);
	ck_assert_uint_ge(st.q[1].asked, 1);
	ck_assert_uint_le(st.q[1].raised, st.q[1].asked);
	ck_assert_uint_eq(st.q[1].raised, g.interrupts);
	ck_assert_uint_eq(st.q[0].reqs, 0);

	/* used_event far ahead: the driver wants no interrupt for these. */
	irqs = g.interrupts;
	fake_set_used_event(&g, 1, fake_used_idx(&g, 1) + 100);
	add_req(1, VIRTIO_BLK_T_IN, 0, buf, 512, true, new_status());
	run(1, 1);
	virtio_blk_stats(blk, &st);
	ck_assert_uint_eq(g.interrupts, irqs);
	ck_assert_uint_eq(st.q[1].raised, irqs);
	ck_assert_uint_gt(st.q[1].asked, st.q[1].raised);

	/* Set to the entry it is waiting for: raised. */
	fake_set_used_event(&g, 1, fake_used_idx(&g, 1));
	add_req(1, VIRTIO_BLK_T_IN, 0, buf, 512, true, new_status());
	run(1, 1);
	virtio_blk_stats(blk, &st);
	ck_assert_uint_eq(g.interrupts, irqs + 1);
	ck_assert_uint_eq(st.q[1].raised, irqs + 1);
	ck_assert_uint_eq(st.q[1].reqs, N + 2);
}
END_TEST

/* Reset with reads in flight: once it returns, no completion writes
 * guest memory or the rings. */
START_TEST(test_blk_reset_in_flight)
{
	enum { N = 60, LEN = 16384 };
	uint64_t buf[N], st[N];
	uint8_t *snap = malloc(N * LEN);
	int fd;

	ck_assert_ptr_nonnull(snap);
	new_blk(false);
	start(F_BLK | F_INDIRECT, BIGQ);
	for (unsigned int i = 0; i < N; i++) {
		struct fake_seg s[3];

		buf[i] = fake_alloc(&g, LEN, 512);
		memset(fake_ptr(&g, buf[i]), SENTINEL, LEN);
		st[i] = new_status();
		s[0] = (struct fake_seg){ put_hdr(VIRTIO_BLK_T_IN, i * 32), 16, false };
		s[1] = (struct fake_seg){ buf[i], LEN, true };
		s[2] = (struct fake_seg){ st[i], 1, true };
		fake_add_indirect(&g, 0, s, 3);
	}
	fake_kick(&g, blk, 0);
	ck_assert(fake_set_status(blk, 0));
	for (unsigned int i = 0; i < N; i++)
		memcpy(snap + i * LEN, fake_ptr(&g, buf[i]), LEN);
	/* Whatever the ring still signals finds nothing to complete. */
	fd = virtio_blk_completion_fd(blk);
	for (int i = 0; i < 5; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10);
		virtio_blk_complete(blk);
	}
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);
	for (unsigned int i = 0; i < N; i++) {
		ck_assert_uint_eq(status_of(st[i]), SENTINEL);
		ck_assert_mem_eq(snap + i * LEN, fake_ptr(&g, buf[i]), LEN);
	}
	free(snap);
	/* And the device comes back. */
	memset(g.q, 0, sizeof(g.q));
	start(F_BLK, QSIZE);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 4, buf[0], 512, true, 513),
			  VIRTIO_BLK_S_OK);
	ck_assert(guest_is(buf[0], 4 * 512, 512, pattern));
}
END_TEST

/* ---- the host file ----------------------------------------------------- */

/* The image shrank under the VM: a read past its new end is an error,
 * not a short success. */
START_TEST(test_blk_short_read)
{
	uint64_t buf = fake_alloc_guarded(&g, 8192);

	new_blk(false);
	start(F_BLK, QSIZE);
	memset(fake_ptr(&g, buf), SENTINEL, 8192);
	ck_assert_int_eq(ftruncate(file_fd, 100 * 512 + 4096), 0);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 100, buf, 8192, true, 1),
			  VIRTIO_BLK_S_IOERR);
	fake_check_guards(&g, buf, 8192);
}
END_TEST

/* Without FLUSH negotiated writes are write-through, and still work. */
START_TEST(test_blk_writethrough)
{
	uint64_t w = fake_alloc_guarded(&g, 1024);

	new_blk(false);
	start(0, QSIZE);
	fill(w, 512, 1024, inverse);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_OUT, 1, w, 1024, false, 1),
			  VIRTIO_BLK_S_OK);
	ck_assert(file_is(512, 1024, inverse));
}
END_TEST

/* Write zeroes without FLUSH: synced before it completes. */
START_TEST(test_blk_writethrough_zeroes)
{
	struct virtio_blk_discard_write_zeroes r = range(4, 4, 0);

	new_blk(false);
	start(F(VIRTIO_BLK_F_WRITE_ZEROES), QSIZE);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, put_ranges(&r, 1),
				 sizeof(r), false, 1), VIRTIO_BLK_S_OK);
	ck_assert(file_is(4 * 512, 4 * 512, zero));
	ck_assert(file_is(8 * 512, 512, pattern));
}
END_TEST

/*
 * tmpfs punches holes but has no zero range: write zeroes falls back to
 * writing zeroes (more than one pass's worth here), and a discard still
 * punches. Skipped where there is no /dev/shm.
 */
START_TEST(test_blk_zeroes_fallback)
{
	struct virtio_blk_discard_write_zeroes r[2] = {
		range(1, 2047, 0), range(0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP),
	};
	struct stat st;

	if (stat("/dev/shm", &st) || !S_ISDIR(st.st_mode)) {
		unit_skip("test_virtio_blk: no /dev/shm");
		return;
	}
	close(file_fd);
	unlink(path);
	make_image_in("/dev/shm");
	new_blk(false);
	start(F_BLK, QSIZE);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_WRITE_ZEROES, 0, put_ranges(r, 2),
				 sizeof(r), false, 1), VIRTIO_BLK_S_OK);
	ck_assert(file_is(0, DISK_BYTES, zero));
	ck_assert_int_eq(lseek(file_fd, 0, SEEK_END), DISK_BYTES);
}
END_TEST

/* Buffers re-posted while the device holds them: DEVICE_NEEDS_RESET,
 * after the requests in flight are drained, none completed. */
START_TEST(test_blk_reposted_buffers)
{
	uint64_t buf = fake_alloc_guarded(&g, 512);
	uint64_t st = new_status();
	struct fake_seg s[3] = {
		{ put_hdr(VIRTIO_BLK_T_IN, 0), 16, false }, { buf, 512, true },
		{ st, 1, true },
	};
	uint16_t head;

	new_blk(false);
	start(F_BLK | F_INDIRECT, QSIZE);
	head = fake_add_indirect(&g, 0, s, 3);
	for (unsigned int i = 1; i < QSIZE; i++)
		fake_add_head(&g, 0, head);
	fake_kick(&g, blk, 0);
	ck_assert(!blk->broken);
	fake_add_head(&g, 0, head);
	fake_kick(&g, blk, 0);
	ck_assert(blk->broken);
	ck_assert(!blk->active);
	ck_assert(g.isr & VIRTIO_ISR_CONFIG);
	virtio_blk_complete(blk);
	ck_assert_uint_eq(fake_used_idx(&g, 0), 0);
	ck_assert_uint_eq(status_of(st), SENTINEL);
}
END_TEST

/*
 * A driver that re-posts a request completed without I/O (an unsupported
 * type) as soon as the device takes it: one kick handles a queue's worth,
 * then asks for another turn instead of looping for ever; that turn goes
 * on where the first stopped.
 */
START_TEST(test_blk_reposting_bounded)
{
	uint64_t st = new_status();
	struct fake_seg s[2] = { { put_hdr(99, 0), 16, false }, { st, 1, true } };
	uint16_t head, used, pending;

	new_blk(false);
	start(F_BLK, QSIZE);
	head = fake_add_chain(&g, 0, s, 2);
	ck_assert_msg(fake_kick_reposting(&g, blk, 0, head, 2000),
		      "one kick kept the I/O thread while the driver re-posted");
	used = fake_used_idx(&g, 0);
	ck_assert_uint_le(used, QSIZE);
	ck_assert_uint_eq(g.requeues[0], 1);
	ck_assert(blk->active);
	ck_assert_uint_eq(status_of(st), VIRTIO_BLK_S_UNSUPP);
	pending = g.q[0].avail_idx - blk->vqs[0].last_avail;
	ck_assert_uint_gt(pending, 0);
	fake_kick(&g, blk, 0);
	ck_assert_uint_eq(fake_used_idx(&g, 0), (uint16_t)(used + pending));
}
END_TEST

static bool new_direct(void)
{
	struct disk d;
	int err = open_disk(&d, false, true);

	if (err == -EINVAL)
		return false;	/* this file system has no O_DIRECT */
	ck_assert_int_eq(err, 0);
	blk = virtio_blk_new(&g.mem, &d, 1, NULL, 0);
	ck_assert_ptr_nonnull(blk);
	fake_attach(&g, blk);
	return true;
}

/* O_DIRECT: aligned buffers go straight, unaligned ones through bounce
 * buffers, in several pieces when large; both land in the file. */
START_TEST(test_blk_direct)
{
	enum { BIG = 200 * 1024 };
	uint64_t al = fake_alloc(&g, 8192, 4096);
	uint64_t un = fake_alloc(&g, BIG + 4096, 4096) + 1;
	struct fake_seg s[4];
	uint64_t st = new_status();
	uint16_t head;

	if (!new_direct()) {
		unit_skip("test_virtio_blk: no O_DIRECT in the image's file system");
		return;
	}
	start(F_BLK, QSIZE);
	fill(al, 0, 8192, inverse);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_OUT, 0, al, 8192, false, 1),
			  VIRTIO_BLK_S_OK);
	ck_assert(file_is(0, 8192, inverse));

	fill(un, 64 * 512, BIG, inverse);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_OUT, 64, un, BIG, false, 1),
			  VIRTIO_BLK_S_OK);
	ck_assert(file_is(64 * 512, BIG, inverse));
	ck_assert(file_is(64 * 512 + BIG, DISK_BYTES - 64 * 512 - BIG, pattern));

	/* A read into two unaligned pieces. */
	memset(fake_ptr(&g, un), 0, BIG);
	s[0] = (struct fake_seg){ put_hdr(VIRTIO_BLK_T_IN, 64), 16, false };
	s[1] = (struct fake_seg){ un, 1536, true };
	s[2] = (struct fake_seg){ un + 1536, BIG - 1536, true };
	s[3] = (struct fake_seg){ st, 1, true };
	head = fake_add_chain(&g, 0, s, 4);
	run(0, 1);
	expect_used(0, head, BIG + 1);
	ck_assert_uint_eq(status_of(st), VIRTIO_BLK_S_OK);
	ck_assert(guest_is(un, 64 * 512, BIG, inverse));
}
END_TEST

static unsigned int open_fds(void)
{
	unsigned int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

/* Freeing the device closes all it opened: the image, the ring, the
 * eventfd, with requests in flight or not. */
START_TEST(test_blk_no_fd_leak)
{
	uint64_t buf = fake_alloc_guarded(&g, 4096);
	unsigned int before = open_fds();

	new_blk(false);
	start(F_BLK, QSIZE);
	ck_assert_uint_gt(open_fds(), before);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 0, buf, 4096, true, 4097),
			  VIRTIO_BLK_S_OK);
	add_req(0, VIRTIO_BLK_T_IN, 8, buf, 4096, true, new_status());
	fake_kick(&g, blk, 0);
	virtio_dev_exit(blk);
	free(blk);
	blk = NULL;
	ck_assert_uint_eq(open_fds(), before);
}
END_TEST

/* ---- parsing alone: SIZE_MAX, read once ---------------------------- */

static const struct vblk_limits parse_lim = {
	.capacity = 1ULL << 40, .off_align = 512, .serial = "x",
};

/* A chain of header, data segments as given (writable: a read), and
 * status, as virtq_pop() hands it over; the iovecs point into buf. */
static void parse_chain(struct vblk_req *r, struct virtio_blk_outhdr *h,
			uint8_t *buf, const size_t *lens, unsigned int n,
			uint8_t *status)
{
	struct virtq_chain *c = &r->chain;

	memset(c, 0, sizeof(*c));
	c->iov[0] = (struct iovec){ h, sizeof(*h) };
	c->nr_out = 1;
	c->out_len = sizeof(*h);
	for (unsigned int i = 0; i < n; i++) {
		c->iov[1 + i] = (struct iovec){ buf, lens[i] };
		buf += lens[i];
		c->in_len += lens[i];
	}
	c->iov[1 + n] = (struct iovec){ status, 1 };
	c->nr_in = n + 1;
	c->in_len += 1;
}

/* SIZE_MAX is advertised, so a longer data segment fails the request
 * (and the same bytes in two segments do not). */
START_TEST(test_blk_size_max)
{
	static const size_t one_big[] = { VBLK_SIZE_MAX + 512 };
	static const size_t two[] = { VBLK_SIZE_MAX, 512 };
	static const size_t exact[] = { VBLK_SIZE_MAX };
	struct virtio_blk_outhdr h = { .type = htole32(VIRTIO_BLK_T_IN) };
	uint8_t *buf = malloc(2 * VBLK_SIZE_MAX), status;
	struct vblk_req *r = calloc(1, sizeof(*r));

	ck_assert(buf && r);
	parse_chain(r, &h, buf, one_big, 1, &status);
	vblk_parse(r, &parse_lim);
	ck_assert_int_eq(r->op, VBLK_OP_DONE);
	ck_assert_uint_eq(r->result, VIRTIO_BLK_S_IOERR);
	ck_assert_ptr_eq(r->status, &status);

	parse_chain(r, &h, buf, two, 2, &status);
	vblk_parse(r, &parse_lim);
	ck_assert_int_eq(r->op, VBLK_OP_READ);
	ck_assert_uint_eq(r->left, VBLK_SIZE_MAX + 512);

	parse_chain(r, &h, buf, exact, 1, &status);
	vblk_parse(r, &parse_lim);
	ck_assert_int_eq(r->op, VBLK_OP_READ);

	/* A write whose one readable descriptor holds the header and
	 * SIZE_MAX bytes of data: the header is not data. */
	memset(&r->chain, 0, sizeof(r->chain));
	memcpy(buf, &(struct virtio_blk_outhdr){ .type = htole32(VIRTIO_BLK_T_OUT) },
	       VBLK_HDR_SIZE);
	r->chain.iov[0] = (struct iovec){ buf, VBLK_HDR_SIZE + VBLK_SIZE_MAX };
	r->chain.iov[1] = (struct iovec){ &status, 1 };
	r->chain.nr_out = r->chain.nr_in = 1;
	r->chain.out_len = VBLK_HDR_SIZE + VBLK_SIZE_MAX;
	r->chain.in_len = 1;
	vblk_parse(r, &parse_lim);
	ck_assert_int_eq(r->op, VBLK_OP_WRITE);
	ck_assert_uint_eq(r->left, VBLK_SIZE_MAX);
	r->chain.iov[0] = (struct iovec){ buf, VBLK_HDR_SIZE + VBLK_SIZE_MAX + 512 };
	r->chain.iov[1] = (struct iovec){ &status, 1 };
	r->chain.nr_out = r->chain.nr_in = 1;
	r->chain.out_len = VBLK_HDR_SIZE + VBLK_SIZE_MAX + 512;
	vblk_parse(r, &parse_lim);
	ck_assert_int_eq(r->op, VBLK_OP_DONE);
	ck_assert_uint_eq(r->result, VIRTIO_BLK_S_IOERR);
	free(r);
	free(buf);
}
END_TEST

/*
 * A driver rewriting the header while the device parses it: the sector
 * flips between 0 (a good read) and one far past the disk. The device
 * must use the sector it checked: a read it accepts is at offset 0.
 */
struct hdr_flip {
	__virtio64 *sector;
	bool stop;
};

static void *hdr_flipper(void *arg)
{
	struct hdr_flip *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(f->sector, htole64(1ULL << 50), __ATOMIC_RELAXED);
		__atomic_store_n(f->sector, htole64(0), __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(test_blk_header_rewritten_while_parsed)
{
	static const size_t lens[] = { 4096 };
	struct virtio_blk_outhdr *h = aligned_alloc(64, 64);
	struct vblk_req *r = calloc(1, sizeof(*r));
	uint8_t *buf = malloc(4096), status;
	struct hdr_flip f = { .sector = &h->sector };
	unsigned int ok = 0, bad = 0;
	pthread_t t;

	ck_assert(h && r && buf);
	*h = (struct virtio_blk_outhdr){ .type = htole32(VIRTIO_BLK_T_IN) };
	ck_assert_int_eq(pthread_create(&t, NULL, hdr_flipper, &f), 0);
	for (unsigned int i = 0; i < 2000 || ((!ok || !bad) && i < 5000000); i++) {
		parse_chain(r, h, buf, lens, 1, &status);
		vblk_parse(r, &parse_lim);
		if (r->op == VBLK_OP_READ) {
			ok++;
			ck_assert_uint_eq(r->sector, 0);
			ck_assert_uint_eq(r->off, 0);
		} else {
			bad++;
			ck_assert_int_eq(r->op, VBLK_OP_DONE);
			ck_assert_uint_eq(r->result, VIRTIO_BLK_S_IOERR);
			ck_assert_uint_eq(r->sector, 1ULL << 50);
		}
	}
	__atomic_store_n(&f.stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	ck_assert_uint_gt(ok, 0);
	ck_assert_uint_gt(bad, 0);
	free(buf);
	free(r);
	free(h);
}
END_TEST


/* ---- snapshots ------------------------------------------------------------ */

static void blk_save(struct sbuf *b)
{
	pthread_mutex_lock(&blk->lock);
	virtio_dev_quiesce(blk);
	ck_assert_int_eq(virtio_dev_save(blk, b), 0);
	pthread_mutex_unlock(&blk->lock);
}

static int blk_load(const struct sbuf *b, size_t len)
{
	struct sbuf_rd r;
	int err;

	sbuf_rd_init(&r, b->data, len);
	pthread_mutex_lock(&blk->lock);
	err = virtio_dev_load(blk, &r);
	pthread_mutex_unlock(&blk->lock);
	if (!err && !sbuf_rd_done(&r))
		err = -EMSGSIZE;
	return err;
}

static void blk_replace(void)
{
	virtio_dev_exit(blk);
	free(blk);
	new_blk(false);
}

/*
 * Reads in flight when the snapshot is taken complete before it, with
 * their data; one posted and never kicked is served after the restore,
 * and the disk goes on with requests after that.
 */
START_TEST(test_blk_state_round_trip)
{
	uint64_t buf[5], st[5], data = fake_alloc_guarded(&g, 512);
	uint16_t head[5];
	struct sbuf b = { 0 };

	new_blk(false);
	start(F_BLK | F_EVENT_IDX, QSIZE);
	fill(data, 3 * 512, 512, inverse);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_OUT, 3, data, 512, false, 1),
			  VIRTIO_BLK_S_OK);
	for (unsigned int i = 0; i < 5; i++) {
		buf[i] = fake_alloc_guarded(&g, 512);
		st[i] = new_status();
		head[i] = add_req(0, VIRTIO_BLK_T_IN, i + 1, buf[i], 512, true, st[i]);
		if (i == 3)
			fake_kick(&g, blk, 0);	/* four in flight */
	}
	blk_save(&b);
	for (unsigned int i = 0; i < 4; i++) {
		expect_used(0, head[i], 513);
		ck_assert_uint_eq(status_of(st[i]), VIRTIO_BLK_S_OK);
	}
	ck_assert(guest_is(buf[2], 3 * 512, 512, inverse));
	ck_assert(guest_is(buf[0], 512, 512, pattern));
	ck_assert_uint_eq(status_of(st[4]), SENTINEL);

	blk_replace();
	for (size_t n = 0; n < b.len; n++) {
		ck_assert_int_eq(blk_load(&b, n), -EINVAL);
		ck_assert(!blk->active);
	}
	ck_assert_int_eq(blk_load(&b, b.len), 0);
	ck_assert(blk->active);
	ck_assert_uint_eq(g.requeues[0], 1);
	run(0, 1);
	expect_used(0, head[4], 513);
	ck_assert(guest_is(buf[4], 5 * 512, 512, pattern));
	ck_assert_uint_eq(fake_used_idx(&g, 0), 6);
	ck_assert_uint_eq(do_req(VIRTIO_BLK_T_IN, 3, data, 512, true, 513),
			  VIRTIO_BLK_S_OK);
	ck_assert(guest_is(data, 3 * 512, 512, inverse));
	sbuf_free(&b);
}
END_TEST

/* The disk is not the one the guest knew: refused, naming the sizes. */
START_TEST(test_blk_state_size_changed)
{
	struct sbuf b = { 0 };

	new_blk(false);
	start(F_BLK, QSIZE);
	blk_save(&b);
	ck_assert_int_eq(ftruncate(file_fd, DISK_BYTES / 2), 0);
	blk_replace();
	ck_assert_int_eq(blk_load(&b, b.len), -EINVAL);
	ck_assert(!blk->active);
	ck_assert_uint_eq(blk->status, 0);
	sbuf_free(&b);
}
END_TEST

static Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_blk_identity);
	tcase_add_test(tc, test_blk_identity_ro);
	tcase_add_test(tc, test_blk_write_then_read);
	tcase_add_test(tc, test_blk_read_segments_indirect);
	tcase_add_test(tc, test_blk_any_layout);
	tcase_add_test(tc, test_blk_flush);
	tcase_add_test(tc, test_blk_get_id);
	tcase_add_test(tc, test_blk_discard);
	tcase_add_test(tc, test_blk_write_zeroes);
	tcase_add_test(tc, test_blk_bad_rw);
	tcase_add_test(tc, test_blk_short_header);
	tcase_add_test(tc, test_blk_no_status);
	tcase_add_test(tc, test_blk_header_missing);
	tcase_add_test(tc, test_blk_write_ro);
	tcase_add_test(tc, test_blk_bad_ranges);
	tcase_add_test(tc, test_blk_dwz_not_negotiated);
	tcase_add_test(tc, test_blk_many_in_flight);
	tcase_add_test(tc, test_blk_multiqueue);
	tcase_add_test(tc, test_blk_stats);
	tcase_add_test(tc, test_blk_reset_in_flight);
	tcase_add_test(tc, test_blk_short_read);
	tcase_add_test(tc, test_blk_writethrough);
	tcase_add_test(tc, test_blk_writethrough_zeroes);
	tcase_add_test(tc, test_blk_zeroes_fallback);
	tcase_add_test(tc, test_blk_reposted_buffers);
	tcase_add_test(tc, test_blk_reposting_bounded);
	tcase_add_test(tc, test_blk_direct);
	tcase_add_test(tc, test_blk_no_fd_leak);
	tcase_add_test(tc, test_blk_size_max);
	tcase_add_test(tc, test_blk_header_rewritten_while_parsed);
	tcase_add_test(tc, test_blk_state_round_trip);
	tcase_add_test(tc, test_blk_state_size_changed);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(virtio_blk_suite)
