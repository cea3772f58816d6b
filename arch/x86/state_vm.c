// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of KVM's own x86 state per VM (docs/snapshot.md): the PICs
 * and IOAPIC, the PIT and kvmclock. Per vCPU: state.c. Each section is
 * one KVM structure, size-checked before KVM sees it.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/arch.h"
#include "vmm/vm.h"

static int vm_ioctl(struct vm *vm, unsigned long req, const char *name, void *p,
		    const char *ctx)
{
	if (ioctl(vm->vm_fd, req, p) < 0) {
		int err = -errno;

		pr_err("snapshot%s%s: %s failed: %s", ctx ? " " : "", ctx ? ctx : "", name,
		       strerror(errno));
		return err;
	}
	return 0;
}

int arch_vm_save(struct vm *vm, struct snap_writer *w)
{
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct timespec now;
	struct sbuf *b;
	int err;

	for (uint32_t chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_IOAPIC; chip++) {
		struct kvm_irqchip c = { .chip_id = chip };

		err = vm_ioctl(vm, KVM_GET_IRQCHIP, "KVM_GET_IRQCHIP", &c, NULL);
		if (err)
			return err;
		snap_add(w, SNAP_TAG_X86_IRQCHIP, chip, &c, sizeof(c));
	}
	memset(&pit, 0, sizeof(pit));
	err = vm_ioctl(vm, KVM_GET_PIT2, "KVM_GET_PIT2", &pit, NULL);
	if (err)
		return err;
	snap_add(w, SNAP_TAG_X86_PIT2, 0, &pit, sizeof(pit));

	memset(&clock, 0, sizeof(clock));
	err = vm_ioctl(vm, KVM_GET_CLOCK, "KVM_GET_CLOCK", &clock, NULL);
	if (err)
		return err;
	/* KVM's own (clock, realtime) pair when its clocksource allows,
	 * else ours, read right after. */
	if (!(clock.flags & KVM_CLOCK_REALTIME)) {
		clock_gettime(CLOCK_REALTIME, &now);
		clock.realtime = now.tv_sec * 1000000000ULL + now.tv_nsec;
	}
	b = snap_begin(w, SNAP_TAG_X86_CLOCK, 0);
	sbuf_put_u64(b, clock.clock);
	sbuf_put_u32(b, clock.flags);
	sbuf_put_u64(b, clock.realtime);
	snap_end(w);
	return 0;
}

static int vm_need_fixed(const struct snap_reader *r, uint32_t tag, uint32_t index,
			 const char *what, void *p, size_t n)
{
	struct sbuf_rd b;

	if (!snap_find(r, tag, index, &b)) {
		pr_err("snapshot %s: no %s: take a new snapshot", r->name, what);
		return -EINVAL;
	}
	if (b.len != n) {
		pr_err("snapshot %s: the %s is %zu bytes, this kvmini's is %zu: take a new snapshot",
		       r->name, what, b.len, n);
		return -EINVAL;
	}
	sbuf_get(&b, p, n);
	return 0;
}

/*
 * kvmclock: the guest's clock goes on from the saved value plus the wall
 * time the snapshot spent on disk, so that the guest's wall clock is
 * right after a restore (its timers due meanwhile fire at once). KVM does
 * the adding itself when asked with KVM_CLOCK_REALTIME, at the moment of
 * the call, and never steps the clock back; else it is done here, the
 * same way.
 */
static int load_clock(struct vm *vm, const struct snap_reader *r)
{
	struct kvm_clock_data clock = { 0 };
	struct timespec now;
	struct sbuf_rd b;
	uint64_t now_ns;

	if (!snap_find(r, SNAP_TAG_X86_CLOCK, 0, &b)) {
		pr_err("snapshot %s: no kvmclock: take a new snapshot", r->name);
		return -EINVAL;
	}
	clock.clock = sbuf_get_u64(&b);
	sbuf_get_u32(&b);	/* the saving host's flags: for the record */
	clock.realtime = sbuf_get_u64(&b);
	if (!sbuf_rd_done(&b)) {
		pr_err("snapshot %s: the kvmclock section is malformed: take a new snapshot", r->name);
		return -EINVAL;
	}
	if (kvm_check_cap(vm, KVM_CAP_ADJUST_CLOCK) & KVM_CLOCK_REALTIME) {
		clock.flags = KVM_CLOCK_REALTIME;
	} else {
		clock_gettime(CLOCK_REALTIME, &now);
		now_ns = now.tv_sec * 1000000000ULL + now.tv_nsec;
		if (now_ns > clock.realtime)
			clock.clock += now_ns - clock.realtime;
		clock.realtime = 0;
	}
	return vm_ioctl(vm, KVM_SET_CLOCK, "KVM_SET_CLOCK", &clock, r->name);
}

int arch_vm_load(struct vm *vm, const struct snap_reader *r)
{
	static const char *const chips[] = { "PIC master", "PIC slave", "IOAPIC" };
	struct kvm_pit_state2 pit;
	int err;

	for (uint32_t chip = KVM_IRQCHIP_PIC_MASTER; chip <= KVM_IRQCHIP_IOAPIC; chip++) {
		struct kvm_irqchip c;

		err = vm_need_fixed(r, SNAP_TAG_X86_IRQCHIP, chip, chips[chip], &c, sizeof(c));
		if (err)
			return err;
		c.chip_id = chip;	/* the index said which: no other */
		err = vm_ioctl(vm, KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", &c, r->name);
		if (err)
			return err;
	}
	err = vm_need_fixed(r, SNAP_TAG_X86_PIT2, 0, "PIT", &pit, sizeof(pit));
	if (!err)
		err = vm_ioctl(vm, KVM_SET_PIT2, "KVM_SET_PIT2", &pit, r->name);
	if (!err)
		err = load_clock(vm, r);
	return err;
}
