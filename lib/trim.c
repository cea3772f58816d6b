// SPDX-License-Identifier: GPL-2.0
#include <link.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/trim.h"

/* Whether [lo, hi) overlaps the object's RELRO range, if it has one. */
static bool in_relro(const struct dl_phdr_info *info, uintptr_t lo, uintptr_t hi)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_GNU_RELRO && lo < start + ph->p_memsz && start < hi)
			return true;
	}
	return false;
}

/*
 * Each object's read-only loaded segments, whole pages only: MADV_DONTNEED
 * on a private file mapping drops the page-table entries, and the next
 * access maps the same file page again. A page written since (a private
 * copy) would be lost, which is why only segments without PF_W, outside
 * RELRO, qualify. The vDSO is the kernel's, not a file's: left alone.
 */
static int trim_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t vdso = (uintptr_t)arg;

	(void)size;
	if (vdso && info->dlpi_addr == vdso)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		uintptr_t lo = (start + page - 1) & ~(page - 1);
		uintptr_t hi = (start + ph->p_memsz) & ~(page - 1);

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) || hi <= lo ||
		    in_relro(info, lo, hi))
			continue;
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
	return 0;
}

void trim_after_setup(void)
{
	/* Under ASan, glibc's allocator is not the one in use: its trim
	 * would initialise it (getrandom, which the filters forbid) and then
	 * walk an arena that was never set up. */
#if !defined(__SANITIZE_ADDRESS__)
	malloc_trim(0);
#endif
	dl_iterate_phdr(trim_object, (void *)getauxval(AT_SYSINFO_EHDR));
}
