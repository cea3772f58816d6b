// SPDX-License-Identifier: GPL-2.0
/* Starting, watching and stopping virtiofsd (see virtiofsd.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>

#include "backend/virtiofsd.h"
#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"

#define VFSD_ERR_MAX	512	/* virtiofsd's last words we keep */
/* Descriptors for virtiofsd: one per inode the guest holds. Raised by
 * kvmini as root, because inside its user namespace virtiofsd cannot. */
#define VFSD_NOFILE	1000000

struct virtiofsd {
	pid_t pid;
	int pidfd;
	struct ev_handler err;		/* read end of its stderr */
	struct evloop *loop;		/* err is on it, once watched */
	char tag[CONFIG_TAG_MAX + 1];
	char buf[VFSD_ERR_MAX];		/* its stderr, the latest bytes */
	size_t len;
};

/* A virtiofsd started ahead, until virtiofsd_start() takes it. */
struct virtiofsd_early {
	struct virtiofsd *d;		/* NULL once taken */
	int sock;
};

/* What the child needs, all prepared before fork(). */
struct vfsd_exec {
	const char *bin;
	char *argv[16];
	const char *path;
	bool ro;
	bool as_nobody;
	int listen_fd;
	int sync_fd;			/* as_nobody: the uid_map handshake */
	int err_fd;			/* write end of the stderr pipe */
	int null_fd;
	pid_t parent;
};

static const char *vfsd_binary(void)
{
	const char *bin = getenv("KVMINI_VIRTIOFSD");

	return bin && *bin ? bin : VIRTIOFSD_DEFAULT;
}

/* ---- the child, between fork() and exec(): async-signal-safe only ---- */

static void child_say(const char *what, int err)
{
	const char *s = strerrordesc_np(err);
	ssize_t r;

	r = write(STDERR_FILENO, what, strlen(what));
	r = write(STDERR_FILENO, ": ", 2);
	r = write(STDERR_FILENO, s ? s : "error", strlen(s ? s : "error"));
	r = write(STDERR_FILENO, "\n", 1);
	(void)r;
}

/* A mount namespace of virtiofsd's own, its mounts private to it. */
static int child_mount_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		child_say("cannot make a mount namespace for the share (shares need root)", errno);
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		child_say("cannot make the share's mounts private", errno);
		return -1;
	}
	return 0;
}

/*
 * The share, and every mount below it, read-only in a mount namespace of
 * virtiofsd's own; the mounts virtiofsd then makes of it keep the flag.
 * A directory gets a bind mount of its own first, so that only it turns
 * read-only. Not /: a mount stacked on the root would not be what "/"
 * means to this process (lookups start below it), so there the mounts
 * themselves, this namespace's copies, become read-only.
 */
static int child_read_only(const char *path)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (strcmp(path, "/") && mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		child_say("cannot bind-mount the read-only share", errno);
		return -1;
	}
	if (mount_setattr(AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
		child_say("cannot make the share read-only (mount_setattr needs Linux 5.12)",
			  errno);
		return -1;
	}
	return 0;
}

/*
 * /proc as the share shows it, for a share served as nobody: a procfs of
 * its own where only virtiofsd's own processes show (hidepid=invisible),
 * not the host's; and a network namespace of its own, empty, for
 * /proc/net (and virtiofsd needs no network). Not subset=pid: virtiofsd
 * reads /proc/sys/fs/file-max, and needs /proc/self/fd.
 */
static int child_proc(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		child_say("cannot make a network namespace for the share", errno);
		return -1;
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
		  "hidepid=invisible") < 0) {
		child_say("cannot mount a private /proc for the share (needs Linux 5.8)", errno);
		return -1;
	}
	return 0;
}

/*
 * Out of a chroot kvmini may run in (unshare(CLONE_NEWUSER) refuses a
 * chrooted caller), keeping the chroot's root in *root: entering one's own
 * mount namespace again goes to its real root.
 */
static int child_unchroot(int *root)
{
	int ns;

	*root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (*root < 0 || ns < 0 || setns(ns, CLONE_NEWNS) < 0) {
		child_say("cannot leave kvmini's chroot for a user namespace", errno);
		return -1;
	}
	close(ns);
	return 0;
}

/*
 * virtiofsd's identity for a share served as nobody: uid 65534, gid
 * 65534, no supplementary group, and of all capabilities only these,
 * inherited through execve() as ambient ones: CAP_FOWNER, because the
 * guest's overlayfs opens every file O_NOATIME (only the owner, or
 * CAP_FOWNER, may); CAP_SYS_CHROOT for virtiofsd's own chroot; and
 * CAP_SETPCAP, without which its libcap-ng cannot drop the bounding set
 * and it dies. virtiofsd then keeps CAP_FOWNER alone (-o modcaps). No
 * CAP_DAC_*: the kernel checks every read as for nobody. No new privileges
 * (no set-uid program, no file capabilities), and virtiofsd's seccomp
 * filter then needs no CAP_SYS_ADMIN.
 */
static int child_drop_to_nobody(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	uint32_t keep = 1u << CAP_FOWNER | 1u << CAP_SYS_CHROOT | 1u << CAP_SETPCAP;
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = {
		{ .effective = keep, .permitted = keep, .inheritable = keep },
	};

	if (prctl(PR_SET_KEEPCAPS, 1) < 0 ||
	    syscall(SYS_setresgid, VIRTIOFSD_NOBODY, VIRTIOFSD_NOBODY, VIRTIOFSD_NOBODY) < 0 ||
	    syscall(SYS_setresuid, VIRTIOFSD_NOBODY, VIRTIOFSD_NOBODY, VIRTIOFSD_NOBODY) < 0 ||
	    syscall(SYS_capset, &hdr, caps) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_FOWNER, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_CHROOT, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETPCAP, 0, 0) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		child_say("cannot become nobody in the user namespace", errno);
		return -1;
	}
	return 0;
}

/*
 * Into a user namespace that maps every uid and gid to itself (the parent
 * writes the maps, see vfsd_maps()), so that the guest sees each file's
 * real owner, and there down to nobody (child_drop_to_nobody()). Why a
 * namespace at all: capabilities are needed there, and a process that is
 * root outside one cannot hold them without holding them over the host.
 * The supplementary groups go first: setgroups is then denied. Then back
 * into kvmini's root.
 */
static int child_userns(const struct vfsd_exec *x)
{
	struct rlimit nofile = { VFSD_NOFILE, VFSD_NOFILE };
	char c = 0;
	int root;

	/* As root still: afterwards only lowering it is allowed. */
	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 && getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* Raw system calls: glibc's wrappers would signal other threads. */
	if (syscall(SYS_setgroups, 0, NULL) < 0) {
		child_say("cannot drop the supplementary groups", errno);
		return -1;
	}
	if (child_unchroot(&root))
		return -1;
	if (unshare(CLONE_NEWUSER) < 0) {
		child_say("cannot make a user namespace to serve the share as nobody (see /proc/sys/user/max_user_namespaces)",
			  errno);
		return -1;
	}
	if (write(x->sync_fd, &c, 1) != 1 || read(x->sync_fd, &c, 1) != 1 || c != 1)
		return -1;	/* the parent said why */
	close(x->sync_fd);
	if (fchdir(root) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		child_say("cannot return to kvmini's root in the user namespace", errno);
		return -1;
	}
	close(root);
	if (child_drop_to_nobody())
		return -1;
	/* A new uid cleared the parent-death signal. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != x->parent)
		return -1;
	return 0;
}

static void __attribute__((noreturn)) child_run(const struct vfsd_exec *x)
{
	static char *const no_env[] = { NULL };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	/* Dies with kvmini, even when kvmini is killed outright. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != x->parent)
		_exit(126);
	/* Out of the terminal's process group: Ctrl-C is kvmini's. */
	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	sigaction(SIGPIPE, &dfl, NULL);
	if (dup2(x->null_fd, STDIN_FILENO) < 0 || dup2(x->null_fd, STDOUT_FILENO) < 0 ||
	    dup2(x->err_fd, STDERR_FILENO) < 0 || fcntl(x->listen_fd, F_SETFD, 0) < 0)
		_exit(126);
	if ((x->ro || x->as_nobody) && child_mount_ns())
		_exit(126);
	if (x->as_nobody && child_proc())
		_exit(126);
	if (x->ro && child_read_only(x->path))
		_exit(126);
	if (x->as_nobody && child_userns(x))
		_exit(126);
	/* Nothing else: not even what kvmini inherited without CLOEXEC. */
	close_range(STDERR_FILENO + 1, x->listen_fd - 1, 0);
	close_range(x->listen_fd + 1, ~0U, 0);
	/* Nor kvmini's environment: a guest may read virtiofsd's. */
	execve(x->bin, x->argv, no_env);
	child_say("cannot run virtiofsd", errno);
	_exit(127);
}

/* ---- the parent ---- */

static int vfsd_read_err(struct virtiofsd *d);
static void vfsd_last_line(struct virtiofsd *d, char *line, size_t size);

/*
 * A listening socket in a fresh 0700 directory, kvmini's connection
 * queued on it, then the name removed: virtiofsd accepts exactly that
 * connection. *listen_fd and *sock, or -errno.
 */
static int vfsd_socket(int *listen_fd, int *sock)
{
	const char *tmp = getenv("TMPDIR");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof(sa.sun_path) - 8];
	int err = 0, l, c;

	if (!tmp || !*tmp || strlen(tmp) + 20 > sizeof(dir))
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/kvmini-fs.XXXXXX", tmp);
	if (!mkdtemp(dir))
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(l, 1) < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		err = -errno;
	unlink(sa.sun_path);
	rmdir(dir);
	if (!err && l <= STDERR_FILENO) {
		/* The child puts its standard streams on 0-2. */
		int moved = fcntl(l, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);

		err = moved < 0 ? -errno : 0;
		close(l);
		l = moved;
	}
	if (err) {
		if (l >= 0)
			close(l);
		if (c >= 0)
			close(c);
		return err;
	}
	*listen_fd = l;
	*sock = c;
	return 0;
}

/* The directory, absolute, or one error line. *out is malloc'd. */
static int vfsd_path(const struct share_config *s, char **out)
{
	char *given = strndup(s->path, s->path_len);
	struct stat st;
	int err = 0;

	if (!given)
		return -ENOMEM;
	*out = realpath(given, NULL);
	if (!*out || stat(*out, &st) < 0) {
		err = -errno;
		pr_err("share '%s': %s: %s", s->tag, given, strerror(-err));
	} else if (!S_ISDIR(st.st_mode)) {
		err = -ENOTDIR;
		pr_err("share '%s': %s is not a directory", s->tag, given);
	} else if (strpbrk(*out, ",\\")) {
		/* virtiofsd 7.2 has no --shared-dir; its "-o source=" splits
		 * at commas (and unescapes backslashes), so such a name would
		 * add options of the directory's choosing. */
		err = -EINVAL;
		pr_err("share '%s': %s: virtiofsd cannot take a path with ',' or '\\'",
		       s->tag, *out);
	}
	free(given);
	if (err) {
		free(*out);
		*out = NULL;
	}
	return err;
}

static int vfsd_binary_ok(void)
{
	const char *bin = vfsd_binary();

	if (!access(bin, X_OK))
		return 0;
	if (errno == ENOENT)
		pr_err("virtio-fs needs virtiofsd, not found at %s: install qemu-system-common (or set KVMINI_VIRTIOFSD)",
		       bin);
	else
		pr_err("cannot run virtiofsd %s: %s", bin, strerror(errno));
	return -ENOENT;
}

/* One write of text to /proc/PID/name, as the kernel wants the maps. */
static int vfsd_write_proc(pid_t pid, const char *name, const char *text)
{
	char path[64];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text))
		err = n < 0 ? -errno : -EIO;
	close(fd);
	return err;
}

/*
 * The child's half of child_userns(): once it is in its user namespace,
 * every uid and gid maps to itself there, setgroups is denied, and it may
 * go on. 0, or -errno (the child is then told nothing and ends).
 */
static int vfsd_maps(struct virtiofsd *d, int sync_fd)
{
	const char *map = "0 0 4294967295\n";
	char c;
	int err;

	ssize_t n;

	while ((n = read(sync_fd, &c, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return -ECHILD;		/* it failed, and said why */
	err = vfsd_write_proc(d->pid, "uid_map", map) ?:
	      vfsd_write_proc(d->pid, "setgroups", "deny") ?:
	      vfsd_write_proc(d->pid, "gid_map", map);
	if (err) {
		snprintf(d->buf, sizeof(d->buf), "cannot write its user namespace's maps: %s",
			 strerror(-err));
		d->len = strlen(d->buf);
		return err;
	}
	c = 1;
	return write(sync_fd, &c, 1) == 1 ? 0 : -errno;
}

static int vfsd_fork(struct virtiofsd *d, struct vfsd_exec *x)
{
	pid_t pid;

	x->parent = getpid();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid)
		child_run(x);
	d->pid = pid;
	d->pidfd = pidfd_open(pid, 0);
	if (d->pidfd < 0) {
		int err = -errno;

		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return err;
	}
	return 0;
}

/* A connected pair for the uid_map handshake; the child's end above
 * 0-2, where it puts its standard streams. */
static int vfsd_sync_pair(int sync[2])
{
	int moved;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0)
		return -1;
	if (sync[1] > STDERR_FILENO)
		return 0;
	moved = fcntl(sync[1], F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	close(sync[1]);
	sync[1] = moved;
	if (moved >= 0)
		return 0;
	close(sync[0]);
	sync[0] = -1;
	return -1;
}

static int vfsd_spawn(struct virtiofsd *d, const struct share_config *s,
		      const char *path, int listen_fd)
{
	char fd_arg[32], source[PATH_MAX + 16];
	struct vfsd_exec x = {
		.bin = vfsd_binary(), .path = path, .ro = s->ro, .as_nobody = s->as_nobody,
		.listen_fd = listen_fd, .sync_fd = -1,
	};
	int pipe_fds[2], sync[2] = { -1, -1 }, err;
	unsigned int n = 0;

	snprintf(fd_arg, sizeof(fd_arg), "--fd=%d", listen_fd);
	snprintf(source, sizeof(source), "source=%s", path);
	x.argv[n++] = (char *)x.bin;
	x.argv[n++] = fd_arg;
	x.argv[n++] = "-o";
	x.argv[n++] = source;
	/* pivot_root into the share, in mount, PID and network namespaces
	 * of its own; but pivot_root cannot leave /, so the host's root
	 * gets chroot, which is no confinement at all there. As nobody,
	 * too: it has no CAP_SYS_ADMIN for namespaces, and child_proc()
	 * made its network namespace. */
	x.argv[n++] = "-o";
	x.argv[n++] = strcmp(path, "/") && !s->as_nobody ? "sandbox=namespace" : "sandbox=chroot";
	/*
	 * kvmini exec's root (as_nobody, read-only): cache=always, so that
	 * the guest keeps what it looked up and read for as long as the
	 * VM lives instead of asking again (a round trip each, the bulk of
	 * a short job's start). Safe there: nothing can write through the
	 * share, the view is thrown away with the VM, and every lookup and
	 * open is still checked on the host as nobody's; what the host
	 * changes in / while a job runs may show late (docs/exec.md). A
	 * writable share keeps cache=auto: the host and the job may both
	 * write its files.
	 */
	x.argv[n++] = "-o";
	x.argv[n++] = s->as_nobody ? "cache=always" : "cache=auto";
	x.argv[n++] = "-o";
	x.argv[n++] = "log_level=err";
	/* Its user namespace could not raise it: child_userns() did. And
	 * of its capabilities, only the one child_drop_to_nobody() left. */
	if (s->as_nobody) {
		x.argv[n++] = "--rlimit-nofile=0";
		x.argv[n++] = "-o";
		x.argv[n++] = "modcaps=-chown:-dac_override:-fsetid:-setgid:-setuid:-mknod:-setfcap";
	}
	x.argv[n] = NULL;

	if (pipe2(pipe_fds, O_CLOEXEC) < 0)
		return -errno;
	if (s->as_nobody && vfsd_sync_pair(sync) < 0) {
		err = -errno;
		close(pipe_fds[0]);
		close(pipe_fds[1]);
		return err;
	}
	x.sync_fd = sync[1];
	x.err_fd = pipe_fds[1];
	x.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	err = x.null_fd < 0 ? -errno : vfsd_fork(d, &x);
	if (x.null_fd >= 0)
		close(x.null_fd);
	close(pipe_fds[1]);
	if (sync[1] >= 0)
		close(sync[1]);
	fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
	d->err.fd = pipe_fds[0];
	if (!err && s->as_nobody) {
		err = vfsd_maps(d, sync[0]);
		if (err) {
			/* Its stderr is complete once it has exited. */
			pidfd_send_signal(d->pidfd, SIGKILL, NULL, 0);
			waitpid(d->pid, NULL, 0);
			close(d->pidfd);
			vfsd_read_err(d);
		}
	}
	if (sync[0] >= 0)
		close(sync[0]);
	if (err) {
		close(pipe_fds[0]);
		d->err.fd = -1;
	}
	return err;
}

static int vfsd_start(const struct share_config *s, struct virtiofsd **out, int *sock)
{
	struct virtiofsd *d;
	char *path = NULL;
	int err, listen_fd = -1;

	err = vfsd_binary_ok() ?: vfsd_path(s, &path);
	if (err)
		return err;
	d = calloc(1, sizeof(*d));
	if (!d) {
		free(path);
		pr_err("share '%s': out of memory", s->tag);
		return -ENOMEM;
	}
	d->pidfd = d->err.fd = -1;
	snprintf(d->tag, sizeof(d->tag), "%s", s->tag);
	err = vfsd_socket(&listen_fd, sock);
	if (!err) {
		err = vfsd_spawn(d, s, path, listen_fd);
		close(listen_fd);
		if (err)
			close(*sock);
	}
	free(path);
	if (err) {
		char line[VFSD_ERR_MAX];

		vfsd_last_line(d, line, sizeof(line));
		pr_err("share '%s': cannot start virtiofsd: %s", s->tag,
		       line[0] ? line : strerror(-err));
		free(d);
		return err;
	}
	pr_info("share '%s': virtiofsd %d serves %.*s%s%s", s->tag, d->pid,
		(int)s->path_len, s->path, s->ro ? " (read-only)" : "",
		s->as_nobody ? " as nobody" : "");
	*out = d;
	return 0;
}

int virtiofsd_start(const struct share_config *s, struct virtiofsd **out, int *sock)
{
	struct virtiofsd_early *e = s->early;

	if (!e || !e->d)
		return vfsd_start(s, out, sock);
	*out = e->d;
	*sock = e->sock;
	e->d = NULL;
	e->sock = -1;
	return 0;
}

int virtiofsd_start_early(struct share_config *s)
{
	struct virtiofsd_early *e = calloc(1, sizeof(*e));
	int err;

	if (!e) {
		pr_err("share '%s': out of memory", s->tag);
		return -ENOMEM;
	}
	err = vfsd_start(s, &e->d, &e->sock);
	if (err) {
		free(e);
		return err;
	}
	s->early = e;
	return 0;
}

void virtiofsd_early_free(struct share_config *s)
{
	struct virtiofsd_early *e = s->early;

	if (!e)
		return;
	if (e->d) {
		close(e->sock);
		virtiofsd_stop(e->d);
	}
	free(e);
	s->early = NULL;
}

/* Keeps the latest bytes of its stderr; 0 at EOF, else -EAGAIN. */
static int vfsd_read_err(struct virtiofsd *d)
{
	char chunk[VFSD_ERR_MAX / 2];	/* smaller than buf */

	for (;;) {
		ssize_t n = read(d->err.fd, chunk, sizeof(chunk));

		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -EAGAIN;
		if (d->len + n > sizeof(d->buf)) {
			size_t drop = d->len + n - sizeof(d->buf);

			memmove(d->buf, d->buf + drop, d->len - drop);
			d->len -= drop;
		}
		memcpy(d->buf + d->len, chunk, n);
		d->len += n;
	}
}

/* The last non-empty line it wrote, into line. */
static void vfsd_last_line(struct virtiofsd *d, char *line, size_t size)
{
	size_t end = d->len, start;

	while (end && (d->buf[end - 1] == '\n' || d->buf[end - 1] == '\r'))
		end--;
	start = end;
	while (start && d->buf[start - 1] != '\n')
		start--;
	snprintf(line, size, "%.*s", (int)(end - start), d->buf + start);
}

/* Gives it VIRTIOFSD_STOP_MS to exit, then kills it. */
static void vfsd_end(struct virtiofsd *d)
{
	struct pollfd pfd = { .fd = d->pidfd, .events = POLLIN };

	if (poll(&pfd, 1, VIRTIOFSD_STOP_MS) <= 0)
		pidfd_send_signal(d->pidfd, SIGKILL, NULL, 0);
}

void virtiofsd_stop(void *arg)
{
	struct virtiofsd *d = arg;
	siginfo_t si;

	/* Its connection is closed: it exits on its own, or is made to. */
	if (d->loop)
		evloop_del(d->loop, &d->err);
	vfsd_end(d);
	while (waitid(P_PIDFD, d->pidfd, &si, WEXITED) < 0 && errno == EINTR)
		;
	close(d->pidfd);
	close(d->err.fd);
	free(d);
}

void virtiofsd_failed(struct virtiofsd *d, int sock, int err)
{
	char line[VFSD_ERR_MAX], tag[CONFIG_TAG_MAX + 1];

	close(sock);
	memcpy(tag, d->tag, sizeof(tag));
	/* Its stderr is complete once it has exited. */
	vfsd_end(d);
	vfsd_read_err(d);
	vfsd_last_line(d, line, sizeof(line));
	virtiofsd_stop(d);
	if (line[0])
		pr_err("share '%s': virtiofsd failed: %s", tag, line);
	else if (err == -ETIMEDOUT)
		pr_err("share '%s': virtiofsd does not answer", tag);
	else
		pr_err("share '%s': virtiofsd failed the vhost-user set-up: %s", tag,
		       strerror(-err));
}

/* Its stderr while it runs: kept, so that the pipe never fills; at EOF
 * (it exited) the reason is worth a warning. */
static void vfsd_on_err(struct ev_handler *h, uint32_t events)
{
	struct virtiofsd *d = container_of(h, struct virtiofsd, err);
	char line[VFSD_ERR_MAX];

	(void)events;
	if (vfsd_read_err(d))
		return;
	evloop_del(d->loop, h);
	d->loop = NULL;
	vfsd_last_line(d, line, sizeof(line));
	pr_warn("share '%s': virtiofsd exited%s%s", d->tag, line[0] ? ": " : "", line);
}

int virtiofsd_watch(struct virtiofsd *d, struct evloop *loop)
{
	int err;

	d->err.fn = vfsd_on_err;
	err = evloop_add(loop, &d->err, EPOLLIN);
	if (!err)
		d->loop = loop;
	return err;
}
