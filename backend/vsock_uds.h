/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of virtio-vsock over Unix sockets (--vsock CID,uds=PATH),
 * Firecracker's convention (docs/vsock.md):
 *
 *   guest to host: the guest's connect(2, PORT) is a connect() to the
 *   Unix socket PATH_PORT, which a host program listens on; nobody
 *   listening is a reset for the guest.
 *   host to guest: kvmini listens on PATH; a host program connects,
 *   writes "CONNECT PORT\n", and once the guest's listener on PORT has
 *   taken it reads "OK LOCALPORT\n"; the rest is the stream. A refused
 *   connection is closed without a line.
 *
 * Without uds= nothing listens and every guest connect is refused.
 */
#ifndef KVMINI_VSOCK_UDS_H
#define KVMINI_VSOCK_UDS_H

struct evloop;
struct virtio_dev;
struct vsock_backend;
struct vsock_uds;

/* Host programs waiting to say which port they want, at most. */
#define VSOCK_UDS_PENDING_MAX	16
/* "CONNECT 4294967295\n" and then some. */
#define VSOCK_UDS_LINE_MAX	32

/*
 * Listens on path (NULL: no host side) and fills *be for
 * virtio_vsock_new(). A socket left at path by an earlier run that
 * nobody listens on any more is replaced; anything else there is an
 * error. NULL after one error line.
 */
struct vsock_uds *vsock_uds_new(const char *path, struct evloop *loop,
				struct vsock_backend *be);
/* The device host programs' streams go to, once it exists. */
void vsock_uds_attach(struct vsock_uds *u, struct virtio_dev *vdev);
/* Before the device exists (after, the device's release does it).
 * NULL is fine. */
void vsock_uds_free(struct vsock_uds *u);

#endif
