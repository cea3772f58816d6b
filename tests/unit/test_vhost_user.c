// SPDX-License-Identifier: GPL-2.0
/*
 * The vhost-user frontend against a fake backend on a socketpair: the
 * test queues the backend's replies first (the socket holds them), makes
 * the call, then reads back and checks what the frontend sent. Then the
 * virtio-fs device on the same fake, driven by the fake guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_fs.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "lib/sbuf.h"
#include "fake_virtq.h"
#include "virtio/devices.h"
#include "virtio/vhost_user.h"
#include "lib/evloop.h"

#define F_VERSION_1	(1ULL << VIRTIO_F_VERSION_1)
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_PROTOCOL	(1ULL << VHOST_USER_F_PROTOCOL_FEATURES)
#define P_MQ		(1ULL << VHOST_USER_PROTOCOL_F_MQ)
#define P_REPLY_ACK	(1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK)
#define P_CONFIG	(1ULL << 9)
#define REPLY		(VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY)

static struct vhost_user vu;
static int be;			/* the fake backend's end */

struct msg {
	uint32_t request, flags, size;
	uint8_t payload[VHOST_USER_MAX_PAYLOAD];
	int fds[8];
	unsigned int nfds;
};

static void setup(void)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	vhost_user_init(&vu, sv[0]);
	vu.timeout_ms = 100;
	be = sv[1];
}

static void teardown(void)
{
	vhost_user_close(&vu);
	if (be >= 0)
		close(be);
}

/* The backend writes a raw message: header and payload, maybe an fd. */
static void be_send(uint32_t request, uint32_t flags, uint32_t size,
		    const void *payload, size_t len, int fd)
{
	uint32_t hdr[3] = { request, flags, size };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)payload, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	ck_assert_int_eq(sendmsg(be, &mh, 0), sizeof(hdr) + len);
}

static void be_reply_u64(uint32_t request, uint64_t v)
{
	be_send(request, REPLY, sizeof(v), &v, sizeof(v), -1);
}

/* The next message the frontend sent; fails the test if there is none. */
static void be_recv(struct msg *m)
{
	union {
		char buf[CMSG_SPACE(8 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { m, 12 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n;

	memset(m, 0, sizeof(*m));
	n = recvmsg(be, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	ck_assert_int_eq(n, 12);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		m->nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(m->fds, CMSG_DATA(c), m->nfds * sizeof(int));
	}
	ck_assert_uint_le(m->size, sizeof(m->payload));
	if (m->size)
		ck_assert_int_eq(recv(be, m->payload, m->size, MSG_DONTWAIT), m->size);
}

static void be_expect(struct msg *m, uint32_t request, uint32_t flags, uint32_t size)
{
	be_recv(m);
	ck_assert_uint_eq(m->request, request);
	ck_assert_uint_eq(m->flags, flags);
	ck_assert_uint_eq(m->size, size);
}

static uint64_t payload_u64(const struct msg *m, size_t off)
{
	uint64_t v;

	memcpy(&v, m->payload + off, sizeof(v));
	return v;
}

static uint32_t payload_u32(const struct msg *m, size_t off)
{
	uint32_t v;

	memcpy(&v, m->payload + off, sizeof(v));
	return v;
}

static void be_nothing_more(void)
{
	char c;

	ck_assert_int_eq(recv(be, &c, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
}

START_TEST(test_connect)
{
	struct msg m;

	be_reply_u64(VHOST_USER_GET_FEATURES, F_VERSION_1 | F_EVENT_IDX | F_PROTOCOL);
	be_reply_u64(VHOST_USER_GET_PROTOCOL_FEATURES, P_MQ | P_REPLY_ACK | P_CONFIG);
	be_reply_u64(VHOST_USER_GET_QUEUE_NUM, 2);
	ck_assert_int_eq(vhost_user_connect(&vu), 0);
	ck_assert_uint_eq(vu.features, F_VERSION_1 | F_EVENT_IDX | F_PROTOCOL);
	ck_assert_uint_eq(vu.protocol, P_MQ | P_REPLY_ACK);
	ck_assert_uint_eq(vu.queues, 2);

	be_expect(&m, VHOST_USER_SET_OWNER, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_VERSION, 0);
	/* Only what kvmini uses, and no acknowledgement asked for yet. */
	be_expect(&m, VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u64(&m, 0), P_MQ | P_REPLY_ACK);
	be_expect(&m, VHOST_USER_GET_QUEUE_NUM, VHOST_USER_VERSION, 0);
	be_nothing_more();

	/* From now on every set request waits for its acknowledgement. */
	be_reply_u64(VHOST_USER_SET_FEATURES, 0);
	ck_assert_int_eq(vhost_user_set_features(&vu, F_VERSION_1), 0);
	be_expect(&m, VHOST_USER_SET_FEATURES,
		  VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8);
	ck_assert_uint_eq(payload_u64(&m, 0), F_VERSION_1 | F_PROTOCOL);
	/* Features the backend never offered are not sent. */
	ck_assert_int_eq(vhost_user_set_features(&vu, F_INDIRECT), -EINVAL);
	be_nothing_more();
}
END_TEST

/* Without protocol features: two requests, and no acknowledgements. */
START_TEST(test_connect_plain)
{
	struct msg m;

	be_reply_u64(VHOST_USER_GET_FEATURES, F_VERSION_1);
	ck_assert_int_eq(vhost_user_connect(&vu), 0);
	ck_assert_uint_eq(vu.protocol, 0);
	ck_assert_uint_eq(vu.queues, 0);
	be_expect(&m, VHOST_USER_SET_OWNER, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0);
	ck_assert_int_eq(vhost_user_set_vring_num(&vu, 1, 256), 0);
	be_expect(&m, VHOST_USER_SET_VRING_NUM, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 1);
	ck_assert_uint_eq(payload_u32(&m, 4), 256);
	ck_assert_int_eq(vhost_user_set_features(&vu, F_VERSION_1), 0);
	be_expect(&m, VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u64(&m, 0), F_VERSION_1);
	be_nothing_more();
}
END_TEST

/* A refusal is the request's failure; the connection is still good. */
START_TEST(test_ack_refused)
{
	struct msg m;

	vu.protocol = P_REPLY_ACK;
	be_reply_u64(VHOST_USER_SET_VRING_BASE, 1);
	ck_assert_int_eq(vhost_user_set_vring_base(&vu, 0, 7), -EREMOTEIO);
	ck_assert(!vu.broken);
	be_expect(&m, VHOST_USER_SET_VRING_BASE,
		  VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8);
	ck_assert_uint_eq(payload_u32(&m, 4), 7);
	/* libvhost-user echoes the need-reply bit in its reply. */
	be_send(VHOST_USER_SET_VRING_ENABLE, REPLY | VHOST_USER_FLAG_NEED_REPLY, 8,
		&(uint64_t){ 0 }, 8, -1);
	ck_assert_int_eq(vhost_user_set_vring_enable(&vu, 1, true), 0);
	be_expect(&m, VHOST_USER_SET_VRING_ENABLE,
		  VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 1);
	ck_assert_uint_eq(payload_u32(&m, 4), 1);
}
END_TEST

/* Broken replies to GET_FEATURES, each an error, never a crash or hang. */
static const struct bad_reply {
	const char *what;
	uint32_t request, flags, size;
	size_t len;			/* payload bytes actually sent */
	bool with_fd;
	bool close_after;		/* the backend then goes away */
	int want;
} bad_replies[] = {
	{ "other request", VHOST_USER_GET_PROTOCOL_FEATURES, REPLY, 8, 8, false, false, -EPROTO },
	{ "not a reply", VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 8, 8, false, false, -EPROTO },
	{ "version 2", VHOST_USER_GET_FEATURES, 0x2 | VHOST_USER_FLAG_REPLY, 8, 8, false, false, -EPROTO },
	{ "reserved flag", VHOST_USER_GET_FEATURES, REPLY | 0x10, 8, 8, false, false, -EPROTO },
	{ "short size", VHOST_USER_GET_FEATURES, REPLY, 4, 4, false, false, -EPROTO },
	{ "huge size", VHOST_USER_GET_FEATURES, REPLY, 0xffffffff, 8, false, false, -EPROTO },
	{ "descriptor", VHOST_USER_GET_FEATURES, REPLY, 8, 8, true, false, -EPROTO },
	{ "truncated", VHOST_USER_GET_FEATURES, REPLY, 8, 3, false, true, -ECONNRESET },
	{ "truncated, hangs", VHOST_USER_GET_FEATURES, REPLY, 8, 3, false, false, -ETIMEDOUT },
	{ "no reply", 0, 0, 0, 0, false, false, -ETIMEDOUT },
	{ "closed", 0, 0, 0, 0, false, true, -ECONNRESET },
};

static unsigned int open_fds(void)
{
	unsigned int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

START_TEST(test_bad_reply)
{
	const struct bad_reply *b = &bad_replies[_i];
	uint64_t junk = 0x1234;
	unsigned int fds;
	struct msg m;
	int pipe_fds[2];

	ck_assert_int_eq(pipe(pipe_fds), 0);
	fds = open_fds();
	if (b->request)
		be_send(b->request, b->flags, b->size, &junk, b->len,
			b->with_fd ? pipe_fds[0] : -1);
	if (b->close_after)
		shutdown(be, SHUT_WR);
	ck_assert_msg(vhost_user_connect(&vu) == b->want, "%s", b->what);
	ck_assert(vu.broken);
	/* A descriptor the backend slipped in is closed again. */
	ck_assert_uint_eq(open_fds(), fds);
	be_expect(&m, VHOST_USER_SET_OWNER, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0);
	/* Out of step for good: nothing more goes out. */
	ck_assert_int_eq(vhost_user_set_vring_num(&vu, 0, 8), -EPIPE);
	be_nothing_more();
	close(pipe_fds[0]);
	close(pipe_fds[1]);
}
END_TEST

START_TEST(test_mem_table)
{
	struct guest_mem mem;
	struct msg m;
	uint8_t *peer;

	ck_assert_int_eq(gmem_init_shared(&mem, 3 << 20), 0);
	ck_assert_int_ge(mem.fd, 0);
	ck_assert_int_eq(gmem_add_region(&mem, 0, 1 << 20, mem.map), 0);
	ck_assert_int_eq(gmem_add_region(&mem, 1ULL << 32, 2 << 20, mem.map + (1 << 20)), 0);
	ck_assert_int_eq(vhost_user_set_mem_table(&vu, &mem), 0);
	be_expect(&m, VHOST_USER_SET_MEM_TABLE, VHOST_USER_VERSION, 8 + 2 * 32);
	ck_assert_uint_eq(payload_u32(&m, 0), 2);
	ck_assert_uint_eq(payload_u64(&m, 8), 0);
	ck_assert_uint_eq(payload_u64(&m, 16), 1 << 20);
	ck_assert_uint_eq(payload_u64(&m, 24), (uintptr_t)mem.map);
	ck_assert_uint_eq(payload_u64(&m, 32), 0);
	ck_assert_uint_eq(payload_u64(&m, 40), 1ULL << 32);
	ck_assert_uint_eq(payload_u64(&m, 48), 2 << 20);
	ck_assert_uint_eq(payload_u64(&m, 56), (uintptr_t)mem.map + (1 << 20));
	ck_assert_uint_eq(payload_u64(&m, 64), 1 << 20);
	/* One descriptor per region, each the guest's RAM itself. */
	ck_assert_uint_eq(m.nfds, 2);
	peer = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, m.fds[1], 1 << 20);
	ck_assert(peer != MAP_FAILED);
	peer[5] = 0x5a;
	ck_assert_uint_eq(*(uint8_t *)gmem_ptr(&mem, (1ULL << 32) + 5, 1), 0x5a);
	munmap(peer, 2 << 20);
	close(m.fds[0]);
	close(m.fds[1]);
	gmem_exit(&mem);
	ck_assert_int_eq(mem.fd, -1);

	/* Anonymous RAM cannot be shared. */
	ck_assert_int_eq(gmem_init(&mem, 1 << 20), 0);
	ck_assert_int_eq(gmem_add_region(&mem, 0, 1 << 20, mem.map), 0);
	ck_assert_int_eq(vhost_user_set_mem_table(&vu, &mem), -EINVAL);
	gmem_exit(&mem);
	be_nothing_more();
}
END_TEST

START_TEST(test_vring)
{
	uint8_t ring[64];
	unsigned int base = 0;
	int efd[2];
	struct msg m;

	ck_assert_int_eq(pipe(efd), 0);
	ck_assert_int_eq(vhost_user_set_vring_addr(&vu, 1, ring, ring + 16, ring + 32), 0);
	be_expect(&m, VHOST_USER_SET_VRING_ADDR, VHOST_USER_VERSION, 40);
	ck_assert_uint_eq(payload_u32(&m, 0), 1);
	ck_assert_uint_eq(payload_u32(&m, 4), 0);
	/* desc, used, avail, log: used before avail, as the spec has it. */
	ck_assert_uint_eq(payload_u64(&m, 8), (uintptr_t)ring);
	ck_assert_uint_eq(payload_u64(&m, 16), (uintptr_t)(ring + 32));
	ck_assert_uint_eq(payload_u64(&m, 24), (uintptr_t)(ring + 16));
	ck_assert_uint_eq(payload_u64(&m, 32), 0);

	ck_assert_int_eq(vhost_user_set_vring_kick(&vu, 1, efd[1]), 0);
	be_expect(&m, VHOST_USER_SET_VRING_KICK, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u64(&m, 0), 1);
	ck_assert_uint_eq(m.nfds, 1);
	ck_assert_int_eq(write(m.fds[0], "k", 1), 1);	/* the same pipe */
	ck_assert_int_eq(read(efd[0], &base, 1), 1);
	close(m.fds[0]);
	ck_assert_int_eq(vhost_user_set_vring_call(&vu, 0, efd[1]), 0);
	be_expect(&m, VHOST_USER_SET_VRING_CALL, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u64(&m, 0), 0);
	ck_assert_uint_eq(m.nfds, 1);
	close(m.fds[0]);
	ck_assert_int_eq(vhost_user_set_vring_kick(&vu, 256, efd[1]), -EINVAL);
	ck_assert_int_eq(vhost_user_set_vring_call(&vu, 0, -1), -EINVAL);

	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 1, 42 }, 8, -1);
	ck_assert_int_eq(vhost_user_get_vring_base(&vu, 1, &base), 0);
	ck_assert_uint_eq(base, 42);
	be_expect(&m, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 1);
	/* The state of another ring is a broken reply. */
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 42 }, 8, -1);
	ck_assert_int_eq(vhost_user_get_vring_base(&vu, 1, &base), -EPROTO);
	ck_assert(vu.broken);
	close(efd[0]);
	close(efd[1]);
}
END_TEST

/* ---- the virtio-fs device on the fake backend ---- */

static struct fake_guest g;
static struct virtio_dev *fs;
static int fs_be;		/* the fake backend's end */
static unsigned int stops;

static void fs_stop(void *ctx)
{
	(void)ctx;
	stops++;
}

/* The replies virtio_fs_new() waits for, queued first. */
static void fs_setup(void)
{
	struct vfs_backend b = { .stop = fs_stop };
	int sv[2];

	fake_guest_init(&g);
	/* Any memfd does: the fake backend never maps it. */
	g.mem.fd = memfd_create("fake", MFD_CLOEXEC);
	g.mem.map = g.ram;
	ck_assert_int_ge(g.mem.fd, 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	be = fs_be = sv[1];
	be_reply_u64(VHOST_USER_GET_FEATURES,
		     F_VERSION_1 | F_EVENT_IDX | F_PROTOCOL | (1ULL << 24));
	be_reply_u64(VHOST_USER_GET_PROTOCOL_FEATURES, P_REPLY_ACK);
	be_reply_u64(VHOST_USER_SET_MEM_TABLE, 0);
	b.sock = sv[0];
	stops = 0;
	ck_assert_int_eq(virtio_fs_new(&g.mem, "data", &b, NULL, 0, &fs), 0);
	fake_attach(&g, fs);
}

static void fs_teardown(void)
{
	if (fs) {
		virtio_dev_exit(fs);
		free(fs);
		ck_assert_uint_eq(stops, 1);
	}
	close(fs_be);
	close(g.mem.fd);
	fake_guest_exit(&g);
	be = -1;
}

static void ack(uint32_t request)
{
	be_reply_u64(request, 0);
}

START_TEST(test_fs_device)
{
	struct virtio_fs_config cfg;
	struct msg m;
	uint64_t n;
	int kick;

	ck_assert_uint_eq(fs->ops->device_id, VIRTIO_ID_FS);
	/* Only the ring features both sides run, never the backend's others. */
	ck_assert_uint_eq(fs->host_features & ~F_VERSION_1, F_EVENT_IDX);
	be_expect(&m, VHOST_USER_SET_OWNER, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_GET_FEATURES, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_GET_PROTOCOL_FEATURES, VHOST_USER_VERSION, 0);
	be_expect(&m, VHOST_USER_SET_PROTOCOL_FEATURES, VHOST_USER_VERSION, 8);
	be_expect(&m, VHOST_USER_SET_MEM_TABLE,
		  VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8 + 32);
	ck_assert_uint_eq(m.nfds, 1);
	close(m.fds[0]);

	fs->ops->config_read(fs, 0, (uint8_t *)&cfg, sizeof(cfg));
	ck_assert_uint_eq(fs->ops->config_size, 40);
	ck_assert_str_eq((char *)cfg.tag, "data");
	ck_assert_uint_eq(le32toh(cfg.num_request_queues), 1);

	/* DRIVER_OK hands both rings over. */
	ack(VHOST_USER_SET_FEATURES);
	for (int q = 0; q < 2; q++) {
		ack(VHOST_USER_SET_VRING_NUM);
		ack(VHOST_USER_SET_VRING_BASE);
		ack(VHOST_USER_SET_VRING_ADDR);
		ack(VHOST_USER_SET_VRING_CALL);
		ack(VHOST_USER_SET_VRING_KICK);
		ack(VHOST_USER_SET_VRING_ENABLE);
	}
	fake_driver_start(&g, fs, F_EVENT_IDX, 64);
	be_expect(&m, VHOST_USER_SET_FEATURES, VHOST_USER_VERSION | VHOST_USER_FLAG_NEED_REPLY, 8);
	ck_assert_uint_eq(payload_u64(&m, 0), F_VERSION_1 | F_EVENT_IDX | F_PROTOCOL);
	for (unsigned int q = 0; q < 2; q++) {
		be_expect(&m, VHOST_USER_SET_VRING_NUM, 0x9, 8);
		ck_assert_uint_eq(payload_u32(&m, 0), q);
		ck_assert_uint_eq(payload_u32(&m, 4), 64);
		be_expect(&m, VHOST_USER_SET_VRING_BASE, 0x9, 8);
		ck_assert_uint_eq(payload_u32(&m, 4), 0);
		be_expect(&m, VHOST_USER_SET_VRING_ADDR, 0x9, 40);
		ck_assert_uint_eq(payload_u64(&m, 8), (uintptr_t)fake_ptr(&g, g.q[q].desc));
		ck_assert_uint_eq(payload_u64(&m, 16), (uintptr_t)fake_ptr(&g, g.q[q].used));
		ck_assert_uint_eq(payload_u64(&m, 24), (uintptr_t)fake_ptr(&g, g.q[q].avail));
		be_expect(&m, VHOST_USER_SET_VRING_CALL, 0x9, 8);
		ck_assert_uint_eq(m.nfds, 1);
		close(m.fds[0]);
		be_expect(&m, VHOST_USER_SET_VRING_KICK, 0x9, 8);
		ck_assert_uint_eq(payload_u64(&m, 0), q);
		ck_assert_uint_eq(m.nfds, 1);
		kick = m.fds[0];
		be_expect(&m, VHOST_USER_SET_VRING_ENABLE, 0x9, 8);
		ck_assert_uint_eq(payload_u32(&m, 4), 1);
		/* Started with a kick; then each of the driver's goes on. */
		ck_assert_int_eq(read(kick, &n, sizeof(n)), sizeof(n));
		fake_kick(&g, fs, q);
		ck_assert_int_eq(read(kick, &n, sizeof(n)), sizeof(n));
		ck_assert_uint_eq(n, 1);
		close(kick);
	}
	ck_assert(fs->active);
	be_nothing_more();

	/* A reset takes both rings back. */
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 3 }, 8, -1);
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 1, 9 }, 8, -1);
	ck_assert(fake_set_status(fs, 0));
	be_expect(&m, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 0);
	be_expect(&m, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 1);
	be_nothing_more();
	/* A second reset has nothing to stop. */
	ck_assert(fake_set_status(fs, 0));
	be_nothing_more();
}
END_TEST

/* A backend that refuses the rings: the device needs a reset. */
START_TEST(test_fs_refused)
{
	struct msg m;

	for (int i = 0; i < 5; i++)	/* virtio_fs_new()'s */
		be_recv(&m);
	close(m.fds[0]);
	ack(VHOST_USER_SET_FEATURES);
	be_reply_u64(VHOST_USER_SET_VRING_NUM, 1);
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	fs->features = F_VERSION_1;
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK));
	pthread_mutex_lock(&fs->lock);
	fs->vqs[0].size = 8;
	fs->vqs[0].desc_gpa = fake_alloc(&g, 8 * 16, 16);
	fs->vqs[0].avail_gpa = fake_alloc(&g, 6 + 2 * 8, 2);
	fs->vqs[0].used_gpa = fake_alloc(&g, 6 + 8 * 8, 4);
	fs->vqs[0].features = F_VERSION_1;
	ck_assert_int_eq(virtq_enable(&fs->vqs[0]), 0);
	pthread_mutex_unlock(&fs->lock);
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK));
	ck_assert(fs->broken);
	ck_assert(!fs->active);
	be_expect(&m, VHOST_USER_SET_FEATURES, 0x9, 8);
	be_recv(&m);
	ck_assert_uint_eq(m.request, VHOST_USER_SET_VRING_NUM);
	/* Nothing started, so nothing to stop. */
	be_nothing_more();
}
END_TEST

/* A backend that dies: requests fail at once, and the device too. */
START_TEST(test_fs_backend_gone)
{
	shutdown(fs_be, SHUT_RDWR);
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE));
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER));
	fs->features = F_VERSION_1;
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK));
	ck_assert(fake_set_status(fs, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
				   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK));
	ck_assert(fs->broken);
}
END_TEST

/* A backend without VERSION_1, or with too few queues, is refused. */
START_TEST(test_fs_backend_unfit)
{
	struct vfs_backend b = { .stop = fs_stop };
	struct virtio_dev *dev = NULL;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	be = sv[1];
	be_reply_u64(VHOST_USER_GET_FEATURES, F_EVENT_IDX);
	b.sock = sv[0];
	ck_assert_int_eq(virtio_fs_new(&g.mem, "x", &b, NULL, 1, &dev), -ENOTSUP);
	ck_assert_ptr_null(dev);
	/* The caller still owns the socket: it is open. */
	ck_assert_int_ge(fcntl(sv[0], F_GETFD), 0);
	be_reply_u64(VHOST_USER_GET_FEATURES, F_VERSION_1 | F_PROTOCOL);
	be_reply_u64(VHOST_USER_GET_PROTOCOL_FEATURES, P_MQ);
	be_reply_u64(VHOST_USER_GET_QUEUE_NUM, 1);
	ck_assert_int_eq(virtio_fs_new(&g.mem, "x", &b, NULL, 1, &dev), -ENOTSUP);
	ck_assert_int_eq(virtio_fs_new(&g.mem, "", &b, NULL, 1, &dev), -EINVAL);
	ck_assert_int_eq(virtio_fs_new(&g.mem, "0123456789012345678901234567890123456",
				       &b, NULL, 1, &dev), -EINVAL);
	ck_assert_uint_eq(stops, 0);
	close(sv[0]);
	close(sv[1]);
	be = fs_be;
}
END_TEST

/* Runs the handlers of whatever is ready on loop now; how many ran. */
static int loop_once(struct evloop *loop)
{
	struct epoll_event ev[4];
	int n = epoll_wait(loop->epfd, ev, 4, 100);

	for (int i = 0; i < n; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
	}
	return n;
}

/*
 * With an event loop: the backend's call eventfd raises the used-buffer
 * interrupt, and its end of the socket closing breaks the device.
 */
START_TEST(test_fs_events)
{
	struct vfs_backend b = { .stop = fs_stop };
	struct virtio_dev *dev;
	struct evloop loop;
	struct msg m;
	int sv[2], call = -1;
	uint64_t one = 1;

	ck_assert_int_eq(evloop_init(&loop), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	be = sv[1];
	be_reply_u64(VHOST_USER_GET_FEATURES, F_VERSION_1);
	b.sock = sv[0];
	ck_assert_int_eq(virtio_fs_new(&g.mem, "ev", &b, &loop, 1, &dev), 0);
	fake_driver_start(&g, dev, 0, 16);
	for (int i = 0; i < 3 + 1 + 5 * 2; i++) {	/* no protocol features */
		be_recv(&m);
		if (m.request == VHOST_USER_SET_VRING_CALL && call < 0)
			call = m.fds[0];
		else if (m.nfds)
			close(m.fds[0]);
	}
	ck_assert_int_ge(call, 0);
	ck_assert_int_eq(loop_once(&loop), 0);

	ck_assert_int_eq(write(call, &one, sizeof(one)), sizeof(one));
	ck_assert_int_eq(loop_once(&loop), 1);
	ck_assert_uint_eq(g.interrupts, 1);
	ck_assert(g.isr & VIRTIO_ISR_USED);

	close(sv[1]);
	ck_assert_int_eq(loop_once(&loop), 1);
	ck_assert(dev->broken);
	ck_assert(g.isr & VIRTIO_ISR_CONFIG);
	/* Once gone, it stays gone: no events, no interrupts. */
	ck_assert_int_eq(write(call, &one, sizeof(one)), sizeof(one));
	g.interrupts = 0;
	ck_assert_int_eq(loop_once(&loop), 1);
	ck_assert_uint_eq(g.interrupts, 0);
	close(call);
	virtio_dev_exit(dev);
	free(dev);
	ck_assert_uint_eq(stops, 1);
	stops = 0;
	evloop_exit(&loop);
	be = fs_be;
}
END_TEST


/* The backend's answers to one queue's start, queued ahead. */
static void fs_ack_start(void)
{
	ack(VHOST_USER_SET_VRING_NUM);
	ack(VHOST_USER_SET_VRING_BASE);
	ack(VHOST_USER_SET_VRING_ADDR);
	ack(VHOST_USER_SET_VRING_CALL);
	ack(VHOST_USER_SET_VRING_KICK);
	ack(VHOST_USER_SET_VRING_ENABLE);
}

/* Reads n messages, closing what fds they carry; the last one stays. */
static void fs_skip(struct msg *m, unsigned int n)
{
	while (n--) {
		be_recv(m);
		if (m->nfds)
			close(m->fds[0]);
	}
}

static void fs_set_used_idx(unsigned int q, uint16_t idx)
{
	uint16_t *used = fake_ptr(&g, g.q[q].used);

	used[1] = htole16(idx);
}

/*
 * virtiofsd holds the queues' indices: a quiesce stops each queue, takes
 * its index into the saved state and starts it again from there; a
 * restore hands the saved index to the (fresh) backend. A device that
 * served requests (the guest mounted it: the backend's index moved) is
 * not saved, nor one with requests in flight (used idx behind).
 */
START_TEST(test_fs_snapshot)
{
	struct sbuf b = { 0 };
	struct sbuf_rd r;
	struct msg m;

	ack(VHOST_USER_SET_FEATURES);
	fs_ack_start();
	fs_ack_start();
	fake_driver_start(&g, fs, F_EVENT_IDX, 64);
	fs_skip(&m, 5 + 1 + 12);
	ck_assert(fs->active);

	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 0 }, 8, -1);
	fs_ack_start();
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 1, 0 }, 8, -1);
	fs_ack_start();
	pthread_mutex_lock(&fs->lock);
	virtio_dev_quiesce(fs);
	ck_assert_int_eq(virtio_dev_save(fs, &b), 0);
	pthread_mutex_unlock(&fs->lock);
	be_expect(&m, VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 0);
	fs_skip(&m, 1);
	be_expect(&m, VHOST_USER_SET_VRING_BASE, 0x9, 8);
	ck_assert_uint_eq(payload_u32(&m, 0), 0);
	ck_assert_uint_eq(payload_u32(&m, 4), 0);
	fs_skip(&m, 4 + 7);
	be_nothing_more();

	/* Restore into this device (as into a fresh one): its reset stops
	 * both queues, activate starts them at the saved indices. */
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 0 }, 8, -1);
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 1, 0 }, 8, -1);
	ack(VHOST_USER_SET_FEATURES);
	fs_ack_start();
	fs_ack_start();
	sbuf_rd_init(&r, b.data, b.len);
	ck_assert_int_eq(virtio_dev_load(fs, &r), 0);
	ck_assert(fs->active);
	fs_skip(&m, 2 + 1 + 1);
	be_expect(&m, VHOST_USER_SET_VRING_BASE, 0x9, 8);
	ck_assert_uint_eq(payload_u32(&m, 4), 0);
	fs_skip(&m, 4 + 1);
	be_expect(&m, VHOST_USER_SET_VRING_BASE, 0x9, 8);
	ck_assert_uint_eq(payload_u32(&m, 4), 0);
	fs_skip(&m, 4);
	be_nothing_more();
	/* A forged layout version is refused. */
	b.data[b.len - 4] ^= 0x40;
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 0 }, 8, -1);
	be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 1, 0 }, 8, -1);
	sbuf_rd_init(&r, b.data, b.len);
	ck_assert_int_eq(virtio_dev_load(fs, &r), -EINVAL);
	ck_assert(!fs->active);
	fs_skip(&m, 2);
	sbuf_free(&b);

	/* Mounted (the backend served 5 requests, all used), then requests
	 * in flight (the backend is at 7 before any, the guest saw 6 used:
	 * forged, since a fresh device starts at 0): neither is saved. */
	for (int round = 0; round < 2; round++) {
		/* The refused save left the queues running: the reset
		 * stops them first. */
		if (round) {
			be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 0 }, 8, -1);
			be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 1, 5 }, 8, -1);
			ck_assert(fake_set_status(fs, 0));
			fs_skip(&m, 2);
		}
		ack(VHOST_USER_SET_FEATURES);
		fs_ack_start();
		fs_ack_start();
		fake_driver_start(&g, fs, F_EVENT_IDX, 64);
		fs_skip(&m, 13);
		fs_set_used_idx(1, round ? 6 : 5);
		be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8, (uint32_t[]){ 0, 0 }, 8, -1);
		fs_ack_start();
		be_send(VHOST_USER_GET_VRING_BASE, REPLY, 8,
			(uint32_t[]){ 1, round ? 0 : 5 }, 8, -1);
		fs_ack_start();
		pthread_mutex_lock(&fs->lock);
		virtio_dev_quiesce(fs);
		ck_assert_int_eq(virtio_dev_save(fs, &b), -EBUSY);
		pthread_mutex_unlock(&fs->lock);
		fs_skip(&m, 14);
		be_nothing_more();
		sbuf_free(&b);
		b = (struct sbuf){ 0 };
	}
}
END_TEST

static Suite *vhost_user_suite(void)
{
	Suite *suite = suite_create("vhost_user");
	TCase *tc = tcase_create("protocol");
	TCase *dev = tcase_create("fs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_connect);
	tcase_add_test(tc, test_connect_plain);
	tcase_add_test(tc, test_ack_refused);
	tcase_add_loop_test(tc, test_bad_reply, 0, sizeof(bad_replies) / sizeof(bad_replies[0]));
	tcase_add_test(tc, test_mem_table);
	tcase_add_test(tc, test_vring);
	suite_add_tcase(suite, tc);

	tcase_add_checked_fixture(dev, fs_setup, fs_teardown);
	tcase_add_test(dev, test_fs_device);
	tcase_add_test(dev, test_fs_refused);
	tcase_add_test(dev, test_fs_backend_gone);
	tcase_add_test(dev, test_fs_backend_unfit);
	tcase_add_test(dev, test_fs_events);
	tcase_add_test(dev, test_fs_snapshot);
	suite_add_tcase(suite, dev);
	return suite;
}

UNIT_SUITE(vhost_user_suite)
