// SPDX-License-Identifier: GPL-2.0
/*
 * The tap backend: /dev/net/tun, TUNSETIFF with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR. The descriptor is nonblocking: io_uring (Linux 5.15 and
 * later) still waits for readiness on it, by polling, rather than
 * parking a worker thread in a blocking read, and the device links a
 * poll in front of any read that a kernel answers with EAGAIN.
 *
 * The header size and the offloads follow what the driver negotiated,
 * at DRIVER_OK (configure(), on a vCPU thread) and when the driver
 * changes its offloads (the control queue, on the I/O thread): the
 * seccomp filters allow exactly those two ioctls on this descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "backend/tap.h"
#include "lib/config.h"
#include "lib/log.h"
#include "virtio/net_backend.h"

#define TAP_DEV		"/dev/net/tun"
#define TAP_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

struct tap {
	int fd;
	char name[IFNAMSIZ];
	bool created;
	struct vnet_backend be;
};

static int tap_configure(void *ctx, unsigned int hdr_len, uint64_t features)
{
	struct tap *t = ctx;
	int sz = hdr_len;

	if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) < 0 ||
	    ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)vnet_tun_offloads(features)) < 0) {
		int err = -errno;

		pr_warn_once("tap %s: cannot set the header size or offloads: %s",
			     t->name, strerror(-err));
		return err;
	}
	return 0;
}

static int tap_open_dev(const char *name)
{
	int fd = open(TAP_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	unsigned int features = 0;

	if (fd < 0) {
		int err = -errno;

		if (err == -ENOENT || err == -ENODEV || err == -ENXIO)
			pr_err("--net tap=%s: no %s (load the tun module: modprobe tun)",
			       name, TAP_DEV);
		else
			pr_err("--net tap=%s: cannot open %s: %s", name, TAP_DEV,
			       strerror(-err));
		return err;
	}
	if (ioctl(fd, TUNGETFEATURES, &features) < 0 ||
	    !(features & IFF_TAP) || !(features & IFF_VNET_HDR)) {
		pr_err("--net tap=%s: this kernel's tun driver has no taps with virtio-net headers",
		       name);
		close(fd);
		return -ENOTSUP;
	}
	return fd;
}

/* One line for each way TUNSETIFF says no. */
static void tap_setiff_error(const char *name, bool exists, int err)
{
	if (err == -EPERM && exists)
		pr_err("--net tap=%s: no permission to use this tap (it belongs to another user: ip tuntap add %s mode tap user USER, or run with CAP_NET_ADMIN)",
		       name, name);
	else if (err == -EPERM)
		pr_err("--net tap=%s: no such tap, and creating one needs CAP_NET_ADMIN (create it first: ip tuntap add %s mode tap user USER)",
		       name, name);
	else if (err == -EBUSY)
		pr_err("--net tap=%s: the tap is in use by another program", name);
	else if (err == -EINVAL && exists)
		pr_err("--net tap=%s: the interface exists and is not a single-queue tap",
		       name);
	else
		pr_err("--net tap=%s: cannot attach: %s", name, strerror(-err));
}

static int tap_setiff(struct tap *t)
{
	struct ifreq ifr;
	bool exists = if_nametoindex(t->name) != 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
	/* Creating: EXCL, so that a tap that appeared meanwhile is never
	 * taken for ours and removed. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (exists ? 0 : IFF_TUN_EXCL);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		tap_setiff_error(t->name, exists || err == -EBUSY, err);
		return err;
	}
	t->created = !exists;
	return 0;
}

/* The offloads the tap takes; none when TUNSETOFFLOAD refuses them. */
static uint64_t tap_probe_offloads(struct tap *t)
{
	if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)TAP_OFFLOADS) < 0)
		return 0;
	ioctl(t->fd, TUNSETOFFLOAD, 0UL);
	return VNET_OFFLOADS;
}

struct tap *tap_open(const struct net_config *cfg)
{
	struct tap *t = calloc(1, sizeof(*t));

	if (!t) {
		pr_err("--net tap=%s: out of memory", cfg->ifname);
		return NULL;
	}
	snprintf(t->name, sizeof(t->name), "%s", cfg->ifname);
	t->fd = tap_open_dev(t->name);
	if (t->fd < 0 || tap_setiff(t)) {
		tap_close(t);
		return NULL;
	}
	t->be = (struct vnet_backend){
		.fd = t->fd,
		.offloads = tap_probe_offloads(t),
		.configure = tap_configure,
		.ctx = t,
	};
	pr_info("tap %s: %s, offloads %s", t->name,
		t->created ? "created (removed at exit)" : "attached",
		t->be.offloads ? "on" : "off");
	return t;
}

const struct vnet_backend *tap_backend(struct tap *t)
{
	return &t->be;
}

int tap_fd(const struct tap *t)
{
	return t->fd;
}

void tap_close(struct tap *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}
