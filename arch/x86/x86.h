/* SPDX-License-Identifier: GPL-2.0 */
/*
 * x86_64 machine: memory map and state shared by the files of arch/x86.
 *
 * Guest physical memory map:
 *   0x000500  GDT                     0x006000  PVH start info
 *   0x007000  zero page (boot_params) 0x009000  identity page tables
 *   0x020000  kernel command line     0x09f000  VM generation ID (reserved)
 *   0x09fc00  reserved (EBDA)
 *   0x0e0000  ACPI RSDP and tables    0x0f0000  MP table (BIOS area)
 *   0x100000  RAM for kernel/initrd
 *   RAM up to 3 GiB, then the MMIO hole: devices at 0xd0000000, IOAPIC,
 *   LAPIC, TSS; RAM above 3 GiB continues at 4 GiB.
 */
#ifndef KVMINI_ARCH_X86_H
#define KVMINI_ARCH_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h>

struct guest_mem;
struct vm_uart;
struct i8042;
struct aml;
struct vm;

#define X86_GDT_ADDR		0x500ULL
#define X86_IDT_ADDR		0x520ULL
#define X86_PVH_INFO_ADDR	0x6000ULL
#define X86_ZERO_PAGE		0x7000ULL
#define X86_PML4		0x9000ULL
#define X86_PDPT		0xa000ULL
#define X86_PD			0xb000ULL	/* 4 pages: 4 GiB of 2 MiB pages */
#define X86_CMDLINE		0x20000ULL
#define X86_CMDLINE_MAX		0x10000ULL
#define X86_EBDA_START		0x9fc00ULL
/* The VM generation ID's GUID, in a reserved page below the EBDA
 * (vmgenid.c): RAM no OS allocates, and no table scan looks at. */
#define X86_VMGENID_ADDR	0x9f000ULL
#define X86_ACPI_ADDR		0xe0000ULL	/* where Linux scans for the RSDP */
#define X86_ACPI_SIZE		0x10000ULL
#define X86_BIOS_START		0xf0000ULL
#define X86_MPTABLE_ADDR	X86_BIOS_START
#define X86_HIMEM_START		0x100000ULL
#define X86_MMIO_HOLE		0xc0000000ULL
#define X86_4G			0x100000000ULL
#define X86_DEV_BASE		0xd0000000ULL
/* --transport pci: BARs below the devices, bus 0's ECAM above them. */
#define X86_PCI_WIN		X86_MMIO_HOLE
#define X86_PCI_WIN_LEN		(X86_DEV_BASE - X86_MMIO_HOLE)
#define X86_PCI_ECAM		0xe0000000ULL
#define X86_PCI_ECAM_LEN	0x100000ULL
#define X86_IOAPIC_ADDR		0xfec00000ULL
#define X86_LAPIC_ADDR		0xfee00000ULL
#define X86_IDENTITY_MAP_ADDR	0xfffbc000ULL
#define X86_TSS_ADDR		0xfffbd000ULL

#define X86_EXITDEV_PORT	0x5f0	/* alias of the MMIO exit device */
#define X86_ACPI_PORT		0x600	/* ACPI sleep and reset registers */
#define X86_COM1_PORT		0x3f8
#define X86_COM1_IRQ		4
#define X86_I8042_PORT		0x60
#define X86_IOAPIC_PINS		24
/* The ACPI Generic Event Device's line: above every virtio device's. */
#define X86_GED_IRQ		23

/* Selectors the 64-bit boot protocol names (__BOOT_CS, __BOOT_DS). */
#define X86_BOOT_CS		0x10
#define X86_BOOT_DS		0x18
#define X86_BOOT_TSS		0x20

/* How the boot vCPU starts. */
struct x86_boot {
	bool pvh;		/* 32-bit protected mode, RBX = start info */
	uint64_t entry;
	uint64_t boot_info;	/* zero page (RSI) or PVH start info (RBX) */
};

struct x86_vm {
	struct x86_boot boot;
	uint64_t acpi_rsdp;	/* 0 without ACPI (--no-acpi) */
	struct vm_uart *uart;
	struct i8042 *i8042;
};

/* e820.c: the RAM map of a guest with ram_size bytes; returns entries. */
unsigned int e820_build(uint64_t ram_size, struct boot_e820_entry *tab,
			unsigned int max);
uint64_t x86_low_ram_end(uint64_t ram_size);

/* mptable.c: an Intel MP table for ncpus at X86_MPTABLE_ADDR, with the
 * INTA# of nr_pci functions on PCI bus 0 (device slot, IOAPIC pin; at
 * most MPTABLE_MAX_PCI, no pin shared with ISA then). Returns its size or
 * -errno; buf must hold X86_BIOS area (64 KiB). */
#define MPTABLE_MAX_PCI		32
struct mptable_pci {
	uint8_t slot;
	uint8_t pin;
};
int mptable_build(uint8_t *buf, size_t size, uint64_t gpa, unsigned int ncpus,
		  const struct mptable_pci *pci, unsigned int nr_pci);

/* bzimage.c: the kernel image formats, parsed without trusting them. */
struct bzimage {
	const struct setup_header *hdr;	/* inside the image */
	size_t hdr_len;			/* header bytes to copy, from 0x1f1 */
	const uint8_t *kernel;		/* protected-mode part */
	size_t kernel_size;
	uint64_t load_addr;
	uint64_t mem_size;		/* init_size: what the kernel needs */
};
int bzimage_parse(const uint8_t *buf, size_t size, struct bzimage *bz,
		  const char **why);

/* elf.c */
struct elf_kernel {
	uint64_t entry;			/* 64-bit entry (startup_64) */
	uint64_t pvh_entry;		/* 0 when there is no PVH note */
	uint64_t lo, hi;		/* physical extent of PT_LOADs */
};
int elf_parse(const uint8_t *buf, size_t size, struct elf_kernel *k,
	      const char **why);
int elf_load(const uint8_t *buf, size_t size, const struct guest_mem *m,
	     const char **why);

/* boot.c: page tables and GDT for the boot vCPU. */
int x86_setup_boot_tables(const struct guest_mem *m, bool pvh);

/*
 * vmgenid.c: the VM generation ID (docs/snapshot.md). vmgenid_dsdt()
 * writes its device, whose GUID is at guid, and the Generic Event Device
 * whose interrupt gsi makes the guest read it again, into the DSDT's
 * \_SB scope. vmgenid_init() puts a fresh GUID at X86_VMGENID_ADDR
 * (with the ACPI tables: not with --no-acpi), and again at each restore
 * (arch_vm_restored(), in snapshot.c, which then raises the interrupt:
 * kept apart so that what builds tables links without the VM).
 */
void vmgenid_dsdt(struct aml *a, uint64_t guid, uint32_t gsi);
int vmgenid_init(struct vm *vm);

#endif
