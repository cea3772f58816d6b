// SPDX-License-Identifier: GPL-2.0
/*
 * vmmrun: start a VMM for `make bench` and time it from the outside, the
 * same way whichever VMM it is (kvmini or QEMU).
 *
 *   vmmrun [-w TEXT [-x CMD]] [-i TEXT -s MS -m MIB] [-p SHIM] [-t SECS] [-l LOG] -- CMD ARGS...
 *       One run. CMD's standard input is /dev/null; its standard output and
 *       error go into a pipe that vmmrun reads. Prints one line:
 *         status=N init=S idle=S exit=S kvmrun=S [memory fields]
 *       init:   first time TEXT of -w appears in that pipe (the guest's /init
 *               announcing itself), seconds after the fork that starts CMD;
 *       idle:   the same for -i TEXT;
 *       exit:   CMD's exit (its pidfd becomes readable), after the fork;
 *       kvmrun: exec → first KVM_RUN: from just before execve() to the
 *               arrival of the line the LD_PRELOAD shim -p writes on a
 *               pipe at the VMM's first ioctl(KVM_RUN);
 *       "-" for what did not happen. Clock: CLOCK_MONOTONIC.
 *       With -i, -s MS after TEXT appears, /proc/PID/smaps is read (guest
 *       RAM: the anonymous mapping of exactly -m MiB) and CMD gets SIGTERM:
 *         rss_kib guest_kib ovh_kib anon_kib ganon_kib ovh_anon_kib
 *       (ovh = the whole process minus the guest-RAM mapping; anon = the
 *       Anonymous pages only: heap, stacks, data, not code or other file
 *       pages). -t SECS: SIGKILL after SECS (status 137).
 *       -x CMD: when TEXT of -w first appears, run `sh -c CMD` with
 *       VMM_PID set to CMD's process ID and wait for it, while the VM
 *       still runs (the exit census: stop the trace, read KVM's per-VM
 *       statistics in debugfs, which go when the VM does).
 *
 *       -f FILE: guest RAM may also be the mapping of FILE (a VM restored
 *       from a snapshot maps its memory file there, copy-on-write); with
 *       it the line adds pss_kib and, for the guest-RAM mapping, gpss_kib
 *       gsc_kib gsd_kib gpc_kib gpd_kib (its Pss, Shared_Clean,
 *       Shared_Dirty, Private_Clean, Private_Dirty: a file on tmpfs has
 *       dirty pages only).
 *
 *   vmmrun -r N -j J [-t SECS] -- CMD ARGS...
 *       Start rate: N runs of CMD, J at a time, each started as soon as one
 *       ends, output to /dev/null. Prints: n=N j=J wall=S ok=K (K = runs
 *       that exited with status 0).
 *
 *   vmmrun -n N -w TEXT -s MS -m MIB [-f FILE] [-t SECS] -- CMD ARGS...
 *       N copies of CMD at once (memory they share): once every one has
 *       printed TEXT and MS more have passed, all N are alive, and the
 *       smaps of each is read before any gets SIGTERM. One line per copy:
 *         vm=K init=S rss_kib=... (the memory fields of -i, and -f's)
 *       then, once all have ended, "status=S1,S2,...".
 *
 *   -I TEXT (any mode): CMD's standard input is a pipe holding TEXT (with
 *       "\n" for newlines), then end of file, instead of /dev/null: a
 *       line for the guest's console, there as soon as the VMM reads.
 *
 *   vmmrun -H
 *       Holds a VM with an in-kernel irqchip and one vCPU that never runs,
 *       until killed. Its local APIC stays software-disabled, which keeps
 *       KVM's apic_sw_disabled static key above zero: VMs starting and
 *       ending around it then no longer make the kernel live-patch KVM's
 *       code, which QEMU's emulator (the lab) can get wrong (an int3 oops
 *       in __apic_accept_irq). Prints "holding" once the VM exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#define MAX_JOBS 16

/* -I: what CMD reads on its standard input (NULL: /dev/null). */
static const char *stdin_text;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "vmmrun: %s: %s\n", what, strerror(errno));
	exit(125);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vmmrun [-w TEXT [-x CMD]] [-i TEXT -s MS -m MIB] [-p SHIM] [-t SECS] [-l LOG] -- CMD...\n"
		"       vmmrun -r N -j J [-t SECS] -- CMD...\n"
		"       vmmrun -n N -w TEXT -s MS -m MIB [-f FILE] [-t SECS] -- CMD...\n"
		"       (each with -I TEXT: CMD's standard input)\n"
		"       vmmrun -H\n");
	exit(2);
}

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int exit_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

/*
 * fork + exec CMD with stdin /dev/null and stdout, stderr on out_fd.
 * timing_fd (or -1) is left open in the child and named in
 * BENCH_KVMRUN_FD; the child writes "E <time>" on it just before execve,
 * the shim "R" at the first KVM_RUN.
 */
static pid_t spawn(char **argv, int out_fd, int timing_fd, const char *shim)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid)
		return pid;

	int in = open("/dev/null", O_RDONLY);
	char buf[64];

	if (stdin_text) {
		/* A few bytes: the pipe holds them before anyone reads. */
		int p[2];
		size_t len = strlen(stdin_text);

		if (in >= 0)
			close(in);
		if (pipe(p) || write(p[1], stdin_text, len) != (ssize_t)len)
			_exit(125);
		close(p[1]);
		in = p[0];
	}
	if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(125);
	if (in > 2)
		close(in);
	setpgid(0, 0);
	if (timing_fd >= 0) {
		snprintf(buf, sizeof(buf), "%d", timing_fd);
		setenv("BENCH_KVMRUN_FD", buf, 1);
	}
	if (shim)
		setenv("LD_PRELOAD", shim, 1);
	if (timing_fd >= 0) {
		int n = snprintf(buf, sizeof(buf), "E %.9f\n", now());

		if (write(timing_fd, buf, n) != n)
			_exit(125);
	}
	execvp(argv[0], argv);
	_exit(127);
}

struct smaps_sum {
	long rss, anon, pss;	/* whole process, KiB */
	long grss, ganon;	/* the guest-RAM mapping */
	long gpss, gsc, gsd, gpc, gpd;	/* its Pss, Shared_Clean, Shared_Dirty,
					 * Private_Clean, Private_Dirty */
	bool found;
};

/* -f: the snapshot memory file whose mapping is guest RAM too, as the
 * kernel names it in smaps (its canonical path). */
static char *ram_file;

/* Guest RAM is the anonymous mapping exactly as large as the guest's RAM
 * (kvmini: its one MAP_NORESERVE mapping; QEMU: the RAM block, whose
 * guard page is a separate PROT_NONE mapping); if several, the one with
 * the most resident pages. */
static bool read_smaps(pid_t pid, unsigned long long ram, struct smaps_sum *s)
{
	char path[64], line[512];
	FILE *f;
	bool cand = false;
	long rss = 0, anon = 0, pss = 0, sc = 0, sd = 0, pc = 0, pd = 0;

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;

	/* Each mapping's fields are folded in when the next header comes. */
#define FOLD() do {							\
		s->rss += rss;						\
		s->anon += anon;					\
		s->pss += pss;						\
		if (cand && (!s->found || rss > s->grss)) {		\
			s->found = true;				\
			s->grss = rss;					\
			s->ganon = anon;				\
			s->gpss = pss;					\
			s->gsc = sc;					\
			s->gsd = sd;					\
			s->gpc = pc;					\
			s->gpd = pd;					\
		}							\
	} while (0)

	while (fgets(line, sizeof(line), f)) {
		unsigned long long lo, hi, off, ino;
		unsigned int maj, min;
		char perms[8];
		int n = 0;
		long v;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n",
			   &lo, &hi, perms, &off, &maj, &min, &ino, &n) >= 7 && n > 0) {
			FOLD();
			rss = anon = pss = sc = sd = pc = pd = 0;
			/* Anonymous: no inode, no path (a name in [] is not a file);
			 * or, with -f, the snapshot's memory file. */
			const char *p = line + n;
			size_t fl = ram_file ? strlen(ram_file) : 0;
			bool anon_map = ino == 0 && (*p == '\n' || *p == '\0');
			bool file_map = fl && !strncmp(p, ram_file, fl) &&
					(p[fl] == '\n' || p[fl] == '\0');

			cand = hi - lo == ram && perms[0] == 'r' && (anon_map || file_map);
			continue;
		}
		if (sscanf(line, "Rss: %ld kB", &v) == 1)
			rss = v;
		else if (sscanf(line, "Anonymous: %ld kB", &v) == 1)
			anon = v;
		else if (sscanf(line, "Pss: %ld kB", &v) == 1)
			pss = v;
		else if (sscanf(line, "Shared_Clean: %ld kB", &v) == 1)
			sc = v;
		else if (sscanf(line, "Shared_Dirty: %ld kB", &v) == 1)
			sd = v;
		else if (sscanf(line, "Private_Clean: %ld kB", &v) == 1)
			pc = v;
		else if (sscanf(line, "Private_Dirty: %ld kB", &v) == 1)
			pd = v;
	}
	FOLD();
#undef FOLD
	fclose(f);
	return true;
}

/* The memory fields of one smaps reading (-i, -n), "-" when unread. */
static void print_mem(bool ok, const struct smaps_sum *sm)
{
	if (ok && sm->found)
		printf(" rss_kib=%ld guest_kib=%ld ovh_kib=%ld anon_kib=%ld ganon_kib=%ld ovh_anon_kib=%ld",
		       sm->rss, sm->grss, sm->rss - sm->grss, sm->anon, sm->ganon, sm->anon - sm->ganon);
	else
		printf(" rss_kib=- guest_kib=- ovh_kib=- anon_kib=- ganon_kib=- ovh_anon_kib=-");
	if (!ram_file)
		return;
	if (ok && sm->found)
		printf(" pss_kib=%ld gpss_kib=%ld gsc_kib=%ld gsd_kib=%ld gpc_kib=%ld gpd_kib=%ld",
		       sm->pss, sm->gpss, sm->gsc, sm->gsd, sm->gpc, sm->gpd);
	else
		printf(" pss_kib=- gpss_kib=- gsc_kib=- gsd_kib=- gpc_kib=- gpd_kib=-");
}

static void fmt_time(char *buf, size_t len, double t)
{
	if (t < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.6f", t);
}

/* Marker search across read() boundaries: keep the last bytes. */
struct marker {
	const char *text;
	size_t len;
	double at;
};

static void scan(struct marker *m, int nm, char *carry, size_t *carry_len,
		 const char *data, size_t len, double t)
{
	static char work[512 + 65536];
	size_t keep = 256, n;

	memcpy(work, carry, *carry_len);
	memcpy(work + *carry_len, data, len);
	n = *carry_len + len;
	for (int i = 0; i < nm; i++)
		if (m[i].text && m[i].at < 0 && memmem(work, n, m[i].text, m[i].len))
			m[i].at = t;
	if (n < keep)
		keep = n;
	memcpy(carry, work + n - keep, keep);
	*carry_len = keep;
}

/* -x: the hook at the init marker, its output on our standard error. */
static void run_hook(const char *cmd, pid_t vmm)
{
	char buf[32];
	pid_t h;
	int st;

	snprintf(buf, sizeof(buf), "%d", (int)vmm);
	h = fork();
	if (h < 0)
		die("fork");
	if (h == 0) {
		setenv("VMM_PID", buf, 1);
		dup2(2, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(h, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
}

static int one_run(char **argv, const char *init_text, const char *idle_text,
		   long settle_ms, unsigned long long ram, const char *shim,
		   double timeout, const char *log_path, const char *hook)
{
	struct marker m[2] = {
		{ init_text, init_text ? strlen(init_text) : 0, -1 },
		{ idle_text, idle_text ? strlen(idle_text) : 0, -1 },
	};
	int out[2], tim[2], pfd, status = 0, logfd = -1;
	char carry[256], tbuf[4096];
	size_t carry_len = 0, tlen = 0;
	double t0, t_exec = -1, t_run = -1, t_exit = -1, t_kill = -1;
	bool exited = false, measured = false, killed = false, hooked = false;
	struct smaps_sum sm = { 0 };
	bool sm_ok = false;
	pid_t pid;

	tbuf[0] = '\0';
	if (m[0].len > 200 || m[1].len > 200) {
		fprintf(stderr, "vmmrun: marker text too long\n");
		return 2;
	}
	if (log_path) {
		logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (logfd < 0)
			die(log_path);
	}
	if (pipe2(out, O_CLOEXEC) || pipe2(tim, O_CLOEXEC))
		die("pipe");
	/* The child's copies must survive exec: dup2 in spawn() clears
	 * O_CLOEXEC on fds 1 and 2; the timing pipe gets a plain dup. */
	int tw = fcntl(tim[1], F_DUPFD, 3);

	if (tw < 0)
		die("dup");
	t0 = now();
	pid = spawn(argv, out[1], tw, shim);
	close(out[1]);
	close(tw);
	close(tim[1]);
	pfd = pidfd_open(pid);
	if (pfd < 0)
		die("pidfd_open");

	bool out_open = true, tim_open = true;

	while (!exited || out_open || tim_open) {
		struct pollfd p[3] = {
			{ .fd = out_open ? out[0] : -1, .events = POLLIN },
			{ .fd = tim_open ? tim[0] : -1, .events = POLLIN },
			{ .fd = exited ? -1 : pfd, .events = POLLIN },
		};
		double t = now(), deadline = t0 + timeout;
		int wait_ms;

		if (m[1].at >= 0 && !measured)
			deadline = m[1].at + t0 + settle_ms / 1000.0 < deadline ?
				   m[1].at + t0 + settle_ms / 1000.0 : deadline;
		if (killed && t_kill > 0 && t_kill + 10 < deadline)
			deadline = t_kill + 10;
		if (exited)
			deadline = t + 1;	/* drain what is left, briefly */
		wait_ms = deadline > t ? (int)((deadline - t) * 1000) + 1 : 0;

		int r = poll(p, 3, wait_ms);

		if (r < 0 && errno != EINTR)
			die("poll");
		t = now();
		if (r > 0 && (p[0].revents & (POLLIN | POLLHUP))) {
			char buf[65536];
			ssize_t n = read(out[0], buf, sizeof(buf));

			if (n > 0) {
				scan(m, 2, carry, &carry_len, buf, (size_t)n, t - t0);
				if (logfd >= 0 && write(logfd, buf, (size_t)n) < 0)
					die("log");
				if (hook && !hooked && m[0].at >= 0 && !exited) {
					run_hook(hook, pid);
					hooked = true;
				}
			} else if (n == 0 || errno != EINTR) {
				out_open = false;
			}
		}
		if (r > 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(tim[0], tbuf + tlen, sizeof(tbuf) - 1 - tlen);

			if (n > 0) {
				/* The shim's "R" is timed as it arrives. */
				if (t_run < 0 && memchr(tbuf + tlen, 'R', (size_t)n))
					t_run = t;
				tlen += (size_t)n;
				tbuf[tlen] = '\0';
			} else if (n == 0 || errno != EINTR) {
				tim_open = false;
			}
		}
		if (r > 0 && (p[2].revents & POLLIN) && !exited) {
			t_exit = t - t0;
			if (waitpid(pid, &status, 0) < 0)
				die("waitpid");
			exited = true;
		}
		if (exited) {
			/* Whatever is still in the pipes came before the exit. */
			if (r == 0)
				break;
			continue;
		}
		/* Memory: idle marker seen and settled. */
		if (m[1].at >= 0 && !measured && t >= t0 + m[1].at + settle_ms / 1000.0) {
			sm_ok = read_smaps(pid, ram, &sm);
			measured = true;
			kill(pid, SIGTERM);
			t_kill = t;
			killed = true;
		}
		if (t >= t0 + timeout || (killed && t >= t_kill + 10)) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
			t_kill = t;
			timeout = 1e9;
		}
	}

	/* "E <t>", the child's time just before execve(). */
	for (char *l = strtok(tbuf, "\n"); l; l = strtok(NULL, "\n")) {
		if (l[0] == 'E' && l[1] == ' ')
			t_exec = strtod(l + 2, NULL);
	}

	char a[32], b[32], c[32], d[32];

	fmt_time(a, sizeof(a), m[0].at);
	fmt_time(b, sizeof(b), m[1].at);
	fmt_time(c, sizeof(c), t_exit);
	fmt_time(d, sizeof(d), t_exec > 0 && t_run > 0 ? t_run - t_exec : -1);
	printf("status=%d init=%s idle=%s exit=%s kvmrun=%s", exit_code(status), a, b, c, d);
	if (idle_text)
		print_mem(sm_ok, &sm);
	printf("\n");
	return 0;
}

/*
 * -n: N copies of CMD alive at once. Each one's output is scanned for
 * TEXT and otherwise dropped (read all the while, so that no VMM blocks
 * on a full pipe); MS after the last copy's TEXT (or at the timeout),
 * every smaps is read, then every copy gets SIGTERM.
 */
static int group_run(char **argv, int n, const char *text, long settle_ms,
		     unsigned long long ram, double timeout)
{
	struct {
		pid_t pid;
		int out;
		struct marker m;
		char carry[256];
		size_t carry_len;
		struct smaps_sum sm;
		bool sm_ok;
		int status;
	} vm[MAX_JOBS];
	double t0 = now(), all_at = -1, t_kill = -1;
	bool measured = false;
	int left = n;

	memset(vm, 0, sizeof(vm));
	for (int i = 0; i < n; i++) {
		int out[2];

		if (pipe2(out, O_CLOEXEC))
			die("pipe");
		vm[i].pid = spawn(argv, out[1], -1, NULL);
		close(out[1]);
		vm[i].out = out[0];
		vm[i].m = (struct marker){ text, strlen(text), -1 };
		vm[i].status = -1;
	}
	while (left > 0) {
		struct pollfd p[MAX_JOBS];
		double t = now(), deadline = t0 + timeout;
		int seen = 0;

		if (all_at >= 0 && !measured)
			deadline = all_at + settle_ms / 1000.0;
		if (t_kill >= 0)
			deadline = t_kill + 10;
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = vm[i].out, .events = POLLIN };
		if (poll(p, (nfds_t)n, deadline > t ? (int)((deadline - t) * 1000) + 1 : 0) < 0 &&
		    errno != EINTR)
			die("poll");
		t = now();
		for (int i = 0; i < n; i++) {
			char buf[65536];
			ssize_t r;

			if (vm[i].out >= 0 && (p[i].revents & (POLLIN | POLLHUP))) {
				r = read(vm[i].out, buf, sizeof(buf));
				if (r > 0)
					scan(&vm[i].m, 1, vm[i].carry, &vm[i].carry_len, buf,
					     (size_t)r, t - t0);
				else if (r == 0 || errno != EINTR) {
					close(vm[i].out);
					vm[i].out = -1;
				}
			}
			if (vm[i].out < 0 && vm[i].status < 0) {
				int st;

				if (waitpid(vm[i].pid, &st, 0) < 0)
					die("waitpid");
				vm[i].status = exit_code(st);
				left--;
			}
			if (vm[i].m.at >= 0)
				seen++;
		}
		if (seen == n && all_at < 0)
			all_at = t;
		if (!measured && ((all_at >= 0 && t >= all_at + settle_ms / 1000.0) ||
				  t >= t0 + timeout || left < n)) {
			/* Together, before any copy is told to go. */
			for (int i = 0; i < n; i++)
				if (vm[i].status < 0)
					vm[i].sm_ok = read_smaps(vm[i].pid, ram, &vm[i].sm);
			measured = true;
			for (int i = 0; i < n; i++)
				if (vm[i].status < 0)
					kill(vm[i].pid, SIGTERM);
			t_kill = t;
		} else if (t_kill >= 0 && t >= t_kill + 10) {
			for (int i = 0; i < n; i++)
				if (vm[i].status < 0) {
					kill(-vm[i].pid, SIGKILL);
					kill(vm[i].pid, SIGKILL);
				}
			t_kill = t + 1e9;
		}
	}
	for (int i = 0; i < n; i++) {
		char a[32];

		fmt_time(a, sizeof(a), vm[i].m.at);
		printf("vm=%d init=%s", i + 1, a);
		print_mem(vm[i].sm_ok, &vm[i].sm);
		printf("\n");
	}
	printf("status=");
	for (int i = 0; i < n; i++)
		printf("%s%d", i ? "," : "", vm[i].status);
	printf("\n");
	return 0;
}

static __attribute__((noreturn)) void hold_keys(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_VCPU, 0) < 0)
		die("KVM_CREATE_VCPU");
	printf("holding\n");
	fflush(stdout);
	for (;;)
		pause();
}

static int rate_run(char **argv, int n, int j, double timeout)
{
	struct { pid_t pid; int fd; double start; } job[MAX_JOBS];
	int running = 0, started = 0, ok = 0, devnull;
	double t0, t1;

	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		die("/dev/null");
	t0 = now();
	while (started < n || running > 0) {
		while (running < j && started < n) {
			pid_t pid = spawn(argv, devnull, -1, NULL);

			job[running].pid = pid;
			job[running].fd = pidfd_open(pid);
			job[running].start = now();
			if (job[running].fd < 0)
				die("pidfd_open");
			running++;
			started++;
		}

		struct pollfd p[MAX_JOBS];

		for (int i = 0; i < running; i++)
			p[i] = (struct pollfd){ .fd = job[i].fd, .events = POLLIN };
		if (poll(p, (nfds_t)running, 100) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < running; i++) {
			int st;

			if (!(p[i].revents & POLLIN)) {
				if (now() - job[i].start > timeout)
					kill(job[i].pid, SIGKILL);
				continue;
			}
			if (waitpid(job[i].pid, &st, 0) < 0)
				die("waitpid");
			if (exit_code(st) == 0)
				ok++;
			close(job[i].fd);
			/* Compact: both arrays move together. */
			job[i] = job[running - 1];
			p[i] = p[running - 1];
			running--;
			i--;
		}
	}
	t1 = now();
	printf("n=%d j=%d wall=%.6f ok=%d\n", n, j, t1 - t0, ok);
	return 0;
}

/* -I's text with each "\\n" made a newline (a shell's $(...) would drop
 * trailing ones). */
static char *unescape(const char *in)
{
	char *out = strdup(in), *o = out;

	if (!out)
		die("strdup");
	for (; *in; in++) {
		if (in[0] == '\\' && in[1] == 'n') {
			*o++ = '\n';
			in++;
		} else {
			*o++ = *in;
		}
	}
	*o = '\0';
	return out;
}

int main(int argc, char **argv)
{
	const char *init_text = NULL, *idle_text = NULL, *shim = NULL, *log_path = NULL;
	const char *hook = NULL;
	long settle_ms = 1000;
	unsigned long long ram = 0;
	double timeout = 600;
	int rate_n = 0, rate_j = 1, group_n = 0, c;

	while ((c = getopt(argc, argv, "+w:i:s:m:p:t:l:r:j:x:Hf:n:I:")) != -1) {
		switch (c) {
		case 'H': hold_keys();
		case 'w': init_text = optarg; break;
		case 'i': idle_text = optarg; break;
		case 's': settle_ms = atol(optarg); break;
		case 'm': ram = strtoull(optarg, NULL, 10) << 20; break;
		case 'p': shim = optarg; break;
		case 't': timeout = atof(optarg); break;
		case 'l': log_path = optarg; break;
		case 'r': rate_n = atoi(optarg); break;
		case 'j': rate_j = atoi(optarg); break;
		case 'x': hook = optarg; break;
		case 'n': group_n = atoi(optarg); break;
		case 'I': stdin_text = unescape(optarg); break;
		case 'f':
			ram_file = realpath(optarg, NULL);
			if (!ram_file)
				die(optarg);
			break;
		default: usage();
		}
	}
	if (optind >= argc || timeout <= 0)
		usage();
	if (idle_text && !ram)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (group_n > 0) {
		if (group_n > MAX_JOBS || !init_text || !ram)
			usage();
		return group_run(argv + optind, group_n, init_text, settle_ms, ram, timeout);
	}
	if (rate_n > 0) {
		if (rate_j < 1 || rate_j > MAX_JOBS)
			usage();
		return rate_run(argv + optind, rate_n, rate_j, timeout);
	}
	return one_run(argv + optind, init_text, idle_text, settle_ms, ram, shim,
		       timeout, log_path, hook);
}
