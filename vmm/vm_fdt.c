// SPDX-License-Identifier: GPL-2.0
/* The device tree that describes this VM: what the guest gets on arm64,
 * and what --dump-dtb writes on every architecture. */
#include <errno.h>
#include <sys/random.h>

#include "fdt/fdt.h"
#include "virtio/mmio.h"
#include "vmm/arch.h"
#include "vmm/exitdev.h"
#include "vmm/vm.h"

#define VM_FDT_ARCH_DEVS	4
#define VM_FDT_SEED_LEN		32

int vm_fdt_build(struct vm *vm, void **blob, size_t *size)
{
	struct fdt_mmio_dev devs[VM_MAX_VIRTIO + 1 + VM_FDT_ARCH_DEVS];
	struct fdt_mem_region mem[GMEM_MAX_REGIONS];
	uint8_t seed[VM_FDT_SEED_LEN];
	unsigned int n = 0;
	struct fdt_desc d = {
		.nr_cpus = vm->cfg.cpus,
		.mem = mem,
		.nr_mem = vm->mem.nr_regions,
		.bootargs = vm->cmdline,
		.devs = devs,
	};

	for (unsigned int i = 0; i < vm->mem.nr_regions; i++)
		mem[i] = (struct fdt_mem_region){ vm->mem.region[i].gpa,
						  vm->mem.region[i].size };
	if (vm->initrd) {
		d.initrd_start = vm->initrd_gpa;
		d.initrd_end = vm->initrd_gpa + vm->initrd_size;
	}
	/* Seeds the guest's RNG before virtio-rng is up; optional. */
	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed)) {
		d.rng_seed = seed;
		d.rng_seed_len = sizeof(seed);
	}
	devs[n++] = (struct fdt_mmio_dev){
		.name = "exit", .compatible = "kvmini,exit",
		.base = arch_exitdev_base, .size = EXITDEV_MMIO_SIZE,
	};
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		devs[n++] = (struct fdt_mmio_dev){
			.name = "virtio_mmio", .compatible = "virtio,mmio",
			.base = vm->virtio[i].base, .size = VIRTIO_MMIO_SIZE,
			.irq = vm->virtio[i].irq, .dma_coherent = true,
		};
	n += arch_fdt_devs(vm, devs + n, VM_FDT_ARCH_DEVS);
	d.nr_devs = n;
	arch_fdt_desc(vm, &d);
	return fdt_build(&d, blob, size);
}
