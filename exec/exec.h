/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmini exec: run one command in a throw-away VM and hand back its
 * output and exit status (docs/exec.md).
 *
 *   exec_cli.c   the options, into struct exec_config
 *   exec_job.c   the job spec the guest agent reads from the port "job"
 *   exec_cache.c the cache of booted-and-ready snapshots: keys, entries,
 *                the locks concurrent execs claim them with
 *   exec_cache_evict.c  its bound: which entries go when it is full
 *   exec.c       the kernel, the initramfs (the agent), the VM's run:
 *                cold, or restored from the cache
 *   exec_out.c   the job's stdout, stderr and exit status: ports of a
 *                virtio-console, written to kvmini's fd 1 and 2 with
 *                flow control
 *   exec_in.c    kvmini's stdin to the job's, and the signals kvmini
 *                forwards, on two more of those ports
 *   exec_time.c  --verbose's timeline of the job's start
 */
#ifndef KVMINI_EXEC_H
#define KVMINI_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/config.h"

/* The root takes one of the VM's virtio-fs devices. */
#define EXEC_SHARES_MAX		(CONFIG_SHARES_MAX - 1)
#define EXEC_ENV_MAX		256
#define EXEC_TMPFS_MAX		16
#define EXEC_GROUPS_MAX		32

/* Where the job's / comes from. */
enum exec_root {
	EXEC_ROOT_HOST,		/* the host's /, read-only, tmpfs overlay */
	EXEC_ROOT_INITRD,	/* the initramfs (--initrd) as it is */
	EXEC_ROOT_DIR,		/* root_dir as the job's / itself, no overlay
				 * (kvmini oci: a bundle's rootfs) */
};

/* One --share HOSTDIR[:GUESTDIR][,ro]. */
struct exec_share {
	char *host;		/* absolute, resolved */
	char *guest;		/* absolute; HOSTDIR by default */
	bool ro;
	bool files;		/* kvmini oci: bound files only (exec_file), the
				 * directory itself never mounted in the job's reach */
};

/* kvmini oci: file NAME of share number share (one with files set),
 * bind-mounted at guest, an absolute path in the job's root. */
#define EXEC_FILES_MAX		32
struct exec_file {
	unsigned int share;
	char *name;
	char *guest;
};

/* The snapshot cache's bound (exec_cache_evict.c). */
#define EXEC_CACHE_MAX_BYTES	(2ULL << 30)
#define EXEC_CACHE_MAX_ENTRIES	8
#define EXEC_CACHE_ENTRIES_LIMIT	100000	/* what the option takes */
struct exec_cache_limits {
	uint64_t max_bytes;
	unsigned int max_entries;
};

struct exec_config {
	struct vm_config vm;	/* what vm_create() gets */
	const char *kernel;	/* --kernel, or NULL: search (exec.c) */
	const char *initrd;	/* --initrd: unpacked before the agent */
	enum exec_root root;
	struct exec_share shares[EXEC_SHARES_MAX];
	unsigned int nr_shares;
	const char *workdir;	/* NULL: the first share, else / */
	const char *env[EXEC_ENV_MAX];	/* "K=V" */
	unsigned int nr_env;
	bool net_user;
	bool tty;		/* -t: the job on a terminal in the guest */
	/* The snapshot cache: off unless exec_parse() turns it on (kvmini
	 * oci leaves it off); snapshot_dir NULL: $XDG_CACHE_HOME/kvmini. */
	bool snapshot;
	const char *snapshot_dir;
	struct exec_cache_limits snapshot_limits;
	bool clear_snapshots;	/* --clear-snapshots: only that, no job */
	char **argv;		/* the command, NULL-terminated */
	int argc;
	uint64_t t0;		/* exec_time_now() when kvmini exec started;
				 * 0: no timeline (kvmini oci) */
	/* Set by kvmini oci only (exec's options leave them unset). */
	char *root_dir;		/* EXEC_ROOT_DIR: absolute host directory */
	bool root_ro;		/* EXEC_ROOT_DIR: mounted read-only */
	bool has_user;		/* run the command as uid:gid, else root */
	unsigned int uid, gid;
	unsigned int groups[EXEC_GROUPS_MAX];	/* supplementary, with has_user */
	unsigned int nr_groups;
	char *hostname;		/* NULL: "kvmini" */
	char *tmpfs[EXEC_TMPFS_MAX];	/* absolute guest directories */
	unsigned int nr_tmpfs;
	struct exec_file files[EXEC_FILES_MAX];	/* kvmini oci frees them */
	unsigned int nr_files;
};

/*
 * argv[0] is "exec". Returns 0 and fills ec, 1 after --help, or -errno
 * after one error line. exec_config_free() releases what it allocated,
 * also after a failure.
 */
int exec_parse(int argc, char **argv, struct exec_config *ec);
void exec_config_free(struct exec_config *ec);

/*
 * The job spec (docs/exec.md): NUL-terminated strings in pairs, key then
 * value, after the magic pair "kvmini-job" "1". Returns a malloc'd buffer
 * in *buf, or -ENOMEM.
 */
#define EXEC_JOB_MAGIC		"kvmini-job"
#define EXEC_JOB_VERSION	"1"
/* virtio-fs tags: the root, then share0, share1… */
#define EXEC_ROOT_TAG		"root"
int exec_job_encode(const struct exec_config *ec, char **buf, size_t *len);

/*
 * What kvmini sends on the port "job" once the agent said "ready": the
 * spec's length (4 bytes, little-endian), EXEC_JOB_ENTROPY bytes from
 * getrandom() that the agent mixes into the guest's pool before anything
 * else (so that jobs restored from one snapshot never share random
 * numbers), then the spec. -E2BIG past EXEC_JOB_MAX, -ENOMEM.
 */
#define EXEC_JOB_ENTROPY	64
#define EXEC_JOB_MAX		(16 << 20)
#define EXEC_JOB_READY		"ready"	/* the agent's line on "status" */
int exec_job_frame(const char *spec, size_t len,
		   const uint8_t entropy[EXEC_JOB_ENTROPY], char **buf, size_t *out_len);

/*
 * exec_cache.c. exec_cache_key(): the key text (malloc'd, NULL without
 * memory) of everything that shapes the VM until the agent is ready:
 * kvmini's version (which covers the agent it carries), the kernel file
 * (its path and st's identity: device, inode, size, mtime), and from ec
 * (after exec.c filled ec->vm) mem, cpus, command line, console, root,
 * the virtio-fs devices (count, tags, ro), the network and the vsock
 * CID. exec_cache_dir(): the cache directory, made 0700 if missing;
 * NULL (after a warning if it could not be made) means no cache.
 * An entry: path is the snapshot, key_path its key text; hit when the
 * text matches and the snapshot is there.
 *
 * Concurrent execs agree through two OFD locks on bytes of HASH.key:
 * EXEC_LOCK_USE, shared while an exec restores the entry, exclusive to
 * remove it (eviction, a drop); EXEC_LOCK_SAVE, exclusive while an exec
 * boots to save it. exec_cache_claim() returns EXEC_CACHE_HIT (the use
 * lock held, the entry's stamp touched: restore it, then release),
 * EXEC_CACHE_SAVE (the save lock held, no snapshot there: boot cold and
 * save to path; kept until exec_cache_entry_free()), EXEC_CACHE_BUSY
 * (another exec saves or removes it: boot cold, save nothing), or -errno.
 * The use lock needs to be held only until the restore has read the
 * state and the memory file: a MAP_PRIVATE mapping of a file keeps its
 * inode and pages after the file is unlinked (Linux), and memfd RAM gets
 * a copy, so an entry removed after that harms no VM restored from it.
 * exec_cache_drop(): removes a snapshot that restore refused (under the
 * use lock, so not while another exec restores it; the key stays);
 * whether it went.
 */
struct stat;
struct exec_cache_entry {
	char *path;
	char *key_path;
	int lock;		/* the key file with our lock, or -1 */
};
enum exec_cache_claim {
	EXEC_CACHE_BUSY,
	EXEC_CACHE_HIT,
	EXEC_CACHE_SAVE,
	EXEC_CACHE_AGAIN,	/* internal: another exec stepped in, retry */
};
#define EXEC_LOCK_USE		0
#define EXEC_LOCK_SAVE		1
/* A snapshot on its way out: .HASH.gone-PID-N (snap_dir's temporaries
 * are .HASH.tmp-PID-N). */
#define EXEC_CACHE_GONE		".gone-"
/* How every key text starts; the version follows. */
#define EXEC_KEY_HEAD		"kvmini-exec-snapshot 1\nversion "
uint64_t exec_cache_hash(const char *s, size_t len);
char *exec_cache_key(const struct exec_config *ec, const char *kernel,
		     const struct stat *st, const char *version);
char *exec_cache_dir(const char *snapshot_dir);
int exec_cache_entry(const char *dir, const char *key, struct exec_cache_entry *e);
void exec_cache_entry_free(struct exec_cache_entry *e);
bool exec_cache_hit(const struct exec_cache_entry *e, const char *key);
int exec_cache_put_key(const struct exec_cache_entry *e, const char *key);
int exec_cache_claim(struct exec_cache_entry *e, const char *key);
void exec_cache_release(struct exec_cache_entry *e);
bool exec_cache_drop(struct exec_cache_entry *e);
/* For exec_cache_evict.c: a lock (F_RDLCK, F_WRLCK, F_UNLCK) on one
 * byte, never waiting (0 or -errno); a snapshot renamed away and
 * removed (-ENOENT: it had vanished); a directory's files and itself. */
int exec_cache_lock(int fd, unsigned int byte, short type);
int exec_cache_unlink_snapshot(int dirfd, const char *name);
void exec_cache_remove_dir(int dirfd, const char *name);

/*
 * exec_cache_evict.c: the cache's bound, total allocated bytes (st_blocks:
 * memory files are sparse) and a number of entries. exec_cache_evict()
 * removes entries until at most max_entries - room are left and their
 * bytes are at most max_bytes: first those of other kvmini versions
 * (unreachable: their key's version line differs), then the least
 * recently used (the key file's mtime, touched on each hit); never
 * keep (an entry's HASH, or NULL), never one another exec restores or
 * removes right now (its use lock is held), and an entry that vanished
 * meanwhile is gone, not an error. It also removes what dead execs left
 * (temporaries of a process that is no more, keys with no snapshot).
 * Returns how many entries it removed, or -errno when it cannot read
 * dir.
 */
int exec_cache_evict(const char *dir, const char *keep, const char *version,
		     const struct exec_cache_limits *lim, unsigned int room);
/* One entry out of the directory dirfd: 0, -ENOENT when it had vanished
 * (gone all the same), -EBUSY when another exec restores or removes it. */
int exec_cache_evict_one(int dirfd, const char *hash);

/* kvmini exec's main(); returns kvmini's exit status. */
int exec_main(int argc, char **argv);

/*
 * Runs a filled-in job (from exec_parse() or kvmini oci) in a VM and
 * returns kvmini's exit status: the job's, or one of docs/exit-codes.md
 * after one error line. ec stays the caller's to free.
 */
int exec_run_config(struct exec_config *ec);

/*
 * exec_time.c: with --verbose, "exec: +N ms: STEP" lines, N counted from
 * t0, an exec_time_now() taken as kvmini exec starts (its process's own
 * start, before main(), is not counted), so that users and tests see
 * where a job's start-up goes. Nothing without --verbose or with t0 0.
 * Any thread (the clock is read without a system call).
 */
uint64_t exec_time_now(void);
void exec_time_step(uint64_t t0, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * exec_out.c: the job's streams and status. exec_out_new() prepares them
 * (before vm_create(), one error line on failure); exec.c sets
 * vm->first_virtio to exec_out_device(vm), which vm_devices_init() adds
 * first: a virtio-console with the ports "stdout", "stderr", "status",
 * "job", "stdin" and "ctl" (exec_in.c), and the status the agent writes there ends the VM once the
 * streams are written out. exec_out_set_job(): the job frame to send
 * (kept, not copied) once the agent says "ready" on "status", or at
 * once with ready (a VM restored at that point); with snapshot set, the
 * VM is paused and snapshotted there first (a cold boot that fills the
 * cache). After vm_create(), before vm_run(). exec_out_free() after
 * vm_destroy() gives fds 1 and 2 back as they were.
 */
#define EXEC_OUT_STREAMS	2
struct vm;
struct virtio_dev;
struct exec_out;
int exec_out_new(struct exec_out **out, bool tty);
struct virtio_dev *exec_out_device(struct vm *vm);
void exec_out_set_job(struct exec_out *o, const char *job, size_t len,
		      const char *snapshot, bool ready);
/* The timeline's origin (exec_time.c) for the steps exec_out sees: the
 * agent ready, the job sent, its status in. Default 0: none. */
void exec_out_set_t0(struct exec_out *o, uint64_t t0);
/* Whether the agent reported a status (it had its ports, so its own
 * errors reached stderr). */
bool exec_out_reported(const struct exec_out *o);
void exec_out_free(struct exec_out *o);

/*
 * exec_in.c: host to guest, driven by exec_out.c. exec_in_new() before
 * any thread exists (it blocks EXEC_FWD_SIGNALS and reads how stdin may
 * be read; with tty, it puts a terminal on stdin in raw mode, lib/term.h,
 * and queues its window size); exec_in_attach() with the device and its ports "stdin" and
 * "ctl"; exec_in_pump() on the I/O thread once the job is all sent, and
 * whenever the guest has posted buffers: the signals become the job's,
 * stdin and messages go in as far as the guest takes them.
 */
struct exec_in;
int exec_in_new(struct exec_in **in, bool tty);
void exec_in_attach(struct exec_in *in, struct vm *vm, struct virtio_dev *vdev,
		    unsigned int stdin_port, unsigned int ctl_port);
void exec_in_pump(struct exec_in *in);
void exec_in_free(struct exec_in *in);

/*
 * A message on the port "ctl" (docs/exec.md): EXEC_CTL_SIZE bytes, the
 * type in byte 0, bytes 1-3 zero, a 64-bit little-endian value in bytes
 * 4-11. EOF: stdin ended after value bytes on "stdin"; SIGNAL: send the
 * job's process signal value; WINSIZE: rows | cols << 16 for its
 * terminal. The agent (guests/agent/agent.c) decodes them.
 */
#define EXEC_CTL_SIZE		12
#define EXEC_CTL_EOF		'E'
#define EXEC_CTL_SIGNAL		'S'
#define EXEC_CTL_WINSIZE	'W'
#define EXEC_FWD_SIGNALS \
	{ SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR2, SIGWINCH }
void exec_ctl_encode(uint8_t msg[EXEC_CTL_SIZE], char type, uint64_t value);
/* Whether kvmini exec passes sig on to the job. */
bool exec_signal_forwarded(int sig);

#endif
