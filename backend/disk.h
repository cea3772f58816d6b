/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A disk image as --disk names it: opened, locked against other writers,
 * sized, and with what O_DIRECT asks of buffers and offsets. What a guest
 * does with it is virtio/blk.c's business.
 */
#ifndef KVMINI_DISK_H
#define KVMINI_DISK_H

#include <stdbool.h>
#include <stdint.h>

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

/*
 * Opens the image read-write (read-only with ro), with O_DIRECT when
 * asked, and takes an open file description lock on it: shared with ro,
 * exclusive without, so that two VMs never both write it and nobody
 * writes what a read-only VM reads. A regular file or a block device of
 * at least one sector. 0, or -errno after one error line that says what
 * to do.
 */
int disk_open(const struct disk_config *cfg, struct disk *d);
/* Closes (and unlocks) d; a closed disk is a no-op. */
void disk_close(struct disk *d);

#endif
