// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU state: CPUID with each vCPU's own APIC ID and the topology, MSRs,
 * the local APIC's LINT pins, and the boot CPU's registers at the entry.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/x86.h"
#include "lib/log.h"
#include "vmm/vm.h"

#define CPUID_MAX_ENTRIES	256
#define CPUID_HYPERVISOR	(1U << 31)
#define CPUID_HTT		(1U << 28)
#define CPUID_TSC_DEADLINE	(1U << 24)

#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SYSCALL_MASK	0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_IA32_TSC		0x10

#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_MODE_NMI		0x4
#define APIC_MODE_EXTINT	0x7

static unsigned int order_base_2(unsigned int n)
{
	unsigned int b = 0;

	while ((1U << b) < n)
		b++;
	return b;
}

/*
 * Every vCPU is one core of one socket: APIC ID = vCPU index.
 * The TSC-deadline timer is KVM's to emulate (KVM_CAP_TSC_DEADLINE_TIMER),
 * but KVM_GET_SUPPORTED_CPUID leaves its bit out; QEMU sets it. Without it
 * Linux calibrates the local APIC timer against the PIT's ticks, and in
 * the lab the exit census (bench/README.md) saw that take 0.35-0.7 s of a
 * boot, fail its check ("APIC timer disabled due to verification
 * failure") and leave the guest on the PIT: an exit and an EOI per tick.
 */
static void cpuid_patch(struct kvm_cpuid_entry2 *e, unsigned int id, unsigned int ncpus,
			bool tsc_deadline)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffff) | (id << 24) | ((ncpus & 0xff) << 16);
		e->ecx |= CPUID_HYPERVISOR;
		if (tsc_deadline)
			e->ecx |= CPUID_TSC_DEADLINE;
		if (ncpus > 1)
			e->edx |= CPUID_HTT;
		break;
	case 4:
		e->eax = (e->eax & 0x3ffffff) | ((ncpus - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		e->edx = id;
		if (e->index == 0) {		/* SMT level: one thread */
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1 << 8) | 0;
		} else if (e->index == 1) {	/* core level */
			e->eax = order_base_2(ncpus);
			e->ebx = ncpus;
			e->ecx = (2 << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffU) | (order_base_2(ncpus) << 12) | (ncpus - 1);
		break;
	}
}

static int cpu_set_cpuid(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_cpuid2 *cpuid;
	bool tsc_deadline = kvm_check_cap(vm, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	int err = 0;

	cpuid = calloc(1, sizeof(*cpuid) + CPUID_MAX_ENTRIES * sizeof(cpuid->entries[0]));
	if (!cpuid)
		return -ENOMEM;
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		pr_err("KVM_GET_SUPPORTED_CPUID failed: %s", strerror(errno));
		err = -errno;
		goto out;
	}
	for (unsigned int i = 0; i < cpuid->nent; i++)
		cpuid_patch(&cpuid->entries[i], vcpu->id, vm->cfg.cpus, tsc_deadline);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0) {
		pr_err("KVM_SET_CPUID2 failed on vCPU %u: %s", vcpu->id, strerror(errno));
		err = -errno;
	}
out:
	free(cpuid);
	return err;
}

static const struct { uint32_t index; uint64_t data; } cpu_msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0 },
	{ MSR_IA32_SYSENTER_ESP, 0 },
	{ MSR_IA32_SYSENTER_EIP, 0 },
	{ MSR_STAR, 0 },
	{ MSR_CSTAR, 0 },
	{ MSR_KERNEL_GS_BASE, 0 },
	{ MSR_SYSCALL_MASK, 0 },
	{ MSR_LSTAR, 0 },
	{ MSR_IA32_TSC, 0 },
	{ MSR_IA32_MISC_ENABLE, 1 },			/* fast strings */
	{ MSR_MTRR_DEF_TYPE, (1 << 11) | 6 },		/* MTRRs on, write-back */
};

/* Sets the MSRs above that this KVM knows; others stay at KVM's reset
 * values (a paravirtual KVM may not implement MTRRs, say). */
static int cpu_set_msrs(struct vcpu *vcpu)
{
	const size_t n = sizeof(cpu_msrs) / sizeof(cpu_msrs[0]);
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[sizeof(cpu_msrs) / sizeof(cpu_msrs[0])];
	} msrs = { 0 };
	struct {
		struct kvm_msr_list hdr;
		uint32_t idx[1024];
	} list = { .hdr.nmsrs = 1024 };
	unsigned int k = 0;

	if (ioctl(vcpu->vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &list) < 0)
		list.hdr.nmsrs = 0;
	for (size_t i = 0; i < n; i++) {
		for (unsigned int j = 0; j < list.hdr.nmsrs; j++) {
			if (list.idx[j] == cpu_msrs[i].index) {
				msrs.e[k].index = cpu_msrs[i].index;
				msrs.e[k++].data = cpu_msrs[i].data;
				break;
			}
		}
	}
	msrs.hdr.nmsrs = k;
	if (k && ioctl(vcpu->fd, KVM_SET_MSRS, &msrs) < 0) {
		pr_err("KVM_SET_MSRS failed on vCPU %u: %s", vcpu->id, strerror(errno));
		return -errno;
	}
	return 0;
}

static void lapic_set_lvt(struct kvm_lapic_state *l, unsigned int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, l->regs + reg, 4);
	v = (v & ~0x700U) | (mode << 8);
	memcpy(l->regs + reg, &v, 4);
}

/* LINT0 delivers the 8259's interrupts, LINT1 NMIs, as on a PC. */
static int cpu_set_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state l;

	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lapic_set_lvt(&l, APIC_LVT0, APIC_MODE_EXTINT);
	lapic_set_lvt(&l, APIC_LVT1, APIC_MODE_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

static int cpu_set_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

static struct kvm_segment seg_flat(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code64, .s = 1, .l = code64, .g = 1,
	};
}

static int cpu_set_boot_sregs(struct vcpu *vcpu, const struct x86_boot *b)
{
	struct kvm_sregs s;
	struct kvm_segment data = seg_flat(X86_BOOT_DS, 3, false);

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	s.cs = seg_flat(X86_BOOT_CS, 11, !b->pvh);
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = (struct kvm_segment){ .selector = X86_BOOT_TSS, .limit = 0x67,
				     .type = 11, .present = 1 };
	s.gdt.base = X86_GDT_ADDR;
	s.gdt.limit = 5 * 8 - 1;
	s.idt.base = X86_IDT_ADDR;
	s.idt.limit = 7;
	if (b->pvh) {
		/* PVH: 32-bit protected mode, paging off. */
		s.cr0 = 0x11;			/* PE, ET */
		s.cr4 = 0;
		s.efer = 0;
	} else {
		s.cr3 = X86_PML4;
		s.cr4 = 0x20;			/* PAE */
		s.cr0 = 0x80000011;		/* PG, ET, PE */
		s.efer = 0x500;			/* LME, LMA */
	}
	return ioctl(vcpu->fd, KVM_SET_SREGS, &s) < 0 ? -errno : 0;
}

static int cpu_set_boot_regs(struct vcpu *vcpu, const struct x86_boot *b)
{
	struct kvm_regs r = { .rflags = 2, .rip = b->entry };

	if (b->pvh)
		r.rbx = b->boot_info;
	else
		r.rsi = b->boot_info;
	return ioctl(vcpu->fd, KVM_SET_REGS, &r) < 0 ? -errno : 0;
}

int arch_vcpu_init(struct vcpu *vcpu)
{
	struct x86_vm *x = vcpu->vm->arch;
	int err;

	err = cpu_set_cpuid(vcpu);
	if (!err)
		err = cpu_set_msrs(vcpu);
	if (err)
		return err;
	err = cpu_set_lapic(vcpu);
	if (!err)
		err = cpu_set_fpu(vcpu);
	/* The other vCPUs wait for INIT/SIPI from the boot CPU. */
	if (!err && vcpu->id == 0)
		err = cpu_set_boot_sregs(vcpu, &x->boot);
	if (!err && vcpu->id == 0)
		err = cpu_set_boot_regs(vcpu, &x->boot);
	if (err)
		pr_err("cannot set up vCPU %u: %s", vcpu->id, strerror(-err));
	return err;
}
