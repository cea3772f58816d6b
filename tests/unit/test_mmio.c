// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio transport tests. The test plays Linux's virtio_mmio driver
 * against a fake device (two queues, an 8-byte config space, counters),
 * with a malloc'd guest RAM, and then plays a hostile one.
 *
 * Kicks go through the notify eventfds as in kvmini, minus the event
 * loop: the test calls virtio_mmio_kick() where the I/O thread would.
 * Warnings are captured so that the hostile cases can check they are
 * logged once.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "util.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "lib/mem.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x100000ULL
#define BUF_GPA		(RAM_GPA + 0x80000)
#define BASE		0xd0000000ULL
#define IRQ		5

#define DEV_ID		VIRTIO_ID_RNG
#define NR_QUEUES	2
#define QMAX		256
#define QSIZE		128
#define PAGE		4096
#define F_A		(1ULL << 0)
#define F_B		(1ULL << 5)
#define F_HIGH		(1ULL << 40)	/* a legacy driver cannot see it */
#define F_NOT_OFFERED	(1ULL << 1)
#define F_V1		(1ULL << VIRTIO_F_VERSION_1)
#define DEV_FEATURES	(F_A | F_B | F_HIGH)
#define LEGACY_FEATURES	((DEV_FEATURES | VIRTIO_CORE_FEATURES) & 0xffffffff)

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET
#define S_ALL		(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

struct fake {
	unsigned int activates;
	unsigned int resets;
	unsigned int notifies[NR_QUEUES];
	int activate_err;
	uint8_t config[8];
};

static struct fake fake;
static struct guest_mem mem;
static uint8_t *ram;
static struct virtio_dev vdev;
static struct virtio_mmio *m;
static struct virtq_chain chain;
static struct unit_capture log_capture;

static void fake_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data,
			     uint32_t len)
{
	(void)d;
	ck_assert_uint_le(off + len, sizeof(fake.config));
	memcpy(data, fake.config + off, len);
}

static void fake_config_write(struct virtio_dev *d, uint32_t off,
			      const uint8_t *data, uint32_t len)
{
	(void)d;
	ck_assert_uint_le(off + len, sizeof(fake.config));
	memcpy(fake.config + off, data, len);
}

static int fake_activate(struct virtio_dev *d)
{
	(void)d;
	fake.activates++;
	return fake.activate_err;
}

static void fake_reset(struct virtio_dev *d)
{
	(void)d;
	fake.resets++;
}

/* Completes every chain the driver posted, as a real device would. */
static void fake_notify(struct virtio_dev *d, unsigned int q)
{
	ck_assert_uint_lt(q, NR_QUEUES);
	fake.notifies[q]++;
	while (virtio_pop(d, q, &chain) > 0)
		virtq_push(&d->vqs[q], chain.head, 0);
	virtio_notify_used(d, q);
}

static const struct virtio_dev_ops fake_ops = {
	.device_id = DEV_ID,
	.nr_queues = NR_QUEUES,
	.queue_max = QMAX,
	.features = DEV_FEATURES,
	.config_size = sizeof(fake.config),
	.config_read = fake_config_read,
	.config_write = fake_config_write,
	.activate = fake_activate,
	.reset = fake_reset,
	.notify = fake_notify,
};

static void setup(bool legacy)
{
	static const uint8_t config[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	ram = aligned_alloc(PAGE, RAM_SIZE);
	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, RAM_SIZE);
	memset(&mem, 0, sizeof(mem));
	ck_assert_int_eq(gmem_add_region(&mem, RAM_GPA, RAM_SIZE, ram), 0);
	memset(&fake, 0, sizeof(fake));
	memcpy(fake.config, config, sizeof(config));
	ck_assert_int_eq(virtio_dev_init(&vdev, &fake_ops, &mem, "test", &fake), 0);
	m = virtio_mmio_new(&vdev, BASE, IRQ, legacy);
	ck_assert_ptr_nonnull(m);
	unit_capture_begin(&log_capture, STDERR_FILENO);
}

static void setup_modern(void)
{
	setup(false);
}

static void setup_legacy(void)
{
	setup(true);
}

/* The capture must not hide what the sanitizers report. */
static void check_log(const char *s)
{
	bool bad = strstr(s, "runtime error") || strstr(s, "Sanitizer");

	if (bad)
		fputs(s, stderr);
	ck_assert_msg(!bad, "sanitizer report in the log");
}

static void teardown(void)
{
	char *s = unit_capture_end(&log_capture);

	check_log(s);
	free(s);
	virtio_mmio_free(m);
	virtio_dev_exit(&vdev);
	free(ram);
}

/* What was logged since the last call (malloc'd). */
static char *take_log(void)
{
	char *s = unit_capture_end(&log_capture);

	check_log(s);
	unit_capture_begin(&log_capture, STDERR_FILENO);
	return s;
}

static void assert_logged_once(const char *what)
{
	char *s = take_log();
	char *p = strstr(s, what);

	ck_assert_msg(p, "no '%s' in the log: '%s'", what, s);
	ck_assert_msg(!strstr(p + 1, what), "'%s' logged twice: '%s'", what, s);
	free(s);
}

/* Guest accesses, as the bus hands them over (reads pre-set to ones). */
static uint64_t rd_n(uint64_t off, uint32_t len)
{
	uint8_t d[8];
	uint64_t v = 0;

	memset(d, 0xff, sizeof(d));
	virtio_mmio_access(m, off, d, len, false);
	memcpy(&v, d, len);
	return le64toh(v);
}

static void wr_n(uint64_t off, uint32_t len, uint64_t v)
{
	uint8_t d[8];

	v = htole64(v);
	memcpy(d, &v, sizeof(d));
	virtio_mmio_access(m, off, d, len, true);
}

static uint32_t rd(uint64_t off)
{
	return rd_n(off, 4);
}

static void wr(uint64_t off, uint32_t v)
{
	wr_n(off, 4, v);
}

static void wr64(uint64_t low_off, uint64_t v)
{
	wr(low_off, v & 0xffffffff);
	wr(low_off + 4, v >> 32);
}

static uint64_t irq_count(void)
{
	uint64_t n;

	if (read(virtio_mmio_irq_fd(m), &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* The split ring of queue q in RAM, laid out as for a legacy device. */
static uint64_t q_desc(unsigned int q)
{
	return RAM_GPA + q * 0x10000;
}

static uint64_t q_avail(unsigned int q, unsigned int num)
{
	return q_desc(q) + 16ULL * num;
}

static uint64_t q_used(unsigned int q, unsigned int num, uint64_t align)
{
	return (q_avail(q, num) + 6 + 2 * num + align - 1) & ~(align - 1);
}

/* Linux's virtio_add_status(): read, or in the bit, write back. */
static void add_status(uint32_t bit)
{
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | bit);
}

static uint64_t drv_read_features(void)
{
	uint64_t f;

	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)rd(VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | rd(VIRTIO_MMIO_DEVICE_FEATURES);
}

static void drv_write_features(uint64_t f)
{
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f >> 32);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, f & 0xffffffff);
}

/* vm_probe(), then register_virtio_device() and virtio_dev_probe(). */
static void drv_probe(uint32_t version)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), version);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	if (version == 1)
		wr(VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE);
	wr(VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	add_status(S_ACK);
	add_status(S_DRIVER);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
}

/* Modern: writes f, sets FEATURES_OK and says whether it stuck. */
static bool drv_features_ok(uint64_t f)
{
	drv_write_features(f);
	add_status(S_FEATURES_OK);
	return rd(VIRTIO_MMIO_STATUS) & S_FEATURES_OK;
}

static void drv_negotiate(void)
{
	uint64_t f;

	drv_probe(2);
	f = drv_read_features();
	ck_assert_uint_eq(f, DEV_FEATURES | VIRTIO_CORE_FEATURES | F_V1);
	ck_assert(drv_features_ok(DEV_FEATURES | F_V1));
}

/* vm_setup_vq(), version 2. */
static void drv_setup_queue(unsigned int q, unsigned int num)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr64(VIRTIO_MMIO_QUEUE_DESC_LOW, q_desc(q));
	wr64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, q_avail(q, num));
	wr64(VIRTIO_MMIO_QUEUE_USED_LOW, q_used(q, num, PAGE));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

static void drv_init(void)
{
	drv_negotiate();
	drv_setup_queue(0, QSIZE);
	drv_setup_queue(1, QSIZE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	add_status(S_DRIVER_OK);
}

/* vm_setup_vq(), version 1. */
static void drv_legacy_setup_queue(unsigned int q, unsigned int num)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, q);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, PAGE);
	wr(VIRTIO_MMIO_QUEUE_PFN, q_desc(q) / PAGE);
}

static void drv_legacy_negotiate(void)
{
	drv_probe(1);
	ck_assert_uint_eq(drv_read_features(), LEGACY_FEATURES);
	drv_write_features(F_A | F_B);
}

static void drv_legacy_init(void)
{
	drv_legacy_negotiate();
	drv_legacy_setup_queue(0, QSIZE);
	drv_legacy_setup_queue(1, QSIZE);
	add_status(S_DRIVER_OK);
}

/* Posts one 16-byte device-writable buffer as descriptor head. */
static void drv_post(unsigned int q, unsigned int num, uint16_t head)
{
	struct vring_desc *d = (void *)(ram + (q_desc(q) - RAM_GPA));
	struct vring_avail *a = (void *)(ram + (q_avail(q, num) - RAM_GPA));
	uint16_t idx = le16toh(a->idx);

	d[head].addr = htole64(BUF_GPA);
	d[head].len = htole32(16);
	d[head].flags = htole16(VRING_DESC_F_WRITE);
	d[head].next = 0;
	a->ring[idx % num] = htole16(head);
	__atomic_store_n(&a->idx, htole16(idx + 1), __ATOMIC_RELEASE);
}

static uint16_t used_idx(unsigned int q, unsigned int num, uint64_t align)
{
	struct vring_used *u = (void *)(ram + (q_used(q, num, align) - RAM_GPA));

	return le16toh(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE));
}

static void assert_needs_reset(void)
{
	ck_assert_uint_ne(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}

static void assert_clean_status(void)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET, 0);
}

/* ---- modern: the driver's path ---- */

START_TEST(test_probe_registers)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), 0x494d564b);
	ck_assert_uint_eq(drv_read_features(), DEV_FEATURES | VIRTIO_CORE_FEATURES | F_V1);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES), 0);
	for (unsigned int q = 0; q < NR_QUEUES; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	}
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
}
END_TEST

START_TEST(test_shm_none)
{
	for (uint32_t sel = 0; sel < 3; sel++) {
		wr(VIRTIO_MMIO_SHM_SEL, sel);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_HIGH), 0xffffffff);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_BASE_LOW), 0xffffffff);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_BASE_HIGH), 0xffffffff);
	}
}
END_TEST

START_TEST(test_linux_init)
{
	drv_init();
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
	ck_assert_uint_eq(fake.activates, 1);
	ck_assert(vdev.active);
	ck_assert_uint_eq(vdev.features, DEV_FEATURES | F_V1);
	for (unsigned int q = 0; q < NR_QUEUES; q++) {
		struct virtq *vq = &vdev.vqs[q];

		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
		ck_assert(vq->ready);
		ck_assert_uint_eq(vq->size, QSIZE);
		ck_assert_uint_eq(vq->desc_gpa, q_desc(q));
		ck_assert_uint_eq(vq->avail_gpa, q_avail(q, QSIZE));
		ck_assert_uint_eq(vq->used_gpa, q_used(q, QSIZE, PAGE));
		ck_assert_uint_eq(vq->features, DEV_FEATURES | F_V1);
	}
	ck_assert_uint_eq(irq_count(), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

START_TEST(test_notify_eventfd)
{
	drv_init();
	drv_post(0, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* The vCPU only signals; the device works on the I/O thread. */
	ck_assert_uint_eq(fake.notifies[0], 0);
	virtio_mmio_kick(m, 1);
	ck_assert_uint_eq(fake.notifies[1], 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 1);
	ck_assert_uint_eq(used_idx(0, QSIZE, PAGE), 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(irq_count(), 1);

	/* Linux's vm_interrupt(): read the cause, acknowledge it. */
	wr(VIRTIO_MMIO_INTERRUPT_ACK, rd(VIRTIO_MMIO_INTERRUPT_STATUS));
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* Kicks are consumed: no signal, no notify. */
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 1);

	/* Several writes before the I/O thread runs make one notify. */
	drv_post(1, QSIZE, 3);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	virtio_mmio_kick(m, 0);
	virtio_mmio_kick(m, 1);
	ck_assert_uint_eq(fake.notifies[0], 1);
	ck_assert_uint_eq(fake.notifies[1], 1);
	ck_assert_uint_eq(used_idx(1, QSIZE, PAGE), 1);
	ck_assert_uint_eq(irq_count(), 1);

	/* Queues that do not exist. */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, NR_QUEUES);
	assert_logged_once("notify for queue 2 ignored");
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0xffffffff);
	virtio_mmio_kick(m, 0);
	virtio_mmio_kick(m, 1);
	virtio_mmio_kick(m, 1000);
	ck_assert_uint_eq(fake.notifies[0], 1);
	ck_assert_uint_eq(fake.notifies[1], 1);
}
END_TEST

/* A device out of budget requeues: one notify on the next turn, through
 * the queue's own kick eventfd. */
START_TEST(test_requeue)
{
	drv_init();
	pthread_mutex_lock(&vdev.lock);
	virtio_requeue(&vdev, 1);
	pthread_mutex_unlock(&vdev.lock);
	ck_assert_uint_eq(fake.notifies[1], 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 0);
	virtio_mmio_kick(m, 1);
	ck_assert_uint_eq(fake.notifies[1], 1);
	virtio_mmio_kick(m, 1);
	ck_assert_uint_eq(fake.notifies[1], 1);
}
END_TEST

START_TEST(test_notify_before_driver_ok)
{
	drv_negotiate();
	drv_setup_queue(0, QSIZE);
	drv_setup_queue(1, QSIZE);
	drv_post(0, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 0);
	ck_assert_uint_eq(used_idx(0, QSIZE, PAGE), 0);

	add_status(S_DRIVER_OK);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 1);
	ck_assert_uint_eq(used_idx(0, QSIZE, PAGE), 1);
}
END_TEST

START_TEST(test_config_change_interrupt)
{
	drv_init();
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	pthread_mutex_lock(&vdev.lock);
	virtio_config_changed(&vdev);
	pthread_mutex_unlock(&vdev.lock);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(irq_count(), 1);

	/* ACK clears exactly the bits written. */
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	drv_post(0, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS),
			  VIRTIO_MMIO_INT_CONFIG | VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, 0xffffffff);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}
END_TEST

/* A vCPU that resets and re-initialises the device while kicks arrive. */
#define HAMMER_ROUNDS	500

static void *hammer(void *arg)
{
	unsigned int *done = arg;

	for (unsigned int i = 0; i < HAMMER_ROUNDS; i++) {
		drv_init();
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, i % NR_QUEUES);
		wr(VIRTIO_MMIO_INTERRUPT_ACK, rd(VIRTIO_MMIO_INTERRUPT_STATUS));
	}
	__atomic_store_n(done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_kicks_race_resets)
{
	unsigned int done = 0;
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, hammer, &done), 0);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		virtio_mmio_kick(m, 0);
		virtio_mmio_kick(m, 1);
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_uint_eq(fake.activates, HAMMER_ROUNDS);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
}
END_TEST

/* ---- config space ---- */

START_TEST(test_config_access)
{
	uint64_t all = 0x0807060504030201ULL;

	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG, 1), 0x01);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 7, 1), 0x08);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 2, 2), 0x0403);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 4, 4), 0x08070605);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG, 8), all);
	/* Byte alignment is allowed inside the space. */
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 1, 2), 0x0302);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 3, 4), 0x07060504);

	wr_n(VIRTIO_MMIO_CONFIG + 2, 2, 0xbbaa);
	ck_assert_uint_eq(fake.config[2], 0xaa);
	ck_assert_uint_eq(fake.config[3], 0xbb);
	wr_n(VIRTIO_MMIO_CONFIG, 8, all);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG, 8), all);
}
END_TEST

START_TEST(test_config_bounds)
{
	static const uint8_t orig[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	/* Partly or wholly outside: reads 0, writes nothing. */
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 7, 2), 0);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 6, 4), 0);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 1, 8), 0);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 8, 1), 0);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_SIZE - 4, 4), 0);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_SIZE - 1, 1), 0);
	/* Widths the bus never produces. */
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG, 3), 0);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG, 0), 0);

	wr_n(VIRTIO_MMIO_CONFIG + 6, 4, 0xffffffff);
	wr_n(VIRTIO_MMIO_CONFIG + 7, 2, 0xffff);
	wr_n(VIRTIO_MMIO_CONFIG + 1, 8, ~0ULL);
	wr_n(VIRTIO_MMIO_CONFIG + 8, 1, 0xff);
	wr_n(VIRTIO_MMIO_CONFIG, 3, 0xffffff);
	wr_n(VIRTIO_MMIO_SIZE - 8, 8, ~0ULL);
	ck_assert_mem_eq(fake.config, orig, sizeof(orig));
	assert_logged_once("config access");
}
END_TEST

/* ---- reset ---- */

enum stage { ACKED, DRIVER, FEATURES_OK, QUEUES_READY, DRIVER_OK,
	     INTERRUPTED, BROKEN, NR_STAGES };

static void drive_to(enum stage stage)
{
	drv_probe(2);
	if (stage == ACKED) {
		wr(VIRTIO_MMIO_STATUS, 0);	/* back to ACK only */
		add_status(S_ACK);
		return;
	}
	if (stage == DRIVER)
		return;
	ck_assert(drv_features_ok(DEV_FEATURES | F_V1));
	if (stage == FEATURES_OK)
		return;
	drv_setup_queue(0, QSIZE);
	drv_setup_queue(1, QSIZE);
	if (stage == QUEUES_READY)
		return;
	add_status(S_DRIVER_OK);
	if (stage == INTERRUPTED) {
		drv_post(0, QSIZE, 0);
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		virtio_mmio_kick(m, 0);
		ck_assert_uint_ne(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	} else if (stage == BROKEN) {
		wr(VIRTIO_MMIO_QUEUE_SEL, 0);
		wr(VIRTIO_MMIO_QUEUE_READY, 0);
		assert_needs_reset();
	}
}

static void assert_reset_state(void)
{
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	ck_assert_uint_eq(vdev.features, 0);
	ck_assert(!vdev.active && !vdev.broken);
	/* Selectors are back to 0. */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_FEATURES),
			  (DEV_FEATURES | VIRTIO_CORE_FEATURES) & 0xffffffff);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	for (unsigned int q = 0; q < NR_QUEUES; q++) {
		struct virtq *vq = &vdev.vqs[q];

		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		ck_assert(!vq->ready);
		ck_assert_uint_eq(vq->size, 0);
		ck_assert_uint_eq(vq->desc_gpa, 0);
		ck_assert_uint_eq(vq->avail_gpa, 0);
		ck_assert_uint_eq(vq->used_gpa, 0);
	}
}

START_TEST(test_reset_every_state)
{
	for (enum stage s = 0; s < NR_STAGES; s++) {
		unsigned int resets, activates;

		drive_to(s);
		activates = fake.activates;
		/* Leave the selectors somewhere else. */
		wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
		wr(VIRTIO_MMIO_QUEUE_SEL, 1000);
		resets = fake.resets;
		wr(VIRTIO_MMIO_STATUS, 0);
		ck_assert_msg(fake.resets == resets + 1, "stage %d: no device reset", s);
		assert_reset_state();
		/* A pending kick does not reach the reset device. */
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		virtio_mmio_kick(m, 0);
		ck_assert_uint_eq(fake.notifies[0], s == INTERRUPTED);

		/* And it comes back up as new. */
		drv_init();
		ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
		ck_assert_uint_eq(fake.activates, activates + 1);
		wr(VIRTIO_MMIO_STATUS, 0);
		fake.notifies[0] = 0;
		memset(ram, 0, RAM_SIZE);
	}
}
END_TEST

/* ---- negotiation ---- */

START_TEST(test_features_refused)
{
	drv_probe(2);
	ck_assert(!drv_features_ok(DEV_FEATURES | F_NOT_OFFERED | F_V1));
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	ck_assert(!drv_features_ok(DEV_FEATURES));	/* no VERSION_1 */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	ck_assert(!drv_features_ok(DEV_FEATURES | (1ULL << 63) | F_V1));
	/* DRIVER_OK without FEATURES_OK is out of order. */
	add_status(S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	ck_assert_uint_eq(fake.activates, 0);
	ck_assert(drv_features_ok(F_A | F_V1));
	ck_assert_uint_eq(vdev.features, F_A | F_V1);
}
END_TEST

START_TEST(test_features_write_window)
{
	/* Before DRIVER: ignored. */
	wr(VIRTIO_MMIO_STATUS, S_ACK);
	drv_write_features(F_A | F_V1);
	ck_assert_uint_eq(vdev.features, 0);
	add_status(S_DRIVER);
	/* Words other than 0 and 1 go nowhere. */
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 0xffffffff);
	ck_assert_uint_eq(vdev.features, 0);
	ck_assert(drv_features_ok(F_A | F_B | F_V1));
	/* After FEATURES_OK: ignored. */
	drv_write_features(F_V1);
	ck_assert_uint_eq(vdev.features, F_A | F_B | F_V1);
	assert_logged_once("driver features written");
}
END_TEST

START_TEST(test_status_order)
{
	wr(VIRTIO_MMIO_STATUS, S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), 0);
	wr(VIRTIO_MMIO_STATUS, S_ACK);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_FEATURES_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	/* Not truncated to a byte: this is no reset. */
	wr(VIRTIO_MMIO_STATUS, 0x100);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	ck_assert_uint_eq(fake.resets, 0);
	/* Clearing a bit is not a step either. */
	wr(VIRTIO_MMIO_STATUS, S_DRIVER);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	ck_assert_uint_eq(fake.activates, 0);
}
END_TEST

/* ---- hostile queue set-up ---- */

START_TEST(test_queue_sel_out_of_range)
{
	static const uint32_t sels[] = { NR_QUEUES, 1000, 0xffffffff };

	drv_negotiate();
	for (unsigned int i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, sels[i]);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr64(VIRTIO_MMIO_QUEUE_DESC_LOW, q_desc(0));
		wr64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, q_avail(0, QSIZE));
		wr64(VIRTIO_MMIO_QUEUE_USED_LOW, q_used(0, QSIZE, PAGE));
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
		wr(VIRTIO_MMIO_QUEUE_NOTIFY, sels[i]);
	}
	for (unsigned int q = 0; q < NR_QUEUES; q++) {
		ck_assert(!vdev.vqs[q].ready);
		ck_assert_uint_eq(vdev.vqs[q].size, 0);
		ck_assert_uint_eq(vdev.vqs[q].desc_gpa, 0);
	}
	assert_clean_status();
	assert_logged_once("does not exist");
}
END_TEST

START_TEST(test_queue_num_hostile)
{
	static const uint32_t nums[] = { 0, 3, 100, QMAX * 2, 1024, 65536, 0xffffffff };

	for (unsigned int i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		drv_negotiate();
		drv_setup_queue(0, nums[i]);
		ck_assert_msg(rd(VIRTIO_MMIO_QUEUE_READY) == 0, "QueueNum %u", nums[i]);
		assert_needs_reset();
		ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);
		add_status(S_DRIVER_OK);
		ck_assert_uint_eq(fake.activates, 0);
		wr(VIRTIO_MMIO_STATUS, 0);
		assert_clean_status();
	}
	/* The bounds themselves are fine. */
	drv_negotiate();
	drv_setup_queue(0, 1);
	drv_setup_queue(1, QMAX);
	add_status(S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
}
END_TEST

static void setup_queue_at(uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr64(VIRTIO_MMIO_QUEUE_DESC_LOW, desc);
	wr64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, avail);
	wr64(VIRTIO_MMIO_QUEUE_USED_LOW, used);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
}

START_TEST(test_rings_outside_ram)
{
	const uint64_t a = q_avail(0, QSIZE), u = q_used(0, QSIZE, PAGE);
	const uint64_t bad[][3] = {
		{ 0xdead00000000ULL, a, u },
		{ q_desc(0), 0xfffffffffffff000ULL, u },
		{ q_desc(0), a, RAM_GPA + RAM_SIZE - 16 },	/* runs past the end */
		{ 0, a, u },
		{ q_desc(0) + 8, a, u },			/* misaligned */
		{ q_desc(0), a + 1, u },
		{ q_desc(0), a, u + 2 },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		drv_negotiate();
		setup_queue_at(bad[i][0], bad[i][1], bad[i][2]);
		ck_assert_msg(rd(VIRTIO_MMIO_QUEUE_READY) == 0, "case %u", i);
		assert_needs_reset();
		add_status(S_DRIVER_OK);
		ck_assert_uint_eq(fake.activates, 0);
		wr(VIRTIO_MMIO_STATUS, 0);
	}
	assert_logged_once("device needs reset: the driver put a virtqueue outside RAM");
}
END_TEST

START_TEST(test_activate_fails)
{
	fake.activate_err = -EIO;
	drv_init();
	ck_assert_uint_eq(fake.activates, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL | S_NEEDS_RESET);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(irq_count(), 1);
	drv_post(0, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 0);

	fake.activate_err = 0;
	wr(VIRTIO_MMIO_STATUS, 0);
	drv_init();
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
}
END_TEST

START_TEST(test_ready_queue_locked)
{
	struct virtq before;

	drv_init();
	before = vdev.vqs[0];
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr64(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x123456789000ULL);
	wr64(VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0);
	wr64(VIRTIO_MMIO_QUEUE_USED_LOW, RAM_GPA);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_QUEUE_READY, 2);
	ck_assert_uint_eq(vdev.vqs[0].size, before.size);
	ck_assert_uint_eq(vdev.vqs[0].desc_gpa, before.desc_gpa);
	ck_assert_uint_eq(vdev.vqs[0].avail_gpa, before.avail_gpa);
	ck_assert_uint_eq(vdev.vqs[0].used_gpa, before.used_gpa);
	ck_assert_ptr_eq(vdev.vqs[0].desc, before.desc);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
	assert_logged_once("changed while ready");

	/* The queue still works where it was. */
	drv_post(0, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(used_idx(0, QSIZE, PAGE), 1);
}
END_TEST

START_TEST(test_queue_ready_early)
{
	/* Rings before FEATURES_OK: ignored, the driver can still go on. */
	drv_probe(2);
	drv_setup_queue(0, QSIZE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	assert_clean_status();
	ck_assert(drv_features_ok(DEV_FEATURES | F_V1));
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	assert_logged_once("before feature negotiation");
}
END_TEST

START_TEST(test_queue_disable)
{
	/* Before DRIVER_OK (Linux's error path): the queue just stops. */
	drv_negotiate();
	drv_setup_queue(0, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(!vdev.vqs[0].ready);
	assert_clean_status();
	/* Its settings stay: ready again as it was. */
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	ck_assert_uint_eq(vdev.vqs[0].desc_gpa, q_desc(0));
	drv_setup_queue(1, QSIZE);
	add_status(S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);

	/* A running device cannot lose a queue: it needs a reset. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL | S_NEEDS_RESET);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(irq_count(), 1);
	ck_assert_uint_eq(fake.resets, 2);	/* the driver's, then this */
	drv_post(1, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	virtio_mmio_kick(m, 1);
	ck_assert_uint_eq(fake.notifies[1], 0);
}
END_TEST

/* ---- access rules ---- */

START_TEST(test_bad_widths)
{
	static const uint64_t regs[] = {
		VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION,
		VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_QUEUE_READY,
		VIRTIO_MMIO_STATUS, VIRTIO_MMIO_CONFIG_GENERATION,
	};

	drv_init();
	for (unsigned int i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		ck_assert_uint_eq(rd_n(regs[i], 1), 0);
		ck_assert_uint_eq(rd_n(regs[i], 2), 0);
		ck_assert_uint_eq(rd_n(regs[i], 8), 0);
		ck_assert_uint_eq(rd_n(regs[i] + 1, 4), 0);
		ck_assert_uint_eq(rd_n(regs[i] + 2, 4), 0);
		ck_assert_uint_eq(rd_n(regs[i] + 2, 2), 0);
	}
	/* None of these is a reset, a notify or a queue stop. */
	wr_n(VIRTIO_MMIO_STATUS, 1, 0);
	wr_n(VIRTIO_MMIO_STATUS, 2, 0);
	wr_n(VIRTIO_MMIO_STATUS, 8, 0);
	wr_n(VIRTIO_MMIO_STATUS + 2, 4, 0);
	wr_n(VIRTIO_MMIO_QUEUE_READY, 1, 0);
	wr_n(VIRTIO_MMIO_QUEUE_NOTIFY, 2, 0);
	wr_n(VIRTIO_MMIO_QUEUE_NOTIFY, 8, 0);
	wr_n(VIRTIO_MMIO_QUEUE_SEL + 1, 4, 0);
	wr_n(VIRTIO_MMIO_CONFIG - 2, 2, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
	ck_assert_uint_eq(fake.resets, 1);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 1);
	virtio_mmio_kick(m, 0);
	ck_assert_uint_eq(fake.notifies[0], 0);
	assert_logged_once("access to register");
}
END_TEST

START_TEST(test_write_only_reads)
{
	static const uint64_t wo[] = {
		VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
		VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
		VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_NOTIFY,
		VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_QUEUE_DESC_LOW,
		VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_AVAIL_LOW,
		VIRTIO_MMIO_QUEUE_AVAIL_HIGH, VIRTIO_MMIO_QUEUE_USED_LOW,
		VIRTIO_MMIO_QUEUE_USED_HIGH, VIRTIO_MMIO_SHM_SEL,
		/* legacy only, and holes */
		VIRTIO_MMIO_GUEST_PAGE_SIZE, VIRTIO_MMIO_QUEUE_ALIGN,
		VIRTIO_MMIO_QUEUE_PFN, 0x018, 0x02c, 0x048, 0x0c0, 0x0f8,
	};

	drv_negotiate();
	drv_setup_queue(1, QSIZE);
	for (unsigned int i = 0; i < sizeof(wo) / sizeof(wo[0]); i++)
		ck_assert_msg(rd(wo[i]) == 0, "register %#llx", (unsigned long long)wo[i]);
	/* Version 1 registers do nothing on a version 2 device. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, PAGE);
	wr(VIRTIO_MMIO_QUEUE_PFN, q_desc(0) / PAGE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert(!vdev.vqs[0].ready);
	assert_logged_once("write-only or unknown");
}
END_TEST

START_TEST(test_read_only_writes)
{
	static const uint64_t ro[] = {
		VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION,
		VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_VENDOR_ID,
		VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_QUEUE_NUM_MAX,
		VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_CONFIG_GENERATION,
		VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_SHM_BASE_HIGH, 0x0c0,
	};

	drv_init();
	drv_post(0, QSIZE, 0);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_kick(m, 0);
	for (unsigned int i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
		wr(ro[i], 0);
		wr(ro[i], 0xffffffff);
	}
	ck_assert_uint_eq(rd(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VERSION), 2);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_DEVICE_ID), DEV_ID);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	ck_assert_uint_eq(drv_read_features(), DEV_FEATURES | VIRTIO_CORE_FEATURES | F_V1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffff);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ALL);
	assert_logged_once("read-only or unknown");
}
END_TEST

START_TEST(test_new_rejects_big_config)
{
	struct virtio_dev_ops big = fake_ops;
	struct virtio_dev d;
	char *log;

	big.config_size = VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG + 1;
	ck_assert_int_eq(virtio_dev_init(&d, &big, &mem, "big", NULL), 0);
	ck_assert_ptr_null(virtio_mmio_new(&d, BASE, IRQ, false));
	ck_assert_ptr_null(d.transport);
	log = take_log();
	ck_assert_ptr_nonnull(strstr(log, "config space"));
	free(log);
	virtio_dev_exit(&d);
}
END_TEST

/* ---- legacy (version 1) ---- */

START_TEST(test_legacy_init)
{
	drv_legacy_init();
	ck_assert(vdev.legacy);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_DRIVER_OK);
	ck_assert_uint_eq(fake.activates, 1);
	ck_assert_uint_eq(vdev.features, F_A | F_B);
	for (unsigned int q = 0; q < NR_QUEUES; q++) {
		struct virtq *vq = &vdev.vqs[q];

		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), q_desc(q) / PAGE);
		ck_assert(vq->ready);
		ck_assert_uint_eq(vq->desc_gpa, q_desc(q));
		ck_assert_uint_eq(vq->avail_gpa, q_avail(q, QSIZE));
		ck_assert_uint_eq(vq->used_gpa, q_used(q, QSIZE, PAGE));
	}
	drv_post(1, QSIZE, 5);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	virtio_mmio_kick(m, 1);
	ck_assert_uint_eq(fake.notifies[1], 1);
	ck_assert_uint_eq(used_idx(1, QSIZE, PAGE), 1);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(irq_count(), 1);
	wr(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* vm_get() reads legacy config space a byte at a time. */
	for (unsigned int i = 0; i < sizeof(fake.config); i++)
		ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + i, 1), i + 1);
	ck_assert_uint_eq(rd_n(VIRTIO_MMIO_CONFIG + 8, 1), 0);

	/* Version 2 registers are not there. */
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_READY), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_CONFIG_GENERATION), 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_SHM_LEN_LOW), 0);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_READY, 0);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	ck_assert_uint_eq(vdev.vqs[0].desc_gpa, q_desc(0));
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_DRIVER_OK);
}
END_TEST

START_TEST(test_legacy_features)
{
	drv_probe(1);
	/* 32 feature bits, never VERSION_1. */
	ck_assert_uint_eq(drv_read_features(), LEGACY_FEATURES);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	ck_assert_uint_eq(vdev.features, 0);
	/* No FEATURES_OK step for a legacy driver. */
	drv_write_features(F_A | F_NOT_OFFERED);
	add_status(S_FEATURES_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	drv_legacy_setup_queue(0, QSIZE);
	drv_legacy_setup_queue(1, QSIZE);
	/* Features are checked at DRIVER_OK instead. */
	add_status(S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER);
	ck_assert_uint_eq(fake.activates, 0);
	drv_write_features(F_A);
	add_status(S_DRIVER_OK);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_STATUS), S_ACK | S_DRIVER | S_DRIVER_OK);
	ck_assert_uint_eq(fake.activates, 1);
	drv_write_features(F_A | F_B);
	ck_assert_uint_eq(vdev.features, F_A);
}
END_TEST

START_TEST(test_legacy_layout)
{
	const uint64_t align = 64, num = 16;

	drv_legacy_negotiate();
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, align);
	wr(VIRTIO_MMIO_QUEUE_PFN, q_desc(1) / PAGE);
	ck_assert(vdev.vqs[1].ready);
	ck_assert_uint_eq(vdev.vqs[1].avail_gpa, q_desc(1) + 16 * num);
	/* avail: flags, idx, num entries, used_event; then aligned up. */
	ck_assert_uint_eq(vdev.vqs[1].used_gpa, q_desc(1) + 16 * num + 64);
	ck_assert_uint_eq(vdev.vqs[1].used_gpa, q_used(1, num, align));

	/* Two entries, 8-byte alignment: the 6 bytes around the ring count. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, 2);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, 8);
	wr(VIRTIO_MMIO_QUEUE_PFN, q_desc(0) / PAGE);
	ck_assert(vdev.vqs[0].ready);
	ck_assert_uint_eq(vdev.vqs[0].used_gpa, q_desc(0) + 48);
}
END_TEST

/* One legacy queue set-up with the given values, from a fresh reset. */
static void legacy_try(uint32_t page, uint32_t num, uint32_t align, uint32_t pfn)
{
	drv_legacy_negotiate();
	wr(VIRTIO_MMIO_GUEST_PAGE_SIZE, page);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, num);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, align);
	wr(VIRTIO_MMIO_QUEUE_PFN, pfn);
}

START_TEST(test_legacy_hostile)
{
	const uint32_t pfn = q_desc(0) / PAGE;
	const uint32_t bad[][4] = {
		{ 0, QSIZE, PAGE, pfn },
		{ 3000, QSIZE, PAGE, pfn },
		{ 0x3000, QSIZE, PAGE, 0x60 },	/* would be in RAM */
		{ PAGE, QSIZE, 0, pfn },
		{ PAGE, QSIZE, 100, pfn },
		{ PAGE, 0, PAGE, pfn },
		{ PAGE, 1024, PAGE, pfn },
		{ PAGE, 0xffffffff, PAGE, pfn },
		{ PAGE, QSIZE, PAGE, 0xfffff },
		{ PAGE, QSIZE, PAGE, 0xffffffff },
		{ 0x80000000, QSIZE, 0x80000000, 0xffffffff },
		{ 1, QSIZE, PAGE, q_desc(0) + 8 },		/* misaligned */
		{ PAGE, QSIZE, PAGE, (RAM_GPA + RAM_SIZE) / PAGE - 1 },
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		legacy_try(bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
		ck_assert_msg(rd(VIRTIO_MMIO_QUEUE_PFN) == 0, "case %u", i);
		ck_assert(!vdev.vqs[0].ready);
		assert_needs_reset();
		add_status(S_DRIVER_OK);
		ck_assert_uint_eq(fake.activates, 0);
	}
	/* A page size of 1 is a power of two: byte addresses. */
	legacy_try(1, QSIZE, PAGE, q_desc(0));
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), q_desc(0));
	assert_clean_status();
}
END_TEST

START_TEST(test_legacy_guest_page_size_kept)
{
	/* Written once before the first reset, as Linux does. */
	wr(VIRTIO_MMIO_GUEST_PAGE_SIZE, PAGE);
	wr(VIRTIO_MMIO_STATUS, 0);
	add_status(S_ACK);
	add_status(S_DRIVER);
	drv_write_features(F_A);
	drv_legacy_setup_queue(0, QSIZE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), q_desc(0) / PAGE);
	assert_clean_status();
}
END_TEST

START_TEST(test_legacy_queue_stop)
{
	drv_legacy_negotiate();
	drv_legacy_setup_queue(0, QSIZE);
	/* Moving a queue in use is ignored; so is its alignment. */
	wr(VIRTIO_MMIO_QUEUE_ALIGN, 64);
	wr(VIRTIO_MMIO_QUEUE_NUM, 16);
	wr(VIRTIO_MMIO_QUEUE_PFN, q_desc(1) / PAGE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), q_desc(0) / PAGE);
	ck_assert_uint_eq(vdev.vqs[0].desc_gpa, q_desc(0));
	ck_assert_uint_eq(vdev.vqs[0].used_gpa, q_used(0, QSIZE, PAGE));
	/* PFN 0 before DRIVER_OK stops the queue; it can come back. */
	wr(VIRTIO_MMIO_QUEUE_PFN, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), 0);
	ck_assert(!vdev.vqs[0].ready);
	assert_clean_status();
	drv_legacy_setup_queue(0, QSIZE);
	drv_legacy_setup_queue(1, QSIZE);
	add_status(S_DRIVER_OK);
	ck_assert_uint_eq(fake.activates, 1);
	/* On a running device it needs a reset. */
	wr(VIRTIO_MMIO_QUEUE_SEL, 1);
	wr(VIRTIO_MMIO_QUEUE_PFN, 0);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), 0);
	assert_needs_reset();
	ck_assert_uint_eq(rd(VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	/* Reset forgets every PFN. */
	wr(VIRTIO_MMIO_STATUS, 0);
	for (unsigned int q = 0; q < NR_QUEUES; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), 0);
		ck_assert(!vdev.vqs[q].ready);
	}
	assert_clean_status();
}
END_TEST

START_TEST(test_legacy_reset_align)
{
	/* QueueAlign goes with a reset: a PFN without it is refused. */
	drv_legacy_negotiate();
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_ALIGN, PAGE);
	wr(VIRTIO_MMIO_STATUS, 0);
	add_status(S_ACK);
	add_status(S_DRIVER);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(VIRTIO_MMIO_QUEUE_PFN, q_desc(0) / PAGE);
	ck_assert_uint_eq(rd(VIRTIO_MMIO_QUEUE_PFN), 0);
	assert_needs_reset();
}
END_TEST

/* ---- the transport helpers in virtio.c, which both transports use ---- */

START_TEST(test_helper_feature_word)
{
	uint64_t f = 0x1234567887654321ULL;

	ck_assert_uint_eq(virtio_feature_word(f, 0), 0x87654321);
	ck_assert_uint_eq(virtio_feature_word(f, 1), 0x12345678);
	ck_assert_uint_eq(virtio_feature_word(f, 2), 0);
	ck_assert_uint_eq(virtio_feature_word(f, 0xffffffff), 0);
}
END_TEST

/* Only between DRIVER and FEATURES_OK, only up to max_sel, one word at
 * a time; a nonzero word beyond max_sel is logged once. */
START_TEST(test_helper_driver_feature_word)
{
	virtio_driver_feature_word(&vdev, 0, 0xff, 1);
	ck_assert_uint_eq(vdev.features, 0);
	assert_logged_once("driver features written in status 0");
	add_status(S_ACK);
	add_status(S_DRIVER);
	virtio_driver_feature_word(&vdev, 0, 0x11, 1);
	virtio_driver_feature_word(&vdev, 1, 0x22, 1);
	ck_assert_uint_eq(vdev.features, 0x2200000011ULL);
	virtio_driver_feature_word(&vdev, 0, 0x33, 1);
	ck_assert_uint_eq(vdev.features, 0x2200000033ULL);
	/* A legacy driver's max_sel 0: the high word stays. */
	virtio_driver_feature_word(&vdev, 1, 0, 0);
	virtio_driver_feature_word(&vdev, 1, 0x44, 0);
	virtio_driver_feature_word(&vdev, 2, 0x55, 1);
	virtio_driver_feature_word(&vdev, 0xffffffff, 0x66, 1);
	ck_assert_uint_eq(vdev.features, 0x2200000033ULL);
	assert_logged_once("driver features word");
}
END_TEST

START_TEST(test_helper_queue_field_addr)
{
	uint64_t a = 0x1111111122222222ULL;

	virtio_queue_field_addr(&a, 0x33333333, false);
	ck_assert_uint_eq(a, 0x1111111133333333ULL);
	virtio_queue_field_addr(&a, 0x44444444, true);
	ck_assert_uint_eq(a, 0x4444444433333333ULL);
	virtio_queue_field_addr(&a, 0, true);
	ck_assert_uint_eq(a, 0x33333333ULL);
}
END_TEST

/* Kicks are counted on the eventfd; the I/O thread's side consumes them
 * all and notifies once, and only a running device with that queue ready. */
START_TEST(test_helper_kicks)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	ck_assert_int_ge(fd, 0);
	virtio_kick_eventfd(&vdev, fd);
	virtio_kicked(&vdev, fd, 0);
	ck_assert_uint_eq(fake.notifies[0], 0);	/* not running: consumed */
	drv_init();
	virtio_kick_eventfd(&vdev, fd);
	virtio_kick_eventfd(&vdev, fd);
	virtio_kicked(&vdev, fd, 0);
	ck_assert_uint_eq(fake.notifies[0], 1);
	virtio_kicked(&vdev, fd, 0);		/* nothing left */
	ck_assert_uint_eq(fake.notifies[0], 1);
	virtio_kick_eventfd(&vdev, fd);
	virtio_kicked(&vdev, fd, 1);
	ck_assert_uint_eq(fake.notifies[1], 1);
	close(fd);
	/* An eventfd that cannot be written: one warning each. */
	virtio_kick_eventfd(&vdev, -1);
	virtio_kick_eventfd(&vdev, -1);
	assert_logged_once("cannot queue a kick");
	virtio_irq_eventfd(&vdev, -1);
	virtio_irq_eventfd(&vdev, -1);
	assert_logged_once("cannot raise interrupt");
}
END_TEST

START_TEST(test_helper_status_read)
{
	add_status(S_ACK);
	ck_assert_uint_eq(virtio_status_read(&vdev), S_ACK);
	pthread_mutex_lock(&vdev.lock);
	virtio_needs_reset(&vdev, "test");
	pthread_mutex_unlock(&vdev.lock);
	ck_assert_uint_eq(virtio_status_read(&vdev), S_ACK | S_NEEDS_RESET);
}
END_TEST

static void add(Suite *s, const char *name, void (*setup_fn)(void),
		const TTest *const t[], size_t n)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup_fn, teardown);
	for (size_t i = 0; i < n; i++)
		tcase_add_test(tc, t[i]);
	suite_add_tcase(s, tc);
}

#define ADD(s, name, setup_fn, ...)					\
	do {								\
		const TTest *const t_[] = { __VA_ARGS__ };		\
		add(s, name, setup_fn, t_, sizeof(t_) / sizeof(t_[0]));	\
	} while (0)

static Suite *mmio_suite(void)
{
	Suite *s = suite_create("virtio-mmio");

	ADD(s, "modern", setup_modern, test_probe_registers, test_shm_none,
	    test_linux_init, test_notify_eventfd, test_requeue,
	    test_notify_before_driver_ok,
	    test_kicks_race_resets, test_config_change_interrupt,
	    test_config_access,
	    test_config_bounds, test_reset_every_state, test_features_refused,
	    test_features_write_window, test_status_order);
	ADD(s, "hostile", setup_modern, test_queue_sel_out_of_range,
	    test_queue_num_hostile, test_rings_outside_ram,
	    test_activate_fails, test_ready_queue_locked,
	    test_queue_ready_early, test_queue_disable, test_bad_widths,
	    test_write_only_reads, test_read_only_writes,
	    test_new_rejects_big_config);
	ADD(s, "helpers", setup_modern, test_helper_feature_word,
	    test_helper_driver_feature_word, test_helper_queue_field_addr,
	    test_helper_kicks, test_helper_status_read);
	ADD(s, "legacy", setup_legacy, test_legacy_init, test_legacy_features,
	    test_legacy_layout, test_legacy_hostile,
	    test_legacy_guest_page_size_kept, test_legacy_queue_stop,
	    test_legacy_reset_align);
	return s;
}

UNIT_SUITE(mmio_suite)
