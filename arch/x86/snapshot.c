// SPDX-License-Identifier: GPL-2.0
/* Snapshots on x86: the PC devices every guest has (COM1, the i8042), and
 * the ioctls state.c makes to save, for the snapshot thread's filter. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/x86.h"
#include "legacy/i8042.h"
#include "legacy/serial.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/arch.h"
#include "vmm/vm.h"
#include "vmm/vm_uart.h"

int arch_devices_save(struct vm *vm, struct snap_writer *w)
{
	struct x86_vm *x = vm->arch;

	serial_save(vm_uart_serial(x->uart), snap_begin(w, SNAP_TAG_UART, 0));
	snap_end(w);
	i8042_save(x->i8042, snap_begin(w, SNAP_TAG_I8042, 0));
	snap_end(w);
	return 0;
}

int arch_devices_load(struct vm *vm, const struct snap_reader *r)
{
	struct x86_vm *x = vm->arch;
	struct sbuf_rd uart, kbc;

	if (!snap_find(r, SNAP_TAG_UART, 0, &uart) ||
	    !snap_find(r, SNAP_TAG_I8042, 0, &kbc)) {
		pr_err("snapshot %s: the UART's or the i8042's state is missing: take a new snapshot",
		       r->name);
		return -EINVAL;
	}
	if (serial_load(vm_uart_serial(x->uart), uart.data, uart.len) ||
	    i8042_load(x->i8042, kbc.data, kbc.len))
		return -EINVAL;
	return 0;
}

const unsigned long arch_snapshot_vcpu_ioctls[] = {
	KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_SREGS2, KVM_GET_FPU,
	KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_XCRS, KVM_GET_MSRS,
	KVM_GET_LAPIC, KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE,
	KVM_GET_DEBUGREGS, KVM_GET_CPUID2, KVM_GET_TSC_KHZ, 0,
};
const unsigned long arch_snapshot_vm_ioctls[] = {
	KVM_CHECK_EXTENSION, KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK, 0,
};
const unsigned long arch_snapshot_kvm_ioctls[] = {
	KVM_CHECK_EXTENSION, KVM_GET_MSR_INDEX_LIST, 0,
};

/* The in-kernel irqchip is read through the VM's fd: no device fd. */
unsigned int arch_snapshot_devs(struct vm *vm, struct arch_snapshot_dev *devs,
				unsigned int max)
{
	(void)vm;
	(void)devs;
	(void)max;
	return 0;
}

/*
 * After a restore: a new GUID, then a pulse on the GED's line. The
 * interrupt controllers and LAPICs are loaded by now, so the edge lands
 * in the restored IOAPIC and reaches the guest on its first instruction.
 * KVMINI_TEST_VMGENID=stale leaves the snapshot's GUID and raises
 * nothing: for the lab's control run only (tests/scenarios/snapshot-vmgenid.sh).
 */
int arch_vm_restored(struct vm *vm)
{
	const char *test = getenv("KVMINI_TEST_VMGENID");
	int err;

	if (vm->cfg.no_acpi)
		return 0;
	if (test && !strcmp(test, "stale")) {
		pr_warn("KVMINI_TEST_VMGENID=stale: the VM generation ID is left as the snapshot's");
		return 0;
	}
	err = vmgenid_init(vm);
	if (!err)
		err = arch_irq_line(vm, X86_GED_IRQ, 1);
	if (!err)
		err = arch_irq_line(vm, X86_GED_IRQ, 0);
	if (err)
		pr_err("restore: cannot announce the new VM generation ID: %s", strerror(-err));
	else
		pr_info("new VM generation ID, announced on interrupt %d", X86_GED_IRQ);
	return err;
}
