// SPDX-License-Identifier: GPL-2.0
/* Interrupt coalescing: when an interrupt may wait (virtio/coalesce.h). */
#include "virtio/coalesce.h"

void coalesce_request(struct coalesce *c, uint64_t now)
{
	if (c->last_req && now > c->last_req) {
		uint64_t d = now - c->last_req;

		if (d > COALESCE_GAP_MAX)
			d = COALESCE_GAP_MAX;
		/* An eighth of each new gap: the pace, not one outlier. */
		c->gap = c->gap ? c->gap - c->gap / 8 + d / 8 : d;
	}
	c->last_req = now;
	if (c->since_irq < COALESCE_BATCH_MAX)
		c->since_irq++;
}

uint64_t coalesce_deadline(const struct coalesce *c)
{
	uint64_t wait = COALESCE_HOLD_GAPS * c->gap;

	return c->irq_at + (wait < COALESCE_HOLD_MAX ? wait : COALESCE_HOLD_MAX);
}

bool coalesce_hold(struct coalesce *c, uint64_t now)
{
	if (!c->held) {
		if (c->batch < COALESCE_BUSY || !c->gap || !c->irq_at)
			goto due;
		c->held = true;
	}
	if (now < coalesce_deadline(c))
		return true;
due:
	/* A quarter of each new batch: a driver that changes its ways is
	 * followed within a dozen interrupts. */
	c->batch = c->batch - c->batch / 4 + c->since_irq * COALESCE_ONE / 4;
	c->held = false;
	c->since_irq = 0;
	c->irq_at = now;
	return false;
}
