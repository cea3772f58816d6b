/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest physical memory: the single choke point through which every
 * guest-supplied address is turned into a host pointer.
 *
 * Contract: gmem_ptr() returns a pointer only when the whole range
 * [gpa, gpa + len) lies inside one RAM region; the arithmetic cannot
 * overflow, whatever the guest supplied. Anything else yields NULL.
 */
#ifndef KVMINI_MEM_H
#define KVMINI_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct gmem_region region[GMEM_MAX_REGIONS];
	unsigned int nr_regions;
	uint8_t *map;		/* one host mapping that backs every region */
	size_t map_size;
	uint64_t ram_size;	/* sum of region sizes */
	int fd;			/* the memfd behind map, or -1 (anonymous) */
	/* The memory file gmem_restore() last filled the memfd from (device,
	 * inode, mtime): a second call with it copies nothing (mem_file.h). */
	bool filled;
	uint64_t filled_dev, filled_ino, filled_mtime_ns;
};

/* Maps ram_size bytes of anonymous memory and splits it into the regions
 * the architecture's memory map asks for. Returns 0 or -errno. */
int gmem_init(struct guest_mem *m, uint64_t ram_size);
/*
 * The same, backed by a memfd mapped MAP_SHARED, so that another process
 * (a vhost-user backend) can map guest RAM too: m->fd is that memfd and
 * a region lies at gmem_offset() in it. Only when something needs it:
 * every process that maps it can read and write all of guest RAM.
 */
int gmem_init_shared(struct guest_mem *m, uint64_t ram_size);
void gmem_exit(struct guest_mem *m);

/* Where region r starts in m->fd (and in m->map). */
static inline uint64_t gmem_offset(const struct guest_mem *m, const struct gmem_region *r)
{
	return (uint64_t)(r->hva - m->map);
}

/* Appends a region backed by map + offset; used by gmem_init's callers
 * (the arch memory map) and by unit tests with a malloc'd buffer. */
int gmem_add_region(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *hva);

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len);

/* Copies into guest memory; -EFAULT when the range is not RAM. */
int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len);

/* The last guest-physical byte + 1 of the region that contains gpa, or 0. */
uint64_t gmem_region_end(const struct guest_mem *m, uint64_t gpa);

#endif
