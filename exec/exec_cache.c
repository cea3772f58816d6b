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
		     "kvmini-exec-snapshot 1\n"
		     "version %s\n"
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
		pr_warn("exec: snapshot cache %s: %s; booting without it", dir,
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
	free(e->path);
	free(e->key_path);
	e->path = e->key_path = NULL;
}

/* The entry's key file says exactly key, and its snapshot is there. */
bool exec_cache_hit(const struct exec_cache_entry *e, const char *key)
{
	size_t len = strlen(key);
	char *buf = malloc(len + 1);
	struct stat st;
	bool hit = false;
	int fd;

	if (!buf)
		return false;
	fd = open(e->key_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, len + 1);

		hit = n == (ssize_t)len && !memcmp(buf, key, len) &&
		      !stat(e->path, &st) && S_ISDIR(st.st_mode);
		close(fd);
	}
	free(buf);
	return hit;
}

/* HASH.key, whole or not at all: a temporary file renamed over it. Two
 * execs of one key write the same text. */
int exec_cache_put_key(const struct exec_cache_entry *e, const char *key)
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
	if (!err && rename(tmp, e->key_path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* A snapshot restore refused: out of the way first (a rename is atomic,
 * so a concurrent exec sees it or not), then removed. */
void exec_cache_drop(const struct exec_cache_entry *e)
{
	char *old, *f;

	if (asprintf(&old, "%s.old-%d", e->path, (int)getpid()) < 0)
		return;
	if (!rename(e->path, old)) {
		static const char *const files[] = { SNAP_FILE_NAME, "memory" };

		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			if (asprintf(&f, "%s/%s", old, files[i]) >= 0) {
				unlink(f);
				free(f);
			}
		}
		if (rmdir(old) < 0)
			pr_warn("exec: cannot remove %s: %s", old, strerror(errno));
	}
	free(old);
}
