// SPDX-License-Identifier: GPL-2.0
/*
 * Intel MultiProcessor Specification 1.4 table: how a guest without ACPI
 * learns its CPUs, its IOAPIC and how ISA interrupts reach it.
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

static uint8_t mp_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static size_t mp_size(unsigned int ncpus)
{
	return sizeof(struct mpf_intel) + sizeof(struct mpc_table) +
	       ncpus * sizeof(struct mpc_cpu) + sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (X86_IOAPIC_PINS + 2) * sizeof(struct mpc_intsrc);
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

static uint8_t *mp_put_irqs(uint8_t *p, uint8_t ioapic_id)
{
	struct mpc_intsrc src = { .type = MP_INTSRC, .irqtype = MP_IRQ_INT,
				  .dstapic = ioapic_id };

	/* KVM routes GSI n to IOAPIC pin n, so every ISA line maps 1:1. */
	for (unsigned int i = 0; i < X86_IOAPIC_PINS; i++) {
		src.srcbusirq = i;
		src.dstirq = i;
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

int mptable_build(uint8_t *buf, size_t size, uint64_t gpa, unsigned int ncpus)
{
	struct mpf_intel *mpf = (struct mpf_intel *)buf;
	struct mpc_table *mpc = (struct mpc_table *)(buf + sizeof(*mpf));
	struct mpc_bus bus = { .type = MP_BUS, .bustype = "ISA   " };
	struct mpc_ioapic ioapic = {
		.type = MP_IOAPIC, .apicid = ncpus, .apicver = MP_IOAPIC_VERSION,
		.flags = 1, .apicaddr = X86_IOAPIC_ADDR,
	};
	uint8_t *p = (uint8_t *)(mpc + 1);
	size_t len = mp_size(ncpus);

	/* The IOAPIC takes the APIC ID after the last CPU's. */
	if (!ncpus || ncpus > 254 || len > size || gpa + len > X86_HIMEM_START)
		return -EINVAL;
	memset(buf, 0, len);

	p = mp_put_cpus(p, ncpus);
	memcpy(p, &bus, sizeof(bus));
	p += sizeof(bus);
	memcpy(p, &ioapic, sizeof(ioapic));
	p += sizeof(ioapic);
	p = mp_put_irqs(p, ioapic.apicid);

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = p - (uint8_t *)mpc;
	mpc->spec = MP_SPEC_REV;
	memcpy(mpc->oem, "KVMINI  ", 8);
	memcpy(mpc->productid, "MICROVM     ", 12);
	mpc->oemcount = ncpus + 1 + 1 + X86_IOAPIC_PINS + 2;
	mpc->lapic = X86_LAPIC_ADDR;
	mpc->checksum = mp_checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = gpa + sizeof(*mpf);
	mpf->length = 1;
	mpf->specification = MP_SPEC_REV;
	mpf->checksum = mp_checksum(mpf, sizeof(*mpf));
	return len;
}
