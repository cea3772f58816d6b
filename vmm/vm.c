// SPDX-License-Identifier: GPL-2.0
/* The life of a VM: create, run until something ends it, tear down. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lib/container_of.h"
#include "lib/log.h"
#include "lib/mem_file.h"
#include "virtio/mmio.h"
#include "vmm/arch.h"
#include "vmm/console.h"
#include "vmm/control.h"
#include "vmm/exitcode.h"
#include "vmm/exitdev.h"
#include "vmm/seccomp.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

/* How long a panicked guest may take to reset itself before kvmini ends
 * it anyway (its panic= setting may say "hang forever"). */
#define PANIC_GRACE_SECS	3

int kvm_check_cap(struct vm *vm, long cap)
{
	int r = ioctl(vm->vm_fd >= 0 ? vm->vm_fd : vm->kvm_fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static int kvm_open(struct vm *vm)
{
	const char *dev = vm->cfg.kvm_dev;
	int v;

	vm->kvm_fd = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = errno;

		if (err == ENOENT)
			pr_err("%s does not exist: this host has no KVM (load kvm-intel or kvm-amd, or run the tests in the lab: make test)", dev);
		else if (err == EACCES || err == EPERM)
			pr_err("no permission to open %s: add your user to its group (usually 'kvm') or run as root", dev);
		else
			pr_err("cannot open %s: %s", dev, strerror(err));
		return -err;
	}
	v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (v < 0) {
		pr_err("%s is not a KVM device (%s)", dev, strerror(errno));
		return -ENODEV;
	}
	if (v != KVM_API_VERSION) {
		pr_err("%s speaks KVM API version %d, kvmini needs %d", dev, v, KVM_API_VERSION);
		return -ENOTSUP;
	}
	return 0;
}

static const struct { long cap; const char *name; } vm_needed_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
};

static int kvm_create_vm(struct vm *vm)
{
	int max;

	for (size_t i = 0; i < sizeof(vm_needed_caps) / sizeof(vm_needed_caps[0]); i++) {
		if (!kvm_check_cap(vm, vm_needed_caps[i].cap)) {
			pr_err("this KVM lacks %s, which kvmini needs", vm_needed_caps[i].name);
			return -ENOTSUP;
		}
	}
	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, arch_vm_type());
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		pr_err("KVM could not create a VM: %s", strerror(errno));
		return -errno;
	}
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	max = kvm_check_cap(vm, KVM_CAP_MAX_VCPUS);
	if (!max)
		max = kvm_check_cap(vm, KVM_CAP_NR_VCPUS);
	vm->max_vcpus = max > 0 ? max : 4;
	if (vm->cfg.cpus > vm->max_vcpus) {
		pr_err("--cpus %u: this KVM allows at most %u vCPUs",
		       vm->cfg.cpus, vm->max_vcpus);
		return -EINVAL;
	}
	return 0;
}

static int vm_map_memory(struct vm *vm)
{
	/* virtio-fs: virtiofsd maps guest RAM too (backend/virtiofsd.h). */
	int err = vm->cfg.nr_shares ? gmem_init_shared(&vm->mem, vm->cfg.mem) :
		  gmem_init(&vm->mem, vm->cfg.mem);

	if (err) {
		pr_err("cannot reserve %llu MiB for guest memory: %s",
		       (unsigned long long)(vm->cfg.mem >> 20), strerror(-err));
		return err;
	}
	err = arch_mem_layout(vm);
	if (err)
		return err;
	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		const struct gmem_region *r = &vm->mem.region[i];
		struct kvm_userspace_memory_region kr = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uintptr_t)r->hva,
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &kr) < 0) {
			pr_err("KVM refused guest memory region %u: %s", i, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int vm_irqfd(struct vm *vm, uint32_t gsi, int fd)
{
	struct kvm_irqfd irqfd = { .fd = fd, .gsi = gsi };

	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		pr_err("KVM_IRQFD for interrupt %u failed: %s", gsi, strerror(errno));
		return -errno;
	}
	return 0;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch,
		 int fd)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
	};

	if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		pr_err("KVM_IOEVENTFD at %#llx failed: %s",
		       (unsigned long long)addr, strerror(errno));
		return -errno;
	}
	return 0;
}

static int vm_register(struct bus *bus, const char *what,
		       uint64_t base, uint64_t len, bus_access_fn *fn,
		       void *opaque, const char *name)
{
	int err = bus_register(bus, base, len, fn, opaque);

	if (err)
		pr_err("%s: cannot place %s at %#llx+%#llx: %s", name, what,
		       (unsigned long long)base, (unsigned long long)len,
		       strerror(-err));
	return err;
}

int vm_register_pio(struct vm *vm, uint64_t base, uint64_t len,
		    bus_access_fn *fn, void *opaque, const char *name)
{
	return vm_register(&vm->pio, "I/O ports", base, len, fn, opaque, name);
}

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len,
		     bus_access_fn *fn, void *opaque, const char *name)
{
	return vm_register(&vm->mmio, "MMIO", base, len, fn, opaque, name);
}

/* Appends " fmt..." to *s; -ENOMEM on failure (then *s is freed). */
static int str_append(char **s, const char *fmt, ...)
{
	char *more, *out;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	if (n < 0) {
		free(*s);
		*s = NULL;
		return -ENOMEM;
	}
	n = asprintf(&out, "%s %s", *s, more);
	free(more);
	free(*s);
	*s = n < 0 ? NULL : out;
	return n < 0 ? -ENOMEM : 0;
}

/*
 * kvmini's defaults, then the devices (for kernels that find virtio-mmio
 * on their command line), then the user's words, which win over ours
 * where the kernel takes the last value.
 */
static int vm_build_cmdline(struct vm *vm)
{
	int err = 0;

	vm->cmdline = strdup(arch_default_cmdline);
	if (!vm->cmdline)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->nr_virtio && arch_virtio_on_cmdline && !err; i++)
		err = str_append(&vm->cmdline, "virtio_mmio.device=%#x@%#llx:%u",
				 VIRTIO_MMIO_SIZE,
				 (unsigned long long)vm->virtio[i].base,
				 vm->virtio[i].irq);
	if (!err && vm->pci)
		err = str_append(&vm->cmdline, "%s", arch_pci_cmdline);
	if (!err && vm->cfg.console == CONSOLE_VIRTIO)
		err = str_append(&vm->cmdline, "console=%s", arch_virtio_console);
	if (!err && vm->cfg.cmdline && *vm->cfg.cmdline)
		err = str_append(&vm->cmdline, "%s", vm->cfg.cmdline);
	return err;
}

/*
 * Every vCPU exists before the devices connect their interrupts: arm64's
 * GIC can only be initialised then, and takes no irqfd before that.
 */
static int vm_create_vcpus(struct vm *vm)
{
	int err;

	vm->vcpus = calloc(vm->cfg.cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned int i = 0; i < vm->cfg.cpus; i++) {
		err = vcpu_create(vm, &vm->vcpus[i], i);
		if (err)
			return err;
	}
	return arch_vm_finalize(vm);
}

/* After the kernel is loaded: the boot vCPU starts at its entry. */
static int vm_init_vcpus(struct vm *vm)
{
	int err = 0;

	for (unsigned int i = 0; i < vm->cfg.cpus && !err; i++)
		err = arch_vcpu_init(&vm->vcpus[i]);
	return err;
}

static int vm_load(struct vm *vm)
{
	int err = vm_build_cmdline(vm);

	if (err)
		return err;
	pr_info("kernel command line: %s", vm->cmdline);
	return arch_load_kernel(vm, vm->cmdline);
}

/*
 * Restoring into shared RAM (virtio-fs: a memfd, filled by copying):
 * the copy from the snapshot's memory file goes before the devices,
 * whose vhost-user set-up waits for each virtiofsd to come up, so that
 * they come up meanwhile. After the machine's own writes to RAM (ACPI
 * tables), which the snapshot's bytes replace as they always did. Best
 * effort: vm_restore() fills RAM in its turn, which costs nothing after
 * this fill (lib/mem_file.h), and says what is wrong with the file.
 */
static void vm_prefill_memory(struct vm *vm)
{
	char path[4096];
	int fd, err;

	if (!vm->restoring || !vm->cfg.restore || vm->mem.fd < 0)
		return;
	snprintf(path, sizeof(path), "%s/memory", vm->cfg.restore);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	err = gmem_restore(&vm->mem, fd);
	close(fd);
	if (err)
		pr_info("guest RAM not filled ahead from %s: %s", path, strerror(-err));
}

int vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int err;

	/* The caller has zeroed vm and mapped the kernel and initrd. */
	vm->cfg = *cfg;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->loop.epfd = -1;
	vm->stop.fd = vm->signals.fd = vm->timeout.fd = vm->panic_grace.fd = -1;
	vm->exit_status = -1;
	janitor_init(&vm->janitor);
	vm->parked_fd = -1;

	err = evloop_init(&vm->loop);
	if (err)
		return err;
	err = vm_pause_init(vm);
	if (err)
		return err;
	err = kvm_open(vm);
	if (err)
		return err;
	err = kvm_create_vm(vm);
	if (err)
		return err;
	err = arch_vm_init(vm);
	if (err)
		return err;
	err = vm_map_memory(vm);
	if (err)
		return err;
	err = console_init(vm);
	if (err)
		return err;
	err = exitdev_init(vm);
	if (err)
		return err;
	err = arch_devices_init(vm);
	if (err)
		return err;
	err = vm_create_vcpus(vm);
	if (err)
		return err;
	vm_prefill_memory(vm);
	err = vm_devices_init(vm);
	if (err || vm->restoring)
		return err;
	err = vm_load(vm);
	if (err)
		return err;
	return vm_init_vcpus(vm);
}

void vm_request_exit(struct vm *vm, int status, const char *why)
{
	int expected = -1;
	uint64_t one = 1;

	/* A guest that panicked and then resets itself crashed, it did not
	 * reboot. */
	if (status == EXIT_GUEST_OK && __atomic_load_n(&vm->guest_panicked, __ATOMIC_ACQUIRE))
		status = EXIT_GUEST_CRASH, why = "guest kernel panicked";
	if (!__atomic_compare_exchange_n(&vm->exit_status, &expected, status, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return;
	if (status == EXIT_GUEST_CRASH || status == EXIT_TIMEOUT)
		pr_err("%s", why);
	else
		pr_info("VM ends (%s), exit status %d", why, status);
	if (write(vm->stop.fd, &one, sizeof(one)) < 0)
		abort();	/* nothing else could end the VM */
}

static void timer_arm(int fd, unsigned int secs)
{
	struct itimerspec its = { .it_value = { .tv_sec = secs } };

	timerfd_settime(fd, 0, &its, NULL);
}

void vm_guest_panicked(struct vm *vm)
{
	if (__atomic_exchange_n(&vm->guest_panicked, true, __ATOMIC_ACQ_REL))
		return;
	timer_arm(vm->panic_grace.fd, PANIC_GRACE_SECS);
}

static void vm_on_stop(struct ev_handler *h, uint32_t events)
{
	struct vm *vm = container_of(h, struct vm, stop);

	(void)events;
	vm->loop.stop = true;
}

static void vm_on_signal(struct ev_handler *h, uint32_t events)
{
	struct vm *vm = container_of(h, struct vm, signals);
	struct signalfd_siginfo si;
	char why[64];

	(void)events;
	if (read(h->fd, &si, sizeof(si)) != sizeof(si))
		return;
	snprintf(why, sizeof(why), "%s received", strsignal(si.ssi_signo));
	vm_request_exit(vm, EXIT_SIGNAL_BASE + si.ssi_signo, why);
}

static void vm_on_timeout(struct ev_handler *h, uint32_t events)
{
	struct vm *vm = container_of(h, struct vm, timeout);
	char why[64];

	(void)events;
	snprintf(why, sizeof(why), "timeout: the guest ran for %u s", vm->cfg.timeout);
	vm_request_exit(vm, EXIT_TIMEOUT, why);
}

static void vm_on_panic_grace(struct ev_handler *h, uint32_t events)
{
	struct vm *vm = container_of(h, struct vm, panic_grace);

	(void)events;
	vm_request_exit(vm, EXIT_GUEST_CRASH, "guest kernel panicked");
}

static const int vm_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static int vm_add_fd(struct vm *vm, struct ev_handler *h, int fd,
		     void (*fn)(struct ev_handler *, uint32_t))
{
	if (fd < 0)
		return -errno;
	h->fd = fd;
	h->fn = fn;
	return evloop_add(&vm->loop, h, EPOLLIN);
}

/* Signals that end the VM arrive on the I/O thread through a signalfd;
 * every thread blocks them, so they are blocked before any is created. */
static int vm_setup_events(struct vm *vm)
{
	sigset_t set;
	int err;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(vm_signals) / sizeof(vm_signals[0]); i++)
		sigaddset(&set, vm_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = vm_add_fd(vm, &vm->signals, signalfd(-1, &set, SFD_CLOEXEC), vm_on_signal);
	if (!err)
		err = vm_add_fd(vm, &vm->stop, eventfd(0, EFD_CLOEXEC), vm_on_stop);
	if (!err)
		err = vm_add_fd(vm, &vm->timeout,
				timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), vm_on_timeout);
	if (!err)
		err = vm_add_fd(vm, &vm->panic_grace,
				timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), vm_on_panic_grace);
	if (err)
		pr_err("cannot set up the event loop: %s", strerror(-err));
	return err;
}

static void vm_stop_vcpus(struct vm *vm)
{
	__atomic_store_n(&vm->stopping, true, __ATOMIC_SEQ_CST);
	vm_pause_wake(vm);
	for (unsigned int i = 0; i < vm->cfg.cpus; i++)
		if (vm->vcpus[i].thread_started)
			vcpu_kick(&vm->vcpus[i]);
	for (unsigned int i = 0; i < vm->cfg.cpus; i++) {
		if (vm->vcpus[i].thread_started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].thread_started = false;
		}
	}
}

void vm_watch_file(struct vm *vm, const char *path)
{
	int err = janitor_add(&vm->janitor, path);

	if (err)
		pr_warn("%s may outlive kvmini if it is killed: %s", path, strerror(-err));
}

int vm_run(struct vm *vm)
{
	int err = vm_setup_events(vm);

	/* The control socket listens before the guest's first instruction,
	 * and a path it cannot take ends kvmini before the guest runs. */
	if (!err && vm->cfg.control)
		err = control_open(vm);
	if (!err && vm->cfg.control)
		vm_watch_file(vm, vm->cfg.control);
	if (!err)
		err = seccomp_prepare(vm);
	if (err)
		return EXIT_VMM_ERROR;
	if (vm->cfg.timeout)
		timer_arm(vm->timeout.fd, vm->cfg.timeout);
	/* Snapshots come through the control socket, or kvmini exec. */
	if ((vm->cfg.control || vm->cfg.snapshots) && snapshot_worker_start(vm))
		return EXIT_VMM_ERROR;
	for (unsigned int i = 0; i < vm->cfg.cpus && !err; i++)
		err = vcpu_start(&vm->vcpus[i]);
	if (err)
		vm_request_exit(vm, EXIT_VMM_ERROR, "cannot start the vCPUs");
	/*
	 * Set-up ends here: from now on this thread only runs the event loop
	 * and then tears down. Its filter comes after the vCPU threads exist,
	 * so that they do not inherit it (each installs its own) and so that
	 * it need not allow creating threads.
	 */
	else if (seccomp_confine_io(vm))
		vm_request_exit(vm, EXIT_VMM_ERROR, "the I/O thread has no seccomp filter");
	err = evloop_run(&vm->loop);
	if (err)
		vm_request_exit(vm, EXIT_VMM_ERROR, "the event loop failed");
	vm_stop_vcpus(vm);
	snapshot_worker_stop(vm);
	return __atomic_load_n(&vm->exit_status, __ATOMIC_ACQUIRE);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void vm_destroy(struct vm *vm)
{
	if (vm->vcpus) {
		for (unsigned int i = 0; i < vm->cfg.cpus; i++)
			vcpu_destroy(&vm->vcpus[i]);
		free(vm->vcpus);
	}
	control_close(vm);
	vm_devices_exit(vm);
	janitor_finish(&vm->janitor);
	arch_vm_exit(vm);
	console_exit(vm);
	free(vm->cmdline);
	bus_exit(&vm->pio);
	bus_exit(&vm->mmio);
	gmem_exit(&vm->mem);
	close_fd(&vm->stop.fd);
	close_fd(&vm->signals.fd);
	close_fd(&vm->timeout.fd);
	close_fd(&vm->panic_grace.fd);
	close_fd(&vm->parked_fd);
	evloop_exit(&vm->loop);
	close_fd(&vm->vm_fd);
	close_fd(&vm->kvm_fd);
}
