// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci's snapshot state (virtio_pci_save/load): a function a
 * driver set up (BAR moved, MSI-X on, a vector per queue, a request
 * done) saved and loaded into a fresh one on another bus: the notify
 * ioeventfds at the moved BAR, the routes of the vectors, the registers
 * and queues back, and a kick after the load completes on its vector.
 * INTx's level comes back too. Every truncation and each hostile value is
 * refused with the function left reset: nothing decoding, nothing routed.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "util.h"
#include "lib/evloop.h"
#include "lib/mem.h"
#include "lib/sbuf.h"
#include "pci/pci.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL
#define WIN		0xc0000000ULL
#define BAR_AT		0xc8000000ULL	/* where the driver moves BAR 0 */
#define NR_QUEUES	2
#define NR_VEC		(NR_QUEUES + 1)
#define QSIZE		16

/* One machine: a bus with one virtio-pci function, and what its host
 * callbacks were asked. */
struct inst {
	struct virtio_dev vdev;
	struct virtio_pci *p;
	struct pci_bus bus;
	uint32_t gsis;
	int vec_fds[NR_VEC];
	struct { bool on; uint64_t addr; uint32_t data; } routes[NR_VEC];
	struct { bool on; uint64_t addr; } ioev[NR_QUEUES];
	int intx;
	unsigned int notifies;
};

static struct guest_mem mem;
static uint8_t *ram;
static struct evloop loop;
static struct inst src, dst;
static struct unit_capture log_capture;

static int h_msi_irqfd(void *ctx, int fd, uint32_t *gsi)
{
	struct inst *t = ctx;

	ck_assert_uint_lt(t->gsis, NR_VEC);
	t->vec_fds[t->gsis] = fd;
	*gsi = 100 + t->gsis++;
	return 0;
}

static int h_msi_route(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, bool on)
{
	struct inst *t = ctx;

	ck_assert_uint_lt(gsi - 100, t->gsis);
	t->routes[gsi - 100].on = on;
	t->routes[gsi - 100].addr = addr;
	t->routes[gsi - 100].data = data;
	return 0;
}

static int h_ioeventfd(void *ctx, uint64_t addr, int fd, bool assign)
{
	struct inst *t = ctx;
	unsigned int q = (addr & 0xfff) / VPCI_NOTIFY_MUL;

	(void)fd;
	ck_assert_uint_lt(q, NR_QUEUES);
	ck_assert(t->ioev[q].on != assign);
	t->ioev[q].on = assign;
	t->ioev[q].addr = addr;
	return 0;
}

static int h_intx(void *ctx, uint32_t irq, int level)
{
	struct inst *t = ctx;

	ck_assert_uint_eq(irq, 7);
	t->intx = level;
	return 0;
}

static void fake_notify(struct virtio_dev *d, unsigned int q)
{
	struct inst *t = d == &src.vdev ? &src : &dst;
	struct virtq_chain chain;

	t->notifies++;
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

static void inst_init(struct inst *t)
{
	struct virtio_pci_host host = {
		.ctx = t, .msi_irqfd = h_msi_irqfd, .msi_route = h_msi_route,
		.ioeventfd = h_ioeventfd, .set_intx = h_intx, .loop = &loop,
	};

	memset(t, 0, sizeof(*t));
	ck_assert_int_eq(virtio_dev_init(&t->vdev, &fake_ops, &mem, "test", NULL), 0);
	pci_bus_init(&t->bus, WIN, 0x10000000);
	t->p = virtio_pci_new(&t->vdev, 7, &host);
	ck_assert_ptr_nonnull(t->p);
	ck_assert_int_eq(pci_bus_add(&t->bus, virtio_pci_dev(t->p)), 0);
	ck_assert_int_eq(virtio_pci_attach(t->p), 0);
	ck_assert_uint_eq(t->gsis, NR_VEC);
}

static void inst_exit(struct inst *t)
{
	virtio_pci_free(t->p);
	virtio_dev_exit(&t->vdev);
	pci_bus_exit(&t->bus);
}

static void setup(void)
{
	ram = aligned_alloc(4096, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(gmem_add_region(&mem, RAM_GPA, RAM_SIZE, ram), 0);
	ck_assert_int_eq(evloop_init(&loop), 0);
	inst_init(&src);
	inst_init(&dst);
	unit_capture_begin(&log_capture, STDERR_FILENO);
}

static void teardown(void)
{
	free(unit_capture_end(&log_capture));
	inst_exit(&src);
	inst_exit(&dst);
	evloop_exit(&loop);
	free(ram);
}

static uint32_t cfg_rd(struct inst *t, uint32_t off, uint32_t len)
{
	uint32_t v = 0xffffffff;

	pci_cfg_access(&t->bus, 1, off, (uint8_t *)&v, len, false);
	return le32toh(v) & (len == 4 ? ~0U : (1U << (8 * len)) - 1);
}

static void cfg_wr(struct inst *t, uint32_t off, uint32_t len, uint32_t val)
{
	uint32_t v = htole32(val);

	pci_cfg_access(&t->bus, 1, off, (uint8_t *)&v, len, true);
}

static uint32_t rd(struct inst *t, uint64_t off, uint32_t len)
{
	uint32_t v = 0xffffffff;

	pci_win_access(&t->bus, BAR_AT + off - WIN, (uint8_t *)&v, len, false);
	return le32toh(v) & (len == 4 ? ~0U : (1U << (8 * len)) - 1);
}

static void wr(struct inst *t, uint64_t off, uint32_t len, uint32_t val)
{
	uint32_t v = htole32(val);

	pci_win_access(&t->bus, BAR_AT + off - WIN, (uint8_t *)&v, len, true);
}

static uint8_t msix_cap(struct inst *t)
{
	return virtio_pci_dev(t->p)->msix_cap;
}

static void queue_setup(struct inst *t, unsigned int q, uint16_t vector)
{
	uint64_t base = RAM_GPA + 0x10000 * q;

	wr(t, VIRTIO_PCI_COMMON_Q_SELECT, 2, q);
	wr(t, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSIZE);
	wr(t, VIRTIO_PCI_COMMON_Q_MSIX, 2, vector);
	wr(t, VIRTIO_PCI_COMMON_Q_DESCLO, 4, base);
	wr(t, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, base + 0x1000);
	wr(t, VIRTIO_PCI_COMMON_Q_USEDLO, 4, base + 0x2000);
	wr(t, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
}

/* One writable buffer posted on queue q (its n-th). */
static void post(unsigned int q, uint16_t n)
{
	unit_vring_post(ram + 0x10000 * q, RAM_GPA + 0x80000, QSIZE, n);
}

static bool fired(struct inst *t, unsigned int v)
{
	uint64_t n;

	return read(t->vec_fds[v], &n, sizeof(n)) == sizeof(n);
}

/*
 * As Linux's driver leaves a function: BAR 0 moved and decoding, MSI-X
 * on (msix) with the config vector 0 and a vector per queue, features
 * VERSION_1, both queues enabled, DRIVER_OK, one request done on queue
 * 0; then selectors left pointing somewhere.
 */
static void drive(struct inst *t, bool msix)
{
	cfg_wr(t, 0x10, 4, (uint32_t)BAR_AT);
	cfg_wr(t, 0x04, 2, 0x0006);
	if (msix) {
		cfg_wr(t, msix_cap(t) + 2, 2, 0xc000);
		for (unsigned int v = 0; v < NR_VEC; v++) {
			wr(t, VPCI_MSIX_TABLE + 16 * v, 4, 0xfee00000 + 0x1000 * v);
			wr(t, VPCI_MSIX_TABLE + 16 * v + 8, 4, 0x40 + v);
			wr(t, VPCI_MSIX_TABLE + 16 * v + 12, 4, 0);
		}
		cfg_wr(t, msix_cap(t) + 2, 2, 0x8000);
	}
	wr(t, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	wr(t, VIRTIO_PCI_COMMON_STATUS, 1, 3);
	wr(t, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	wr(t, VIRTIO_PCI_COMMON_GF, 4, 1);
	wr(t, VIRTIO_PCI_COMMON_STATUS, 1, 0xb);
	wr(t, VIRTIO_PCI_COMMON_MSIX, 2, 0);
	queue_setup(t, 0, 1);
	queue_setup(t, 1, 2);
	wr(t, VIRTIO_PCI_COMMON_STATUS, 1, 0xf);
	post(0, 0);
	wr(t, VPCI_NOTIFY, 2, 0);	/* a kick that exits */
	virtio_pci_kick(t->p, 0);
	wr(t, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
	wr(t, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
}

static void save(struct inst *t, struct sbuf *s)
{
	memset(s, 0, sizeof(*s));
	virtio_pci_quiesce(t->p);
	ck_assert_int_eq(virtio_pci_save(t->p, s), 0);
	ck_assert(sbuf_ok(s));
}

/* dst as a function that was never touched: nothing decodes, is routed
 * or raised. */
static void assert_reset(struct inst *t)
{
	for (unsigned int q = 0; q < NR_QUEUES; q++)
		ck_assert(!t->ioev[q].on);
	for (unsigned int v = 0; v < NR_VEC; v++)
		ck_assert(!t->routes[v].on);
	ck_assert_int_eq(t->intx, 0);
	ck_assert_uint_eq(t->vdev.status, 0);
	ck_assert(!virtio_pci_dev(t->p)->bar_on[0]);
	ck_assert(!virtio_pci_dev(t->p)->msix.enabled);
}

START_TEST(test_round_trip_msix)
{
	struct sbuf s, s2;

	drive(&src, true);
	ck_assert(fired(&src, 1));
	save(&src, &s);
	ck_assert_int_eq(virtio_pci_load(dst.p, s.data, s.len), 0);
	/* The notify ioeventfds where the driver moved the BAR. */
	ck_assert(dst.ioev[0].on && dst.ioev[1].on);
	ck_assert_uint_eq(dst.ioev[0].addr, BAR_AT + VPCI_NOTIFY);
	ck_assert_uint_eq(dst.ioev[1].addr, BAR_AT + VPCI_NOTIFY + VPCI_NOTIFY_MUL);
	/* Every vector routed with its message. */
	for (unsigned int v = 0; v < NR_VEC; v++) {
		ck_assert(dst.routes[v].on);
		ck_assert_uint_eq(dst.routes[v].addr, 0xfee00000 + 0x1000 * v);
		ck_assert_uint_eq(dst.routes[v].data, 0x40 + v);
	}
	ck_assert_int_eq(dst.intx, 0);
	/* The registers as the driver left them. */
	ck_assert_uint_eq(cfg_rd(&dst, 0x04, 2), 0x0006);
	ck_assert_uint_eq(cfg_rd(&dst, 0x10, 4), (uint32_t)BAR_AT | 4);
	ck_assert_uint_eq(cfg_rd(&dst, msix_cap(&dst) + 2, 2) & 0xc000, 0x8000);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_STATUS, 1), 0xf);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_DFSELECT, 4), 1);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_GFSELECT, 4), 1);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	wr(&dst, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	ck_assert_uint_eq(rd(&dst, VIRTIO_PCI_COMMON_Q_DESCLO, 4), RAM_GPA);
	wr(&dst, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	/* Saved again: the same bytes. */
	save(&dst, &s2);
	ck_assert_uint_eq(s2.len, s.len);
	ck_assert_mem_eq(s2.data, s.data, s.len);
	/* The next request completes on queue 0's vector, and only there. */
	for (unsigned int v = 0; v < NR_VEC; v++)
		(void)fired(&dst, v);
	post(0, 1);
	wr(&dst, VPCI_NOTIFY, 2, 0);
	virtio_pci_kick(dst.p, 0);
	ck_assert_uint_eq(dst.notifies, 1);
	ck_assert(fired(&dst, 1));
	ck_assert(!fired(&dst, 2) && !fired(&dst, 0));
	sbuf_free(&s);
	sbuf_free(&s2);
}
END_TEST

START_TEST(test_round_trip_intx)
{
	struct sbuf s;

	drive(&src, false);
	ck_assert_int_eq(src.intx, 1);
	save(&src, &s);
	ck_assert_int_eq(virtio_pci_load(dst.p, s.data, s.len), 0);
	ck_assert_int_eq(dst.intx, 1);
	for (unsigned int v = 0; v < NR_VEC; v++)
		ck_assert(!dst.routes[v].on);
	/* The ISR says why and lowers the line, as before the snapshot. */
	ck_assert_uint_eq(rd(&dst, VPCI_ISR, 1), 1);
	ck_assert_int_eq(dst.intx, 0);
	sbuf_free(&s);
}
END_TEST

START_TEST(test_truncated)
{
	struct sbuf s;

	drive(&src, true);
	save(&src, &s);
	for (size_t n = 0; n < s.len; n++) {
		ck_assert_msg(virtio_pci_load(dst.p, s.data, n) == -EINVAL,
			      "cut at %zu accepted", n);
		assert_reset(&dst);
	}
	sbuf_put_u8(&s, 0);
	ck_assert_int_eq(virtio_pci_load(dst.p, s.data, s.len), -EINVAL);
	assert_reset(&dst);
	sbuf_free(&s);
}
END_TEST

/* Offsets: version, the PCI part, then the transport's registers. */
#define PCI_PART	(4 + PCI_CFG_SIZE + 1 + 4 + NR_VEC * 16 + 8)
#define REGS		(4 + PCI_PART)
#define R_CFGV		(REGS + 10)
#define R_INTX		(REGS + 12)
#define R_NRQ		(REGS + 13)
#define R_QVEC(q)	(REGS + 17 + 2 * (q))

static void refused(bool msix, size_t off, uint32_t val, size_t n, const char *why)
{
	struct sbuf s;
	char *log;

	inst_exit(&src);
	inst_init(&src);
	drive(&src, msix);
	save(&src, &s);
	val = htole32(val);
	memcpy(s.data + off, &val, n);
	free(unit_capture_end(&log_capture));
	unit_capture_begin(&log_capture, STDERR_FILENO);
	ck_assert_msg(virtio_pci_load(dst.p, s.data, s.len) == -EINVAL, "%s accepted", why);
	log = unit_capture_end(&log_capture);
	ck_assert_msg(strstr(log, why), "'%s' not in '%s'", why, log);
	free(log);
	unit_capture_begin(&log_capture, STDERR_FILENO);
	assert_reset(&dst);
	sbuf_free(&s);
}

START_TEST(test_hostile)
{
	refused(true, 0, 2, 4, "transport layout version 2");
	refused(true, R_CFGV, NR_VEC, 2, "configuration vector 3 of 3");
	refused(true, R_QVEC(1), 0x7fff, 2, "queue 1's vector 32767 of 3");
	refused(true, R_NRQ, 3, 4, "3 queues saved, the device has 2");
	refused(true, R_INTX, 2, 1, "INTx level 2");
	refused(true, R_INTX, 1, 1, "INTx raised with MSI-X on");
	/* INTx disabled in the command register, yet raised. */
	refused(false, 4 + 4 + 0x05, 0x04, 1, "INTx raised with MSI-X on, INTx disabled");
	/* The device's part is checked too (virtio_dev_load). */
	refused(true, R_QVEC(NR_QUEUES) + 4, 0x40, 1, "status 0x40");
	/* The PCI part (pci_dev_load): a read-only byte. */
	refused(true, 4 + 4 + 0x00, 0x1234, 2, "read-only bits differ in config byte 0");
}
END_TEST

static Suite *virtio_pci_state_suite(void)
{
	Suite *suite = suite_create("virtio_pci_state");
	TCase *tc = tcase_create("state");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip_msix);
	tcase_add_test(tc, test_round_trip_intx);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(virtio_pci_state_suite)
