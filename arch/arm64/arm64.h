/* SPDX-License-Identifier: GPL-2.0 */
/*
 * arm64 machine: memory map and state shared by the files of arch/arm64.
 * This header needs no KVM headers: image.c and fdt.c, which only use what
 * is declared here, also build into the unit tests on any host.
 *
 * Guest physical memory map (devices below RAM, RAM from 2 GiB):
 *   0x08000000  GIC distributor (64 KiB)
 *   0x08010000  GICv2 CPU interface (8 KiB; GICv2 only)
 *   0x08080000  GICv3 ITS, control and translation frames (128 KiB;
 *               --transport pci, where KVM has one)
 *   0x09000000  16550A UART (4 KiB), SPI 1
 *   0x0a000000  exit device (4 KiB)
 *   0x0a001000  virtio-mmio devices, 4 KiB each, SPIs 16 up
 *   0x10000000  GICv3 redistributors, 128 KiB per vCPU (32 MiB: 256 vCPUs)
 *   0x30000000  --transport pci: bus 0's ECAM (1 MiB)
 *   0x40000000  --transport pci: the BAR window (1 GiB, 32-bit memory)
 *   0x80000000  RAM: the kernel at its text_offset from the start, the
 *               device tree in the last 2 MiB (below 32 GiB of RAM), the
 *               initrd right below it
 *
 * Interrupts: devices use SPIs, and "irq" everywhere in kvmini is the SPI
 * number (GIC INTID - 32), which is also the irqfd GSI under KVM's default
 * routing. SPI 0 is left unused, as irq 0 means "none" to the fdt builder.
 * With --transport pci, a function's INTA# is a level on the SPI its
 * virtio-mmio slot would have had, and MSI-X messages go to the ITS (LPIs).
 */
#ifndef KVMINI_ARCH_ARM64_H
#define KVMINI_ARCH_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fdt_desc;
struct fdt_mmio_dev;
struct vm_uart;
struct vm;
struct vcpu;

#define ARM64_GIC_DIST_BASE	0x08000000ULL
#define ARM64_GICV3_DIST_SIZE	0x10000ULL
#define ARM64_GICV2_DIST_SIZE	0x1000ULL
#define ARM64_GICV2_CPU_BASE	0x08010000ULL
#define ARM64_GICV2_CPU_SIZE	0x2000ULL
#define ARM64_GIC_REDIST_BASE	0x10000000ULL
#define ARM64_GIC_REDIST_SIZE	0x20000ULL	/* per vCPU: RD and SGI frames */
#define ARM64_GIC_REDIST_MAX	0x2000000ULL
#define ARM64_GICV2_MAX_CPUS	8
/* Interrupt IDs the vGIC implements: 32 private ones, then the SPIs. */
#define ARM64_GIC_NR_IRQS	128
#define ARM64_GIC_SPI_BASE	32
#define ARM64_GIC_NR_SPIS	(ARM64_GIC_NR_IRQS - ARM64_GIC_SPI_BASE)
#define ARM64_GIC_ITS_BASE	0x08080000ULL
#define ARM64_GIC_ITS_SIZE	0x20000ULL	/* KVM_VGIC_V3_ITS_SIZE */

/* --transport pci: ECAM and the window BARs go in (docs/pci.md). */
#define ARM64_PCI_ECAM		0x30000000ULL
#define ARM64_PCI_ECAM_SIZE	0x100000ULL	/* bus 0 */
#define ARM64_PCI_WIN		0x40000000ULL
#define ARM64_PCI_WIN_LEN	0x40000000ULL

#define ARM64_UART_BASE		0x09000000ULL
#define ARM64_UART_SIZE		0x1000ULL
#define ARM64_UART_SPI		1
#define ARM64_UART_CLOCK	1843200

#define ARM64_DEV_BASE		0x0a000000ULL	/* the exit device */
#define ARM64_VIRTIO_BASE	(ARM64_DEV_BASE + 0x1000)
#define ARM64_VIRTIO_SLOT_SIZE	0x1000ULL
#define ARM64_VIRTIO_SPI	16
#define ARM64_VIRTIO_SLOTS	16

#define ARM64_RAM_BASE		0x80000000ULL
/* KVM's default guest physical address space (KVM_CREATE_VM type 0). */
#define ARM64_IPA_LIMIT		(1ULL << 40)

/* The boot protocol: the initrd within 32 GiB of the kernel, the device
 * tree at most 2 MiB, both in RAM the kernel maps early. */
#define ARM64_BOOT_WINDOW	(32ULL << 30)
#define ARM64_DTB_MAX		(2ULL << 20)
#define ARM64_KERNEL_ALIGN	(2ULL << 20)

/* Architectural timer PPIs, as INTIDs minus 16 (the binding's numbering). */
#define ARM64_TIMER_PPI_SEC_PHYS	13
#define ARM64_TIMER_PPI_PHYS		14
#define ARM64_TIMER_PPI_VIRT		11
#define ARM64_TIMER_PPI_HYP		10

/* image.c: the arm64 Linux "Image" header (Documentation/arm64/booting.rst),
 * parsed without trusting it. */
#define ARM64_IMAGE_MAGIC	0x644d5241	/* "ARM\x64" */
#define ARM64_IMAGE_HDR_SIZE	64

struct arm64_image {
	uint64_t text_offset;	/* load offset from a 2 MiB aligned base */
	uint64_t mem_size;	/* memory the kernel needs from its start:
				 * image_size, or the file when larger */
	unsigned int page_size;	/* 4096, 16384, 65536 or 0 (not said) */
	bool anywhere;		/* may be placed anywhere in RAM */
};
int arm64_image_parse(const uint8_t *buf, size_t size, struct arm64_image *img,
		      const char **why);

/* fdt.c: what the device-tree callbacks need, as plain numbers. */
#define ARM64_FDT_GIC_PHANDLE	1
#define ARM64_FDT_ITS_PHANDLE	2
#define ARM64_PCI_MAX_FNS	ARM64_VIRTIO_SLOTS

/* A PCI function on bus 0: its slot, and the SPI its INTA# drives. */
struct arm64_pci_fn {
	uint8_t slot;
	uint32_t irq;
};

struct arm64_fdt {
	unsigned int gic_version;	/* 3, or 2 */
	unsigned int nr_cpus;
	const uint32_t *cpu_ids;	/* MPIDR affinity of each vCPU */
	/* An ITS under the GIC node (GICv3 only), the PCI node's msi-map. */
	bool its;
	/* --transport pci: a pci-host-ecam-generic node, with an
	 * interrupt-map entry for each function's INTA#. */
	bool pci;
	unsigned int nr_pci_fn;
	struct arm64_pci_fn pci_fn[ARM64_PCI_MAX_FNS];
};
/* Fills d's interrupt, CPU and arch-node callbacks; a must outlive d. */
void arm64_fdt_fill(const struct arm64_fdt *a, struct fdt_desc *d);
/* The UART's node (stdout-path when it is the console); returns 1, or 0
 * when max is 0. */
unsigned int arm64_fdt_uart(bool console, struct fdt_mmio_dev *devs, unsigned int max);

/* Where boot.c put things, for cpu.c and vm.c. */
struct arm64_boot {
	uint64_t entry;		/* PC of the boot vCPU: the Image's start */
	uint64_t dtb;		/* x0: the device tree */
};

struct arm64_vm {
	struct arm64_boot boot;
	struct vm_uart *uart;
	int gic_fd;
	unsigned int gic_version;
	int its_fd;		/* -1: no ITS (--transport mmio, or none) */
	uint32_t target;	/* KVM_ARM_PREFERRED_TARGET */
	uint32_t *mpidr;	/* affinity of each vCPU, as KVM reports it */
	struct arm64_fdt fdt;
};

/* gic.c; with --transport pci also the ITS, when KVM has one. */
int arm64_gic_create(struct vm *vm);
int arm64_gic_finalize(struct vm *vm);

/* cpu.c: KVM_ARM_VCPU_INIT and the vCPU's MPIDR into arm64_vm. */
int arm64_vcpu_setup(struct vcpu *vcpu);

/* vm.c: the device tree into guest memory at boot.dtb. */
int arm64_write_dtb(struct vm *vm);

#endif
