// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net: the header rules (net_hdr.c), the control commands
 * (net_ctrl.c), and the device through its ops with the fake guest of
 * fake_virtq.c as the driver. A SOCK_DGRAM socketpair stands in for the
 * tap: one datagram is one frame with its virtio-net header, as a tap
 * with IFF_VNET_HDR reads and writes them, and the I/O is real io_uring
 * I/O, completed by polling the device's eventfd as the I/O thread would.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "unit.h"
#include "util.h"
#include "fake_virtq.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"
#include "virtio/net.h"

#define QSIZE		256
#define HDR		VNET_HDR_LEN
#define BIT(b)		VNET_F(b)
#define F_MRG		BIT(VIRTIO_NET_F_MRG_RXBUF)
#define F_CSUM		BIT(VIRTIO_NET_F_CSUM)
#define F_GCSUM		BIT(VIRTIO_NET_F_GUEST_CSUM)
#define F_HTSO4		BIT(VIRTIO_NET_F_HOST_TSO4)
#define F_GTSO4		BIT(VIRTIO_NET_F_GUEST_TSO4)
#define F_CTRL		(BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) | \
			 BIT(VIRTIO_NET_F_CTRL_MAC_ADDR))

static const uint8_t test_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct fake_guest g;
static struct virtio_dev *net;
static int sv[2] = { -1, -1 };	/* sv[0] the device's "tap", sv[1] the host's */
static int sv2[2] = { -1, -1 };	/* the same for a second queue pair */

/* What the fake backends saw. */
static struct {
	unsigned int configured;
	unsigned int hdr_len;
	uint64_t features;
	int configure_err;
	unsigned int transmitted;
	uint8_t frame[2048];
	size_t frame_len;
	unsigned int rx_space;
	unsigned int set_pairs;		/* calls */
	unsigned int pairs;		/* the last one's count */
} seen;

static int fake_configure(void *ctx, unsigned int hdr_len, uint64_t features)
{
	(void)ctx;
	seen.configured++;
	seen.hdr_len = hdr_len;
	seen.features = features;
	return seen.configure_err;
}

static int fake_set_pairs(void *ctx, unsigned int n)
{
	(void)ctx;
	seen.set_pairs++;
	seen.pairs = n;
	return 0;
}

static void fake_transmit(void *ctx, const struct iovec *iov, unsigned int cnt,
			  size_t len)
{
	(void)ctx;
	seen.transmitted++;
	seen.frame_len = len;
	ck_assert_uint_le(len, sizeof(seen.frame));
	ck_assert_uint_eq(virtq_iov_to_buf(seen.frame, iov, cnt, 0, len), len);
}

static void fake_rx_space(void *ctx)
{
	(void)ctx;
	seen.rx_space++;
}

static void setup(void)
{
	fake_guest_init(&g);
	memset(&seen, 0, sizeof(seen));
	net = NULL;
	sv[0] = sv[1] = sv2[0] = sv2[1] = -1;
}

static void teardown(void)
{
	if (net) {
		virtio_dev_exit(net);
		free(net);
	}
	net = NULL;
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (sv2[i] >= 0)
			close(sv2[i]);
	}
	fake_guest_exit(&g);
}

/* A device on the socketpair (offloads: what the "tap" takes). */
static void new_fd_net(uint64_t offloads)
{
	struct vnet_backend be = {
		.fd = -1, .offloads = offloads, .configure = fake_configure,
	};

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0, sv), 0);
	be.fd = sv[0];
	net = virtio_net_new(&g.mem, &be, test_mac, NULL, 0);
	ck_assert_ptr_nonnull(net);
	fake_attach(&g, net);
}

/* A device with two queue pairs, on two socketpairs. */
static void new_mq_net(void)
{
	struct vnet_backend be = {
		.nr_pairs = 2, .configure = fake_configure, .set_pairs = fake_set_pairs,
	};

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0, sv), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0, sv2), 0);
	be.fd = be.qfd[0] = sv[0];
	be.qfd[1] = sv2[0];
	net = virtio_net_new(&g.mem, &be, test_mac, NULL, 0);
	ck_assert_ptr_nonnull(net);
	fake_attach(&g, net);
}

static void new_cb_net(void)
{
	struct vnet_backend be = {
		.fd = -1, .offloads = VNET_OFFLOADS, .transmit = fake_transmit,
		.rx_space = fake_rx_space,
	};

	net = virtio_net_new(&g.mem, &be, test_mac, NULL, 1);
	ck_assert_ptr_nonnull(net);
	fake_attach(&g, net);
}

static void start(uint64_t features)
{
	fake_driver_start(&g, net, features, QSIZE);
}

/* Completions until used idx of q reaches goal (or 5 s pass). */
static void run(unsigned int q, uint16_t goal)
{
	int fd = virtio_net_completion_fd(net);

	for (int i = 0; i < 500 && fake_used_idx(&g, q) != goal; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 10);
		virtio_net_complete(net);
	}
	ck_assert_uint_eq(fake_used_idx(&g, q), goal);
}

/* A few rounds of completions, for "nothing happens" checks. */
static void settle(void)
{
	int fd = virtio_net_completion_fd(net);

	for (int i = 0; i < 10; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		poll(&p, 1, 5);
		virtio_net_complete(net);
	}
}

static void expect_used(unsigned int q, uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert(fake_get_used(&g, q, &id, &l));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

/* A transmit chain on queue q: header h (len hdr_len), then a frame of
 * len bytes of pattern seed, split into two descriptors. */
static uint16_t add_tx_on(unsigned int q, const struct virtio_net_hdr_v1 *h,
			  unsigned int hdr_len, size_t len, uint8_t seed)
{
	uint64_t hg = fake_alloc_guarded(&g, hdr_len);
	uint64_t fg = fake_alloc_guarded(&g, len);
	uint8_t *f = fake_ptr(&g, fg);
	struct fake_seg s[3] = {
		{ hg, hdr_len, false },
		{ fg, len / 2, false },
		{ fg + len / 2, len - len / 2, false },
	};

	memcpy(fake_ptr(&g, hg), h, hdr_len);
	for (size_t i = 0; i < len; i++)
		f[i] = seed + i;
	return fake_add_chain(&g, q, s, 3);
}

static uint16_t add_tx(const struct virtio_net_hdr_v1 *h, unsigned int hdr_len,
		       size_t len, uint8_t seed)
{
	return add_tx_on(VNET_TXQ, h, hdr_len, len, seed);
}

/* A receive buffer of len bytes on queue q; returns its gpa. */
static uint64_t add_rx_on(unsigned int q, size_t len, uint16_t *head)
{
	uint64_t gpa = fake_alloc_guarded(&g, len);
	struct fake_seg s = { gpa, len, true };

	memset(fake_ptr(&g, gpa), 0xee, len);
	*head = fake_add_chain(&g, q, &s, 1);
	return gpa;
}

static uint64_t add_rx(size_t len, uint16_t *head)
{
	return add_rx_on(VNET_RXQ, len, head);
}

/* The host side of fd writes one datagram: header h and len bytes of seed. */
static void host_send_on(int fd, const struct virtio_net_hdr_v1 *h, size_t len,
			 uint8_t seed)
{
	static uint8_t buf[70000];

	memcpy(buf, h, HDR);
	for (size_t i = 0; i < len; i++)
		buf[HDR + i] = seed + i;
	ck_assert_int_eq(send(fd, buf, HDR + len, 0), (ssize_t)(HDR + len));
}

static void host_send(const struct virtio_net_hdr_v1 *h, size_t len, uint8_t seed)
{
	host_send_on(sv[1], h, len, seed);
}

static void check_pattern(const uint8_t *p, size_t len, uint8_t seed, size_t from)
{
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(p[i] == (uint8_t)(seed + from + i),
			      "byte %zu: %#x", from + i, p[i]);
}

/* ---- header rules ---------------------------------------------------------- */

START_TEST(test_offered)
{
	uint64_t f = vnet_offered(VNET_OFFLOADS);

	ck_assert(f & BIT(VIRTIO_NET_F_MAC));
	ck_assert(f & BIT(VIRTIO_NET_F_STATUS));
	ck_assert(f & F_MRG);
	ck_assert(f & BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	ck_assert((f & VNET_OFFLOADS) == VNET_OFFLOADS);
	ck_assert(!(f & BIT(VIRTIO_NET_F_MQ)));
	ck_assert(!(f & BIT(VIRTIO_NET_F_HOST_UFO)));
	ck_assert(vnet_features_ok(f));
	/* Nothing a backend cannot take; TSO never without its CSUM. */
	f = vnet_offered(0);
	ck_assert(!(f & VNET_OFFLOADS));
	ck_assert(!(f & BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)));
	f = vnet_offered(F_HTSO4 | F_GTSO4 | BIT(VIRTIO_NET_F_GUEST_ECN));
	ck_assert(!(f & VNET_OFFLOADS));
	ck_assert(vnet_features_ok(vnet_offered(F_CSUM | F_HTSO4)));
}
END_TEST

START_TEST(test_features_ok)
{
	ck_assert(vnet_features_ok(0));
	ck_assert(vnet_features_ok(F_CSUM | F_HTSO4));
	ck_assert(!vnet_features_ok(F_HTSO4));
	ck_assert(!vnet_features_ok(F_GTSO4));
	ck_assert(!vnet_features_ok(F_GCSUM | BIT(VIRTIO_NET_F_GUEST_ECN)));
	ck_assert(!vnet_features_ok(F_CSUM | BIT(VIRTIO_NET_F_HOST_ECN)));
	ck_assert(!vnet_features_ok(BIT(VIRTIO_NET_F_CTRL_RX)));
	ck_assert(!vnet_features_ok(BIT(VIRTIO_NET_F_CTRL_MAC_ADDR)));
	ck_assert(vnet_features_ok(F_CTRL));
	/* MQ needs the control queue: it is how the pairs are chosen. */
	ck_assert(!vnet_features_ok(BIT(VIRTIO_NET_F_MQ)));
	ck_assert(vnet_features_ok(F_CTRL | BIT(VIRTIO_NET_F_MQ)));
}
END_TEST

START_TEST(test_hdr_len_and_tun)
{
	ck_assert_uint_eq(vnet_hdr_len(BIT(VIRTIO_F_VERSION_1)), 12);
	ck_assert_uint_eq(vnet_hdr_len(F_MRG), 12);
	ck_assert_uint_eq(vnet_hdr_len(0), 10);	/* legacy */
	ck_assert_uint_eq(vnet_tun_offloads(0), 0);
	/* TSO the guest cannot take without a checksum offload. */
	ck_assert_uint_eq(vnet_tun_offloads(F_GTSO4), 0);
	ck_assert_uint_eq(vnet_tun_offloads(F_GCSUM), TUN_F_CSUM);
	ck_assert_uint_eq(vnet_tun_offloads(F_GCSUM | F_GTSO4 | BIT(VIRTIO_NET_F_GUEST_TSO6) |
					    BIT(VIRTIO_NET_F_GUEST_ECN)),
			  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN);
	/* Host offloads are what the guest sends: not the tap's business. */
	ck_assert_uint_eq(vnet_tun_offloads(F_CSUM | F_HTSO4), 0);
	ck_assert_uint_eq(vnet_rx_frame_max(0), VNET_FRAME_MTU);
	ck_assert_uint_eq(vnet_rx_frame_max(F_GCSUM | F_GTSO4), VNET_FRAME_GSO);
}
END_TEST

/* A chain of one header segment and one frame segment, in test memory. */
static uint8_t chain_buf[2][70000];
static struct virtq_chain chain;

static void make_chain(const struct virtio_net_hdr_v1 *h, unsigned int hdr_len,
		       size_t frame)
{
	memset(&chain, 0, sizeof(chain));
	memcpy(chain_buf[0], h, hdr_len);
	chain.iov[0] = (struct iovec){ chain_buf[0], hdr_len };
	chain.iov[1] = (struct iovec){ chain_buf[1], frame };
	chain.nr_out = frame ? 2 : 1;
	chain.out_len = hdr_len + frame;
}

static const char *tx_check(const struct virtio_net_hdr_v1 *h, size_t frame,
			    uint64_t f)
{
	struct virtio_net_hdr_v1 out;

	make_chain(h, HDR, frame);
	return vnet_tx_check(&chain, HDR, f, &out);
}

START_TEST(test_tx_check)
{
	struct virtio_net_hdr_v1 h = { 0 }, out;
	uint64_t all = F_CSUM | F_HTSO4 | BIT(VIRTIO_NET_F_HOST_TSO6) |
		       BIT(VIRTIO_NET_F_HOST_ECN);

	ck_assert_ptr_null(tx_check(&h, 60, 0));
	ck_assert_ptr_null(tx_check(&h, VNET_FRAME_MIN, 0));
	ck_assert_ptr_null(tx_check(&h, VNET_FRAME_GSO, 0));
	ck_assert_ptr_nonnull(tx_check(&h, VNET_FRAME_MIN - 1, 0));
	ck_assert_ptr_nonnull(tx_check(&h, VNET_FRAME_GSO + 1, 0));
	/* The header split over two segments is still a header. */
	make_chain(&h, HDR, 60);
	chain.iov[0].iov_len = 5;
	chain.iov[1] = (struct iovec){ chain_buf[0] + 5, HDR - 5 };
	chain.iov[2] = (struct iovec){ chain_buf[1], 60 };
	chain.nr_out = 3;
	ck_assert_ptr_null(vnet_tx_check(&chain, HDR, 0, &out));
	/* Short header; writable segments; a chain virtq_pop() refused. */
	make_chain(&h, 8, 0);
	ck_assert_ptr_nonnull(vnet_tx_check(&chain, HDR, 0, &out));
	make_chain(&h, HDR, 60);
	chain.nr_in = 1;
	chain.in_len = 10;
	ck_assert_ptr_nonnull(vnet_tx_check(&chain, HDR, 0, &out));
	make_chain(&h, HDR, 60);
	chain.err = -E2BIG;
	ck_assert_ptr_nonnull(vnet_tx_check(&chain, HDR, 0, &out));

	/* Flags: DATA_VALID is the device's; NEEDS_CSUM needs CSUM and a
	 * field inside the frame. */
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	ck_assert_ptr_nonnull(tx_check(&h, 60, all));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = htole16(34);
	h.csum_offset = htole16(16);
	ck_assert_ptr_nonnull(tx_check(&h, 60, 0));
	ck_assert_ptr_null(tx_check(&h, 60, F_CSUM));
	ck_assert_ptr_null(tx_check(&h, 52, F_CSUM));
	ck_assert_ptr_nonnull(tx_check(&h, 51, F_CSUM));
	h.csum_start = htole16(0xffff);
	h.csum_offset = htole16(0xffff);
	ck_assert_ptr_nonnull(tx_check(&h, 60, F_CSUM));

	/* GSO: negotiated type, a partial checksum, a segment size. */
	h.csum_start = htole16(34);
	h.csum_offset = htole16(16);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = htole16(1448);
	ck_assert_ptr_null(tx_check(&h, 3000, all));
	ck_assert_ptr_nonnull(tx_check(&h, 3000, F_CSUM));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	ck_assert_ptr_null(tx_check(&h, 3000, all));
	ck_assert_ptr_nonnull(tx_check(&h, 3000, F_CSUM | F_HTSO4));
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ck_assert_ptr_nonnull(tx_check(&h, 3000, all));
	h.gso_type = 2;
	ck_assert_ptr_nonnull(tx_check(&h, 3000, all));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	ck_assert_ptr_null(tx_check(&h, 3000, all));
	h.gso_size = 0;
	ck_assert_ptr_nonnull(tx_check(&h, 3000, all));
	h.gso_size = htole16(1448);
	h.flags = 0;
	ck_assert_ptr_nonnull(tx_check(&h, 3000, all));
	h.gso_type = VIRTIO_NET_HDR_GSO_ECN;
	ck_assert_ptr_nonnull(tx_check(&h, 3000, all));
}
END_TEST

START_TEST(test_rx_account)
{
	const uint32_t lens[] = { 1536, 1536, 100, 4096 };
	uint32_t used[4] = { 0 };

	ck_assert_uint_eq(vnet_rx_account(lens, 4, 0, used), 0);
	ck_assert_uint_eq(vnet_rx_account(lens, 4, 60, used), 1);
	ck_assert_uint_eq(used[0], 60);
	ck_assert_uint_eq(vnet_rx_account(lens, 4, 1536, used), 1);
	ck_assert_uint_eq(vnet_rx_account(lens, 4, 1537, used), 2);
	ck_assert_uint_eq(used[1], 1);
	ck_assert_uint_eq(vnet_rx_account(lens, 4, 3172, used), 3);
	ck_assert_uint_eq(used[0] + used[1] + used[2], 3172);
	ck_assert_uint_eq(vnet_rx_account(lens, 4, 3173, used), 4);
	ck_assert_uint_eq(used[3], 1);
	ck_assert_uint_eq(used[2], 100);
	ck_assert_uint_eq(vnet_rx_account(lens, 4, 1536 * 2 + 100 + 4096, used), 4);
	ck_assert_uint_eq(used[3], 4096);
}
END_TEST

START_TEST(test_iov_copy)
{
	uint8_t a[3], b[5], out[8] = { 0 };
	const uint8_t src[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };

	ck_assert_uint_eq(virtq_iov_from_buf(iov, 2, 0, src, 8), 8);
	ck_assert_uint_eq(virtq_iov_to_buf(out, iov, 2, 2, 4), 4);
	ck_assert_mem_eq(out, src + 2, 4);
	/* Past the end: only what is there. */
	ck_assert_uint_eq(virtq_iov_to_buf(out, iov, 2, 6, 8), 2);
	ck_assert_uint_eq(virtq_iov_from_buf(iov, 2, 9, src, 1), 0);
}
END_TEST

/* ---- control commands -------------------------------------------------------- */

static uint8_t cmd_buf[4096];

static uint8_t ctrl(struct vnet_ctrl_state *st, uint64_t f, const uint8_t *cmd,
		    size_t len)
{
	/* Split after the class byte: commands may come in any framing. */
	struct iovec iov[2] = { { cmd_buf, 1 }, { cmd_buf + 1, len - 1 } };

	memcpy(cmd_buf, cmd, len);
	return vnet_ctrl_cmd(st, f, iov, 2, len);
}

START_TEST(test_ctrl_rx)
{
	struct vnet_ctrl_state st = { 0 };
	const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	const uint8_t allmulti[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1 };
	const uint8_t two[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1, 0 };
	const uint8_t bad[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 2 };
	const uint8_t nouni[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOUNI, 1 };
	const uint8_t vlan[] = { VIRTIO_NET_CTRL_VLAN, 0, 1, 0 };

	ck_assert_uint_eq(ctrl(&st, 0, promisc, 3), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, promisc, 3), VIRTIO_NET_OK);
	ck_assert(st.promisc);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, allmulti, 3), VIRTIO_NET_OK);
	ck_assert(st.allmulti);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, two, 4), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, bad, 3), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, nouni, 3), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, vlan, 4), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, promisc, 1), VIRTIO_NET_ERR);
}
END_TEST

/* MAC_TABLE_SET with uc and mc entries (MACs 02:00:00:00:00:i). */
static size_t mac_table(uint8_t *p, uint32_t uc, uint32_t mc, uint32_t uc_claim)
{
	size_t n = 0;
	uint32_t v;

	p[n++] = VIRTIO_NET_CTRL_MAC;
	p[n++] = VIRTIO_NET_CTRL_MAC_TABLE_SET;
	v = htole32(uc_claim);
	memcpy(p + n, &v, 4);
	n += 4;
	for (uint32_t i = 0; i < uc; i++, n += 6)
		memcpy(p + n, (uint8_t[6]){ 2, 0, 0, 0, 0, i }, 6);
	v = htole32(mc);
	memcpy(p + n, &v, 4);
	n += 4;
	for (uint32_t i = 0; i < mc; i++, n += 6)
		memcpy(p + n, (uint8_t[6]){ 1, 0, 0x5e, 0, 0, i }, 6);
	return n;
}

START_TEST(test_ctrl_mac)
{
	static uint8_t p[2048];
	struct vnet_ctrl_state st = { 0 };
	const uint8_t set[] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
				2, 1, 2, 3, 4, 5 };
	const uint8_t group[] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
				  3, 1, 2, 3, 4, 5 };
	size_t n = mac_table(p, 2, 3, 2);

	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, n), VIRTIO_NET_OK);
	ck_assert_uint_eq(st.uc_entries, 2);
	ck_assert_uint_eq(st.mc_entries, 3);
	ck_assert_uint_eq(st.mc[2][5], 2);
	ck_assert(!st.uc_overflow && !st.mc_overflow);
	/* A count that claims more than the command holds; trailing bytes;
	 * a table cut short. Nothing changes. */
	n = mac_table(p, 2, 3, 5);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, n), VIRTIO_NET_ERR);
	n = mac_table(p, 2, 3, 0xffffffff);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, n), VIRTIO_NET_ERR);
	n = mac_table(p, 2, 3, 2);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, n + 1), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, n - 1), VIRTIO_NET_ERR);
	ck_assert_uint_eq(st.mc_entries, 3);
	/* More than the device keeps: accepted, marked. */
	n = mac_table(p, 100, 70, 100);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, n), VIRTIO_NET_OK);
	ck_assert(st.uc_overflow && st.mc_overflow);
	ck_assert_uint_eq(st.uc_entries, 100);

	ck_assert_uint_eq(ctrl(&st, F_CTRL, set, sizeof(set)), VIRTIO_NET_OK);
	ck_assert_mem_eq(st.mac, set + 2, 6);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, group, sizeof(group)), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, F_CTRL, set, sizeof(set) - 1), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, BIT(VIRTIO_NET_F_CTRL_VQ), set, sizeof(set)),
			  VIRTIO_NET_ERR);
}
END_TEST

START_TEST(test_ctrl_offloads)
{
	struct vnet_ctrl_state st = { 0 };
	uint64_t f = F_CTRL | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | F_GCSUM | F_GTSO4;
	uint8_t p[10] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET };
	uint64_t o = htole64(F_GCSUM);

	memcpy(p + 2, &o, 8);
	ck_assert_uint_eq(ctrl(&st, f, p, 10), VIRTIO_NET_OK);
	ck_assert_uint_eq(st.guest_offloads, F_GCSUM);
	ck_assert(st.offloads_changed);
	/* Not negotiated; against the rules (TSO without CSUM). */
	o = htole64(F_GCSUM | BIT(VIRTIO_NET_F_GUEST_TSO6));
	memcpy(p + 2, &o, 8);
	ck_assert_uint_eq(ctrl(&st, f, p, 10), VIRTIO_NET_ERR);
	o = htole64(F_GTSO4);
	memcpy(p + 2, &o, 8);
	ck_assert_uint_eq(ctrl(&st, f, p, 10), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, f & ~BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS), p, 10),
			  VIRTIO_NET_ERR);
}
END_TEST

/* VQ_PAIRS_SET: with MQ only, a le16 of 1..max_pairs, nothing else. */
START_TEST(test_ctrl_mq)
{
	const uint64_t f = F_CTRL | BIT(VIRTIO_NET_F_MQ);
	uint8_t p[4] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 3, 0 };
	struct vnet_ctrl_state st = { .max_pairs = 4, .pairs = 1 };

	ck_assert_uint_eq(ctrl(&st, F_CTRL, p, 4), VIRTIO_NET_ERR);	/* no MQ */
	ck_assert_uint_eq(st.pairs, 1);
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_OK);
	ck_assert_uint_eq(st.pairs, 3);
	ck_assert(st.pairs_changed);
	st.pairs_changed = false;
	p[2] = 4;
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_OK);
	ck_assert_uint_eq(st.pairs, 4);
	/* Beyond the device's pairs, none, or 2^16 - 1: refused, st kept. */
	st.pairs_changed = false;
	p[2] = 5;
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_ERR);
	p[2] = 0;
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_ERR);
	p[2] = 0xff;
	p[3] = 0xff;
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_ERR);
	p[2] = 1;
	p[3] = 1;			/* 257 */
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_ERR);
	ck_assert_uint_eq(st.pairs, 4);
	ck_assert(!st.pairs_changed);
	/* Short, long, and the RSS and hash commands (not offered). */
	p[3] = 0;
	ck_assert_uint_eq(ctrl(&st, f, p, 3), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, f, (const uint8_t[]){ VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 1, 0, 0 }, 5),
			  VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, f, (const uint8_t[]){ VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_RSS_CONFIG, 1, 0 }, 4), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, f, (const uint8_t[]){ VIRTIO_NET_CTRL_MQ,
				VIRTIO_NET_CTRL_MQ_HASH_CONFIG, 1, 0 }, 4), VIRTIO_NET_ERR);
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_OK);
	ck_assert_uint_eq(st.pairs, 1);
	/* A one-pair device (max_pairs 1) takes 1 only. */
	st.max_pairs = 1;
	p[2] = 2;
	ck_assert_uint_eq(ctrl(&st, f, p, 4), VIRTIO_NET_ERR);
}
END_TEST

/* ---- the device on an fd ---------------------------------------------------- */

START_TEST(test_net_config)
{
	uint8_t cfg[sizeof(struct virtio_net_config)];

	new_fd_net(VNET_OFFLOADS);
	ck_assert_uint_eq(net->ops->device_id, VIRTIO_ID_NET);
	ck_assert_uint_eq(net->ops->nr_queues, 3);
	net->ops->config_read(net, 0, cfg, sizeof(cfg));
	ck_assert_mem_eq(cfg, test_mac, 6);
	ck_assert_uint_eq(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
	/* Modern drivers do not write the MAC into the config space. */
	start(F_MRG);
	net->ops->config_write(net, 0, (const uint8_t *)"\x02\x02\x02", 3);
	net->ops->config_read(net, 0, cfg, 6);
	ck_assert_mem_eq(cfg, test_mac, 6);
	ck_assert_uint_eq(seen.configured, 1);
	ck_assert_uint_eq(seen.hdr_len, 12);
}
END_TEST

START_TEST(test_net_features_refused)
{
	new_fd_net(VNET_OFFLOADS);
	fake_attach(&g, net);
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	net->features = F_GTSO4 | BIT(VIRTIO_F_VERSION_1);
	ck_assert(!fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				   VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK));
}
END_TEST

START_TEST(test_net_tx)
{
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(34),
				       .csum_offset = htole16(6) };
	uint8_t buf[2048];
	struct vnet_stats st;
	uint16_t head;

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG | F_CSUM);
	head = add_tx(&h, HDR, 1000, 7);
	fake_kick(&g, net, VNET_TXQ);
	run(VNET_TXQ, 1);
	expect_used(VNET_TXQ, head, 0);
	/* The frame, with its header as the guest wrote it. */
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), 0), HDR + 1000);
	ck_assert_mem_eq(buf, &h, HDR);
	check_pattern(buf + HDR, 1000, 7, 0);
	virtio_net_stats(net, &st);
	ck_assert_uint_eq(st.tx_packets, 1);
	ck_assert_uint_eq(st.tx_bytes, 1000);
	ck_assert_uint_eq(st.tx_dropped, 0);
}
END_TEST

START_TEST(test_net_tx_malformed)
{
	struct virtio_net_hdr_v1 bad = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					 .gso_size = htole16(1448) };
	struct virtio_net_hdr_v1 ok = { 0 };
	uint8_t buf[2048];
	struct vnet_stats st;
	uint16_t h1, h2, h3;
	uint64_t w = fake_alloc_guarded(&g, 100);
	struct fake_seg s[2] = { { w, HDR, false }, { w + HDR, 60, true } };

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG);
	h1 = add_tx(&bad, HDR, 1000, 1);	/* TSO not negotiated */
	h2 = fake_add_chain(&g, VNET_TXQ, s, 2);	/* writable part */
	h3 = add_tx(&ok, HDR, 60, 3);
	fake_kick(&g, net, VNET_TXQ);
	run(VNET_TXQ, 3);
	/* The bad ones went back at once, the good one after its write. */
	expect_used(VNET_TXQ, h1, 0);
	expect_used(VNET_TXQ, h2, 0);
	expect_used(VNET_TXQ, h3, 0);
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), 0), HDR + 60);
	check_pattern(buf + HDR, 60, 3, 0);
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	virtio_net_stats(net, &st);
	ck_assert_uint_eq(st.tx_dropped, 2);
	ck_assert_uint_eq(st.tx_packets, 1);
}
END_TEST

/*
 * The guest rewrites the header after the device checked it, while the
 * write waits for room on the tap: the tap gets the header as checked.
 */
START_TEST(test_net_tx_sends_checked_header)
{
	struct virtio_net_hdr_v1 h = { 0 };
	struct virtio_net_hdr_v1 bad = { .flags = 0xff, .gso_type = 0x7f,
					 .csum_start = htole16(0xffff),
					 .csum_offset = htole16(0xffff) };
	uint64_t hg = fake_alloc_guarded(&g, HDR);
	uint64_t fg = fake_alloc_guarded(&g, 60);
	struct fake_seg s[2] = { { hg, HDR, false }, { fg, 60, false } };
	uint8_t buf[2048], one = 0;
	unsigned int filled = 0;

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG);
	/* The "tap" full: what the device writes waits for room. */
	while (send(sv[0], &one, 1, MSG_DONTWAIT) == 1)
		filled++;
	ck_assert_uint_gt(filled, 0);
	memcpy(fake_ptr(&g, hg), &h, HDR);
	memset(fake_ptr(&g, fg), 0x5a, 60);
	fake_add_chain(&g, VNET_TXQ, s, 2);
	fake_kick(&g, net, VNET_TXQ);
	settle();
	ck_assert_uint_eq(fake_used_idx(&g, VNET_TXQ), 0);	/* still waiting */
	memcpy(fake_ptr(&g, hg), &bad, HDR);
	/* Room again: the host side reads the filler. */
	while (filled--)
		ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 1);
	run(VNET_TXQ, 1);
	ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), HDR + 60);
	ck_assert_mem_eq(buf, &h, HDR);
}
END_TEST

START_TEST(test_net_tx_many)
{
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t buf[256];

	new_fd_net(0);
	start(F_MRG);
	/* More than the device has slots: it throttles, then goes on. */
	for (unsigned int i = 0; i < 80; i++)
		add_tx(&h, HDR, 64, i);
	fake_kick(&g, net, VNET_TXQ);
	run(VNET_TXQ, 80);
	for (unsigned int i = 0; i < 80; i++) {
		uint32_t id, len;

		ck_assert(fake_get_used(&g, VNET_TXQ, &id, &len));
		ck_assert_uint_eq(len, 0);
		ck_assert_int_eq(recv(sv[1], buf, sizeof(buf), 0), HDR + 64);
		check_pattern(buf + HDR, 64, i, 0);
	}
}
END_TEST

START_TEST(test_net_rx_one)
{
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_DATA_VALID };
	struct virtio_net_hdr_v1 got;
	struct vnet_stats st;
	uint16_t head;
	uint64_t gpa;

	new_fd_net(VNET_OFFLOADS);
	start(0);			/* no MRG_RXBUF: one buffer a frame */
	gpa = add_rx(HDR + VNET_FRAME_MTU, &head);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	host_send(&h, 1400, 9);
	run(VNET_RXQ, 1);
	expect_used(VNET_RXQ, head, HDR + 1400);
	memcpy(&got, fake_ptr(&g, gpa), HDR);
	ck_assert_uint_eq(got.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	ck_assert_uint_eq(le16toh(got.num_buffers), 1);
	check_pattern(fake_ptr(&g, gpa + HDR), 1400, 9, 0);
	fake_check_guards(&g, gpa, HDR + VNET_FRAME_MTU);
	virtio_net_stats(net, &st);
	ck_assert_uint_eq(st.rx_packets, 1);
	ck_assert_uint_eq(st.rx_bytes, 1400);
	ck_assert(g.interrupts > 0);
}
END_TEST

/* MRG_RXBUF with GSO: a 3000-byte frame in 1 KiB buffers takes three,
 * the next frame starts in the fourth. */
START_TEST(test_net_rx_merge)
{
	struct virtio_net_hdr_v1 h = { 0 }, got;
	uint16_t heads[80];
	uint64_t gpa[80];
	uint32_t id, len;

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG | F_GCSUM | F_GTSO4);
	ck_assert_uint_eq(seen.features & (F_GCSUM | F_GTSO4), F_GCSUM | F_GTSO4);
	for (unsigned int i = 0; i < 80; i++)
		gpa[i] = add_rx(1024, &heads[i]);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	host_send(&h, 3000, 1);
	run(VNET_RXQ, 3);
	memcpy(&got, fake_ptr(&g, gpa[0]), HDR);
	ck_assert_uint_eq(le16toh(got.num_buffers), 3);
	for (unsigned int i = 0; i < 3; i++) {
		ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
		ck_assert_uint_eq(id, heads[i]);
		ck_assert_uint_eq(len, i < 2 ? 1024 : HDR + 3000 - 2048);
	}
	check_pattern(fake_ptr(&g, gpa[0] + HDR), 1024 - HDR, 1, 0);
	check_pattern(fake_ptr(&g, gpa[1]), 1024, 1, 1024 - HDR);
	host_send(&h, 100, 5);
	run(VNET_RXQ, 4);
	expect_used(VNET_RXQ, heads[3], HDR + 100);
	memcpy(&got, fake_ptr(&g, gpa[3]), HDR);
	ck_assert_uint_eq(le16toh(got.num_buffers), 1);
	check_pattern(fake_ptr(&g, gpa[3] + HDR), 100, 5, 0);
	for (unsigned int i = 0; i < 80; i++)
		fake_check_guards(&g, gpa[i], 1024);
}
END_TEST

/* No buffers: frames wait in the "tap", none is lost, none is read. */
START_TEST(test_net_rx_flow_control)
{
	struct virtio_net_hdr_v1 h = { 0 };
	uint16_t heads[20];
	uint64_t gpa[20];
	struct vnet_stats st;

	new_fd_net(0);
	start(F_MRG);
	for (unsigned int i = 0; i < 10; i++)
		host_send(&h, 60 + i, i);
	settle();
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ), 0);
	/* The device asked for a kick when buffers come. */
	for (unsigned int i = 0; i < 20; i++)
		gpa[i] = add_rx(2048, &heads[i]);
	ck_assert(fake_kick_wanted(&g, VNET_RXQ));
	fake_kick(&g, net, VNET_RXQ);
	run(VNET_RXQ, 10);
	for (unsigned int i = 0; i < 10; i++) {
		uint32_t id, len;

		ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
		ck_assert_uint_eq(len, HDR + 60 + i);
		/* In order, whichever buffer each took. */
		for (unsigned int j = 0; j < 20; j++)
			if (heads[j] == id)
				check_pattern(fake_ptr(&g, gpa[j] + HDR), 60 + i, i, 0);
	}
	virtio_net_stats(net, &st);
	ck_assert_uint_eq(st.rx_packets, 10);
	ck_assert_uint_eq(st.rx_dropped, 0);
}
END_TEST

/* Once reset returns, nothing lands in guest memory. */
START_TEST(test_net_reset_in_flight)
{
	struct virtio_net_hdr_v1 h = { 0 };
	uint16_t head;
	uint64_t gpa;
	const uint8_t *p;

	new_fd_net(0);
	start(F_MRG);
	gpa = add_rx(4096, &head);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	ck_assert(fake_set_status(net, 0));
	host_send(&h, 100, 1);
	usleep(20000);
	p = fake_ptr(&g, gpa);
	for (unsigned int i = 0; i < 4096; i++)
		ck_assert_uint_eq(p[i], 0xee);
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ), 0);
	/* And the device comes back: the frame goes to the new driver. */
	start(F_MRG);
	gpa = add_rx(4096, &head);
	fake_kick(&g, net, VNET_RXQ);
	run(VNET_RXQ, 1);
	expect_used(VNET_RXQ, head, HDR + 100);
	check_pattern(fake_ptr(&g, gpa + HDR), 100, 1, 0);
}
END_TEST

/* The first queue pair's engine. */
static struct vnet *vnet_of(void)
{
	return ((struct vnet_nic *)net->priv)->pairs[0];
}

/* This kernel (the hosts kvmini is tested on run 5.19 or later) cancels
 * everything at once; what a probe's answers make of the device. */
START_TEST(test_net_cancel_mode)
{
	struct unit_capture cap;
	char *err;

	new_fd_net(0);
	ck_assert(vnet_of()->cancel_any);
	unit_capture_begin(&cap, 2);
	ck_assert_int_eq(vnet_cancel_mode(vnet_of(), 0), 0);
	ck_assert(!vnet_of()->cancel_any);
	ck_assert_int_eq(vnet_cancel_mode(vnet_of(), 1), 0);
	ck_assert(vnet_of()->cancel_any);
	ck_assert_int_eq(vnet_cancel_mode(vnet_of(), -EACCES), -EACCES);
	err = unit_capture_end(&cap);
	/* The failed probe is one error line; the fallback says nothing
	 * without --verbose. */
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_ptr_nonnull(strstr(err, "cancel"));
	free(err);
}
END_TEST

/*
 * An older kernel's reset: no cancel of everything at once, so each
 * operation and each poll is cancelled by its tag. An idle receive and
 * writes waiting for room (the host does not read) wait in the kernel;
 * two more writes wait behind polls of ours for POLLOUT, as a kernel
 * that answers EAGAIN gets them. All must end, or the reset would hang.
 */
START_TEST(test_net_reset_cancel_one_by_one)
{
	static uint8_t frame[HDR + 64];
	struct iovec iov = { frame, sizeof(frame) };
	struct virtio_net_hdr_v1 h = { 0 };
	struct vnet *n;
	uint8_t buf[2048];
	uint16_t head;
	uint64_t gpa;

	int small = 4096;

	new_fd_net(0);
	n = vnet_of();
	ck_assert_int_eq(vnet_cancel_mode(n, 0), 0);
	/* Room for a few frames: the rest of the writes wait. */
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	start(F_MRG);
	gpa = add_rx(4096, &head);
	fake_kick(&g, net, VNET_RXQ);
	for (unsigned int i = 0; i < 30; i++)
		add_tx(&h, HDR, 1000, i);
	fake_kick(&g, net, VNET_TXQ);
	settle();
	ck_assert_uint_lt(fake_used_idx(&g, VNET_TXQ), 30);
	/* The two polls, on slots the device has not used. */
	for (unsigned int i = 0; i < 2; i++) {
		struct vnet_tx_slot *s = n->tx_free;

		ck_assert_ptr_nonnull(s);
		n->tx_free = s->next_free;
		ck_assert(vnet_submit_rw(n, true, &iov, 1, true, s));
	}
	pthread_mutex_lock(&net->lock);
	vnet_pump(n);
	pthread_mutex_unlock(&net->lock);
	ck_assert_uint_eq(n->nr_polls, 2);
	ck_assert_uint_ge(n->nr_inflight, 4);
	ck_assert(fake_set_status(net, 0));
	ck_assert_uint_eq(n->nr_inflight, 0);
	ck_assert_uint_eq(n->nr_polls, 0);
	/* Nothing lands after the reset. */
	while (recv(sv[1], buf, sizeof(buf), 0) > 0)
		;
	host_send(&h, 100, 1);
	usleep(20000);
	for (unsigned int i = 0; i < 4096; i++)
		ck_assert_uint_eq(((const uint8_t *)fake_ptr(&g, gpa))[i], 0xee);
	/* And the device comes back. */
	start(F_MRG);
	gpa = add_rx(4096, &head);
	fake_kick(&g, net, VNET_RXQ);
	run(VNET_RXQ, 1);
	expect_used(VNET_RXQ, head, HDR + 100);
	check_pattern(fake_ptr(&g, gpa + HDR), 100, 1, 0);
}
END_TEST

/* Buffers the device cannot use go back empty; more than the queue
 * holds breaks the device. */
START_TEST(test_net_rx_hostile)
{
	uint64_t gpa = fake_alloc_guarded(&g, 100);
	struct fake_seg ro[2] = { { gpa, 50, false }, { gpa + 50, 50, true } };
	struct fake_seg tiny = { gpa, 4, true };
	uint16_t h1, h2, head;

	new_fd_net(VNET_OFFLOADS);
	/* GUEST_TSO4: a read wants 64 KiB of buffers, more than the
	 * small ones below ever add up to, so the device pops them all. */
	start(F_MRG | F_GCSUM | F_GTSO4);
	h1 = fake_add_chain(&g, VNET_RXQ, ro, 2);
	h2 = fake_add_chain(&g, VNET_RXQ, &tiny, 1);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	expect_used(VNET_RXQ, h1, 0);
	expect_used(VNET_RXQ, h2, 0);
	ck_assert(net->active);
	/* The same small buffer posted over and over: the read waits for
	 * a queue's worth, then one more is one too many. */
	add_rx(16, &head);
	for (unsigned int i = 1; i < QSIZE; i++)
		fake_add_head(&g, VNET_RXQ, head);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	ck_assert(net->active);
	fake_add_head(&g, VNET_RXQ, head);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	ck_assert(!net->active);
	ck_assert(net->broken);
}
END_TEST

/*
 * Drivers that re-post what the device gives straight back (a malformed
 * frame, a buffer too small for a header) as soon as it takes it: a kick
 * ends after a bounded number of chains and asks for another turn, which
 * goes on where it stopped; the device stays up.
 */
START_TEST(test_net_tx_reposting_bounded)
{
	uint64_t w = fake_alloc_guarded(&g, 100);
	struct fake_seg s[2] = { { w, HDR, false }, { w + HDR, 60, true } };
	uint16_t head, used, pending;
	struct vnet_stats st;

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG);
	head = fake_add_chain(&g, VNET_TXQ, s, 2);	/* writable part */
	ck_assert_msg(fake_kick_reposting(&g, net, VNET_TXQ, head, 2000),
		      "one kick kept the I/O thread while the driver re-posted");
	used = fake_used_idx(&g, VNET_TXQ);
	ck_assert_uint_le(used, QSIZE);
	ck_assert_uint_ge(g.requeues[VNET_TXQ], 1);
	ck_assert(net->active);
	pending = g.q[VNET_TXQ].avail_idx - net->vqs[VNET_TXQ].last_avail;
	ck_assert_uint_gt(pending, 0);
	fake_kick(&g, net, VNET_TXQ);
	ck_assert_uint_eq(fake_used_idx(&g, VNET_TXQ), (uint16_t)(used + pending));
	virtio_net_stats(net, &st);
	ck_assert_uint_eq(st.tx_packets, 0);
}
END_TEST

START_TEST(test_net_rx_reposting_bounded)
{
	uint64_t gpa = fake_alloc_guarded(&g, 4);
	struct fake_seg tiny = { gpa, 4, true };
	uint16_t head, used, pending;

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG);
	head = fake_add_chain(&g, VNET_RXQ, &tiny, 1);
	ck_assert_msg(fake_kick_reposting(&g, net, VNET_RXQ, head, 2000),
		      "one kick kept the I/O thread while the driver re-posted");
	/* The kick fills the reads, then once more after its submit. */
	used = fake_used_idx(&g, VNET_RXQ);
	ck_assert_uint_le(used, 2 * QSIZE);
	ck_assert_uint_ge(g.requeues[VNET_RXQ], 1);
	ck_assert(net->active);
	pending = g.q[VNET_RXQ].avail_idx - net->vqs[VNET_RXQ].last_avail;
	ck_assert_uint_gt(pending, 0);
	fake_kick(&g, net, VNET_RXQ);
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ), (uint16_t)(used + pending));
	fake_check_guards(&g, gpa, 4);
}
END_TEST

static bool cb_rx_ok;

static void cb_receive(void *arg)
{
	static const uint8_t frame[100];

	(void)arg;
	cb_rx_ok = virtio_net_receive(net, frame, sizeof(frame));
}

/* --net user's path: a frame waits for buffers while the driver re-posts
 * an unusable one; the frame is refused for now, and the requeued kick
 * asks the backend for it again (rx_space). */
START_TEST(test_net_cb_rx_reposting_bounded)
{
	uint64_t gpa = fake_alloc_guarded(&g, 4);
	struct fake_seg tiny = { gpa, 4, true };
	uint16_t head, used, pending;
	unsigned int space;

	new_cb_net();
	start(F_MRG);
	head = fake_add_chain(&g, VNET_RXQ, &tiny, 1);
	ck_assert_msg(fake_run_reposting(&g, net, VNET_RXQ, head, cb_receive,
					 NULL, 2000),
		      "one frame kept the I/O thread while the driver re-posted");
	ck_assert(!cb_rx_ok);
	used = fake_used_idx(&g, VNET_RXQ);
	ck_assert_uint_le(used, QSIZE);
	ck_assert_uint_eq(g.requeues[VNET_RXQ], 1);
	ck_assert(net->active);
	space = seen.rx_space;
	pending = g.q[VNET_RXQ].avail_idx - net->vqs[VNET_RXQ].last_avail;
	ck_assert_uint_gt(pending, 0);
	fake_kick(&g, net, VNET_RXQ);		/* the requeued turn */
	ck_assert_uint_eq(seen.rx_space, space + 1);
	fake_check_guards(&g, gpa, 4);
}
END_TEST

START_TEST(test_net_configure_fails)
{
	new_fd_net(0);
	seen.configure_err = -EIO;
	fake_attach(&g, net);
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	net->features = BIT(VIRTIO_F_VERSION_1);
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK));
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK));
	ck_assert(!net->active);
	ck_assert(net->broken);
}
END_TEST

/* ---- the control queue --------------------------------------------------------- */

static uint8_t ctrl_cmd_on(unsigned int q, const uint8_t *cmd, size_t len)
{
	uint64_t c = fake_alloc_guarded(&g, len), ack = fake_alloc_guarded(&g, 1);
	struct fake_seg s[2] = { { c, len, false }, { ack, 1, true } };
	uint16_t head;

	memcpy(fake_ptr(&g, c), cmd, len);
	*(uint8_t *)fake_ptr(&g, ack) = 0xee;
	head = fake_add_chain(&g, q, s, 2);
	fake_kick(&g, net, q);
	expect_used(q, head, 1);
	fake_check_guards(&g, ack, 1);
	return *(uint8_t *)fake_ptr(&g, ack);
}

static uint8_t ctrl_cmd(const uint8_t *cmd, size_t len)
{
	return ctrl_cmd_on(VNET_CTRLQ, cmd, len);
}

START_TEST(test_net_ctrl_queue)
{
	const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	const uint8_t set[] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
				2, 9, 8, 7, 6, 5 };
	uint8_t off[10] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			    VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET };
	struct vnet_ctrl_state st;
	uint8_t mac[6];

	new_fd_net(VNET_OFFLOADS);
	start(F_MRG | F_CTRL | F_GCSUM | F_GTSO4 | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	ck_assert_uint_eq(ctrl_cmd(promisc, sizeof(promisc)), VIRTIO_NET_OK);
	ck_assert_uint_eq(ctrl_cmd(set, sizeof(set)), VIRTIO_NET_OK);
	virtio_net_ctrl_state(net, &st);
	ck_assert(st.promisc);
	net->ops->config_read(net, 0, mac, 6);
	ck_assert_mem_eq(mac, set + 2, 6);
	/* Offloads off: the backend hears of it. */
	ck_assert_uint_eq(ctrl_cmd(off, sizeof(off)), VIRTIO_NET_OK);
	ck_assert_uint_eq(seen.configured, 2);
	ck_assert_uint_eq(seen.features & (F_GCSUM | F_GTSO4), 0);
	ck_assert_uint_eq(ctrl_cmd(off, 3), VIRTIO_NET_ERR);
	/* A reset brings the configured MAC back. */
	ck_assert(fake_set_status(net, 0));
	net->ops->config_read(net, 0, mac, 6);
	ck_assert_mem_eq(mac, test_mac, 6);
}
END_TEST

START_TEST(test_net_ctrl_no_ack)
{
	const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	uint64_t c = fake_alloc_guarded(&g, 3);
	struct fake_seg s = { c, 3, false };
	uint16_t head;

	new_fd_net(0);
	start(F_CTRL);
	memcpy(fake_ptr(&g, c), promisc, 3);
	head = fake_add_chain(&g, VNET_CTRLQ, &s, 1);
	fake_kick(&g, net, VNET_CTRLQ);
	expect_used(VNET_CTRLQ, head, 0);
	ck_assert(net->active);
}
END_TEST

/* ---- callback backends ------------------------------------------------------------ */

/* ---- queue pairs (VIRTIO_NET_F_MQ) ------------------------------------------------ */

/* Queue numbers, and which backends get pairs: a multi-queue fd backend
 * with a descriptor for each, no other. */
START_TEST(test_net_mq_numbering)
{
	struct vnet_backend be = { .nr_pairs = 2 };
	uint8_t cfg[sizeof(struct virtio_net_config)];
	const size_t mqp = offsetof(struct virtio_net_config, max_virtqueue_pairs);

	ck_assert_uint_eq(VNET_RXQ_OF(0), 0);
	ck_assert_uint_eq(VNET_TXQ_OF(0), 1);
	ck_assert_uint_eq(VNET_RXQ_OF(2), 4);
	ck_assert_uint_eq(VNET_TXQ_OF(2), 5);
	ck_assert_uint_eq(VNET_CTRLQ_OF(3), 6);
	ck_assert_uint_eq(VNET_NR_QUEUES_OF(3), 7);
	ck_assert_uint_eq(VNET_CTRLQ, 2);

	/* Two pairs: five queues, MQ offered, max_virtqueue_pairs 2. */
	new_mq_net();
	ck_assert_uint_eq(net->ops->nr_queues, 5);
	ck_assert(net->ops->features & BIT(VIRTIO_NET_F_MQ));
	net->ops->config_read(net, 0, cfg, sizeof(cfg));
	ck_assert_uint_eq(cfg[mqp] | cfg[mqp + 1] << 8, 2);
	virtio_dev_exit(net);
	free(net);
	net = NULL;

	/* One pair: today's device exactly, no MQ. */
	new_fd_net(0);
	ck_assert_uint_eq(net->ops->nr_queues, VNET_NR_QUEUES);
	ck_assert(!(net->ops->features & BIT(VIRTIO_NET_F_MQ)));
	net->ops->config_read(net, 0, cfg, sizeof(cfg));
	ck_assert_uint_eq(cfg[mqp] | cfg[mqp + 1] << 8, 1);
	virtio_dev_exit(net);
	free(net);
	net = NULL;

	/* A backend whose descriptors do not add up gets one pair. */
	be.fd = be.qfd[0] = sv[0];
	be.qfd[1] = -1;
	net = virtio_net_new(&g.mem, &be, test_mac, NULL, 0);
	ck_assert_ptr_nonnull(net);
	ck_assert_uint_eq(net->ops->nr_queues, VNET_NR_QUEUES);
	virtio_dev_exit(net);
	free(net);
	net = NULL;
	be.fd = -1;		/* a callback backend */
	be.qfd[1] = sv[0];
	net = virtio_net_new(&g.mem, &be, test_mac, NULL, 0);
	ck_assert_ptr_nonnull(net);
	ck_assert_uint_eq(net->ops->nr_queues, VNET_NR_QUEUES);
}
END_TEST

/* Without MQ negotiated a two-pair device works on its first pair only. */
START_TEST(test_net_mq_not_negotiated)
{
	const uint8_t two[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0 };
	struct virtio_net_hdr_v1 h = { 0 };
	uint16_t head;

	new_mq_net();
	start(F_MRG | F_CTRL);
	ck_assert_uint_eq(virtio_net_pairs(net), 1);
	ck_assert_uint_eq(ctrl_cmd_on(VNET_CTRLQ_OF(2), two, sizeof(two)), VIRTIO_NET_ERR);
	ck_assert_uint_eq(virtio_net_pairs(net), 1);
	add_rx_on(VNET_RXQ_OF(1), 2048, &head);
	fake_kick(&g, net, VNET_RXQ_OF(1));
	host_send_on(sv2[1], &h, 100, 1);
	settle();
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ_OF(1)), 0);
	/* MQ without the control queue is refused at FEATURES_OK. */
	ck_assert(fake_set_status(net, 0));
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	ck_assert(fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	net->features = BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_F_VERSION_1);
	fake_set_status(net, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK);
	ck_assert(!(net->status & VIRTIO_CONFIG_S_FEATURES_OK));
}
END_TEST

/*
 * Two pairs: the driver starts on one, asks for two, traffic goes over
 * the second pair's descriptor both ways; more pairs than there are is
 * refused; back to one, the second pair neither receives nor sends; a
 * reset with a read in flight on the second pair returns.
 */
START_TEST(test_net_mq)
{
	const unsigned int cq = VNET_CTRLQ_OF(2);
	uint8_t pairs[] = { VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 2, 0 };
	struct virtio_net_hdr_v1 h = { 0 };
	static uint8_t buf[2048];
	struct vnet_stats st;
	uint16_t rx1, tx1;
	uint64_t gpa;

	new_mq_net();
	start(F_MRG | F_CTRL | BIT(VIRTIO_NET_F_MQ));
	ck_assert_uint_eq(virtio_net_pairs(net), 1);
	ck_assert_uint_eq(seen.set_pairs, 1);		/* at DRIVER_OK */
	ck_assert_uint_eq(seen.pairs, 1);

	/* Pair 1 receives nothing before the driver asks for it. */
	gpa = add_rx_on(VNET_RXQ_OF(1), 2048, &rx1);
	fake_kick(&g, net, VNET_RXQ_OF(1));
	host_send_on(sv2[1], &h, 100, 7);
	settle();
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ_OF(1)), 0);

	ck_assert_uint_eq(ctrl_cmd_on(cq, pairs, sizeof(pairs)), VIRTIO_NET_OK);
	ck_assert_uint_eq(seen.pairs, 2);
	ck_assert_uint_eq(virtio_net_pairs(net), 2);
	run(VNET_RXQ_OF(1), 1);
	expect_used(VNET_RXQ_OF(1), rx1, HDR + 100);
	check_pattern((uint8_t *)fake_ptr(&g, gpa) + HDR, 100, 7, 0);
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ_OF(0)), 0);

	/* Pair 1's frames leave by its own descriptor. */
	tx1 = add_tx_on(VNET_TXQ_OF(1), &h, HDR, 60, 3);
	fake_kick(&g, net, VNET_TXQ_OF(1));
	run(VNET_TXQ_OF(1), 1);
	expect_used(VNET_TXQ_OF(1), tx1, 0);
	ck_assert_int_eq(recv(sv2[1], buf, sizeof(buf), MSG_DONTWAIT), HDR + 60);
	check_pattern(buf + HDR, 60, 3, 0);
	ck_assert_int_lt(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);

	/* Three pairs, or none: refused, two stay. */
	pairs[2] = 3;
	ck_assert_uint_eq(ctrl_cmd_on(cq, pairs, sizeof(pairs)), VIRTIO_NET_ERR);
	pairs[2] = 0;
	ck_assert_uint_eq(ctrl_cmd_on(cq, pairs, sizeof(pairs)), VIRTIO_NET_ERR);
	ck_assert_uint_eq(virtio_net_pairs(net), 2);
	ck_assert_uint_eq(seen.set_pairs, 2);

	/* Back to one: pair 1's posted buffer waits, its frames do not go. */
	add_rx_on(VNET_RXQ_OF(1), 2048, &rx1);
	fake_kick(&g, net, VNET_RXQ_OF(1));
	settle();
	pairs[2] = 1;
	ck_assert_uint_eq(ctrl_cmd_on(cq, pairs, sizeof(pairs)), VIRTIO_NET_OK);
	ck_assert_uint_eq(seen.pairs, 1);
	ck_assert_uint_eq(virtio_net_pairs(net), 1);
	host_send_on(sv2[1], &h, 80, 9);
	settle();
	ck_assert_uint_eq(fake_used_idx(&g, VNET_RXQ_OF(1)), 1);
	tx1 = add_tx_on(VNET_TXQ_OF(1), &h, HDR, 60, 3);
	fake_kick(&g, net, VNET_TXQ_OF(1));
	expect_used(VNET_TXQ_OF(1), tx1, 0);
	ck_assert_int_lt(recv(sv2[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	virtio_net_stats(net, &st);
	ck_assert_uint_eq(st.tx_dropped, 1);
	ck_assert_uint_eq(st.tx_packets, 1);

	/* Two again: the frame that waited arrives in the buffer that did. */
	pairs[2] = 2;
	ck_assert_uint_eq(ctrl_cmd_on(cq, pairs, sizeof(pairs)), VIRTIO_NET_OK);
	run(VNET_RXQ_OF(1), 2);
	expect_used(VNET_RXQ_OF(1), rx1, HDR + 80);

	/* A reset while pair 1 has a read waiting returns; one pair after. */
	add_rx_on(VNET_RXQ_OF(1), 2048, &rx1);
	fake_kick(&g, net, VNET_RXQ_OF(1));
	settle();
	ck_assert(fake_set_status(net, 0));
	ck_assert_uint_eq(virtio_net_pairs(net), 1);
	start(F_MRG | F_CTRL | BIT(VIRTIO_NET_F_MQ));
	ck_assert_uint_eq(virtio_net_pairs(net), 1);
	ck_assert_uint_eq(seen.pairs, 1);
}
END_TEST

/* A snapshot of a multi-queue NIC is refused, not half taken. */
START_TEST(test_net_mq_no_snapshot)
{
	struct sbuf b = { 0 };

	new_mq_net();
	start(F_MRG | F_CTRL | BIT(VIRTIO_NET_F_MQ));
	ck_assert_int_eq(net->ops->save(net, &b), -ENOTSUP);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_net_cb_tx)
{
	struct virtio_net_hdr_v1 h = { 0 };
	uint16_t head;

	new_cb_net();
	/* No offloads for a backend that takes frames complete. */
	ck_assert(!(net->host_features & VNET_OFFLOADS));
	start(F_MRG);
	head = add_tx(&h, HDR, 300, 4);
	fake_kick(&g, net, VNET_TXQ);
	expect_used(VNET_TXQ, head, 0);
	ck_assert_uint_eq(seen.transmitted, 1);
	ck_assert_uint_eq(seen.frame_len, 300);
	check_pattern(seen.frame, 300, 4, 0);
	/* A partial checksum was not negotiated: dropped. */
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	head = add_tx(&h, HDR, 300, 4);
	fake_kick(&g, net, VNET_TXQ);
	expect_used(VNET_TXQ, head, 0);
	ck_assert_uint_eq(seen.transmitted, 1);
}
END_TEST

START_TEST(test_net_cb_rx)
{
	uint8_t frame[3000];
	struct virtio_net_hdr_v1 got;
	uint16_t heads[4];
	uint64_t gpa[4];
	uint32_t id, len;

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = 3 + i;
	new_cb_net();
	ck_assert(!virtio_net_receive(net, frame, 100));	/* not running */
	start(F_MRG);
	ck_assert_uint_eq(seen.rx_space, 1);	/* refused before: told at start */
	ck_assert(!virtio_net_receive(net, frame, 100));	/* no buffers */
	for (unsigned int i = 0; i < 2; i++)
		gpa[i] = add_rx(700, &heads[i]);
	ck_assert(fake_kick_wanted(&g, VNET_RXQ));
	fake_kick(&g, net, VNET_RXQ);
	ck_assert_uint_eq(seen.rx_space, 2);
	/* Too big for what is posted: refused, the buffers kept. */
	ck_assert(!virtio_net_receive(net, frame, 1500));
	ck_assert(virtio_net_receive(net, frame, 1000));
	memset(&got, 0xff, sizeof(got));
	memcpy(&got, fake_ptr(&g, gpa[0]), HDR);
	ck_assert_uint_eq(got.flags, 0);
	ck_assert_uint_eq(got.gso_type, 0);
	ck_assert_uint_eq(le16toh(got.num_buffers), 2);
	ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
	ck_assert_uint_eq(id, heads[0]);
	ck_assert_uint_eq(len, 700);
	ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
	ck_assert_uint_eq(len, HDR + 1000 - 700);
	check_pattern(fake_ptr(&g, gpa[0] + HDR), 700 - HDR, 3, 0);
	check_pattern(fake_ptr(&g, gpa[1]), HDR + 1000 - 700, 3, 700 - HDR);
	fake_check_guards(&g, gpa[0], 700);
	fake_check_guards(&g, gpa[1], 700);
	/* Longer than any frame may be: dropped, not refused (a refused
	 * frame waits for rx_space, which would never come for it). */
	gpa[2] = add_rx(70000, &heads[2]);
	ck_assert(virtio_net_receive(net, frame, VNET_FRAME_MTU + 1));
	ck_assert(!fake_get_used(&g, VNET_RXQ, &id, &len));
	fake_check_guards(&g, gpa[2], 70000);
	/* The buffer is still there for a frame that fits. */
	ck_assert(virtio_net_receive(net, frame, 200));
	ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
	ck_assert_uint_eq(id, heads[2]);
	ck_assert_uint_eq(len, HDR + 200);
}
END_TEST


/* ---- snapshots ---------------------------------------------------------------- */

/* Quiesce and save net, then a fresh device on the same backend (the
 * restore's tap or user network) with every cut of the blob refused
 * and then the whole of it loaded. */
static void net_restore(const struct vnet_backend *be, struct sbuf *b)
{
	struct sbuf_rd r;

	pthread_mutex_lock(&net->lock);
	virtio_dev_quiesce(net);
	ck_assert_int_eq(virtio_dev_save(net, b), 0);
	pthread_mutex_unlock(&net->lock);
	ck_assert_uint_eq(virtq_outstanding(&net->vqs[VNET_RXQ]), 0);
	virtio_dev_exit(net);
	free(net);
	net = virtio_net_new(&g.mem, be, test_mac, NULL, 0);
	ck_assert_ptr_nonnull(net);
	fake_attach(&g, net);
	for (size_t n = 0; n < b->len; n++) {
		sbuf_rd_init(&r, b->data, n);
		ck_assert_int_eq(virtio_dev_load(net, &r), -EINVAL);
	}
	seen.configured = 0;
	sbuf_rd_init(&r, b->data, b->len);
	pthread_mutex_lock(&net->lock);
	ck_assert_int_eq(virtio_dev_load(net, &r), 0);
	pthread_mutex_unlock(&net->lock);
	ck_assert(sbuf_rd_done(&r));
	ck_assert(net->active);
}

/*
 * A tap with a read waiting over the guest's first buffer and a frame
 * sent: the read is cancelled, the buffers go back to the ring, and
 * after the restore the next frame lands in that first buffer; the
 * control state and the offloads the driver set stay, and the backend
 * is configured with them.
 */
START_TEST(test_net_state_fd)
{
	const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	uint8_t off[10] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
			    VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET };
	uint64_t f = F_CTRL | F_GCSUM | F_GTSO4 | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	struct virtio_net_hdr_v1 h = { 0 };
	struct vnet_backend be = {
		.fd = -1, .offloads = VNET_OFFLOADS, .configure = fake_configure,
	};
	struct vnet_ctrl_state st;
	struct sbuf blob = { 0 };
	uint16_t ha, hb;
	uint64_t gpa;

	new_fd_net(VNET_OFFLOADS);
	be.fd = sv[0];
	start(f);
	ck_assert_uint_eq(ctrl_cmd(promisc, sizeof(promisc)), VIRTIO_NET_OK);
	ck_assert_uint_eq(ctrl_cmd(off, sizeof(off)), VIRTIO_NET_OK);
	add_tx(&h, HDR, 100, 1);
	fake_kick(&g, net, VNET_TXQ);
	run(VNET_TXQ, 1);
	gpa = add_rx(HDR + VNET_FRAME_GSO, &ha);
	add_rx(HDR + VNET_FRAME_GSO, &hb);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	ck_assert_uint_gt(virtq_outstanding(&net->vqs[VNET_RXQ]), 0);

	net_restore(&be, &blob);
	ck_assert_uint_eq(seen.configured, 1);
	ck_assert_uint_eq(seen.features & (F_GCSUM | F_GTSO4), 0);
	virtio_net_ctrl_state(net, &st);
	ck_assert(st.promisc);
	ck_assert_uint_eq(st.guest_offloads, 0);
	fake_kick(&g, net, VNET_RXQ);
	settle();
	host_send(&h, 1400, 9);
	run(VNET_RXQ, 1);
	expect_used(VNET_RXQ, ha, HDR + 1400);
	check_pattern(fake_ptr(&g, gpa + HDR), 1400, 9, 0);
	add_tx(&h, HDR, 100, 1);
	fake_kick(&g, net, VNET_TXQ);
	run(VNET_TXQ, 2);

	/* Offloads the driver never negotiated: the blob's last field. */
	sbuf_free(&blob);
	pthread_mutex_lock(&net->lock);
	virtio_dev_quiesce(net);
	ck_assert_int_eq(virtio_dev_save(net, &blob), 0);
	pthread_mutex_unlock(&net->lock);
	blob.data[blob.len - 7] = 1 << (VIRTIO_NET_F_GUEST_TSO6 - 8);
	{
		struct sbuf_rd r;

		sbuf_rd_init(&r, blob.data, blob.len);
		ck_assert_int_eq(virtio_dev_load(net, &r), -EINVAL);
		ck_assert(!net->active);
	}
	sbuf_free(&blob);
}
END_TEST

/* User networking: buffers popped for a frame that did not fit go back
 * to the ring; the next frame after the restore starts in the first. */
START_TEST(test_net_state_cb)
{
	struct vnet_backend be = {
		.fd = -1, .offloads = VNET_OFFLOADS, .transmit = fake_transmit,
		.rx_space = fake_rx_space,
	};
	uint8_t frame[1000];
	struct sbuf blob = { 0 };
	uint16_t heads[2];
	uint32_t id, len;

	memset(frame, 7, sizeof(frame));
	new_cb_net();
	start(F_MRG);
	for (unsigned int i = 0; i < 2; i++)
		add_rx(700, &heads[i]);
	fake_kick(&g, net, VNET_RXQ);
	ck_assert(!virtio_net_receive(net, frame, 1500));
	net_restore(&be, &blob);
	ck_assert(virtio_net_receive(net, frame, 1000));
	ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
	ck_assert_uint_eq(id, heads[0]);
	ck_assert_uint_eq(len, 700);
	ck_assert(fake_get_used(&g, VNET_RXQ, &id, &len));
	ck_assert_uint_eq(id, heads[1]);
	sbuf_free(&blob);
}
END_TEST

static Suite *virtio_net_suite(void)
{
	Suite *s = suite_create("virtio_net");
	TCase *hdr = tcase_create("hdr");
	TCase *dev = tcase_create("device");

	tcase_add_test(hdr, test_offered);
	tcase_add_test(hdr, test_features_ok);
	tcase_add_test(hdr, test_hdr_len_and_tun);
	tcase_add_test(hdr, test_tx_check);
	tcase_add_test(hdr, test_rx_account);
	tcase_add_test(hdr, test_iov_copy);
	tcase_add_test(hdr, test_ctrl_rx);
	tcase_add_test(hdr, test_ctrl_mac);
	tcase_add_test(hdr, test_ctrl_offloads);
	tcase_add_test(hdr, test_ctrl_mq);
	suite_add_tcase(s, hdr);

	tcase_add_checked_fixture(dev, setup, teardown);
	tcase_set_timeout(dev, 30);
	tcase_add_test(dev, test_net_config);
	tcase_add_test(dev, test_net_features_refused);
	tcase_add_test(dev, test_net_tx);
	tcase_add_test(dev, test_net_tx_malformed);
	tcase_add_test(dev, test_net_tx_many);
	tcase_add_test(dev, test_net_tx_sends_checked_header);
	tcase_add_test(dev, test_net_rx_one);
	tcase_add_test(dev, test_net_rx_merge);
	tcase_add_test(dev, test_net_rx_flow_control);
	tcase_add_test(dev, test_net_reset_in_flight);
	tcase_add_test(dev, test_net_cancel_mode);
	tcase_add_test(dev, test_net_reset_cancel_one_by_one);
	tcase_add_test(dev, test_net_rx_hostile);
	tcase_add_test(dev, test_net_tx_reposting_bounded);
	tcase_add_test(dev, test_net_rx_reposting_bounded);
	tcase_add_test(dev, test_net_cb_rx_reposting_bounded);
	tcase_add_test(dev, test_net_configure_fails);
	tcase_add_test(dev, test_net_ctrl_queue);
	tcase_add_test(dev, test_net_ctrl_no_ack);
	tcase_add_test(dev, test_net_mq_numbering);
	tcase_add_test(dev, test_net_mq_not_negotiated);
	tcase_add_test(dev, test_net_mq);
	tcase_add_test(dev, test_net_mq_no_snapshot);
	tcase_add_test(dev, test_net_cb_tx);
	tcase_add_test(dev, test_net_cb_rx);
	tcase_add_test(dev, test_net_state_fd);
	tcase_add_test(dev, test_net_state_cb);
	suite_add_tcase(s, dev);
	return s;
}

UNIT_SUITE(virtio_net_suite)
