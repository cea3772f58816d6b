/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device-tree builder: turns a plain description of a machine (CPUs,
 * memory, /chosen, platform MMIO devices) into a flattened tree blob. It
 * knows nothing of KVM or of any architecture; what only an architecture
 * knows (interrupt controller, timer, PSCI, CPU compatibles, how a device
 * interrupt is spelled) comes in through the callbacks below.
 *
 * The tree:
 *   /                 #address-cells = #size-cells = 2,
 *                     compatible "linux,dummy-virt", model "kvmini"
 *   /cpus/cpu@ID      device_type "cpu", reg = ID (+ cpu_props)
 *   /memory@BASE      device_type "memory", reg
 *   /chosen           bootargs, linux,initrd-start/-end, stdout-path,
 *                     rng-seed (each only when given)
 *   /NAME@BASE        one per device: compatible, reg, interrupts,
 *                     interrupt-parent, dma-coherent, clock-frequency
 *   (arch_nodes)      whatever the architecture adds
 *
 * Callbacks write with libfdt's sequential-write API into the tree being
 * built and return 0 or a negative libfdt error (-FDT_ERR_*). When the
 * buffer is too small the whole tree is built again in a larger one, so a
 * callback may run several times and must have no other side effect.
 */
#ifndef KVMINI_FDT_H
#define KVMINI_FDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* arm64 Linux refuses a larger tree (MAX_FDT_SIZE). */
#define FDT_MAX_SIZE		(2u << 20)
#define FDT_MAX_IRQ_CELLS	4

struct fdt_mem_region {
	uint64_t base, size;
};

/* One platform MMIO device; its node is "NAME@BASE" at the root. */
struct fdt_mmio_dev {
	const char *name;		/* "virtio_mmio", "uart", "exit" */
	const char *compatible;		/* "virtio,mmio", "ns16550a", ... */
	uint64_t base, size;
	uint32_t irq;			/* 0 = no interrupt */
	bool dma_coherent;
	bool stdout_path;		/* /chosen/stdout-path points here */
	uint32_t clock_frequency;	/* 0 = omit */
	/* Optional: the device's own extra properties, written inside its
	 * node after the standard ones (properties only, no subnodes). */
	int (*props)(void *opaque, void *fdt);
	void *opaque;
};

struct fdt_desc {
	unsigned int nr_cpus;
	const uint32_t *cpu_ids;	/* reg of each CPU (arm64: MPIDR
					 * affinity); NULL = 0..nr_cpus-1 */
	const struct fdt_mem_region *mem;
	unsigned int nr_mem;

	const char *bootargs;		/* NULL = none */
	uint64_t initrd_start, initrd_end;	/* end == start: none */
	const uint8_t *rng_seed;
	size_t rng_seed_len;		/* 0 = none */

	const struct fdt_mmio_dev *devs;
	unsigned int nr_devs;

	/*
	 * How a device's irq is written in its "interrupts" property: irq_spec
	 * fills irq_cells cells (CPU byte order), e.g. <SPI irq flags> for a
	 * GIC. Without irq_spec, one cell holding the irq number.
	 */
	unsigned int irq_cells;
	void (*irq_spec)(void *ctx, uint32_t irq, uint32_t *cells);
	uint32_t interrupt_parent;	/* phandle; 0 = no interrupt-parent */

	/* Inside each cpu node, after device_type and reg: compatible,
	 * enable-method... Properties only. */
	int (*cpu_props)(void *ctx, void *fdt, unsigned int cpu);
	/* At the root, after every other node: GIC, timer, PSCI... Nodes
	 * only, since the root's properties are already written. */
	int (*arch_nodes)(void *ctx, void *fdt);
	void *ctx;
};

/*
 * Builds the tree into a malloc'd blob of at most FDT_MAX_SIZE bytes
 * (*size = its fdt_totalsize; free() it). Returns 0, or -errno after one
 * error line: -EINVAL for a bad description, a callback's error or a tree
 * a callback left unsound; -EEXIST for two devices (or CPUs) with one node
 * name; -ENAMETOOLONG; -E2BIG when it does not fit; -ENOMEM.
 */
int fdt_build(const struct fdt_desc *d, void **blob, size_t *size);

/* Writes a blob to path (created or truncated). Returns 0 or -errno after
 * one error line. */
int fdt_write_file(const void *blob, size_t size, const char *path);

#endif
