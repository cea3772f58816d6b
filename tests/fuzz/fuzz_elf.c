// SPDX-License-Identifier: GPL-2.0
/*
 * ELF vmlinux files: elf_parse() on the input and its result checked,
 * elf_load() into a small fake guest RAM, then the whole x86 load (PVH
 * start info or zero page, initrd, command line, boot tables).
 *
 * Input: a kernel file. Seeds: tests/native/tiny.S built both ways (with
 * and without the PVH note), synthetic images, and a real vmlinux's
 * headers (tests/fuzz/README.md).
 */
#include <errno.h>

#include "arch/x86/x86.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/x86_boot.h"

static void check_parse(const struct elf_kernel *k)
{
	fuzz_check(k->lo >= X86_HIMEM_START && k->lo < k->hi);
	fuzz_check(k->entry >= k->lo && k->entry < k->hi);
	fuzz_check(!k->pvh_entry || (k->pvh_entry >= k->lo && k->pvh_entry < k->hi));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct elf_kernel k;
	const char *why = NULL;
	int err = elf_parse(data, size, &k, &why);

	if (err) {
		fuzz_check(why && (err == -ENOEXEC || err == -EINVAL));
	} else {
		check_parse(&k);
		/* A segment outside RAM is refused, never copied. */
		err = elf_load(data, size, fuzz_x86_mem(), &why);
		fuzz_check(!err || (why && (err == -ENOMEM || err == -EINVAL)));
		if (!err)
			fuzz_check(k.hi <= FUZZ_X86_RAM);
	}
	fuzz_x86_load(data, size);
	return 0;
}
