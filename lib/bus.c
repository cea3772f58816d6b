// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bus.h"

int bus_register(struct bus *bus, uint64_t base, uint64_t len,
		 bus_access_fn *fn, void *opaque)
{
	size_t i;

	if (!len || base + len - 1 < base)
		return -EINVAL;
	for (i = 0; i < bus->nr && bus->ranges[i].base < base; i++)
		;
	/* Inclusive ends: a range may end at the very top of the space. */
	if (i > 0 && bus->ranges[i - 1].base + bus->ranges[i - 1].len - 1 >= base)
		return -EEXIST;
	if (i < bus->nr && base + len - 1 >= bus->ranges[i].base)
		return -EEXIST;
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 8;
		struct bus_range *r = realloc(bus->ranges, cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		bus->ranges = r;
		bus->cap = cap;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i],
		(bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){ base, len, fn, opaque };
	bus->nr++;
	return 0;
}

bool bus_dispatch(const struct bus *bus, uint64_t addr, uint8_t *data,
		  uint32_t len, bool is_write)
{
	size_t lo = 0, hi = bus->nr;

	if (!is_write)
		memset(data, 0xff, len);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &bus->ranges[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->len) {
			lo = mid + 1;
		} else {
			/* An access that straddles the end of a device is
			 * dropped rather than handed over half-owned. */
			if (len > r->len - (addr - r->base))
				return false;
			r->fn(r->opaque, addr - r->base, data, len, is_write);
			return true;
		}
	}
	return false;
}

void bus_exit(struct bus *bus)
{
	free(bus->ranges);
	memset(bus, 0, sizeof(*bus));
}
