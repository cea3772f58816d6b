// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of the GICv3 ITS (--transport pci's MSI-X) through KVM: what
 * KVM keeps of the LPIs goes to guest RAM and the registers into the
 * ARM64_ITS section (its_state.h) on saving, and back in KVM's order on
 * loading (docs/snapshot.md). Cross-built; it runs only in the arm64 lab.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arm64/arm64.h"
#include "arch/arm64/its_state.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/vm.h"

/*
 * The ITS. Its registers (KVM_DEV_ARM_VGIC_GRP_ITS_REGS) are 64-bit
 * values whatever their width; the redistributors' LPI registers are
 * REDIST_REGS of the RD frame, in 32-bit halves as every REDIST_REGS.
 */
#define GICR_CTLR		0x0000
#define GICR_PROPBASER		0x0070
#define GICR_PENDBASER		0x0078
#define GITS_CTLR		0x0000
#define GITS_IIDR		0x0004
#define GITS_CBASER		0x0080
#define GITS_CWRITER		0x0088
#define GITS_CREADR		0x0090
#define GITS_BASER		0x0100

static int dev_attr(int fd, bool set, uint32_t group, uint64_t attr, void *val)
{
	struct kvm_device_attr da = { .group = group, .attr = attr, .addr = (uintptr_t)val };

	return ioctl(fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR, &da) < 0 ? -errno : 0;
}

static uint64_t gicr_attr(struct arm64_vm *a, unsigned int cpu, uint32_t off)
{
	return (uint64_t)a->mpidr[cpu] << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT | off;
}

/* A 64-bit redistributor register, in halves. */
static int gicr_get64(struct arm64_vm *a, unsigned int cpu, uint32_t off, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;
	int err = dev_attr(a->gic_fd, false, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			   gicr_attr(a, cpu, off), &lo) ?:
		  dev_attr(a->gic_fd, false, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			   gicr_attr(a, cpu, off + 4), &hi);

	*v = (uint64_t)hi << 32 | lo;
	return err;
}

static int gicr_set64(struct arm64_vm *a, unsigned int cpu, uint32_t off, uint64_t v)
{
	uint32_t lo = v, hi = v >> 32;

	return dev_attr(a->gic_fd, true, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			gicr_attr(a, cpu, off), &lo) ?:
	       dev_attr(a->gic_fd, true, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			gicr_attr(a, cpu, off + 4), &hi);
}

static int gits_get(struct arm64_vm *a, uint32_t off, uint64_t *v)
{
	return dev_attr(a->its_fd, false, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, off, v);
}

/* KVM writes the LPIs' pending bits and the ITS's device, collection and
 * translation tables into guest RAM (where the guest's GICR_PENDBASER and
 * GITS_BASER<n> put them), which snapshot_write() saves after this. */
int arm64_its_save(struct vm *vm, struct snap_writer *w)
{
	struct arm64_vm *a = vm->arch;
	struct its_state s = { .cpus = vm->cfg.cpus };
	const char *what = "the LPIs' pending tables";
	int err;

	s.rd = calloc(s.cpus, sizeof(*s.rd));
	if (!s.rd) {
		pr_err("snapshot: out of memory for the ITS's state");
		return -ENOMEM;
	}
	err = dev_attr(a->gic_fd, true, KVM_DEV_ARM_VGIC_GRP_CTRL,
		       KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES, NULL);
	if (!err) {
		what = "the ITS's tables";
		err = dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_CTRL,
			       KVM_DEV_ARM_ITS_SAVE_TABLES, NULL);
	}
	for (unsigned int i = 0; i < s.cpus && !err; i++) {
		what = "a redistributor's LPI registers";
		err = gicr_get64(a, i, GICR_PROPBASER, &s.rd[i].propbaser) ?:
		      gicr_get64(a, i, GICR_PENDBASER, &s.rd[i].pendbaser) ?:
		      dev_attr(a->gic_fd, false, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			       gicr_attr(a, i, GICR_CTLR), &s.rd[i].ctlr);
	}
	if (!err) {
		what = "the ITS's registers";
		err = gits_get(a, GITS_IIDR, &s.iidr) ?:
		      gits_get(a, GITS_CBASER, &s.cbaser) ?:
		      gits_get(a, GITS_CREADR, &s.creadr) ?:
		      gits_get(a, GITS_CWRITER, &s.cwriter) ?:
		      gits_get(a, GITS_CTLR, &s.ctlr);
	}
	for (int n = 0; n < ITS_STATE_BASERS && !err; n++)
		err = gits_get(a, GITS_BASER + 8 * n, &s.baser[n]);
	if (err) {
		pr_err("snapshot: cannot save the GICv3 ITS: %s: %s: the VM keeps running",
		       what, strerror(-err));
	} else {
		its_state_put(snap_begin(w, SNAP_TAG_ARM64_ITS, 0), &s);
		snap_end(w);
	}
	free(s.rd);
	return err;
}

/*
 * KVM's order (Documentation/virt/kvm/devices/arm-vgic-its.rst): guest
 * memory (loaded before this), the redistributors, whose LPI base
 * registers go in before GICR_CTLR enables LPIs; then the ITS: GITS_IIDR
 * (its revision is the tables' layout), GITS_CBASER (which resets
 * GITS_CREADR), GITS_CREADR, GITS_CWRITER, GITS_BASER<n>, the tables
 * from guest RAM, and GITS_CTLR last, which may enable it.
 */
int arm64_its_load(struct vm *vm, const struct snap_reader *r, const struct sbuf_rd *b)
{
	struct arm64_vm *a = vm->arch;
	struct its_state s = { .cpus = vm->cfg.cpus };
	const char *what = "a redistributor's LPI registers";
	int err;

	s.rd = calloc(s.cpus, sizeof(*s.rd));
	if (!s.rd) {
		pr_err("snapshot %s: out of memory for the ITS's state", r->name);
		return -ENOMEM;
	}
	if (its_state_get(b->data, b->len, &s)) {
		pr_err("snapshot %s: the GICv3 ITS's state is malformed: take a new snapshot",
		       r->name);
		free(s.rd);
		return -EINVAL;
	}
	err = 0;
	for (unsigned int i = 0; i < s.cpus && !err; i++)
		err = gicr_set64(a, i, GICR_PROPBASER, s.rd[i].propbaser) ?:
		      gicr_set64(a, i, GICR_PENDBASER, s.rd[i].pendbaser) ?:
		      dev_attr(a->gic_fd, true, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
			       gicr_attr(a, i, GICR_CTLR), &s.rd[i].ctlr);
	if (!err) {
		what = "the ITS's registers";
		err = dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, GITS_IIDR, &s.iidr) ?:
		      dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, GITS_CBASER, &s.cbaser) ?:
		      dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, GITS_CREADR, &s.creadr) ?:
		      dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, GITS_CWRITER, &s.cwriter);
	}
	for (int n = 0; n < ITS_STATE_BASERS && !err; n++)
		err = dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS,
			       GITS_BASER + 8 * n, &s.baser[n]);
	if (!err) {
		what = "the ITS's tables in guest memory";
		err = dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_CTRL,
			       KVM_DEV_ARM_ITS_RESTORE_TABLES, NULL);
	}
	if (!err) {
		what = "GITS_CTLR";
		err = dev_attr(a->its_fd, true, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, GITS_CTLR, &s.ctlr);
	}
	if (err)
		pr_err("snapshot %s: KVM refused the GICv3 ITS's state (%s): %s: restore on a host like the one the snapshot came from",
		       r->name, what, strerror(-err));
	free(s.rd);
	return err;
}
