// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD shim for `make bench`: tells bench/vmmrun when a VMM first
 * calls ioctl(KVM_RUN), on any thread, by writing "R\n" to the pipe named
 * in BENCH_KVMRUN_FD; vmmrun, blocked in poll() on that pipe, notes the
 * time it arrives. Every other ioctl, and every later KVM_RUN, costs one
 * comparison.
 *
 * It works for any VMM that reaches KVM through the C library's ioctl()
 * (kvmini and QEMU both do). At that point it makes one system call,
 * write(), and nothing else, not even clock_gettime() (which is a real
 * system call where the vDSO cannot read the clock, as in the lab): kvmini
 * runs under a seccomp filter by then, which allows write() but not the
 * clock.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

typedef int (*ioctl_fn)(int, unsigned long, ...);

static _Atomic(ioctl_fn) real_ioctl;
static int report_fd = -1;
static atomic_int reported;

static ioctl_fn resolve(void)
{
	ioctl_fn f = atomic_load(&real_ioctl);

	if (!f) {
		f = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
		atomic_store(&real_ioctl, f);
	}
	return f;
}

__attribute__((constructor)) static void shim_init(void)
{
	const char *s = getenv("BENCH_KVMRUN_FD");

	if (s && *s)
		report_fd = atoi(s);
	resolve();
}

int ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);

	if (request == KVM_RUN && report_fd >= 0 && !atomic_exchange(&reported, 1)) {
		if (write(report_fd, "R\n", 2) < 0) {
			/* Nothing to do: the figure is simply missing. */
		}
	}
	return resolve()(fd, request, arg);
}
