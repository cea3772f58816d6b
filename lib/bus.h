/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Port-I/O and MMIO buses: map a guest access to the device that owns the
 * address. Devices register before any vCPU runs, so lookups take no lock;
 * a device that is also touched from another thread locks itself.
 */
#ifndef KVMINI_BUS_H
#define KVMINI_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One guest access of len bytes (1, 2, 4 or 8) at offset off inside the
 * device's range. On a write, data holds the guest's bytes (little
 * endian); on a read the handler fills data, which the bus has pre-set
 * to all ones, so a handler may leave bytes it does not implement.
 */
typedef void bus_access_fn(void *opaque, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write);

struct bus_range {
	uint64_t base;
	uint64_t len;
	bus_access_fn *fn;
	void *opaque;
};

struct bus {
	struct bus_range *ranges;	/* sorted by base, never overlapping */
	size_t nr, cap;
};

/* Returns 0, -EEXIST on an overlap, -EINVAL on an empty or wrapping range. */
int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_access_fn *fn, void *opaque);
/* False when no device claims the address; a read then sees all ones. */
bool bus_dispatch(const struct bus *bus, uint64_t addr, uint8_t *data,
		  uint32_t len, bool is_write);
void bus_exit(struct bus *bus);

#endif
