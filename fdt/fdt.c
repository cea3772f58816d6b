// SPDX-License-Identifier: GPL-2.0
/*
 * Device-tree builder (see fdt.h), on libfdt's sequential-write API: every
 * node is written whole, in order, so a node's properties must all come
 * before its first subnode.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdt/fdt.h"
#include "lib/log.h"

/* A full tree with a long command line fits: one pass, usually. */
#define FDT_INITIAL_SIZE	(16u << 10)
/* "NAME@" + 16 hex digits; longer device names are refused. */
#define FDT_NODE_NAME_MAX	64

struct builder {
	const struct fdt_desc *d;
	void *fdt;
	char where[FDT_NODE_NAME_MAX + 32];	/* for the error line */
};

static int fdt_errno(int err)
{
	switch (err) {
	case -FDT_ERR_NOSPACE:
		return -E2BIG;
	case -FDT_ERR_EXISTS:
		return -EEXIST;
	case -FDT_ERR_NOTFOUND:
		return -ENOENT;
	default:
		return -EINVAL;
	}
}

static bool range_ok(uint64_t base, uint64_t size)
{
	return size && base + (size - 1) >= base;
}

static int node_name(char *buf, const char *name, uint64_t addr)
{
	int n = snprintf(buf, FDT_NODE_NAME_MAX, "%s@%" PRIx64, name, addr);

	return n > 0 && n < FDT_NODE_NAME_MAX ? 0 : -ENAMETOOLONG;
}

static int check_cpus(const struct fdt_desc *d)
{
	if (!d->nr_cpus) {
		pr_err("device tree: no CPUs");
		return -EINVAL;
	}
	if (!d->cpu_ids)
		return 0;
	for (unsigned int i = 0; i < d->nr_cpus; i++) {
		for (unsigned int j = 0; j < i; j++) {
			if (d->cpu_ids[i] == d->cpu_ids[j]) {
				pr_err("device tree: CPUs %u and %u both have id %#x",
				       j, i, d->cpu_ids[i]);
				return -EEXIST;
			}
		}
	}
	return 0;
}

static int check_mem(const struct fdt_desc *d)
{
	if (!d->nr_mem) {
		pr_err("device tree: no memory");
		return -EINVAL;
	}
	for (unsigned int i = 0; i < d->nr_mem; i++) {
		if (!range_ok(d->mem[i].base, d->mem[i].size)) {
			pr_err("device tree: memory region %u (%#" PRIx64 "+%#" PRIx64 ") is empty or wraps",
			       i, d->mem[i].base, d->mem[i].size);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_chosen(const struct fdt_desc *d)
{
	if (d->initrd_end < d->initrd_start) {
		pr_err("device tree: initrd ends (%#" PRIx64 ") before it starts (%#" PRIx64 ")",
		       d->initrd_end, d->initrd_start);
		return -EINVAL;
	}
	if (d->rng_seed_len && !d->rng_seed) {
		pr_err("device tree: rng-seed length without data");
		return -EINVAL;
	}
	return 0;
}

static int check_irq_cells(const struct fdt_desc *d)
{
	if (d->irq_spec ? !d->irq_cells || d->irq_cells > FDT_MAX_IRQ_CELLS
			: d->irq_cells > 1) {
		pr_err("device tree: %u interrupt cells%s",
		       d->irq_cells, d->irq_spec ? "" : " without an irq_spec callback");
		return -EINVAL;
	}
	return 0;
}

static int check_dev(const struct fdt_desc *d, unsigned int i)
{
	const struct fdt_mmio_dev *dev = &d->devs[i];
	char name[FDT_NODE_NAME_MAX];

	if (!dev->name || !*dev->name || !dev->compatible) {
		pr_err("device tree: device %u has no name or no compatible", i);
		return -EINVAL;
	}
	if (node_name(name, dev->name, dev->base)) {
		pr_err("device tree: device name '%s' is too long", dev->name);
		return -ENAMETOOLONG;
	}
	if (!range_ok(dev->base, dev->size)) {
		pr_err("device tree: %s: empty or wrapping MMIO range", name);
		return -EINVAL;
	}
	for (unsigned int j = 0; j < i; j++) {
		if (d->devs[j].base == dev->base &&
		    !strcmp(d->devs[j].name, dev->name)) {
			pr_err("device tree: two devices named %s", name);
			return -EEXIST;
		}
		if (d->devs[j].stdout_path && dev->stdout_path) {
			pr_err("device tree: two stdout-path devices (%s and device %u)",
			       name, j);
			return -EINVAL;
		}
	}
	return 0;
}

/* A bad description is a kvmini bug: say which field, before any tree. */
static int check_desc(const struct fdt_desc *d)
{
	int err = check_cpus(d) ?: check_mem(d) ?: check_chosen(d) ?:
		  check_irq_cells(d);

	for (unsigned int i = 0; !err && i < d->nr_devs; i++)
		err = check_dev(d, i);
	return err;
}

static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
	fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };

	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int add_root_props(struct builder *b)
{
	static const char compatible[] = "linux,dummy-virt";

	snprintf(b->where, sizeof(b->where), "/");
	return fdt_begin_node(b->fdt, "") ?:
	       fdt_property_cell(b->fdt, "#address-cells", 2) ?:
	       fdt_property_cell(b->fdt, "#size-cells", 2) ?:
	       fdt_property(b->fdt, "compatible", compatible, sizeof(compatible)) ?:
	       fdt_property_string(b->fdt, "model", "kvmini");
}

static int add_cpu(struct builder *b, unsigned int cpu)
{
	const struct fdt_desc *d = b->d;
	uint32_t id = d->cpu_ids ? d->cpu_ids[cpu] : cpu;
	char name[FDT_NODE_NAME_MAX];
	int err;

	node_name(name, "cpu", id);
	snprintf(b->where, sizeof(b->where), "/cpus/%s", name);
	err = fdt_begin_node(b->fdt, name) ?:
	      fdt_property_string(b->fdt, "device_type", "cpu") ?:
	      fdt_property_cell(b->fdt, "reg", id);
	if (!err && d->cpu_props)
		err = d->cpu_props(d->ctx, b->fdt, cpu);
	return err ?: fdt_end_node(b->fdt);
}

static int add_cpus(struct builder *b)
{
	int err;

	snprintf(b->where, sizeof(b->where), "/cpus");
	err = fdt_begin_node(b->fdt, "cpus") ?:
	      fdt_property_cell(b->fdt, "#address-cells", 1) ?:
	      fdt_property_cell(b->fdt, "#size-cells", 0);
	for (unsigned int i = 0; !err && i < b->d->nr_cpus; i++)
		err = add_cpu(b, i);
	return err ?: fdt_end_node(b->fdt);
}

static int add_memory(struct builder *b, const struct fdt_mem_region *m)
{
	char name[FDT_NODE_NAME_MAX];

	node_name(name, "memory", m->base);
	snprintf(b->where, sizeof(b->where), "/%s", name);
	return fdt_begin_node(b->fdt, name) ?:
	       fdt_property_string(b->fdt, "device_type", "memory") ?:
	       prop_reg(b->fdt, m->base, m->size) ?:
	       fdt_end_node(b->fdt);
}

static int add_stdout_path(struct builder *b)
{
	char path[FDT_NODE_NAME_MAX + 1] = "/";

	for (unsigned int i = 0; i < b->d->nr_devs; i++) {
		const struct fdt_mmio_dev *dev = &b->d->devs[i];

		if (dev->stdout_path) {
			node_name(path + 1, dev->name, dev->base);
			return fdt_property_string(b->fdt, "stdout-path", path);
		}
	}
	return 0;
}

static int add_chosen(struct builder *b)
{
	const struct fdt_desc *d = b->d;
	void *fdt = b->fdt;
	int err;

	snprintf(b->where, sizeof(b->where), "/chosen");
	err = fdt_begin_node(fdt, "chosen");
	if (!err && d->bootargs)
		err = fdt_property_string(fdt, "bootargs", d->bootargs);
	if (!err && d->initrd_end > d->initrd_start)
		err = fdt_property_u64(fdt, "linux,initrd-start", d->initrd_start) ?:
		      fdt_property_u64(fdt, "linux,initrd-end", d->initrd_end);
	if (!err && d->rng_seed_len)
		err = fdt_property(fdt, "rng-seed", d->rng_seed, d->rng_seed_len);
	return err ?: add_stdout_path(b) ?: fdt_end_node(fdt);
}

static int prop_interrupts(struct builder *b, uint32_t irq)
{
	const struct fdt_desc *d = b->d;
	uint32_t cells[FDT_MAX_IRQ_CELLS] = { irq };
	fdt32_t be[FDT_MAX_IRQ_CELLS];
	unsigned int n = 1;

	if (d->irq_spec) {
		n = d->irq_cells;
		d->irq_spec(d->ctx, irq, cells);
	}
	for (unsigned int i = 0; i < n; i++)
		be[i] = cpu_to_fdt32(cells[i]);
	return fdt_property(b->fdt, "interrupts", be, n * sizeof(be[0]));
}

static int add_dev_props(struct builder *b, const struct fdt_mmio_dev *dev)
{
	void *fdt = b->fdt;
	int err = fdt_property_string(fdt, "compatible", dev->compatible) ?:
		  prop_reg(fdt, dev->base, dev->size);

	if (!err && dev->irq) {
		err = prop_interrupts(b, dev->irq);
		if (!err && b->d->interrupt_parent)
			err = fdt_property_cell(fdt, "interrupt-parent",
						b->d->interrupt_parent);
	}
	if (!err && dev->dma_coherent)
		err = fdt_property(fdt, "dma-coherent", NULL, 0);
	if (!err && dev->clock_frequency)
		err = fdt_property_cell(fdt, "clock-frequency",
					dev->clock_frequency);
	if (!err && dev->props)
		err = dev->props(dev->opaque, fdt);
	return err;
}

static int add_dev(struct builder *b, const struct fdt_mmio_dev *dev)
{
	char name[FDT_NODE_NAME_MAX];

	node_name(name, dev->name, dev->base);
	snprintf(b->where, sizeof(b->where), "/%s", name);
	return fdt_begin_node(b->fdt, name) ?:
	       add_dev_props(b, dev) ?:
	       fdt_end_node(b->fdt);
}

static int add_nodes(struct builder *b)
{
	const struct fdt_desc *d = b->d;
	int err = add_root_props(b) ?: add_cpus(b);

	for (unsigned int i = 0; !err && i < d->nr_mem; i++)
		err = add_memory(b, &d->mem[i]);
	err = err ?: add_chosen(b);
	for (unsigned int i = 0; !err && i < d->nr_devs; i++)
		err = add_dev(b, &d->devs[i]);
	if (!err && d->arch_nodes) {
		snprintf(b->where, sizeof(b->where), "architecture nodes");
		err = d->arch_nodes(d->ctx, b->fdt);
	}
	return err ?: fdt_end_node(b->fdt);
}

/*
 * libfdt's readers look for a node's properties only before its first
 * subnode: a property a callback writes after one would be lost without a
 * word. In a sound tree a property never follows an FDT_END_NODE.
 */
static int check_prop_order(const void *fdt)
{
	uint32_t tag, prev = FDT_NOP;
	int offset = 0, next;

	do {
		tag = fdt_next_tag(fdt, offset, &next);
		if (tag == FDT_PROP && prev == FDT_END_NODE)
			return -FDT_ERR_BADSTRUCTURE;
		if (tag != FDT_NOP)
			prev = tag;
		offset = next;
	} while (tag != FDT_END && next >= 0);
	return 0;
}

/* One attempt in a buffer of the given size. */
static int build_in(struct builder *b, size_t bufsize)
{
	int err;

	snprintf(b->where, sizeof(b->where), "header");
	err = fdt_create(b->fdt, bufsize) ?:
	      fdt_finish_reservemap(b->fdt) ?:
	      add_nodes(b);
	if (err)
		return err;
	snprintf(b->where, sizeof(b->where), "end of tree");
	err = fdt_finish(b->fdt);
	if (err)
		return err;
	/* A callback that left a node open, or wrote a property after a
	 * subnode, made a tree the guest would misread: say so here. */
	snprintf(b->where, sizeof(b->where),
		 "a callback left a node open or wrote a property after a subnode");
	return fdt_check_full(b->fdt, bufsize) ?: check_prop_order(b->fdt);
}

int fdt_build(const struct fdt_desc *d, void **blob, size_t *size)
{
	struct builder b = { .d = d };
	size_t bufsize = FDT_INITIAL_SIZE;
	void *small;
	int err;

	err = check_desc(d);
	if (err)
		return err;
	for (;;) {
		small = realloc(b.fdt, bufsize);
		if (!small) {
			free(b.fdt);
			pr_err("device tree: out of memory for %zu bytes", bufsize);
			return -ENOMEM;
		}
		b.fdt = small;
		err = build_in(&b, bufsize);
		if (err != -FDT_ERR_NOSPACE || bufsize == FDT_MAX_SIZE)
			break;
		bufsize = bufsize * 2 < FDT_MAX_SIZE ? bufsize * 2 : FDT_MAX_SIZE;
	}
	if (err) {
		free(b.fdt);
		if (err == -FDT_ERR_NOSPACE)
			pr_err("device tree: larger than %u bytes", FDT_MAX_SIZE);
		else
			pr_err("device tree: %s: %s", b.where, fdt_strerror(err));
		return fdt_errno(err);
	}
	*size = fdt_totalsize(b.fdt);
	/* Exactly its size, so that a reader past the end trips ASan. */
	small = realloc(b.fdt, *size);
	*blob = small ? small : b.fdt;
	return 0;
}

int fdt_write_file(const void *blob, size_t size, const char *path)
{
	const char *p = blob;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
		pr_err("cannot create device tree file '%s': %s", path, strerror(-err));
		return err;
	}
	while (size) {
		ssize_t n = write(fd, p, size);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		p += n;
		size -= n;
	}
	if (close(fd) && !err)
		err = -errno;
	if (err)
		pr_err("cannot write device tree file '%s': %s", path, strerror(-err));
	return err;
}
