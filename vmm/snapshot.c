// SPDX-License-Identifier: GPL-2.0
/* Snapshots of a whole VM, and restoring one: see snapshot.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/mem_file.h"
#include "lib/snap_dir.h"
#include "lib/snapfile.h"
#include "virtio/mmio.h"
#include "vmm/arch.h"
#include "vmm/cli.h"
#include "vmm/seccomp.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

#define SNAP_MEMORY_FILE	"memory"

/* Configuration, KVM's state, then every device's, in that order. */
static int snapshot_state(struct vm *vm, struct snap_writer *w)
{
	int err;

	snap_writer_init(w, SNAP_ARCH_HOST, kvmini_version);
	/* The transport is the header's: a kvmini that knows no PCI
	 * sections refuses the flag rather than restore on virtio-mmio. */
	if (vm->pci)
		snap_writer_flags(w, SNAP_FLAG_PCI);
	snap_config_put(w, &vm->cfg, vm->disk_size);
	err = arch_vm_save(vm, w);
	for (unsigned int i = 0; i < vm->cfg.cpus && !err; i++)
		err = arch_vcpu_save(&vm->vcpus[i], w);
	if (!err)
		err = arch_devices_save(vm, w);
	for (unsigned int i = 0; i < vm->nr_virtio && !err; i++) {
		err = virtio_mmio_save(vm->virtio[i].mmio,
				       snap_begin(w, SNAP_TAG_DEVICE, i));
		snap_end(w);
	}
	if (!err && vm->pci)
		err = vm_pci_save(vm, w);
	if (!err && snap_finish(w)) {
		pr_err("snapshot: out of memory for the VM's state");
		err = -ENOMEM;
	}
	return err;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/* One file of the snapshot: the state's bytes, or guest memory. */
static int snapshot_file(struct vm *vm, struct snap_dir *d, const char *path,
			 const char *name, const struct sbuf *state)
{
	int fd = snap_dir_file(d, name), err;

	if (fd < 0) {
		err = fd;
	} else {
		err = state ? write_all(fd, state->data, state->len) :
			      gmem_save(&vm->mem, fd);
		close(fd);
	}
	if (err)
		pr_err("snapshot %s: cannot write its %s: %s", path, name, strerror(-err));
	return err;
}

/* The snapshot thread's job: everything after the quiesce. */
static int snapshot_write(struct vm *vm, const char *path)
{
	struct snap_writer w;
	struct snap_dir d;
	int err;

	err = snapshot_state(vm, &w);
	if (err)
		goto out;
	err = snap_dir_create(&d, path);
	if (err) {
		pr_err("snapshot %s: %s", path, err == -EEXIST ?
		       "exists already: choose another path or remove it" :
		       strerror(-err));
		snap_dir_abort(&d);
		goto out;
	}
	err = snapshot_file(vm, &d, path, SNAP_FILE_NAME, &w.buf);
	if (!err)
		err = snapshot_file(vm, &d, path, SNAP_MEMORY_FILE, NULL);
	if (!err) {
		err = snap_dir_commit(&d);
		if (err)
			pr_err("snapshot %s: %s", path, err == -EEXIST ?
			       "another snapshot took this path meanwhile" :
			       strerror(-err));
	}
	snap_dir_abort(&d);
out:
	snap_writer_free(&w);
	if (!err)
		pr_info("snapshot written to %s", path);
	return err;
}

/*
 * The snapshot thread. The I/O thread, which serves the guest's devices,
 * may not create files; this thread may, and does nothing else: it takes
 * one job at a time while the I/O thread waits for it (the VM is paused
 * and must not change under the writer, so there is nothing for the I/O
 * thread to do meanwhile but wait).
 */
struct snap_worker {
	struct vm *vm;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *path;	/* the job; NULL when there is none */
	int result;
	bool done;
	bool quit;
	bool confined;		/* its filter is on (or --no-seccomp) */
};

/*
 * glibc's malloc, the first time it gives memory of a thread's own arena
 * back to the system (shrink_heap), reads /proc/sys/vm/overcommit_memory
 * once for the whole process; a thread that frees a snapshot's buffers
 * does that at the latest when it ends (its tcache freed), and this one's
 * filter has no read(2): killed by SIGSYS at the VM's stop (exit status
 * 159, "read on the snapshot thread", seen with Linux guests). Freeing a
 * few hundred KiB here, before the filter, has glibc read it now.
 */
static void snap_worker_warm_malloc(void)
{
	enum { CHUNKS = 4, CHUNK = 96 << 10 };	/* under the mmap threshold */
	void *p[CHUNKS];

	for (int i = 0; i < CHUNKS; i++) {
		p[i] = malloc(CHUNK);
		if (p[i])
			memset(p[i], 0, CHUNK);	/* the compiler keeps the call */
	}
	for (int i = CHUNKS - 1; i >= 0; i--)
		free(p[i]);
}

static void *snap_worker_main(void *arg)
{
	struct snap_worker *w = arg;
	const char *path;
	int r;

	pthread_setname_np(pthread_self(), "kvmini-snap");
	snap_worker_warm_malloc();
	w->confined = !seccomp_confine_snapshot(w->vm);
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->path && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit)
			break;
		path = w->path;
		pthread_mutex_unlock(&w->lock);
		r = w->confined ? snapshot_write(w->vm, path) : -EPERM;
		pthread_mutex_lock(&w->lock);
		w->result = r;
		w->path = NULL;
		w->done = true;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int snapshot_worker_start(struct vm *vm)
{
	struct snap_worker *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->vm = vm;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = vm_thread_create(&w->thread, snap_worker_main, w);
	if (err) {
		pr_err("cannot start the snapshot thread: %s", strerror(err));
		free(w);
		return -err;
	}
	vm->snap_worker = w;
	return 0;
}

void snapshot_worker_stop(struct vm *vm)
{
	struct snap_worker *w = vm->snap_worker;

	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->quit = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	free(w);
	vm->snap_worker = NULL;
}

int vm_snapshot(struct vm *vm, const char *path)
{
	struct snap_worker *w = vm->snap_worker;
	int r;

	/* What the devices have in flight completes first, here on the
	 * I/O thread whose completions they are: the state then has no
	 * request half done. */
	for (unsigned int i = 0; i < vm->nr_virtio; i++)
		virtio_mmio_quiesce(vm->virtio[i].mmio);
	vm_pci_quiesce(vm);
	if (!w) {
		pr_err("snapshot %s: no snapshot thread in this VM", path);
		return -ENOSYS;
	}
	pthread_mutex_lock(&w->lock);
	w->path = path;
	w->done = false;
	pthread_cond_broadcast(&w->cond);
	while (!w->done)
		pthread_cond_wait(&w->cond, &w->lock);
	r = w->result;
	pthread_mutex_unlock(&w->lock);
	if (r == -EPERM && !w->confined)
		pr_err("snapshot %s: the snapshot thread has no seccomp filter, so it takes none",
		       path);
	return r;
}

/* What the user gave with --restore that the snapshot does not fix. */
static int restore_overrides(const struct snap_reader *r, const struct vm_config *user,
			     struct vm_config *cfg)
{
	/* The UART carries any console but a virtio one: that device is
	 * part of the machine. */
	if (cfg->console != CONSOLE_VIRTIO && user->console != CONSOLE_VIRTIO) {
		cfg->console = user->console;
		cfg->console_path = user->console_path;
	}
	cfg->timeout = user->timeout;
	cfg->kvm_dev = user->kvm_dev;
	cfg->no_seccomp = user->no_seccomp;
	cfg->verbose = user->verbose;
	cfg->control = user->control;
	cfg->vsock.uds = user->vsock.uds;
	if (user->nr_disks) {
		if (user->nr_disks != cfg->nr_disks) {
			pr_err("--restore %s: the snapshot has %u disks, --disk gave %u: give one --disk for each, in order",
			       r->name, cfg->nr_disks, user->nr_disks);
			return -EINVAL;
		}
		for (unsigned int i = 0; i < cfg->nr_disks; i++) {
			cfg->disks[i].arg = user->disks[i].arg;
			cfg->disks[i].path_len = user->disks[i].path_len;
			cfg->disks[i].direct = user->disks[i].direct;
			/* Checked against the snapshot's by snap_config_check. */
			cfg->disks[i].ro = user->disks[i].ro;
		}
	}
	if (user->nr_nets && user->nr_nets != cfg->nr_nets) {
		pr_err("--restore %s: the snapshot has %u NICs, --net gave %u: give one --net for each, in order",
		       r->name, cfg->nr_nets, user->nr_nets);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		struct net_config *n = &cfg->nets[i];
		const struct net_config *u = &user->nets[i];

		if (!user->nr_nets && n->kind == NET_TAP) {
			pr_err("--restore %s: NIC %u was a tap: name the tap with --net tap=NAME",
			       r->name, i);
			return -EINVAL;
		}
		if (!user->nr_nets)
			continue;
		if (u->kind != n->kind || (u->mac_set && memcmp(u->mac, n->mac, 6))) {
			pr_err("--restore %s: --net %u differs in kind or MAC address from the snapshot's NIC",
			       r->name, i);
			return -EINVAL;
		}
		memcpy(n->ifname, u->ifname, sizeof(n->ifname));
		memcpy(n->fwd, u->fwd, sizeof(n->fwd));
		n->nr_fwd = u->nr_fwd;
	}
	/* A share's virtiofsd is a fresh one: the directory is the user's
	 * now; tag and ro are the snapshot's (snap_config_check). */
	if (user->nr_shares != cfg->nr_shares) {
		pr_err("--restore %s: the snapshot has %u virtio-fs shares, --share gave %u: give one --share for each, in order",
		       r->name, cfg->nr_shares, user->nr_shares);
		return -EINVAL;
	}
	for (unsigned int i = 0; i < cfg->nr_shares; i++)
		cfg->shares[i] = user->shares[i];
	return 0;
}

int vm_restore_config(struct snap_reader *r, const char *dir,
		      const struct vm_config *user, struct vm_config *cfg)
{
	uint64_t sizes[CONFIG_DISKS_MAX];
	int err = snap_read(r, dir);

	if (err)
		return err;
	err = snap_config_get(r, cfg, sizes);
	if (!err && user->transport == TRANSPORT_PCI && !(r->flags & SNAP_FLAG_PCI)) {
		pr_err("--restore %s: the snapshot's devices are on virtio-mmio: drop --transport pci",
		       r->name);
		err = -EINVAL;
	}
	/* The snapshot's transport, whatever --transport said: its device
	 * state is for that transport only. */
	cfg->transport = r->flags & SNAP_FLAG_PCI ? TRANSPORT_PCI : TRANSPORT_MMIO;
	if (!err)
		err = restore_overrides(r, user, cfg);
	if (err)
		snap_reader_free(r);
	return err;
}

static int restore_memory(struct vm *vm, const char *dir)
{
	char path[4096];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, SNAP_MEMORY_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		pr_err("snapshot %s: cannot open it: %s: take a new snapshot", path, strerror(errno));
		return err;
	}
	err = gmem_restore(&vm->mem, fd);
	close(fd);
	if (err == -EINVAL)
		pr_err("snapshot %s: not %llu bytes, the size of the snapshot's guest RAM: take a new snapshot",
		       path, (unsigned long long)vm->mem.map_size);
	else if (err)
		pr_err("snapshot %s: cannot map it: %s", path, strerror(-err));
	return err;
}

static int restore_devices(struct vm *vm, const struct snap_reader *r)
{
	bool pci = r->flags & SNAP_FLAG_PCI;
	struct sbuf_rd p;
	int err;

	/* vm_restore_config() made the machine's transport the snapshot's;
	 * a file with the other's sections is refused all the same. */
	if (pci != !!vm->pci) {
		pr_err("snapshot %s: taken with --transport %s, this VM's devices are on %s: restore with the options the snapshot was taken with",
		       r->name, pci ? "pci" : "mmio", vm->pci ? "pci" : "mmio");
		return -EINVAL;
	}
	if (pci ? snap_find(r, SNAP_TAG_DEVICE, 0, &p) : snap_find(r, SNAP_TAG_PCI_BUS, 0, &p)) {
		pr_err("snapshot %s: device state for virtio-%s in a snapshot taken with --transport %s: the file is corrupt: take a new snapshot",
		       r->name, pci ? "mmio" : "pci", pci ? "pci" : "mmio");
		return -EINVAL;
	}
	err = arch_devices_load(vm, r);
	if (!err && pci)
		err = vm_pci_load(vm, r);

	for (unsigned int i = 0; i < vm->nr_virtio && !err; i++) {
		if (!snap_find(r, SNAP_TAG_DEVICE, i, &p)) {
			pr_err("snapshot %s: no state for virtio device %u (%s): take a new snapshot",
			       r->name, i, vm->virtio[i].vdev->name);
			return -EINVAL;
		}
		err = virtio_mmio_load(vm->virtio[i].mmio, p.data, p.len);
	}
	if (!err && snap_find(r, SNAP_TAG_DEVICE, vm->nr_virtio, &p)) {
		pr_err("snapshot %s: it has more virtio devices than this VM: restore with the options the snapshot was taken with",
		       r->name);
		return -EINVAL;
	}
	return err;
}

int vm_restore(struct vm *vm, const struct snap_reader *r, const char *dir)
{
	int err = snap_config_check(r, &vm->cfg, vm->disk_size);

	if (!err)
		err = restore_memory(vm, dir);
	if (!err)
		err = arch_vm_load(vm, r);
	for (unsigned int i = 0; i < vm->cfg.cpus && !err; i++)
		err = arch_vcpu_load(&vm->vcpus[i], r);
	if (!err)
		err = restore_devices(vm, r);
	if (!err)
		err = arch_vm_restored(vm);
	if (!err)
		pr_info("restored from %s", dir);
	return err;
}
