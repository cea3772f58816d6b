// SPDX-License-Identifier: GPL-2.0
/*
 * ACPI tables for the VM kvmini runs: distribution kernels find their
 * CPUs (MADT), virtio-mmio transports and UART (DSDT) only here, and power
 * off through the FADT's sleep registers.
 *
 * The machine is hardware-reduced ACPI: no PM1 blocks, GPEs or SCI, just
 * the sleep control/status pair and the reset register, all in port I/O.
 * Everything sits in the 64 KiB below the MP table, where Linux scans for
 * the RSDP if the boot protocol does not hand it over.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/aml.h"
#include "arch/x86/x86.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "virtio/mmio.h"
#include "vmm/vm.h"

#define ACPI_OEM_ID		"KVMINI"
#define ACPI_OEM_TABLE_ID	"KVMINIVM"
#define ACPI_CREATOR_ID		"KVMI"
#define ACPI_ALIGN		16

struct acpi_rsdp {
	char signature[8];	/* "RSD PTR " */
	uint8_t checksum;	/* of the first 20 bytes (ACPI 1.0) */
	char oem_id[6];
	uint8_t revision;	/* 2: ACPI 2.0 and later */
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t ext_checksum;	/* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __attribute__((packed));

#define ACPI_SPACE_IO		1
#define ACPI_ACCESS_BYTE	1

/* FADT, revision 6.3: 276 bytes. */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	char hypervisor_id[8];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");

#define FADT_REVISION		6
#define FADT_MINOR		3
/* IAPC_BOOT_ARCH: an i8042 (kvmini's reset path), no VGA, no CMOS RTC. */
#define FADT_BOOT_8042		(1 << 1)
#define FADT_BOOT_NO_VGA	(1 << 2)
#define FADT_BOOT_NO_CMOS_RTC	(1 << 5)
#define FADT_F_WBINVD		(1 << 0)
#define FADT_F_RESET_REG_SUP	(1 << 10)
#define FADT_F_HW_REDUCED_ACPI	(1 << 20)

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, length;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t addr;
	uint32_t gsi_base;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, length;
	uint8_t uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

#define MADT_REVISION		5
#define MADT_PCAT_COMPAT	(1 << 0)	/* the 8259s exist (KVM has them) */
#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_LAPIC_NMI		4
#define MADT_LAPIC_ENABLED	(1 << 0)
#define MADT_ALL_CPUS		0xff

/* Where each table goes, relative to the RSDP. */
struct acpi_layout {
	size_t xsdt, fadt, madt, dsdt, mcfg;
};

#define XSDT_ENTRIES		3	/* FADT, MADT, and MCFG with PCI */

/* MCFG (PCI Firmware 3.2, 4.1.2): one ECAM range, segment 0, bus 0. */
struct acpi_mcfg {
	struct acpi_header h;
	uint64_t reserved;
	uint64_t base;
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved2;
} __attribute__((packed));

static size_t align_up(size_t v)
{
	return (v + ACPI_ALIGN - 1) & ~(size_t)(ACPI_ALIGN - 1);
}

static uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static size_t madt_size(unsigned int ncpus)
{
	return sizeof(struct acpi_madt) + ncpus * sizeof(struct madt_lapic) +
	       sizeof(struct madt_ioapic) + sizeof(struct madt_lapic_nmi);
}

static void acpi_header(void *p, const char *sig, size_t len, uint8_t rev)
{
	struct acpi_header *h = p;

	memset(h, 0, sizeof(*h));
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, ACPI_OEM_ID, 6);
	memcpy(h->oem_table_id, ACPI_OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, ACPI_CREATOR_ID, 4);
	h->creator_revision = 1;
}

/* Once the table's bytes are final. */
static void acpi_seal(void *p)
{
	struct acpi_header *h = p;

	h->checksum = 0;
	h->checksum = acpi_checksum(h, h->length);
}

static struct acpi_gas acpi_port(uint16_t port)
{
	return (struct acpi_gas){
		.space_id = ACPI_SPACE_IO,
		.bit_width = 8,
		.access_size = ACPI_ACCESS_BYTE,
		.address = port,
	};
}

static void acpi_put_rsdp(uint8_t *buf, uint64_t xsdt)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)buf;

	memset(r, 0, sizeof(*r));
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, ACPI_OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt = xsdt;
	r->checksum = acpi_checksum(r, 20);
	r->ext_checksum = acpi_checksum(r, sizeof(*r));
}

/* mcfg 0: no MCFG entry (no PCI bus). */
static void acpi_put_xsdt(uint8_t *p, uint64_t fadt, uint64_t madt, uint64_t mcfg)
{
	uint64_t entries[XSDT_ENTRIES] = { fadt, madt, mcfg };
	size_t n = mcfg ? 3 : 2;
	size_t len = sizeof(struct acpi_header) + 8 * n;

	acpi_header(p, "XSDT", len, 1);
	memcpy(p + sizeof(struct acpi_header), entries, 8 * n);
	acpi_seal(p);
}

static void acpi_put_mcfg(uint8_t *p, uint64_t ecam)
{
	struct acpi_mcfg m = { .base = ecam, .start_bus = 0, .end_bus = 0 };

	acpi_header(&m, "MCFG", sizeof(m), 1);
	memcpy(p, &m, sizeof(m));
	acpi_seal(p);
}

static void acpi_put_fadt(uint8_t *p, uint64_t dsdt)
{
	struct acpi_fadt f = {
		.dsdt = dsdt,
		.iapc_boot_arch = FADT_BOOT_8042 | FADT_BOOT_NO_VGA |
				  FADT_BOOT_NO_CMOS_RTC,
		.flags = FADT_F_WBINVD | FADT_F_RESET_REG_SUP | FADT_F_HW_REDUCED_ACPI,
		.reset_reg = acpi_port(X86_ACPI_PORT + ACPI_REG_RESET),
		.reset_value = ACPI_RESET_VALUE,
		.minor_version = FADT_MINOR,
		.x_dsdt = dsdt,
		.sleep_control_reg = acpi_port(X86_ACPI_PORT + ACPI_REG_SLEEP_CTL),
		.sleep_status_reg = acpi_port(X86_ACPI_PORT + ACPI_REG_SLEEP_STS),
		.hypervisor_id = "KVMINI",
	};

	acpi_header(&f, "FACP", sizeof(f), FADT_REVISION);
	memcpy(p, &f, sizeof(f));
	acpi_seal(p);
}

/*
 * One local APIC per vCPU (APIC ID = vCPU index, as cpu.c sets them), the
 * IOAPIC with the ID the MP table gives it, and NMIs on every LINT1. No
 * interrupt source overrides: KVM's default routing sends GSI n to IOAPIC
 * pin n and its PIT raises GSI 0, so ISA IRQs are identity-mapped, as in
 * the MP table.
 */
static void acpi_put_madt(uint8_t *p, unsigned int ncpus)
{
	struct acpi_madt *madt = (struct acpi_madt *)p;
	struct madt_ioapic io = {
		.type = MADT_IOAPIC, .length = sizeof(io), .id = ncpus,
		.addr = X86_IOAPIC_ADDR, .gsi_base = 0,
	};
	struct madt_lapic_nmi nmi = {
		.type = MADT_LAPIC_NMI, .length = sizeof(nmi),
		.uid = MADT_ALL_CPUS, .lint = 1,
	};
	uint8_t *e = p + sizeof(*madt);

	acpi_header(p, "APIC", madt_size(ncpus), MADT_REVISION);
	madt->lapic_addr = X86_LAPIC_ADDR;
	madt->flags = MADT_PCAT_COMPAT;
	for (unsigned int i = 0; i < ncpus; i++) {
		struct madt_lapic l = {
			.type = MADT_LAPIC, .length = sizeof(l), .uid = i,
			.apic_id = i, .flags = MADT_LAPIC_ENABLED,
		};

		memcpy(e, &l, sizeof(l));
		e += sizeof(l);
	}
	memcpy(e, &io, sizeof(io));
	e += sizeof(io);
	memcpy(e, &nmi, sizeof(nmi));
	acpi_seal(p);
}

/* COM1: the UART every PC has, so that 8250_pnp gets its interrupt
 * from here rather than from a legacy table a hardware-reduced
 * machine does not have. */
static void dsdt_uart(struct aml *a)
{
	struct aml_mark dev = aml_device_begin(a, "COM1");
	struct aml_mark crs;

	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0501");
	aml_name(a, "_UID");
	aml_integer(a, 1);
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_io(a, X86_COM1_PORT, 8);
	aml_res_irq_noflags(a, X86_COM1_IRQ);
	aml_end(a, crs);
	aml_end(a, dev);
}

/* A virtio-mmio transport: the ID Linux's virtio_mmio driver matches,
 * its window, and its interrupt edge-triggered and active high, which
 * is what irqfd injects. */
static void dsdt_virtio(struct aml *a, unsigned int i, const struct acpi_mmio_dev *d)
{
	char name[5] = "VR";
	struct aml_mark dev, crs;

	name[2] = "0123456789ABCDEF"[(i >> 4) & 0xf];
	name[3] = "0123456789ABCDEF"[i & 0xf];
	dev = aml_device_begin(a, name);
	aml_name(a, "_HID");
	aml_string(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_integer(a, i);
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_memory32_fixed(a, true, d->base, d->size);
	aml_res_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, d->gsi);
	aml_end(a, crs);
	aml_end(a, dev);
}

/*
 * The PCI host bridge (--transport pci): bus 0, the conf1 ports, the BAR
 * window, and each function's INTA# on its IOAPIC pin (_PRT, GSIs
 * direct). ECAM is a motherboard resource (PNP0C02), which is what
 * Linux wants to see reserved before it trusts MCFG.
 */
static void dsdt_pci(struct aml *a, const struct acpi_machine *m)
{
	struct aml_mark dev, crs, prt, ent;

	dev = aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_integer(a, 0);
	aml_name(a, "_BBN");
	aml_integer(a, 0);
	aml_name(a, "_UID");
	aml_integer(a, 0);
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_word_bus(a, 0, 0);
	aml_res_io(a, 0xcf8, 8);
	aml_res_dword_memory(a, m->pci_win, m->pci_win_len);
	aml_end(a, crs);
	aml_name(a, "_PRT");
	prt = aml_package_begin(a, m->nr_pci);
	for (unsigned int i = 0; i < m->nr_pci; i++) {
		ent = aml_package_begin(a, 4);
		aml_integer(a, (uint32_t)m->pci[i].slot << 16 | 0xffff);
		aml_integer(a, 0);	/* INTA# */
		aml_integer(a, 0);	/* no link device: a GSI */
		aml_integer(a, m->pci[i].gsi);
		aml_end(a, ent);
	}
	aml_end(a, prt);
	aml_end(a, dev);

	dev = aml_device_begin(a, "MRES");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_memory32_fixed(a, false, m->pci_ecam, 1U << 20);
	aml_end(a, crs);
	aml_end(a, dev);
}

/* _S5: the SLP_TYP values the guest writes to power off. */
static void dsdt_s5(struct aml *a)
{
	struct aml_mark pkg;

	aml_name(a, "_S5");
	pkg = aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);	/* SLP_TYPa */
	aml_integer(a, ACPI_S5_SLP_TYP);	/* SLP_TYPb, unused when hardware-reduced */
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a, pkg);
}

static long acpi_put_dsdt(uint8_t *p, size_t room, const struct acpi_machine *m)
{
	size_t hdr = sizeof(struct acpi_header);
	struct aml a;
	struct aml_mark sb;
	long len;

	if (room < hdr)
		return -ENOSPC;
	aml_init(&a, p + hdr, room - hdr);
	sb = aml_scope_begin(&a, "\\_SB");
	dsdt_uart(&a);
	for (unsigned int i = 0; i < m->nr_virtio; i++)
		dsdt_virtio(&a, i, &m->virtio[i]);
	if (m->vmgenid)
		vmgenid_dsdt(&a, m->vmgenid, m->ged_gsi);
	if (m->pci_ecam)
		dsdt_pci(&a, m);
	aml_end(&a, sb);
	dsdt_s5(&a);
	len = aml_finish(&a);
	if (len < 0)
		return len;
	/* Revision 2: AML integers are 64 bits wide. */
	acpi_header(p, "DSDT", hdr + len, 2);
	acpi_seal(p);
	return hdr + len;
}

static int acpi_check(const struct acpi_machine *m)
{
	if (!m->ncpus || m->ncpus > 254 || m->nr_virtio > 256)
		return -EINVAL;
	for (unsigned int i = 0; i < m->nr_virtio; i++) {
		const struct acpi_mmio_dev *d = &m->virtio[i];

		/* Memory32Fixed: the window lies below 4 GiB. */
		if (!d->size || d->base > UINT32_MAX ||
		    d->size > UINT32_MAX - d->base)
			return -EINVAL;
		/* The GED's interrupt is its own. */
		if (m->vmgenid && d->gsi == m->ged_gsi)
			return -EINVAL;
	}
	/* The GUID is 8-byte aligned (the spec's R1a). */
	if (m->vmgenid & 7)
		return -EINVAL;
	/* ECAM and the window below 4 GiB; at most 32 slots, one package
	 * element each (a one-byte count). */
	if (m->pci_ecam && (m->pci_ecam > UINT32_MAX - (1U << 20) || !m->pci_win_len ||
			    m->pci_win_len - 1 > UINT32_MAX - m->pci_win || m->nr_pci > 32))
		return -EINVAL;
	for (unsigned int i = 0; m->pci_ecam && i < m->nr_pci; i++)
		if (m->pci[i].slot > 31)
			return -EINVAL;
	return 0;
}

long acpi_build(uint8_t *buf, size_t size, uint64_t gpa,
		const struct acpi_machine *m)
{
	struct acpi_layout l;
	long dsdt_len;
	int err = acpi_check(m);

	if (err)
		return err;
	l.xsdt = align_up(sizeof(struct acpi_rsdp));
	l.fadt = align_up(l.xsdt + sizeof(struct acpi_header) +
			  8 * (m->pci_ecam ? 3 : 2));
	l.madt = align_up(l.fadt + sizeof(struct acpi_fadt));
	l.dsdt = align_up(l.madt + madt_size(m->ncpus));
	if (l.dsdt > size)
		return -ENOSPC;
	memset(buf, 0, l.dsdt);
	dsdt_len = acpi_put_dsdt(buf + l.dsdt, size - l.dsdt, m);
	if (dsdt_len < 0)
		return dsdt_len == -EINVAL ? -EINVAL : -ENOSPC;
	l.mcfg = 0;
	if (m->pci_ecam) {
		l.mcfg = align_up(l.dsdt + dsdt_len);
		if (l.mcfg + sizeof(struct acpi_mcfg) > size)
			return -ENOSPC;
		memset(buf + l.dsdt + dsdt_len, 0, l.mcfg - l.dsdt - dsdt_len);
		acpi_put_mcfg(buf + l.mcfg, m->pci_ecam);
	}
	acpi_put_madt(buf + l.madt, m->ncpus);
	acpi_put_fadt(buf + l.fadt, gpa + l.dsdt);
	acpi_put_xsdt(buf + l.xsdt, gpa + l.fadt, gpa + l.madt,
		      l.mcfg ? gpa + l.mcfg : 0);
	acpi_put_rsdp(buf, gpa + l.xsdt);
	if (l.mcfg)
		return l.mcfg + sizeof(struct acpi_mcfg);
	return l.dsdt + dsdt_len;
}

enum acpi_event acpi_reg_write(unsigned int reg, uint8_t val)
{
	/* SLP_TYP in bits 4:2, SLP_EN in bit 5 (ACPI 6.x, 4.8.3.7). */
	if (reg == ACPI_REG_SLEEP_CTL && (val & 0x20) &&
	    ((val >> 2) & 7) == ACPI_S5_SLP_TYP)
		return ACPI_EV_POWEROFF;
	if (reg == ACPI_REG_RESET && val == ACPI_RESET_VALUE)
		return ACPI_EV_RESET;
	return ACPI_EV_NONE;
}

int x86_acpi_setup(struct vm *vm, uint64_t *rsdp)
{
	struct acpi_mmio_dev devs[VM_MAX_VIRTIO];
	struct acpi_pci_fn fns[VM_MAX_VIRTIO];
	struct acpi_machine m = {
		.ncpus = vm->cfg.cpus,
		.virtio = devs,
		.nr_virtio = vm->nr_virtio,
		.vmgenid = X86_VMGENID_ADDR,
		.ged_gsi = X86_GED_IRQ,
	};
	uint8_t *buf = gmem_ptr(&vm->mem, X86_ACPI_ADDR, X86_ACPI_SIZE);
	long n;
	int err;

	*rsdp = 0;
	if (vm->cfg.no_acpi)
		return 0;
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		devs[i] = (struct acpi_mmio_dev){
			.base = vm->virtio[i].base,
			.size = VIRTIO_MMIO_SIZE,
			.gsi = vm->virtio[i].irq,
		};
	if (vm->pci) {
		m.pci_ecam = X86_PCI_ECAM;
		m.pci_win = X86_PCI_WIN;
		m.pci_win_len = X86_PCI_WIN_LEN;
		m.pci = fns;
		for (unsigned int i = 0; i < vm->nr_pci_fn; i++)
			fns[i] = (struct acpi_pci_fn){ vm->pci_fn[i].slot, vm->pci_fn[i].irq };
		m.nr_pci = vm->nr_pci_fn;
	}
	n = buf ? acpi_build(buf, X86_ACPI_SIZE, X86_ACPI_ADDR, &m) : -EFAULT;
	if (n < 0) {
		pr_err("cannot build the ACPI tables for this VM (%s): try --no-acpi",
		       strerror((int)-n));
		return (int)n;
	}
	err = vmgenid_init(vm);
	if (err)
		return err;
	*rsdp = X86_ACPI_ADDR;
	pr_info("ACPI tables at %#llx, %ld bytes", (unsigned long long)X86_ACPI_ADDR, n);
	return 0;
}
