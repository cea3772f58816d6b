// SPDX-License-Identifier: GPL-2.0
/*
 * The allow-lists (see seccomp.h). A filter goes on once set-up is over:
 * guest RAM is mapped, every file and descriptor kvmini needs is open,
 * every thread but the vCPUs' exists. A thread may then do what the guest
 * can make it do, and tear the VM down, and nothing else: no open, no
 * socket, no exec, no new thread, no executable memory, and ioctl only on
 * the descriptors and requests listed.
 *
 * Calls are matched on the 32-bit values the kernel itself uses for int
 * arguments (descriptors, ioctl requests, signals), so that garbage in a
 * register's upper half can neither pass nor fail a check the kernel
 * would not make.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "backend/tap.h"
#include "lib/log.h"
#include "lib/term.h"
#include "lib/trim.h"
#include "vmm/exitcode.h"
#include "vmm/arch.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

/* Both kinds of thread, from their work or from libc doing it. */
static const char *const common_calls[] = {
	"write",		/* console output, stderr, eventfds: stop,
				 * kicks, interrupts, console wake-ups */
	"timerfd_settime",	/* panic grace timer, armed by whichever
				 * thread sees the panic line */
	"futex",		/* device locks, pthread_join */
	"rt_sigreturn",		/* end of a handler: the vCPU kick */
	"rt_sigprocmask",	/* libc: thread exit, pthread_kill, abort */
	"restart_syscall",	/* the kernel resumes an interrupted call */
	"madvise",		/* free(); a thread's stack at its exit */
	"munmap",		/* free(); tear-down */
	"brk",			/* malloc() and free() in the main arena */
	"getpid", "gettid",	/* pthread_kill and raise: see tgkill */
	"exit",			/* a thread ends */
	"exit_group",		/* kvmini ends, also from the SIGSYS handler */
	"poll", "ppoll",	/* a log line waits a bounded time for
				 * stderr's reader (lib/log.c) */
	NULL,
};

/* The I/O thread: the event loop, the devices' work, then tear-down. */
static const char *const io_calls[] = {
	"read",			/* stdin, signalfd, eventfds, timerfds */
	"epoll_wait",		/* the event loop (x86_64) */
	"epoll_pwait",		/* the event loop (arm64 has only this) */
	"epoll_ctl",		/* stdin paused and resumed; tear-down */
	"getrandom",		/* virtio-rng */
	"clock_gettime",	/* virtio-blk's held interrupts, where the
				 * vDSO cannot (the lab's clock source) */
	"close",		/* tear-down */
	"wait4",		/* tear-down: the janitor (lib/janitor.h),
				 * kvmini's own child */
	/* virtio-blk and the taps: every read, write, flush and fallocate
	 * is an io_uring operation, which no filter sees; kvmini makes none
	 * of their synchronous calls (pread64, pwritev2, fsync, fallocate…),
	 * so the filter refuses them. */
	"io_uring_enter", "io_uring_register",
	NULL,
};

/*
 * With --share (virtio-fs): vhost-user requests to virtiofsd, with a
 * bounded wait for each reply, which a driver's DRIVER_OK or reset sends
 * from a vCPU thread; at the end, virtiofsd stopped and reaped through
 * its pidfd (which can signal nothing else). The sockets are connected
 * Unix sockets to virtiofsd, so sendmsg reaches no one new.
 */
static const char *const share_calls[] = {
	"sendmsg", "recvmsg", "poll", "ppoll",
	"clock_gettime",	/* the deadline, where the vDSO cannot */
	"pidfd_send_signal", "waitid",
	NULL,
};

/*
 * With --vsock (virtio/vsock.c, backend/vsock_uds.c), on the I/O thread:
 * each stream's data moves with readv and writev between the guest's
 * buffers and its Unix socket, and shutdown passes a half-close on; with
 * uds=, host programs are accepted on PATH and a guest's connect opens a
 * Unix socket to PATH_PORT (socket: AF_UNIX streams only, allow_vsock).
 */
static const char *const vsock_calls[] = {
	"readv", "writev", "shutdown", "accept4", "connect",
	NULL,
};

#if defined(__SANITIZE_ADDRESS__)
/*
 * ASan builds only (make check-sanitize), never a kvmini that is shipped:
 * the sanitizer runtime's own calls. LeakSanitizer's check at exit clones
 * a helper that lists /proc/PID/task and ptraces every thread; a report
 * names its frames from the binary and /proc/self/maps, and probes
 * addresses by writing them into a pipe. Found by running the native
 * tests and forced reports (a leak, an overflow on each kind of thread)
 * under the filters.
 */
static const char *const sanitizer_calls[] = {
	"clone", "ptrace", "wait4", "prctl", "sched_yield", "sigaltstack",
	"rt_sigaction", "getppid", "read", "open", "openat", "readlink", "stat",
	"lstat", "fstat", "newfstatat", "lseek", "getdents", "getdents64",
	"clock_gettime", "nanosleep", "prlimit64", "close", "fcntl", "pipe",
	"pipe2",
	NULL,
};
#endif

/*
 * Signals any thread may still send to its own process and reset to the
 * default: what abort() and term.c's fatal-signal handler re-raise (after
 * restoring the terminal). The I/O thread may also send the vCPU kick.
 */
static const int fatal_signals[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE };

/*
 * Written once by seccomp_prepare(), before any filter exists, and only
 * read after that, by the SIGSYS handler, which must not allocate: the
 * names of the system calls, copied out of libseccomp.
 */
#define SC_NAMES	512
#define SC_NAME_MAX	32
static char sc_names[SC_NAMES][SC_NAME_MAX];

static size_t msg_str(char *buf, size_t at, size_t size, const char *s)
{
	while (*s && at < size)
		buf[at++] = *s++;
	return at;
}

static size_t msg_uint(char *buf, size_t at, size_t size, unsigned int v)
{
	char digits[12];
	int n = 0;

	do
		digits[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n && at < size)
		buf[at++] = digits[--n];
	return at;
}

static size_t msg_hex(char *buf, size_t at, size_t size, uint64_t v)
{
	char digits[16];
	int n = 0;

	do
		digits[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4));
	at = msg_str(buf, at, size, "0x");
	while (n && at < size)
		buf[at++] = digits[--n];
	return at;
}

/* The trapped call's first three arguments, as the kernel passed them:
 * what a rule compares (flags, request numbers), to name in the report. */
static bool sigsys_args(const void *uc, uint64_t a[3])
{
	const ucontext_t *c = uc;

#if defined(__x86_64__)
	a[0] = c->uc_mcontext.gregs[REG_RDI];
	a[1] = c->uc_mcontext.gregs[REG_RSI];
	a[2] = c->uc_mcontext.gregs[REG_RDX];
	return true;
#elif defined(__aarch64__)
	for (int i = 0; i < 3; i++)
		a[i] = c->uc_mcontext.regs[i];
	return true;
#else
	(void)c, (void)a;
	return false;
#endif
}

/* Async-signal-safe only: the thread may have been anywhere, in malloc. */
static void seccomp_sigsys(int sig, siginfo_t *si, void *uc)
{
	unsigned int nr = si->si_syscall;
	const char *name = nr < SC_NAMES && sc_names[nr][0] ? sc_names[nr] : "unknown";
	char msg[192];
	uint64_t a[3];
	size_t n = 0;
	ssize_t r;

	(void)sig;
	n = msg_str(msg, n, sizeof(msg), "kvmini: error: forbidden system call ");
	n = msg_uint(msg, n, sizeof(msg), nr);
	n = msg_str(msg, n, sizeof(msg), " (");
	n = msg_str(msg, n, sizeof(msg), name);
	if (sigsys_args(uc, a)) {
		for (int i = 0; i < 3; i++) {
			n = msg_str(msg, n, sizeof(msg), i ? ", " : ": arguments ");
			n = msg_hex(msg, n, sizeof(msg), a[i]);
		}
		n = msg_str(msg, n, sizeof(msg), ", ...");
	}
	n = msg_str(msg, n, sizeof(msg), term_is_raw() ? ")\r\n" : ")\n");
	/* The message first: should restoring the terminal trap too, the
	 * kernel kills kvmini with SIGSYS (same status) but it is out. */
	r = write(STDERR_FILENO, msg, n);
	(void)r;
	term_restore();
	_exit(EXIT_SECCOMP);
}

int seccomp_prepare(struct vm *vm)
{
	struct sigaction sa = {
		.sa_sigaction = seccomp_sigsys,
		.sa_flags = SA_SIGINFO,
	};

	if (vm->cfg.no_seccomp)
		return 0;
	/* Said once here, rather than by every thread that fails to load. */
	if (prctl(PR_GET_SECCOMP) < 0 && errno == EINVAL) {
		pr_err("this kernel has no seccomp: run with --no-seccomp (and without kvmini's confinement)");
		return -ENOSYS;
	}
	/* libseccomp probes the kernel once, lazily and unlocked: do it
	 * here, before the vCPU threads build their filters at once. */
	seccomp_api_get();
	for (int nr = 0; nr < SC_NAMES; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

		if (name)
			snprintf(sc_names[nr], SC_NAME_MAX, "%s", name);
		free(name);
	}
	if (sigaction(SIGSYS, &sa, NULL) < 0) {
		pr_err("cannot catch SIGSYS for seccomp: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A name this architecture lacks (epoll_wait on arm64) allows nothing. */
static int allow(scmp_filter_ctx ctx, const char *name, unsigned int n,
		 const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr < 0)
		return 0;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, n, cmp);
}

static int allow_list(scmp_filter_ctx ctx, const char *const *names)
{
	int err = 0;

	for (; *names && !err; names++)
		err = allow(ctx, *names, 0, NULL);
	return err;
}

static int allow_ioctl(scmp_filter_ctx ctx, int fd, unsigned int request)
{
	const struct scmp_arg_cmp cmp[] = {
		SCMP_A0_32(SCMP_CMP_EQ, fd),
		SCMP_A1_32(SCMP_CMP_EQ, request),
	};

	return allow(ctx, "ioctl", 2, cmp);
}

/* tgkill(this process, any thread, sig) and sigaction(sig). */
static int allow_signal(scmp_filter_ctx ctx, int sig, bool reset)
{
	const struct scmp_arg_cmp kill[] = {
		SCMP_A0_32(SCMP_CMP_EQ, getpid()),
		SCMP_A2_32(SCMP_CMP_EQ, sig),
	};
	const struct scmp_arg_cmp action[] = { SCMP_A0_32(SCMP_CMP_EQ, sig) };

	return allow(ctx, "tgkill", 2, kill) ?:
	       (reset ? allow(ctx, "rt_sigaction", 1, action) : 0);
}

/*
 * virtio-net's taps: the header size and offloads the driver negotiated,
 * set at DRIVER_OK (a vCPU's status write) and when the driver changes
 * its offloads (the control queue, on the I/O thread); a multi-queue
 * tap's queues past the first, (de)attached at DRIVER_OK and when the
 * driver changes how many queue pairs it uses (the control queue).
 */
static int allow_tap(scmp_filter_ctx ctx, struct vm *vm)
{
	int err = 0;

	for (unsigned int i = 0; !err && i < vm->nr_nets; i++) {
		const struct tap *t = vm->nets[i].tap;
		int fd = t ? tap_fd(t) : -1;

		if (fd >= 0)
			err = allow_ioctl(ctx, fd, TUNSETVNETHDRSZ) ?:
			      allow_ioctl(ctx, fd, TUNSETOFFLOAD);
		/* A multi-queue tap's other queues: attached and detached
		 * as the driver changes the pairs it uses. */
		for (unsigned int q = 1; !err && t && q < tap_nr_queues(t); q++)
			err = allow_ioctl(ctx, tap_queue_fd(t, q), TUNSETQUEUE);
	}
	return err;
}

/* What every thread needs besides common_calls. */
/*
 * fds 1 and 2 get their flags back on any thread: exec (exec/exec_out.c)
 * and term_restore() (lib/term.c), also from a fatal signal's or the
 * SIGSYS handler on a vCPU thread, for a socket it made non-blocking.
 */
static int allow_setfl(scmp_filter_ctx ctx, int fd)
{
	const struct scmp_arg_cmp cmp[] = {
		SCMP_A0_32(SCMP_CMP_EQ, fd),
		SCMP_A1_32(SCMP_CMP_EQ, F_SETFL),
	};

	return allow(ctx, "fcntl", 2, cmp);
}

static int allow_common(scmp_filter_ctx ctx, struct vm *vm)
{
	/* malloc() may grow a heap; nothing may become executable. */
	const struct scmp_arg_cmp no_exec[] = {
		SCMP_A2_64(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	};
	/* term_restore(), from tear-down or a fatal signal's handler on any
	 * thread: tcsetattr(TCSAFLUSH / TCSANOW / TCSADRAIN), which in
	 * Debian's glibc also reads the modes first (TCGETS). */
	static const unsigned int tcsets[] = { TCGETS, TCSETSF, TCSETS, TCSETSW };
	int err = allow_list(ctx, common_calls);

	for (size_t i = 0; !err && i < sizeof(tcsets) / sizeof(tcsets[0]); i++)
		err = allow_ioctl(ctx, STDIN_FILENO, tcsets[i]);
	for (size_t i = 0; !err && i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		err = allow_signal(ctx, fatal_signals[i], true);
	/* Device interrupts: the UART's line, from the vCPU that wrote its
	 * registers or the I/O thread that fed it input. */
	if (!err)
		err = allow_ioctl(ctx, vm->vm_fd, KVM_IRQ_LINE);
	if (!err)
		err = allow_tap(ctx, vm);
	if (!err)
		err = allow(ctx, "mmap", 1, no_exec) ?:
		      allow(ctx, "mprotect", 1, no_exec);
	if (!err)
		err = allow_setfl(ctx, STDOUT_FILENO) ?:
		      allow_setfl(ctx, STDERR_FILENO);
	if (!err && vm->cfg.nr_shares)
		err = allow_list(ctx, share_calls);
#if defined(__SANITIZE_ADDRESS__)
	/* isatty(2): whether a report is in colour. */
	if (!err)
		err = allow_list(ctx, sanitizer_calls) ?:
		      allow_ioctl(ctx, STDERR_FILENO, TCGETS);
#endif
	return err;
}

/* Tests only (seccomp.h): break the filter on purpose, once it is on. */
static void seccomp_selftest(const char *thread)
{
	const char *which = getenv("KVMINI_SECCOMP_SELFTEST");
	size_t len = strlen(thread);
	int nr;

	if (!which || strncmp(which, thread, len))
		return;
	if (!which[len]) {
		syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
	} else if (which[len] == ':') {
		/* A named call on a bad fd: harmless if the filter allows it. */
		nr = seccomp_syscall_resolve_name(which + len + 1);
		if (nr >= 0)
			syscall(nr, -1, 0, 0, 0, 0, 0);
	}
}

static int seccomp_install(struct vm *vm, const char *who,
			   int (*rules)(scmp_filter_ctx ctx, void *arg),
			   void *arg)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int err;

	if (!ctx) {
		pr_err("cannot confine the %s thread: out of memory", who);
		return -ENOMEM;
	}
	/* The kernel's own error, not libseccomp's -ECANCELED. */
	err = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1) ?:
	      allow_common(ctx, vm) ?:
	      rules(ctx, arg) ?:
	      seccomp_load(ctx);
	seccomp_release(ctx);
	if (err)
		pr_err("cannot confine the %s thread with seccomp: %s (--no-seccomp runs without)",
		       who, strerror(-err));
	return err;
}

/*
 * A driver resets a device from a vCPU thread (a status write), and a
 * reset is not over while requests are in flight: virtio-blk and
 * virtio-net wait for their io_uring there. io_uring_setup stays
 * forbidden, so a vCPU can only enter rings that exist already.
 */
static const char *const vcpu_calls[] = {
	"io_uring_enter",
	NULL,
};

static int vcpu_rules(scmp_filter_ctx ctx, void *arg)
{
	struct vcpu *vcpu = arg;
	int err = allow_ioctl(ctx, vcpu->fd, KVM_RUN) ?:
		  allow_list(ctx, vcpu_calls);

	/* --transport pci: the guest's MSI-X table writes move MSI routes,
	 * and BAR moves move notify ioeventfds (vmm/vm_pci.c). */
	if (!err && vcpu->vm->pci)
		err = allow_ioctl(ctx, vcpu->vm->vm_fd, KVM_SET_GSI_ROUTING) ?:
		      allow_ioctl(ctx, vcpu->vm->vm_fd, KVM_IOEVENTFD);
	return err;
}

int seccomp_confine_vcpu(struct vcpu *vcpu)
{
	char who[32];
	int err;

	if (!vcpu->vm->cfg.no_seccomp) {
		snprintf(who, sizeof(who), "vCPU %u", vcpu->id);
		err = seccomp_install(vcpu->vm, who, vcpu_rules, vcpu);
		if (err)
			return err;
		if (vcpu->id == 0)
			seccomp_selftest("vcpu");
	}
	/* This thread's set-up is over; whichever thread ends last leaves
	 * nothing of it in the RSS. */
	trim_after_setup();
	return 0;
}

/*
 * The snapshot thread (vmm/snapshot.c), only with --control: it writes a
 * paused VM's snapshot, which the I/O thread hands it, so that the
 * thread that serves the guest's devices never gets to create files.
 * It makes a directory and its files (open with O_CREAT, pwrite, fsync,
 * rename; unlinkat to remove them after a failure), maps memory for the
 * state it collects (never executable: PROT_EXEC is refused), and reads
 * KVM's state with the GET ioctls each architecture names
 * (arch_snapshot_*_ioctls), on the vCPUs', the VM's, /dev/kvm's and a
 * KVM device's (arm64's vGIC) fds.
 */
static const char *const snapshot_calls[] = {
	"mkdir", "mkdirat", "open", "openat", "newfstatat", "fstat", "lstat",
	"statx", "pwrite64", "ftruncate", "fsync", "rename", "renameat",
	"renameat2", "unlinkat", "close", "mremap", "mprotect",
	/*
	 * kvmclock's (clock, realtime) pair where KVM cannot give it: off a
	 * TSC clock source (HPET, a paravirtual clock) KVM_GET_CLOCK lacks
	 * KVM_CLOCK_REALTIME, and the vDSO then falls back to the system
	 * call. Found by the bench's two-CPU lab, which runs on HPET.
	 */
	"clock_gettime",
	NULL,
};

static int allow_ioctls(scmp_filter_ctx ctx, int fd, const unsigned long *req)
{
	int err = 0;

	for (; *req && !err; req++)
		err = allow_ioctl(ctx, fd, *req);
	return err;
}

static int snapshot_rules(scmp_filter_ctx ctx, void *arg)
{
	struct vm *vm = arg;
	struct arch_snapshot_dev devs[ARCH_SNAPSHOT_DEVS_MAX];
	unsigned int nr_devs = arch_snapshot_devs(vm, devs, ARCH_SNAPSHOT_DEVS_MAX);
	const struct scmp_arg_cmp noexec[] = {
		SCMP_A2_32(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0),
	};
	int err = allow_list(ctx, snapshot_calls) ?:
		  allow(ctx, "mmap", 1, noexec) ?:
		  allow_ioctls(ctx, vm->vm_fd, arch_snapshot_vm_ioctls) ?:
		  allow_ioctls(ctx, vm->kvm_fd, arch_snapshot_kvm_ioctls);

	for (unsigned int i = 0; i < vm->cfg.cpus && !err; i++)
		err = allow_ioctls(ctx, vm->vcpus[i].fd, arch_snapshot_vcpu_ioctls);
	for (unsigned int i = 0; i < nr_devs && !err; i++)
		err = allow_ioctls(ctx, devs[i].fd, devs[i].ioctls);
	return err;
}

int seccomp_confine_snapshot(struct vm *vm)
{
	if (vm->cfg.no_seccomp)
		return 0;
	return seccomp_install(vm, "snapshot", snapshot_rules, vm);
}

/*
 * --net user: libslirp's sockets (backend/slirp.c), which it makes and uses
 * on the I/O thread as the guest opens connections. From libslirp's
 * imports and strace of DHCP, ping, DNS, TCP both ways and hostfwd: no
 * bind or listen (hostfwd ports are bound before the filter), no exec.
 */
static const char *const slirp_calls[] = {
	"connect",		/* the guest's outbound TCP */
	"accept", "accept4",	/* a host client on a hostfwd port */
	"sendto", "recvfrom",	/* send() and recv() too */
	"recvmsg",		/* ICMP errors (IP_RECVERR's error queue) */
	"setsockopt", "getsockopt", "getsockname", "getpeername",
	"shutdown",
	"clock_gettime",	/* libslirp's clock: the vDSO falls back to
				 * the call on some clocksources (the lab's) */
	/* /etc/resolv.conf, which libslirp reads at the guest's first DNS
	 * query and again when its stat changes (see allow_slirp) */
	"newfstatat", "fstat", "stat", "lseek",
	NULL,
};

/* IPv4 sockets of the kinds libslirp makes: TCP, UDP, ICMP echo. */
static int allow_slirp_socket(scmp_filter_ctx ctx, int type, int proto)
{
	const struct scmp_arg_cmp cmp[] = {
		SCMP_A0_32(SCMP_CMP_EQ, AF_INET),
		SCMP_A1_32(SCMP_CMP_MASKED_EQ, ~(SOCK_CLOEXEC | SOCK_NONBLOCK), type),
		SCMP_A2_32(SCMP_CMP_EQ, proto),
	};

	return allow(ctx, "socket", 3, cmp);
}

/* fcntl(any, cmd) and ioctl(any, request): the socket's own descriptor
 * is not known in advance. */
static int allow_any_fd(scmp_filter_ctx ctx, const char *call, unsigned int arg)
{
	const struct scmp_arg_cmp cmp[] = { SCMP_A1_32(SCMP_CMP_EQ, arg) };

	return allow(ctx, call, 1, cmp);
}

/*
 * libslirp opens /etc/resolv.conf lazily: at the guest's first DNS query
 * to 10.0.2.3, then again whenever a stat() of it (at most once a second)
 * shows it changed. Its cache is internal and only a real query through
 * it fills it, which would send a packet to the host's resolver at start:
 * so the file is opened here, read-only (docs/threat-model.md).
 */
static int allow_slirp(scmp_filter_ctx ctx, struct vm *vm)
{
	const struct scmp_arg_cmp rdonly[] = {
		/* dirfd is an int: the kernel reads its low 32 bits, and
		 * arm64's glibc passes AT_FDCWD sign-extended to 64, which an
		 * equality on the whole register would refuse. */
		SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffULL, (uint32_t)AT_FDCWD),
		SCMP_A2_32(SCMP_CMP_EQ, O_RDONLY),
	};
	bool user = false;

	for (unsigned int i = 0; i < vm->cfg.nr_nets; i++)
		user |= vm->cfg.nets[i].kind == NET_USER;
	if (!user)
		return 0;
	return allow_list(ctx, slirp_calls) ?:
	       allow_slirp_socket(ctx, SOCK_STREAM, 0) ?:
	       allow_slirp_socket(ctx, SOCK_DGRAM, 0) ?:
	       allow_slirp_socket(ctx, SOCK_DGRAM, IPPROTO_ICMP) ?:
	       allow_any_fd(ctx, "fcntl", F_GETFL) ?:
	       allow_any_fd(ctx, "fcntl", F_SETFL) ?:
	       allow_any_fd(ctx, "ioctl", FIONREAD) ?:
	       allow(ctx, "openat", 2, rdonly);
}

/* socket(AF_UNIX, SOCK_STREAM [| NONBLOCK | CLOEXEC], 0) and the calls
 * of vsock_calls, only with --vsock. */
static int allow_vsock(scmp_filter_ctx ctx, struct vm *vm)
{
	const struct scmp_arg_cmp cmp[] = {
		SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX),
		SCMP_A1_32(SCMP_CMP_MASKED_EQ, ~(SOCK_CLOEXEC | SOCK_NONBLOCK), SOCK_STREAM),
		SCMP_A2_32(SCMP_CMP_EQ, 0),
	};

	if (!vm->cfg.vsock.cid)
		return 0;
	return allow_list(ctx, vsock_calls) ?:
	       (vm->cfg.vsock.uds ? allow(ctx, "socket", 3, cmp) : 0);
}

/*
 * --control PATH (vmm/control.c), on the I/O thread: clients accepted
 * and each peer's uid read (getsockopt SO_PEERCRED only). Requests and
 * replies are read and write, already allowed; the socket's path is the
 * janitor's to remove (lib/janitor.h), and snapshots are written by a
 * thread of their own (seccomp_confine_snapshot).
 */
static int allow_control(scmp_filter_ctx ctx, struct vm *vm)
{
	const struct scmp_arg_cmp peercred[] = {
		SCMP_A1_32(SCMP_CMP_EQ, SOL_SOCKET),
		SCMP_A2_32(SCMP_CMP_EQ, SO_PEERCRED),
	};
	static const char *const calls[] = { "accept4", NULL };

	if (!vm->cfg.control)
		return 0;
	return allow_list(ctx, calls) ?:
	       allow(ctx, "getsockopt", 2, peercred);
}

static int io_rules(scmp_filter_ctx ctx, void *arg)
{
	/* kvmini exec -t sends the terminal's new size on SIGWINCH
	 * (exec/exec_in.c): a read of fd 0's or 1's, nothing else. */
	return allow_slirp(ctx, arg) ?:
	       allow_vsock(ctx, arg) ?:
	       allow_control(ctx, arg) ?:
	       allow_list(ctx, io_calls) ?:
	       allow_ioctl(ctx, STDIN_FILENO, TIOCGWINSZ) ?:
	       allow_ioctl(ctx, STDOUT_FILENO, TIOCGWINSZ) ?:
	       allow_signal(ctx, VCPU_KICK_SIGNAL, false);
}

int seccomp_confine_io(struct vm *vm)
{
	int err;

	if (!vm->cfg.no_seccomp) {
		err = seccomp_install(vm, "I/O", io_rules, vm);
		if (err)
			return err;
		seccomp_selftest("io");
	}
	/* As for a vCPU: set-up is over. */
	trim_after_setup();
	return 0;
}
