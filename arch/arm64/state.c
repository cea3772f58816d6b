// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of KVM's own arm64 state (docs/snapshot.md): per vCPU every
 * register KVM_GET_REG_LIST names (core, FP/SIMD, system registers, the
 * timer, the firmware's pseudo-registers) and the MP state; per VM the
 * GICv3's distributor, redistributors, CPU interface system registers and
 * line levels, as (group, attribute, value) triples in the order they go
 * back in: configuration before pending, enabled and active bits.
 *
 * With an ITS (--transport pci's MSI-X), its section follows the GICv3's
 * (its_snap.c).
 *
 * Not saved, said out loud: a GICv2 (snapshot refuses, one line), SVE
 * (kvmini does not enable it, so KVM lists no SVE register). Cross-built;
 * it runs only in the arm64 lab.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arm64/arm64.h"
#include "arch/arm64/its_state.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/arch.h"
#include "vmm/vm.h"

#define REGS_MAX		4096
#define REG_SIZE_MAX		256	/* 2048-bit: the widest KVM has */
#define VGIC_ATTRS_MAX		(1U << 20)

static size_t reg_size(uint64_t id)
{
	return 1UL << ((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);
}

static struct kvm_reg_list *reg_list(struct vcpu *vcpu)
{
	struct kvm_reg_list probe = { .n = 0 }, *l;

	if (ioctl(vcpu->fd, KVM_GET_REG_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	if (probe.n > REGS_MAX)
		return NULL;
	l = calloc(1, sizeof(*l) + probe.n * sizeof(l->reg[0]));
	if (!l)
		return NULL;
	l->n = probe.n;
	if (ioctl(vcpu->fd, KVM_GET_REG_LIST, l) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

int arch_vcpu_save(struct vcpu *vcpu, struct snap_writer *w)
{
	struct kvm_reg_list *l = reg_list(vcpu);
	struct kvm_mp_state mp;
	uint8_t val[REG_SIZE_MAX];
	struct sbuf *b;
	int err = 0;

	if (!l) {
		pr_err("snapshot: cannot save vCPU %u: KVM_GET_REG_LIST failed", vcpu->id);
		return -EIO;
	}
	if (ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp) < 0) {
		err = -errno;
		pr_err("snapshot: cannot save vCPU %u: KVM_GET_MP_STATE failed: %s", vcpu->id,
		       strerror(errno));
		goto out;
	}
	sbuf_put_u32(snap_begin(w, SNAP_TAG_ARM64_MP_STATE, vcpu->id), mp.mp_state);
	snap_end(w);
	b = snap_begin(w, SNAP_TAG_ARM64_REGS, vcpu->id);
	sbuf_put_u32(b, l->n);
	for (uint64_t i = 0; i < l->n; i++) {
		struct kvm_one_reg reg = { .id = l->reg[i], .addr = (uintptr_t)val };
		size_t n = reg_size(reg.id);

		if (n > REG_SIZE_MAX || ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0) {
			err = n > REG_SIZE_MAX ? -E2BIG : -errno;
			pr_err("snapshot: cannot save vCPU %u: register %#llx: %s", vcpu->id,
			       (unsigned long long)reg.id, strerror(-err));
			break;
		}
		sbuf_put_u64(b, reg.id);
		sbuf_put(b, val, n);
	}
	snap_end(w);
out:
	free(l);
	return err;
}

int arch_vcpu_load(struct vcpu *vcpu, const struct snap_reader *r)
{
	struct kvm_mp_state mp;
	uint8_t val[REG_SIZE_MAX];
	struct sbuf_rd b;
	uint32_t n;

	if (!snap_find(r, SNAP_TAG_ARM64_REGS, vcpu->id, &b)) {
		pr_err("snapshot %s: no registers for vCPU %u: take a new snapshot", r->name, vcpu->id);
		return -EINVAL;
	}
	n = sbuf_get_u32(&b);
	if (n > REGS_MAX)
		b.bad = true;
	for (uint32_t i = 0; i < n && !b.bad; i++) {
		struct kvm_one_reg reg = { .id = sbuf_get_u64(&b), .addr = (uintptr_t)val };
		size_t sz = reg_size(reg.id);

		if (sz > REG_SIZE_MAX) {
			b.bad = true;
			break;
		}
		sbuf_get(&b, val, sz);
		if (b.bad)
			break;
		if (ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0) {
			int err = -errno;

			pr_err("snapshot %s: KVM refused register %#llx of vCPU %u: %s: restore on a host like the one the snapshot came from",
			       r->name, (unsigned long long)reg.id, vcpu->id, strerror(errno));
			return err;
		}
	}
	if (!sbuf_rd_done(&b)) {
		pr_err("snapshot %s: the registers of vCPU %u are malformed: take a new snapshot",
		       r->name, vcpu->id);
		return -EINVAL;
	}
	if (!snap_find(r, SNAP_TAG_ARM64_MP_STATE, vcpu->id, &b)) {
		pr_err("snapshot %s: no MP state for vCPU %u: take a new snapshot", r->name, vcpu->id);
		return -EINVAL;
	}
	mp.mp_state = sbuf_get_u32(&b);
	if (!sbuf_rd_done(&b)) {
		pr_err("snapshot %s: the MP state of vCPU %u is malformed: take a new snapshot",
		       r->name, vcpu->id);
		return -EINVAL;
	}
	if (ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp) < 0) {
		int err = -errno;

		pr_err("snapshot %s: vCPU %u: KVM_SET_MP_STATE failed: %s", r->name, vcpu->id,
		       strerror(errno));
		return err;
	}
	return 0;
}

/* The GICv3. Register offsets from the GICv3 architecture. */
#define GICD_CTLR		0x0000
#define GICD_IGROUPR		0x0080
#define GICD_ISENABLER		0x0100
#define GICD_ISPENDR		0x0200
#define GICD_ISACTIVER		0x0300
#define GICD_IPRIORITYR		0x0400
#define GICD_ICFGR		0x0c00
#define GICD_IROUTER		0x6000
#define GICR_SGI		0x10000	/* the SGI/PPI frame */
#define GIC_SPI_BASE		32

#define ICC_REG(op1, crn, crm, op2)	\
	(ARM64_SYS_REG(3, op1, crn, crm, op2) & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK)

/* In the order they go back in: the enables before the rest, the active
 * priorities last; the AP registers past the implemented priority bits
 * do not exist (optional). */
static const struct { uint64_t reg; bool optional; } icc_regs[] = {
	{ ICC_REG(0, 12, 12, 5), false },		/* ICC_SRE_EL1 */
	{ ICC_REG(0, 12, 12, 4), false },		/* ICC_CTLR_EL1 */
	{ ICC_REG(0, 12, 12, 6), false },		/* ICC_IGRPEN0_EL1 */
	{ ICC_REG(0, 12, 12, 7), false },		/* ICC_IGRPEN1_EL1 */
	{ ICC_REG(0, 4, 6, 0), false },		/* ICC_PMR_EL1 */
	{ ICC_REG(0, 12, 8, 3), false },		/* ICC_BPR0_EL1 */
	{ ICC_REG(0, 12, 12, 3), false },		/* ICC_BPR1_EL1 */
	{ ICC_REG(0, 12, 8, 4), true }, { ICC_REG(0, 12, 8, 5), true },	/* ICC_AP0R<n>_EL1 */
	{ ICC_REG(0, 12, 8, 6), true }, { ICC_REG(0, 12, 8, 7), true },
	{ ICC_REG(0, 12, 9, 0), true }, { ICC_REG(0, 12, 9, 1), true },	/* ICC_AP1R<n>_EL1 */
	{ ICC_REG(0, 12, 9, 2), true }, { ICC_REG(0, 12, 9, 3), true },
};

struct vgic_save {
	struct arm64_vm *a;
	struct sbuf *b;
	uint32_t count;
	int err;
};

/* One attribute into the list; an optional one KVM does not have is
 * left out. */
static void vgic_get(struct vgic_save *s, uint32_t group, uint64_t attr, bool optional)
{
	uint64_t v = 0;
	uint32_t v32 = 0;
	bool wide = group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS;
	struct kvm_device_attr da = {
		.group = group, .attr = attr,
		.addr = wide ? (uintptr_t)&v : (uintptr_t)&v32,
	};

	if (s->err)
		return;
	if (ioctl(s->a->gic_fd, KVM_GET_DEVICE_ATTR, &da) < 0) {
		if (optional)
			return;
		s->err = -errno;
		pr_err("snapshot: cannot save the GICv3: group %u attribute %#llx: %s",
		       group, (unsigned long long)attr, strerror(errno));
		return;
	}
	sbuf_put_u32(s->b, group);
	sbuf_put_u64(s->b, attr);
	sbuf_put_u64(s->b, wide ? v : v32);
	s->count++;
}

/* Registers of `bits` bits per interrupt, 32-bit each, for SPIs. */
static void vgic_dist_range(struct vgic_save *s, uint32_t base, unsigned int bits,
			    uint32_t nr_irqs)
{
	for (uint32_t irq = GIC_SPI_BASE; irq < nr_irqs; irq += 32 / bits)
		vgic_get(s, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, base + irq * bits / 8, false);
}

static void vgic_redist(struct vgic_save *s, uint64_t mpidr, uint32_t off)
{
	vgic_get(s, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
		 mpidr << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT | GICR_SGI | off, false);
}

int arch_vm_save(struct vm *vm, struct snap_writer *w)
{
	struct arm64_vm *a = vm->arch;
	struct vgic_save s = { .a = a };
	struct kvm_device_attr da;
	uint32_t nr_irqs = 0;
	size_t count_at;

	if (a->gic_version != 3) {
		pr_err("snapshot: the GICv%u's state is not saved by this kvmini (only a GICv3's): the VM keeps running",
		       a->gic_version);
		return -ENOTSUP;
	}
	da = (struct kvm_device_attr){ .group = KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
				       .addr = (uintptr_t)&nr_irqs };
	if (ioctl(a->gic_fd, KVM_GET_DEVICE_ATTR, &da) < 0 || nr_irqs > 1024) {
		pr_err("snapshot: cannot save the GICv3: its number of interrupts: %s",
		       strerror(errno));
		return -EIO;
	}
	s.b = snap_begin(w, SNAP_TAG_ARM64_VGIC, 0);
	count_at = s.b->len;
	sbuf_put_u32(s.b, 0);		/* the count, below */

	/* Each vCPU's redistributor: SGIs and PPIs. */
	for (unsigned int i = 0; i < vm->cfg.cpus; i++) {
		uint64_t mpidr = a->mpidr[i];

		vgic_redist(&s, mpidr, GICD_IGROUPR);
		vgic_redist(&s, mpidr, GICD_ICFGR);
		vgic_redist(&s, mpidr, GICD_ICFGR + 4);
		for (uint32_t p = 0; p < 32; p += 4)
			vgic_redist(&s, mpidr, GICD_IPRIORITYR + p);
		vgic_redist(&s, mpidr, GICD_ISPENDR);
		vgic_redist(&s, mpidr, GICD_ISENABLER);
		vgic_redist(&s, mpidr, GICD_ISACTIVER);
	}
	/* The distributor: SPIs. Configuration, then the line levels of
	 * level-triggered ones, then pending, enabled and active. */
	vgic_get(&s, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_CTLR, false);
	vgic_dist_range(&s, GICD_IGROUPR, 1, nr_irqs);
	vgic_dist_range(&s, GICD_IPRIORITYR, 8, nr_irqs);
	vgic_dist_range(&s, GICD_ICFGR, 2, nr_irqs);
	for (uint32_t irq = GIC_SPI_BASE; irq < nr_irqs; irq++) {
		vgic_get(&s, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IROUTER + irq * 8, false);
		vgic_get(&s, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, GICD_IROUTER + irq * 8 + 4, false);
	}
	for (uint32_t irq = GIC_SPI_BASE; irq < nr_irqs; irq += 32)
		vgic_get(&s, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
			 (uint64_t)VGIC_LEVEL_INFO_LINE_LEVEL << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT |
			 irq, false);
	vgic_dist_range(&s, GICD_ISPENDR, 1, nr_irqs);
	vgic_dist_range(&s, GICD_ISENABLER, 1, nr_irqs);
	vgic_dist_range(&s, GICD_ISACTIVER, 1, nr_irqs);
	/* Each vCPU's CPU interface. */
	for (unsigned int i = 0; i < vm->cfg.cpus; i++)
		for (size_t k = 0; k < sizeof(icc_regs) / sizeof(icc_regs[0]); k++)
			vgic_get(&s, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS,
				 (uint64_t)a->mpidr[i] << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT |
				 icc_regs[k].reg, icc_regs[k].optional);
	if (sbuf_ok(s.b))
		for (int k = 0; k < 4; k++)
			s.b->data[count_at + k] = s.count >> (8 * k);
	snap_end(w);
	if (!s.err && a->its_fd >= 0)
		return arm64_its_save(vm, w);
	return s.err;
}

static bool vgic_group_ok(uint32_t group, uint64_t value)
{
	switch (group) {
	case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
	case KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO:
		return value <= UINT32_MAX;
	case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
		return true;
	}
	return false;	/* never CTRL, ADDR or ITS: a file does not steer those */
}

int arch_vm_load(struct vm *vm, const struct snap_reader *r)
{
	struct arm64_vm *a = vm->arch;
	struct sbuf_rd b, its;
	bool has_its;
	uint32_t n;

	if (a->gic_version != 3) {
		pr_err("snapshot %s: this VM has a GICv%u, a snapshot holds a GICv3's state: restore on a host with a GICv3",
		       r->name, a->gic_version);
		return -ENOTSUP;
	}
	/* The ITS exists or not by the host (gic_its_create): a snapshot
	 * goes back only into the same kind of machine. */
	has_its = snap_find(r, SNAP_TAG_ARM64_ITS, 0, &its);
	if (has_its && vm->cfg.transport != TRANSPORT_PCI) {
		pr_err("snapshot %s: GICv3 ITS state in a snapshot taken with --transport mmio: the file is corrupt: take a new snapshot",
		       r->name);
		return -EINVAL;
	}
	if (has_its != (a->its_fd >= 0)) {
		pr_err(has_its ?
		       "snapshot %s: taken with a GICv3 ITS (MSI-X), and this host's KVM gives this VM none: restore on a host with an ITS" :
		       "snapshot %s: taken without a GICv3 ITS (INTx only), and this VM has one: restore on a host like the one the snapshot came from",
		       r->name);
		return -EINVAL;
	}
	if (!snap_find(r, SNAP_TAG_ARM64_VGIC, 0, &b)) {
		pr_err("snapshot %s: no GICv3 state: take a new snapshot", r->name);
		return -EINVAL;
	}
	n = sbuf_get_u32(&b);
	if (n > VGIC_ATTRS_MAX || b.len - b.off != n * 20ULL)
		b.bad = true;
	for (uint32_t i = 0; i < n && !b.bad; i++) {
		uint32_t group = sbuf_get_u32(&b), v32;
		uint64_t attr = sbuf_get_u64(&b), v = sbuf_get_u64(&b);
		struct kvm_device_attr da = { .group = group, .attr = attr };

		if (!vgic_group_ok(group, v)) {
			b.bad = true;
			break;
		}
		v32 = v;
		da.addr = group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS ? (uintptr_t)&v : (uintptr_t)&v32;
		if (ioctl(a->gic_fd, KVM_SET_DEVICE_ATTR, &da) < 0) {
			int err = -errno;

			pr_err("snapshot %s: KVM refused GICv3 group %u attribute %#llx: %s: restore with the options the snapshot was taken with",
			       r->name, group, (unsigned long long)attr, strerror(errno));
			return err;
		}
	}
	if (!sbuf_rd_done(&b)) {
		pr_err("snapshot %s: the GICv3 state is malformed: take a new snapshot", r->name);
		return -EINVAL;
	}
	return has_its ? arm64_its_load(vm, r, &its) : 0;
}
