/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio-net internals: what net_hdr.c (headers, offload translation,
 * receive-buffer accounting) and net_ctrl.c (the control queue's
 * commands) hand the device, what the device's own files share (the
 * device and its virtio ops in net.c, the io_uring engine in
 * net_uring.c, transmit in net_tx.c, receive in net_rx.c; net.c's top
 * comment tells how they fit), and what the unit tests and the fuzz
 * target look at. The public side is in virtio/devices.h.
 *
 * Every frame travels with a struct virtio_net_hdr in front: 12 bytes
 * (struct virtio_net_hdr_v1, with num_buffers) for a modern driver or
 * with MRG_RXBUF, 10 for a legacy driver without MRG_RXBUF. A tap is
 * told the same size (TUNSETVNETHDRSZ), so guest buffers go to and from
 * it as they are.
 */
#ifndef KVMINI_VIRTIO_NET_H
#define KVMINI_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#include "lib/evloop.h"
#include "lib/uring.h"
#include "virtio/devices.h"
#include "virtio/net_backend.h"
#include "virtio/virtq.h"

/* Queue numbers (virtio 1.2, 5.1.2): receiveq1, transmitq1, ...,
 * receiveqN, transmitqN, then the control queue. The first three are a
 * one-pair device's. */
#define VNET_RXQ_OF(pair)	(2 * (pair))
#define VNET_TXQ_OF(pair)	(2 * (pair) + 1)
#define VNET_CTRLQ_OF(pairs)	(2 * (pairs))
#define VNET_NR_QUEUES_OF(pairs) (2 * (pairs) + 1)
#define VNET_RXQ		VNET_RXQ_OF(0)
#define VNET_TXQ		VNET_TXQ_OF(0)
#define VNET_CTRLQ		VNET_CTRLQ_OF(1)
#define VNET_NR_QUEUES		VNET_NR_QUEUES_OF(1)
#define VNET_QUEUE_MAX		256

#define VNET_HDR_LEN		12	/* struct virtio_net_hdr_v1 */
#define VNET_HDR_LEN_LEGACY	10	/* struct virtio_net_hdr */
#define VNET_NUM_BUFFERS_OFF	10

#define VNET_ETH_HLEN		14
/* Frames the device moves: an Ethernet header, a VLAN tag, and 1500
 * bytes, or a whole 64 KiB IP packet when segmentation is offloaded. */
#define VNET_FRAME_MIN		VNET_ETH_HLEN
#define VNET_FRAME_MTU		(VNET_ETH_HLEN + 4 + 1500)
#define VNET_FRAME_GSO		(VNET_ETH_HLEN + 4 + 65535)

/* Of those, the ones that shape what the guest receives. */
#define VNET_GUEST_OFFLOADS	(VNET_F(VIRTIO_NET_F_GUEST_CSUM) | VNET_F(VIRTIO_NET_F_GUEST_TSO4) | \
				 VNET_F(VIRTIO_NET_F_GUEST_TSO6) | VNET_F(VIRTIO_NET_F_GUEST_ECN))

/* Counters, readable by tests (virtio_net_stats()) and logged at exit. */
struct vnet_stats {
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_dropped;		/* malformed: header, length, chain */
	uint64_t tx_errors;		/* the backend refused a frame */
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_dropped;		/* did not fit, or the backend failed */
};

/* ---- net_hdr.c ---------------------------------------------------------- */

/* The features the device offers on top of the core's, given a backend's
 * offloads (masked with VNET_OFFLOADS). */
uint64_t vnet_offered(uint64_t offloads);

/* Whether a driver's feature set keeps the specification's dependencies
 * (virtio 1.2, 5.1.3.1): TSO needs CSUM, ECN needs TSO, CTRL_* need
 * CTRL_VQ. */
bool vnet_features_ok(uint64_t features);

/* Header length for the negotiated features (see above). */
unsigned int vnet_hdr_len(uint64_t features);

/* The longest frame (header excluded) the device may have to deliver. */
size_t vnet_rx_frame_max(uint64_t features);

/*
 * Validates a transmit chain against the negotiated features: only
 * device-readable segments, a whole header and a frame of
 * VNET_FRAME_MIN..VNET_FRAME_GSO bytes after it, header flags and GSO
 * type the driver may use. Copies the header into *hdr (zeroed past
 * hdr_len). NULL when the frame may go, else why not.
 */
const char *vnet_tx_check(const struct virtq_chain *c, unsigned int hdr_len,
			  uint64_t features, struct virtio_net_hdr_v1 *hdr);


/*
 * Receive-buffer accounting: a frame of bytes (header included) landed
 * in buffers of the lengths given, in order. Fills used[i] with what
 * buffer i holds and returns how many buffers it took (0 when bytes is
 * 0); the rest are untouched and may carry the next frame. Buffers past
 * n cannot be taken: the caller made sure the sum covers bytes.
 */
unsigned int vnet_rx_account(const uint32_t *lens, unsigned int n, size_t bytes,
			     uint32_t *used);

/* ---- net_ctrl.c --------------------------------------------------------- */

#define VNET_MAC_TABLE_MAX	64	/* entries kept per table */

struct vnet_ctrl_state {
	bool promisc, allmulti;
	unsigned int uc_entries, mc_entries;	/* as the driver sent them */
	bool uc_overflow, mc_overflow;		/* more than we keep */
	uint8_t uc[VNET_MAC_TABLE_MAX][6];
	uint8_t mc[VNET_MAC_TABLE_MAX][6];
	uint8_t mac[6];				/* CTRL_MAC_ADDR_SET */
	bool mac_changed;
	uint64_t guest_offloads;		/* CTRL_GUEST_OFFLOADS_SET */
	bool offloads_changed;
	unsigned int max_pairs;			/* the device's; 1 without MQ */
	unsigned int pairs;			/* CTRL_MQ_VQ_PAIRS_SET: 1..max_pairs */
	bool pairs_changed;
};

/*
 * One control command: its readable bytes (iov, cnt, len: class, command,
 * data; the ack byte is the caller's) against the negotiated features.
 * Returns VIRTIO_NET_OK or VIRTIO_NET_ERR; st changes only on OK.
 */
uint8_t vnet_ctrl_cmd(struct vnet_ctrl_state *st, uint64_t features,
		      const struct iovec *iov, unsigned int cnt, size_t len);

/* ---- the device: net.c, net_uring.c, net_tx.c, net_rx.c ---------------- */

/* What runs on the device's state below does so under vdev->lock. */

#define VNET_TX_SLOTS		64	/* writes in flight */
/*
 * Reads waiting on the tap. Every waiting read's poll wakes on each frame
 * and all but one find nothing; with vnet_pump() taking the reads that
 * complete inside a submit, one read did as well as four in the lab
 * (host to guest TCP 1.30x QEMU against 1.25x in back-to-back A/B runs;
 * bench/RESULTS.md has the later full run) and wakes once per frame.
 */
#define VNET_RX_OPS		1
#define VNET_RX_OP_BUFS		64	/* chains in one read */
#define VNET_RX_OP_IOVS		1024	/* IOV_MAX */
#define VNET_RXBUF_SEGS		20	/* Linux's big-packet chains: 19 */

/* What a completion's tag points at (net_uring.c). */
enum vnet_op_kind { VNET_OP_TX = 1, VNET_OP_RX };

/* A popped receive chain, its writable segments only. */
struct vnet_rxbuf {
	uint16_t head;
	uint16_t nr_iov;
	uint32_t len;
	struct iovec iov[VNET_RXBUF_SEGS];
};

/* Both kinds start with kind, so a completion's tag says which it is. */
struct vnet_rx_op {
	enum vnet_op_kind kind;
	bool busy;
	bool need_poll;		/* the last try said EAGAIN: poll first */
	unsigned int nr_bufs;
	uint16_t bufs[VNET_RX_OP_BUFS];	/* rx_pool indices, in order */
	unsigned int nr_iov;
	struct iovec iov[VNET_RX_OP_IOVS];
};

/*
 * A write to the tap: the chain, and what the write sends, which is the
 * header as vnet_tx_check() checked it (a copy: the guest may rewrite its
 * own until the kernel reads it) followed by the guest's frame after its
 * header; one more segment than the chain at most.
 */
struct vnet_tx_slot {
	enum vnet_op_kind kind;
	bool need_poll;
	struct vnet_tx_slot *next_free;
	struct virtio_net_hdr_v1 hdr;
	unsigned int nr_iov;
	struct iovec iov[VIRTQ_MAX_SEGS + 1];
	struct virtq_chain chain;
};

struct vnet;

/* One device, its priv: what all its queue pairs share. */
struct vnet_nic {
	struct virtio_dev *vdev;
	struct vnet_backend be;		/* configure(), set_pairs() */
	char name[8];
	uint8_t mac[6];			/* as configured; reset restores it */
	struct vnet_ctrl_state ctrl;
	/* A snapshot's control state is in ctrl: activate keeps its
	 * offloads rather than take the negotiated ones (net.c). */
	bool ctrl_loaded;
	unsigned int nr_pairs;		/* max_virtqueue_pairs */
	struct vnet *pairs[VNET_PAIRS_MAX];
	struct virtq_chain scratch;	/* the control queue's */
};

/* One receive/transmit queue pair, its backend descriptor and engine. */
struct vnet {
	struct virtio_dev *vdev;
	struct vnet_nic *nic;
	struct vnet_backend be;		/* be.fd: this pair's descriptor */
	char name[24];			/* net0, or net0.q1 past the first */
	unsigned int rxq, txq;		/* VNET_RXQ_OF(pair), VNET_TXQ_OF(pair) */
	/* The driver uses this pair (the first always; the others after
	 * CTRL_MQ_VQ_PAIRS_SET): only then does it receive. */
	bool enabled;
	/* vnet_quiesce_io() runs: a cancelled read is not tried again. */
	bool quiescing;

	/* Set at DRIVER_OK. */
	unsigned int hdr_len;
	size_t frame_max;
	bool mrg;

	/* The io_uring engine, fd backends only: the tap is the ring's one
	 * registered file (lib/uring.h). */
	struct uring u;
	struct ev_handler ev;
	struct evloop *loop;
	bool on_loop;
	unsigned int nr_inflight;	/* operations, polls included */
	unsigned int nr_polls;		/* of them, polls */
	bool cancel_pending;
	/* A reset's cancel: one for everything (IORING_ASYNC_CANCEL_ANY,
	 * Linux 5.19, probed at creation), else one per busy read and
	 * transmit slot and its poll, by tag (net_uring.c). Tests may
	 * clear it after creation (vnet_cancel_mode()). */
	bool cancel_any;
	bool rx_stopped;		/* the backend keeps failing */
	unsigned int rx_errors;		/* in a row */

	struct vnet_tx_slot *tx;	/* VNET_TX_SLOTS */
	struct vnet_tx_slot *tx_free;
	unsigned int tx_held;		/* chains popped, not yet used */
	bool tx_throttled;
	bool tx_dirty, rx_dirty;

	struct vnet_rx_op *rx_ops;	/* VNET_RX_OPS */
	/* Receive chains popped and not yet used: rx_free lists free pool
	 * slots; rx_ready (a ring, oldest first) the ones no read covers. */
	struct vnet_rxbuf rx_pool[VNET_QUEUE_MAX];
	uint16_t rx_free[VNET_QUEUE_MAX];
	unsigned int nr_rx_free;
	uint16_t rx_ready[VNET_QUEUE_MAX];
	unsigned int ready_head, nr_ready;
	uint64_t ready_bytes;
	bool rx_refused;		/* callback backends: rx_space owed */

	struct virtq_chain scratch;	/* transmit and control, no engine */
	struct iovec tx_iov[VIRTQ_MAX_SEGS];
	struct vnet_stats stats;
};

static inline bool vnet_has_fd(const struct vnet *n)
{
	return n->be.fd >= 0;
}

/* net.c: the used buffers of the pair's transmit and receive queues go
 * to the driver, one flush and at most one interrupt for each queue. */
void vnet_publish(struct vnet *n);

/* net_uring.c: the io_uring engine of fd backends. */
/* The ring (the tap its one file), and how a reset will cancel on it;
 * 0 or -errno after one error line. */
int vnet_ring_init(struct vnet *n);
/* How a reset cancels, from probe (uring_probe_cancel_any()'s answer):
 * all at once (1), one by one (0, and one --verbose line saying so), or
 * the device fails (-errno, one error line). */
int vnet_cancel_mode(struct vnet *n, int probe);
/* Completions handled on loop's thread (none without a loop or an fd). */
int vnet_loop_add(struct vnet *n, struct evloop *loop);
/* Submits what is queued (one submit for a kick's frames) and takes
 * what completes inside it. */
void vnet_pump(struct vnet *n);
/* Queues a readv (write false) or writev of iov on the tap, tagged with
 * tag (a struct vnet_rx_op or vnet_tx_slot), with a poll linked in
 * front when need_poll; whether it was queued. */
bool vnet_submit_rw(struct vnet *n, bool write, const struct iovec *iov,
		    unsigned int cnt, bool need_poll, void *tag);
/* Returns once nothing is in flight, with every slot, read and pool
 * entry free again: popped buffers are forgotten, never used, so only
 * for a reset, teardown or a device that has no queues yet. */
void vnet_drain(struct vnet *n);
/* Snapshots: waits for every write in flight to complete as usual, then
 * cancels the reads (a frame not yet read stays the tap's, as on a wire;
 * one that landed is delivered); no read is started meanwhile. The
 * receive chains the pool held stay popped: the caller gives them back. */
void vnet_quiesce_io(struct vnet *n);
/* A pair the driver stops using (n->enabled already false): its writes
 * in flight complete, its reads are cancelled and waited for (a frame
 * that landed is delivered). */
void vnet_rx_stop(struct vnet *n);
/* The pair's completions: takes them, starts what they allow, publishes
 * (takes vdev->lock). */
void vnet_complete(struct vnet *n);

/* net_tx.c: a kick on the transmit queue, and a write's completion. */
void vnet_tx_process(struct vnet *n);		/* fd backends */
void vnet_tx_callbacks(struct vnet *n);		/* callback backends */
void vnet_tx_done(struct vnet *n, struct vnet_tx_slot *s, int res);

/* net_rx.c: the pool emptied, reads started over what the guest
 * posted, a read's completion, and rx_space owed to a callback backend. */
void vnet_pool_reset(struct vnet *n);
void vnet_rx_fill(struct vnet *n);		/* fd backends */
void vnet_rx_done(struct vnet *n, struct vnet_rx_op *op, int res);
void vnet_rx_space(struct vnet *n);		/* callback backends */

/* For tests. A snapshot of the counters (takes vdev->lock). */
void virtio_net_stats(struct virtio_dev *vdev, struct vnet_stats *st);
/* The control state, for tests (takes vdev->lock). */
void virtio_net_ctrl_state(struct virtio_dev *vdev, struct vnet_ctrl_state *st);
/* Fd backends: the completion eventfd (the first pair's), and the
 * handler of every pair's, for tests that have no event loop (loop NULL). */
int virtio_net_completion_fd(const struct virtio_dev *vdev);
void virtio_net_complete(struct virtio_dev *vdev);
/* The pairs the driver uses now (takes vdev->lock). */
unsigned int virtio_net_pairs(struct virtio_dev *vdev);

#endif
