// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot cache's bound (exec.h): which entries go when it is full,
 * and the removal of what dead execs left behind.
 *
 * Safe against concurrent execs by construction: an entry is removed only
 * under its exclusive use lock, which an exec restoring it holds shared
 * (so the removal waits for no one and skips it), and by a rename first
 * (exec_cache_unlink_snapshot()), so that two evicting at once, or one
 * saving while another evicts, each see the entry whole or not at all; an
 * entry another exec removed first has vanished, which is no error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/exec.h"
#include "lib/log.h"

#define HASH_LEN	16
/* A temporary of a process that is gone, and at least this old, is
 * debris (the age: a process of another PID namespace looks gone). */
#define DEBRIS_AGE_S	600

struct evict_item {
	char name[HASH_LEN + 1];
	uint64_t bytes;		/* allocated: st_blocks */
	struct timespec used;	/* the key's mtime, touched on each hit */
	bool foreign;		/* no key, or another kvmini version's */
};

struct evict_scan {
	struct evict_item *items;
	size_t nr, cap;
	char (*keys)[HASH_LEN + 1];	/* HASH of each HASH.key */
	size_t nr_keys, cap_keys;
};

static bool is_hash(const char *s)
{
	for (int i = 0; i < HASH_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool grow(void **p, size_t *cap, size_t nr, size_t size)
{
	void *n;

	if (nr < *cap)
		return true;
	n = reallocarray(*p, *cap ? *cap * 2 : 16, size);
	if (!n)
		return false;
	*p = n;
	*cap = *cap ? *cap * 2 : 16;
	return true;
}

/* DIR/name's allocated bytes: a snapshot directory and its files. */
static uint64_t entry_bytes(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;
	uint64_t bytes = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (!fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
		    strcmp(de->d_name, ".."))
			bytes += (uint64_t)st.st_blocks * 512;
	closedir(d);
	return bytes;
}

/* Reads HASH.key's head: this kvmini's (and key format's) or not. Its
 * mtime and size go to it. */
static void entry_key(int dirfd, struct evict_item *it, const char *version)
{
	char kname[HASH_LEN + 8], head[128], want[128];
	struct stat st;
	ssize_t n = -1;
	int fd, len;

	snprintf(kname, sizeof(kname), "%s.key", it->name);
	len = snprintf(want, sizeof(want), EXEC_KEY_HEAD "%s\n", version);
	fd = openat(dirfd, kname, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && !fstat(fd, &st)) {
		it->used = st.st_mtim;
		it->bytes += (uint64_t)st.st_blocks * 512;
		n = pread(fd, head, sizeof(head), 0);
	}
	if (fd >= 0)
		close(fd);
	it->foreign = len >= (int)sizeof(want) || n < len || memcmp(head, want, len);
}

static bool pid_gone(const char *s)
{
	char *end;
	long pid = strtol(s, &end, 10);

	if (end == s || pid <= 0 || pid > 0x3fffffff || (*end && *end != '-'))
		return false;
	return kill(pid, 0) < 0 && errno == ESRCH;
}

/*
 * What an exec that is gone left: its snapshot temporaries
 * (.HASH.tmp-PID-N, .HASH.gone-PID-N), key temporaries (HASH.key.tmp-PID)
 * and what older kvminis renamed away (HASH.old-PID). Whether name was one.
 */
static bool debris(int dirfd, const char *name)
{
	const char *p = name + (name[0] == '.'), *pid;
	struct stat st;

	if (strlen(p) < HASH_LEN || !is_hash(p))
		return false;
	p += HASH_LEN;
	if (name[0] == '.' && !strncmp(p, ".tmp-", 5))
		pid = p + 5;
	else if (name[0] == '.' && !strncmp(p, EXEC_CACHE_GONE, strlen(EXEC_CACHE_GONE)))
		pid = p + strlen(EXEC_CACHE_GONE);
	else if (name[0] != '.' && !strncmp(p, ".key.tmp-", 9))
		pid = p + 9;
	else if (name[0] != '.' && !strncmp(p, ".old-", 5))
		pid = p + 5;
	else
		return false;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) ||
	    st.st_mtime > time(NULL) - DEBRIS_AGE_S || !pid_gone(pid))
		return true;
	if (S_ISDIR(st.st_mode))
		exec_cache_remove_dir(dirfd, name);
	else
		unlinkat(dirfd, name, 0);
	return true;
}

static int scan(int dirfd, struct evict_scan *s, const char *version)
{
	int fd = dup(dirfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	struct stat st;
	int err = 0;

	if (!d) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		return err;
	}
	while (!err && (de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strlen(n);

		if (debris(dirfd, n) || len < HASH_LEN || !is_hash(n))
			continue;
		if (len == HASH_LEN + 4 && !strcmp(n + HASH_LEN, ".key")) {
			if (!grow((void **)&s->keys, &s->cap_keys, s->nr_keys, sizeof(*s->keys))) {
				err = -ENOMEM;
				continue;
			}
			memcpy(s->keys[s->nr_keys], n, HASH_LEN);
			s->keys[s->nr_keys++][HASH_LEN] = '\0';
			continue;
		}
		if (len != HASH_LEN || fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISDIR(st.st_mode))
			continue;
		if (!grow((void **)&s->items, &s->cap, s->nr, sizeof(*s->items))) {
			err = -ENOMEM;
			continue;
		}
		struct evict_item *it = &s->items[s->nr++];

		memset(it, 0, sizeof(*it));
		memcpy(it->name, n, HASH_LEN + 1);
		it->used = st.st_mtim;
		it->bytes = entry_bytes(dirfd, n);
		entry_key(dirfd, it, version);
	}
	closedir(d);
	return err;
}

/* Foreign first, then the least recently used; the name breaks ties. */
static int evict_order(const void *a, const void *b)
{
	const struct evict_item *x = a, *y = b;

	if (x->foreign != y->foreign)
		return x->foreign ? -1 : 1;
	if (x->used.tv_sec != y->used.tv_sec)
		return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
	if (x->used.tv_nsec != y->used.tv_nsec)
		return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* fd is still DIR/name. */
static bool same_file_at(int fd, int dirfd, const char *name)
{
	struct stat a, b;

	return !fstat(fd, &a) && !fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * HASH.key with both of its locks taken (no exec restores, removes or
 * saves this entry), or -1: busy, or gone (*gone).
 */
static int lock_key(int dirfd, const char *hash, bool save_too, bool *gone)
{
	char kname[HASH_LEN + 8];
	int fd;

	snprintf(kname, sizeof(kname), "%s.key", hash);
	*gone = false;
	fd = openat(dirfd, kname, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*gone = errno == ENOENT;
		return -1;
	}
	if (exec_cache_lock(fd, EXEC_LOCK_USE, F_WRLCK) ||
	    (save_too && exec_cache_lock(fd, EXEC_LOCK_SAVE, F_WRLCK)) ||
	    !same_file_at(fd, dirfd, kname)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * One entry out: 0, -ENOENT when it had vanished (gone all the same), or
 * -EBUSY when another exec restores or removes it right now.
 */
int exec_cache_evict_one(int dirfd, const char *hash)
{
	char kname[HASH_LEN + 8];
	bool gone;
	int fd = lock_key(dirfd, hash, false, &gone), err;

	/* No key: nothing can hit it (a claim makes the key first). */
	if (fd < 0 && !gone)
		return -EBUSY;
	err = exec_cache_unlink_snapshot(dirfd, hash);
	if (fd >= 0) {
		snprintf(kname, sizeof(kname), "%s.key", hash);
		unlinkat(dirfd, kname, 0);
		close(fd);
	}
	return err;
}

/* Keys with no snapshot (an exec that failed before its save): removed
 * unless an exec is saving or claiming them. */
static void stale_keys(int dirfd, const struct evict_scan *s)
{
	char kname[HASH_LEN + 8];
	struct stat st;
	bool gone;

	for (size_t i = 0; i < s->nr_keys; i++) {
		if (!fstatat(dirfd, s->keys[i], &st, AT_SYMLINK_NOFOLLOW))
			continue;
		int fd = lock_key(dirfd, s->keys[i], true, &gone);

		if (fd < 0)
			continue;
		snprintf(kname, sizeof(kname), "%s.key", s->keys[i]);
		if (fstatat(dirfd, s->keys[i], &st, AT_SYMLINK_NOFOLLOW) && errno == ENOENT)
			unlinkat(dirfd, kname, 0);
		close(fd);
	}
}

int exec_cache_evict(const char *dir, const char *keep, const char *version,
		     const struct exec_cache_limits *lim, unsigned int room)
{
	struct evict_scan s = { 0 };
	unsigned int max_entries = lim->max_entries > room ? lim->max_entries - room : 0;
	uint64_t bytes = 0;
	size_t count;
	int dirfd, err, evicted = 0;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	err = scan(dirfd, &s, version);
	if (err)
		goto out;
	stale_keys(dirfd, &s);
	if (s.nr)	/* qsort() takes no NULL array, even empty */
		qsort(s.items, s.nr, sizeof(*s.items), evict_order);
	count = s.nr;
	for (size_t i = 0; i < s.nr; i++)
		bytes += s.items[i].bytes;
	for (size_t i = 0; i < s.nr && (count > max_entries || bytes > lim->max_bytes); i++) {
		const struct evict_item *it = &s.items[i];

		if (keep && !strcmp(it->name, keep))
			continue;
		err = exec_cache_evict_one(dirfd, it->name);
		if (err == -EBUSY)
			continue;
		count--;
		bytes -= it->bytes;
		if (!err) {
			evicted++;
			pr_info("exec: snapshot %s/%s evicted (%s, %llu MiB)", dir, it->name,
				it->foreign ? "another kvmini's" : "least recently used",
				(unsigned long long)(it->bytes >> 20));
		}
	}
	err = 0;
out:
	free(s.items);
	free(s.keys);
	close(dirfd);
	return err ? err : evicted;
}
