// SPDX-License-Identifier: GPL-2.0
/* kvmini: parse the command line, build the VM, run it, report how it ended. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "exec/exec.h"
#include "fdt/fdt.h"
#include "vmm/exitcode.h"
#include "lib/log.h"
#include "vmm/vm.h"

/* Maps a whole file read-only; the loaders parse it in place. */
int map_file(const char *what, const char *path, const uint8_t **data,
	     size_t *size)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		pr_err("cannot read %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		pr_err("%s '%s' is %s", what, path,
		       S_ISDIR(st.st_mode) ? "a directory" :
		       !S_ISREG(st.st_mode) ? "not a regular file" : "empty");
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		pr_err("cannot read %s '%s': %s", what, path, strerror(errno));
		return -errno;
	}
	*data = p;
	*size = st.st_size;
	return 0;
}

void unmap_file(const uint8_t *data, size_t size)
{
	if (data)
		munmap((void *)data, size);
}

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

int main(int argc, char **argv)
{
	struct vm_config cfg;
	struct vm vm;
	int status = EXIT_VMM_ERROR;
	int err;

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
		if (!vm_create(&vm, &cfg))
			status = cfg.dump_dtb ? dump_dtb(&vm) : vm_run(&vm);
		vm_destroy(&vm);
	}
	unmap_file(vm.kernel, vm.kernel_size);
	unmap_file(vm.initrd, vm.initrd_size);
	return status;
}
