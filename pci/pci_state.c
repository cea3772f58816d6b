// SPDX-License-Identifier: GPL-2.0
/*
 * A PCI function's state and the bus's for snapshots (pci.h, "Snapshots";
 * the layout in docs/snapshot-devices.md). What a file holds is judged as
 * a hostile guest's writes would be: only the bits the guest could have
 * written may differ from the function as it is made, and the decode and
 * MSI-X state must be one the bus could have reached.
 */
#include <errno.h>
#include <string.h>

#include "lib/log.h"
#include "pci/pci.h"

#define PCI_STATE_VERSION	1
#define PCI_BUS_STATE_VERSION	1

void pci_dev_save(struct pci_dev *d, struct sbuf *b)
{
	const struct pci_msix *x = &d->msix;

	sbuf_put_u32(b, PCI_STATE_VERSION);
	sbuf_put(b, d->cfg, PCI_CFG_SIZE);
	sbuf_put_u8(b, pci_dev_decoding(d));
	sbuf_put_u32(b, x->nr);
	for (unsigned int v = 0; v < x->nr; v++) {
		sbuf_put_u32(b, x->table[v].addr_lo);
		sbuf_put_u32(b, x->table[v].addr_hi);
		sbuf_put_u32(b, x->table[v].data);
		sbuf_put_u32(b, x->table[v].ctrl);
	}
	sbuf_put_u64(b, x->pba);
}

static int pci_state_fail(const struct pci_dev *d, const char *why, unsigned int n)
{
	pr_err("pci %s: snapshot state refused: %s %#x", d->name, why, n);
	return -EINVAL;
}

/* The MSI-X part, read into table and checked against cfg's control. */
static int pci_msix_state(const struct pci_dev *d, const uint8_t *cfg,
			  struct sbuf_rd *r, struct pci_msix_entry *table,
			  uint64_t *pba)
{
	const struct pci_msix *x = &d->msix;
	uint32_t nr = sbuf_get_u32(r);
	uint16_t ctrl = 0;
	bool enable = false, fmask = false;

	if (nr != x->nr)
		return r->bad ? 0 : pci_state_fail(d, "MSI-X vector count", nr);
	for (unsigned int v = 0; v < nr; v++) {
		table[v].addr_lo = sbuf_get_u32(r);
		table[v].addr_hi = sbuf_get_u32(r);
		table[v].data = sbuf_get_u32(r);
		table[v].ctrl = sbuf_get_u32(r);
		if (table[v].ctrl & ~PCI_MSIX_CTRL_MASKBIT)
			return pci_state_fail(d, "MSI-X vector control", table[v].ctrl);
	}
	*pba = sbuf_get_u64(r);
	if (nr) {
		ctrl = pci_msix_ctrl(d, cfg);
		enable = ctrl & PCI_MSIX_ENABLE;
		fmask = ctrl & PCI_MSIX_FMASK;
	}
	/* Pending bits exist for vectors the table has, only while MSI-X
	 * is on (turning it off clears them), and only for vectors that
	 * cannot deliver (unmasking one delivers it at once). */
	if (nr < 64 && (*pba >> nr))
		return pci_state_fail(d, "MSI-X pending bits", (unsigned int)(*pba >> nr));
	for (unsigned int v = 0; v < nr; v++) {
		bool masked = fmask || (table[v].ctrl & PCI_MSIX_CTRL_MASKBIT);

		if ((*pba >> v & 1) && (!enable || !masked))
			return pci_state_fail(d, "MSI-X pending bit where none can be, vector", v);
	}
	return 0;
}

int pci_dev_load(struct pci_dev *d, struct sbuf_rd *r)
{
	struct pci_msix_entry table[PCI_MSIX_MAX];
	uint8_t cfg[PCI_CFG_SIZE], old[PCI_CFG_SIZE];
	uint32_t version = sbuf_get_u32(r);
	uint8_t on;
	uint64_t pba = 0;
	uint16_t ctrl;
	int err;

	if (!r->bad && version != PCI_STATE_VERSION)
		return pci_state_fail(d, "layout version", version);
	sbuf_get(r, cfg, sizeof(cfg));
	on = sbuf_get_u8(r);
	err = pci_msix_state(d, cfg, r, table, &pba);
	if (err)
		return err;
	if (r->bad) {
		pr_err("pci %s: snapshot state refused: truncated", d->name);
		return -EINVAL;
	}
	/* Read-only bits (ids, class, capabilities, BAR sizes and types,
	 * MSI-X table size and place) are the function's, not the file's. */
	for (unsigned int i = 0; i < PCI_CFG_SIZE; i++)
		if ((cfg[i] ^ d->cfg[i]) & ~d->wmask[i])
			return pci_state_fail(d, "read-only bits differ in config byte", i);
	if (on >> PCI_MAX_BARS)
		return pci_state_fail(d, "decoding BARs", on);
	memcpy(old, d->cfg, sizeof(old));
	memcpy(d->cfg, cfg, sizeof(cfg));
	err = pci_dev_decode_restore(d, on);
	if (err) {
		memcpy(d->cfg, old, sizeof(old));
		return err;
	}
	if (d->msix.nr) {
		ctrl = pci_msix_ctrl(d, cfg);
		pci_msix_restore(&d->msix, table, pba, ctrl & PCI_MSIX_ENABLE,
				 ctrl & PCI_MSIX_FMASK);
	}
	return 0;
}

void pci_dev_unload(struct pci_dev *d, const uint8_t old_cfg[PCI_CFG_SIZE])
{
	memcpy(d->cfg, old_cfg, PCI_CFG_SIZE);
	pci_dev_sync(d);
	pci_msix_reset(&d->msix);
}

void pci_bus_save(struct pci_bus *bus, struct sbuf *b)
{
	sbuf_put_u32(b, PCI_BUS_STATE_VERSION);
	sbuf_put_u32(b, __atomic_load_n(&bus->conf1_addr, __ATOMIC_RELAXED));
	sbuf_put_u32(b, bus->nr_devs);
	pthread_mutex_lock(bus->bridge.lock);
	pci_dev_save(&bus->bridge, b);
	pthread_mutex_unlock(bus->bridge.lock);
}

int pci_bus_load(struct pci_bus *bus, struct sbuf_rd *r)
{
	uint32_t version = sbuf_get_u32(r);
	uint32_t conf1 = sbuf_get_u32(r);	/* any value the guest wrote */
	uint32_t nr = sbuf_get_u32(r);
	int err;

	if (r->bad) {
		pr_err("pci: snapshot state refused: truncated");
		return -EINVAL;
	}
	if (version != PCI_BUS_STATE_VERSION) {
		pr_err("pci: snapshot state refused: layout version %u, this kvmini reads %u",
		       version, PCI_BUS_STATE_VERSION);
		return -EINVAL;
	}
	if (nr != bus->nr_devs) {
		pr_err("pci: snapshot state refused: %u functions saved, the bus has %u: restore with the options the snapshot was taken with",
		       nr, bus->nr_devs);
		return -EINVAL;
	}
	pthread_mutex_lock(bus->bridge.lock);
	err = pci_dev_load(&bus->bridge, r);
	pthread_mutex_unlock(bus->bridge.lock);
	if (!err)
		__atomic_store_n(&bus->conf1_addr, conf1, __ATOMIC_RELAXED);
	return err;
}
