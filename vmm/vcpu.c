// SPDX-License-Identifier: GPL-2.0
/* One thread per vCPU: KVM_RUN, and dispatch of the exits KVM hands back. */
#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/exitcode.h"
#include "vmm/seccomp.h"
#include "vmm/vm.h"

int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id)
{
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		pr_err("KVM could not create vCPU %u: %s", id, strerror(errno));
		return -errno;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		pr_err("cannot map vCPU %u's run area: %s", id, strerror(errno));
		return -errno;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->run_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static void vcpu_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool write = run->io.direction == KVM_EXIT_IO_OUT;

	/* String I/O (rep outsb…) arrives as count accesses of size bytes. */
	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size)
		bus_dispatch(&vcpu->vm->pio, run->io.port, data, run->io.size, write);
}

static void vcpu_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (run->mmio.len > sizeof(run->mmio.data))
		return;
	bus_dispatch(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
		     run->mmio.len, run->mmio.is_write);
}

static void vcpu_system_event(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	switch (vcpu->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_exit(vm, EXIT_GUEST_OK, "guest powered off");
		break;
	case KVM_SYSTEM_EVENT_RESET:
		vm_request_exit(vm, EXIT_GUEST_OK, "guest rebooted");
		break;
	default:
		vm_request_exit(vm, EXIT_GUEST_CRASH, "guest crashed (system event)");
		break;
	}
}

/*
 * arm64: the guest touched device memory with an instruction that leaves
 * KVM no syndrome to decode (ldp/stp, writeback). Real hardware would
 * fault too; kvmini does not emulate these, so it is the guest's crash.
 * ipa is ~0 when KVM_RUN's ENOSYS (no KVM_CAP_ARM_NISV_TO_USER) says so.
 */
static void vcpu_nisv(struct vcpu *vcpu, uint64_t ipa)
{
	char at[32] = "", why[192];

	if (ipa != ~0ULL)
		snprintf(at, sizeof(at), " at %#llx", (unsigned long long)ipa);
	snprintf(why, sizeof(why),
		 "guest crashed: vCPU %u accessed device memory%s with an instruction KVM cannot decode (a load/store pair or writeback)",
		 vcpu->id, at);
	vm_request_exit(vcpu->vm, EXIT_GUEST_CRASH, why);
}

/* Returns false when the vCPU must stop. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	char why[128];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		vcpu_system_event(vcpu);
		return false;
	case KVM_EXIT_SHUTDOWN:
		/* The default command line reboots through the keyboard
		 * controller, so a triple fault is a crash, not a reboot. */
		vm_request_exit(vm, EXIT_GUEST_CRASH,
				"guest crashed: triple fault (KVM_EXIT_SHUTDOWN)");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why),
			 "guest crashed: KVM internal error %u on vCPU %u%s",
			 run->internal.suberror, vcpu->id,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 " (an instruction KVM cannot emulate)" : "");
		vm_request_exit(vm, EXIT_GUEST_CRASH, why);
		return false;
	case KVM_EXIT_ARM_NISV:
		vcpu_nisv(vcpu, run->arm_nisv.fault_ipa);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why),
			 "guest crashed: KVM could not enter vCPU %u (reason %#llx)",
			 vcpu->id, (unsigned long long)
			 run->fail_entry.hardware_entry_failure_reason);
		vm_request_exit(vm, EXIT_GUEST_CRASH, why);
		return false;
	default:
		snprintf(why, sizeof(why), "vCPU %u: unexpected KVM exit %u",
			 vcpu->id, run->exit_reason);
		vm_request_exit(vm, EXIT_VMM_ERROR, why);
		return false;
	}
}

/*
 * Pausing. vm->paused is read by each vCPU before every KVM_RUN; the
 * pauser sets it, then kicks (immediate_exit and the signal), so a vCPU
 * either sees it or is thrown out of KVM_RUN at once. A parked vCPU
 * waits on pause_cond; the last one to park (of the threads still in
 * their loop) wakes vm_pause() and writes parked_fd for the I/O thread.
 */

/* Under pause_lock: every live vCPU parked, or none left to run. */
static bool all_parked(struct vm *vm)
{
	return vm->paused && vm->parked == vm->vcpus_live;
}

static void notify_parked(struct vm *vm)
{
	uint64_t one = 1;

	pthread_cond_broadcast(&vm->parked_cond);
	if (write(vm->parked_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is full of earlier wake-ups already. */
	}
}

static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	if (all_parked(vm))
		notify_parked(vm);
	while (vm->paused && !__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

/* A thread leaves its loop: a pause no longer waits for it. */
static void vcpu_gone(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->vcpus_live--;
	if (all_parked(vm))
		notify_parked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
}

int vm_pause_init(struct vm *vm)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	/* vm_pause()'s bound is not moved by changes to the wall clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&vm->parked_cond, &attr);
	pthread_condattr_destroy(&attr);
	vm->parked_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vm->parked_fd < 0) {
		pr_err("cannot create the pause eventfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

bool vm_pause_request(struct vm *vm)
{
	bool done;

	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->paused, true, __ATOMIC_SEQ_CST);
	done = all_parked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
	if (!done)
		for (unsigned int i = 0; i < vm->cfg.cpus; i++)
			if (vm->vcpus[i].thread_started)
				vcpu_kick(&vm->vcpus[i]);
	return done;
}

bool vm_pause_done(struct vm *vm)
{
	bool done;

	pthread_mutex_lock(&vm->pause_lock);
	done = all_parked(vm);
	pthread_mutex_unlock(&vm->pause_lock);
	return done;
}

bool vm_is_paused(struct vm *vm)
{
	return __atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE);
}

int vm_pause(struct vm *vm)
{
	struct timespec deadline;
	int err = 0;

	vm_pause_request(vm);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += VM_PAUSE_TIMEOUT_SECS;
	pthread_mutex_lock(&vm->pause_lock);
	while (!all_parked(vm) && !err)
		err = pthread_cond_timedwait(&vm->parked_cond, &vm->pause_lock, &deadline);
	if (!all_parked(vm)) {
		pthread_mutex_unlock(&vm->pause_lock);
		vm_resume(vm);
		return -ETIMEDOUT;
	}
	pthread_mutex_unlock(&vm->pause_lock);
	return 0;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->paused, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* Tear-down: parked threads wake, see stopping and leave. */
void vm_pause_wake(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];

	snprintf(name, sizeof(name), "kvmini-vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	/* Before the guest runs a single instruction on this thread. */
	if (seccomp_confine_vcpu(vcpu)) {
		vm_request_exit(vm, EXIT_VMM_ERROR, "a vCPU thread has no seccomp filter");
		vcpu_gone(vm);
		return NULL;
	}
	while (!__atomic_load_n(&vm->stopping, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&vm->paused, __ATOMIC_ACQUIRE)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/*
				 * A kick (a pause, maybe already resumed) left
				 * immediate_exit set: clear it, or KVM_RUN
				 * returns at once for ever. The fence orders
				 * the clear before the loop's loads of stopping
				 * and paused (a kicker stores its flag, then
				 * immediate_exit), so no kick is lost.
				 */
				__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				continue;
			}
			if (errno == ENOSYS) {
				/* arm64's answer to an undecodable MMIO access
				 * when NISV exits are not available. */
				vcpu_nisv(vcpu, ~0ULL);
				break;
			}
			snprintf(name, sizeof(name), "%u", vcpu->id);
			pr_err("KVM_RUN failed on vCPU %s: %s", name, strerror(errno));
			vm_request_exit(vm, EXIT_VMM_ERROR, "KVM_RUN failed");
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	vcpu_gone(vm);
	return NULL;
}

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

/*
 * kvmini's threads run shallow code: 512 KiB of stack is ample, and a
 * mapping under 2 MiB can never be backed by a transparent huge page,
 * which glibc's default 8 MiB stacks were on hosts with THP "always": a
 * whole 2 MiB of RSS for a thread that touches a few KiB. ASan's frames
 * are larger: its builds keep the default.
 */
#define VM_THREAD_STACK	(512 * 1024)

int vm_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int err;

	pthread_attr_init(&attr);
#if !defined(__SANITIZE_ADDRESS__)
	pthread_attr_setstacksize(&attr, VM_THREAD_STACK);
#endif
	err = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return err;
}

int vcpu_start(struct vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = vcpu_kick_handler };
	int err;

	/* No SA_RESTART: the kick must interrupt KVM_RUN with EINTR. */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	/* Counted before it runs, so that a pause waits for it too. */
	pthread_mutex_lock(&vcpu->vm->pause_lock);
	vcpu->vm->vcpus_live++;
	pthread_mutex_unlock(&vcpu->vm->pause_lock);
	err = vm_thread_create(&vcpu->thread, vcpu_thread, vcpu);
	if (err) {
		pr_err("cannot start vCPU %u's thread: %s", vcpu->id, strerror(err));
		vcpu_gone(vcpu->vm);
		return -err;
	}
	vcpu->thread_started = true;
	return 0;
}

/*
 * immediate_exit covers the window in which the thread is about to enter
 * KVM_RUN; the signal covers a thread already inside it.
 */
void vcpu_kick(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}
