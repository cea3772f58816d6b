/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One virtual machine: its KVM handles, memory, buses, vCPUs and devices.
 * All mutable state lives here, never in globals.
 */
#ifndef KVMINI_VM_H
#define KVMINI_VM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bus.h"
#include "lib/config.h"
#include "lib/evloop.h"
#include "lib/janitor.h"
#include "lib/mem.h"

struct kvm_run;
struct console;
struct virtio_dev;
struct virtio_mmio;
struct vm_pci;
struct exec_out;
struct tap;
struct slirp_net;
struct control;
struct snap_worker;

#define VM_MAX_VIRTIO	16

/* A --net NIC's backend: a tap or user networking. */
struct vm_net {
	struct tap *tap;
	struct slirp_net *slirp;
};

/* A virtio device and the transport that carries it. */
struct vm_virtio {
	struct virtio_dev *vdev;
	struct virtio_mmio *mmio;
	uint64_t base;
	uint32_t irq;
};

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
};

struct vm {
	struct vm_config cfg;
	int kvm_fd;
	int vm_fd;
	size_t run_size;
	unsigned int max_vcpus;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct vcpu *vcpus;
	struct console *console;
	struct evloop loop;	/* the I/O thread: runs in vm_run's caller */
	struct janitor janitor;	/* socket files removed at the end */
	void *arch;		/* owned by arch/ */

	/* Kernel and initrd files, mapped read-only. */
	const uint8_t *kernel;
	size_t kernel_size;
	const uint8_t *initrd;
	size_t initrd_size;
	uint64_t initrd_gpa;	/* where arch_load_kernel put it */
	char *cmdline;		/* as the guest gets it */

	struct vm_virtio virtio[VM_MAX_VIRTIO];
	unsigned int nr_virtio;
	struct vm_pci *pci;	/* --transport pci: the bus and its devices */
	/* Its functions' slots and INTx lines, for the ACPI tables (which
	 * link without vm_pci.c: the fuzz targets build them). */
	struct { uint8_t slot; uint32_t irq; } pci_fn[VM_MAX_VIRTIO];
	unsigned int nr_pci_fn;
	struct virtio_dev *virtio_console;	/* when --console virtio */
	struct exec_out *exec_out;	/* kvmini exec's job streams, or NULL */
	/* Set before vm_create() by a mode above the VMM (kvmini exec): makes
	 * the first virtio device, before the console and the rest. */
	struct virtio_dev *(*first_virtio)(struct vm *vm);
	uint64_t disk_size[CONFIG_DISKS_MAX];	/* each --disk's, at open */
	/* Set before vm_create() when resuming a snapshot: no kernel is
	 * loaded and no vCPU gets boot state; vm_restore() fills them. */
	bool restoring;
	struct vm_net nets[CONFIG_NETS_MAX];	/* backends, freed after the devices */
	unsigned int nr_nets;

	/* Ending the VM: the first reason wins, then stop_fd wakes the
	 * main loop, which stops the vCPUs. */
	struct ev_handler stop;		/* eventfd */
	struct ev_handler signals;	/* signalfd */
	struct ev_handler timeout;	/* timerfd: --timeout */
	struct ev_handler panic_grace;	/* timerfd: a panicked guest that hangs */
	int exit_status;		/* -1 while running */
	bool stopping;
	bool guest_panicked;

	/* Pausing (vcpu.c): vCPUs parked outside KVM_RUN. The counts and
	 * the conditions are under pause_lock; vCPUs read paused without it
	 * before each KVM_RUN. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;	/* parked vCPUs wait here */
	pthread_cond_t parked_cond;	/* vm_pause() waits here */
	bool paused;			/* asked for, until vm_resume() */
	unsigned int vcpus_live;	/* threads in their run loop */
	unsigned int parked;
	int parked_fd;			/* eventfd: the last vCPU parked */

	struct control *control;	/* --control's socket, or NULL */
	struct snap_worker *snap_worker;	/* with --control (snapshot.c) */
};

/* vm must be zeroed, with kernel and initrd set; vm_destroy cleans up
 * after a failed vm_create too. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
/* Runs the VM until something ends it; returns kvmini's exit status. */
int vm_run(struct vm *vm);
void vm_destroy(struct vm *vm);

/* Set-up only: a file kvmini just made (a socket it listens on) goes
 * when kvmini ends, however it ends (lib/janitor.h). */
void vm_watch_file(struct vm *vm, const char *path);

/* Any thread: ends the VM with this status unless an earlier reason won. */
void vm_request_exit(struct vm *vm, int status, const char *why);

/* Registers a device on a bus or fails with one error line. */
int vm_register_pio(struct vm *vm, uint64_t base, uint64_t len,
		    bus_access_fn *fn, void *opaque, const char *name);
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len,
		     bus_access_fn *fn, void *opaque, const char *name);

int kvm_check_cap(struct vm *vm, long cap);

/* An eventfd that injects an edge on interrupt line gsi when written. */
int vm_irqfd(struct vm *vm, uint32_t gsi, int fd);
/* Guest writes of len bytes of value datamatch to addr (MMIO) signal fd
 * in the kernel, without an exit to kvmini. */
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, uint64_t datamatch,
		 int fd);

/* The guest printed a kernel panic: its end status is a crash, whether it
 * then resets or hangs. */
void vm_guest_panicked(struct vm *vm);

/* The UART carries the user's console (not virtio-console). */
static inline bool vm_console_on_uart(const struct vm *vm)
{
	return vm->cfg.console != CONSOLE_VIRTIO;
}


/* vm_devices.c: the virtio devices the configuration asks for. */
int vm_devices_init(struct vm *vm);
void vm_devices_exit(struct vm *vm);
/* A virtio-fs device for one shared directory (backend/virtiofsd.h), from
 * vm_devices_init: only when cfg.nr_shares > 0 made guest RAM shareable.
 * 0, or -errno after one error line. */
int vm_add_share(struct vm *vm, const struct share_config *s);

/*
 * vm_pci.c: --transport pci. vm_pci_init() puts the bus on the machine
 * (conf1 ports, ECAM, the BAR window); vm_pci_add() makes vdev a
 * virtio-pci function on it (it owns vdev from then on, also on error);
 * vm_pci_count() counts its devices of one kind; vm_pci_exit() frees it
 * all, after the vCPUs have stopped.
 */
int vm_pci_init(struct vm *vm);
int vm_pci_add(struct vm *vm, struct virtio_dev *vdev);
unsigned int vm_pci_count(const struct vm *vm, uint32_t device_id);
void vm_pci_exit(struct vm *vm);

/* vm_fdt.c: the device tree this VM's guest gets (or --dump-dtb shows). */
int vm_fdt_build(struct vm *vm, void **blob, size_t *size);

/* vcpu.c */
/* A thread of kvmini's (vCPU, snapshot), with a small stack. */
int vm_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);
/* The signal that kicks a vCPU out of KVM_RUN; its handler does nothing. */
#define VCPU_KICK_SIGNAL SIGUSR1
int vcpu_create(struct vm *vm, struct vcpu *vcpu, unsigned int id);
int vcpu_start(struct vcpu *vcpu);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_destroy(struct vcpu *vcpu);

/*
 * Pausing the guest (vcpu.c), from the I/O thread. Every vCPU thread
 * leaves KVM_RUN (kicked) and parks; devices and timers go on, and
 * --timeout, signals and vm_request_exit() still end the VM (parked
 * threads wake and leave). Pausing a paused VM, or resuming a running
 * one, changes nothing.
 * vm_pause_request(): asynchronous; true if every vCPU is parked already,
 * else parked_fd is written when the last one parks (vm_pause_done()).
 * vm_pause(): synchronous, at most VM_PAUSE_TIMEOUT_SECS; 0 once every
 * vCPU is parked, or -ETIMEDOUT (and the VM runs again).
 * vm_resume(): the vCPUs go back into KVM_RUN; a pending pause is off.
 */
#define VM_PAUSE_TIMEOUT_SECS	2
int vm_pause_init(struct vm *vm);
bool vm_pause_request(struct vm *vm);
bool vm_pause_done(struct vm *vm);
bool vm_is_paused(struct vm *vm);
int vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
void vm_pause_wake(struct vm *vm);

#endif
