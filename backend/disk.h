/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A disk image as --disk names it: opened, locked against other writers,
 * sized, and with what O_DIRECT asks of buffers and offsets: a struct disk
 * as virtio/blk_backend.h defines it. What a guest does with it is
 * virtio/blk.c's business.
 */
#ifndef KVMINI_DISK_H
#define KVMINI_DISK_H

#include "lib/config.h"
#include "virtio/blk_backend.h"

/*
 * Opens the image read-write (read-only with ro), with O_DIRECT when
 * asked, and takes an open file description lock on it: shared with ro,
 * exclusive without, so that two VMs never both write it and nobody
 * writes what a read-only VM reads. A regular file or a block device of
 * at least one sector. 0, or -errno after one error line that says what
 * to do.
 */
int disk_open(const struct disk_config *cfg, struct disk *d);

#endif
