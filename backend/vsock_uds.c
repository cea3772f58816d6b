// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-vsock's host side over Unix sockets (vsock_uds.h has the
 * protocol). Everything runs on the I/O thread: the listener and the
 * host programs still writing their CONNECT line are event-loop handlers
 * here; a stream, once the device has it, is the device's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/vsock_uds.h"
#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "virtio/devices.h"
#include "virtio/vsock_backend.h"

/* A host program that connected to PATH and has not finished its line. */
struct vsock_uds_client {
	struct ev_handler ev;		/* ev.fd < 0: slot free */
	struct vsock_uds *u;
	char line[VSOCK_UDS_LINE_MAX];
	unsigned int len;
};

struct vsock_uds {
	char *path;			/* NULL: no host side */
	struct evloop *loop;
	struct virtio_dev *vdev;
	struct ev_handler listen;	/* fd < 0 without a path */
	struct vsock_uds_client client[VSOCK_UDS_PENDING_MAX];
};

/* "PATH_PORT" into sa; false when it does not fit. */
static bool uds_addr(const char *path, long port, struct sockaddr_un *sa)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (port < 0)
		n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
	else
		n = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s_%ld", path, port);
	return n > 0 && (size_t)n < sizeof(sa->sun_path);
}

/* The guest's connect(2, port). */
static int uds_connect(void *ctx, uint32_t port)
{
	struct vsock_uds *u = ctx;
	struct sockaddr_un sa;
	int fd, err;

	if (!u->path || !uds_addr(u->path, port, &sa))
		return -ECONNREFUSED;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix socket connects at once or not at all: EAGAIN is a full
	 * backlog, which the guest sees as a refusal, as it would over TCP. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int uds_accepted(void *ctx, int fd, uint32_t local_port)
{
	char line[VSOCK_UDS_LINE_MAX];
	int n = snprintf(line, sizeof(line), "OK %u\n", local_port);
	ssize_t w;

	(void)ctx;
	/* A fresh socket's buffer has room for a line: short is broken. */
	do
		w = write(fd, line, n);
	while (w < 0 && errno == EINTR);
	return w == n ? 0 : -EIO;
}

static void uds_client_close(struct vsock_uds_client *cl)
{
	evloop_del(cl->u->loop, &cl->ev);
	close(cl->ev.fd);
	cl->ev.fd = -1;
}

/* "CONNECT <port>" with a decimal port of at most 32 bits. */
static bool uds_parse(const char *line, uint32_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (strncmp(line, "CONNECT ", 8))
		return false;
	p = line + 8;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*port = v;
	return true;
}

/*
 * Reads the CONNECT line a byte at a time, so that not one byte of the
 * stream after it is taken from the socket.
 */
static void uds_on_client(struct ev_handler *h, uint32_t events)
{
	struct vsock_uds_client *cl = container_of(h, struct vsock_uds_client, ev);
	struct vsock_uds *u = cl->u;
	uint32_t port;
	int fd;

	(void)events;
	for (;;) {
		char c;
		ssize_t n = read(cl->ev.fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 || cl->len == sizeof(cl->line) - 1) {
			uds_client_close(cl);
			return;
		}
		if (c == '\n')
			break;
		cl->line[cl->len++] = c;
	}
	cl->line[cl->len] = '\0';
	if (!uds_parse(cl->line, &port) || !u->vdev) {
		uds_client_close(cl);
		return;
	}
	fd = cl->ev.fd;
	evloop_del(u->loop, &cl->ev);
	cl->ev.fd = -1;
	/* The device owns fd from here, and closes it if it cannot. */
	virtio_vsock_host_connect(u->vdev, fd, port);
}

static void uds_on_listen(struct ev_handler *h, uint32_t events)
{
	struct vsock_uds *u = container_of(h, struct vsock_uds, listen);

	(void)events;
	for (;;) {
		struct vsock_uds_client *cl = NULL;
		int fd = accept4(u->listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				pr_warn_once("vsock: accept on %s: %s", u->path, strerror(errno));
			return;
		}
		for (unsigned int i = 0; i < VSOCK_UDS_PENDING_MAX && !cl; i++)
			if (u->client[i].ev.fd < 0)
				cl = &u->client[i];
		if (!cl) {
			/* Too many half-open: this one may try again. */
			close(fd);
			continue;
		}
		cl->ev.fd = fd;
		cl->len = 0;
		if (evloop_add(u->loop, &cl->ev, EPOLLIN)) {
			close(fd);
			cl->ev.fd = -1;
		}
	}
}

/* An old run's socket at path that nobody listens on may go. */
static int uds_clear_stale(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	uds_addr(path, -1, &sa);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!r)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return -errno;
	return unlink(path) < 0 ? -errno : 0;
}

static int uds_listen(struct vsock_uds *u)
{
	struct sockaddr_un sa;
	int err;

	/* The longest PATH_PORT must fit too: PORT has up to 10 digits. */
	if (!uds_addr(u->path, UINT32_MAX, &sa)) {
		pr_err("--vsock: uds=%s is too long for a Unix socket (with _PORT, at most %zu bytes): use a shorter path",
		       u->path, sizeof(sa.sun_path) - 12);
		return -ENAMETOOLONG;
	}
	err = uds_clear_stale(u->path);
	if (err) {
		pr_err("--vsock: uds=%s: %s: remove it or choose another path",
		       u->path, err == -EADDRINUSE ? "another program listens there" :
		       err == -EEXIST ? "exists and is not a socket" : strerror(-err));
		return err;
	}
	uds_addr(u->path, -1, &sa);
	u->listen.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->listen.fd < 0 ||
	    bind(u->listen.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(u->listen.fd, VSOCK_UDS_PENDING_MAX) < 0) {
		err = -errno;
		pr_err("--vsock: cannot listen on uds=%s: %s", u->path, strerror(errno));
		return err;
	}
	u->listen.fn = uds_on_listen;
	err = evloop_add(u->loop, &u->listen, EPOLLIN);
	if (err)
		pr_err("--vsock: cannot watch uds=%s: %s", u->path, strerror(-err));
	return err;
}

void vsock_uds_free(struct vsock_uds *u)
{
	if (!u)
		return;
	for (unsigned int i = 0; i < VSOCK_UDS_PENDING_MAX; i++)
		if (u->client[i].ev.fd >= 0)
			uds_client_close(&u->client[i]);
	if (u->listen.fd >= 0) {
		evloop_del(u->loop, &u->listen);
		close(u->listen.fd);
	}
	free(u->path);
	free(u);
}

static void uds_release(void *ctx)
{
	vsock_uds_free(ctx);
}

struct vsock_uds *vsock_uds_new(const char *path, struct evloop *loop,
				struct vsock_backend *be)
{
	struct vsock_uds *u = calloc(1, sizeof(*u));

	if (!u) {
		pr_err("--vsock: out of memory");
		return NULL;
	}
	u->loop = loop;
	u->listen.fd = -1;
	for (unsigned int i = 0; i < VSOCK_UDS_PENDING_MAX; i++) {
		u->client[i].ev.fd = -1;
		u->client[i].ev.fn = uds_on_client;
		u->client[i].u = u;
	}
	if (path) {
		u->path = strdup(path);
		if (!u->path || uds_listen(u)) {
			if (!u->path)
				pr_err("--vsock: out of memory");
			vsock_uds_free(u);
			return NULL;
		}
	}
	*be = (struct vsock_backend){
		.connect = uds_connect,
		.accepted = uds_accepted,
		.release = uds_release,
		.ctx = u,
	};
	return u;
}

void vsock_uds_attach(struct vsock_uds *u, struct virtio_dev *vdev)
{
	u->vdev = vdev;
}
