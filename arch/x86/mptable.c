// SPDX-License-Identifier: GPL-2.0
/*
 * Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * learns its CPUs, its IOAPIC and how ISA interrupts reach it, and with
 * --transport pci which IOAPIC pin each PCI function's INTA# drives.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/x86.h"

#define MP_SPEC_REV		4
#define MP_LAPIC_VERSION	0x14
#define MP_IOAPIC_VERSION	0x11
#define MP_CPU_ENABLED		1
#define MP_CPU_BSP		2
#define MP_IRQ_INT		0
#define MP_IRQ_NMI		1
#define MP_IRQ_EXTINT		3

struct mpf_intel {
	char signature[4];	/* "_MP_" */
	uint32_t physptr;
	uint8_t length;		/* in 16-byte units */
	uint8_t specification;
	uint8_t checksum;
	uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
	char signature[4];	/* "PCMP" */
	uint16_t length;
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;
	uint32_t lapic;
	uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t cpuflag;
	uint32_t cpufeature;
	uint32_t featureflag;
	uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type;
	uint8_t busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t apicid;
	uint8_t apicver;
	uint8_t flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type;
	uint8_t irqtype;
	uint16_t irqflag;
	uint8_t srcbus;
	uint8_t srcbusirq;
	uint8_t dstapic;
	uint8_t dstirq;
} __attribute__((packed));

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };

/* Linux takes an MP bus ID on a PCI bus as its bus number. */
#define MP_PCI_BUS	0

static uint8_t mp_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

/* The IOAPIC pins that PCI functions drive, as a mask. */
static uint32_t mp_pci_pins(const struct mptable_pci *pci, unsigned int nr_pci)
{
	uint32_t used = 0;

	for (unsigned int i = 0; i < nr_pci; i++)
		used |= 1U << pci[i].pin;
	return used;
}

/* Interrupt entries: an ISA one per pin that no PCI function drives. */
static unsigned int mp_nr_intsrc(const struct mptable_pci *pci, unsigned int nr_pci)
{
	return X86_IOAPIC_PINS - __builtin_popcount(mp_pci_pins(pci, nr_pci)) + nr_pci;
}

static size_t mp_size(unsigned int ncpus, const struct mptable_pci *pci,
		      unsigned int nr_pci)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       ncpus * sizeof(struct mpc_cpu) +
	       (nr_pci ? 2 : 1) * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (mp_nr_intsrc(pci, nr_pci) + 2) * sizeof(struct mpc_intsrc);
}

static uint8_t *mp_put_cpus(uint8_t *p, unsigned int ncpus)
{
	for (unsigned int i = 0; i < ncpus; i++) {
		struct mpc_cpu cpu = {
			.type = MP_PROCESSOR,
			.apicid = i,
			.apicver = MP_LAPIC_VERSION,
			.cpuflag = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0),
			/* family 6: the kernel only looks for "not a 486" */
			.cpufeature = 0x600,
			.featureflag = (1 << 9) | (1 << 0), /* APIC, FPU */
		};

		memcpy(p, &cpu, sizeof(cpu));
		p += sizeof(cpu);
	}
	return p;
}

static uint8_t *mp_put_irqs(uint8_t *p, uint8_t ioapic_id, uint8_t isa_bus,
			    const struct mptable_pci *pci, unsigned int nr_pci)
{
	struct mpc_intsrc src = { .type = MP_INTSRC, .irqtype = MP_IRQ_INT,
				  .srcbus = isa_bus, .dstapic = ioapic_id };
	uint32_t used = mp_pci_pins(pci, nr_pci);

	/* KVM routes GSI n to IOAPIC pin n, so every ISA line maps 1:1. */
	for (unsigned int i = 0; i < X86_IOAPIC_PINS; i++) {
		if (used & 1U << i)
			continue;
		src.srcbusirq = i;
		src.dstirq = i;
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
	}
	/*
	 * PCI bus 0: the source is (device << 2 | INTx#), INTA# being 0;
	 * flags 0 conform to the bus, level-triggered and active low, as
	 * ACPI's _PRT says too (KVM's IOAPIC takes "asserted" either way).
	 */
	for (unsigned int i = 0; i < nr_pci; i++) {
		src.srcbus = MP_PCI_BUS;
		src.srcbusirq = pci[i].slot << 2;
		src.dstirq = pci[i].pin;
		memcpy(p, &src, sizeof(src));
		p += sizeof(src);
	}
	/* LINT0 takes the 8259's ExtINT, LINT1 NMIs, on every CPU. */
	src = (struct mpc_intsrc){ .type = MP_LINTSRC, .irqtype = MP_IRQ_EXTINT,
				   .dstapic = 0xff, .dstirq = 0 };
	memcpy(p, &src, sizeof(src));
	p += sizeof(src);
	src.irqtype = MP_IRQ_NMI;
	src.dstirq = 1;
	memcpy(p, &src, sizeof(src));
	return p + sizeof(src);
}

int mptable_build(uint8_t *buf, size_t size, uint64_t gpa, unsigned int ncpus,
		  const struct mptable_pci *pci, unsigned int nr_pci)
{
	struct mpf_intel *mpf = (struct mpf_intel *)buf;
	struct mpc_table *mpc = (struct mpc_table *)(buf + sizeof(*mpf));
	/* PCI bus 0 first, then ISA: ISA's ID follows the PCI buses'. */
	struct mpc_bus pci_bus = { .type = MP_BUS, .busid = MP_PCI_BUS, .bustype = "PCI   " };
	struct mpc_bus isa_bus = { .type = MP_BUS, .busid = nr_pci ? 1 : 0,
				   .bustype = "ISA   " };
	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC, .apicid = ncpus, .apicver = MP_IOAPIC_VERSION,
		.flags = 1, .apicaddr = X86_IOAPIC_ADDR,
	};
	uint8_t *p = (uint8_t *)(mpc + 1);
	size_t len;

	if (nr_pci > MPTABLE_MAX_PCI)
		return -EINVAL;
	for (unsigned int i = 0; i < nr_pci; i++)
		if (pci[i].slot > 31 || pci[i].pin >= X86_IOAPIC_PINS)
			return -EINVAL;
	len = mp_size(ncpus, pci, nr_pci);
	/* The IOAPIC takes the APIC ID after the last CPU's. */
	if (!ncpus || ncpus > 254 || len > size || gpa + len > X86_HIMEM_START)
		return -EINVAL;
	memset(buf, 0, len);

	p = mp_put_cpus(p, ncpus);
	if (nr_pci) {
		memcpy(p, &pci_bus, sizeof(pci_bus));
		p += sizeof(pci_bus);
	}
	memcpy(p, &isa_bus, sizeof(isa_bus));
	p += sizeof(isa_bus);
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	p = mp_put_irqs(p, ioapic.apicid, isa_bus.busid, pci, nr_pci);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = MP_SPEC_REV;
	memcpy(mpc->oem, "KVMINI  ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->oemcount = ncpus + (nr_pci ? 2 : 1) + 1 + mp_nr_intsrc(pci, nr_pci) + 2;
	mpc->lapic = X86_LAPIC_ADDR;
	mpc->checksum = mp_checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = MP_SPEC_REV;
	mpf->checksum = mp_checksum(mpf, sizeof(*mpf));
	return len;
}
