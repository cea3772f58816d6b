// SPDX-License-Identifier: GPL-2.0
/* newc cpio writer (see cpio.h); the format is the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/cpio.h"

#define CPIO_HDR_LEN	110		/* "070701" and 13 fields of 8 hex digits */
#define CPIO_NAME_MAX	4096		/* the kernel's PATH_MAX */
#define CPIO_FILE_MAX	0xffffffffULL	/* c_filesize is 32 bits */

void cpio_init(struct cpio *c)
{
	*c = (struct cpio){ .ino = 1 };
}

void cpio_free(struct cpio *c)
{
	free(c->buf);
	cpio_init(c);
}

/* Room for len more bytes, growing by doubling. */
static int cpio_reserve(struct cpio *c, size_t len)
{
	size_t cap = c->cap ? c->cap : 4096;
	uint8_t *buf;

	if (c->err)
		return c->err;
	if (len > SIZE_MAX / 2 - c->len)
		return c->err = -ENOMEM;
	while (cap < c->len + len)
		cap *= 2;
	if (cap == c->cap)
		return 0;
	buf = realloc(c->buf, cap);
	if (!buf)
		return c->err = -ENOMEM;
	c->buf = buf;
	c->cap = cap;
	return 0;
}

static int cpio_put(struct cpio *c, const void *data, size_t len)
{
	int err = cpio_reserve(c, len);

	if (err)
		return err;
	if (len)
		memcpy(c->buf + c->len, data, len);
	c->len += len;
	return 0;
}

static int cpio_pad4(struct cpio *c)
{
	static const uint8_t zeros[4];

	return cpio_put(c, zeros, -c->len & 3);
}

int cpio_add_raw(struct cpio *c, const void *data, size_t len)
{
	int err = cpio_put(c, data, len);

	return err ? err : cpio_pad4(c);
}

static int cpio_entry(struct cpio *c, const char *name, uint32_t mode,
		      const void *data, size_t len)
{
	size_t name_len = strlen(name) + 1;
	char hdr[CPIO_HDR_LEN + 1];

	if (c->err)
		return c->err;
	if (name_len == 1 || name_len > CPIO_NAME_MAX)
		return c->err = -ENAMETOOLONG;
	if (len > CPIO_FILE_MAX)
		return c->err = -EFBIG;
	/* ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	 * rdevmajor, rdevminor, namesize, check */
	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 c->ino++, mode, 0, 0, S_ISDIR(mode) ? 2 : 1, 0,
		 (unsigned int)len, 0, 0, 0, 0, (unsigned int)name_len, 0);
	cpio_put(c, hdr, CPIO_HDR_LEN);
	cpio_put(c, name, name_len);
	cpio_pad4(c);
	cpio_put(c, data, len);
	return cpio_pad4(c);
}

int cpio_add_dir(struct cpio *c, const char *name, uint32_t perm)
{
	return cpio_entry(c, name, S_IFDIR | (perm & 07777), NULL, 0);
}

int cpio_add_file(struct cpio *c, const char *name, uint32_t perm,
		  const void *data, size_t len)
{
	return cpio_entry(c, name, S_IFREG | (perm & 07777), data, len);
}

int cpio_finish(struct cpio *c)
{
	return cpio_entry(c, "TRAILER!!!", 0, NULL, 0);
}
