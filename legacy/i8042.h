/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the PC keyboard controller for Linux to reboot through
 * it (reboot=k) and for its i8042 driver to probe without hanging. No
 * keyboard or mouse is attached and the model raises no interrupts.
 *
 * Register it over ports 0x60-0x64: offset 0 is the data port, offset 4
 * the status (read) and command (write) port; the rest read all ones.
 */
#ifndef KVMINI_I8042_H
#define KVMINI_I8042_H

#include <stddef.h>

#include "lib/bus.h"

#define I8042_DATA_PORT		0x60
#define I8042_NR_PORTS		5

struct i8042;
struct sbuf;

struct i8042_ops {
	/*
	 * The guest pulsed the CPU reset line. Runs on a vCPU thread with
	 * no lock held, once per reset command; Linux sends up to ten in a
	 * row in case one is lost, so this must cope with repeats.
	 */
	void (*reset)(void *ctx);
};

/* ops is copied; it and reset may be NULL. NULL without memory. */
struct i8042 *i8042_new(const struct i8042_ops *ops, void *ctx);
void i8042_free(struct i8042 *kbc);

/* opaque is the struct i8042 *; see bus_access_fn. */
bus_access_fn i8042_access;

/*
 * Snapshots: the command byte, status, output buffer and the command
 * waiting for its data byte. i8042_load() reads a whole blob and checks
 * it as untrusted input: 0, or -EINVAL after one error line, kbc left
 * as i8042_new() makes it.
 */
#define I8042_STATE_VERSION	1
void i8042_save(struct i8042 *kbc, struct sbuf *b);
int i8042_load(struct i8042 *kbc, const void *blob, size_t len);

#endif
