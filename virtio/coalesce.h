/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupt coalescing for a queue whose driver keeps several requests in
 * flight: the policy only, with time passed in (nanoseconds, any
 * monotonic clock), so that it can be tested without one. The device
 * owns the timer and the interrupt (virtio/blk.c).
 *
 * Each interrupt costs the guest exits (the injection, the handler's
 * status read and acknowledgement, the EOI). A driver with one request
 * in flight sends one request per interrupt and waits for each: holding
 * its interrupt would only add latency. A driver that sends more than
 * that, on average over its last interrupts, has other work in flight:
 * its interrupts are spaced COALESCE_HOLD_GAPS of its usual gaps between
 * requests apart (at most COALESCE_HOLD_MAX), and the completions of that
 * time share one. The gap grows with what each exit costs, a few
 * microseconds on hardware, hundreds in the emulated lab, where an
 * interrupt is dear and gathering more for one pays. The average, not
 * the count since the last interrupt, decides: a driver's first request
 * after an interrupt is often done before its second arrives. At queue
 * depth 32 in the lab this takes interrupts from about 0.8 per request
 * to about 0.22 (bench/RESULTS.md).
 *
 * The used ring is published at once either way: a driver that looks
 * (another interrupt, polling) finds the completions there.
 */
#ifndef KVMINI_VIRTIO_COALESCE_H
#define KVMINI_VIRTIO_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#define COALESCE_NSEC_PER_USEC	1000ULL
/* A longer pause between requests is the driver idle, not its pace. */
#define COALESCE_GAP_MAX	(1000 * COALESCE_NSEC_PER_USEC)
/* Interrupts of a busy driver this many gaps apart... */
#define COALESCE_HOLD_GAPS	4
/* ...and at most this long. */
#define COALESCE_HOLD_MAX	(2000 * COALESCE_NSEC_PER_USEC)
/* Requests per interrupt, in sixteenths: busy above one and a quarter. */
#define COALESCE_ONE		16
#define COALESCE_BUSY		(COALESCE_ONE + COALESCE_ONE / 4)
#define COALESCE_BATCH_MAX	1024

struct coalesce {
	uint64_t last_req;	/* the last request; 0: none yet */
	uint64_t gap;		/* moving average of the time between them */
	uint64_t irq_at;	/* the last interrupt; 0: none yet */
	unsigned int since_irq;	/* requests since then */
	unsigned int batch;	/* moving average of since_irq at interrupts */
	bool held;		/* an interrupt is owed */
};

/* A request arrived at now. */
void coalesce_request(struct coalesce *c, uint64_t now);

/*
 * Completions were published at now: true if their interrupt waits (the
 * caller arms a timer for coalesce_deadline()), false if it is due now
 * (the caller raises it, subject to the driver's own suppression).
 */
bool coalesce_hold(struct coalesce *c, uint64_t now);

/* When a held interrupt is due; only while one is held. */
uint64_t coalesce_deadline(const struct coalesce *c);

static inline bool coalesce_held(const struct coalesce *c)
{
	return c->held;
}

/* A device reset: nothing owed, nothing learnt. */
static inline void coalesce_reset(struct coalesce *c)
{
	*c = (struct coalesce){ 0 };
}

#endif
