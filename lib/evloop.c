// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/evloop.h"

int evloop_init(struct evloop *l)
{
	l->stop = false;
	l->prepare = NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void evloop_exit(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

static int evloop_ctl(struct evloop *l, int op, struct ev_handler *h, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = h };

	return epoll_ctl(l->epfd, op, h->fd, &ev) < 0 ? -errno : 0;
}

int evloop_add(struct evloop *l, struct ev_handler *h, uint32_t events)
{
	return evloop_ctl(l, EPOLL_CTL_ADD, h, events);
}

int evloop_mod(struct evloop *l, struct ev_handler *h, uint32_t events)
{
	return evloop_ctl(l, EPOLL_CTL_MOD, h, events);
}

void evloop_del(struct evloop *l, struct ev_handler *h)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, h->fd, NULL);
}

void evloop_add_prepare(struct evloop *l, struct ev_prepare *p)
{
	struct ev_prepare **pp = &l->prepare;

	while (*pp)
		pp = &(*pp)->next;
	p->next = NULL;
	*pp = p;
}

void evloop_del_prepare(struct evloop *l, struct ev_prepare *p)
{
	for (struct ev_prepare **pp = &l->prepare; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[16];
	int n;

	for (struct ev_prepare *p = l->prepare; p; p = p->next)
		p->fn(p);
	n = epoll_wait(l->epfd, ev, 16, timeout_ms);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n && !l->stop; i++) {
		struct ev_handler *h = ev[i].data.ptr;

		h->fn(h, ev[i].events);
	}
	return n;
}

int evloop_run(struct evloop *l)
{
	while (!l->stop) {
		int n = evloop_run_once(l, -1);

		if (n < 0 && n != -EINTR)
			return n;
	}
	return 0;
}
