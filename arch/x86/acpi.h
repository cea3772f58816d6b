/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI for x86 guests: the tables kvmini generates for the VM it runs
 * (acpi.c), and the hardware-reduced sleep and reset registers their FADT
 * points at (the device in vm.c).
 */
#ifndef KVMINI_ARCH_X86_ACPI_H
#define KVMINI_ARCH_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

struct vm;

/* Registers at X86_ACPI_PORT + offset, one byte each. */
#define ACPI_REG_SLEEP_CTL	0	/* FADT SLEEP_CONTROL_REG */
#define ACPI_REG_SLEEP_STS	1	/* FADT SLEEP_STATUS_REG */
#define ACPI_REG_RESET		2	/* FADT RESET_REG */
#define ACPI_NR_REGS		3

/* SLP_TYP that _S5 names, and what the guest writes to reset. */
#define ACPI_S5_SLP_TYP		5
#define ACPI_RESET_VALUE	0x0e

/* A virtio-mmio transport as the DSDT describes it. */
struct acpi_mmio_dev {
	uint64_t base;
	uint32_t size;
	uint32_t gsi;
};

/* A PCI function's INTA# as the host bridge's _PRT routes it. */
struct acpi_pci_fn {
	uint8_t slot;
	uint32_t gsi;
};

/* What the tables describe. */
struct acpi_machine {
	unsigned int ncpus;
	const struct acpi_mmio_dev *virtio;
	unsigned int nr_virtio;
	/* The VM generation ID's GUID (arch/x86/vmgenid.c), 0 for none,
	 * and the Generic Event Device's interrupt that announces it. */
	uint64_t vmgenid;
	uint32_t ged_gsi;
	/* --transport pci: bus 0's ECAM (0 for no PCI bus: no MCFG and no
	 * PCI0), the BAR window, and the functions' interrupts. */
	uint64_t pci_ecam;
	uint32_t pci_win, pci_win_len;
	const struct acpi_pci_fn *pci;
	unsigned int nr_pci;
};

/*
 * Writes the RSDP at buf[0] (guest address gpa) and the tables after it,
 * all inside size bytes. Returns the bytes used, or -EINVAL for a machine
 * the tables cannot describe and -ENOSPC when size is too small.
 */
long acpi_build(uint8_t *buf, size_t size, uint64_t gpa,
		const struct acpi_machine *m);

/* What a guest write of val to register reg asks of the machine. */
enum acpi_event {
	ACPI_EV_NONE,
	ACPI_EV_POWEROFF,	/* SLP_EN with _S5's SLP_TYP */
	ACPI_EV_RESET,		/* RESET_VALUE to the reset register */
};
enum acpi_event acpi_reg_write(unsigned int reg, uint8_t val);

/* Builds this VM's tables at X86_ACPI_ADDR; *rsdp gets the RSDP's guest
 * address (0 with --no-acpi). */
int x86_acpi_setup(struct vm *vm, uint64_t *rsdp);

#endif
