// SPDX-License-Identifier: GPL-2.0
/*
 * The device-tree builder with descriptions from the input: CPU counts
 * and IDs, memory regions, the initrd, an RNG seed, devices (names,
 * compatibles, ranges, interrupts, flags), interrupt cells, and bootargs
 * up to several MiB, so that the buffer grows to FDT_MAX_SIZE and past it.
 * The callbacks an architecture supplies may misbehave as fdt.h forbids
 * (a node left open, a property after a subnode): fdt_build() must then
 * fail, never hand out a tree the guest would misread.
 *
 * Every tree built must pass libfdt's full check and carry the bootargs
 * it was given.
 *
 * Input: a flags byte, then the description field by field (see
 * LLVMFuzzerTestOneInput()); what remains is the bootargs pattern.
 */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "fdt/fdt.h"
#include "tests/fuzz/common.h"

#define F_CPU_IDS	0x01
#define F_IRQ_SPEC	0x02
#define F_CPU_PROPS	0x04
#define F_ARCH_NODES	0x08
#define F_ARCH_OPEN	0x10	/* arch_nodes leaves a node open */
#define F_ARCH_PROP	0x20	/* arch_nodes writes a root property */
#define F_RNG_SEED	0x40
#define F_INITRD	0x80

#define MAX_CPUS	512
#define MAX_DEVS	24
#define MAX_REPEAT	600

static const char *const names[] = {
	"virtio_mmio", "uart", "exit", "", NULL, "dev@1", "a/b",
	"a-device-name-that-is-much-too-long-to-be-a-node-name-in-kvmini-at-all",
};
static const char *const compatibles[] = {
	"virtio,mmio", "ns16550a", "kvmini,exit", "", NULL,
};

struct fuzz_fdt {
	uint8_t flags;
	uint32_t cpu_ids[MAX_CPUS];
	struct fdt_mem_region mem[5];
	uint8_t seed[256];
	struct fdt_mmio_dev devs[MAX_DEVS];
	char *bootargs;
};

static void irq_spec(void *ctx, uint32_t irq, uint32_t *cells)
{
	(void)ctx;
	/* Like a GIC: <SPI irq flags>, whatever the cell count. */
	cells[0] = 0;
	cells[1] = irq;
	cells[2] = 4;
	cells[3] = 0;
}

static int cpu_props(void *ctx, void *fdt, unsigned int cpu)
{
	(void)ctx;
	return fdt_property_string(fdt, "compatible", "arm,arm-v8") ?:
	       (cpu & 1 ? fdt_property_string(fdt, "enable-method", "psci") : 0);
}

static int arch_nodes(void *ctx, void *fdt)
{
	const struct fuzz_fdt *f = ctx;
	int err = fdt_begin_node(fdt, "intc@8000000") ?:
		  fdt_property_cell(fdt, "phandle", 1) ?:
		  fdt_property(fdt, "interrupt-controller", NULL, 0);

	if (err || (f->flags & F_ARCH_OPEN))
		return err;
	err = fdt_end_node(fdt);
	if (!err && (f->flags & F_ARCH_PROP))
		err = fdt_property_cell(fdt, "late-property", 1);
	return err;
}

static int dev_props(void *opaque, void *fdt)
{
	(void)opaque;
	return fdt_property_cell(fdt, "kvmini,extra", 7);
}

static void read_devs(struct fuzz_input *in, struct fuzz_fdt *f,
		      unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct fdt_mmio_dev *d = &f->devs[i];
		uint8_t fl;

		d->name = names[fuzz_u8(in) % (sizeof(names) / sizeof(names[0]))];
		d->compatible = compatibles[fuzz_u8(in) %
			(sizeof(compatibles) / sizeof(compatibles[0]))];
		d->base = fuzz_u64(in);
		d->size = fuzz_u64(in);
		d->irq = fuzz_u32(in);
		fl = fuzz_u8(in);
		d->dma_coherent = fl & 1;
		d->stdout_path = fl & 2;
		d->clock_frequency = fl & 4 ? 1843200 : 0;
		d->props = fl & 8 ? dev_props : NULL;
	}
}

/* The rest of the input, repeated, as one string (NUL ends it early). */
static char *read_bootargs(struct fuzz_input *in)
{
	unsigned int repeat = fuzz_u16(in) % (MAX_REPEAT + 1);
	size_t len = in->left;
	char *s;

	if (!repeat)
		return NULL;
	s = malloc(len * repeat + 1);
	if (!s)
		abort();
	for (unsigned int i = 0; i < repeat; i++)
		memcpy(s + i * len, in->p, len);
	s[len * repeat] = '\0';
	return s;
}

static void check_tree(const struct fuzz_fdt *f, const void *blob, size_t size)
{
	const char *bootargs;
	int chosen, len;

	fuzz_check(size <= FDT_MAX_SIZE && size == fdt_totalsize(blob));
	fuzz_check(fdt_check_full(blob, size) == 0);
	chosen = fdt_path_offset(blob, "/chosen");
	fuzz_check(chosen >= 0);
	bootargs = fdt_getprop(blob, chosen, "bootargs", &len);
	if (f->bootargs)
		fuzz_check(bootargs && !strcmp(bootargs, f->bootargs));
	else
		fuzz_check(!bootargs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	static struct fuzz_fdt f;
	struct fdt_desc d = { 0 };
	size_t blob_size;
	void *blob;
	int err;

	memset(&f, 0, sizeof(f));
	f.flags = fuzz_u8(&in);
	d.ctx = &f;
	d.nr_cpus = fuzz_u16(&in) % (MAX_CPUS + 1);
	if (f.flags & F_CPU_IDS) {
		for (unsigned int i = 0; i < d.nr_cpus; i++)
			f.cpu_ids[i] = fuzz_u32(&in);
		d.cpu_ids = f.cpu_ids;
	}
	d.nr_mem = fuzz_u8(&in) % 5;
	for (unsigned int i = 0; i < d.nr_mem; i++) {
		f.mem[i].base = fuzz_u64(&in);
		f.mem[i].size = fuzz_u64(&in);
	}
	d.mem = f.mem;
	if (f.flags & F_INITRD) {
		d.initrd_start = fuzz_u64(&in);
		d.initrd_end = fuzz_u64(&in);
	}
	if (f.flags & F_RNG_SEED) {
		d.rng_seed_len = fuzz_u8(&in);
		fuzz_bytes(&in, f.seed, d.rng_seed_len);
		d.rng_seed = f.seed;
	}
	d.irq_cells = fuzz_u8(&in) % 6;
	d.irq_spec = f.flags & F_IRQ_SPEC ? irq_spec : NULL;
	d.interrupt_parent = fuzz_u32(&in);
	d.cpu_props = f.flags & F_CPU_PROPS ? cpu_props : NULL;
	d.arch_nodes = f.flags & F_ARCH_NODES ? arch_nodes : NULL;
	d.nr_devs = fuzz_u8(&in) % (MAX_DEVS + 1);
	read_devs(&in, &f, d.nr_devs);
	d.devs = f.devs;
	f.bootargs = read_bootargs(&in);
	d.bootargs = f.bootargs;

	err = fdt_build(&d, &blob, &blob_size);
	if (!err) {
		/* A misbehaving callback that ran must have been caught. */
		fuzz_check(!d.arch_nodes ||
			   !(f.flags & (F_ARCH_OPEN | F_ARCH_PROP)));
		check_tree(&f, blob, blob_size);
		free(blob);
	}
	free(f.bootargs);
	return 0;
}
