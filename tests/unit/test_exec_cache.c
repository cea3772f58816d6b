// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini exec's snapshot cache on disk: the eviction policy on a temp
 * dir of fake entries (allocated bytes of sparse memory files, LRU order
 * by the key's stamp, other versions first, the protected new entry,
 * entries in use, vanished entries, what dead execs left) and the locks
 * concurrent execs claim entries with.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "exec/exec.h"

#define VERSION	"v1-test"
#define MIB	(1ULL << 20)

static char dir[] = "/tmp/kvmini-exec-cache.XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	strcpy(dir, "/tmp/kvmini-exec-cache.XXXXXX");
}

static void set_mtime(const char *path, time_t t)
{
	struct timespec ts[2] = { { t, 0 }, { t, 0 } };

	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/*
 * A fake entry HASH (16 hex digits from n): a snapshot directory whose
 * memory file is 1 GiB long but has only mib MiB written (allocated),
 * and its key, of version, last used at time used.
 */
static void fake_entry(unsigned int n, unsigned int mib, const char *version, time_t used)
{
	char path[256], *buf = calloc(1, MIB);
	int fd;

	ck_assert_ptr_nonnull(buf);
	memset(buf, 0x5a, MIB);
	snprintf(path, sizeof(path), "%s/%016x", dir, n);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%016x/memory", dir, n);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 1ULL << 30), 0);
	for (unsigned int i = 0; i < mib; i++)
		ck_assert_int_eq(pwrite(fd, buf, MIB, (off_t)i * 64 * MIB), (ssize_t)MIB);
	close(fd);
	free(buf);
	snprintf(path, sizeof(path), "%s/%016x/state", dir, n);
	ck_assert_int_eq(close(creat(path, 0600)), 0);
	snprintf(path, sizeof(path), "%s/%016x.key", dir, n);
	fd = creat(path, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_gt(dprintf(fd, EXEC_KEY_HEAD "%s\nmem 1\n", version), 0);
	close(fd);
	set_mtime(path, used);
}

static bool there(unsigned int n)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%016x", dir, n);
	return !access(path, F_OK);
}

static bool key_there(unsigned int n)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%016x.key", dir, n);
	return !access(path, F_OK);
}

/* How many names the cache directory holds. */
static unsigned int names(void)
{
	char cmd[128];
	unsigned int n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%u", &n), 1);
	pclose(p);
	return n;
}

static int evict(const char *keep, uint64_t max_bytes, unsigned int max_entries,
		 unsigned int room)
{
	struct exec_cache_limits lim = { max_bytes, max_entries };

	return exec_cache_evict(dir, keep, VERSION, &lim, room);
}

/* The least recently used go first, until the count fits; under the
 * bound nothing goes. */
START_TEST(test_evict_lru_count)
{
	fake_entry(1, 1, VERSION, 1000);
	fake_entry(2, 1, VERSION, 4000);
	fake_entry(3, 1, VERSION, 2000);
	fake_entry(4, 1, VERSION, 3000);
	ck_assert_int_eq(evict(NULL, 1ULL << 40, 4, 0), 0);
	ck_assert_uint_eq(names(), 8);
	ck_assert_int_eq(evict(NULL, 1ULL << 40, 2, 0), 2);
	ck_assert(!there(1) && !there(3) && there(4) && there(2));
	ck_assert(!key_there(1) && !key_there(3) && key_there(4) && key_there(2));
	ck_assert_uint_eq(names(), 4);
	/* Room for one more: one entry less. */
	ck_assert_int_eq(evict(NULL, 1ULL << 40, 2, 1), 1);
	ck_assert(!there(4) && there(2));
	ck_assert_uint_eq(names(), 2);
}
END_TEST

/* Bytes are the allocated ones (st_blocks), not the sparse files' 1 GiB
 * each: three of 4 MiB in 9 MiB lose the oldest only. */
START_TEST(test_evict_bytes_sparse)
{
	fake_entry(1, 4, VERSION, 3000);
	fake_entry(2, 4, VERSION, 1000);
	fake_entry(3, 4, VERSION, 2000);
	ck_assert_int_eq(evict(NULL, 13 * MIB, 100, 0), 0);
	ck_assert_int_eq(evict(NULL, 9 * MIB, 100, 0), 1);
	ck_assert(there(1) && !there(2) && there(3));
	ck_assert_int_eq(evict(NULL, 4 * MIB, 100, 0), 2);
	ck_assert(!there(1) && !there(3));
	ck_assert_uint_eq(names(), 0);
}
END_TEST

/* Another kvmini version's entry is unreachable: first to go, however
 * recently used; so is an entry with no key. */
START_TEST(test_evict_foreign_first)
{
	char path[256];

	fake_entry(1, 1, VERSION, 1000);
	fake_entry(2, 1, "v0-old", 5000);
	fake_entry(3, 1, VERSION, 2000);
	fake_entry(4, 1, VERSION, 3000);
	snprintf(path, sizeof(path), "%s/%016x.key", dir, 4);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(evict(NULL, 1ULL << 40, 2, 0), 2);
	ck_assert(there(1) && !there(2) && there(3) && !there(4));
	ck_assert_uint_eq(names(), 4);
}
END_TEST

/* The entry to protect stays even when it is the oldest and alone over
 * the bound. */
START_TEST(test_evict_keep)
{
	fake_entry(1, 4, VERSION, 1000);
	fake_entry(2, 1, VERSION, 2000);
	fake_entry(3, 1, VERSION, 3000);
	ck_assert_int_eq(evict("0000000000000001", 1ULL << 40, 1, 0), 2);
	ck_assert(there(1) && !there(2) && !there(3));
	ck_assert_int_eq(evict("0000000000000001", MIB, 100, 0), 0);
	ck_assert(there(1) && key_there(1));
}
END_TEST

/* An entry another exec restores right now (its use lock shared) is
 * skipped, and the next one goes instead; once released, it may go. */
START_TEST(test_evict_in_use)
{
	struct exec_cache_entry e;
	char key[256];
	int dirfd;

	fake_entry(1, 1, VERSION, 1000);
	fake_entry(2, 1, VERSION, 2000);
	fake_entry(3, 1, VERSION, 3000);
	/* A claim of entry 1 as an exec makes it. */
	ck_assert_int_eq(exec_cache_entry(dir, EXEC_KEY_HEAD VERSION "\nmem 1\n", &e), 0);
	free(e.path);
	free(e.key_path);
	ck_assert_int_ge(asprintf(&e.path, "%s/%016x", dir, 1), 0);
	ck_assert_int_ge(asprintf(&e.key_path, "%s.key", e.path), 0);
	snprintf(key, sizeof(key), EXEC_KEY_HEAD VERSION "\nmem 1\n");
	ck_assert_int_eq(exec_cache_claim(&e, key), EXEC_CACHE_HIT);
	set_mtime(e.key_path, 1000);	/* still the oldest */
	ck_assert_int_eq(evict(NULL, 1ULL << 40, 2, 0), 1);
	ck_assert(there(1) && !there(2) && there(3));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, "0000000000000001"), -EBUSY);
	exec_cache_release(&e);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, "0000000000000001"), 0);
	ck_assert(!there(1) && !key_there(1));
	close(dirfd);
	exec_cache_entry_free(&e);
}
END_TEST

/* An entry that vanished (another exec evicted it first) is gone, not an
 * error; an entry without its key goes without a lock. */
START_TEST(test_evict_vanished)
{
	int dirfd;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dirfd, 0);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, "00000000000000ff"), -ENOENT);
	fake_entry(1, 1, VERSION, 1000);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, "0000000000000001"), 0);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, "0000000000000001"), -ENOENT);
	ck_assert_uint_eq(names(), 0);
	close(dirfd);
}
END_TEST

/*
 * Why an entry may go once a restore has mapped its memory: a MAP_PRIVATE
 * mapping of the file keeps the inode and its pages after the directory
 * is renamed away and the file unlinked (Linux), even pages not touched
 * before (restore maps lazily).
 */
START_TEST(test_evict_mapped_memory)
{
	char path[256];
	uint8_t *p;
	int fd, dirfd;

	fake_entry(1, 4, VERSION, 1000);
	snprintf(path, sizeof(path), "%s/%016x/memory", dir, 1);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	p = mmap(NULL, 1ULL << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	ck_assert_ptr_ne(p, MAP_FAILED);
	close(fd);
	p[0] = 1;			/* a page written before */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, "0000000000000001"), 0);
	ck_assert(!there(1));
	ck_assert_uint_eq(names(), 0);
	ck_assert_uint_eq(p[0], 1);
	ck_assert_uint_eq(p[1], 0x5a);
	ck_assert_uint_eq(p[3 * 64 * MIB + 4096], 0x5a);	/* untouched till now */
	ck_assert_uint_eq(p[5 * 64 * MIB], 0);		/* a hole */
	ck_assert_int_eq(munmap(p, 1ULL << 30), 0);
	close(dirfd);
}
END_TEST

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(0);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

/* Temporaries of an exec that is gone (and old enough) are removed;
 * those of a live one, or a fresh one, stay; so does an unknown name. A
 * key with no snapshot goes unless an exec holds it to save. */
START_TEST(test_evict_debris)
{
	char path[200], live[200], young[200], other[200], key[256];
	pid_t dead = dead_pid();
	struct exec_cache_entry e;

	snprintf(path, sizeof(path), "%s/.00000000000000aa.tmp-%d-0", dir, (int)dead);
	snprintf(live, sizeof(live), "%s/.00000000000000aa.tmp-%d-0", dir, (int)getpid());
	snprintf(young, sizeof(young), "%s/.00000000000000bb.gone-%d-3", dir, (int)dead);
	snprintf(other, sizeof(other), "%s/notes.txt", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(mkdir(live, 0700), 0);
	ck_assert_int_eq(mkdir(young, 0700), 0);
	snprintf(key, sizeof(key), "%s/memory", path);
	ck_assert_int_eq(close(creat(key, 0600)), 0);
	set_mtime(path, 1000);
	set_mtime(live, 1000);
	ck_assert_int_eq(close(creat(other, 0600)), 0);
	set_mtime(other, 1000);
	snprintf(key, sizeof(key), "%s/00000000000000cc.key.tmp-%d", dir, (int)dead);
	ck_assert_int_eq(close(creat(key, 0600)), 0);
	set_mtime(key, 1000);
	/* Two stale keys, one of them being saved. */
	snprintf(key, sizeof(key), "%s/00000000000000dd.key", dir);
	ck_assert_int_eq(close(creat(key, 0600)), 0);
	ck_assert_int_eq(exec_cache_entry(dir, "saving\n", &e), 0);
	ck_assert_int_eq(exec_cache_claim(&e, "saving\n"), EXEC_CACHE_SAVE);
	ck_assert_uint_eq(names(), 7);

	ck_assert_int_eq(evict(NULL, 1ULL << 40, 8, 0), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_int_eq(access(live, F_OK), 0);
	ck_assert_int_eq(access(young, F_OK), 0);
	ck_assert_int_eq(access(other, F_OK), 0);
	ck_assert_int_ne(access(key, F_OK), 0);
	ck_assert_int_eq(access(e.key_path, F_OK), 0);
	ck_assert_uint_eq(names(), 4);
	/* Once the saver is gone, its key with no snapshot goes too. */
	exec_cache_entry_free(&e);
	ck_assert_int_eq(evict(NULL, 1ULL << 40, 8, 0), 0);
	ck_assert_uint_eq(names(), 3);
}
END_TEST

/* Claims: the first of a new shape saves, a second at once is busy (it
 * boots without saving); once saved, any number restore at once, and
 * no one may remove it meanwhile; a drop removes the snapshot but not
 * the key, and the next claim saves anew. */
START_TEST(test_claim)
{
	struct exec_cache_entry a, b;
	const char *key = EXEC_KEY_HEAD VERSION "\nshape\n";
	struct stat st;
	int dirfd;

	ck_assert_int_eq(exec_cache_entry(dir, key, &a), 0);
	ck_assert_int_eq(exec_cache_entry(dir, key, &b), 0);
	ck_assert_int_eq(exec_cache_claim(&a, key), EXEC_CACHE_SAVE);
	ck_assert_int_eq(exec_cache_claim(&b, key), EXEC_CACHE_BUSY);
	ck_assert_int_eq(b.lock, -1);
	ck_assert_int_eq(mkdir(a.path, 0700), 0);	/* a's save */
	exec_cache_release(&a);
	set_mtime(a.key_path, 1000);
	ck_assert_int_eq(exec_cache_claim(&a, key), EXEC_CACHE_HIT);
	ck_assert_int_eq(exec_cache_claim(&b, key), EXEC_CACHE_HIT);
	/* The hit touched the stamp. */
	ck_assert_int_eq(stat(a.key_path, &st), 0);
	ck_assert_int_gt(st.st_mtime, time(NULL) - 100);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(exec_cache_evict_one(dirfd, strrchr(a.path, '/') + 1), -EBUSY);
	ck_assert_int_eq(evict(NULL, 0, 1, 0), 0);
	ck_assert(exec_cache_hit(&a, key));
	/* b restored; a's restore failed: a drops it once b let go. */
	ck_assert(!exec_cache_drop(&a));
	ck_assert(exec_cache_hit(&a, key));
	exec_cache_release(&b);
	ck_assert_int_eq(exec_cache_claim(&a, key), EXEC_CACHE_HIT);
	ck_assert(exec_cache_drop(&a));
	ck_assert_int_eq(a.lock, -1);
	ck_assert_int_ne(access(a.path, F_OK), 0);
	ck_assert_int_eq(access(a.key_path, F_OK), 0);
	ck_assert_int_eq(exec_cache_claim(&a, key), EXEC_CACHE_SAVE);
	/* Another shape with the same hash (a collision) takes the key over. */
	exec_cache_release(&a);
	ck_assert_int_eq(exec_cache_claim(&b, "collision\n"), EXEC_CACHE_SAVE);
	ck_assert(!exec_cache_hit(&a, key));
	close(dirfd);
	exec_cache_entry_free(&a);
	exec_cache_entry_free(&b);
}
END_TEST

/* --clear-snapshots: every entry out but one in use. */
START_TEST(test_clear)
{
	struct exec_cache_entry e;
	const char *key = EXEC_KEY_HEAD VERSION "\nmem 1\n";

	fake_entry(1, 1, VERSION, 1000);
	fake_entry(2, 1, "v0-old", 2000);
	ck_assert_int_eq(exec_cache_entry(dir, key, &e), 0);
	ck_assert_int_eq(exec_cache_claim(&e, key), EXEC_CACHE_SAVE);
	ck_assert_int_eq(mkdir(e.path, 0700), 0);
	exec_cache_release(&e);
	ck_assert_int_eq(exec_cache_claim(&e, key), EXEC_CACHE_HIT);
	ck_assert_int_eq(evict(NULL, 0, 0, 0), 2);
	ck_assert_uint_eq(names(), 2);
	ck_assert(exec_cache_hit(&e, key));
	exec_cache_entry_free(&e);
	ck_assert_int_eq(evict(NULL, 0, 0, 0), 1);
	ck_assert_uint_eq(names(), 0);
}
END_TEST

static Suite *exec_cache_suite(void)
{
	Suite *s = suite_create("exec_cache");
	TCase *tc = tcase_create("evict");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_evict_lru_count);
	tcase_add_test(tc, test_evict_bytes_sparse);
	tcase_add_test(tc, test_evict_foreign_first);
	tcase_add_test(tc, test_evict_keep);
	tcase_add_test(tc, test_evict_in_use);
	tcase_add_test(tc, test_evict_vanished);
	tcase_add_test(tc, test_evict_mapped_memory);
	tcase_add_test(tc, test_evict_debris);
	suite_add_tcase(s, tc);

	tc = tcase_create("claim");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_claim);
	tcase_add_test(tc, test_clear);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(exec_cache_suite)
