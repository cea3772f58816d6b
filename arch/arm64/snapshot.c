// SPDX-License-Identifier: GPL-2.0
/* Snapshots on arm64: the platform's device (the UART on MMIO), and the
 * ioctls saving makes, on which fds, for the snapshot thread's filter. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>

#include "arch/arm64/arm64.h"
#include "legacy/serial.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/arch.h"
#include "vmm/vm.h"
#include "vmm/vm_uart.h"

int arch_devices_save(struct vm *vm, struct snap_writer *w)
{
	struct arm64_vm *a = vm->arch;

	serial_save(vm_uart_serial(a->uart), snap_begin(w, SNAP_TAG_UART, 0));
	snap_end(w);
	return 0;
}

int arch_devices_load(struct vm *vm, const struct snap_reader *r)
{
	struct arm64_vm *a = vm->arch;
	struct sbuf_rd uart;

	if (!snap_find(r, SNAP_TAG_UART, 0, &uart)) {
		pr_err("snapshot %s: the UART's state is missing: take a new snapshot", r->name);
		return -EINVAL;
	}
	return serial_load(vm_uart_serial(a->uart), uart.data, uart.len) ? -EINVAL : 0;
}

/*
 * Nothing tells an arm64 guest yet that it is a copy: Linux 6.1 finds a
 * VM generation ID only through ACPI, which kvmini's arm64 machine does
 * not have (a device-tree binding came in Linux 6.10). docs/snapshot.md.
 */
int arch_vm_restored(struct vm *vm)
{
	(void)vm;
	return 0;
}

const unsigned long arch_snapshot_vcpu_ioctls[] = {
	KVM_GET_ONE_REG, KVM_GET_REG_LIST, KVM_GET_MP_STATE, 0,
};
const unsigned long arch_snapshot_vm_ioctls[] = { KVM_CHECK_EXTENSION, 0 };
const unsigned long arch_snapshot_kvm_ioctls[] = { KVM_CHECK_EXTENSION, 0 };

/*
 * The vGIC's registers are read through its device fd; with an ITS,
 * saving also asks KVM (a KVM_SET_DEVICE_ATTR of the CTRL group on each)
 * to write the LPIs' pending bits and the ITS's tables into guest RAM,
 * and reads the ITS's registers.
 */
static const unsigned long gic_ioctls[] = { KVM_GET_DEVICE_ATTR, 0 };
static const unsigned long gic_its_ioctls[] = {
	KVM_GET_DEVICE_ATTR, KVM_SET_DEVICE_ATTR, 0,
};

unsigned int arch_snapshot_devs(struct vm *vm, struct arch_snapshot_dev *devs,
				unsigned int max)
{
	struct arm64_vm *a = vm->arch;
	bool its = a->its_fd >= 0;
	unsigned int n = 0;

	if (a->gic_fd >= 0 && n < max)
		devs[n++] = (struct arch_snapshot_dev){
			.fd = a->gic_fd, .ioctls = its ? gic_its_ioctls : gic_ioctls,
		};
	if (its && n < max)
		devs[n++] = (struct arch_snapshot_dev){ .fd = a->its_fd, .ioctls = gic_its_ioctls };
	return n;
}
