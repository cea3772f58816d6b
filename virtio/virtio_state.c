// SPDX-License-Identifier: GPL-2.0
/*
 * A virtio device's state for snapshots, apart from its transport: the
 * core's fields and each queue's, then the device's own (ops->save,
 * ops->load). Layout, field by field: docs/snapshot-devices.md.
 *
 * A blob comes from a file anyone may have written, so loading checks
 * what a driver could not have made happen through the transport: a
 * status the state machine never reaches, features the device does not
 * offer or refuses, a queue ready before negotiation, and every ready
 * queue goes through virtq_enable() again, as when the driver made it
 * ready. Whatever fails leaves the device reset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "lib/log.h"
#include "lib/sbuf.h"
#include "virtio/virtio.h"

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_FAILED	VIRTIO_CONFIG_S_FAILED

#define F_LEGACY	0x1
#define F_BROKEN	0x2
#define QF_READY	0x1
#define QF_BROKEN	0x2

bool virtio_status_valid(uint8_t status, bool legacy)
{
	static const uint8_t modern[] = {
		0, S_ACK, S_ACK | S_DRIVER, S_ACK | S_DRIVER | S_FEATURES_OK,
		S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
	};
	static const uint8_t old[] = {
		0, S_ACK, S_ACK | S_DRIVER, S_ACK | S_DRIVER | S_DRIVER_OK,
	};
	const uint8_t *steps = legacy ? old : modern;
	unsigned int n = legacy ? sizeof(old) : sizeof(modern);

	/* FAILED may come on top of any step (virtio_dev_set_status()). */
	status &= ~S_FAILED;
	for (unsigned int i = 0; i < n; i++)
		if (status == steps[i])
			return true;
	return false;
}

void virtio_dev_quiesce(struct virtio_dev *vdev)
{
	if (vdev->ops->quiesce)
		vdev->ops->quiesce(vdev);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		virtq_flush(&vdev->vqs[i]);
}

int virtio_dev_save(struct virtio_dev *vdev, struct sbuf *b)
{
	uint8_t flags = (vdev->legacy ? F_LEGACY : 0) | (vdev->broken ? F_BROKEN : 0);

	sbuf_put_u32(b, VIRTIO_STATE_VERSION);
	sbuf_put_u8(b, vdev->status);
	sbuf_put_u8(b, flags);
	sbuf_put_u64(b, vdev->host_features);
	sbuf_put_u64(b, vdev->features);
	sbuf_put_u32(b, __atomic_load_n(&vdev->isr, __ATOMIC_ACQUIRE));
	sbuf_put_u32(b, vdev->config_generation);
	sbuf_put_u32(b, vdev->ops->nr_queues);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++) {
		const struct virtq *vq = &vdev->vqs[i];
		struct virtq_indices ix;

		if (vq->ready && !vq->broken && !virtq_quiet(vq)) {
			pr_err("virtio %s: queue %u has requests in flight: quiesce the device before saving it",
			       vdev->name, i);
			return -EBUSY;
		}
		virtq_get_indices(vq, &ix);
		sbuf_put_u8(b, (vq->ready ? QF_READY : 0) | (vq->broken ? QF_BROKEN : 0));
		sbuf_put_u32(b, vq->size);
		sbuf_put_u64(b, vq->desc_gpa);
		sbuf_put_u64(b, vq->avail_gpa);
		sbuf_put_u64(b, vq->used_gpa);
		sbuf_put_u16(b, ix.last_avail);
		sbuf_put_u16(b, ix.used_idx);
		sbuf_put_u16(b, ix.used_signalled);
	}
	if (vdev->ops->save) {
		int err = vdev->ops->save(vdev, b);

		if (err)
			return err;
	}
	if (!sbuf_ok(b)) {
		pr_err("virtio %s: out of memory saving its state", vdev->name);
		return -ENOMEM;
	}
	return 0;
}

int virtio_load_fail(struct virtio_dev *vdev, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	pr_err("virtio %s: snapshot state refused: %s", vdev->name, why);
	return -EINVAL;
}

static int virtio_load_queue(struct virtio_dev *vdev, unsigned int i,
			     struct sbuf_rd *r, bool may_ready)
{
	struct virtq *vq = &vdev->vqs[i];
	struct virtq_indices ix;
	uint8_t qflags = sbuf_get_u8(r);
	int err;

	vq->size = sbuf_get_u32(r);
	vq->desc_gpa = sbuf_get_u64(r);
	vq->avail_gpa = sbuf_get_u64(r);
	vq->used_gpa = sbuf_get_u64(r);
	ix.last_avail = sbuf_get_u16(r);
	ix.used_idx = sbuf_get_u16(r);
	ix.used_signalled = sbuf_get_u16(r);
	if (r->bad)
		return virtio_load_fail(vdev, "truncated");
	if (qflags & ~(QF_READY | QF_BROKEN))
		return virtio_load_fail(vdev, "queue %u: unknown flags %#x", i, qflags);
	/* Settings of a queue not ready are whatever the driver wrote,
	 * checked when it makes the queue ready; nothing else counts. */
	if (!(qflags & QF_READY)) {
		if (qflags & QF_BROKEN)
			return virtio_load_fail(vdev, "queue %u broken but not ready", i);
		return 0;
	}
	if (!may_ready)
		return virtio_load_fail(vdev, "queue %u ready before feature negotiation", i);
	if ((qflags & QF_BROKEN) && !vdev->broken)
		return virtio_load_fail(vdev, "queue %u broken in a working device", i);
	/* A broken queue is used no more until the driver resets it;
	 * what its indices were does not matter then. */
	if (qflags & QF_BROKEN)
		ix.used_idx = ix.last_avail;
	vq->features = vdev->features;
	err = virtq_enable(vq);
	if (err == -EFAULT)
		return virtio_load_fail(vdev, "queue %u: rings outside guest RAM", i);
	if (err)
		return virtio_load_fail(vdev, "queue %u: size %u or ring addresses invalid",
					i, vq->size);
	if (virtq_restore(vq, &ix))
		return virtio_load_fail(vdev, "queue %u: %u chains in flight",
					i, (uint16_t)(ix.last_avail - ix.used_idx));
	if (qflags & QF_BROKEN) {
		vq->broken = true;
		vq->err = -EINVAL;
	}
	return 0;
}

/* The core's part; the device's own follows in the same reader. */
static int virtio_load_core(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	uint32_t version = sbuf_get_u32(r);
	uint8_t status = sbuf_get_u8(r);
	uint8_t flags = sbuf_get_u8(r);
	uint64_t host_features = sbuf_get_u64(r);
	uint64_t features = sbuf_get_u64(r);
	uint32_t isr = sbuf_get_u32(r);
	uint32_t generation = sbuf_get_u32(r);
	uint32_t nr = sbuf_get_u32(r);
	bool legacy = flags & F_LEGACY;
	uint8_t negotiated;

	if (r->bad)
		return virtio_load_fail(vdev, "truncated");
	if (version != VIRTIO_STATE_VERSION)
		return virtio_load_fail(vdev, "layout version %u, this kvmini reads %u",
					version, VIRTIO_STATE_VERSION);
	if (flags & ~(F_LEGACY | F_BROKEN))
		return virtio_load_fail(vdev, "unknown flags %#x", flags);
	if (legacy != vdev->legacy)
		return virtio_load_fail(vdev, "saved with the %s transport, now %s",
					legacy ? "legacy" : "modern",
					vdev->legacy ? "legacy" : "modern");
	if (host_features != vdev->host_features)
		return virtio_load_fail(vdev, "it offered features %#llx, now %#llx: run with the same options",
					(unsigned long long)host_features,
					(unsigned long long)vdev->host_features);
	if (nr != vdev->ops->nr_queues)
		return virtio_load_fail(vdev, "%u queues saved, the device has %u",
					nr, vdev->ops->nr_queues);
	if (!virtio_status_valid(status, legacy))
		return virtio_load_fail(vdev, "status %#x is no state a driver reaches", status);
	if (isr & ~(VIRTIO_ISR_USED | VIRTIO_ISR_CONFIG))
		return virtio_load_fail(vdev, "interrupt status %#x", isr);
	/* Features are final from FEATURES_OK on (DRIVER_OK for a legacy
	 * driver): only offered ones then. Before, a driver may have
	 * written any bits (FEATURES_OK would refuse them); before DRIVER
	 * it cannot have written any. */
	negotiated = legacy ? S_DRIVER_OK : S_FEATURES_OK;
	if ((status & negotiated) && (features & ~host_features))
		return virtio_load_fail(vdev, "features %#llx not offered",
					(unsigned long long)features);
	if (!(status & S_DRIVER) && features)
		return virtio_load_fail(vdev, "features before the driver wrote any");
	if ((status & negotiated) && !virtio_features_valid(vdev, features))
		return virtio_load_fail(vdev, "the device refuses features %#llx",
					(unsigned long long)features);

	vdev->status = status;
	vdev->features = features;
	vdev->broken = flags & F_BROKEN;
	vdev->config_generation = generation;
	__atomic_store_n(&vdev->isr, isr, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < nr; i++) {
		int err = virtio_load_queue(vdev, i, r,
					    status & (legacy ? S_DRIVER : S_FEATURES_OK));

		if (err)
			return err;
	}
	return 0;
}

int virtio_dev_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	uint32_t isr;
	int err;

	virtio_dev_reset(vdev);
	err = virtio_load_core(vdev, r);
	if (!err && vdev->ops->load)
		err = vdev->ops->load(vdev, r);
	if (!err && r->bad)
		err = virtio_load_fail(vdev, "truncated");
	if (err) {
		virtio_dev_reset(vdev);
		return err;
	}
	if ((vdev->status & S_DRIVER_OK) && !(vdev->status & S_FAILED) &&
	    !vdev->broken) {
		vdev->active = true;
		err = vdev->ops->activate ? vdev->ops->activate(vdev) : 0;
		if (err)
			virtio_needs_reset(vdev, "the device could not start");
	}
	if (!vdev->active)
		return 0;
	/*
	 * The driver may have posted buffers before the snapshot and kicked
	 * for them already; a kick of our own serves them. An interrupt it
	 * was sent may not have reached the saved interrupt controller: a
	 * second one is harmless, a lost one could leave it waiting.
	 */
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		if (vdev->vqs[i].ready)
			virtio_requeue(vdev, i);
	isr = __atomic_load_n(&vdev->isr, __ATOMIC_ACQUIRE);
	if (isr && vdev->tops && vdev->tops->interrupt) {
		if (isr & VIRTIO_ISR_USED)
			vdev->tops->interrupt(vdev, VIRTIO_IRQ_QUEUES);
		if (isr & VIRTIO_ISR_CONFIG)
			vdev->tops->interrupt(vdev, VIRTIO_IRQ_CONFIG);
	}
	return 0;
}
