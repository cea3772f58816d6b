// SPDX-License-Identifier: GPL-2.0
/* kvmini: parse the command line, build the VM, run it, report how it ended;
 * `kvmini exec` and `kvmini oci` (or kvmini-oci) are modes of their own. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "fdt/fdt.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/map_file.h"
#include "oci/oci.h"
#include "vmm/exitcode.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

/* --dump-dtb: the tree this VM would get, then exit without booting. */
static int dump_dtb(struct vm *vm)
{
	size_t size;
	void *blob;
	int err = vm_fdt_build(vm, &blob, &size);

	if (!err) {
		err = fdt_write_file(blob, size, vm->cfg.dump_dtb);
		free(blob);
	}
	return err ? EXIT_VMM_ERROR : EXIT_GUEST_OK;
}

/* --restore: the snapshot's machine, its memory and state; then run. */
static int run_restore(const struct vm_config *user)
{
	struct snap_reader snap;
	struct vm_config cfg;
	struct vm vm;
	int status = EXIT_VMM_ERROR;

	if (vm_restore_config(&snap, user->restore, user, &cfg))
		return EXIT_VMM_ERROR;
	memset(&vm, 0, sizeof(vm));
	vm.restoring = true;
	if (!vm_create(&vm, &cfg) && !vm_restore(&vm, &snap, user->restore))
		status = vm_run(&vm);
	vm_destroy(&vm);
	snap_reader_free(&snap);
	return status;
}

/*
 * vm_create() copied the kernel and initrd into guest RAM: their pages
 * would stay in kvmini's RSS for the whole run (a few MiB), so they go
 * before it starts. Nothing after the load reads them (--dump-dtb does,
 * for the initrd's place, and keeps them).
 */
static void unmap_loaded(struct vm *vm)
{
	unmap_file(vm->kernel, vm->kernel_size);
	unmap_file(vm->initrd, vm->initrd_size);
	vm->kernel = vm->initrd = NULL;
}

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct vm vm;
	int status = EXIT_VMM_ERROR;
	int err;

	/* One malloc arena: a vCPU thread's set-up (its seccomp filter)
	 * would otherwise leave an arena of its own whose top no trim gives
	 * back (lib/trim.h). Threads allocate at set-up and on rare paths
	 * (device resets), never per exit or per request: no contention. */
	mallopt(M_ARENA_MAX, 1);
	if (argc > 1 && !strcmp(argv[1], "exec"))
		return exec_main(argc - 1, argv + 1);
	/* An OCI runtime is called by its own name (kvmini-oci) or as a mode. */
	if (argc > 0 && !strcmp(strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0],
				"kvmini-oci"))
		return oci_main(argc, argv);
	if (argc > 1 && !strcmp(argv[1], "oci"))
		return oci_main(argc - 1, argv + 1);
	err = cli_parse(argc, argv, &cfg);
	if (err)
		return err > 0 ? 0 : EXIT_VMM_ERROR;
	log_verbose = cfg.verbose;
	if (cfg.restore)
		return run_restore(&cfg);

	memset(&vm, 0, sizeof(vm));
	err = map_file("kernel", cfg.kernel, &vm.kernel, &vm.kernel_size);
	if (!err && cfg.initrd)
		err = map_file("initrd", cfg.initrd, &vm.initrd, &vm.initrd_size);
	if (!err) {
		if (!vm_create(&vm, &cfg)) {
			if (cfg.dump_dtb) {
				status = dump_dtb(&vm);
			} else {
				unmap_loaded(&vm);
				status = vm_run(&vm);
			}
		}
		vm_destroy(&vm);
	}
	unmap_file(vm.kernel, vm.kernel_size);
	unmap_file(vm.initrd, vm.initrd_size);
	return status;
}
