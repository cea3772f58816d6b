// SPDX-License-Identifier: GPL-2.0
/*
 * The ITS section's layout (its_state.h), little-endian:
 *   u32 vCPUs
 *   per vCPU: u64 GICR_PROPBASER, u64 GICR_PENDBASER, u32 GICR_CTLR
 *   u64 GITS_IIDR, GITS_CBASER, GITS_CREADR, GITS_CWRITER,
 *       GITS_BASER0..7, GITS_CTLR
 * The order of the ITS's registers is the order they go back in.
 */
#include <errno.h>

#include "arch/arm64/its_state.h"

#define RD_BYTES	20
#define ITS_BYTES	((5 + ITS_STATE_BASERS) * 8)
#define CPUS_MAX	4096

/* The bits KVM reads back: a value with others set was not written by
 * kvmini. */
#define GICR_CTLR_BITS		0xfULL			/* EnableLPIs, CES, IR, RWP */
#define GITS_CTLR_BITS		(1ULL | 1ULL << 31)	/* Enabled, Quiescent */
#define GITS_CMD_OFFSET		0xfffe0ULL		/* bits 19:5 */

size_t its_state_size(unsigned int cpus)
{
	return 4 + (size_t)cpus * RD_BYTES + ITS_BYTES;
}

void its_state_put(struct sbuf *b, const struct its_state *s)
{
	sbuf_put_u32(b, s->cpus);
	for (unsigned int i = 0; i < s->cpus; i++) {
		sbuf_put_u64(b, s->rd[i].propbaser);
		sbuf_put_u64(b, s->rd[i].pendbaser);
		sbuf_put_u32(b, s->rd[i].ctlr);
	}
	sbuf_put_u64(b, s->iidr);
	sbuf_put_u64(b, s->cbaser);
	sbuf_put_u64(b, s->creadr);
	sbuf_put_u64(b, s->cwriter);
	for (int n = 0; n < ITS_STATE_BASERS; n++)
		sbuf_put_u64(b, s->baser[n]);
	sbuf_put_u64(b, s->ctlr);
}

int its_state_get(const uint8_t *data, size_t len, struct its_state *s)
{
	struct sbuf_rd b;

	if (s->cpus > CPUS_MAX || len != its_state_size(s->cpus))
		return -EINVAL;
	sbuf_rd_init(&b, data, len);
	if (sbuf_get_u32(&b) != s->cpus)
		return -EINVAL;
	for (unsigned int i = 0; i < s->cpus; i++) {
		s->rd[i].propbaser = sbuf_get_u64(&b);
		s->rd[i].pendbaser = sbuf_get_u64(&b);
		s->rd[i].ctlr = sbuf_get_u32(&b);
		if (s->rd[i].ctlr & ~GICR_CTLR_BITS)
			return -EINVAL;
	}
	s->iidr = sbuf_get_u64(&b);
	s->cbaser = sbuf_get_u64(&b);
	s->creadr = sbuf_get_u64(&b);
	s->cwriter = sbuf_get_u64(&b);
	for (int n = 0; n < ITS_STATE_BASERS; n++)
		s->baser[n] = sbuf_get_u64(&b);
	s->ctlr = sbuf_get_u64(&b);
	if (s->iidr > UINT32_MAX || s->ctlr & ~GITS_CTLR_BITS ||
	    s->creadr & ~GITS_CMD_OFFSET || s->cwriter & ~GITS_CMD_OFFSET)
		return -EINVAL;
	return sbuf_rd_done(&b) ? 0 : -EINVAL;
}
