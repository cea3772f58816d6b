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
 *
 * With queues=N > 1 the tap is a multi-queue one (IFF_MULTI_QUEUE): N
 * descriptors, one per virtio-net queue pair, each a queue the tap
 * steers flows to. Queues past the pairs the driver uses are detached
 * (TUNSETQUEUE, set_pairs(), allowed on those descriptors only), so that
 * no frame waits where nobody reads; queue 0 is always attached and
 * carries configure(): header size and offloads are the whole tap's.
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

_Static_assert(CONFIG_NET_QUEUES_MAX <= VNET_PAIRS_MAX, "tap queues");

struct tap {
	int fd;				/* queue 0 */
	char name[IFNAMSIZ];
	bool created;
	unsigned int nr_queues;
	int qfd[CONFIG_NET_QUEUES_MAX];
	bool attached[CONFIG_NET_QUEUES_MAX];
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

/* Queues 0..n-1 carry frames, the others are detached. */
static int tap_set_pairs(void *ctx, unsigned int n)
{
	struct tap *t = ctx;

	for (unsigned int i = 1; i < t->nr_queues; i++) {
		struct ifreq ifr;
		bool want = i < n;

		if (t->attached[i] == want)
			continue;
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_flags = want ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		if (ioctl(t->qfd[i], TUNSETQUEUE, &ifr) < 0) {
			int err = -errno;

			pr_warn_once("tap %s: cannot %s queue %u: %s", t->name,
				     want ? "attach" : "detach", i, strerror(-err));
			return err;
		}
		t->attached[i] = want;
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
	    !(features & IFF_TAP) || !(features & IFF_VNET_HDR) ||
	    !(features & IFF_MULTI_QUEUE)) {
		pr_err("--net tap=%s: this kernel's tun driver has no multi-queue taps with virtio-net headers",
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
		pr_err("--net tap=%s: the interface exists and is not a single-queue tap, nor a multi-queue one",
		       name);
	else
		pr_err("--net tap=%s: cannot attach: %s", name, strerror(-err));
}

/* TUNSETIFF on fd with IFF_MULTI_QUEUE or not; 0 or -errno, no line. */
static int tap_setiff_fd(const struct tap *t, int fd, bool mq, bool excl)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | (mq ? IFF_MULTI_QUEUE : 0) |
			(excl ? IFF_TUN_EXCL : 0);
	return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

/*
 * Queue 0. A tap kvmini creates is made multi-queue when more than one
 * pair is asked for. An existing tap says what it is by refusing the
 * other kind (EINVAL): one made with multi_queue serves one pair too; one
 * made without serves one pair only, with a notice when the pairs were
 * the default, an error when queues= asked for them.
 */
static int tap_setiff(struct tap *t, const struct net_config *cfg)
{
	bool exists = if_nametoindex(t->name) != 0;
	bool mq = t->nr_queues > 1;
	/* Creating: EXCL, so that a tap that appeared meanwhile is never
	 * taken for ours and removed. */
	int err = tap_setiff_fd(t, t->fd, mq, !exists);

	if (err == -EINVAL && exists && !mq) {
		mq = true;
		err = tap_setiff_fd(t, t->fd, mq, false);
	} else if (err == -EINVAL && exists && !cfg->queues_set) {
		mq = false;
		err = tap_setiff_fd(t, t->fd, mq, false);
		if (!err) {
			pr_info("tap %s: made without multi_queue, so one queue pair, not %u (for one per vCPU: ip tuntap add %s mode tap multi_queue)",
				t->name, t->nr_queues, t->name);
			t->nr_queues = 1;
		}
	} else if (err == -EINVAL && exists) {
		pr_err("--net tap=%s,queues=%u: the tap was made without multi_queue (make it with: ip tuntap add %s mode tap multi_queue [user USER]; or drop queues=)",
		       t->name, t->nr_queues, t->name);
		return err;
	}
	if (err) {
		tap_setiff_error(t->name, exists || err == -EBUSY, err);
		return err;
	}
	t->created = !exists;
	t->attached[0] = true;
	return 0;
}

/* Queues 1..nr_queues-1 of the multi-queue tap queue 0 made or found. */
static int tap_open_queues(struct tap *t)
{
	for (unsigned int i = 1; i < t->nr_queues; i++) {
		int err;

		t->qfd[i] = tap_open_dev(t->name);
		if (t->qfd[i] < 0)
			return t->qfd[i];
		err = tap_setiff_fd(t, t->qfd[i], true, false);
		if (err) {
			pr_err("--net tap=%s: cannot open its queue %u of %u: %s", t->name,
			       i + 1, t->nr_queues, strerror(-err));
			return err;
		}
		t->attached[i] = true;
	}
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
	for (unsigned int i = 0; i < CONFIG_NET_QUEUES_MAX; i++)
		t->qfd[i] = -1;
	t->nr_queues = cfg->queues < 1 ? 1 :
		       cfg->queues > CONFIG_NET_QUEUES_MAX ? CONFIG_NET_QUEUES_MAX : cfg->queues;
	t->fd = t->qfd[0] = tap_open_dev(t->name);
	if (t->fd < 0 || tap_setiff(t, cfg) || tap_open_queues(t)) {
		tap_close(t);
		return NULL;
	}
	t->be = (struct vnet_backend){
		.fd = t->fd,
		.offloads = tap_probe_offloads(t),
		.configure = tap_configure,
		.ctx = t,
	};
	if (t->nr_queues > 1) {
		t->be.nr_pairs = t->nr_queues;
		memcpy(t->be.qfd, t->qfd, sizeof(t->qfd));
		t->be.set_pairs = tap_set_pairs;
	}
	pr_info("tap %s: %s, offloads %s, %u queue%s", t->name,
		t->created ? "created (removed at exit)" : "attached",
		t->be.offloads ? "on" : "off", t->nr_queues, t->nr_queues > 1 ? "s" : "");
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

unsigned int tap_nr_queues(const struct tap *t)
{
	return t->nr_queues;
}

int tap_queue_fd(const struct tap *t, unsigned int i)
{
	return i < t->nr_queues ? t->qfd[i] : -1;
}

void tap_close(struct tap *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < CONFIG_NET_QUEUES_MAX; i++)
		if (t->qfd[i] >= 0)
			close(t->qfd[i]);
	free(t);
}
