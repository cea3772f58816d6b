// SPDX-License-Identifier: GPL-2.0
/*
 * --transport pci: the PCI bus on the machine, its virtio-pci functions,
 * and the MSI routes that follow their MSI-X tables. KVM takes the GSI
 * routing table only whole (KVM_SET_GSI_ROUTING), so this keeps it: the
 * irqchip's default routes, then every MSI vector that can fire. Where
 * KVM wants a device ID in MSI routes (KVM_CAP_MSI_DEVID: arm64's ITS),
 * each route carries its function's requester ID.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "lib/log.h"
#include "pci/pci.h"
#include "virtio/pci.h"
#include "vmm/arch.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

#define VM_PCI_MAX_MSI	1024	/* vectors of all functions (16 x 64) */
/* Room for the irqchip's default routes (x86: 40, arm64: 96). */
#define VM_PCI_ROUTES	(VM_PCI_MAX_MSI + 128)

struct vm_msi {
	uint32_t gsi;
	bool on;
	uint64_t addr;
	uint32_t data;
	uint16_t devid;		/* the function's requester ID */
};

struct vm_pci;

/* The host callbacks' context: one per function, so that its vectors
 * learn its requester ID. */
struct vm_pci_fn {
	struct vm_pci *p;
	uint16_t rid;
};

struct vm_pci {
	struct vm *vm;
	struct pci_bus bus;
	struct virtio_pci *fn[VM_MAX_VIRTIO];
	struct virtio_dev *vdev[VM_MAX_VIRTIO];
	struct vm_pci_fn ctx[VM_MAX_VIRTIO];
	unsigned int nr;
	bool devid;		/* MSI routes carry KVM_MSI_VALID_DEVID */
	/* The routing table, under lock (a leaf: vCPU threads update it
	 * from MSI-X table writes under their device's lock). */
	pthread_mutex_t lock;
	struct kvm_irq_routing *table;
	unsigned int nr_fixed;
	uint32_t first_gsi;
	struct vm_msi msi[VM_PCI_MAX_MSI];
	unsigned int nr_msi;
};

static int vm_pci_msi_irqfd(void *ctx, int fd, uint32_t *gsi)
{
	struct vm_pci_fn *f = ctx;
	struct vm_pci *p = f->p;

	if (p->nr_msi == VM_PCI_MAX_MSI) {
		pr_err("pci: more than %u MSI-X vectors", VM_PCI_MAX_MSI);
		return -ENOSPC;
	}
	*gsi = p->first_gsi + p->nr_msi;
	p->msi[p->nr_msi++] = (struct vm_msi){ .gsi = *gsi, .devid = f->rid };
	return vm_irqfd(p->vm, *gsi, fd);
}

/* The whole table again: the defaults and each live MSI route. */
static int vm_pci_commit(struct vm_pci *p)
{
	unsigned int n = p->nr_fixed;

	for (unsigned int i = 0; i < p->nr_msi; i++) {
		const struct vm_msi *m = &p->msi[i];

		if (!m->on)
			continue;
		p->table->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = m->gsi, .type = KVM_IRQ_ROUTING_MSI,
			.flags = p->devid ? KVM_MSI_VALID_DEVID : 0,
			.u.msi = { .address_lo = (uint32_t)m->addr,
				   .address_hi = m->addr >> 32, .data = m->data,
				   .devid = p->devid ? m->devid : 0 },
		};
	}
	p->table->nr = n;
	p->table->flags = 0;
	if (ioctl(p->vm->vm_fd, KVM_SET_GSI_ROUTING, p->table) < 0) {
		pr_warn_once("pci: KVM_SET_GSI_ROUTING failed: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* The guest's message, as it wrote it: KVM delivers it to the local
 * APICs it names, or to none (an address outside the APIC range). */
static int vm_pci_msi_route(void *ctx, uint32_t gsi, uint64_t addr, uint32_t data,
			    bool on)
{
	struct vm_pci *p = ((struct vm_pci_fn *)ctx)->p;
	struct vm_msi *m;
	int err;

	if (gsi < p->first_gsi || gsi - p->first_gsi >= p->nr_msi)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	m = &p->msi[gsi - p->first_gsi];
	m->on = on;
	m->addr = addr;
	m->data = data;
	err = vm_pci_commit(p);
	pthread_mutex_unlock(&p->lock);
	return err;
}

/* Writes of any width (len 0) to addr signal fd: a notify address. */
static int vm_pci_ioeventfd(void *ctx, uint64_t addr, int fd, bool assign)
{
	struct vm_pci *p = ((struct vm_pci_fn *)ctx)->p;
	struct kvm_ioeventfd io = {
		.addr = addr, .len = 0, .fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	if (ioctl(p->vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		pr_warn_once("pci: KVM_IOEVENTFD at %#llx failed: %s",
			     (unsigned long long)addr, strerror(errno));
		return -errno;
	}
	return 0;
}

static int vm_pci_intx(void *ctx, uint32_t irq, int level)
{
	struct vm_pci *p = ((struct vm_pci_fn *)ctx)->p;

	return arch_irq_line(p->vm, irq, level);
}

int vm_pci_init(struct vm *vm)
{
	uint64_t ecam, win, win_len;
	struct vm_pci *p;
	int err = arch_pci_layout(&ecam, &win, &win_len);

	if (err) {
		pr_err("--transport pci: not on this architecture yet (use --transport mmio)");
		return err;
	}
	if (kvm_check_cap(vm, KVM_CAP_IRQ_ROUTING) <= 0 ||
	    kvm_check_cap(vm, KVM_CAP_IOEVENTFD_ANY_LENGTH) <= 0) {
		pr_err("--transport pci: KVM lacks GSI routing or any-length ioeventfds (use --transport mmio)");
		return -EOPNOTSUPP;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->table = calloc(1, sizeof(*p->table) +
				  VM_PCI_ROUTES * sizeof(p->table->entries[0]));
	if (!p || !p->table) {
		if (p)
			free(p);
		pr_err("pci: out of memory");
		return -ENOMEM;
	}
	p->vm = vm;
	/* After arch_vm_finalize: arm64's ITS exists by now, or never. */
	p->devid = kvm_check_cap(vm, KVM_CAP_MSI_DEVID) > 0;
	pthread_mutex_init(&p->lock, NULL);
	pci_bus_init(&p->bus, win, win_len);
	p->nr_fixed = arch_irq_routes(p->table->entries, VM_PCI_ROUTES - VM_PCI_MAX_MSI);
	for (unsigned int i = 0; i < p->nr_fixed; i++)
		if (p->table->entries[i].gsi >= p->first_gsi)
			p->first_gsi = p->table->entries[i].gsi + 1;
	vm->pci = p;
	err = vm_register_pio(vm, PCI_CONF1_PORT, PCI_CONF1_LEN, pci_conf1_access,
			      &p->bus, "pci conf1") ?:
	      vm_register_mmio(vm, ecam, PCI_ECAM_BUS_SIZE, pci_ecam_access,
			       &p->bus, "pci ecam") ?:
	      vm_register_mmio(vm, win, win_len, pci_win_access, &p->bus, "pci window");
	if (!err) {
		pthread_mutex_lock(&p->lock);
		err = vm_pci_commit(p);
		pthread_mutex_unlock(&p->lock);
	}
	return err;
}

int vm_pci_add(struct vm *vm, struct virtio_dev *vdev)
{
	struct vm_pci *p = vm->pci;
	struct vm_pci_fn *ctx;
	struct virtio_pci_host host = {
		.msi_irqfd = vm_pci_msi_irqfd,
		.msi_route = vm_pci_msi_route,
		.ioeventfd = vm_pci_ioeventfd,
		.set_intx = vm_pci_intx,
		.loop = &vm->loop,
	};
	uint64_t base;
	uint32_t irq;
	struct virtio_pci *fn;
	int err;

	if (!vdev)
		return -ENOMEM;
	/* INTx lines: the pins virtio-mmio slots would have had. */
	if (p->nr == VM_MAX_VIRTIO || arch_virtio_slot(p->nr, &base, &irq)) {
		pr_err("too many virtio devices (at most %u)", p->nr);
		virtio_dev_exit(vdev);
		free(vdev);
		return -ENOSPC;
	}
	ctx = &p->ctx[p->nr];
	ctx->p = p;
	host.ctx = ctx;
	p->vdev[p->nr++] = vdev;
	fn = virtio_pci_new(vdev, irq, &host);
	if (!fn)
		return -ENOMEM;
	p->fn[p->nr - 1] = fn;
	err = pci_bus_add(&p->bus, virtio_pci_dev(fn));
	if (err) {
		pr_err("virtio %s: no room on the PCI bus or in its window", vdev->name);
		return err;
	}
	vm->pci_fn[vm->nr_pci_fn].slot = virtio_pci_dev(fn)->slot;
	vm->pci_fn[vm->nr_pci_fn++].irq = irq;
	/* Its vectors' irqfds come next: their routes need its ID. */
	ctx->rid = pci_dev_rid(virtio_pci_dev(fn));
	err = virtio_pci_attach(fn);
	if (!err)
		pr_info("virtio %s on pci 00:%02x.0, irq %u", vdev->name,
			virtio_pci_dev(fn)->slot, irq);
	return err;
}

unsigned int vm_pci_count(const struct vm *vm, uint32_t device_id)
{
	unsigned int n = 0;

	for (unsigned int i = 0; vm->pci && i < vm->pci->nr; i++)
		n += vm->pci->vdev[i]->ops->device_id == device_id;
	return n;
}

void vm_pci_quiesce(struct vm *vm)
{
	for (unsigned int i = 0; vm->pci && i < vm->pci->nr; i++)
		virtio_pci_quiesce(vm->pci->fn[i]);
}

int vm_pci_save(struct vm *vm, struct snap_writer *w)
{
	struct vm_pci *p = vm->pci;
	int err = 0;

	pci_bus_save(&p->bus, snap_begin(w, SNAP_TAG_PCI_BUS, 0));
	snap_end(w);
	for (unsigned int i = 0; i < p->nr && !err; i++) {
		err = virtio_pci_save(p->fn[i], snap_begin(w, SNAP_TAG_PCI_FUNC, i));
		snap_end(w);
	}
	return err;
}

/* Functions in slot order, as the bus decoded them: a BAR over one that
 * decodes already is refused as the bus would refuse it. */
int vm_pci_load(struct vm *vm, const struct snap_reader *r)
{
	struct vm_pci *p = vm->pci;
	struct sbuf_rd b;
	int err;

	if (!snap_find(r, SNAP_TAG_PCI_BUS, 0, &b)) {
		pr_err("snapshot %s: no state for the PCI bus: take a new snapshot", r->name);
		return -EINVAL;
	}
	err = pci_bus_load(&p->bus, &b);
	if (!err && !sbuf_rd_done(&b)) {
		pr_err("snapshot %s: the PCI bus's state has bytes too many: take a new snapshot",
		       r->name);
		err = -EINVAL;
	}
	for (unsigned int i = 0; i < p->nr && !err; i++) {
		if (!snap_find(r, SNAP_TAG_PCI_FUNC, i, &b)) {
			pr_err("snapshot %s: no state for PCI function %u (%s): take a new snapshot",
			       r->name, i, p->vdev[i]->name);
			return -EINVAL;
		}
		err = virtio_pci_load(p->fn[i], b.data, b.len);
	}
	if (!err && snap_find(r, SNAP_TAG_PCI_FUNC, p->nr, &b)) {
		pr_err("snapshot %s: it has more PCI functions than this VM: restore with the options the snapshot was taken with",
		       r->name);
		return -EINVAL;
	}
	return err;
}

void vm_pci_exit(struct vm *vm)
{
	struct vm_pci *p = vm->pci;

	if (!p)
		return;
	for (unsigned int i = 0; i < p->nr; i++) {
		virtio_pci_free(p->fn[i]);
		virtio_dev_exit(p->vdev[i]);
		free(p->vdev[i]);
	}
	pci_bus_exit(&p->bus);
	pthread_mutex_destroy(&p->lock);
	free(p->table);
	free(p);
	vm->pci = NULL;
	vm->nr_pci_fn = 0;
}
