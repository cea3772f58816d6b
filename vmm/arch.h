/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hooks every architecture implements (arch/x86, arch/arm64). This is
 * the only door between the core and architecture code: nothing outside
 * arch/ includes an arch/ header.
 */
#ifndef KVMINI_ARCH_H
#define KVMINI_ARCH_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;

/* Kernel parameters that make a guest fit kvmini's machine. */
extern const char arch_default_cmdline[];

/* Guest-physical address of the exit device (docs/exit-device.md). */
extern const uint64_t arch_exitdev_base;

/* Where the i-th virtio-mmio device goes: 0, or -ENOSPC past the last. */
int arch_virtio_slot(unsigned int i, uint64_t *base, uint32_t *irq);
/*
 * --transport pci: bus 0's ECAM (1 MiB) and the window BARs go in, or
 * -EOPNOTSUPP where there is no PCI yet; the command-line words that let
 * the kernel probe it (x86: undo the default pci=off).
 */
int arch_pci_layout(uint64_t *ecam, uint64_t *win_base, uint64_t *win_len);
extern const char arch_pci_cmdline[];
/* KVM's default GSI routes (the irqchip pins), which a whole new table
 * (KVM_SET_GSI_ROUTING, for MSI routes) must keep: how many, at most max. */
struct kvm_irq_routing_entry;
unsigned int arch_irq_routes(struct kvm_irq_routing_entry *e, unsigned int max);
/* Whether the kernel learns of virtio-mmio devices from its command line
 * (x86: virtio_mmio.device=) rather than only from the device tree. */
extern const bool arch_virtio_on_cmdline;
/* The console= argument for a virtio console. */
extern const char arch_virtio_console[];

/* KVM_CREATE_VM machine type. */
int arch_vm_type(void);
/* After KVM_CREATE_VM: capabilities, interrupt controller, timers. */
int arch_vm_init(struct vm *vm);
/* Adds RAM regions for vm->mem.map in the architecture's memory map. */
int arch_mem_layout(struct vm *vm);
/* Legacy devices the platform always has (UART, reset controller…). */
int arch_devices_init(struct vm *vm);
/* After every KVM_CREATE_VCPU, before the devices connect their
 * interrupts (irqfd) and before arch_load_kernel: arm64 initialises its
 * vCPUs and then its GIC here. */
int arch_vm_finalize(struct vm *vm);
/* Loads kernel, initrd and command line into guest memory (after the
 * devices exist: arm64 builds the device tree here) and records the entry
 * state for arch_vcpu_init. */
int arch_load_kernel(struct vm *vm, const char *cmdline);
/* Per-vCPU set-up, last of all; the boot CPU gets the entry state. */
int arch_vcpu_init(struct vcpu *vcpu);
/* Raises or lowers a device interrupt line. */
int arch_irq_line(struct vm *vm, uint32_t irq, int level);
void arch_vm_exit(struct vm *vm);

struct snap_writer;
struct snap_reader;
/*
 * Snapshots (docs/snapshot.md): KVM's own state of one vCPU, and of the
 * VM (interrupt controllers, timers, clock), into sections of w, and back
 * from r. Saving: with every vCPU out of KVM_RUN; nothing changes in the
 * VM, which may go on running after a failure. Loading: into a VM made
 * with the same configuration (snap_config_check), before any vCPU runs;
 * arch_vm_load before the vCPUs' arch_vcpu_load. Each returns 0, or
 * -errno after one error line naming the piece that failed.
 */
int arch_vcpu_save(struct vcpu *vcpu, struct snap_writer *w);
int arch_vcpu_load(struct vcpu *vcpu, const struct snap_reader *r);
int arch_vm_save(struct vm *vm, struct snap_writer *w);
int arch_vm_load(struct vm *vm, const struct snap_reader *r);
/* The platform's own devices (UART; x86's i8042), the same way; loading
 * after arch_vm_load, so that a UART's interrupt level lands on the
 * restored interrupt controller. */
int arch_devices_save(struct vm *vm, struct snap_writer *w);
/* The ioctl requests saving makes (0-terminated), on each vCPU's fd, the
 * VM's and /dev/kvm's: the snapshot thread's filter allows just these. */
extern const unsigned long arch_snapshot_vcpu_ioctls[];
extern const unsigned long arch_snapshot_vm_ioctls[];
extern const unsigned long arch_snapshot_kvm_ioctls[];
/* The KVM devices saving uses too, each fd with its requests
 * (0-terminated): arm64's vGIC, and its ITS with --transport pci (both
 * get and set: saving asks KVM to write their tables to guest RAM).
 * Fills at most max of devs, returns how many (x86: none). */
struct arch_snapshot_dev {
	int fd;
	const unsigned long *ioctls;
};
#define ARCH_SNAPSHOT_DEVS_MAX	4
unsigned int arch_snapshot_devs(struct vm *vm, struct arch_snapshot_dev *devs,
				unsigned int max);
int arch_devices_load(struct vm *vm, const struct snap_reader *r);
/* Last of a restore, with everything loaded and before any vCPU runs:
 * tells the guest it is a copy (x86: a new VM generation ID and its
 * interrupt; arm64: nothing yet). 0, or -errno after one error line. */
int arch_vm_restored(struct vm *vm);

struct fdt_desc;
struct fdt_mmio_dev;
/* Fills the architecture's part of the device tree description:
 * interrupt controller, interrupt specifiers, CPU properties. */
void arch_fdt_desc(struct vm *vm, struct fdt_desc *d);
/* Adds the architecture's own MMIO devices (a UART…) to devs; returns
 * how many, at most max. */
unsigned int arch_fdt_devs(struct vm *vm, struct fdt_mmio_dev *devs, unsigned int max);

#endif
