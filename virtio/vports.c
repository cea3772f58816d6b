// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console with VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.2 section
 * 5.3.6.2): named ports that carry the guest's output to the host, for
 * kvmini exec's job streams. A Linux guest sees /dev/vportNpM, named in
 * /sys/class/virtio-ports/vportNpM/name; a write there queues up to 32 KiB
 * and returns, so the guest keeps a queue's worth of buffers in flight
 * rather than waiting for each (hvc0 waits for every 4 KiB).
 *
 * Queues: receiveq and transmitq of port 0 (0, 1), the control receiveq
 * (2, device to driver) and transmitq (3, driver to device), then the
 * receiveq and transmitq of port N at 2N + 2 and 2N + 3. The handshake:
 * the driver sends DEVICE_READY; the device announces each port
 * (PORT_ADD); the driver answers PORT_READY for each; the device sends
 * its PORT_NAME and PORT_OPEN (the host end is connected, without which
 * Linux blocks writes). Messages for the driver wait here, a bounded
 * number, until it posts control buffers.
 *
 * Output goes to each port's write backend, which may take less than
 * offered; the device then holds the rest of that buffer, and takes no
 * more from that port, until virtio_vports_flush(). Host to guest input
 * is not offered: receive buffers are left as they are.
 */
#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_console.h>

#include "lib/log.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"

#define VP_CTRL_RXQ	2
#define VP_CTRL_TXQ	3
#define VP_QUEUE_MAX	256
#define VP_MSGS_MAX	32	/* a port's three, several times over */

struct vp_msg {
	uint32_t id;
	uint16_t event;
	uint16_t value;
};

struct vp_port {
	struct vport_backend be;
	bool guest_open;	/* the guest's PORT_OPEN: it reads input */
	/* As in vconsole.c: the chain being written out, held when the
	 * backend took only part of it. */
	bool held;
	unsigned int seg;
	size_t off;
	size_t skip;		/* as vconsole.c's tx_skip */
	struct virtq_chain chain;
};

struct vports {
	struct vp_port port[VPORTS_MAX];
	unsigned int nr;
	struct vp_msg msgs[VP_MSGS_MAX];	/* waiting for control buffers */
	unsigned int nr_msgs;
	struct virtq_chain chain;		/* control queues */
};

static unsigned int vp_txq(unsigned int port)
{
	return port ? 2 * port + 3 : 1;
}

static unsigned int vp_rxq(unsigned int port)
{
	return port ? 2 * port + 2 : 0;
}

/* The backend may have input waiting: tell it the guest can take some. */
static void vp_room(struct vp_port *p)
{
	if (p->be.room)
		p->be.room(p->be.ctx);
}

/* ---- port output ---- */

static bool vp_write_seg(struct vp_port *p, const uint8_t *buf, size_t len)
{
	while (p->off < len) {
		size_t n = p->be.write(p->be.ctx, buf + p->off, len - p->off);

		if (!n)
			return false;
		p->off += n < len - p->off ? n : len - p->off;
	}
	return true;
}

/* The held chain from where it stopped; true when all of it is out.
 * Writable segments are a driver bug and are ignored. */
static bool vp_output_chain(struct vp_port *p)
{
	const struct virtq_chain *c = &p->chain;

	for (; p->seg < c->nr_out; p->seg++, p->off = 0) {
		if (!vp_write_seg(p, c->iov[p->seg].iov_base, c->iov[p->seg].iov_len))
			return false;
	}
	return true;
}

/* Kicks stay off while a buffer is held: a flush restarts the queue. */
static void vp_tx(struct virtio_dev *vdev, unsigned int port)
{
	struct vp_port *p = &((struct vports *)vdev->priv)->port[port];
	unsigned int q = vp_txq(port), popped = 0;
	struct virtq *vq = &vdev->vqs[q];
	int r;

	for (;;) {
		virtq_disable_notify(vq);
		if (p->held) {
			if (!vp_output_chain(p))
				goto publish;
			p->held = false;
			virtq_add_used(vq, p->chain.head, 0);
		}
		while ((r = virtio_pop_batch(vdev, q, &p->chain, &popped)) > 0) {
			virtq_out_seek(&p->chain, p->skip, &p->seg, &p->off);
			p->skip = 0;
			if (!vp_output_chain(p)) {
				p->held = true;
				goto publish;
			}
			virtq_add_used(vq, p->chain.head, 0);
		}
		if (r < 0 || !virtq_enable_notify(vq))
			break;
	}
publish:
	if (!vdev->active)
		return;
	virtq_flush(vq);
	virtio_notify_used(vdev, q);
}

/* ---- control messages to the driver ---- */

static void vp_queue_msg(struct vports *vp, uint32_t id, uint16_t event,
			 uint16_t value)
{
	if (vp->nr_msgs == VP_MSGS_MAX) {
		pr_warn_once("virtio vports: the driver does not take control messages; dropping");
		return;
	}
	vp->msgs[vp->nr_msgs++] = (struct vp_msg){ id, event, value };
}

/* Copies len bytes into the chain's writable segments from offset at. */
static void vp_copy_in(const struct virtq_chain *c, size_t at, const void *buf,
		       size_t len)
{
	const struct iovec *iov = c->iov + c->nr_out;

	for (unsigned int i = 0; i < c->nr_in && len; i++) {
		size_t n = iov[i].iov_len;

		if (at >= n) {
			at -= n;
			continue;
		}
		n -= at;
		if (n > len)
			n = len;
		memcpy((uint8_t *)iov[i].iov_base + at, buf, n);
		buf = (const uint8_t *)buf + n;
		len -= n;
		at = 0;
	}
}

/* One message into the chain; a PORT_NAME carries the name after it.
 * Returns the bytes written, 0 when the buffer is too small for it. */
static uint32_t vp_fill_msg(struct vports *vp, const struct virtq_chain *c,
			    const struct vp_msg *m)
{
	struct virtio_console_control cc = {
		.id = htole32(m->id),
		.event = htole16(m->event),
		.value = htole16(m->value),
	};
	const char *name = m->event == VIRTIO_CONSOLE_PORT_NAME ?
			   vp->port[m->id].be.name : "";
	size_t len = sizeof(cc) + strlen(name);

	if (c->err || c->in_len < len)
		return 0;
	vp_copy_in(c, 0, &cc, sizeof(cc));
	vp_copy_in(c, sizeof(cc), name, len - sizeof(cc));
	return len;
}

/* Hands waiting messages to the driver's control buffers, in order. */
static void vp_send_msgs(struct virtio_dev *vdev)
{
	struct vports *vp = vdev->priv;
	struct virtq *vq = &vdev->vqs[VP_CTRL_RXQ];
	unsigned int sent = 0, popped = 0;

	while (sent < vp->nr_msgs) {
		int r = virtio_pop_batch(vdev, VP_CTRL_RXQ, &vp->chain, &popped);

		if (r <= 0)
			break;
		virtq_add_used(vq, vp->chain.head,
			       vp_fill_msg(vp, &vp->chain, &vp->msgs[sent++]));
	}
	memmove(vp->msgs, vp->msgs + sent, (vp->nr_msgs - sent) * sizeof(vp->msgs[0]));
	vp->nr_msgs -= sent;
	if (!vdev->active)
		return;
	virtq_flush(vq);
	virtio_notify_used(vdev, VP_CTRL_RXQ);
}

/* ---- control messages from the driver ---- */

static void vp_handle_msg(struct vports *vp, const struct virtio_console_control *cc)
{
	struct vp_port *p;

	uint32_t id = le32toh(cc->id);
	uint16_t event = le16toh(cc->event), value = le16toh(cc->value);

	switch (event) {
	case VIRTIO_CONSOLE_DEVICE_READY:
		for (unsigned int i = 0; value == 1 && i < vp->nr; i++)
			vp_queue_msg(vp, i, VIRTIO_CONSOLE_PORT_ADD, 0);
		break;
	case VIRTIO_CONSOLE_PORT_READY:
		if (value != 1 || id >= vp->nr)
			break;
		vp_queue_msg(vp, id, VIRTIO_CONSOLE_PORT_NAME, 0);
		vp_queue_msg(vp, id, VIRTIO_CONSOLE_PORT_OPEN, 1);
		break;
	case VIRTIO_CONSOLE_PORT_OPEN:
		if (id >= vp->nr || value > 1)
			break;
		p = &vp->port[id];
		p->guest_open = value;
		if (value)
			vp_room(p);
		break;
	default:
		/* The rest (resizes, names from the guest): nothing to do. */
		break;
	}
}

/* The first bytes of the readable segments, as a control message. */
static bool vp_read_msg(const struct virtq_chain *c, struct virtio_console_control *cc)
{
	size_t done = 0;

	if (c->err || c->out_len < sizeof(*cc))
		return false;
	for (unsigned int i = 0; i < c->nr_out && done < sizeof(*cc); i++) {
		size_t n = c->iov[i].iov_len;

		if (n > sizeof(*cc) - done)
			n = sizeof(*cc) - done;
		guest_copy((uint8_t *)cc + done, c->iov[i].iov_base, n);
		done += n;
	}
	return true;
}

static uint32_t vp_ctrl_tx_one(void *ctx, struct virtq_chain *c)
{
	struct virtio_console_control cc;

	if (vp_read_msg(c, &cc))
		vp_handle_msg(ctx, &cc);
	return 0;
}

static void vp_ctrl_tx(struct virtio_dev *vdev)
{
	struct vports *vp = vdev->priv;

	virtio_drain(vdev, VP_CTRL_TXQ, &vp->chain, vp_ctrl_tx_one, vp);
	if (!vdev->active)
		return;
	virtio_publish(vdev, VP_CTRL_TXQ);
	vp_send_msgs(vdev);
}

/* ---- ops ---- */

static void vp_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vports *vp = vdev->priv;

	if (!vdev->active)
		return;
	if (q == VP_CTRL_TXQ) {
		vp_ctrl_tx(vdev);
	} else if (q == VP_CTRL_RXQ) {
		vp_send_msgs(vdev);
	} else if (q & 1) {
		unsigned int port = q == 1 ? 0 : (q - 3) / 2;

		if (port < vp->nr)
			vp_tx(vdev, port);
	} else {
		unsigned int port = q ? (q - 2) / 2 : 0;

		/* New receive buffers: room for input waiting. */
		if (port < vp->nr && vp->port[port].guest_open)
			vp_room(&vp->port[port]);
	}
}

static void vp_config_read(struct virtio_dev *vdev, uint32_t off,
			   uint8_t *data, uint32_t len)
{
	struct vports *vp = vdev->priv;
	struct virtio_console_config cfg = {
		.max_nr_ports = htole32(vp->nr),
	};

	if (off > sizeof(cfg) || len > sizeof(cfg) - off) {
		memset(data, 0, len);
		return;
	}
	memcpy(data, (const uint8_t *)&cfg + off, len);
}

/* A driver's reset forgets its buffers and the handshake. */
static void vp_reset(struct virtio_dev *vdev)
{
	struct vports *vp = vdev->priv;

	vp->nr_msgs = 0;
	for (unsigned int i = 0; i < vp->nr; i++) {
		vp->port[i].held = false;
		vp->port[i].skip = 0;
		vp->port[i].guest_open = false;
	}
}

/* ---- snapshots ---- */

/* 2 added each port's guest_open; 1 is read as all closed. */
#define VP_STATE_VERSION	2

/* Control chains complete as they are popped; a port's held chain goes
 * back to the avail ring, its place kept as a byte count. */
static void vp_quiesce(struct virtio_dev *vdev)
{
	struct vports *vp = vdev->priv;

	for (unsigned int i = 0; i < vp->nr; i++) {
		struct vp_port *p = &vp->port[i];

		if (!p->held)
			continue;
		p->skip = virtq_out_pos(&p->chain, p->seg, p->off);
		p->held = false;
		virtq_unpop(&vdev->vqs[vp_txq(i)], 1);
	}
}

/* The control messages not yet delivered (the ports' handshake and
 * open state) and each port's place in its held chain. */
static int vp_save(struct virtio_dev *vdev, struct sbuf *b)
{
	struct vports *vp = vdev->priv;

	sbuf_put_u32(b, VP_STATE_VERSION);
	sbuf_put_u32(b, vp->nr);
	for (unsigned int i = 0; i < vp->nr; i++) {
		sbuf_put_u64(b, vp->port[i].skip);
		sbuf_put_u8(b, vp->port[i].guest_open);
	}
	sbuf_put_u32(b, vp->nr_msgs);
	for (unsigned int i = 0; i < vp->nr_msgs; i++) {
		sbuf_put_u32(b, vp->msgs[i].id);
		sbuf_put_u16(b, vp->msgs[i].event);
		sbuf_put_u16(b, vp->msgs[i].value);
	}
	return 0;
}

/* Only messages vp_handle_msg() queues, about ports that exist. */
static bool vp_msg_valid(const struct vports *vp, const struct vp_msg *m)
{
	if (m->id >= vp->nr)
		return false;
	switch (m->event) {
	case VIRTIO_CONSOLE_PORT_ADD:
	case VIRTIO_CONSOLE_PORT_NAME:
		return m->value == 0;
	case VIRTIO_CONSOLE_PORT_OPEN:
		return m->value == 1;
	}
	return false;
}

static int vp_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	struct vports *vp = vdev->priv;
	uint32_t version = sbuf_get_u32(r), nr = sbuf_get_u32(r);
	const char *why = NULL;

	if (version != VP_STATE_VERSION && version != 1)
		why = "unknown layout version";
	else if (nr != vp->nr)
		why = "another number of ports";
	for (unsigned int i = 0; !why && i < vp->nr; i++) {
		uint64_t skip = sbuf_get_u64(r);

		uint8_t open = version == 1 ? 0 : sbuf_get_u8(r);

		if (skip > UINT32_MAX)
			why = "held chain position";
		else if (open > 1)
			why = "port open flag";
		vp->port[i].skip = skip;
		vp->port[i].guest_open = open;
	}
	if (!why) {
		uint32_t n = sbuf_get_u32(r);

		if (n > VP_MSGS_MAX)
			why = "too many control messages";
		for (unsigned int i = 0; !why && i < n && !r->bad; i++) {
			struct vp_msg *m = &vp->msgs[i];

			m->id = sbuf_get_u32(r);
			m->event = sbuf_get_u16(r);
			m->value = sbuf_get_u16(r);
			if (!r->bad && !vp_msg_valid(vp, m))
				why = "unknown control message";
			vp->nr_msgs = i + 1;
		}
	}
	if (r->bad)
		return 0;	/* the core says truncated */
	if (why) {
		pr_err("virtio %s: snapshot state refused: %s", vdev->name, why);
		return -EINVAL;
	}
	return 0;
}

static void vp_free(struct virtio_dev *vdev)
{
	free(vdev->priv);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops vp_ops[VPORTS_MAX] = {
#define VP_OPS(n) {							\
	.device_id	= VIRTIO_ID_CONSOLE,				\
	.nr_queues	= 2 * ((n) + 1),				\
	.queue_max	= VP_QUEUE_MAX,					\
	.features	= 1ULL << VIRTIO_CONSOLE_F_MULTIPORT,		\
	.config_size	= sizeof(struct virtio_console_config),		\
	.config_read	= vp_config_read,				\
	.reset		= vp_reset,					\
	.notify		= vp_notify,					\
	.free		= vp_free,					\
	.quiesce	= vp_quiesce,					\
	.save		= vp_save,					\
	.load		= vp_load,					\
}
	VP_OPS(1), VP_OPS(2), VP_OPS(3), VP_OPS(4),
	VP_OPS(5), VP_OPS(6), VP_OPS(7), VP_OPS(8),
#undef VP_OPS
};

struct virtio_dev *virtio_vports_new(const struct guest_mem *mem,
				     const struct vport_backend *ports,
				     unsigned int nr)
{
	struct virtio_dev *vdev;
	struct vports *vp;

	if (!nr || nr > VPORTS_MAX)
		return NULL;
	vdev = calloc(1, sizeof(*vdev));
	vp = calloc(1, sizeof(*vp));
	if (!vdev || !vp)
		goto fail;
	vp->nr = nr;
	for (unsigned int i = 0; i < nr; i++)
		vp->port[i].be = ports[i];
	if (virtio_dev_init(vdev, &vp_ops[nr - 1], mem, "vports", vp)) {
		free(vdev->vqs);
		goto fail;
	}
	return vdev;
fail:
	free(vp);
	free(vdev);
	return NULL;
}

bool virtio_vports_flush(struct virtio_dev *vdev, unsigned int port)
{
	struct vports *vp = vdev->priv;
	bool out = true;

	pthread_mutex_lock(&vdev->lock);
	if (vdev->active && port < vp->nr) {
		vp_tx(vdev, port);
		out = !vp->port[port].held;
	}
	pthread_mutex_unlock(&vdev->lock);
	return out;
}

/* As many bytes as the guest's posted receive buffers take; each chain
 * gets what fits and goes back at once (the guest reads it as it is). */
size_t virtio_vports_send(struct virtio_dev *vdev, unsigned int port,
			  const void *buf, size_t len)
{
	struct vports *vp = vdev->priv;
	unsigned int q, popped = 0;
	struct virtq *vq;
	size_t done = 0;

	pthread_mutex_lock(&vdev->lock);
	if (!vdev->active || port >= vp->nr || !vp->port[port].guest_open)
		goto out;
	q = vp_rxq(port);
	vq = &vdev->vqs[q];
	for (;;) {
		int r = 0;

		while (done < len &&
		       (r = virtio_pop_batch(vdev, q, &vp->chain, &popped)) > 0) {
			size_t n = vp->chain.err ? 0 : vp->chain.in_len;

			if (n > len - done)
				n = len - done;
			vp_copy_in(&vp->chain, 0, (const uint8_t *)buf + done, n);
			virtq_add_used(vq, vp->chain.head, n);
			done += n;
		}
		/* Out of buffers with bytes left: the guest's next ones
		 * must kick (vp_notify() then calls the room callback). */
		if (done == len || r < 0 || !virtq_enable_notify(vq))
			break;
	}
	if (popped) {
		virtq_flush(vq);
		virtio_notify_used(vdev, q);
	}
out:
	pthread_mutex_unlock(&vdev->lock);
	return done;
}
