// SPDX-License-Identifier: GPL-2.0
/* `kvmini exec` options: parsed, range-checked, one error line each. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/exec.h"
#include "lib/log.h"
#include "vmm/cli.h"

static const char exec_usage[] =
"usage: kvmini exec [options] [--] CMD [ARGS...]\n"
"       kvmini exec [--snapshot-dir DIR] --clear-snapshots\n"
"\n"
"Runs CMD in a new, throw-away VM whose / is this host's /, read-only,\n"
"under a writable overlay that vanishes with the VM. kvmini's stdin is\n"
"CMD's, CMD's stdout and stderr arrive on kvmini's, the signals INT, TERM,\n"
"HUP, QUIT, USR2 and WINCH to kvmini go to CMD, and its exit status is\n"
"kvmini's.\n"
"\n"
"  --share HOSTDIR[:GUESTDIR][,ro]\n"
"                       a host directory at GUESTDIR (default: the same\n"
"                       path), writable unless ro; repeatable (at most 7)\n"
"  --workdir DIR        the job's working directory (default: the first\n"
"                       share, else /)\n"
"  --env K=V            set K in the job's environment; --env K passes\n"
"                       this host's value; repeatable\n"
"  --net none|user      no network (default), or user networking\n"
"  --vsock CID[,uds=PATH]\n"
"                       a virtio-vsock device: the job reaches the host's\n"
"                       Unix socket PATH_PORT as vsock CID 2, port PORT;\n"
"                       host programs reach the job through PATH with\n"
"                       CONNECT PORT (docs/vsock.md)\n"
"  --mem SIZE           guest RAM (default 512M)\n"
"  --cpus N             vCPUs (default 1)\n"
"  --timeout SECS       end the job after SECS seconds (exit status 124)\n"
"  --kernel FILE        the guest kernel (default: $KVMINI_KERNEL, else the\n"
"                       guest kernel built next to kvmini)\n"
"  --initrd FILE        an initramfs unpacked before kvmini's agent (kernel\n"
"                       modules for a stock kernel, or the job's root with\n"
"                       --root initrd)\n"
"  --root host|initrd   the job's /: this host's (default) or the initramfs\n"
"  --tty, -t            run CMD on a terminal in the guest, this one (if\n"
"                       stdin is one) in raw mode meanwhile\n"
"  --snapshot-dir DIR   the snapshot cache (default:\n"
"                       $XDG_CACHE_HOME/kvmini/exec-snapshots)\n"
"  --snapshot-max-size SIZE\n"
"                       bound on the cache's disk use (default 2G)\n"
"  --snapshot-max-entries N\n"
"                       bound on its number of snapshots (default 8); past\n"
"                       either, the least recently used go\n"
"  --clear-snapshots    empty the cache (but snapshots in use), then run\n"
"                       CMD if one is given\n"
"  --no-snapshot        boot cold, neither using nor filling the cache\n"
"  --verbose            show the guest's console and what kvmini does\n"
"  --help               this text\n"
"\n"
"Exit status: CMD's, 128+N when a signal N killed it, 127 when it was not\n"
"found, 122 guest kernel panicked, 124 timeout, 125 kvmini failed.\n"
"See docs/exec.md.\n";

enum {
	OPT_SHARE = CLI_OPT_OWN, OPT_WORKDIR, OPT_ENV, OPT_NET, OPT_KERNEL,
	OPT_INITRD, OPT_ROOT, OPT_SNAPSHOT_DIR, OPT_NO_SNAPSHOT,
	OPT_SNAPSHOT_MAX_SIZE, OPT_SNAPSHOT_MAX_ENTRIES, OPT_CLEAR_SNAPSHOTS,
	OPT_TTY = 't',
};

static const struct option exec_options[] = {
	CLI_COMMON_OPTIONS,
	{ "share",	required_argument, NULL, OPT_SHARE },
	{ "workdir",	required_argument, NULL, OPT_WORKDIR },
	{ "env",	required_argument, NULL, OPT_ENV },
	{ "net",	required_argument, NULL, OPT_NET },
	{ "kernel",	required_argument, NULL, OPT_KERNEL },
	{ "initrd",	required_argument, NULL, OPT_INITRD },
	{ "root",	required_argument, NULL, OPT_ROOT },
	{ "snapshot-dir", required_argument, NULL, OPT_SNAPSHOT_DIR },
	{ "no-snapshot", no_argument,	NULL, OPT_NO_SNAPSHOT },
	{ "snapshot-max-size", required_argument, NULL, OPT_SNAPSHOT_MAX_SIZE },
	{ "snapshot-max-entries", required_argument, NULL, OPT_SNAPSHOT_MAX_ENTRIES },
	{ "clear-snapshots", no_argument, NULL, OPT_CLEAR_SNAPSHOTS },
	{ "tty",	no_argument,	NULL, OPT_TTY },
	{ NULL, 0, NULL, 0 },
};

/*
 * A directory inside the guest: absolute, no "." or ".." component (the
 * agent creates it under the new root, which such paths could leave),
 * not / itself.
 */
static bool exec_guest_path_ok(const char *p)
{
	if (p[0] != '/' || !p[1])
		return false;
	for (const char *c = p; *c; c = strchrnul(c + 1, '/')) {
		const char *w = c + 1;
		size_t n = strcspn(w, "/");

		if ((n == 1 && w[0] == '.') || (n == 2 && !strncmp(w, "..", 2)))
			return false;
	}
	return strlen(p) < PATH_MAX;
}

/* HOSTDIR must exist now: a typo fails here, not inside the guest. */
static int exec_share_host(struct exec_share *s, const char *arg,
			   const char *path)
{
	struct stat st;

	s->host = realpath(path, NULL);
	if (!s->host || stat(s->host, &st)) {
		int err = errno;

		pr_err("--share '%s': %s: %s", arg, path, strerror(err));
		return -err;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_err("--share '%s': %s is not a directory", arg, path);
		return -ENOTDIR;
	}
	/* virtio-fs options go after a comma; the job spec is NUL-separated. */
	if (strchr(s->host, ',')) {
		pr_err("--share '%s': the directory's path must not contain ','", arg);
		return -EINVAL;
	}
	return 0;
}

/* HOSTDIR[:GUESTDIR][,ro|,rw]; neither path may contain ':' or ','. */
static int exec_share(struct exec_config *ec, const char *arg)
{
	struct exec_share *s = &ec->shares[ec->nr_shares];
	char *spec, *flag, *guest;
	int err = -EINVAL;

	if (ec->nr_shares == EXEC_SHARES_MAX) {
		pr_err("--share '%s': at most %d shares", arg, EXEC_SHARES_MAX);
		return -EINVAL;
	}
	spec = strdup(arg);
	if (!spec)
		return -ENOMEM;
	flag = strchr(spec, ',');
	if (flag) {
		*flag++ = '\0';
		if (!strcmp(flag, "ro")) {
			s->ro = true;
		} else if (strcmp(flag, "rw")) {
			pr_err("--share '%s': unknown flag '%s' (expected ro or rw)", arg, flag);
			goto out;
		}
	}
	guest = strchr(spec, ':');
	if (guest)
		*guest++ = '\0';
	if (!*spec) {
		pr_err("--share '%s': no host directory (expected HOSTDIR[:GUESTDIR][,ro])", arg);
		goto out;
	}
	ec->nr_shares++;	/* from here on, exec_config_free() frees it */
	err = exec_share_host(s, arg, spec);
	if (err)
		goto out;
	s->guest = strdup(guest ? guest : s->host);
	err = s->guest ? 0 : -ENOMEM;
	if (!err && !exec_guest_path_ok(s->guest)) {
		pr_err("--share '%s': GUESTDIR must be an absolute path other than /, without . or ..",
		       arg);
		err = -EINVAL;
	}
out:
	free(spec);
	return err;
}

/* K=V, or K alone for this host's value. */
static int exec_env(struct exec_config *ec, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *kv;

	if (ec->nr_env == EXEC_ENV_MAX) {
		pr_err("--env '%s': at most %d variables", arg, EXEC_ENV_MAX);
		return -EINVAL;
	}
	if (eq == arg || !*arg) {
		pr_err("--env '%s': expected K=V or K", arg);
		return -EINVAL;
	}
	if (eq) {
		kv = strdup(arg);
	} else {
		const char *v = getenv(arg);

		if (!v) {
			pr_err("--env '%s': not set here (use --env %s=VALUE)", arg, arg);
			return -EINVAL;
		}
		if (asprintf(&kv, "%s=%s", arg, v) < 0)
			kv = NULL;
	}
	if (!kv)
		return -ENOMEM;
	ec->env[ec->nr_env++] = kv;
	return 0;
}

static int exec_net(struct exec_config *ec, const char *arg)
{
	if (!strcmp(arg, "none")) {
		ec->net_user = false;
	} else if (!strcmp(arg, "user")) {
		ec->net_user = true;
	} else {
		pr_err("--net '%s': expected none or user", arg);
		return -EINVAL;
	}
	return 0;
}

static int exec_root(struct exec_config *ec, const char *arg)
{
	if (!strcmp(arg, "host")) {
		ec->root = EXEC_ROOT_HOST;
	} else if (!strcmp(arg, "initrd")) {
		ec->root = EXEC_ROOT_INITRD;
	} else {
		pr_err("--root '%s': expected host or initrd", arg);
		return -EINVAL;
	}
	return 0;
}

static int exec_option(void *ctx, int opt, const char *arg)
{
	struct exec_config *ec = ctx;

	switch (opt) {
	case OPT_SHARE:
		return exec_share(ec, arg);
	case OPT_WORKDIR:
		if (arg[0] != '/') {
			pr_err("--workdir '%s': must be an absolute path", arg);
			return -EINVAL;
		}
		ec->workdir = arg;
		return 0;
	case OPT_ENV:
		return exec_env(ec, arg);
	case OPT_NET:
		return exec_net(ec, arg);
	case OPT_KERNEL:
		ec->kernel = arg;
		return 0;
	case OPT_INITRD:
		ec->initrd = arg;
		return 0;
	case OPT_ROOT:
		return exec_root(ec, arg);
	case OPT_SNAPSHOT_DIR:
		if (!*arg) {
			pr_err("--snapshot-dir: expected a directory");
			return -EINVAL;
		}
		ec->snapshot_dir = arg;
		return 0;
	case OPT_NO_SNAPSHOT:
		ec->snapshot = false;
		return 0;
	case OPT_SNAPSHOT_MAX_SIZE:
		if (parse_size(arg, &ec->snapshot_limits.max_bytes)) {
			pr_err("--snapshot-max-size '%s': expected a size such as 2G or 500M", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_SNAPSHOT_MAX_ENTRIES:
		if (parse_uint(arg, EXEC_CACHE_ENTRIES_LIMIT, &ec->snapshot_limits.max_entries) ||
		    !ec->snapshot_limits.max_entries) {
			pr_err("--snapshot-max-entries '%s': expected a number from 1 to %d",
			       arg, EXEC_CACHE_ENTRIES_LIMIT);
			return -EINVAL;
		}
		return 0;
	case OPT_CLEAR_SNAPSHOTS:
		ec->clear_snapshots = true;
		return 0;
	case OPT_TTY:
		ec->tty = true;
		return 0;
	}
	return cli_common_option(&ec->vm, opt, arg);
}

static const struct cli_cmd exec_cmd = {
	.name = "exec",
	.usage = exec_usage,
	/* '+': the first word that is not an option is CMD, whose own
	 * options are its business. */
	.optstring = "+:t",
	.options = exec_options,
	.option = exec_option,
};

/* What the options did not say: --workdir follows the first share. */
static int exec_check(struct exec_config *ec)
{
	if (!ec->argc && ec->clear_snapshots)
		return 0;
	if (!ec->argc) {
		pr_err("no command given: kvmini exec [options] -- CMD [ARGS...]");
		return -EINVAL;
	}
	if (!ec->workdir)
		ec->workdir = ec->nr_shares ? ec->shares[0].guest : "/";
	if (ec->root == EXEC_ROOT_INITRD && !ec->initrd) {
		pr_err("--root initrd needs --initrd FILE");
		return -EINVAL;
	}
	return 0;
}

int exec_parse(int argc, char **argv, struct exec_config *ec)
{
	int err;

	*ec = (struct exec_config){
		.vm = {
			.mem = 512ULL << 20,
			.cpus = 1,
			.console = CONSOLE_NONE,
			.kvm_dev = "/dev/kvm",
		},
		.snapshot = true,
		.snapshot_limits = {
			.max_bytes = EXEC_CACHE_MAX_BYTES,
			.max_entries = EXEC_CACHE_MAX_ENTRIES,
		},
	};
	err = cli_getopt(&exec_cmd, ec, argc, argv);
	if (err)
		return err;
	ec->argv = argv + optind;
	ec->argc = argc - optind;
	return exec_check(ec);
}

void exec_config_free(struct exec_config *ec)
{
	for (unsigned int i = 0; i < ec->nr_shares; i++) {
		free(ec->shares[i].host);
		free(ec->shares[i].guest);
	}
	for (unsigned int i = 0; i < ec->nr_env; i++)
		free((char *)ec->env[i]);
	for (unsigned int i = 0; i < ec->nr_tmpfs; i++)
		free(ec->tmpfs[i]);
	free(ec->root_dir);
	free(ec->hostname);
	ec->root_dir = ec->hostname = NULL;
	ec->nr_shares = ec->nr_env = ec->nr_tmpfs = 0;
}
