// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng: the driver posts device-writable buffers on the request
 * queue and the device fills them with bytes from the host kernel's
 * CSPRNG, getrandom(). No features, no config space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <linux/virtio_rng.h>

#include "lib/log.h"
#include "virtio/devices.h"

#define RNG_REQUESTQ	0
#define RNG_QUEUE_MAX	256

struct vrng {
	struct virtq_chain chain;	/* 4 KiB: kept off the I/O thread's stack */
};

/*
 * GRND_NONBLOCK: the pool is initialised long before a guest runs, and if
 * it is not, a short answer is better than a stuck I/O thread. Returns
 * the bytes written into p.
 */
static size_t rng_read(uint8_t *p, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = getrandom(p + done, len - done, GRND_NONBLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			pr_warn_once("virtio rng: getrandom: %s",
				     n < 0 ? strerror(errno) : "no bytes");
			break;
		}
		done += n;
	}
	return done;
}

/* Fills the chain's writable segments, in order, up to the request cap. */
static uint32_t rng_fill(const struct virtq_chain *c)
{
	const struct iovec *iov = c->iov + c->nr_out;
	size_t done = 0;

	for (unsigned int i = 0; i < c->nr_in && done < VIRTIO_RNG_MAX_REQUEST; i++) {
		size_t want = iov[i].iov_len;
		size_t got;

		if (want > VIRTIO_RNG_MAX_REQUEST - done)
			want = VIRTIO_RNG_MAX_REQUEST - done;
		got = rng_read(iov[i].iov_base, want);
		done += got;
		if (got < want)
			break;
	}
	return done;
}

static uint32_t rng_one(void *ctx, struct virtq_chain *c)
{
	(void)ctx;
	return c->err ? 0 : rng_fill(c);
}

/* A kick: complete every request, then publish and interrupt once. */
static void rng_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vrng *rng = vdev->priv;

	if (q != RNG_REQUESTQ || !vdev->active)
		return;
	virtio_drain(vdev, RNG_REQUESTQ, &rng->chain, rng_one, NULL);
	virtio_publish(vdev, RNG_REQUESTQ);
}

/* Never called with a non-empty range (config_size is 0); here for safety. */
static void rng_config_read(struct virtio_dev *vdev, uint32_t off,
			    uint8_t *data, uint32_t len)
{
	(void)vdev;
	(void)off;
	memset(data, 0, len);
}

static void rng_free(struct virtio_dev *vdev)
{
	free(vdev->priv);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops rng_ops = {
	.device_id	= VIRTIO_ID_RNG,
	.nr_queues	= 1,
	.queue_max	= RNG_QUEUE_MAX,
	.config_read	= rng_config_read,
	.notify		= rng_notify,
	.free		= rng_free,
};

struct virtio_dev *virtio_rng_new(const struct guest_mem *mem)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	struct vrng *rng = calloc(1, sizeof(*rng));

	if (!vdev || !rng)
		goto fail;
	if (virtio_dev_init(vdev, &rng_ops, mem, "rng", rng)) {
		/* virtio_dev_init() fails before its mutex exists. */
		free(vdev->vqs);
		goto fail;
	}
	return vdev;
fail:
	free(rng);
	free(vdev);
	return NULL;
}
