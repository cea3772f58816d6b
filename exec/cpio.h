/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A newc ("070701") cpio archive built in memory: what the kernel unpacks
 * as its initramfs. kvmini exec hands the guest its agent and job this
 * way (exec/exec.c). Entries belong to root, dated 0, so the same input
 * gives the same bytes.
 *
 * Errors stick: after a failed call every later one returns the same
 * -errno and cpio_finish() reports it, so a caller may check once.
 */
#ifndef KVMINI_CPIO_H
#define KVMINI_CPIO_H

#include <stddef.h>
#include <stdint.h>

struct cpio {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint32_t ino;
	int err;
};

void cpio_init(struct cpio *c);
void cpio_free(struct cpio *c);

/*
 * Bytes that go in front of the archive as they are (another archive,
 * compressed or not: the kernel unpacks one after the other), padded
 * with zeros to 4 bytes, where a newc header must start.
 */
int cpio_add_raw(struct cpio *c, const void *data, size_t len);
/* A directory; name has no leading '/'. */
int cpio_add_dir(struct cpio *c, const char *name, uint32_t perm);
/* A regular file of len bytes (at most 4 GiB - 1). */
int cpio_add_file(struct cpio *c, const char *name, uint32_t perm,
		  const void *data, size_t len);
/* The trailer; then c->buf and c->len are the archive. */
int cpio_finish(struct cpio *c);

#endif
