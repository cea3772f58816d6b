// SPDX-License-Identifier: GPL-2.0
/* The drain loop the simple devices share (virtio/devices.h). */
#include "virtio/devices.h"

int virtio_drain(struct virtio_dev *vdev, unsigned int q, struct virtq_chain *c,
		 uint32_t (*fn)(void *ctx, struct virtq_chain *c), void *ctx)
{
	struct virtq *vq = &vdev->vqs[q];
	unsigned int popped = 0;
	int r;

	for (;;) {
		virtq_disable_notify(vq);
		while ((r = virtio_pop_batch(vdev, q, c, &popped)) > 0)
			virtq_add_used(vq, c->head, fn(ctx, c));
		if (r < 0)
			return r;
		/* True: buffers came while kicks were off, and the next pop
		 * takes at least one of them (virtq.h). */
		if (!virtq_enable_notify(vq))
			return 0;
	}
}

void virtio_publish(struct virtio_dev *vdev, unsigned int q)
{
	if (!vdev->active)
		return;
	virtq_flush(&vdev->vqs[q]);
	virtio_notify_used(vdev, q);
}
