/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-vsock internals (virtio 1.2 section 5.10), shared by its files
 * and looked at by the unit tests:
 *
 *   vsock_pkt.c   a guest packet's header read once out of the chain and
 *                 judged (drop, refuse, reset, take); iovec slices
 *   vsock_conn.c  the connection table (at most VSOCK_CONN_MAX) and each
 *                 connection's state and credit, with no descriptors
 *   vsock.c       the device: queues, the sockets, the data path
 *
 * Names: "local" is the host end of a stream (port on CID 2), "peer" the
 * guest end. Credit, as the specification defines it: each side tells
 * the other how much buffer space it has (buf_alloc) and how many bytes
 * it has taken out of it so far (fwd_cnt); a sender may have at most
 * buf_alloc - (bytes sent - fwd_cnt) bytes in flight. Counters are
 * free-running 32-bit values; differences are taken modulo 2^32.
 */
#ifndef KVMINI_VIRTIO_VSOCK_INT_H
#define KVMINI_VIRTIO_VSOCK_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_vsock.h>

#include "lib/evloop.h"

#define VSOCK_HOST_CID		2
#define VSOCK_HDR_LEN		44	/* sizeof(struct virtio_vsock_hdr) */
/* Connections at once, both directions together: one more is refused
 * (a reset for the guest, a closed socket for the host). */
#define VSOCK_CONN_MAX		128
/* Our receive buffer per connection: what the guest may send ahead of
 * the host reader. Allocated only once a host reader falls behind, so
 * at most VSOCK_CONN_MAX * VSOCK_BUF_ALLOC (16 MiB) in all. */
#define VSOCK_BUF_ALLOC		(128 * 1024)
/* Payload of one packet, either way (Linux sends at most this). */
#define VSOCK_PAYLOAD_MAX	(64 * 1024)
/* Resets owed for packets that match no connection, waiting for receive
 * buffers; more are dropped (the guest's connect then times out). */
#define VSOCK_RST_MAX		64
/* Host ends of connections the host starts get ports from here up. */
#define VSOCK_LOCAL_PORT_BASE	(1U << 30)

/* A guest packet's header, in host order. */
struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port;
	uint32_t len;
	uint16_t type, op;
	uint32_t flags;
	uint32_t buf_alloc, fwd_cnt;
};

/* What to do with a guest packet (vsock_pkt_parse()). */
enum vsock_verdict {
	VSOCK_PKT_OK,		/* a well-formed stream packet to the host */
	VSOCK_PKT_DROP,		/* no reply: too short, forged source, or a
				 * malformed reset */
	VSOCK_PKT_REFUSE,	/* reply with a reset, touch no connection:
				 * wrong destination, type or operation */
	VSOCK_PKT_RESET,	/* the connection it names is broken (a lying
				 * length): reset it and reply with a reset */
};

/*
 * Reads the header out of the chain's readable segments (they may split
 * it anywhere) and judges it; *h is filled for every verdict but DROP.
 * avail is the bytes readable after the header; guest_cid the CID the
 * guest was given (the only source it may use).
 */
enum vsock_verdict vsock_pkt_parse(const struct iovec *iov, unsigned int nr,
				   uint64_t guest_cid, struct vsock_hdr *h);
/* The header for the guest, little endian, into buf[VSOCK_HDR_LEN]. */
void vsock_hdr_encode(const struct vsock_hdr *h, uint8_t *buf);

/*
 * dst[] = the bytes [skip, skip + len) of src[0, nr), at most max
 * entries; returns the count. Fewer bytes when src is shorter.
 */
unsigned int vsock_iov_slice(const struct iovec *src, unsigned int nr,
			     size_t skip, size_t len, struct iovec *dst,
			     unsigned int max);

enum vsock_state {
	VSOCK_FREE,
	VSOCK_CONNECTING,	/* host started it: REQUEST owed or sent */
	VSOCK_ESTABLISHED,
	VSOCK_CLOSING,		/* guest shut both ways: our buffer drains,
				 * then a reset ends it */
};

/* Control packets a connection owes the guest. */
#define VSOCK_PEND_REQUEST	0x01
#define VSOCK_PEND_RESPONSE	0x02
#define VSOCK_PEND_CREDIT	0x04	/* CREDIT_UPDATE */
#define VSOCK_PEND_CREDIT_REQ	0x08
#define VSOCK_PEND_SHUTDOWN	0x10	/* flags in shut_sent */

struct vsock_conn {
	enum vsock_state state;
	uint32_t local_port, peer_port;
	unsigned int pending;		/* VSOCK_PEND_* */
	uint32_t peer_shut;		/* SHUTDOWN flags the guest sent */
	uint32_t shut_sent;		/* SHUTDOWN flags we sent or owe */

	/* guest -> host: our side of the credit */
	uint32_t rx_cnt;		/* payload bytes taken from the guest */
	uint32_t fwd_cnt;		/* of those, written to the socket */
	uint32_t fwd_sent;		/* fwd_cnt as last told the guest */
	uint8_t *buf;			/* VSOCK_BUF_ALLOC, when first needed */
	uint32_t buf_off, buf_len;	/* unwritten bytes: buf[off, off+len) */

	/* host -> guest: the guest's side */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	uint32_t tx_cnt;		/* payload bytes given to the guest */

	/* the host socket (vsock.c) */
	int fd;
	bool host_eof;			/* read gave 0: SHUTDOWN(SEND) owed */
	bool wr_shut;			/* shutdown(fd, SHUT_WR) done */
	bool readable;			/* epoll said so; no EAGAIN since */
	bool queued;			/* on the device's ready list */
	uint32_t ev_mask;		/* on the loop with these; 0: off it */
	struct ev_handler ev;
	void *dev;			/* the struct vsock that owns it */
};

struct vsock_table {
	struct vsock_conn conn[VSOCK_CONN_MAX];
	unsigned int nr;
	uint32_t next_port;		/* vsock_local_port() */
};

void vsock_table_init(struct vsock_table *t);
struct vsock_conn *vsock_conn_find(struct vsock_table *t, uint32_t local_port,
				   uint32_t peer_port);
/* A fresh connection (state CONNECTING, no socket), or NULL when the
 * table is full. The caller sets the state. */
struct vsock_conn *vsock_conn_alloc(struct vsock_table *t, uint32_t local_port,
				    uint32_t peer_port);
/* Frees c->buf and the slot; the socket is the caller's to close. */
void vsock_conn_release(struct vsock_table *t, struct vsock_conn *c);
/* A host port no connection uses, for a stream the host starts. */
uint32_t vsock_local_port(struct vsock_table *t);

/* Bytes the guest can take now: its buf_alloc less what is in flight;
 * 0 when its counters are nonsense. */
uint32_t vsock_peer_credit(const struct vsock_conn *c);
/* The guest's credit fields, from any of its packets. */
void vsock_conn_peer_credit(struct vsock_conn *c, const struct vsock_hdr *h);
/* Bytes buffered here, not yet written to the socket. */
static inline uint32_t vsock_buffered(const struct vsock_conn *c)
{
	return c->rx_cnt - c->fwd_cnt;
}
/* The guest sends len bytes: false when that overruns the credit we gave
 * (the connection is then reset); else counts them in rx_cnt. */
bool vsock_conn_take(struct vsock_conn *c, uint32_t len);
/* n of the taken bytes went to the socket; owes the guest a credit update
 * once half our buffer has been freed without its knowing. */
void vsock_conn_forwarded(struct vsock_conn *c, uint32_t n);

/* What vsock_conn_input() asks of the device. */
enum vsock_action {
	VSOCK_ACT_NONE,
	VSOCK_ACT_DATA,		/* write the payload to the socket */
	VSOCK_ACT_ACCEPTED,	/* the guest took a host-started stream */
	VSOCK_ACT_CLOSE,	/* the guest reset it: close, no reply */
	VSOCK_ACT_RESET,	/* protocol error: reset it, close */
};

/*
 * The state machine, for a well-formed guest packet on connection c:
 * updates the credit, shutdown flags and pending replies, checks the
 * payload against the credit, and says what the device must do.
 */
enum vsock_action vsock_conn_input(struct vsock_conn *c, const struct vsock_hdr *h);

/* Whether the guest shut both ways and everything it sent is out: the
 * connection ends with a reset. */
static inline bool vsock_conn_done(const struct vsock_conn *c)
{
	return c->state == VSOCK_CLOSING && !vsock_buffered(c);
}

/*
 * The header of the next packet for the guest, filling in our credit
 * (and noting it as told); op is the caller's choice, len the payload.
 */
void vsock_conn_hdr(struct vsock_conn *c, uint64_t guest_cid, uint16_t op,
		    uint32_t len, uint32_t flags, struct vsock_hdr *h);
/* The next control packet owed (one VIRTIO_VSOCK_OP_*), 0 for none;
 * clears its bit. Data goes between RESPONSE and SHUTDOWN: the caller
 * asks with data_first when it has data to send. */
uint16_t vsock_conn_next_ctl(struct vsock_conn *c, bool data_first);

#endif
