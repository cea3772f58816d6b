// SPDX-License-Identifier: GPL-2.0
/*
 * The container's network: which namespace kvmini runs in, and whether
 * the guest gets a NIC (docs/oci.md, "Networking").
 *
 * A guest reaches the world only through kvmini's user networking, whose
 * sockets live in the network namespace of the kvmini process. So the
 * namespace an engine made and configured for the container (podman's
 * netavark or CNI, containerd's CNI, Kubernetes' pod sandbox) is joined
 * by the container's kvmini process before the VM exists, and the guest
 * then has exactly that namespace's connectivity: its routes, its
 * firewall, nothing of the host's beyond them. No tap, no bridge, no
 * privileges beyond those the engine already used.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "lib/log.h"
#include "oci/oci.h"

int oci_net_open(const struct oci_ctx *c, const struct oci_spec *spec, int *netns)
{
	int fd, err;

	*netns = -1;
	if (spec->net != OCI_NET_JOIN)
		return 0;
	fd = open(spec->netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		oci_err(c, "config.json: network namespace %s: %s", spec->netns_path,
			strerror(-err));
		return err;
	}
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		oci_err(c, "config.json: %s is not a network namespace", spec->netns_path);
		close(fd);
		return -EINVAL;
	}
	*netns = fd;
	return 0;
}

/* Whether the namespace routes anything beyond loopback: a route in
 * IPv4's table, or an IPv6 route on a device other than lo. */
static bool oci_net_routed(void)
{
	char line[256], dev[32];
	bool routed = false;
	FILE *f;

	f = fopen("/proc/self/net/route", "re");
	if (f) {
		/* The first line is the header; lo has no IPv4 routes here. */
		for (int n = 0; fgets(line, sizeof(line), f); n++)
			routed |= n > 0;
		fclose(f);
	}
	f = fopen("/proc/self/net/ipv6_route", "re");
	if (f) {
		while (!routed && fgets(line, sizeof(line), f))
			routed = sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %31s", dev) == 1 &&
				 strcmp(dev, "lo");
		fclose(f);
	}
	return routed;
}

int oci_net_enter(struct oci_spec *spec, int fd)
{
	if (fd >= 0) {
		if (setns(fd, CLONE_NEWNET) < 0) {
			pr_err("cannot join the network namespace %s: %s", spec->netns_path,
			       strerror(errno));
			close(fd);
			return -errno;
		}
		close(fd);
	}
	switch (spec->net) {
	case OCI_NET_HOST:
		/* The caller's network, as a process sharing it would have. */
		spec->ec.net_user = true;
		break;
	case OCI_NET_NEW:
		/* A namespace of its own that nobody configures: loopback. */
		spec->ec.net_user = false;
		break;
	case OCI_NET_JOIN:
		/* podman --network none hands over a namespace with lo alone. */
		spec->ec.net_user = oci_net_routed();
		break;
	}
	return 0;
}
