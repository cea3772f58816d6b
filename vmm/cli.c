// SPDX-License-Identifier: GPL-2.0
/* `kvmini run` options: parsed, range-checked, one error line each. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "exitcode.h"
#include "log.h"

static const char run_usage[] =
"usage: kvmini run --kernel FILE [options]\n"
"\n"
"Boots a Linux kernel in a new KVM virtual machine.\n"
"\n"
"  --kernel FILE        bzImage or ELF vmlinux (x86_64), Image (arm64)\n"
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
"  --no-rng             no virtio-rng device\n"
"  --no-acpi            x86: no ACPI tables (MP table and command line only)\n"
"  --no-seccomp         debugging: do not confine kvmini with seccomp\n"
"  --virtio-legacy      virtio-mmio version 1 (legacy) for every device\n"
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

static const char main_usage[] =
"usage: kvmini run --kernel FILE [options]   (kvmini run --help)\n"
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

static int parse_uint(const char *s, unsigned long max, unsigned int *out)
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

enum {
	OPT_KERNEL = 256, OPT_INITRD, OPT_CMDLINE, OPT_MEM, OPT_CPUS,
	OPT_CONSOLE, OPT_TIMEOUT, OPT_VERBOSE, OPT_HELP, OPT_KVM_DEV,
	OPT_NO_RNG, OPT_VIRTIO_LEGACY, OPT_DUMP_DTB, OPT_NO_ACPI, OPT_NO_SECCOMP,
	OPT_DISK,
};

static const struct option run_options[] = {
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	{ "initrd",	required_argument, NULL, OPT_INITRD },
	{ "cmdline",	required_argument, NULL, OPT_CMDLINE },
	{ "mem",	required_argument, NULL, OPT_MEM },
	{ "cpus",	required_argument, NULL, OPT_CPUS },
	{ "console",	required_argument, NULL, OPT_CONSOLE },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "verbose",	no_argument,	   NULL, OPT_VERBOSE },
	{ "help",	no_argument,	   NULL, OPT_HELP },
	{ "no-rng",	no_argument,	   NULL, OPT_NO_RNG },
	{ "no-acpi",	no_argument,	   NULL, OPT_NO_ACPI },
	{ "no-seccomp",	no_argument,	   NULL, OPT_NO_SECCOMP },
	{ "virtio-legacy", no_argument,	   NULL, OPT_VIRTIO_LEGACY },
	{ "dump-dtb",	required_argument, NULL, OPT_DUMP_DTB },
	{ "disk",	required_argument, NULL, OPT_DISK },
	/* For tests: another KVM device node. */
	{ "kvm-device",	required_argument, NULL, OPT_KVM_DEV },
	{ NULL, 0, NULL, 0 },
};

static int cli_option(struct vm_config *cfg, int opt, const char *arg)
{
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
	case OPT_MEM:
		return cli_mem(cfg, arg);
	case OPT_CPUS:
		if (parse_uint(arg, CONFIG_CPUS_MAX, &cfg->cpus) || !cfg->cpus) {
			pr_err("--cpus '%s': expected a number from 1 to %d",
			       arg, CONFIG_CPUS_MAX);
			return -EINVAL;
		}
		return 0;
	case OPT_CONSOLE:
		return cli_console(cfg, arg);
	case OPT_TIMEOUT:
		if (parse_uint(arg, INT_MAX, &cfg->timeout) || !cfg->timeout) {
			pr_err("--timeout '%s': expected a positive number of seconds", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_VERBOSE:
		cfg->verbose = true;
		return 0;
	case OPT_KVM_DEV:
		cfg->kvm_dev = arg;
		return 0;
	case OPT_NO_RNG:
		cfg->no_rng = true;
		return 0;
	case OPT_NO_ACPI:
		cfg->no_acpi = true;
		return 0;
	case OPT_NO_SECCOMP:
		cfg->no_seccomp = true;
		return 0;
	case OPT_VIRTIO_LEGACY:
		cfg->virtio_legacy = true;
		return 0;
	case OPT_DUMP_DTB:
		cfg->dump_dtb = arg;
		return 0;
	case OPT_DISK:
		return cli_disk(cfg, arg);
	}
	return -EINVAL;
}

/* One line naming what getopt_long refused (opt is '?' or ':'). */
static void cli_bad_option(int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		pr_err("option '%s' needs a value (see kvmini run --help)", arg);
	else if (optopt > 0 && optopt < 256)
		pr_err("unknown option '-%c' (see kvmini run --help)", optopt);
	else if (optopt)
		pr_err("option '%s' takes no value (see kvmini run --help)", arg);
	else
		pr_err("unknown option '%s' (see kvmini run --help)", arg);
}

static int cli_run(int argc, char **argv, struct vm_config *cfg)
{
	int opt, err;

	opterr = 0;
	optind = 0;	/* 0, not 1: also resets getopt's state inside "-xy" */
	/* A leading ':' makes a missing value ':' rather than '?'. */
	while ((opt = getopt_long(argc, argv, ":", run_options, NULL)) != -1) {
		if (opt == OPT_HELP) {
			fputs(run_usage, stdout);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			cli_bad_option(opt, argv);
			return -EINVAL;
		}
		err = cli_option(cfg, opt, optarg);
		if (err)
			return err;
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see kvmini run --help)", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->kernel) {
		pr_err("no kernel given: use --kernel FILE (see kvmini run --help)");
		return -EINVAL;
	}
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
		printf("kvmini %s\n", KVMINI_VERSION);
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
