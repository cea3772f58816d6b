// SPDX-License-Identifier: GPL-2.0
/*
 * --net user on libslirp (see slirp.h), driven by the I/O thread's event
 * loop. libslirp is poll-based: before each sleep it lists the sockets it
 * wants watched and how long it may sleep (slirp_pollfds_fill), after it
 * it is told what happened (slirp_pollfds_poll). Here that maps onto:
 *
 *  - a prepare hook (evloop.h), run before every wait: it hands queued
 *    frames to the guest, asks libslirp for its sockets and mirrors them
 *    into an inner epoll set (only what changed), and arms a timerfd for
 *    the sooner of libslirp's timeout and its timers;
 *  - the inner epoll fd, registered on the loop: readable when one of
 *    libslirp's sockets is ready;
 *  - the timerfd: libslirp's TCP and UDP ageing and its timers;
 *  - an eventfd that the device's rx_space callback writes.
 *
 * When libslirp has no socket and no timer running the loop sleeps
 * without a timeout; while it has sockets it asks for a wake-up every
 * 0.5 to 1 s to age them (a hostfwd's listening socket counts).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "backend/slirp.h"
#include "lib/config.h"
#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "virtio/devices.h"
#include "virtio/net_backend.h"

#ifdef KVMINI_HAVE_SLIRP
#include <libslirp.h>

#include "backend/slirp_lib.h"

#define SLIRP_ETH_HLEN		14
#define SLIRP_NO_DEADLINE	INT64_MAX
/* What libslirp's timeout is capped at when it has nothing to age. */
#define SLIRP_IDLE_TIMEOUT_MS	1000

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;		/* SLIRP_NO_DEADLINE: not armed */
};

/* One of libslirp's sockets, by descriptor number. */
struct slirp_fd {
	uint32_t events;		/* EPOLL* in the inner set */
	uint32_t revents;		/* from the last wait */
	uint32_t round;			/* the last fill that listed it */
	bool in_epoll;
};

struct slirp_net {
	Slirp *slirp;
	const struct slirp_lib *lib;	/* libslirp's calls, loaded on demand */
	struct evloop *loop;
	struct vnet_backend be;
	bool (*deliver)(void *ctx, const void *frame, size_t len);
	void *deliver_ctx;

	/* Frames for the guest, oldest at head. */
	uint8_t (*slot)[SLIRP_NET_FRAME_MAX];
	uint16_t slot_len[SLIRP_NET_BACKLOG];
	unsigned int head, count;
	bool rx_blocked;		/* refused; waiting for rx_space */
	struct slirp_net_stats stats;
	uint8_t txbuf[SLIRP_NET_FRAME_MAX];

	/* The sockets of this round's fill, by libslirp's index; the
	 * previous round's, to drop those it no longer lists. */
	int *pfd, *prev_pfd;
	unsigned int nr_pfd, nr_prev, cap_pfd;
	struct epoll_event *events;	/* cap_pfd of them */
	struct slirp_fd *fds;
	unsigned int nr_fds;
	uint32_t round;
	bool polled;			/* slirp_pollfds_poll since the fill */
	bool oom;			/* a fill could not be mirrored */

	int epfd;
	struct ev_handler poll_ev;	/* the inner epoll fd */
	struct ev_handler timer_ev;	/* timerfd */
	struct ev_handler wake_ev;	/* eventfd: rx_space */
	struct ev_prepare prep;
	int64_t armed_ms;
	struct slirp_timer *timers;
};

/* The struct slirp_net around one of its members. */
#define slirp_of(ptr, member) \
	container_of(ptr, struct slirp_net, member)

static int64_t slirp_now_ns(void)
{
	return (int64_t)evloop_now_ns();
}

/* The backlog. */

static ssize_t slirp_net_send_packet(const void *buf, size_t len, void *opaque)
{
	struct slirp_net *s = opaque;
	unsigned int tail;

	if (s->count == SLIRP_NET_BACKLOG || len > SLIRP_NET_FRAME_MAX) {
		s->stats.rx_dropped++;
		return len;
	}
	tail = (s->head + s->count) % SLIRP_NET_BACKLOG;
	memcpy(s->slot[tail], buf, len);
	s->slot_len[tail] = len;
	s->count++;
	return len;
}

/* Never from inside libslirp or a device callback: the device's lock may
 * be held there. */
static void slirp_net_flush(struct slirp_net *s)
{
	while (s->count && !s->rx_blocked && s->deliver) {
		if (!s->deliver(s->deliver_ctx, s->slot[s->head],
				s->slot_len[s->head])) {
			s->rx_blocked = true;
			break;
		}
		s->head = (s->head + 1) % SLIRP_NET_BACKLOG;
		s->count--;
	}
}

static bool slirp_net_deliver_vdev(void *ctx, const void *frame, size_t len)
{
	return virtio_net_receive(ctx, frame, len);
}

/* libslirp's other callbacks. */

static void slirp_net_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	pr_warn_once("--net user: the guest sent a bad packet: %s", msg);
}

static int64_t slirp_net_clock_ns(void *opaque)
{
	(void)opaque;
	return slirp_now_ns();
}

static void *slirp_net_timer_new(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct slirp_net *s = opaque;
	struct slirp_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->id = id;
	t->cb_opaque = cb_opaque;
	t->expire_ms = SLIRP_NO_DEADLINE;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void slirp_net_timer_free(void *timer, void *opaque)
{
	struct slirp_net *s = opaque;

	for (struct slirp_timer **pp = &s->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = (*pp)->next;
			free(timer);
			return;
		}
	}
}

/* expire_ms is on slirp_net_clock_ns()'s clock, in ms. */
static void slirp_net_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	(void)opaque;
	if (t)
		t->expire_ms = expire_ms;
}

static struct slirp_fd *slirp_fd_get(struct slirp_net *s, int fd)
{
	unsigned int n = s->nr_fds ? s->nr_fds : 64;
	struct slirp_fd *fds;

	if (fd < 0)
		return NULL;
	if ((unsigned int)fd < s->nr_fds)
		return &s->fds[fd];
	while (n <= (unsigned int)fd)
		n *= 2;
	fds = realloc(s->fds, n * sizeof(*fds));
	if (!fds)
		return NULL;
	memset(fds + s->nr_fds, 0, (n - s->nr_fds) * sizeof(*fds));
	s->fds = fds;
	s->nr_fds = n;
	return &s->fds[fd];
}

static void slirp_fd_forget(struct slirp_net *s, int fd)
{
	struct slirp_fd *f = fd >= 0 && (unsigned int)fd < s->nr_fds ? &s->fds[fd] : NULL;

	if (f && f->in_epoll)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
	if (f)
		memset(f, 0, sizeof(*f));
}

/* A descriptor number that libslirp closes may come back as a new
 * socket: forget what the inner set had under it. */
static void slirp_net_register_fd(int fd, void *opaque)
{
	slirp_fd_forget(opaque, fd);
}

static void slirp_net_unregister_fd(int fd, void *opaque)
{
	slirp_fd_forget(opaque, fd);
}

/* Only for guestfwd, which kvmini does not use; every round refills. */
static void slirp_net_notify(void *opaque)
{
	(void)opaque;
}

static const SlirpCb slirp_net_cb = {
	.send_packet = slirp_net_send_packet,
	.guest_error = slirp_net_guest_error,
	.clock_get_ns = slirp_net_clock_ns,
	.timer_free = slirp_net_timer_free,
	.timer_mod = slirp_net_timer_mod,
	.register_poll_fd = slirp_net_register_fd,
	.unregister_poll_fd = slirp_net_unregister_fd,
	.notify = slirp_net_notify,
	.timer_new_opaque = slirp_net_timer_new,
};

/* The inner epoll set, mirrored from each fill. */

static uint32_t slirp_to_epoll(int events)
{
	return (events & SLIRP_POLL_IN ? EPOLLIN : 0) |
	       (events & SLIRP_POLL_OUT ? EPOLLOUT : 0) |
	       (events & SLIRP_POLL_PRI ? EPOLLPRI : 0);
}

static int slirp_from_epoll(uint32_t ev)
{
	return (ev & EPOLLIN ? SLIRP_POLL_IN : 0) |
	       (ev & EPOLLOUT ? SLIRP_POLL_OUT : 0) |
	       (ev & EPOLLPRI ? SLIRP_POLL_PRI : 0) |
	       (ev & EPOLLERR ? SLIRP_POLL_ERR : 0) |
	       (ev & EPOLLHUP ? SLIRP_POLL_HUP : 0);
}

static int slirp_pfd_grow(struct slirp_net *s)
{
	unsigned int n = s->cap_pfd ? s->cap_pfd * 2 : 64;
	int *a = realloc(s->pfd, n * sizeof(*a));
	int *b;
	struct epoll_event *e;

	if (!a)
		return -ENOMEM;
	s->pfd = a;
	b = realloc(s->prev_pfd, n * sizeof(*b));
	if (!b)
		return -ENOMEM;
	s->prev_pfd = b;
	e = realloc(s->events, n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	s->events = e;
	s->cap_pfd = n;
	return 0;
}

static int slirp_fd_watch(struct slirp_net *s, int fd, struct slirp_fd *f,
			  uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (f->in_epoll && f->events == events)
		return 0;
	if (epoll_ctl(s->epfd, f->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) &&
	    epoll_ctl(s->epfd, f->in_epoll ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev))
		return -errno;
	f->in_epoll = true;
	f->events = events;
	return 0;
}

static int slirp_net_add_poll(int fd, int events, void *opaque)
{
	struct slirp_net *s = opaque;
	struct slirp_fd *f;

	if (s->nr_pfd == s->cap_pfd && slirp_pfd_grow(s))
		goto fail;
	f = slirp_fd_get(s, fd);
	if (!f || slirp_fd_watch(s, fd, f, slirp_to_epoll(events)))
		goto fail;
	f->round = s->round;
	s->pfd[s->nr_pfd] = fd;
	return s->nr_pfd++;
fail:
	/* The socket goes unwatched this round: libslirp sees no events
	 * for an index of -1. Said once; the next round tries again. */
	s->oom = true;
	return -1;
}

static int slirp_net_get_revents(int idx, void *opaque)
{
	struct slirp_net *s = opaque;

	if (idx < 0 || (unsigned int)idx >= s->nr_pfd)
		return 0;
	return slirp_from_epoll(s->fds[s->pfd[idx]].revents);
}

/* What libslirp watched last round and no longer wants: out of the inner
 * set, or a ready socket it ignores would wake the loop for ever. */
static void slirp_net_drop_stale(struct slirp_net *s)
{
	for (unsigned int i = 0; i < s->nr_prev; i++) {
		int fd = s->prev_pfd[i];
		struct slirp_fd *f = &s->fds[fd];

		if (f->round != s->round && f->in_epoll) {
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
			f->in_epoll = false;
		}
	}
}

/* Once per fill: what the sockets did, then libslirp's timers and I/O. */
static void slirp_net_poll(struct slirp_net *s)
{
	int n;

	if (s->polled)
		return;
	s->polled = true;
	for (unsigned int i = 0; i < s->nr_pfd; i++)
		s->fds[s->pfd[i]].revents = 0;
	n = s->cap_pfd ? epoll_wait(s->epfd, s->events, s->cap_pfd, 0) : 0;
	for (int i = 0; i < n; i++) {
		int fd = s->events[i].data.fd;

		if (fd >= 0 && (unsigned int)fd < s->nr_fds)
			s->fds[fd].revents = s->events[i].events;
	}
	s->lib->pollfds_poll(s->slirp, n < 0, slirp_net_get_revents, s);
}

static int64_t slirp_net_next_timer(const struct slirp_net *s)
{
	int64_t next = SLIRP_NO_DEADLINE;

	for (const struct slirp_timer *t = s->timers; t; t = t->next)
		if (t->expire_ms < next)
			next = t->expire_ms;
	return next;
}

/* Only ever brought forward: firing early costs one extra poll. */
static void slirp_net_arm(struct slirp_net *s, int64_t deadline_ms)
{
	struct itimerspec its = {
		.it_value.tv_sec = deadline_ms / 1000,
		.it_value.tv_nsec = (deadline_ms % 1000) * 1000000 + 1,
	};

	if (deadline_ms >= s->armed_ms)
		return;
	if (!timerfd_settime(s->timer_ev.fd, TFD_TIMER_ABSTIME, &its, NULL))
		s->armed_ms = deadline_ms;
}

static void slirp_net_prepare(struct ev_prepare *p)
{
	struct slirp_net *s = slirp_of(p, prep);
	uint32_t timeout = UINT32_MAX;
	int64_t now = slirp_now_ns() / 1000000;
	int64_t deadline;
	int *prev = s->pfd;

	slirp_net_flush(s);
	/* Last round's list becomes prev; this round fills the other. */
	s->pfd = s->prev_pfd;
	s->prev_pfd = prev;
	s->nr_prev = s->nr_pfd;
	s->round++;
	s->nr_pfd = 0;
	s->polled = false;
	s->lib->pollfds_fill(s->slirp, &timeout, slirp_net_add_poll, s);
	slirp_net_drop_stale(s);
	if (s->oom)
		pr_warn_once("--net user: out of memory watching sockets");
	s->oom = false;
	/* Nothing to age: no socket, no TCP or fragment timer. */
	if (!s->nr_pfd && timeout >= SLIRP_IDLE_TIMEOUT_MS)
		deadline = SLIRP_NO_DEADLINE;
	else
		deadline = now + timeout;
	if (slirp_net_next_timer(s) < deadline)
		deadline = slirp_net_next_timer(s);
	if (deadline != SLIRP_NO_DEADLINE)
		slirp_net_arm(s, deadline);
}

static void slirp_net_on_sockets(struct ev_handler *h, uint32_t events)
{
	(void)events;
	slirp_net_poll(slirp_of(h, poll_ev));
}

static void slirp_net_on_timer(struct ev_handler *h, uint32_t events)
{
	struct slirp_net *s = slirp_of(h, timer_ev);
	uint64_t n;
	int64_t now;
	bool fired;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) < 0 && errno == EAGAIN)
		return;
	s->armed_ms = SLIRP_NO_DEADLINE;
	now = slirp_now_ns() / 1000000;
	/* A timer's handler may modify or free any timer: rescan. */
	do {
		fired = false;
		for (struct slirp_timer *t = s->timers; t; t = t->next) {
			if (t->expire_ms <= now) {
				t->expire_ms = SLIRP_NO_DEADLINE;
				s->lib->handle_timer(s->slirp, t->id, t->cb_opaque);
				fired = true;
				break;
			}
		}
	} while (fired);
	slirp_net_poll(s);
}

static void slirp_net_on_wake(struct ev_handler *h, uint32_t events)
{
	struct slirp_net *s = slirp_of(h, wake_ev);
	uint64_t n;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) == sizeof(n))
		s->rx_blocked = false;
	/* The prepare hook delivers, before the loop sleeps again. */
}

/* The backend's side, called by the device with its lock held. */

static void slirp_net_transmit(void *ctx, const struct iovec *iov,
			       unsigned int iovcnt, size_t len)
{
	struct slirp_net *s = ctx;

	/* The guest's frame: an Ethernet header, at most our MTU, and all
	 * of it in the buffers it claims. */
	if (len < SLIRP_ETH_HLEN || len > SLIRP_NET_FRAME_MAX ||
	    virtq_iov_to_buf(s->txbuf, iov, iovcnt, 0, len) < len)
		goto drop;
	/* Replies (ARP, DHCP) land in the backlog; prepare delivers them. */
	s->lib->input(s->slirp, s->txbuf, len);
	return;
drop:
	s->stats.tx_dropped++;
	pr_warn_once("--net user: dropped a %zu-byte frame from the guest (longer than the %u-byte MTU, or shorter than its header)",
		     len, SLIRP_NET_MTU);
}

static void slirp_net_rx_space(void *ctx)
{
	struct slirp_net *s = ctx;
	uint64_t one = 1;
	ssize_t r = write(s->wake_ev.fd, &one, sizeof(one));

	(void)r;
}

/* Set-up. */

static int slirp_net_hostfwd(struct slirp_net *s, const struct hostfwd_config *f,
			     struct in_addr guest_default)
{
	struct in_addr host = { f->host_addr ? f->host_addr : htonl(INADDR_LOOPBACK) };
	struct in_addr guest = { f->guest_addr ? f->guest_addr : guest_default.s_addr };
	char haddr[INET_ADDRSTRLEN], gaddr[INET_ADDRSTRLEN];

	errno = 0;
	if (!s->lib->add_hostfwd(s->slirp, f->udp, host, f->host_port, guest, f->guest_port))
		return 0;
	inet_ntop(AF_INET, &host, haddr, sizeof(haddr));
	inet_ntop(AF_INET, &guest, gaddr, sizeof(gaddr));
	pr_err("--net user: cannot forward %s port %s:%u to %s:%u: %s (pick another host port)",
	       f->udp ? "UDP" : "TCP", haddr, f->host_port, gaddr, f->guest_port,
	       strerror(errno ? errno : EADDRINUSE));
	return -(errno ? errno : EADDRINUSE);
}

static void slirp_net_addr(struct in_addr *a, const char *s)
{
	inet_pton(AF_INET, s, a);
}

static int slirp_net_start(struct slirp_net *s, const struct net_config *cfg)
{
	SlirpConfig sc = {
		.version = 4,
		.restricted = 0,
		.in_enabled = true,
		.in6_enabled = false,
	};
	int err = 0;

	slirp_net_addr(&sc.vnetwork, "10.0.2.0");
	slirp_net_addr(&sc.vnetmask, "255.255.255.0");
	slirp_net_addr(&sc.vhost, "10.0.2.2");
	slirp_net_addr(&sc.vdhcp_start, "10.0.2.15");
	slirp_net_addr(&sc.vnameserver, "10.0.2.3");
	s->slirp = s->lib->new(&sc, &slirp_net_cb, s);
	if (!s->slirp) {
		pr_err("--net user: libslirp could not start (out of memory?)");
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < cfg->nr_fwd && !err; i++)
		err = slirp_net_hostfwd(s, &cfg->fwd[i], sc.vdhcp_start);
	return err;
}

static int slirp_net_add_fd(struct slirp_net *s, struct ev_handler *h, int fd,
			    void (*fn)(struct ev_handler *, uint32_t))
{
	h->fd = fd;
	h->fn = fn;
	if (fd < 0)
		return -errno;
	return evloop_add(s->loop, h, EPOLLIN);
}

static int slirp_net_events(struct slirp_net *s)
{
	int err;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	err = slirp_net_add_fd(s, &s->poll_ev, s->epfd, slirp_net_on_sockets) ?:
	      slirp_net_add_fd(s, &s->timer_ev,
			       timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK),
			       slirp_net_on_timer) ?:
	      slirp_net_add_fd(s, &s->wake_ev, eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
			       slirp_net_on_wake);
	if (err) {
		pr_err("--net user: cannot set up its events: %s", strerror(-err));
		return err;
	}
	s->prep.fn = slirp_net_prepare;
	evloop_add_prepare(s->loop, &s->prep);
	return 0;
}

struct slirp_net *slirp_net_new(const struct net_config *cfg, struct evloop *loop)
{
	const struct slirp_lib *lib;
	struct slirp_net *s;

	if (slirp_lib_load(&lib))
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->slot = calloc(SLIRP_NET_BACKLOG, sizeof(*s->slot)))) {
		pr_err("--net user: out of memory");
		free(s);
		return NULL;
	}
	s->lib = lib;
	s->loop = loop;
	s->epfd = s->poll_ev.fd = s->timer_ev.fd = s->wake_ev.fd = -1;
	s->armed_ms = SLIRP_NO_DEADLINE;
	s->be = (struct vnet_backend){
		.fd = -1,
		.transmit = slirp_net_transmit,
		.rx_space = slirp_net_rx_space,
		.ctx = s,
	};
	if (slirp_net_events(s) || slirp_net_start(s, cfg)) {
		slirp_net_free(s);
		return NULL;
	}
	return s;
}

const struct vnet_backend *slirp_net_backend(struct slirp_net *s)
{
	return &s->be;
}

void slirp_net_set_deliver(struct slirp_net *s,
			   bool (*deliver)(void *ctx, const void *frame, size_t len),
			   void *ctx)
{
	s->deliver = deliver;
	s->deliver_ctx = ctx;
	s->rx_blocked = false;
}

void slirp_net_attach(struct slirp_net *s, struct virtio_dev *vdev)
{
	slirp_net_set_deliver(s, slirp_net_deliver_vdev, vdev);
}

void slirp_net_get_stats(const struct slirp_net *s, struct slirp_net_stats *st)
{
	*st = s->stats;
	st->backlog = s->count;
}

static void slirp_net_close(struct slirp_net *s, struct ev_handler *h)
{
	if (h->fd < 0)
		return;
	evloop_del(s->loop, h);
	close(h->fd);
	h->fd = -1;
}

void slirp_net_free(struct slirp_net *s)
{
	if (!s)
		return;
	/* Its sockets close first, while the inner set still exists. */
	if (s->slirp)
		s->lib->cleanup(s->slirp);
	if (s->prep.fn)
		evloop_del_prepare(s->loop, &s->prep);
	slirp_net_close(s, &s->poll_ev);
	slirp_net_close(s, &s->timer_ev);
	slirp_net_close(s, &s->wake_ev);
	while (s->timers)
		slirp_net_timer_free(s->timers, s);
	free(s->pfd);
	free(s->prev_pfd);
	free(s->events);
	free(s->fds);
	free(s->slot);
	free(s);
}

#else /* !KVMINI_HAVE_SLIRP */

struct slirp_net *slirp_net_new(const struct net_config *cfg, struct evloop *loop)
{
	(void)cfg;
	(void)loop;
	pr_err("--net user: this kvmini was built without libslirp (the static and arm64 builds are): use a dynamic build with libslirp-dev installed, or --net tap=NAME");
	return NULL;
}

const struct vnet_backend *slirp_net_backend(struct slirp_net *s)
{
	(void)s;
	return NULL;
}

void slirp_net_attach(struct slirp_net *s, struct virtio_dev *vdev)
{
	(void)s;
	(void)vdev;
}

void slirp_net_free(struct slirp_net *s)
{
	(void)s;
}

void slirp_net_get_stats(const struct slirp_net *s, struct slirp_net_stats *st)
{
	(void)s;
	memset(st, 0, sizeof(*st));
}

void slirp_net_set_deliver(struct slirp_net *s,
			   bool (*deliver)(void *ctx, const void *frame, size_t len),
			   void *ctx)
{
	(void)s;
	(void)deliver;
	(void)ctx;
}

#endif
