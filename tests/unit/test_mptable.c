// SPDX-License-Identifier: GPL-2.0
/*
 * MP table, decoded here from the byte offsets of the Intel MP
 * Specification 1.4 (chapter 4) rather than from mptable.c's structs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/x86.h"

#define MPF_SIZE	16
#define MPC_HDR_SIZE	44
#define CPU_SIZE	20
#define ENTRY_SIZE	8	/* every other entry type */
#define BIOS_SIZE	(X86_HIMEM_START - X86_MPTABLE_ADDR)
#define FILL		0xcc

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };

static const unsigned int ncpus_list[] = { 1, 2, 4, 64, 254 };

static uint32_t get(const uint8_t *p, size_t len)
{
	uint32_t v = 0;

	memcpy(&v, p, len);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

static size_t expected_size(unsigned int ncpus)
{
	return MPF_SIZE + MPC_HDR_SIZE + ncpus * CPU_SIZE +
	       (1 + 1 + X86_IOAPIC_PINS + 2) * ENTRY_SIZE;
}

/* What the walk over the entries found. */
struct mp_seen {
	unsigned int cpus, buses, ioapics, intsrcs, lintsrcs;
	uint8_t bus_id, ioapic_id;
};

static void check_cpu(const uint8_t *e, unsigned int i)
{
	ck_assert_uint_eq(e[1], i);			/* local APIC ID */
	ck_assert_uint_ne(e[2], 0);			/* APIC version */
	ck_assert_uint_eq(e[3] & 1, 1);			/* enabled */
	ck_assert_uint_eq(!!(e[3] & 2), i == 0);	/* BSP: CPU 0 only */
	ck_assert_uint_ne(get(e + 8, 4) & (1 << 9), 0);	/* has an APIC */
}

static void check_intsrc(const uint8_t *e, const struct mp_seen *s)
{
	unsigned int i = s->intsrcs;

	ck_assert_uint_eq(e[1], 0);			/* INT, not NMI/SMI/ExtINT */
	ck_assert_uint_eq(e[4], s->bus_id);
	ck_assert_uint_eq(e[5], i);			/* bus IRQ i ... */
	ck_assert_uint_eq(e[6], s->ioapic_id);
	ck_assert_uint_eq(e[7], i);			/* ... to pin i */
}

static void check_lintsrc(const uint8_t *e, unsigned int i)
{
	static const uint8_t type[] = { 3, 1 };		/* ExtINT, NMI */

	ck_assert_uint_lt(i, 2);
	ck_assert_uint_eq(e[1], type[i]);
	ck_assert_uint_eq(e[6], 0xff);			/* every local APIC */
	ck_assert_uint_eq(e[7], i);			/* LINT0, LINT1 */
}

/* Walks the entries in [p, end), which must be in the spec's order. */
static void walk(const uint8_t *p, const uint8_t *end, struct mp_seen *s)
{
	uint8_t last = 0;

	memset(s, 0, sizeof(*s));
	while (p < end) {
		ck_assert_uint_ge(p[0], last);
		last = p[0];
		switch (p[0]) {
		case MP_PROCESSOR:
			check_cpu(p, s->cpus++);
			p += CPU_SIZE;
			continue;
		case MP_BUS:
			ck_assert_mem_eq(p + 2, "ISA   ", 6);
			s->bus_id = p[1];
			s->buses++;
			break;
		case MP_IOAPIC:
			s->ioapic_id = p[1];
			ck_assert_uint_eq(p[3] & 1, 1);		/* usable */
			ck_assert_uint_eq(get(p + 4, 4), X86_IOAPIC_ADDR);
			s->ioapics++;
			break;
		case MP_INTSRC:
			check_intsrc(p, s);
			s->intsrcs++;
			break;
		case MP_LINTSRC:
			check_lintsrc(p, s->lintsrcs++);
			break;
		default:
			ck_abort_msg("unknown MP entry type %u", p[0]);
		}
		p += ENTRY_SIZE;
	}
	ck_assert_ptr_eq(p, end);
}

static void check_table(const uint8_t *buf, int len, uint64_t gpa, unsigned int ncpus)
{
	const uint8_t *mpc = buf + MPF_SIZE;
	unsigned int mpc_len = get(mpc + 4, 2);
	struct mp_seen s;

	ck_assert_int_eq(len, expected_size(ncpus));
	/* Floating pointer structure */
	ck_assert_mem_eq(buf, "_MP_", 4);
	ck_assert_uint_eq(get(buf + 4, 4), gpa + MPF_SIZE);
	ck_assert_uint_eq(buf[8], 1);			/* 16 bytes */
	ck_assert_uint_eq(buf[9], 4);			/* spec 1.4 */
	ck_assert_uint_eq(sum(buf, MPF_SIZE), 0);
	ck_assert_uint_eq(buf[11], 0);			/* table present */
	/* Configuration table header */
	ck_assert_mem_eq(mpc, "PCMP", 4);
	ck_assert_uint_eq(mpc_len, len - MPF_SIZE);
	ck_assert_uint_eq(mpc[6], 4);
	ck_assert_uint_eq(sum(mpc, mpc_len), 0);
	ck_assert_uint_eq(get(mpc + 34, 2), ncpus + 1 + 1 + X86_IOAPIC_PINS + 2);
	ck_assert_uint_eq(get(mpc + 36, 4), X86_LAPIC_ADDR);
	ck_assert_uint_eq(get(mpc + 40, 2), 0);		/* no extended table */

	walk(mpc + MPC_HDR_SIZE, mpc + mpc_len, &s);
	ck_assert_uint_eq(s.cpus, ncpus);
	ck_assert_uint_eq(s.buses, 1);
	ck_assert_uint_eq(s.ioapics, 1);
	ck_assert_uint_eq(s.ioapic_id, ncpus);
	ck_assert_uint_eq(s.intsrcs, X86_IOAPIC_PINS);
	ck_assert_uint_eq(s.lintsrcs, 2);
}

START_TEST(test_ncpus)
{
	unsigned int ncpus = ncpus_list[_i];
	uint8_t *buf = malloc(BIOS_SIZE);
	int len;

	ck_assert_ptr_nonnull(buf);
	memset(buf, FILL, BIOS_SIZE);
	len = mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, ncpus, NULL, 0);
	ck_assert_int_gt(len, 0);
	check_table(buf, len, X86_MPTABLE_ADDR, ncpus);
	/* Nothing written past the table. */
	for (size_t i = len; i < BIOS_SIZE; i++)
		ck_assert_uint_eq(buf[i], FILL);
	free(buf);
}
END_TEST

/* A buffer of exactly the table's size is enough; ASan checks "exactly". */
START_TEST(test_exact_buffer)
{
	unsigned int ncpus = ncpus_list[_i];
	size_t size = expected_size(ncpus);
	uint8_t *buf = malloc(size);
	int len;

	ck_assert_ptr_nonnull(buf);
	len = mptable_build(buf, size, X86_MPTABLE_ADDR, ncpus, NULL, 0);
	check_table(buf, len, X86_MPTABLE_ADDR, ncpus);
	free(buf);

	buf = malloc(size - 1);
	ck_assert_ptr_nonnull(buf);
	memset(buf, FILL, size - 1);
	ck_assert_int_eq(mptable_build(buf, size - 1, X86_MPTABLE_ADDR, ncpus, NULL, 0), -EINVAL);
	for (size_t i = 0; i < size - 1; i++)
		ck_assert_uint_eq(buf[i], FILL);
	free(buf);
}
END_TEST

START_TEST(test_bad_ncpus)
{
	uint8_t *buf = malloc(BIOS_SIZE);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 0, NULL, 0), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 255, NULL, 0), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 256, NULL, 0), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, UINT32_MAX, NULL, 0), -EINVAL);
	free(buf);
}
END_TEST

/* The guest finds the table below 1 MiB only. */
START_TEST(test_gpa)
{
	size_t size = expected_size(4);
	uint64_t last = X86_HIMEM_START - size;
	uint8_t *buf = malloc(size);
	int len;

	ck_assert_ptr_nonnull(buf);
	len = mptable_build(buf, size, last, 4, NULL, 0);
	check_table(buf, len, last, 4);
	ck_assert_int_eq(mptable_build(buf, size, last + 1, 4, NULL, 0), -EINVAL);
	ck_assert_int_eq(mptable_build(buf, size, X86_HIMEM_START, 4, NULL, 0), -EINVAL);
	free(buf);
}
END_TEST

/*
 * --transport pci: PCI bus 0 (its MP bus ID is its number) and ISA after
 * it; each function's INTA# (source device << 2 | 0) on its own pin,
 * which then has no ISA entry, level-triggered and active low by the
 * bus's default (flags 0).
 */
START_TEST(test_pci)
{
	static const struct mptable_pci pci[] = { { 1, 5 }, { 2, 6 }, { 31, 23 } };
	uint8_t *buf = malloc(BIOS_SIZE);
	const uint8_t *mpc = buf + MPF_SIZE, *p, *end;
	unsigned int ncpus = 2, isa = 0, fns = 0, pci_bus = 0, isa_bus = 0;
	uint32_t isa_pins = 0;
	int len;

	ck_assert_ptr_nonnull(buf);
	memset(buf, FILL, BIOS_SIZE);
	len = mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, ncpus, pci, 3);
	/* One more bus, and 3 PCI entries for 3 ISA ones. */
	ck_assert_int_eq(len, expected_size(ncpus) + ENTRY_SIZE);
	ck_assert_uint_eq(get(mpc + 4, 2), len - MPF_SIZE);
	ck_assert_uint_eq(sum(mpc, len - MPF_SIZE), 0);
	ck_assert_uint_eq(get(mpc + 34, 2), ncpus + 2 + 1 + X86_IOAPIC_PINS + 2);
	p = mpc + MPC_HDR_SIZE + ncpus * CPU_SIZE;
	end = buf + len;
	for (; p < end; p += ENTRY_SIZE) {
		if (p[0] == MP_BUS && !memcmp(p + 2, "PCI   ", 6)) {
			ck_assert_uint_eq(p[1], 0);
			ck_assert_uint_eq(isa_bus, 0);		/* PCI first */
			pci_bus++;
		} else if (p[0] == MP_BUS) {
			ck_assert_mem_eq(p + 2, "ISA   ", 6);
			ck_assert_uint_eq(p[1], 1);
			isa_bus++;
		} else if (p[0] == MP_INTSRC && p[4] == 1) {
			ck_assert_uint_eq(p[5], p[7]);		/* ISA n on pin n */
			isa_pins |= 1U << p[7];
			isa++;
		} else if (p[0] == MP_INTSRC) {
			ck_assert_uint_eq(p[4], 0);
			ck_assert_uint_lt(fns, 3);
			ck_assert_uint_eq(p[5], pci[fns].slot << 2);
			ck_assert_uint_eq(p[7], pci[fns].pin);
			ck_assert_uint_eq(get(p + 2, 2), 0);	/* conforms to PCI */
			ck_assert_uint_eq(p[6], ncpus);		/* the IOAPIC */
			fns++;
		}
	}
	ck_assert_ptr_eq(p, end);
	ck_assert_uint_eq(pci_bus, 1);
	ck_assert_uint_eq(isa_bus, 1);
	ck_assert_uint_eq(fns, 3);
	ck_assert_uint_eq(isa, X86_IOAPIC_PINS - 3);
	ck_assert_uint_eq(isa_pins, ((1U << X86_IOAPIC_PINS) - 1) & ~(1U << 5 | 1U << 6 | 1U << 23));
	for (size_t i = len; i < BIOS_SIZE; i++)
		ck_assert_uint_eq(buf[i], FILL);
	free(buf);
}
END_TEST

/* Functions beyond bus 0's 32 slots or the IOAPIC's pins are refused. */
START_TEST(test_pci_bad)
{
	struct mptable_pci pci[MPTABLE_MAX_PCI + 1] = { { 32, 5 } };
	uint8_t *buf = malloc(BIOS_SIZE);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 1, pci, 1), -EINVAL);
	pci[0] = (struct mptable_pci){ 1, X86_IOAPIC_PINS };
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 1, pci, 1), -EINVAL);
	pci[0] = (struct mptable_pci){ 1, 5 };
	ck_assert_int_gt(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 1, pci, 1), 0);
	ck_assert_int_eq(mptable_build(buf, BIOS_SIZE, X86_MPTABLE_ADDR, 1, pci,
				       MPTABLE_MAX_PCI + 1), -EINVAL);
	free(buf);
}
END_TEST

static Suite *mptable_suite(void)
{
	Suite *suite = suite_create("mptable");
	TCase *tc = tcase_create("build");
	int n = sizeof(ncpus_list) / sizeof(ncpus_list[0]);

	tcase_add_loop_test(tc, test_ncpus, 0, n);
	tcase_add_loop_test(tc, test_exact_buffer, 0, n);
	tcase_add_test(tc, test_bad_ncpus);
	tcase_add_test(tc, test_gpa);
	tcase_add_test(tc, test_pci);
	tcase_add_test(tc, test_pci_bad);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(mptable_suite)
