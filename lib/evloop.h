/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The I/O thread's event loop (epoll). Console input, signals, timers,
 * device queue kicks and io_uring completions all arrive here; nothing
 * ever polls.
 */
#ifndef KVMINI_EVLOOP_H
#define KVMINI_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The clock the loop's timerfds run on, in nanoseconds. */
static inline uint64_t evloop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct ev_handler {
	int fd;
	void (*fn)(struct ev_handler *h, uint32_t events);
};

/*
 * Run before every wait, after all the handlers of the previous round,
 * on the I/O thread with no device lock held: for a source that must be
 * re-armed from its own state before the loop sleeps (libslirp hands its
 * descriptors and timeout over anew each round: backend/slirp.c). It must not
 * block; it may add, change and delete handlers, not prepare hooks.
 */
struct ev_prepare {
	void (*fn)(struct ev_prepare *p);
	struct ev_prepare *next;
};

struct evloop {
	int epfd;
	bool stop;
	struct ev_prepare *prepare;	/* a list, run in order */
};

int evloop_init(struct evloop *l);
void evloop_exit(struct evloop *l);
/* events: EPOLLIN and friends; the handler must outlive its registration. */
int evloop_add(struct evloop *l, struct ev_handler *h, uint32_t events);
int evloop_mod(struct evloop *l, struct ev_handler *h, uint32_t events);
void evloop_del(struct evloop *l, struct ev_handler *h);
/* p must outlive its registration; neither is done from a prepare hook. */
void evloop_add_prepare(struct evloop *l, struct ev_prepare *p);
void evloop_del_prepare(struct evloop *l, struct ev_prepare *p);
/* One round: the prepare hooks, a wait of at most timeout_ms (-1: no
 * limit), the handlers of what arrived. The number of events, or -errno
 * (-EINTR when a signal cut the wait short). */
int evloop_run_once(struct evloop *l, int timeout_ms);
/* Dispatches events until a handler sets l->stop. 0 or -errno. */
int evloop_run(struct evloop *l);

#endif
