/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A PCI bus: one host bridge (bus 0) and type-0 functions with a 256-byte
 * configuration space each, reached through conf1 (ports 0xCF8-0xCFF)
 * and ECAM (an MMIO window). The layer knows no KVM: the machine hands it
 * an MMIO window for BARs once, and the bus decodes BARs inside it itself.
 *
 * Configuration space is a byte array with a mask of writable bits, so an
 * access of any width at any offset behaves as on hardware: read-only
 * bits stay, unimplemented registers read 0, absent functions read all
 * ones. BARs are 64-bit memory BARs sized by their writable bits (the
 * guest's all-ones write reads back the size). A BAR is decoded while the
 * command register's memory bit is on, it lies wholly in the window and
 * it overlaps no BAR decoded before it (in device, then BAR order);
 * otherwise accesses to it read all ones, as if nothing answered.
 *
 * Locking: each function brings the lock that guards its device (the
 * virtio device's); config space and BAR accesses of a function run under
 * it. The bus's own lock guards only the table of decoded BARs and is
 * never held while a device lock is taken.
 */
#ifndef KVMINI_PCI_H
#define KVMINI_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/bus.h"
#include "lib/sbuf.h"
#include "pci/msix.h"

#define PCI_CFG_SIZE		256
#define PCI_MAX_DEVS		32	/* bus 0, function 0 of each slot */
#define PCI_MAX_BARS		3	/* 64-bit BARs: 0/1, 2/3, 4/5 */
#define PCI_CAP_START		0x40
/* conf1: address at 0xCF8, data at 0xCFC-0xCFF. */
#define PCI_CONF1_PORT		0xcf8
#define PCI_CONF1_LEN		8
#define PCI_ECAM_BUS_SIZE	(1ULL << 20)	/* bus 0's part of ECAM */

struct pci_dev;

struct pci_dev_ops {
	/* An access to BAR bar at off (inside its size), under the
	 * function's lock. Reads arrive pre-set to all ones. */
	void (*bar_access)(struct pci_dev *d, unsigned int bar, uint64_t off,
			   uint8_t *data, uint32_t len, bool is_write);
	/* BAR bar now decodes at addr (on) or not at all; under the
	 * function's lock. May be NULL. */
	void (*bar_moved)(struct pci_dev *d, unsigned int bar, uint64_t addr,
			  bool on);
	/* Config bytes [hook_off, hook_off + hook_len) belong to the device:
	 * after a write there (already in cfg[]) or before a read, with the
	 * access's offset and length. May be NULL. */
	void (*cfg_hook)(struct pci_dev *d, uint32_t off, uint32_t len,
			 bool is_write);
	/* After a write to the command register or the MSI-X control, under
	 * the function's lock: a function whose INTx is disabled or whose
	 * MSI-X is on must not hold INTx asserted. May be NULL. */
	void (*irq_mode)(struct pci_dev *d);
};

struct pci_dev {
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* writable bits */
	uint64_t bar_size[PCI_MAX_BARS];	/* 0: BAR not implemented */
	const struct pci_dev_ops *ops;
	void *priv;
	pthread_mutex_t *lock;
	const char *name;
	uint8_t cap_next;		/* where the next capability goes */
	uint8_t *cap_last_next;		/* the last capability's next byte */
	uint32_t hook_off, hook_len;
	struct pci_msix msix;		/* msix.nr == 0: none */
	unsigned int msix_bar;
	uint32_t msix_table_off, msix_pba_off;
	uint8_t msix_cap;		/* its config offset */
	/* Decode state, under the bus's lock. */
	struct pci_bus *bus;
	unsigned int slot;
	uint64_t bar_addr[PCI_MAX_BARS];
	bool bar_on[PCI_MAX_BARS];
};

struct pci_bus {
	uint64_t win_base, win_len;	/* the BAR window (32-bit MMIO) */
	uint64_t win_next;		/* where pci_dev_add_bar places */
	struct pci_dev *devs[PCI_MAX_DEVS];
	unsigned int nr_devs;
	uint32_t conf1_addr;
	pthread_mutex_t lock;
	struct pci_dev bridge;		/* 00:00.0 */
	pthread_mutex_t bridge_lock;
};

/* An empty bus whose BARs go in [win_base, win_base + win_len). */
void pci_bus_init(struct pci_bus *bus, uint64_t win_base, uint64_t win_len);
void pci_bus_exit(struct pci_bus *bus);

/*
 * A function's identity and defaults: vendor, device, class (24 bits),
 * subsystem ids, revision, interrupt pin A on line irq. Set-up only.
 */
void pci_dev_init(struct pci_dev *d, const struct pci_dev_ops *ops, void *priv,
		  pthread_mutex_t *lock, const char *name);
void pci_dev_ids(struct pci_dev *d, uint16_t vendor, uint16_t device,
		 uint32_t class, uint16_t subsys_vendor, uint16_t subsys,
		 uint8_t revision, uint8_t irq);
/* A 64-bit memory BAR of size (a power of 2, >= 4 KiB); set-up only. */
int pci_dev_add_bar(struct pci_dev *d, unsigned int bar, uint64_t size);
/* A capability of len bytes (body after id and next, which the bus
 * fills in); its config offset, or 0 when it does not fit. */
uint8_t pci_dev_add_cap(struct pci_dev *d, uint8_t id, const void *body,
			uint8_t len);
/* MSI-X with nr vectors: table at table_off and PBA at pba_off of BAR
 * bar (both 8-aligned, inside it and not over the device's registers). */
int pci_dev_add_msix(struct pci_dev *d, unsigned int nr, unsigned int bar,
		     uint32_t table_off, uint32_t pba_off,
		     const struct pci_msix_ops *ops, void *opaque);

/* Puts d in the next free slot and its BARs at their addresses in the
 * window (as firmware would); -ENOSPC when the bus or window is full. */
int pci_bus_add(struct pci_bus *bus, struct pci_dev *d);

/*
 * The requester ID a function's MSIs carry (bus << 8 | device << 3 |
 * function; bus 0, function 0 here): what a GICv3 ITS takes as the
 * device ID. Valid once pci_bus_add() has given d its slot.
 */
static inline uint16_t pci_dev_rid(const struct pci_dev *d)
{
	return (uint16_t)(d->slot << 3);
}

/*
 * Snapshots (pci_state.c, layout in docs/snapshot-devices.md). A
 * function's part: its config space, which BARs decode, its MSI-X table,
 * pending bits; saved and loaded under d->lock. pci_dev_load() checks
 * the blob as a hostile guest's (read-only config bits as the function
 * has them, BARs decoding inside the window and over no other, vector
 * count the function's, only the mask bit in a vector's control, pending
 * bits only for masked vectors of an enabled table), then puts it in
 * place: decoding BARs reported through ops->bar_moved, the MSI route
 * of each vector that delivers through its msix ops. -EINVAL after one
 * error line, and then nothing changed. pci_dev_unload() takes a loaded
 * function back to old_cfg (its config space before the load), its
 * BARs and routes down with it. The bus's part: the conf1 address
 * register and the host bridge's config space, and the function count,
 * which must match.
 */
void pci_dev_save(struct pci_dev *d, struct sbuf *b);
int pci_dev_load(struct pci_dev *d, struct sbuf_rd *r);
void pci_dev_unload(struct pci_dev *d, const uint8_t old_cfg[PCI_CFG_SIZE]);
void pci_bus_save(struct pci_bus *bus, struct sbuf *b);
int pci_bus_load(struct pci_bus *bus, struct sbuf_rd *r);
/* What they use of pci.c: BARs in on_mask decode as they are written
 * (checked; -EINVAL after one error line), which BARs decode, and the
 * decoding and MSI-X control recomputed from config space. */
int pci_dev_decode_restore(struct pci_dev *d, unsigned int on_mask);
unsigned int pci_dev_decoding(struct pci_dev *d);
void pci_dev_sync(struct pci_dev *d);

/* Config space of slot s at offset off: what conf1 and ECAM call. */
void pci_cfg_access(struct pci_bus *bus, unsigned int slot, uint32_t off,
		    uint8_t *data, uint32_t len, bool is_write);

/* Bus handlers: conf1 ports (opaque = bus), ECAM window, BAR window
 * (off relative to win_base). */
bus_access_fn pci_conf1_access;
bus_access_fn pci_ecam_access;
bus_access_fn pci_win_access;

/* Little-endian helpers on config space. */
static inline void pci_put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void pci_put32(uint8_t *p, uint32_t v)
{
	pci_put16(p, v);
	pci_put16(p + 2, v >> 16);
}

static inline uint32_t pci_get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* MSI-X Message Control, in the capability: enable, function mask. */
#define PCI_MSIX_CTRL		2
#define PCI_MSIX_ENABLE		0x8000
#define PCI_MSIX_FMASK		0x4000

/* Function d's MSI-X control as config bytes cfg (its own, or a
 * snapshot's) hold it; d must have MSI-X. */
static inline uint16_t pci_msix_ctrl(const struct pci_dev *d, const uint8_t *cfg)
{
	return cfg[d->msix_cap + PCI_MSIX_CTRL] | cfg[d->msix_cap + PCI_MSIX_CTRL + 1] << 8;
}

#endif
