// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-mmio register file as a hostile driver drives it: register
 * reads and writes of any width at any offset, queue kicks, writes into
 * guest RAM and host console input, in any order, against a device that
 * the first input byte picks: a fake device with two queues and an 8-byte
 * config space, virtio-rng, virtio-console (with or without a window
 * size), or kvmini exec's multiport console (virtio/vports.c) with three
 * ports whose backends take a few bytes at a time, or none. Either
 * layout: version 2, or legacy version 1.
 *
 * The transport is attached as kvmini attaches it, minus KVM: the MMIO
 * range, irqfd and ioeventfds are stubs, the event loop is a real epoll
 * set that is never run. Kicks go through the notify eventfds, and
 * virtio_mmio_kick() is called where the I/O thread would call it.
 * Resource bounds are checked too: nothing the guest does allocates
 * memory, and once the transport and the device are freed after each
 * input, no file descriptor is left behind.
 *
 * Then a snapshot (rng and the consoles; the fake device has no state
 * of its own to save): whatever state the driver reached and kvmini
 * saves is loaded into a fresh device and transport over the same RAM,
 * which must take it, and saved again, byte for byte the same.
 *
 * Input: a header byte (bits 0-1 the device, bit 2 legacy, bit 3 the fake
 * device's activate fails, bit 4 the multiport console), then operations, each an opcode byte and its
 * operands (see fuzz_op()). Console input and window size changes come
 * from the host side, in between.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_mmio.h>

#include "tests/fuzz/common.h"
#include "virtio/devices.h"
#include "virtio/mmio.h"
#include "lib/evloop.h"
#include "lib/sbuf.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x10000ULL
#define BASE		0xd0000000ULL
#define IRQ		5
#define MAX_OPS		2048

enum { DEV_FAKE, DEV_RNG, DEV_CONSOLE, DEV_CONSOLE_SIZE, DEV_VPORTS };

/* The registers, so that most operations hit one; others go raw. */
static const uint16_t regs[] = {
	VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID,
	VIRTIO_MMIO_VENDOR_ID, VIRTIO_MMIO_DEVICE_FEATURES,
	VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
	VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_GUEST_PAGE_SIZE,
	VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_NUM,
	VIRTIO_MMIO_QUEUE_ALIGN, VIRTIO_MMIO_QUEUE_PFN, VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_STATUS,
	VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_STATUS,
	VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
	VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH,
	VIRTIO_MMIO_SHM_SEL, VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_SHM_LEN_HIGH,
	VIRTIO_MMIO_SHM_BASE_LOW, VIRTIO_MMIO_SHM_BASE_HIGH,
	VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_CONFIG,
	VIRTIO_MMIO_CONFIG + 4,
};
#define NR_REGS (sizeof(regs) / sizeof(regs[0]))

/* --- kvmini outside the transport: stubs for what KVM would do -------- */

static int stub_register_mmio(void *ctx, uint64_t base, uint64_t len,
			      bus_access_fn *fn, void *fn_opaque, const char *name)
{
	(void)ctx, (void)base, (void)len, (void)fn, (void)fn_opaque, (void)name;
	return 0;
}

static int stub_irqfd(void *ctx, uint32_t gsi, int fd)
{
	(void)ctx, (void)gsi, (void)fd;
	return 0;
}

static int stub_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			  uint64_t datamatch, int fd)
{
	(void)ctx, (void)addr, (void)len, (void)datamatch, (void)fd;
	return 0;
}

/* --- the fake device ---------------------------------------------------- */

struct fake {
	uint8_t config[8];
	bool activate_fails;
	struct virtq_chain chain;
};

static void fake_config_read(struct virtio_dev *vdev, uint32_t off,
			     uint8_t *data, uint32_t len)
{
	struct fake *f = vdev->priv;

	fuzz_check(off <= sizeof(f->config) && len <= sizeof(f->config) - off);
	memcpy(data, f->config + off, len);
}

static void fake_config_write(struct virtio_dev *vdev, uint32_t off,
			      const uint8_t *data, uint32_t len)
{
	struct fake *f = vdev->priv;

	fuzz_check(off <= sizeof(f->config) && len <= sizeof(f->config) - off);
	memcpy(f->config + off, data, len);
	virtio_config_changed(vdev);
}

static int fake_activate(struct virtio_dev *vdev)
{
	struct fake *f = vdev->priv;

	return f->activate_fails ? -EIO : 0;
}

/* Like the real devices: drain, complete, publish, interrupt. */
static void fake_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct fake *f = vdev->priv;
	struct virtq *vq = &vdev->vqs[q];
	struct virtq_chain *c = &f->chain;
	unsigned int popped = 0;
	int r;

	fuzz_check(vdev->active && vq->ready);
	for (;;) {
		virtq_disable_notify(vq);
		while ((r = virtio_pop_batch(vdev, q, c, &popped)) > 0) {
			for (unsigned int i = 0; i < c->nr_in; i++)
				memset(c->iov[c->nr_out + i].iov_base, q,
				       c->iov[c->nr_out + i].iov_len);
			virtq_add_used(vq, c->head, c->err ? 0 : c->in_len);
		}
		if (r < 0 || !virtq_enable_notify(vq))
			break;
	}
	if (!vdev->active)
		return;
	virtq_flush(vq);
	virtio_notify_used(vdev, q);
}

static void fake_free(struct virtio_dev *vdev)
{
	free(vdev->priv);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops fake_ops = {
	.device_id	= 42,
	.nr_queues	= 2,
	.queue_max	= 64,
	.features	= (1ULL << 0) | (1ULL << 5) | (1ULL << 40),
	.config_size	= 8,
	.config_read	= fake_config_read,
	.config_write	= fake_config_write,
	.activate	= fake_activate,
	.notify		= fake_notify,
	.free		= fake_free,
};

static struct virtio_dev *fake_new(const struct guest_mem *mem, bool fails)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	struct fake *f = calloc(1, sizeof(*f));

	if (!vdev || !f || virtio_dev_init(vdev, &fake_ops, mem, "fake", f))
		abort();
	f->activate_fails = fails;
	return vdev;
}

/* --- the console's host side -------------------------------------------- */

struct sink {
	uint8_t sum;
	unsigned int wakeups;
	bool full;		/* takes nothing (a snapshot's round trip) */
};

static size_t sink_output(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;

	for (size_t i = 0; i < len; i++)
		s->sum += buf[i];
	return len;
}

static void sink_input_space(void *ctx)
{
	struct sink *s = ctx;

	s->wakeups++;
}

static struct virtio_dev *console_new(const struct guest_mem *mem, bool size,
				      struct sink *sink)
{
	struct vconsole_backend be = {
		.output = sink_output,
		.input_space = sink_input_space,
		.ctx = sink,
		.cols = size ? 80 : 0,
		.rows = size ? 25 : 0,
	};

	return virtio_console_new(mem, &be);
}

/* A port's backend: up to 3 bytes a call, none every fourth call, so
 * that buffers are held and flushed. */
static size_t sink_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct sink *s = ctx;
	size_t n = len < 3 ? len : 3;

	if (++s->wakeups % 4 == 0 || s->full)
		return 0;
	for (size_t i = 0; i < n; i++)
		s->sum += buf[i];
	return n;
}

static struct virtio_dev *vports_new(const struct guest_mem *mem, struct sink *sink)
{
	const struct vport_backend be[3] = {
		{ .name = "stdout", .write = sink_write, .ctx = sink },
		{ .name = "stderr", .write = sink_write, .ctx = sink },
		{ .name = "status", .write = sink_write, .ctx = sink },
	};

	return virtio_vports_new(mem, be, 3);
}

/* --- the driver --------------------------------------------------------- */

struct fuzz_mmio {
	struct guest_mem mem;
	uint8_t *ram;
	struct virtio_dev *vdev;
	struct virtio_mmio *m;
	unsigned int dev;
	struct sink sink;
	bool resized;
	uint32_t size;		/* the host window's last size (case 7) */
};

static struct evloop loop;
static const struct virtio_mmio_host host = {
	.register_mmio = stub_register_mmio,
	.irqfd = stub_irqfd,
	.ioeventfd = stub_ioeventfd,
	.loop = &loop,
};

static uint64_t reg_offset(struct fuzz_input *in)
{
	uint8_t i = fuzz_u8(in);

	return i < NR_REGS ? regs[i] : fuzz_u16(in) % VIRTIO_MMIO_SIZE;
}

static void reg_access(struct fuzz_mmio *f, uint64_t off, uint32_t len,
		       bool write, uint32_t val)
{
	uint8_t data[8] = { 0 };
	uint32_t le = htole32(val);

	memcpy(data, &le, sizeof(le));
	virtio_mmio_access(f->m, off, data, len, write);
}

static void ram_write(struct fuzz_mmio *f, struct fuzz_input *in)
{
	uint16_t off = fuzz_u16(in);
	uint8_t len = fuzz_u8(in);
	uint8_t buf[256];

	fuzz_bytes(in, buf, len);
	for (unsigned int i = 0; i < len; i++) {
		uint8_t *p = gmem_ptr(&f->mem, RAM_GPA + off + i, 1);

		if (p)
			*p = buf[i];
	}
}

static void fuzz_op(struct fuzz_mmio *f, struct fuzz_input *in)
{
	static const uint32_t widths[] = { 1, 2, 3, 4, 8, 0 };
	unsigned int nq = f->vdev->ops->nr_queues;
	uint8_t buf[256];
	uint64_t off;
	uint32_t v;

	switch (fuzz_u8(in) % 8) {
	case 0:
		off = reg_offset(in);
		reg_access(f, off, 4, true, fuzz_u32(in));
		break;
	case 1:
		reg_access(f, reg_offset(in), 4, false, 0);
		break;
	case 2:		/* any width, any offset, either way */
		off = fuzz_u16(in) % VIRTIO_MMIO_SIZE;
		v = fuzz_u8(in);
		reg_access(f, off, widths[(v >> 1) % 6], v & 1, fuzz_u32(in));
		break;
	case 3:
		virtio_mmio_kick(f->m, fuzz_u8(in) % (nq + 1));
		break;
	case 4:		/* QueueNotify and the kick it causes, as one step */
		v = fuzz_u8(in) % (nq + 1);
		reg_access(f, VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, v);
		virtio_mmio_kick(f->m, v);
		break;
	case 5:
		ram_write(f, in);
		break;
	case 6:
		v = fuzz_u8(in);
		fuzz_bytes(in, buf, v);
		if (f->dev == DEV_VPORTS)	/* a port's backend has room */
			virtio_vports_flush(f->vdev, v % 4);
		else if (f->dev == DEV_CONSOLE || f->dev == DEV_CONSOLE_SIZE)
			fuzz_check(virtio_console_push(f->vdev, buf, v) <= v);
		break;
	case 7:		/* the host's window changes size */
		v = fuzz_u32(in);
		if (f->dev == DEV_CONSOLE || f->dev == DEV_CONSOLE_SIZE) {
			virtio_console_resize(f->vdev, v, v >> 16);
			if ((uint16_t)v && v >> 16) {	/* 0 is ignored */
				f->resized = true;
				f->size = v;
			}
		}
		break;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (evloop_init(&loop))
		abort();
	return 0;
}

static void dev_new(struct fuzz_mmio *f, uint8_t hdr)
{
	f->dev = hdr & 16 ? DEV_VPORTS : hdr & 3;
	switch (f->dev) {
	case DEV_FAKE:
		f->vdev = fake_new(&f->mem, hdr & 8);
		break;
	case DEV_RNG:
		f->vdev = virtio_rng_new(&f->mem);
		break;
	case DEV_VPORTS:
		f->vdev = vports_new(&f->mem, &f->sink);
		break;
	default:
		f->vdev = console_new(&f->mem, f->dev == DEV_CONSOLE_SIZE, &f->sink);
		break;
	}
	fuzz_check(f->vdev);
	f->m = virtio_mmio_new(f->vdev, BASE, IRQ, hdr & 4);
	fuzz_check(f->m);
	fuzz_check(!virtio_mmio_attach(f->m, &host));
}

static void dev_free(struct fuzz_mmio *f)
{
	virtio_mmio_free(f->m);
	virtio_dev_exit(f->vdev);
	free(f->vdev);
}

static int mmio_save(struct fuzz_mmio *f, struct sbuf *s)
{
	int err;

	memset(s, 0, sizeof(*s));
	virtio_mmio_quiesce(f->m);
	err = virtio_mmio_save(f->m, s);
	fuzz_check(err || sbuf_ok(s));
	return err;
}

/* What the driver reached restores, as itself. */
/* The device and transport made anew, given a's state, which they must
 * take; b is what they save then. */
static void reload(struct fuzz_mmio *f, uint8_t hdr, const struct sbuf *a,
		   struct sbuf *b)
{
	dev_free(f);
	dev_new(f, hdr);
	/* The window is the host's: a restore takes today's size (and
	 * tells the driver if it differs), so give the fresh one the same. */
	if (f->resized)
		virtio_console_resize(f->vdev, f->size, f->size >> 16);
	fuzz_check(!virtio_mmio_load(f->m, a->data, a->len));
	fuzz_check(!mmio_save(f, b));
}

/*
 * What the driver reached and kvmini saves restores. Loading may put a
 * state in its one form (a broken queue's indices), so the fixed point
 * is the second load's: saved, loaded, saved, loaded and saved again,
 * the last two the same bytes.
 */
static void snapshot_round_trip(struct fuzz_mmio *f, uint8_t hdr)
{
	struct sbuf a, b, c;

	/* A save may be refused (the VM runs on): a port whose host side
	 * takes nothing keeps the driver's output in flight. Nothing drains
	 * meanwhile, so each save sees what the one before did. */
	f->sink.full = true;
	if (mmio_save(f, &a)) {
		sbuf_free(&a);
		return;
	}
	reload(f, hdr, &a, &b);
	reload(f, hdr, &b, &c);
	fuzz_check(b.len == c.len && !memcmp(b.data, c.data, b.len));
	sbuf_free(&a);
	sbuf_free(&b);
	sbuf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct fuzz_mmio f;
	int fd_before = fuzz_lowest_free_fd();
	uint8_t hdr = fuzz_u8(&in);

	memset(&f, 0, sizeof(f));
	f.ram = fuzz_ram_add(&f.mem, RAM_GPA, RAM_SIZE);
	dev_new(&f, hdr);

	/* Nothing the guest (or console input) does allocates memory. */
	fuzz_allocs_begin();
	for (unsigned int i = 0; i < MAX_OPS && !fuzz_empty(&in); i++)
		fuzz_op(&f, &in);
	fuzz_check(fuzz_allocs_end() == 0);
	if (f.dev != DEV_FAKE)
		snapshot_round_trip(&f, hdr);

	dev_free(&f);
	free(f.ram);
	fuzz_check(fuzz_lowest_free_fd() == fd_before);
	return 0;
}
