/* SPDX-License-Identifier: GPL-2.0 */
/*
 * MSI-X (PCI Local Bus 3.0, section 6.8.2): a table of vectors, each an
 * address, data and a mask bit, and the pending bits (PBA), both in a BAR.
 *
 * A vector delivers while MSI-X is enabled, the function is not masked
 * and its own mask bit is clear. The owner learns of each vector's
 * message through ops->route when it starts delivering, again when its
 * address or data change while it does, and with on = false when it
 * stops; so the machine's routing (KVM's MSI routes) always holds the
 * message of every vector that can fire. pci_msix_notify() on a vector
 * that cannot deliver sets its pending bit; unmasking delivers it once.
 *
 * The table takes aligned 4- and 8-byte accesses; others read all ones
 * and write nothing. The PBA is read-only. Addresses and data are the
 * guest's: the owner judges them when routing. Callers hold the
 * function's lock.
 */
#ifndef KVMINI_PCI_MSIX_H
#define KVMINI_PCI_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MSIX_MAX		64	/* vectors per function here */
#define PCI_MSIX_ENTRY_SIZE	16
#define PCI_MSIX_CTRL_MASKBIT	1

struct pci_msix_ops {
	/* Vector v delivers now: its route is up. */
	void (*fire)(void *opaque, unsigned int v);
	/* Vector v's message (on) or no message any more (!on). */
	void (*route)(void *opaque, unsigned int v, uint64_t addr,
		      uint32_t data, bool on);
};

struct pci_msix_entry {
	uint32_t addr_lo, addr_hi, data, ctrl;
};

struct pci_msix {
	unsigned int nr;
	struct pci_msix_entry table[PCI_MSIX_MAX];
	uint64_t pba;			/* one bit a vector */
	uint64_t live;			/* vectors whose route is up */
	bool enabled, fmask;
	const struct pci_msix_ops *ops;
	void *opaque;
};

void pci_msix_init(struct pci_msix *x, unsigned int nr,
		   const struct pci_msix_ops *ops, void *opaque);
/* Back to power-on: disabled, every vector masked, nothing pending. */
void pci_msix_reset(struct pci_msix *x);
/* The capability's Message Control enable and function mask bits. */
void pci_msix_control(struct pci_msix *x, bool enable, bool fmask);
/* Device side: true when MSI-X is enabled (the vector fired or is now
 * pending, or v is no vector); false: the device uses INTx. */
bool pci_msix_notify(struct pci_msix *x, unsigned int v);
/* Snapshot restore: table, pending bits and control as given (checked
 * by the caller), the route of each vector that delivers put up. */
void pci_msix_restore(struct pci_msix *x, const struct pci_msix_entry *table,
		      uint64_t pba, bool enable, bool fmask);
void pci_msix_table_access(struct pci_msix *x, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write);
void pci_msix_pba_access(struct pci_msix *x, uint64_t off, uint8_t *data,
			 uint32_t len, bool is_write);

#endif
