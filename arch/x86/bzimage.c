// SPDX-License-Identifier: GPL-2.0
/*
 * bzImage: the header is the kernel's own description of how to load it
 * (Documentation/x86/boot.rst); every field is checked before use.
 */
#include <errno.h>
#include <stddef.h>

#include "arch/x86/x86.h"

#define BZ_HDR_OFFSET		0x1f1
#define BZ_BOOT_FLAG		0xaa55
#define BZ_HDR_MAGIC		0x53726448	/* "HdrS" */
#define BZ_MIN_VERSION		0x020c		/* 2.12: xloadflags, 64-bit entry */
#define BZ_MIN_LOAD		X86_HIMEM_START

/* -ENOEXEC: not a bzImage; -EINVAL: a bzImage kvmini cannot boot. */
int bzimage_parse(const uint8_t *buf, size_t size, struct bzimage *bz,
		  const char **why)
{
	const struct setup_header *hdr;
	size_t setup_size, hdr_end;
	unsigned int sects;

	if (size < BZ_HDR_OFFSET + sizeof(*hdr)) {
		*why = "too small to be a bzImage";
		return -ENOEXEC;
	}
	hdr = (const struct setup_header *)(buf + BZ_HDR_OFFSET);
	if (hdr->boot_flag != BZ_BOOT_FLAG || hdr->header != BZ_HDR_MAGIC) {
		*why = "no Linux boot header (not a bzImage)";
		return -ENOEXEC;
	}
	if (hdr->version < BZ_MIN_VERSION || !(hdr->xloadflags & XLF_KERNEL_64)) {
		*why = "kernel too old: needs boot protocol 2.12 with a 64-bit entry point";
		return -EINVAL;
	}
	if (!(hdr->loadflags & LOADED_HIGH)) {
		*why = "not a bzImage (zImage loads low)";
		return -EINVAL;
	}
	sects = hdr->setup_sects ? hdr->setup_sects : 4;
	setup_size = (sects + 1) * 512;
	if (setup_size >= size) {
		*why = "setup sectors run past the end of the file";
		return -EINVAL;
	}
	/* The header's length is encoded in its own jump instruction. */
	hdr_end = 0x202 + buf[0x201];
	if (hdr_end > BZ_HDR_OFFSET + sizeof(*hdr))
		hdr_end = BZ_HDR_OFFSET + sizeof(*hdr);
	bz->hdr = hdr;
	bz->hdr_len = hdr_end - BZ_HDR_OFFSET;
	bz->kernel = buf + setup_size;
	bz->kernel_size = size - setup_size;
	if ((uint64_t)hdr->syssize * 16 > bz->kernel_size) {
		*why = "truncated (shorter than its header says)";
		return -EINVAL;
	}
	bz->load_addr = hdr->pref_address;
	if (bz->load_addr < BZ_MIN_LOAD || bz->load_addr >= X86_MMIO_HOLE ||
	    (bz->load_addr & 0xfff)) {
		*why = "preferred load address is not usable";
		return -EINVAL;
	}
	bz->mem_size = hdr->init_size > bz->kernel_size ? hdr->init_size : bz->kernel_size;
	return 0;
}
