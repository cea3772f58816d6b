/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O thread's event loop (epoll). Console input, signals, timers and,
 * later, device queue kicks all arrive here; nothing ever polls.
 */
#ifndef KVMINI_EVLOOP_H
#define KVMINI_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct ev_handler {
	int fd;
	void (*fn)(struct ev_handler *h, uint32_t events);
};

struct evloop {
	int epfd;
	bool stop;
};

int evloop_init(struct evloop *l);
void evloop_exit(struct evloop *l);
/* events: EPOLLIN and friends; the handler must outlive its registration. */
int evloop_add(struct evloop *l, struct ev_handler *h, uint32_t events);
int evloop_mod(struct evloop *l, struct ev_handler *h, uint32_t events);
void evloop_del(struct evloop *l, struct ev_handler *h);
/* Dispatches events until a handler sets l->stop. 0 or -errno. */
int evloop_run(struct evloop *l);

#endif
