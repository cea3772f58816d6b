/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A whole file mapped read-only (the kernel, the initrd), for loaders that
 * parse it in place. map_file() returns 0, or -errno after one error line
 * naming what the file is for; unmap_file() of NULL is a no-op.
 */
#ifndef KVMINI_MAP_FILE_H
#define KVMINI_MAP_FILE_H

#include <stddef.h>
#include <stdint.h>

int map_file(const char *what, const char *path, const uint8_t **data,
	     size_t *size);
void unmap_file(const uint8_t *data, size_t size);

#endif
