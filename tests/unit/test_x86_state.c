// SPDX-License-Identifier: GPL-2.0
/*
 * arch/x86/state.c on this host's KVM: two VMs, distinctive state set in
 * the first, saved, loaded into the second and read back field by field;
 * a tiny 64-bit guest counting in RBX that goes on counting in the second
 * VM from where the first stopped; a snapshot needing CPU features this
 * host lacks is refused. Without /dev/kvm: unit: SKIP.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "lib/snapfile.h"
#include "vmm/arch.h"
#include "vmm/vm.h"

#define MEM_SIZE	(2 << 20)
#define PML4		0x1000
#define PDPT		0x2000
#define PD		0x3000
#define CODE		0x4000
#define COUNT_PORT	0x10
#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_KERNEL_GS	0xc0000102
#define MSR_TSC		0x10
#define XSAVE_XMM3	(160 + 3 * 16)	/* in the legacy region */
#define XSAVE_XSTATE_BV	512

struct tvm {
	struct vm vm;
	struct vcpu vcpu;
	uint8_t *mem;
	size_t run_size;
};

static void set_cpuid(struct tvm *t)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(c->entries[0]));

	ck_assert_ptr_nonnull(c);
	c->nent = 256;
	ck_assert_int_eq(ioctl(t->vm.kvm_fd, KVM_GET_SUPPORTED_CPUID, c), 0);
	ck_assert_int_eq(ioctl(t->vcpu.fd, KVM_SET_CPUID2, c), 0);
	free(c);
}

/* A VM with kvmini's machine pieces (irqchip, PIT), 2 MiB of RAM holding
 * identity page tables and the counting loop, one vCPU in 64-bit mode at
 * the loop. false (and a SKIP) without /dev/kvm. */
static bool tvm_create(struct tvm *t)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	struct kvm_userspace_memory_region region;
	static const uint8_t code[] = {
		0x48, 0xff, 0xc3,		/* inc %rbx */
		0xe6, COUNT_PORT,		/* out %al, $COUNT_PORT */
		0xeb, 0xf9,			/* jmp back to inc */
	};
	uint64_t *pt;

	memset(t, 0, sizeof(*t));
	t->vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (t->vm.kvm_fd < 0) {
		unit_skip("x86 state: no /dev/kvm here (%s)", strerror(errno));
		return false;
	}
	t->vm.vm_fd = ioctl(t->vm.kvm_fd, KVM_CREATE_VM, 0);
	ck_assert_int_ge(t->vm.vm_fd, 0);
	t->vm.cfg.cpus = 1;
	t->vm.vcpus = &t->vcpu;
	ck_assert_int_eq(ioctl(t->vm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL), 0);
	ck_assert_int_eq(ioctl(t->vm.vm_fd, KVM_CREATE_IRQCHIP, 0), 0);
	ck_assert_int_eq(ioctl(t->vm.vm_fd, KVM_CREATE_PIT2, &pit), 0);

	t->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(t->mem, MAP_FAILED);
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uintptr_t)t->mem,
	};
	ck_assert_int_eq(ioctl(t->vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region), 0);
	pt = (uint64_t *)(t->mem + PML4);
	pt[0] = PDPT | 3;
	pt = (uint64_t *)(t->mem + PDPT);
	pt[0] = PD | 3;
	pt = (uint64_t *)(t->mem + PD);
	pt[0] = 0x83;				/* 2 MiB page at 0 */
	memcpy(t->mem + CODE, code, sizeof(code));

	t->vcpu.vm = &t->vm;
	t->vcpu.id = 0;
	t->vcpu.fd = ioctl(t->vm.vm_fd, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(t->vcpu.fd, 0);
	t->run_size = ioctl(t->vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	t->vcpu.run = mmap(NULL, t->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->vcpu.fd, 0);
	ck_assert_ptr_ne(t->vcpu.run, MAP_FAILED);
	set_cpuid(t);
	return true;
}

static void tvm_boot_regs(struct tvm *t)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 8, .type = 11,
		.present = 1, .s = 1, .l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_regs r = { .rflags = 2, .rip = CODE };
	struct kvm_sregs s;

	data.selector = 16;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	ck_assert_int_eq(ioctl(t->vcpu.fd, KVM_GET_SREGS, &s), 0);
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr3 = PML4;
	s.cr4 = 0x20;				/* PAE */
	s.cr0 = 0x80000011;			/* PG, ET, PE */
	s.efer = 0x500;				/* LME, LMA */
	ck_assert_int_eq(ioctl(t->vcpu.fd, KVM_SET_SREGS, &s), 0);
	ck_assert_int_eq(ioctl(t->vcpu.fd, KVM_SET_REGS, &r), 0);
}

static void tvm_destroy(struct tvm *t)
{
	munmap(t->vcpu.run, t->run_size);
	close(t->vcpu.fd);
	munmap(t->mem, MEM_SIZE);
	close(t->vm.vm_fd);
	close(t->vm.kvm_fd);
}

/* Runs to the next exit; it must be the loop's OUT. */
static void tvm_run_to_out(struct tvm *t)
{
	int r;

	do
		r = ioctl(t->vcpu.fd, KVM_RUN, 0);
	while (r < 0 && errno == EINTR);
	ck_assert_int_eq(r, 0);
	ck_assert_msg(t->vcpu.run->exit_reason == KVM_EXIT_IO,
		      "exit reason %u, not KVM_EXIT_IO", t->vcpu.run->exit_reason);
	ck_assert_uint_eq(t->vcpu.run->io.port, COUNT_PORT);
}

/* Saves t into a sealed, parsed snapshot. false: KVM refused a piece on
 * this host, and the test said so (SKIP, naming it). */
static bool save(struct tvm *t, struct snap_writer *w, struct snap_reader *r)
{
	struct unit_capture_std c;
	struct snap_writer w0;
	char *out, *err;
	int ret;

	snap_writer_init(&w0, SNAP_ARCH_HOST, "test");
	unit_capture_std_begin(&c);
	ret = arch_vm_save(&t->vm, &w0);
	if (!ret)
		ret = arch_vcpu_save(&t->vcpu, &w0);
	unit_capture_std_end(&c, &out, &err);
	if (ret) {
		unit_skip("x86 state: this host's KVM refused a save: %s", err);
		free(out);
		free(err);
		snap_writer_free(&w0);
		return false;
	}
	free(out);
	free(err);
	/* The CPUID saved is what KVM_GET_CPUID2 says, even where that is
	 * the host's own (kvm_pvm): the load's feature check counts what
	 * this CPU has natively as present (arch/x86/state.c). */
	*w = w0;
	ck_assert_int_eq(snap_finish(w), 0);
	ck_assert_int_eq(snap_parse(r, w->buf.data, w->buf.len, "T/state"), 0);
	return true;
}

static bool load(struct tvm *t, const struct snap_reader *r)
{
	struct unit_capture_std c;
	char *out, *err;
	int ret;

	unit_capture_std_begin(&c);
	ret = arch_vm_load(&t->vm, r);
	if (!ret)
		ret = arch_vcpu_load(&t->vcpu, r);
	unit_capture_std_end(&c, &out, &err);
	if (ret)
		unit_skip("x86 state: this host's KVM refused a load: %s", err);
	free(out);
	free(err);
	return !ret;
}

static uint64_t get_msr(struct tvm *t, uint32_t index)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index };

	ck_assert_int_eq(ioctl(t->vcpu.fd, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

static void set_msr(struct tvm *t, uint32_t index, uint64_t data)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = index, .e.data = data };

	ck_assert_int_eq(ioctl(t->vcpu.fd, KVM_SET_MSRS, &m), 1);
}

static uint32_t lapic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, l->regs + off, 4);
	return v;
}

static void set_lapic_reg(struct kvm_lapic_state *l, unsigned int off, uint32_t v)
{
	memcpy(l->regs + off, &v, 4);
}

START_TEST(test_x86_state_fields)
{
	struct tvm a, b;
	struct snap_writer w;
	struct snap_reader r;
	struct kvm_regs ra, rb;
	struct kvm_sregs sa, sb;
	struct kvm_lapic_state la, lb;
	struct kvm_debugregs da, db;
	struct kvm_pit_state2 pa, pb;
	struct kvm_irqchip ia = { .chip_id = KVM_IRQCHIP_PIC_MASTER }, ib = ia;
	struct kvm_irqchip oa = { .chip_id = KVM_IRQCHIP_IOAPIC }, ob = oa;
	struct kvm_clock_data ca, cb;
	struct kvm_xsave xsa;
	uint8_t *xs;
	struct kvm_fpu fb;
	struct kvm_xcrs xa, xb;
	struct kvm_vcpu_events ea, eb;
	struct kvm_mp_state ma, mb;

	if (!tvm_create(&a))
		return;
	ck_assert(tvm_create(&b));
	tvm_boot_regs(&a);

	/* Distinctive values everywhere. */
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_REGS, &ra), 0);
	ra.rax = 0x1111222233334444ULL;
	ra.rbx = 0xb0b0;
	ra.r15 = 0xf00df00dULL;
	ra.rsp = 0x1ff000;
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_REGS, &ra), 0);
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_SREGS, &sa), 0);
	sa.gdt.base = 0x500;
	sa.gdt.limit = 0x27;
	sa.idt.base = 0x5a0;
	sa.idt.limit = 0xff;
	sa.fs.base = 0x7fff0000;
	sa.cr2 = 0xdead000;
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_SREGS, &sa), 0);
	set_msr(&a, MSR_STAR, 0x0023001000000000ULL);
	set_msr(&a, MSR_LSTAR, 0xffffffff81234560ULL);
	set_msr(&a, MSR_KERNEL_GS, 0xffff888012345000ULL);
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_LAPIC, &la), 0);
	set_lapic_reg(&la, 0x80, 0x40);			/* TPR */
	set_lapic_reg(&la, 0x350, 0x700);		/* LVT0: ExtINT */
	set_lapic_reg(&la, 0x360, 0x400);		/* LVT1: NMI */
	set_lapic_reg(&la, 0xf0, 0x1ff);		/* SVR: enabled, vector 0xff */
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_LAPIC, &la), 0);
	memset(&da, 0, sizeof(da));
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_DEBUGREGS, &da), 0);
	da.db[0] = 0x4000;
	da.db[3] = 0x123456;
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_DEBUGREGS, &da), 0);
	memset(&pa, 0, sizeof(pa));
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_GET_PIT2, &pa), 0);
	pa.channels[2].count = 0x1234;
	pa.channels[2].mode = 3;
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_SET_PIT2, &pa), 0);
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_GET_IRQCHIP, &ia), 0);
	ia.chip.pic.imr = 0xa5;
	ia.chip.pic.irq_base = 0x20;
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_SET_IRQCHIP, &ia), 0);
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_GET_IRQCHIP, &oa), 0);
	oa.chip.ioapic.id = 0x5;
	oa.chip.ioapic.redirtbl[9].bits = 0x0100000000000031ULL;	/* masked off, vector 0x31 */
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_SET_IRQCHIP, &oa), 0);
	/* XSAVE carries the SSE registers: one of them, distinctive, put
	 * through XSAVE with the SSE component marked live (KVM_SET_FPU
	 * leaves XSTATE_BV alone, so its XMM values read back as zeroes). */
	memset(&xsa, 0, sizeof(xsa));
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_XSAVE, &xsa), 0);
	xs = (uint8_t *)xsa.region;
	memset(xs + XSAVE_XMM3, 0x5a, 16);
	xs[XSAVE_XMM3] = 0x42;
	xs[XSAVE_XSTATE_BV] |= 2;			/* SSE */
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_XSAVE, &xsa), 0);
	memset(&xa, 0, sizeof(xa));
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_XCRS, &xa), 0);
	ck_assert_uint_ge(xa.nr_xcrs, 1);
	xa.xcrs[0].value = 0x3;				/* x87 | SSE */
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_XCRS, &xa), 0);
	memset(&ea, 0, sizeof(ea));
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_VCPU_EVENTS, &ea), 0);
	ea.nmi.masked = 1;
	ea.interrupt.shadow = 0;
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_VCPU_EVENTS, &ea), 0);
	ma.mp_state = KVM_MP_STATE_HALTED;
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_SET_MP_STATE, &ma), 0);
	memset(&ca, 0, sizeof(ca));
	ca.clock = 5000000000ULL;			/* 5 s into the guest's life */
	ck_assert_int_eq(ioctl(a.vm.vm_fd, KVM_SET_CLOCK, &ca), 0);

	if (!save(&a, &w, &r))
		goto out;
	if (!load(&b, &r))
		goto out_snap;

	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_REGS, &ra), 0);
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_REGS, &rb), 0);
	ck_assert(!memcmp(&ra, &rb, sizeof(ra)));
	ck_assert_uint_eq(rb.rax, 0x1111222233334444ULL);
	ck_assert_uint_eq(rb.r15, 0xf00df00dULL);

	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_SREGS, &sa), 0);
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_SREGS, &sb), 0);
	ck_assert(!memcmp(&sa.cs, &sb.cs, sizeof(sa.cs)));
	ck_assert(!memcmp(&sa.fs, &sb.fs, sizeof(sa.fs)));
	ck_assert_uint_eq(sb.fs.base, 0x7fff0000);
	ck_assert_uint_eq(sb.gdt.base, 0x500);
	ck_assert_uint_eq(sb.idt.base, 0x5a0);
	ck_assert_uint_eq(sb.idt.limit, 0xff);
	ck_assert_uint_eq(sb.cr0, sa.cr0);
	ck_assert_uint_eq(sb.cr2, 0xdead000);
	ck_assert_uint_eq(sb.cr3, PML4);
	ck_assert_uint_eq(sb.cr4, sa.cr4);
	ck_assert_uint_eq(sb.efer, sa.efer);
	ck_assert_uint_eq(sb.apic_base, sa.apic_base);

	ck_assert_uint_eq(get_msr(&b, MSR_STAR), 0x0023001000000000ULL);
	ck_assert_uint_eq(get_msr(&b, MSR_LSTAR), 0xffffffff81234560ULL);
	ck_assert_uint_eq(get_msr(&b, MSR_KERNEL_GS), 0xffff888012345000ULL);
	/* The TSC went across too (it runs on: near, not equal). */
	ck_assert_uint_ge(get_msr(&b, MSR_TSC), get_msr(&a, MSR_TSC) / 2);

	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_LAPIC, &lb), 0);
	ck_assert_uint_eq(lapic_reg(&lb, 0x80), 0x40);
	ck_assert_uint_eq(lapic_reg(&lb, 0x350), 0x700);
	ck_assert_uint_eq(lapic_reg(&lb, 0x360), 0x400);
	ck_assert_uint_eq(lapic_reg(&lb, 0xf0), 0x1ff);

	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_FPU, &fb), 0);
	ck_assert_uint_eq(fb.xmm[3][0], 0x42);
	ck_assert_uint_eq(fb.xmm[3][15], 0x5a);
	memset(&xb, 0, sizeof(xb));
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_XCRS, &xb), 0);
	ck_assert_uint_eq(xb.xcrs[0].value, 0x3);
	memset(&eb, 0, sizeof(eb));
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_VCPU_EVENTS, &eb), 0);
	ck_assert_uint_eq(eb.nmi.masked, 1);
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_MP_STATE, &mb), 0);
	ck_assert_uint_eq(mb.mp_state, KVM_MP_STATE_HALTED);

	memset(&db, 0, sizeof(db));
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_DEBUGREGS, &db), 0);
	ck_assert_uint_eq(db.db[0], 0x4000);
	ck_assert_uint_eq(db.db[3], 0x123456);

	memset(&pb, 0, sizeof(pb));
	ck_assert_int_eq(ioctl(b.vm.vm_fd, KVM_GET_PIT2, &pb), 0);
	ck_assert_uint_eq(pb.channels[2].count, 0x1234);
	ck_assert_uint_eq(pb.channels[2].mode, 3);
	ck_assert_int_eq(ioctl(b.vm.vm_fd, KVM_GET_IRQCHIP, &ib), 0);
	ck_assert_uint_eq(ib.chip.pic.imr, 0xa5);
	ck_assert_uint_eq(ib.chip.pic.irq_base, 0x20);
	ck_assert_int_eq(ioctl(b.vm.vm_fd, KVM_GET_IRQCHIP, &ob), 0);
	ck_assert_uint_eq(ob.chip.ioapic.id, 0x5);
	ck_assert_uint_eq(ob.chip.ioapic.redirtbl[9].bits, 0x0100000000000031ULL);

	/* kvmclock: at least the saved 5 s, and not far past. */
	memset(&cb, 0, sizeof(cb));
	ck_assert_int_eq(ioctl(b.vm.vm_fd, KVM_GET_CLOCK, &cb), 0);
	ck_assert_uint_ge(cb.clock, 5000000000ULL);
	ck_assert_uint_lt(cb.clock, 65000000000ULL);
out_snap:
	snap_reader_free(&r);
	snap_writer_free(&w);
out:
	tvm_destroy(&a);
	tvm_destroy(&b);
}
END_TEST

/* The guest counts in RBX; B goes on from A's count. */
START_TEST(test_x86_state_guest_continues)
{
	struct tvm a, b;
	struct snap_writer w;
	struct snap_reader r;
	struct kvm_regs regs;

	if (!tvm_create(&a))
		return;
	ck_assert(tvm_create(&b));
	tvm_boot_regs(&a);
	for (int i = 0; i < 3; i++)
		tvm_run_to_out(&a);
	ck_assert_int_eq(ioctl(a.vcpu.fd, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rbx, 3);
	if (!save(&a, &w, &r))
		goto out;
	/* B's RAM is A's (the memory file's job in a real restore). */
	memcpy(b.mem, a.mem, MEM_SIZE);
	if (!load(&b, &r))
		goto out_snap;
	tvm_run_to_out(&b);
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rbx, 4);
	ck_assert_uint_eq(regs.rip, CODE + 5);
	tvm_run_to_out(&b);
	ck_assert_int_eq(ioctl(b.vcpu.fd, KVM_GET_REGS, &regs), 0);
	ck_assert_uint_eq(regs.rbx, 5);
out_snap:
	snap_reader_free(&r);
	snap_writer_free(&w);
out:
	tvm_destroy(&a);
	tvm_destroy(&b);
}
END_TEST

/* A CPUID leaf with every feature bit set: no host has them all. */
START_TEST(test_x86_state_foreign_cpu_refused)
{
	struct tvm a, b;
	struct snap_writer w;
	struct snap_reader r;
	struct sbuf_rd p;
	struct kvm_cpuid_entry2 *e;
	uint32_t n;
	bool patched = false;

	if (!tvm_create(&a))
		return;
	ck_assert(tvm_create(&b));
	tvm_boot_regs(&a);
	if (!save(&a, &w, &r))
		goto out;
	ck_assert(snap_find(&r, SNAP_TAG_X86_CPUID, 0, &p));
	n = sbuf_get_u32(&p);
	e = (struct kvm_cpuid_entry2 *)(p.data + p.off);
	for (uint32_t i = 0; i < n; i++) {
		if (e[i].function == 7 && e[i].index == 0) {
			e[i].ebx = 0xffffffff;
			patched = true;
		}
	}
	ck_assert(patched);
	UNIT_EXPECT_ERROR(arch_vcpu_load(&b.vcpu, &r), -ENOTSUP,
			  "needs CPU features this host lacks (CPUID 0x7.0 EBX");
	snap_reader_free(&r);
	snap_writer_free(&w);
out:
	tvm_destroy(&a);
	tvm_destroy(&b);
}
END_TEST

/* A section of the wrong size and a missing one: refused by name. */
START_TEST(test_x86_state_malformed_refused)
{
	struct tvm a, b;
	struct snap_writer w, w2;
	struct snap_reader r, r2;

	if (!tvm_create(&a))
		return;
	ck_assert(tvm_create(&b));
	tvm_boot_regs(&a);
	if (!save(&a, &w, &r))
		goto out;
	/* Every section but the registers, which come one byte short. */
	snap_writer_init(&w2, SNAP_ARCH_HOST, "t");
	for (uint32_t i = 0; i < r.nr_sections; i++) {
		const struct snap_section *s = &r.sects[i];
		size_t len = s->len - (s->tag == SNAP_TAG_X86_REGS);

		snap_add(&w2, s->tag, s->index, r.data + s->off, len);
	}
	ck_assert_int_eq(snap_finish(&w2), 0);
	ck_assert_int_eq(snap_parse(&r2, w2.buf.data, w2.buf.len, "T/state"), 0);
	UNIT_EXPECT_ERROR(arch_vcpu_load(&b.vcpu, &r2), -EINVAL,
			  "registers of 0 is 143 bytes");
	snap_reader_free(&r2);
	snap_writer_free(&w2);

	/* No PIT at all. */
	snap_writer_init(&w2, SNAP_ARCH_HOST, "t");
	for (uint32_t i = 0; i < r.nr_sections; i++) {
		const struct snap_section *s = &r.sects[i];

		if (s->tag != SNAP_TAG_X86_PIT2)
			snap_add(&w2, s->tag, s->index, r.data + s->off, s->len);
	}
	ck_assert_int_eq(snap_finish(&w2), 0);
	ck_assert_int_eq(snap_parse(&r2, w2.buf.data, w2.buf.len, "T/state"), 0);
	UNIT_EXPECT_ERROR(arch_vm_load(&b.vm, &r2), -EINVAL,
			  "no PIT");
	snap_reader_free(&r2);
	snap_writer_free(&w2);
	snap_reader_free(&r);
	snap_writer_free(&w);
out:
	tvm_destroy(&a);
	tvm_destroy(&b);
}
END_TEST

static Suite *x86_state_suite(void)
{
	Suite *s = suite_create("x86_state");
	TCase *tc = tcase_create("kvm");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_x86_state_fields);
	tcase_add_test(tc, test_x86_state_guest_continues);
	tcase_add_test(tc, test_x86_state_foreign_cpu_refused);
	tcase_add_test(tc, test_x86_state_malformed_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(x86_state_suite)
