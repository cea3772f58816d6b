// SPDX-License-Identifier: GPL-2.0
/*
 * `kvmini run` option parsing: argv from the input (arguments separated by
 * NUL bytes, argv[0] added), through cli_parse(), whose result is checked
 * against what config.h promises. Sizes also go through parse_size() on
 * their own. Error lines go to common.c's silent log, --help and
 * --version to /dev/null.
 *
 * Input: the arguments after argv[0], each ended by a NUL byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/common.h"
#include "lib/config.h"

#define MAX_ARGS	64

static void check_config(const struct vm_config *cfg)
{
	/* Exactly one of a kernel to boot or a snapshot to resume. */
	fuzz_check(!cfg->kernel != !cfg->restore);
	fuzz_check(cfg->mem >= CONFIG_MEM_MIN && !(cfg->mem & 0xfff));
	fuzz_check(cfg->cpus >= 1 && cfg->cpus <= CONFIG_CPUS_MAX);
	fuzz_check(cfg->console <= CONSOLE_VIRTIO);
	fuzz_check(cfg->console != CONSOLE_FILE ||
		   (cfg->console_path && *cfg->console_path));
	fuzz_check(cfg->kvm_dev);
}

/* A size parse_size() takes is non-zero and did not overflow. */
static void check_size(const char *s)
{
	uint64_t v = 0;
	int err = parse_size(s, &v);

	fuzz_check(err == 0 || err == -EINVAL);
	if (!err)
		fuzz_check(v && strtoull(s, NULL, 10) <= v);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd = open("/dev/null", O_WRONLY);

	(void)argc, (void)argv;
	if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
		abort();
	close(fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[MAX_ARGS + 2];
	struct vm_config cfg;
	char *buf = malloc(size + 1);
	int argc = 1, r;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "kvmini";
	for (size_t at = 0; at < size && argc <= MAX_ARGS; argc++) {
		argv[argc] = buf + at;
		at += strlen(buf + at) + 1;
	}
	argv[argc] = NULL;

	r = cli_parse(argc, argv, &cfg);
	fuzz_check(r == 0 || r == 1 || r == -EINVAL);
	if (!r)
		check_config(&cfg);
	for (int i = 1; i < argc; i++)
		check_size(argv[i]);
	free(buf);
	return 0;
}
