/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What virtio-vsock needs from its host side (backend/vsock_uds.c in
 * kvmini, socketpairs in the unit tests). Every stream the device
 * carries is a connected, non-blocking stream socket that the device
 * owns from the moment it has it, reads and writes itself (readv and
 * writev on the guest's buffers) and closes.
 *
 * connect and accepted run on the I/O thread with vdev->lock held: they
 * must not call back into the device.
 */
#ifndef KVMINI_VIRTIO_VSOCK_BACKEND_H
#define KVMINI_VIRTIO_VSOCK_BACKEND_H

#include <stdint.h>

struct vsock_backend {
	/* The guest connects to the host's port: a connected non-blocking
	 * stream socket, or -errno (the guest gets a reset). Must not
	 * block. */
	int (*connect)(void *ctx, uint32_t port);
	/* The guest accepted a connection the host side started with
	 * virtio_vsock_host_connect(); local_port is the host end's port
	 * number. 0, or -errno to have the device reset it. May be NULL. */
	int (*accepted)(void *ctx, int fd, uint32_t local_port);
	/* The device is being freed, its streams closed: the backend may
	 * go too (it outlives nothing else). May be NULL. */
	void (*release)(void *ctx);
	void *ctx;
};

#endif
