// SPDX-License-Identifier: GPL-2.0
/*
 * vhost-user frontend: message encoding, descriptor passing, and replies
 * checked and waited for with a bound (see vhost_user.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "lib/mem.h"
#include "virtio/vhost_user.h"

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

struct vu_state {
	uint32_t index;
	uint32_t num;
};

struct vu_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;
	uint64_t used;
	uint64_t avail;
	uint64_t log;
};

struct vu_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uaddr;
	uint64_t offset;
};

struct vu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vu_region region[VHOST_USER_MAX_REGIONS];
};

_Static_assert(sizeof(struct vu_hdr) == VHOST_USER_HDR_SIZE, "vhost-user header");
_Static_assert(sizeof(struct vu_mem) == VHOST_USER_MAX_PAYLOAD, "vhost-user memory table");

void vhost_user_init(struct vhost_user *vu, int fd)
{
	memset(vu, 0, sizeof(*vu));
	vu->fd = fd;
	vu->timeout_ms = VHOST_USER_TIMEOUT_MS;
}

void vhost_user_close(struct vhost_user *vu)
{
	if (vu->fd >= 0)
		close(vu->fd);
	vu->fd = -1;
	vu->broken = true;
}

static int64_t vu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on the socket until deadline: 0 or -ETIMEDOUT. */
static int vu_wait(struct vhost_user *vu, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - vu_now_ms();
		struct pollfd pfd = { .fd = vu->fd, .events = events };
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

/* The descriptors a reply must not carry: closed, and an error. */
static int vu_stray_fds(struct msghdr *mh)
{
	int err = (mh->msg_flags & MSG_CTRUNC) ? -EPROTO : 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			close(fd);
		}
		err = -EPROTO;
	}
	return err;
}

/* Exactly len bytes, or -ECONNRESET (EOF), -ETIMEDOUT, -EPROTO. */
static int vu_read(struct vhost_user *vu, void *buf, size_t len, int64_t deadline)
{
	size_t done = 0;

	while (done < len) {
		union {
			char buf[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n;
		int err = vu_wait(vu, POLLIN, deadline);

		if (err)
			return err;
		n = recvmsg(vu->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		err = vu_stray_fds(&mh);
		if (err)
			return err;
		if (n == 0)
			return -ECONNRESET;
		done += n;
	}
	return 0;
}

static int vu_send(struct vhost_user *vu, uint32_t request, uint32_t flags,
		   const void *payload, uint32_t size, const int *fds, unsigned int nfds)
{
	struct vu_hdr hdr = { request, VHOST_USER_VERSION | flags, size };
	union {
		char buf[CMSG_SPACE(VHOST_USER_MAX_REGIONS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)payload, size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };
	int64_t deadline = vu_now_ms() + vu->timeout_ms;
	size_t left = sizeof(hdr) + size;

	if (nfds > VHOST_USER_MAX_REGIONS)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	while (left) {
		ssize_t n = sendmsg(vu->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		int err;

		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return errno == EPIPE ? -ECONNRESET : -errno;
		if (n < 0) {
			err = vu_wait(vu, POLLOUT, deadline);
			if (err)
				return err;
			continue;
		}
		/* The descriptors went with the first byte. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		left -= n;
		while (n && mh.msg_iovlen) {
			size_t step = (size_t)n < mh.msg_iov->iov_len ? (size_t)n : mh.msg_iov->iov_len;

			mh.msg_iov->iov_base = (char *)mh.msg_iov->iov_base + step;
			mh.msg_iov->iov_len -= step;
			n -= step;
			if (!mh.msg_iov->iov_len) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return 0;
}

/* A reply to request, of exactly size bytes, checked before it is read. */
static int vu_recv(struct vhost_user *vu, uint32_t request, void *payload, uint32_t size)
{
	int64_t deadline = vu_now_ms() + vu->timeout_ms;
	struct vu_hdr hdr;
	int err = vu_read(vu, &hdr, sizeof(hdr), deadline);

	if (err)
		return err;
	/* Version 1, a reply; the need-reply bit may be echoed back. */
	if (hdr.request != request ||
	    (hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION ||
	    !(hdr.flags & VHOST_USER_FLAG_REPLY) ||
	    (hdr.flags & ~(VHOST_USER_VERSION_MASK | VHOST_USER_FLAG_REPLY |
			   VHOST_USER_FLAG_NEED_REPLY)) ||
	    hdr.size != size)
		return -EPROTO;
	return vu_read(vu, payload, size, deadline);
}

/*
 * One request. With a reply buffer, waits for the reply; without one,
 * for the backend's acknowledgement when REPLY_ACK is in use, where a
 * non-zero status is a refusal (-EREMOTEIO), after which the stream is
 * still in step. Any other failure breaks the connection.
 */
static int vu_request(struct vhost_user *vu, uint32_t request, const void *in,
		      uint32_t in_size, const int *fds, unsigned int nfds,
		      void *out, uint32_t out_size)
{
	bool ack = !out && (vu->protocol & (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK));
	uint64_t status = 0;
	int err;

	if (vu->broken || vu->fd < 0)
		return -EPIPE;
	err = vu_send(vu, request, ack ? VHOST_USER_FLAG_NEED_REPLY : 0, in, in_size,
		      fds, nfds);
	if (!err && out)
		err = vu_recv(vu, request, out, out_size);
	else if (!err && ack)
		err = vu_recv(vu, request, &status, sizeof(status));
	if (err) {
		vu->broken = true;
		return err;
	}
	return status ? -EREMOTEIO : 0;
}

static int vu_get_u64(struct vhost_user *vu, uint32_t request, uint64_t *v)
{
	return vu_request(vu, request, NULL, 0, NULL, 0, v, sizeof(*v));
}

static int vu_set_u64(struct vhost_user *vu, uint32_t request, uint64_t v)
{
	return vu_request(vu, request, &v, sizeof(v), NULL, 0, NULL, 0);
}

int vhost_user_connect(struct vhost_user *vu)
{
	uint64_t offered, queues;
	int err;

	err = vu_request(vu, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0, NULL, 0) ?:
	      vu_get_u64(vu, VHOST_USER_GET_FEATURES, &vu->features);
	if (err || !(vu->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)))
		return err;
	err = vu_get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &offered) ?:
	      vu_set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES,
			 offered & VHOST_USER_PROTOCOL_WANTED);
	if (err)
		return err;
	/* Acknowledgements only from the next request on. */
	vu->protocol = offered & VHOST_USER_PROTOCOL_WANTED;
	if (!(vu->protocol & (1ULL << VHOST_USER_PROTOCOL_F_MQ)))
		return 0;
	err = vu_get_u64(vu, VHOST_USER_GET_QUEUE_NUM, &queues);
	if (!err)
		vu->queues = queues > 0xff + 1 ? 0xff + 1 : queues;
	return err;
}

int vhost_user_set_features(struct vhost_user *vu, uint64_t features)
{
	if (features & ~vu->features)
		return -EINVAL;
	if (vu->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES))
		features |= 1ULL << VHOST_USER_F_PROTOCOL_FEATURES;
	return vu_set_u64(vu, VHOST_USER_SET_FEATURES, features);
}

int vhost_user_set_mem_table(struct vhost_user *vu, const struct guest_mem *m)
{
	struct vu_mem mem = { .nregions = m->nr_regions };
	int fds[VHOST_USER_MAX_REGIONS];

	if (m->fd < 0 || !m->nr_regions || m->nr_regions > VHOST_USER_MAX_REGIONS)
		return -EINVAL;
	for (unsigned int i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->region[i];

		mem.region[i] = (struct vu_region){
			.gpa = r->gpa,
			.size = r->size,
			.uaddr = (uintptr_t)r->hva,
			.offset = gmem_offset(m, r),
		};
		fds[i] = m->fd;		/* one per region, as the protocol has it */
	}
	return vu_request(vu, VHOST_USER_SET_MEM_TABLE, &mem,
			  8 + m->nr_regions * sizeof(struct vu_region),
			  fds, m->nr_regions, NULL, 0);
}

static int vu_set_state(struct vhost_user *vu, uint32_t request, unsigned int q,
			unsigned int num)
{
	struct vu_state s = { q, num };

	if (q > 0xff)
		return -EINVAL;
	return vu_request(vu, request, &s, sizeof(s), NULL, 0, NULL, 0);
}

int vhost_user_set_vring_num(struct vhost_user *vu, unsigned int q, unsigned int num)
{
	return vu_set_state(vu, VHOST_USER_SET_VRING_NUM, q, num);
}

int vhost_user_set_vring_base(struct vhost_user *vu, unsigned int q, unsigned int base)
{
	return vu_set_state(vu, VHOST_USER_SET_VRING_BASE, q, base);
}

int vhost_user_set_vring_enable(struct vhost_user *vu, unsigned int q, bool on)
{
	return vu_set_state(vu, VHOST_USER_SET_VRING_ENABLE, q, on);
}

int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned int q, const void *desc,
			      const void *avail, const void *used)
{
	struct vu_addr a = {
		.index = q,
		.desc = (uintptr_t)desc,
		.used = (uintptr_t)used,
		.avail = (uintptr_t)avail,
	};

	if (q > 0xff)
		return -EINVAL;
	return vu_request(vu, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, NULL, 0);
}

/* The index in bits 0-7; bit 8 (no descriptor: poll) is never used. */
static int vu_set_fd(struct vhost_user *vu, uint32_t request, unsigned int q, int fd)
{
	uint64_t v = q;

	if (q > 0xff || fd < 0)
		return -EINVAL;
	return vu_request(vu, request, &v, sizeof(v), &fd, 1, NULL, 0);
}

int vhost_user_set_vring_kick(struct vhost_user *vu, unsigned int q, int fd)
{
	return vu_set_fd(vu, VHOST_USER_SET_VRING_KICK, q, fd);
}

int vhost_user_set_vring_call(struct vhost_user *vu, unsigned int q, int fd)
{
	return vu_set_fd(vu, VHOST_USER_SET_VRING_CALL, q, fd);
}

int vhost_user_get_vring_base(struct vhost_user *vu, unsigned int q, unsigned int *base)
{
	struct vu_state s = { q, 0 }, r;
	int err;

	if (q > 0xff)
		return -EINVAL;
	err = vu_request(vu, VHOST_USER_GET_VRING_BASE, &s, sizeof(s), NULL, 0, &r, sizeof(r));
	if (!err && r.index != q) {
		vu->broken = true;
		return -EPROTO;
	}
	if (!err)
		*base = r.num;
	return err;
}
