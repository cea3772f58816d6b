// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state: the host's preferred CPU type with PSCI 0.2, every vCPU but
 * the first powered off until the guest starts it with PSCI CPU_ON (which
 * KVM handles itself), and the boot vCPU's registers at the kernel entry.
 * KVM_ARM_VCPU_INIT comes early (arch_vm_finalize), since the device tree
 * names each CPU by the MPIDR it gives; the entry registers come last.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arm64/arm64.h"
#include "lib/log.h"
#include "vmm/vm.h"

#define ARM64_CORE_REG(x)	(KVM_REG_ARM64 | KVM_REG_SIZE_U64 | \
				 KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))
#define ARM64_MPIDR_EL1		ARM64_SYS_REG(3, 0, 0, 0, 5)
/* Aff2, Aff1, Aff0: what a cpu node's reg holds with #address-cells 1. */
#define ARM64_MPIDR_AFF_MASK	0xffffffULL
#define ARM64_MPIDR_AFF3_MASK	0xff00000000ULL

/* EL1 using SP_EL1, with debug, SError, IRQ and FIQ masked. */
#define ARM64_BOOT_PSTATE	(PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | \
				 PSR_I_BIT | PSR_F_BIT)

static int cpu_set_reg(struct vcpu *vcpu, uint64_t id, uint64_t val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&val };

	return ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int cpu_get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)val };

	return ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg) < 0 ? -errno : 0;
}

static int cpu_init(struct vcpu *vcpu)
{
	struct arm64_vm *a = vcpu->vm->arch;
	struct kvm_vcpu_init init = { .target = a->target };

	init.features[0] = 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (vcpu->id)
		init.features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF;
	return ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init) < 0 ? -errno : 0;
}

/* The device tree names CPUs by the affinity KVM gave them. */
static int cpu_read_mpidr(struct vcpu *vcpu)
{
	struct arm64_vm *a = vcpu->vm->arch;
	uint64_t mpidr;
	int err = cpu_get_reg(vcpu, ARM64_MPIDR_EL1, &mpidr);

	if (err)
		return err;
	if (mpidr & ARM64_MPIDR_AFF3_MASK) {
		pr_err("vCPU %u has an MPIDR (%#llx) beyond what kvmini's device tree describes",
		       vcpu->id, (unsigned long long)mpidr);
		return -ERANGE;
	}
	a->mpidr[vcpu->id] = mpidr & ARM64_MPIDR_AFF_MASK;
	return 0;
}

/* Documentation/arm64/booting.rst: x0 = device tree, x1-x3 = 0, MMU off. */
static int cpu_set_boot_regs(struct vcpu *vcpu)
{
	struct arm64_vm *a = vcpu->vm->arch;
	int err = 0;

	for (int i = 1; i < 4 && !err; i++)
		err = cpu_set_reg(vcpu, ARM64_CORE_REG(regs.regs[i]), 0);
	return err ?: cpu_set_reg(vcpu, ARM64_CORE_REG(regs.regs[0]), a->boot.dtb) ?:
	       cpu_set_reg(vcpu, ARM64_CORE_REG(regs.pstate), ARM64_BOOT_PSTATE) ?:
	       cpu_set_reg(vcpu, ARM64_CORE_REG(regs.pc), a->boot.entry);
}

int arm64_vcpu_setup(struct vcpu *vcpu)
{
	int err = cpu_init(vcpu);

	if (err) {
		pr_err("KVM_ARM_VCPU_INIT failed on vCPU %u: %s", vcpu->id, strerror(-err));
		return err;
	}
	err = cpu_read_mpidr(vcpu);
	if (err && err != -ERANGE)
		pr_err("cannot read vCPU %u's MPIDR: %s", vcpu->id, strerror(-err));
	return err;
}

/* The others wait, powered off, for the guest's PSCI CPU_ON. */
int arch_vcpu_init(struct vcpu *vcpu)
{
	int err;

	if (vcpu->id)
		return 0;
	err = cpu_set_boot_regs(vcpu);
	if (err)
		pr_err("cannot set the boot vCPU's registers: %s", strerror(-err));
	return err;
}
