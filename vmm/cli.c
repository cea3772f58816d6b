// SPDX-License-Identifier: GPL-2.0
/* `kvmini run` options: parsed, range-checked, one error line each. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/cli.h"
#include "vmm/exitcode.h"

static const char run_usage[] =
"usage: kvmini run --kernel FILE [options]\n"
"       kvmini run --restore DIR [options]\n"
"\n"
"Boots a Linux kernel in a new KVM virtual machine, or resumes one from a\n"
"snapshot.\n"
"\n"
"  --kernel FILE        bzImage or ELF vmlinux (x86_64), Image (arm64)\n"
"  --restore DIR        resume the VM saved in DIR (a snapshot taken through\n"
"                       --control); the machine is the snapshot's: --disk and\n"
"                       --net replace its disks and NICs one for one (a tap\n"
"                       NIC needs --net tap=NAME); docs/snapshot.md\n"
"  --initrd FILE        initial ramdisk\n"
"  --cmdline STR        appended to kvmini's default kernel command line\n"
"  --mem SIZE           guest RAM, K/M/G/T suffix, plain number = MiB (default 256M)\n"
"  --cpus N             vCPUs (default 1)\n"
"  --console KIND       stdio (default, on the UART), virtio (stdio on\n"
"                       virtio-console, hvc0), none, or file:PATH\n"
"  --disk FILE[,ro][,direct][,serial=ID]\n"
"                       a raw disk image (or block device) as virtio-blk;\n"
"                       repeat for vdb, vdc… (at most 8); ro: the guest\n"
"                       cannot write, direct: O_DIRECT, serial: its ID\n"
"                       (up to 20 characters)\n"
"  --share HOSTDIR:TAG[,ro]\n"
"                       HOSTDIR as virtio-fs (virtiofsd, needs root); the\n"
"                       guest mounts it with mount -t virtiofs TAG DIR;\n"
"                       ro: read-only, enforced on the host (at most 8)\n"
"  --net tap=NAME[,queues=N][,mac=MAC]\n"
"                       a virtio-net NIC on the tap NAME (created, and\n"
"                       removed at exit, when it does not exist: that\n"
"                       needs CAP_NET_ADMIN); eth0, eth1… in order, at most 4;\n"
"                       queues: queue pairs, 1-8 (default: one per vCPU, up\n"
"                       to 8; a tap made without multi_queue gets 1)\n"
"  --net user[,hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...[,mac=MAC]\n"
"                       a NIC on user-mode networking (no privileges):\n"
"                       DHCP, DNS and outbound TCP/UDP; hostfwd forwards a\n"
"                       host port (on 127.0.0.1 unless HOSTADDR) into the guest\n"
"                       (default MACs 52:54:00:12:34:56, :57…)\n"
"  --vsock CID[,uds=PATH]\n"
"                       a virtio-vsock device, the guest's CID (3 to\n"
"                       4294967294); the guest's connect(2, PORT) reaches\n"
"                       the Unix socket PATH_PORT, and host programs reach\n"
"                       the guest through PATH with \"CONNECT PORT\\n\"\n"
"                       (Firecracker's protocol, docs/vsock.md)\n"
"  --control PATH       a Unix socket (mode 0600) taking JSON requests, one\n"
"                       a line: status, pause, resume, snapshot, stop\n"
"                       (docs/control.md)\n"
"  --no-rng             no virtio-rng device\n"
"  --no-acpi            x86: no ACPI tables (MP table and command line only)\n"
"  --no-seccomp         debugging: do not confine kvmini with seccomp\n"
"  --virtio-legacy      virtio-mmio version 1 (legacy) for every device\n"
"  --transport KIND     mmio (default) or pci (virtio-pci with\n"
"                       MSI-X) for every virtio device\n"
"  --dump-dtb FILE      write the VM's device tree to FILE and exit\n"
"  --timeout SECS       end the VM after SECS seconds (exit status 124)\n"
"  --verbose            say what kvmini is doing\n"
"  --help               this text\n"
"\n"
"On the console, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n"
"Exit status: the guest's (exit device), 0 after poweroff or reboot,\n"
"122 guest crashed or panicked, 124 timeout, 125 kvmini failed,\n"
"159 kvmini made a system call its seccomp filter forbids,\n"
"128+N killed by signal N. See docs/exit-codes.md.\n";

const char kvmini_version[] = KVMINI_VERSION;

static const char main_usage[] =
"usage: kvmini run --kernel FILE [options]   (kvmini run --help)\n"
"       kvmini exec [options] -- CMD [ARGS...]   (kvmini exec --help)\n"
"       kvmini oci [flags] COMMAND [ID]   an OCI runtime (kvmini oci --help)\n"
"       kvmini --version\n";

int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v, shift = 20;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || !v || v > (ULLONG_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

int parse_uint(const char *s, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int cli_mem(struct vm_config *cfg, const char *arg)
{
	uint64_t host = (uint64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE);

	if (parse_size(arg, &cfg->mem)) {
		pr_err("--mem '%s': not a size (try 256M or 2G)", arg);
		return -EINVAL;
	}
	if (cfg->mem < CONFIG_MEM_MIN) {
		pr_err("--mem %s: too small, a Linux guest needs at least %llu MiB",
		       arg, CONFIG_MEM_MIN >> 20);
		return -EINVAL;
	}
	if (cfg->mem & 0xfff) {
		pr_err("--mem %s: must be a multiple of 4 KiB", arg);
		return -EINVAL;
	}
	if (cfg->mem > host) {
		pr_err("--mem %s: more than this host's %llu MiB of RAM",
		       arg, (unsigned long long)(host >> 20));
		return -EINVAL;
	}
	return 0;
}

static int cli_console(struct vm_config *cfg, const char *arg)
{
	if (!strcmp(arg, "stdio")) {
		cfg->console = CONSOLE_STDIO;
	} else if (!strcmp(arg, "virtio")) {
		cfg->console = CONSOLE_VIRTIO;
	} else if (!strcmp(arg, "none")) {
		cfg->console = CONSOLE_NONE;
	} else if (!strncmp(arg, "file:", 5) && arg[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = arg + 5;
	} else {
		pr_err("--console '%s': expected stdio, virtio, none or file:PATH", arg);
		return -EINVAL;
	}
	return 0;
}

/* serial=ID: printable ASCII, as the guest shows it in /sys/block/vdX/serial. */
static int cli_disk_serial(struct disk_config *d, const char *id, size_t len)
{
	if (!len || len > CONFIG_SERIAL_MAX) {
		pr_err("--disk '%s': serial must be 1 to %d characters",
		       d->arg, CONFIG_SERIAL_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (id[i] < 0x20 || id[i] > 0x7e) {
			pr_err("--disk '%s': serial must be printable ASCII", d->arg);
			return -EINVAL;
		}
	}
	memcpy(d->serial, id, len);
	d->serial[len] = '\0';
	return 0;
}

/* One ",word" after the file name. */
static int cli_disk_flag(struct disk_config *d, const char *w, size_t len)
{
	if (len == 2 && !strncmp(w, "ro", 2)) {
		d->ro = true;
		return 0;
	}
	if (len == 6 && !strncmp(w, "direct", 6)) {
		d->direct = true;
		return 0;
	}
	if (len >= 7 && !strncmp(w, "serial=", 7))
		return cli_disk_serial(d, w + 7, len - 7);
	pr_err("--disk '%s': unknown flag '%.*s' (expected ro, direct or serial=ID)",
	       d->arg, (int)len, w);
	return -EINVAL;
}

/*
 * FILE[,ro][,direct][,serial=ID]. The file name ends at the first comma,
 * so it cannot contain one; it stays in argv, not copied.
 */
static int cli_disk(struct vm_config *cfg, const char *arg)
{
	struct disk_config *d = &cfg->disks[cfg->nr_disks];
	const char *p = strchr(arg, ',');

	if (cfg->nr_disks == CONFIG_DISKS_MAX) {
		pr_err("--disk '%s': at most %d disks", arg, CONFIG_DISKS_MAX);
		return -EINVAL;
	}
	*d = (struct disk_config){ .arg = arg };
	d->path_len = p ? (unsigned int)(p - arg) : strlen(arg);
	if (!d->path_len) {
		pr_err("--disk '%s': no file name (expected FILE[,ro][,direct][,serial=ID])",
		       arg);
		return -EINVAL;
	}
	while (p) {
		const char *w = p + 1;
		int err;

		p = strchr(w, ',');
		err = cli_disk_flag(d, w, p ? (size_t)(p - w) : strlen(w));
		if (err)
			return err;
	}
	cfg->nr_disks++;
	return 0;
}

/* A virtio-fs tag: 1 to 36 of [A-Za-z0-9._-], unique. */
static int cli_share_tag(struct vm_config *cfg, const char *arg, const char *tag,
			 size_t len)
{
	if (!len || len > CONFIG_TAG_MAX ||
	    strspn(tag, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") < len) {
		pr_err("--share '%s': TAG must be 1 to %d of A-Z a-z 0-9 . _ -",
		       arg, CONFIG_TAG_MAX);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		if (strlen(cfg->shares[i].tag) == len && !strncmp(cfg->shares[i].tag, tag, len)) {
			pr_err("--share '%s': tag '%.*s' used twice", arg, (int)len, tag);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * HOSTDIR:TAG[,ro]. The tag is what follows the last colon, so HOSTDIR
 * may hold colons and commas; it stays in argv, not copied.
 */
static int cli_share(struct vm_config *cfg, const char *arg)
{
	struct share_config *s = &cfg->shares[cfg->nr_shares];
	const char *colon = strrchr(arg, ':');
	const char *tag, *flags;
	size_t tag_len;
	int err;

	if (cfg->nr_shares == CONFIG_SHARES_MAX) {
		pr_err("--share '%s': at most %d shares", arg, CONFIG_SHARES_MAX);
		return -EINVAL;
	}
	if (!colon || colon == arg) {
		pr_err("--share '%s': expected HOSTDIR:TAG[,ro]", arg);
		return -EINVAL;
	}
	tag = colon + 1;
	flags = strchr(tag, ',');
	tag_len = flags ? (size_t)(flags - tag) : strlen(tag);
	err = cli_share_tag(cfg, arg, tag, tag_len);
	if (err)
		return err;
	*s = (struct share_config){ .path = arg, .path_len = colon - arg };
	if (flags && strcmp(flags, ",ro")) {
		pr_err("--share '%s': unknown flag '%s' (expected ,ro)", arg, flags + 1);
		return -EINVAL;
	}
	s->ro = flags;
	memcpy(s->tag, tag, tag_len);
	s->tag[tag_len] = '\0';
	cfg->nr_shares++;
	return 0;
}

/* ---- --net ---------------------------------------------------------------- */

/* An interface name as the kernel takes it (dev_valid_name), printable. */
static bool cli_ifname_ok(const char *s, size_t len)
{
	if (!len || len > CONFIG_IFNAME_MAX || (len == 1 && s[0] == '.') ||
	    (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '/' || s[i] == ':')
			return false;
	return true;
}

static int cli_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* xx:xx:xx:xx:xx:xx, a station's address: not a group, not zero. */
static int cli_mac(const char *arg, const char *s, size_t len, uint8_t mac[6])
{
	uint8_t any = 0;

	for (unsigned int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi, lo;

		if (len != 17 || (i < 5 && p[2] != ':') ||
		    (hi = cli_hex(p[0])) < 0 || (lo = cli_hex(p[1])) < 0) {
			pr_err("--net '%s': mac must be six hex bytes like 52:54:00:12:34:56",
			       arg);
			return -EINVAL;
		}
		mac[i] = hi << 4 | lo;
		any |= mac[i];
	}
	if ((mac[0] & 1) || !any) {
		pr_err("--net '%s': mac %.17s is a %s address, not a NIC's",
		       arg, s, any ? "multicast" : "zero");
		return -EINVAL;
	}
	return 0;
}

/* [ADDR]:PORT; an empty ADDR is 0. Returns the end, or NULL. */
static const char *cli_addr_port(const char *s, const char *end, uint32_t *addr,
				 uint16_t *port)
{
	const char *colon = memchr(s, ':', end - s);
	char buf[INET_ADDRSTRLEN];
	unsigned int v;
	char num[6];
	size_t n;

	if (!colon || (size_t)(colon - s) >= sizeof(buf))
		return NULL;
	*addr = 0;
	if (colon > s) {
		memcpy(buf, s, colon - s);
		buf[colon - s] = '\0';
		if (inet_pton(AF_INET, buf, addr) != 1)
			return NULL;
	}
	n = end - colon - 1;
	if (!n || n >= sizeof(num))
		return NULL;
	memcpy(num, colon + 1, n);
	num[n] = '\0';
	if (parse_uint(num, 65535, &v) || !v)
		return NULL;
	*port = v;
	return end;
}

/* hostfwd=tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT */
static int cli_hostfwd(struct net_config *n, const char *arg, const char *s,
		       size_t len)
{
	struct hostfwd_config *f = &n->fwd[n->nr_fwd];
	const char *end = s + len, *dash;

	if (n->nr_fwd == CONFIG_HOSTFWD_MAX) {
		pr_err("--net '%s': at most %d hostfwd", arg, CONFIG_HOSTFWD_MAX);
		return -EINVAL;
	}
	*f = (struct hostfwd_config){ 0 };
	if (len > 4 && (!strncmp(s, "tcp:", 4) || !strncmp(s, "udp:", 4))) {
		f->udp = s[0] == 'u';
		s += 4;
		dash = memchr(s, '-', end - s);
		if (dash && cli_addr_port(s, dash, &f->host_addr, &f->host_port) &&
		    cli_addr_port(dash + 1, end, &f->guest_addr, &f->guest_port)) {
			n->nr_fwd++;
			return 0;
		}
	}
	pr_err("--net '%s': hostfwd must be tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT with ports 1-65535",
	       arg);
	return -EINVAL;
}

/* queues=N, tap only: 1..CONFIG_NET_QUEUES_MAX queue pairs. */
static int cli_queues(struct net_config *n, const char *arg, const char *s,
		      size_t len)
{
	char num[4];
	unsigned int v;

	if (!len || len >= sizeof(num)) {
		v = 0;
	} else {
		memcpy(num, s, len);
		num[len] = '\0';
		if (parse_uint(num, CONFIG_NET_QUEUES_MAX, &v))
			v = 0;
	}
	if (!v) {
		pr_err("--net '%s': queues must be a number from 1 to %d", arg,
		       CONFIG_NET_QUEUES_MAX);
		return -EINVAL;
	}
	n->queues = v;
	n->queues_set = true;
	return 0;
}

static int cli_net_flag(struct net_config *n, const char *arg, const char *w,
			size_t len)
{
	if (len >= 4 && !strncmp(w, "mac=", 4)) {
		n->mac_set = true;
		return cli_mac(arg, w + 4, len - 4, n->mac);
	}
	if (len >= 8 && !strncmp(w, "hostfwd=", 8) && n->kind == NET_USER)
		return cli_hostfwd(n, arg, w + 8, len - 8);
	if (len >= 7 && !strncmp(w, "queues=", 7) && n->kind == NET_TAP)
		return cli_queues(n, arg, w + 7, len - 7);
	pr_err("--net '%s': unknown flag '%.*s' (expected mac=MAC%s)", arg, (int)len, w,
	       n->kind == NET_USER ? " or hostfwd=…" : " or queues=N");
	return -EINVAL;
}

/* After every option: a tap without queues= gets one pair per vCPU. A
 * restored VM's NICs have one pair (multi-queue NICs are not saved). */
static void cli_net_queues(struct vm_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		struct net_config *n = &cfg->nets[i];

		if (n->kind != NET_TAP || cfg->restore)
			n->queues = n->queues_set ? n->queues : 1;
		else if (!n->queues_set)
			n->queues = cfg->cpus < CONFIG_NET_QUEUES_MAX ? cfg->cpus :
				    CONFIG_NET_QUEUES_MAX;
	}
}

/* tap=NAME or user, then the flags; the NIC's default MAC by its index. */
static int cli_net_kind(struct vm_config *cfg, struct net_config *n,
			const char *arg, size_t len)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

	memcpy(n->mac, mac, 6);
	n->mac[5] += cfg->nr_nets;
	if (len == 4 && !strncmp(arg, "user", 4)) {
		n->kind = NET_USER;
		return 0;
	}
	if (len < 4 || strncmp(arg, "tap=", 4)) {
		pr_err("--net '%s': expected tap=NAME or user (see kvmini run --help)", arg);
		return -EINVAL;
	}
	if (!cli_ifname_ok(arg + 4, len - 4)) {
		pr_err("--net '%s': a tap name is 1 to %d printable characters, without / : or spaces",
		       arg, CONFIG_IFNAME_MAX);
		return -EINVAL;
	}
	n->kind = NET_TAP;
	memcpy(n->ifname, arg + 4, len - 4);
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		if (cfg->nets[i].kind == NET_TAP && !strcmp(cfg->nets[i].ifname, n->ifname)) {
			pr_err("--net '%s': tap %s given twice", arg, n->ifname);
			return -EINVAL;
		}
	}
	return 0;
}

static int cli_net(struct vm_config *cfg, const char *arg)
{
	struct net_config *n = &cfg->nets[cfg->nr_nets];
	const char *p = strchr(arg, ',');
	int err;

	if (cfg->nr_nets == CONFIG_NETS_MAX) {
		pr_err("--net '%s': at most %d NICs", arg, CONFIG_NETS_MAX);
		return -EINVAL;
	}
	*n = (struct net_config){ 0 };
	err = cli_net_kind(cfg, n, arg, p ? (size_t)(p - arg) : strlen(arg));
	while (!err && p) {
		const char *w = p + 1;

		p = strchr(w, ',');
		err = cli_net_flag(n, arg, w, p ? (size_t)(p - w) : strlen(w));
	}
	for (unsigned int i = 0; !err && i < cfg->nr_nets; i++) {
		if (!memcmp(cfg->nets[i].mac, n->mac, 6)) {
			pr_err("--net '%s': eth%u has the same MAC; give each NIC its own mac=",
			       arg, i);
			err = -EINVAL;
		}
	}
	if (!err)
		cfg->nr_nets++;
	return err;
}

/* The options both subcommands take (cli.h). */
/* ---- --vsock ---------------------------------------------------------------- */

/* CID[,uds=PATH]: 0-2 are the hypervisor, local and host, and U32_MAX is
 * VMADDR_CID_ANY. */
static int cli_vsock(struct vm_config *cfg, const char *arg)
{
	const char *comma = strchr(arg, ',');
	char num[11];
	size_t len = comma ? (size_t)(comma - arg) : strlen(arg);
	unsigned int cid;

	if (cfg->vsock.cid) {
		pr_err("--vsock '%s': only one vsock device: give --vsock once", arg);
		return -EINVAL;
	}
	if (!len || len >= sizeof(num)) {
		cid = 0;
	} else {
		memcpy(num, arg, len);
		num[len] = '\0';
		if (parse_uint(num, UINT32_MAX - 1, &cid))
			cid = 0;
	}
	if (cid < 3) {
		pr_err("--vsock '%s': CID must be a number from 3 to %u",
		       arg, UINT32_MAX - 1);
		return -EINVAL;
	}
	if (comma && (strncmp(comma + 1, "uds=", 4) || !comma[5])) {
		pr_err("--vsock '%s': after the CID only uds=PATH may follow", arg);
		return -EINVAL;
	}
	cfg->vsock.cid = cid;
	cfg->vsock.uds = comma ? comma + 5 : NULL;
	return 0;
}

int cli_common_option(struct vm_config *cfg, int opt, const char *arg)
{
	switch (opt) {
	case CLI_OPT_MEM:
		return cli_mem(cfg, arg);
	case CLI_OPT_CPUS:
		if (parse_uint(arg, CONFIG_CPUS_MAX, &cfg->cpus) || !cfg->cpus) {
			pr_err("--cpus '%s': expected a number from 1 to %d",
			       arg, CONFIG_CPUS_MAX);
			return -EINVAL;
		}
		return 0;
	case CLI_OPT_TIMEOUT:
		if (parse_uint(arg, INT_MAX, &cfg->timeout) || !cfg->timeout) {
			pr_err("--timeout '%s': expected a positive number of seconds", arg);
			return -EINVAL;
		}
		return 0;
	case CLI_OPT_VERBOSE:
		cfg->verbose = true;
		return 0;
	case CLI_OPT_NO_SECCOMP:
		cfg->no_seccomp = true;
		return 0;
	case CLI_OPT_KVM_DEV:
		cfg->kvm_dev = arg;
		return 0;
	case CLI_OPT_VSOCK:
		return cli_vsock(cfg, arg);
	}
	return -EINVAL;
}

/* One line naming what getopt_long refused (opt is '?' or ':'). */
static void cli_bad_option(const char *name, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		pr_err("option '%s' needs a value (see kvmini %s --help)", arg, name);
	else if (optopt > 0 && optopt < 256)
		pr_err("unknown option '-%c' (see kvmini %s --help)", optopt, name);
	else if (optopt)
		pr_err("option '%s' takes no value (see kvmini %s --help)", arg, name);
	else
		pr_err("unknown option '%s' (see kvmini %s --help)", arg, name);
}

int cli_getopt(const struct cli_cmd *cmd, void *ctx, int argc, char **argv)
{
	int opt, err;

	opterr = 0;
	optind = 0;	/* 0, not 1: also resets getopt's state inside "-xy" */
	/* A leading ':' makes a missing value ':' rather than '?'. */
	while ((opt = getopt_long(argc, argv, cmd->optstring, cmd->options,
				  NULL)) != -1) {
		if (opt == CLI_OPT_HELP) {
			fputs(cmd->usage, stdout);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			cli_bad_option(cmd->name, opt, argv);
			return -EINVAL;
		}
		err = cmd->option(ctx, opt, optarg);
		if (err)
			return err;
	}
	return 0;
}

enum {
	OPT_KERNEL = CLI_OPT_OWN, OPT_INITRD, OPT_CMDLINE, OPT_CONSOLE,
	OPT_NO_RNG, OPT_VIRTIO_LEGACY, OPT_DUMP_DTB, OPT_NO_ACPI, OPT_TRANSPORT,
	OPT_DISK,
	OPT_SHARE,
	OPT_NET,
	OPT_CONTROL,
	OPT_RESTORE,
};

static const struct option run_options[] = {
	CLI_COMMON_OPTIONS,
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	{ "initrd",	required_argument, NULL, OPT_INITRD },
	{ "cmdline",	required_argument, NULL, OPT_CMDLINE },
	{ "console",	required_argument, NULL, OPT_CONSOLE },
	{ "no-rng",	no_argument,	   NULL, OPT_NO_RNG },
	{ "no-acpi",	no_argument,	   NULL, OPT_NO_ACPI },
	{ "virtio-legacy", no_argument,	   NULL, OPT_VIRTIO_LEGACY },
	{ "transport",	required_argument, NULL, OPT_TRANSPORT },
	{ "dump-dtb",	required_argument, NULL, OPT_DUMP_DTB },
	{ "disk",	required_argument, NULL, OPT_DISK },
	{ "share",	required_argument, NULL, OPT_SHARE },
	{ "net",	required_argument, NULL, OPT_NET },
	{ "control",	required_argument, NULL, OPT_CONTROL },
	{ "restore",	required_argument, NULL, OPT_RESTORE },
	{ NULL, 0, NULL, 0 },
};

static int cli_option(void *ctx, int opt, const char *arg)
{
	struct vm_config *cfg = ctx;

	switch (opt) {
	case OPT_KERNEL:
		cfg->kernel = arg;
		return 0;
	case OPT_INITRD:
		cfg->initrd = arg;
		return 0;
	case OPT_CMDLINE:
		cfg->cmdline = arg;
		return 0;
	case OPT_CONSOLE:
		return cli_console(cfg, arg);
	case OPT_NO_RNG:
		cfg->no_rng = true;
		return 0;
	case OPT_NO_ACPI:
		cfg->no_acpi = true;
		return 0;
	case OPT_VIRTIO_LEGACY:
		cfg->virtio_legacy = true;
		return 0;
	case OPT_TRANSPORT:
		if (!strcmp(arg, "mmio")) {
			cfg->transport = TRANSPORT_MMIO;
		} else if (!strcmp(arg, "pci")) {
			cfg->transport = TRANSPORT_PCI;
		} else {
			pr_err("--transport: unknown transport '%s' (mmio or pci)", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_DUMP_DTB:
		cfg->dump_dtb = arg;
		return 0;
	case OPT_DISK:
		return cli_disk(cfg, arg);
	case OPT_SHARE:
		return cli_share(cfg, arg);
	case OPT_NET:
		return cli_net(cfg, arg);
	case OPT_CONTROL:
		if (!*arg) {
			pr_err("--control: expected a path for the control socket");
			return -EINVAL;
		}
		cfg->control = arg;
		return 0;
	case OPT_RESTORE:
		if (!*arg) {
			pr_err("--restore: expected the snapshot's directory");
			return -EINVAL;
		}
		cfg->restore = arg;
		return 0;
	}
	return cli_common_option(cfg, opt, arg);
}

static const struct cli_cmd run_cmd = {
	.name = "run",
	.usage = run_usage,
	.optstring = ":",
	.options = run_options,
	.option = cli_option,
};

static int cli_run(int argc, char **argv, struct vm_config *cfg)
{
	int err = cli_getopt(&run_cmd, cfg, argc, argv);

	if (err)
		return err;
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see kvmini run --help)", argv[optind]);
		return -EINVAL;
	}
	if (cfg->restore && (cfg->kernel || cfg->initrd || cfg->cmdline || cfg->dump_dtb)) {
		pr_err("--restore: the snapshot has its kernel already: drop --kernel, --initrd, --cmdline and --dump-dtb");
		return -EINVAL;
	}
	if (cfg->transport == TRANSPORT_PCI && cfg->virtio_legacy) {
		pr_err("--transport pci: virtio-pci here is modern only (virtio 1.x): drop --virtio-legacy, or use --transport mmio for legacy virtio-mmio");
		return -EINVAL;
	}
	if (!cfg->kernel && !cfg->restore) {
		pr_err("no kernel given: use --kernel FILE (see kvmini run --help)");
		return -EINVAL;
	}
	cli_net_queues(cfg);
	return 0;
}

int cli_parse(int argc, char **argv, struct vm_config *cfg)
{
	*cfg = (struct vm_config){
		.mem = CONFIG_MEM_DEFAULT,
		.cpus = 1,
		.console = CONSOLE_STDIO,
		.kvm_dev = "/dev/kvm",
	};
	if (argc < 2) {
		pr_err("no command given: try 'kvmini run --kernel FILE' or 'kvmini --help'");
		return -EINVAL;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("kvmini %s\n", kvmini_version);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(main_usage, stdout);
		fputs("\n", stdout);
		fputs(run_usage, stdout);
		return 1;
	}
	if (strcmp(argv[1], "run")) {
		pr_err("unknown command '%s' (try kvmini run --help)", argv[1]);
		return -EINVAL;
	}
	return cli_run(argc - 1, argv + 1, cfg);
}
