// SPDX-License-Identifier: GPL-2.0
/* MSI-X table, masking and pending bits; the routes go to the owner. */
#include <endian.h>
#include <string.h>

#include "lib/log.h"
#include "pci/msix.h"

void pci_msix_init(struct pci_msix *x, unsigned int nr,
		   const struct pci_msix_ops *ops, void *opaque)
{
	memset(x, 0, sizeof(*x));
	x->nr = nr < PCI_MSIX_MAX ? nr : PCI_MSIX_MAX;
	x->ops = ops;
	x->opaque = opaque;
	pci_msix_reset(x);
}

static bool pci_msix_delivers(const struct pci_msix *x, unsigned int v)
{
	return x->enabled && !x->fmask &&
	       !(x->table[v].ctrl & PCI_MSIX_CTRL_MASKBIT);
}

static uint64_t pci_msix_addr(const struct pci_msix_entry *e)
{
	return (uint64_t)e->addr_hi << 32 | e->addr_lo;
}

/*
 * After any change: routes up for the vectors that deliver (again when
 * changed says their message moved), down for the others; pending
 * vectors that now deliver fire once.
 */
static void pci_msix_update(struct pci_msix *x, unsigned int v, bool changed)
{
	uint64_t bit = 1ULL << v;
	const struct pci_msix_entry *e = &x->table[v];

	if (pci_msix_delivers(x, v)) {
		if (!(x->live & bit) || changed)
			x->ops->route(x->opaque, v, pci_msix_addr(e), e->data, true);
		x->live |= bit;
		if (x->pba & bit) {
			x->pba &= ~bit;
			x->ops->fire(x->opaque, v);
		}
	} else if (x->live & bit) {
		x->live &= ~bit;
		x->ops->route(x->opaque, v, 0, 0, false);
	}
}

void pci_msix_reset(struct pci_msix *x)
{
	x->enabled = false;
	x->fmask = false;
	x->pba = 0;
	for (unsigned int v = 0; v < x->nr; v++) {
		x->table[v] = (struct pci_msix_entry){ .ctrl = PCI_MSIX_CTRL_MASKBIT };
		pci_msix_update(x, v, false);
	}
}

void pci_msix_control(struct pci_msix *x, bool enable, bool fmask)
{
	if (x->enabled == enable && x->fmask == fmask)
		return;
	x->enabled = enable;
	x->fmask = fmask;
	/* Pending bits mean nothing with MSI-X off (INTx then). */
	if (!enable)
		x->pba = 0;
	for (unsigned int v = 0; v < x->nr; v++)
		pci_msix_update(x, v, false);
}

bool pci_msix_notify(struct pci_msix *x, unsigned int v)
{
	if (!x->enabled)
		return false;
	if (v >= x->nr)
		return true;	/* VIRTIO_MSI_NO_VECTOR or out of range */
	if (pci_msix_delivers(x, v))
		x->ops->fire(x->opaque, v);
	else
		x->pba |= 1ULL << v;
	return true;
}

void pci_msix_restore(struct pci_msix *x, const struct pci_msix_entry *table,
		      uint64_t pba, bool enable, bool fmask)
{
	memcpy(x->table, table, x->nr * sizeof(*table));
	x->enabled = enable;
	x->fmask = fmask;
	x->pba = pba;
	x->live = 0;
	for (unsigned int v = 0; v < x->nr; v++)
		pci_msix_update(x, v, false);
}

static bool pci_msix_access_ok(uint64_t off, uint32_t len, uint64_t size)
{
	return (len == 4 || len == 8) && !(off & (len - 1)) &&
	       off < size && len <= size - off;
}

static void pci_msix_write32(struct pci_msix *x, uint64_t off, uint32_t val)
{
	unsigned int v = off / PCI_MSIX_ENTRY_SIZE;
	struct pci_msix_entry *e = &x->table[v];
	uint32_t *reg = &e->addr_lo + (off % PCI_MSIX_ENTRY_SIZE) / 4;
	bool msg = reg != &e->ctrl;

	/* Only the mask bit of Vector Control is writable. */
	if (!msg)
		val = (e->ctrl & ~PCI_MSIX_CTRL_MASKBIT) | (val & PCI_MSIX_CTRL_MASKBIT);
	if (*reg == val)
		return;
	*reg = val;
	pci_msix_update(x, v, msg);
}

void pci_msix_table_access(struct pci_msix *x, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	uint32_t w[2];

	if (!pci_msix_access_ok(off, len, (uint64_t)x->nr * PCI_MSIX_ENTRY_SIZE)) {
		pr_warn_once("pci: %u-byte MSI-X table access at %#llx ignored",
			     len, (unsigned long long)off);
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write) {
		memcpy(w, data, len);
		for (uint32_t i = 0; i < len / 4; i++)
			pci_msix_write32(x, off + 4 * i, le32toh(w[i]));
		return;
	}
	for (uint32_t i = 0; i < len / 4; i++) {
		uint64_t o = off + 4 * i;
		const struct pci_msix_entry *e = &x->table[o / PCI_MSIX_ENTRY_SIZE];

		w[i] = htole32((&e->addr_lo)[(o % PCI_MSIX_ENTRY_SIZE) / 4]);
	}
	memcpy(data, w, len);
}

void pci_msix_pba_access(struct pci_msix *x, uint64_t off, uint8_t *data,
			 uint32_t len, bool is_write)
{
	uint64_t pba = htole64(x->pba);

	if (is_write)
		return;		/* read-only */
	if (!pci_msix_access_ok(off, len, 8)) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(data, (uint8_t *)&pba + off, len);
}
