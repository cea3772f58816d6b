/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A snapshot directory, written as a whole or not at all.
 *
 * snap_dir_create() makes PATH.tmp-<pid>-<n> (mode 0700: a snapshot holds
 * guest memory, the guest's secrets included) beside PATH; files go in
 * with snap_dir_file() (0600, never an existing one); snap_dir_commit()
 * fsyncs and renames the directory to PATH, so PATH is either absent or
 * complete, never half-written. When PATH appeared meanwhile (another
 * process took the same snapshot), commit says -EEXIST and the caller
 * aborts: the first one stands. snap_dir_abort() removes what was
 * written. Every call returns 0 or -errno; the caller words the error.
 */
#ifndef KVMINI_SNAP_DIR_H
#define KVMINI_SNAP_DIR_H

#define SNAP_DIR_FILES	8

struct snap_dir {
	int parent;		/* the directory PATH is in */
	int fd;			/* the temporary directory */
	char *name;		/* PATH's last component */
	char *tmp;		/* the temporary directory's name in parent */
	/* What snap_dir_file() made, for an abort to remove (no readdir:
	 * the thread that writes snapshots may not list directories). */
	const char *files[SNAP_DIR_FILES];
	unsigned int nr_files;
};

int snap_dir_create(struct snap_dir *d, const char *path);
/* A new file in the temporary directory, open for writing; at most
 * SNAP_DIR_FILES of them, each name a string that outlives d. */
int snap_dir_file(struct snap_dir *d, const char *file);
int snap_dir_commit(struct snap_dir *d);
/* After a failed create or commit, or instead of commit; idempotent. */
void snap_dir_abort(struct snap_dir *d);

#endif
