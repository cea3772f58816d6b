// SPDX-License-Identifier: GPL-2.0
/*
 * The split virtqueue as a hostile driver sees it: a queue whose size,
 * features and ring addresses come from the input, in a guest RAM of two
 * adjacent regions (buffers may cross from one into the other) and a
 * third apart, then a sequence of driver writes into RAM and device
 * operations (pop, push, flush, notification checks, reset).
 *
 * Every chain popped is checked against virtq.h's promises (segments in
 * RAM, lengths that add up, at most VIRTQ_MAX_SEGS, no half chains) and
 * then used as a device would: readable segments read, writable ones
 * written, through the host pointers virtq_pop() handed out.
 *
 * Input: a header byte (bits 0-3 log2 of the size, bit 4 EVENT_IDX, bit 5
 * INDIRECT_DESC, bit 6 ring addresses from the input, else a fixed
 * layout), three 64-bit ring addresses if bit 6, then operations, each an
 * opcode byte and its operands (see fuzz_op()). One operation writes a
 * whole table of chained descriptors, so that chains longer than
 * VIRTQ_MAX_SEGS fit in a small input.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "tests/fuzz/common.h"
#include "virtio/virtq.h"

#define RAM_A		0x10000ULL	/* desc, avail and used in the fixed layout */
#define RAM_A_SIZE	0x3000ULL
#define RAM_B		(RAM_A + RAM_A_SIZE)	/* adjacent to A */
#define RAM_B_SIZE	0x1000ULL
#define RAM_C		0x40000ULL	/* apart */
#define RAM_C_SIZE	0x1000ULL
#define QUEUE_MAX	256
#define MAX_OPS		1024
#define MAX_PENDING	512

#define FIXED_DESC	RAM_A
#define FIXED_AVAIL	(RAM_A + 0x1000)
#define FIXED_USED	(RAM_A + 0x2000)

struct fuzz_vq {
	struct guest_mem mem;
	uint8_t *ram[3];
	struct virtq vq;
	unsigned int size;
	uint64_t features, desc, avail, used;
	uint16_t pending[MAX_PENDING];	/* heads popped, not yet pushed */
	unsigned int nr_pending;
};

/* 4 KiB and more: not on the stack. */
static struct virtq_chain chain;

static bool in_region(const struct gmem_region *r, const void *p, size_t len)
{
	const uint8_t *b = p;

	return b >= r->hva && len <= r->size && b - r->hva <= (ptrdiff_t)(r->size - len);
}

static bool in_ram(const struct guest_mem *m, const struct iovec *iov)
{
	for (unsigned int i = 0; i < m->nr_regions; i++)
		if (in_region(&m->region[i], iov->iov_base, iov->iov_len))
			return true;
	return false;
}

/* What virtq.h promises about a popped chain, then the device's use of it. */
static void check_chain(struct fuzz_vq *f, const struct virtq_chain *c)
{
	uint64_t out = 0, in = 0;
	unsigned int n = c->nr_out + c->nr_in;
	uint8_t sum = 0;

	fuzz_check(c->head < f->size);
	fuzz_check(n <= VIRTQ_MAX_SEGS);
	fuzz_check(c->err == 0 || c->err == -E2BIG);
	if (c->err) {
		fuzz_check(n == 0);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct iovec *iov = &c->iov[i];

		fuzz_check(iov->iov_len > 0);
		fuzz_check(in_ram(&f->mem, iov));
		if (i < c->nr_out) {
			out += iov->iov_len;
			for (size_t j = 0; j < iov->iov_len; j++)
				sum += ((const uint8_t *)iov->iov_base)[j];
		} else {
			in += iov->iov_len;
			/* May land on the rings themselves: a guest can
			 * point a buffer there, and the next pop must cope. */
			memset(iov->iov_base, 0x5a ^ sum, iov->iov_len);
		}
	}
	fuzz_check(out == c->out_len);
	fuzz_check(in == c->in_len);
}

static int vq_enable(struct fuzz_vq *f)
{
	f->vq.size = f->size;
	f->vq.features = f->features;
	f->vq.desc_gpa = f->desc;
	f->vq.avail_gpa = f->avail;
	f->vq.used_gpa = f->used;
	f->nr_pending = 0;
	return virtq_enable(&f->vq);
}

static int vq_pop(struct fuzz_vq *f)
{
	int r = virtq_pop(&f->vq, &chain);

	if (r < 0) {
		/* Broken is sticky, with the same error. */
		fuzz_check(virtq_is_broken(&f->vq));
		fuzz_check(virtq_pop(&f->vq, &chain) == r);
		return r;
	}
	if (r == 1) {
		check_chain(f, &chain);
		if (f->nr_pending < MAX_PENDING)
			f->pending[f->nr_pending++] = chain.head;
	}
	return r;
}

static bool vq_take(struct fuzz_vq *f, uint16_t *head)
{
	if (!f->nr_pending)
		return false;
	*head = f->pending[0];
	memmove(f->pending, f->pending + 1, --f->nr_pending * sizeof(f->pending[0]));
	return true;
}

/* The driver writes into its RAM: rings, tables, anything. */
static void ram_write(struct fuzz_vq *f, struct fuzz_input *in)
{
	uint16_t off = fuzz_u16(in);
	uint8_t len = fuzz_u8(in);
	uint64_t base = off & 0x8000 ? RAM_C : RAM_A;
	uint8_t buf[256];

	fuzz_bytes(in, buf, len);
	for (unsigned int i = 0; i < len; i++) {
		uint8_t *p = gmem_ptr(&f->mem, base + (off & 0x7fff) + i, 1);

		if (p)
			*p = buf[i];
	}
}

/* count descriptors from table slot first on, each chained to the next
 * (the last one's NEXT as the flags say), buffers len bytes apart or all
 * at one address. */
static void table_write(struct fuzz_vq *f, struct fuzz_input *in)
{
	uint64_t table = RAM_A + fuzz_u16(in);
	uint16_t first = fuzz_u16(in), count = fuzz_u16(in) % 512;
	uint64_t addr = fuzz_u64(in);
	uint32_t len = fuzz_u32(in);
	uint16_t flags = fuzz_u16(in);

	for (uint16_t i = 0; i < count; i++) {
		uint16_t slot = first + i;
		struct vring_desc d = {
			.addr = htole64(addr + (flags & 0x8000 ? 0 : (uint64_t)len * i)),
			.len = htole32(len),
			.flags = htole16(i + 1 < count ? (flags | VRING_DESC_F_NEXT) & 0x7fff
						       : flags & 0x7fff),
			.next = htole16(slot + 1),
		};
		void *p = gmem_ptr(&f->mem, table + 16ULL * slot, sizeof(d));

		if (p)
			memcpy(p, &d, sizeof(d));
	}
}

/* A device's drain loop (virtq.h), bounded in case it were not. */
static void vq_drain(struct fuzz_vq *f)
{
	unsigned int rounds = 0, popped;
	uint16_t head;
	int r;

	for (;;) {
		virtq_disable_notify(&f->vq);
		popped = 0;
		while ((r = vq_pop(f)) > 0) {
			popped++;
			vq_take(f, &head);
			virtq_add_used(&f->vq, head, chain.err ? 0 : chain.in_len);
		}
		/* Another round means virtq_enable_notify() saw new buffers:
		 * they were there, or the queue broke. */
		fuzz_check(!rounds || popped || r < 0);
		if (r < 0 || !virtq_enable_notify(&f->vq))
			break;
		fuzz_check(++rounds <= 2 * QUEUE_MAX);
	}
	virtq_flush(&f->vq);
	virtq_should_notify(&f->vq);
}

static void fuzz_op(struct fuzz_vq *f, struct fuzz_input *in)
{
	uint16_t head;

	switch (fuzz_u8(in) % 12) {
	case 0:
		ram_write(f, in);
		break;
	case 1:
		vq_pop(f);
		break;
	case 2:
		if (vq_take(f, &head))
			virtq_push(&f->vq, head, fuzz_u32(in));
		break;
	case 3:
		if (vq_take(f, &head))
			virtq_add_used(&f->vq, head, fuzz_u32(in));
		break;
	case 4:
		virtq_flush(&f->vq);
		break;
	case 5:
		virtq_should_notify(&f->vq);
		break;
	case 6:
		virtq_disable_notify(&f->vq);
		break;
	case 7:
		virtq_enable_notify(&f->vq);
		break;
	case 8:
		virtq_reset(&f->vq);
		fuzz_check(!virtq_is_broken(&f->vq));
		vq_enable(f);
		break;
	case 9:
		vq_drain(f);
		break;
	case 10:
		table_write(f, in);
		break;
	case 11:
		/* A ready queue is never set up again under the device. */
		if (f->vq.ready)
			fuzz_check(virtq_enable(&f->vq) == -EBUSY);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct fuzz_vq f;
	uint8_t hdr = fuzz_u8(&in);

	memset(&f, 0, sizeof(f));
	f.ram[0] = fuzz_ram_add(&f.mem, RAM_A, RAM_A_SIZE);
	f.ram[1] = fuzz_ram_add(&f.mem, RAM_B, RAM_B_SIZE);
	f.ram[2] = fuzz_ram_add(&f.mem, RAM_C, RAM_C_SIZE);
	f.size = 1u << (hdr & 0xf);
	if (hdr & 0x10)
		f.features |= 1ULL << VIRTIO_RING_F_EVENT_IDX;
	if (hdr & 0x20)
		f.features |= 1ULL << VIRTIO_RING_F_INDIRECT_DESC;
	if (hdr & 0x40) {
		f.desc = fuzz_u64(&in);
		f.avail = fuzz_u64(&in);
		f.used = fuzz_u64(&in);
	} else {
		f.desc = FIXED_DESC;
		f.avail = FIXED_AVAIL;
		f.used = FIXED_USED;
	}
	fuzz_check(!virtq_init(&f.vq, &f.mem, QUEUE_MAX, "fuzz"));
	if (!vq_enable(&f)) {
		fuzz_check(f.vq.ready);
		/* The queue allocates nothing, whatever the guest wrote. */
		fuzz_allocs_begin();
		for (unsigned int i = 0; i < MAX_OPS && !fuzz_empty(&in); i++)
			fuzz_op(&f, &in);
		fuzz_check(fuzz_allocs_end() == 0);
	}
	for (unsigned int i = 0; i < 3; i++)
		free(f.ram[i]);
	return 0;
}
