// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock: the packet judge and the connection state machine as plain
 * data, then the device through its ops with the fake guest as the driver
 * and socketpairs as the host side, driven by a real event loop.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "fake_virtq.h"
#include "lib/evloop.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"
#include "virtio/vsock.h"
#include "virtio/vsock_backend.h"

#define GUEST_CID	3
#define QSIZE		32
#define RX_POST_MAX	16	/* two descriptors each */
#define RXQ		0
#define TXQ		1
#define RX_BUF		4096
#define REFUSED_PORT	9
#define NR_PORTS	16

/* ---- the packet judge ------------------------------------------------- */

static uint8_t pkt[VSOCK_HDR_LEN + 128];

static void mk(uint64_t src, uint64_t dst, uint16_t type, uint16_t op,
	       uint32_t len, uint32_t flags)
{
	struct vsock_hdr h = {
		.src_cid = src, .dst_cid = dst, .src_port = 1234, .dst_port = 80,
		.len = len, .type = type, .op = op, .flags = flags,
		.buf_alloc = 4096, .fwd_cnt = 7,
	};

	vsock_hdr_encode(&h, pkt);
}

static enum vsock_verdict judge(size_t total, struct vsock_hdr *h)
{
	struct iovec iov = { pkt, total };

	return vsock_pkt_parse(&iov, 1, GUEST_CID, h);
}

START_TEST(test_pkt_ok_and_fields)
{
	struct vsock_hdr h;

	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW, 10, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN + 10, &h), VSOCK_PKT_OK);
	ck_assert_uint_eq(h.src_port, 1234);
	ck_assert_uint_eq(h.dst_port, 80);
	ck_assert_uint_eq(h.len, 10);
	ck_assert_uint_eq(h.buf_alloc, 4096);
	ck_assert_uint_eq(h.fwd_cnt, 7);
	/* Extra bytes after the payload are ignored. */
	ck_assert_int_eq(judge(VSOCK_HDR_LEN + 20, &h), VSOCK_PKT_OK);
}
END_TEST

START_TEST(test_pkt_split_header)
{
	struct vsock_hdr h;
	struct iovec iov[4];

	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	iov[0] = (struct iovec){ pkt, 1 };
	iov[1] = (struct iovec){ pkt + 1, 0 };
	iov[2] = (struct iovec){ pkt + 1, 30 };
	iov[3] = (struct iovec){ pkt + 31, VSOCK_HDR_LEN - 31 };
	ck_assert_int_eq(vsock_pkt_parse(iov, 4, GUEST_CID, &h), VSOCK_PKT_OK);
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(h.src_port, 1234);
	/* One byte short. */
	ck_assert_int_eq(vsock_pkt_parse(iov, 3, GUEST_CID, &h), VSOCK_PKT_DROP);
}
END_TEST

START_TEST(test_pkt_bad)
{
	struct vsock_hdr h;

	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN - 1, &h), VSOCK_PKT_DROP);
	ck_assert_int_eq(judge(0, &h), VSOCK_PKT_DROP);
	/* Forged source: no reply at all. */
	mk(GUEST_CID + 1, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_DROP);
	mk(2, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_DROP);
	mk(GUEST_CID | (1ULL << 32), 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_DROP);
	/* Somewhere else, a type or an operation we do not offer: refused. */
	mk(GUEST_CID, 5, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_REFUSE);
	ck_assert_uint_eq(h.dst_cid, 5);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_REFUSE);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_INVALID, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_REFUSE);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, 8, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_REFUSE);
	/* Lying lengths: the stream is reset. */
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW, 11, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN + 10, &h), VSOCK_PKT_RESET);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW, UINT32_MAX, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN + 10, &h), VSOCK_PKT_RESET);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 4, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN + 4, &h), VSOCK_PKT_RESET);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_SHUTDOWN, 0, 4);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_RESET);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_SHUTDOWN, 0, 3);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_OK);
	/* A reset is never answered, even a malformed one. */
	mk(GUEST_CID, 5, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_DROP);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RST, 1, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN + 1, &h), VSOCK_PKT_DROP);
	mk(GUEST_CID, 2, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RST, 0, 0);
	ck_assert_int_eq(judge(VSOCK_HDR_LEN, &h), VSOCK_PKT_OK);
}
END_TEST

START_TEST(test_pkt_payload_max)
{
	static uint8_t big[VSOCK_HDR_LEN + VSOCK_PAYLOAD_MAX + 1];
	struct vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = 2, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_RW, .len = VSOCK_PAYLOAD_MAX,
	};
	struct iovec iov = { big, sizeof(big) };

	vsock_hdr_encode(&h, big);
	ck_assert_int_eq(vsock_pkt_parse(&iov, 1, GUEST_CID, &h), VSOCK_PKT_OK);
	h.len = VSOCK_PAYLOAD_MAX + 1;
	vsock_hdr_encode(&h, big);
	ck_assert_int_eq(vsock_pkt_parse(&iov, 1, GUEST_CID, &h), VSOCK_PKT_RESET);
}
END_TEST

START_TEST(test_iov_slice)
{
	uint8_t a[10], b[10];
	struct iovec src[2] = { { a, 10 }, { b, 10 } }, dst[2];

	ck_assert_uint_eq(vsock_iov_slice(src, 2, 8, 5, dst, 2), 2);
	ck_assert_ptr_eq(dst[0].iov_base, a + 8);
	ck_assert_uint_eq(dst[0].iov_len, 2);
	ck_assert_ptr_eq(dst[1].iov_base, b);
	ck_assert_uint_eq(dst[1].iov_len, 3);
	ck_assert_uint_eq(vsock_iov_slice(src, 2, 12, 100, dst, 2), 1);
	ck_assert_uint_eq(dst[0].iov_len, 8);
	ck_assert_uint_eq(vsock_iov_slice(src, 2, 20, 100, dst, 2), 0);
	ck_assert_uint_eq(vsock_iov_slice(src, 2, 0, 20, dst, 1), 1);
}
END_TEST

/* ---- connections as data ---------------------------------------------- */

static struct vsock_table tab;

static struct vsock_hdr op_hdr(uint16_t op, uint32_t len, uint32_t flags)
{
	return (struct vsock_hdr){
		.src_cid = GUEST_CID, .dst_cid = 2, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op, .len = len, .flags = flags, .buf_alloc = 1000, .fwd_cnt = 0,
	};
}

START_TEST(test_table_limits)
{
	struct vsock_conn *c;

	vsock_table_init(&tab);
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++) {
		c = vsock_conn_alloc(&tab, vsock_local_port(&tab), i);
		ck_assert_ptr_nonnull(c);
		ck_assert_uint_ge(c->local_port, VSOCK_LOCAL_PORT_BASE);
	}
	ck_assert_uint_eq(tab.nr, VSOCK_CONN_MAX);
	ck_assert_ptr_null(vsock_conn_alloc(&tab, 1, 1));
	c = vsock_conn_find(&tab, VSOCK_LOCAL_PORT_BASE + 5, 5);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(vsock_conn_find(&tab, VSOCK_LOCAL_PORT_BASE + 5, 6));
	vsock_conn_release(&tab, c);
	ck_assert_uint_eq(tab.nr, VSOCK_CONN_MAX - 1);
	ck_assert_ptr_null(vsock_conn_find(&tab, VSOCK_LOCAL_PORT_BASE + 5, 5));
	/* The next port handed out is one nobody uses. */
	tab.next_port = VSOCK_LOCAL_PORT_BASE;
	ck_assert_uint_eq(vsock_local_port(&tab), VSOCK_LOCAL_PORT_BASE + 5);
	ck_assert_ptr_nonnull(vsock_conn_alloc(&tab, 1, 1));
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++)
		vsock_conn_release(&tab, &tab.conn[i]);
	ck_assert_uint_eq(tab.nr, 0);
	/* The port counter wraps to the base, never below it. */
	tab.next_port = UINT32_MAX - 1;
	ck_assert_uint_eq(vsock_local_port(&tab), UINT32_MAX - 1);
	ck_assert_uint_eq(vsock_local_port(&tab), VSOCK_LOCAL_PORT_BASE);
}
END_TEST

START_TEST(test_credit)
{
	struct vsock_conn c = { .state = VSOCK_ESTABLISHED };
	struct vsock_hdr h = op_hdr(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, 0);

	vsock_conn_peer_credit(&c, &h);
	ck_assert_uint_eq(vsock_peer_credit(&c), 1000);
	c.tx_cnt = 600;
	ck_assert_uint_eq(vsock_peer_credit(&c), 400);
	h.fwd_cnt = 500;
	vsock_conn_peer_credit(&c, &h);
	ck_assert_uint_eq(vsock_peer_credit(&c), 900);
	/* Lies: taken more than we sent, or a buffer smaller than in flight. */
	h.fwd_cnt = 700;
	vsock_conn_peer_credit(&c, &h);
	ck_assert_uint_eq(vsock_peer_credit(&c), 0);
	h.fwd_cnt = 0;
	h.buf_alloc = 100;
	vsock_conn_peer_credit(&c, &h);
	ck_assert_uint_eq(vsock_peer_credit(&c), 0);
	/* Counters wrap. */
	c.tx_cnt = 10;
	h.fwd_cnt = UINT32_MAX - 9;
	h.buf_alloc = 100;
	vsock_conn_peer_credit(&c, &h);
	ck_assert_uint_eq(vsock_peer_credit(&c), 80);

	/* Our side: never more than VSOCK_BUF_ALLOC held. */
	ck_assert(vsock_conn_take(&c, VSOCK_BUF_ALLOC - 10));
	ck_assert(!vsock_conn_take(&c, 11));
	ck_assert(vsock_conn_take(&c, 10));
	ck_assert(!vsock_conn_take(&c, 1));
	ck_assert_uint_eq(vsock_buffered(&c), VSOCK_BUF_ALLOC);
	vsock_conn_forwarded(&c, VSOCK_BUF_ALLOC / 2 - 1);
	ck_assert(!(c.pending & VSOCK_PEND_CREDIT));
	vsock_conn_forwarded(&c, 1);
	ck_assert(c.pending & VSOCK_PEND_CREDIT);
	ck_assert(vsock_conn_take(&c, VSOCK_BUF_ALLOC / 2));
	ck_assert(!vsock_conn_take(&c, 1));
	/* A header to the guest carries the credit: no update owed. */
	vsock_conn_hdr(&c, GUEST_CID, VIRTIO_VSOCK_OP_RW, 5, 0, &h);
	ck_assert(!(c.pending & VSOCK_PEND_CREDIT));
	ck_assert_uint_eq(h.fwd_cnt, VSOCK_BUF_ALLOC / 2);
	ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	ck_assert_uint_eq(c.tx_cnt, 15);
	ck_assert_uint_eq(h.src_cid, 2);
	ck_assert_uint_eq(h.dst_cid, GUEST_CID);
}
END_TEST

START_TEST(test_states_guest_connects)
{
	struct vsock_conn c = { .state = VSOCK_ESTABLISHED, .pending = VSOCK_PEND_RESPONSE };
	struct vsock_hdr h;

	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), 0);
	h = op_hdr(VIRTIO_VSOCK_OP_RW, 100, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_DATA);
	h = op_hdr(VIRTIO_VSOCK_OP_RW, 0, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_NONE);
	h = op_hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_NONE);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, true), 0);	/* data first */
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	/* Half-close, then the other half: closing, done once drained. */
	h = op_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 0, VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_NONE);
	ck_assert_int_eq(c.state, VSOCK_ESTABLISHED);
	h = op_hdr(VIRTIO_VSOCK_OP_RW, 1, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_RESET);
	h = op_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 0, VIRTIO_VSOCK_SHUTDOWN_RCV);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_NONE);
	ck_assert_int_eq(c.state, VSOCK_CLOSING);
	ck_assert(!vsock_conn_done(&c));	/* 100 bytes not written yet */
	vsock_conn_forwarded(&c, 100);
	ck_assert(vsock_conn_done(&c));
	h = op_hdr(VIRTIO_VSOCK_OP_RST, 0, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_CLOSE);
}
END_TEST

START_TEST(test_states_host_connects)
{
	struct vsock_conn c = { .state = VSOCK_CONNECTING, .pending = VSOCK_PEND_REQUEST };
	struct vsock_hdr h;

	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), VIRTIO_VSOCK_OP_REQUEST);
	/* Nothing but RESPONSE or RST before the guest accepts. */
	h = op_hdr(VIRTIO_VSOCK_OP_RW, 1, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_RESET);
	h = op_hdr(VIRTIO_VSOCK_OP_SHUTDOWN, 0, 3);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_RESET);
	h = op_hdr(VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_RESET);
	h = op_hdr(VIRTIO_VSOCK_OP_RESPONSE, 0, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_ACCEPTED);
	ck_assert_int_eq(c.state, VSOCK_ESTABLISHED);
	ck_assert_uint_eq(vsock_peer_credit(&c), 1000);
	/* A second RESPONSE, or a REQUEST on the stream: reset. */
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_RESET);
	h = op_hdr(VIRTIO_VSOCK_OP_REQUEST, 0, 0);
	ck_assert_int_eq(vsock_conn_input(&c, &h), VSOCK_ACT_RESET);
}
END_TEST

START_TEST(test_ctl_order)
{
	struct vsock_conn c = {
		.pending = VSOCK_PEND_SHUTDOWN | VSOCK_PEND_CREDIT | VSOCK_PEND_RESPONSE |
			   VSOCK_PEND_CREDIT_REQ,
	};

	ck_assert_uint_eq(vsock_conn_next_ctl(&c, true), VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, true), 0);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, false), VIRTIO_VSOCK_OP_SHUTDOWN);
	c.pending = VSOCK_PEND_CREDIT | VSOCK_PEND_REQUEST;
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, true), VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(vsock_conn_next_ctl(&c, true), 0);
	ck_assert_uint_eq(c.pending, VSOCK_PEND_CREDIT);
}
END_TEST

/* ---- the device --------------------------------------------------------- */

static struct fake_guest g;
static struct virtio_dev *dev;
static struct evloop loop;
static int host_end[NR_PORTS];		/* our end of each port's stream */
static unsigned int connects;
static uint32_t accepted_port;
static uint64_t rx_gpa[QSIZE];
static int repost_head = -1;		/* be_connect re-posts it */

static int be_connect(void *ctx, uint32_t port)
{
	int sv[2];

	(void)ctx;
	connects++;
	if (repost_head >= 0)
		fake_add_head(&g, TXQ, repost_head);
	if (port == REFUSED_PORT || port >= NR_PORTS)
		return -ECONNREFUSED;
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	/* A small socket, so that a reader that stops is soon felt. */
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 4096 },
				    sizeof(int)), 0);
	if (host_end[port] >= 0)
		close(host_end[port]);
	host_end[port] = sv[1];
	return sv[0];
}

static int be_accepted(void *ctx, int fd, uint32_t local_port)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "OK %u\n", local_port);

	(void)ctx;
	accepted_port = local_port;
	return write(fd, line, n) == n ? 0 : -EIO;
}

static const struct vsock_backend test_be = {
	.connect = be_connect,
	.accepted = be_accepted,
};

static void dev_setup(void)
{
	fake_guest_init(&g);
	ck_assert_int_eq(evloop_init(&loop), 0);
	dev = virtio_vsock_new(&g.mem, GUEST_CID, &test_be, &loop);
	ck_assert_ptr_nonnull(dev);
	fake_driver_start(&g, dev, 0, QSIZE);
	for (unsigned int i = 0; i < NR_PORTS; i++)
		host_end[i] = -1;
	connects = 0;
	accepted_port = 0;
}

static void dev_teardown(void)
{
	virtio_dev_exit(dev);
	free(dev);
	for (unsigned int i = 0; i < NR_PORTS; i++)
		if (host_end[i] >= 0)
			close(host_end[i]);
	evloop_exit(&loop);
	fake_guest_exit(&g);
}

static void spin(void)
{
	for (int i = 0; i < 8; i++)
		evloop_run_once(&loop, 0);
}

/* One guest packet, header and payload in one readable buffer. */
static void send_pkt(uint16_t op, uint32_t src_port, uint32_t dst_port,
		     const void *data, uint32_t len, uint32_t flags)
{
	struct vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = 2, .src_port = src_port,
		.dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op, .flags = flags, .buf_alloc = 64 * 1024, .fwd_cnt = 0,
	};
	uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN + len, 8);
	struct fake_seg seg = { gpa, VSOCK_HDR_LEN + len, false };
	uint32_t id, l;

	vsock_hdr_encode(&h, fake_ptr(&g, gpa));
	if (len)
		memcpy((uint8_t *)fake_ptr(&g, gpa) + VSOCK_HDR_LEN, data, len);
	fake_add_chain(&g, TXQ, &seg, 1);
	fake_kick(&g, dev, TXQ);
	ck_assert(fake_get_used(&g, TXQ, &id, &l));
}

static void post_rx(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN + RX_BUF, 8);
		struct fake_seg segs[2] = {
			{ gpa, VSOCK_HDR_LEN, true },
			{ gpa + VSOCK_HDR_LEN, RX_BUF, true },
		};
		uint16_t head = fake_add_chain(&g, RXQ, segs, 2);

		ck_assert_uint_lt(head, QSIZE);
		rx_gpa[head] = gpa;
	}
	fake_kick(&g, dev, RXQ);
}

/* The next packet for the guest; false when there is none. */
static bool get_rx(struct vsock_hdr *h, void *data)
{
	struct iovec iov;
	uint32_t id, len;

	if (!fake_get_used(&g, RXQ, &id, &len))
		return false;
	ck_assert_uint_lt(id, QSIZE);
	ck_assert_uint_ge(len, VSOCK_HDR_LEN);
	iov = (struct iovec){ fake_ptr(&g, rx_gpa[id]), len };
	{
		struct virtio_vsock_hdr raw;

		memcpy(&raw, iov.iov_base, sizeof(raw));
		*h = (struct vsock_hdr){
			.src_cid = le64toh(raw.src_cid), .dst_cid = le64toh(raw.dst_cid),
			.src_port = le32toh(raw.src_port), .dst_port = le32toh(raw.dst_port),
			.len = le32toh(raw.len), .type = le16toh(raw.type),
			.op = le16toh(raw.op), .flags = le32toh(raw.flags),
			.buf_alloc = le32toh(raw.buf_alloc), .fwd_cnt = le32toh(raw.fwd_cnt),
		};
	}
	ck_assert_uint_eq(len, VSOCK_HDR_LEN + h->len);
	if (data && h->len)
		memcpy(data, (uint8_t *)iov.iov_base + VSOCK_HDR_LEN, h->len);
	return true;
}

static void expect_rx(uint16_t op, uint32_t local, uint32_t peer)
{
	struct vsock_hdr h;

	ck_assert(get_rx(&h, NULL));
	ck_assert_uint_eq(h.op, op);
	ck_assert_uint_eq(h.src_cid, 2);
	ck_assert_uint_eq(h.dst_cid, GUEST_CID);
	ck_assert_uint_eq(h.src_port, local);
	ck_assert_uint_eq(h.dst_port, peer);
	ck_assert_uint_eq(h.type, VIRTIO_VSOCK_TYPE_STREAM);
}

static void expect_no_rx(void)
{
	struct vsock_hdr h;

	ck_assert(!get_rx(&h, NULL));
}

/* The guest connects to host port 5 from its port 1000. */
static void guest_connect(void)
{
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1000, 5, NULL, 0, 0);
	ck_assert_int_ge(host_end[5], 0);
	expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 5, 1000);
}

START_TEST(test_dev_config)
{
	uint8_t cfg[8];

	ck_assert_uint_eq(dev->ops->device_id, VIRTIO_ID_VSOCK);
	ck_assert_uint_eq(dev->ops->nr_queues, 3);
	ck_assert_uint_eq(dev->ops->config_size, 8);
	dev->ops->config_read(dev, 0, cfg, 8);
	ck_assert_uint_eq(le64toh(*(uint64_t *)cfg), GUEST_CID);
	dev->ops->config_read(dev, 4, cfg, 4);
	ck_assert_uint_eq(cfg[0] | cfg[1] | cfg[2] | cfg[3], 0);
}
END_TEST

START_TEST(test_dev_guest_to_host)
{
	char buf[64];

	post_rx(4);
	guest_connect();
	send_pkt(VIRTIO_VSOCK_OP_RW, 1000, 5, "hello", 5, 0);
	ck_assert_int_eq(read(host_end[5], buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	/* Half-close: the host reads end of file, may still answer. */
	send_pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 1000, 5, NULL, 0, VIRTIO_VSOCK_SHUTDOWN_SEND);
	ck_assert_int_eq(read(host_end[5], buf, sizeof(buf)), 0);
	ck_assert_int_eq(write(host_end[5], "bye", 3), 3);
	spin();
	{
		struct vsock_hdr h;

		ck_assert(get_rx(&h, buf));
		ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
		ck_assert_uint_eq(h.len, 3);
		ck_assert_mem_eq(buf, "bye", 3);
		ck_assert_uint_eq(h.fwd_cnt, 5);
		ck_assert_uint_eq(h.buf_alloc, VSOCK_BUF_ALLOC);
	}
	/* The host closes: the guest hears both ways are over. */
	close(host_end[5]);
	host_end[5] = -1;
	spin();
	{
		struct vsock_hdr h;

		ck_assert(get_rx(&h, NULL));
		ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_SHUTDOWN);
		ck_assert_uint_eq(h.flags, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND);
	}
	send_pkt(VIRTIO_VSOCK_OP_RST, 1000, 5, NULL, 0, 0);
	expect_no_rx();
	/* Gone: a packet on it now gets a reset. */
	send_pkt(VIRTIO_VSOCK_OP_RW, 1000, 5, "x", 1, 0);
	expect_rx(VIRTIO_VSOCK_OP_RST, 5, 1000);
}
END_TEST

START_TEST(test_dev_refused_and_unknown)
{
	post_rx(8);
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1000, REFUSED_PORT, NULL, 0, 0);
	expect_rx(VIRTIO_VSOCK_OP_RST, REFUSED_PORT, 1000);
	send_pkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1001, 7, NULL, 0, 0);
	expect_rx(VIRTIO_VSOCK_OP_RST, 7, 1001);
	/* A reset for nothing gets nothing. */
	send_pkt(VIRTIO_VSOCK_OP_RST, 1001, 7, NULL, 0, 0);
	expect_no_rx();
	ck_assert_uint_eq(connects, 1);
}
END_TEST

START_TEST(test_dev_guest_reset_closes)
{
	char c;

	post_rx(4);
	guest_connect();
	send_pkt(VIRTIO_VSOCK_OP_RST, 1000, 5, NULL, 0, 0);
	ck_assert_int_eq(read(host_end[5], &c, 1), 0);
}
END_TEST

START_TEST(test_dev_shutdown_both)
{
	char c;

	post_rx(4);
	guest_connect();
	send_pkt(VIRTIO_VSOCK_OP_SHUTDOWN, 1000, 5, NULL, 0, 3);
	expect_rx(VIRTIO_VSOCK_OP_RST, 5, 1000);
	ck_assert_int_eq(read(host_end[5], &c, 1), 0);
}
END_TEST

START_TEST(test_dev_lying_length_resets)
{
	uint64_t gpa;
	struct fake_seg seg;
	struct vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = 2, .src_port = 1000, .dst_port = 5,
		.len = 100, .type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_RW,
	};
	char c;

	post_rx(4);
	guest_connect();
	gpa = fake_alloc(&g, VSOCK_HDR_LEN + 10, 8);
	seg = (struct fake_seg){ gpa, VSOCK_HDR_LEN + 10, false };
	vsock_hdr_encode(&h, fake_ptr(&g, gpa));
	fake_add_chain(&g, TXQ, &seg, 1);
	fake_kick(&g, dev, TXQ);
	expect_rx(VIRTIO_VSOCK_OP_RST, 5, 1000);
	ck_assert_int_eq(read(host_end[5], &c, 1), 0);
}
END_TEST

START_TEST(test_dev_forged_source_dropped)
{
	uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN, 8);
	struct fake_seg seg = { gpa, VSOCK_HDR_LEN, false };
	struct vsock_hdr h = {
		.src_cid = 77, .dst_cid = 2, .src_port = 1000, .dst_port = 5,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_REQUEST,
	};

	post_rx(4);
	vsock_hdr_encode(&h, fake_ptr(&g, gpa));
	fake_add_chain(&g, TXQ, &seg, 1);
	fake_kick(&g, dev, TXQ);
	expect_no_rx();
	ck_assert_uint_eq(connects, 0);
}
END_TEST

/* A host reader that stops: the guest may fill our buffer and no more,
 * and nothing is lost or reordered. */
START_TEST(test_dev_slow_host_reader)
{
	static uint8_t chunk[4096];
	static uint8_t back[VSOCK_BUF_ALLOC];
	uint32_t sent = 0;
	size_t got = 0;
	bool update = false;
	struct vsock_hdr h;
	ssize_t n;

	post_rx(8);
	guest_connect();
	/* The whole credit we gave, with the host reading nothing. */
	while (sent < VSOCK_BUF_ALLOC) {
		for (unsigned int i = 0; i < sizeof(chunk); i++)
			chunk[i] = (sent + i) * 7;
		send_pkt(VIRTIO_VSOCK_OP_RW, 1000, 5, chunk, sizeof(chunk), 0);
		sent += sizeof(chunk);
	}
	while (get_rx(&h, NULL))
		ck_assert_uint_ne(h.op, VIRTIO_VSOCK_OP_RST);
	for (int tries = 0; got < sent && tries < 100000; tries++) {
		n = read(host_end[5], back + got, sizeof(back) - got);
		if (n > 0)
			got += n;
		spin();
	}
	ck_assert_uint_eq(got, sent);
	for (size_t i = 0; i < got; i++)
		ck_assert_uint_eq(back[i], (uint8_t)(i * 7));
	/* The guest heard of the room we made. */
	while (get_rx(&h, NULL))
		if (h.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE && h.fwd_cnt >= sent / 2)
			update = true;
	ck_assert(update);
}
END_TEST

START_TEST(test_dev_over_credit_resets)
{
	static uint8_t chunk[4096];
	struct vsock_hdr h;
	bool reset = false;
	char c;

	post_rx(RX_POST_MAX);
	guest_connect();
	/* Nobody reads host_end[5], and this guest ignores its credit. */
	for (unsigned int i = 0; i < 200 && !reset; i++) {
		send_pkt(VIRTIO_VSOCK_OP_RW, 1000, 5, chunk, sizeof(chunk), 0);
		while (get_rx(&h, NULL))
			if (h.op == VIRTIO_VSOCK_OP_RST)
				reset = true;
	}
	ck_assert(reset);
	/* What went out before the reset is readable, then end of file. */
	while (read(host_end[5], &c, 1) == 1)
		;
	ck_assert_int_eq(read(host_end[5], &c, 1), 0);
}
END_TEST

START_TEST(test_dev_host_to_guest)
{
	struct vsock_hdr h;
	int sv[2];
	char buf[64];
	uint32_t local;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	/* No receive buffers yet: the request waits for them. */
	ck_assert_int_eq(virtio_vsock_host_connect(dev, sv[0], 52), 0);
	expect_no_rx();
	post_rx(4);
	ck_assert(get_rx(&h, NULL));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(h.dst_port, 52);
	local = h.src_port;
	ck_assert_uint_ge(local, VSOCK_LOCAL_PORT_BASE);
	/* The host writes before the guest accepts: held until then. */
	ck_assert_int_eq(write(sv[1], "ping", 4), 4);
	spin();
	expect_no_rx();
	send_pkt(VIRTIO_VSOCK_OP_RESPONSE, 52, local, NULL, 0, 0);
	ck_assert_uint_eq(accepted_port, local);
	ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), snprintf(NULL, 0, "OK %u\n", local));
	spin();
	ck_assert(get_rx(&h, buf));
	ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_RW);
	ck_assert_mem_eq(buf, "ping", 4);
	close(sv[1]);
}
END_TEST

START_TEST(test_dev_host_to_guest_refused)
{
	int sv[2];
	char c;
	struct vsock_hdr h;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	post_rx(4);
	ck_assert_int_eq(virtio_vsock_host_connect(dev, sv[0], 52), 0);
	ck_assert(get_rx(&h, NULL));
	send_pkt(VIRTIO_VSOCK_OP_RST, 52, h.src_port, NULL, 0, 0);
	ck_assert_int_eq(read(sv[1], &c, 1), 0);
	ck_assert_uint_eq(accepted_port, 0);
	close(sv[1]);
}
END_TEST

/* The guest's credit bounds what we read: nothing past it. */
START_TEST(test_dev_guest_credit_bounds_reads)
{
	static uint8_t big[8192];
	struct vsock_hdr h;
	uint32_t got = 0;
	uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN, 8);
	struct fake_seg seg = { gpa, VSOCK_HDR_LEN, false };

	post_rx(RX_POST_MAX);
	/* This guest has 1000 bytes of buffer. */
	h = (struct vsock_hdr){
		.src_cid = GUEST_CID, .dst_cid = 2, .src_port = 1000, .dst_port = 5,
		.type = VIRTIO_VSOCK_TYPE_STREAM, .op = VIRTIO_VSOCK_OP_REQUEST,
		.buf_alloc = 1000,
	};
	vsock_hdr_encode(&h, fake_ptr(&g, gpa));
	fake_add_chain(&g, TXQ, &seg, 1);
	fake_kick(&g, dev, TXQ);
	expect_rx(VIRTIO_VSOCK_OP_RESPONSE, 5, 1000);
	ck_assert_int_eq(write(host_end[5], big, sizeof(big)), sizeof(big));
	spin();
	while (get_rx(&h, NULL)) {
		if (h.op == VIRTIO_VSOCK_OP_RW)
			got += h.len;
		else
			ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
	}
	ck_assert_uint_eq(got, 1000);
}
END_TEST

START_TEST(test_dev_table_full)
{
	int sv[2];

	post_rx(RX_POST_MAX);
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++) {
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
		ck_assert_int_eq(virtio_vsock_host_connect(dev, sv[0], 52), 0);
		close(sv[1]);
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(virtio_vsock_host_connect(dev, sv[0], 52), -EBUSY);
	close(sv[1]);
	/* The guest's connect is refused too, and the host never asked. */
	while (fake_get_used(&g, RXQ, &(uint32_t){0}, &(uint32_t){0}))
		;
	post_rx(RX_POST_MAX);
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1000, 5, NULL, 0, 0);
	ck_assert_uint_eq(connects, 0);
}
END_TEST

START_TEST(test_dev_driver_reset_closes_all)
{
	char c;
	int sv[2];

	post_rx(4);
	guest_connect();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(virtio_vsock_host_connect(dev, sv[0], 52), 0);
	ck_assert(fake_set_status(dev, 0));
	spin();
	ck_assert_int_eq(read(host_end[5], &c, 1), 0);
	ck_assert_int_eq(read(sv[1], &c, 1), 0);
	close(sv[1]);
	/* Back up: a fresh table. */
	fake_driver_start(&g, dev, 0, QSIZE);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(virtio_vsock_host_connect(dev, sv[0], 52), 0);
	close(sv[1]);
}
END_TEST

/*
 * A driver that re-posts an unusable receive buffer as soon as the device
 * takes it, while a reset waits to go out: the kick ends after a queue's
 * worth and asks for another turn; the device stays up.
 */
START_TEST(test_dev_rx_reposting_bounded)
{
	uint64_t gpa = fake_alloc(&g, 8, 8);
	struct fake_seg tiny = { gpa, 8, true };
	uint16_t head;

	send_pkt(VIRTIO_VSOCK_OP_CREDIT_UPDATE, 1001, 7, NULL, 0, 0);
	head = fake_add_chain(&g, RXQ, &tiny, 1);
	ck_assert_msg(fake_kick_reposting(&g, dev, RXQ, head, 2000),
		      "one kick kept the I/O thread while the driver re-posted");
	ck_assert_uint_le(fake_used_idx(&g, RXQ), QSIZE);
	ck_assert_uint_ge(g.requeues[RXQ], 1);
	ck_assert(dev->active);
}
END_TEST

/* The transmit queue: a driver that re-posts each request as the device
 * takes it (here from inside the device's connect, so the timing is the
 * same every run) has put more chains in one kick than the queue holds;
 * the device stops for a reset rather than serve it forever. */
START_TEST(test_dev_tx_reposting_breaks)
{
	uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN, 8);
	struct fake_seg seg = { gpa, VSOCK_HDR_LEN, false };
	struct vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = 2, .src_port = 1000,
		.dst_port = REFUSED_PORT, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_REQUEST,
	};

	vsock_hdr_encode(&h, fake_ptr(&g, gpa));
	repost_head = fake_add_chain(&g, TXQ, &seg, 1);
	fake_kick(&g, dev, TXQ);
	repost_head = -1;
	ck_assert(dev->broken);
	ck_assert_uint_eq(connects, QSIZE);	/* the one past a ring is refused */
}
END_TEST


/*
 * Snapshots: connections do not survive a restore, and the guest hears
 * so from a TRANSPORT_RESET event (virtio 1.2, 5.10.6.6) once it has an
 * event buffer; its packets for the old stream get a reset.
 */
START_TEST(test_dev_state_transport_reset)
{
	const uint8_t data[4] = "ping";
	struct sbuf blob = { 0 };
	struct sbuf_rd r;
	uint64_t ev = fake_alloc(&g, 8, 8);
	struct fake_seg seg = { ev, 8, true };
	uint32_t id, len;
	uint16_t head;

	post_rx(2);
	guest_connect();
	pthread_mutex_lock(&dev->lock);
	virtio_dev_quiesce(dev);
	ck_assert_int_eq(virtio_dev_save(dev, &blob), 0);
	pthread_mutex_unlock(&dev->lock);
	virtio_dev_exit(dev);
	free(dev);
	dev = virtio_vsock_new(&g.mem, GUEST_CID, &test_be, &loop);
	ck_assert_ptr_nonnull(dev);
	fake_attach(&g, dev);
	for (size_t n = 0; n < blob.len; n++) {
		sbuf_rd_init(&r, blob.data, n);
		ck_assert_int_eq(virtio_dev_load(dev, &r), -EINVAL);
	}
	sbuf_rd_init(&r, blob.data, blob.len);
	pthread_mutex_lock(&dev->lock);
	ck_assert_int_eq(virtio_dev_load(dev, &r), 0);
	pthread_mutex_unlock(&dev->lock);
	ck_assert(sbuf_rd_done(&r));
	/* The requeued kick finds no event buffer: kicks on for one. */
	fake_kick(&g, dev, 2);
	ck_assert(!fake_get_used(&g, 2, &id, &len));
	head = fake_add_chain(&g, 2, &seg, 1);
	ck_assert(fake_kick_wanted(&g, 2));
	fake_kick(&g, dev, 2);
	ck_assert(fake_get_used(&g, 2, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(le32toh(*(uint32_t *)fake_ptr(&g, ev)),
			  VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
	/* Once only. */
	fake_add_chain(&g, 2, &seg, 1);
	fake_kick(&g, dev, 2);
	ck_assert(!fake_get_used(&g, 2, &id, &len));
	/* The old stream is unknown now. */
	send_pkt(VIRTIO_VSOCK_OP_RW, 1000, 5, data, sizeof(data), 0);
	spin();
	expect_rx(VIRTIO_VSOCK_OP_RST, 5, 1000);
	sbuf_free(&blob);
}
END_TEST

static Suite *vsock_suite(void)
{
	Suite *s = suite_create("virtio_vsock");
	TCase *tc = tcase_create("packet");
	TCase *tc_conn = tcase_create("conn");
	TCase *tc_dev = tcase_create("device");

	tcase_add_test(tc, test_pkt_ok_and_fields);
	tcase_add_test(tc, test_pkt_split_header);
	tcase_add_test(tc, test_pkt_bad);
	tcase_add_test(tc, test_pkt_payload_max);
	tcase_add_test(tc, test_iov_slice);
	suite_add_tcase(s, tc);
	tcase_add_test(tc_conn, test_table_limits);
	tcase_add_test(tc_conn, test_credit);
	tcase_add_test(tc_conn, test_states_guest_connects);
	tcase_add_test(tc_conn, test_states_host_connects);
	tcase_add_test(tc_conn, test_ctl_order);
	suite_add_tcase(s, tc_conn);
	tcase_add_checked_fixture(tc_dev, dev_setup, dev_teardown);
	tcase_add_test(tc_dev, test_dev_config);
	tcase_add_test(tc_dev, test_dev_guest_to_host);
	tcase_add_test(tc_dev, test_dev_refused_and_unknown);
	tcase_add_test(tc_dev, test_dev_guest_reset_closes);
	tcase_add_test(tc_dev, test_dev_shutdown_both);
	tcase_add_test(tc_dev, test_dev_lying_length_resets);
	tcase_add_test(tc_dev, test_dev_forged_source_dropped);
	tcase_add_test(tc_dev, test_dev_slow_host_reader);
	tcase_add_test(tc_dev, test_dev_over_credit_resets);
	tcase_add_test(tc_dev, test_dev_host_to_guest);
	tcase_add_test(tc_dev, test_dev_host_to_guest_refused);
	tcase_add_test(tc_dev, test_dev_guest_credit_bounds_reads);
	tcase_add_test(tc_dev, test_dev_table_full);
	tcase_add_test(tc_dev, test_dev_driver_reset_closes_all);
	tcase_add_test(tc_dev, test_dev_rx_reposting_bounded);
	tcase_add_test(tc_dev, test_dev_tx_reposting_breaks);
	tcase_add_test(tc_dev, test_dev_state_transport_reset);
	suite_add_tcase(s, tc_dev);
	return s;
}

UNIT_SUITE(vsock_suite)
