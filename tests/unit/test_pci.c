// SPDX-License-Identifier: GPL-2.0
/* PCI bus: config space against a model, BAR sizing and decoding, the
 * capability chain, conf1 and ECAM. */
#include <endian.h>
#include <string.h>

#include "unit.h"
#include "pci/pci.h"

#define WIN_BASE	0xc0000000ULL
#define WIN_LEN		0x10000000ULL
#define BAR_SIZE	0x4000ULL

struct tdev {
	struct pci_dev pci;
	pthread_mutex_t lock;
	unsigned int moves;
	uint64_t moved_addr;
	bool moved_on;
	unsigned int accesses;
	uint64_t last_off;
};

static struct pci_bus bus;
static struct tdev devs[3];	/* devs[s] is in slot s; 0 is the bridge */

static void t_bar_access(struct pci_dev *d, unsigned int bar, uint64_t off,
			 uint8_t *data, uint32_t len, bool is_write)
{
	struct tdev *t = d->priv;

	(void)bar;
	t->accesses++;
	t->last_off = off;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void t_bar_moved(struct pci_dev *d, unsigned int bar, uint64_t addr, bool on)
{
	struct tdev *t = d->priv;

	(void)bar;
	t->moves++;
	t->moved_addr = addr;
	t->moved_on = on;
}

static void t_fire(void *opaque, unsigned int v)
{
	(void)opaque;
	(void)v;
}

static void t_route(void *opaque, unsigned int v, uint64_t a, uint32_t d, bool on)
{
	(void)opaque;
	(void)v;
	(void)a;
	(void)d;
	(void)on;
}

static const struct pci_dev_ops t_ops = {
	.bar_access = t_bar_access,
	.bar_moved = t_bar_moved,
};
static const struct pci_msix_ops t_msix_ops = { .fire = t_fire, .route = t_route };

static void setup(void)
{
	pci_bus_init(&bus, WIN_BASE, WIN_LEN);
	memset(devs, 0, sizeof(devs));
	for (int i = 1; i < 3; i++) {
		struct pci_dev *d = &devs[i].pci;
		uint8_t vendor_cap[6] = { 16, 1, 2, 3, 4, 5 };

		pthread_mutex_init(&devs[i].lock, NULL);
		pci_dev_init(d, &t_ops, &devs[i], &devs[i].lock, "t");
		pci_dev_ids(d, 0x1af4, 0x1040 + i, 0x020000, 0x1af4, 1, 1, 10);
		ck_assert_int_eq(pci_dev_add_bar(d, 0, BAR_SIZE), 0);
		ck_assert_uint_ne(pci_dev_add_cap(d, 0x09, vendor_cap, sizeof(vendor_cap)), 0);
		ck_assert_int_eq(pci_dev_add_msix(d, 4, 0, 0x2000, 0x3000, &t_msix_ops, NULL), 0);
		ck_assert_int_eq(pci_bus_add(&bus, d), 0);
	}
}

static void teardown(void)
{
	pci_bus_exit(&bus);
}

/* ECAM of slot s. */
static void ecam(unsigned int s, uint32_t off, void *data, uint32_t len, bool w)
{
	uint8_t buf[8];

	if (!w)
		memset(buf, 0xff, sizeof(buf));
	else
		memcpy(buf, data, len);
	pci_ecam_access(&bus, (uint64_t)s << 15 | off, buf, len, w);
	if (!w)
		memcpy(data, buf, len);
}

static uint32_t rd(unsigned int s, uint32_t off, uint32_t len)
{
	uint32_t v = 0;

	ecam(s, off, &v, len, false);
	return le32toh(v);
}

static void wr(unsigned int s, uint32_t off, uint32_t len, uint32_t val)
{
	uint32_t v = htole32(val);

	ecam(s, off, &v, len, true);
}

/* The writable bits the spec gives this device, independent of pci.c. */
static void expected_wmask(uint8_t *m, uint8_t msix_cap)
{
	memset(m, 0, PCI_CFG_SIZE);
	m[0x04] = 0x47;
	m[0x05] = 0x05;
	m[0x0c] = 0xff;
	m[0x0d] = 0xff;
	/* BAR0/1: a 16 KiB 64-bit BAR. */
	m[0x11] = 0xc0;
	m[0x12] = m[0x13] = 0xff;
	memset(m + 0x14, 0xff, 4);
	m[0x3c] = 0xff;
	m[msix_cap + 3] = 0xc0;
}

static uint8_t find_cap(unsigned int s, uint8_t id)
{
	uint8_t at = rd(s, 0x34, 1);

	for (int n = 0; at && n < 48; n++) {
		if (rd(s, at, 1) == id)
			return at;
		at = rd(s, at + 1, 1);
	}
	return 0;
}

START_TEST(test_every_width_offset)
{
	uint8_t model[PCI_CFG_SIZE], mask[PCI_CFG_SIZE];
	static const uint32_t widths[] = { 1, 2, 4 };
	uint32_t pattern = 0xa5c3f00f;

	/* Memory decoding stays off: BAR writes must not decode. */
	for (uint32_t i = 0; i < PCI_CFG_SIZE; i++)
		model[i] = rd(1, i, 1);
	expected_wmask(mask, find_cap(1, 0x11));
	for (unsigned int w = 0; w < 3; w++) {
		uint32_t len = widths[w];

		for (uint32_t off = 0; off + len <= PCI_CFG_SIZE; off++) {
			uint32_t got, want = 0;

			pattern = pattern * 1103515245 + 12345;
			if (off == 4)
				continue;	/* the command register: below */
			/* Memory decoding stays off. */
			if (off < 5 && off + len > 4)
				pattern &= ~(0x02U << (8 * (4 - off)));
			wr(1, off, len, pattern);
			for (uint32_t i = 0; i < len; i++) {
				uint8_t b = pattern >> (8 * i);

				model[off + i] = (model[off + i] & ~mask[off + i]) |
						 (b & mask[off + i]);
			}
			/* Reads of every width at every offset agree. */
			for (uint32_t r = off > 3 ? off - 3 : 0; r < off + len; r++) {
				for (unsigned int rw = 0; rw < 3; rw++) {
					uint32_t rl = widths[rw];

					if (r + rl > PCI_CFG_SIZE)
						continue;
					got = rd(1, r, rl);
					want = 0;
					for (uint32_t i = 0; i < rl; i++)
						want |= (uint32_t)model[r + i] << (8 * i);
					ck_assert_msg(got == want, "%u-byte read at %#x: %#x, model %#x",
						      rl, r, got, want);
				}
			}
		}
	}
	ck_assert_uint_eq(devs[1].moves, 0);
	/* Extended config space reads 0; an absent slot reads all ones. */
	ck_assert_uint_eq(rd(1, 0x100, 4), 0);
	ck_assert_uint_eq(rd(5, 0, 4), 0xffffffff);
	ck_assert_uint_eq(rd(5, 0x40, 2), 0xffff);
}
END_TEST

START_TEST(test_ids_and_bridge)
{
	ck_assert_uint_eq(rd(0, 0, 4), 0x00081b36);
	ck_assert_uint_eq(rd(0, 0x08, 4) >> 8, 0x060000);
	ck_assert_uint_eq(rd(1, 0, 4), 0x10411af4);
	ck_assert_uint_eq(rd(2, 0, 2), 0x1af4);
	ck_assert_uint_eq(rd(2, 2, 2), 0x1042);
	ck_assert_uint_eq(rd(1, 0x08, 1), 1);
	ck_assert_uint_eq(rd(1, 0x2c, 4), 0x00011af4);
	ck_assert_uint_eq(rd(1, 0x3d, 1), 1);
	ck_assert_uint_eq(rd(1, 0x06, 2) & 0x10, 0x10);
	/* Read-only registers keep their value. */
	wr(1, 0, 4, 0);
	wr(1, 0x08, 4, 0);
	ck_assert_uint_eq(rd(1, 0, 4), 0x10411af4);
	ck_assert_uint_eq(rd(1, 0x08, 4), 0x02000001);
}
END_TEST

/* The requester ID (an ITS's device ID) follows the slot the function
 * answers at: devices 1 and 2 of bus 0, function 0. */
START_TEST(test_requester_id)
{
	ck_assert_uint_eq(devs[1].pci.slot, 1);
	ck_assert_uint_eq(pci_dev_rid(&devs[1].pci), 0x08);
	ck_assert_uint_eq(pci_dev_rid(&devs[2].pci), 0x10);
	ck_assert_uint_eq(rd(pci_dev_rid(&devs[2].pci) >> 3, 0, 4), 0x10421af4);
}
END_TEST

START_TEST(test_bar_sizing)
{
	uint32_t lo = rd(1, 0x10, 4), hi = rd(1, 0x14, 4);

	ck_assert_uint_eq(lo & 0xf, 0x4);	/* 64-bit memory */
	ck_assert_uint_eq(hi, 0);
	ck_assert_uint_ge(lo & ~0xfU, WIN_BASE);
	wr(1, 0x10, 4, 0xffffffff);
	wr(1, 0x14, 4, 0xffffffff);
	ck_assert_uint_eq(rd(1, 0x10, 4), (uint32_t)~(BAR_SIZE - 1) | 4);
	ck_assert_uint_eq(rd(1, 0x14, 4), 0xffffffff);
	wr(1, 0x10, 4, lo);
	wr(1, 0x14, 4, hi);
	ck_assert_uint_eq(rd(1, 0x10, 4), lo);
	/* Unimplemented BARs and the ROM BAR read 0 and stay 0. */
	for (uint32_t off = 0x18; off <= 0x24; off += 4) {
		wr(1, off, 4, 0xffffffff);
		ck_assert_uint_eq(rd(1, off, 4), 0);
	}
	wr(1, 0x30, 4, 0xffffffff);
	ck_assert_uint_eq(rd(1, 0x30, 4), 0);
	/* Both devices' BARs apart, aligned, in the window. */
	ck_assert_uint_ne(rd(1, 0x10, 4), rd(2, 0x10, 4));
	ck_assert_uint_eq(rd(2, 0x10, 4) & (BAR_SIZE - 1), 4);
}
END_TEST

START_TEST(test_cap_chain)
{
	uint8_t at = rd(1, 0x34, 1);
	int n = 0;
	bool seen_msix = false, seen_vendor = false;

	while (at) {
		ck_assert_uint_ge(at, 0x40);
		ck_assert_uint_eq(at & 3, 0);
		seen_msix |= rd(1, at, 1) == 0x11;
		seen_vendor |= rd(1, at, 1) == 0x09;
		at = rd(1, at + 1, 1);
		ck_assert_int_lt(++n, 48);
	}
	ck_assert(seen_msix && seen_vendor);
	at = find_cap(1, 0x11);
	ck_assert_uint_eq(rd(1, at + 2, 2) & 0x7ff, 3);	/* 4 vectors */
	ck_assert_uint_eq(rd(1, at + 4, 4), 0x2000);	/* table, BIR 0 */
	ck_assert_uint_eq(rd(1, at + 8, 4), 0x3000);
	/* The chain is read-only. */
	wr(1, 0x34, 1, 0x80);
	wr(1, at + 1, 1, 0x80);
	ck_assert_uint_eq(rd(1, 0x34, 1), 0x40);
}
END_TEST

static uint8_t win_read8(uint64_t addr)
{
	uint8_t b = 0xff;

	pci_win_access(&bus, addr - WIN_BASE, &b, 1, false);
	return b;
}

START_TEST(test_decode)
{
	uint64_t a1 = rd(1, 0x10, 4) & ~0xfU, a2 = rd(2, 0x10, 4) & ~0xfU;

	/* Memory decoding off: nothing answers. */
	ck_assert_uint_eq(win_read8(a1), 0xff);
	wr(1, 4, 2, 0x0006);
	ck_assert_uint_eq(devs[1].moves, 1);
	ck_assert(devs[1].moved_on);
	ck_assert_uint_eq(devs[1].moved_addr, a1);
	ck_assert_uint_eq(win_read8(a1 + 0x10), 0x5a);
	ck_assert_uint_eq(devs[1].last_off, 0x10);
	/* Moved inside the window: decoded at the new place only. */
	wr(1, 0x10, 4, (uint32_t)(WIN_BASE + 0x100000));
	ck_assert_uint_eq(devs[1].moved_addr, WIN_BASE + 0x100000);
	ck_assert_uint_eq(win_read8(a1), 0xff);
	ck_assert_uint_eq(win_read8(WIN_BASE + 0x100000), 0x5a);
	/* Outside the window (over RAM): not decoded. */
	wr(1, 0x10, 4, 0x1000000);
	ck_assert(!devs[1].moved_on);
	ck_assert_uint_eq(win_read8(WIN_BASE + 0x100000), 0xff);
	/* Above 4 GiB, outside the 32-bit window. */
	wr(1, 0x10, 4, (uint32_t)WIN_BASE);
	wr(1, 0x14, 4, 1);
	ck_assert(!devs[1].moved_on);
	wr(1, 0x14, 4, 0);
	ck_assert(devs[1].moved_on);
	/* Device 2 decodes at a2; device 1 moved over it is refused. */
	wr(2, 4, 2, 0x0002);
	ck_assert(devs[2].moved_on);
	wr(1, 0x10, 4, (uint32_t)a2);
	ck_assert(!devs[1].moved_on);
	devs[2].accesses = 0;
	ck_assert_uint_eq(win_read8(a2), 0x5a);
	ck_assert_uint_eq(devs[2].accesses, 1);
	/* Decoding off again. */
	wr(2, 4, 2, 0);
	ck_assert(!devs[2].moved_on);
	ck_assert_uint_eq(win_read8(a2), 0xff);
}
END_TEST

static uint32_t conf1(uint64_t port, uint32_t len, bool w, uint32_t val)
{
	uint8_t buf[4];
	uint32_t v = htole32(val);

	memcpy(buf, &v, 4);
	if (!w)
		memset(buf, 0xff, 4);
	pci_conf1_access(&bus, port - PCI_CONF1_PORT, buf, len, w);
	memcpy(&v, buf, 4);
	return le32toh(v) & (len == 4 ? 0xffffffff : (1U << (8 * len)) - 1);
}

START_TEST(test_conf1)
{
	/* Linux's probe: a byte to 0xCFB does not latch; dword does. */
	conf1(0xcfb, 1, true, 1);
	conf1(0xcf8, 4, true, 0x80000000);
	ck_assert_uint_eq(conf1(0xcf8, 4, false, 0), 0x80000000);
	ck_assert_uint_eq(conf1(0xcfc, 4, false, 0), 0x00081b36);
	/* Slot 1, register 0x08, byte by byte through 0xCFC-0xCFF. */
	conf1(0xcf8, 4, true, 0x80000000 | 1 << 11 | 0x08);
	ck_assert_uint_eq(conf1(0xcfc, 1, false, 0), 1);
	ck_assert_uint_eq(conf1(0xcfd, 1, false, 0), 0);
	ck_assert_uint_eq(conf1(0xcfe, 2, false, 0), 0x0200);
	/* Register 0x3c by dword and word writes at 0xCFC/0xCFE. */
	conf1(0xcf8, 4, true, 0x80000000 | 1 << 11 | 0x3c);
	conf1(0xcfc, 1, true, 11);
	ck_assert_uint_eq(conf1(0xcfc, 4, false, 0) & 0xffff, 0x010b);
	/* Disabled, another bus or function: all ones, writes dropped. */
	conf1(0xcf8, 4, true, 1 << 11);
	ck_assert_uint_eq(conf1(0xcfc, 4, false, 0), 0xffffffff);
	conf1(0xcf8, 4, true, 0x80010000 | 1 << 11);
	ck_assert_uint_eq(conf1(0xcfc, 4, false, 0), 0xffffffff);
	conf1(0xcf8, 4, true, 0x80000100 | 1 << 11);
	ck_assert_uint_eq(conf1(0xcfc, 2, false, 0), 0xffff);
	/* A dword at 0xCFE reaches only two ports. */
	conf1(0xcf8, 4, true, 0x80000000 | 1 << 11);
	ck_assert_uint_eq(conf1(0xcfe, 4, false, 0), 0xffff1041);
}
END_TEST

START_TEST(test_ecam_edges)
{
	uint8_t buf[8];

	/* Function 1 of a slot, a crossing of the 4 KiB end. */
	memset(buf, 0, sizeof(buf));
	pci_ecam_access(&bus, 1 << 15 | 1 << 12, buf, 4, false);
	ck_assert_uint_eq(buf[0], 0xff);
	memset(buf, 0, sizeof(buf));
	pci_ecam_access(&bus, 1 << 15 | 0xffe, buf, 4, false);
	ck_assert_uint_eq(buf[3], 0xff);
	/* An 8-byte read of the ids. */
	pci_ecam_access(&bus, 1 << 15, buf, 8, false);
	ck_assert_uint_eq(buf[0], 0xf4);
	ck_assert_uint_eq(buf[2], 0x41);
}
END_TEST

static Suite *pci_suite(void)
{
	Suite *suite = suite_create("pci");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_width_offset);
	tcase_add_test(tc, test_ids_and_bridge);
	tcase_add_test(tc, test_requester_id);
	tcase_add_test(tc, test_bar_sizing);
	tcase_add_test(tc, test_cap_chain);
	tcase_add_test(tc, test_decode);
	tcase_add_test(tc, test_conf1);
	tcase_add_test(tc, test_ecam_edges);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(pci_suite)
