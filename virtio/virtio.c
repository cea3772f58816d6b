// SPDX-License-Identifier: GPL-2.0
/*
 * The transport-independent half of a virtio device: the status state
 * machine, feature negotiation and interrupts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "virtio/virtio.h"

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_FAILED	VIRTIO_CONFIG_S_FAILED
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    const struct guest_mem *mem, const char *name, void *priv)
{
	memset(vdev, 0, sizeof(*vdev));
	vdev->ops = ops;
	vdev->mem = mem;
	vdev->name = name;
	vdev->priv = priv;
	vdev->host_features = ops->features | VIRTIO_CORE_FEATURES;
	vdev->vqs = calloc(ops->nr_queues, sizeof(*vdev->vqs));
	if (!vdev->vqs)
		return -ENOMEM;
	for (unsigned int i = 0; i < ops->nr_queues; i++) {
		int err = virtq_init(&vdev->vqs[i], mem, ops->queue_max, name);

		if (err)
			return err;
	}
	pthread_mutex_init(&vdev->lock, NULL);
	return 0;
}

void virtio_dev_exit(struct virtio_dev *vdev)
{
	/* Before free: the queues' names may live in priv. */
	for (unsigned int i = 0; vdev->ops && vdev->vqs && i < vdev->ops->nr_queues; i++)
		virtq_exit(&vdev->vqs[i]);
	if (vdev->ops && vdev->ops->free)
		vdev->ops->free(vdev);
	free(vdev->vqs);
	vdev->vqs = NULL;
	pthread_mutex_destroy(&vdev->lock);
}

void virtio_dev_reset(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		virtq_reset(&vdev->vqs[i]);
	vdev->features = 0;
	vdev->status = 0;
	vdev->active = false;
	vdev->broken = false;
	__atomic_store_n(&vdev->isr, 0, __ATOMIC_RELEASE);
}

bool virtio_features_valid(struct virtio_dev *vdev, uint64_t f)
{
	if (f & ~vdev->host_features)
		return false;
	/* A modern device is only driven by a driver that says so. */
	if (!vdev->legacy && !(f & (1ULL << VIRTIO_F_VERSION_1)))
		return false;
	return !vdev->ops->features_ok || vdev->ops->features_ok(vdev, f);
}

static bool virtio_features_acceptable(struct virtio_dev *vdev)
{
	return virtio_features_valid(vdev, vdev->features);
}

static bool virtio_activate(struct virtio_dev *vdev)
{
	int err;

	if (vdev->legacy && !virtio_features_acceptable(vdev))
		return false;
	vdev->status |= S_DRIVER_OK;
	vdev->active = true;
	err = vdev->ops->activate ? vdev->ops->activate(vdev) : 0;
	if (err)
		virtio_needs_reset(vdev, "the device could not start");
	return true;
}

/*
 * The legal steps, as in virtio 1.2 section 3.1.1: each write adds exactly
 * the next bit. Legacy drivers skip FEATURES_OK. FAILED may come at any
 * time and stops the device; 0 resets it. Anything else is refused.
 */
bool virtio_dev_set_status(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old = vdev->status;
	uint8_t added;

	status &= ~S_NEEDS_RESET;	/* the device's bit, not the driver's */
	if (status == 0) {
		virtio_dev_reset(vdev);
		return true;
	}
	if (status == old)
		return true;
	if ((status & old) != old)
		goto refuse;
	added = status & ~old;
	if (added & S_FAILED) {
		vdev->status = status;
		if (vdev->active && vdev->ops->reset)
			vdev->ops->reset(vdev);
		vdev->active = false;
		return true;
	}
	if (old == 0 && added == S_ACK)
		goto accept;
	if (old == S_ACK && added == S_DRIVER)
		goto accept;
	if (old == (S_ACK | S_DRIVER) && added == S_FEATURES_OK && !vdev->legacy) {
		if (!virtio_features_acceptable(vdev)) {
			pr_warn_once("virtio %s: driver features %#llx refused",
				     vdev->name, (unsigned long long)vdev->features);
			return false;
		}
		goto accept;
	}
	if (added == S_DRIVER_OK && !vdev->broken &&
	    old == (vdev->legacy ? (S_ACK | S_DRIVER) : (S_ACK | S_DRIVER | S_FEATURES_OK)))
		return virtio_activate(vdev);
refuse:
	pr_warn_once("virtio %s: status %#x -> %#x refused (out of order)",
		     vdev->name, old, status);
	return false;
accept:
	vdev->status = status;
	return true;
}

static void virtio_interrupt(struct virtio_dev *vdev, uint32_t bits, int q)
{
	__atomic_fetch_or(&vdev->isr, bits, __ATOMIC_ACQ_REL);
	if (vdev->tops && vdev->tops->interrupt)
		vdev->tops->interrupt(vdev, q);
}

void virtio_notify_used(struct virtio_dev *vdev, unsigned int q)
{
	if (q < vdev->ops->nr_queues && virtq_should_notify(&vdev->vqs[q]))
		virtio_interrupt(vdev, VIRTIO_ISR_USED, q);
}

void virtio_interrupt_used(struct virtio_dev *vdev)
{
	virtio_interrupt(vdev, VIRTIO_ISR_USED, VIRTIO_IRQ_QUEUES);
}

void virtio_config_changed(struct virtio_dev *vdev)
{
	vdev->config_generation++;
	if (vdev->status & S_DRIVER_OK)
		virtio_interrupt(vdev, VIRTIO_ISR_CONFIG, VIRTIO_IRQ_CONFIG);
}

void virtio_needs_reset(struct virtio_dev *vdev, const char *why)
{
	if (vdev->broken)
		return;
	vdev->broken = true;
	vdev->active = false;
	/* Once per device: a guest can break and reset it in a loop. */
	if (!vdev->warned)
		pr_warn("virtio %s: device needs reset: %s", vdev->name, why);
	vdev->warned = true;
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	if (vdev->status & S_DRIVER_OK)
		virtio_interrupt(vdev, VIRTIO_ISR_CONFIG, VIRTIO_IRQ_CONFIG);
}

void virtio_requeue(struct virtio_dev *vdev, unsigned int q)
{
	if (vdev->tops && vdev->tops->requeue)
		vdev->tops->requeue(vdev, q);
}

int virtio_pop(struct virtio_dev *vdev, unsigned int q, struct virtq_chain *c)
{
	int r;

	if (!vdev->active || q >= vdev->ops->nr_queues)
		return 0;
	r = virtq_pop(&vdev->vqs[q], c);
	if (r < 0)
		virtio_needs_reset(vdev, "the driver broke a virtqueue");
	return r;
}
