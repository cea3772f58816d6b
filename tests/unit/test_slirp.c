// SPDX-License-Identifier: GPL-2.0
/*
 * --net user's backend (backend/slirp.c) with libslirp behind it and the
 * event loop driving it: frames go in through the backend's transmit, as
 * the device would hand them over, and come back through the delivery
 * seam. Only 127.0.0.1 is ever touched (the hostfwd ports); DHCP and ARP
 * are answered inside libslirp.
 */
#ifdef KVMINI_HAVE_SLIRP
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "virtio/devices.h"
#include "lib/config.h"
#include "lib/evloop.h"
#include "backend/slirp.h"

#define MAX_FRAMES	(SLIRP_NET_BACKLOG + 16)

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct evloop loop;
static struct slirp_net *net;
static const struct vnet_backend *be;
static struct {
	uint8_t data[SLIRP_NET_FRAME_MAX];
	size_t len;
} frames[MAX_FRAMES];
static unsigned int nr_frames;
static bool refuse;

static bool capture(void *ctx, const void *frame, size_t len)
{
	(void)ctx;
	if (refuse)
		return false;
	ck_assert_uint_lt(nr_frames, MAX_FRAMES);
	ck_assert_uint_le(len, SLIRP_NET_FRAME_MAX);
	memcpy(frames[nr_frames].data, frame, len);
	frames[nr_frames++].len = len;
	return true;
}

static struct slirp_net *start(const struct net_config *cfg)
{
	struct slirp_net *s = slirp_net_new(cfg, &loop);

	if (s) {
		slirp_net_set_deliver(s, capture, NULL);
		be = slirp_net_backend(s);
	}
	return s;
}

static void setup(void)
{
	struct net_config cfg = { .kind = NET_USER };

	ck_assert_int_eq(evloop_init(&loop), 0);
	nr_frames = 0;
	refuse = false;
	net = start(&cfg);
	ck_assert_ptr_nonnull(net);
}

static void teardown(void)
{
	slirp_net_free(net);
	net = NULL;
	evloop_exit(&loop);
}

/* Runs the loop until want frames arrived, for at most 2 s. */
static void run_until(unsigned int want)
{
	for (int i = 0; i < 200 && nr_frames < want; i++)
		evloop_run_once(&loop, 10);
	evloop_run_once(&loop, 0);
}

static void send_frame(const void *frame, size_t len)
{
	struct iovec iov = { .iov_base = (void *)frame, .iov_len = len };

	be->transmit(be->ctx, &iov, 1, len);
}

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static size_t eth_header(uint8_t *f, const uint8_t dst[6], const uint8_t src[6],
			 uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = type >> 8;
	f[13] = type;
	return 14;
}

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* DHCPDISCOVER: 0.0.0.0:68 -> 255.255.255.255:67, no UDP checksum. */
static size_t dhcp_discover(uint8_t *f)
{
	size_t n = eth_header(f, broadcast, guest_mac, 0x0800);
	uint8_t *ip = f + n, *udp = ip + 20, *bootp = udp + 8;
	size_t blen = 236 + 4 + 3 + 1;
	size_t ulen = 8 + blen;
	uint16_t sum;

	memset(ip, 0, 20 + ulen);
	ip[0] = 0x45;
	ip[2] = (20 + ulen) >> 8;
	ip[3] = 20 + ulen;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memset(ip + 16, 0xff, 4);
	sum = ip_csum(ip, 20);
	ip[10] = sum >> 8;
	ip[11] = sum;
	udp[1] = 68;
	udp[3] = 67;
	udp[4] = ulen >> 8;
	udp[5] = ulen;
	bootp[0] = 1;			/* BOOTREQUEST */
	bootp[1] = 1;			/* Ethernet */
	bootp[2] = 6;
	memcpy(bootp + 4, "\x12\x34\x56\x78", 4);	/* xid */
	memcpy(bootp + 28, guest_mac, 6);
	memcpy(bootp + 236, "\x63\x82\x53\x63", 4);	/* magic cookie */
	memcpy(bootp + 240, "\x35\x01\x01\xff", 4);	/* DISCOVER, end */
	return n + 20 + ulen;
}

/* The value of DHCP option code in a reply, or NULL. */
static const uint8_t *dhcp_option(const uint8_t *opt, const uint8_t *end,
				  uint8_t code, uint8_t len)
{
	while (opt < end && *opt != 255) {
		if (*opt == 0) {
			opt++;
			continue;
		}
		if (opt + 2 > end || opt + 2 + opt[1] > end)
			return NULL;
		if (opt[0] == code && opt[1] == len)
			return opt + 2;
		opt += 2 + opt[1];
	}
	return NULL;
}

static uint32_t addr(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void expect_addr(const uint8_t *p, const char *want)
{
	uint32_t a;

	ck_assert_ptr_nonnull(p);
	memcpy(&a, p, 4);
	ck_assert_uint_eq(a, addr(want));
}

START_TEST(dhcp_offer)
{
	uint8_t f[512];
	const uint8_t *ip, *udp, *bootp, *end;

	send_frame(f, dhcp_discover(f));
	run_until(1);
	ck_assert_uint_eq(nr_frames, 1);
	ck_assert_uint_ge(frames[0].len, 14 + 20 + 8 + 240);
	/* Broadcast: the guest has no address to be sent to yet. */
	ck_assert(!memcmp(frames[0].data, broadcast, 6) ||
		  !memcmp(frames[0].data, guest_mac, 6));
	ck_assert_uint_eq(frames[0].data[12] << 8 | frames[0].data[13], 0x0800);
	ip = frames[0].data + 14;
	ck_assert_uint_eq(ip[9], IPPROTO_UDP);
	udp = ip + (ip[0] & 15) * 4;
	ck_assert_uint_eq(udp[0] << 8 | udp[1], 67);
	ck_assert_uint_eq(udp[2] << 8 | udp[3], 68);
	bootp = udp + 8;
	end = frames[0].data + frames[0].len;
	ck_assert_uint_eq(bootp[0], 2);				/* BOOTREPLY */
	ck_assert_mem_eq(bootp + 4, "\x12\x34\x56\x78", 4);
	expect_addr(bootp + 16, "10.0.2.15");			/* yiaddr */
	ck_assert_mem_eq(bootp + 236, "\x63\x82\x53\x63", 4);
	ck_assert_ptr_nonnull(dhcp_option(bootp + 240, end, 53, 1));
	ck_assert_uint_eq(*dhcp_option(bootp + 240, end, 53, 1), 2);	/* OFFER */
	expect_addr(dhcp_option(bootp + 240, end, 3, 4), "10.0.2.2");	/* router */
	expect_addr(dhcp_option(bootp + 240, end, 6, 4), "10.0.2.3");	/* DNS */
	expect_addr(dhcp_option(bootp + 240, end, 1, 4), "255.255.255.0");
}
END_TEST

/* ARP who-has tip tell 10.0.2.15, from a MAC whose last bytes are id. */
static size_t arp_request(uint8_t *f, const char *tip, uint16_t id)
{
	uint8_t mac[6];
	size_t n;
	uint32_t a;

	memcpy(mac, guest_mac, 6);
	mac[4] = id >> 8;
	mac[5] = id;
	n = eth_header(f, broadcast, mac, 0x0806);
	memcpy(f + n, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(f + n + 8, mac, 6);
	a = addr("10.0.2.15");
	memcpy(f + n + 14, &a, 4);
	memset(f + n + 18, 0, 6);
	a = addr(tip);
	memcpy(f + n + 24, &a, 4);
	memset(f + n + 28, 0, 18);	/* padded to the 60-byte minimum */
	return 60;
}

static void expect_arp_reply(unsigned int i, const char *sip, uint16_t id)
{
	const uint8_t *a = frames[i].data + 14;
	uint8_t mac[6];

	memcpy(mac, guest_mac, 6);
	mac[4] = id >> 8;
	mac[5] = id;
	ck_assert_uint_ge(frames[i].len, 14 + 28);
	ck_assert_mem_eq(frames[i].data, mac, 6);
	ck_assert_uint_eq(frames[i].data[12] << 8 | frames[i].data[13], 0x0806);
	ck_assert_uint_eq(a[6] << 8 | a[7], 2);			/* reply */
	expect_addr(a + 14, sip);
	ck_assert_mem_eq(a + 8, "\x52\x55", 2);			/* slirp's own */
	ck_assert_mem_eq(a + 18, mac, 6);
	expect_addr(a + 24, "10.0.2.15");
}

START_TEST(arp_gateway)
{
	uint8_t f[64];

	send_frame(f, arp_request(f, "10.0.2.2", 0x3456));
	run_until(1);
	ck_assert_uint_eq(nr_frames, 1);
	expect_arp_reply(0, "10.0.2.2", 0x3456);
	/* The DNS forwarder's address answers too; others on the net do not. */
	send_frame(f, arp_request(f, "10.0.2.3", 0x3456));
	send_frame(f, arp_request(f, "10.0.2.99", 0x3456));
	run_until(3);
	ck_assert_uint_eq(nr_frames, 2);
	expect_arp_reply(1, "10.0.2.3", 0x3456);
}
END_TEST

/* Guest frames are checked before libslirp sees them. */
START_TEST(tx_bounds)
{
	uint8_t f[SLIRP_NET_FRAME_MAX + 1] = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = f, .iov_len = 30 },
		{ .iov_base = f + 30, .iov_len = 12 },
	};
	struct slirp_net_stats st;

	send_frame(f, 13);
	send_frame(f, SLIRP_NET_FRAME_MAX + 1);
	/* A length beyond the buffers it came in. */
	be->transmit(be->ctx, iov, 2, 60);
	slirp_net_get_stats(net, &st);
	ck_assert_uint_eq(st.tx_dropped, 3);
	/* Split across buffers, the ARP request still gets its answer. */
	arp_request(f, "10.0.2.2", 7);
	iov[1].iov_len = 30;
	be->transmit(be->ctx, iov, 2, 60);
	run_until(1);
	ck_assert_uint_eq(nr_frames, 1);
	expect_arp_reply(0, "10.0.2.2", 7);
	slirp_net_get_stats(net, &st);
	ck_assert_uint_eq(st.tx_dropped, 3);
}
END_TEST

/*
 * A guest that posts no buffers: the backlog holds SLIRP_NET_BACKLOG
 * frames, drops and counts the rest, and delivers what it held in order
 * once the device says there is room.
 */
START_TEST(backlog_bounded)
{
	const unsigned int n = SLIRP_NET_BACKLOG + 10;
	struct slirp_net_stats st;
	uint8_t f[64];

	refuse = true;
	for (unsigned int i = 0; i < n; i++)
		send_frame(f, arp_request(f, "10.0.2.2", i));
	for (int i = 0; i < 3; i++)
		evloop_run_once(&loop, 10);
	ck_assert_uint_eq(nr_frames, 0);
	slirp_net_get_stats(net, &st);
	ck_assert_uint_eq(st.backlog, SLIRP_NET_BACKLOG);
	ck_assert_uint_eq(st.rx_dropped, 10);
	/* Room, but no rx_space yet: nothing is retried. */
	refuse = false;
	evloop_run_once(&loop, 10);
	ck_assert_uint_eq(nr_frames, 0);
	be->rx_space(be->ctx);
	run_until(SLIRP_NET_BACKLOG);
	ck_assert_uint_eq(nr_frames, SLIRP_NET_BACKLOG);
	for (unsigned int i = 0; i < SLIRP_NET_BACKLOG; i++)
		expect_arp_reply(i, "10.0.2.2", i);
	slirp_net_get_stats(net, &st);
	ck_assert_uint_eq(st.backlog, 0);
	ck_assert_uint_eq(st.rx_dropped, 10);
}
END_TEST

/* A free TCP port on 127.0.0.1 (free when we looked). */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint16_t port;

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Whether /proc/net/tcp has a listener on hexaddr:port (e.g. 0100007F). */
static bool listening(const char *hexaddr, uint16_t port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256], want[32];
	bool found = false;

	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "%s:%04X", hexaddr, port);
	while (fgets(line, sizeof(line), f)) {
		char local[32], remote[32];
		unsigned int st;

		if (sscanf(line, " %*d: %31s %31s %x", local, remote, &st) == 3 &&
		    st == 0x0a && !strcmp(local, want))
			found = true;
	}
	fclose(f);
	return found;
}

static void hostfwd_config(struct net_config *cfg, uint16_t port)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->kind = NET_USER;
	cfg->fwd[0].host_port = port;
	cfg->fwd[0].guest_port = 80;
	cfg->nr_fwd = 1;
}

START_TEST(hostfwd_loopback)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct net_config cfg;
	uint16_t port = free_port();
	int fd;

	slirp_net_free(net);
	hostfwd_config(&cfg, port);
	net = start(&cfg);
	ck_assert_ptr_nonnull(net);
	ck_assert(listening("0100007F", port));
	ck_assert(!listening("00000000", port));
	/* A host client: libslirp accepts it from the loop and calls the
	 * guest, whose MAC it asks for first. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	run_until(1);
	ck_assert_uint_ge(nr_frames, 1);
	ck_assert_mem_eq(frames[0].data, broadcast, 6);
	ck_assert_uint_eq(frames[0].data[12] << 8 | frames[0].data[13], 0x0806);
	expect_addr(frames[0].data + 14 + 24, "10.0.2.15");
	close(fd);
}
END_TEST

START_TEST(hostfwd_port_in_use)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct unit_capture cap;
	struct net_config cfg;
	uint16_t port = free_port();
	char *err, want[16];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	hostfwd_config(&cfg, port);
	unit_capture_begin(&cap, STDERR_FILENO);
	ck_assert_ptr_null(slirp_net_new(&cfg, &loop));
	err = unit_capture_end(&cap);
	snprintf(want, sizeof(want), ":%u ", port);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_ptr_nonnull(strstr(err, want));
	ck_assert_ptr_nonnull(strstr(err, "in use"));
	free(err);
	close(fd);
}
END_TEST

static Suite *slirp_suite(void)
{
	Suite *s = suite_create("slirp");
	TCase *tc = tcase_create("user-net");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dhcp_offer);
	tcase_add_test(tc, arp_gateway);
	tcase_add_test(tc, tx_bounds);
	tcase_add_test(tc, backlog_bounded);
	tcase_add_test(tc, hostfwd_loopback);
	tcase_add_test(tc, hostfwd_port_in_use);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(slirp_suite)
#endif
