/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio-mmio transport (virtio 1.2 section 4.2): version 2, or the
 * legacy version 1 layout with page-based queue addresses.
 *
 * Threads: virtio_mmio_access() runs on vCPU threads and takes vdev->lock
 * around every register access. Queue kicks reach the device on the I/O
 * thread: the guest's QueueNotify write signals a per-queue eventfd (in
 * the kernel through an ioeventfd, or from virtio_mmio_access() when the
 * write exits to kvmini), and the eventfd's handler calls ops->notify()
 * under vdev->lock. Interrupts are edges on an irqfd; InterruptStatus
 * holds the cause until the driver acknowledges it.
 *
 * Guest mistakes never reach the device as such. Registers are 32-bit
 * and aligned: any other access reads 0 and writes nothing. Reading a
 * write-only or unknown register gives 0; writing a read-only or unknown
 * one does nothing. Queue settings are taken only while the queue is not
 * ready, and only for a queue that exists. A queue becomes ready only
 * after feature negotiation (FEATURES_OK; DRIVER for a legacy driver);
 * ring settings that do not fit RAM make QueueReady (or QueuePFN) stay 0
 * and put the device in DEVICE_NEEDS_RESET. Stopping a queue (QueueReady
 * or QueuePFN 0) keeps its settings; on a running device it also means
 * DEVICE_NEEDS_RESET, since VIRTIO_F_RING_RESET is not offered. Each kind
 * of mistake is logged once.
 */
#ifndef KVMINI_VIRTIO_MMIO_H
#define KVMINI_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_mmio.h>

#include "lib/bus.h"
#include "virtio/virtio.h"

struct evloop;
struct sbuf;
struct virtio_mmio;

/* Control registers, then at most 0x100 bytes of device config space. */
#define VIRTIO_MMIO_SIZE	0x200

/* MagicValue: "virt" in little-endian byte order. */
#define VIRTIO_MMIO_MAGIC	0x74726976
/* VendorID: "KVMI" in little-endian byte order, as MagicValue is spelt. */
#define VIRTIO_MMIO_VENDOR	0x494d564b

/*
 * The transport for vdev (already set up with virtio_dev_init()) at
 * [base, base + VIRTIO_MMIO_SIZE) with interrupt line irq; legacy picks
 * the version 1 layout. Creates the interrupt eventfd and one notify
 * eventfd per queue, and sets vdev->tops, ->transport and ->legacy.
 * vdev->host_features gains VIRTIO_F_VERSION_1 (modern) or keeps only its
 * low 32 bits, all a legacy driver can see. NULL (after one error line) when the device does not fit the transport
 * or the eventfds cannot be made.
 */
struct virtio_mmio *virtio_mmio_new(struct virtio_dev *vdev, uint64_t base,
				    uint32_t irq, bool legacy);

/*
 * What the transport needs from the machine it is wired into (the VMM's
 * device wiring fills it in): the transport knows no VM, only these.
 * Each function returns 0 or -errno after one error line; ctx is theirs.
 */
struct virtio_mmio_host {
	void *ctx;
	/* The register range on the MMIO bus, handled by fn(fn_opaque). */
	int (*register_mmio)(void *ctx, uint64_t base, uint64_t len,
			     bus_access_fn *fn, void *fn_opaque, const char *name);
	/* An eventfd that injects an edge on interrupt line gsi when written. */
	int (*irqfd)(void *ctx, uint32_t gsi, int fd);
	/* Guest writes of len bytes of datamatch to addr signal fd. */
	int (*ioeventfd)(void *ctx, uint64_t addr, uint32_t len,
			 uint64_t datamatch, int fd);
	struct evloop *loop;	/* the I/O thread's, for the notify eventfds */
};

/*
 * Puts the transport in the machine: the MMIO range, the irqfd, per queue
 * an ioeventfd on 4-byte writes of its index to QueueNotify, and the
 * notify eventfds on host->loop. 0 or -errno (the failing step logs why).
 */
int virtio_mmio_attach(struct virtio_mmio *m, const struct virtio_mmio_host *host);

/*
 * Frees the transport, not vdev (which must still be there). Only once no
 * vCPU runs any more (the MMIO range cannot be taken back) and while
 * the attach's loop still exists. NULL is a no-op.
 */
void virtio_mmio_free(struct virtio_mmio *m);

bus_access_fn virtio_mmio_access;

/*
 * What the I/O thread does when queue q's notify eventfd is readable:
 * consumes the pending kicks and, if there were any, hands them to the
 * device. Exposed for the unit tests, which have no event loop.
 */
void virtio_mmio_kick(struct virtio_mmio *m, unsigned int q);

/*
 * Snapshots. virtio_mmio_quiesce(): virtio_dev_quiesce() under the
 * device's lock, on the I/O thread (a device's completions are its).
 * virtio_mmio_save() quiesces again under the same lock hold, then
 * saves the transport's registers (the selectors, the legacy page
 * size and each queue's QueueAlign and QueuePFN), then the device's
 * state (virtio_dev_save()). Under no lock of the caller's; the vCPUs
 * paused and the device quiesced. virtio_mmio_load() reads a whole blob
 * into a transport fresh from virtio_mmio_new() and attached (its
 * eventfds and irqfd are the new ones): 0, or -EINVAL after one error
 * line naming the device, which is left reset. The notify eventfds,
 * irqfd and ioeventfds are the normal set-up's, not saved.
 */
#define VIRTIO_MMIO_STATE_VERSION	1
void virtio_mmio_quiesce(struct virtio_mmio *m);
int virtio_mmio_save(struct virtio_mmio *m, struct sbuf *b);
int virtio_mmio_load(struct virtio_mmio *m, const void *blob, size_t len);

/* The interrupt eventfd (for the unit tests: read it to see edges). */
int virtio_mmio_irq_fd(const struct virtio_mmio *m);

#endif
