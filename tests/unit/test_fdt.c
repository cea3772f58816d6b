// SPDX-License-Identifier: GPL-2.0
/*
 * Device-tree builder: trees for many descriptions, read back with
 * libfdt's read API, and the full tree decompiled by dtc, whose checks
 * must find nothing to warn about.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "fdt/fdt.h"

#define GIC_PHANDLE	1
#define GIC_SPI_BASE	32
#define IRQ_LEVEL_HIGH	4

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const struct fdt_mem_region mems[] = {
	{ 0x40000000, 256 << 20 },
	{ 0x100000000ull, 1ull << 30 },
};

static const uint32_t ext_props_magic = 0x12345678;

static int dev_props(void *opaque, void *fdt)
{
	return fdt_property_cell(fdt, "kvmini,test", *(const uint32_t *)opaque);
}

/* Everything a device node can carry, spread over eight devices. */
static const struct fdt_mmio_dev all_devs[] = {
	{ .name = "uart", .compatible = "ns16550a", .base = 0x9000000,
	  .size = 0x1000, .irq = 33, .stdout_path = true,
	  .clock_frequency = 1843200 },
	{ .name = "exit", .compatible = "kvmini,exit", .base = 0x9001000,
	  .size = 0x1000 },
	{ .name = "virtio_mmio", .compatible = "virtio,mmio",
	  .base = 0xa000000, .size = 0x200, .irq = 48, .dma_coherent = true },
	{ .name = "virtio_mmio", .compatible = "virtio,mmio",
	  .base = 0xa000200, .size = 0x200, .irq = 49, .dma_coherent = true },
	{ .name = "virtio_mmio", .compatible = "virtio,mmio",
	  .base = 0xa000400, .size = 0x200, .irq = 50 },
	{ .name = "virtio_mmio", .compatible = "virtio,mmio",
	  .base = 0xa000600, .size = 0x200, .irq = 51, .dma_coherent = true,
	  .props = dev_props, .opaque = (void *)&ext_props_magic },
	{ .name = "virtio_mmio", .compatible = "virtio,mmio",
	  .base = 0x100000000ull + 0x40000000, .size = 0x200, .irq = 52 },
	{ .name = "rtc", .compatible = "kvmini,rtc", .base = 0x0,
	  .size = 0x1000 },
};

static const uint8_t seed[32] = {
	0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 0xff,
};

/* ---- what the callbacks did, for the checks ---- */

struct arch_ctx {
	unsigned int arch_calls;
	unsigned int cpu_calls;
	unsigned int last_cpu;
	int arch_err;		/* returned by arch_nodes when set */
	bool unbalanced;	/* arch_nodes forgets an fdt_end_node() */
	bool late_prop;		/* arch_nodes writes a root property last */
	size_t big;		/* arch_nodes adds /big with this many bytes */
};

static void gic_irq_spec(void *ctx, uint32_t irq, uint32_t *cells)
{
	(void)ctx;
	cells[0] = 0;				/* SPI */
	cells[1] = irq - GIC_SPI_BASE;
	cells[2] = IRQ_LEVEL_HIGH;
}

static int add_gic(void *fdt)
{
	static const char compatible[] = "arm,gic-v3";
	fdt64_t reg[4] = {
		cpu_to_fdt64(0x8000000), cpu_to_fdt64(0x10000),
		cpu_to_fdt64(0x80a0000), cpu_to_fdt64(0xf60000),
	};

	return fdt_begin_node(fdt, "intc@8000000") ?:
	       fdt_property(fdt, "compatible", compatible, sizeof(compatible)) ?:
	       fdt_property_cell(fdt, "#address-cells", 0) ?:
	       fdt_property_cell(fdt, "#interrupt-cells", 3) ?:
	       fdt_property(fdt, "interrupt-controller", NULL, 0) ?:
	       fdt_property(fdt, "reg", reg, sizeof(reg)) ?:
	       fdt_property_cell(fdt, "phandle", GIC_PHANDLE) ?:
	       fdt_end_node(fdt);
}

static int add_timer(void *fdt)
{
	static const char compatible[] = "arm,armv8-timer";
	fdt32_t irqs[12];
	static const uint32_t ppis[4] = { 13, 14, 11, 10 };

	for (unsigned int i = 0; i < 4; i++) {
		irqs[3 * i] = cpu_to_fdt32(1);		/* PPI */
		irqs[3 * i + 1] = cpu_to_fdt32(ppis[i]);
		irqs[3 * i + 2] = cpu_to_fdt32(IRQ_LEVEL_HIGH);
	}
	return fdt_begin_node(fdt, "timer") ?:
	       fdt_property(fdt, "compatible", compatible, sizeof(compatible)) ?:
	       fdt_property(fdt, "interrupts", irqs, sizeof(irqs)) ?:
	       fdt_property_cell(fdt, "interrupt-parent", GIC_PHANDLE) ?:
	       fdt_property(fdt, "always-on", NULL, 0) ?:
	       fdt_end_node(fdt);
}

static int add_psci(void *fdt)
{
	return fdt_begin_node(fdt, "psci") ?:
	       fdt_property_string(fdt, "compatible", "arm,psci-0.2") ?:
	       fdt_property_string(fdt, "method", "hvc") ?:
	       fdt_end_node(fdt);
}

static int add_big(void *fdt, size_t len)
{
	void *val;

	return fdt_begin_node(fdt, "big") ?:
	       fdt_property_placeholder(fdt, "data", len, &val) ?:
	       (memset(val, 0xa5, len), 0) ?:
	       fdt_end_node(fdt);
}

static int arch_nodes(void *opaque, void *fdt)
{
	struct arch_ctx *ctx = opaque;
	int err;

	ctx->arch_calls++;
	if (ctx->arch_err)
		return ctx->arch_err;
	if (ctx->unbalanced)
		return fdt_begin_node(fdt, "dangling");
	err = add_gic(fdt) ?: add_timer(fdt) ?: add_psci(fdt);
	if (!err && ctx->big)
		err = add_big(fdt, ctx->big);
	if (!err && ctx->late_prop)
		err = fdt_property_cell(fdt, "late", 1);
	return err;
}

#define ARCH_NODES	3	/* intc, timer, psci */

static int cpu_props(void *opaque, void *fdt, unsigned int cpu)
{
	struct arch_ctx *ctx = opaque;

	ctx->cpu_calls++;
	ctx->last_cpu = cpu;
	return fdt_property_string(fdt, "compatible", "arm,arm-v8") ?:
	       fdt_property_string(fdt, "enable-method", "psci");
}

/* The description every test starts from: the smallest valid one. */
static struct fdt_desc minimal_desc(void)
{
	return (struct fdt_desc){
		.nr_cpus = 1,
		.mem = mems,
		.nr_mem = 1,
	};
}

/* The largest one, with an arm64-like architecture behind it. */
static struct fdt_desc full_desc(struct arch_ctx *ctx)
{
	return (struct fdt_desc){
		.nr_cpus = 4,
		.mem = mems,
		.nr_mem = 2,
		.bootargs = "console=ttyS0 earlycon panic=-1",
		.initrd_start = 0x48000000,
		.initrd_end = 0x48123457,
		.rng_seed = seed,
		.rng_seed_len = sizeof(seed),
		.devs = all_devs,
		.nr_devs = ARRAY_SIZE(all_devs),
		.irq_cells = 3,
		.irq_spec = gic_irq_spec,
		.interrupt_parent = GIC_PHANDLE,
		.cpu_props = cpu_props,
		.arch_nodes = arch_nodes,
		.ctx = ctx,
	};
}

/* ---- reading the tree back ---- */

static void *build_ok(const struct fdt_desc *d, size_t *size)
{
	void *fdt = NULL;
	int err = fdt_build(d, &fdt, size);

	ck_assert_msg(!err, "fdt_build failed: %s", strerror(-err));
	ck_assert_ptr_nonnull(fdt);
	ck_assert_int_eq(fdt_check_header(fdt), 0);
	ck_assert_uint_eq(fdt_totalsize(fdt), *size);
	ck_assert_uint_le(*size, FDT_MAX_SIZE);
	ck_assert_int_eq(fdt_check_full(fdt, *size), 0);
	return fdt;
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	ck_assert_msg(off >= 0, "no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(const void *fdt, const char *path, const char *name,
			int *len)
{
	const void *p = fdt_getprop(fdt, node(fdt, path), name, len);

	ck_assert_msg(p, "%s has no %s", path, name);
	return p;
}

static void assert_absent(const void *fdt, const char *path, const char *name)
{
	ck_assert_msg(!fdt_getprop(fdt, node(fdt, path), name, NULL),
		      "%s has an unexpected %s", path, name);
}

static void assert_str(const void *fdt, const char *path, const char *name,
		       const char *want)
{
	int len;
	const char *s = prop(fdt, path, name, &len);

	ck_assert_msg(len == (int)strlen(want) + 1 && !memcmp(s, want, len),
		      "%s/%s is not \"%s\"", path, name, want);
}

/* A string list, given as one buffer of NUL-terminated strings. */
static void assert_strlist(const void *fdt, const char *path, const char *name,
			   const char *want, int want_len)
{
	int len;
	const char *s = prop(fdt, path, name, &len);

	ck_assert_int_eq(len, want_len);
	ck_assert_mem_eq(s, want, len);
}

static void assert_cells(const void *fdt, const char *path, const char *name,
			 const uint32_t *want, unsigned int n)
{
	int len;
	const fdt32_t *c = prop(fdt, path, name, &len);

	ck_assert_msg(len == (int)(n * 4), "%s/%s: %d bytes, want %u cells",
		      path, name, len, n);
	for (unsigned int i = 0; i < n; i++)
		ck_assert_msg(fdt32_to_cpu(c[i]) == want[i],
			      "%s/%s cell %u: %#x, want %#x", path, name, i,
			      fdt32_to_cpu(c[i]), want[i]);
}

static void assert_u32(const void *fdt, const char *path, const char *name,
		       uint32_t want)
{
	assert_cells(fdt, path, name, &want, 1);
}

static uint64_t get_u64(const void *p)
{
	fdt64_t v;

	memcpy(&v, p, sizeof(v));
	return fdt64_to_cpu(v);
}

static void assert_u64(const void *fdt, const char *path, const char *name,
		       uint64_t want)
{
	int len;
	const void *p = prop(fdt, path, name, &len);

	ck_assert_int_eq(len, 8);
	ck_assert_uint_eq(get_u64(p), want);
}

static void assert_reg(const void *fdt, const char *path, uint64_t base,
		       uint64_t size)
{
	int len;
	const uint8_t *p = prop(fdt, path, "reg", &len);

	ck_assert_int_eq(len, 16);
	ck_assert_uint_eq(get_u64(p), base);
	ck_assert_uint_eq(get_u64(p + 8), size);
}

static void assert_empty(const void *fdt, const char *path, const char *name)
{
	int len;

	prop(fdt, path, name, &len);
	ck_assert_int_eq(len, 0);
}

/* Counts make sure that nothing unexpected was written either. */
static void assert_nprops(const void *fdt, const char *path, int want)
{
	int off, n = 0;

	fdt_for_each_property_offset(off, fdt, node(fdt, path))
		n++;
	ck_assert_msg(n == want, "%s has %d properties, want %d", path, n, want);
}

static void assert_nsubnodes(const void *fdt, const char *path, int want)
{
	int off, n = 0;

	fdt_for_each_subnode(off, fdt, node(fdt, path))
		n++;
	ck_assert_msg(n == want, "%s has %d subnodes, want %d", path, n, want);
}

/* ---- the whole tree against its description ---- */

static void check_root(const void *fdt, const struct fdt_desc *d,
		       unsigned int extra_nodes)
{
	static const char compatible[] = "linux,dummy-virt";

	assert_u32(fdt, "/", "#address-cells", 2);
	assert_u32(fdt, "/", "#size-cells", 2);
	assert_strlist(fdt, "/", "compatible", compatible, sizeof(compatible));
	assert_str(fdt, "/", "model", "kvmini");
	assert_nprops(fdt, "/", 4);
	assert_nsubnodes(fdt, "/", 2 + d->nr_mem + d->nr_devs + extra_nodes);
}

static void check_cpus(const void *fdt, const struct fdt_desc *d)
{
	char path[64];

	assert_u32(fdt, "/cpus", "#address-cells", 1);
	assert_u32(fdt, "/cpus", "#size-cells", 0);
	assert_nprops(fdt, "/cpus", 2);
	assert_nsubnodes(fdt, "/cpus", d->nr_cpus);
	for (unsigned int i = 0; i < d->nr_cpus; i++) {
		uint32_t id = d->cpu_ids ? d->cpu_ids[i] : i;

		snprintf(path, sizeof(path), "/cpus/cpu@%x", id);
		assert_str(fdt, path, "device_type", "cpu");
		assert_u32(fdt, path, "reg", id);
		if (d->cpu_props) {
			assert_str(fdt, path, "compatible", "arm,arm-v8");
			assert_str(fdt, path, "enable-method", "psci");
		}
		assert_nprops(fdt, path, d->cpu_props ? 4 : 2);
	}
}

static void check_memory(const void *fdt, const struct fdt_desc *d)
{
	char path[64];

	for (unsigned int i = 0; i < d->nr_mem; i++) {
		snprintf(path, sizeof(path), "/memory@%llx",
			 (unsigned long long)d->mem[i].base);
		assert_str(fdt, path, "device_type", "memory");
		assert_reg(fdt, path, d->mem[i].base, d->mem[i].size);
		assert_nprops(fdt, path, 2);
		assert_nsubnodes(fdt, path, 0);
	}
}

static void check_chosen(const void *fdt, const struct fdt_desc *d)
{
	const struct fdt_mmio_dev *out = NULL;
	int n = 0, len;

	for (unsigned int i = 0; i < d->nr_devs; i++)
		if (d->devs[i].stdout_path)
			out = &d->devs[i];
	if (d->bootargs) {
		assert_str(fdt, "/chosen", "bootargs", d->bootargs);
		n++;
	}
	if (d->initrd_end > d->initrd_start) {
		assert_u64(fdt, "/chosen", "linux,initrd-start", d->initrd_start);
		assert_u64(fdt, "/chosen", "linux,initrd-end", d->initrd_end);
		n += 2;
	} else {
		assert_absent(fdt, "/chosen", "linux,initrd-start");
	}
	if (d->rng_seed_len) {
		const void *p = prop(fdt, "/chosen", "rng-seed", &len);

		ck_assert_int_eq(len, d->rng_seed_len);
		ck_assert_mem_eq(p, d->rng_seed, len);
		n++;
	}
	if (out) {
		char path[64];

		snprintf(path, sizeof(path), "/%s@%llx", out->name,
			 (unsigned long long)out->base);
		assert_str(fdt, "/chosen", "stdout-path", path);
		n++;
	}
	assert_nprops(fdt, "/chosen", n);
	assert_nsubnodes(fdt, "/chosen", 0);
}

static void check_dev(const void *fdt, const struct fdt_desc *d,
		      const struct fdt_mmio_dev *dev)
{
	char path[64];
	int n = 2;

	snprintf(path, sizeof(path), "/%s@%llx", dev->name,
		 (unsigned long long)dev->base);
	assert_str(fdt, path, "compatible", dev->compatible);
	assert_reg(fdt, path, dev->base, dev->size);
	if (dev->irq) {
		uint32_t cells[FDT_MAX_IRQ_CELLS] = { dev->irq };
		unsigned int nc = d->irq_spec ? d->irq_cells : 1;

		if (d->irq_spec)
			d->irq_spec(d->ctx, dev->irq, cells);
		assert_cells(fdt, path, "interrupts", cells, nc);
		n++;
	} else {
		assert_absent(fdt, path, "interrupts");
	}
	if (dev->irq && d->interrupt_parent) {
		assert_u32(fdt, path, "interrupt-parent", d->interrupt_parent);
		n++;
	} else {
		assert_absent(fdt, path, "interrupt-parent");
	}
	if (dev->dma_coherent) {
		assert_empty(fdt, path, "dma-coherent");
		n++;
	}
	if (dev->clock_frequency) {
		assert_u32(fdt, path, "clock-frequency", dev->clock_frequency);
		n++;
	}
	if (dev->props) {
		assert_u32(fdt, path, "kvmini,test", ext_props_magic);
		n++;
	}
	assert_nprops(fdt, path, n);
	assert_nsubnodes(fdt, path, 0);
}

static void check_tree(const void *fdt, const struct fdt_desc *d,
		       unsigned int extra_nodes)
{
	check_root(fdt, d, extra_nodes);
	check_cpus(fdt, d);
	check_memory(fdt, d);
	check_chosen(fdt, d);
	for (unsigned int i = 0; i < d->nr_devs; i++)
		check_dev(fdt, d, &d->devs[i]);
}

/* ---- dtc ---- */

struct dtc_result {
	int status;		/* exit status, or -1 */
	char *err;		/* its stderr */
	char *dts;		/* its output */
};

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long len;

	ck_assert_msg(f, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	ck_assert_int_ge(len, 0);
	rewind(f);
	s = malloc(len + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, len, f), (size_t)len);
	s[len] = '\0';
	fclose(f);
	return s;
}

static bool have_dtc(void)
{
	return system("command -v dtc >/dev/null 2>&1") == 0;
}

/* Decompiles through a file written by fdt_write_file(), as --dump-dtb. */
static void run_dtc(const void *blob, size_t size, struct dtc_result *r)
{
	char dir[] = "/tmp/kvmini-fdt-XXXXXX";
	char dtb[64], dts[64], err[64], cmd[256];
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dtb, sizeof(dtb), "%s/t.dtb", dir);
	snprintf(dts, sizeof(dts), "%s/t.dts", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	ck_assert_int_eq(fdt_write_file(blob, size, dtb), 0);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o %s %s 2>%s",
		 dts, dtb, err);
	status = system(cmd);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	r->err = read_text(err);
	r->dts = r->status ? NULL : read_text(dts);
	unlink(dtb);
	unlink(dts);
	unlink(err);
	rmdir(dir);
}

/* ---- tests ---- */

START_TEST(test_minimal)
{
	struct fdt_desc d = minimal_desc();
	size_t size;
	void *fdt = build_ok(&d, &size);

	/* Literal paths and values, independent of check_tree(). */
	assert_nsubnodes(fdt, "/", 3);
	assert_str(fdt, "/cpus/cpu@0", "device_type", "cpu");
	assert_u32(fdt, "/cpus/cpu@0", "reg", 0);
	assert_reg(fdt, "/memory@40000000", 0x40000000, 256 << 20);
	assert_nprops(fdt, "/chosen", 0);
	check_tree(fdt, &d, 0);
	free(fdt);
}
END_TEST

/* 1 or 4 CPUs x 1 or 2 memory regions x with or without /chosen
 * contents x 0, 1, 2, 5 or 8 devices. */
static const unsigned int nr_devs_list[] = { 0, 1, 2, 5, 8 };

START_TEST(test_shapes)
{
	struct fdt_desc d = minimal_desc();
	size_t size;
	void *fdt;

	d.nr_cpus = _i & 1 ? 4 : 1;
	d.nr_mem = _i & 2 ? 2 : 1;
	if (_i & 4) {
		d.bootargs = "console=hvc0";
		d.initrd_start = 0x44000000;
		d.initrd_end = 0x44800000;
		d.rng_seed = seed;
		d.rng_seed_len = sizeof(seed);
	}
	d.devs = all_devs;
	d.nr_devs = nr_devs_list[_i >> 3];
	fdt = build_ok(&d, &size);
	check_tree(fdt, &d, 0);
	free(fdt);
}
END_TEST

START_TEST(test_full)
{
	struct arch_ctx ctx = { 0 };
	struct fdt_desc d = full_desc(&ctx);
	size_t size;
	void *fdt = build_ok(&d, &size);

	check_tree(fdt, &d, ARCH_NODES);
	ck_assert_uint_eq(ctx.arch_calls, 1);
	ck_assert_uint_eq(ctx.cpu_calls, 4);
	ck_assert_uint_eq(ctx.last_cpu, 3);
	/* Literal values for what check_tree() derives from d. */
	assert_str(fdt, "/chosen", "stdout-path", "/uart@9000000");
	assert_u64(fdt, "/chosen", "linux,initrd-start", 0x48000000);
	assert_u64(fdt, "/chosen", "linux,initrd-end", 0x48123457);
	assert_cells(fdt, "/uart@9000000", "interrupts",
		     (const uint32_t[]){ 0, 1, 4 }, 3);
	assert_u32(fdt, "/uart@9000000", "interrupt-parent", GIC_PHANDLE);
	assert_u32(fdt, "/uart@9000000", "clock-frequency", 1843200);
	assert_empty(fdt, "/virtio_mmio@a000200", "dma-coherent");
	assert_absent(fdt, "/virtio_mmio@a000400", "dma-coherent");
	assert_cells(fdt, "/virtio_mmio@140000000", "interrupts",
		     (const uint32_t[]){ 0, 20, 4 }, 3);
	assert_reg(fdt, "/virtio_mmio@140000000", 0x140000000ull, 0x200);
	assert_reg(fdt, "/rtc@0", 0, 0x1000);
	assert_absent(fdt, "/exit@9001000", "interrupts");
	assert_absent(fdt, "/exit@9001000", "interrupt-parent");
	assert_reg(fdt, "/memory@100000000", 0x100000000ull, 1ull << 30);
	/* The architecture's nodes, as its callback wrote them. */
	assert_u32(fdt, "/intc@8000000", "phandle", GIC_PHANDLE);
	assert_empty(fdt, "/intc@8000000", "interrupt-controller");
	ck_assert_int_eq(fdt_node_offset_by_phandle(fdt, GIC_PHANDLE),
			 node(fdt, "/intc@8000000"));
	assert_str(fdt, "/psci", "method", "hvc");
	node(fdt, "/timer");
	free(fdt);
}
END_TEST

/* Without a callback, an interrupt is one cell: the irq number. */
START_TEST(test_irq_default_cells)
{
	struct fdt_desc d = minimal_desc();
	size_t size;
	void *fdt;

	d.devs = all_devs;
	d.nr_devs = 3;
	fdt = build_ok(&d, &size);
	assert_cells(fdt, "/uart@9000000", "interrupts",
		     (const uint32_t[]){ 33 }, 1);
	assert_absent(fdt, "/uart@9000000", "interrupt-parent");
	assert_cells(fdt, "/virtio_mmio@a000000", "interrupts",
		     (const uint32_t[]){ 48 }, 1);
	check_tree(fdt, &d, 0);
	free(fdt);
}
END_TEST

/* arm64 CPU ids are MPIDR affinities: 16 CPUs per cluster. */
START_TEST(test_cpu_ids)
{
	static const uint32_t ids[] = { 0x0, 0x1, 0x100, 0x10f };
	struct fdt_desc d = minimal_desc();
	size_t size;
	void *fdt;

	d.nr_cpus = ARRAY_SIZE(ids);
	d.cpu_ids = ids;
	fdt = build_ok(&d, &size);
	assert_u32(fdt, "/cpus/cpu@10f", "reg", 0x10f);
	ck_assert_int_lt(fdt_path_offset(fdt, "/cpus/cpu@3"), 0);
	check_tree(fdt, &d, 0);
	free(fdt);
}
END_TEST

START_TEST(test_no_initrd)
{
	struct fdt_desc d = minimal_desc();
	size_t size;
	void *fdt;

	d.initrd_start = d.initrd_end = 0x48000000;	/* empty: none */
	fdt = build_ok(&d, &size);
	assert_absent(fdt, "/chosen", "linux,initrd-start");
	assert_absent(fdt, "/chosen", "linux,initrd-end");
	free(fdt);
}
END_TEST

/* A long command line overflows the first buffer: built again, larger. */
START_TEST(test_grows)
{
	struct arch_ctx ctx = { 0 };
	struct fdt_desc d = full_desc(&ctx);
	size_t len = 100 << 10, size;
	char *args = malloc(len + 1);
	void *fdt;

	ck_assert_ptr_nonnull(args);
	memset(args, 'x', len);
	args[len] = '\0';
	d.bootargs = args;
	fdt = build_ok(&d, &size);
	ck_assert_uint_gt(size, len);
	/* The CPUs come before /chosen: written again after the overflow. */
	ck_assert_uint_gt(ctx.cpu_calls, d.nr_cpus);
	check_tree(fdt, &d, ARCH_NODES);
	free(fdt);
	free(args);
}
END_TEST

/* The same when a callback is what overflows: its -FDT_ERR_NOSPACE too
 * makes the builder start again in a larger buffer. */
START_TEST(test_callback_grows)
{
	struct arch_ctx ctx = { .big = 200 << 10 };
	struct fdt_desc d = full_desc(&ctx);
	size_t size;
	int len;
	const uint8_t *p;
	void *fdt = build_ok(&d, &size);

	ck_assert_uint_gt(ctx.arch_calls, 1);
	p = prop(fdt, "/big", "data", &len);
	ck_assert_int_eq(len, ctx.big);
	ck_assert_uint_eq(p[0], 0xa5);
	ck_assert_uint_eq(p[len - 1], 0xa5);
	check_tree(fdt, &d, ARCH_NODES + 1);
	free(fdt);
}
END_TEST

/* Runs fdt_build() expecting an error: blob untouched, one error line. */
static char *build_fails(const struct fdt_desc *d, int want)
{
	struct unit_capture c;
	void *fdt = (void *)&c;		/* any sentinel */
	size_t size = 12345;
	char *err;
	int ret;

	unit_capture_begin(&c, STDERR_FILENO);
	ret = fdt_build(d, &fdt, &size);
	err = unit_capture_end(&c);
	ck_assert_msg(ret == want, "fdt_build returned %d (%s), want %d; stderr: %s",
		      ret, strerror(-ret), want, err);
	ck_assert_ptr_eq(fdt, (void *)&c);
	ck_assert_uint_eq(size, 12345);
	ck_assert_msg(unit_count_lines(err) == 1, "want one error line, got: '%s'", err);
	ck_assert_ptr_nonnull(strstr(err, "device tree"));
	return err;
}

START_TEST(test_too_big)
{
	struct fdt_desc d = minimal_desc();
	size_t len = FDT_MAX_SIZE + 1;
	char *args = malloc(len + 1);
	char *err;

	ck_assert_ptr_nonnull(args);
	memset(args, 'x', len);
	args[len] = '\0';
	d.bootargs = args;
	err = build_fails(&d, -E2BIG);
	ck_assert_ptr_nonnull(strstr(err, "larger than"));
	free(err);
	free(args);
}
END_TEST

/* Each entry breaks the full description in one way. */
struct bad_desc {
	const char *what;
	void (*mutate)(struct fdt_desc *d, struct fdt_mmio_dev *devs);
	int err;
};

static void no_cpus(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->nr_cpus = 0;
}

static void same_cpu_ids(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	static const uint32_t ids[] = { 0, 1, 2, 1 };

	(void)devs;
	d->cpu_ids = ids;
}

static void no_mem(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->nr_mem = 0;
}

static void empty_mem(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	static const struct fdt_mem_region m = { 0x40000000, 0 };

	(void)devs;
	d->mem = &m;
	d->nr_mem = 1;
}

static void wrapping_mem(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	static const struct fdt_mem_region m = { ~0ull - 0xfff, 0x2000 };

	(void)devs;
	d->mem = &m;
	d->nr_mem = 1;
}

static void initrd_backwards(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->initrd_start = d->initrd_end + 1;
}

static void seed_without_data(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->rng_seed = NULL;
}

static void too_many_irq_cells(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->irq_cells = FDT_MAX_IRQ_CELLS + 1;
}

static void zero_irq_cells(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->irq_cells = 0;
}

static void cells_without_spec(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)devs;
	d->irq_spec = NULL;
}

static void no_compatible(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)d;
	devs[4].compatible = NULL;
}

static void no_name(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)d;
	devs[2].name = "";
}

static void long_name(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)d;
	devs[2].name = "a-device-name-far-longer-than-any-device-tree-node-name-should-be";
}

static void empty_dev(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)d;
	devs[3].size = 0;
}

static void same_dev(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)d;
	devs[3].base = devs[2].base;
}

static void two_stdouts(struct fdt_desc *d, struct fdt_mmio_dev *devs)
{
	(void)d;
	devs[6].stdout_path = true;
}

static const struct bad_desc bad_descs[] = {
	{ "no CPUs", no_cpus, -EINVAL },
	{ "two CPUs with one id", same_cpu_ids, -EEXIST },
	{ "no memory", no_mem, -EINVAL },
	{ "empty memory region", empty_mem, -EINVAL },
	{ "memory wrapping past 2^64", wrapping_mem, -EINVAL },
	{ "initrd end before start", initrd_backwards, -EINVAL },
	{ "rng-seed length without data", seed_without_data, -EINVAL },
	{ "too many interrupt cells", too_many_irq_cells, -EINVAL },
	{ "zero interrupt cells", zero_irq_cells, -EINVAL },
	{ "3 cells without irq_spec", cells_without_spec, -EINVAL },
	{ "device without compatible", no_compatible, -EINVAL },
	{ "device without name", no_name, -EINVAL },
	{ "device name too long", long_name, -ENAMETOOLONG },
	{ "empty device range", empty_dev, -EINVAL },
	{ "two devices with one node name", same_dev, -EEXIST },
	{ "two stdout-path devices", two_stdouts, -EINVAL },
};

START_TEST(test_bad_desc)
{
	const struct bad_desc *b = &bad_descs[_i];
	struct fdt_mmio_dev devs[ARRAY_SIZE(all_devs)];
	struct arch_ctx ctx = { 0 };
	struct fdt_desc d = full_desc(&ctx);

	memcpy(devs, all_devs, sizeof(devs));
	d.devs = devs;
	b->mutate(&d, devs);
	free(build_fails(&d, b->err));
	/* Refused before any tree was started. */
	ck_assert_msg(!ctx.arch_calls && !ctx.cpu_calls, "%s: callbacks ran", b->what);
}
END_TEST

START_TEST(test_callback_error)
{
	struct arch_ctx ctx = { .arch_err = -FDT_ERR_BADVALUE };
	struct fdt_desc d = full_desc(&ctx);
	char *err = build_fails(&d, -EINVAL);

	ck_assert_ptr_nonnull(strstr(err, "architecture nodes"));
	ck_assert_ptr_nonnull(strstr(err, fdt_strerror(-FDT_ERR_BADVALUE)));
	free(err);
}
END_TEST

/* A callback's unbalanced or misplaced writes must not reach a guest. */
START_TEST(test_callback_malformed)
{
	struct arch_ctx ctx = { .unbalanced = _i == 0, .late_prop = _i == 1 };
	struct fdt_desc d = full_desc(&ctx);

	free(build_fails(&d, -EINVAL));
}
END_TEST

/* A full tree passes every check dtc makes by default. */
START_TEST(test_dtc_clean)
{
	struct arch_ctx ctx = { 0 };
	struct fdt_desc d = full_desc(&ctx);
	struct dtc_result r;
	size_t size;
	void *fdt = build_ok(&d, &size);

	if (!have_dtc()) {
		unit_skip("test_fdt: dtc missing (apt-get install device-tree-compiler)");
		free(fdt);
		return;
	}
	run_dtc(fdt, size, &r);
	ck_assert_msg(r.status == 0, "dtc exited with %d: %s", r.status, r.err);
	ck_assert_msg(!*r.err, "dtc warned:\n%s", r.err);
	ck_assert_ptr_nonnull(strstr(r.dts, "stdout-path = \"/uart@9000000\";"));
	ck_assert_ptr_nonnull(strstr(r.dts, "virtio_mmio@140000000 {"));
	ck_assert_ptr_nonnull(strstr(r.dts, "compatible = \"virtio,mmio\";"));
	free(r.err);
	free(r.dts);
	free(fdt);
}
END_TEST

/* The harness above can fail: a tree whose interrupts have no parent
 * controller makes dtc warn, and the warning is seen. */
START_TEST(test_dtc_sees_warnings)
{
	struct fdt_desc d = minimal_desc();
	struct dtc_result r;
	size_t size;
	void *fdt;

	d.devs = all_devs;
	d.nr_devs = 1;
	fdt = build_ok(&d, &size);
	if (!have_dtc()) {
		unit_skip("test_fdt: dtc missing (apt-get install device-tree-compiler)");
		free(fdt);
		return;
	}
	run_dtc(fdt, size, &r);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.err, "interrupt"), "dtc did not warn: '%s'", r.err);
	free(r.err);
	free(r.dts);
	free(fdt);
}
END_TEST

/* Reads a file back and compares it with what was written. */
static void assert_file(const char *path, const void *want, size_t size)
{
	void *back = malloc(size + 1);
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(back);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(back, 1, size + 1, f), size);
	ck_assert_mem_eq(back, want, size);
	fclose(f);
	free(back);
}

START_TEST(test_write_file)
{
	char dir[] = "/tmp/kvmini-fdt-XXXXXX";
	char path[64];
	struct arch_ctx ctx = { 0 };
	struct fdt_desc full = full_desc(&ctx), d = minimal_desc();
	size_t big_size, size;
	void *big = build_ok(&full, &big_size);
	void *fdt = build_ok(&d, &size);

	ck_assert_uint_gt(big_size, size);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.dtb", dir);
	ck_assert_int_eq(fdt_write_file(big, big_size, path), 0);
	assert_file(path, big, big_size);
	/* Over a larger file: truncated, no stale tail. */
	ck_assert_int_eq(fdt_write_file(fdt, size, path), 0);
	assert_file(path, fdt, size);
	unlink(path);
	rmdir(dir);
	free(big);
	free(fdt);
}
END_TEST

/* Cannot create, then cannot write: one error line naming the file. */
static const struct {
	const char *path;
	int err;
} bad_files[] = {
	{ "/nonexistent-kvmini-dir/t.dtb", -ENOENT },
	{ "/dev/full", -ENOSPC },
};

START_TEST(test_write_file_error)
{
	const char *path = bad_files[_i].path;
	struct unit_capture c;
	char *err;
	int ret;

	unit_capture_begin(&c, STDERR_FILENO);
	ret = fdt_write_file("x", 1, path);
	err = unit_capture_end(&c);
	ck_assert_int_eq(ret, bad_files[_i].err);
	ck_assert_msg(unit_count_lines(err) == 1, "want one error line, got: '%s'", err);
	ck_assert_ptr_nonnull(strstr(err, path));
	free(err);
}
END_TEST

static Suite *fdt_suite(void)
{
	Suite *s = suite_create("fdt");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_minimal);
	tcase_add_loop_test(tc, test_shapes, 0, 8 * ARRAY_SIZE(nr_devs_list));
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_irq_default_cells);
	tcase_add_test(tc, test_cpu_ids);
	tcase_add_test(tc, test_no_initrd);
	tcase_add_test(tc, test_grows);
	tcase_add_test(tc, test_callback_grows);
	tcase_add_test(tc, test_too_big);
	tcase_add_loop_test(tc, test_bad_desc, 0, ARRAY_SIZE(bad_descs));
	tcase_add_test(tc, test_callback_error);
	tcase_add_loop_test(tc, test_callback_malformed, 0, 2);
	tcase_add_test(tc, test_dtc_clean);
	tcase_add_test(tc, test_dtc_sees_warnings);
	tcase_add_test(tc, test_write_file);
	tcase_add_loop_test(tc, test_write_file_error, 0, ARRAY_SIZE(bad_files));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(fdt_suite)
