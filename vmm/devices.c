// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio devices a VM gets, each on its own virtio-mmio transport in
 * the slot the architecture assigns.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch.h"
#include "console.h"
#include "disk.h"
#include "log.h"
#include "virtio/devices.h"
#include "virtio/mmio.h"
#include "vm.h"

static int vm_add_virtio(struct vm *vm, struct virtio_dev *vdev)
{
	struct vm_virtio *v = &vm->virtio[vm->nr_virtio];
	int err;

	if (!vdev)
		return -ENOMEM;
	if (vm->nr_virtio == VM_MAX_VIRTIO ||
	    arch_virtio_slot(vm->nr_virtio, &v->base, &v->irq)) {
		pr_err("too many virtio devices (at most %u)", vm->nr_virtio);
		virtio_dev_exit(vdev);
		free(vdev);
		return -ENOSPC;
	}
	v->vdev = vdev;
	vm->nr_virtio++;
	v->mmio = virtio_mmio_new(vdev, v->base, v->irq, vm->cfg.virtio_legacy);
	if (!v->mmio)
		return -ENOMEM;
	err = virtio_mmio_attach(v->mmio, vm);
	if (!err)
		pr_info("virtio %s at %#llx, irq %u%s", vdev->name,
			(unsigned long long)v->base, v->irq,
			vm->cfg.virtio_legacy ? " (legacy)" : "");
	return err;
}

static void vm_console_output(void *ctx, const uint8_t *buf, size_t len)
{
	struct vm *vm = ctx;

	console_output(vm->console, buf, len);
}

static void vm_console_space(void *ctx)
{
	struct vm *vm = ctx;

	console_input_space(vm->console);
}

static size_t vm_console_push(void *ctx, const uint8_t *buf, size_t len)
{
	return virtio_console_push(ctx, buf, len);
}

static int vm_add_console(struct vm *vm)
{
	struct vconsole_backend be = {
		.output = vm_console_output,
		.input_space = vm_console_space,
		.ctx = vm,
	};
	struct winsize ws;
	struct virtio_dev *vdev;

	if (isatty(STDOUT_FILENO) && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws)) {
		be.cols = ws.ws_col;
		be.rows = ws.ws_row;
	}
	vdev = virtio_console_new(&vm->mem, &be);
	if (!vdev)
		return -ENOMEM;
	vm->virtio_console = vdev;
	console_attach(vm->console, vm_console_push, vdev);
	return vm_add_virtio(vm, vdev);
}

/* --disk number i: vda, vdb… in command-line order, one queue per vCPU. */
static int vm_add_disk(struct vm *vm, unsigned int i)
{
	struct virtio_dev *vdev;
	struct disk disk;
	int err = disk_open(&vm->cfg.disks[i], &disk);

	if (err)
		return err;
	vdev = virtio_blk_new(&vm->mem, &disk, vm->cfg.cpus, &vm->loop, i);
	if (!vdev) {
		disk_close(&disk);
		return -ENOMEM;
	}
	return vm_add_virtio(vm, vdev);
}

int vm_devices_init(struct vm *vm)
{
	int err = 0;

	if (vm->cfg.console == CONSOLE_VIRTIO)
		err = vm_add_console(vm);
	if (!err && !vm->cfg.no_rng)
		err = vm_add_virtio(vm, virtio_rng_new(&vm->mem));
	for (unsigned int i = 0; !err && i < vm->cfg.nr_disks; i++)
		err = vm_add_disk(vm, i);
	return err;
}

/* After the vCPUs have stopped: no register access can come any more. */
void vm_devices_exit(struct vm *vm)
{
	for (unsigned int i = 0; i < vm->nr_virtio; i++) {
		struct vm_virtio *v = &vm->virtio[i];

		virtio_mmio_free(v->mmio);
		virtio_dev_exit(v->vdev);
		free(v->vdev);
	}
	vm->nr_virtio = 0;
}
