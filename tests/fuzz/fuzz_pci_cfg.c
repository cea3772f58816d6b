// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI bus and a virtio-pci function as a hostile guest drives them:
 * config space through conf1 and ECAM at any width and offset (BAR
 * sizing and moves, the command register, MSI-X control, the PCI_CFG
 * window), the BAR window (common configuration, ISR, device config,
 * notify, the MSI-X table and PBA), kicks and device interrupts, in any
 * order, against virtio-rng on the real transport (a second function
 * sits beside it, for BARs moved over each other).
 *
 * The machine's side is stubs that check what they are asked: an MSI
 * route only for a GSI the transport was given, an ioeventfd only
 * deassigned where it was assigned, and never two at one address.
 * After each operation the ids and the capability chain are what they
 * were (read-only bits stay). Nothing the guest does allocates memory,
 * and no file descriptor outlives an input.
 *
 * Then a snapshot: whatever state the guest reached is saved (the bus,
 * then each function), loaded into a fresh bus and functions over the
 * same RAM, which must take it, and saved again, byte for byte the same
 * (a snapshot of anything a guest can do restores, as itself).
 *
 * Input: operations, each an opcode byte and its operands (fuzz_op()).
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "lib/evloop.h"
#include "lib/sbuf.h"
#include "pci/pci.h"
#include "virtio/devices.h"
#include "virtio/pci.h"

#define RAM_GPA		0x100000ULL
#define RAM_SIZE	0x10000ULL
#define WIN_BASE	0xc0000000ULL
#define WIN_LEN		0x10000000ULL
#define MAX_OPS		2048
#define NR_FN		2
#define MAX_IOEV	64

struct machine {
	uint32_t next_gsi;
	struct { uint64_t addr; int fd; } ioev[MAX_IOEV];
	unsigned int nr_ioev;
	int intx_level[NR_FN];
};

static struct machine mach;

static int stub_msi_irqfd(void *ctx, int fd, uint32_t *gsi)
{
	(void)ctx;
	fuzz_check(fd >= 0);
	*gsi = 24 + mach.next_gsi++;
	return 0;
}

static int stub_msi_route(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data,
			  bool on)
{
	(void)ctx, (void)addr, (void)data, (void)on;
	fuzz_check(gsi >= 24 && gsi < 24 + mach.next_gsi);
	return 0;
}

static int stub_ioeventfd(void *ctx, uint64_t addr, int fd, bool assign)
{
	(void)ctx;
	for (unsigned int i = 0; i < mach.nr_ioev; i++) {
		if (mach.ioev[i].addr != addr)
			continue;
		/* KVM refuses a second one at the same address. */
		if (assign)
			return -17;
		fuzz_check(mach.ioev[i].fd == fd);
		mach.ioev[i] = mach.ioev[--mach.nr_ioev];
		return 0;
	}
	fuzz_check(assign);
	fuzz_check(mach.nr_ioev < MAX_IOEV);
	fuzz_check(addr >= WIN_BASE && addr < WIN_BASE + WIN_LEN);
	mach.ioev[mach.nr_ioev].addr = addr;
	mach.ioev[mach.nr_ioev++].fd = fd;
	return 0;
}

static int stub_intx(void *ctx, uint32_t irq, int level)
{
	(void)ctx;
	fuzz_check(level == 0 || level == 1);
	fuzz_check(irq >= 5 && irq < 5 + NR_FN);
	mach.intx_level[irq - 5] = level;
	return 0;
}

static struct evloop loop;
static const struct virtio_pci_host host = {
	.msi_irqfd = stub_msi_irqfd,
	.msi_route = stub_msi_route,
	.ioeventfd = stub_ioeventfd,
	.set_intx = stub_intx,
	.loop = &loop,
};

struct fuzz_pci {
	struct guest_mem mem;
	uint8_t *ram;
	struct pci_bus bus;
	struct virtio_dev *vdev[NR_FN];
	struct virtio_pci *fn[NR_FN];
	uint8_t ids[NR_FN][16];		/* the read-only header start */
	uint8_t caps[NR_FN][PCI_CFG_SIZE];	/* which bytes are cap ids/next */
};

static void cfg(struct fuzz_pci *f, unsigned int slot, uint32_t off, uint8_t *data,
		uint32_t len, bool w)
{
	if (!w)
		memset(data, 0xff, len);
	pci_cfg_access(&f->bus, slot, off, data, len, w);
}

static void conf1(struct fuzz_pci *f, uint16_t port, uint32_t len, bool w, uint32_t val)
{
	uint8_t data[8] = { 0 };
	uint32_t le = htole32(val);

	memcpy(data, &le, 4);
	if (!w)
		memset(data, 0xff, 8);
	pci_conf1_access(&f->bus, port % PCI_CONF1_LEN, data, len, w);
}

static void win(struct fuzz_pci *f, uint64_t off, uint32_t len, bool w, uint64_t val)
{
	uint8_t data[8];
	uint64_t le = htole64(val);

	memcpy(data, &le, 8);
	if (!w)
		memset(data, 0xff, 8);
	pci_win_access(&f->bus, off % WIN_LEN, data, len, w);
}

/* An offset in function i's BAR as it decodes now, or anywhere. */
static uint64_t bar_off(struct fuzz_pci *f, struct fuzz_input *in)
{
	static const uint16_t regions[] = {
		VPCI_COMMON, VPCI_ISR, VPCI_DEVCFG, VPCI_NOTIFY,
		VPCI_MSIX_TABLE, VPCI_MSIX_PBA,
	};
	uint8_t sel = fuzz_u8(in);
	struct pci_dev *d = virtio_pci_dev(f->fn[sel & 1]);
	uint64_t base = d->bar_on[0] ? d->bar_addr[0] : d->bus->win_base;

	if (sel & 0x80)
		return fuzz_u32(in);
	return base - WIN_BASE + regions[(sel >> 1) % 6] + fuzz_u8(in) % 0x80;
}

static void fuzz_op(struct fuzz_pci *f, struct fuzz_input *in)
{
	static const uint32_t widths[] = { 1, 2, 4, 8, 3 };
	uint8_t data[8];
	uint32_t v, len;
	uint64_t off;

	switch (fuzz_u8(in) % 8) {
	case 0:		/* config space, any width and offset */
		v = fuzz_u8(in);
		off = fuzz_u16(in) % 4100;
		len = widths[(v >> 2) % 5];
		memcpy(data, (uint32_t[2]){ htole32(fuzz_u32(in)), 0 }, 8);
		cfg(f, (v & 3) % (NR_FN + 2), off, data, len, v & 0x80);
		break;
	case 1:		/* a BAR placed somewhere, decoding on or off */
		v = fuzz_u8(in);
		off = fuzz_u64(in);
		memcpy(data, &off, 8);
		cfg(f, 1 + (v & 1), 0x10, data, 8, true);
		data[0] = v & 2 ? 0x06 : 0;
		cfg(f, 1 + (v & 1), 0x04, data, 1, true);
		break;
	case 2:		/* conf1 */
		v = fuzz_u8(in);
		conf1(f, v, widths[(v >> 3) % 5], v & 0x80, fuzz_u32(in));
		break;
	case 3:		/* ECAM */
		v = fuzz_u8(in);
		memset(data, 0, sizeof(data));
		off = fuzz_u32(in) % PCI_ECAM_BUS_SIZE;
		len = widths[v % 4];
		if (off + len > PCI_ECAM_BUS_SIZE)
			break;
		if (!(v & 0x80))
			memset(data, 0xff, sizeof(data));
		pci_ecam_access(&f->bus, off, data, len, v & 0x80);
		break;
	case 4:		/* the BAR window */
		v = fuzz_u8(in);
		off = bar_off(f, in);
		win(f, off, widths[v % 5], v & 0x80, fuzz_u64(in));
		break;
	case 5:		/* a kick reaches the I/O thread */
		v = fuzz_u8(in);
		virtio_pci_kick(f->fn[v & 1], (v >> 1) % 3);
		break;
	case 6:		/* the device interrupts, for a queue or config */
		v = fuzz_u8(in);
		pthread_mutex_lock(&f->vdev[v & 1]->lock);
		__atomic_fetch_or(&f->vdev[v & 1]->isr, 1 + (v >> 7), __ATOMIC_ACQ_REL);
		f->vdev[v & 1]->tops->interrupt(f->vdev[v & 1], (int)((v >> 1) % 4) - 2);
		pthread_mutex_unlock(&f->vdev[v & 1]->lock);
		break;
	case 7:		/* guest RAM (rings) */
		off = fuzz_u16(in) % RAM_SIZE;
		f->ram[off] = fuzz_u8(in);
		break;
	}
}

/* The ids and every capability's id and next byte stay as they were;
 * INTx is asserted only as PCI allows: INTx enabled, MSI-X off, and a
 * cause in the ISR. */
static void check_readonly(struct fuzz_pci *f)
{
	for (unsigned int i = 0; i < NR_FN; i++) {
		struct pci_dev *d = virtio_pci_dev(f->fn[i]);

		if (mach.intx_level[i])
			fuzz_check(!d->msix.enabled && !(d->cfg[5] & 0x04) &&
				   __atomic_load_n(&f->vdev[i]->isr, __ATOMIC_ACQUIRE));

		fuzz_check(!memcmp(d->cfg, f->ids[i], 4));
		fuzz_check(!memcmp(d->cfg + 8, f->ids[i] + 8, 4));
		for (unsigned int b = 0; b < PCI_CFG_SIZE; b++)
			if (f->caps[i][b])
				fuzz_check(d->cfg[b] == f->caps[i][b] - 1);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (evloop_init(&loop))
		abort();
	return 0;
}

/* The bus and its functions over RAM that holds ram (or zeroes). */
static void machine_new(struct fuzz_pci *f, const uint8_t *ram)
{
	memset(f, 0, sizeof(*f));
	memset(&mach, 0, sizeof(mach));
	f->ram = fuzz_ram_add(&f->mem, RAM_GPA, RAM_SIZE);
	if (ram)
		memcpy(f->ram, ram, RAM_SIZE);
	pci_bus_init(&f->bus, WIN_BASE, WIN_LEN);
	for (unsigned int i = 0; i < NR_FN; i++) {
		struct pci_dev *d;

		f->vdev[i] = virtio_rng_new(&f->mem);
		fuzz_check(f->vdev[i]);
		f->fn[i] = virtio_pci_new(f->vdev[i], 5 + i, &host);
		fuzz_check(f->fn[i]);
		d = virtio_pci_dev(f->fn[i]);
		fuzz_check(!pci_bus_add(&f->bus, d));
		fuzz_check(!virtio_pci_attach(f->fn[i]));
		memcpy(f->ids[i], d->cfg, 16);
		/* Remember the chain (value + 1, so 0 means "not a cap byte"). */
		for (uint8_t at = d->cfg[0x34]; at; at = d->cfg[at + 1]) {
			f->caps[i][at] = d->cfg[at] + 1;
			f->caps[i][at + 1] = d->cfg[at + 1] + 1;
		}
	}
}

/* RAM stays the caller's to free. */
static uint8_t *machine_free(struct fuzz_pci *f)
{
	for (unsigned int i = 0; i < NR_FN; i++) {
		virtio_pci_free(f->fn[i]);
		virtio_dev_exit(f->vdev[i]);
		free(f->vdev[i]);
	}
	pci_bus_exit(&f->bus);
	return f->ram;
}

/* As vm_pci_save(): the bus, then each function, quiesced. */
static void machine_save(struct fuzz_pci *f, struct sbuf *s)
{
	memset(s, 0, sizeof(*s) * (NR_FN + 1));
	pci_bus_save(&f->bus, &s[0]);
	for (unsigned int i = 0; i < NR_FN; i++) {
		virtio_pci_quiesce(f->fn[i]);
		fuzz_check(!virtio_pci_save(f->fn[i], &s[1 + i]));
	}
	for (unsigned int i = 0; i <= NR_FN; i++)
		fuzz_check(sbuf_ok(&s[i]));
}

/* As vm_pci_load(): every part must be taken whole. */
static void machine_load(struct fuzz_pci *f, struct sbuf *s)
{
	struct sbuf_rd r;

	sbuf_rd_init(&r, s[0].data, s[0].len);
	fuzz_check(!pci_bus_load(&f->bus, &r) && sbuf_rd_done(&r));
	for (unsigned int i = 0; i < NR_FN; i++)
		fuzz_check(!virtio_pci_load(f->fn[i], s[1 + i].data, s[1 + i].len));
}

static void snapshot_round_trip(struct fuzz_pci *f)
{
	struct sbuf a[NR_FN + 1], b[NR_FN + 1];
	uint8_t *ram;

	machine_save(f, a);
	ram = machine_free(f);
	machine_new(f, ram);
	free(ram);
	machine_load(f, a);
	check_readonly(f);
	machine_save(f, b);
	for (unsigned int i = 0; i <= NR_FN; i++) {
		fuzz_check(a[i].len == b[i].len && !memcmp(a[i].data, b[i].data, a[i].len));
		sbuf_free(&a[i]);
		sbuf_free(&b[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct fuzz_pci f;
	int fd_before = fuzz_lowest_free_fd();

	machine_new(&f, NULL);
	fuzz_allocs_begin();
	for (unsigned int i = 0; i < MAX_OPS && !fuzz_empty(&in); i++) {
		fuzz_op(&f, &in);
		check_readonly(&f);
	}
	fuzz_check(fuzz_allocs_end() == 0);
	snapshot_round_trip(&f);
	free(machine_free(&f));
	fuzz_check(fuzz_lowest_free_fd() == fd_before);
	return 0;
}
