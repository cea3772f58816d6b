// SPDX-License-Identifier: GPL-2.0
/*
 * bzImage files: bzimage_parse() on the input, its result checked against
 * the input's bounds, then the whole x86 load (zero page, initrd
 * placement, command line, boot tables) into a fake VM's RAM.
 *
 * Input: a kernel file. Seeds: synthetic bzImages that load, and the
 * header of a real one (tests/fuzz/README.md).
 */
#include <errno.h>

#include "arch/x86/x86.h"
#include "tests/fuzz/common.h"
#include "tests/fuzz/x86_boot.h"

static void check_parse(const uint8_t *buf, size_t size, const struct bzimage *bz)
{
	fuzz_check((const uint8_t *)bz->hdr == buf + 0x1f1);
	fuzz_check(bz->hdr_len <= sizeof(struct setup_header));
	fuzz_check(bz->kernel > buf && bz->kernel <= buf + size);
	fuzz_check(bz->kernel_size == size - (size_t)(bz->kernel - buf));
	fuzz_check(bz->mem_size >= bz->kernel_size);
	fuzz_check(bz->load_addr >= X86_HIMEM_START &&
		   bz->load_addr < X86_MMIO_HOLE && !(bz->load_addr & 0xfff));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bzimage bz;
	const char *why = NULL;
	int err = bzimage_parse(data, size, &bz, &why);

	if (err)
		fuzz_check(why && (err == -ENOEXEC || err == -EINVAL));
	else
		check_parse(data, size, &bz);
	fuzz_x86_load(data, size);
	return 0;
}
