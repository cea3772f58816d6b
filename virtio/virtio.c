// SPDX-License-Identifier: GPL-2.0
/*
 * The transport-independent half of a virtio device: the status state
 * machine, feature negotiation and interrupts, and the helpers both
 * transports use around them (eventfds, feature words, queue fields,
 * config space).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "virtio/virtio.h"

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_FAILED	VIRTIO_CONFIG_S_FAILED
#define S_NEEDS_RESET	VIRTIO_CONFIG_S_NEEDS_RESET
#define LOW32		0xffffffffULL

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
		/* What else the driver set with FAILED means nothing now; kept,
		 * it would be a status no step reaches, which a snapshot of
		 * this device could not restore. */
		vdev->status = old | S_FAILED;
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

bool virtio_notify_used(struct virtio_dev *vdev, unsigned int q)
{
	if (q >= vdev->ops->nr_queues || !virtq_should_notify(&vdev->vqs[q]))
		return false;
	virtio_interrupt(vdev, VIRTIO_ISR_USED, q);
	return true;
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

/* ---- transport helpers ------------------------------------------------ */

static int virtio_eventfd_signal(int fd)
{
	uint64_t one = 1;

	return write(fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

void virtio_kick_eventfd(struct virtio_dev *vdev, int fd)
{
	int err = virtio_eventfd_signal(fd);

	if (err)
		pr_warn_once("virtio %s: cannot queue a kick: %s", vdev->name,
			     strerror(-err));
}

void virtio_irq_eventfd(struct virtio_dev *vdev, int fd)
{
	int err = virtio_eventfd_signal(fd);

	if (err)
		pr_warn_once("virtio %s: cannot raise interrupt: %s", vdev->name,
			     strerror(-err));
}

void virtio_kicked(struct virtio_dev *vdev, int fd, unsigned int q)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&vdev->lock);
	/* A kick that raced with a reset or a queue stop is dropped. */
	if (vdev->active && vdev->vqs[q].ready && vdev->ops->notify)
		vdev->ops->notify(vdev, q);
	pthread_mutex_unlock(&vdev->lock);
}

uint32_t virtio_feature_word(uint64_t features, uint32_t sel)
{
	switch (sel) {
	case 0:
		return features & LOW32;
	case 1:
		return features >> 32;
	}
	return 0;
}

void virtio_driver_feature_word(struct virtio_dev *vdev, uint32_t sel,
				uint32_t val, uint32_t max_sel)
{
	if (!(vdev->status & S_DRIVER) || (vdev->status & (S_FEATURES_OK | S_DRIVER_OK))) {
		pr_warn_once("virtio %s: driver features written in status %#x; ignored",
			     vdev->name, vdev->status);
		return;
	}
	if (sel > max_sel) {
		/* Linux writes an empty high word to legacy devices too. */
		if (val)
			pr_warn_once("virtio %s: driver features word %u ignored",
				     vdev->name, sel);
		return;
	}
	vdev->features = (vdev->features & ~(LOW32 << (32 * sel))) |
			 (uint64_t)val << (32 * sel);
}

uint8_t virtio_status_read(const struct virtio_dev *vdev)
{
	return vdev->status | (vdev->broken ? S_NEEDS_RESET : 0);
}

void virtio_queue_field_addr(uint64_t *addr, uint32_t val, bool high)
{
	if (high)
		*addr = (*addr & LOW32) | (uint64_t)val << 32;
	else
		*addr = (*addr & ~LOW32) | val;
}

/*
 * Rings follow the negotiated features (event index, indirect tables), so
 * a queue may only become ready once those are final.
 */
bool virtio_queue_field_enable(struct virtio_dev *vdev, struct virtq *vq,
			       uint8_t need)
{
	int err;

	if (!(vdev->status & need)) {
		pr_warn_once("virtio %s: queue made ready before feature negotiation; ignored",
			     vdev->name);
		return false;
	}
	vq->features = vdev->features;
	err = virtq_enable(vq);
	if (err == -EFAULT)
		virtio_needs_reset(vdev, "the driver put a virtqueue outside RAM");
	else if (err)
		virtio_needs_reset(vdev, "the driver gave a virtqueue a bad size or alignment, or rings that overlap");
	return !err;
}

/* Any width, any alignment, as long as it lies wholly in config space. */
void virtio_config_access(struct virtio_dev *vdev, uint64_t off, uint8_t *data,
			  uint32_t len, bool is_write)
{
	const struct virtio_dev_ops *ops = vdev->ops;

	if ((len != 1 && len != 2 && len != 4 && len != 8) ||
	    off > ops->config_size || len > ops->config_size - off) {
		pr_warn_once("virtio %s: %u-byte config access at %#llx ignored",
			     vdev->name, len, (unsigned long long)off);
		return;
	}
	if (!is_write && ops->config_read)
		ops->config_read(vdev, off, data, len);
	else if (is_write && ops->config_write)
		ops->config_write(vdev, off, data, len);
}
