// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock connections: the bounded table, each stream's state, its
 * credit both ways and the control packets it owes the guest. No
 * descriptors and no guest memory here, so all of it is unit-tested as
 * plain data (vsock.c does the I/O the results ask for).
 *
 * A connection lives from a guest REQUEST the host side accepted (or a
 * host client's CONNECT the device passed on as a REQUEST) to a reset
 * either way:
 *
 *   CONNECTING --RESPONSE--> ESTABLISHED --SHUTDOWN(RCV|SEND)--> CLOSING
 *        \                        |                                |
 *         `---- RST, or any ------+----------- buffer drained -----'
 *               protocol error             (then we send RST) --> FREE
 *
 * A guest half-close (SHUTDOWN with one flag) is passed on to the socket
 * (vsock.c); the host's end of file becomes our SHUTDOWN(SEND).
 */
#include <stdlib.h>
#include <string.h>

#include "virtio/vsock.h"

void vsock_table_init(struct vsock_table *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++)
		t->conn[i].fd = -1;
	t->next_port = VSOCK_LOCAL_PORT_BASE;
}

struct vsock_conn *vsock_conn_find(struct vsock_table *t, uint32_t local_port,
				   uint32_t peer_port)
{
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &t->conn[i];

		if (c->state != VSOCK_FREE && c->local_port == local_port &&
		    c->peer_port == peer_port)
			return c;
	}
	return NULL;
}

struct vsock_conn *vsock_conn_alloc(struct vsock_table *t, uint32_t local_port,
				    uint32_t peer_port)
{
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++) {
		struct vsock_conn *c = &t->conn[i];

		if (c->state != VSOCK_FREE)
			continue;
		memset(c, 0, sizeof(*c));
		c->state = VSOCK_CONNECTING;
		c->local_port = local_port;
		c->peer_port = peer_port;
		c->fd = -1;
		t->nr++;
		return c;
	}
	return NULL;
}

void vsock_conn_release(struct vsock_table *t, struct vsock_conn *c)
{
	if (c->state == VSOCK_FREE)
		return;
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->state = VSOCK_FREE;
	c->fd = -1;
	t->nr--;
}

static bool local_port_used(struct vsock_table *t, uint32_t port)
{
	for (unsigned int i = 0; i < VSOCK_CONN_MAX; i++)
		if (t->conn[i].state != VSOCK_FREE && t->conn[i].local_port == port)
			return true;
	return false;
}

/* At most VSOCK_CONN_MAX ports are in use, so one of as many + 1 tries
 * is free. */
uint32_t vsock_local_port(struct vsock_table *t)
{
	for (unsigned int i = 0; i <= VSOCK_CONN_MAX; i++) {
		uint32_t p = t->next_port++;

		if (t->next_port < VSOCK_LOCAL_PORT_BASE || t->next_port == UINT32_MAX)
			t->next_port = VSOCK_LOCAL_PORT_BASE;
		if (!local_port_used(t, p))
			return p;
	}
	return t->next_port;	/* not reached */
}

uint32_t vsock_peer_credit(const struct vsock_conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	/* A fwd_cnt ahead of what we sent wraps to a huge in_flight. */
	if (in_flight > c->peer_buf_alloc)
		return 0;
	return c->peer_buf_alloc - in_flight;
}

void vsock_conn_peer_credit(struct vsock_conn *c, const struct vsock_hdr *h)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
}

/*
 * The guest may have at most VSOCK_BUF_ALLOC - (rx_cnt - fwd_sent) bytes
 * in flight by the credit we told it, and fwd_sent <= fwd_cnt, so an
 * honest guest never has us hold more than VSOCK_BUF_ALLOC.
 */
bool vsock_conn_take(struct vsock_conn *c, uint32_t len)
{
	if (len > VSOCK_BUF_ALLOC - vsock_buffered(c))
		return false;
	c->rx_cnt += len;
	return true;
}

void vsock_conn_forwarded(struct vsock_conn *c, uint32_t n)
{
	c->fwd_cnt += n;
	/* Half the buffer freed behind the guest's back: tell it, or it may
	 * stall waiting for credit it has. */
	if (c->fwd_cnt - c->fwd_sent >= VSOCK_BUF_ALLOC / 2)
		c->pending |= VSOCK_PEND_CREDIT;
}

enum vsock_action vsock_conn_input(struct vsock_conn *c, const struct vsock_hdr *h)
{
	vsock_conn_peer_credit(c, h);
	switch (h->op) {
	case VIRTIO_VSOCK_OP_RST:
		return VSOCK_ACT_CLOSE;
	case VIRTIO_VSOCK_OP_RESPONSE:
		if (c->state != VSOCK_CONNECTING)
			return VSOCK_ACT_RESET;
		c->state = VSOCK_ESTABLISHED;
		return VSOCK_ACT_ACCEPTED;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		if (c->state == VSOCK_CONNECTING)
			return VSOCK_ACT_RESET;
		c->peer_shut |= h->flags;
		if (c->peer_shut == (VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND))
			c->state = VSOCK_CLOSING;
		return VSOCK_ACT_NONE;
	case VIRTIO_VSOCK_OP_RW:
		if (c->state != VSOCK_ESTABLISHED ||
		    (c->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
		    !vsock_conn_take(c, h->len))
			return VSOCK_ACT_RESET;
		return h->len ? VSOCK_ACT_DATA : VSOCK_ACT_NONE;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		return c->state == VSOCK_CONNECTING ? VSOCK_ACT_RESET : VSOCK_ACT_NONE;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		if (c->state == VSOCK_CONNECTING)
			return VSOCK_ACT_RESET;
		c->pending |= VSOCK_PEND_CREDIT;
		return VSOCK_ACT_NONE;
	default:
		/* REQUEST for a stream that exists: the guest lost track. */
		return VSOCK_ACT_RESET;
	}
}

void vsock_conn_hdr(struct vsock_conn *c, uint64_t guest_cid, uint16_t op,
		    uint32_t len, uint32_t flags, struct vsock_hdr *h)
{
	*h = (struct vsock_hdr){
		.src_cid = VSOCK_HOST_CID,
		.dst_cid = guest_cid,
		.src_port = c->local_port,
		.dst_port = c->peer_port,
		.len = len,
		.type = VIRTIO_VSOCK_TYPE_STREAM,
		.op = op,
		.flags = flags,
		.buf_alloc = VSOCK_BUF_ALLOC,
		.fwd_cnt = c->fwd_cnt,
	};
	/* Every header carries our credit: no separate update is owed. */
	c->fwd_sent = c->fwd_cnt;
	c->pending &= ~VSOCK_PEND_CREDIT;
	if (op == VIRTIO_VSOCK_OP_RW)
		c->tx_cnt += len;
}

uint16_t vsock_conn_next_ctl(struct vsock_conn *c, bool data_first)
{
	static const struct {
		unsigned int bit;
		uint16_t op;
	} order[] = {
		{ VSOCK_PEND_REQUEST, VIRTIO_VSOCK_OP_REQUEST },
		{ VSOCK_PEND_RESPONSE, VIRTIO_VSOCK_OP_RESPONSE },
		{ 0, 0 },	/* data goes here */
		{ VSOCK_PEND_CREDIT, VIRTIO_VSOCK_OP_CREDIT_UPDATE },
		{ VSOCK_PEND_CREDIT_REQ, VIRTIO_VSOCK_OP_CREDIT_REQUEST },
		{ VSOCK_PEND_SHUTDOWN, VIRTIO_VSOCK_OP_SHUTDOWN },
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!order[i].bit) {
			if (data_first)
				return 0;
			continue;
		}
		if (c->pending & order[i].bit) {
			c->pending &= ~order[i].bit;
			return order[i].op;
		}
	}
	return 0;
}
