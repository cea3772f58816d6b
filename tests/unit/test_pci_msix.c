// SPDX-License-Identifier: GPL-2.0
/* MSI-X: the table, per-vector and function masks, pending bits and the
 * route callbacks the machine's interrupt routing follows. */
#include <endian.h>
#include <string.h>

#include "unit.h"
#include "pci/msix.h"

#define NR	4

static struct pci_msix x;
static unsigned int fired[NR], routes_up[NR], routes_down[NR];
static uint64_t route_addr[NR];
static uint32_t route_data[NR];

static void t_fire(void *opaque, unsigned int v)
{
	ck_assert_ptr_eq(opaque, &x);
	ck_assert_uint_lt(v, NR);
	fired[v]++;
}

static void t_route(void *opaque, unsigned int v, uint64_t addr, uint32_t data, bool on)
{
	(void)opaque;
	ck_assert_uint_lt(v, NR);
	if (on) {
		routes_up[v]++;
		route_addr[v] = addr;
		route_data[v] = data;
	} else {
		routes_down[v]++;
	}
}

static const struct pci_msix_ops ops = { .fire = t_fire, .route = t_route };

static void setup(void)
{
	memset(fired, 0, sizeof(fired));
	memset(routes_up, 0, sizeof(routes_up));
	memset(routes_down, 0, sizeof(routes_down));
	pci_msix_init(&x, NR, &ops, &x);
}

static void tw(uint64_t off, uint32_t val)
{
	uint32_t v = htole32(val);

	pci_msix_table_access(&x, off, (uint8_t *)&v, 4, true);
}

static uint32_t tr(uint64_t off, uint32_t len)
{
	uint64_t v = ~0ULL;

	pci_msix_table_access(&x, off, (uint8_t *)&v, len, false);
	return le64toh(v);
}

static uint64_t pba(void)
{
	uint64_t v = 0;

	pci_msix_pba_access(&x, 0, (uint8_t *)&v, 8, false);
	return le64toh(v);
}

/* Vector v's message, written while masked as Linux does. */
static void program(unsigned int v, uint64_t addr, uint32_t data)
{
	tw(16 * v, addr);
	tw(16 * v + 4, addr >> 32);
	tw(16 * v + 8, data);
}

START_TEST(test_reset_state)
{
	for (unsigned int v = 0; v < NR; v++) {
		ck_assert_uint_eq(tr(16 * v + 12, 4), 1);	/* masked */
		ck_assert_uint_eq(tr(16 * v, 4), 0);
	}
	ck_assert_uint_eq(pba(), 0);
	/* Disabled: the device uses INTx. */
	ck_assert(!pci_msix_notify(&x, 0));
}
END_TEST

START_TEST(test_table_rw)
{
	uint64_t q = htole64(0x1234567800000000ULL | 0xfee00000);

	program(1, 0xfee01000, 0x4041);
	ck_assert_uint_eq(tr(16, 4), 0xfee01000);
	ck_assert_uint_eq(tr(20, 4), 0);
	ck_assert_uint_eq(tr(24, 4), 0x4041);
	/* 8-byte access to the address pair. */
	pci_msix_table_access(&x, 32, (uint8_t *)&q, 8, true);
	ck_assert_uint_eq(tr(36, 4), 0x12345678);
	ck_assert_uint_eq(tr(32, 4), 0xfee00000);
	/* Only the mask bit of Vector Control is writable. */
	tw(12, 0xfffffffe);
	ck_assert_uint_eq(tr(12, 4), 0);
	/* Misaligned and odd widths, and past the table: ignored. */
	tw(17, 0xdeadbeef);
	ck_assert_uint_eq(tr(16, 4), 0xfee01000);
	ck_assert_uint_eq(tr(18, 4), 0xffffffff);
	ck_assert_uint_eq(tr(16, 2), 0xffffffff);	/* 2 bytes of ones */
	tw(16 * NR, 1);
	ck_assert_uint_eq(tr(16 * NR, 4), 0xffffffff);
	ck_assert_uint_eq(tr(16 * NR - 8, 8) & 0xffffffff, 0);
}
END_TEST

START_TEST(test_mask_pending)
{
	program(0, 0xfee00000, 0x30);
	pci_msix_control(&x, true, false);
	/* Masked: pending, no route yet. */
	ck_assert(pci_msix_notify(&x, 0));
	ck_assert_uint_eq(fired[0], 0);
	ck_assert_uint_eq(pba(), 1);
	ck_assert_uint_eq(routes_up[0], 0);
	/* Unmask: route up with the message, then the pending one fires. */
	tw(12, 0);
	ck_assert_uint_eq(routes_up[0], 1);
	ck_assert_uint_eq(route_addr[0], 0xfee00000);
	ck_assert_uint_eq(route_data[0], 0x30);
	ck_assert_uint_eq(fired[0], 1);
	ck_assert_uint_eq(pba(), 0);
	ck_assert(pci_msix_notify(&x, 0));
	ck_assert_uint_eq(fired[0], 2);
	/* New data while live: the route follows. */
	tw(8, 0x31);
	ck_assert_uint_eq(routes_up[0], 2);
	ck_assert_uint_eq(route_data[0], 0x31);
	/* Function mask: route down, pending, then delivered on unmask. */
	pci_msix_control(&x, true, true);
	ck_assert_uint_eq(routes_down[0], 1);
	ck_assert(pci_msix_notify(&x, 0));
	ck_assert_uint_eq(fired[0], 2);
	ck_assert_uint_eq(pba(), 1);
	pci_msix_control(&x, true, false);
	ck_assert_uint_eq(fired[0], 3);
	ck_assert_uint_eq(pba(), 0);
	/* No vector (VIRTIO_MSI_NO_VECTOR): nothing, but MSI-X is on. */
	ck_assert(pci_msix_notify(&x, 0xffff));
	/* Disable: routes down, pending bits gone, INTx again. */
	tw(16 + 12, 0);
	ck_assert(pci_msix_notify(&x, 2));
	ck_assert_uint_eq(pba(), 4);
	pci_msix_control(&x, false, false);
	ck_assert_uint_eq(routes_down[0], 2);
	ck_assert_uint_eq(routes_down[1], 1);
	ck_assert_uint_eq(pba(), 0);
	ck_assert(!pci_msix_notify(&x, 0));
	/* The PBA is read-only. */
	{
		uint64_t ones = ~0ULL;

		pci_msix_pba_access(&x, 0, (uint8_t *)&ones, 8, true);
		ck_assert_uint_eq(pba(), 0);
	}
}
END_TEST

START_TEST(test_reset)
{
	program(2, 0xfee00000, 0x40);
	pci_msix_control(&x, true, false);
	tw(32 + 12, 0);
	ck_assert_uint_eq(routes_up[2], 1);
	pci_msix_reset(&x);
	ck_assert_uint_eq(routes_down[2], 1);
	ck_assert_uint_eq(tr(32 + 12, 4), 1);
	ck_assert_uint_eq(tr(32 + 8, 4), 0);
}
END_TEST

static Suite *pci_msix_suite(void)
{
	Suite *suite = suite_create("pci_msix");
	TCase *tc = tcase_create("msix");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_table_rw);
	tcase_add_test(tc, test_mask_pending);
	tcase_add_test(tc, test_reset);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(pci_msix_suite)
