// SPDX-License-Identifier: GPL-2.0
/* --disk images: open, lock, size and O_DIRECT alignment, one error line each. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "backend/disk.h"
#include "lib/log.h"

/* Messages name the file as the user spelt it. */
#define DISK_FMT	"--disk '%.*s'"
#define DISK_ARG(c)	(int)(c)->path_len, (c)->arg

static int disk_open_fd(const struct disk_config *cfg, const char *path)
{
	int flags = (cfg->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		    (cfg->direct ? O_DIRECT : 0);
	int fd = open(path, flags);
	int err = errno;

	if (fd >= 0)
		return fd;
	if (!cfg->ro && (err == EACCES || err == EROFS || err == EPERM) &&
	    !access(path, R_OK))
		pr_err(DISK_FMT ": read-only on this host (%s): add ,ro to give it to the guest read-only",
		       DISK_ARG(cfg), strerror(err));
	else if (err == EISDIR)
		pr_err(DISK_FMT ": is a directory", DISK_ARG(cfg));
	else if (cfg->direct && err == EINVAL)
		pr_err(DISK_FMT ": its file system does not support O_DIRECT: drop ,direct",
		       DISK_ARG(cfg));
	else
		pr_err(DISK_FMT ": cannot open: %s", DISK_ARG(cfg), strerror(err));
	return -err;
}

/*
 * An open file description lock covers the whole file and belongs to
 * this open, so it conflicts with another open of the same image even in
 * this process (the same file given twice). A file system without locks
 * only gets a warning: refusing would make such images unusable.
 */
static int disk_lock(const struct disk_config *cfg, int fd)
{
	struct flock fl = {
		.l_type = cfg->ro ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
	};

	if (!fcntl(fd, F_OFD_SETLK, &fl))
		return 0;
	if (errno == EAGAIN || errno == EACCES) {
		pr_err(DISK_FMT ": in use by another VM or program, which holds a lock on it (only ,ro users can share an image)",
		       DISK_ARG(cfg));
		return -EBUSY;
	}
	pr_warn(DISK_FMT ": cannot lock it (%s); nothing keeps another VM from writing it too",
		DISK_ARG(cfg), strerror(errno));
	return 0;
}

static int disk_size(const struct disk_config *cfg, int fd, struct disk *d)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		pr_err(DISK_FMT ": %s", DISK_ARG(cfg), strerror(errno));
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		d->size = st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &d->size) < 0) {
			pr_err(DISK_FMT ": cannot size the block device: %s",
			       DISK_ARG(cfg), strerror(errno));
			return -errno;
		}
	} else {
		pr_err(DISK_FMT ": %s", DISK_ARG(cfg), S_ISDIR(st.st_mode) ?
		       "is a directory" : "is not a regular file or block device");
		return -EINVAL;
	}
	if (d->size < DISK_SECTOR_SIZE) {
		pr_err(DISK_FMT ": is empty (a disk needs at least one 512-byte sector; try truncate -s 1G)",
		       DISK_ARG(cfg));
		return -EINVAL;
	}
	if (d->size % DISK_SECTOR_SIZE)
		pr_warn(DISK_FMT ": the guest cannot see the last %u bytes (not a whole sector)",
			DISK_ARG(cfg), (unsigned int)(d->size % DISK_SECTOR_SIZE));
	d->block_size = st.st_blksize >= DISK_SECTOR_SIZE ? st.st_blksize :
			DISK_SECTOR_SIZE;
	return 0;
}

static uint32_t at_least_sector(uint32_t v)
{
	return v > DISK_SECTOR_SIZE ? v : DISK_SECTOR_SIZE;
}

/*
 * What O_DIRECT needs: the kernel says so through statx (STATX_DIOALIGN,
 * Linux 6.1); without that answer, one sector for both, which is what
 * nearly every device takes. File offsets never go below a sector: that
 * is the protocol's unit anyway.
 */
static void disk_dio_align(int fd, struct disk *d)
{
	struct statx stx;
	int ssz;

	d->mem_align = d->off_align = DISK_SECTOR_SIZE;
	if (!statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
		d->mem_align = stx.stx_dio_mem_align ? stx.stx_dio_mem_align : 1;
		d->off_align = at_least_sector(stx.stx_dio_offset_align);
	} else if (!ioctl(fd, BLKSSZGET, &ssz) && ssz > 0) {
		d->off_align = at_least_sector(ssz);
	}
}

int disk_open(const struct disk_config *cfg, struct disk *d)
{
	char *path = strndup(cfg->arg, cfg->path_len);
	int err;

	*d = (struct disk){ .fd = -1, .ro = cfg->ro, .direct = cfg->direct,
			    .mem_align = 1, .off_align = DISK_SECTOR_SIZE };
	memcpy(d->serial, cfg->serial, sizeof(d->serial));
	if (!path) {
		pr_err(DISK_FMT ": out of memory", DISK_ARG(cfg));
		return -ENOMEM;
	}
	err = disk_open_fd(cfg, path);
	free(path);
	if (err < 0)
		return err;
	d->fd = err;
	err = disk_size(cfg, d->fd, d);
	if (!err)
		err = disk_lock(cfg, d->fd);
	if (err) {
		disk_close(d);
		return err;
	}
	if (d->direct)
		disk_dio_align(d->fd, d);
	return 0;
}
