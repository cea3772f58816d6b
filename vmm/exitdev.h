/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exit device (docs/exit-device.md): a guest writes a status and the
 * VM ends with it as kvmini's exit status.
 */
#ifndef KVMINI_EXITDEV_H
#define KVMINI_EXITDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/bus.h"

struct vm;

#define EXITDEV_MMIO_SIZE	0x1000
#define EXITDEV_REG_STATUS	0x0	/* write: end the VM with value & 0xff */
#define EXITDEV_MAGIC		0x584d564b	/* "KVMX", read at offset 0 */

int exitdev_init(struct vm *vm);
bus_access_fn exitdev_access;	/* opaque = struct vm * */

#endif
