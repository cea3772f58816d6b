// SPDX-License-Identifier: GPL-2.0
/*
 * The PCI bus: configuration space of type-0 functions, conf1 and ECAM,
 * BAR sizing and decoding, the capability list and where MSI-X lives.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "pci/pci.h"

/* Configuration header offsets and bits (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR		0x00
#define PCI_DEVICE		0x02
#define PCI_COMMAND		0x04
#define PCI_STATUS		0x06
#define PCI_REVISION		0x08
#define PCI_CLASS		0x09
#define PCI_CACHE_LINE		0x0c
#define PCI_LATENCY		0x0d
#define PCI_BAR0		0x10
#define PCI_SUBSYS_VENDOR	0x2c
#define PCI_SUBSYS		0x2e
#define PCI_CAP_PTR		0x34
#define PCI_INT_LINE		0x3c
#define PCI_INT_PIN		0x3d
#define PCI_CMD_MEM		0x0002
/* I/O, memory, bus master, parity and SERR enables, INTx disable. */
#define PCI_CMD_WMASK		0x0547
#define PCI_STATUS_CAP		0x0010
#define PCI_BAR_MEM64		0x4
#define PCI_CAP_MSIX		0x11

/* The host bridge at 00:00.0: Linux's conf1 probe wants one on bus 0
 * (arch/x86/pci/direct.c, pci_sanity_check). The generic virtual host
 * bridge's ids, as PCI-SIG member 0x1b36 assigned them for VMs. */
#define PCI_HB_VENDOR		0x1b36
#define PCI_HB_DEVICE		0x0008
#define PCI_CLASS_HOST_BRIDGE	0x060000

static const struct pci_dev_ops pci_hb_ops;

void pci_dev_init(struct pci_dev *d, const struct pci_dev_ops *ops, void *priv,
		  pthread_mutex_t *lock, const char *name)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->lock = lock;
	d->name = name;
	d->cap_next = PCI_CAP_START;
	pci_put16(d->wmask + PCI_COMMAND, PCI_CMD_WMASK);
	d->wmask[PCI_CACHE_LINE] = 0xff;
	d->wmask[PCI_LATENCY] = 0xff;
	d->wmask[PCI_INT_LINE] = 0xff;
}

void pci_dev_ids(struct pci_dev *d, uint16_t vendor, uint16_t device,
		 uint32_t class, uint16_t subsys_vendor, uint16_t subsys,
		 uint8_t revision, uint8_t irq)
{
	pci_put16(d->cfg + PCI_VENDOR, vendor);
	pci_put16(d->cfg + PCI_DEVICE, device);
	d->cfg[PCI_REVISION] = revision;
	d->cfg[PCI_CLASS] = class;
	d->cfg[PCI_CLASS + 1] = class >> 8;
	d->cfg[PCI_CLASS + 2] = class >> 16;
	pci_put16(d->cfg + PCI_SUBSYS_VENDOR, subsys_vendor);
	pci_put16(d->cfg + PCI_SUBSYS, subsys);
	d->cfg[PCI_INT_LINE] = irq;
	d->cfg[PCI_INT_PIN] = irq ? 1 : 0;	/* INTA# */
}

int pci_dev_add_bar(struct pci_dev *d, unsigned int bar, uint64_t size)
{
	uint8_t *reg = d->cfg + PCI_BAR0 + 8 * bar;
	uint8_t *mask = d->wmask + PCI_BAR0 + 8 * bar;

	if (bar >= PCI_MAX_BARS || size < 4096 || (size & (size - 1)) ||
	    size >= (1ULL << 32))
		return -EINVAL;
	d->bar_size[bar] = size;
	pci_put32(reg, PCI_BAR_MEM64);
	/* Sizing: only the address bits above the size are writable. */
	pci_put32(mask, (uint32_t)~(size - 1) & ~0xfU);
	pci_put32(mask + 4, 0xffffffff);
	return 0;
}

uint8_t pci_dev_add_cap(struct pci_dev *d, uint8_t id, const void *body,
			uint8_t len)
{
	unsigned int at = d->cap_next;

	if (at + 2 + len > PCI_CFG_SIZE)
		return 0;
	d->cfg[at] = id;
	d->cfg[at + 1] = 0;
	memcpy(d->cfg + at + 2, body, len);
	if (d->cap_last_next)
		*d->cap_last_next = at;
	else
		d->cfg[PCI_CAP_PTR] = at;
	d->cap_last_next = d->cfg + at + 1;
	pci_put16(d->cfg + PCI_STATUS, PCI_STATUS_CAP);
	/* Dword-aligned, as the spec wants each capability. */
	d->cap_next = (at + 2 + len + 3) & ~3U;
	return at;
}

int pci_dev_add_msix(struct pci_dev *d, unsigned int nr, unsigned int bar,
		     uint32_t table_off, uint32_t pba_off,
		     const struct pci_msix_ops *ops, void *opaque)
{
	uint8_t body[10];
	uint8_t at;

	if (!nr || nr > PCI_MSIX_MAX || bar >= PCI_MAX_BARS || !d->bar_size[bar] ||
	    (table_off | pba_off) & 7 ||
	    table_off + nr * PCI_MSIX_ENTRY_SIZE > d->bar_size[bar] ||
	    pba_off + 8 > d->bar_size[bar])
		return -EINVAL;
	/* BIR is the BAR's register number: 64-bit BAR n is register 2n. */
	pci_put16(body, nr - 1);
	pci_put32(body + 2, table_off | 2 * bar);
	pci_put32(body + 6, pba_off | 2 * bar);
	at = pci_dev_add_cap(d, PCI_CAP_MSIX, body, sizeof(body));
	if (!at)
		return -ENOSPC;
	pci_put16(d->wmask + at + PCI_MSIX_CTRL, PCI_MSIX_ENABLE | PCI_MSIX_FMASK);
	pci_msix_init(&d->msix, nr, ops, opaque);
	d->msix_bar = bar;
	d->msix_table_off = table_off;
	d->msix_pba_off = pba_off;
	d->msix_cap = at;
	return 0;
}

void pci_bus_init(struct pci_bus *bus, uint64_t win_base, uint64_t win_len)
{
	memset(bus, 0, sizeof(*bus));
	bus->win_base = win_base;
	bus->win_len = win_len;
	bus->win_next = win_base;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->bridge_lock, NULL);
	pci_dev_init(&bus->bridge, &pci_hb_ops, NULL, &bus->bridge_lock, "host bridge");
	pci_dev_ids(&bus->bridge, PCI_HB_VENDOR, PCI_HB_DEVICE,
		    PCI_CLASS_HOST_BRIDGE, 0, 0, 0, 0);
	bus->devs[0] = &bus->bridge;
	bus->nr_devs = 1;
}

void pci_bus_exit(struct pci_bus *bus)
{
	pthread_mutex_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->bridge_lock);
}

int pci_bus_add(struct pci_bus *bus, struct pci_dev *d)
{
	uint64_t at = bus->win_next;

	if (bus->nr_devs == PCI_MAX_DEVS)
		return -ENOSPC;
	/* Naturally aligned, one after the other, as firmware places them. */
	for (unsigned int b = 0; b < PCI_MAX_BARS; b++) {
		uint64_t size = d->bar_size[b];

		if (!size)
			continue;
		at = (at + size - 1) & ~(size - 1);
		if (at + size > bus->win_base + bus->win_len)
			return -ENOSPC;
		pci_put32(d->cfg + PCI_BAR0 + 8 * b, (uint32_t)at | PCI_BAR_MEM64);
		pci_put32(d->cfg + PCI_BAR0 + 8 * b + 4, at >> 32);
		at += size;
	}
	bus->win_next = at;
	d->bus = bus;
	d->slot = bus->nr_devs;
	bus->devs[bus->nr_devs++] = d;
	return 0;
}

static uint64_t pci_bar_addr(const struct pci_dev *d, unsigned int b)
{
	const uint8_t *reg = d->cfg + PCI_BAR0 + 8 * b;

	return ((uint64_t)pci_get32(reg + 4) << 32 | pci_get32(reg)) & ~0xfULL;
}

static bool pci_overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Whether BAR b of d may decode at addr: in the window, over no BAR that
 * decodes already (the first one there keeps it). Under bus->lock. */
static bool pci_bar_fits(struct pci_bus *bus, struct pci_dev *d, unsigned int b,
			 uint64_t addr)
{
	uint64_t size = d->bar_size[b];

	if (addr < bus->win_base || addr - bus->win_base > bus->win_len - size)
		return false;
	for (unsigned int i = 0; i < bus->nr_devs; i++) {
		struct pci_dev *o = bus->devs[i];

		for (unsigned int ob = 0; ob < PCI_MAX_BARS; ob++) {
			if ((o == d && ob == b) || !o->bar_on[ob])
				continue;
			if (pci_overlaps(addr, size, o->bar_addr[ob], o->bar_size[ob]))
				return false;
		}
	}
	return true;
}

/*
 * After a config write to d (under d->lock): each BAR decodes where its
 * register says while memory decoding is on, if it fits; the device
 * hears of every change.
 */
static void pci_decode_update(struct pci_dev *d)
{
	struct pci_bus *bus = d->bus;
	bool mem = pci_get32(d->cfg + PCI_COMMAND) & PCI_CMD_MEM;
	bool moved[PCI_MAX_BARS] = { false };

	if (!bus)
		return;
	pthread_mutex_lock(&bus->lock);
	for (unsigned int b = 0; b < PCI_MAX_BARS; b++) {
		uint64_t addr = pci_bar_addr(d, b);
		bool on;

		if (!d->bar_size[b])
			continue;
		on = mem && pci_bar_fits(bus, d, b, addr);
		if (mem && !on)
			pr_warn_once("pci %s: BAR %u at %#llx is outside the PCI window or over another BAR: not decoded",
				     d->name, 2 * b, (unsigned long long)addr);
		if (on == d->bar_on[b] && (!on || addr == d->bar_addr[b]))
			continue;
		d->bar_on[b] = on;
		d->bar_addr[b] = addr;
		moved[b] = true;
	}
	pthread_mutex_unlock(&bus->lock);
	for (unsigned int b = 0; b < PCI_MAX_BARS; b++)
		if (moved[b] && d->ops->bar_moved)
			d->ops->bar_moved(d, b, d->bar_addr[b], d->bar_on[b]);
}

/*
 * Snapshot restore: the BARs in on_mask decode at their registers'
 * addresses, the others not, as the saved bus had them (which BAR kept
 * a contested range depends on the order the guest wrote them in, so it
 * is taken from the file, and checked: memory decoding on, inside the
 * window, over no BAR that decodes already). Under d->lock.
 */
int pci_dev_decode_restore(struct pci_dev *d, unsigned int on_mask)
{
	struct pci_bus *bus = d->bus;
	bool mem = pci_get32(d->cfg + PCI_COMMAND) & PCI_CMD_MEM;
	bool moved[PCI_MAX_BARS] = { false };
	int err = 0;

	if (!on_mask)
		return 0;
	if (!bus) {
		pr_err("pci %s: snapshot state refused: BARs decode on a function that is on no bus",
		       d->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&bus->lock);
	for (unsigned int b = 0; b < PCI_MAX_BARS && !err; b++) {
		uint64_t addr = pci_bar_addr(d, b);

		if (!(on_mask & (1U << b)))
			continue;
		if (!d->bar_size[b] || !mem)
			err = -EINVAL;
		else if (!pci_bar_fits(bus, d, b, addr))
			err = -ERANGE;
		if (err) {
			pr_err("pci %s: snapshot state refused: BAR %u at %#llx decodes %s",
			       d->name, 2 * b, (unsigned long long)addr,
			       err == -ERANGE ? "outside the PCI window or over another BAR" :
			       "with memory decoding off or does not exist");
			break;
		}
		/* Claimed now, so that the next BAR is judged against it. */
		d->bar_on[b] = true;
		d->bar_addr[b] = addr;
		moved[b] = true;
	}
	if (err)
		for (unsigned int b = 0; b < PCI_MAX_BARS; b++)
			if (moved[b])
				d->bar_on[b] = moved[b] = false;
	pthread_mutex_unlock(&bus->lock);
	for (unsigned int b = 0; b < PCI_MAX_BARS; b++)
		if (moved[b] && d->ops->bar_moved)
			d->ops->bar_moved(d, b, d->bar_addr[b], true);
	return err ? -EINVAL : 0;
}

unsigned int pci_dev_decoding(struct pci_dev *d)
{
	unsigned int mask = 0;

	if (!d->bus)
		return 0;
	pthread_mutex_lock(&d->bus->lock);
	for (unsigned int b = 0; b < PCI_MAX_BARS; b++)
		if (d->bar_on[b])
			mask |= 1U << b;
	pthread_mutex_unlock(&d->bus->lock);
	return mask;
}

static void pci_msix_cfg_update(struct pci_dev *d)
{
	uint16_t ctrl;

	if (!d->msix.nr)
		return;
	ctrl = pci_msix_ctrl(d, d->cfg);
	pci_msix_control(&d->msix, ctrl & PCI_MSIX_ENABLE, ctrl & PCI_MSIX_FMASK);
}

void pci_dev_sync(struct pci_dev *d)
{
	pci_decode_update(d);
	pci_msix_cfg_update(d);
}

static bool pci_hooked(const struct pci_dev *d, uint32_t off, uint32_t len)
{
	return d->ops->cfg_hook && d->hook_len &&
	       off < d->hook_off + d->hook_len && d->hook_off < off + len;
}

/* Under d->lock. Bytes past the 256 of config space read 0 (no extended
 * capabilities) and take no writes. */
static void pci_dev_cfg(struct pci_dev *d, uint32_t off, uint8_t *data,
			uint32_t len, bool is_write)
{
	bool cmd = off < PCI_COMMAND + 2 && off + len > PCI_COMMAND;
	bool msix = d->msix.nr && off < d->msix_cap + 4u && off + len > d->msix_cap;

	if (!is_write) {
		if (pci_hooked(d, off, len))
			d->ops->cfg_hook(d, off, len, false);
		for (uint32_t i = 0; i < len; i++)
			data[i] = off + i < PCI_CFG_SIZE ? d->cfg[off + i] : 0;
		return;
	}
	for (uint32_t i = 0; i < len && off + i < PCI_CFG_SIZE; i++) {
		uint8_t m = d->wmask[off + i];

		d->cfg[off + i] = (d->cfg[off + i] & ~m) | (data[i] & m);
	}
	if (off >= PCI_CFG_SIZE)
		return;
	if (off < PCI_BAR0 + 8 * PCI_MAX_BARS && off + len > PCI_COMMAND)
		pci_decode_update(d);
	if (msix)
		pci_msix_cfg_update(d);
	if (pci_hooked(d, off, len))
		d->ops->cfg_hook(d, off, len, true);
	if ((cmd || msix) && d->ops->irq_mode)
		d->ops->irq_mode(d);
}

void pci_cfg_access(struct pci_bus *bus, unsigned int slot, uint32_t off,
		    uint8_t *data, uint32_t len, bool is_write)
{
	struct pci_dev *d = slot < bus->nr_devs ? bus->devs[slot] : NULL;

	if (!d || len > 8 || off > 4096 || len > 4096 - off) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(d->lock);
	pci_dev_cfg(d, off, data, len, is_write);
	pthread_mutex_unlock(d->lock);
}

/*
 * conf1: a 32-bit access to 0xCF8 is the address register; 0xCFC-0xCFF
 * reach the register it names, at the byte the port picks. Other
 * accesses to 0xCF8-0xCFB are not conf1's (Linux's probe writes a byte
 * to 0xCFB to see that it is not latched).
 */
void pci_conf1_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		      bool is_write)
{
	struct pci_bus *bus = opaque;
	uint32_t addr, val;
	unsigned int reg;

	if (off < 4) {
		if (off || len != 4) {
			if (!is_write)
				memset(data, 0xff, len);
			return;
		}
		if (is_write) {
			memcpy(&val, data, 4);
			__atomic_store_n(&bus->conf1_addr, le32toh(val), __ATOMIC_RELAXED);
		} else {
			val = htole32(__atomic_load_n(&bus->conf1_addr, __ATOMIC_RELAXED));
			memcpy(data, &val, 4);
		}
		return;
	}
	/* One read of the address the guest may change under us. */
	addr = __atomic_load_n(&bus->conf1_addr, __ATOMIC_RELAXED);
	reg = (addr & 0xfc) + (off - 4);
	if (len > 8 - off)
		len = 8 - off;	/* the rest of the access hits no port */
	/* Enabled, bus 0, function 0: others read all ones. */
	if (!(addr & 0x80000000) || (addr & 0x00ff0700)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_cfg_access(bus, (addr >> 11) & 0x1f, reg, data, len, is_write);
}

/* ECAM: bus 0's 1 MiB, 4 KiB a function. Accesses stay in one function. */
void pci_ecam_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		     bool is_write)
{
	struct pci_bus *bus = opaque;
	uint32_t reg = off & 0xfff;

	if ((off >> 12) & 7 || reg + len > 4096) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pci_cfg_access(bus, (off >> 15) & 0x1f, reg, data, len, is_write);
}

/* The BAR window: the decoded BAR under the address gets the access. */
void pci_win_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct pci_bus *bus = opaque;
	uint64_t addr = bus->win_base + off;
	struct pci_dev *d = NULL;
	unsigned int b = 0;
	uint64_t boff = 0;

	pthread_mutex_lock(&bus->lock);
	for (unsigned int i = 0; !d && i < bus->nr_devs; i++) {
		struct pci_dev *o = bus->devs[i];

		for (b = 0; b < PCI_MAX_BARS; b++) {
			if (o->bar_on[b] && addr >= o->bar_addr[b] &&
			    addr - o->bar_addr[b] < o->bar_size[b]) {
				d = o;
				boff = addr - o->bar_addr[b];
				break;
			}
		}
	}
	pthread_mutex_unlock(&bus->lock);
	if (!d || len > d->bar_size[b] - boff) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(d->lock);
	if (d->msix.nr && b == d->msix_bar && boff >= d->msix_table_off &&
	    boff < d->msix_table_off + d->msix.nr * PCI_MSIX_ENTRY_SIZE)
		pci_msix_table_access(&d->msix, boff - d->msix_table_off, data, len, is_write);
	else if (d->msix.nr && b == d->msix_bar && boff >= d->msix_pba_off &&
		 boff < d->msix_pba_off + 8)
		pci_msix_pba_access(&d->msix, boff - d->msix_pba_off, data, len, is_write);
	else
		d->ops->bar_access(d, b, boff, data, len, is_write);
	pthread_mutex_unlock(d->lock);
}

static const struct pci_dev_ops pci_hb_ops = { 0 };
