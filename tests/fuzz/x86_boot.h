/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the kernel loader targets: a VM as arch_load_kernel() sees it, with
 * malloc'd RAM, two vCPUs, a small initrd and no KVM.
 */
#ifndef KVMINI_FUZZ_X86_BOOT_H
#define KVMINI_FUZZ_X86_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/mem.h"

/* Guest RAM from 0: room for the boot structures and a small kernel. */
#define FUZZ_X86_RAM	(16ULL << 20)

/* The RAM, once per process. */
const struct guest_mem *fuzz_x86_mem(void);

/*
 * Loads the kernel file image as kvmini would (bzImage first, then ELF),
 * and when that succeeds checks what the guest is handed: an entry point
 * and boot structure in RAM, the command line, the initrd intact and
 * above the kernel. Returns arch_load_kernel()'s result.
 */
int fuzz_x86_load(const uint8_t *image, size_t size);

#endif
