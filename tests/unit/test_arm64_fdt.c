// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 device tree (arch/arm64/fdt.c, built into the unit tests on
 * any host): a tree like the one an arm64 VM gets, built through the
 * arm64 callbacks, read back with libfdt and decompiled by dtc, whose
 * checks must find nothing to warn about. GICv3 and GICv2; with
 * --transport pci, the host bridge's node, with and without an ITS.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "arch/arm64/arm64.h"
#include "fdt/fdt.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define MAX_CPUS	9

/* KVM's MPIDRs: Aff0 counts to 16, then Aff1 (vcpu 16 = 0x100). */
static const uint32_t mpidrs[MAX_CPUS] = { 0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0xf, 0x100 };

struct tree {
	struct arm64_fdt a;
	struct fdt_desc d;
	struct fdt_mmio_dev devs[4];
	struct fdt_mem_region mem;
	void *fdt;
	size_t size;
};

/* PCI functions as vm_pci.c makes them: slots from 1, the SPIs of the
 * virtio-mmio slots. */
enum { NO_PCI, PCI_ITS, PCI_INTX };
#define NR_FNS	3

/* What vm_fdt_build describes for a VM with one virtio device (on
 * virtio-mmio, or with pci, NR_FNS on PCI). */
static void build_pci(struct tree *t, unsigned int gic, unsigned int cpus,
		      bool uart_console, int pci)
{
	unsigned int n = 0;

	memset(t, 0, sizeof(*t));
	t->a = (struct arm64_fdt){ .gic_version = gic, .nr_cpus = cpus, .cpu_ids = mpidrs };
	if (pci != NO_PCI) {
		t->a.pci = true;
		t->a.its = pci == PCI_ITS;
		for (unsigned int i = 0; i < NR_FNS; i++)
			t->a.pci_fn[t->a.nr_pci_fn++] = (struct arm64_pci_fn){
				.slot = i + 1, .irq = ARM64_VIRTIO_SPI + i,
			};
	}
	t->mem = (struct fdt_mem_region){ ARM64_RAM_BASE, 256 << 20 };
	t->devs[n++] = (struct fdt_mmio_dev){
		.name = "exit", .compatible = "kvmini,exit",
		.base = ARM64_DEV_BASE, .size = 0x1000,
	};
	t->devs[n++] = (struct fdt_mmio_dev){
		.name = "virtio_mmio", .compatible = "virtio,mmio",
		.base = ARM64_VIRTIO_BASE, .size = 0x200,
		.irq = ARM64_VIRTIO_SPI, .dma_coherent = true,
	};
	n += arm64_fdt_uart(uart_console, t->devs + n, ARRAY_SIZE(t->devs) - n);
	t->d = (struct fdt_desc){
		.nr_cpus = cpus, .mem = &t->mem, .nr_mem = 1,
		.bootargs = "console=ttyS0 panic=-1",
		.initrd_start = 0x8fc00000, .initrd_end = 0x8fe00000,
		.devs = t->devs, .nr_devs = n,
	};
	arm64_fdt_fill(&t->a, &t->d);
	ck_assert_int_eq(fdt_build(&t->d, &t->fdt, &t->size), 0);
	ck_assert_int_eq(fdt_check_full(t->fdt, t->size), 0);
}

static void build(struct tree *t, unsigned int gic, unsigned int cpus, bool uart_console)
{
	build_pci(t, gic, cpus, uart_console, NO_PCI);
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	ck_assert_msg(off >= 0, "no node %s: %s", path, fdt_strerror(off));
	return off;
}

static const void *prop(const void *fdt, const char *path, const char *name, int *len)
{
	const void *p = fdt_getprop(fdt, node(fdt, path), name, len);

	ck_assert_msg(p, "%s has no %s", path, name);
	return p;
}

static void assert_str(const void *fdt, const char *path, const char *name,
		       const char *want)
{
	int len;
	const char *s = prop(fdt, path, name, &len);

	ck_assert_msg(len == (int)strlen(want) + 1 && !memcmp(s, want, len),
		      "%s/%s is \"%.*s\", want \"%s\"", path, name, len, s, want);
}

static void assert_cells(const void *fdt, const char *path, const char *name,
			 const uint32_t *want, unsigned int n)
{
	int len;
	const fdt32_t *c = prop(fdt, path, name, &len);

	ck_assert_msg(len == (int)(n * 4), "%s/%s: %d bytes, want %u cells",
		      path, name, len, n);
	for (unsigned int i = 0; i < n; i++)
		ck_assert_msg(fdt32_to_cpu(c[i]) == want[i], "%s/%s cell %u: %#x, want %#x",
			      path, name, i, fdt32_to_cpu(c[i]), want[i]);
}

static void assert_u32(const void *fdt, const char *path, const char *name, uint32_t want)
{
	assert_cells(fdt, path, name, &want, 1);
}

/* reg as (base, size) pairs of two cells each. */
static void assert_reg(const void *fdt, const char *path, const uint64_t *want, unsigned int n)
{
	uint32_t cells[8];

	for (unsigned int i = 0; i < 2 * n; i++) {
		cells[2 * i] = want[i] >> 32;
		cells[2 * i + 1] = (uint32_t)want[i];
	}
	assert_cells(fdt, path, "reg", cells, 4 * n);
}

static void assert_flag(const void *fdt, const char *path, const char *name)
{
	int len;

	prop(fdt, path, name, &len);
	ck_assert_int_eq(len, 0);
}

/* Each cell's interrupt-parent is the GIC node itself. */
static void assert_parent_is_gic(const void *fdt, const char *path)
{
	int len;
	const fdt32_t *p = prop(fdt, path, "interrupt-parent", &len);

	ck_assert_int_eq(len, 4);
	ck_assert_int_eq(fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*p)),
			 node(fdt, "/intc@8000000"));
}

START_TEST(test_cpus)
{
	unsigned int cpus = _i + 1;
	struct tree t;
	char path[32];

	build(&t, 3, cpus, true);
	for (unsigned int i = 0; i < cpus; i++) {
		snprintf(path, sizeof(path), "/cpus/cpu@%x", mpidrs[i]);
		assert_u32(t.fdt, path, "reg", mpidrs[i]);
		assert_str(t.fdt, path, "device_type", "cpu");
		assert_str(t.fdt, path, "compatible", "arm,arm-v8");
		assert_str(t.fdt, path, "enable-method", "psci");
	}
	free(t.fdt);
}
END_TEST

START_TEST(test_psci)
{
	struct tree t;

	build(&t, 3, 2, true);
	assert_str(t.fdt, "/psci", "compatible", "arm,psci-0.2");
	assert_str(t.fdt, "/psci", "method", "hvc");
	free(t.fdt);
}
END_TEST

START_TEST(test_gicv3)
{
	const uint64_t reg[] = {
		ARM64_GIC_DIST_BASE, 0x10000, ARM64_GIC_REDIST_BASE, 4 * 0x20000,
	};
	struct tree t;

	build(&t, 3, 4, true);
	assert_str(t.fdt, "/intc@8000000", "compatible", "arm,gic-v3");
	assert_reg(t.fdt, "/intc@8000000", reg, 2);
	assert_flag(t.fdt, "/intc@8000000", "interrupt-controller");
	assert_u32(t.fdt, "/intc@8000000", "#interrupt-cells", 3);
	assert_u32(t.fdt, "/intc@8000000", "phandle", ARM64_FDT_GIC_PHANDLE);
	free(t.fdt);
}
END_TEST

START_TEST(test_gicv2)
{
	const uint64_t reg[] = {
		ARM64_GIC_DIST_BASE, 0x1000, ARM64_GICV2_CPU_BASE, 0x2000,
	};
	struct tree t;

	build(&t, 2, 2, true);
	assert_str(t.fdt, "/intc@8000000", "compatible", "arm,cortex-a15-gic");
	assert_reg(t.fdt, "/intc@8000000", reg, 2);
	assert_u32(t.fdt, "/intc@8000000", "#interrupt-cells", 3);
	free(t.fdt);
}
END_TEST

/* Four PPIs, level high; on a GICv2 with the mask of the CPUs (at most
 * eight) each reaches. */
START_TEST(test_timer)
{
	static const struct { unsigned int gic, cpus; uint32_t flags; } cases[] = {
		{ 3, 1, 4 }, { 3, 9, 4 }, { 2, 1, 0x104 }, { 2, 2, 0x304 }, { 2, 9, 0xff04 },
	};
	uint32_t f = cases[_i].flags;
	const uint32_t want[] = { 1, 13, f, 1, 14, f, 1, 11, f, 1, 10, f };
	struct tree t;

	build(&t, cases[_i].gic, cases[_i].cpus, true);
	assert_str(t.fdt, "/timer", "compatible", "arm,armv8-timer");
	assert_cells(t.fdt, "/timer", "interrupts", want, ARRAY_SIZE(want));
	assert_parent_is_gic(t.fdt, "/timer");
	free(t.fdt);
}
END_TEST

/* The UART's SPI is level-triggered, virtio's (irqfd pulses) edge. */
START_TEST(test_devices)
{
	const uint32_t uart_irq[] = { 0, ARM64_UART_SPI, 4 };
	const uint32_t virtio_irq[] = { 0, ARM64_VIRTIO_SPI, 1 };
	const uint64_t uart_reg[] = { ARM64_UART_BASE, ARM64_UART_SIZE };
	struct tree t;

	build(&t, 3, 1, true);
	assert_str(t.fdt, "/uart@9000000", "compatible", "ns16550a");
	assert_reg(t.fdt, "/uart@9000000", uart_reg, 1);
	assert_cells(t.fdt, "/uart@9000000", "interrupts", uart_irq, 3);
	assert_parent_is_gic(t.fdt, "/uart@9000000");
	assert_u32(t.fdt, "/uart@9000000", "clock-frequency", 1843200);
	assert_u32(t.fdt, "/uart@9000000", "reg-shift", 0);
	assert_u32(t.fdt, "/uart@9000000", "reg-io-width", 1);
	assert_str(t.fdt, "/chosen", "stdout-path", "/uart@9000000");
	assert_cells(t.fdt, "/virtio_mmio@a001000", "interrupts", virtio_irq, 3);
	assert_parent_is_gic(t.fdt, "/virtio_mmio@a001000");
	assert_flag(t.fdt, "/virtio_mmio@a001000", "dma-coherent");
	assert_str(t.fdt, "/exit@a000000", "compatible", "kvmini,exit");
	free(t.fdt);
}
END_TEST

/* With virtio-console as the console, the UART is no stdout-path. */
START_TEST(test_uart_not_console)
{
	struct fdt_mmio_dev dev;
	struct tree t;

	build(&t, 3, 1, false);
	ck_assert_ptr_null(fdt_getprop(t.fdt, node(t.fdt, "/chosen"), "stdout-path", NULL));
	node(t.fdt, "/uart@9000000");
	ck_assert_uint_eq(arm64_fdt_uart(true, &dev, 0), 0);
	free(t.fdt);
}
END_TEST

#define GIC	"/intc@8000000"
#define ITS	"/intc@8000000/msi-controller@8080000"
#define PCI	"/pci@30000000"

/* The host bridge's node, the same with or without an ITS. */
static void assert_pci_node(const void *fdt)
{
	const uint32_t reg[] = { 0, 0x30000000, 0, 0x100000 };
	const uint32_t bus_range[] = { 0, 0 };
	/* 32-bit memory, PCI address = CPU address = 1 GiB, 1 GiB long. */
	const uint32_t ranges[] = { 0x02000000, 0, 0x40000000, 0, 0x40000000, 0, 0x40000000 };
	const uint32_t mask[] = { 0xf800, 0, 0, 7 };

	assert_str(fdt, PCI, "compatible", "pci-host-ecam-generic");
	assert_str(fdt, PCI, "device_type", "pci");
	assert_cells(fdt, PCI, "reg", reg, ARRAY_SIZE(reg));
	assert_cells(fdt, PCI, "bus-range", bus_range, ARRAY_SIZE(bus_range));
	assert_u32(fdt, PCI, "#address-cells", 3);
	assert_u32(fdt, PCI, "#size-cells", 2);
	assert_u32(fdt, PCI, "#interrupt-cells", 1);
	assert_cells(fdt, PCI, "ranges", ranges, ARRAY_SIZE(ranges));
	assert_cells(fdt, PCI, "interrupt-map-mask", mask, ARRAY_SIZE(mask));
	assert_flag(fdt, PCI, "dma-coherent");
}

/* Each function's INTA#: <slot << 11 0 0 1> to the GIC, with as many
 * unit-address cells as the GIC's #address-cells, then a level SPI. */
static void assert_irq_map(const void *fdt, unsigned int gic_addr_cells)
{
	uint32_t want[NR_FNS * 10];
	unsigned int n = 0;

	for (unsigned int i = 0; i < NR_FNS; i++) {
		want[n++] = (i + 1) << 11;
		want[n++] = 0;
		want[n++] = 0;
		want[n++] = 1;
		want[n++] = ARM64_FDT_GIC_PHANDLE;
		for (unsigned int c = 0; c < gic_addr_cells; c++)
			want[n++] = 0;
		want[n++] = 0;
		want[n++] = ARM64_VIRTIO_SPI + i;
		want[n++] = 4;
	}
	assert_u32(fdt, GIC, "#address-cells", gic_addr_cells);
	assert_cells(fdt, PCI, "interrupt-map", want, n);
}

/* With an ITS: its node under the GIC, which then translates its reg
 * (2 cells each, empty ranges), and msi-map handing every requester ID
 * to it unchanged as the device ID. */
START_TEST(test_pci_its)
{
	const uint64_t its_reg[] = { 0x08080000, 0x20000 };
	const uint32_t msi_map[] = { 0, ARM64_FDT_ITS_PHANDLE, 0, 0x10000 };
	struct tree t;
	int len;

	build_pci(&t, 3, 2, true, PCI_ITS);
	assert_pci_node(t.fdt);
	assert_irq_map(t.fdt, 2);
	assert_u32(t.fdt, GIC, "#size-cells", 2);
	prop(t.fdt, GIC, "ranges", &len);
	ck_assert_int_eq(len, 0);
	assert_str(t.fdt, ITS, "compatible", "arm,gic-v3-its");
	assert_reg(t.fdt, ITS, its_reg, 1);
	assert_flag(t.fdt, ITS, "msi-controller");
	assert_u32(t.fdt, ITS, "#msi-cells", 1);
	assert_cells(t.fdt, PCI, "msi-map", msi_map, ARRAY_SIZE(msi_map));
	ck_assert_int_eq(fdt_node_offset_by_phandle(t.fdt, ARM64_FDT_ITS_PHANDLE),
			 node(t.fdt, ITS));
	free(t.fdt);
}
END_TEST

/* No ITS (a host without one, or a GICv2): INTx only, no msi-map, and
 * the GIC keeps no address cells. */
START_TEST(test_pci_intx_only)
{
	struct tree t;

	build_pci(&t, _i ? 2 : 3, 2, true, PCI_INTX);
	assert_pci_node(t.fdt);
	assert_irq_map(t.fdt, 0);
	ck_assert_int_lt(fdt_path_offset(t.fdt, ITS), 0);
	ck_assert_ptr_null(fdt_getprop(t.fdt, node(t.fdt, PCI), "msi-map", NULL));
	ck_assert_ptr_null(fdt_getprop(t.fdt, node(t.fdt, GIC), "ranges", NULL));
	free(t.fdt);
}
END_TEST

/* --transport mmio: no PCI node, so the kernel probes no bus. */
START_TEST(test_no_pci)
{
	struct tree t;

	build(&t, 3, 2, true);
	ck_assert_int_lt(fdt_path_offset(t.fdt, PCI), 0);
	ck_assert_int_lt(fdt_path_offset(t.fdt, ITS), 0);
	assert_u32(t.fdt, GIC, "#address-cells", 0);
	free(t.fdt);
}
END_TEST

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 1 << 16);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(s);
	n = fread(s, 1, (1 << 16) - 1, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* dtc decompiles the tree with no warning from any of its checks. */
START_TEST(test_dtc_clean)
{
	char dir[] = "/tmp/kvmini-arm64-fdt-XXXXXX";
	char dtb[64], dts[64], err[64], cmd[256];
	char *warnings, *text;
	struct tree t;
	int status;

	if (system("command -v dtc >/dev/null 2>&1")) {
		unit_skip("test_arm64_fdt: dtc missing (apt-get install device-tree-compiler)");
		return;
	}
	/* GICv3, GICv2, then PCI with an ITS and without. */
	build_pci(&t, _i == 1 ? 2 : 3, 2, true, _i < 2 ? NO_PCI : _i == 2 ? PCI_ITS : PCI_INTX);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dtb, sizeof(dtb), "%s/t.dtb", dir);
	snprintf(dts, sizeof(dts), "%s/t.dts", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	ck_assert_int_eq(fdt_write_file(t.fdt, t.size, dtb), 0);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o %s %s 2>%s", dts, dtb, err);
	status = system(cmd);
	warnings = slurp(err);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status), "dtc failed: %s", warnings);
	ck_assert_msg(!*warnings, "dtc warned:\n%s", warnings);
	text = slurp(dts);
	ck_assert_ptr_nonnull(strstr(text, "intc@8000000 {"));
	ck_assert_ptr_nonnull(strstr(text, "enable-method = \"psci\";"));
	free(text);
	free(warnings);
	unlink(dtb);
	unlink(dts);
	unlink(err);
	rmdir(dir);
	free(t.fdt);
}
END_TEST

static Suite *arm64_fdt_suite(void)
{
	Suite *s = suite_create("arm64_fdt");
	TCase *tc = tcase_create("tree");

	tcase_add_loop_test(tc, test_cpus, 0, MAX_CPUS);
	tcase_add_test(tc, test_psci);
	tcase_add_test(tc, test_gicv3);
	tcase_add_test(tc, test_gicv2);
	tcase_add_loop_test(tc, test_timer, 0, 5);
	tcase_add_test(tc, test_devices);
	tcase_add_test(tc, test_uart_not_console);
	tcase_add_test(tc, test_pci_its);
	tcase_add_loop_test(tc, test_pci_intx_only, 0, 2);
	tcase_add_test(tc, test_no_pci);
	tcase_add_loop_test(tc, test_dtc_clean, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(arm64_fdt_suite)
