// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-pci transport on a PCI bus, driven as Linux's virtio_pci
 * modern driver drives it: the vendor capabilities, the common
 * configuration, a queue kicked and completed, its MSI-X vector routed
 * and fired, INTx with the ISR's read-to-clear, and the notify
 * ioeventfds following the BAR.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "util.h"
#include "lib/evloop.h"
#include "lib/mem.h"
#include "pci/pci.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL
#define WIN		0xc0000000ULL
#define NR_QUEUES	2
#define QSIZE		16

static struct guest_mem mem;
static uint8_t *ram;
static struct virtio_dev vdev;
static struct virtio_pci *p;
static struct pci_bus bus;
static struct evloop loop;
static struct virtq_chain chain;
static unsigned int notifies;
static struct unit_capture log_capture;

/* The machine's side, recorded. */
static uint32_t gsis;
static struct { bool on; uint64_t addr; uint32_t data; unsigned int n; } routes[8];
static int intx;
static struct { uint64_t addr; bool on; } ioev[NR_QUEUES];
static int vec_fds[8];

static int h_msi_irqfd(void *ctx, int fd, uint32_t *gsi)
{
	(void)ctx;
	ck_assert_uint_lt(gsis, 8);
	vec_fds[gsis] = fd;
	*gsi = 100 + gsis++;
	return 0;
}

static int h_msi_route(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, bool on)
{
	(void)ctx;
	ck_assert_uint_ge(gsi, 100);
	ck_assert_uint_lt(gsi, 100 + gsis);
	routes[gsi - 100].on = on;
	routes[gsi - 100].addr = addr;
	routes[gsi - 100].data = data;
	routes[gsi - 100].n++;
	return 0;
}

static int h_ioeventfd(void *ctx, uint64_t addr, int fd, bool assign)
{
	(void)ctx;
	(void)fd;
	ck_assert_uint_ge(addr, WIN + VPCI_NOTIFY);
	unsigned int q = (addr & 0xfff) / VPCI_NOTIFY_MUL;

	ck_assert_uint_lt(q, NR_QUEUES);
	if (!assign)
		ck_assert_uint_eq(ioev[q].addr, addr);
	ck_assert(ioev[q].on != assign);
	ioev[q].on = assign;
	ioev[q].addr = addr;
	return 0;
}

static int h_intx(void *ctx, uint32_t irq, int level)
{
	(void)ctx;
	ck_assert_uint_eq(irq, 7);
	intx = level;
	return 0;
}

static void fake_notify(struct virtio_dev *d, unsigned int q)
{
	notifies++;
	while (virtio_pop(d, q, &chain) > 0)
		virtq_push(&d->vqs[q], chain.head, 0);
	virtio_notify_used(d, q);
}

static const struct virtio_dev_ops fake_ops = {
	.device_id = 4,
	.nr_queues = NR_QUEUES,
	.queue_max = 64,
	.notify = fake_notify,
};

static void setup(void)
{
	struct virtio_pci_host host = {
		.msi_irqfd = h_msi_irqfd, .msi_route = h_msi_route,
		.ioeventfd = h_ioeventfd, .set_intx = h_intx, .loop = &loop,
	};

	ram = aligned_alloc(4096, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(gmem_add_region(&mem, RAM_GPA, RAM_SIZE, ram), 0);
	gsis = 0;
	intx = 0;
	notifies = 0;
	memset(routes, 0, sizeof(routes));
	memset(ioev, 0, sizeof(ioev));
	ck_assert_int_eq(evloop_init(&loop), 0);
	ck_assert_int_eq(virtio_dev_init(&vdev, &fake_ops, &mem, "test", NULL), 0);
	pci_bus_init(&bus, WIN, 0x10000000);
	p = virtio_pci_new(&vdev, 7, &host);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(pci_bus_add(&bus, virtio_pci_dev(p)), 0);
	ck_assert_int_eq(virtio_pci_attach(p), 0);
	ck_assert_uint_eq(gsis, NR_QUEUES + 1);
	unit_capture_begin(&log_capture, STDERR_FILENO);
}

static void teardown(void)
{
	free(unit_capture_end(&log_capture));
	virtio_pci_free(p);
	virtio_dev_exit(&vdev);
	pci_bus_exit(&bus);
	evloop_exit(&loop);
	free(ram);
}

static uint32_t cfg_rd(uint32_t off, uint32_t len)
{
	uint32_t v = 0xffffffff;

	pci_cfg_access(&bus, 1, off, (uint8_t *)&v, len, false);
	return le32toh(v) & (len == 4 ? ~0U : (1U << (8 * len)) - 1);
}

static void cfg_wr(uint32_t off, uint32_t len, uint32_t val)
{
	uint32_t v = htole32(val);

	pci_cfg_access(&bus, 1, off, (uint8_t *)&v, len, true);
}

static uint64_t bar(void)
{
	return (uint64_t)cfg_rd(0x14, 4) << 32 | (cfg_rd(0x10, 4) & ~0xfU);
}

static uint32_t rd(uint64_t off, uint32_t len)
{
	uint32_t v = 0xffffffff;

	pci_win_access(&bus, bar() + off - WIN, (uint8_t *)&v, len, false);
	return le32toh(v) & (len == 4 ? ~0U : (1U << (8 * len)) - 1);
}

static void wr(uint64_t off, uint32_t len, uint32_t val)
{
	uint32_t v = htole32(val);

	pci_win_access(&bus, bar() + off - WIN, (uint8_t *)&v, len, true);
}

/* The vendor capability of cfg_type type: its config offset. */
static uint8_t vcap(uint8_t type)
{
	for (uint8_t at = cfg_rd(0x34, 1); at; at = cfg_rd(at + 1, 1))
		if (cfg_rd(at, 1) == 0x09 && cfg_rd(at + 3, 1) == type)
			return at;
	return 0;
}

static uint8_t msix_cap(void)
{
	for (uint8_t at = cfg_rd(0x34, 1); at; at = cfg_rd(at + 1, 1))
		if (cfg_rd(at, 1) == 0x11)
			return at;
	return 0;
}

/* As Linux: reset, ACK, DRIVER, features (VERSION_1 only), FEATURES_OK. */
static void negotiate(void)
{
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 1);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 3);
	wr(VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(VIRTIO_PCI_COMMON_GF, 4, 1);	/* bit 32: VERSION_1 */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0xb);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0xb);
}

/* Queue q's rings in RAM, enabled. */
static void queue_setup(unsigned int q, uint16_t vector)
{
	uint64_t base = RAM_GPA + 0x10000 * q;

	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	wr(VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
	wr(VIRTIO_PCI_COMMON_Q_DESCLO, 4, base);
	wr(VIRTIO_PCI_COMMON_Q_DESCHI, 4, 0);
	wr(VIRTIO_PCI_COMMON_Q_AVAILLO, 4, base + 0x1000);
	wr(VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
	wr(VIRTIO_PCI_COMMON_Q_USEDLO, 4, base + 0x2000);
	wr(VIRTIO_PCI_COMMON_Q_USEDHI, 4, 0);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_NOFF, 2), q);
}

/* One writable buffer posted on queue q (its n-th). */
static void post(unsigned int q, uint16_t n)
{
	unit_vring_post(ram + 0x10000 * q, RAM_GPA + 0x80000, QSIZE, n);
}

static bool fired(unsigned int v)
{
	uint64_t n;

	return read(vec_fds[v], &n, sizeof(n)) == sizeof(n);
}

START_TEST(test_caps)
{
	static const uint8_t types[] = {
		VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_NOTIFY_CFG,
		VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_PCI_CFG,
	};
	uint8_t at, m;

	ck_assert_uint_eq(cfg_rd(0, 4), 0x10441af4);
	ck_assert_uint_eq(cfg_rd(0x08, 1), 1);
	ck_assert_uint_eq(cfg_rd(0x2e, 2), 0x1044);
	for (unsigned int i = 0; i < sizeof(types); i++)
		ck_assert_uint_ne(vcap(types[i]), 0);
	/* No device config space: no DEVICE_CFG capability. */
	ck_assert_uint_eq(vcap(VIRTIO_PCI_CAP_DEVICE_CFG), 0);
	at = vcap(VIRTIO_PCI_CAP_NOTIFY_CFG);
	ck_assert_uint_eq(cfg_rd(at + 2, 1), 20);
	ck_assert_uint_eq(cfg_rd(at + 8, 4), VPCI_NOTIFY);
	ck_assert_uint_eq(cfg_rd(at + 16, 4), VPCI_NOTIFY_MUL);
	at = vcap(VIRTIO_PCI_CAP_COMMON_CFG);
	ck_assert_uint_eq(cfg_rd(at + 4, 1), 0);	/* BAR 0 */
	ck_assert_uint_ge(cfg_rd(at + 12, 4), 0x38);
	m = msix_cap();
	ck_assert_uint_eq(cfg_rd(m + 2, 2) & 0x7ff, NR_QUEUES);	/* 3 vectors */
	ck_assert_uint_eq(cfg_rd(m + 4, 4), VPCI_MSIX_TABLE);
}
END_TEST

START_TEST(test_common_cfg)
{
	cfg_wr(0x04, 2, 0x0006);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_NUMQ, 2), NR_QUEUES);
	wr(VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_DF, 4) & 1, 1);	/* VERSION_1 */
	/* Wrong widths read 0 and write nothing. */
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_NUMQ, 4), 0);
	wr(VIRTIO_PCI_COMMON_STATUS, 2, 1);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
	negotiate();
	/* A queue that does not exist reads size 0 and takes nothing. */
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 9);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
	/* A vector beyond the table reads back as NO_VECTOR. */
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 3);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_MSIX, 2), 0);
	queue_setup(0, 1);
	/* Settings of an enabled queue stay. */
	wr(VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	wr(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 0);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	/* Reset: vectors back to NO_VECTOR, queues to their largest size. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_STATUS, 1), 0);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
	ck_assert_uint_eq(rd(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
}
END_TEST

START_TEST(test_msix_queue_vector)
{
	uint8_t m = msix_cap();

	cfg_wr(0x04, 2, 0x0006);
	/* The notify ioeventfds come with decoding. */
	ck_assert(ioev[0].on && ioev[1].on);
	ck_assert_uint_eq(ioev[1].addr, bar() + VPCI_NOTIFY + 4);
	/* MSI-X on, the function masked while the table is written. */
	cfg_wr(m + 2, 2, 0xc000);
	for (unsigned int v = 0; v < 3; v++) {
		wr(VPCI_MSIX_TABLE + 16 * v, 4, 0xfee00000);
		wr(VPCI_MSIX_TABLE + 16 * v + 4, 4, 0);
		wr(VPCI_MSIX_TABLE + 16 * v + 8, 4, 0x40 + v);
		wr(VPCI_MSIX_TABLE + 16 * v + 12, 4, 0);
	}
	ck_assert_uint_eq(routes[1].n, 0);
	cfg_wr(m + 2, 2, 0x8000);
	ck_assert(routes[1].on);
	ck_assert_uint_eq(routes[1].addr, 0xfee00000);
	ck_assert_uint_eq(routes[1].data, 0x41);
	negotiate();
	wr(VIRTIO_PCI_COMMON_MSIX, 2, 0);
	queue_setup(0, 1);
	queue_setup(1, 2);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0xf);
	/* A kick that exits (no ioeventfd would): the vector fires. */
	post(0, 0);
	wr(VPCI_NOTIFY, 2, 0);
	virtio_pci_kick(p, 0);
	ck_assert_uint_eq(notifies, 1);
	ck_assert(fired(1));
	ck_assert(!fired(2) && !fired(0));
	ck_assert_uint_eq(intx, 0);
	/* Masked: pending in the PBA, delivered on unmask. */
	wr(VPCI_MSIX_TABLE + 16 * 2 + 12, 4, 1);
	ck_assert(!routes[2].on);
	post(1, 0);
	wr(VPCI_NOTIFY + 4, 2, 1);
	virtio_pci_kick(p, 1);
	ck_assert(!fired(2));
	ck_assert_uint_eq(rd(VPCI_MSIX_PBA, 4), 4);
	wr(VPCI_MSIX_TABLE + 16 * 2 + 12, 4, 0);
	ck_assert(routes[2].on);
	ck_assert(fired(2));
	ck_assert_uint_eq(rd(VPCI_MSIX_PBA, 4), 0);
	/* NO_VECTOR: no interrupt at all. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0);
	negotiate();
	queue_setup(0, VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0xf);
	memset(ram, 0, 0x3000);
	post(0, 0);
	wr(VPCI_NOTIFY, 2, 0);
	virtio_pci_kick(p, 0);
	ck_assert(!fired(0) && !fired(1) && !fired(2));
	ck_assert_uint_eq(intx, 0);
	/* Decoding off: the ioeventfds go, routes stay with MSI-X. */
	cfg_wr(0x04, 2, 0);
	ck_assert(!ioev[0].on && !ioev[1].on);
}
END_TEST

START_TEST(test_intx)
{
	cfg_wr(0x04, 2, 0x0006);
	negotiate();
	queue_setup(0, 1);	/* a vector, but MSI-X is off */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0xf);
	post(0, 0);
	wr(VPCI_NOTIFY, 2, 0);
	virtio_pci_kick(p, 0);
	ck_assert_uint_eq(intx, 1);
	ck_assert(!fired(1));
	/* The ISR says why, once, and lowers the line. */
	ck_assert_uint_eq(rd(VPCI_ISR, 1), 1);
	ck_assert_uint_eq(intx, 0);
	ck_assert_uint_eq(rd(VPCI_ISR, 1), 0);
	/* The command register's INTx disable holds the line low. */
	cfg_wr(0x04, 2, 0x0406);
	post(0, 1);
	wr(VPCI_NOTIFY, 2, 0);
	virtio_pci_kick(p, 0);
	ck_assert_uint_eq(intx, 0);
	ck_assert_uint_eq(rd(VPCI_ISR, 1), 1);
	/* Raised, then INTx disabled: the line drops at once; enabled
	 * again with the cause still in the ISR: it comes back. */
	cfg_wr(0x04, 2, 0x0006);
	post(0, 2);
	wr(VPCI_NOTIFY, 2, 0);
	virtio_pci_kick(p, 0);
	ck_assert_uint_eq(intx, 1);
	cfg_wr(0x04, 2, 0x0406);
	ck_assert_uint_eq(intx, 0);
	cfg_wr(0x04, 2, 0x0006);
	ck_assert_uint_eq(intx, 1);
	/* MSI-X enabled over a raised line: it drops too. */
	cfg_wr(msix_cap() + 2, 2, 0x8000);
	ck_assert_uint_eq(intx, 0);
	cfg_wr(msix_cap() + 2, 2, 0);
	ck_assert_uint_eq(intx, 1);
	/* A status write of NEEDS_RESET alone is a reset (the bit is the
	 * device's): the transport's too, so the line drops. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_NEEDS_RESET);
	ck_assert_uint_eq(vdev.status, 0);
	ck_assert_uint_eq(intx, 0);
	/* FAILED with other bits: only FAILED is added. */
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 1);
	wr(VIRTIO_PCI_COMMON_STATUS, 1, 0xa3);
	ck_assert_uint_eq(vdev.status, 0x81);
}
END_TEST

START_TEST(test_pci_cfg_window)
{
	uint8_t at = vcap(VIRTIO_PCI_CAP_PCI_CFG);

	/* num_queues through config space alone. */
	cfg_wr(at + 4, 1, 0);
	cfg_wr(at + 8, 4, VIRTIO_PCI_COMMON_NUMQ);
	cfg_wr(at + 12, 4, 2);
	ck_assert_uint_eq(cfg_rd(at + 16, 2), NR_QUEUES);
	/* A status write through it. */
	cfg_wr(at + 8, 4, VIRTIO_PCI_COMMON_STATUS);
	cfg_wr(at + 12, 4, 1);
	cfg_wr(at + 16, 1, 1);
	ck_assert_uint_eq(vdev.status, 1);
	/* Out of range: nothing happens. */
	cfg_wr(at + 8, 4, 0xfffffffe);
	cfg_wr(at + 12, 4, 4);
	cfg_wr(at + 16, 4, 0);
	ck_assert_uint_eq(vdev.status, 1);
}
END_TEST

static Suite *virtio_pci_suite(void)
{
	Suite *suite = suite_create("virtio_pci");
	TCase *tc = tcase_create("transport");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_caps);
	tcase_add_test(tc, test_common_cfg);
	tcase_add_test(tc, test_msix_queue_vector);
	tcase_add_test(tc, test_intx);
	tcase_add_test(tc, test_pci_cfg_window);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(virtio_pci_suite)
