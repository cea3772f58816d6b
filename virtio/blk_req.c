// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk request parsing and validation (virtio 1.2 section 5.2.6).
 * Nothing here does I/O: a request comes out as an operation on checked
 * byte ranges of the disk, or as a status to complete it with.
 *
 * The guest may change its buffers at any time, so every value a
 * decision rests on (the header, the segment list) is copied out of
 * guest RAM once and only the copy is looked at.
 */
#include <endian.h>
#include <string.h>

#include "virtio/blk.h"

void vblk_iov_advance(struct iovec **iov, unsigned int *cnt, size_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt && n) {
		(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

static void vblk_done(struct vblk_req *r, uint8_t result)
{
	r->op = VBLK_OP_DONE;
	r->result = result;
}

/*
 * The last writable byte is the status: remember where it is and cut it
 * off the writable segments, which leaves their data. false without one.
 */
static bool vblk_take_status(struct vblk_req *r)
{
	struct virtq_chain *c = &r->chain;
	struct iovec *last;

	if (!c->nr_in)
		return false;
	last = &c->iov[c->nr_out + c->nr_in - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	if (!--last->iov_len)
		c->nr_in--;
	return true;
}

/* [sector, sector + len) inside the disk, whatever the guest wrote, and
 * its byte offsets within 64 bits whatever capacity the limits claim. */
static bool vblk_in_disk(const struct vblk_limits *lim, uint64_t sector,
			 uint64_t len)
{
	const uint64_t addressable = UINT64_MAX >> VBLK_SECTOR_SHIFT;
	uint64_t cap = lim->capacity < addressable ? lim->capacity : addressable;

	return sector <= cap && len >> VBLK_SECTOR_SHIFT <= cap - sector;
}

/*
 * SIZE_MAX, as advertised: no data segment longer than VBLK_SIZE_MAX. A
 * segment here is a descriptor's data (the header and status bytes it
 * may also hold are off already), or its part in one RAM region when it
 * runs into the next: each is one iovec of the transfer.
 */
static bool vblk_segs_fit(const struct iovec *iov, unsigned int cnt)
{
	for (unsigned int i = 0; i < cnt; i++)
		if (iov[i].iov_len > VBLK_SIZE_MAX)
			return false;
	return true;
}

/* Reads and writes: whole sectors, inside the disk, aligned as O_DIRECT
 * needs (the guest honours blk_size; a request that does not fails),
 * segments within SIZE_MAX. */
static void vblk_parse_rw(struct vblk_req *r, const struct vblk_limits *lim,
			  struct iovec *iov, unsigned int cnt, uint32_t len)
{
	uint64_t off = r->sector << VBLK_SECTOR_SHIFT;

	if (len % VBLK_SECTOR_SIZE || !vblk_in_disk(lim, r->sector, len) ||
	    off % lim->off_align || len % lim->off_align ||
	    !vblk_segs_fit(iov, cnt))
		return vblk_done(r, VIRTIO_BLK_S_IOERR);
	if (!len)
		return vblk_done(r, VIRTIO_BLK_S_OK);
	r->iov = iov;
	r->iovcnt = cnt;
	r->off = off;
	r->left = len;
}

static void vblk_parse_get_id(struct vblk_req *r, const struct vblk_limits *lim,
			      struct iovec *iov, unsigned int cnt, uint32_t len)
{
	if (!len)
		return vblk_done(r, VIRTIO_BLK_S_IOERR);
	/* The ID is NUL-padded to 20 bytes; a shorter buffer gets what fits. */
	r->in_len = virtq_iov_from_buf(iov, cnt, 0, lim->serial,
				      len < VIRTIO_BLK_ID_BYTES ? len : VIRTIO_BLK_ID_BYTES);
	vblk_done(r, VIRTIO_BLK_S_OK);
}

/* One segment of a discard or write zeroes; 0 or the status to fail with. */
static uint8_t vblk_check_range(const struct vblk_limits *lim, bool discard,
				const struct virtio_blk_discard_write_zeroes *s,
				struct vblk_range *out)
{
	uint64_t sector = le64toh(s->sector);
	uint32_t n = le32toh(s->num_sectors);
	uint32_t flags = le32toh(s->flags);

	/* Unknown flags, or unmap on a discard: virtio 1.2, 5.2.6.2. */
	if (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP ||
	    (discard && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)))
		return VIRTIO_BLK_S_UNSUPP;
	if (n > VBLK_DWZ_MAX_SECTORS ||
	    !vblk_in_disk(lim, sector, (uint64_t)n << VBLK_SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	out->off = sector << VBLK_SECTOR_SHIFT;
	out->len = (uint64_t)n << VBLK_SECTOR_SHIFT;
	out->unmap = flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	return 0;
}

static void vblk_parse_dwz(struct vblk_req *r, const struct vblk_limits *lim,
			   const struct iovec *iov, unsigned int cnt, uint32_t len)
{
	struct virtio_blk_discard_write_zeroes segs[VBLK_DWZ_MAX_SEG];
	bool discard = r->op == VBLK_OP_DISCARD;
	unsigned int n = len / sizeof(segs[0]);

	if ((discard && !lim->discard) || (!discard && !lim->write_zeroes))
		return vblk_done(r, VIRTIO_BLK_S_UNSUPP);
	if (lim->ro)
		return vblk_done(r, VIRTIO_BLK_S_IOERR);
	if (!n || len % sizeof(segs[0]) || n > VBLK_DWZ_MAX_SEG)
		return vblk_done(r, VIRTIO_BLK_S_IOERR);
	virtq_iov_to_buf(segs, iov, cnt, 0, len);
	for (unsigned int i = 0; i < n; i++) {
		uint8_t st = vblk_check_range(lim, discard, &segs[i], &r->range[i]);

		if (st)
			return vblk_done(r, st);
	}
	r->nr_ranges = n;
}

/*
 * After the header: the readable data (out) and the writable data (in),
 * each as segments and a length. Each type wants data on one side only.
 */
static void vblk_parse_type(struct vblk_req *r, const struct vblk_limits *lim,
			    uint32_t type, struct iovec *out, unsigned int nr_out,
			    uint32_t out_len, uint32_t in_len)
{
	struct virtq_chain *c = &r->chain;
	struct iovec *in = c->iov + c->nr_out;

	switch (type) {
	case VIRTIO_BLK_T_IN:
		r->op = VBLK_OP_READ;
		if (out_len)
			return vblk_done(r, VIRTIO_BLK_S_IOERR);
		r->in_len = in_len;
		return vblk_parse_rw(r, lim, in, c->nr_in, in_len);
	case VIRTIO_BLK_T_OUT:
		r->op = VBLK_OP_WRITE;
		if (in_len || lim->ro)
			return vblk_done(r, VIRTIO_BLK_S_IOERR);
		return vblk_parse_rw(r, lim, out, nr_out, out_len);
	case VIRTIO_BLK_T_FLUSH:
		r->op = VBLK_OP_FLUSH;
		if (out_len || in_len)
			return vblk_done(r, VIRTIO_BLK_S_IOERR);
		/* Nothing of a read-only disk can be unstable. */
		if (lim->ro)
			return vblk_done(r, VIRTIO_BLK_S_OK);
		return;
	case VIRTIO_BLK_T_GET_ID:
		if (out_len)
			return vblk_done(r, VIRTIO_BLK_S_IOERR);
		return vblk_parse_get_id(r, lim, in, c->nr_in, in_len);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		r->op = type == VIRTIO_BLK_T_DISCARD ? VBLK_OP_DISCARD :
						       VBLK_OP_WRITE_ZEROES;
		if (in_len)
			return vblk_done(r, VIRTIO_BLK_S_IOERR);
		return vblk_parse_dwz(r, lim, out, nr_out, out_len);
	}
	vblk_done(r, VIRTIO_BLK_S_UNSUPP);
}

void vblk_parse(struct vblk_req *r, const struct vblk_limits *lim)
{
	struct virtq_chain *c = &r->chain;
	struct virtio_blk_outhdr hdr;
	struct iovec *out = c->iov;
	unsigned int nr_out = c->nr_out;

	r->status = NULL;
	r->in_len = 0;
	r->sector = 0;
	r->nr_ranges = 0;
	r->iov = NULL;
	r->iovcnt = 0;
	r->left = 0;
	vblk_done(r, VIRTIO_BLK_S_IOERR);
	/* Too many segments (c->err) leaves no status byte to write. */
	if (c->err || !vblk_take_status(r))
		return;
	if (c->out_len < VBLK_HDR_SIZE)
		return;
	virtq_iov_to_buf(&hdr, out, nr_out, 0, VBLK_HDR_SIZE);
	vblk_iov_advance(&out, &nr_out, VBLK_HDR_SIZE);
	r->sector = le64toh(hdr.sector);
	vblk_parse_type(r, lim, le32toh(hdr.type), out, nr_out,
			c->out_len - VBLK_HDR_SIZE, c->in_len - 1);
}
