// SPDX-License-Identifier: GPL-2.0
/* The guest's RAM map, as the zero page's e820 table and PVH's memmap. */
#include "arch/x86/x86.h"

#define E820_RAM	1
#define E820_RESERVED	2

uint64_t x86_low_ram_end(uint64_t ram_size)
{
	return ram_size < X86_MMIO_HOLE ? ram_size : X86_MMIO_HOLE;
}

static unsigned int e820_add(struct boot_e820_entry *tab, unsigned int n,
			     unsigned int max, uint64_t addr, uint64_t size,
			     uint32_t type)
{
	if (n < max)
		tab[n] = (struct boot_e820_entry){ addr, size, type };
	return n + 1;
}

unsigned int e820_build(uint64_t ram_size, struct boot_e820_entry *tab,
			unsigned int max)
{
	uint64_t low = x86_low_ram_end(ram_size);
	unsigned int n = 0;

	/* Below 1 MiB: conventional memory, then the VM generation ID's
	 * page and the EBDA, then the BIOS areas, which Linux expects to be
	 * reserved (the ACPI tables and the MP table live there, so the
	 * kernel must not reuse them; the GUID must be in no RAM range,
	 * the vmgenid spec's R1d). */
	n = e820_add(tab, n, max, 0, X86_VMGENID_ADDR, E820_RAM);
	n = e820_add(tab, n, max, X86_VMGENID_ADDR, 0xa0000 - X86_VMGENID_ADDR,
		     E820_RESERVED);
	n = e820_add(tab, n, max, X86_ACPI_ADDR, X86_HIMEM_START - X86_ACPI_ADDR,
		     E820_RESERVED);
	n = e820_add(tab, n, max, X86_HIMEM_START, low - X86_HIMEM_START, E820_RAM);
	if (ram_size > low)
		n = e820_add(tab, n, max, X86_4G, ram_size - low, E820_RAM);
	return n < max ? n : max;
}
