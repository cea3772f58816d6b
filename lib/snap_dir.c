// SPDX-License-Identifier: GPL-2.0
/* A snapshot directory, written as a whole or not at all: see snap_dir.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/snap_dir.h"

static int split_path(struct snap_dir *d, const char *path)
{
	char *a = strdup(path), *b = strdup(path);
	int err = 0;

	if (!a || !b) {
		err = -ENOMEM;
		goto out;
	}
	d->name = strdup(basename(a));
	if (!d->name) {
		err = -ENOMEM;
		goto out;
	}
	if (!strcmp(d->name, "/") || !strcmp(d->name, ".") ||
	    !strcmp(d->name, "..")) {
		err = -EINVAL;
		goto out;
	}
	d->parent = open(dirname(b), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->parent < 0)
		err = -errno;
out:
	free(a);
	free(b);
	return err;
}

int snap_dir_create(struct snap_dir *d, const char *path)
{
	static unsigned int seq;
	struct stat st;
	int err;

	d->parent = d->fd = -1;
	d->name = d->tmp = NULL;
	d->nr_files = 0;
	err = split_path(d, path);
	if (err)
		return err;
	if (!fstatat(d->parent, d->name, &st, AT_SYMLINK_NOFOLLOW))
		return -EEXIST;
	if (errno != ENOENT)
		return -errno;
	if (asprintf(&d->tmp, ".%s.tmp-%d-%u", d->name, (int)getpid(),
		     __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED)) < 0) {
		d->tmp = NULL;
		return -ENOMEM;
	}
	if (mkdirat(d->parent, d->tmp, 0700) < 0) {
		err = -errno;
		free(d->tmp);
		d->tmp = NULL;
		return err;
	}
	d->fd = openat(d->parent, d->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return d->fd < 0 ? -errno : 0;
}

int snap_dir_file(struct snap_dir *d, const char *file)
{
	int fd;

	if (d->nr_files == SNAP_DIR_FILES)
		return -ENOSPC;
	fd = openat(d->fd, file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	d->files[d->nr_files++] = file;
	return fd;
}

int snap_dir_commit(struct snap_dir *d)
{
	if (fsync(d->fd) < 0)
		return -errno;
	/* RENAME_NOREPLACE: a snapshot someone else committed first stays. */
	if (renameat2(d->parent, d->tmp, d->parent, d->name, RENAME_NOREPLACE) < 0)
		return errno == ENOTEMPTY ? -EEXIST : -errno;
	free(d->tmp);
	d->tmp = NULL;
	fsync(d->parent);
	snap_dir_abort(d);	/* only closes now */
	return 0;
}

/* The temporary directory holds only the files snap_dir_file() made. */
static void remove_tmp(struct snap_dir *d)
{
	for (unsigned int i = 0; i < d->nr_files; i++)
		unlinkat(d->fd, d->files[i], 0);
	unlinkat(d->parent, d->tmp, AT_REMOVEDIR);
}

void snap_dir_abort(struct snap_dir *d)
{
	if (d->tmp && d->fd >= 0 && d->parent >= 0)
		remove_tmp(d);
	if (d->fd >= 0)
		close(d->fd);
	if (d->parent >= 0)
		close(d->parent);
	free(d->tmp);
	free(d->name);
	d->fd = d->parent = -1;
	d->tmp = d->name = NULL;
	d->nr_files = 0;
}
