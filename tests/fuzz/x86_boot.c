// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "arch/x86/x86.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/x86_boot.h"
#include "vmm/arch.h"
#include "vmm/vm.h"

#define CMDLINE		"console=ttyS0 reboot=k panic=-1 fuzz"
#define INITRD_SIZE	8192

/* Large, and the same for every input: static. */
static struct vm vm;
static struct x86_vm x86;
static uint8_t initrd[INITRD_SIZE];

const struct guest_mem *fuzz_x86_mem(void)
{
	if (!vm.mem.nr_regions) {
		fuzz_ram_add(&vm.mem, 0, FUZZ_X86_RAM);
		for (unsigned int i = 0; i < INITRD_SIZE; i++)
			initrd[i] = i * 7;
	}
	return &vm.mem;
}

static void check_boot(void)
{
	const char *cmdline = gmem_ptr(&vm.mem, X86_CMDLINE, sizeof(CMDLINE));
	const uint8_t *rd = gmem_ptr(&vm.mem, vm.initrd_gpa, INITRD_SIZE);

	fuzz_check(gmem_ptr(&vm.mem, x86.boot.entry, 1));
	fuzz_check(x86.boot.boot_info == (x86.boot.pvh ? X86_PVH_INFO_ADDR :
					  X86_ZERO_PAGE));
	fuzz_check(cmdline && !memcmp(cmdline, CMDLINE, sizeof(CMDLINE)));
	fuzz_check(rd && !memcmp(rd, initrd, INITRD_SIZE));
	fuzz_check(vm.initrd_gpa >= X86_HIMEM_START && !(vm.initrd_gpa & 0xfff));
}

int fuzz_x86_load(const uint8_t *image, size_t size)
{
	int err;

	fuzz_x86_mem();
	/* What the loader writes is all it may depend on: no reset of RAM. */
	x86 = (struct x86_vm){ 0 };
	vm.arch = &x86;
	vm.cfg = (struct vm_config){
		.kernel = "fuzz-kernel",
		.initrd = "fuzz-initrd",
		.cpus = 2,
		.mem = FUZZ_X86_RAM,
	};
	vm.kernel = image;
	vm.kernel_size = size;
	vm.initrd = initrd;
	vm.initrd_size = INITRD_SIZE;
	vm.initrd_gpa = 0;
	err = arch_load_kernel(&vm, CMDLINE);
	if (!err)
		check_boot();
	return err;
}
