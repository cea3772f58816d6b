/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvmini oci: an OCI runtime command line (create, start, state, kill,
 * delete, features) whose containers are kvmini exec jobs, each in its
 * own VM (docs/oci.md).
 *
 *   oci_cli.c     global flags, the command's flags, error lines (and --log)
 *   oci_config.c  a bundle's config.json into an exec job
 *   oci_state.c   the state directory: IDs, locks, state.json
 *   oci.c         the commands
 *
 * Every error is one line on stderr (and in --log), and the command
 * exits 1, as runc does.
 */
#ifndef KVMINI_OCI_H
#define KVMINI_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "exec/exec.h"

#define OCI_ROOT_DEFAULT	"/run/kvmini-oci"
#define OCI_VERSION		"1.2.0"	/* the runtime spec we follow */
#define OCI_VERSION_MIN		"1.0.0"	/* the oldest config.json we take */
#define OCI_ID_MAX		128	/* bytes in a container ID */
#define OCI_ANNOTATIONS_MAX	64
#define OCI_EXIT_FAIL		1

/* The global flags, and where error lines go besides stderr. */
struct oci_ctx {
	const char *root;	/* --root: the state directories' parent */
	const char *log;	/* --log FILE, or NULL */
	bool log_json;		/* --log-format json */
	bool debug;
};

/* One error line on stderr ("kvmini: ..."), and in --log if any. */
void oci_err(const struct oci_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* kvmini oci's main(); argv[0] is "oci" (or kvmini-oci). */
int oci_main(int argc, char **argv);

/* One command line, parsed (oci_cli.c), for oci_run() (oci.c). */
enum oci_cmd { OCI_CREATE, OCI_START, OCI_STATE, OCI_KILL, OCI_DELETE, OCI_FEATURES };

struct oci_args {
	enum oci_cmd cmd;
	const char *id;
	const char *bundle;		/* create: --bundle, default . */
	const char *pid_file;		/* create: --pid-file */
	const char *console_socket;	/* create: --console-socket */
	const char *signal;		/* kill: the signal, default TERM */
	bool force;			/* delete --force */
};

/* The command; kvmini oci's exit status (0, or OCI_EXIT_FAIL after one
 * error line). */
int oci_run(const struct oci_ctx *c, const struct oci_args *a);

/* ---- oci_config.c ---------------------------------------------------- */

struct oci_annotation {
	char *key;
	char *value;
};

/* A bundle's config.json, as the job it becomes. */
struct oci_spec {
	struct exec_config ec;	/* ec.argv: argv below */
	char **argv;		/* process.args, NULL-terminated */
	struct oci_annotation annotations[OCI_ANNOTATIONS_MAX];
	unsigned int nr_annotations;
	/*
	 * linux.namespaces' network entry: OCI_NET_HOST when there is none
	 * (the container shares the caller's network), OCI_NET_NEW for one
	 * without a path (a namespace of its own: loopback only), OCI_NET_JOIN
	 * with netns_path, a namespace the engine made and configured.
	 */
	enum { OCI_NET_HOST, OCI_NET_NEW, OCI_NET_JOIN } net;
	char *netns_path;
	char *snapshot_dir;	/* ec.snapshot_dir when create chose it */
	/* File binds (oci_files.c): ec.files[i] binds the host file
	 * file_src[i]; create sets files_dir, their tmpfs's mount point. */
	char *file_src[EXEC_FILES_MAX];
	char *files_dir;
};

/*
 * Reads BUNDLE/config.json (bundle absolute) into spec: every field
 * kvmini takes is checked, an unknown or unsupported one that would
 * change what runs is refused. 0, or -errno after one error line.
 * oci_spec_free() releases it, also after a failure.
 */
int oci_config_load(const struct oci_ctx *c, const char *bundle,
		    struct oci_spec *spec);
/* The same from text already read (the unit suites). */
int oci_config_parse(const struct oci_ctx *c, const char *bundle,
		     const char *text, size_t len, struct oci_spec *spec);
void oci_spec_free(struct oci_spec *spec);

/* ---- oci_net.c ------------------------------------------------------- */

/*
 * The namespace spec names (OCI_NET_JOIN), opened and checked at create,
 * so that a bad path fails create with one line: 0 with its fd in
 * *netns (-1 when there is none to join), or -errno after that line.
 */
int oci_net_open(const struct oci_ctx *c, const struct oci_spec *spec, int *netns);
/*
 * In the container's process, before the VM exists: joins fd's namespace
 * (fd -1: stays where it is; fd is closed) and sets spec->ec.net_user to
 * whether the guest gets a NIC. 0, or -errno after one line.
 */
int oci_net_enter(struct oci_spec *spec, int fd);

/* ---- oci_files.c ----------------------------------------------------- */

/*
 * Bind mounts of single files. virtio-fs shares directories, and a
 * file's own directory holds more than the bind asked for, so the files
 * are put in one of their own: in the container's process, a private
 * mount namespace, a small tmpfs on ROOT/ID/files with ro/ and rw/ in
 * it, each file bind-mounted there on an empty file named by its index;
 * ro/ and rw/ are the shares (at most two, whatever the number of
 * files), and the guest's agent bind-mounts each file at its place.
 */
#define OCI_FILES_DIR		"files"
/* config.json: a bind of the regular file src (resolved) at dst. */
int oci_files_add(const struct oci_ctx *c, struct oci_spec *spec, unsigned int i,
		  char *src, const char *dst, bool ro);
struct oci_dir;
/* create: ROOT/ID/files made in d, the shares pointed at it. */
int oci_files_prepare(const struct oci_ctx *c, const char *id, const struct oci_dir *d,
		      struct oci_spec *spec);
/* The container's process, before the VM: the namespace, the tmpfs and
 * the binds. 0, or -errno after one line. */
int oci_files_mount(const struct oci_ctx *c, const struct oci_spec *spec);
void oci_files_free(struct oci_spec *spec);

/* ---- oci_state.c ----------------------------------------------------- */

/*
 * Under --root, one 0700 directory per container ID:
 *   ROOT/ID/lock        flock()ed by every command for its whole run
 *   ROOT/ID/state.json  written whole (a temporary, then rename)
 *   ROOT/ID/start       the FIFO the created process waits on
 */
#define OCI_STATE_FILE		"state.json"
#define OCI_START_FIFO		"start"
#define OCI_LOCK_FILE		"lock"
/* ROOT's snapshot cache when the caller has no HOME (oci.c). */
#define OCI_SNAPSHOT_DIR	"@snapshots"

enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_STOPPED };

struct oci_state {
	char id[OCI_ID_MAX + 1];
	pid_t pid;
	unsigned long long start_time;	/* /proc/PID/stat's, at create */
	bool started;			/* start went through */
	char *bundle;
	long long created;		/* seconds since the epoch */
	struct oci_annotation annotations[OCI_ANNOTATIONS_MAX];
	unsigned int nr_annotations;
};

/* An open container: its directory and the lock held on it. */
struct oci_dir {
	int dfd;
	int lock_fd;
};

/* An ID is 1..OCI_ID_MAX of [A-Za-z0-9_.+-], not "." or "..": a single
 * path component, whatever the caller meant. One error line if not. */
int oci_id_check(const struct oci_ctx *c, const char *id);
/* Makes ROOT/ID (ROOT too, 0700) and locks it; -EEXIST if it exists. */
int oci_dir_create(const struct oci_ctx *c, const char *id, struct oci_dir *d);
/* Opens and locks an existing one; -ENOENT (one line) if there is none. */
int oci_dir_open(const struct oci_ctx *c, const char *id, struct oci_dir *d);
/* Removes ROOT/ID and what is in it (lock held), then closes d. */
int oci_dir_remove(const struct oci_ctx *c, const char *id, struct oci_dir *d);
void oci_dir_close(struct oci_dir *d);

int oci_state_write(const struct oci_ctx *c, const struct oci_dir *d,
		    const struct oci_state *s);
/* -ENOENT: no state yet (a create still running, or one that died). */
int oci_state_read(const struct oci_ctx *c, const struct oci_dir *d,
		   struct oci_state *s);
void oci_state_free(struct oci_state *s);
/*
 * Signals the container's process through a pidfd taken before its start
 * time is checked, so that a PID reused after that check cannot get it.
 * 0, -ESRCH if it is not running (stopped), or -errno.
 */
int oci_state_signal(const struct oci_state *s, int sig);
/* From whether its process lives and is still the one create made. */
enum oci_status oci_state_status(const struct oci_state *s);
const char *oci_status_name(enum oci_status st);
/* The spec's state JSON into buf; its length, or -ENOSPC. */
long oci_state_json(const struct oci_state *s, char *buf, size_t cap);
/* /proc/PID/stat's start time (field 22), or 0 if PID is gone. */
unsigned long long oci_proc_start_time(pid_t pid);
/* path written whole: a temporary beside it, then rename. */
int oci_write_file(const struct oci_ctx *c, int dfd, const char *path,
		   const char *data, size_t len);

#endif
