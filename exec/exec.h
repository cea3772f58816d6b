/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmini exec: run one command in a throw-away VM and hand back its
 * output and exit status (docs/exec.md).
 *
 *   exec_cli.c   the options, into struct exec_config
 *   exec_job.c   the job spec the guest agent reads (/job)
 *   exec.c       the kernel, the initramfs (agent + job), the VM's run
 *   exec_out.c   the job's stdout, stderr and exit status: ports of a
 *                virtio-console, written to kvmini's fd 1 and 2 with
 *                flow control
 */
#ifndef KVMINI_EXEC_H
#define KVMINI_EXEC_H

#include <stdbool.h>
#include <stddef.h>

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
	char **argv;		/* the command, NULL-terminated */
	int argc;
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

/* kvmini exec's main(); returns kvmini's exit status. */
int exec_main(int argc, char **argv);

/*
 * Runs a filled-in job (from exec_parse() or kvmini oci) in a VM and
 * returns kvmini's exit status: the job's, or one of docs/exit-codes.md
 * after one error line. ec stays the caller's to free.
 */
int exec_run_config(struct exec_config *ec);

/*
 * exec_out.c: the job's streams and status. exec_out_new() prepares them
 * (before vm_create(), one error line on failure); exec.c sets
 * vm->first_virtio to exec_out_device(vm), which vm_devices_init() adds
 * first: a virtio-console with the ports "stdout",
 * "stderr" and "status", and the status the agent writes there ends the
 * VM once the streams are written out. exec_out_free() after
 * vm_destroy() gives fds 1 and 2 back as they were.
 */
#define EXEC_OUT_STREAMS	2
struct vm;
struct virtio_dev;
struct exec_out;
int exec_out_new(struct exec_out **out);
struct virtio_dev *exec_out_device(struct vm *vm);
/* Whether the agent reported a status (it had its ports, so its own
 * errors reached stderr). */
bool exec_out_reported(const struct exec_out *o);
void exec_out_free(struct exec_out *o);

#endif
