// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini exec's guest agent: PID 1 of the job's VM (docs/exec.md).
 *
 * It loads the modules a stock kernel's initramfs lists, opens its ports,
 * says "ready" on the port "status" and waits for the job on the port
 * "job" (kvmini may snapshot the VM right there and start later jobs
 * from that point: nothing before it may depend on the job). The job
 * brings entropy, mixed into the guest's pool first, then the spec
 * (docs/exec.md). Then it builds the job's root (this host's / from
 * virtio-fs "root", read-only, under a tmpfs overlay) with the shares on
 * it, runs the command with its stdout and stderr on pipes, copies those
 * to the virtio-console ports named "stdout" and "stderr" (kvmini writes
 * them to its own fd 1 and 2), and writes the exit status to the port
 * "status"; kvmini ends the VM once it has written out the streams.
 * Before those ports are open, kvmini's exit device ends the VM.
 *
 * Its own trouble goes to the job's stderr, prefixed "kvmini exec:", and
 * ends the VM with 125 (what kvmini returns when it fails); a command
 * that cannot be found is 127 and one that cannot run 126, as in a shell.
 * Static, no libraries: it runs before there is a root file system.
 */
#include <dirent.h>
#include <grp.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <sys/io.h>
#endif

#define AGENT_FAIL		125	/* set-up failed: kvmini's own code */
#define JOB_SHARES_MAX		16
#define JOB_TMPFS_MAX		16
#define JOB_GROUPS_MAX		32
#define JOB_FILES_MAX		32

/* docs/exit-device.md: where a device tree does not say otherwise. */
#if defined(__aarch64__)
#define EXITDEV_DEFAULT		0x0a000000UL
#else
#define EXITDEV_DEFAULT		0xd0000000UL
#define EXITDEV_PORT		0x5f0
#endif
#define EXITDEV_MAGIC		0x584d564bU	/* "KVMX" */

/* Slirp's defaults, which kvmini's user network keeps (docs/exec.md). */
#define NET_GUEST_ADDR		"10.0.2.15"
#define NET_GATEWAY		"10.0.2.2"
#define NET_DNS			"10.0.2.3"
#define NET_PREFIX_MASK		"255.255.255.0"

#define NEWROOT			"/mnt/root"

/* The job's frame (exec/exec.h): length, entropy, spec. */
#define JOB_ENTROPY		64
#define JOB_MAX			(16 << 20)

/* A message on the port "ctl" (exec/exec.h): type, 3 zero bytes, a
 * 64-bit little-endian value. */
#define CTL_SIZE		12
#define CTL_EOF			'E'	/* stdin ended after value bytes */
#define CTL_SIGNAL		'S'	/* send the job signal value */
#define CTL_WINSIZE		'W'	/* rows | cols << 16 */
#define IN_BUF			65536

struct share {
	const char *tag;
	const char *dir;
	bool ro;
};

/* kvmini oci's file bind: file name of the share tag, at dst. */
struct file_bind {
	const char *tag;
	bool ro;
	const char *name;
	const char *dst;
};

struct job {
	const char *root;	/* a virtio-fs tag, or "initrd" */
	const char *root_mode;	/* kvmini oci: "ro"/"rw", the tag as / itself */
	const char *workdir;
	const char *hostname;
	bool has_user;
	uid_t uid;
	gid_t gid;
	gid_t groups[JOB_GROUPS_MAX];
	int nr_groups;
	const char *tmpfs[JOB_TMPFS_MAX];
	int nr_tmpfs;
	bool net_user;
	bool verbose;
	bool tty;		/* the job on a pty, its three streams */
	struct share shares[JOB_SHARES_MAX];
	int nr_shares;
	struct file_bind files[JOB_FILES_MAX];
	int nr_files;
	char **env;		/* "K=V", NULL-terminated */
	int nr_env;
	char **argv;		/* NULL-terminated */
	int argc;
};

/* The job's ports; -1 until open (messages go to the console). */
static int out_fd = -1, err_fd = -1, status_fd = -1;
/* The exit device's register, mapped first thing: /dev moves later. */
static volatile uint32_t *exit_reg;
static bool verbose;
/* CLOCK_MONOTONIC when the job was in: --verbose's timeline counts from it. */
static struct timespec job_t0;

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static void msg(int fd, const char *fmt, va_list ap)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "kvmini exec: ");

	n += vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(fd, buf, n);
}

/* --verbose: on the console (the UART, which kvmini then shows). */
static void info(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	msg(STDERR_FILENO, fmt, ap);
	va_end(ap);
}

/* --verbose's timeline of the job's start: "+N ms: what", since the job
 * came in (docs/exec.md). */
static void step(const char *what)
{
	struct timespec now;
	long us;

	if (!verbose)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (now.tv_sec - job_t0.tv_sec) * 1000000L + (now.tv_nsec - job_t0.tv_nsec) / 1000;
	info("+%ld.%ld ms: %s", us / 1000, us % 1000 / 100, what);
}

static void vm_exit(int status) __attribute__((noreturn));

/* The job cannot run: say why on its stderr, end with AGENT_FAIL. */
static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg(err_fd >= 0 ? err_fd : STDERR_FILENO, fmt, ap);
	va_end(ap);
	vm_exit(AGENT_FAIL);
}

/* ---- the exit device ---------------------------------------------------- */

/* A device tree (arm64) names it: exit@ADDR. */
static unsigned long exitdev_addr(void)
{
	DIR *d = opendir("/sys/firmware/devicetree/base");
	unsigned long addr = EXITDEV_DEFAULT;
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (!strncmp(e->d_name, "exit@", 5))
			addr = strtoul(e->d_name + 5, NULL, 16);
	}
	if (d)
		closedir(d);
	return addr;
}

/* Maps the register, if it is kvmini's ("KVMX"). */
static void exitdev_map(void)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned long addr = exitdev_addr();
	volatile uint32_t *reg;
	void *map;
	int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);

	if (fd < 0)
		return;
	map = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   addr & ~(page - 1));
	close(fd);
	if (map == MAP_FAILED)
		return;
	reg = (volatile uint32_t *)((char *)map + (addr & (page - 1)));
	if (*reg == EXITDEV_MAGIC)
		exit_reg = reg;
}

static void vm_exit(int status)
{
	char buf[8];

	sync();
	info("exit %d", status);
	if (status_fd >= 0) {
		/* kvmini ends the VM when the streams are out. */
		write_all(status_fd, buf, snprintf(buf, sizeof(buf), "%d\n", status));
		for (;;)
			pause();
	}
	if (exit_reg)
		*exit_reg = status;	/* the VM ends here */
#if defined(__x86_64__)
	/* No /dev/mem (a kernel without it): the device's port. */
	if (!ioperm(EXITDEV_PORT, 1, 1))
		outb(status, EXITDEV_PORT);
#endif
	/* Still here: a VMM without the exit device. */
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* ---- the job spec --------------------------------------------------------- */


static void job_share(struct job *j, char *v)
{
	struct share *s = &j->shares[j->nr_shares];
	char *mode, *dir;

	mode = strchr(v, ' ');
	dir = mode ? strchr(mode + 1, ' ') : NULL;
	if (!dir || j->nr_shares == JOB_SHARES_MAX)
		die("bad share in the job: '%s'", v);
	*mode++ = '\0';
	*dir++ = '\0';
	s->tag = v;
	s->ro = !strcmp(mode, "ro");
	s->dir = dir;
	j->nr_shares++;
}

/* "TAG ro|rw NAME GUESTPATH": NAME one path component. */
static void job_file(struct job *j, char *v)
{
	struct file_bind *f = &j->files[j->nr_files];
	char *mode = strchr(v, ' '), *name = mode ? strchr(mode + 1, ' ') : NULL;
	char *dst = name ? strchr(name + 1, ' ') : NULL;

	if (!dst || j->nr_files == JOB_FILES_MAX)
		die("bad file in the job: '%s'", v);
	*mode++ = '\0';
	*name++ = '\0';
	*dst++ = '\0';
	if (!*v || strchr(v, '/') || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, "..") || *dst != '/')
		die("bad file in the job: '%s'", v);
	f->tag = v;
	f->ro = !strcmp(mode, "ro");
	f->name = name;
	f->dst = dst;
	j->nr_files++;
}

/* "UID GID", decimal. */
static void job_user(struct job *j, const char *v)
{
	unsigned long uid, gid;
	char *end;

	errno = 0;
	uid = strtoul(v, &end, 10);
	if (*end != ' ' || end == v)
		die("bad user in the job: '%s'", v);
	gid = strtoul(end + 1, &end, 10);
	if (*end || errno || uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		die("bad user in the job: '%s'", v);
	j->uid = uid;
	j->gid = gid;
	j->has_user = true;
}

/* "G1 G2…", decimal. */
static void job_groups(struct job *j, const char *v)
{
	const char *p = v;

	while (*p) {
		unsigned long g;
		char *end;

		errno = 0;
		g = strtoul(p, &end, 10);
		if (end == p || (*end && *end != ' ') || errno || g > UINT32_MAX - 1 ||
		    j->nr_groups == JOB_GROUPS_MAX)
			die("bad groups in the job: '%s'", v);
		j->groups[j->nr_groups++] = g;
		p = *end ? end + 1 : end;
	}
}

static void job_pair(struct job *j, const char *k, char *v)
{
	if (!strcmp(k, "arg"))
		j->argv[j->argc++] = v;
	else if (!strcmp(k, "env"))
		j->env[j->nr_env++] = v;
	else if (!strcmp(k, "root"))
		j->root = v;
	else if (!strcmp(k, "workdir"))
		j->workdir = v;
	else if (!strcmp(k, "share"))
		job_share(j, v);
	else if (!strcmp(k, "file"))
		job_file(j, v);
	else if (!strcmp(k, "net"))
		j->net_user = !strcmp(v, "user");
	else if (!strcmp(k, "verbose"))
		j->verbose = !strcmp(v, "1");
	else if (!strcmp(k, "root-mode"))
		j->root_mode = v;
	else if (!strcmp(k, "hostname"))
		j->hostname = v;
	else if (!strcmp(k, "user"))
		job_user(j, v);
	else if (!strcmp(k, "groups"))
		job_groups(j, v);
	else if (!strcmp(k, "tty"))
		j->tty = !strcmp(v, "1");
	else if (!strcmp(k, "tmpfs")) {
		if (j->nr_tmpfs == JOB_TMPFS_MAX || *v != '/')
			die("bad tmpfs in the job: '%s'", v);
		j->tmpfs[j->nr_tmpfs++] = v;
	}
	else
		die("unknown key '%s' in the job (kvmini and its agent differ?)", k);
}

/* Pairs of NUL-terminated strings; the first is the magic and version. */
static void read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len; ) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("cannot read the job: %s", n ? strerror(errno) : "the port closed");
		done += n;
	}
}

/*
 * Jobs restored from one snapshot start with one pool: kvmini's bytes
 * go in, credited, and the CRNG reseeds from it at once, so that no two
 * jobs share a random number (RNDADDENTROPY, RNDRESEEDCRNG: root's).
 */
static void reseed(uint8_t *seed)
{
	struct {
		struct rand_pool_info info;
		uint8_t buf[JOB_ENTROPY];
	} e = { .info = { .entropy_count = JOB_ENTROPY * 8, .buf_size = JOB_ENTROPY } };
	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);

	memcpy(e.buf, seed, JOB_ENTROPY);
	if (fd < 0 || ioctl(fd, RNDADDENTROPY, &e) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
		die("cannot seed the guest's random numbers: %s", strerror(errno));
	close(fd);
	explicit_bzero(&e, sizeof(e));
	explicit_bzero(seed, JOB_ENTROPY);
}

/* The frame from the port "job": length, entropy, then the spec. */
static char *job_receive(int fd, size_t *len)
{
	uint8_t hdr[4], seed[JOB_ENTROPY];
	char *buf;

	read_full(fd, hdr, sizeof(hdr));
	*len = hdr[0] | hdr[1] << 8 | hdr[2] << 16 | (size_t)hdr[3] << 24;
	if (*len > JOB_MAX)
		die("the job is %zu bytes, more than %d", *len, JOB_MAX);
	read_full(fd, seed, sizeof(seed));
	reseed(seed);
	buf = malloc(*len + 1);
	if (!buf)
		die("the job: out of memory");
	read_full(fd, buf, *len);
	buf[*len] = '\0';
	return buf;
}

static void job_read(struct job *j, int fd)
{
	size_t len, nr = 0;
	char *buf = job_receive(fd, &len);
	char *p = buf, *end = buf + len;

	if (!len || buf[len - 1])
		die("the job is truncated");
	for (size_t i = 0; i < len; i++)
		nr += !buf[i];
	j->argv = calloc(nr + 1, sizeof(char *));
	j->env = calloc(nr + 1, sizeof(char *));
	if (!j->argv || !j->env)
		die("the job: out of memory");
	if (strcmp(p, "kvmini-job") || p + strlen(p) + 1 >= end ||
	    strcmp(p + strlen(p) + 1, "1"))
		die("the job is not a version 1 job spec");
	p += strlen(p) + 1;
	p += strlen(p) + 1;
	while (p < end) {
		char *k = p, *v = p + strlen(p) + 1;

		if (v >= end)
			die("the job: key '%s' has no value", k);
		p = v + strlen(v) + 1;	/* before job_pair() cuts v up */
		job_pair(j, k, v);
	}
	if (!j->argc)
		die("the job has no command");
}

/* ---- the guest's file systems --------------------------------------------- */

/* mkdir -p, within whatever root is current. */
static int mkdirs(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; ; p++) {
		char c = *p;

		if (c != '/' && c)
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (!c)
			return 0;
		*p = c;
	}
}

static void do_mount(const char *src, const char *dst, const char *type,
		     unsigned long flags, const char *data)
{
	int err = mkdirs(dst);

	if (err || mount(src, dst, type, flags, data) < 0)
		die("cannot mount %s (%s) on %s: %s", src, type, dst,
		    strerror(err ? -err : errno));
}

/*
 * FUSE's read-ahead is 128 KiB by default: a binary's or a library's
 * pages then come in that many round trips to virtiofsd, each dear in
 * a nested guest. A virtio-fs request carries up to 1 MiB (virtiofsd's
 * max_pages), so read ahead that much. Best effort: a kernel without
 * the knob reads as before.
 */
#define FUSE_READ_AHEAD_KB	"1024"

static void virtiofs_mount(const char *tag, const char *dst, unsigned long flags)
{
	char path[64];
	struct stat st;
	int fd;

	do_mount(tag, dst, "virtiofs", flags, NULL);
	if (stat(dst, &st) < 0)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb",
		 major(st.st_dev), minor(st.st_dev));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	write_all(fd, FUSE_READ_AHEAD_KB, strlen(FUSE_READ_AHEAD_KB));
	close(fd);
}

/* A stock kernel's initramfs lists its modules, in load order. */
static void load_modules(void)
{
	char line[256], path[300];
	FILE *f = fopen("/lib/modules/load", "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		int fd;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		snprintf(path, sizeof(path), "/lib/modules/%s", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST))
			info("module %s: %s", line, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	fclose(f);
}

/*
 * What depends on no job, mounted before "ready" and so in the snapshot
 * a job is restored from: the kernel's views and the scratch file
 * systems, in the initramfs where a job on it (--root initrd) has them;
 * a job on the host's / gets them moved into its root (mount_system),
 * the overlay's upper half and the job's /root waiting under /mnt. Only
 * virtio-fs waits for the job, against its own fresh virtiofsd.
 */
static void premount(void)
{
	do_mount("proc", "/proc", "proc", 0, NULL);
	do_mount("devpts", "/dev/pts", "devpts", 0, "ptmxmode=0666,mode=0620");
	do_mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	do_mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777");
	do_mount("tmpfs", "/run", "tmpfs", 0, "mode=0755");
	do_mount("tmpfs", "/mnt/rw", "tmpfs", 0, "mode=0755");
	if (mkdirs("/mnt/rw/upper") || mkdirs("/mnt/rw/work"))
		die("cannot make the overlay's directories: %s", strerror(errno));
	/* The host's /root is root's alone, and the root share is served
	 * with nobody's rights: the job's $HOME would be a directory it
	 * cannot even look into. An empty one instead. */
	do_mount("tmpfs", "/mnt/home", "tmpfs", 0, "mode=0700");
}

/* The host's / from virtio-fs, read-only, and premount()'s tmpfs over it. */
static void root_overlay(const char *tag)
{
	virtiofs_mount(tag, "/mnt/lower", MS_RDONLY);
	step("virtiofs mounted");
	do_mount("overlay", NEWROOT, "overlay", 0,
		 "lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work");
	step("overlay ready");
}

static void move_mount_to(const char *src, const char *root, const char *dir)
{
	char p[64];

	snprintf(p, sizeof(p), "%s%s", root, dir);
	if (mkdirs(p) || mount(src, p, NULL, MS_MOVE, NULL) < 0)
		die("cannot move %s into the job's root: %s", src, strerror(errno));
}

/* What a job expects besides the root, premount()'s, moved into it;
 * on the initramfs (root ""), they are in place already. */
static void mount_system(const char *root)
{
	if (!*root)
		return;
	move_mount_to("/proc", root, "/proc");
	move_mount_to("/sys", root, "/sys");
	move_mount_to("/dev", root, "/dev");	/* with /dev/pts and /dev/shm */
	move_mount_to("/mnt/home", root, "/root");
	move_mount_to("/tmp", root, "/tmp");
	move_mount_to("/run", root, "/run");
}

static void mount_shares(const struct job *j, const char *root)
{
	char p[4200];

	for (int i = 0; i < j->nr_shares; i++) {
		const struct share *s = &j->shares[i];

		snprintf(p, sizeof(p), "%s%s", root, s->dir);
		virtiofs_mount(s->tag, p, s->ro ? MS_RDONLY : 0);
	}
	for (int i = 0; i < j->nr_tmpfs; i++) {
		snprintf(p, sizeof(p), "%s%s", root, j->tmpfs[i]);
		do_mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	}
}

/*
 * kvmini oci's file binds: each share of files is mounted under
 * /mnt/files, in the initramfs, which the job's root is moved over
 * (enter_root) and which nothing under that root reaches; each file is
 * bind-mounted from there at its place in the root (an empty file made
 * there first if there is none). A read-only root that lacks the place
 * cannot have it made: that file is left out (said with --verbose), as
 * the image had no such file. The share holds nothing but the bound
 * files (kvmini oci makes it so on the host: oci/oci_files.c).
 */
static void bind_files(const struct job *j, const char *root)
{
	char src[4200], dst[4200], *slash;

	for (int i = 0; i < j->nr_files; i++) {
		const struct file_bind *f = &j->files[i];
		bool seen = false;
		int fd;

		for (int k = 0; k < i; k++)
			seen |= !strcmp(j->files[k].tag, f->tag);
		snprintf(src, sizeof(src), "/mnt/files/%s", f->tag);
		if (!seen)
			do_mount(f->tag, src, "virtiofs", MS_NOSUID | MS_NODEV |
				 (f->ro ? MS_RDONLY : 0), NULL);
		snprintf(src, sizeof(src), "/mnt/files/%s/%s", f->tag, f->name);
		snprintf(dst, sizeof(dst), "%s%s", root, f->dst);
		fd = open(dst, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			slash = strrchr(dst, '/');
			*slash = '\0';
			mkdirs(dst);
			*slash = '/';
			fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
			/* A link to nowhere (resolv.conf into /run, often):
			 * the bind replaces what it pointed to. */
			if (fd < 0 && errno == EEXIST && !unlink(dst))
				fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		}
		if (fd < 0) {
			info("file bind %s left out: no such file, and none can be made (%s)",
			     f->dst, strerror(errno));
			continue;
		}
		close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0 ||
		    (f->ro && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0))
			die("cannot bind %s at %s: %s", src, f->dst, strerror(errno));
	}
}

static void enter_root(void)
{
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 ||
	    chroot(".") < 0 || chdir("/") < 0)
		die("cannot enter the job's root: %s", strerror(errno));
}

/*
 * kvmini oci: the container's rootfs is / as it is (read-only if its
 * config says so), with the kernel's views and a /dev; no scratch
 * tmpfs over its own /tmp or /root, which belong to the image.
 */
static void container_root(const struct job *j)
{
	virtiofs_mount(j->root, NEWROOT, !strcmp(j->root_mode, "ro") ? MS_RDONLY : 0);
	do_mount("proc", NEWROOT "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	do_mount("sysfs", NEWROOT "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (mkdirs(NEWROOT "/dev") ||
	    mount("/dev", NEWROOT "/dev", NULL, MS_MOVE, NULL) < 0)
		die("cannot move /dev into the container's root: %s", strerror(errno));
	/* /dev/pts and /dev/shm came with it (premount). */
	mount_shares(j, NEWROOT);
	bind_files(j, NEWROOT);
	enter_root();
}

/* switch_root: the new root over the initramfs, which stays behind it. */
static void setup_root(const struct job *j)
{
	bool host = strcmp(j->root, "initrd");
	const char *root = host ? NEWROOT : "";

	if (host && j->root_mode) {
		container_root(j);
		return;
	}
	if (host)
		root_overlay(j->root);
	mount_system(root);
	step("/proc, /sys, /dev and scratch mounted");
	mount_shares(j, root);
	if (j->nr_shares)
		step("shares mounted");
	if (host)
		enter_root();
}

/* ---- network ---------------------------------------------------------------- */

static void if_up(int s, const char *name, const char *addr, const char *mask)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (addr) {
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			die("%s: cannot set address %s: %s", name, addr, strerror(errno));
		inet_pton(AF_INET, mask, &sin->sin_addr);
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			die("%s: cannot set netmask: %s", name, strerror(errno));
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die("no network interface %s: %s", name, strerror(errno));
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die("cannot bring %s up: %s", name, strerror(errno));
}

static void default_route(int s, const char *gw)
{
	struct rtentry rt = { 0 };
	struct sockaddr_in *a;

	a = (struct sockaddr_in *)&rt.rt_dst;
	a->sin_family = AF_INET;
	a = (struct sockaddr_in *)&rt.rt_genmask;
	a->sin_family = AF_INET;
	a = (struct sockaddr_in *)&rt.rt_gateway;
	a->sin_family = AF_INET;
	inet_pton(AF_INET, gw, &a->sin_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	if (ioctl(s, SIOCADDRT, &rt) < 0)
		die("cannot add a default route via %s: %s", gw, strerror(errno));
}

/* In the job's root, after the switch: its /etc is the overlay's. */
static void write_resolv_conf(void)
{
	static const char conf[] = "nameserver " NET_DNS "\n";
	int fd;

	unlink("/etc/resolv.conf");	/* often a link into /run */
	fd = open("/etc/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("cannot write /etc/resolv.conf: %s", strerror(errno));
	write_all(fd, conf, sizeof(conf) - 1);
	close(fd);
}

/* lo for every job (jobs expect localhost), before "ready" like the
 * mounts of premount(): it depends on no job. Without IPv4, none. */
static void lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		return;
	if_up(s, "lo", NULL, NULL);
	close(s);
}

/* eth0 as slirp has it with --net user. */
static void setup_net(const struct job *j)
{
	int s;

	if (!j->net_user)
		return;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		die("no IPv4 in the guest kernel: %s", strerror(errno));
	if_up(s, "eth0", NET_GUEST_ADDR, NET_PREFIX_MASK);
	default_route(s, NET_GATEWAY);
	/* A container's root is its bundle's, on the host: its
	 * resolv.conf is the engine's to give (a mount), not ours. */
	if (!j->root_mode)
		write_resolv_conf();
	close(s);
}

/* ---- the job's streams ------------------------------------------------------ */

/* The port called name: /dev/vportNpM, named in sysfs. */
static int find_port(const char *name, int flags)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	char path[300], got[32];
	struct dirent *e;
	int fd = -1;

	while (d && fd < 0 && (e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(got, sizeof(got), f) && !strcmp(strtok(got, "\n") ?: "", name)) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			fd = open(path, flags | O_CLOEXEC);
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return fd;
}

/* A module's ports, and their names, may still be on their way. */
static int open_port(const char *name, int flags)
{
	int fd = -1;

	for (int i = 0; i < 500 && fd < 0; i++) {
		fd = find_port(name, flags);
		if (fd < 0)
			usleep(10000);
	}
	if (fd < 0)
		die("no virtio-console port '%s' for the job (a kernel without virtio_console?)",
		    name);
	return fd;
}

/* ---- the command ------------------------------------------------------------- */

static void set_env(const struct job *j)
{
	clearenv();
	setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/root", 1);
	for (int i = 0; i < j->nr_env; i++)
		putenv(j->env[i]);
}

/* -t: the pty's slave, opened by the new session's leader, becomes its
 * controlling terminal and all three streams. */
static void child_tty(const char *slave)
{
	int fd = open(slave, O_RDWR);

	if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
		dprintf(STDERR_FILENO, "kvmini exec: cannot open the terminal %s: %s\n",
			slave, strerror(errno));
		_exit(AGENT_FAIL);
	}
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

/* slave: the pty's, or NULL for the pipes in, out and err; exec_fd:
 * --verbose's timeline, written to when execvp() fails (it closes on exec). */
static void __attribute__((noreturn)) child(const struct job *j, const char *slave,
					      int in, int out, int err, int exec_fd)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);	/* the agent's SIG_IGN would stay */
	setsid();
	dup2(err, STDERR_FILENO);	/* child_tty()'s message goes here */
	if (slave) {
		child_tty(slave);
	} else {
		dup2(in, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
	}
	if (j->has_user && (setgroups(j->nr_groups, j->groups) < 0 || setgid(j->gid) < 0 ||
			    setuid(j->uid) < 0)) {
		dprintf(STDERR_FILENO, "kvmini exec: cannot become uid %u gid %u: %s\n",
			(unsigned int)j->uid, (unsigned int)j->gid, strerror(errno));
		_exit(AGENT_FAIL);
	}
	execvp(j->argv[0], j->argv);
	if (exec_fd >= 0)
		write_all(exec_fd, "!", 1);
	dprintf(STDERR_FILENO, "kvmini exec: %s: %s\n", j->argv[0],
		errno == ENOENT ? "command not found" : strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* One read's worth from a pipe to its channel; false at end of file. */
static bool pump(int from, int to)
{
	static char buf[65536];
	ssize_t n;

	do
		n = read(from, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return true;	/* a pty's master, non-blocking */
	if (n <= 0)
		return false;	/* the end; EIO: a pty with no slave left */
	write_all(to, buf, n);
	return true;
}

/* Reaps every child (PID 1 inherits orphans); true once the job's ended. */
static bool reap(pid_t job, int *status)
{
	bool done = false;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid != job)
			continue;
		*status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		done = true;
	}
	return done;
}

/*
 * kvmini's stdin for the job: the port "stdin" into a pipe, one read's
 * worth at a time, so that a job that does not read holds kvmini back;
 * the pipe closes once kvmini's end-of-stdin message has come and every
 * byte it counted is through.
 */
struct job_in {
	int port;		/* "stdin", -1: no more to read */
	int pipe;		/* the job's stdin, -1: closed */
	char buf[IN_BUF];
	size_t len, off;
	uint64_t got;		/* bytes read from the port */
	uint64_t eof_at;	/* bytes in all, once known */
	bool eof_known;
	bool tty;		/* pipe is the pty's master: never closed on EOF */
	/* "ctl": a message may come in pieces */
	int ctl;
	uint8_t msg[CTL_SIZE];
	size_t msg_len;
};

static void job_in_close(struct job_in *in)
{
	if (in->pipe >= 0)
		close(in->pipe);
	in->pipe = -1;
	in->port = -1;
}

static void job_in_check_eof(struct job_in *in)
{
	if (in->pipe >= 0 && !in->tty && in->eof_known && in->off == in->len && in->got >= in->eof_at)
		job_in_close(in);
}

/* The port has data: read it (only when the last read is all through). */
static void job_in_read(struct job_in *in)
{
	ssize_t n = read(in->port, in->buf, sizeof(in->buf));

	if (n > 0) {
		in->len = n;
		in->off = 0;
		in->got += n;
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		job_in_close(in);	/* kvmini cannot send more */
	}
}

/* The pipe has room. EPIPE: the job closed its stdin; the rest is
 * dropped, and kvmini stops reading once the port's buffers are full. */
static void job_in_write(struct job_in *in)
{
	ssize_t n = write(in->pipe, in->buf + in->off, in->len - in->off);

	if (n > 0)
		in->off += n;
	else if (n < 0 && errno != EINTR && errno != EAGAIN)
		job_in_close(in);
	if (in->off == in->len)
		in->off = in->len = 0;
	job_in_check_eof(in);
}

/* One message from kvmini. Signals go to the job's process only, as an
 * engine's kill does to a container's: a shell that traps one decides
 * what its children get. */
static void job_ctl(struct job_in *in, pid_t pid, bool ended, const uint8_t *m)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)m[4 + i] << (8 * i);
	switch (m[0]) {
	case CTL_EOF:
		in->eof_known = true;
		in->eof_at = v;
		job_in_check_eof(in);
		break;
	case CTL_SIGNAL:
		if (!ended && v >= 1 && v < 65 && v != SIGKILL && v != SIGSTOP) {
			info("signal %d to the job", (int)v);
			kill(pid, (int)v);
		}
		break;
	case CTL_WINSIZE:
		if (in->tty) {
			struct winsize ws = { .ws_row = v & 0xffff, .ws_col = (v >> 16) & 0xffff };

			/* The kernel sends the job SIGWINCH itself. */
			ioctl(in->pipe, TIOCSWINSZ, &ws);
		}
		break;
	default:
		break;		/* unknown: a newer kvmini's, ignored */
	}
}

static void job_ctl_read(struct job_in *in, pid_t pid, bool ended)
{
	ssize_t n = read(in->ctl, in->msg + in->msg_len, CTL_SIZE - in->msg_len);

	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			close(in->ctl);
			in->ctl = -1;
		}
		return;
	}
	in->msg_len += n;
	if (in->msg_len < CTL_SIZE)
		return;
	in->msg_len = 0;
	job_ctl(in, pid, ended, in->msg);
}

enum { P_OUT, P_ERR, P_SIG, P_IN, P_PIPE, P_CTL, P_NR };

/* What to wait for: stdin's port only when its last read is through,
 * the pipe only when it is not; nothing of stdin once the job ended. */
static void run_poll_set(struct pollfd *p, const struct job_in *in, bool ended)
{
	bool pending = in->off < in->len;

	p[P_IN] = (struct pollfd){ .fd = -1, .events = POLLIN };
	p[P_PIPE] = (struct pollfd){ .fd = -1, .events = POLLOUT };
	p[P_CTL] = (struct pollfd){ .fd = ended ? -1 : in->ctl, .events = POLLIN };
	if (ended || in->pipe < 0)
		return;
	if (pending)
		p[P_PIPE].fd = in->pipe;
	else if (in->port >= 0)
		p[P_IN].fd = in->port;
}

/*
 * Copies output until the command has ended and its pipes are empty.
 * Whatever it wrote before it ended is in the pipes by then; a
 * background process that keeps them open does not hold the VM up.
 * Meanwhile, stdin goes in and kvmini's messages are acted on.
 */
static int run(const struct job *j, struct job_in *in)
{
	int po[2], pe[2], pi[2], ex[2], sfd, status = 0;
	const char *slave = NULL;
	bool ended = false;
	struct pollfd p[P_NR];
	sigset_t chld;
	pid_t pid;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0 ||
	    pipe2(pi, O_CLOEXEC) < 0 || fcntl(pi[1], F_SETFL, O_NONBLOCK) < 0)
		die("cannot set up the job's pipes: %s", strerror(errno));
	if (j->tty) {
		/* The pty replaces the pipes for all three streams; its
		 * master is read for output and written with stdin. */
		int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

		if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(slave = ptsname(m)) ||
		    fcntl(m, F_SETFL, O_NONBLOCK) < 0)
			die("cannot make the job's terminal: %s", strerror(errno));
		close(po[0]);
		close(pi[1]);
		po[0] = m;
		pi[1] = dup(m);
		in->tty = true;
		if (pi[1] < 0)
			die("cannot make the job's terminal: %s", strerror(errno));
	}
	/* --verbose: a pipe that closes when the command is exec'd. */
	if (!verbose || pipe2(ex, O_CLOEXEC) < 0)
		ex[0] = ex[1] = -1;
	pid = fork();
	if (pid < 0)
		die("cannot start the job: %s", strerror(errno));
	if (!pid)
		child(j, slave, pi[0], po[1], pe[1], ex[1]);
	if (ex[0] >= 0) {
		char c;

		close(ex[1]);
		step(read(ex[0], &c, 1) == 1 ? "job not exec'd" : "job exec'd");
		close(ex[0]);
	}
	close(pi[0]);
	close(po[1]);
	close(pe[1]);
	in->pipe = pi[1];
	job_in_check_eof(in);
	p[P_OUT] = (struct pollfd){ .fd = po[0], .events = POLLIN };
	p[P_ERR] = (struct pollfd){ .fd = pe[0], .events = POLLIN };
	p[P_SIG] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	while (p[P_OUT].fd >= 0 || p[P_ERR].fd >= 0) {
		int n;

		run_poll_set(p, in, ended);
		n = poll(p, P_NR, ended ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* ended, and the pipes are empty */
		for (int i = P_OUT; i <= P_ERR; i++) {
			if (p[i].revents && !pump(p[i].fd, i == P_ERR ? err_fd : out_fd))
				p[i].fd = -1;
		}
		if (p[P_SIG].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) > 0)
				;
			ended |= reap(pid, &status);
		}
		if (p[P_IN].revents)
			job_in_read(in);
		if (p[P_PIPE].revents)
			job_in_write(in);
		if (p[P_CTL].revents)
			job_ctl_read(in, pid, ended);
	}
	while (!ended) {
		int st;

		if (waitpid(pid, &st, 0) == pid) {
			status = WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
			ended = true;
		}
	}
	step("job exited, its output copied");
	return status;
}

int main(void)
{
	struct job j = { .root = "initrd", .workdir = "/" };
	struct job_in in = { .port = -1, .pipe = -1, .ctl = -1 };
	int job_fd;

	if (getpid() != 1) {
		fprintf(stderr, "kvmini exec's agent runs as a guest's /init only\n");
		return 2;
	}
	/* The initramfs's own; the job's root gets fresh ones. */
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mkdirs("/sys");
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	exitdev_map();
	load_modules();
	/* stderr first: die() uses it. */
	err_fd = open_port("stderr", O_WRONLY);
	out_fd = open_port("stdout", O_WRONLY);
	status_fd = open_port("status", O_WRONLY);
	job_fd = open_port("job", O_RDONLY);
	premount();
	lo_up();
	/* Everything above is the same for every job: kvmini may snapshot
	 * the VM from here on until the job arrives. */
	write_all(status_fd, "ready\n", 6);
	job_read(&j, job_fd);
	clock_gettime(CLOCK_MONOTONIC, &job_t0);
	close(job_fd);
	/* Opened only now: kvmini sends on them once the job is in. */
	in.port = open_port("stdin", O_RDONLY | O_NONBLOCK);
	in.ctl = open_port("ctl", O_RDONLY | O_NONBLOCK);
	/* A job that closes its stdin early must not end PID 1. */
	signal(SIGPIPE, SIG_IGN);
	verbose = j.verbose;
	step("job received, ports open");
	if (j.hostname)
		sethostname(j.hostname, strlen(j.hostname));
	else
		sethostname("kvmini", 6);
	setup_root(&j);
	setup_net(&j);
	step("network up");
	set_env(&j);
	if (chdir(j.workdir) < 0)
		die("working directory %s: %s", j.workdir, strerror(errno));
	info("running %s", j.argv[0]);
	vm_exit(run(&j, &in));
}
