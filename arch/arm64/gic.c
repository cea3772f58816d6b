// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel interrupt controller: a GICv3 where the host can emulate
 * one, else a GICv2. It is created with the VM (its regions go in the
 * memory map) and initialised once every vCPU exists, as KVM requires.
 * With --transport pci, a GICv3 also gets an ITS (KVM_DEV_TYPE_ARM_VGIC_ITS)
 * for MSI-X; a host without one leaves PCI functions their INTx.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arm64/arm64.h"
#include "lib/log.h"
#include "vmm/vm.h"

static int gic_set_attr(int fd, uint32_t group, uint64_t attr, const void *val)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uintptr_t)val,
	};

	return ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0 ? -errno : 0;
}

static int gic_create_device(struct vm *vm, uint32_t type)
{
	struct kvm_create_device dev = { .type = type };

	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &dev) < 0)
		return -errno;
	return dev.fd;
}

static int gic_set_regions(struct arm64_vm *a)
{
	static const uint64_t dist = ARM64_GIC_DIST_BASE;
	static const uint64_t redist = ARM64_GIC_REDIST_BASE;
	static const uint64_t cpu = ARM64_GICV2_CPU_BASE;
	int err;

	if (a->gic_version == 3) {
		err = gic_set_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				   KVM_VGIC_V3_ADDR_TYPE_DIST, &dist);
		/* One contiguous region: two 64 KiB frames per vCPU. */
		return err ?: gic_set_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
					   KVM_VGIC_V3_ADDR_TYPE_REDIST, &redist);
	}
	err = gic_set_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			   KVM_VGIC_V2_ADDR_TYPE_DIST, &dist);
	return err ?: gic_set_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
				   KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu);
}

/*
 * The ITS's frames must be placed before the first vCPU runs, when KVM
 * maps the GIC's regions; KVM_DEV_ARM_VGIC_CTRL_INIT then asks nothing
 * more of it. Creating the ITS is also what makes KVM want a device ID
 * (the requester ID) in every MSI route: KVM_CAP_MSI_DEVID turns on.
 */
static void gic_its_create(struct vm *vm, struct arm64_vm *a)
{
	static const uint64_t base = ARM64_GIC_ITS_BASE;
	int err;

	if (a->gic_version != 3) {
		pr_warn("--transport pci: a GICv2 has no ITS, so PCI functions get INTx only, no MSI-X");
		return;
	}
	a->its_fd = gic_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (a->its_fd < 0) {
		pr_warn("--transport pci: this host's KVM has no GICv3 ITS (%s), so PCI functions get INTx only, no MSI-X",
			strerror(-a->its_fd));
		a->its_fd = -1;
		return;
	}
	err = gic_set_attr(a->its_fd, KVM_DEV_ARM_VGIC_GRP_ADDR,
			   KVM_VGIC_ITS_ADDR_TYPE, &base);
	if (err) {
		pr_warn("--transport pci: KVM refused the ITS's frames (%s), so PCI functions get INTx only, no MSI-X",
			strerror(-err));
		close(a->its_fd);
		a->its_fd = -1;
	}
}

int arm64_gic_create(struct vm *vm)
{
	struct arm64_vm *a = vm->arch;
	int err;

	if (vm->cfg.cpus * ARM64_GIC_REDIST_SIZE > ARM64_GIC_REDIST_MAX) {
		pr_err("--cpus %u: kvmini's arm64 machine has room for at most %llu vCPUs",
		       vm->cfg.cpus, ARM64_GIC_REDIST_MAX / ARM64_GIC_REDIST_SIZE);
		return -EINVAL;
	}
	a->gic_version = 3;
	a->gic_fd = gic_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (a->gic_fd == -ENODEV || a->gic_fd == -ENXIO) {
		/* A host with a GICv2 can only emulate a GICv2. */
		a->gic_version = 2;
		a->gic_fd = gic_create_device(vm, KVM_DEV_TYPE_ARM_VGIC_V2);
	}
	if (a->gic_fd < 0) {
		err = a->gic_fd;
		pr_err("KVM could not create a GICv3 or GICv2: %s", strerror(-err));
		return err;
	}
	if (a->gic_version == 2 && vm->cfg.cpus > ARM64_GICV2_MAX_CPUS) {
		pr_err("--cpus %u: this host's KVM offers only a GICv2, which serves at most %u vCPUs",
		       vm->cfg.cpus, ARM64_GICV2_MAX_CPUS);
		return -EINVAL;
	}
	err = gic_set_regions(a);
	if (err) {
		pr_err("KVM refused the GICv%u's memory regions: %s", a->gic_version,
		       strerror(-err));
		return err;
	}
	if (vm->cfg.transport == TRANSPORT_PCI)
		gic_its_create(vm, a);
	pr_info("interrupt controller: GICv%u%s", a->gic_version,
		a->its_fd >= 0 ? " with an ITS" : "");
	return 0;
}

/* After the last KVM_CREATE_VCPU: the vGIC sizes its redistributors (and
 * KVM's default irqfd routing, GSI = SPI) by the vCPUs that exist. */
int arm64_gic_finalize(struct vm *vm)
{
	struct arm64_vm *a = vm->arch;
	uint32_t nr_irqs = ARM64_GIC_NR_IRQS;
	int err;

	err = gic_set_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs);
	if (!err)
		err = gic_set_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
				   KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (err) {
		pr_err("KVM could not initialise the GICv%u: %s", a->gic_version,
		       strerror(-err));
		return err;
	}
	if (a->its_fd < 0)
		return 0;
	err = gic_set_attr(a->its_fd, KVM_DEV_ARM_VGIC_GRP_CTRL,
			   KVM_DEV_ARM_VGIC_CTRL_INIT, NULL);
	if (err)
		pr_err("KVM could not initialise the GICv3 ITS: %s (use --transport mmio)",
		       strerror(-err));
	return err;
}
