/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What virtio-blk serves and its backend (backend/disk.c's disk_open(),
 * or a test's temporary image) provides: an open image, its size and
 * what O_DIRECT asks of buffers and offsets. The device owns the fd once
 * virtio_blk_new() succeeds and closes it with disk_close().
 */
#ifndef KVMINI_VIRTIO_BLK_BACKEND_H
#define KVMINI_VIRTIO_BLK_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "lib/config.h"

#define DISK_SECTOR_SIZE	512

struct disk {
	int fd;			/* -1 when closed */
	uint64_t size;		/* bytes; the guest sees whole sectors */
	bool ro;
	bool direct;
	/* O_DIRECT: buffer addresses and lengths must be multiples of
	 * mem_align, file offsets and lengths of off_align (both 512 or
	 * more). 1 and 512 without O_DIRECT. */
	uint32_t mem_align;
	uint32_t off_align;
	uint32_t block_size;	/* the host's allocation unit (st_blksize) */
	char serial[CONFIG_SERIAL_MAX + 1];
};

/* Closes (and unlocks) d; a closed disk is a no-op. */
static inline void disk_close(struct disk *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

#endif
