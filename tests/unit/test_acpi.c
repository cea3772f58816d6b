// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables of VMs of several shapes: checked byte by byte from the
 * spec's offsets (not acpi.c's structs), and disassembled by iasl
 * (acpica-tools), whose reading of the DSDT must name every device with
 * the window and interrupt the VM gives it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"
#include "arch/x86/acpi.h"
#include "arch/x86/x86.h"

#define GPA		X86_ACPI_ADDR
#define HDR		36		/* system description table header */
#define MAX_DEVS	256
#define FILL		0xcc

struct config {
	unsigned int ncpus, nvirtio;
	uint64_t vmgenid;	/* the GUID's address; 0: no vmgenid device */
};

#define VGA	X86_VMGENID_ADDR

static const struct config configs[] = {
	{ 1, 0, 0 }, { 4, 0, VGA }, { 1, 1, 0 }, { 4, 3, VGA }, { 1, 8, 0 },
	{ 4, 8, VGA }, { 254, 16, VGA },
	{ 2, 2, 0x123456789000ULL },	/* ADDR's high half not zero */
	{ 2, 200, 0 },	/* a DSDT over 4 KiB: three-byte PkgLengths */
};

/* One VM's tables, and where the XSDT says they are. */
struct tables {
	struct acpi_mmio_dev devs[MAX_DEVS];
	struct acpi_machine m;
	uint8_t *buf;
	long len;
	const uint8_t *xsdt, *fadt, *madt, *dsdt;
};

static uint64_t get(const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	memcpy(&v, p, len);
	return v;
}

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	while (len--)
		s += *p++;
	return s;
}

/* Windows of varied sizes and interrupts, so a mix-up shows. */
static void machine(const struct config *c, struct tables *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int i = 0; i < c->nvirtio; i++)
		t->devs[i] = (struct acpi_mmio_dev){
			.base = 0xd0001000 + 0x1000ULL * i,
			.size = 0x200 << (i % 3),
			.gsi = 5 + i,
		};
	t->m = (struct acpi_machine){ .ncpus = c->ncpus, .virtio = t->devs,
				      .nr_virtio = c->nvirtio, .vmgenid = c->vmgenid,
				      .ged_gsi = X86_GED_IRQ };
}

/* A table the tables point at: inside what acpi_build wrote, whole,
 * with its checksum right. */
static const uint8_t *table_at(const struct tables *t, uint64_t gpa, const char *sig)
{
	const uint8_t *p;
	uint32_t len;

	ck_assert_uint_ge(gpa, GPA);
	ck_assert_uint_le(gpa + HDR, GPA + t->len);
	p = t->buf + (gpa - GPA);
	len = get(p + 4, 4);
	ck_assert_msg(!memcmp(p, sig, 4), "expected %s at %#llx", sig,
		      (unsigned long long)gpa);
	ck_assert_uint_ge(len, HDR);
	ck_assert_uint_le(gpa + len, GPA + t->len);
	ck_assert_msg(sum(p, len) == 0, "%s checksum", sig);
	ck_assert_mem_eq(p + 10, "KVMINI", 6);			/* OEM ID */
	return p;
}

static void build(const struct config *c, struct tables *t)
{
	const uint8_t *r;

	machine(c, t);
	t->buf = malloc(X86_ACPI_SIZE);
	ck_assert_ptr_nonnull(t->buf);
	memset(t->buf, FILL, X86_ACPI_SIZE);
	t->len = acpi_build(t->buf, X86_ACPI_SIZE, GPA, &t->m);
	ck_assert_int_gt(t->len, 0);
	ck_assert_uint_le(t->len, X86_ACPI_SIZE);
	for (size_t i = t->len; i < X86_ACPI_SIZE; i++)
		ck_assert_uint_eq(t->buf[i], FILL);

	/* RSDP, revision 2 */
	r = t->buf;
	ck_assert_mem_eq(r, "RSD PTR ", 8);
	ck_assert_uint_eq(sum(r, 20), 0);
	ck_assert_uint_eq(r[15], 2);
	ck_assert_uint_eq(get(r + 20, 4), 36);
	ck_assert_uint_eq(sum(r, 36), 0);
	t->xsdt = table_at(t, get(r + 24, 8), "XSDT");
	ck_assert_uint_eq(get(t->xsdt + 4, 4), HDR + 2 * 8);
	t->fadt = table_at(t, get(t->xsdt + HDR, 8), "FACP");
	t->madt = table_at(t, get(t->xsdt + HDR + 8, 8), "APIC");
	t->dsdt = table_at(t, get(t->fadt + 140, 8), "DSDT");
	ck_assert_uint_eq(get(t->fadt + 40, 4), get(t->fadt + 140, 8));
}

/* Each table whole and apart from the others, and acpi_build's length
 * ends with the last of them. */
static void check_layout(const struct tables *t)
{
	const uint8_t *tabs[] = { t->buf, t->xsdt, t->fadt, t->madt, t->dsdt };
	size_t n = sizeof(tabs) / sizeof(tabs[0]);
	size_t end = 0;

	for (size_t i = 0; i < n; i++) {
		size_t lo = tabs[i] - t->buf;
		size_t hi = lo + (i ? get(tabs[i] + 4, 4) : 36);

		ck_assert_uint_eq(lo % 8, 0);
		for (size_t j = 0; j < n; j++) {
			size_t lo2 = tabs[j] - t->buf;

			if (j != i)
				ck_assert(lo2 >= hi || lo2 + HDR <= lo);
		}
		if (hi > end)
			end = hi;
	}
	ck_assert_uint_eq(end, t->len);
}

static void check_gas_port(const uint8_t *g, uint16_t port)
{
	ck_assert_uint_eq(g[0], 1);			/* SystemIO */
	ck_assert_uint_eq(g[1], 8);			/* bit width */
	ck_assert_uint_eq(g[2], 0);			/* bit offset */
	ck_assert_uint_eq(g[3], 1);			/* byte access */
	ck_assert_uint_eq(get(g + 4, 8), port);
}

static void check_fadt(const uint8_t *f)
{
	uint32_t flags = get(f + 112, 4);

	ck_assert_uint_eq(get(f + 4, 4), 276);
	ck_assert_uint_eq(f[8], 6);
	ck_assert_uint_ne(flags & (1 << 20), 0);	/* HW_REDUCED_ACPI */
	ck_assert_uint_ne(flags & (1 << 10), 0);	/* RESET_REG_SUP */
	check_gas_port(f + 116, X86_ACPI_PORT + ACPI_REG_RESET);
	ck_assert_uint_eq(f[128], ACPI_RESET_VALUE);
	check_gas_port(f + 244, X86_ACPI_PORT + ACPI_REG_SLEEP_CTL);
	check_gas_port(f + 256, X86_ACPI_PORT + ACPI_REG_SLEEP_STS);
	/* Hardware-reduced: no SCI, no fixed PM blocks. */
	ck_assert_uint_eq(get(f + 46, 2), 0);
	for (size_t off = 56; off < 88; off += 4)
		ck_assert_uint_eq(get(f + off, 4), 0);
}

/* One enabled local APIC per vCPU, the IOAPIC with the MP table's ID. */
static void check_madt(const uint8_t *m, unsigned int ncpus)
{
	uint32_t len = get(m + 4, 4);
	unsigned int lapics = 0, ioapics = 0;
	const uint8_t *e = m + 44;

	ck_assert_uint_eq(get(m + 36, 4), X86_LAPIC_ADDR);
	while (e < m + len) {
		ck_assert_uint_ge(e[1], 2);
		ck_assert_uint_le(e - m + e[1], len);
		switch (e[0]) {
		case 0:
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[2], lapics);	/* processor UID */
			ck_assert_uint_eq(e[3], lapics);	/* APIC ID */
			ck_assert_uint_eq(get(e + 4, 4) & 1, 1);
			lapics++;
			break;
		case 1:
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(e[2], ncpus);
			ck_assert_uint_eq(get(e + 4, 4), X86_IOAPIC_ADDR);
			ck_assert_uint_eq(get(e + 8, 4), 0);	/* GSI base */
			ioapics++;
			break;
		case 4:
			ck_assert_uint_eq(e[1], 6);
			ck_assert_uint_eq(e[5], 1);		/* LINT1 */
			break;
		default:
			ck_abort_msg("unexpected MADT entry type %u", e[0]);
		}
		e += e[1];
	}
	ck_assert_ptr_eq(e, m + len);
	ck_assert_uint_eq(lapics, ncpus);
	ck_assert_uint_eq(ioapics, 1);
}

START_TEST(test_tables)
{
	struct tables t;

	build(&configs[_i], &t);
	check_layout(&t);
	check_fadt(t.fadt);
	check_madt(t.madt, configs[_i].ncpus);
	ck_assert_uint_eq(t.dsdt[8], 2);			/* 64-bit integers */
	free(t.buf);
}
END_TEST

/* ---- iasl ---------------------------------------------------------- */

struct iasl_dir {
	char path[256];
};

static void iasl_dir_make(struct iasl_dir *d)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(d->path, sizeof(d->path), "%s/kvmini-acpi.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(d->path));
}

static void iasl_dir_remove(struct iasl_dir *d)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	ck_assert_int_eq(system(cmd), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc(n + 1);
	ck_assert_ptr_nonnull(s);
	s[fread(s, 1, n, f)] = 0;
	fclose(f);
	return s;
}

/* What iasl says when it dislikes a table; it exits 0 for most of it. */
static const char *const iasl_complaints[] = {
	"Error", "Warning", "Incorrect", "Invalid", "Unknown", "****",
};

static const char *iasl_complaint(const char *text)
{
	for (size_t i = 0; i < sizeof(iasl_complaints) / sizeof(iasl_complaints[0]); i++) {
		const char *p = strstr(text, iasl_complaints[i]);

		if (p)
			return p;
	}
	return NULL;
}

/*
 * Disassembles one table with `iasl -d`. Returns the .dsl text, or NULL
 * with *why set to iasl's complaint.
 */
static char *iasl(const struct iasl_dir *d, const char *name, const uint8_t *table,
		  char *why, size_t why_len)
{
	char path[512], cmd[1024];
	char *log, *dsl;
	const char *bad;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s.dat", d->path, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(table, 1, get(table + 4, 4), f), get(table + 4, 4));
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d %s.dat >%s.log 2>&1",
		 d->path, name, name);
	rc = system(cmd);
	ck_assert_msg(rc != -1 && !(WIFEXITED(rc) && WEXITSTATUS(rc) == 127),
		      "cannot run iasl: install acpica-tools (make deps)");
	snprintf(path, sizeof(path), "%s/%s.log", d->path, name);
	log = read_text(path);
	snprintf(path, sizeof(path), "%s/%s.dsl", d->path, name);
	dsl = read_text(path);
	bad = !WIFEXITED(rc) || WEXITSTATUS(rc) ? "iasl failed" :
	      !dsl ? "no disassembly" :
	      iasl_complaint(log ? log : "") ?: iasl_complaint(dsl);
	if (bad) {
		snprintf(why, why_len, "%s: %.*s", name, (int)strcspn(bad, "\n"), bad);
		free(dsl);
		dsl = NULL;
	}
	free(log);
	return dsl;
}

/*
 * iasl's text without comments, each run of white space one blank: the
 * device blocks then compare as single strings.
 */
static char *normalize(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	ck_assert_ptr_nonnull(out);
	while (*s) {
		if (s[0] == '/' && s[1] == '/') {
			s += strcspn(s, "\n");
		} else if (s[0] == '/' && s[1] == '*') {
			const char *e = strstr(s + 2, "*/");

			s = e ? e + 2 : s + strlen(s);
		} else if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
			s++;
		} else {
			*o++ = *s++;
		}
	}
	while (o > out && o[-1] == ' ')
		o--;
	*o = 0;
	return out;
}

/* How deep in braces position p of s is. */
static int depth(const char *s, const char *p)
{
	int d = 0;

	for (; s < p; s++)
		d += (*s == '{') - (*s == '}');
	return d;
}

static unsigned int count(const char *s, const char *what)
{
	unsigned int n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* iasl's spelling of a small integer. */
static void asl_int(char *buf, size_t len, uint32_t v)
{
	if (v <= 1)
		snprintf(buf, len, "%s", v ? "One" : "Zero");
	else if (v <= 0xff)
		snprintf(buf, len, "0x%02X", v);
	else if (v <= 0xffff)
		snprintf(buf, len, "0x%04X", v);
	else
		snprintf(buf, len, "0x%08X", v);
}

/* The block must appear whole, directly inside Scope (\_SB); returns
 * what is wrong, or NULL. */
static const char *find_block(const char *dsl, const char *block, int want_depth)
{
	const char *p = strstr(dsl, block);

	if (!p)
		return "missing";
	return depth(dsl, p) == want_depth ? NULL : "at the wrong depth";
}

/*
 * What the disassembled DSDT gets wrong about machine t, in why; false
 * when it describes it exactly.
 */
static bool dsdt_text_wrong(const char *dsl, const struct tables *t,
			    char *why, size_t why_len)
{
	char block[512], uid[16], lo[16], hi[16];
	const char *bad;
	unsigned int devs = count(dsl, "Device (");
	unsigned int want = t->m.nr_virtio + 1 + (t->m.vmgenid ? 2 : 0);

	if (!strstr(dsl, "Scope (\\_SB) {")) {
		snprintf(why, why_len, "no Scope (\\_SB)");
		return true;
	}
	if (devs != want) {
		snprintf(why, why_len, "%u devices, expected %u", devs, want);
		return true;
	}
	snprintf(block, sizeof(block),
		 "Device (COM1) { Name (_HID, EisaId (\"PNP0501\") ) "
		 "Name (_UID, One) Name (_CRS, ResourceTemplate () { "
		 "IO (Decode16, 0x03F8, 0x03F8, 0x01, 0x08, ) IRQNoFlags () {4} }) }");
	for (unsigned int i = 0; i <= t->m.nr_virtio; i++) {
		if (i) {
			const struct acpi_mmio_dev *d = &t->devs[i - 1];

			asl_int(uid, sizeof(uid), i - 1);
			snprintf(block, sizeof(block),
				 "Device (VR%02X) { Name (_HID, \"LNRO0005\") Name (_UID, %s) "
				 "Name (_CRS, ResourceTemplate () { "
				 "Memory32Fixed (ReadWrite, 0x%08llX, 0x%08X, ) "
				 "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) "
				 "{ 0x%08X, } }) }",
				 i - 1, uid, (unsigned long long)d->base, d->size, d->gsi);
		}
		bad = find_block(dsl, block, 2);
		if (bad) {
			snprintf(why, why_len, "%s: %s", block, bad);
			return true;
		}
	}
	/* The VM generation ID: ADDR gives the GUID's address in two
	 * halves; the GED's _EVT notifies VGEN on its own interrupt. */
	asl_int(lo, sizeof(lo), t->m.vmgenid & 0xffffffff);
	asl_int(hi, sizeof(hi), t->m.vmgenid >> 32);
	snprintf(block, sizeof(block),
		 "Device (VGEN) { Name (_HID, \"VMGENCTR\") "
		 "Name (_CID, \"VM_Gen_Counter\") Name (_DDN, \"VM_Gen_Counter\") "
		 "Method (ADDR, 0, NotSerialized) { Return (Package (0x02) { %s, %s }) } }",
		 lo, hi);
	bad = t->m.vmgenid ? find_block(dsl, block, 2) :
	      strstr(dsl, "VGEN") ? "there, for a machine without one" : NULL;
	if (bad) {
		snprintf(why, why_len, "%s: %s", block, bad);
		return true;
	}
	snprintf(block, sizeof(block),
		 "Device (GED) { Name (_HID, \"ACPI0013\" ) "
		 "Name (_CRS, ResourceTemplate () { "
		 "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) "
		 "{ 0x%08X, } }) Method (_EVT, 1, NotSerialized) { "
		 "If ((Arg0 == 0x%02X)) { Notify (\\_SB.VGEN, 0x80) } } }",
		 t->m.ged_gsi, t->m.ged_gsi);
	bad = t->m.vmgenid ? find_block(dsl, block, 2) :
	      strstr(dsl, "ACPI0013") ? "there, for a machine without one" : NULL;
	if (bad) {
		snprintf(why, why_len, "%s: %s", block, bad);
		return true;
	}
	/* _S5 in the root scope: SLP_TYP for the sleep control register. */
	snprintf(block, sizeof(block), "Name (_S5, Package (0x04) { 0x%02X, 0x%02X, Zero, Zero })",
		 ACPI_S5_SLP_TYP, ACPI_S5_SLP_TYP);
	bad = find_block(dsl, block, 1);
	if (bad) {
		snprintf(why, why_len, "%s: %s", block, bad);
		return true;
	}
	return false;
}

static void check_madt_text(const char *dsl, unsigned int ncpus)
{
	char line[64];

	ck_assert_uint_eq(count(dsl, "Subtable Type : 00 [Processor Local APIC]"), ncpus);
	ck_assert_uint_eq(count(dsl, "Processor Enabled : 1"), ncpus);
	ck_assert_uint_eq(count(dsl, "Subtable Type : 01 [I/O APIC]"), 1);
	for (unsigned int i = 0; i < ncpus; i++) {
		snprintf(line, sizeof(line), "Local Apic ID : %02X ", i);
		ck_assert_msg(strstr(dsl, line), "MADT lacks APIC ID %u", i);
	}
}

static void check_fadt_text(const char *dsl)
{
	ck_assert_ptr_nonnull(strstr(dsl, "Hardware Reduced (V5) : 1"));
	ck_assert_ptr_nonnull(strstr(dsl, "Reset Register Supported (V2) : 1"));
	ck_assert_ptr_nonnull(strstr(dsl, "Sleep Control Register : [Generic Address Structure]"));
}

/* Disassembles and normalizes one table, failing the test on any
 * complaint from iasl. */
static char *disassemble(const struct iasl_dir *d, const char *name, const uint8_t *table)
{
	char why[256] = "";
	char *dsl = iasl(d, name, table, why, sizeof(why));
	char *norm;

	ck_assert_msg(dsl, "iasl -d: %s", why);
	norm = normalize(dsl);
	free(dsl);
	return norm;
}

START_TEST(test_iasl)
{
	const struct config *c = &configs[_i];
	struct iasl_dir d;
	struct tables t;
	char why[1024];
	char *dsl;

	build(c, &t);
	iasl_dir_make(&d);
	dsl = disassemble(&d, "xsdt", t.xsdt);
	free(dsl);
	dsl = disassemble(&d, "facp", t.fadt);
	check_fadt_text(dsl);
	free(dsl);
	dsl = disassemble(&d, "apic", t.madt);
	check_madt_text(dsl, c->ncpus);
	free(dsl);
	dsl = disassemble(&d, "dsdt", t.dsdt);
	ck_assert_msg(!dsdt_text_wrong(dsl, &t, why, sizeof(why)), "DSDT: %s", why);
	free(dsl);
	iasl_dir_remove(&d);
	free(t.buf);
}
END_TEST

/* The checks above can fail: iasl's complaints about a broken table are
 * seen, and so is a DSDT that misdescribes the machine. */
START_TEST(test_iasl_catches)
{
	static const struct config c = { 2, 3, VGA };
	struct iasl_dir d;
	struct tables t;
	uint8_t *dsdt;
	size_t len, op;
	char why[1024] = "";
	char *dsl;

	build(&c, &t);
	len = get(t.dsdt + 4, 4);
	dsdt = malloc(len);
	ck_assert_ptr_nonnull(dsdt);
	iasl_dir_make(&d);

	memcpy(dsdt, t.dsdt, len);
	dsdt[9]++;					/* checksum */
	ck_assert_ptr_null(iasl(&d, "sum", dsdt, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "checksum"));

	memcpy(dsdt, t.dsdt, len);
	for (op = HDR; op + 1 < len; op++)		/* first Device op */
		if (dsdt[op] == 0x5b && dsdt[op + 1] == 0x82)
			break;
	ck_assert_uint_lt(op + 1, len);
	dsdt[op + 1] = 0x99;
	dsdt[9] -= sum(dsdt, len);
	ck_assert_ptr_null(iasl(&d, "op", dsdt, why, sizeof(why)));

	dsl = disassemble(&d, "dsdt", t.dsdt);
	ck_assert(!dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	/* A device fewer, another interrupt, another window than the
	 * machine has. */
	t.m.nr_virtio = 4;
	ck_assert(dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	t.m.nr_virtio = 3;
	t.devs[2].gsi++;
	ck_assert(dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "VR02"));
	t.devs[2].gsi--;
	t.devs[1].size *= 2;
	ck_assert(dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "VR01"));
	t.devs[1].size /= 2;
	/* Another GUID address, another GED interrupt, no vmgenid. */
	t.m.vmgenid += 8;
	ck_assert(dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "VGEN"));
	t.m.vmgenid -= 8;
	t.m.ged_gsi--;
	ck_assert(dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	ck_assert_ptr_nonnull(strstr(why, "GED"));
	t.m.ged_gsi++;
	ck_assert(!dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	t.m.vmgenid = 0;
	ck_assert(dsdt_text_wrong(dsl, &t, why, sizeof(why)));
	free(dsl);

	iasl_dir_remove(&d);
	free(dsdt);
	free(t.buf);
}
END_TEST

/*
 * --transport pci: an MCFG for bus 0's ECAM after the FADT and MADT, and
 * in the DSDT a PNP0A08 host bridge (bus 0, conf1 ports, the window),
 * its _PRT with each function's GSI, and ECAM as a PNP0C02 resource;
 * iasl takes both tables without complaint.
 */
START_TEST(test_iasl_pci)
{
	static const struct acpi_pci_fn fns[] = { { 1, 5 }, { 2, 6 }, { 31, 22 } };
	struct iasl_dir d;
	struct tables t;
	const uint8_t *mcfg;
	char *dsl;

	machine(&(struct config){ 2, 0, VGA }, &t);
	t.m.pci_ecam = 0xe0000000;
	t.m.pci_win = 0xc0000000;
	t.m.pci_win_len = 0x10000000;
	t.m.pci = fns;
	t.m.nr_pci = 3;
	t.buf = malloc(X86_ACPI_SIZE);
	ck_assert_ptr_nonnull(t.buf);
	t.len = acpi_build(t.buf, X86_ACPI_SIZE, GPA, &t.m);
	ck_assert_int_gt(t.len, 0);
	t.xsdt = table_at(&t, get(t.buf + 24, 8), "XSDT");
	ck_assert_uint_eq(get(t.xsdt + 4, 4), HDR + 3 * 8);
	t.fadt = table_at(&t, get(t.xsdt + HDR, 8), "FACP");
	t.dsdt = table_at(&t, get(t.fadt + 140, 8), "DSDT");
	mcfg = table_at(&t, get(t.xsdt + HDR + 16, 8), "MCFG");
	ck_assert_uint_eq(get(mcfg + 4, 4), HDR + 8 + 16);
	ck_assert_uint_eq(get(mcfg + HDR + 8, 8), 0xe0000000);	/* base */
	ck_assert_uint_eq(get(mcfg + HDR + 16, 2), 0);		/* segment */
	ck_assert_uint_eq(mcfg[HDR + 18], 0);			/* buses 0-0 */
	ck_assert_uint_eq(mcfg[HDR + 19], 0);
	iasl_dir_make(&d);
	dsl = disassemble(&d, "mcfg", mcfg);
	free(dsl);
	dsl = disassemble(&d, "dsdt", t.dsdt);
	ck_assert_ptr_nonnull(strstr(dsl, "Device (PCI0)"));
	ck_assert_ptr_nonnull(strstr(dsl, "EisaId (\"PNP0A08\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "EisaId (\"PNP0A03\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "EisaId (\"PNP0C02\")"));
	ck_assert_ptr_nonnull(strstr(dsl, "WordBusNumber"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xC0000000, 0xCFFFFFFF"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x0CF8, 0x0CF8"));
	ck_assert_ptr_nonnull(strstr(dsl, "0xE0000000, 0x00100000"));
	ck_assert_ptr_nonnull(strstr(dsl, "Name (_PRT"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x0002FFFF, Zero, Zero, 0x06"));
	ck_assert_ptr_nonnull(strstr(dsl, "0x001FFFFF, Zero, Zero, 0x16"));
	free(dsl);
	iasl_dir_remove(&d);
	free(t.buf);
}
END_TEST

/* ---- sizes and bad machines ------------------------------------------- */

/* Every size short of what the tables need fails, writing nothing past
 * the buffer (ASan watches) and leaving nothing half-built to boot. */
START_TEST(test_too_small)
{
	static const struct config c = { 4, 8, VGA };
	struct tables t;
	long need;

	machine(&c, &t);
	t.buf = malloc(X86_ACPI_SIZE);
	ck_assert_ptr_nonnull(t.buf);
	need = acpi_build(t.buf, X86_ACPI_SIZE, GPA, &t.m);
	ck_assert_int_gt(need, 0);
	free(t.buf);
	for (long size = 0; size <= need; size++) {
		uint8_t *buf = malloc(size ? size : 1);

		ck_assert_ptr_nonnull(buf);
		ck_assert_int_eq(acpi_build(buf, size, GPA, &t.m),
				 size < need ? -ENOSPC : need);
		free(buf);
	}
}
END_TEST

START_TEST(test_bad_machine)
{
	static const struct config c = { 1, 1, 0 };
	struct tables t;
	uint8_t *buf = malloc(X86_ACPI_SIZE);

	ck_assert_ptr_nonnull(buf);
	machine(&c, &t);
	t.m.ncpus = 0;
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.m.ncpus = 255;	/* APIC ID 255 is the broadcast */
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.m.ncpus = 1;
	t.devs[0].base = X86_4G;	/* Memory32Fixed cannot say it */
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.devs[0].base = X86_4G - 0x100;
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.devs[0].base = X86_DEV_BASE;
	t.devs[0].size = 0;
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.devs[0].size = 0x200;
	t.m.nr_virtio = MAX_DEVS + 1;
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.m.nr_virtio = 1;
	ck_assert_int_gt(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), 0);
	/* The GUID 8-byte aligned (vmgenid R1a); the GED's line its own. */
	t.m.vmgenid = X86_VMGENID_ADDR + 4;
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	t.m.vmgenid = X86_VMGENID_ADDR;
	ck_assert_int_gt(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), 0);
	t.m.ged_gsi = t.devs[0].gsi;
	ck_assert_int_eq(acpi_build(buf, X86_ACPI_SIZE, GPA, &t.m), -EINVAL);
	free(buf);
}
END_TEST

/* ---- the sleep and reset registers ------------------------------------ */

START_TEST(test_registers)
{
	uint8_t s5 = ACPI_S5_SLP_TYP << 2;

	ck_assert_int_eq(acpi_reg_write(ACPI_REG_SLEEP_CTL, s5 | 0x20), ACPI_EV_POWEROFF);
	/* other bits of the register do not matter */
	ck_assert_int_eq(acpi_reg_write(ACPI_REG_SLEEP_CTL, s5 | 0x20 | 0xc3),
			 ACPI_EV_POWEROFF);
	/* SLP_TYP alone is no request; nor is SLP_EN with another state */
	ck_assert_int_eq(acpi_reg_write(ACPI_REG_SLEEP_CTL, s5), ACPI_EV_NONE);
	for (unsigned int typ = 0; typ < 8; typ++)
		if (typ != ACPI_S5_SLP_TYP)
			ck_assert_int_eq(acpi_reg_write(ACPI_REG_SLEEP_CTL,
							typ << 2 | 0x20), ACPI_EV_NONE);
	/* writing WAK_STS to clear it, as Linux does first */
	ck_assert_int_eq(acpi_reg_write(ACPI_REG_SLEEP_STS, 0x80), ACPI_EV_NONE);
	ck_assert_int_eq(acpi_reg_write(ACPI_REG_SLEEP_STS, s5 | 0x20), ACPI_EV_NONE);
	ck_assert_int_eq(acpi_reg_write(ACPI_REG_RESET, ACPI_RESET_VALUE), ACPI_EV_RESET);
	for (unsigned int v = 0; v < 256; v++)
		if (v != ACPI_RESET_VALUE)
			ck_assert_int_eq(acpi_reg_write(ACPI_REG_RESET, v), ACPI_EV_NONE);
	ck_assert_int_eq(acpi_reg_write(ACPI_NR_REGS, ACPI_RESET_VALUE), ACPI_EV_NONE);
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *suite = suite_create("acpi");
	TCase *tc = tcase_create("tables");
	int n = sizeof(configs) / sizeof(configs[0]);

	tcase_add_loop_test(tc, test_tables, 0, n);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_bad_machine);
	tcase_add_test(tc, test_registers);
	suite_add_tcase(suite, tc);

	tc = tcase_create("iasl");
	/* iasl runs a few times per machine. */
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_iasl, 0, n);
	tcase_add_test(tc, test_iasl_catches);
	tcase_add_test(tc, test_iasl_pci);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(acpi_suite)
