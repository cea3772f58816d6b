// SPDX-License-Identifier: GPL-2.0
/*
 * Puts a kernel, its initrd and command line into guest memory and
 * decides how the boot vCPU enters it: the 64-bit boot protocol for a
 * bzImage or a plain vmlinux, PVH for a vmlinux with the PVH note.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/acpi.h"
#include "arch/x86/x86.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "vmm/vm.h"

#define PVH_MAGIC		0x336ec578
#define PVH_VERSION		1
#define PVH_MAX_MEMMAP		8

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define PTE_PRESENT	(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

/*
 * Identity-maps the first 4 GiB with 2 MiB pages: the 64-bit protocol
 * needs the kernel, zero page and command line mapped, and the kernel
 * builds its own tables right after.
 */
static int boot_page_tables(const struct guest_mem *m)
{
	uint64_t *pml4 = gmem_ptr(m, X86_PML4, 4096);
	uint64_t *pdpt = gmem_ptr(m, X86_PDPT, 4096);
	uint64_t *pd = gmem_ptr(m, X86_PD, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = X86_PDPT | PTE_PRESENT | PTE_RW;
	for (uint64_t i = 0; i < 4; i++)
		pdpt[i] = (X86_PD + i * 4096) | PTE_PRESENT | PTE_RW;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | PTE_PRESENT | PTE_RW | PTE_PS;
	return 0;
}

int x86_setup_boot_tables(const struct guest_mem *m, bool pvh)
{
	/* null, null, code (64- or 32-bit), data, TSS: at the selectors
	 * the boot protocols name. */
	uint64_t gdt[] = {
		0,
		0,
		pvh ? 0x00cf9b000000ffffULL : 0x00af9b000000ffffULL,
		0x00cf93000000ffffULL,
		0x00008b0000000067ULL,
	};

	if (gmem_write(m, X86_GDT_ADDR, gdt, sizeof(gdt)))
		return -EFAULT;
	if (gmem_write(m, X86_IDT_ADDR, &(uint64_t){ 0 }, 8))
		return -EFAULT;
	return pvh ? 0 : boot_page_tables(m);
}

/* Puts the initrd as high as allowed, above the kernel; 0 or -errno. */
static int boot_place_initrd(struct vm *vm, uint64_t kernel_end, uint64_t limit,
			     uint64_t *addr)
{
	uint64_t top = x86_low_ram_end(vm->mem.ram_size);
	uint64_t size = vm->initrd_size;

	if (limit < top)
		top = limit;
	if (size > top || ((top - size) & ~0xfffULL) < kernel_end) {
		pr_err("initrd '%s' (%zu MiB) does not fit in guest memory above the kernel: use a larger --mem",
		       vm->cfg.initrd, (vm->initrd_size + (1 << 20) - 1) >> 20);
		return -ENOMEM;
	}
	*addr = (top - size) & ~0xfffULL;
	vm->initrd_gpa = *addr;
	return gmem_write(&vm->mem, *addr, vm->initrd, size);
}

static int boot_cmdline(struct vm *vm, const char *cmdline, uint64_t max)
{
	size_t len = strlen(cmdline) + 1;

	if (len > max || len > X86_CMDLINE_MAX) {
		pr_err("kernel command line is %zu bytes, the kernel accepts at most %llu",
		       len - 1, (unsigned long long)(max < X86_CMDLINE_MAX ? max : X86_CMDLINE_MAX) - 1);
		return -E2BIG;
	}
	return gmem_write(&vm->mem, X86_CMDLINE, cmdline, len);
}

static int boot_mptable(struct vm *vm)
{
	uint8_t *bios = gmem_ptr(&vm->mem, X86_MPTABLE_ADDR,
				 X86_HIMEM_START - X86_MPTABLE_ADDR);
	struct mptable_pci pci[MPTABLE_MAX_PCI];
	unsigned int nr_pci = vm->pci ? vm->nr_pci_fn : 0;
	int n;

	if (!bios)
		return -EFAULT;
	if (nr_pci > MPTABLE_MAX_PCI)
		return -EINVAL;
	for (unsigned int i = 0; i < nr_pci; i++) {
		if (vm->pci_fn[i].irq >= X86_IOAPIC_PINS)
			return -EINVAL;
		pci[i] = (struct mptable_pci){ vm->pci_fn[i].slot, vm->pci_fn[i].irq };
	}
	n = mptable_build(bios, X86_HIMEM_START - X86_MPTABLE_ADDR,
			  X86_MPTABLE_ADDR, vm->cfg.cpus, pci, nr_pci);
	return n < 0 ? n : 0;
}

static int boot_zero_page(struct vm *vm, const struct setup_header *hdr,
			  size_t hdr_len, uint64_t initrd)
{
	struct boot_params *bp = gmem_ptr(&vm->mem, X86_ZERO_PAGE, sizeof(*bp));
	struct x86_vm *x = vm->arch;

	if (!bp)
		return -EFAULT;
	memset(bp, 0, sizeof(*bp));
	memcpy(&bp->hdr, hdr, hdr_len);
	bp->acpi_rsdp_addr = x->acpi_rsdp;
	bp->hdr.type_of_loader = 0xff;
	bp->hdr.cmd_line_ptr = X86_CMDLINE;
	bp->hdr.ramdisk_image = initrd;
	bp->hdr.ramdisk_size = vm->initrd_size;
	bp->e820_entries = e820_build(vm->mem.ram_size, bp->e820_table,
				      E820_MAX_ENTRIES_ZEROPAGE);
	return 0;
}

static void boot_failed(struct vm *vm, const char *why)
{
	pr_err("kernel '%s': %s", vm->cfg.kernel, why);
}

static int boot_bzimage(struct vm *vm, const struct bzimage *bz, const char *cmdline)
{
	struct x86_vm *x = vm->arch;
	const struct setup_header *hdr = bz->hdr;
	uint64_t initrd = 0;
	int err;

	if (!gmem_ptr(&vm->mem, bz->load_addr, bz->mem_size) ||
	    bz->load_addr + bz->mem_size > x86_low_ram_end(vm->mem.ram_size)) {
		pr_err("kernel '%s' needs %llu MiB of guest memory from %llu MiB on: use a larger --mem",
		       vm->cfg.kernel, (unsigned long long)(bz->mem_size >> 20),
		       (unsigned long long)(bz->load_addr >> 20));
		return -ENOMEM;
	}
	memcpy(gmem_ptr(&vm->mem, bz->load_addr, bz->kernel_size), bz->kernel,
	       bz->kernel_size);
	if (vm->initrd) {
		err = boot_place_initrd(vm, bz->load_addr + bz->mem_size,
					(uint64_t)hdr->initrd_addr_max + 1, &initrd);
		if (err)
			return err;
	}
	err = boot_cmdline(vm, cmdline, (uint64_t)hdr->cmdline_size + 1);
	if (!err)
		err = boot_zero_page(vm, hdr, bz->hdr_len, initrd);
	x->boot = (struct x86_boot){
		.entry = bz->load_addr + 0x200,
		.boot_info = X86_ZERO_PAGE,
	};
	return err;
}

static int boot_pvh_info(struct vm *vm, uint64_t initrd)
{
	struct x86_vm *x = vm->arch;
	struct hvm_start_info si = {
		.magic = PVH_MAGIC,
		.version = PVH_VERSION,
		.cmdline_paddr = X86_CMDLINE,
		.rsdp_paddr = x->acpi_rsdp,
	};
	struct hvm_modlist_entry mod = { .paddr = initrd, .size = vm->initrd_size };
	struct boot_e820_entry e820[PVH_MAX_MEMMAP];
	struct hvm_memmap_entry map[PVH_MAX_MEMMAP];
	uint64_t at = X86_PVH_INFO_ADDR + sizeof(si);
	unsigned int n = e820_build(vm->mem.ram_size, e820, PVH_MAX_MEMMAP);

	for (unsigned int i = 0; i < n; i++)
		map[i] = (struct hvm_memmap_entry){ e820[i].addr, e820[i].size, e820[i].type, 0 };
	if (vm->initrd) {
		si.nr_modules = 1;
		si.modlist_paddr = at;
		if (gmem_write(&vm->mem, at, &mod, sizeof(mod)))
			return -EFAULT;
		at += sizeof(mod);
	}
	si.memmap_paddr = at;
	si.memmap_entries = n;
	if (gmem_write(&vm->mem, at, map, n * sizeof(map[0])))
		return -EFAULT;
	return gmem_write(&vm->mem, X86_PVH_INFO_ADDR, &si, sizeof(si));
}

static int boot_elf(struct vm *vm, const struct elf_kernel *k, const char *cmdline)
{
	struct x86_vm *x = vm->arch;
	uint64_t initrd = 0;
	const char *why;
	int err;
	/* A vmlinux has no setup header of its own: describe it as a
	 * bzImage loader would, with the fields the kernel reads. */
	struct setup_header hdr = {
		.boot_flag = 0xaa55,
		.header = 0x53726448,
		.version = 0x020c,
		.loadflags = LOADED_HIGH,
		.kernel_alignment = 0x1000000,
		.cmdline_size = X86_CMDLINE_MAX - 1,
	};

	if (k->hi > x86_low_ram_end(vm->mem.ram_size)) {
		pr_err("kernel '%s' needs %llu MiB of guest memory: use a larger --mem",
		       vm->cfg.kernel, (unsigned long long)((k->hi >> 20) + 1));
		return -ENOMEM;
	}
	err = elf_load(vm->kernel, vm->kernel_size, &vm->mem, &why);
	if (err) {
		boot_failed(vm, why);
		return err;
	}
	if (vm->initrd) {
		err = boot_place_initrd(vm, k->hi, X86_MMIO_HOLE, &initrd);
		if (err)
			return err;
	}
	err = boot_cmdline(vm, cmdline, X86_CMDLINE_MAX);
	if (err)
		return err;
	if (k->pvh_entry) {
		x->boot = (struct x86_boot){ .pvh = true, .entry = k->pvh_entry,
					     .boot_info = X86_PVH_INFO_ADDR };
		return boot_pvh_info(vm, initrd);
	}
	x->boot = (struct x86_boot){ .entry = k->entry, .boot_info = X86_ZERO_PAGE };
	return boot_zero_page(vm, &hdr, sizeof(hdr), initrd);
}

int arch_load_kernel(struct vm *vm, const char *cmdline)
{
	struct x86_vm *x = vm->arch;
	struct elf_kernel elf;
	struct bzimage bz;
	const char *why_bz, *why_elf;
	int err, err_bz, err_elf;

	/* The zero page and PVH start info point at the RSDP. */
	err = x86_acpi_setup(vm, &x->acpi_rsdp);
	if (err)
		return err;
	err_bz = bzimage_parse(vm->kernel, vm->kernel_size, &bz, &why_bz);
	err_elf = err_bz ? elf_parse(vm->kernel, vm->kernel_size, &elf, &why_elf) : -ENOEXEC;
	if (!err_bz) {
		err = boot_bzimage(vm, &bz, cmdline);
	} else if (!err_elf) {
		err = boot_elf(vm, &elf, cmdline);
	} else {
		/* Explain in terms of the format the file claims to be. */
		boot_failed(vm, err_bz == -EINVAL ? why_bz : err_elf == -EINVAL ? why_elf :
			    "not a Linux kernel (expected a bzImage or an ELF vmlinux)");
		return -ENOEXEC;
	}
	if (err)
		return err;
	err = boot_mptable(vm);
	if (!err)
		err = x86_setup_boot_tables(&vm->mem, x->boot.pvh);
	if (err)
		pr_err("guest memory too small for the boot tables");
	return err;
}
