// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/exitdev.h"
#include "vmm/vm.h"

void exitdev_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		    bool is_write)
{
	struct vm *vm = opaque;
	uint32_t magic = EXITDEV_MAGIC;
	char why[48];

	if (off != EXITDEV_REG_STATUS)
		return;
	if (!is_write) {
		memcpy(data, &magic, len < 4 ? len : 4);
		return;
	}
	/* Only the low byte matters, so every access width works. */
	snprintf(why, sizeof(why), "guest wrote %u to the exit device", data[0]);
	vm_request_exit(vm, data[0], why);
}

int exitdev_init(struct vm *vm)
{
	return vm_register_mmio(vm, arch_exitdev_base, EXITDEV_MMIO_SIZE,
				exitdev_access, vm, "exit device");
}
