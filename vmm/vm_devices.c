// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio devices a VM gets, each on its own virtio-mmio transport in
 * the slot the architecture assigns, or with --transport pci each a
 * virtio-pci function on the PCI bus (vm_pci.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backend/disk.h"
#include "lib/log.h"
#include "vmm/arch.h"
#include "vmm/console.h"
#include "backend/slirp.h"
#include "backend/tap.h"
#include "backend/virtiofsd.h"
#include "backend/vsock_uds.h"
#include "virtio/devices.h"
#include "virtio/mmio.h"
#include "virtio/vsock_backend.h"
#include "vmm/vm.h"

/* The transport's view of the VM (virtio_mmio_host): ctx is the vm. */
static int vm_mmio_register(void *ctx, uint64_t base, uint64_t len,
			    bus_access_fn *fn, void *fn_opaque, const char *name)
{
	return vm_register_mmio(ctx, base, len, fn, fn_opaque, name);
}

static int vm_mmio_irqfd(void *ctx, uint32_t gsi, int fd)
{
	return vm_irqfd(ctx, gsi, fd);
}

static int vm_mmio_ioeventfd(void *ctx, uint64_t addr, uint32_t len,
			     uint64_t datamatch, int fd)
{
	return vm_ioeventfd(ctx, addr, len, datamatch, fd);
}

static int vm_add_virtio(struct vm *vm, struct virtio_dev *vdev)
{
	struct virtio_mmio_host host = {
		.ctx = vm,
		.register_mmio = vm_mmio_register,
		.irqfd = vm_mmio_irqfd,
		.ioeventfd = vm_mmio_ioeventfd,
		.loop = &vm->loop,
	};
	struct vm_virtio *v = &vm->virtio[vm->nr_virtio];
	int err;

	if (vm->cfg.transport == TRANSPORT_PCI)
		return vm_pci_add(vm, vdev);
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
	err = virtio_mmio_attach(v->mmio, &host);
	if (!err)
		pr_info("virtio %s at %#llx, irq %u%s", vdev->name,
			(unsigned long long)v->base, v->irq,
			vm->cfg.virtio_legacy ? " (legacy)" : "");
	return err;
}

static size_t vm_console_output(void *ctx, const uint8_t *buf, size_t len)
{
	struct vm *vm = ctx;

	return console_output(vm->console, buf, len);
}

static void vm_console_room(void *ctx)
{
	virtio_console_output_room(ctx);
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
	console_attach_output(vm->console, vm_console_room, vdev);
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
	vm->disk_size[i] = disk.size;
	vdev = virtio_blk_new(&vm->mem, &disk, vm->cfg.cpus, &vm->loop, i);
	if (!vdev) {
		disk_close(&disk);
		return -ENOMEM;
	}
	return vm_add_virtio(vm, vdev);
}

/* A virtio-fs device for share s, served by a virtiofsd of its own. */
int vm_add_share(struct vm *vm, const struct share_config *s)
{
	struct vfs_backend be = { .stop = virtiofsd_stop };
	struct virtio_dev *vdev;
	struct virtiofsd *d;
	unsigned int index = 0;
	int err;

	if (vm->mem.fd < 0) {
		pr_err("share '%s': guest RAM is not shareable: put the share in the configuration that creates the VM",
		       s->tag);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		index += vm->virtio[i].vdev->ops->device_id == VIRTIO_ID_FS;
	index += vm_pci_count(vm, VIRTIO_ID_FS);
	err = virtiofsd_start(s, &d, &be.sock);
	if (err)
		return err;
	be.ctx = d;
	err = virtiofsd_watch(d, &vm->loop);
	if (!err)
		err = virtio_fs_new(&vm->mem, s->tag, &be, &vm->loop, index, &vdev);
	if (err) {
		virtiofsd_failed(d, be.sock, err);
		return err;
	}
	return vm_add_virtio(vm, vdev);
}

static int vm_add_shares(struct vm *vm)
{
	int err = 0;

	for (unsigned int i = 0; !err && i < vm->cfg.nr_shares; i++)
		err = vm_add_share(vm, &vm->cfg.shares[i]);
	return err;
}

/*
 * --net number i: eth0, eth1… in command-line order. The backend lives in
 * vm->nets and outlives the device (vm_devices_exit frees it after).
 */
static int vm_add_net(struct vm *vm, unsigned int i)
{
	const struct net_config *cfg = &vm->cfg.nets[i];
	struct vm_net *net = &vm->nets[vm->nr_nets];
	const struct vnet_backend *be;
	struct virtio_dev *vdev;

	if (cfg->kind == NET_TAP) {
		net->tap = tap_open(cfg);
		if (!net->tap)
			return -EIO;
		vm->nr_nets++;
		be = tap_backend(net->tap);
	} else {
		/* Without libslirp (static, arm64), its stub says so. */
		net->slirp = slirp_net_new(cfg, &vm->loop);
		if (!net->slirp)
			return -EIO;
		vm->nr_nets++;
		be = slirp_net_backend(net->slirp);
	}
	vdev = virtio_net_new(&vm->mem, be, cfg->mac, &vm->loop, i);
	if (!vdev)
		return -ENOMEM;
	if (net->slirp)
		slirp_net_attach(net->slirp, vdev);
	return vm_add_virtio(vm, vdev);
}

/* --vsock: the device frees its host side (be.release) from then on. */
static int vm_add_vsock(struct vm *vm)
{
	struct vsock_backend be;
	struct virtio_dev *vdev;
	struct vsock_uds *u = vsock_uds_new(vm->cfg.vsock.uds, &vm->loop, &be);

	if (!u)
		return -EIO;
	/* Its socket file goes when kvmini ends, however it ends. */
	if (vm->cfg.vsock.uds)
		vm_watch_file(vm, vm->cfg.vsock.uds);
	vdev = virtio_vsock_new(&vm->mem, vm->cfg.vsock.cid, &be, &vm->loop);
	if (!vdev) {
		vsock_uds_free(u);
		return -ENOMEM;
	}
	vsock_uds_attach(u, vdev);
	return vm_add_virtio(vm, vdev);
}

int vm_devices_init(struct vm *vm)
{
	int err = 0;

	if (vm->cfg.transport == TRANSPORT_PCI)
		err = vm_pci_init(vm);
	if (!err && vm->first_virtio)
		err = vm_add_virtio(vm, vm->first_virtio(vm));
	if (!err && vm->cfg.console == CONSOLE_VIRTIO)
		err = vm_add_console(vm);
	if (!err && !vm->cfg.no_rng)
		err = vm_add_virtio(vm, virtio_rng_new(&vm->mem));
	for (unsigned int i = 0; !err && i < vm->cfg.nr_disks; i++)
		err = vm_add_disk(vm, i);
	for (unsigned int i = 0; !err && i < vm->cfg.nr_nets; i++)
		err = vm_add_net(vm, i);
	if (!err)
		err = vm_add_shares(vm);
	if (!err && vm->cfg.vsock.cid)
		err = vm_add_vsock(vm);
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
	vm_pci_exit(vm);
	/* The NICs' backends, now that no device uses them. */
	for (unsigned int i = 0; i < vm->nr_nets; i++) {
		tap_close(vm->nets[i].tap);
		slirp_net_free(vm->nets[i].slirp);
	}
	vm->nr_nets = 0;
}
