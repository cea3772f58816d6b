// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini exec's cache of booted-and-ready snapshots (docs/exec.md).
 *
 * An entry is DIR/exec-snapshots/HASH, a snapshot directory (written
 * whole or not at all: lib/snap_dir.h), and HASH.key beside it, the full
 * key text the hash was taken of: a lookup compares the text, so a hash
 * collision is a miss, not a wrong VM. The key holds everything that
 * shapes the VM up to the agent's "ready"; what varies per job travels
 * in the job (exec_job.c), after the restore.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "lib/log.h"
#include "lib/snapfile.h"

#define EXEC_CACHE_SUBDIR	"exec-snapshots"
#define EXEC_KEY_MAX		(64 << 10)

uint64_t exec_cache_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, 64 bits */

	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

char *exec_cache_key(const struct exec_config *ec, const char *kernel,
		     const struct stat *st, const char *version)
{
	const struct vm_config *c = &ec->vm;
	char *key = NULL, *shares = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&shares, &n);

	if (!f)
		return NULL;
	/* The root share too: its presence and mode shape the VM. */
	for (unsigned int i = 0; i < c->nr_shares; i++)
		fprintf(f, " %s:%s%s", c->shares[i].tag, c->shares[i].ro ? "ro" : "rw",
			c->shares[i].as_nobody ? ",nobody" : "");
	if (fclose(f))
		return NULL;
	if (asprintf(&key,
		     EXEC_KEY_HEAD "%s\n"
		     "kernel %s dev %ju ino %ju size %jd mtime %jd.%09ld\n"
		     "mem %" PRIu64 "\n"
		     "cpus %u\n"
		     "cmdline %s\n"
		     "console %d\n"
		     "root %d\n"
		     "shares %u%s\n"
		     "net %s\n"
		     "vsock %u\n",
		     version, kernel, (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
		     (intmax_t)st->st_size, (intmax_t)st->st_mtim.tv_sec,
		     st->st_mtim.tv_nsec, (uint64_t)c->mem, c->cpus,
		     c->cmdline ? c->cmdline : "", (int)c->console, (int)ec->root,
		     c->nr_shares, shares, ec->net_user ? "user" : "none",
		     c->vsock.cid) < 0)
		key = NULL;
	free(shares);
	return key;
}

/* mkdir -p, each new level 0700: the entries hold guest memory. */
static int exec_mkdirs(char *path)
{
	for (char *p = path + 1; ; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int err = -errno;

			*p = c;
			return err;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/*
 * A snapshot is the guest's memory, which runs with the job's shares:
 * someone else who could put one in the cache could run code with them.
 * So the directory is this user's and no one else may write to it.
 */
static int exec_cache_dir_safe(const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	return 0;
}

char *exec_cache_dir(const char *snapshot_dir)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *dir = NULL;
	int err;

	if (snapshot_dir)
		err = asprintf(&dir, "%s", snapshot_dir);
	else if (xdg && xdg[0] == '/')
		err = asprintf(&dir, "%s/kvmini/" EXEC_CACHE_SUBDIR, xdg);
	else if (home && home[0] == '/')
		err = asprintf(&dir, "%s/.cache/kvmini/" EXEC_CACHE_SUBDIR, home);
	else
		return NULL;
	if (err < 0)
		return NULL;
	err = exec_mkdirs(dir);
	if (!err)
		err = exec_cache_dir_safe(dir);
	if (err) {
		pr_warn("exec: snapshot cache %s: %s; not using it", dir,
			err == -EPERM ? "not this user's alone (owner, or written by group or others)" :
			strerror(-err));
		free(dir);
		return NULL;
	}
	return dir;
}


int exec_cache_entry(const char *dir, const char *key, struct exec_cache_entry *e)
{
	uint64_t h = exec_cache_hash(key, strlen(key));

	memset(e, 0, sizeof(*e));
	e->lock = -1;
	if (asprintf(&e->path, "%s/%016" PRIx64, dir, h) < 0) {
		e->path = NULL;
		return -ENOMEM;
	}
	if (asprintf(&e->key_path, "%s.key", e->path) < 0) {
		e->key_path = NULL;
		return -ENOMEM;
	}
	return 0;
}

void exec_cache_entry_free(struct exec_cache_entry *e)
{
	exec_cache_release(e);
	free(e->path);
	free(e->key_path);
	e->path = e->key_path = NULL;
}

/*
 * The entry's locks: OFD locks (owned by the open key file, not by the
 * process, so two execs in one process would conflict too) on two bytes
 * of HASH.key, which never change size or content under a lock.
 */
int exec_cache_lock(int fd, unsigned int byte, short type)
{
	struct flock l = {
		.l_type = type,
		.l_whence = SEEK_SET,
		.l_start = byte,
		.l_len = 1,
	};

	return fcntl(fd, F_OFD_SETLK, &l) < 0 ? -errno : 0;
}

/* fd is still the file at path: not renamed away or replaced meanwhile. */
static bool exec_cache_same_file(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The key file (open as fd) says exactly key. */
static bool exec_key_is(int fd, const char *key)
{
	size_t len = strlen(key);
	char *buf = malloc(len + 1);
	bool same;

	if (!buf)
		return false;
	same = pread(fd, buf, len + 1, 0) == (ssize_t)len && !memcmp(buf, key, len);
	free(buf);
	return same;
}

static bool exec_snapshot_there(const struct exec_cache_entry *e)
{
	struct stat st;

	return !lstat(e->path, &st) && S_ISDIR(st.st_mode);
}

/* The entry's key file says exactly key, and its snapshot is there. */
bool exec_cache_hit(const struct exec_cache_entry *e, const char *key)
{
	int fd = open(e->key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	bool hit;

	if (fd < 0)
		return false;
	hit = exec_key_is(fd, key) && exec_snapshot_there(e);
	close(fd);
	return hit;
}

/*
 * HASH.key, whole or not at all: a temporary file renamed to it; with
 * replace false, never over one that is there (another exec made it).
 */
static int exec_write_key(const struct exec_cache_entry *e, const char *key, bool replace)
{
	size_t len = strlen(key);
	char *tmp;
	int fd, err = 0;

	if (len > EXEC_KEY_MAX)
		return -E2BIG;
	if (asprintf(&tmp, "%s.tmp-%d", e->key_path, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, key, len) != (ssize_t)len || fsync(fd) < 0)
		err = -errno ?: -EIO;
	if (fd >= 0 && close(fd) < 0 && !err)
		err = -errno;
	if (!err && renameat2(AT_FDCWD, tmp, AT_FDCWD, e->key_path,
			      replace ? 0 : RENAME_NOREPLACE) < 0)
		err = errno == EEXIST ? 0 : -errno;
	if (err || !replace)
		unlink(tmp);
	free(tmp);
	return err;
}

int exec_cache_put_key(const struct exec_cache_entry *e, const char *key)
{
	return exec_write_key(e, key, true);
}

void exec_cache_release(struct exec_cache_entry *e)
{
	if (e->lock >= 0)
		close(e->lock);		/* and with it, its locks */
	e->lock = -1;
}

/* Byte EXEC_LOCK_SAVE of the key open as fd, with no snapshot there yet. */
static enum exec_cache_claim exec_claim_save(struct exec_cache_entry *e, int fd)
{
	if (exec_cache_lock(fd, EXEC_LOCK_SAVE, F_WRLCK))
		return EXEC_CACHE_BUSY;		/* another exec saves it */
	if (!exec_cache_same_file(fd, e->key_path) || exec_snapshot_there(e))
		return EXEC_CACHE_AGAIN;	/* evicted, or saved meanwhile */
	e->lock = fd;
	return EXEC_CACHE_SAVE;
}

/* One try of exec_cache_claim(). */
static enum exec_cache_claim exec_claim_once(struct exec_cache_entry *e, const char *key)
{
	enum exec_cache_claim c;
	int fd, err;

	fd = open(e->key_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		err = exec_write_key(e, key, false);
		return err ? err : EXEC_CACHE_AGAIN;
	}
	if (fd < 0)
		return -errno;
	if (!exec_key_is(fd, key)) {
		/* A hash collision, or a key file cut short: this key's
		 * now (an exec holding the other finds it replaced). */
		close(fd);
		err = exec_write_key(e, key, true);
		return err ? err : EXEC_CACHE_AGAIN;
	}
	if (!exec_cache_lock(fd, EXEC_LOCK_USE, F_RDLCK)) {
		if (!exec_cache_same_file(fd, e->key_path)) {
			close(fd);
			return EXEC_CACHE_AGAIN;
		}
		if (exec_snapshot_there(e)) {
			/* The stamp eviction goes by: least recently used. */
			futimens(fd, NULL);
			e->lock = fd;
			return EXEC_CACHE_HIT;
		}
		exec_cache_lock(fd, EXEC_LOCK_USE, F_UNLCK);
	} else if (exec_snapshot_there(e)) {
		/* Being evicted or dropped right now. */
		close(fd);
		return EXEC_CACHE_BUSY;
	}
	c = exec_claim_save(e, fd);
	if (c != EXEC_CACHE_SAVE)
		close(fd);
	return c;
}

int exec_cache_claim(struct exec_cache_entry *e, const char *key)
{
	int c = EXEC_CACHE_AGAIN;

	exec_cache_release(e);
	/* Each AGAIN is another exec's step in between: a few suffice. */
	for (int i = 0; i < 4 && c == EXEC_CACHE_AGAIN; i++)
		c = exec_claim_once(e, key);
	return c == EXEC_CACHE_AGAIN ? EXEC_CACHE_BUSY : c;
}

/*
 * Removes DIR/name, a snapshot directory renamed out of the way: its
 * files (state and memory; no subdirectories), then itself. Whoever
 * still has the memory file mapped keeps its pages (see exec.h).
 */
void exec_cache_remove_dir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d) {
		if (fd >= 0)
			close(fd);
	} else {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(fd, de->d_name, 0);
		closedir(d);
	}
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		pr_info("exec: cannot remove %s from the snapshot cache: %s", name, strerror(errno));
}

/*
 * Renames DIR/HASH away (atomic: a concurrent exec sees the entry whole
 * or not at all) and removes it. 0, or -ENOENT when it had vanished.
 */
int exec_cache_unlink_snapshot(int dirfd, const char *name)
{
	static unsigned int seq;
	char tmp[64];

	snprintf(tmp, sizeof(tmp), ".%.16s" EXEC_CACHE_GONE "%d-%u", name, (int)getpid(),
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	if (renameat(dirfd, name, dirfd, tmp) < 0)
		return -errno;
	exec_cache_remove_dir(dirfd, tmp);
	return 0;
}

/*
 * A snapshot restore refused: removed, under the entry's lock for
 * changes (so not while another exec restores it). The key stays, for
 * the cold boot that replaces the snapshot. Whether it went.
 */
bool exec_cache_drop(struct exec_cache_entry *e)
{
	char *dir = strdup(e->path), *slash = dir ? strrchr(dir, '/') : NULL;
	int fd = e->lock, dirfd, err = -EBUSY;

	e->lock = -1;
	if (fd < 0)
		fd = open(e->key_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (!slash || fd < 0)
		goto out;
	*slash = '\0';
	if (exec_cache_lock(fd, EXEC_LOCK_USE, F_WRLCK) ||
	    !exec_cache_same_file(fd, e->key_path))
		goto out;
	dirfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0) {
		err = exec_cache_unlink_snapshot(dirfd, slash + 1);
		close(dirfd);
	}
out:
	if (fd >= 0)
		close(fd);
	free(dir);
	return !err || err == -ENOENT;
}
