// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console with one port and no MULTIPORT: the guest's hvc0. Guest
 * output arrives on the transmitq and goes to the backend as it is; host
 * input waits in the backend until the guest has posted receive buffers,
 * and the device tells the backend when that happens (input_space), the
 * same flow control the UART gives the VM console.
 *
 * Output has flow control too: when the backend takes less than offered
 * (its reader is behind), the device holds that chain where it stopped,
 * and takes no more from the transmitq, kicks off, until the backend
 * calls virtio_console_output_room(); the guest's writes wait for their
 * buffers meanwhile, as on vports.c's ports.
 *
 * Everything here runs under vdev->lock: the ops because the core says
 * so, virtio_console_push() and virtio_console_resize() because they take
 * it. Backend output therefore runs with the lock held, and never blocks.
 */
#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_console.h>

#include "lib/log.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"

#define VCON_RXQ	0
#define VCON_TXQ	1
#define VCON_QUEUE_MAX	256

#define VCON_EMERG_OFF	offsetof(struct virtio_console_config, emerg_wr)

struct vconsole {
	struct vconsole_backend be;
	/*
	 * A push took less than offered: the backend holds input and waits
	 * for input_space. Kept across a reset on purpose: the backend still
	 * waits, and the next driver's buffers are what it waits for.
	 */
	bool rx_refused;
	struct virtq_chain chain;	/* 4 KiB: kept off the stack */
	/* The transmit chain being written out, held when the backend took
	 * only part of it: from segment tx_seg, byte tx_off on. */
	bool tx_held;
	unsigned int tx_seg;
	size_t tx_off;
	/* A snapshot gave the held chain back (vcon_quiesce()): the bytes
	 * of it already written, skipped when it is popped again. */
	size_t tx_skip;
	struct virtq_chain tx;
};

static void vcon_input_space(struct vconsole *vc)
{
	if (!vc->rx_refused)
		return;
	vc->rx_refused = false;
	if (vc->be.input_space)
		vc->be.input_space(vc->be.ctx);
}

static bool vcon_write_seg(struct vconsole *vc, const uint8_t *buf, size_t len)
{
	while (vc->tx_off < len) {
		size_t n = vc->be.output(vc->be.ctx, buf + vc->tx_off, len - vc->tx_off);

		if (!n)
			return false;
		vc->tx_off += n < len - vc->tx_off ? n : len - vc->tx_off;
	}
	return true;
}

/* The transmit chain from where it stopped; true when all of it is out.
 * The driver must not post writable buffers here; they are ignored. */
static bool vcon_output_chain(struct vconsole *vc)
{
	const struct virtq_chain *c = &vc->tx;

	if (!vc->be.output)
		return true;
	for (; vc->tx_seg < c->nr_out; vc->tx_seg++, vc->tx_off = 0) {
		if (!vcon_write_seg(vc, c->iov[vc->tx_seg].iov_base,
				    c->iov[vc->tx_seg].iov_len))
			return false;
	}
	return true;
}

/*
 * virtio_drain()'s loop, except that a chain the backend cannot take
 * whole is held, and the loop stops there with kicks off: the rest of
 * the queue waits in the avail ring for virtio_console_output_room().
 */
static void vcon_tx(struct virtio_dev *vdev)
{
	struct vconsole *vc = vdev->priv;
	struct virtq *vq = &vdev->vqs[VCON_TXQ];
	unsigned int popped = 0;
	int r;

	for (;;) {
		virtq_disable_notify(vq);
		if (vc->tx_held) {
			if (!vcon_output_chain(vc))
				goto publish;
			vc->tx_held = false;
			virtq_add_used(vq, vc->tx.head, 0);
		}
		while ((r = virtio_pop_batch(vdev, VCON_TXQ, &vc->tx, &popped)) > 0) {
			virtq_out_seek(&vc->tx, vc->tx_skip, &vc->tx_seg, &vc->tx_off);
			vc->tx_skip = 0;
			if (!vcon_output_chain(vc)) {
				vc->tx_held = true;
				goto publish;
			}
			virtq_add_used(vq, vc->tx.head, 0);
		}
		/* True: buffers came while kicks were off (virtq.h). */
		if (r < 0 || !virtq_enable_notify(vq))
			break;
	}
publish:
	virtio_publish(vdev, VCON_TXQ);
}

void virtio_console_output_room(struct virtio_dev *vdev)
{
	/* The transport's kick: vcon_tx() on the I/O thread's next turn,
	 * under the lock, where it goes on from the held chain. */
	virtio_requeue(vdev, VCON_TXQ);
}

/* Copies into the chain's writable segments; returns the bytes copied. */
static size_t vcon_copy_in(const struct virtq_chain *c, const uint8_t *buf,
			   size_t len)
{
	const struct iovec *iov = c->iov + c->nr_out;
	size_t done = 0;

	for (unsigned int i = 0; i < c->nr_in && done < len; i++) {
		size_t n = iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		memcpy(iov[i].iov_base, buf + done, n);
		done += n;
	}
	return done;
}

/*
 * Fills receive buffers until buf is consumed or the guest has none left.
 * Kicks on the receiveq stay off while buffers remain: the guest posts one
 * after each it reads, and only input that waits needs to hear of it.
 */
static size_t vcon_rx(struct virtio_dev *vdev, const uint8_t *buf, size_t len)
{
	struct vconsole *vc = vdev->priv;
	struct virtq *vq = &vdev->vqs[VCON_RXQ];
	struct virtq_chain *c = &vc->chain;
	unsigned int popped = 0;
	size_t done = 0;

	while (done < len) {
		size_t n;
		int r;

		virtq_disable_notify(vq);
		r = virtio_pop_batch(vdev, VCON_RXQ, c, &popped);
		if (r < 0)
			break;
		if (!r) {
			/* Out of buffers: ask for a kick when more come,
			 * unless some came meanwhile. */
			if (virtq_enable_notify(vq))
				continue;
			break;
		}
		n = c->err ? 0 : vcon_copy_in(c, buf + done, len - done);
		virtq_add_used(vq, c->head, n);
		done += n;
	}
	/* Broken on the way: nothing is published, so nothing was taken. */
	if (!vdev->active)
		return 0;
	virtq_flush(vq);
	virtio_notify_used(vdev, VCON_RXQ);
	return done;
}

size_t virtio_console_push(struct virtio_dev *vdev, const uint8_t *buf,
			   size_t len)
{
	struct vconsole *vc = vdev->priv;
	size_t done = 0;

	pthread_mutex_lock(&vdev->lock);
	if (vdev->active)
		done = vcon_rx(vdev, buf, len);
	if (done < len)
		vc->rx_refused = true;
	pthread_mutex_unlock(&vdev->lock);
	return done;
}

static void vcon_notify(struct virtio_dev *vdev, unsigned int q)
{
	if (!vdev->active)
		return;
	if (q == VCON_TXQ) {
		vcon_tx(vdev);
	} else if (q == VCON_RXQ) {
		/* New receive buffers: nothing to do unless input waits. */
		virtq_disable_notify(&vdev->vqs[VCON_RXQ]);
		vcon_input_space(vdev->priv);
	}
}

/* Input refused before the driver ran can go into its buffers now. */
static int vcon_activate(struct virtio_dev *vdev)
{
	vcon_input_space(vdev->priv);
	return 0;
}

/* A held chain was the old rings'; rx_refused stays (see above). */
static void vcon_reset(struct virtio_dev *vdev)
{
	struct vconsole *vc = vdev->priv;

	vc->tx_held = false;
	vc->tx_skip = 0;
}

/* ---- snapshots ---- */

#define VCON_STATE_VERSION	1

/* Receiving completes as it pops; a held transmit chain goes back to
 * the avail ring, its place kept as a byte count. */
static void vcon_quiesce(struct virtio_dev *vdev)
{
	struct vconsole *vc = vdev->priv;

	if (!vc->tx_held)
		return;
	vc->tx_skip = virtq_out_pos(&vc->tx, vc->tx_seg, vc->tx_off);
	vc->tx_held = false;
	virtq_unpop(&vdev->vqs[VCON_TXQ], 1);
}

static int vcon_save(struct virtio_dev *vdev, struct sbuf *b)
{
	struct vconsole *vc = vdev->priv;

	sbuf_put_u32(b, VCON_STATE_VERSION);
	sbuf_put_u64(b, vc->tx_skip);
	sbuf_put_u16(b, vc->be.cols);
	sbuf_put_u16(b, vc->be.rows);
	return 0;
}

/* The window is the new terminal's: a different one is a config change. */
static int vcon_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	struct vconsole *vc = vdev->priv;
	uint32_t version = sbuf_get_u32(r);
	uint64_t skip = sbuf_get_u64(r);
	uint16_t cols = sbuf_get_u16(r), rows = sbuf_get_u16(r);

	if (r->bad)
		return 0;	/* the core says truncated */
	if (version != VCON_STATE_VERSION || skip > UINT32_MAX) {
		pr_err("virtio %s: snapshot state refused: bad console state", vdev->name);
		return -EINVAL;
	}
	vc->tx_skip = skip;
	if (cols != vc->be.cols || rows != vc->be.rows)
		virtio_config_changed(vdev);
	return 0;
}

/*
 * The layout is the Linux header's, cols before rows, which is what
 * drivers read; the specification's listing has the two the other way
 * round. emerg_wr reads as 0.
 */
static void vcon_config_read(struct virtio_dev *vdev, uint32_t off,
			     uint8_t *data, uint32_t len)
{
	struct vconsole *vc = vdev->priv;
	struct virtio_console_config cfg = {
		.cols = htole16(vc->be.cols),
		.rows = htole16(vc->be.rows),
		.max_nr_ports = htole32(1),
	};

	if (off > sizeof(cfg) || len > sizeof(cfg) - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, (const uint8_t *)&cfg + off, len);
}

/*
 * Only emerg_wr is writable. Its low byte is the character, and it works
 * in any state, before features are even read (virtio 1.2, 5.3.5.1). It
 * has no flow control: a byte the backend does not take is lost.
 */
static void vcon_config_write(struct virtio_dev *vdev, uint32_t off,
			      const uint8_t *data, uint32_t len)
{
	struct vconsole *vc = vdev->priv;

	if (off > VCON_EMERG_OFF || VCON_EMERG_OFF - off >= len)
		return;
	if (vc->be.output)
		vc->be.output(vc->be.ctx, data + (VCON_EMERG_OFF - off), 1);
}

static void vcon_free(struct virtio_dev *vdev)
{
	free(vdev->priv);
	vdev->priv = NULL;
}

#define VCON_OPS(feat) {						\
	.device_id	= VIRTIO_ID_CONSOLE,				\
	.nr_queues	= 2,						\
	.queue_max	= VCON_QUEUE_MAX,				\
	.features	= (feat) | (1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE), \
	.config_size	= sizeof(struct virtio_console_config),		\
	.config_read	= vcon_config_read,				\
	.config_write	= vcon_config_write,				\
	.activate	= vcon_activate,				\
	.reset		= vcon_reset,					\
	.notify		= vcon_notify,					\
	.free		= vcon_free,					\
	.quiesce	= vcon_quiesce,					\
	.save		= vcon_save,					\
	.load		= vcon_load,					\
}

/* With a window size and without; the ops are shared and const. */
static const struct virtio_dev_ops vcon_ops = VCON_OPS(0);
static const struct virtio_dev_ops vcon_ops_size =
	VCON_OPS(1ULL << VIRTIO_CONSOLE_F_SIZE);

struct virtio_dev *virtio_console_new(const struct guest_mem *mem,
				      const struct vconsole_backend *be)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	struct vconsole *vc = calloc(1, sizeof(*vc));
	const struct virtio_dev_ops *ops = &vcon_ops;

	if (!vdev || !vc)
		goto fail;
	if (be)
		vc->be = *be;
	if (!vc->be.cols || !vc->be.rows)
		vc->be.cols = vc->be.rows = 0;
	else
		ops = &vcon_ops_size;
	if (virtio_dev_init(vdev, ops, mem, "console", vc)) {
		/* virtio_dev_init() fails before its mutex exists. */
		free(vdev->vqs);
		goto fail;
	}
	return vdev;
fail:
	free(vc);
	free(vdev);
	return NULL;
}

void virtio_console_resize(struct virtio_dev *vdev, uint16_t cols,
			   uint16_t rows)
{
	struct vconsole *vc = vdev->priv;

	if (vdev->ops != &vcon_ops_size || !cols || !rows)
		return;
	pthread_mutex_lock(&vdev->lock);
	if (vc->be.cols != cols || vc->be.rows != rows) {
		vc->be.cols = cols;
		vc->be.rows = rows;
		virtio_config_changed(vdev);
	}
	pthread_mutex_unlock(&vdev->lock);
}
