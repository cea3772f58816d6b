// SPDX-License-Identifier: GPL-2.0
/*
 * The whole virtio-fs path without a guest kernel: the real virtiofsd
 * (needs root and qemu-system-common; the tests say so and pass without
 * them), started by backend/virtiofsd.c, connected by the virtio-fs device
 * over vhost-user, with the fake guest's driver sending FUSE requests
 * through rings in memfd-backed RAM. Then virtiofsd's failures: missing,
 * failing at start, and kvmini killed under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/fuse.h>
#include <linux/seccomp.h>

#include "unit.h"
#include "util.h"
#include "fake_virtq.h"
#include "virtio/devices.h"
#include "backend/virtiofsd.h"

#define REQUESTQ	1
#define OUT_SIZE	4096

static struct fake_guest g;
static struct virtio_dev *fs;
static char dir[64];
static uint64_t unique;

/* Root, virtiofsd, and mount namespaces (not in every container). */
static bool have_virtiofsd(void)
{
	int status = -1;
	pid_t pid;

	if (!geteuid() && !access(VIRTIOFSD_DEFAULT, X_OK)) {
		pid = fork();
		if (!pid)
			_exit(unshare(CLONE_NEWNS) ? 1 : 0);
		waitpid(pid, &status, 0);
	}
	if (status) {
		unit_skip("test_virtiofsd: not root, no %s or no namespaces",
			  VIRTIOFSD_DEFAULT);
		return false;
	}
	return true;
}

static struct share_config share(const char *path, bool ro)
{
	struct share_config s = { .path = path, .path_len = strlen(path), .ro = ro };

	strcpy(s.tag, "t");
	return s;
}

/* The fake guest, its RAM a memfd as gmem_init_shared() makes it. */
static void guest_init(void)
{
	fake_guest_init(&g);
	free(g.ram);
	ck_assert_int_eq(gmem_init_shared(&g.mem, FAKE_RAM_SIZE), 0);
	ck_assert_int_eq(gmem_add_region(&g.mem, FAKE_RAM_GPA, FAKE_RAM_SIZE, g.mem.map), 0);
	g.ram = g.mem.map;
}

static void setup(void)
{
	strcpy(dir, "/tmp/kvmini-vfsd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	fs = NULL;
	guest_init();
}

static void teardown(void)
{
	char cmd[192];

	if (fs) {
		virtio_dev_exit(fs);
		free(fs);
	}
	gmem_exit(&g.mem);
	g.ram = NULL;
	fake_guest_exit(&g);
	/* A test that failed may have left its mount below the share. */
	snprintf(cmd, sizeof(cmd), "umount %s/sub 2>/dev/null; rm -rf %s", dir, dir);
	ck_assert_int_eq(system(cmd), 0);
	unsetenv("KVMINI_VIRTIOFSD");
}

/* virtiofsd on dir (or a subdirectory), the device on it, the driver up. */
static void start(const char *path, bool ro)
{
	struct share_config s = share(path, ro);
	struct vfs_backend be = { .stop = virtiofsd_stop };
	struct virtiofsd *d;

	ck_assert_int_eq(virtiofsd_start(&s, &d, &be.sock), 0);
	be.ctx = d;
	ck_assert_int_eq(virtio_fs_new(&g.mem, "t", &be, NULL, 0, &fs), 0);
	fake_driver_start(&g, fs, 0, 64);
}

/*
 * One FUSE request on the request queue: header + in, and back the
 * reply's error and body (in out, OUT_SIZE bytes). Waits for the used
 * ring; the call eventfd has no loop to go to here.
 */
static int fuse(uint32_t opcode, uint64_t nodeid, const void *in, size_t len,
		void **out)
{
	uint64_t req = fake_alloc(&g, sizeof(struct fuse_in_header) + len, 8);
	uint64_t rep = fake_alloc(&g, OUT_SIZE, 8);
	struct fuse_in_header *h = fake_ptr(&g, req);
	struct fuse_out_header *o = fake_ptr(&g, rep);
	struct fake_seg segs[2] = {
		{ req, sizeof(*h) + len, false },
		{ rep, OUT_SIZE, true },
	};
	struct timespec ms = { 0, 1000000 };
	uint32_t id, used_len;
	uint16_t head;

	*h = (struct fuse_in_header){
		.len = sizeof(*h) + len, .opcode = opcode, .unique = ++unique,
		.nodeid = nodeid,
	};
	memcpy(h + 1, in, len);
	head = fake_add_chain(&g, REQUESTQ, segs, 2);
	fake_kick(&g, fs, REQUESTQ);
	for (int i = 0; i < 5000 && !fake_get_used(&g, REQUESTQ, &id, &used_len); i++)
		nanosleep(&ms, NULL);
	ck_assert_msg(fake_used_idx(&g, REQUESTQ) == unique, "virtiofsd did not answer");
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(o->unique, unique);
	ck_assert_uint_eq(o->len, used_len);
	if (out)
		*out = o + 1;
	return o->error;
}

static void fuse_init(void)
{
	struct fuse_init_in in = { .major = FUSE_KERNEL_VERSION,
				   .minor = FUSE_KERNEL_MINOR_VERSION };
	struct fuse_init_out *out;

	ck_assert_int_eq(fuse(FUSE_INIT, 0, &in, sizeof(in), (void **)&out), 0);
	ck_assert_uint_eq(out->major, FUSE_KERNEL_VERSION);
}

/* FUSE_MKDIR name in directory parent: the reply's error. */
static int fuse_mkdir(uint64_t parent, const char *name)
{
	char in[sizeof(struct fuse_mkdir_in) + 32] = { 0 };
	struct fuse_mkdir_in *m = (void *)in;

	m->mode = 0755;
	strcpy(in + sizeof(*m), name);
	return fuse(FUSE_MKDIR, parent, in, sizeof(*m) + strlen(name) + 1, NULL);
}

/* name in the shared directory, on the host. */
static const char *in_dir(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static bool exists(const char *name)
{
	struct stat st;

	return !stat(in_dir(name), &st);
}

START_TEST(test_share_rw)
{
	struct fuse_entry_out *e;

	if (!have_virtiofsd())
		return;
	ck_assert_int_eq(close(open(in_dir("hello"), O_CREAT | O_WRONLY, 0644)), 0);
	start(dir, false);
	fuse_init();
	ck_assert_int_eq(fuse(FUSE_LOOKUP, FUSE_ROOT_ID, "hello", 6, (void **)&e), 0);
	ck_assert_uint_ne(e->nodeid, 0);
	ck_assert_int_eq(fuse(FUSE_LOOKUP, FUSE_ROOT_ID, "none", 5, NULL), -ENOENT);
	ck_assert_int_eq(fuse_mkdir(FUSE_ROOT_ID, "made"), 0);
	ck_assert(exists("made"));
	/* A reset takes the rings back; the driver can start over. */
	ck_assert(fake_set_status(fs, 0));
	fake_driver_start(&g, fs, 0, 64);
	unique = 0;
	ck_assert_int_eq(fuse_mkdir(FUSE_ROOT_ID, "again"), 0);
	ck_assert(exists("again"));
}
END_TEST

/* ro is virtiofsd's mount, not the guest's word: writes get EROFS. */
START_TEST(test_share_ro)
{
	struct fuse_entry_out *e;
	char cmd[256];

	if (!have_virtiofsd())
		return;
	/* A mount below the share is read-only too. */
	ck_assert_int_eq(mkdir(in_dir("sub"), 0755), 0);
	snprintf(cmd, sizeof(cmd), "mount -t tmpfs none %s", in_dir("sub"));
	ck_assert_msg(!system(cmd), "cannot mount a tmpfs below the share");
	start(dir, true);
	fuse_init();
	ck_assert_int_eq(fuse_mkdir(FUSE_ROOT_ID, "made"), -EROFS);
	ck_assert(!exists("made"));
	ck_assert_int_eq(fuse(FUSE_LOOKUP, FUSE_ROOT_ID, "sub", 4, (void **)&e), 0);
	ck_assert_int_eq(fuse_mkdir(e->nodeid, "x"), -EROFS);
	ck_assert(!exists("sub/x"));
	/* On the host, outside virtiofsd's namespace, it stays writable. */
	ck_assert_int_eq(mkdir(in_dir("sub/y"), 0755), 0);
	snprintf(cmd, sizeof(cmd), "umount %s", in_dir("sub"));
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The host's / read-only, as kvmini exec shares it. */
START_TEST(test_share_root_ro)
{
	struct fuse_entry_out *e;

	if (!have_virtiofsd())
		return;
	start("/", true);
	fuse_init();
	ck_assert_int_eq(fuse(FUSE_LOOKUP, FUSE_ROOT_ID, "etc", 4, (void **)&e), 0);
	ck_assert_uint_ne(e->nodeid, 0);
	ck_assert_int_eq(fuse_mkdir(FUSE_ROOT_ID, "kvmini-must-not-exist"), -EROFS);
	ck_assert_int_eq(access("/kvmini-must-not-exist", F_OK), -1);
	/* /tmp is a mount of its own on most hosts: read-only too. */
	ck_assert_int_eq(fuse(FUSE_LOOKUP, FUSE_ROOT_ID, "tmp", 4, (void **)&e), 0);
	ck_assert_int_eq(fuse_mkdir(e->nodeid, "kvmini-must-not-exist"), -EROFS);
	ck_assert_int_eq(access("/tmp/kvmini-must-not-exist", F_OK), -1);
}
END_TEST

/* FUSE_LOOKUP of each component of path, from the root: the error, and
 * the last node in *node. */
static int fuse_walk(const char *path, uint64_t *node)
{
	char name[64];
	struct fuse_entry_out *e;
	const char *p = path;
	int err;

	*node = FUSE_ROOT_ID;
	while (*p) {
		size_t n = strcspn(p, "/");

		ck_assert_uint_lt(n, sizeof(name));
		memcpy(name, p, n);
		name[n] = 0;
		err = fuse(FUSE_LOOKUP, *node, name, n + 1, (void **)&e);
		if (err)
			return err;
		*node = e->nodeid;
		p += n + (p[n] == '/');
	}
	return 0;
}

/*
 * FUSE_OPEN (or FUSE_OPENDIR) of path for reading: the error, *fh. With
 * O_NOATIME, as the guest's overlayfs opens its lower files.
 */
static int fuse_open(const char *path, bool is_dir, uint64_t *node, uint64_t *fh)
{
	struct fuse_open_in in = {
		.flags = (is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_NOATIME,
	};
	struct fuse_open_out *o;
	int err = fuse_walk(path, node);

	if (err)
		return err;
	err = fuse(is_dir ? FUSE_OPENDIR : FUSE_OPEN, *node, &in, sizeof(in), (void **)&o);
	if (!err)
		*fh = o->fh;
	return err;
}

/* A line of /proc/PID/name, from the host. */
static char *proc_line(pid_t pid, const char *name, const char *start)
{
	static char line[256];
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	line[0] = 0;
	while (fgets(line, sizeof(line), f) && strncmp(line, start, strlen(start)))
		line[0] = 0;
	fclose(f);
	return line;
}

static pid_t child_of(pid_t pid);

/*
 * kvmini exec's root: the host's / as nobody. Files and directories only
 * root may read stay closed, world-readable ones open (O_NOATIME too),
 * /proc shows no host process, and virtiofsd is 65534 in a user
 * namespace, with CAP_FOWNER alone, no supplementary group and no
 * environment.
 */
START_TEST(test_share_root_nobody)
{
	struct share_config s = share("/", true);
	struct vfs_backend be = { .stop = virtiofsd_stop };
	char path[128], *base = dir + 1;	/* "tmp/kvmini-vfsd.XXXXXX" */
	struct fuse_read_in rd = { .size = 64 };
	struct fuse_getattr_in ga = { 0 };
	struct fuse_attr_out *attr;
	struct virtiofsd *d;
	uint64_t node, fh;
	struct stat st, own;
	char *data;
	pid_t pid;
	FILE *f;

	if (!have_virtiofsd())
		return;
	f = fopen(in_dir("secret"), "w");
	fputs("root only\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(in_dir("secret"), 0600), 0);
	f = fopen(in_dir("public"), "w");
	fputs("for all\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(in_dir("public"), 0644), 0);
	ck_assert_int_eq(close(open(in_dir("users"), O_CREAT | O_WRONLY, 0644)), 0);
	ck_assert_int_eq(chown(in_dir("users"), 1000, 1000), 0);
	ck_assert_int_eq(chmod(dir, 0700), 0);

	s.as_nobody = true;
	ck_assert_int_eq(virtiofsd_start(&s, &d, &be.sock), 0);
	be.ctx = d;
	ck_assert_int_eq(virtio_fs_new(&g.mem, "t", &be, NULL, 0, &fs), 0);
	fake_driver_start(&g, fs, 0, 64);
	fuse_init();

	pid = child_of(getpid());
	ck_assert_int_gt(pid, 0);
	ck_assert_str_eq(proc_line(pid, "uid_map", ""), "         0          0 4294967295\n");
	ck_assert_str_eq(proc_line(pid, "gid_map", ""), "         0          0 4294967295\n");
	ck_assert_str_eq(proc_line(pid, "setgroups", ""), "deny\n");
	ck_assert_str_eq(proc_line(pid, "status", "Uid:"), "Uid:\t65534\t65534\t65534\t65534\n");
	ck_assert_str_eq(proc_line(pid, "status", "Gid:"), "Gid:\t65534\t65534\t65534\t65534\n");
	/* CAP_FOWNER alone, for O_NOATIME (virtiofsd drops the others). */
	ck_assert_str_eq(proc_line(pid, "status", "CapPrm:"), "CapPrm:\t0000000000000008\n");
	ck_assert_str_eq(proc_line(pid, "status", "CapEff:"), "CapEff:\t0000000000000008\n");
	ck_assert_str_eq(proc_line(pid, "status", "NoNewPrivs:"), "NoNewPrivs:\t1\n");
	data = proc_line(pid, "status", "Groups:");
	ck_assert_msg(!strpbrk(data, "0123456789"), "virtiofsd kept groups: %s", data);
	ck_assert_str_eq(proc_line(pid, "environ", ""), "");

	/* A 0700 directory of root's: seen, not listed, not entered. */
	ck_assert_int_eq(fuse_open(base, true, &node, &fh), -EACCES);
	snprintf(path, sizeof(path), "%s/public", base);
	ck_assert_int_eq(fuse_walk(path, &node), -EACCES);
	/* Opened up: a 0600 file stays closed, a 0644 one reads. */
	ck_assert_int_eq(chmod(dir, 0755), 0);
	ck_assert_int_eq(fuse_open(base, true, &node, &fh), 0);
	snprintf(path, sizeof(path), "%s/secret", base);
	ck_assert_int_eq(fuse_open(path, false, &node, &fh), -EACCES);
	snprintf(path, sizeof(path), "%s/public", base);
	ck_assert_int_eq(fuse_open(path, false, &node, &fh), 0);
	rd.fh = fh;
	ck_assert_int_eq(fuse(FUSE_READ, node, &rd, sizeof(rd), (void **)&data), 0);
	ck_assert_int_eq(memcmp(data, "for all\n", 8), 0);
	/* Another user's file: readable, with its owner as it is. */
	snprintf(path, sizeof(path), "%s/users", base);
	ck_assert_int_eq(fuse_open(path, false, &node, &fh), 0);
	ck_assert_int_eq(fuse(FUSE_GETATTR, node, &ga, sizeof(ga), (void **)&attr), 0);
	ck_assert_uint_eq(attr->attr.uid, 1000);
	ck_assert_int_eq(fuse_open("etc/passwd", false, &node, &fh), 0);
	ck_assert_int_eq(fuse(FUSE_GETATTR, node, &ga, sizeof(ga), (void **)&attr), 0);
	ck_assert_uint_eq(attr->attr.uid, 0);
	if (!stat("/etc/shadow", &st) && !(st.st_mode & S_IROTH))
		ck_assert_int_eq(fuse_open("etc/shadow", false, &node, &fh), -EACCES);
	if (!stat("/root", &st) && !(st.st_mode & S_IROTH))
		ck_assert_int_eq(fuse_open("root", true, &node, &fh), -EACCES);
	ck_assert_int_eq(fuse_open("etc/passwd", false, &node, &fh), 0);

	/* /proc: virtiofsd's own processes, nothing of the host's; and
	 * for /proc/net, a network namespace of its own. */
	ck_assert_int_eq(fuse_walk("proc/1", &node), -ENOENT);
	snprintf(path, sizeof(path), "proc/%d/fd", pid);
	ck_assert_int_eq(fuse_walk(path, &node), 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(stat("/proc/self/ns/net", &own), 0);
	ck_assert_uint_ne(st.st_ino, own.st_ino);
	/* No write either: without CAP_SETUID it fails before EROFS would. */
	ck_assert_int_eq(fuse_mkdir(FUSE_ROOT_ID, "kvmini-must-not-exist"), -EPERM);
	ck_assert_int_eq(access("/kvmini-must-not-exist", F_OK), -1);
}
END_TEST

/* Runs virtiofsd_start() on s, with stderr captured: its return. */
static int start_err(const struct share_config *s, char **err)
{
	struct unit_capture c;
	struct virtiofsd *d;
	int sock, r;

	unit_capture_begin(&c, STDERR_FILENO);
	r = virtiofsd_start(s, &d, &sock);
	*err = unit_capture_end(&c);
	if (!r) {
		close(sock);
		virtiofsd_stop(d);
	}
	return r;
}

START_TEST(test_errors)
{
	struct share_config s = share(dir, false);
	char *err, script[96];
	struct vfs_backend be = { 0 };
	struct virtiofsd *d;
	struct unit_capture c;
	FILE *f;
	int r;

	setenv("KVMINI_VIRTIOFSD", "/nonexistent/virtiofsd", 1);
	ck_assert_int_eq(start_err(&s, &err), -ENOENT);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_ptr_nonnull(strstr(err, "install qemu-system-common"));
	free(err);

	setenv("KVMINI_VIRTIOFSD", "/bin/true", 1);
	s = share("/nonexistent/dir", false);
	ck_assert_int_eq(start_err(&s, &err), -ENOENT);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_ptr_nonnull(strstr(err, "share 't': /nonexistent/dir: No such file"));
	free(err);
	s = share("/etc/passwd", false);
	ck_assert_int_eq(start_err(&s, &err), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(err, "not a directory"));
	free(err);
	/* "-o source=" splits at commas: such a name would add options. */
	snprintf(script, sizeof(script), "%s/x,modcaps=+sys_admin", dir);
	ck_assert_int_eq(mkdir(script, 0700), 0);
	s = share(script, false);
	r = start_err(&s, &err);
	rmdir(script);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_ptr_nonnull(strstr(err, "cannot take a path with ','"));
	free(err);

	/* A virtiofsd that dies at once: its last line explains. */
	snprintf(script, sizeof(script), "%s/fake-virtiofsd", dir);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\necho starting >&2\necho 'bad option: really' >&2\nexit 1\n", f);
	fclose(f);
	chmod(script, 0755);
	setenv("KVMINI_VIRTIOFSD", script, 1);
	s = share(dir, false);
	ck_assert_int_eq(virtiofsd_start(&s, &d, &be.sock), 0);
	r = virtio_fs_new(&g.mem, "t", &be, NULL, 0, &fs);
	ck_assert_int_eq(r, -ECONNRESET);
	ck_assert_ptr_null(fs);
	unit_capture_begin(&c, STDERR_FILENO);
	virtiofsd_failed(d, be.sock, r);
	err = unit_capture_end(&c);
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_ptr_nonnull(strstr(err, "share 't': virtiofsd failed: bad option: really"));
	free(err);
}
END_TEST

/*
 * kvmini in a chroot (the lab runs it so, as schroot does), where
 * unshare(CLONE_NEWUSER) is refused: the share is still served as nobody,
 * from the chroot. Here the chroot is a bind mount of /, in a child with
 * a mount namespace of its own.
 */
START_TEST(test_nobody_in_chroot)
{
	pid_t pid;
	int status;

	if (!have_virtiofsd())
		return;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct share_config s = share("/", true);
		struct vfs_backend be = { .stop = virtiofsd_stop };
		struct virtiofsd *d;
		uint64_t node, fh;

		s.as_nobody = true;
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mkdir(in_dir("r"), 0755) ||
		    mount("/", in_dir("r"), NULL, MS_BIND | MS_REC, NULL) ||
		    chroot(in_dir("r")) || chdir("/"))
			_exit(2);
		if (virtiofsd_start(&s, &d, &be.sock))
			_exit(3);
		be.ctx = d;
		if (virtio_fs_new(&g.mem, "t", &be, NULL, 0, &fs))
			_exit(4);
		fake_driver_start(&g, fs, 0, 64);
		fuse_init();
		_exit(fuse_open("etc/passwd", false, &node, &fh) ? 5 :
		      fuse_open("etc/shadow", false, &node, &fh) != -EACCES ? 6 :
		      fuse_open("root", true, &node, &fh) != -EACCES ? 7 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status), "status %#x", status);
}
END_TEST

/* Refuses unshare(CLONE_NEWUSER) as the kernel does when user namespaces
 * are disabled (max_user_namespaces 0): ENOSPC. */
static int no_user_namespaces(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSPC),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? -1 : 0;
}

/* No user namespaces: one line saying so, and never root instead. */
START_TEST(test_nobody_without_userns)
{
	pid_t pid;
	int status;

	if (!have_virtiofsd())
		return;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		struct share_config s = share("/", true);
		char *err;
		int r;

		s.as_nobody = true;
		if (no_user_namespaces())
			_exit(2);
		r = start_err(&s, &err);
		_exit(r != -ECHILD ? 3 : unit_count_lines(err) != 1 ? 4 :
		      !strstr(err, "share 't': cannot start virtiofsd: cannot make a user namespace") ? 5 :
		      !strstr(err, "No space left on device") ? 6 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && !WEXITSTATUS(status), "status %#x", status);
}
END_TEST

/* Its children, from /proc: virtiofsd's PID. */
static pid_t child_of(pid_t pid)
{
	char path[64];
	FILE *f;
	int child = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	for (int i = 0; i < 1000 && !child; i++) {
		f = fopen(path, "r");
		if (f && fscanf(f, "%d", &child) != 1)
			child = 0;
		if (f)
			fclose(f);
		usleep(1000);
	}
	return child;
}

static bool alive(pid_t pid)
{
	char path[64], state = 'X';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
		state = 'X';
	fclose(f);
	return state != 'Z' && state != 'X';
}

/* kvmini killed outright takes virtiofsd with it. */
START_TEST(test_dies_with_kvmini)
{
	struct share_config s = share(dir, false);
	pid_t kvmini, vfsd;
	int status;

	if (!have_virtiofsd())
		return;
	kvmini = fork();
	ck_assert_int_ge(kvmini, 0);
	if (!kvmini) {
		struct virtiofsd *d;
		int sock;

		if (virtiofsd_start(&s, &d, &sock))
			_exit(1);
		pause();
		_exit(0);
	}
	vfsd = child_of(kvmini);
	ck_assert_int_gt(vfsd, 0);
	ck_assert(alive(vfsd));
	kill(kvmini, SIGKILL);
	ck_assert_int_eq(waitpid(kvmini, &status, 0), kvmini);
	for (int i = 0; i < 2000 && alive(vfsd); i++)
		usleep(1000);
	ck_assert_msg(!alive(vfsd), "virtiofsd %d outlived kvmini", vfsd);
}
END_TEST

static Suite *virtiofsd_suite(void)
{
	Suite *suite = suite_create("virtiofsd");
	TCase *tc = tcase_create("virtiofsd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_share_rw);
	tcase_add_test(tc, test_share_ro);
	tcase_add_test(tc, test_share_root_ro);
	tcase_add_test(tc, test_share_root_nobody);
	tcase_add_test(tc, test_nobody_without_userns);
	tcase_add_test(tc, test_nobody_in_chroot);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_dies_with_kvmini);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(virtiofsd_suite)
