// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini oci's commands (docs/oci.md). A container is one kvmini process:
 * create checks the bundle, makes the state directory and forks that
 * process, which waits on a FIFO there until start opens it, and only
 * then builds and boots the VM, an exec job whose / is the bundle's
 * rootfs. Its exit status is the container's. Its stdin, stdout and
 * stderr are the container's (create's own, or a terminal's: below).
 * Signals go to it, and kvmini exec passes INT, TERM, HUP, QUIT, USR2
 * and WINCH on to the container's process once it runs (exec/exec_in.c);
 * KILL ends the VM at once. Nothing in the state says "running": it is
 * whether that process lives (oci_state.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/json.h"
#include "oci/oci.h"

#define OCI_STOP_WAIT_MS	5000
#define OCI_FEATURES_MAX	4096

/* ---- create --------------------------------------------------------------- */

/*
 * The container's process: its own session, the state directory's lock
 * let go, ready said, then wait for start's byte on the FIFO (opened
 * read-write, so it never sees end-of-file while no start has come).
 * Killed while it waits, it leaves a stopped container.
 */
static void __attribute__((noreturn)) oci_container(const struct oci_ctx *c,
						    struct oci_spec *spec,
						    struct oci_dir *d, int ready, int tty,
						    int netns)
{
	char b = 0;
	int fifo, status;
	ssize_t n;

	setsid();
	if (tty >= 0) {
		/* The session's terminal, and the container's three streams. */
		for (int i = 0; i < 3; i++) {
			if (dup2(tty, i) < 0)
				_exit(OCI_EXIT_FAIL);
		}
		if (tty > 2)
			close(tty);
		ioctl(STDIN_FILENO, TIOCSCTTY, 0);
	}
	fifo = openat(d->dfd, OCI_START_FIFO, O_RDWR | O_CLOEXEC);
	oci_dir_close(d);
	if (oci_net_enter(spec, netns) || oci_files_mount(c, spec))
		_exit(OCI_EXIT_FAIL);
	if (fifo < 0 || chdir("/") < 0 || write(ready, &b, 1) != 1)
		_exit(OCI_EXIT_FAIL);
	close(ready);
	do
		n = read(fifo, &b, 1);
	while (n < 0 && errno == EINTR);
	close(fifo);
	if (n != 1)
		_exit(OCI_EXIT_FAIL);
	status = exec_run_config(&spec->ec);
	oci_spec_free(spec);
	exit(status);
}

/* Forks the container's process and waits until it waits on the FIFO;
 * tty (or -1) becomes its terminal, netns (or -1) its network. */
static pid_t oci_fork(const struct oci_ctx *c, struct oci_spec *spec, struct oci_dir *d,
		      int tty, int netns)
{
	int p[2];
	pid_t pid;
	char b;

	if (mkfifoat(d->dfd, OCI_START_FIFO, 0600) < 0 || pipe2(p, O_CLOEXEC) < 0) {
		oci_err(c, "cannot set up the container's start: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		oci_err(c, "cannot start the container's process: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (!pid) {
		close(p[0]);
		oci_container(c, spec, d, p[1], tty, netns);
	}
	close(p[1]);
	if (read(p[0], &b, 1) != 1) {
		oci_err(c, "the container's process ended before it was ready");
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(p[0]);
	return pid;
}

/* The master, over SOCK with SCM_RIGHTS; the payload names it, as runc's
 * does ("/dev/ptmx"), for receivers that read a name. */
static int oci_send_master(const struct oci_ctx *c, const char *sock, int master)
{
	static const char name[] = "/dev/ptmx";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)name, .iov_len = sizeof(name) - 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int s, err = 0;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		oci_err(c, "--console-socket '%s': the path is too long for a Unix socket", sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	memset(&u, 0, sizeof(u));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    sendmsg(s, &msg, MSG_NOSIGNAL) < 0) {
		err = -errno;
		oci_err(c, "--console-socket '%s': cannot send the terminal: %s", sock,
			strerror(errno));
	}
	if (s >= 0)
		close(s);
	return err;
}

/*
 * process.terminal (runc's docs/terminals.md): a new pty on the host,
 * its master sent to --console-socket for the engine, its slave the
 * container's process's terminal; there, kvmini exec -t puts it in raw
 * mode and the guest runs the command on a pty of its own. The slave's
 * fd, or -1 after one error line.
 */
static int oci_console(const struct oci_ctx *c, const char *sock)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), s = -1;
	const char *slave = NULL;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(slave = ptsname(m)) ||
	    (s = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		oci_err(c, "cannot make the container's terminal: %s", strerror(errno));
	} else if (oci_send_master(c, sock, m)) {
		close(s);
		s = -1;
	}
	if (m >= 0)
		close(m);
	return s;
}

static int oci_write_pid_file(const struct oci_ctx *c, const char *path, pid_t pid)
{
	char buf[16];

	return oci_write_file(c, AT_FDCWD, path, buf, snprintf(buf, sizeof(buf), "%d", (int)pid));
}

/*
 * Where the snapshot cache lives: exec's ($XDG_CACHE_HOME/kvmini, else
 * $HOME/.cache/kvmini), else, for an engine that gives its runtime no
 * HOME (podman's conmon, containerd as a service), ROOT/@snapshots
 * beside the containers' directories: '@' is never in an ID, so no
 * container can take that name. ROOT exists (create made it).
 */
static void oci_snapshot_dir(const struct oci_ctx *c, struct oci_spec *spec)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *root;

	if (!spec->ec.snapshot || (xdg && xdg[0] == '/') || (home && home[0] == '/'))
		return;
	root = realpath(c->root, NULL);
	if (!root || asprintf(&spec->snapshot_dir, "%s/" OCI_SNAPSHOT_DIR, root) < 0) {
		spec->snapshot_dir = NULL;
		spec->ec.snapshot = false;	/* a cold boot still works */
	}
	free(root);
	spec->ec.snapshot_dir = spec->snapshot_dir;
}

static int oci_create(const struct oci_ctx *c, const struct oci_args *a)
{
	struct oci_state st = { 0 };
	struct oci_spec spec;
	struct oci_dir d;
	char *bundle;
	int err, tty = -1, netns = -1;
	pid_t pid;

	if (oci_id_check(c, a->id))
		return OCI_EXIT_FAIL;
	bundle = realpath(a->bundle, NULL);
	if (!bundle) {
		oci_err(c, "bundle '%s': %s", a->bundle, strerror(errno));
		return OCI_EXIT_FAIL;
	}
	err = oci_config_load(c, bundle, &spec);
	/* As runc: a terminal needs the socket, the socket a terminal. */
	if (!err && spec.ec.tty && !a->console_socket)
		oci_err(c, "config.json has process.terminal: create needs --console-socket SOCK"),
			err = -EINVAL;
	if (!err && !spec.ec.tty && a->console_socket)
		oci_err(c, "--console-socket is only for a config.json with process.terminal true"),
			err = -EINVAL;
	if (!err)
		err = oci_net_open(c, &spec, &netns);
	if (!err)
		err = oci_dir_create(c, a->id, &d);
	if (!err) {
		oci_snapshot_dir(c, &spec);
		err = oci_files_prepare(c, a->id, &d, &spec);
		if (err)
			oci_dir_remove(c, a->id, &d);
	}
	if (!err && spec.ec.tty) {
		tty = oci_console(c, a->console_socket);
		if (tty < 0) {
			oci_dir_remove(c, a->id, &d);
			err = -EIO;
		}
	}
	if (err) {
		if (netns >= 0)
			close(netns);
		oci_spec_free(&spec);
		free(bundle);
		return OCI_EXIT_FAIL;
	}
	pid = oci_fork(c, &spec, &d, tty, netns);
	if (tty >= 0)
		close(tty);
	if (netns >= 0)
		close(netns);
	if (pid > 0) {
		snprintf(st.id, sizeof(st.id), "%s", a->id);
		st.pid = pid;
		st.start_time = oci_proc_start_time(pid);
		st.bundle = bundle;
		st.created = time(NULL);
		memcpy(st.annotations, spec.annotations, sizeof(st.annotations));
		st.nr_annotations = spec.nr_annotations;
		err = st.start_time ? 0 : -ESRCH;
		if (err)
			oci_err(c, "the container's process is gone already");
		err = err ?: oci_state_write(c, &d, &st);
		if (!err && a->pid_file)
			err = oci_write_pid_file(c, a->pid_file, pid);
		if (err) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	if (pid < 0 || err)
		oci_dir_remove(c, a->id, &d);	/* nothing left behind */
	else
		oci_dir_close(&d);
	oci_spec_free(&spec);
	free(bundle);
	return pid < 0 || err ? OCI_EXIT_FAIL : 0;
}

/* ---- the others ----------------------------------------------------------- */

/* The container's directory locked and its state read; one line if not. */
static int oci_open(const struct oci_ctx *c, const char *id, struct oci_dir *d,
		    struct oci_state *st)
{
	int err;

	if (oci_id_check(c, id) || oci_dir_open(c, id, d))
		return -EINVAL;
	err = oci_state_read(c, d, st);
	if (err == -ENOENT)
		oci_err(c, "container %s has no state: its create failed or is still running (delete it if it failed)",
			id);
	if (err)
		oci_dir_close(d);
	return err;
}

static int oci_start(const struct oci_ctx *c, const struct oci_args *a)
{
	struct oci_state st;
	struct oci_dir d;
	enum oci_status s;
	int fd, err = -EINVAL;
	char b = 1;

	if (oci_open(c, a->id, &d, &st))
		return OCI_EXIT_FAIL;
	s = oci_state_status(&st);
	if (s == OCI_RUNNING || st.started) {
		oci_err(c, "container %s was started already", a->id);
		goto out;
	}
	if (s != OCI_CREATED) {
		oci_err(c, "container %s has stopped: delete it", a->id);
		goto out;
	}
	fd = openat(d.dfd, OCI_START_FIFO, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 || write(fd, &b, 1) != 1) {
		oci_err(c, "cannot start container %s: %s", a->id,
			errno == ENXIO ? "its process is gone" : strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	unlinkat(d.dfd, OCI_START_FIFO, 0);
	st.started = true;
	err = oci_state_write(c, &d, &st);
out:
	oci_state_free(&st);
	oci_dir_close(&d);
	return err ? OCI_EXIT_FAIL : 0;
}

static int oci_state_cmd(const struct oci_ctx *c, const struct oci_args *a)
{
	char buf[1 << 16];
	struct oci_state st;
	struct oci_dir d;
	long n;

	if (oci_open(c, a->id, &d, &st))
		return OCI_EXIT_FAIL;
	n = oci_state_json(&st, buf, sizeof(buf));
	oci_state_free(&st);
	oci_dir_close(&d);
	if (n < 0) {
		oci_err(c, "container %s: its state does not fit in %zu bytes", a->id, sizeof(buf));
		return OCI_EXIT_FAIL;
	}
	printf("%s\n", buf);
	return fflush(stdout) ? OCI_EXIT_FAIL : 0;
}

/* "TERM", "SIGTERM", "15": the number, or -1. */
static int oci_signal(const char *s)
{
	unsigned int n;

	if (!parse_uint(s, SIGRTMAX, &n))
		return n ? (int)n : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *name = sigabbrev_np(i);

		if (name && !strcasecmp(s, name))
			return i;
	}
	return -1;
}

static int oci_kill(const struct oci_ctx *c, const struct oci_args *a)
{
	int sig = oci_signal(a->signal);
	struct oci_state st;
	struct oci_dir d;
	int err = -EINVAL;

	if (sig < 0) {
		oci_err(c, "kill: unknown signal '%s' (a name such as TERM or KILL, or a number)",
			a->signal);
		return OCI_EXIT_FAIL;
	}
	if (oci_open(c, a->id, &d, &st))
		return OCI_EXIT_FAIL;
	err = oci_state_signal(&st, sig);
	if (err == -ESRCH)
		oci_err(c, "container %s is not running", a->id);
	else if (err)
		oci_err(c, "cannot signal container %s: %s", a->id, strerror(-err));
	oci_state_free(&st);
	oci_dir_close(&d);
	return err ? OCI_EXIT_FAIL : 0;
}

/* SIGKILL, then wait (bounded) until it is gone. */
static int oci_stop(const struct oci_ctx *c, const struct oci_state *st)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	int err = oci_state_signal(st, SIGKILL);

	if (err && err != -ESRCH) {
		oci_err(c, "cannot stop container %s: %s", st->id, strerror(-err));
		return err;
	}
	for (int ms = 0; ms < OCI_STOP_WAIT_MS; ms += 10) {
		/* Our own child when create and delete are one process's. */
		waitpid(st->pid, NULL, WNOHANG);
		if (oci_state_status(st) == OCI_STOPPED)
			return 0;
		nanosleep(&ts, NULL);
	}
	oci_err(c, "container %s did not stop within %d ms of SIGKILL", st->id,
		OCI_STOP_WAIT_MS);
	return -ETIMEDOUT;
}

static int oci_delete(const struct oci_ctx *c, const struct oci_args *a)
{
	struct oci_state st;
	struct oci_dir d;
	int err;

	if (oci_id_check(c, a->id) || oci_dir_open(c, a->id, &d))
		return OCI_EXIT_FAIL;
	err = oci_state_read(c, &d, &st);
	if (err == -ENOENT) {
		/* A create that died half-way: nothing runs, clear it. */
		err = 0;
	} else if (!err) {
		enum oci_status s = oci_state_status(&st);

		if (s == OCI_RUNNING && !a->force) {
			oci_err(c, "container %s is running: stop it (kill) or use delete --force",
				a->id);
			err = -EBUSY;
		} else if (s != OCI_STOPPED) {
			/* A created container never ran: the spec deletes it. */
			err = oci_stop(c, &st);
		}
		oci_state_free(&st);
	} else if (a->force) {
		err = 0;	/* damaged state: --force clears it */
	}
	if (err) {
		oci_dir_close(&d);
		return OCI_EXIT_FAIL;
	}
	return oci_dir_remove(c, a->id, &d) ? OCI_EXIT_FAIL : 0;
}

/* ---- features ------------------------------------------------------------- */

static void oci_str_array(struct json_out *o, const char *key,
			  const char *const *v, size_t nr)
{
	json_out_key(o, key);
	json_out_open(o, '[');
	for (size_t i = 0; i < nr; i++)
		json_out_str(o, v[i]);
	json_out_close(o, ']');
}

#define ARRAY(v) v, sizeof(v) / sizeof(v[0])

/*
 * The runtime spec's features document, honest about kvmini: no hooks;
 * mounts are bind (directories, ro or rw) and tmpfs; every namespace is
 * the VM's own kernel, so the ones listed are what a container gets
 * whatever its config says; no seccomp, AppArmor, SELinux or cgroup
 * controls inside the guest.
 */
static int oci_features(const struct oci_ctx *c)
{
	static const char *const mount_opts[] = { "bind", "rbind", "ro", "rw" };
	static const char *const namespaces[] = {
		"cgroup", "ipc", "mount", "network", "pid", "uts",
	};
	static const char *const annotations[][2] = {
		{ "org.kvmini.mem", "guest RAM, e.g. 512M (default 512M)" },
		{ "org.kvmini.cpus", "vCPUs (default 1)" },
		{ "org.kvmini.snapshot", "false: boot cold, neither using nor filling the snapshot cache (default true)" },
	};
	char buf[OCI_FEATURES_MAX];
	struct json_out o;
	long n;

	json_out_init(&o, buf, sizeof(buf));
	json_out_open(&o, '{');
	json_out_key(&o, "ociVersionMin");
	json_out_str(&o, OCI_VERSION_MIN);
	json_out_key(&o, "ociVersionMax");
	json_out_str(&o, OCI_VERSION);
	oci_str_array(&o, "hooks", NULL, 0);
	oci_str_array(&o, "mountOptions", ARRAY(mount_opts));
	json_out_key(&o, "linux");
	json_out_open(&o, '{');
	oci_str_array(&o, "namespaces", ARRAY(namespaces));
	oci_str_array(&o, "capabilities", NULL, 0);
	json_out_key(&o, "cgroup");
	json_out_open(&o, '{');
	json_out_key(&o, "v1");
	json_out_bool(&o, false);
	json_out_key(&o, "v2");
	json_out_bool(&o, false);
	json_out_key(&o, "systemd");
	json_out_bool(&o, false);
	json_out_close(&o, '}');
	for (const char *const *k = (const char *const[]){ "seccomp", "apparmor", "selinux", NULL };
	     *k; k++) {
		json_out_key(&o, *k);
		json_out_open(&o, '{');
		json_out_key(&o, "enabled");
		json_out_bool(&o, false);
		json_out_close(&o, '}');
	}
	json_out_close(&o, '}');
	json_out_key(&o, "annotations");
	json_out_open(&o, '{');
	for (size_t i = 0; i < sizeof(annotations) / sizeof(annotations[0]); i++) {
		json_out_key(&o, annotations[i][0]);
		json_out_str(&o, annotations[i][1]);
	}
	json_out_close(&o, '}');
	json_out_close(&o, '}');
	n = json_out_done(&o);
	if (n < 0) {
		oci_err(c, "features: the document does not fit");
		return OCI_EXIT_FAIL;
	}
	printf("%s\n", buf);
	return fflush(stdout) ? OCI_EXIT_FAIL : 0;
}

int oci_run(const struct oci_ctx *c, const struct oci_args *a)
{
	switch (a->cmd) {
	case OCI_CREATE:
		return oci_create(c, a);
	case OCI_START:
		return oci_start(c, a);
	case OCI_STATE:
		return oci_state_cmd(c, a);
	case OCI_KILL:
		return oci_kill(c, a);
	case OCI_DELETE:
		return oci_delete(c, a);
	case OCI_FEATURES:
		return oci_features(c);
	}
	return OCI_EXIT_FAIL;
}
