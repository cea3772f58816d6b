// SPDX-License-Identifier: GPL-2.0
/* kvmini: parse the command line, build the VM, run it, report how it ended. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"
#include "fdt/fdt.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/map_file.h"
#include "vmm/exitcode.h"
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
	err = cli_parse(argc, argv, &cfg);
	if (err)
		return err > 0 ? 0 : EXIT_VMM_ERROR;
	log_verbose = cfg.verbose;

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
