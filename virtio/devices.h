/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio device models. Each constructor returns a struct virtio_dev
 * that virtio_dev_init() has set up, with the device's state behind
 * vdev->priv, ready for a transport to carry; NULL without memory. The
 * caller ends one with virtio_dev_exit() (which frees priv) and free().
 */
#ifndef KVMINI_VIRTIO_DEVICES_H
#define KVMINI_VIRTIO_DEVICES_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio.h"

/*
 * virtio_pop() for the device models, which complete every chain they pop
 * before they publish: a driver has at most a queue's worth of chains
 * outstanding, so one more in a batch means it re-posted buffers the
 * device still holds. That puts the device in DEVICE_NEEDS_RESET, and
 * bounds the work one kick can cause. *popped counts the batch; start
 * it at 0 after each virtq_flush().
 */
static inline int virtio_pop_batch(struct virtio_dev *vdev, unsigned int q,
				   struct virtq_chain *c, unsigned int *popped)
{
	int r = virtio_pop(vdev, q, c);

	if (r > 0 && ++*popped > vdev->vqs[q].size) {
		virtio_needs_reset(vdev, "more buffers than the queue holds");
		return -EINVAL;
	}
	return r;
}

/*
 * virtio-rng (virtio 1.2 section 5.4): one request queue whose buffers are
 * filled from the host's getrandom(). A request gets at most
 * VIRTIO_RNG_MAX_REQUEST bytes, which the specification allows ("MAY use
 * less than the entire buffer"), so that no request stalls the I/O thread.
 */
#define VIRTIO_RNG_MAX_REQUEST	(64 * 1024)

struct virtio_dev *virtio_rng_new(const struct guest_mem *mem);

/*
 * virtio-console (virtio 1.2 section 5.3), one port, no MULTIPORT:
 * queue 0 receives (host to guest), queue 1 transmits (guest to host).
 *
 * The backend is where the port leads: the VM console in kvmini, a fake
 * in the unit tests. Both callbacks run with vdev->lock held, on the
 * thread that triggered them (I/O thread for kicks, vCPU thread for an
 * emergency write), so neither may call back into virtio_console_push();
 * console_input_space() only wakes the I/O thread, which is what
 * input_space is for. Any callback may be NULL.
 */
struct vconsole_backend {
	/* The guest wrote these bytes (transmitq, or emerg_wr). */
	void (*output)(void *ctx, const uint8_t *buf, size_t len);
	/* A virtio_console_push() took less than offered, and the guest
	 * has since posted receive buffers: offer the rest again. Called
	 * once per refusal. */
	void (*input_space)(void *ctx);
	void *ctx;
	/* The window size to report with VIRTIO_CONSOLE_F_SIZE; that
	 * feature is offered only when both are non-zero. */
	uint16_t cols, rows;
};

/* be is copied; NULL is a backend that drops everything. */
struct virtio_dev *virtio_console_new(const struct guest_mem *mem,
				      const struct vconsole_backend *be);

/*
 * Host input for the guest, from the I/O thread (it takes vdev->lock):
 * copies into the receive buffers the guest posted and returns how many
 * bytes it took, 0 when the guest has posted none or the driver is not
 * running. Wire it to console_attach() through a console_push_fn that
 * passes its ctx on as vdev.
 */
size_t virtio_console_push(struct virtio_dev *vdev, const uint8_t *buf,
			   size_t len);

/* A new window size (SIGWINCH): updates the config space and raises a
 * config change interrupt. Ignored without VIRTIO_CONSOLE_F_SIZE offered.
 * Takes vdev->lock. */
void virtio_console_resize(struct virtio_dev *vdev, uint16_t cols, uint16_t rows);

/*
 * virtio-blk (virtio 1.2 section 5.2) on a disk that disk_open() opened,
 * with nr_queues request queues (at most 16) and I/O through io_uring;
 * see virtio/blk.c. On success the device owns the disk (disk->fd
 * becomes -1) and closes it when freed; on failure (one error line) the
 * caller still does. index names it ("blk0"…). Completions arrive on an
 * eventfd that the device puts on loop; with loop NULL (unit tests) the
 * caller polls virtio_blk_completion_fd() and calls virtio_blk_complete(),
 * which takes vdev->lock.
 */
struct disk;
struct evloop;

struct virtio_dev *virtio_blk_new(const struct guest_mem *mem, struct disk *disk,
				  unsigned int nr_queues, struct evloop *loop,
				  unsigned int index);
int virtio_blk_completion_fd(const struct virtio_dev *vdev);
void virtio_blk_complete(struct virtio_dev *vdev);

#endif
