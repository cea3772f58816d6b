// SPDX-License-Identifier: GPL-2.0
/*
 * ELF vmlinux: loaded by physical address, entered through PVH when the
 * kernel carries the Xen PHYS32_ENTRY note, else at its 64-bit entry.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/x86.h"
#include "lib/mem.h"

#define ELF_MAX_PHDRS		64
#define XEN_ELFNOTE_PHYS32_ENTRY 18

static int elf_phdrs(const uint8_t *buf, size_t size, const Elf64_Phdr **ph,
		     unsigned int *n, const char **why)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;

	if (size < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG)) {
		*why = "not an ELF file";
		return -ENOEXEC;
	}
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC) {
		*why = "not an x86_64 executable ELF kernel";
		return -EINVAL;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || !eh->e_phnum ||
	    eh->e_phnum > ELF_MAX_PHDRS || eh->e_phoff > size ||
	    (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size - eh->e_phoff ||
	    eh->e_phoff % 8) {
		*why = "malformed ELF program headers";
		return -EINVAL;
	}
	*ph = (const Elf64_Phdr *)(buf + eh->e_phoff);
	*n = eh->e_phnum;
	return 0;
}

static bool elf_in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* Looks for Xen's PVH entry note; notes are 4-byte aligned records. */
static uint64_t elf_pvh_entry(const uint8_t *buf, const Elf64_Phdr *ph)
{
	uint64_t off = 0, len = ph->p_filesz;
	const uint8_t *p = buf + ph->p_offset;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		uint64_t name, desc, next;
		uint32_t v32;
		uint64_t v64;

		/* The file is not trusted to align its notes. */
		memcpy(&nh, p + off, sizeof(nh));
		name = off + sizeof(nh);
		desc = name + ((nh.n_namesz + 3ULL) & ~3ULL);
		next = desc + ((nh.n_descsz + 3ULL) & ~3ULL);
		if (next > len)
			break;
		if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
		    !memcmp(p + name, "Xen", 4)) {
			if (nh.n_descsz == 4) {
				memcpy(&v32, p + desc, 4);
				return v32;
			}
			if (nh.n_descsz == 8) {
				memcpy(&v64, p + desc, 8);
				return v64;
			}
		}
		off = next;
	}
	return 0;
}

int elf_parse(const uint8_t *buf, size_t size, struct elf_kernel *k,
	      const char **why)
{
	const Elf64_Phdr *ph;
	unsigned int n;
	int err = elf_phdrs(buf, size, &ph, &n, why);

	if (err)
		return err;
	memset(k, 0, sizeof(*k));
	k->lo = UINT64_MAX;
	k->entry = ((const Elf64_Ehdr *)buf)->e_entry;
	for (unsigned int i = 0; i < n; i++) {
		if (ph[i].p_type != PT_LOAD && ph[i].p_type != PT_NOTE)
			continue;
		if (!elf_in_file(ph[i].p_offset, ph[i].p_filesz, size)) {
			*why = "a segment runs past the end of the file";
			return -EINVAL;
		}
		if (ph[i].p_type == PT_NOTE) {
			if (!k->pvh_entry)
				k->pvh_entry = elf_pvh_entry(buf, &ph[i]);
			continue;
		}
		if (ph[i].p_filesz > ph[i].p_memsz ||
		    ph[i].p_paddr + ph[i].p_memsz < ph[i].p_paddr ||
		    ph[i].p_paddr < X86_HIMEM_START) {
			*why = "a loadable segment has an impossible size or address";
			return -EINVAL;
		}
		if (ph[i].p_paddr < k->lo)
			k->lo = ph[i].p_paddr;
		if (ph[i].p_paddr + ph[i].p_memsz > k->hi)
			k->hi = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (k->lo == UINT64_MAX) {
		*why = "no loadable segments";
		return -EINVAL;
	}
	if (k->entry < k->lo || k->entry >= k->hi) {
		*why = "entry point outside the loaded image";
		return -EINVAL;
	}
	if (k->pvh_entry && (k->pvh_entry < k->lo || k->pvh_entry >= k->hi))
		k->pvh_entry = 0;
	return 0;
}

int elf_load(const uint8_t *buf, size_t size, const struct guest_mem *m,
	     const char **why)
{
	const Elf64_Phdr *ph;
	unsigned int n;
	int err = elf_phdrs(buf, size, &ph, &n, why);

	if (err)
		return err;
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *dst;

		if (ph[i].p_type != PT_LOAD)
			continue;
		if (!elf_in_file(ph[i].p_offset, ph[i].p_filesz, size) ||
		    ph[i].p_filesz > ph[i].p_memsz) {
			*why = "malformed loadable segment";
			return -EINVAL;
		}
		dst = gmem_ptr(m, ph[i].p_paddr, ph[i].p_memsz);
		if (!dst) {
			*why = "does not fit in guest memory: use a larger --mem";
			return -ENOMEM;
		}
		memcpy(dst, buf + ph[i].p_offset, ph[i].p_filesz);
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}
	return 0;
}
