// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock (virtio 1.2 section 5.10), served by kvmini itself: stream
 * sockets between the guest and host programs, each stream a Unix socket
 * that the backend (virtio/vsock_backend.h) hands over. Queues: 0 receive
 * (device to driver), 1 transmit, 2 events (never used: kvmini does not
 * migrate, so it has no transport reset to report).
 *
 * Transmit: a kick drains the queue (virtio_drain(), a queue's worth per
 * batch); each packet is judged (vsock_pkt.c), goes through its
 * connection's state machine (vsock_conn.c), and its payload is written
 * straight from the guest's buffers to the socket with writev. What the
 * socket does not take now is copied into the connection's buffer, which
 * the credit we give the guest bounds (VSOCK_BUF_ALLOC), and written when
 * the socket has room (EPOLLOUT); a guest that sends beyond its credit is
 * reset. So a host reader that stops reading stops the guest's writer.
 *
 * Receive: connections with something for the guest wait on a ready list,
 * served round robin, one packet each per turn; resets for packets that
 * match no connection wait in a small ring. A receive chain is popped
 * only when there is something to send, and held while a read finds
 * nothing. Data is read with readv straight into the guest's buffer, at
 * most the guest's credit, so a guest that stops reading stops kvmini
 * reading the socket (EPOLLIN off), and the host writer blocks.
 *
 * Locking: everything under vdev->lock. A driver reset (a vCPU's status
 * write) only marks the device; the I/O thread closes the sockets (the
 * vCPU threads' seccomp filter allows no close or epoll_ctl), woken by an
 * eventfd, or earlier by whichever of its entries comes first.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/container_of.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"
#include "virtio/vsock.h"
#include "virtio/vsock_backend.h"

#define VSOCK_RXQ		0
#define VSOCK_TXQ		1
#define VSOCK_EVQ		2
#define VSOCK_QUEUE_MAX		256
/* The ring holds the connections' resets as well as the refusals. */
#define VSOCK_RST_RING		(VSOCK_RST_MAX + VSOCK_CONN_MAX)

struct vsock_rst {
	uint64_t cid;			/* the CID the guest addressed */
	uint32_t local_port, peer_port;
};

struct vsock {
	struct virtio_dev *vdev;
	struct vsock_backend be;
	struct evloop *loop;
	uint64_t cid;
	struct vsock_table t;

	uint16_t ready[VSOCK_CONN_MAX];	/* table indices, FIFO */
	unsigned int ready_head, nr_ready;
	struct vsock_rst rst[VSOCK_RST_RING];
	unsigned int rst_head, nr_rst;

	struct virtq_chain tx_chain;
	struct virtq_chain rx_chain;
	bool rx_held;			/* rx_chain popped, not yet used */
	struct iovec iov[VIRTQ_MAX_SEGS];

	/* Restored from a snapshot: the guest's connections are gone, and
	 * TRANSPORT_RESET goes on the event queue once it has a buffer. */
	bool evt_reset_owed;

	int reset_fd;			/* eventfd: a driver reset happened */
	struct ev_handler reset_ev;
	bool reset_pending;

	unsigned long dropped, refused, resets;
};

static void vsock_update_events(struct vsock *s, struct vsock_conn *c);

/* ---- the ready list and the reset ring ----------------------------------- */

static void vsock_queue(struct vsock *s, struct vsock_conn *c)
{
	if (c->queued)
		return;
	c->queued = true;
	s->ready[(s->ready_head + s->nr_ready++) % VSOCK_CONN_MAX] = c - s->t.conn;
}

static struct vsock_conn *vsock_dequeue(struct vsock *s)
{
	struct vsock_conn *c = &s->t.conn[s->ready[s->ready_head]];

	s->ready_head = (s->ready_head + 1) % VSOCK_CONN_MAX;
	s->nr_ready--;
	c->queued = false;
	return c;
}

static void vsock_unqueue(struct vsock *s, struct vsock_conn *c)
{
	unsigned int n = s->nr_ready, kept = 0;
	uint16_t idx = c - s->t.conn;

	if (!c->queued)
		return;
	for (unsigned int i = 0; i < n; i++) {
		uint16_t v = s->ready[(s->ready_head + i) % VSOCK_CONN_MAX];

		if (v != idx)
			s->ready[(s->ready_head + kept++) % VSOCK_CONN_MAX] = v;
	}
	s->nr_ready = kept;
	c->queued = false;
}

/* A reset for the guest; refusals only while the ring has room to spare
 * for every connection's own. */
static void vsock_rst_push(struct vsock *s, uint64_t cid, uint32_t local,
			   uint32_t peer, bool refusal)
{
	if (s->nr_rst >= (refusal ? VSOCK_RST_MAX : VSOCK_RST_RING)) {
		s->dropped++;
		return;
	}
	s->rst[(s->rst_head + s->nr_rst++) % VSOCK_RST_RING] =
		(struct vsock_rst){ cid, local, peer };
}

/* The reply to a guest packet that no connection takes. */
static void vsock_refuse(struct vsock *s, const struct vsock_hdr *h)
{
	s->refused++;
	vsock_rst_push(s, h->dst_cid, h->dst_port, h->src_port, true);
}

/* ---- connections ------------------------------------------------------ */

static void vsock_close(struct vsock *s, struct vsock_conn *c, bool rst)
{
	if (c->state == VSOCK_FREE)
		return;
	if (c->ev_mask)
		evloop_del(s->loop, &c->ev);
	if (c->fd >= 0)
		close(c->fd);
	vsock_unqueue(s, c);
	if (rst)
		vsock_rst_push(s, VSOCK_HOST_CID, c->local_port, c->peer_port, false);
	vsock_conn_release(&s->t, c);
}

/* A stream broken by either side's mistake or failure (counted): not the
 * reset that ends every stream the guest closed. */
static void vsock_reset_conn(struct vsock *s, struct vsock_conn *c)
{
	s->resets++;
	vsock_close(s, c, true);
}

static void vsock_close_all(struct vsock *s)
{
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++)
		vsock_close(s, &s->t.conn[i], false);
	s->ready_head = s->nr_ready = 0;
	s->rst_head = s->nr_rst = 0;
	s->rx_held = false;
	s->reset_pending = false;
}

static bool vsock_can_read(const struct vsock_conn *c)
{
	return c->state == VSOCK_ESTABLISHED && !c->host_eof &&
	       !(c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) &&
	       vsock_peer_credit(c) > 0;
}

/* EPOLLIN while a read may be due and none is known to be; EPOLLOUT
 * while bytes wait for the socket; off the loop when neither, so that a
 * hung-up socket we do not serve now cannot spin the loop. */
static void vsock_update_events(struct vsock *s, struct vsock_conn *c)
{
	uint32_t mask = 0;
	int err = 0;

	if (vsock_can_read(c) && !c->readable)
		mask |= EPOLLIN;
	if (c->buf_len)
		mask |= EPOLLOUT;
	if (mask == c->ev_mask)
		return;
	if (!mask)
		evloop_del(s->loop, &c->ev);
	else if (!c->ev_mask)
		err = evloop_add(s->loop, &c->ev, mask);
	else
		err = evloop_mod(s->loop, &c->ev, mask);
	if (err) {
		/* Not on the loop, this stream would wait forever. */
		pr_warn_once("virtio vsock: epoll: %s", strerror(-err));
		vsock_reset_conn(s, c);
		return;
	}
	c->ev_mask = mask;
}

/* Writes out what the buffer holds; false when the socket broke. */
static bool vsock_flush(struct vsock_conn *c)
{
	while (c->buf_len) {
		ssize_t n = write(c->fd, c->buf + c->buf_off, c->buf_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
		c->buf_off += n;
		c->buf_len -= n;
		vsock_conn_forwarded(c, n);
	}
	c->buf_off = 0;
	return true;
}

/* After anything happened to c: half-close, the end, the loop's events,
 * the ready list. */
static void vsock_settle(struct vsock *s, struct vsock_conn *c)
{
	if (c->state == VSOCK_FREE)
		return;
	if (!c->buf_len && (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) && !c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (vsock_conn_done(c)) {
		vsock_close(s, c, true);
		return;
	}
	if (c->pending || (c->readable && vsock_can_read(c)))
		vsock_queue(s, c);
	vsock_update_events(s, c);
}

static void vsock_on_sock(struct ev_handler *h, uint32_t events);

static struct vsock_conn *vsock_conn_new(struct vsock *s, int fd,
					 uint32_t local, uint32_t peer)
{
	struct vsock_conn *c = vsock_conn_alloc(&s->t, local, peer);

	if (!c)
		return NULL;
	c->fd = fd;
	c->dev = s;
	c->ev.fd = fd;
	c->ev.fn = vsock_on_sock;
	return c;
}

/* ---- transmit: guest to host ----------------------------------------- */

/* The payload to the socket: writev from the guest's buffers, and what
 * the socket leaves into our buffer (vsock_conn_take() made room). */
static bool vsock_tx_data(struct vsock *s, struct vsock_conn *c,
			  const struct virtq_chain *ch, uint32_t len)
{
	size_t done = 0;

	if (!c->buf_len) {
		unsigned int n = vsock_iov_slice(ch->iov, ch->nr_out, VSOCK_HDR_LEN,
						 len, s->iov, VIRTQ_MAX_SEGS);
		ssize_t w;

		do
			w = writev(c->fd, s->iov, n);
		while (w < 0 && errno == EINTR);
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return false;
		if (w > 0) {
			done = w;
			vsock_conn_forwarded(c, w);
		}
	}
	if (done == len)
		return true;
	/* vsock_conn_take() keeps this within the credit kvmini gave; the
	 * buffer's own bound is checked here too, where the bytes land. */
	if (c->buf_len + (len - done) > VSOCK_BUF_ALLOC)
		return false;
	if (!c->buf) {
		c->buf = malloc(VSOCK_BUF_ALLOC);
		if (!c->buf)
			return false;
	}
	if (c->buf_off + c->buf_len + (len - done) > VSOCK_BUF_ALLOC) {
		memmove(c->buf, c->buf + c->buf_off, c->buf_len);
		c->buf_off = 0;
	}
	c->buf_len += virtq_iov_to_buf(c->buf + c->buf_off + c->buf_len, ch->iov,
				       ch->nr_out, VSOCK_HDR_LEN + done, len - done);
	return true;
}

/* A guest REQUEST for a stream that does not exist yet. */
static void vsock_tx_request(struct vsock *s, const struct vsock_hdr *h)
{
	struct vsock_conn *c;
	int fd;

	if (s->t.nr >= VSOCK_CONN_MAX) {
		vsock_refuse(s, h);
		return;
	}
	fd = s->be.connect(s->be.ctx, h->dst_port);
	if (fd < 0) {
		vsock_refuse(s, h);
		return;
	}
	c = vsock_conn_new(s, fd, h->dst_port, h->src_port);
	if (!c) {		/* not reached: the table had room */
		close(fd);
		vsock_refuse(s, h);
		return;
	}
	c->state = VSOCK_ESTABLISHED;
	vsock_conn_peer_credit(c, h);
	c->pending |= VSOCK_PEND_RESPONSE;
	vsock_settle(s, c);
}

static uint32_t vsock_tx_one(void *ctx, struct virtq_chain *ch)
{
	struct vsock *s = ctx;
	struct vsock_conn *c;
	struct vsock_hdr h;

	if (ch->err)
		return 0;
	switch (vsock_pkt_parse(ch->iov, ch->nr_out, s->cid, &h)) {
	case VSOCK_PKT_DROP:
		s->dropped++;
		return 0;
	case VSOCK_PKT_REFUSE:
		vsock_refuse(s, &h);
		return 0;
	case VSOCK_PKT_RESET:
		c = vsock_conn_find(&s->t, h.dst_port, h.src_port);
		if (c)
			vsock_reset_conn(s, c);
		else
			vsock_refuse(s, &h);
		return 0;
	case VSOCK_PKT_OK:
		break;
	}
	c = vsock_conn_find(&s->t, h.dst_port, h.src_port);
	if (!c) {
		if (h.op == VIRTIO_VSOCK_OP_REQUEST)
			vsock_tx_request(s, &h);
		else if (h.op != VIRTIO_VSOCK_OP_RST)
			vsock_refuse(s, &h);
		return 0;
	}
	switch (vsock_conn_input(c, &h)) {
	case VSOCK_ACT_NONE:
		break;
	case VSOCK_ACT_DATA:
		if (!vsock_tx_data(s, c, ch, h.len)) {
			vsock_reset_conn(s, c);
			return 0;
		}
		break;
	case VSOCK_ACT_ACCEPTED:
		if (s->be.accepted && s->be.accepted(s->be.ctx, c->fd, c->local_port)) {
			vsock_reset_conn(s, c);
			return 0;
		}
		break;
	case VSOCK_ACT_CLOSE:
		vsock_close(s, c, false);
		return 0;
	case VSOCK_ACT_RESET:
		vsock_reset_conn(s, c);
		return 0;
	}
	vsock_settle(s, c);
	return 0;
}

/* ---- receive: host to guest ------------------------------------------ */

static uint32_t vsock_put_hdr(struct vsock *s, const struct vsock_hdr *h)
{
	uint8_t raw[VSOCK_HDR_LEN];
	struct virtq_chain *ch = &s->rx_chain;

	vsock_hdr_encode(h, raw);
	virtq_iov_from_buf(ch->iov + ch->nr_out, ch->nr_in, 0, raw, sizeof(raw));
	return VSOCK_HDR_LEN + h->len;
}

/* One packet of c into the held chain: the bytes written, 0 for none. */
static uint32_t vsock_rx_conn(struct vsock *s, struct vsock_conn *c)
{
	struct virtq_chain *ch = &s->rx_chain;
	bool data = c->readable && vsock_can_read(c);
	uint16_t op = vsock_conn_next_ctl(c, data);
	uint32_t max, credit;
	struct vsock_hdr h;
	unsigned int n;
	ssize_t r;

	if (op) {
		vsock_conn_hdr(c, s->cid, op, 0,
			       op == VIRTIO_VSOCK_OP_SHUTDOWN ? c->shut_sent : 0, &h);
		return vsock_put_hdr(s, &h);
	}
	if (!data)
		return 0;
	credit = vsock_peer_credit(c);
	max = ch->in_len - VSOCK_HDR_LEN;
	if (max > credit)
		max = credit;
	if (max > VSOCK_PAYLOAD_MAX)
		max = VSOCK_PAYLOAD_MAX;
	n = vsock_iov_slice(ch->iov + ch->nr_out, ch->nr_in, VSOCK_HDR_LEN, max,
			    s->iov, VIRTQ_MAX_SEGS);
	do
		r = readv(c->fd, s->iov, n);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		vsock_conn_hdr(c, s->cid, VIRTIO_VSOCK_OP_RW, r, 0, &h);
		/* Out of credit: ask, in case the guest's update is not
		 * already on its way. */
		if (!vsock_peer_credit(c))
			c->pending |= VSOCK_PEND_CREDIT_REQ;
		return vsock_put_hdr(s, &h);
	}
	c->readable = false;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (r < 0) {
		vsock_conn_hdr(c, s->cid, VIRTIO_VSOCK_OP_RST, 0, 0, &h);
		s->resets++;
		vsock_close(s, c, false);
		return vsock_put_hdr(s, &h);
	}
	/* End of file: the host sends no more. If the guest sends no more
	 * either, the stream is over both ways, and the guest answers this
	 * with a reset. */
	c->host_eof = true;
	c->shut_sent |= VIRTIO_VSOCK_SHUTDOWN_SEND;
	if (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->shut_sent |= VIRTIO_VSOCK_SHUTDOWN_RCV;
	vsock_conn_hdr(c, s->cid, VIRTIO_VSOCK_OP_SHUTDOWN, 0, c->shut_sent, &h);
	return vsock_put_hdr(s, &h);
}

static uint32_t vsock_rx_rst(struct vsock *s)
{
	struct vsock_rst *r = &s->rst[s->rst_head];
	struct vsock_hdr h = {
		.src_cid = r->cid,
		.dst_cid = s->cid,
		.src_port = r->local_port,
		.dst_port = r->peer_port,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = VIRTIO_VSOCK_OP_RST,
	};

	s->rst_head = (s->rst_head + 1) % VSOCK_RST_RING;
	s->nr_rst--;
	return vsock_put_hdr(s, &h);
}

/*
 * Fills receive buffers while there is something to send: at most a
 * queue's worth per call (then virtio_requeue()), so that a busy stream
 * cannot hold the I/O thread.
 */
static void vsock_rx_pump(struct vsock *s)
{
	struct virtio_dev *vdev = s->vdev;
	struct virtq *vq = &vdev->vqs[VSOCK_RXQ];
	unsigned int budget = VIRTIO_BUDGET(vq);
	bool used = false;

	if (!vdev->active)
		return;
	while (s->nr_rst || s->nr_ready) {
		struct virtq_chain *ch = &s->rx_chain;
		struct vsock_conn *c;
		uint32_t len;

		if (!s->rx_held) {
			int r;

			if (!budget) {
				virtio_requeue(vdev, VSOCK_RXQ);
				break;
			}
			r = virtio_pop(vdev, VSOCK_RXQ, ch);
			if (r < 0)
				return;
			if (!r) {
				/* Kicks on: the driver posts more. True when
				 * it already has (virtq.h). */
				if (virtq_enable_notify(vq))
					continue;
				break;
			}
			budget--;
			if (ch->err || ch->in_len < VSOCK_HDR_LEN) {
				virtq_add_used(vq, ch->head, 0);
				used = true;
				continue;
			}
			s->rx_held = true;
		}
		if (s->nr_rst) {
			len = vsock_rx_rst(s);
		} else {
			c = vsock_dequeue(s);
			len = vsock_rx_conn(s, c);
			vsock_settle(s, c);
		}
		if (len) {
			virtq_add_used(vq, ch->head, len);
			s->rx_held = false;
			used = true;
		}
	}
	if (used)
		virtio_publish(vdev, VSOCK_RXQ);
}

/* ---- events ------------------------------------------------------------ */

static void vsock_on_sock(struct ev_handler *h, uint32_t events)
{
	struct vsock_conn *c = container_of(h, struct vsock_conn, ev);
	struct vsock *s = c->dev;

	pthread_mutex_lock(&s->vdev->lock);
	if (s->reset_pending) {
		vsock_close_all(s);
	} else if (c->state != VSOCK_FREE && c->ev.fd >= 0) {
		if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->buf_len &&
		    !vsock_flush(c)) {
			vsock_reset_conn(s, c);
		} else {
			if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
				c->readable = true;
			vsock_settle(s, c);
		}
		vsock_rx_pump(s);
	}
	pthread_mutex_unlock(&s->vdev->lock);
}

static void vsock_on_reset(struct ev_handler *h, uint32_t events)
{
	struct vsock *s = container_of(h, struct vsock, reset_ev);
	uint64_t v;

	(void)events;
	if (read(s->reset_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn_once("virtio vsock: reset eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->vdev->lock);
	if (s->reset_pending)
		vsock_close_all(s);
	pthread_mutex_unlock(&s->vdev->lock);
}

int virtio_vsock_host_connect(struct virtio_dev *vdev, int fd, uint32_t port)
{
	struct vsock *s = vdev->priv;
	struct vsock_conn *c;
	int err = 0;

	pthread_mutex_lock(&vdev->lock);
	if (s->reset_pending)
		vsock_close_all(s);
	if (!vdev->active) {
		err = -ENOTCONN;
	} else {
		c = vsock_conn_new(s, fd, vsock_local_port(&s->t), port);
		if (!c) {
			err = -EBUSY;
		} else {
			c->pending |= VSOCK_PEND_REQUEST;
			vsock_settle(s, c);
			vsock_rx_pump(s);
		}
	}
	pthread_mutex_unlock(&vdev->lock);
	if (err)
		close(fd);
	return err;
}

/* ---- events and snapshots --------------------------------------------- */

#define VSOCK_STATE_VERSION	1

/*
 * The owed TRANSPORT_RESET into the driver's next event buffer (virtio
 * 1.2, 5.10.6.6: after migration, connections are reset and the CID
 * read again). Without one, kicks on: the driver's next post brings it.
 */
static void vsock_event(struct vsock *s)
{
	struct virtio_dev *vdev = s->vdev;
	struct virtq *vq = &vdev->vqs[VSOCK_EVQ];
	struct virtio_vsock_event ev = {
		.id = htole32(VIRTIO_VSOCK_EVENT_TRANSPORT_RESET),
	};
	struct virtq_chain *ch = &s->tx_chain;
	int r;

	while (s->evt_reset_owed) {
		r = virtio_pop(vdev, VSOCK_EVQ, ch);
		if (r < 0)
			return;
		if (!r) {
			if (!virtq_enable_notify(vq))
				return;
			continue;
		}
		if (ch->err || ch->in_len < sizeof(ev)) {
			virtq_add_used(vq, ch->head, 0);
			continue;
		}
		virtq_iov_from_buf(ch->iov + ch->nr_out, ch->nr_in, 0, &ev, sizeof(ev));
		virtq_add_used(vq, ch->head, sizeof(ev));
		s->evt_reset_owed = false;
	}
	virtio_publish(vdev, VSOCK_EVQ);
}

/* A receive chain held while a read found nothing goes back, unused;
 * the streams themselves go on in this process. */
static void vsock_quiesce(struct virtio_dev *vdev)
{
	struct vsock *s = vdev->priv;

	if (!s->rx_held)
		return;
	s->rx_held = false;
	virtq_unpop(&vdev->vqs[VSOCK_RXQ], 1);
}

/* The CID for the record: it is configuration, and after a transport
 * reset the driver reads it again, so a new one is allowed. */
static int vsock_save(struct virtio_dev *vdev, struct sbuf *b)
{
	struct vsock *s = vdev->priv;

	sbuf_put_u32(b, VSOCK_STATE_VERSION);
	sbuf_put_u64(b, s->cid);
	return 0;
}

static int vsock_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	struct vsock *s = vdev->priv;
	uint32_t version = sbuf_get_u32(r);

	sbuf_get_u64(r);
	if (r->bad)
		return 0;	/* the core says truncated */
	if (version != VSOCK_STATE_VERSION) {
		pr_err("virtio vsock: snapshot state refused: unknown layout version");
		return -EINVAL;
	}
	/* Only a driver that set the device up has connections to lose. */
	s->evt_reset_owed = vdev->status & VIRTIO_CONFIG_S_DRIVER_OK;
	return 0;
}

/* ---- virtio ops -------------------------------------------------------- */

static void vsock_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vsock *s = vdev->priv;

	if (s->reset_pending)
		vsock_close_all(s);
	if (!vdev->active)
		return;
	if (q == VSOCK_EVQ)
		vsock_event(s);
	if (q == VSOCK_TXQ) {
		virtio_drain(vdev, VSOCK_TXQ, &s->tx_chain, vsock_tx_one, s);
		virtio_publish(vdev, VSOCK_TXQ);
	}
	if (q == VSOCK_TXQ || q == VSOCK_RXQ)
		vsock_rx_pump(s);
}

/* vCPU thread: nothing of the queues is touched from here on (they are
 * gone); the sockets close on the I/O thread. */
static void vsock_reset(struct virtio_dev *vdev)
{
	struct vsock *s = vdev->priv;
	uint64_t one = 1;

	s->rx_held = false;
	s->evt_reset_owed = false;
	s->reset_pending = true;
	if (write(s->reset_fd, &one, sizeof(one)) < 0)
		pr_warn_once("virtio vsock: reset eventfd: %s", strerror(errno));
}

static void vsock_config_read(struct virtio_dev *vdev, uint32_t off,
			      uint8_t *data, uint32_t len)
{
	struct vsock *s = vdev->priv;
	uint64_t cid = htole64(s->cid);

	memcpy(data, (uint8_t *)&cid + off, len);
}

static void vsock_free(struct virtio_dev *vdev)
{
	struct vsock *s = vdev->priv;

	if (!s)
		return;
	vsock_close_all(s);
	if (s->dropped || s->refused || s->resets)
		pr_info("virtio vsock: %lu packets dropped, %lu refused, %lu streams broken and reset",
			s->dropped, s->refused, s->resets);
	if (s->reset_fd >= 0) {
		evloop_del(s->loop, &s->reset_ev);
		close(s->reset_fd);
	}
	if (s->be.release)
		s->be.release(s->be.ctx);
	free(s);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops vsock_ops = {
	.device_id	= VIRTIO_ID_VSOCK,
	.nr_queues	= 3,
	.queue_max	= VSOCK_QUEUE_MAX,
	.config_size	= sizeof(struct virtio_vsock_config),
	.config_read	= vsock_config_read,
	.reset		= vsock_reset,
	.notify		= vsock_notify,
	.free		= vsock_free,
	.quiesce	= vsock_quiesce,
	.save		= vsock_save,
	.load		= vsock_load,
};

struct virtio_dev *virtio_vsock_new(const struct guest_mem *mem, uint64_t cid,
				    const struct vsock_backend *be,
				    struct evloop *loop)
{
	struct virtio_dev *vdev = calloc(1, sizeof(*vdev));
	struct vsock *s = calloc(1, sizeof(*s));

	if (!vdev || !s)
		goto fail;
	s->vdev = vdev;
	s->be = *be;
	s->loop = loop;
	s->cid = cid;
	vsock_table_init(&s->t);
	s->reset_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->reset_fd < 0)
		goto fail;
	s->reset_ev.fd = s->reset_fd;
	s->reset_ev.fn = vsock_on_reset;
	if (evloop_add(loop, &s->reset_ev, EPOLLIN))
		goto fail_fd;
	if (virtio_dev_init(vdev, &vsock_ops, mem, "vsock", s)) {
		free(vdev->vqs);
		evloop_del(loop, &s->reset_ev);
		goto fail_fd;
	}
	return vdev;
fail_fd:
	close(s->reset_fd);
fail:
	free(s);
	free(vdev);
	return NULL;
}
