// SPDX-License-Identifier: GPL-2.0
/* The x86 machine: in-kernel irqchip and PIT, RAM around the MMIO hole,
 * and the PC devices every guest expects (COM1, i8042). */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <libfdt.h>

#include "arch/x86/acpi.h"
#include "arch/x86/x86.h"
#include "fdt/fdt.h"
#include "legacy/i8042.h"
#include "legacy/serial.h"
#include "lib/log.h"
#include "vmm/arch.h"
#include "vmm/exitcode.h"
#include "vmm/exitdev.h"
#include "vmm/vm.h"
#include "vmm/vm_uart.h"

/*
 * console=ttyS0: the UART is the console. reboot=k: reboot through the
 * i8042, which ends the VM. panic=-1: a panicked kernel resets at once
 * so kvmini can report it. pci=off: there is no PCI bus to probe. The
 * i8042 options keep the keyboard driver from probing what isn't there.
 */
const char arch_default_cmdline[] =
	"console=ttyS0 reboot=k panic=-1 pci=off "
	"i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd";

const uint64_t arch_exitdev_base = X86_DEV_BASE;

/* Kernels without ACPI find virtio-mmio devices only on the command line. */
const bool arch_virtio_on_cmdline = true;
const char arch_virtio_console[] = "hvc0";

/*
 * Virtio devices follow the exit device, a page each, on IOAPIC pins from
 * 5 up: below that are the timer, keyboard, cascade and COM2/COM1.
 */
#define X86_VIRTIO_BASE		(X86_DEV_BASE + 0x1000)
#define X86_VIRTIO_IRQ		5

int arch_virtio_slot(unsigned int i, uint64_t *base, uint32_t *irq)
{
	if (X86_VIRTIO_IRQ + i >= X86_IOAPIC_PINS)
		return -ENOSPC;
	*base = X86_VIRTIO_BASE + 0x1000ULL * i;
	*irq = X86_VIRTIO_IRQ + i;
	return 0;
}

/*
 * --transport pci: the BAR window is the MMIO hole below the devices
 * (0xc0000000-0xd0000000), bus 0's ECAM a free megabyte above them.
 * The ACPI tables and e820 say so (acpi.c, e820.c).
 */
int arch_pci_layout(uint64_t *ecam, uint64_t *win_base, uint64_t *win_len)
{
	*ecam = X86_PCI_ECAM;
	*win_base = X86_PCI_WIN;
	*win_len = X86_PCI_WIN_LEN;
	return 0;
}

/* After the default pci=off: conf1 (0xCF8/0xCFC), which also needs no
 * ACPI and no firmware check. */
const char arch_pci_cmdline[] = "pci=conf1";

/* KVM's defaults (virt/kvm/irqchip.c): GSI i on IOAPIC pin i, and the
 * first 16 on the PICs too. */
unsigned int arch_irq_routes(struct kvm_irq_routing_entry *e, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int gsi = 0; gsi < X86_IOAPIC_PINS; gsi++) {
		if (n < max)
			e[n] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { KVM_IRQCHIP_IOAPIC, gsi },
			};
		n++;
		if (gsi >= 16)
			continue;
		if (n < max)
			e[n] = (struct kvm_irq_routing_entry){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.u.irqchip = { gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
					       KVM_IRQCHIP_PIC_SLAVE, gsi % 8 },
			};
		n++;
	}
	return n < max ? n : max;
}

int arch_vm_type(void)
{
	return 0;
}

static const struct { long cap; const char *name; } x86_caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_SET_IDENTITY_MAP_ADDR, "KVM_CAP_SET_IDENTITY_MAP_ADDR" },
};

int arch_vm_init(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t idmap = X86_IDENTITY_MAP_ADDR;

	for (size_t i = 0; i < sizeof(x86_caps) / sizeof(x86_caps[0]); i++) {
		if (!kvm_check_cap(vm, x86_caps[i].cap)) {
			pr_err("this KVM lacks %s, which kvmini needs", x86_caps[i].name);
			return -ENOTSUP;
		}
	}
	vm->arch = calloc(1, sizeof(struct x86_vm));
	if (!vm->arch)
		return -ENOMEM;
	/* VMX needs these pages for real-mode emulation; they sit in the
	 * MMIO hole, just below the BIOS, where no RAM is. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, X86_TSS_ADDR) < 0) {
		pr_err("KVM refused the TSS/identity map addresses: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP) < 0) {
		pr_err("KVM could not create the interrupt controllers: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM could not create the PIT: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int arch_mem_layout(struct vm *vm)
{
	uint64_t low = x86_low_ram_end(vm->mem.map_size);
	int err;

	err = gmem_add_region(&vm->mem, 0, low, vm->mem.map);
	if (!err && vm->mem.map_size > low)
		err = gmem_add_region(&vm->mem, X86_4G, vm->mem.map_size - low,
				      vm->mem.map + low);
	return err;
}

int arch_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = { .irq = irq, .level = level };

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

static void x86_reset(void *ctx)
{
	vm_request_exit(ctx, EXIT_GUEST_OK, "guest rebooted");
}

static const struct i8042_ops x86_i8042_ops = { .reset = x86_reset };

/*
 * The FADT's sleep control/status and reset registers. Reads see 0: the
 * machine never wakes from a sleep state (WAK_STS stays clear), since the
 * only one it offers, S5, ends the VM.
 */
static void x86_acpi_access(void *opaque, uint64_t off, uint8_t *data,
			    uint32_t len, bool is_write)
{
	struct vm *vm = opaque;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	for (uint32_t i = 0; i < len && off + i < ACPI_NR_REGS; i++) {
		switch (acpi_reg_write(off + i, data[i])) {
		case ACPI_EV_POWEROFF:
			vm_request_exit(vm, EXIT_GUEST_OK, "guest powered off (ACPI S5)");
			break;
		case ACPI_EV_RESET:
			vm_request_exit(vm, EXIT_GUEST_OK, "guest reset (ACPI reset register)");
			break;
		case ACPI_EV_NONE:
			break;
		}
	}
}

int arch_devices_init(struct vm *vm)
{
	struct x86_vm *x = vm->arch;
	int err;

	x->uart = vm_uart_new(vm, X86_COM1_IRQ);
	x->i8042 = i8042_new(&x86_i8042_ops, vm);
	if (!x->uart || !x->i8042)
		return -ENOMEM;
	err = vm_register_pio(vm, X86_COM1_PORT, SERIAL_NR_REGS, serial_access,
			      vm_uart_serial(x->uart), "COM1");
	if (!err)
		err = vm_register_pio(vm, X86_I8042_PORT, I8042_NR_PORTS,
				      i8042_access, x->i8042, "i8042");
	if (!err)
		err = vm_register_pio(vm, X86_EXITDEV_PORT, 4, exitdev_access, vm,
				      "exit device");
	if (!err && !vm->cfg.no_acpi)
		err = vm_register_pio(vm, X86_ACPI_PORT, ACPI_NR_REGS, x86_acpi_access,
				      vm, "ACPI registers");
	return err;
}

int arch_vm_finalize(struct vm *vm)
{
	(void)vm;
	return 0;
}

void arch_vm_exit(struct vm *vm)
{
	struct x86_vm *x = vm->arch;

	if (!x)
		return;
	vm_uart_free(x->uart);
	if (x->i8042)
		i8042_free(x->i8042);
	free(x);
	vm->arch = NULL;
}

/*
 * x86 guests do not boot from a device tree; --dump-dtb still shows the
 * machine, with the IOAPIC as the interrupt controller (the binding Linux
 * has for it) so that the tree is complete and dtc has nothing to say.
 */
#define X86_FDT_IOAPIC_PHANDLE	1

static void x86_fdt_irq(void *ctx, uint32_t irq, uint32_t *cells)
{
	(void)ctx;
	cells[0] = irq;
	cells[1] = 0;		/* rising edge, as irqfd injects */
}

static int x86_fdt_nodes(void *ctx, void *fdt)
{
	uint64_t reg[2] = { cpu_to_fdt64(X86_IOAPIC_ADDR), cpu_to_fdt64(0x1000) };

	(void)ctx;
	return fdt_begin_node(fdt, "ioapic@fec00000") ?:
	       fdt_property_string(fdt, "compatible", "intel,ce4100-ioapic") ?:
	       fdt_property(fdt, "reg", reg, sizeof(reg)) ?:
	       fdt_property(fdt, "interrupt-controller", NULL, 0) ?:
	       fdt_property_u32(fdt, "#interrupt-cells", 2) ?:
	       fdt_property_u32(fdt, "#address-cells", 0) ?:
	       fdt_property_u32(fdt, "phandle", X86_FDT_IOAPIC_PHANDLE) ?:
	       fdt_end_node(fdt);
}

void arch_fdt_desc(struct vm *vm, struct fdt_desc *d)
{
	(void)vm;
	d->irq_cells = 2;
	d->irq_spec = x86_fdt_irq;
	d->interrupt_parent = X86_FDT_IOAPIC_PHANDLE;
	d->arch_nodes = x86_fdt_nodes;
}

unsigned int arch_fdt_devs(struct vm *vm, struct fdt_mmio_dev *devs, unsigned int max)
{
	/* COM1 and the i8042 are I/O ports, which a tree cannot place. */
	(void)vm;
	(void)devs;
	(void)max;
	return 0;
}
