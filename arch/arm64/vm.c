// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 machine: in-kernel GIC, RAM from 2 GiB, a 16550A UART on
 * MMIO, and the device tree that tells the guest about all of it.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/arm64/arm64.h"
#include "fdt/fdt.h"
#include "legacy/serial.h"
#include "lib/log.h"
#include "vmm/arch.h"
#include "vmm/vm.h"
#include "vmm/vm_uart.h"

/*
 * console=ttyS0: the UART is the console (the device tree's stdout-path
 * says so too). panic=-1: a panicked kernel resets at once through PSCI
 * so kvmini can report it. Power-off and reboot also go through PSCI and
 * reach kvmini as system events.
 */
const char arch_default_cmdline[] = "console=ttyS0 panic=-1";

const uint64_t arch_exitdev_base = ARM64_DEV_BASE;

/* The device tree announces every virtio-mmio device. */
const bool arch_virtio_on_cmdline = false;
const char arch_virtio_console[] = "hvc0";

int arch_virtio_slot(unsigned int i, uint64_t *base, uint32_t *irq)
{
	if (i >= ARM64_VIRTIO_SLOTS)
		return -ENOSPC;
	*base = ARM64_VIRTIO_BASE + ARM64_VIRTIO_SLOT_SIZE * i;
	*irq = ARM64_VIRTIO_SPI + i;
	return 0;
}

/* --transport pci: between the redistributors and RAM (arm64.h). */
int arch_pci_layout(uint64_t *ecam, uint64_t *win_base, uint64_t *win_len)
{
	*ecam = ARM64_PCI_ECAM;
	*win_base = ARM64_PCI_WIN;
	*win_len = ARM64_PCI_WIN_LEN;
	return 0;
}

/* The device tree's pci-host-ecam-generic node is all the kernel needs. */
const char arch_pci_cmdline[] = "";

/* KVM's default routing on arm64: GSI n is SPI n, for every SPI. */
unsigned int arch_irq_routes(struct kvm_irq_routing_entry *e, unsigned int max)
{
	unsigned int n = 0;

	for (uint32_t spi = 0; spi < ARM64_GIC_NR_SPIS && n < max; spi++)
		e[n++] = (struct kvm_irq_routing_entry){
			.gsi = spi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.u.irqchip = { .irqchip = 0, .pin = spi },
		};
	return n;
}

/* Type 0: KVM's default 40-bit guest physical address space. */
int arch_vm_type(void)
{
	return 0;
}

static const struct { long cap; const char *name; } arm64_caps[] = {
	{ KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG" },
	{ KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL" },
	{ KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
};

/*
 * A guest load/store pair (ldp/stp) or writeback access to device memory
 * gives KVM no syndrome to decode. Without this capability KVM_RUN fails
 * with ENOSYS; with it, the vCPU exits with KVM_EXIT_ARM_NISV and the
 * faulting address, which vmm/vcpu.c reports as the guest's crash (122).
 * Best effort: kernels before 5.5 lack it and keep the ENOSYS path.
 */
static void arm64_nisv_to_user(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

	if (kvm_check_cap(vm, KVM_CAP_ARM_NISV_TO_USER))
		ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap);
}

int arch_vm_init(struct vm *vm)
{
	struct kvm_vcpu_init init;
	struct arm64_vm *a;

	for (size_t i = 0; i < sizeof(arm64_caps) / sizeof(arm64_caps[0]); i++) {
		if (!kvm_check_cap(vm, arm64_caps[i].cap)) {
			pr_err("this KVM lacks %s, which kvmini needs", arm64_caps[i].name);
			return -ENOTSUP;
		}
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->gic_fd = -1;
	a->its_fd = -1;
	vm->arch = a;
	a->mpidr = calloc(vm->cfg.cpus, sizeof(*a->mpidr));
	if (!a->mpidr)
		return -ENOMEM;
	/* The host CPU's own type: the vCPUs look like it. */
	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		pr_err("KVM_ARM_PREFERRED_TARGET failed: %s", strerror(errno));
		return -errno;
	}
	a->target = init.target;
	arm64_nisv_to_user(vm);
	return arm64_gic_create(vm);
}

int arch_mem_layout(struct vm *vm)
{
	if (vm->mem.map_size > ARM64_IPA_LIMIT - ARM64_RAM_BASE) {
		pr_err("--mem %llu MiB: kvmini's arm64 machine has room for at most %llu MiB",
		       (unsigned long long)(vm->mem.map_size >> 20),
		       (unsigned long long)((ARM64_IPA_LIMIT - ARM64_RAM_BASE) >> 20));
		return -EINVAL;
	}
	return gmem_add_region(&vm->mem, ARM64_RAM_BASE, vm->mem.map_size, vm->mem.map);
}

/* irq is an SPI number; KVM_IRQ_LINE wants the type and the INTID. */
int arch_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level l = {
		.irq = KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT |
		       (irq + ARM64_GIC_SPI_BASE),
		.level = level,
	};

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int arch_devices_init(struct vm *vm)
{
	struct arm64_vm *a = vm->arch;

	a->uart = vm_uart_new(vm, ARM64_UART_SPI);
	if (!a->uart)
		return -ENOMEM;
	return vm_register_mmio(vm, ARM64_UART_BASE, ARM64_UART_SIZE, serial_access,
				vm_uart_serial(a->uart), "UART");
}

int arm64_write_dtb(struct vm *vm)
{
	struct arm64_vm *a = vm->arch;
	size_t size;
	void *blob;
	int err;

	err = vm_fdt_build(vm, &blob, &size);
	if (err)
		return err;
	err = gmem_write(&vm->mem, a->boot.dtb, blob, size);
	free(blob);
	if (err)
		pr_err("no guest memory for the device tree at %#llx",
		       (unsigned long long)a->boot.dtb);
	return err;
}

/* Every vCPU exists: initialise them, then the GIC, which takes irqfds
 * only from then on. */
int arch_vm_finalize(struct vm *vm)
{
	int err = 0;

	for (unsigned int i = 0; i < vm->cfg.cpus && !err; i++)
		err = arm64_vcpu_setup(&vm->vcpus[i]);
	return err ?: arm64_gic_finalize(vm);
}

void arch_vm_exit(struct vm *vm)
{
	struct arm64_vm *a = vm->arch;

	if (!a)
		return;
	vm_uart_free(a->uart);
	if (a->its_fd >= 0)
		close(a->its_fd);
	if (a->gic_fd >= 0)
		close(a->gic_fd);
	free(a->mpidr);
	free(a);
	vm->arch = NULL;
}

void arch_fdt_desc(struct vm *vm, struct fdt_desc *d)
{
	struct arm64_vm *a = vm->arch;

	a->fdt = (struct arm64_fdt){
		.gic_version = a->gic_version,
		.nr_cpus = vm->cfg.cpus,
		.cpu_ids = a->mpidr,
		.its = a->its_fd >= 0,
		.pci = vm->cfg.transport == TRANSPORT_PCI,
	};
	for (unsigned int i = 0; i < vm->nr_pci_fn && i < ARM64_PCI_MAX_FNS; i++)
		a->fdt.pci_fn[a->fdt.nr_pci_fn++] = (struct arm64_pci_fn){
			.slot = vm->pci_fn[i].slot, .irq = vm->pci_fn[i].irq,
		};
	arm64_fdt_fill(&a->fdt, d);
}

unsigned int arch_fdt_devs(struct vm *vm, struct fdt_mmio_dev *devs, unsigned int max)
{
	return arm64_fdt_uart(vm_console_on_uart(vm), devs, max);
}
