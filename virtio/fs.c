// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-fs (virtio 1.2 section 5.11) whose queues a vhost-user backend
 * (virtiofsd) serves: kvmini owns the device's config space and status,
 * the backend reads the rings in guest RAM and answers FUSE requests.
 *
 * Kicks arrive on the I/O thread through the transport and go on to the
 * backend's kick eventfds; the backend signals one call eventfd, which
 * raises the used-buffer interrupt (the backend already applied
 * EVENT_IDX). At DRIVER_OK the rings go to the backend; a reset takes
 * them back (GET_VRING_BASE, which returns once the backend stopped
 * using them). A backend that goes away or misbehaves puts the device in
 * DEVICE_NEEDS_RESET; it stays broken after that.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_fs.h>

#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"
#include "virtio/vhost_user.h"

#define FS_HIPRIO		0
#define FS_REQUEST_QUEUES	1
#define FS_NR_QUEUES		(1 + FS_REQUEST_QUEUES)
#define FS_QUEUE_MAX		1024	/* libvhost-user's largest ring */

struct vfs {
	struct virtio_dev *vdev;
	struct vhost_user vu;
	struct vfs_backend be;
	struct evloop *loop;
	struct virtio_fs_config config;
	int kick[FS_NR_QUEUES];		/* ours to write, the backend's to read */
	struct ev_handler call;		/* every queue's call eventfd */
	struct ev_handler hup;		/* the socket, for the backend's end */
	bool started[FS_NR_QUEUES];
	bool dead;			/* the connection is gone */
	bool busy;			/* a quiesce found requests in flight */
	bool mounted;			/* ... or requests served before */
	bool warned;
	char name[16];
};

static void fs_warn(struct vfs *fs, const char *what, int err)
{
	/* Once: a guest could reset the device in a loop. */
	if (!fs->warned)
		pr_warn("virtio %s: vhost-user backend: %s: %s", fs->name, what,
			strerror(-err));
	fs->warned = true;
	if (err != -EREMOTEIO)
		fs->dead = true;
}

/* One ready queue to the backend, in the order QEMU uses too. */
static int fs_start_queue(struct vfs *fs, unsigned int q)
{
	struct vhost_user *vu = &fs->vu;
	struct virtq *vq = &fs->vdev->vqs[q];
	int err;

	/* last_avail: 0 after a reset, the saved index after a restore or
	 * a quiesce (fs_quiesce()). */
	err = vhost_user_set_vring_num(vu, q, vq->size) ?:
	      vhost_user_set_vring_base(vu, q, vq->last_avail) ?:
	      vhost_user_set_vring_addr(vu, q, vq->desc, vq->avail, vq->used) ?:
	      vhost_user_set_vring_call(vu, q, fs->call.fd) ?:
	      vhost_user_set_vring_kick(vu, q, fs->kick[q]);
	/* With protocol features, a ring starts disabled (vhost-user spec). */
	if (!err && (vu->features & (1ULL << VHOST_USER_F_PROTOCOL_FEATURES)))
		err = vhost_user_set_vring_enable(vu, q, true);
	if (!err)
		fs->started[q] = true;
	return err;
}

static void fs_kick(struct vfs *fs, unsigned int q)
{
	uint64_t one = 1;

	if (write(fs->kick[q], &one, sizeof(one)) < 0)
		pr_warn_once("virtio %s: cannot kick the backend: %s", fs->name,
			     strerror(errno));
}

static int fs_activate(struct virtio_dev *vdev)
{
	struct vfs *fs = vdev->priv;
	int err;

	if (fs->dead)
		return -EPIPE;
	err = vhost_user_set_features(&fs->vu, vdev->features & fs->vu.features);
	for (unsigned int q = 0; !err && q < FS_NR_QUEUES; q++)
		if (vdev->vqs[q].ready)
			err = fs_start_queue(fs, q);
	if (err) {
		fs_warn(fs, "cannot start the queues", err);
		return err;
	}
	/* Buffers the driver posted before DRIVER_OK had their kicks
	 * dropped; a spurious kick costs the backend one look. */
	for (unsigned int q = 0; q < FS_NR_QUEUES; q++)
		if (fs->started[q])
			fs_kick(fs, q);
	return 0;
}

/* Also after a failed start: whatever queues did start stop. */
static void fs_reset(struct virtio_dev *vdev)
{
	struct vfs *fs = vdev->priv;

	for (unsigned int q = 0; q < FS_NR_QUEUES; q++) {
		unsigned int base;
		int err;

		if (!fs->started[q])
			continue;
		fs->started[q] = false;
		if (fs->dead)
			continue;
		err = vhost_user_get_vring_base(&fs->vu, q, &base);
		if (err)
			fs_warn(fs, "cannot stop a queue", err);
	}
}

static void fs_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct vfs *fs = vdev->priv;

	if (q < FS_NR_QUEUES && fs->started[q])
		fs_kick(fs, q);
}

static void fs_config_read(struct virtio_dev *vdev, uint32_t off, uint8_t *data,
			   uint32_t len)
{
	struct vfs *fs = vdev->priv;

	/* The caller checked off + len <= config_size. */
	memcpy(data, (uint8_t *)&fs->config + off, len);
}

/* The backend completed requests: interrupt, unless a reset came first. */
static void fs_on_call(struct ev_handler *h, uint32_t events)
{
	struct vfs *fs = container_of(h, struct vfs, call);
	struct virtio_dev *vdev = fs->vdev;
	uint64_t n;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&vdev->lock);
	if (vdev->active && !fs->dead)
		virtio_interrupt_used(vdev);
	pthread_mutex_unlock(&vdev->lock);
}

/* The backend closed its end (it exited or crashed). */
static void fs_on_hup(struct ev_handler *h, uint32_t events)
{
	struct vfs *fs = container_of(h, struct vfs, hup);
	struct virtio_dev *vdev = fs->vdev;

	(void)events;
	evloop_del(fs->loop, h);
	h->fd = -1;
	pthread_mutex_lock(&vdev->lock);
	fs_warn(fs, "connection lost", -ECONNRESET);
	fs->vu.broken = true;
	if (vdev->active)
		virtio_needs_reset(vdev, "its vhost-user backend went away");
	pthread_mutex_unlock(&vdev->lock);
}

static void fs_free(struct virtio_dev *vdev)
{
	struct vfs *fs = vdev->priv;

	if (!fs)
		return;
	if (fs->loop && fs->hup.fd >= 0)
		evloop_del(fs->loop, &fs->hup);
	if (fs->loop && fs->call.fd >= 0)
		evloop_del(fs->loop, &fs->call);
	/* Closing the socket first lets the backend see EOF and exit. */
	vhost_user_close(&fs->vu);
	if (fs->be.stop)
		fs->be.stop(fs->be.ctx);
	for (unsigned int q = 0; q < FS_NR_QUEUES; q++)
		if (fs->kick[q] >= 0)
			close(fs->kick[q]);
	if (fs->call.fd >= 0)
		close(fs->call.fd);
	free(fs);
	vdev->priv = NULL;
}

/*
 * virtiofsd serves the queues, so their indices are its, not the core's:
 * a quiesce stops each queue (GET_VRING_BASE returns once the backend
 * stopped using it) and takes its index into the core's queue, which
 * saves it; the queue then starts again from there, and a restore hands
 * it to the fresh virtiofsd. Only a device no request ever went through
 * is saved: from FUSE_INIT (the guest's mount) on, the guest holds node
 * IDs and file handles of this virtiofsd's, which no other could take
 * over. kvmini exec snapshots before the guest mounts anything.
 */
static void fs_quiesce(struct virtio_dev *vdev)
{
	struct vfs *fs = vdev->priv;

	for (unsigned int q = 0; q < FS_NR_QUEUES; q++) {
		struct virtq *vq = &vdev->vqs[q];
		struct virtq_indices ix;
		unsigned int base;
		int err;

		if (!fs->started[q] || fs->dead)
			continue;
		fs->started[q] = false;
		err = vhost_user_get_vring_base(&fs->vu, q, &base);
		if (err) {
			fs_warn(fs, "cannot stop a queue", err);
			continue;
		}
		ix.last_avail = ix.used_idx = ix.used_signalled = base;
		if (base)
			fs->mounted = true;
		else if (le16toh(__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE)) != base ||
			 virtq_restore(vq, &ix))
			fs->busy = true;
		err = fs_start_queue(fs, q);
		if (err)
			fs_warn(fs, "cannot restart a queue", err);
		else
			fs_kick(fs, q);
	}
}

#define FS_STATE_VERSION	1

static int fs_save(struct virtio_dev *vdev, struct sbuf *b)
{
	struct vfs *fs = vdev->priv;

	if (fs->busy || fs->dead || fs->mounted) {
		const char *why = fs->dead ? "its virtiofsd is gone" :
				  fs->mounted ? "the guest has mounted it (its virtiofsd's open files cannot move to another)" :
				  "FUSE requests were in flight";

		fs->busy = fs->mounted = false;
		pr_err("virtio %s: cannot be snapshotted: %s: snapshot before the guest mounts it",
		       vdev->name, why);
		return -EBUSY;
	}
	sbuf_put_u32(b, FS_STATE_VERSION);
	return 0;
}

/* The queues' indices are in the core's state; activate() hands them to
 * this device's fresh virtiofsd. */
static int fs_load(struct virtio_dev *vdev, struct sbuf_rd *r)
{
	uint32_t version = sbuf_get_u32(r);

	if (r->bad)
		return 0;	/* the core says truncated */
	if (version != FS_STATE_VERSION) {
		pr_err("virtio %s: snapshot state refused: unknown layout version %u",
		       vdev->name, version);
		return -EINVAL;
	}
	return 0;
}

static const struct virtio_dev_ops fs_ops = {
	.device_id	= VIRTIO_ID_FS,
	.nr_queues	= FS_NR_QUEUES,
	.queue_max	= FS_QUEUE_MAX,
	.config_size	= sizeof(struct virtio_fs_config),
	.config_read	= fs_config_read,
	.activate	= fs_activate,
	.reset		= fs_reset,
	.notify		= fs_notify,
	.free		= fs_free,
	.quiesce	= fs_quiesce,
	.save		= fs_save,
	.load		= fs_load,
};

static struct vfs *fs_alloc(const char *tag, unsigned int index)
{
	struct vfs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return NULL;
	fs->vu.fd = -1;
	fs->call.fd = fs->hup.fd = -1;
	fs->call.fn = fs_on_call;
	fs->hup.fn = fs_on_hup;
	snprintf(fs->name, sizeof(fs->name), "fs%u", index);
	memcpy(fs->config.tag, tag, strlen(tag));
	fs->config.num_request_queues = htole32(FS_REQUEST_QUEUES);
	for (unsigned int q = 0; q < FS_NR_QUEUES; q++)
		fs->kick[q] = -1;
	return fs;
}

static int fs_open_fds(struct vfs *fs)
{
	fs->call.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fs->call.fd < 0)
		return -errno;
	for (unsigned int q = 0; q < FS_NR_QUEUES; q++) {
		fs->kick[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (fs->kick[q] < 0)
			return -errno;
	}
	return 0;
}

/* The backend must run the split ring of virtio 1.x with both queues. */
static int fs_connect(struct vfs *fs, const struct guest_mem *mem)
{
	int err = vhost_user_connect(&fs->vu);

	if (err)
		return err;
	if (!(fs->vu.features & (1ULL << VIRTIO_F_VERSION_1)) ||
	    (fs->vu.queues && fs->vu.queues < FS_NR_QUEUES))
		return -ENOTSUP;
	return vhost_user_set_mem_table(&fs->vu, mem);
}

static int fs_watch(struct vfs *fs, struct evloop *loop, int sock)
{
	int err;

	if (!loop)
		return 0;
	fs->loop = loop;
	err = evloop_add(loop, &fs->call, EPOLLIN);
	if (err)
		return err;
	/* Not EPOLLIN: replies are read where they are awaited. */
	fs->hup.fd = sock;
	err = evloop_add(loop, &fs->hup, EPOLLRDHUP);
	if (err)
		fs->hup.fd = -1;
	return err;
}

int virtio_fs_new(const struct guest_mem *mem, const char *tag,
		  const struct vfs_backend *be, struct evloop *loop,
		  unsigned int index, struct virtio_dev **out)
{
	struct virtio_dev *vdev;
	struct vfs *fs;
	int err;

	if (!tag[0] || strlen(tag) > sizeof(fs->config.tag) || be->sock < 0)
		return -EINVAL;
	vdev = calloc(1, sizeof(*vdev));
	fs = fs_alloc(tag, index);
	if (!vdev || !fs || virtio_dev_init(vdev, &fs_ops, mem, fs->name, fs)) {
		if (vdev)
			free(vdev->vqs);
		free(vdev);
		free(fs);
		return -ENOMEM;
	}
	fs->vdev = vdev;
	vhost_user_init(&fs->vu, be->sock);
	err = fs_open_fds(fs) ?: fs_connect(fs, mem) ?: fs_watch(fs, loop, be->sock);
	if (err) {
		/* The caller still owns the backend and its socket. */
		fs->vu.fd = -1;
		fs->hup.fd = -1;
		virtio_dev_exit(vdev);
		free(vdev);
		return err;
	}
	/* What the guest may negotiate: what both sides run. */
	vdev->host_features = VIRTIO_CORE_FEATURES & fs->vu.features;
	fs->be = *be;
	*out = vdev;
	return 0;
}
