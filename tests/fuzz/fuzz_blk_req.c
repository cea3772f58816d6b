// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk request parsing (vblk_parse(), virtio/blk.h): a popped chain
 * whose segments, contents and limits come from the input, shaped the way
 * virtq_pop() hands chains out (readable segments first, none empty, at
 * most VIRTQ_MAX_SEGS, lengths that add up, or -E2BIG with none). Each
 * segment is its own malloc'd buffer of exactly its length, so that ASan
 * sees a byte read or written past any of them.
 *
 * What comes out is checked against blk.h: a status byte that is the
 * chain's last writable byte; reads and writes of whole, aligned sectors
 * inside the disk, whose iovecs hold exactly the bytes to transfer (they
 * are then filled and drained as the engine would); discard and write
 * zeroes only when negotiated, on a writable disk, within it.
 *
 * Input: the limits (capacity, alignment, flags, serial), a segment
 * count and per segment its length and direction, then the readable
 * bytes in order (the request header first); zeros once it runs dry.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "virtio/blk.h"

#define SEG_LEN_MAX	8192

static struct vblk_req req;	/* the chain is 4 KiB: not on the stack */
static uint8_t scratch[VBLK_SEG_MAX * SEG_LEN_MAX];
/* The segments as allocated: parsing moves and trims the iovecs. */
static void *bufs[VIRTQ_MAX_SEGS];
static unsigned int nr_bufs;

static void free_bufs(void)
{
	while (nr_bufs)
		free(bufs[--nr_bufs]);
}

static uint64_t iov_bytes(const struct iovec *iov, unsigned int cnt)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

static bool in_disk(const struct vblk_limits *lim, uint64_t off, uint64_t len)
{
	uint64_t bytes = lim->capacity << VBLK_SECTOR_SHIFT;

	/* Capacities that overflow bytes are huge: only off + len counts. */
	if (lim->capacity >> (64 - VBLK_SECTOR_SHIFT))
		return off + len >= off;
	return off <= bytes && len <= bytes - off;
}

static void check_rw(const struct vblk_req *r, const struct vblk_limits *lim)
{
	fuzz_check(r->left && r->left % VBLK_SECTOR_SIZE == 0);
	fuzz_check(r->off % lim->off_align == 0 && r->left % lim->off_align == 0);
	fuzz_check(in_disk(lim, r->off, r->left));
	fuzz_check(r->iovcnt && iov_bytes(r->iov, r->iovcnt) == r->left);
	fuzz_check(r->op != VBLK_OP_WRITE || !lim->ro);
	fuzz_check(r->left <= sizeof(scratch));
	/* What the engine does with them, bounce buffer or not. */
	if (r->op == VBLK_OP_READ)
		fuzz_check(virtq_iov_from_buf(r->iov, r->iovcnt, 0, scratch, r->left) == r->left);
	else
		fuzz_check(virtq_iov_to_buf(scratch, r->iov, r->iovcnt, 0, r->left) == r->left);
}

static void check_ranges(const struct vblk_req *r, const struct vblk_limits *lim)
{
	bool discard = r->op == VBLK_OP_DISCARD;

	fuzz_check(!lim->ro && (discard ? lim->discard : lim->write_zeroes));
	fuzz_check(r->nr_ranges >= 1 && r->nr_ranges <= VBLK_DWZ_MAX_SEG);
	for (unsigned int i = 0; i < r->nr_ranges; i++) {
		const struct vblk_range *g = &r->range[i];

		fuzz_check(in_disk(lim, g->off, g->len));
		fuzz_check(!discard || !g->unmap);
	}
}

static void check_req(const struct vblk_req *r, const struct vblk_limits *lim,
		      const uint8_t *status, uint32_t in_data)
{
	fuzz_check(r->status == NULL || r->status == status);
	switch (r->op) {
	case VBLK_OP_DONE:
		fuzz_check(r->result == VIRTIO_BLK_S_OK ||
			   r->result == VIRTIO_BLK_S_IOERR ||
			   r->result == VIRTIO_BLK_S_UNSUPP);
		fuzz_check(r->in_len <= in_data);
		break;
	case VBLK_OP_READ:
	case VBLK_OP_WRITE:
		check_rw(r, lim);
		break;
	case VBLK_OP_FLUSH:
		fuzz_check(!lim->ro);
		break;
	case VBLK_OP_DISCARD:
	case VBLK_OP_WRITE_ZEROES:
		check_ranges(r, lim);
		break;
	default:
		fuzz_check(!"an operation blk.h does not know");
	}
	if (r->op != VBLK_OP_DONE)
		fuzz_check(r->status);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t aligns[] = { 1, 512, 4096 };
	struct fuzz_input in = fuzz_input(data, size);
	struct virtq_chain *c = &req.chain;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct vblk_limits lim = { .serial = serial };
	uint16_t lens[VIRTQ_MAX_SEGS];
	const uint8_t *status = NULL;
	unsigned int nr, flags;

	lim.capacity = fuzz_u64(&in);
	flags = fuzz_u8(&in);
	lim.off_align = aligns[(flags & 3) % 3];
	lim.ro = flags & 4;
	lim.discard = flags & 8;
	lim.write_zeroes = flags & 16;
	fuzz_bytes(&in, serial, sizeof(serial));
	nr = fuzz_u16(&in) % (VIRTQ_MAX_SEGS + 1);

	memset(&req, 0, sizeof(req));
	/* Readable segments first, in input order; then the writable ones. */
	for (unsigned int i = 0; i < nr; i++)
		lens[i] = fuzz_u16(&in);
	for (unsigned int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < nr; i++) {
			bool write = lens[i] & 0x8000;
			uint32_t len = lens[i] % SEG_LEN_MAX + 1;
			struct iovec *iov = &c->iov[c->nr_out + c->nr_in];

			if (write != pass)
				continue;
			iov->iov_base = bufs[nr_bufs++] = malloc(len);
			iov->iov_len = len;
			if (!iov->iov_base)
				abort();
			if (write) {
				memset(iov->iov_base, 0xee, len);
				c->nr_in++;
				c->in_len += len;
				status = (uint8_t *)iov->iov_base + len - 1;
			} else {
				fuzz_bytes(&in, iov->iov_base, len);
				c->nr_out++;
				c->out_len += len;
			}
		}
	}
	if (flags & 0x80) {
		/* Too many segments: virtq_pop() gives none, and -E2BIG. */
		free_bufs();
		memset(c, 0, sizeof(*c));
		c->err = -E2BIG;
		status = NULL;
	}

	vblk_parse(&req, &lim);
	check_req(&req, &lim, status, c->in_len ? c->in_len - 1 : 0);
	free_bufs();
	return 0;
}
