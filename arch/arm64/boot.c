// SPDX-License-Identifier: GPL-2.0
/*
 * Puts an arm64 Image, its initrd and the device tree into guest memory
 * (Documentation/arm64/booting.rst). The command line travels in the tree
 * (/chosen/bootargs), which describes the devices and vCPUs that exist by
 * now.
 */
#include <errno.h>
#include <string.h>

#include "arch/arm64/arm64.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "vmm/vm.h"

/* arm64 Linux's COMMAND_LINE_SIZE, with its terminating NUL. */
#define ARM64_CMDLINE_MAX	2048

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static int boot_no_room(struct vm *vm, const char *what, uint64_t need)
{
	pr_err("%s does not fit in %llu MiB of guest memory (it needs about %llu MiB): use a larger --mem",
	       what, (unsigned long long)(vm->mem.ram_size >> 20),
	       (unsigned long long)((need >> 20) + 1));
	return -ENOMEM;
}

/*
 * From the top of RAM (or of the 32 GiB the kernel must reach early): the
 * device tree in a 2 MiB block of its own, then the initrd right below.
 */
static int boot_place(struct vm *vm, uint64_t kernel_end)
{
	struct arm64_vm *a = vm->arch;
	uint64_t top = ARM64_RAM_BASE + vm->mem.ram_size;
	uint64_t initrd;

	if (top > ARM64_RAM_BASE + ARM64_BOOT_WINDOW)
		top = ARM64_RAM_BASE + ARM64_BOOT_WINDOW;
	a->boot.dtb = align_down(top, ARM64_DTB_MAX) - ARM64_DTB_MAX;
	if (a->boot.dtb < kernel_end)
		return boot_no_room(vm, "the kernel and its device tree",
				    kernel_end - ARM64_RAM_BASE + 2 * ARM64_DTB_MAX);
	if (!vm->initrd)
		return 0;
	initrd = align_down(a->boot.dtb - vm->initrd_size, 4096);
	if (vm->initrd_size > a->boot.dtb - kernel_end || initrd < kernel_end)
		return boot_no_room(vm, "the initrd", kernel_end - ARM64_RAM_BASE +
				    vm->initrd_size + 2 * ARM64_DTB_MAX);
	vm->initrd_gpa = initrd;
	return gmem_write(&vm->mem, initrd, vm->initrd, vm->initrd_size);
}

int arch_load_kernel(struct vm *vm, const char *cmdline)
{
	struct arm64_vm *a = vm->arch;
	struct arm64_image img;
	const char *why;
	int err;

	if (strlen(cmdline) >= ARM64_CMDLINE_MAX) {
		pr_err("kernel command line is %zu bytes, the kernel accepts at most %d",
		       strlen(cmdline), ARM64_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	err = arm64_image_parse(vm->kernel, vm->kernel_size, &img, &why);
	if (err) {
		pr_err("kernel '%s': %s", vm->cfg.kernel, why);
		return -ENOEXEC;
	}
	/* RAM starts 2 MiB aligned, and memory below the kernel is lost to
	 * older kernels: load at the very start. */
	a->boot.entry = ARM64_RAM_BASE + img.text_offset;
	if (img.mem_size > vm->mem.ram_size - img.text_offset)
		return boot_no_room(vm, "the kernel", img.text_offset + img.mem_size);
	err = boot_place(vm, a->boot.entry + img.mem_size);
	if (err)
		return err;
	pr_info("kernel at %#llx (%llu KiB with its data), device tree at %#llx, initrd at %#llx",
		(unsigned long long)a->boot.entry, (unsigned long long)(img.mem_size >> 10),
		(unsigned long long)a->boot.dtb, (unsigned long long)vm->initrd_gpa);
	err = gmem_write(&vm->mem, a->boot.entry, vm->kernel, vm->kernel_size);
	return err ?: arm64_write_dtb(vm);
}
