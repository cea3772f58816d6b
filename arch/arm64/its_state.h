/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The GICv3 ITS's section of a snapshot (SNAP_TAG_ARM64_ITS,
 * docs/snapshot.md): each redistributor's LPI registers, then the ITS's
 * registers, in a fixed layout. its_state.c knows no KVM, so its unit
 * suite runs on any host; its_snap.c reads and writes the registers.
 *
 * its_state_get() treats the bytes as hostile: the exact size for
 * s->cpus vCPUs, and each value within the bits KVM gives for it;
 * 0 or -EINVAL. KVM checks the rest when the values go back in.
 */
#ifndef KVMINI_ARM64_ITS_STATE_H
#define KVMINI_ARM64_ITS_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"

#define ITS_STATE_BASERS	8

struct its_redist_state {
	uint64_t propbaser;	/* GICR_PROPBASER */
	uint64_t pendbaser;	/* GICR_PENDBASER */
	uint32_t ctlr;		/* GICR_CTLR: EnableLPIs */
};

struct its_state {
	unsigned int cpus;		/* set by the caller, with rd */
	struct its_redist_state *rd;	/* cpus of them, the caller's */
	uint64_t iidr, cbaser, creadr, cwriter, baser[ITS_STATE_BASERS], ctlr;
};

/* Bytes for cpus vCPUs. */
size_t its_state_size(unsigned int cpus);
void its_state_put(struct sbuf *b, const struct its_state *s);
int its_state_get(const uint8_t *data, size_t len, struct its_state *s);

/*
 * its_snap.c, for state.c: with every vCPU out of KVM_RUN, has KVM write
 * the LPIs' pending bits and the ITS's tables into guest RAM (saved after
 * this) and adds the section; loads section b (after the GICv3's, before
 * any vCPU runs). 0, or -errno after one error line.
 */
struct vm;
struct snap_writer;
struct snap_reader;
int arm64_its_save(struct vm *vm, struct snap_writer *w);
int arm64_its_load(struct vm *vm, const struct snap_reader *r, const struct sbuf_rd *b);

#endif
