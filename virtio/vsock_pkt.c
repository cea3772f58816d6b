// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock packets from the guest: the header copied out of guest
 * memory once (the guest may change it under us; we judge the copy) and
 * checked before anything looks at a connection. The iovec helpers cut a
 * chain's payload out of its segments for readv and writev.
 */
#include <endian.h>
#include <string.h>

#include "virtio/vsock.h"
#include "virtio/virtq.h"

_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_LEN,
	       "virtio_vsock_hdr is 44 bytes");

unsigned int vsock_iov_slice(const struct iovec *src, unsigned int nr,
			     size_t skip, size_t len, struct iovec *dst,
			     unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < nr && len && n < max; i++) {
		size_t l = src[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		dst[n].iov_base = (uint8_t *)src[i].iov_base + skip;
		dst[n].iov_len = l;
		n++;
		len -= l;
		skip = 0;
	}
	return n;
}

static size_t iov_total(const struct iovec *iov, unsigned int nr)
{
	size_t t = 0;

	for (unsigned int i = 0; i < nr; i++)
		t += iov[i].iov_len;
	return t;
}

enum vsock_verdict vsock_pkt_parse(const struct iovec *iov, unsigned int nr,
				   uint64_t guest_cid, struct vsock_hdr *h)
{
	struct virtio_vsock_hdr raw;
	size_t total = iov_total(iov, nr);
	size_t avail;

	if (virtq_iov_to_buf(&raw, iov, nr, 0, sizeof(raw)) < sizeof(raw))
		return VSOCK_PKT_DROP;
	avail = total - sizeof(raw);
	*h = (struct vsock_hdr){
		.src_cid = le64toh(raw.src_cid),
		.dst_cid = le64toh(raw.dst_cid),
		.src_port = le32toh(raw.src_port),
		.dst_port = le32toh(raw.dst_port),
		.len = le32toh(raw.len),
		.type = le16toh(raw.type),
		.op = le16toh(raw.op),
		.flags = le32toh(raw.flags),
		.buf_alloc = le32toh(raw.buf_alloc),
		.fwd_cnt = le32toh(raw.fwd_cnt),
	};
	/* A forged source gets nothing: a reply would go to someone else. */
	if (h->src_cid != guest_cid)
		return VSOCK_PKT_DROP;
	/* Never answer a reset with a reset, whatever else is wrong with it. */
	if (h->op == VIRTIO_VSOCK_OP_RST)
		return h->dst_cid == VSOCK_HOST_CID && h->type == VIRTIO_VSOCK_TYPE_STREAM &&
		       !h->len ? VSOCK_PKT_OK : VSOCK_PKT_DROP;
	/* Only the host is reachable; only streams are offered. */
	if (h->dst_cid != VSOCK_HOST_CID || h->type != VIRTIO_VSOCK_TYPE_STREAM ||
	    h->op < VIRTIO_VSOCK_OP_REQUEST || h->op > VIRTIO_VSOCK_OP_CREDIT_REQUEST)
		return VSOCK_PKT_REFUSE;
	/* A length the chain does not hold, a payload on anything but RW, or
	 * more than a packet carries: the stream can no longer be trusted. */
	if (h->len > avail || h->len > VSOCK_PAYLOAD_MAX ||
	    (h->len && h->op != VIRTIO_VSOCK_OP_RW))
		return VSOCK_PKT_RESET;
	/* Flags only mean something on SHUTDOWN; unknown ones there too. */
	if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN &&
	    (h->flags & ~(uint32_t)(VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND)))
		return VSOCK_PKT_RESET;
	return VSOCK_PKT_OK;
}

void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *buf)
{
	struct virtio_vsock_hdr raw = {
		.src_cid = htole64(h->src_cid),
		.dst_cid = htole64(h->dst_cid),
		.src_port = htole32(h->src_port),
		.dst_port = htole32(h->dst_port),
		.len = htole32(h->len),
		.type = htole16(h->type),
		.op = htole16(h->op),
		.flags = htole32(h->flags),
		.buf_alloc = htole32(h->buf_alloc),
		.fwd_cnt = htole32(h->fwd_cnt),
	};

	memcpy(buf, &raw, sizeof(raw));
}
