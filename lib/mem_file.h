/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest RAM to a file and back, for snapshots.
 *
 * The file is the whole of m->map, byte for byte (so a region lies at
 * gmem_offset() in it as in a memfd), written sparse: a page that is all
 * zeroes is a hole, so a 1 GiB guest that touched 40 MiB costs 40 MiB.
 *
 * Restoring anonymous RAM maps the file over it copy-on-write
 * (MAP_PRIVATE | MAP_FIXED): nothing is read until the guest touches a
 * page, and every VM restored from one file shares the pages it only
 * reads, through the page cache. RAM that another process maps too (the
 * memfd virtio-fs needs) cannot be a private view of a file, so it is
 * filled by copying the file's data (its holes stay zero).
 */
#ifndef KVMINI_MEM_FILE_H
#define KVMINI_MEM_FILE_H

#include "lib/mem.h"

/* Writes guest RAM into fd (an empty regular file), then fsyncs it.
 * 0 or -errno; the caller names the file in its error. */
int gmem_save(const struct guest_mem *m, int fd);

/* Replaces guest RAM's contents with the file's, before any vCPU runs.
 * -EINVAL when its size is not m->map_size (nothing touched then); after
 * another error guest RAM is undefined and the VM must not run. Shared
 * RAM filled from this very file (same device and inode) by an earlier
 * call is left as it is: a restore may fill it early, to overlap the
 * copy with other set-up (vmm/vm.c), and fill it again in its turn. */
int gmem_restore(struct guest_mem *m, int fd);

#endif
