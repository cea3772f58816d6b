// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock's guest-facing parser and state machine (virtio/vsock.h):
 * a run of guest packets, each a chain of readable segments shaped as
 * virtq_pop() hands them out (each its own malloc'd buffer of exactly its
 * length, so ASan sees a byte past any), judged by vsock_pkt_parse(), and
 * the well-formed ones fed to one connection's vsock_conn_input(), with
 * the host side forwarding and sending as the input says.
 *
 * Held to vsock.h's promises: a packet taken is from the guest's CID to
 * the host, a stream, a known operation, its length inside the chain and
 * at most VSOCK_PAYLOAD_MAX, a payload only on RW; the connection never
 * holds more than VSOCK_BUF_ALLOC unwritten bytes, never sends the guest
 * more than its credit, and owes it only known control packets.
 *
 * Input, per packet: a flags byte (bit 0: the connection starts anew,
 * bit 1: as one the host started), a segment count, per segment a u16
 * length, the readable bytes, then a u32 of bytes the host side
 * forwards and a u32 it tries to send; zeros when dry.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "virtio/vsock.h"

#define GUEST_CID	3
#define SEGS_MAX	8
#define SEG_LEN_MAX	2048

static struct iovec iov[SEGS_MAX];
static void *bufs[SEGS_MAX];
static unsigned int nr_bufs;

static void free_bufs(void)
{
	while (nr_bufs)
		free(bufs[--nr_bufs]);
}

static void check_taken(const struct vsock_hdr *h, size_t total)
{
	fuzz_check(total >= VSOCK_HDR_LEN);
	fuzz_check(h->src_cid == GUEST_CID);
	fuzz_check(h->dst_cid == VSOCK_HOST_CID);
	fuzz_check(h->type == VIRTIO_VSOCK_TYPE_STREAM);
	fuzz_check(h->op >= VIRTIO_VSOCK_OP_REQUEST && h->op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	fuzz_check(h->len <= total - VSOCK_HDR_LEN);
	fuzz_check(h->len <= VSOCK_PAYLOAD_MAX);
	fuzz_check(!h->len || h->op == VIRTIO_VSOCK_OP_RW);
}

/* The payload slice covers exactly the bytes the header names. */
static void check_slice(const struct vsock_hdr *h)
{
	struct iovec out[SEGS_MAX];
	unsigned int n = vsock_iov_slice(iov, nr_bufs, VSOCK_HDR_LEN, h->len, out, SEGS_MAX);
	size_t got = 0;

	for (unsigned int i = 0; i < n; i++) {
		fuzz_check(out[i].iov_len);
		got += out[i].iov_len;
	}
	fuzz_check(got == h->len);
}

static void conn_fresh(struct vsock_conn *c, uint8_t flags)
{
	memset(c, 0, sizeof(*c));
	c->state = flags & 2 ? VSOCK_CONNECTING : VSOCK_ESTABLISHED;
	c->local_port = 80;
	c->peer_port = 1234;
	c->fd = -1;
}

static void host_side(struct fuzz_input *in, struct vsock_conn *c)
{
	uint32_t fwd = fuzz_u32(in), send = fuzz_u32(in);
	uint32_t before = vsock_buffered(c), credit;
	struct vsock_hdr h;
	uint16_t op;

	/* The socket takes some of what waits. */
	if (fwd > before)
		fwd = before;
	vsock_conn_forwarded(c, fwd);
	fuzz_check(vsock_buffered(c) == before - fwd);
	/* The host sends what the guest's credit allows. */
	credit = vsock_peer_credit(c);
	fuzz_check(credit <= c->peer_buf_alloc);
	if (send > credit)
		send = credit;
	if (send && c->state == VSOCK_ESTABLISHED) {
		uint32_t tx = c->tx_cnt;

		vsock_conn_hdr(c, GUEST_CID, VIRTIO_VSOCK_OP_RW, send, 0, &h);
		fuzz_check(c->tx_cnt == tx + send);
		fuzz_check(h.fwd_cnt == c->fwd_cnt && h.buf_alloc == VSOCK_BUF_ALLOC);
		fuzz_check(!(c->pending & VSOCK_PEND_CREDIT));
	}
	while ((op = vsock_conn_next_ctl(c, false)))
		fuzz_check(op >= VIRTIO_VSOCK_OP_REQUEST && op <= VIRTIO_VSOCK_OP_CREDIT_REQUEST &&
			   op != VIRTIO_VSOCK_OP_RW);
	fuzz_check(!c->pending);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	struct vsock_conn c;
	unsigned int packets = 0;

	conn_fresh(&c, 0);
	while (!fuzz_empty(&in) && packets++ < 64) {
		uint8_t flags = fuzz_u8(&in);
		unsigned int n = fuzz_u8(&in) % (SEGS_MAX + 1);
		size_t total = 0;
		struct vsock_hdr h;

		if (flags & 1)
			conn_fresh(&c, flags);
		for (unsigned int i = 0; i < n; i++) {
			size_t len = fuzz_u16(&in) % (SEG_LEN_MAX + 1);
			void *p = malloc(len ? len : 1);

			if (!p)
				abort();
			bufs[nr_bufs++] = p;
			iov[i] = (struct iovec){ p, len };
			total += len;
		}
		for (unsigned int i = 0; i < n; i++)
			fuzz_bytes(&in, iov[i].iov_base, iov[i].iov_len);
		switch (vsock_pkt_parse(iov, n, GUEST_CID, &h)) {
		case VSOCK_PKT_OK:
			check_taken(&h, total);
			check_slice(&h);
			switch (vsock_conn_input(&c, &h)) {
			case VSOCK_ACT_DATA:
				fuzz_check(h.op == VIRTIO_VSOCK_OP_RW && h.len);
				fuzz_check(c.state == VSOCK_ESTABLISHED);
				break;
			case VSOCK_ACT_ACCEPTED:
				fuzz_check(h.op == VIRTIO_VSOCK_OP_RESPONSE);
				fuzz_check(c.state == VSOCK_ESTABLISHED);
				break;
			case VSOCK_ACT_CLOSE:
				fuzz_check(h.op == VIRTIO_VSOCK_OP_RST);
				conn_fresh(&c, flags);
				break;
			case VSOCK_ACT_RESET:
				conn_fresh(&c, flags);
				break;
			case VSOCK_ACT_NONE:
				break;
			}
			break;
		case VSOCK_PKT_DROP:
			fuzz_check(total < VSOCK_HDR_LEN || h.src_cid != GUEST_CID ||
				   h.op == VIRTIO_VSOCK_OP_RST);
			break;
		case VSOCK_PKT_REFUSE:
			fuzz_check(h.op != VIRTIO_VSOCK_OP_RST);
			break;
		case VSOCK_PKT_RESET:
			fuzz_check(h.op != VIRTIO_VSOCK_OP_RST && h.src_cid == GUEST_CID);
			break;
		}
		fuzz_check(vsock_buffered(&c) <= VSOCK_BUF_ALLOC);
		host_side(&in, &c);
		free_bufs();
	}
	free_bufs();
	return 0;
}
