/* SPDX-License-Identifier: GPL-2.0 */
/* What the user asked for, parsed and range-checked by cli.c. */
#ifndef KVMINI_CONFIG_H
#define KVMINI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

enum console_kind {
	CONSOLE_STDIO,
	CONSOLE_NONE,
	CONSOLE_FILE,
	CONSOLE_VIRTIO,		/* stdio, through virtio-console (hvc0) */
	CONSOLE_STDERR,		/* output only, to stderr (kvmini exec --verbose) */
};

#define CONFIG_DISKS_MAX	8
#define CONFIG_SERIAL_MAX	20	/* virtio-blk's device ID string */

/* One --disk FILE[,ro][,direct][,serial=ID]. */
struct disk_config {
	const char *arg;		/* the option's value: FILE is its */
	unsigned int path_len;		/* first path_len bytes */
	bool ro;			/* the guest may not write */
	bool direct;			/* O_DIRECT: no host page cache */
	char serial[CONFIG_SERIAL_MAX + 1];
};

#define CONFIG_NETS_MAX		4
#define CONFIG_HOSTFWD_MAX	16
#define CONFIG_IFNAME_MAX	15	/* IFNAMSIZ - 1 */
#define CONFIG_NET_QUEUES_MAX	8	/* queue pairs per tap NIC */

enum net_kind {
	NET_TAP,		/* --net tap=NAME */
	NET_USER,		/* --net user: libslirp, no privileges */
};

/* One hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT.
 * Addresses in network byte order; host_addr 0 means 127.0.0.1 (never
 * every interface unless asked), guest_addr 0 the DHCP address. */
struct hostfwd_config {
	bool udp;
	uint32_t host_addr;
	uint16_t host_port;
	uint32_t guest_addr;
	uint16_t guest_port;
};

/* One --net tap=NAME[,queues=N][,mac=MAC] or --net user[,hostfwd=…][,mac=MAC]. */
struct net_config {
	enum net_kind kind;
	char ifname[CONFIG_IFNAME_MAX + 1];	/* tap only */
	/* Tap only: queue pairs, 1..CONFIG_NET_QUEUES_MAX; without queues=
	 * (queues_set false) one per --cpus, and 1 when the tap exists
	 * without multi_queue. user: 1. */
	unsigned int queues;
	bool queues_set;
	uint8_t mac[6];			/* cli.c picks 52:54:00:12:34:5N */
	bool mac_set;			/* the user gave mac= */
	struct hostfwd_config fwd[CONFIG_HOSTFWD_MAX];	/* user only */
	unsigned int nr_fwd;
};

#define CONFIG_SHARES_MAX	8
#define CONFIG_TAG_MAX		36	/* virtio-fs config: tag[36] */

struct virtiofsd_early;

/* One --share HOSTDIR:TAG[,ro]: a host directory as virtio-fs. */
struct share_config {
	const char *path;		/* HOSTDIR is its */
	unsigned int path_len;		/* first path_len bytes */
	char tag[CONFIG_TAG_MAX + 1];	/* mount -t virtiofs TAG /mnt */
	bool ro;			/* enforced on the host side */
	bool as_nobody;			/* only what host uid 65534 may read */
	struct virtiofsd_early *early;	/* its virtiofsd, started ahead
					 * (backend/virtiofsd.h), or NULL */
};

/* --vsock CID[,uds=PATH]: a virtio-vsock device (docs/vsock.md). */
struct vsock_config {
	uint32_t cid;			/* 0: no device; else 3..0xfffffffe */
	const char *uds;		/* the host side's socket, or NULL */
};

struct vm_config {
	const char *kernel;
	const char *initrd;
	const char *cmdline;		/* appended to the default one */
	uint64_t mem;			/* bytes */
	unsigned int cpus;
	enum console_kind console;
	const char *console_path;
	unsigned int timeout;		/* seconds; 0 = none */
	const char *kvm_dev;
	const char *dump_dtb;		/* write the device tree here and exit */
	struct disk_config disks[CONFIG_DISKS_MAX];	/* vda, vdb… */
	unsigned int nr_disks;
	struct net_config nets[CONFIG_NETS_MAX];	/* eth0, eth1… */
	unsigned int nr_nets;
	struct share_config shares[CONFIG_SHARES_MAX];	/* virtio-fs */
	unsigned int nr_shares;
	struct vsock_config vsock;
	const char *control;		/* --control PATH: the control socket */
	const char *restore;		/* --restore DIR: a snapshot to resume */
	bool snapshots;			/* a snapshot thread without --control
					 * (kvmini exec's cache) */
	bool no_rng;
	bool no_acpi;			/* x86: no ACPI tables */
	bool no_seccomp;		/* debugging: no system call filter */
	bool virtio_legacy;		/* virtio-mmio version 1 for every device */
	enum vm_transport {
		TRANSPORT_MMIO,		/* virtio-mmio (default) */
		TRANSPORT_PCI,		/* virtio-pci with MSI-X (docs/pci.md) */
	} transport;			/* --transport: for every virtio device */
	bool verbose;
};

#define CONFIG_MEM_DEFAULT	(256ULL << 20)
#define CONFIG_MEM_MIN		(16ULL << 20)
#define CONFIG_CPUS_MAX		254	/* xAPIC IDs; 255 is broadcast */

/* Returns 0 and fills cfg, or prints one error line and returns -EINVAL;
 * 1 when --help or --version was handled. */
int cli_parse(int argc, char **argv, struct vm_config *cfg);

/* "256M", "1G", "4096K", "128" (MiB): bytes, or -EINVAL. */
int parse_size(const char *s, uint64_t *out);
/* A decimal number up to max, or -EINVAL. */
int parse_uint(const char *s, unsigned long max, unsigned int *out);

#endif
