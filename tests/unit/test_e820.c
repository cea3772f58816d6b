// SPDX-License-Identifier: GPL-2.0
/* The guest's e820 RAM map for sizes around the 3 GiB MMIO hole. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/x86.h"

#define E820_RAM	1
#define E820_RESERVED	2
#define MiB		(1ULL << 20)
#define GiB		(1ULL << 30)
#define MAX_ENTRIES	128

/* Not RAM below 1 MiB: the VM generation ID's page, the EBDA, the
 * VGA/ROM window and the BIOS. */
#define LOW_NOT_RAM	(X86_HIMEM_START - X86_VMGENID_ADDR)

static const uint64_t ram_sizes[] = {
	16 * MiB, 256 * MiB, 3 * GiB, 3 * GiB + MiB, 8 * GiB,
};

static uint64_t end(const struct boot_e820_entry *e)
{
	return e->addr + e->size;
}

/* RAM bytes of [e) that fall inside [lo, hi). */
static uint64_t overlap(const struct boot_e820_entry *e, uint64_t lo, uint64_t hi)
{
	uint64_t a = e->addr > lo ? e->addr : lo;
	uint64_t b = end(e) < hi ? end(e) : hi;

	return b > a ? b - a : 0;
}

static bool reserved(const struct boot_e820_entry *tab, unsigned int n,
		     uint64_t lo, uint64_t hi)
{
	for (unsigned int i = 0; i < n; i++)
		if (tab[i].type == E820_RESERVED && overlap(&tab[i], lo, hi) == hi - lo)
			return true;
	return false;
}

START_TEST(test_map)
{
	uint64_t ram = ram_sizes[_i];
	uint64_t low = ram < X86_MMIO_HOLE ? ram : X86_MMIO_HOLE;
	struct boot_e820_entry tab[MAX_ENTRIES];
	uint64_t total = 0, high = 0;
	unsigned int n;
	bool low_1m = false;

	memset(tab, 0xee, sizeof(tab));
	n = e820_build(ram, tab, MAX_ENTRIES);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_lt(n, MAX_ENTRIES);
	ck_assert_uint_eq(x86_low_ram_end(ram), low);
	ck_assert_uint_eq(tab[0].addr, 0);
	for (unsigned int i = 0; i < n; i++) {
		const struct boot_e820_entry *e = &tab[i];

		ck_assert_uint_gt(e->size, 0);
		ck_assert_uint_gt(end(e), e->addr);		/* no wrap */
		ck_assert(e->type == E820_RAM || e->type == E820_RESERVED);
		if (i)		/* sorted, not overlapping */
			ck_assert_uint_le(end(&tab[i - 1]), e->addr);
		if (e->type != E820_RAM)
			continue;
		total += e->size;
		ck_assert_uint_eq(overlap(e, X86_MMIO_HOLE, X86_4G), 0);
		/* The MP table and EBDA must not be handed out as RAM,
		 * nor the VM generation ID's page (its spec's R1d). */
		ck_assert_uint_eq(overlap(e, X86_EBDA_START, X86_HIMEM_START), 0);
		ck_assert_uint_eq(overlap(e, X86_VMGENID_ADDR, X86_VMGENID_ADDR + 4096), 0);
		if (e->addr == X86_HIMEM_START) {
			low_1m = true;
			ck_assert_uint_eq(end(e), low);
		}
		if (e->addr >= X86_4G) {
			ck_assert_uint_eq(e->addr, X86_4G);
			high += e->size;
		}
	}
	ck_assert(low_1m);
	ck_assert_uint_eq(total, ram - LOW_NOT_RAM);
	ck_assert_uint_eq(high, ram > X86_MMIO_HOLE ? ram - X86_MMIO_HOLE : 0);
	/* Linux looks for the MP table in reserved memory, not in a gap. */
	ck_assert(reserved(tab, n, X86_MPTABLE_ADDR, X86_HIMEM_START));
	ck_assert(reserved(tab, n, X86_EBDA_START, 0xa0000));
	/* The GUID's page is reserved, not a gap: Linux maps it cached. */
	ck_assert(reserved(tab, n, X86_VMGENID_ADDR, X86_VMGENID_ADDR + 4096));
	/* The ACPI tables too: the kernel keeps reading them. */
	ck_assert(reserved(tab, n, X86_ACPI_ADDR, X86_ACPI_ADDR + X86_ACPI_SIZE));
	/* Entries past n are left alone. */
	ck_assert_uint_eq(tab[n].addr, 0xeeeeeeeeeeeeeeeeULL);
}
END_TEST

/* A table with too few slots gets a prefix of the map, nothing more. */
START_TEST(test_truncated)
{
	uint64_t ram = ram_sizes[_i];
	struct boot_e820_entry full[MAX_ENTRIES];
	unsigned int n = e820_build(ram, full, MAX_ENTRIES);

	for (unsigned int max = 0; max < n; max++) {
		/* Exactly max entries, so ASan catches a write past them. */
		struct boot_e820_entry *tab = malloc(max * sizeof(*tab) + !max);

		ck_assert_ptr_nonnull(tab);
		ck_assert_uint_eq(e820_build(ram, tab, max), max);
		ck_assert_mem_eq(tab, full, max * sizeof(*tab));
		free(tab);
	}
	ck_assert_uint_eq(e820_build(ram, full, n), n);
}
END_TEST

static Suite *e820_suite(void)
{
	Suite *suite = suite_create("e820");
	TCase *tc = tcase_create("map");
	int n = sizeof(ram_sizes) / sizeof(ram_sizes[0]);

	tcase_add_loop_test(tc, test_map, 0, n);
	tcase_add_loop_test(tc, test_truncated, 0, n);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(e820_suite)
