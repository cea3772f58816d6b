/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A virtio device, independent of the transport that carries it.
 *
 * A device (rng, console, blk, net…) is a struct virtio_dev_ops and its own
 * state behind vdev->priv. It never touches transport registers; the
 * transport (virtio-mmio now, PCI later) never knows what device it
 * carries. Between them sits struct virtio_dev: negotiated features, the
 * status byte, the interrupt status, the queues and one lock.
 *
 * Locking: vdev->lock serialises the transport (register accesses, on
 * vCPU threads) against the device's work (queue kicks and other events,
 * on the I/O thread). Every ops callback runs with it held, and a device
 * that has event sources of its own takes it around their handlers.
 *
 * Life cycle, as the driver drives it through the transport:
 *   status 0 (reset)      -> ops->reset(); queues forgotten, features 0
 *   FEATURES_OK           -> ops->features_ok(features) may refuse
 *   queue ready           -> virtq_enable() (by the transport)
 *   DRIVER_OK             -> ops->activate(); from now on ops->notify()
 *                            is called for kicks
 *   device error          -> virtio_needs_reset(): DEVICE_NEEDS_RESET and
 *                            a config-change interrupt; no more notifies
 */
#ifndef KVMINI_VIRTIO_H
#define KVMINI_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "virtio/virtq.h"

struct virtio_dev;
struct guest_mem;
struct sbuf;
struct sbuf_rd;

/* Interrupt status bits (virtio-mmio InterruptStatus, PCI ISR). */
#define VIRTIO_ISR_USED		0x1
#define VIRTIO_ISR_CONFIG	0x2

/* Offered by the core for every device: the split-ring features. */
#define VIRTIO_CORE_FEATURES	((1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
				 (1ULL << VIRTIO_RING_F_EVENT_IDX))

struct virtio_dev_ops {
	uint32_t device_id;		/* VIRTIO_ID_* */
	unsigned int nr_queues;
	unsigned int queue_max;		/* largest size of each queue */
	uint64_t features;		/* device-specific features offered */
	uint32_t config_size;		/* bytes of device config space */

	/* Config space; off + len <= config_size is checked by the caller.
	 * config_write may be NULL: writes are then ignored. */
	void (*config_read)(struct virtio_dev *vdev, uint32_t off,
			    uint8_t *data, uint32_t len);
	void (*config_write)(struct virtio_dev *vdev, uint32_t off,
			     const uint8_t *data, uint32_t len);
	/* May refuse a feature combination; NULL accepts any subset. */
	bool (*features_ok)(struct virtio_dev *vdev, uint64_t features);
	/* DRIVER_OK with the queues the driver made ready; 0 or -errno,
	 * which puts the device in DEVICE_NEEDS_RESET. */
	int (*activate)(struct virtio_dev *vdev);
	/* Stop using the queues and forget requests in flight. */
	void (*reset)(struct virtio_dev *vdev);
	/* The driver kicked queue q (I/O thread). */
	void (*notify)(struct virtio_dev *vdev, unsigned int q);
	/* Free priv and anything else the device owns. */
	void (*free)(struct virtio_dev *vdev);

	/*
	 * Snapshots (docs/snapshot-devices.md), each optional. quiesce:
	 * finish or cancel what is in flight, so that no chain is popped
	 * and unused (virtq_unpop() for chains held unused) and every used
	 * entry is published; the device may go on afterwards. save: the
	 * device's own state, after the core's; 0 or -errno after one
	 * error line (a device that cannot be saved). load: read it back
	 * into a fresh device and check it as untrusted input; 0 or
	 * -EINVAL after one error line naming the device. load runs after
	 * the core state is in and before activate(), which follows for a
	 * running device as at DRIVER_OK.
	 */
	void (*quiesce)(struct virtio_dev *vdev);
	int (*save)(struct virtio_dev *vdev, struct sbuf *b);
	int (*load)(struct virtio_dev *vdev, struct sbuf_rd *r);
};

/* Which interrupt: a queue's index, or one of these. A transport with
 * one interrupt (virtio-mmio) ignores it; virtio-pci picks the MSI-X
 * vector the driver mapped to it. */
#define VIRTIO_IRQ_CONFIG	(-1)	/* configuration change */
#define VIRTIO_IRQ_QUEUES	(-2)	/* used buffers in some queue(s) */

/* What the core asks of a transport. */
struct virtio_transport_ops {
	/* Raise the device's interrupt for q (a queue or VIRTIO_IRQ_*);
	 * isr bits are already set. */
	void (*interrupt)(struct virtio_dev *vdev, int q);
	/* Have ops->notify(q) called again on a later turn of the I/O
	 * thread's loop, after the events already waiting (virtio_requeue()). */
	void (*requeue)(struct virtio_dev *vdev, unsigned int q);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const char *name;		/* "rng", "console", "blk0"… for logs */
	void *priv;
	const struct guest_mem *mem;
	pthread_mutex_t lock;

	struct virtq *vqs;		/* ops->nr_queues of them */
	uint64_t host_features;		/* ops->features | core | transport */
	uint64_t features;		/* negotiated (FEATURES_OK) */
	uint8_t status;
	uint32_t isr;			/* atomic: set here, cleared by ack */
	uint32_t config_generation;
	bool active;			/* DRIVER_OK and not broken */
	bool broken;			/* DEVICE_NEEDS_RESET */
	bool legacy;			/* pre-1.0 driver: no FEATURES_OK step */
	bool warned;			/* one needs-reset message per device */

	const struct virtio_transport_ops *tops;
	void *transport;
};

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    const struct guest_mem *mem, const char *name, void *priv);
void virtio_dev_exit(struct virtio_dev *vdev);

/* Status transitions; under vdev->lock (the transport calls these). */
void virtio_dev_reset(struct virtio_dev *vdev);
/* Validates and applies a status write; false when refused. */
bool virtio_dev_set_status(struct virtio_dev *vdev, uint8_t status);
/* A status write that resets the device: 0, or only the device's own
 * NEEDS_RESET bit, which the driver cannot set. The transport resets
 * its own registers (and lowers its interrupt) on the same writes. */
static inline bool virtio_status_resets(uint32_t status)
{
	return !(status & ~VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* Device side, under vdev->lock. */
/* After virtq_flush(): interrupts the driver if the queue wants it;
 * false when it did not (suppressed, or nothing new). */
bool virtio_notify_used(struct virtio_dev *vdev, unsigned int q);
/* A used-buffer interrupt, unconditionally: for devices whose queues
 * another process serves (vhost-user), which has already decided, with
 * EVENT_IDX or the ring's flags, that the driver wants one. */
void virtio_interrupt_used(struct virtio_dev *vdev);
/* Config space changed: new generation, config interrupt. */
void virtio_config_changed(struct virtio_dev *vdev);
/* The guest broke the device: DEVICE_NEEDS_RESET, config interrupt,
 * no more work until the driver resets it. Logs once per reset. */
void virtio_needs_reset(struct virtio_dev *vdev, const char *why);

/*
 * Bounded work per turn. A device loop takes at most VIRTIO_BUDGET(vq)
 * chains of a queue per call (one queue's worth): a driver that re-posts
 * the entries the device gives straight back (a request completed without
 * I/O, a dropped frame, an unusable buffer) could otherwise keep the I/O
 * thread in one loop forever. With the budget spent and kicks of q still
 * off, the device calls virtio_requeue(): its notify runs again on the
 * next turn of the loop, after signals, timers and the other devices, and
 * goes on where it stopped. Nothing is lost and nobody starves.
 */
#define VIRTIO_BUDGET(vq)	((vq)->size)
void virtio_requeue(struct virtio_dev *vdev, unsigned int q);

/* Pops the next chain of queue q; on a broken queue puts the device in
 * DEVICE_NEEDS_RESET. Same returns as virtq_pop(). */
int virtio_pop(struct virtio_dev *vdev, unsigned int q, struct virtq_chain *c);

/*
 * Snapshots (virtio/virtio_state.c), under vdev->lock with the vCPUs
 * paused. virtio_dev_quiesce(): ops->quiesce(), then each queue's used
 * entries published. virtio_dev_save(): the core's state (status,
 * features, interrupt status, config generation, each queue's settings
 * and indices) then ops->save()'s; -EBUSY when a queue still has chains
 * in flight (not quiesced). virtio_dev_load(): into a device fresh from
 * its constructor and transport, reading what virtio_dev_save() wrote
 * and checking every field as a hostile guest's: -EINVAL after one
 * error line naming the device, which is left reset. A running device
 * is activated as at DRIVER_OK, each ready queue requeued (buffers the
 * driver posted before the snapshot are served) and a pending
 * interrupt raised again.
 */
#define VIRTIO_STATE_VERSION	1
void virtio_dev_quiesce(struct virtio_dev *vdev);
int virtio_dev_save(struct virtio_dev *vdev, struct sbuf *b);
int virtio_dev_load(struct virtio_dev *vdev, struct sbuf_rd *r);
/* The status byte's legal values (virtio 1.2 section 3.1.1). */
bool virtio_status_valid(uint8_t status, bool legacy);
/* For loaders, the device's and its transport's: logs "virtio NAME:
 * snapshot state refused: WHY" and returns -EINVAL. */
int virtio_load_fail(struct virtio_dev *vdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* For loaders: the features the driver negotiated may be these. */
bool virtio_features_valid(struct virtio_dev *vdev, uint64_t features);

/*
 * Transport helpers (virtio/virtio.c): what virtio-mmio and virtio-pci
 * both do around a struct virtio_dev, so that each transport keeps only
 * its register layout. Under vdev->lock unless said otherwise.
 */
/* Signal eventfd fd, queue q's notify eventfd: a kick the I/O thread
 * serves (a requeue, or a notify that exited to the VMM). Any thread;
 * logs once when it cannot. */
void virtio_kick_eventfd(struct virtio_dev *vdev, int fd);
/* Signal eventfd fd, an interrupt's irqfd. Logs once when it cannot. */
void virtio_irq_eventfd(struct virtio_dev *vdev, int fd);
/* The I/O thread, queue q's notify eventfd fd readable: consumes the
 * kicks and, if there were any, calls ops->notify(q) unless they raced
 * with a reset or a stopped queue. Takes vdev->lock; q must exist. */
void virtio_kicked(struct virtio_dev *vdev, int fd, unsigned int q);
/* Word sel of a 64-bit feature set: 0 the low 32 bits, 1 the high, any
 * other 0. */
uint32_t virtio_feature_word(uint64_t features, uint32_t sel);
/* The driver writes word sel of its features: only between DRIVER and
 * FEATURES_OK (DRIVER_OK for a legacy driver) and for sel <= max_sel
 * (0 for a legacy driver, 1 otherwise); anything else is ignored. */
void virtio_driver_feature_word(struct virtio_dev *vdev, uint32_t sel,
				uint32_t val, uint32_t max_sel);
/* The status register as the driver reads it. */
uint8_t virtio_status_read(const struct virtio_dev *vdev);
/* Half of a 64-bit queue address field (the high half if high). */
void virtio_queue_field_addr(uint64_t *addr, uint32_t val, bool high);
/* The driver makes vq ready: only once status has need (FEATURES_OK, or
 * DRIVER for a legacy driver); rings that do not fit put the device in
 * DEVICE_NEEDS_RESET. True when the queue is ready. */
bool virtio_queue_field_enable(struct virtio_dev *vdev, struct virtq *vq,
			       uint8_t need);
/* Device config space: widths 1, 2, 4 and 8 wholly inside config_size,
 * anything else ignored (data left as it is). */
void virtio_config_access(struct virtio_dev *vdev, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write);

static inline bool virtio_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return vdev->features & (1ULL << bit);
}

#endif
