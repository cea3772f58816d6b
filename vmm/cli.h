/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `kvmini run` (cli.c) and `kvmini exec` (exec_cli.c) parse alike:
 * the options both take, the getopt loop, --help and the error line for
 * an option getopt refuses, which names the subcommand.
 */
#ifndef KVMINI_CLI_H
#define KVMINI_CLI_H

#include <getopt.h>

#include "lib/config.h"

/* "1.2-3-gabcdef", what --version prints. */
extern const char kvmini_version[];

/* getopt_long values of the shared options; a subcommand numbers its
 * own from CLI_OPT_OWN. */
enum {
	CLI_OPT_MEM = 256, CLI_OPT_CPUS, CLI_OPT_TIMEOUT, CLI_OPT_VERBOSE,
	CLI_OPT_HELP, CLI_OPT_NO_SECCOMP, CLI_OPT_KVM_DEV, CLI_OPT_VSOCK,
	CLI_OPT_OWN,
};

/* Their entries, to open each subcommand's option table. */
#define CLI_COMMON_OPTIONS						\
	{ "mem",	required_argument, NULL, CLI_OPT_MEM },		\
	{ "cpus",	required_argument, NULL, CLI_OPT_CPUS },	\
	{ "timeout",	required_argument, NULL, CLI_OPT_TIMEOUT },	\
	{ "verbose",	no_argument,	   NULL, CLI_OPT_VERBOSE },	\
	{ "help",	no_argument,	   NULL, CLI_OPT_HELP },	\
	{ "no-seccomp",	no_argument,	   NULL, CLI_OPT_NO_SECCOMP },	\
	{ "vsock",	required_argument, NULL, CLI_OPT_VSOCK },	\
	/* For tests: another KVM device node. */			\
	{ "kvm-device",	required_argument, NULL, CLI_OPT_KVM_DEV }

struct cli_cmd {
	const char *name;		/* "run": "(see kvmini run --help)" */
	const char *usage;		/* --help prints it */
	const char *optstring;		/* getopt_long's; starts with ':' or "+:" */
	const struct option *options;
	/* Every option but --help; returns 0 or -errno after one error line. */
	int (*option)(void *ctx, int opt, const char *arg);
};

/*
 * Runs getopt_long over argv (argv[0] is the subcommand) and hands each
 * option to cmd->option(ctx, …). Returns 0 with optind at the first
 * argument left, 1 after --help, or -errno after one error line.
 */
int cli_getopt(const struct cli_cmd *cmd, void *ctx, int argc, char **argv);

/* A shared option (CLI_OPT_MEM…CLI_OPT_VSOCK) into cfg, range-checked;
 * one error line on failure. */
int cli_common_option(struct vm_config *cfg, int opt, const char *arg);

#endif
