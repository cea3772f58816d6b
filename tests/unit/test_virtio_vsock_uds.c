// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock's Unix-socket host side (backend/vsock_uds.c) with the
 * device and a fake guest: the guest's connects to PATH_PORT, the
 * CONNECT/OK handshake on PATH, and what the listener refuses.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "fake_virtq.h"
#include "backend/vsock_uds.h"
#include "lib/evloop.h"
#include "virtio/devices.h"
#include "virtio/vsock.h"
#include "virtio/vsock_backend.h"

#define GUEST_CID	3
#define QSIZE		16
#define RXQ		0
#define TXQ		1

static struct fake_guest g;
static struct virtio_dev *dev;
static struct evloop loop;
static struct vsock_uds *uds;
static char dir[64], path[96];
static uint64_t rx_gpa[QSIZE];

static void spin(void)
{
	for (int i = 0; i < 8; i++)
		evloop_run_once(&loop, 0);
}

static void start(const char *p)
{
	struct vsock_backend be;

	uds = vsock_uds_new(p, &loop, &be);
	ck_assert_ptr_nonnull(uds);
	dev = virtio_vsock_new(&g.mem, GUEST_CID, &be, &loop);
	ck_assert_ptr_nonnull(dev);
	vsock_uds_attach(uds, dev);
	fake_driver_start(&g, dev, 0, QSIZE);
}

static void setup(void)
{
	fake_guest_init(&g);
	ck_assert_int_eq(evloop_init(&loop), 0);
	snprintf(dir, sizeof(dir), "/tmp/kvmini-vsock-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/v.sock", dir);
	dev = NULL;
	uds = NULL;
}

static void teardown(void)
{
	char cmd[128];

	if (dev) {
		virtio_dev_exit(dev);	/* frees uds too */
		free(dev);
	}
	evloop_exit(&loop);
	fake_guest_exit(&g);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int listen_at(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

static int connect_to(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_pkt(uint16_t op, uint32_t src_port, uint32_t dst_port,
		     const void *data, uint32_t len)
{
	struct vsock_hdr h = {
		.src_cid = GUEST_CID, .dst_cid = 2, .src_port = src_port,
		.dst_port = dst_port, .len = len, .type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op, .buf_alloc = 65536,
	};
	uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN + len, 8);
	struct fake_seg seg = { gpa, VSOCK_HDR_LEN + len, false };

	vsock_hdr_encode(&h, fake_ptr(&g, gpa));
	if (len)
		memcpy((uint8_t *)fake_ptr(&g, gpa) + VSOCK_HDR_LEN, data, len);
	fake_add_chain(&g, TXQ, &seg, 1);
	fake_kick(&g, dev, TXQ);
}

static void post_rx(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = fake_alloc(&g, VSOCK_HDR_LEN + 4096, 8);
		struct fake_seg seg = { gpa, VSOCK_HDR_LEN + 4096, true };

		rx_gpa[fake_add_chain(&g, RXQ, &seg, 1)] = gpa;
	}
	fake_kick(&g, dev, RXQ);
}

/* The next packet's op and ports; data gets the payload. */
static bool get_rx(uint16_t *op, uint32_t *src_port, uint32_t *dst_port,
		   char *data)
{
	struct virtio_vsock_hdr raw;
	uint32_t id, len;

	if (!fake_get_used(&g, RXQ, &id, &len))
		return false;
	memcpy(&raw, fake_ptr(&g, rx_gpa[id]), sizeof(raw));
	*op = le16toh(raw.op);
	*src_port = le32toh(raw.src_port);
	*dst_port = le32toh(raw.dst_port);
	if (data)
		memcpy(data, (uint8_t *)fake_ptr(&g, rx_gpa[id]) + VSOCK_HDR_LEN,
		       le32toh(raw.len));
	return true;
}

START_TEST(test_uds_guest_connects)
{
	char p[128], buf[16];
	uint16_t op;
	uint32_t sp, dp;
	int lfd, afd;

	start(path);
	snprintf(p, sizeof(p), "%s_5000", path);
	lfd = listen_at(p);
	post_rx(4);
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1000, 5000, NULL, 0);
	ck_assert(get_rx(&op, &sp, &dp, NULL));
	ck_assert_uint_eq(op, VIRTIO_VSOCK_OP_RESPONSE);
	ck_assert_uint_eq(sp, 5000);
	ck_assert_uint_eq(dp, 1000);
	afd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(afd, 0);
	send_pkt(VIRTIO_VSOCK_OP_RW, 1000, 5000, "abc", 3);
	ck_assert_int_eq(read(afd, buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "abc", 3);
	/* Nobody on port 5001: a reset. */
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1001, 5001, NULL, 0);
	ck_assert(get_rx(&op, &sp, &dp, NULL));
	ck_assert_uint_eq(op, VIRTIO_VSOCK_OP_RST);
	ck_assert_uint_eq(sp, 5001);
	close(afd);
	close(lfd);
}
END_TEST

START_TEST(test_uds_host_connects)
{
	char buf[64], want[32];
	uint16_t op;
	uint32_t sp, dp;
	int fd;

	start(path);
	post_rx(4);
	fd = connect_to(path);
	/* The line may come in pieces, and data may follow it at once. */
	ck_assert_int_eq(write(fd, "CONN", 4), 4);
	spin();
	ck_assert_int_eq(write(fd, "ECT 52\nhi", 9), 9);
	spin();
	ck_assert(get_rx(&op, &sp, &dp, NULL));
	ck_assert_uint_eq(op, VIRTIO_VSOCK_OP_REQUEST);
	ck_assert_uint_eq(dp, 52);
	send_pkt(VIRTIO_VSOCK_OP_RESPONSE, 52, sp, NULL, 0);
	snprintf(want, sizeof(want), "OK %u\n", sp);
	ck_assert_int_eq(read(fd, buf, strlen(want)), strlen(want));
	ck_assert_mem_eq(buf, want, strlen(want));
	spin();
	ck_assert(get_rx(&op, &sp, &dp, buf));
	ck_assert_uint_eq(op, VIRTIO_VSOCK_OP_RW);
	ck_assert_mem_eq(buf, "hi", 2);
	close(fd);
}
END_TEST

START_TEST(test_uds_bad_lines)
{
	static const char *const bad[] = {
		"connect 5\n", "CONNECT\n", "CONNECT \n", "CONNECT 5x\n",
		"CONNECT 4294967296\n", "CONNECT -1\n",
		"CONNECT 1234567890123456789012345678901234567890\n",
	};
	uint16_t op;
	uint32_t sp, dp;
	ssize_t n;
	char c;

	start(path);
	post_rx(4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = connect_to(path);

		ck_assert_int_eq(write(fd, bad[i], strlen(bad[i])), strlen(bad[i]));
		spin();
		/* Closed; with the rest of a long line unread, by a reset. */
		n = read(fd, &c, 1);
		ck_assert(n == 0 || (n < 0 && errno == ECONNRESET));
		close(fd);
	}
	ck_assert(!get_rx(&op, &sp, &dp, NULL));
}
END_TEST

/* More half-open clients than allowed: the ones past the limit are
 * closed, the first ones still work. */
START_TEST(test_uds_pending_limit)
{
	int fd[VSOCK_UDS_PENDING_MAX + 1];
	char c;

	start(path);
	for (unsigned int i = 0; i <= VSOCK_UDS_PENDING_MAX; i++) {
		fd[i] = connect_to(path);
		spin();
	}
	ck_assert_int_eq(read(fd[VSOCK_UDS_PENDING_MAX], &c, 1), 0);
	ck_assert_int_eq(fcntl(fd[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(read(fd[0], &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	for (unsigned int i = 0; i <= VSOCK_UDS_PENDING_MAX; i++)
		close(fd[i]);
}
END_TEST

START_TEST(test_uds_stale_and_taken)
{
	struct vsock_backend be;
	struct unit_capture c;
	char *err;
	int lfd, fd;

	/* A socket nobody listens on is replaced. */
	lfd = listen_at(path);
	close(lfd);
	start(path);
	fd = connect_to(path);
	close(fd);
	/* One somebody listens on (this very one) is not. */
	unit_capture_begin(&c, STDERR_FILENO);
	ck_assert_ptr_null(vsock_uds_new(path, &loop, &be));
	err = unit_capture_end(&c);
	ck_assert_ptr_nonnull(strstr(err, "another program listens there"));
	free(err);
}
END_TEST

START_TEST(test_uds_not_a_socket)
{
	struct vsock_backend be;
	struct unit_capture c;
	char *err;
	int fd = open(path, O_CREAT | O_WRONLY, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unit_capture_begin(&c, STDERR_FILENO);
	ck_assert_ptr_null(vsock_uds_new(path, &loop, &be));
	err = unit_capture_end(&c);
	ck_assert_ptr_nonnull(strstr(err, "not a socket"));
	ck_assert_uint_eq(unit_count_lines(err), 1);
	free(err);
}
END_TEST

START_TEST(test_uds_none)
{
	uint16_t op;
	uint32_t sp, dp;

	start(NULL);
	post_rx(4);
	send_pkt(VIRTIO_VSOCK_OP_REQUEST, 1000, 5000, NULL, 0);
	ck_assert(get_rx(&op, &sp, &dp, NULL));
	ck_assert_uint_eq(op, VIRTIO_VSOCK_OP_RST);
}
END_TEST

static Suite *vsock_uds_suite(void)
{
	Suite *s = suite_create("virtio_vsock_uds");
	TCase *tc = tcase_create("uds");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_uds_guest_connects);
	tcase_add_test(tc, test_uds_host_connects);
	tcase_add_test(tc, test_uds_bad_lines);
	tcase_add_test(tc, test_uds_pending_limit);
	tcase_add_test(tc, test_uds_stale_and_taken);
	tcase_add_test(tc, test_uds_not_a_socket);
	tcase_add_test(tc, test_uds_none);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(vsock_uds_suite)
