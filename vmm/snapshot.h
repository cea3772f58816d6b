/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Snapshots of a whole VM (docs/snapshot.md): the directory holds
 * `state` (lib/snapfile.h: configuration, KVM's state, every device's)
 * and `memory` (lib/mem_file.h: guest RAM, sparse).
 *
 * vm_snapshot(): on the I/O thread with every vCPU parked (vm_pause);
 * the devices are quiesced (in-flight I/O finished), then everything is
 * written into a temporary directory that becomes PATH only when whole
 * (lib/snap_dir.h). The VM is unchanged and may resume, whether or not
 * the snapshot succeeded.
 *
 * Restoring: vm_restore_config() builds the configuration from the
 * snapshot and the user's overrides; vm_create() then makes the same
 * machine, without loading a kernel (vm->restore set); vm_restore() puts
 * memory, KVM's state and the devices' state back before any vCPU runs.
 * Every refusal is one error line, before the guest runs.
 */
#ifndef KVMINI_SNAPSHOT_H
#define KVMINI_SNAPSHOT_H

#include "lib/config.h"
#include "lib/snapfile.h"

struct vm;

int vm_snapshot(struct vm *vm, const char *path);
/* The thread that writes them (vm_run, with --control, before any
 * filter; stopped after the vCPUs). 0, or -errno after one error line. */
int snapshot_worker_start(struct vm *vm);
void snapshot_worker_stop(struct vm *vm);

/* Reads DIR/state into r (which must outlive the VM: cfg points into
 * it) and fills cfg from it and from user, the options given with
 * --restore (disks, nets, vsock's socket, console, control…). 0, or
 * -errno after one error line. */
int vm_restore_config(struct snap_reader *r, const char *dir,
		      const struct vm_config *user, struct vm_config *cfg);
/* After vm_create() of cfg: memory, KVM's state, devices. */
int vm_restore(struct vm *vm, const struct snap_reader *r, const char *dir);

/*
 * --transport pci's part (vm_pci.c): quiesce every function's device;
 * save the bus (SNAP_TAG_PCI_BUS) and each function (SNAP_TAG_PCI_FUNC);
 * load them into the machine vm_create() made from the same
 * configuration: BAR decoding with its notify ioeventfds, the MSI routes
 * (KVM_SET_GSI_ROUTING, the irqfds are the new process's own) and INTx
 * levels come back with them. 0, or -errno after one error line.
 */
void vm_pci_quiesce(struct vm *vm);
int vm_pci_save(struct vm *vm, struct snap_writer *w);
int vm_pci_load(struct vm *vm, const struct snap_reader *r);

#endif
