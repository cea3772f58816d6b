// SPDX-License-Identifier: GPL-2.0
/*
 * A PCI function's and the bus's snapshot state (pci/pci_state.c): a bus
 * the guest programmed (BARs moved, decoding on, MSI-X on with vectors
 * masked, unmasked and pending) saved and loaded into a fresh bus, every
 * field back and every route and BAR move reported; every truncation
 * refused with nothing changed; hostile values refused one by one.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "lib/sbuf.h"
#include "pci/pci.h"

#define WIN_BASE	0xc0000000ULL
#define WIN_LEN		0x10000000ULL
#define BAR_SIZE	0x4000ULL
#define NR_VEC		4

struct tdev {
	struct pci_dev pci;
	pthread_mutex_t lock;
	unsigned int moves;
	uint64_t moved_addr;
	bool moved_on;
	unsigned int routes, fires;
	uint64_t live;			/* vectors routed, as the host sees it */
	uint64_t addr[NR_VEC];
	uint32_t data[NR_VEC];
};

struct tbus {
	struct pci_bus bus;
	struct tdev devs[3];		/* devs[s] in slot s; 0 is the bridge */
};

static struct tbus a, b;
static struct unit_capture log_capture;

static void t_bar_access(struct pci_dev *d, unsigned int bar, uint64_t off,
			 uint8_t *data, uint32_t len, bool is_write)
{
	(void)d;
	(void)bar;
	(void)off;
	if (!is_write)
		memset(data, 0, len);
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
	struct tdev *t = opaque;

	(void)v;
	t->fires++;
}

static void t_route(void *opaque, unsigned int v, uint64_t addr, uint32_t data, bool on)
{
	struct tdev *t = opaque;

	t->routes++;
	if (on)
		t->live |= 1ULL << v;
	else
		t->live &= ~(1ULL << v);
	t->addr[v] = addr;
	t->data[v] = data;
}

static const struct pci_dev_ops t_ops = {
	.bar_access = t_bar_access,
	.bar_moved = t_bar_moved,
};
static const struct pci_msix_ops t_msix_ops = { .fire = t_fire, .route = t_route };

static void tbus_init(struct tbus *t)
{
	memset(t, 0, sizeof(*t));
	pci_bus_init(&t->bus, WIN_BASE, WIN_LEN);
	for (int i = 1; i < 3; i++) {
		struct pci_dev *d = &t->devs[i].pci;

		pthread_mutex_init(&t->devs[i].lock, NULL);
		pci_dev_init(d, &t_ops, &t->devs[i], &t->devs[i].lock, "t");
		pci_dev_ids(d, 0x1af4, 0x1040 + i, 0x020000, 0x1af4, 1, 1, 10);
		ck_assert_int_eq(pci_dev_add_bar(d, 0, BAR_SIZE), 0);
		ck_assert_int_eq(pci_dev_add_msix(d, NR_VEC, 0, 0x2000, 0x3000,
						  &t_msix_ops, &t->devs[i]), 0);
		ck_assert_int_eq(pci_bus_add(&t->bus, d), 0);
	}
}

static void cfgw(struct tbus *t, unsigned int s, uint32_t off, uint32_t val, uint32_t len)
{
	uint32_t v = htole32(val);

	pci_cfg_access(&t->bus, s, off, (uint8_t *)&v, len, true);
}

static void barw(struct tbus *t, uint64_t addr, uint32_t val)
{
	uint32_t v = htole32(val);

	pci_win_access(&t->bus, addr - WIN_BASE, (uint8_t *)&v, 4, true);
}

/*
 * The guest's work on bus a: function 1's BAR moved to 0xc8000000,
 * function 2's left where firmware put it; both decoding; function 1's
 * MSI-X on, vector 0 unmasked (routed), vector 1 masked with a message
 * and pending, vector 2 unmasked; conf1's address register half way
 * through an access; the bridge's command register written.
 */
static void program(struct tbus *t)
{
	uint8_t msix = t->devs[1].pci.msix_cap;

	cfgw(t, 1, 0x10, 0xc8000000, 4);
	cfgw(t, 1, 0x04, 0x0006, 2);
	cfgw(t, 2, 0x04, 0x0002, 2);
	cfgw(t, 1, 0x3c, 11, 1);
	cfgw(t, 1, msix + 2, 0x8000, 2);
	barw(t, 0xc8002000, 0xfee00000);
	barw(t, 0xc8002008, 0x41);
	barw(t, 0xc800200c, 0);
	barw(t, 0xc8002010, 0xfee01000);
	barw(t, 0xc8002018, 0x42);
	barw(t, 0xc8002020, 0xfee02000);
	barw(t, 0xc8002028, 0x43);
	barw(t, 0xc800202c, 0);
	pthread_mutex_lock(&t->devs[1].lock);
	pci_msix_notify(&t->devs[1].pci.msix, 1);	/* masked: pending */
	pthread_mutex_unlock(&t->devs[1].lock);
	cfgw(t, 0, 0x04, 0x0007, 2);
	pci_conf1_access(&t->bus, 0, (uint8_t *)&(uint32_t){ htole32(0x80000808) }, 4, true);
}

/* The whole state of bus t: the bus's part, then each function's. */
static void save(struct tbus *t, struct sbuf *out)
{
	memset(out, 0, sizeof(*out));
	pci_bus_save(&t->bus, out);
	for (int i = 1; i < 3; i++) {
		pthread_mutex_lock(&t->devs[i].lock);
		pci_dev_save(&t->devs[i].pci, out);
		pthread_mutex_unlock(&t->devs[i].lock);
	}
	ck_assert(sbuf_ok(out));
}

static int load(struct tbus *t, const void *p, size_t n)
{
	struct sbuf_rd r;
	int err;

	sbuf_rd_init(&r, p, n);
	err = pci_bus_load(&t->bus, &r);
	for (int i = 1; i < 3 && !err; i++) {
		pthread_mutex_lock(&t->devs[i].lock);
		err = pci_dev_load(&t->devs[i].pci, &r);
		pthread_mutex_unlock(&t->devs[i].lock);
	}
	if (!err && !sbuf_rd_done(&r))
		err = -E2BIG;
	return err;
}

static void setup(void)
{
	tbus_init(&a);
	tbus_init(&b);
	program(&a);
	unit_capture_begin(&log_capture, STDERR_FILENO);
}

static void teardown(void)
{
	free(unit_capture_end(&log_capture));
	pci_bus_exit(&a.bus);
	pci_bus_exit(&b.bus);
}

START_TEST(test_round_trip)
{
	struct sbuf s, s2;
	struct tdev *d1 = &b.devs[1], *d2 = &b.devs[2];

	ck_assert_uint_eq(a.devs[1].live, 0x5);
	ck_assert_uint_eq(a.devs[1].pci.msix.pba, 0x2);
	save(&a, &s);
	ck_assert_int_eq(load(&b, s.data, s.len), 0);
	/* Config space byte for byte, decoding where the guest put it. */
	for (int i = 0; i < 3; i++)
		ck_assert_mem_eq(b.bus.devs[i]->cfg, a.bus.devs[i]->cfg, PCI_CFG_SIZE);
	ck_assert(d1->pci.bar_on[0] && d2->pci.bar_on[0]);
	ck_assert_uint_eq(d1->pci.bar_addr[0], 0xc8000000);
	ck_assert_uint_eq(d2->pci.bar_addr[0], a.devs[2].pci.bar_addr[0]);
	ck_assert_uint_eq(d1->moves, 1);
	ck_assert(d1->moved_on);
	ck_assert_uint_eq(d1->moved_addr, 0xc8000000);
	ck_assert_uint_eq(d2->moved_addr, a.devs[2].pci.bar_addr[0]);
	/* MSI-X: enabled, table, pending bit; routes up for exactly the
	 * vectors that deliver, with their messages; nothing fired. */
	ck_assert(d1->pci.msix.enabled && !d1->pci.msix.fmask);
	ck_assert_mem_eq(d1->pci.msix.table, a.devs[1].pci.msix.table,
			 NR_VEC * sizeof(struct pci_msix_entry));
	ck_assert_uint_eq(d1->pci.msix.pba, 0x2);
	ck_assert_uint_eq(d1->live, 0x5);
	ck_assert_uint_eq(d1->pci.msix.live, 0x5);
	ck_assert_uint_eq(d1->addr[0], 0xfee00000);
	ck_assert_uint_eq(d1->data[2], 0x43);
	ck_assert_uint_eq(d1->fires, 0);
	ck_assert_uint_eq(d2->live, 0);
	ck_assert(!d2->pci.msix.enabled);
	ck_assert_uint_eq(b.bus.conf1_addr, 0x80000808);
	/* Saved again: the same bytes. */
	save(&b, &s2);
	ck_assert_uint_eq(s2.len, s.len);
	ck_assert_mem_eq(s2.data, s.data, s.len);
	/* Unmasking the pending vector delivers it once, as before. */
	barw(&b, 0xc800201c, 0);
	ck_assert_uint_eq(d1->fires, 1);
	ck_assert_uint_eq(d1->pci.msix.pba, 0);
	ck_assert_uint_eq(d1->live, 0x7);
	sbuf_free(&s);
	sbuf_free(&s2);
}
END_TEST

/* Every cut is refused, and the refused load leaves no BAR decoding
 * and no route up (a function loaded whole before the cut may keep its
 * state: the restore ends there). */
START_TEST(test_truncated)
{
	struct sbuf s;

	save(&a, &s);
	for (size_t n = 0; n < s.len; n++) {
		struct tbus *t = &b;

		pci_bus_exit(&t->bus);
		tbus_init(t);
		ck_assert_msg(load(t, s.data, n) != 0, "cut at %zu accepted", n);
		ck_assert(!t->devs[2].pci.bar_on[0]);
		ck_assert_uint_eq(t->devs[2].live, 0);
	}
	sbuf_free(&s);
}
END_TEST

/* Offsets in the blob: the bus's part, then function 1's. */
#define BUS_HDR		12			/* version, conf1, count */
#define FN_LEN		(4 + PCI_CFG_SIZE + 1 + 4 + NR_VEC * 16 + 8)
#define BRIDGE_LEN	(4 + PCI_CFG_SIZE + 1 + 4 + 8)
#define FN1		(BUS_HDR + BRIDGE_LEN)
#define FN2		(FN1 + FN_LEN)
#define CFG(fn, off)	((fn) + 4 + (off))
#define ON(fn)		((fn) + 4 + PCI_CFG_SIZE)
#define VEC(fn, v, w)	((fn) + 4 + PCI_CFG_SIZE + 1 + 4 + 16 * (v) + 4 * (w))
#define PBA(fn)		((fn) + 4 + PCI_CFG_SIZE + 1 + 4 + NR_VEC * 16)

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

/* The blob with one change must be refused with a line saying why. */
static void refused(size_t off, const void *bytes, size_t n, const char *why)
{
	struct sbuf s;
	char *log;

	pci_bus_exit(&b.bus);
	tbus_init(&b);
	save(&a, &s);
	ck_assert_uint_eq(s.len, FN2 + FN_LEN);
	memcpy(s.data + off, bytes, n);
	free(unit_capture_end(&log_capture));
	unit_capture_begin(&log_capture, STDERR_FILENO);
	ck_assert_msg(load(&b, s.data, s.len) == -EINVAL, "%s accepted", why);
	log = unit_capture_end(&log_capture);
	ck_assert_msg(strstr(log, why), "'%s' not in '%s'", why, log);
	free(log);
	unit_capture_begin(&log_capture, STDERR_FILENO);
	/* Nothing of the refused function decodes or is routed. */
	ck_assert(!b.devs[2].pci.bar_on[0]);
	ck_assert_uint_eq(b.devs[2].live, 0);
	sbuf_free(&s);
}

START_TEST(test_hostile)
{
	uint8_t buf[8];
	uint8_t msix = a.devs[2].pci.msix_cap;

	put32(buf, 2);
	refused(0, buf, 4, "layout version");
	refused(8, buf, 4, "2 functions saved, the bus has 3");
	refused(FN2, buf, 4, "layout version 0x2");
	/* Read-only bits: the device id, a BAR's type, MSI-X table size. */
	buf[0] = 0x99;
	refused(CFG(FN2, 0x02), buf, 1, "read-only bits differ in config byte 0x2");
	buf[0] = 0x00;
	refused(CFG(FN2, 0x10), buf, 1, "read-only bits differ in config byte 0x10");
	buf[0] = 0x07;
	refused(CFG(FN2, msix + 2), buf, 1, "read-only bits differ");
	/* BARs: one that does not exist, decoding with memory off, outside
	 * the window, over function 1's. */
	buf[0] = 0x2;
	refused(ON(FN2), buf, 1, "BAR 2 at");
	buf[0] = 0x8;
	refused(ON(FN2), buf, 1, "decoding BARs 0x8");
	buf[0] = 0;
	refused(CFG(FN2, 0x04), buf, 1, "memory decoding off");
	put32(buf, 0xb0000004);
	refused(CFG(FN2, 0x10), buf, 4, "outside the PCI window or over another BAR");
	put32(buf, 0xd0000004);
	refused(CFG(FN2, 0x10), buf, 4, "outside the PCI window or over another BAR");
	put32(buf, 0xc8000004);
	refused(CFG(FN2, 0x10), buf, 4, "outside the PCI window or over another BAR");
	put32(buf, 1);
	refused(CFG(FN2, 0x14), buf, 4, "outside the PCI window");
	/* MSI-X: count, control bits, pending bits. */
	put32(buf, NR_VEC + 1);
	refused(ON(FN2) + 1, buf, 4, "MSI-X vector count 0x5");
	put32(buf, 0x3);
	refused(VEC(FN2, 1, 3), buf, 4, "MSI-X vector control 0x3");
	put32(buf, 0x10);
	refused(PBA(FN2), buf, 4, "MSI-X pending bits 0x1");
	put32(buf, 0x1);
	refused(PBA(FN2), buf, 4, "MSI-X pending bit where none can be, vector 0");
	/* Function 1 has MSI-X on: vector 0 unmasked cannot be pending. */
	refused(PBA(FN1), buf, 4, "MSI-X pending bit where none can be, vector 0");
}
END_TEST

static Suite *pci_state_suite(void)
{
	Suite *suite = suite_create("pci_state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(pci_state_suite)
