// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini oci's command line, shaped as runc's, since that is what
 * container engines call: global flags, then the command and its own
 * flags and arguments. Flags take one dash or two (--bundle, -bundle) and
 * "--flag value" or "--flag=value", as runc's parser does. Flags that
 * only tune a host-side runtime (--systemd-cgroup, --debug, --no-pivot,
 * --no-new-keyring, --rootless, --criu) are accepted: the VM is the
 * isolation. Every error is one line and exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/log.h"
#include "oci/oci.h"

/* --log: the line again, as runc writes it (logrus's json or text). */
static void oci_log_line(const struct oci_ctx *c, const char *msg)
{
	char when[40], buf[LOG_LINE_MAX + 128];
	struct json_out o;
	time_t now = time(NULL);
	struct tm tm;
	long n;
	int fd;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (c->log_json) {
		json_out_init(&o, buf, sizeof(buf) - 1);
		json_out_open(&o, '{');
		json_out_key(&o, "level");
		json_out_str(&o, "error");
		json_out_key(&o, "msg");
		json_out_str(&o, msg);
		json_out_key(&o, "time");
		json_out_str(&o, when);
		json_out_close(&o, '}');
		n = json_out_done(&o);
		if (n < 0)
			return;
		buf[n++] = '\n';
	} else {
		n = snprintf(buf, sizeof(buf), "time=\"%s\" level=error msg=\"%s\"\n", when, msg);
		if (n >= (long)sizeof(buf))
			n = sizeof(buf) - 1;
	}
	fd = open(c->log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, n) < 0)
		pr_warn("cannot write to --log %s: %s", c->log, strerror(errno));
	close(fd);
}

void oci_err(const struct oci_ctx *c, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s", msg);
	if (c && c->log)
		oci_log_line(c, msg);
}

static const char oci_usage[] =
"usage: kvmini oci [global flags] COMMAND [flags] [ID]\n"
"An OCI runtime: each container runs in its own VM (docs/oci.md).\n"
"\n"
"Global flags:\n"
"  --root DIR            state directory (default " OCI_ROOT_DEFAULT ")\n"
"  --log FILE            errors also go here\n"
"  --log-format text|json\n"
"  --systemd-cgroup, --debug  accepted\n"
"\n"
"Commands:\n"
"  create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID\n"
"  start ID              run the created container's process\n"
"  state ID              the container's state, as JSON\n"
"  kill [--all] ID [SIGNAL]   default TERM\n"
"  delete [--force] ID\n"
"  features              what this runtime supports, as JSON\n";

enum {
	G_ROOT = 256, G_LOG, G_LOG_FORMAT, G_IGNORED, G_IGNORED_ARG, G_HELP, G_VERSION,
	C_BUNDLE, C_PID_FILE, C_CONSOLE, C_FORCE, C_ALL,
};

static const struct option oci_global_opts[] = {
	{ "root", required_argument, NULL, G_ROOT },
	{ "log", required_argument, NULL, G_LOG },
	{ "log-format", required_argument, NULL, G_LOG_FORMAT },
	{ "systemd-cgroup", no_argument, NULL, G_IGNORED },
	{ "debug", no_argument, NULL, G_IGNORED },
	{ "rootless", required_argument, NULL, G_IGNORED_ARG },
	{ "criu", required_argument, NULL, G_IGNORED_ARG },
	{ "help", no_argument, NULL, G_HELP },
	{ "version", no_argument, NULL, G_VERSION },
	{ 0 }
};

static const struct option oci_create_opts[] = {
	{ "bundle", required_argument, NULL, C_BUNDLE },
	{ "pid-file", required_argument, NULL, C_PID_FILE },
	{ "console-socket", required_argument, NULL, C_CONSOLE },
	{ "no-pivot", no_argument, NULL, G_IGNORED },
	{ "no-new-keyring", no_argument, NULL, G_IGNORED },
	{ "preserve-fds", required_argument, NULL, G_IGNORED_ARG },
	{ 0 }
};

static const struct option oci_kill_opts[] = {
	{ "all", no_argument, NULL, C_ALL },
	{ 0 }
};

static const struct option oci_delete_opts[] = {
	{ "force", no_argument, NULL, C_FORCE },
	{ 0 }
};

static const struct option oci_no_opts[] = { { 0 } };

struct oci_cmd_desc {
	const char *name;
	enum oci_cmd cmd;
	const char *shorts;	/* getopt's short options */
	const struct option *opts;
	int min_args, max_args;	/* positional: ID and, for kill, SIGNAL */
};

static const struct oci_cmd_desc oci_cmds[] = {
	{ "create", OCI_CREATE, "b:", oci_create_opts, 1, 1 },
	{ "start", OCI_START, "", oci_no_opts, 1, 1 },
	{ "state", OCI_STATE, "", oci_no_opts, 1, 1 },
	{ "kill", OCI_KILL, "a", oci_kill_opts, 1, 2 },
	{ "delete", OCI_DELETE, "f", oci_delete_opts, 1, 1 },
	{ "features", OCI_FEATURES, "", oci_no_opts, 0, 0 },
};

/* getopt's complaint, as one line of ours. */
static int oci_bad_flag(const struct oci_ctx *c, const char *cmd, char **argv, int opt)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		oci_err(c, "%s: flag %s needs a value", cmd, arg);
	else
		oci_err(c, "%s: unknown flag %s (kvmini oci --help lists them)", cmd, arg);
	return -EINVAL;
}

/* Global flags; returns the index of the command, or <0, or 0 for done. */
static int oci_parse_global(struct oci_ctx *c, int argc, char **argv)
{
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long_only(argc, argv, "+:h", oci_global_opts, NULL)) != -1) {
		switch (opt) {
		case G_ROOT:
			c->root = optarg;
			break;
		case G_LOG:
			c->log = optarg;
			break;
		case G_LOG_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
				oci_err(c, "--log-format '%s': expected text or json", optarg);
				return -EINVAL;
			}
			c->log_json = !strcmp(optarg, "json");
			break;
		case G_IGNORED:
		case G_IGNORED_ARG:
			break;
		case 'h':
		case G_HELP:
			fputs(oci_usage, stdout);
			return 0;
		case G_VERSION:
			printf("kvmini oci\nspec: %s\n", OCI_VERSION);
			return 0;
		default:
			return oci_bad_flag(c, "kvmini oci", argv, opt);
		}
	}
	if (optind >= argc) {
		oci_err(c, "no command given (kvmini oci --help lists them)");
		return -EINVAL;
	}
	return optind;
}

static int oci_parse_cmd(const struct oci_ctx *c, const struct oci_cmd_desc *d,
			 int argc, char **argv, struct oci_args *a)
{
	char shorts[8];
	int opt, nr;

	snprintf(shorts, sizeof(shorts), ":%s", d->shorts);
	optind = 0;
	while ((opt = getopt_long_only(argc, argv, shorts, d->opts, NULL)) != -1) {
		switch (opt) {
		case 'b':
		case C_BUNDLE:
			a->bundle = optarg;
			break;
		case C_PID_FILE:
			a->pid_file = optarg;
			break;
		case C_CONSOLE:
			a->console_socket = optarg;
			break;
		case 'f':
		case C_FORCE:
			a->force = true;
			break;
		case 'a':
		case C_ALL:		/* one process per container: the same */
		case G_IGNORED:
		case G_IGNORED_ARG:
			break;
		default:
			return oci_bad_flag(c, d->name, argv, opt);
		}
	}
	nr = argc - optind;
	if (nr < d->min_args || nr > d->max_args) {
		if (d->max_args)
			oci_err(c, "%s: expected %s", d->name,
				d->max_args > 1 ? "ID [SIGNAL]" : "a container ID");
		else
			oci_err(c, "%s takes no arguments", d->name);
		return -EINVAL;
	}
	if (nr > 0)
		a->id = argv[optind];
	if (nr > 1)
		a->signal = argv[optind + 1];
	return 0;
}

int oci_main(int argc, char **argv)
{
	struct oci_ctx c = { .root = OCI_ROOT_DEFAULT };
	struct oci_args a = { .bundle = ".", .signal = "TERM" };
	int i = oci_parse_global(&c, argc, argv);

	if (i <= 0)
		return i ? OCI_EXIT_FAIL : 0;
	for (size_t k = 0; k < sizeof(oci_cmds) / sizeof(oci_cmds[0]); k++) {
		const struct oci_cmd_desc *d = &oci_cmds[k];

		if (strcmp(argv[i], d->name))
			continue;
		a.cmd = d->cmd;
		if (oci_parse_cmd(&c, d, argc - i, argv + i, &a))
			return OCI_EXIT_FAIL;
		return oci_run(&c, &a);
	}
	oci_err(&c, "unknown command '%s' (kvmini oci --help lists them)", argv[i]);
	return OCI_EXIT_FAIL;
}
