// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini oci's bind mounts of single files (oci.h, docs/oci.md). The
 * guest is hostile and root in its own kernel: whatever a virtio-fs
 * share holds, it can read (and write, if the share is rw), whatever the
 * agent mounts where. So a file bind must not share the file's own
 * directory: the shares are two directories of a tmpfs that exists only
 * in the container's process's private mount namespace (and in
 * virtiofsd's, which it starts), holding the bound files alone, each on
 * an empty file named by its index. Nothing else of the host is in them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"

/* Holds empty files and, in rw/, what the guest makes there: small. */
#define OCI_FILES_TMPFS		"mode=0700,size=256k,nr_inodes=256"

static const char *const oci_files_group[2] = { "rw", "ro" };

int oci_files_add(const struct oci_ctx *c, struct oci_spec *spec, unsigned int i,
		  char *src, const char *dst, bool ro)
{
	struct exec_config *ec = &spec->ec;
	struct exec_file *f = &ec->files[ec->nr_files];
	unsigned int share = ec->nr_shares;

	if (ec->nr_files == EXEC_FILES_MAX) {
		oci_err(c, "config.json: mounts[%u]: at most %d files can be bound", i,
			EXEC_FILES_MAX);
		free(src);
		return -EINVAL;
	}
	/* Their group's share, the first file of a group makes it. */
	for (unsigned int k = 0; k < ec->nr_shares; k++) {
		if (ec->shares[k].files && ec->shares[k].ro == ro)
			share = k;
	}
	if (share == ec->nr_shares) {
		if (ec->nr_shares == EXEC_SHARES_MAX) {
			oci_err(c, "config.json: mounts[%u]: at most %d bind mounts (the files bound read-only take one, read-write another)",
				i, EXEC_SHARES_MAX);
			free(src);
			return -EINVAL;
		}
		ec->shares[ec->nr_shares++] = (struct exec_share){ .ro = ro, .files = true };
	}
	spec->file_src[ec->nr_files] = src;
	ec->nr_files++;		/* oci_files_free() frees it from here on */
	f->share = share;
	if (asprintf(&f->name, "%u", ec->nr_files - 1) < 0) {
		f->name = NULL;
		return -ENOMEM;
	}
	f->guest = strdup(dst);
	return f->guest ? 0 : -ENOMEM;
}

int oci_files_prepare(const struct oci_ctx *c, const char *id, const struct oci_dir *d,
		      struct oci_spec *spec)
{
	struct exec_config *ec = &spec->ec;
	char *root;

	if (!ec->nr_files)
		return 0;
	root = realpath(c->root, NULL);
	if (!root || mkdirat(d->dfd, OCI_FILES_DIR, 0700) < 0 ||
	    asprintf(&spec->files_dir, "%s/%s/" OCI_FILES_DIR, root, id) < 0) {
		oci_err(c, "cannot make %s/%s/%s for the files bound: %s", c->root, id,
			OCI_FILES_DIR, strerror(errno));
		spec->files_dir = NULL;
		free(root);
		return -EIO;
	}
	free(root);
	if (strchr(spec->files_dir, ',')) {
		/* virtiofsd takes its options after commas. */
		oci_err(c, "--root '%s' must not contain ',' for a container that binds files",
			c->root);
		return -EINVAL;
	}
	for (unsigned int k = 0; k < ec->nr_shares; k++) {
		struct exec_share *s = &ec->shares[k];

		if (s->files && asprintf(&s->host, "%s/%s", spec->files_dir,
					 oci_files_group[s->ro]) < 0) {
			s->host = NULL;
			return -ENOMEM;
		}
	}
	return 0;
}

/* An empty file at path, the bind's mount point. */
static int oci_files_point(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int oci_files_mount(const struct oci_ctx *c, const struct oci_spec *spec)
{
	const struct exec_config *ec = &spec->ec;
	char path[PATH_MAX];
	const char *what = "a mount namespace of its own";
	int err;

	if (!ec->nr_files)
		return 0;
	/* Ours and virtiofsd's alone: nothing of it reaches the host's. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		goto fail;
	what = spec->files_dir;
	if (mount("tmpfs", spec->files_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  OCI_FILES_TMPFS) < 0)
		goto fail;
	for (int g = 0; g < 2; g++) {
		snprintf(path, sizeof(path), "%s/%s", spec->files_dir, oci_files_group[g]);
		if (mkdir(path, 0755) < 0)
			goto fail;
	}
	for (unsigned int i = 0; i < ec->nr_files; i++) {
		const struct exec_file *f = &ec->files[i];
		bool ro = ec->shares[f->share].ro;

		snprintf(path, sizeof(path), "%s/%s/%s", spec->files_dir,
			 oci_files_group[ro], f->name);
		what = spec->file_src[i];
		err = oci_files_point(path);
		if (err) {
			errno = -err;
			goto fail;
		}
		if (mount(spec->file_src[i], path, NULL, MS_BIND, NULL) < 0 ||
		    (ro && mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID |
				 MS_NODEV, NULL) < 0))
			goto fail;
	}
	return 0;
fail:
	err = errno;
	oci_err(c, "cannot bind files into the container (%s): %s%s", what, strerror(err),
		err == EPERM ? " (binding a file needs CAP_SYS_ADMIN: run as root or in the engine's user namespace)" : "");
	return -err;
}

void oci_files_free(struct oci_spec *spec)
{
	struct exec_config *ec = &spec->ec;

	for (unsigned int i = 0; i < ec->nr_files; i++) {
		free(spec->file_src[i]);
		free(ec->files[i].name);
		free(ec->files[i].guest);
		spec->file_src[i] = NULL;
	}
	ec->nr_files = 0;
	free(spec->files_dir);
	spec->files_dir = NULL;
}
