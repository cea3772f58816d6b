// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini exec: the VM behind one command (docs/exec.md). The guest gets
 * the default guest kernel and an initramfs built here: the user's
 * --initrd if any, then the agent as /init and the job spec as /job. Its
 * root is this host's / over virtio-fs, read-only, and only what the
 * host's nobody may read (docs/exec.md); the job's output comes
 * back on two virtio-consoles (exec_out.c) and its status through the
 * exit device, which becomes kvmini's own.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/cpio.h"
#include "exec/exec.h"
#include "lib/log.h"
#include "lib/map_file.h"
#include "vmm/exitcode.h"
#include "vmm/vm.h"

/* exec/exec_agent.S */
extern const uint8_t exec_agent_start[], exec_agent_end[];

/*
 * The guest kernel, relative to the binary's directory: where make
 * install puts it (PREFIX/bin/kvmini, PREFIX/share/kvmini/ARCH/), then
 * where guests/ builds it (build/ARCH/kvmini, build/guest/...).
 */
#if defined(__aarch64__)
#define EXEC_KERNEL_INSTALLED	"../share/kvmini/arm64/Image"
#define EXEC_KERNEL_BUILT	"../guest-arm64/Image"
#else
#define EXEC_KERNEL_INSTALLED	"../share/kvmini/x86_64/bzImage"
#define EXEC_KERNEL_BUILT	"../guest/bzImage"
#endif

/*
 * quiet: the kernel's console (the UART, discarded unless --verbose)
 * costs an exit per byte. The job's streams never carry it.
 */
#define EXEC_CMDLINE		"quiet"
#define EXEC_CMDLINE_VERBOSE	"loglevel=7"

/* Beside the binary: the installed kernel, else the built one, else NULL. */
static char *exec_kernel_beside_self(void)
{
	static const char *const rel[] = { EXEC_KERNEL_INSTALLED, EXEC_KERNEL_BUILT };
	char *self = realpath("/proc/self/exe", NULL);
	const char *dir = self ? dirname(self) : NULL;
	char *path = NULL;

	for (size_t i = 0; dir && i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (asprintf(&path, "%s/%s", dir, rel[i]) < 0)
			path = NULL;
		if (path && !access(path, R_OK))
			break;
		free(path);
		path = NULL;
	}
	free(self);
	return path;
}

/* --kernel, else $KVMINI_KERNEL, else the guest kernel beside kvmini. */
static int exec_map_kernel(const struct exec_config *ec, struct vm *vm)
{
	const char *env = getenv("KVMINI_KERNEL");
	char *path;
	int err;

	if (ec->kernel)
		return map_file("kernel", ec->kernel, &vm->kernel, &vm->kernel_size);
	if (env && *env)
		return map_file("kernel ($KVMINI_KERNEL)", env, &vm->kernel,
				&vm->kernel_size);
	path = exec_kernel_beside_self();
	if (!path) {
		pr_err("no guest kernel: give --kernel FILE, set KVMINI_KERNEL, or build one with 'make guests' (looked for %s and %s beside kvmini)",
		       EXEC_KERNEL_INSTALLED, EXEC_KERNEL_BUILT);
		return -ENOENT;
	}
	pr_info("guest kernel %s", path);
	err = map_file("kernel", path, &vm->kernel, &vm->kernel_size);
	free(path);
	return err;
}

/* The user's archive (kept as it is), then the agent and the job. */
static int exec_build_initrd(const struct exec_config *ec, struct cpio *c)
{
	const uint8_t *data;
	size_t size, job_len;
	char *job;
	int err;

	if (ec->initrd) {
		err = map_file("initrd", ec->initrd, &data, &size);
		if (err)
			return err;
		cpio_add_raw(c, data, size);
		unmap_file(data, size);
	}
	err = exec_job_encode(ec, &job, &job_len);
	if (err)
		return err;
	cpio_add_file(c, "init", 0755, exec_agent_start,
		      exec_agent_end - exec_agent_start);
	cpio_add_file(c, "job", 0600, job, job_len);
	free(job);
	err = cpio_finish(c);
	if (err)
		pr_err("cannot build the guest's initramfs: %s", strerror(-err));
	return err;
}

static void exec_share_config(struct share_config *s, const char *path,
			      const char *tag, bool ro)
{
	*s = (struct share_config){ .path = path, .path_len = strlen(path), .ro = ro };
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
}

/* virtio-fs: the root as "root", then share0, share1… as the job says. */
static void exec_vm_config(struct exec_config *ec)
{
	struct vm_config *cfg = &ec->vm;
	char tag[CONFIG_TAG_MAX + 1];

	cfg->console = cfg->verbose ? CONSOLE_STDERR : CONSOLE_NONE;
	cfg->cmdline = cfg->verbose ? EXEC_CMDLINE_VERBOSE : EXEC_CMDLINE;
	if (ec->root == EXEC_ROOT_HOST) {
		/* Only what the host's nobody may read: not the host's secrets. */
		exec_share_config(&cfg->shares[cfg->nr_shares], "/", EXEC_ROOT_TAG, true);
		cfg->shares[cfg->nr_shares++].as_nobody = true;
	} else if (ec->root == EXEC_ROOT_DIR) {
		/* A container's own rootfs, served as its caller (kvmini oci). */
		exec_share_config(&cfg->shares[cfg->nr_shares++], ec->root_dir,
				  EXEC_ROOT_TAG, ec->root_ro);
	}
	for (unsigned int i = 0; i < ec->nr_shares; i++) {
		snprintf(tag, sizeof(tag), "share%u", i);
		exec_share_config(&cfg->shares[cfg->nr_shares++], ec->shares[i].host,
				  tag, ec->shares[i].ro);
	}
	if (ec->net_user) {
		cfg->nets[0] = (struct net_config){
			.kind = NET_USER,
			.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		};
		cfg->nr_nets = 1;
	}
}

static int exec_run(struct exec_config *ec, struct vm *vm, struct cpio *initrd)
{
	int err = exec_map_kernel(ec, vm) ?:
		  exec_build_initrd(ec, initrd) ?:
		  exec_out_new(&vm->exec_out);
	int status = EXIT_VMM_ERROR;

	if (err)
		return status;
	exec_vm_config(ec);
	vm->first_virtio = exec_out_device;
	vm->initrd = initrd->buf;
	vm->initrd_size = initrd->len;
	if (!vm_create(vm, &ec->vm)) {
		/* Both are in guest RAM now: kept, they would only add
		 * their size to kvmini's RSS for the whole run. */
		unmap_file(vm->kernel, vm->kernel_size);
		cpio_free(initrd);
		vm->kernel = vm->initrd = NULL;
		status = vm_run(vm);
		/* The agent failed before it had the job's stderr: say where
		 * its reason went. */
		if (status == EXIT_VMM_ERROR && !exec_out_reported(vm->exec_out))
			pr_err("the guest could not start the job (its console says why: run with --verbose)");
	}
	vm_destroy(vm);
	return status;
}

int exec_run_config(struct exec_config *ec)
{
	struct cpio initrd;
	struct vm vm;
	int status;

	log_verbose = ec->vm.verbose;
	memset(&vm, 0, sizeof(vm));
	cpio_init(&initrd);
	status = exec_run(ec, &vm, &initrd);
	exec_out_free(vm.exec_out);
	unmap_file(vm.kernel, vm.kernel_size);
	cpio_free(&initrd);
	return status;
}

int exec_main(int argc, char **argv)
{
	struct exec_config ec;
	int status;
	int err = exec_parse(argc, argv, &ec);

	if (err) {
		exec_config_free(&ec);
		return err > 0 ? 0 : EXIT_VMM_ERROR;
	}
	status = exec_run_config(&ec);
	exec_config_free(&ec);
	return status;
}
