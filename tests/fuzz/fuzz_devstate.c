// SPDX-License-Identifier: GPL-2.0
/*
 * Device state loaders (snapshots) fed what a forged snapshot file could
 * hold: the UART, the i8042, and virtio devices on the mmio transport
 * (rng, rng on the legacy layout, console, multiport console, net on a
 * callback backend, vsock).
 *
 * A blob that any byte may break finds little past the first check, so
 * the target makes a real one first: a driver brings the device up
 * through the registers (or the UART's, the i8042's) and its state is
 * saved. The input then cuts and pokes it, or, in raw mode, replaces
 * it. Whatever loads must be a state the device can be in, and must be
 * a fixed point: saved, loaded into a fresh device and saved again, the
 * bytes are the same. Then the queues are kicked as the I/O thread
 * would, against restored indices and guest RAM.
 *
 * Input: a header byte (bits 0-2 the device, bit 3 legacy for rng, bit
 * 7 raw mode); raw: the rest is the blob; else a u16 length to cut the
 * real blob to (0: whole) and then pokes, each a u16 offset and a byte.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_mmio.h>

#include "tests/fuzz/common.h"
#include "legacy/i8042.h"
#include "legacy/serial.h"
#include "lib/evloop.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"
#include "virtio/mmio.h"
#include "virtio/vsock_backend.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x40000ULL
#define BASE		0xd0000000ULL
#define IRQ		5
#define QSIZE		8

enum { K_SERIAL, K_I8042, K_RNG, K_CONSOLE, K_VPORTS, K_NET, K_VSOCK, K_NR };

static struct guest_mem mem;
static struct evloop loop;

/* ---- backends that take everything or nothing ------------------------ */

static size_t sink(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)buf;
	return len;
}

static void cb_transmit(void *ctx, const struct iovec *iov, unsigned int cnt,
			size_t len)
{
	(void)ctx, (void)iov, (void)cnt, (void)len;
}

static int vs_connect(void *ctx, uint32_t port)
{
	(void)ctx, (void)port;
	return -ECONNREFUSED;
}

static struct virtio_dev *vdev_new(unsigned int kind)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0, 1, 2, 3 };
	const struct vconsole_backend con = { .output = sink, .cols = 80, .rows = 25 };
	const struct vport_backend ports[2] = { { .name = "a", .write = sink }, { .name = "b", .write = sink } };
	const struct vnet_backend net = {
		.fd = -1, .offloads = VNET_OFFLOADS, .transmit = cb_transmit,
	};
	const struct vsock_backend vs = { .connect = vs_connect };

	switch (kind) {
	case K_RNG:
		return virtio_rng_new(&mem);
	case K_CONSOLE:
		return virtio_console_new(&mem, &con);
	case K_VPORTS:
		return virtio_vports_new(&mem, ports, 2);
	case K_NET:
		return virtio_net_new(&mem, &net, mac, NULL, 0);
	}
	return virtio_vsock_new(&mem, 3, &vs, &loop);
}

/* ---- a device on the transport ------------------------------------------ */

struct dev {
	struct virtio_dev *vdev;
	struct virtio_mmio *m;
};

static void dev_new(struct dev *d, unsigned int kind, bool legacy)
{
	d->vdev = vdev_new(kind);
	fuzz_check(d->vdev);
	d->m = virtio_mmio_new(d->vdev, BASE, IRQ, legacy);
	fuzz_check(d->m);
}

static void dev_free(struct dev *d)
{
	virtio_mmio_free(d->m);
	virtio_dev_exit(d->vdev);
	free(d->vdev);
}

static void wr(struct dev *d, uint64_t off, uint32_t v)
{
	uint32_t le = htole32(v);

	virtio_mmio_access(d->m, off, (uint8_t *)&le, 4, true);
}

static uint32_t rd(struct dev *d, uint64_t off)
{
	uint32_t le = 0;

	virtio_mmio_access(d->m, off, (uint8_t *)&le, 4, false);
	return le32toh(le);
}

/* Linux's bring-up: every feature offered, every queue of QSIZE. */
static void driver_start(struct dev *d, bool legacy)
{
	unsigned int nr = d->vdev->ops->nr_queues;

	wr(d, VIRTIO_MMIO_STATUS, 1);
	wr(d, VIRTIO_MMIO_STATUS, 3);
	for (unsigned int w = 0; w < (legacy ? 1u : 2u); w++) {
		wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, w);
		wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, w);
		wr(d, VIRTIO_MMIO_DRIVER_FEATURES, rd(d, VIRTIO_MMIO_DEVICE_FEATURES));
	}
	if (legacy)
		wr(d, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
	else
		wr(d, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned int q = 0; q < nr; q++) {
		uint64_t base = RAM_GPA + q * 3 * 4096ULL;

		wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		if (legacy) {
			wr(d, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
			wr(d, VIRTIO_MMIO_QUEUE_PFN, base / 4096);
			continue;
		}
		wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, base);
		wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, base + 4096);
		wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, base + 2 * 4096);
		wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(d, VIRTIO_MMIO_STATUS, legacy ? 7 : 0xf);
}

/* What a loaded device may be: the transport's promises. */
static void check_state(struct dev *d)
{
	struct virtio_dev *v = d->vdev;

	fuzz_check(!v->active || ((v->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
				  !v->broken));
	fuzz_check(virtio_status_valid(v->status, v->legacy));
	/* Unoffered bits only before negotiation ends (FEATURES_OK, or
	 * DRIVER_OK for a legacy driver), which would refuse them. */
	if (v->status & (v->legacy ? VIRTIO_CONFIG_S_DRIVER_OK : VIRTIO_CONFIG_S_FEATURES_OK))
		fuzz_check(!(v->features & ~v->host_features));
	for (unsigned int q = 0; q < v->ops->nr_queues; q++) {
		const struct virtq *vq = &v->vqs[q];

		if (!vq->ready)
			continue;
		fuzz_check(vq->size && vq->size <= vq->max_size &&
			   !(vq->size & (vq->size - 1)));
		fuzz_check(!virtq_outstanding(vq));
	}
}

/* ---- the blob ------------------------------------------------------------ */

/* The input's edits to the real blob b: a cut, then pokes. Whether
 * the blob is still the real one, which must load. */
static bool edit(struct fuzz_input *in, struct sbuf *b)
{
	uint16_t cut = fuzz_u16(in);
	bool real = true;

	if (cut && cut < b->len) {
		b->len = cut;
		real = false;
	}
	while (!fuzz_empty(in) && b->len) {
		uint16_t off = fuzz_u16(in);
		uint8_t v = fuzz_u8(in);

		real &= b->data[off % b->len] == v;
		b->data[off % b->len] = v;
	}
	return real;
}

static bool blob_from_input(struct fuzz_input *in, bool raw, struct sbuf *b)
{
	if (!raw)
		return edit(in, b);
	b->len = 0;
	sbuf_put(b, in->p, in->left);
	in->left = 0;
	return false;
}

static void same(const struct sbuf *a, const struct sbuf *b)
{
	fuzz_check(sbuf_ok(a) && sbuf_ok(b));
	fuzz_check(a->len == b->len && !memcmp(a->data, b->data, a->len));
}

static void run_virtio(struct fuzz_input *in, unsigned int kind, bool legacy, bool raw)
{
	struct sbuf b = { 0 }, s1 = { 0 }, s2 = { 0 };
	struct dev a, x, y;
	bool real;
	int err;

	dev_new(&a, kind, legacy);
	driver_start(&a, legacy);
	fuzz_check(!virtio_mmio_save(a.m, &b));
	dev_free(&a);
	real = blob_from_input(in, raw, &b);

	dev_new(&x, kind, legacy);
	err = virtio_mmio_load(x.m, b.data, b.len);
	fuzz_check(!err || !real);
	if (!err) {
		check_state(&x);
		fuzz_check(!virtio_mmio_save(x.m, &s1));
		dev_new(&y, kind, legacy);
		fuzz_check(!virtio_mmio_load(y.m, s1.data, s1.len));
		fuzz_check(!virtio_mmio_save(y.m, &s2));
		same(&s1, &s2);
		dev_free(&y);
		/* The I/O thread serves the requeued kicks. */
		for (unsigned int q = 0; q < x.vdev->ops->nr_queues; q++)
			virtio_mmio_kick(x.m, q);
		check_state(&x);
	} else {
		fuzz_check(!x.vdev->active && !x.vdev->status);
	}
	dev_free(&x);
	sbuf_free(&b);
	sbuf_free(&s1);
	sbuf_free(&s2);
}

static void run_serial(struct fuzz_input *in, bool raw)
{
	static const uint8_t regs[][2] = {
		{ 2, 0x01 }, { 3, 0x83 }, { 0, 0x01 }, { 3, 0x03 }, { 4, 0x0b },
		{ 1, 0x0f }, { 7, 0x5a }, { 0, 'x' },
	};
	struct serial *s = serial_new(NULL, NULL), *t;
	struct sbuf b = { 0 }, s1 = { 0 }, s2 = { 0 };
	bool real;
	int err;

	fuzz_check(s);
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		serial_access(s, regs[i][0], (uint8_t *)&regs[i][1], 1, true);
	serial_rx_push(s, (const uint8_t *)"input", 5);
	serial_save(s, &b);
	real = blob_from_input(in, raw, &b);
	err = serial_load(s, b.data, b.len);
	fuzz_check(!err || !real);
	if (!err) {
		uint8_t v;

		serial_save(s, &s1);
		t = serial_new(NULL, NULL);
		fuzz_check(t && !serial_load(t, s1.data, s1.len));
		serial_save(t, &s2);
		same(&s1, &s2);
		serial_free(t);
		for (unsigned int off = 0; off < 8; off++)
			serial_access(s, off, &v, 1, false);
	}
	serial_free(s);
	sbuf_free(&b);
	sbuf_free(&s1);
	sbuf_free(&s2);
}

static void run_i8042(struct fuzz_input *in, bool raw)
{
	struct i8042 *k = i8042_new(NULL, NULL), *t;
	struct sbuf b = { 0 }, s1 = { 0 }, s2 = { 0 };
	uint8_t cmd = 0x60, v;
	bool real;
	int err;

	fuzz_check(k);
	i8042_access(k, 4, &cmd, 1, true);
	i8042_save(k, &b);
	real = blob_from_input(in, raw, &b);
	err = i8042_load(k, b.data, b.len);
	fuzz_check(!err || !real);
	if (!err) {
		i8042_save(k, &s1);
		t = i8042_new(NULL, NULL);
		fuzz_check(t && !i8042_load(t, s1.data, s1.len));
		i8042_save(t, &s2);
		same(&s1, &s2);
		i8042_free(t);
		i8042_access(k, 0, &v, 1, false);
		i8042_access(k, 4, &v, 1, false);
	}
	i8042_free(k);
	sbuf_free(&b);
	sbuf_free(&s1);
	sbuf_free(&s2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	struct fuzz_input in = fuzz_input(data, size);
	uint8_t hdr = fuzz_u8(&in);
	unsigned int kind = (hdr & 7) % K_NR;
	bool raw = hdr & 0x80;

	if (!ram) {
		ram = fuzz_ram_add(&mem, RAM_GPA, RAM_SIZE);
		fuzz_check(ram && !evloop_init(&loop));
	}
	memset(ram, 0, RAM_SIZE);
	switch (kind) {
	case K_SERIAL:
		run_serial(&in, raw);
		break;
	case K_I8042:
		run_i8042(&in, raw);
		break;
	default:
		run_virtio(&in, kind, kind == K_RNG && (hdr & 8), raw);
		break;
	}
	return 0;
}
