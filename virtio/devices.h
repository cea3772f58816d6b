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

#include "virtio/net_backend.h"
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
 * The drain loop of a device that completes each chain as it pops it
 * (rng, console output, control queues, callback transmit): with queue
 * q's kicks off, pops chains with virtio_pop_batch() into *c and gives
 * each to fn, which returns the bytes it wrote into the chain, for the
 * used ring; with the ring empty, kicks go back on and, if buffers came
 * in meanwhile, it goes round again. Returns 0, or < 0 when the queue
 * broke (the device then needs a reset). Nothing is published:
 * virtio_publish() does that, once per kick.
 */
int virtio_drain(struct virtio_dev *vdev, unsigned int q, struct virtq_chain *c,
		 uint32_t (*fn)(void *ctx, struct virtq_chain *c), void *ctx);

/* Flushes queue q's used entries and interrupts the driver if it wants
 * it; nothing once the device needs a reset (it answers nothing more). */
void virtio_publish(struct virtio_dev *vdev, unsigned int q);

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
 * emergency write), so neither may block or call back into the device;
 * console_input_space() only wakes the I/O thread, which is what
 * input_space is for. Any callback may be NULL.
 */
struct vconsole_backend {
	/*
	 * The guest wrote these bytes (transmitq, or emerg_wr): returns how
	 * many the backend took. Fewer than len, the device holds the rest,
	 * and the guest's buffers, until virtio_console_output_room(); an
	 * emergency write the backend does not take is lost.
	 */
	size_t (*output)(void *ctx, const uint8_t *buf, size_t len);
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

/* The backend has room for output again, after output took less than
 * offered; any thread, no lock held. The transmitq is served again on
 * the I/O thread's next turn (virtio_requeue()). */
void virtio_console_output_room(struct virtio_dev *vdev);

/* A new window size (SIGWINCH): updates the config space and raises a
 * config change interrupt. Ignored without VIRTIO_CONSOLE_F_SIZE offered.
 * Takes vdev->lock. */
void virtio_console_resize(struct virtio_dev *vdev, uint16_t cols, uint16_t rows);

/*
 * virtio-console with MULTIPORT: up to VPORTS_MAX named ports that carry
 * the guest's output to the host (kvmini exec's job streams) and the
 * host's input to the guest; see virtio/vports.c. Each port's write backend takes up to len bytes and
 * returns how many it took (with vdev->lock held: it must not call back
 * into the device). Short of len, the device holds the rest and takes
 * nothing more from that port until virtio_vports_flush(), which the
 * backend calls from the I/O thread when it has room again; it returns
 * true once everything the port's queue held is out. The ports array is
 * copied; the names must outlive the device. NULL without memory, or for
 * nr outside 1..VPORTS_MAX.
 *
 * Input: virtio_vports_send() copies up to len bytes into the receive
 * buffers the guest posted on the port, if the guest has it open, and
 * returns how many it took (0: no room now); it keeps nothing. The
 * backend's room callback (optional; vdev->lock held, so it must not
 * call back into the device: it should wake its thread) says the guest
 * posted buffers or opened the port: offer the rest again then.
 */
#define VPORTS_MAX	8

struct vport_backend {
	const char *name;	/* /sys/class/virtio-ports/vportNpM/name */
	size_t (*write)(void *ctx, const uint8_t *buf, size_t len);
	void *ctx;
	void (*room)(void *ctx);	/* input: may be NULL */
};

struct virtio_dev *virtio_vports_new(const struct guest_mem *mem,
				     const struct vport_backend *ports,
				     unsigned int nr);
bool virtio_vports_flush(struct virtio_dev *vdev, unsigned int port);
size_t virtio_vports_send(struct virtio_dev *vdev, unsigned int port,
			  const void *buf, size_t len);

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

/*
 * virtio-net (virtio 1.2 section 5.1): a receive and a transmit queue per
 * queue pair (as many as the backend has queues) and a control queue;
 * see virtio/net.c. Its backends' side is
 * virtio/net_backend.h. be is copied; index names it ("net0"…). NULL
 * after one error line.
 */
struct virtio_dev *virtio_net_new(const struct guest_mem *mem,
				  const struct vnet_backend *be,
				  const uint8_t mac[6], struct evloop *loop,
				  unsigned int index);

/*
 * Callback backends, I/O thread (takes vdev->lock): one frame, without a
 * header, into the guest's receive buffers. false when the driver has
 * posted too few or is not running: the caller keeps the frame (or drops
 * it) and offers it again on rx_space, which follows once the driver
 * posts more. A frame that no buffer could ever hold (too long, or longer
 * than the driver's buffers without MRG_RXBUF) is dropped and counted,
 * and that is true: nothing is to wait for.
 */
bool virtio_net_receive(struct virtio_dev *vdev, const void *frame, size_t len);

/*
 * virtio-fs (virtio 1.2 section 5.11), one request queue and the hiprio
 * queue, both served by a vhost-user backend (virtiofsd) through the
 * connected socket be->sock; see virtio/fs.c. Guest RAM must be a memfd
 * (gmem_init_shared). tag (1 to 36 bytes) is what the guest mounts.
 * Returns 0 with *out, the device, which from then on owns the socket
 * and calls be->stop(be->ctx) once it has closed it (when freed); or
 * -errno, printing nothing (the caller knows the backend: -ECONNRESET
 * and -ETIMEDOUT mean it died or hangs), and the caller still owns both.
 */
struct vfs_backend {
	int sock;
	void (*stop)(void *ctx);	/* may be NULL */
	void *ctx;
};

int virtio_fs_new(const struct guest_mem *mem, const char *tag,
		  const struct vfs_backend *be, struct evloop *loop,
		  unsigned int index, struct virtio_dev **out);

/*
 * virtio-vsock (virtio 1.2 section 5.10): stream sockets between the
 * guest (CID cid, 3 to 0xfffffffe) and the host (CID 2), served here
 * over the host sockets be hands over; see virtio/vsock.c. be is copied;
 * the device calls be->release() when it is freed. NULL without memory
 * or an eventfd, and then the caller still owns the backend.
 */
struct vsock_backend;

struct virtio_dev *virtio_vsock_new(const struct guest_mem *mem, uint64_t cid,
				    const struct vsock_backend *be,
				    struct evloop *loop);
/*
 * A host program's stream to the guest's port (I/O thread; takes
 * vdev->lock): the device owns fd from here on, asks the guest, and calls
 * be->accepted() once the guest has taken it, or closes fd when it
 * refuses. 0, or -errno with fd closed: -ENOTCONN without a running
 * driver, -EBUSY with the connection table full.
 */
int virtio_vsock_host_connect(struct virtio_dev *vdev, int fd, uint32_t port);

#endif
