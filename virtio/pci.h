/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-pci modern transport (virtio 1.2 section 4.1): a PCI
 * function (vendor 0x1af4, device 0x1040 + device id, revision 1) whose
 * one 64-bit BAR holds the common configuration, ISR, device
 * configuration, notification and MSI-X regions, each named by a vendor
 * capability; a PCI_CFG access capability reaches the BAR through config
 * space. It implements the same struct virtio_dev tops as virtio-mmio.
 *
 * Interrupts: MSI-X with a configuration vector and one vector per queue
 * (as the driver maps them; VIRTIO_MSI_NO_VECTOR means none). Each
 * vector is an eventfd bound to a GSI of its own (irqfd); its MSI route
 * follows the MSI-X table through host->msi_route. With MSI-X disabled,
 * INTx: a level on the function's line while the ISR is nonzero, lowered
 * when the driver reads the ISR (read-to-clear).
 *
 * Notifications: queue q at notify_off q, multiplier 4. While the BAR
 * decodes, each queue's address has an ioeventfd (any write, any width);
 * a write that exits anyway kicks the queue's eventfd from here. Kicks
 * reach the device on the I/O thread, as on virtio-mmio.
 *
 * Guest mistakes: common-configuration fields take accesses of their own
 * width only (others read 0 and write nothing), queue settings only while
 * the queue is not enabled and for a queue that exists, a vector beyond
 * the table reads back as VIRTIO_MSI_NO_VECTOR. Each kind is logged once.
 * Threads: BAR and config accesses run on vCPU threads under vdev->lock
 * (the PCI layer takes it: it is the function's lock).
 */
#ifndef KVMINI_VIRTIO_PCI_H
#define KVMINI_VIRTIO_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"
#include "pci/pci.h"
#include "virtio/virtio.h"

struct evloop;
struct virtio_pci;

#define VPCI_VENDOR	0x1af4
#define VPCI_DEVICE_BASE	0x1040
#define VPCI_BAR_SIZE	0x8000
/* Where each region sits in BAR 0. */
#define VPCI_COMMON	0x0000
#define VPCI_COMMON_LEN	0x40
#define VPCI_ISR		0x1000
#define VPCI_DEVCFG	0x2000
#define VPCI_DEVCFG_LEN	0x1000
#define VPCI_NOTIFY	0x3000
#define VPCI_NOTIFY_MUL	4
#define VPCI_MSIX_TABLE	0x4000
#define VPCI_MSIX_PBA	0x5000

/*
 * What the transport needs from the machine (vmm/vm_devices.c fills it
 * in); each returns 0 or -errno after one error line.
 */
struct virtio_pci_host {
	void *ctx;
	/* fd, written, injects GSI *gsi, a fresh one for MSI routes. */
	int (*msi_irqfd)(void *ctx, int fd, uint32_t *gsi);
	/* gsi's MSI message (on), or no route (!on). Any thread. */
	int (*msi_route)(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data,
			 bool on);
	/* Writes of any width to addr signal fd (assign), or no longer. */
	int (*ioeventfd)(void *ctx, uint64_t addr, int fd, bool assign);
	/* INTx: line irq's level. */
	int (*set_intx)(void *ctx, uint32_t irq, int level);
	struct evloop *loop;
};

/*
 * The transport for vdev (set up with virtio_dev_init()) with INTx line
 * irq: a PCI function to give to pci_bus_add(), its eventfds made. Sets
 * vdev->tops and ->transport; host_features gain VIRTIO_F_VERSION_1.
 * NULL after one error line.
 */
struct virtio_pci *virtio_pci_new(struct virtio_dev *vdev, uint32_t irq,
				  const struct virtio_pci_host *host);
struct pci_dev *virtio_pci_dev(struct virtio_pci *p);
/* The vectors' irqfds and the notify eventfds on host->loop. */
int virtio_pci_attach(struct virtio_pci *p);
/* Once no vCPU runs any more. NULL is a no-op. */
void virtio_pci_free(struct virtio_pci *p);

/*
 * Snapshots (layout: docs/snapshot-devices.md). virtio_pci_quiesce():
 * the device finishes what it has in flight (on the I/O thread, whose
 * completions they are); virtio_pci_save() quiesces again under the same
 * lock hold and puts the PCI function's state, the transport's registers
 * and the device's (virtio_dev_save). virtio_pci_load() on a function
 * just made and attached: every field checked as a hostile guest's
 * (vectors in the table, the PCI part as pci_dev_load checks it), then
 * the BAR's notify ioeventfds, the MSI routes of the vectors that
 * deliver and the INTx level put back; -EINVAL after one error line, the
 * device and function reset and nothing decoding or routed.
 */
void virtio_pci_quiesce(struct virtio_pci *p);
int virtio_pci_save(struct virtio_pci *p, struct sbuf *b);
int virtio_pci_load(struct virtio_pci *p, const void *blob, size_t len);

/* What the I/O thread does when queue q's notify eventfd is readable
 * (exposed for the unit tests). */
void virtio_pci_kick(struct virtio_pci *p, unsigned int q);

#endif
