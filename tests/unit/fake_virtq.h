/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake guest for device tests: RAM, a fake transport that counts
 * interrupts, and a driver that brings a struct virtio_dev up, builds
 * split-ring chains, kicks like the transport would and reads the used
 * ring back. Every helper fails the running test on misuse.
 */
#ifndef KVMINI_UNIT_FAKE_VIRTQ_H
#define KVMINI_UNIT_FAKE_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"
#include "lib/mem.h"

#define FAKE_RAM_GPA	0x40000000ULL
#define FAKE_RAM_SIZE	(4ULL << 20)	/* room for a 1 MiB request and more */
#define FAKE_MAX_QUEUES	8		/* a 3-pair virtio-net: 7 */
#define FAKE_GUARD	64		/* bytes checked on each side of a buffer */
#define FAKE_GUARD_BYTE	0xa5

/* One descriptor of a chain the fake driver builds. */
struct fake_seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

/* The driver's side of one split ring. */
struct fake_queue {
	unsigned int size;
	bool event_idx;
	uint64_t desc, avail, used;	/* guest-physical */
	uint16_t avail_idx;		/* next avail entry to fill */
	uint16_t kicked_idx;		/* avail_idx at the last kick */
	uint16_t used_seen;		/* used entries already read back */
	uint16_t next_desc;		/* descriptors go round robin */
};

struct fake_guest {
	struct guest_mem mem;
	uint8_t *ram;
	uint64_t brk;			/* next free gpa for fake_alloc() */
	struct fake_queue q[FAKE_MAX_QUEUES];
	unsigned int nr_queues;
	struct virtio_transport_ops tops;
	unsigned int interrupts;	/* tops->interrupt calls */
	unsigned int requeues[FAKE_MAX_QUEUES];	/* tops->requeue calls */
	uint32_t isr;			/* bits seen at those calls, or'ed */
};

void fake_guest_init(struct fake_guest *g);
void fake_guest_exit(struct fake_guest *g);

/* Zeroed guest memory; returns its guest-physical address. */
uint64_t fake_alloc(struct fake_guest *g, uint64_t len, uint64_t align);
/* Like fake_alloc(), with FAKE_GUARD guard bytes on each side. */
uint64_t fake_alloc_guarded(struct fake_guest *g, uint64_t len);
/* Fails the test when a guard byte around [gpa, gpa + len) changed. */
void fake_check_guards(struct fake_guest *g, uint64_t gpa, uint64_t len);
void *fake_ptr(struct fake_guest *g, uint64_t gpa);

/* Attaches the fake modern transport to vdev: offers VERSION_1, counts
 * interrupts in g. */
void fake_attach(struct fake_guest *g, struct virtio_dev *vdev);
/*
 * Runs the driver's initialisation (virtio 1.2, 3.1.1): ACKNOWLEDGE,
 * DRIVER, features | VERSION_1, FEATURES_OK, every queue of qsize
 * entries, DRIVER_OK. The device must end up active.
 */
void fake_driver_start(struct fake_guest *g, struct virtio_dev *vdev,
		       uint64_t features, unsigned int qsize);
/* Writes the status register as the transport would, under the lock. */
bool fake_set_status(struct virtio_dev *vdev, uint8_t status);

/* Makes a chain of direct descriptors available; returns its head. */
uint16_t fake_add_chain(struct fake_guest *g, unsigned int q,
			const struct fake_seg *segs, unsigned int n);
/* The same through one indirect table (INDIRECT_DESC negotiated). */
uint16_t fake_add_indirect(struct fake_guest *g, unsigned int q,
			   const struct fake_seg *segs, unsigned int n);
/* Puts any value in the avail ring, even an invalid head. */
void fake_add_head(struct fake_guest *g, unsigned int q, uint16_t head);

/* Whether the driver would kick now, by its rules (EVENT_IDX or flags). */
bool fake_kick_wanted(struct fake_guest *g, unsigned int q);
/* A kick: ops->notify under vdev->lock, as the transport calls it. */
void fake_kick(struct fake_guest *g, struct virtio_dev *vdev, unsigned int q);

/*
 * A hostile driver: ops->notify(q) runs in a thread of its own while this
 * one keeps q's avail ring full of head, re-posting each entry as soon as
 * the device has taken it. Returns whether notify returned within
 * timeout_ms; then the re-posting stops (a device that never yields ends
 * once the ring runs dry), the ring is left holding a full ring of head
 * for the next kick, and the fake's avail index follows the ring's.
 */
bool fake_kick_reposting(struct fake_guest *g, struct virtio_dev *vdev,
			 unsigned int q, uint16_t head, unsigned int timeout_ms);
/* The same with fn(arg) in the other thread instead of the kick: a
 * backend's call into the device (a frame for the guest, say). */
bool fake_run_reposting(struct fake_guest *g, struct virtio_dev *vdev,
			unsigned int q, uint16_t head, void (*fn)(void *arg),
			void *arg, unsigned int timeout_ms);

uint16_t fake_used_idx(struct fake_guest *g, unsigned int q);
/* Reads the next used entry back; false when there is none. */
bool fake_get_used(struct fake_guest *g, unsigned int q, uint32_t *id,
		   uint32_t *len);
void fake_set_used_event(struct fake_guest *g, unsigned int q, uint16_t v);
void fake_set_avail_flags(struct fake_guest *g, unsigned int q, uint16_t v);

#endif
