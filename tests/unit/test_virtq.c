// SPDX-License-Identifier: GPL-2.0
/*
 * Split virtqueue tests. The test plays the driver: it writes descriptors
 * and ring entries into a fake guest RAM made of two GPA-adjacent regions
 * backed by separate host buffers, so that a buffer crossing them has no
 * contiguous host mapping.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "util.h"
#include "virtio/virtq.h"
#include "lib/mem.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL
#define RAM2_GPA	(RAM_GPA + RAM_SIZE)	/* right after the first */
#define RAM2_SIZE	0x10000ULL
#define RAM_END		(RAM2_GPA + RAM2_SIZE)

/* Offsets into the first region; room for a queue of 512. */
#define DESC_OFF	0x0000
#define AVAIL_OFF	0x4000
#define USED_OFF	0x6000
#define TABLE_OFF	0x8000
#define BUF_OFF		0x10000

#define BIG_LEN		0x80000	/* fits in RAM after BUF_OFF */

#define MAX_SIZE	512
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)

static struct guest_mem mem;
static uint8_t *ram, *ram2;
static struct virtq vq;
static struct virtq_chain chain;
static unsigned int qsize;
static uint16_t drv_avail;	/* the driver's avail idx */

static uint64_t gpa(uint64_t off)
{
	return RAM_GPA + off;
}

static void mem_setup(void)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	ram2 = aligned_alloc(4096, RAM2_SIZE);
	ck_assert(ram && ram2);
	memset(ram, 0, RAM_SIZE);
	memset(ram2, 0, RAM2_SIZE);
	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(gmem_add_region(&mem, RAM_GPA, RAM_SIZE, ram), 0);
	ck_assert_int_eq(gmem_add_region(&mem, RAM2_GPA, RAM2_SIZE, ram2), 0);
}

static void mem_teardown(void)
{
	free(ram);
	free(ram2);
}

/* Sets the queue up as a transport would, without enabling it. */
static void configure(unsigned int size, uint64_t features)
{
	ck_assert_int_eq(virtq_init(&vq, &mem, MAX_SIZE, "test"), 0);
	vq.size = size;
	vq.desc_gpa = gpa(DESC_OFF);
	vq.avail_gpa = gpa(AVAIL_OFF);
	vq.used_gpa = gpa(USED_OFF);
	vq.features = features;
	qsize = size;
	drv_avail = 0;
}

static void start(unsigned int size, uint64_t features)
{
	configure(size, features);
	ck_assert_int_eq(virtq_enable(&vq), 0);
}

static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(ram + AVAIL_OFF);
}

static struct vring_used *used(void)
{
	return (struct vring_used *)(ram + USED_OFF);
}

static uint16_t used_idx(void)
{
	return le16toh(__atomic_load_n(&used()->idx, __ATOMIC_ACQUIRE));
}

static void put_desc(uint8_t *table, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr),
		.len = htole32(len),
		.flags = htole16(flags),
		.next = htole16(next),
	};

	memcpy(table + i * sizeof(d), &d, sizeof(d));
}

static void set_desc(unsigned int i, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	put_desc(ram + DESC_OFF, i, addr, len, flags, next);
}

static void set_idesc(uint64_t table_off, unsigned int i, uint64_t addr,
		      uint32_t len, uint16_t flags, uint16_t next)
{
	put_desc(ram + table_off, i, addr, len, flags, next);
}

static void set_avail_idx(uint16_t idx)
{
	__atomic_store_n(&avail()->idx, htole16(idx), __ATOMIC_RELEASE);
}

static void avail_add(uint16_t head)
{
	avail()->ring[drv_avail & (qsize - 1)] = htole16(head);
	set_avail_idx(++drv_avail);
}

static void set_used_event(uint16_t v)
{
	avail()->ring[qsize] = htole16(v);
}

static uint16_t avail_event(void)
{
	uint16_t v;

	memcpy(&v, &used()->ring[qsize], sizeof(v));
	return le16toh(v);
}

/* Pops a chain that must be there and well formed. */
static void pop_ok(void)
{
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(chain.err, 0);
	ck_assert(!virtq_is_broken(&vq));
}

/* Pops a chain that must break the queue with err, for good. */
static void pop_broken(int err)
{
	uint16_t before = used_idx();
	struct vring_used_elem elem = used()->ring[before & (qsize - 1)];

	ck_assert_int_eq(virtq_pop(&vq, &chain), err);
	ck_assert(virtq_is_broken(&vq));
	ck_assert_int_eq(virtq_pop(&vq, &chain), err);
	/* A broken queue writes nothing more into guest memory. */
	virtq_push(&vq, 7, 12345);
	ck_assert_uint_eq(used_idx(), before);
	ck_assert(!memcmp(&used()->ring[before & (qsize - 1)], &elem,
			  sizeof(elem)));
	ck_assert(!virtq_should_notify(&vq));
	ck_assert(!virtq_enable_notify(&vq));
}

static void check_seg(unsigned int i, uint64_t off, size_t len)
{
	ck_assert_ptr_eq(chain.iov[i].iov_base, ram + off);
	ck_assert_uint_eq(chain.iov[i].iov_len, len);
}

/* One request through the ring: a single readable descriptor. */
static void cycle(unsigned int n)
{
	set_desc(0, gpa(BUF_OFF), 8, 0, 0);
	while (n--) {
		avail_add(0);
		pop_ok();
		virtq_push(&vq, chain.head, 0);
		virtq_should_notify(&vq);
	}
}

/* ---- set-up ---- */

START_TEST(test_init_max_size)
{
	ck_assert_int_eq(virtq_init(&vq, &mem, 0, "t"), -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &mem, VIRTQ_MAX_SIZE + 1, "t"),
			 -EINVAL);
	ck_assert_int_eq(virtq_init(&vq, &mem, VIRTQ_MAX_SIZE, "t"), 0);
}
END_TEST

START_TEST(test_enable_size)
{
	static const unsigned int bad[] = { 0, 3, 6, 100, MAX_SIZE * 2, 65536 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		configure(bad[i], 0);
		ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
		ck_assert(!vq.ready);
	}
	configure(1, 0);
	ck_assert_int_eq(virtq_enable(&vq), 0);
	configure(MAX_SIZE, F_EVENT_IDX);
	ck_assert_int_eq(virtq_enable(&vq), 0);
	ck_assert_int_eq(virtq_enable(&vq), -EBUSY);
}
END_TEST

START_TEST(test_enable_misaligned)
{
	configure(8, 0);
	vq.desc_gpa += 8;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.avail_gpa += 1;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.used_gpa += 2;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	/* The minimum alignments themselves are fine. */
	configure(8, 0);
	vq.desc_gpa += 16;
	vq.avail_gpa += 2;
	vq.used_gpa += 4;
	ck_assert_int_eq(virtq_enable(&vq), 0);
}
END_TEST

START_TEST(test_enable_outside_ram)
{
	configure(8, 0);
	vq.desc_gpa = 0x1000;
	ck_assert_int_eq(virtq_enable(&vq), -EFAULT);
	configure(8, 0);
	vq.used_gpa = 0xfffffffffffff000ULL;
	ck_assert_int_eq(virtq_enable(&vq), -EFAULT);
	/* Straddling the end of RAM by one descriptor. */
	configure(8, 0);
	vq.desc_gpa = RAM_END - 7 * 16;
	ck_assert_int_eq(virtq_enable(&vq), -EFAULT);
	configure(8, 0);
	vq.desc_gpa = RAM_END - 8 * 16;
	ck_assert_int_eq(virtq_enable(&vq), 0);
	/* A ring must lie in one region, even when the next one follows. */
	configure(8, 0);
	vq.desc_gpa = RAM2_GPA - 64;
	ck_assert_int_eq(virtq_enable(&vq), -EFAULT);
}
END_TEST

/*
 * Guest and host alignment are checked apart: a region whose start is not
 * aligned the same way in both spaces makes each check the only one.
 */
START_TEST(test_enable_host_alignment)
{
	uint64_t base = 0x400002;

	ck_assert_int_eq(gmem_add_region(&mem, base, 0x1000, ram + 0x20000), 0);
	configure(8, 0);
	vq.desc_gpa = base + 14;	/* aligned guest, misaligned host */
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.desc_gpa = base;		/* misaligned guest, aligned host */
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.used_gpa = base + 2;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.used_gpa = base;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
}
END_TEST

/* The event index words count only when EVENT_IDX is negotiated. */
START_TEST(test_enable_event_idx_extent)
{
	uint64_t avail_end = RAM_END - (4 + 2 * 8);
	uint64_t used_end = RAM_END - (4 + 8 * 8);

	configure(8, 0);
	vq.avail_gpa = avail_end;
	ck_assert_int_eq(virtq_enable(&vq), 0);
	configure(8, F_EVENT_IDX);
	vq.avail_gpa = avail_end;
	ck_assert_int_eq(virtq_enable(&vq), -EFAULT);
	configure(8, 0);
	vq.used_gpa = used_end;
	ck_assert_int_eq(virtq_enable(&vq), 0);
	configure(8, F_EVENT_IDX);
	vq.used_gpa = used_end;
	ck_assert_int_eq(virtq_enable(&vq), -EFAULT);
	configure(8, F_EVENT_IDX);
	vq.used_gpa = used_end - 4;
	ck_assert_int_eq(virtq_enable(&vq), 0);
}
END_TEST

/*
 * No two rings may overlap: the device's own writes would change what it
 * reads. With used flags on avail idx (a fuzzer's layout), every
 * enable_notify "found" a buffer and a drain loop never ended.
 */
START_TEST(test_enable_overlap)
{
	uint64_t base = gpa(0x20000);

	configure(4, 0);
	vq.avail_gpa = base + 2;
	vq.used_gpa = base + 4;		/* used flags = avail idx */
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	ck_assert(!vq.ready);
	configure(8, 0);
	vq.avail_gpa = vq.used_gpa + 8;	/* inside the used ring */
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.used_gpa = vq.desc_gpa + 7 * 16;	/* on the last descriptor */
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.avail_gpa = vq.desc_gpa + 8 * 16 - 2;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.avail_gpa = vq.used_gpa = vq.desc_gpa;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);

	/* The event index words count only when EVENT_IDX is negotiated. */
	configure(8, 0);
	vq.avail_gpa = base;
	vq.used_gpa = base + 4 + 2 * 8;		/* right on used_event */
	ck_assert_int_eq(virtq_enable(&vq), 0);
	configure(8, F_EVENT_IDX);
	vq.avail_gpa = base;
	vq.used_gpa = base + 4 + 2 * 8;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, 0);
	vq.used_gpa = base;
	vq.avail_gpa = base + 4 + 8 * 8;	/* right on avail_event */
	ck_assert_int_eq(virtq_enable(&vq), 0);
	configure(8, F_EVENT_IDX);
	vq.used_gpa = base;
	vq.avail_gpa = base + 4 + 8 * 8;
	ck_assert_int_eq(virtq_enable(&vq), -EINVAL);
	configure(8, F_EVENT_IDX);
	vq.used_gpa = base;
	vq.avail_gpa = base + 4 + 8 * 8 + 2;
	ck_assert_int_eq(virtq_enable(&vq), 0);
}
END_TEST

/*
 * Rings back to back are no overlap: the legacy layout (virtio 1.2
 * section 2.7.2, as virtio-mmio version 1 computes it from QueueAlign)
 * is accepted for every size, down to the smallest alignment the used
 * ring allows.
 */
START_TEST(test_enable_legacy_adjacent)
{
	static const uint64_t aligns[] = { 4, 16, 4096 };
	uint64_t base = gpa(0x20000);

	for (unsigned int size = 1; size <= MAX_SIZE; size *= 2) {
		for (unsigned int i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
			uint64_t avail_gpa = base + 16 * size;
			uint64_t used_gpa = (avail_gpa + 6 + 2 * size + aligns[i] - 1) &
					    ~(aligns[i] - 1);

			for (int evt = 0; evt < 2; evt++) {
				configure(size, evt ? F_EVENT_IDX : 0);
				vq.desc_gpa = base;
				vq.avail_gpa = avail_gpa;
				vq.used_gpa = used_gpa;
				ck_assert_int_eq(virtq_enable(&vq), 0);
			}
		}
	}
}
END_TEST

/* Legacy: the transport derives the rings from one base and QueueAlign. */
START_TEST(test_legacy_layout)
{
	uint64_t base = gpa(0x20000), align = 4096;
	uint8_t *h = ram + 0x20000;
	uint64_t used_gpa = (base + 16 * 8 + 2 * (3 + 8) + align - 1) &
			    ~(align - 1);
	struct vring_avail *a = (struct vring_avail *)(h + 16 * 8);
	struct vring_used *u = (struct vring_used *)(h + (used_gpa - base));

	configure(8, F_EVENT_IDX);
	vq.desc_gpa = base;
	vq.avail_gpa = base + 16 * 8;
	vq.used_gpa = used_gpa;
	ck_assert_uint_eq(used_gpa + 6 + 8 * 8 - base, vring_size(8, align));
	ck_assert_int_eq(virtq_enable(&vq), 0);

	put_desc(h, 3, gpa(BUF_OFF), 16, VRING_DESC_F_WRITE, 0);
	a->ring[0] = htole16(3);
	__atomic_store_n(&a->idx, htole16(1), __ATOMIC_RELEASE);
	pop_ok();
	ck_assert_uint_eq(chain.head, 3);
	ck_assert_uint_eq(chain.nr_in, 1);
	virtq_push(&vq, 3, 16);
	ck_assert_uint_eq(le16toh(u->idx), 1);
	ck_assert_uint_eq(le32toh(u->ring[0].id), 3);
	ck_assert_uint_eq(le32toh(u->ring[0].len), 16);
}
END_TEST

/* ---- valid chains ---- */

START_TEST(test_empty)
{
	start(8, 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	ck_assert(!virtq_is_broken(&vq));
}
END_TEST

START_TEST(test_not_ready)
{
	configure(8, 0);
	avail_add(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
	virtq_push(&vq, 0, 1);
	ck_assert_uint_eq(used_idx(), 0);
}
END_TEST

START_TEST(test_single)
{
	start(8, 0);
	set_desc(5, gpa(BUF_OFF + 0x10), 100, 0, 0);
	avail_add(5);
	pop_ok();
	ck_assert_uint_eq(chain.head, 5);
	ck_assert_uint_eq(chain.nr_out, 1);
	ck_assert_uint_eq(chain.nr_in, 0);
	ck_assert_uint_eq(chain.out_len, 100);
	ck_assert_uint_eq(chain.in_len, 0);
	check_seg(0, BUF_OFF + 0x10, 100);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
}
END_TEST

START_TEST(test_multi_out_in)
{
	start(8, 0);
	/* Out of table order on purpose: 6 -> 2 -> 7 -> 0. */
	set_desc(6, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 2);
	set_desc(2, gpa(BUF_OFF + 0x100), 512, VRING_DESC_F_NEXT, 7);
	set_desc(7, gpa(BUF_OFF + 0x1000), 4096,
		 VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0);
	set_desc(0, gpa(BUF_OFF + 0x3000), 1, VRING_DESC_F_WRITE, 5);
	avail_add(6);
	pop_ok();
	ck_assert_uint_eq(chain.head, 6);
	ck_assert_uint_eq(chain.nr_out, 2);
	ck_assert_uint_eq(chain.nr_in, 2);
	ck_assert_uint_eq(chain.out_len, 528);
	ck_assert_uint_eq(chain.in_len, 4097);
	check_seg(0, BUF_OFF, 16);
	check_seg(1, BUF_OFF + 0x100, 512);
	check_seg(2, BUF_OFF + 0x1000, 4096);
	check_seg(3, BUF_OFF + 0x3000, 1);
}
END_TEST

START_TEST(test_only_writable)
{
	start(8, 0);
	set_desc(1, gpa(BUF_OFF), 64, VRING_DESC_F_WRITE, 0);
	avail_add(1);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, 0);
	ck_assert_uint_eq(chain.nr_in, 1);
	ck_assert_uint_eq(chain.in_len, 64);
}
END_TEST

/* Zero-length descriptors: legal, no segment, address never looked at. */
START_TEST(test_zero_len)
{
	start(8, 0);
	set_desc(0, 0xdead0000ULL, 0, VRING_DESC_F_NEXT, 1);
	set_desc(1, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 2);
	set_desc(2, ~0ULL, 0, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, 1);
	ck_assert_uint_eq(chain.nr_in, 0);
	check_seg(0, BUF_OFF, 8);
}
END_TEST

/* A chain as long as the table is the longest legal one. */
START_TEST(test_chain_of_queue_size)
{
	start(8, 0);
	for (unsigned int i = 0; i < 8; i++)
		set_desc(i, gpa(BUF_OFF + i * 16), 16,
			 i < 7 ? VRING_DESC_F_NEXT : 0, i + 1);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, 8);
	ck_assert_uint_eq(chain.out_len, 128);
	check_seg(7, BUF_OFF + 7 * 16, 16);
}
END_TEST

START_TEST(test_buffer_across_regions)
{
	start(8, 0);
	set_desc(0, RAM2_GPA - 100, 300, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_in, 2);
	ck_assert_uint_eq(chain.in_len, 300);
	check_seg(0, RAM_SIZE - 100, 100);
	ck_assert_ptr_eq(chain.iov[1].iov_base, ram2);
	ck_assert_uint_eq(chain.iov[1].iov_len, 200);
}
END_TEST

/* 2^32 - 1 bytes is the most a chain may carry. */
START_TEST(test_total_len_limit)
{
	uint64_t big = 0x100000000ULL;
	void *p = mmap(NULL, big, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	ck_assert(p != MAP_FAILED);
	ck_assert_int_eq(gmem_add_region(&mem, big, big, p), 0);
	start(8, 0);
	set_desc(0, big, UINT32_MAX, 0, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.out_len, UINT32_MAX);
	ck_assert_ptr_eq(chain.iov[0].iov_base, p);

	set_desc(0, big, UINT32_MAX, VRING_DESC_F_NEXT, 1);
	set_desc(1, big, 1, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_broken(-EOVERFLOW);
	munmap(p, big);
}
END_TEST

START_TEST(test_indirect)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 2);
	set_idesc(TABLE_OFF, 2, gpa(BUF_OFF + 0x100), 32,
		  VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_idesc(TABLE_OFF, 1, gpa(BUF_OFF + 0x200), 1, VRING_DESC_F_WRITE, 0);
	set_desc(4, gpa(TABLE_OFF), 3 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(4);
	pop_ok();
	ck_assert_uint_eq(chain.head, 4);
	ck_assert_uint_eq(chain.nr_out, 1);
	ck_assert_uint_eq(chain.nr_in, 2);
	ck_assert_uint_eq(chain.out_len, 16);
	ck_assert_uint_eq(chain.in_len, 33);
	check_seg(0, BUF_OFF, 16);
	check_seg(1, BUF_OFF + 0x100, 32);
	check_seg(2, BUF_OFF + 0x200, 1);
}
END_TEST

/* Whatever WRITE says on the descriptor that points to a table. */
START_TEST(test_indirect_write_flag_ignored)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, 0, 0);
	set_desc(0, gpa(TABLE_OFF), 16,
		 VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, 1);
	ck_assert_uint_eq(chain.nr_in, 0);
}
END_TEST

/* Direct descriptors followed by one indirect: the spec's unusual case. */
START_TEST(test_direct_then_indirect)
{
	start(8, F_INDIRECT);
	set_desc(0, gpa(BUF_OFF), 10, VRING_DESC_F_NEXT, 3);
	set_desc(3, gpa(TABLE_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF + 0x100), 20, VRING_DESC_F_NEXT, 1);
	set_idesc(TABLE_OFF, 1, gpa(BUF_OFF + 0x200), 30,
		  VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, 2);
	ck_assert_uint_eq(chain.nr_in, 1);
	check_seg(0, BUF_OFF, 10);
	check_seg(1, BUF_OFF + 0x100, 20);
	check_seg(2, BUF_OFF + 0x200, 30);
}
END_TEST

/* The spec puts no alignment on a table, and a full one is legal. */
START_TEST(test_indirect_unaligned_full)
{
	uint64_t t = TABLE_OFF + 3;

	start(8, F_INDIRECT);
	for (unsigned int i = 0; i < 8; i++)
		set_idesc(t, i, gpa(BUF_OFF + i * 8), 8,
			  i < 7 ? VRING_DESC_F_NEXT : 0, i + 1);
	set_desc(0, gpa(t), 8 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, 8);
	ck_assert_uint_eq(chain.out_len, 64);
}
END_TEST

START_TEST(test_too_many_segments)
{
	start(MAX_SIZE, 0);
	for (unsigned int i = 0; i < 300; i++)
		set_desc(i, gpa(BUF_OFF + i), 1,
			 i < 299 ? VRING_DESC_F_NEXT : 0, i + 1);
	avail_add(0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 1);
	ck_assert_int_eq(chain.err, -E2BIG);
	ck_assert_uint_eq(chain.head, 0);
	ck_assert_uint_eq(chain.nr_out, 0);
	ck_assert_uint_eq(chain.nr_in, 0);
	ck_assert(!virtq_is_broken(&vq));
	virtq_push(&vq, chain.head, 0);
	ck_assert_uint_eq(used_idx(), 1);

	/* Exactly VIRTQ_MAX_SEGS still fits; the queue goes on working. */
	set_desc(VIRTQ_MAX_SEGS - 1, gpa(BUF_OFF), 1, 0, 0);
	avail_add(0);
	pop_ok();
	ck_assert_uint_eq(chain.nr_out, VIRTQ_MAX_SEGS);
}
END_TEST

/* Too long for us and malformed further on: malformed wins. */
START_TEST(test_too_many_segments_then_bad)
{
	start(MAX_SIZE, 0);
	for (unsigned int i = 0; i < 300; i++)
		set_desc(i, gpa(BUF_OFF + i), 1, VRING_DESC_F_NEXT, i + 1);
	set_desc(300, gpa(BUF_OFF), 1, VRING_DESC_F_NEXT, MAX_SIZE);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_batched_push)
{
	start(8, 0);
	set_desc(1, gpa(BUF_OFF), 8, VRING_DESC_F_WRITE, 0);
	set_desc(2, gpa(BUF_OFF + 8), 8, VRING_DESC_F_WRITE, 0);
	set_desc(3, gpa(BUF_OFF + 16), 8, VRING_DESC_F_WRITE, 0);
	avail_add(1);
	avail_add(2);
	avail_add(3);
	for (unsigned int i = 0; i < 3; i++) {
		pop_ok();
		virtq_add_used(&vq, chain.head, 10 + chain.head);
	}
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert(!virtq_should_notify(&vq));
	virtq_flush(&vq);
	ck_assert_uint_eq(used_idx(), 3);
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert_uint_eq(le32toh(used()->ring[i].id), i + 1);
		ck_assert_uint_eq(le32toh(used()->ring[i].len), 11 + i);
	}
	ck_assert(virtq_should_notify(&vq));
	ck_assert(!virtq_should_notify(&vq));
}
END_TEST

/* Completions of requests in flight across a reset are dropped. */
START_TEST(test_reset)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 8, 0, 0);
	avail_add(0);
	pop_ok();
	virtq_reset(&vq);
	ck_assert(!vq.ready);
	virtq_push(&vq, 0, 8);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(le32toh(used()->ring[0].len), 0);
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
}
END_TEST

START_TEST(test_reset_unbreaks)
{
	start(8, 0);
	set_avail_idx(9);
	pop_broken(-EINVAL);
	virtq_reset(&vq);
	ck_assert(!virtq_is_broken(&vq));
	/* The driver sets the queue up again from scratch. */
	memset(ram, 0, TABLE_OFF);
	start(8, 0);
	cycle(3);
	ck_assert_uint_eq(used_idx(), 3);
}
END_TEST

/*
 * Break, reset, set up again, in a loop: the log has the first
 * VIRTQ_BREAKS_LOGGED breaks of the queue's life, and virtq_exit() one
 * line that counts the rest.
 */
START_TEST(test_break_log_bounded)
{
	struct unit_capture cap;
	unsigned int lines = 0;
	char *log, *p;

	configure(8, 0);
	unit_capture_begin(&cap, 2);
	for (unsigned int i = 0; i < 100; i++) {
		/* What the transport writes again after a reset. */
		vq.size = 8;
		vq.desc_gpa = gpa(DESC_OFF);
		vq.avail_gpa = gpa(AVAIL_OFF);
		vq.used_gpa = gpa(USED_OFF);
		ck_assert_int_eq(virtq_enable(&vq), 0);
		set_avail_idx(9);
		pop_broken(-EINVAL);
		virtq_reset(&vq);
		set_avail_idx(0);
	}
	virtq_exit(&vq);
	log = unit_capture_end(&cap);
	for (p = log; (p = strstr(p, "guest broke the queue")); p++)
		lines++;
	ck_assert_uint_eq(lines, VIRTQ_BREAKS_LOGGED);
	ck_assert_ptr_nonnull(strstr(log, "counted, not logged"));
	ck_assert_ptr_nonnull(strstr(log, "97 more breaks of the queue, not logged"));
	free(log);
}
END_TEST

/* ---- indices wrapping at 65536 ---- */

START_TEST(test_avail_wrap)
{
	start(8, 0);
	cycle(65533);
	ck_assert_uint_eq(used_idx(), 65533);
	cycle(6);		/* avail and used idx cross 65535 -> 0 */
	ck_assert_uint_eq(drv_avail, 3);
	ck_assert_uint_eq(used_idx(), 3);
	ck_assert_uint_eq(vq.last_avail, 3);
	/* A full ring across the wrap is fine ... */
	set_avail_idx(3 + 8);
	for (unsigned int i = 0; i < 8; i++)
		pop_ok();
	ck_assert_int_eq(virtq_pop(&vq, &chain), 0);
}
END_TEST

START_TEST(test_avail_jump_across_wrap)
{
	start(8, 0);
	cycle(65534);
	/* ... one more than the ring holds is not. */
	set_avail_idx((uint16_t)(65534 + 9));
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_event_idx_notify_wrap)
{
	start(8, F_EVENT_IDX);
	cycle(65534);
	set_used_event(65535);
	/* used idx 65534 -> 65535: entry 65534 is not the one asked for. */
	cycle(1);
	ck_assert(!virtq_should_notify(&vq));
	/* Nothing new since the last check cannot trigger. */
	ck_assert(!virtq_should_notify(&vq));
	/* 65535 -> 0: entry 65535 written, interrupt. */
	avail_add(0);
	pop_ok();
	virtq_push(&vq, 0, 0);
	ck_assert_uint_eq(used_idx(), 0);
	ck_assert_uint_eq(le32toh(used()->ring[7].id), 0);
	ck_assert(virtq_should_notify(&vq));
}
END_TEST

/* A batch whose range crosses used_event interrupts, even over 0. */
START_TEST(test_event_idx_batch_wrap)
{
	start(8, F_EVENT_IDX);
	cycle(65534);
	set_used_event(0);
	for (unsigned int i = 0; i < 3; i++) {
		avail_add(0);
		pop_ok();
		virtq_add_used(&vq, 0, 0);
	}
	virtq_flush(&vq);
	ck_assert_uint_eq(used_idx(), 1);
	ck_assert(virtq_should_notify(&vq));

	set_used_event(5);
	for (unsigned int i = 0; i < 3; i++) {
		avail_add(0);
		pop_ok();
		virtq_add_used(&vq, 0, 0);
	}
	virtq_flush(&vq);	/* 1 -> 4: entries 1..3, not 5 */
	ck_assert(!virtq_should_notify(&vq));
}
END_TEST

START_TEST(test_event_idx_ignores_flags)
{
	start(8, F_EVENT_IDX);
	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	set_used_event(0);
	cycle(1);
	/* cycle() already asked; ask again for the same entry. */
	vq.used_signalled = 0;
	ck_assert(virtq_should_notify(&vq));
}
END_TEST

START_TEST(test_no_interrupt_flag)
{
	start(8, 0);
	set_used_event(0);	/* not negotiated: must be ignored */
	set_desc(0, gpa(BUF_OFF), 8, 0, 0);
	avail_add(0);
	pop_ok();
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_should_notify(&vq));
	ck_assert(!virtq_should_notify(&vq));
	avail()->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	avail_add(0);
	pop_ok();
	virtq_push(&vq, 0, 0);
	ck_assert(!virtq_should_notify(&vq));
	avail()->flags = 0;
	avail_add(0);
	pop_ok();
	virtq_push(&vq, 0, 0);
	ck_assert(virtq_should_notify(&vq));
}
END_TEST

/* ---- kick suppression ---- */

START_TEST(test_kicks_no_event_idx)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 8, 0, 0);
	virtq_disable_notify(&vq);
	ck_assert_uint_eq(le16toh(used()->flags), VRING_USED_F_NO_NOTIFY);
	ck_assert(!virtq_enable_notify(&vq));
	ck_assert_uint_eq(le16toh(used()->flags), 0);

	virtq_disable_notify(&vq);
	avail_add(0);		/* the driver sees NO_NOTIFY: no kick */
	ck_assert(virtq_enable_notify(&vq));
	ck_assert_uint_eq(le16toh(used()->flags), 0);
	pop_ok();
	ck_assert(!virtq_enable_notify(&vq));
}
END_TEST

START_TEST(test_kicks_event_idx)
{
	start(8, F_EVENT_IDX);
	set_desc(0, gpa(BUF_OFF), 8, 0, 0);
	virtq_disable_notify(&vq);
	ck_assert_uint_eq(le16toh(used()->flags), 0);
	avail_add(0);
	avail_add(0);
	ck_assert(virtq_enable_notify(&vq));
	ck_assert_uint_eq(avail_event(), 0);
	pop_ok();
	pop_ok();
	ck_assert(!virtq_enable_notify(&vq));
	ck_assert_uint_eq(avail_event(), 2);
	/* The driver's side of the rule: adding entry 2 must kick. */
	ck_assert(vring_need_event(avail_event(), 3, 2));
	ck_assert_uint_eq(le16toh(used()->flags), 0);
}
END_TEST

START_TEST(test_kicks_event_idx_wrap)
{
	start(8, F_EVENT_IDX);
	cycle(65535);
	ck_assert(!virtq_enable_notify(&vq));
	ck_assert_uint_eq(avail_event(), 65535);
	cycle(1);
	ck_assert(!virtq_enable_notify(&vq));
	ck_assert_uint_eq(avail_event(), 0);
}
END_TEST

/*
 * What virtq_enable_notify() reports is what the next pop takes: a guest
 * that moves avail idx back between the two reads cannot make a drain
 * loop go round without popping.
 */
START_TEST(test_kicks_answer_kept)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 8, 0, 0);
	cycle(2);
	virtq_disable_notify(&vq);
	avail()->ring[2] = htole16(0);
	set_avail_idx(3);
	ck_assert(virtq_enable_notify(&vq));
	set_avail_idx(2);
	pop_ok();
	ck_assert_uint_eq(chain.head, 0);
}
END_TEST

/* Behind the last chain popped: broken at once, and true, so the device
 * pops and hears of it, whatever the guest writes next. */
START_TEST(test_kicks_avail_backwards)
{
	start(8, 0);
	cycle(2);
	virtq_disable_notify(&vq);
	set_avail_idx(1);
	ck_assert(virtq_enable_notify(&vq));
	ck_assert(virtq_is_broken(&vq));
	set_avail_idx(2);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_kicks_avail_jump)
{
	start(8, 0);
	virtq_disable_notify(&vq);
	set_avail_idx(9);
	ck_assert(virtq_enable_notify(&vq));
	ck_assert(virtq_is_broken(&vq));
	pop_broken(-EINVAL);
}
END_TEST

/* ---- malformed rings: each one breaks the queue ---- */

START_TEST(test_avail_jump)
{
	start(8, 0);
	set_avail_idx(9);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_avail_backwards)
{
	start(8, 0);
	cycle(4);
	set_avail_idx(2);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_head_out_of_range)
{
	start(8, 0);
	avail_add(8);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_next_out_of_range)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 8);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

/*
 * Loops use big buffers: a walk that went on past the queue size would
 * end on the 4 GiB limit instead, and the test would see -EOVERFLOW.
 */
START_TEST(test_loop)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), BIG_LEN, VRING_DESC_F_NEXT, 1);
	set_desc(1, gpa(BUF_OFF), BIG_LEN, VRING_DESC_F_NEXT, 2);
	set_desc(2, gpa(BUF_OFF), BIG_LEN, VRING_DESC_F_NEXT, 1);
	avail_add(0);
	pop_broken(-ELOOP);
}
END_TEST

START_TEST(test_self_loop)
{
	start(1, 0);
	set_desc(0, gpa(BUF_OFF), BIG_LEN, VRING_DESC_F_NEXT, 0);
	avail_add(0);
	pop_broken(-ELOOP);
}
END_TEST

START_TEST(test_readable_after_writable)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
	set_desc(1, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set_desc(2, gpa(BUF_OFF), 8, 0, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

/* An empty writable descriptor still ends the readable part. */
START_TEST(test_readable_after_empty_writable)
{
	start(8, 0);
	set_desc(0, 0, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(1, gpa(BUF_OFF), 8, 0, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_buffer_outside_ram)
{
	start(8, 0);
	set_desc(0, 0x1000, 8, 0, 0);
	avail_add(0);
	pop_broken(-EFAULT);
}
END_TEST

START_TEST(test_buffer_past_end)
{
	start(8, 0);
	set_desc(0, RAM_END - 8, 9, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_broken(-EFAULT);
}
END_TEST

START_TEST(test_buffer_wraps_2_64)
{
	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT, 1);
	set_desc(1, 0xfffffffffffffff0ULL, 0x20, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_broken(-EFAULT);
}
END_TEST

START_TEST(test_indirect_not_negotiated)
{
	start(8, 0);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, 0, 0);
	set_desc(0, gpa(TABLE_OFF), 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_indirect_with_next)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, 0, 0);
	set_desc(0, gpa(TABLE_OFF), 16,
		 VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(1, gpa(BUF_OFF), 16, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_indirect_nested)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	set_idesc(TABLE_OFF, 1, gpa(TABLE_OFF + 0x100), 16,
		  VRING_DESC_F_INDIRECT, 0);
	set_idesc(TABLE_OFF + 0x100, 0, gpa(BUF_OFF), 16, 0, 0);
	set_desc(0, gpa(TABLE_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

static void indirect_len_case(uint32_t len)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, 0, 0);
	set_desc(0, gpa(TABLE_OFF), len, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}

START_TEST(test_indirect_len_zero)
{
	indirect_len_case(0);
}
END_TEST

START_TEST(test_indirect_len_not_multiple)
{
	indirect_len_case(24);
}
END_TEST

/* More entries than the queue size: a chain longer than the queue. */
START_TEST(test_indirect_too_long)
{
	indirect_len_case(9 * 16);
}
END_TEST

START_TEST(test_indirect_outside_ram)
{
	start(8, F_INDIRECT);
	set_desc(0, 0x2000, 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-EFAULT);
}
END_TEST

START_TEST(test_indirect_past_end)
{
	start(8, F_INDIRECT);
	set_desc(0, RAM_END - 16, 32, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-EFAULT);
}
END_TEST

START_TEST(test_indirect_next_out_of_table)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 1);
	set_idesc(TABLE_OFF, 1, gpa(BUF_OFF), 16, VRING_DESC_F_NEXT, 2);
	set_idesc(TABLE_OFF, 2, gpa(BUF_OFF), 16, 0, 0);	/* not in it */
	set_desc(0, gpa(TABLE_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

START_TEST(test_indirect_loop)
{
	start(8, F_INDIRECT);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), BIG_LEN, VRING_DESC_F_NEXT, 1);
	set_idesc(TABLE_OFF, 1, gpa(BUF_OFF), BIG_LEN, VRING_DESC_F_NEXT, 0);
	set_desc(0, gpa(TABLE_OFF), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	avail_add(0);
	pop_broken(-ELOOP);
}
END_TEST

START_TEST(test_indirect_readable_after_writable)
{
	start(8, F_INDIRECT);
	set_desc(0, gpa(BUF_OFF), 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(1, gpa(TABLE_OFF), 16, VRING_DESC_F_INDIRECT, 0);
	set_idesc(TABLE_OFF, 0, gpa(BUF_OFF), 16, 0, 0);
	avail_add(0);
	pop_broken(-EINVAL);
}
END_TEST

/* ---- read once ---- */

/*
 * A driver on another CPU rewriting a descriptor while the device walks
 * it. Descriptor 0 flips between a good form (64 readable bytes, then
 * descriptor 1) and a bad one (a length past RAM, a next out of the
 * table); each half is one atomic store, so the device can also see a
 * mix. Whatever it sees, a chain it returns must be the good one in
 * full: a length or next that passed the check cannot be replaced by a
 * later read. Anything else must break the queue.
 */
#define FLIP_GOOD	((uint64_t)htole32(64) | (uint64_t)htole16(VRING_DESC_F_NEXT) << 32 | \
			 (uint64_t)htole16(1) << 48)
#define FLIP_BAD	((uint64_t)htole32(0x10000000) | \
			 (uint64_t)htole16(VRING_DESC_F_NEXT) << 32 | \
			 (uint64_t)htole16(0xffff) << 48)

static bool flip_stop;

static void *flipper(void *arg)
{
	uint64_t *word = arg;	/* len, flags, next of descriptor 0 */

	while (!__atomic_load_n(&flip_stop, __ATOMIC_RELAXED)) {
		__atomic_store_n(word, FLIP_BAD, __ATOMIC_RELAXED);
		__atomic_store_n(word, FLIP_GOOD, __ATOMIC_RELAXED);
	}
	return NULL;
}

START_TEST(test_desc_rewritten_while_read)
{
	unsigned int good = 0, broke = 0;
	pthread_t t;

	start(8, 0);
	set_desc(0, gpa(BUF_OFF), 64, VRING_DESC_F_NEXT, 1);
	set_desc(1, gpa(BUF_OFF + 0x100), 32, VRING_DESC_F_WRITE, 0);
	flip_stop = false;
	ck_assert_int_eq(pthread_create(&t, NULL, flipper,
					ram + DESC_OFF + 8), 0);
	for (unsigned int i = 0; i < 2000 || ((!good || !broke) && i < 5000000); i++) {
		int r;

		avail_add(0);
		r = virtq_pop(&vq, &chain);
		if (r == 1) {
			good++;
			ck_assert_int_eq(chain.err, 0);
			ck_assert_uint_eq(chain.nr_out, 1);
			ck_assert_uint_eq(chain.nr_in, 1);
			ck_assert_uint_eq(chain.out_len, 64);
			ck_assert_uint_eq(chain.in_len, 32);
			check_seg(0, BUF_OFF, 64);
			check_seg(1, BUF_OFF + 0x100, 32);
			virtq_push(&vq, chain.head, 0);
			continue;
		}
		ck_assert_msg(r == -EFAULT || r == -EINVAL, "pop: %d", r);
		broke++;
		/* As a device reset would; the log's limits stay. */
		virtq_reset(&vq);
		vq.size = qsize;
		vq.desc_gpa = gpa(DESC_OFF);
		vq.avail_gpa = gpa(AVAIL_OFF);
		vq.used_gpa = gpa(USED_OFF);
		ck_assert_int_eq(virtq_enable(&vq), 0);
		drv_avail = 0;
		set_avail_idx(0);
	}
	__atomic_store_n(&flip_stop, true, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	/* Both forms were seen, or the test proved nothing. */
	ck_assert_uint_gt(good, 0);
	ck_assert_uint_gt(broke, 0);
}
END_TEST

static void add(Suite *s, const char *name, const TTest *const t[], size_t n)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, mem_setup, mem_teardown);
	/* The wrap tests push 65536 requests; sanitizers slow that down. */
	tcase_set_timeout(tc, 60);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, t[i]);
	suite_add_tcase(s, tc);
}

#define ADD(s, name, ...)						\
	do {								\
		const TTest *const t_[] = { __VA_ARGS__ };		\
		add(s, name, t_, sizeof(t_) / sizeof(t_[0]));		\
	} while (0)

static Suite *virtq_suite(void)
{
	Suite *s = suite_create("virtq");

	ADD(s, "setup", test_init_max_size, test_enable_size,
	    test_enable_misaligned, test_enable_host_alignment,
	    test_enable_outside_ram,
	    test_enable_event_idx_extent, test_enable_overlap,
	    test_enable_legacy_adjacent, test_legacy_layout);
	ADD(s, "chains", test_empty, test_not_ready, test_single,
	    test_multi_out_in, test_only_writable, test_zero_len,
	    test_chain_of_queue_size, test_buffer_across_regions,
	    test_total_len_limit, test_indirect,
	    test_indirect_write_flag_ignored, test_direct_then_indirect,
	    test_indirect_unaligned_full, test_too_many_segments,
	    test_too_many_segments_then_bad, test_batched_push, test_reset,
	    test_break_log_bounded,
	    test_reset_unbreaks);
	ADD(s, "wrap", test_avail_wrap, test_avail_jump_across_wrap,
	    test_event_idx_notify_wrap, test_event_idx_batch_wrap,
	    test_event_idx_ignores_flags, test_no_interrupt_flag);
	ADD(s, "kicks", test_kicks_no_event_idx, test_kicks_event_idx,
	    test_kicks_event_idx_wrap, test_kicks_answer_kept,
	    test_kicks_avail_backwards, test_kicks_avail_jump);
	ADD(s, "malformed", test_avail_jump, test_avail_backwards,
	    test_head_out_of_range, test_next_out_of_range, test_loop,
	    test_self_loop, test_readable_after_writable,
	    test_readable_after_empty_writable, test_buffer_outside_ram,
	    test_buffer_past_end, test_buffer_wraps_2_64,
	    test_indirect_not_negotiated, test_indirect_with_next,
	    test_indirect_nested, test_indirect_len_zero,
	    test_indirect_len_not_multiple, test_indirect_too_long,
	    test_indirect_outside_ram, test_indirect_past_end,
	    test_indirect_next_out_of_table, test_indirect_loop,
	    test_indirect_readable_after_writable);
	ADD(s, "read once", test_desc_rewritten_while_read);
	return s;
}

UNIT_SUITE(virtq_suite)
