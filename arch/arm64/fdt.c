// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 part of the device tree: GIC (and its ITS), architectural
 * timer, PSCI, the CPUs' enable method, how a device's SPI is spelled,
 * the UART node, and with --transport pci the PCI host bridge's node.
 * Plain numbers in, libfdt out: no KVM, so the unit tests build and check
 * it on any host.
 */
#include <libfdt.h>
#include <stdio.h>

#include "arch/arm64/arm64.h"
#include "fdt/fdt.h"

/* Interrupt specifier cells (bindings/interrupt-controller/arm,gic*). */
#define GIC_FDT_SPI		0
#define GIC_FDT_PPI		1
#define IRQ_TYPE_EDGE_RISING	1
#define IRQ_TYPE_LEVEL_HIGH	4
#define GICV2_PPI_CPU_SHIFT	8

/*
 * The UART drives a level; virtio-mmio interrupts arrive through irqfd,
 * which pulses the line, so they must be edge-triggered or the GIC would
 * drop a pulse the guest has not taken yet.
 */
static void arm64_irq_spec(void *ctx, uint32_t irq, uint32_t *cells)
{
	(void)ctx;
	cells[0] = GIC_FDT_SPI;
	cells[1] = irq;
	cells[2] = irq == ARM64_UART_SPI ? IRQ_TYPE_LEVEL_HIGH : IRQ_TYPE_EDGE_RISING;
}

static int arm64_cpu_props(void *ctx, void *fdt, unsigned int cpu)
{
	(void)ctx;
	(void)cpu;
	return fdt_property_string(fdt, "compatible", "arm,arm-v8") ?:
	       fdt_property_string(fdt, "enable-method", "psci");
}

/* KVM implements PSCI 0.2 or later behind HVC, when asked per vCPU. */
static int arm64_psci_node(void *fdt)
{
	return fdt_begin_node(fdt, "psci") ?:
	       fdt_property_string(fdt, "compatible", "arm,psci-0.2") ?:
	       fdt_property_string(fdt, "method", "hvc") ?:
	       fdt_end_node(fdt);
}

static int arm64_gic_reg(const struct arm64_fdt *a, void *fdt)
{
	fdt64_t reg[4] = { cpu_to_fdt64(ARM64_GIC_DIST_BASE) };

	if (a->gic_version == 3) {
		reg[1] = cpu_to_fdt64(ARM64_GICV3_DIST_SIZE);
		reg[2] = cpu_to_fdt64(ARM64_GIC_REDIST_BASE);
		reg[3] = cpu_to_fdt64(ARM64_GIC_REDIST_SIZE * a->nr_cpus);
	} else {
		reg[1] = cpu_to_fdt64(ARM64_GICV2_DIST_SIZE);
		reg[2] = cpu_to_fdt64(ARM64_GICV2_CPU_BASE);
		reg[3] = cpu_to_fdt64(ARM64_GICV2_CPU_SIZE);
	}
	return fdt_property(fdt, "reg", reg, sizeof(reg));
}

/*
 * The GIC's #address-cells: 0, or 2 when the ITS is its child node (whose
 * reg is then in the root's terms, through an empty ranges). An
 * interrupt-map entry names the GIC with that many address cells.
 */
static unsigned int arm64_gic_addr_cells(const struct arm64_fdt *a)
{
	return a->its ? 2 : 0;
}

/* bindings/interrupt-controller/arm,gic-v3.yaml: an msi-controller whose
 * #msi-cells is the device ID (the PCI node's msi-map gives it). */
static int arm64_its_node(void *fdt)
{
	fdt64_t reg[2] = { cpu_to_fdt64(ARM64_GIC_ITS_BASE), cpu_to_fdt64(ARM64_GIC_ITS_SIZE) };
	char name[40];

	snprintf(name, sizeof(name), "msi-controller@%llx",
		 (unsigned long long)ARM64_GIC_ITS_BASE);
	return fdt_begin_node(fdt, name) ?:
	       fdt_property_string(fdt, "compatible", "arm,gic-v3-its") ?:
	       fdt_property(fdt, "reg", reg, sizeof(reg)) ?:
	       fdt_property(fdt, "msi-controller", NULL, 0) ?:
	       fdt_property_cell(fdt, "#msi-cells", 1) ?:
	       fdt_property_cell(fdt, "phandle", ARM64_FDT_ITS_PHANDLE) ?:
	       fdt_end_node(fdt);
}

static int arm64_gic_node(const struct arm64_fdt *a, void *fdt)
{
	const char *compatible = a->gic_version == 3 ? "arm,gic-v3" : "arm,cortex-a15-gic";
	char name[32];
	int err;

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)ARM64_GIC_DIST_BASE);
	err = fdt_begin_node(fdt, name) ?:
	      fdt_property_string(fdt, "compatible", compatible) ?:
	      arm64_gic_reg(a, fdt) ?:
	      fdt_property(fdt, "interrupt-controller", NULL, 0) ?:
	      fdt_property_cell(fdt, "#interrupt-cells", 3) ?:
	      fdt_property_cell(fdt, "#address-cells", arm64_gic_addr_cells(a)) ?:
	      fdt_property_cell(fdt, "phandle", ARM64_FDT_GIC_PHANDLE);
	if (!err && a->its)
		err = fdt_property_cell(fdt, "#size-cells", 2) ?:
		      fdt_property(fdt, "ranges", NULL, 0) ?:
		      arm64_its_node(fdt);
	return err ?: fdt_end_node(fdt);
}

/*
 * The four timer PPIs: secure and non-secure physical, virtual, and
 * hypervisor. GICv2 specifiers also name the CPUs a PPI reaches.
 */
static int arm64_timer_node(const struct arm64_fdt *a, void *fdt)
{
	static const uint32_t ppis[] = {
		ARM64_TIMER_PPI_SEC_PHYS, ARM64_TIMER_PPI_PHYS,
		ARM64_TIMER_PPI_VIRT, ARM64_TIMER_PPI_HYP,
	};
	uint32_t flags = IRQ_TYPE_LEVEL_HIGH;
	fdt32_t irqs[3 * 4];

	if (a->gic_version == 2) {
		unsigned int n = a->nr_cpus < ARM64_GICV2_MAX_CPUS ?
				 a->nr_cpus : ARM64_GICV2_MAX_CPUS;

		flags |= ((1U << n) - 1) << GICV2_PPI_CPU_SHIFT;
	}
	for (unsigned int i = 0; i < 4; i++) {
		irqs[3 * i] = cpu_to_fdt32(GIC_FDT_PPI);
		irqs[3 * i + 1] = cpu_to_fdt32(ppis[i]);
		irqs[3 * i + 2] = cpu_to_fdt32(flags);
	}
	return fdt_begin_node(fdt, "timer") ?:
	       fdt_property_string(fdt, "compatible", "arm,armv8-timer") ?:
	       fdt_property(fdt, "interrupts", irqs, sizeof(irqs)) ?:
	       fdt_property_cell(fdt, "interrupt-parent", ARM64_FDT_GIC_PHANDLE) ?:
	       fdt_end_node(fdt);
}

/* PCI addresses (bindings/pci/pci.txt): phys.hi's space code, then 64 bits. */
#define PCI_SPACE_MEM32		0x02000000
#define PCI_DEVFN_SHIFT		11	/* phys.hi bits 15-11: the device */
#define PCI_INTA		1

/*
 * INTA# of each function to its SPI, level-triggered (the line stays up
 * until the driver reads the ISR): child unit address (3 cells) and pin,
 * then the GIC, its unit address (arm64_gic_addr_cells) and <SPI n level>.
 */
static int arm64_pci_irq_map(const struct arm64_fdt *a, void *fdt)
{
	const fdt32_t mask[4] = {
		cpu_to_fdt32(0x1f << PCI_DEVFN_SHIFT), 0, 0, cpu_to_fdt32(7),
	};
	fdt32_t map[ARM64_PCI_MAX_FNS * 10];
	unsigned int n = 0;

	if (!a->nr_pci_fn)
		return 0;
	for (unsigned int i = 0; i < a->nr_pci_fn; i++) {
		map[n++] = cpu_to_fdt32((uint32_t)a->pci_fn[i].slot << PCI_DEVFN_SHIFT);
		map[n++] = 0;
		map[n++] = 0;
		map[n++] = cpu_to_fdt32(PCI_INTA);
		map[n++] = cpu_to_fdt32(ARM64_FDT_GIC_PHANDLE);
		for (unsigned int c = 0; c < arm64_gic_addr_cells(a); c++)
			map[n++] = 0;
		map[n++] = cpu_to_fdt32(GIC_FDT_SPI);
		map[n++] = cpu_to_fdt32(a->pci_fn[i].irq);
		map[n++] = cpu_to_fdt32(IRQ_TYPE_LEVEL_HIGH);
	}
	return fdt_property(fdt, "interrupt-map-mask", mask, sizeof(mask)) ?:
	       fdt_property(fdt, "interrupt-map", map, n * sizeof(map[0]));
}

/*
 * bindings/pci/host-generic-pci.yaml: bus 0's ECAM, the BAR window as
 * 32-bit memory at the same address on both sides, INTx through the
 * interrupt-map, and MSI-X through the ITS: msi-map gives every
 * requester ID (bus << 8 | device << 3 | function) to it as the
 * device ID, as kvmini's MSI routes do.
 */
static int arm64_pci_node(const struct arm64_fdt *a, void *fdt)
{
	const fdt32_t reg[4] = {
		cpu_to_fdt32(ARM64_PCI_ECAM >> 32), cpu_to_fdt32((uint32_t)ARM64_PCI_ECAM),
		cpu_to_fdt32(ARM64_PCI_ECAM_SIZE >> 32),
		cpu_to_fdt32((uint32_t)ARM64_PCI_ECAM_SIZE),
	};
	const fdt32_t ranges[7] = {
		cpu_to_fdt32(PCI_SPACE_MEM32),
		cpu_to_fdt32(ARM64_PCI_WIN >> 32), cpu_to_fdt32((uint32_t)ARM64_PCI_WIN),
		cpu_to_fdt32(ARM64_PCI_WIN >> 32), cpu_to_fdt32((uint32_t)ARM64_PCI_WIN),
		cpu_to_fdt32(ARM64_PCI_WIN_LEN >> 32),
		cpu_to_fdt32((uint32_t)ARM64_PCI_WIN_LEN),
	};
	const fdt32_t bus_range[2] = { 0, 0 };
	const fdt32_t msi_map[4] = {
		0, cpu_to_fdt32(ARM64_FDT_ITS_PHANDLE), 0, cpu_to_fdt32(0x10000),
	};
	char name[32];
	int err;

	snprintf(name, sizeof(name), "pci@%llx", (unsigned long long)ARM64_PCI_ECAM);
	err = fdt_begin_node(fdt, name) ?:
	      fdt_property_string(fdt, "compatible", "pci-host-ecam-generic") ?:
	      fdt_property_string(fdt, "device_type", "pci") ?:
	      fdt_property(fdt, "reg", reg, sizeof(reg)) ?:
	      fdt_property(fdt, "bus-range", bus_range, sizeof(bus_range)) ?:
	      fdt_property_cell(fdt, "#address-cells", 3) ?:
	      fdt_property_cell(fdt, "#size-cells", 2) ?:
	      fdt_property_cell(fdt, "#interrupt-cells", 1) ?:
	      fdt_property(fdt, "ranges", ranges, sizeof(ranges)) ?:
	      arm64_pci_irq_map(a, fdt) ?:
	      fdt_property(fdt, "dma-coherent", NULL, 0);
	if (!err && a->its)
		err = fdt_property(fdt, "msi-map", msi_map, sizeof(msi_map));
	return err ?: fdt_end_node(fdt);
}

static int arm64_nodes(void *ctx, void *fdt)
{
	const struct arm64_fdt *a = ctx;
	int err = arm64_psci_node(fdt) ?: arm64_gic_node(a, fdt) ?:
		  arm64_timer_node(a, fdt);

	if (!err && a->pci)
		err = arm64_pci_node(a, fdt);
	return err;
}

void arm64_fdt_fill(const struct arm64_fdt *a, struct fdt_desc *d)
{
	d->cpu_ids = a->cpu_ids;
	d->irq_cells = 3;
	d->irq_spec = arm64_irq_spec;
	d->interrupt_parent = ARM64_FDT_GIC_PHANDLE;
	d->cpu_props = arm64_cpu_props;
	d->arch_nodes = arm64_nodes;
	d->ctx = (void *)a;
}

/* Registers one byte apart, accessed a byte at a time. */
static int arm64_uart_props(void *opaque, void *fdt)
{
	(void)opaque;
	return fdt_property_cell(fdt, "reg-shift", 0) ?:
	       fdt_property_cell(fdt, "reg-io-width", 1);
}

unsigned int arm64_fdt_uart(bool console, struct fdt_mmio_dev *devs, unsigned int max)
{
	if (!max)
		return 0;
	devs[0] = (struct fdt_mmio_dev){
		.name = "uart", .compatible = "ns16550a",
		.base = ARM64_UART_BASE, .size = ARM64_UART_SIZE,
		.irq = ARM64_UART_SPI, .stdout_path = console,
		.clock_frequency = ARM64_UART_CLOCK,
		.props = arm64_uart_props,
	};
	return 1;
}
