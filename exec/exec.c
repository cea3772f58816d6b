// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini exec: the VM behind one command (docs/exec.md). The guest gets
 * the default guest kernel and an initramfs built here: the user's
 * --initrd if any, then the agent as /init. Its root is this host's /
 * over virtio-fs, read-only, and only what the host's nobody may read
 * (docs/exec.md); the job goes in, and its output and status come back,
 * on ports of a virtio-console (exec_out.c); the status becomes kvmini's.
 *
 * With the snapshot cache (exec_cache.c), a VM of the same shape booted
 * before and saved where its agent waited for its job is restored
 * instead of booted; the first of a shape boots cold and saves it. A
 * cached snapshot that restore refuses is replaced by a cold boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/virtiofsd.h"
#include "exec/cpio.h"
#include "exec/exec.h"
#include "lib/log.h"
#include "lib/map_file.h"
#include "vmm/cli.h"
#include "vmm/exitcode.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

/* exec/exec_agent.S */
extern const uint8_t exec_agent_start[], exec_agent_end[];

/*
 * The guest kernel, relative to the binary's directory: where make
 * install puts it (PREFIX/bin/kvmini, PREFIX/share/kvmini/ARCH/), then
 * where guests/ builds it (build/ARCH/kvmini, build/guest/...).
 */
#if defined(__aarch64__)
#define EXEC_KERNEL_INSTALLED	"../share/kvmini/arm64/Image"
#define EXEC_KERNEL_BUILT	"../guest-arm64/Image"
#else
#define EXEC_KERNEL_INSTALLED	"../share/kvmini/x86_64/bzImage"
#define EXEC_KERNEL_BUILT	"../guest/bzImage"
#endif

/*
 * quiet: the kernel's console (the UART, discarded unless --verbose)
 * costs an exit per byte. The job's streams never carry it.
 */
#define EXEC_CMDLINE		"quiet"
#define EXEC_CMDLINE_VERBOSE	"loglevel=7"

/* Beside the binary: the installed kernel, else the built one, else NULL. */
static char *exec_kernel_beside_self(void)
{
	static const char *const rel[] = { EXEC_KERNEL_INSTALLED, EXEC_KERNEL_BUILT };
	char *self = realpath("/proc/self/exe", NULL);
	const char *dir = self ? dirname(self) : NULL;
	char *path = NULL;

	for (size_t i = 0; dir && i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (asprintf(&path, "%s/%s", dir, rel[i]) < 0)
			path = NULL;
		if (path && !access(path, R_OK))
			break;
		free(path);
		path = NULL;
	}
	free(self);
	return path;
}

/* --kernel, else $KVMINI_KERNEL, else the guest kernel beside kvmini:
 * its path (malloc'd) and *what names it for errors; NULL after one
 * error line. */
static char *exec_kernel_path(const struct exec_config *ec, const char **what)
{
	const char *env = getenv("KVMINI_KERNEL");
	char *path;

	*what = "kernel";
	if (ec->kernel)
		return strdup(ec->kernel);
	*what = "kernel ($KVMINI_KERNEL)";
	if (env && *env)
		return strdup(env);
	*what = "kernel";
	path = exec_kernel_beside_self();
	if (!path)
		pr_err("no guest kernel: give --kernel FILE, set KVMINI_KERNEL, or build one with 'make guests' (looked for %s and %s beside kvmini)",
		       EXEC_KERNEL_INSTALLED, EXEC_KERNEL_BUILT);
	else
		pr_info("guest kernel %s", path);
	return path;
}

/* The user's archive (kept as it is), then the agent. */
static int exec_build_initrd(const struct exec_config *ec, struct cpio *c)
{
	const uint8_t *data;
	size_t size;
	int err;

	if (ec->initrd) {
		err = map_file("initrd", ec->initrd, &data, &size);
		if (err)
			return err;
		cpio_add_raw(c, data, size);
		unmap_file(data, size);
	}
	cpio_add_file(c, "init", 0755, exec_agent_start,
		      exec_agent_end - exec_agent_start);
	err = cpio_finish(c);
	if (err)
		pr_err("cannot build the guest's initramfs: %s", strerror(-err));
	return err;
}

static void exec_share_config(struct share_config *s, const char *path,
			      const char *tag, bool ro)
{
	*s = (struct share_config){ .path = path, .path_len = strlen(path), .ro = ro };
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
}

/* virtio-fs: the root as "root", then share0, share1… as the job says. */
static void exec_vm_config(struct exec_config *ec)
{
	struct vm_config *cfg = &ec->vm;
	char tag[CONFIG_TAG_MAX + 1];

	cfg->console = cfg->verbose ? CONSOLE_STDERR : CONSOLE_NONE;
	cfg->cmdline = cfg->verbose ? EXEC_CMDLINE_VERBOSE : EXEC_CMDLINE;
	if (ec->root == EXEC_ROOT_HOST) {
		/* Only what the host's nobody may read: not the host's secrets. */
		exec_share_config(&cfg->shares[cfg->nr_shares], "/", EXEC_ROOT_TAG, true);
		cfg->shares[cfg->nr_shares++].as_nobody = true;
	} else if (ec->root == EXEC_ROOT_DIR) {
		/* A container's own rootfs, served as its caller (kvmini oci). */
		exec_share_config(&cfg->shares[cfg->nr_shares++], ec->root_dir,
				  EXEC_ROOT_TAG, ec->root_ro);
	}
	for (unsigned int i = 0; i < ec->nr_shares; i++) {
		snprintf(tag, sizeof(tag), "share%u", i);
		exec_share_config(&cfg->shares[cfg->nr_shares++], ec->shares[i].host,
				  tag, ec->shares[i].ro);
	}
	if (ec->net_user) {
		cfg->nets[0] = (struct net_config){
			.kind = NET_USER,
			.mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		};
		cfg->nr_nets = 1;
	}
}

/* The job the agent waits for: the spec, framed with fresh entropy. */
static int exec_job(const struct exec_config *ec, char **frame, size_t *len)
{
	uint8_t entropy[EXEC_JOB_ENTROPY];
	size_t spec_len;
	char *spec;
	int err;

	if (getrandom(entropy, sizeof(entropy), 0) != sizeof(entropy)) {
		pr_err("cannot get random bytes for the guest: %s", strerror(errno));
		return -EIO;
	}
	err = exec_job_encode(ec, &spec, &spec_len);
	if (!err) {
		err = exec_job_frame(spec, spec_len, entropy, frame, len);
		free(spec);
	}
	explicit_bzero(entropy, sizeof(entropy));
	if (err)
		pr_err("the job is too large to send (%s): fewer or shorter arguments and --env",
		       strerror(-err));
	return err;
}

/* After vm_run(): the agent failed before it had the job's stderr. */
static void exec_say_unstarted(const struct vm *vm, int status)
{
	if (status == EXIT_VMM_ERROR && !exec_out_reported(vm->exec_out))
		pr_err("the guest could not start the job (its console says why: run with --verbose)");
}

/* A boot from the kernel; snapshot: save it there when the agent is ready. */
static int exec_run_cold(struct exec_config *ec, const char *kernel, const char *what,
			 const char *job, size_t job_len, const char *snapshot)
{
	struct cpio initrd;
	struct vm vm;
	int status = EXIT_VMM_ERROR;

	memset(&vm, 0, sizeof(vm));
	cpio_init(&initrd);
	if (map_file(what, kernel, &vm.kernel, &vm.kernel_size) ||
	    exec_build_initrd(ec, &initrd) || exec_out_new(&vm.exec_out, ec->tty))
		goto out;
	ec->vm.snapshots = snapshot != NULL;
	vm.first_virtio = exec_out_device;
	vm.initrd = initrd.buf;
	vm.initrd_size = initrd.len;
	exec_out_set_t0(vm.exec_out, ec->t0);
	if (!vm_create(&vm, &ec->vm)) {
		exec_time_step(ec->t0, "VM created, kernel loaded: cold boot");
		/* Both are in guest RAM now: kept, they would only add
		 * their size to kvmini's RSS for the whole run. */
		unmap_file(vm.kernel, vm.kernel_size);
		cpio_free(&initrd);
		vm.kernel = vm.initrd = NULL;
		if (!snapshot)
			pr_info("exec: cold boot");
		exec_out_set_job(vm.exec_out, job, job_len, snapshot, false);
		status = vm_run(&vm);
		exec_time_step(ec->t0, "VM ended");
		exec_say_unstarted(&vm, status);
	}
	vm_destroy(&vm);
out:
	exec_out_free(vm.exec_out);
	unmap_file(vm.kernel, vm.kernel_size);
	cpio_free(&initrd);
	return status;
}

/*
 * From the cached snapshot e claimed (its use lock held). *fallback: the
 * snapshot could not be restored (said only with --verbose: the caller
 * words it in one line), so boot cold instead; nothing ran yet. The use
 * lock goes once the VM has its memory (see exec.h: the entry may go).
 */
static int exec_run_warm(struct exec_config *ec, struct exec_cache_entry *e,
			 const char *job, size_t job_len, bool *fallback)
{
	struct snap_reader snap;
	struct vm_config cfg;
	struct vm vm;
	int status = EXIT_VMM_ERROR, err;

	*fallback = false;
	memset(&vm, 0, sizeof(vm));
	if (exec_out_new(&vm.exec_out, ec->tty))
		return status;
	exec_out_set_t0(vm.exec_out, ec->t0);
	log_errors_quiet = true;
	err = vm_restore_config(&snap, e->path, &ec->vm, &cfg);
	log_errors_quiet = false;
	if (err) {
		*fallback = true;
		exec_out_free(vm.exec_out);
		return status;
	}
	exec_time_step(ec->t0, "snapshot state read");
	/* vm_create() fills shared RAM from it while virtiofsd comes up. */
	cfg.restore = e->path;
	vm.restoring = true;
	vm.first_virtio = exec_out_device;
	/* A VM this host cannot create is not the snapshot's fault: a cold
	 * boot would fail alike, so its error line is the one. */
	if (vm_create(&vm, &cfg))
		goto out;
	exec_time_step(ec->t0, "VM created, guest RAM filled, virtio-fs connected to virtiofsd");
	log_errors_quiet = true;
	err = vm_restore(&vm, &snap, e->path);
	log_errors_quiet = false;
	if (err) {
		*fallback = true;
		goto out;
	}
	exec_cache_release(e);
	exec_time_step(ec->t0, "VM state restored");
	pr_info("exec: from snapshot %s", e->path);
	exec_out_set_job(vm.exec_out, job, job_len, NULL, true);
	status = vm_run(&vm);
	exec_time_step(ec->t0, "VM ended");
	exec_say_unstarted(&vm, status);
out:
	vm_destroy(&vm);
	snap_reader_free(&snap);
	exec_out_free(vm.exec_out);
	return status;
}

/* The cache's entry for this VM's shape and its directory, or no cache
 * (NULL, e->path NULL). */
static char *exec_cache_lookup(const struct exec_config *ec, const char *kernel,
			       struct exec_cache_entry *e, char **dir)
{
	char *key = NULL;
	struct stat st;

	memset(e, 0, sizeof(*e));
	e->lock = -1;
	*dir = NULL;
	/* --initrd shapes the VM too; its jobs boot cold. */
	if (!ec->snapshot || ec->initrd)
		return NULL;
	/* The cold boot's map_file() says what is wrong with it. */
	if (stat(kernel, &st))
		return NULL;
	*dir = exec_cache_dir(ec->snapshot_dir);
	if (*dir)
		key = exec_cache_key(ec, kernel, &st, kvmini_version);
	if (key && exec_cache_entry(*dir, key, e)) {
		exec_cache_entry_free(e);
		free(key);
		key = NULL;
	}
	return key;
}

/*
 * Before a new snapshot is written, room for it: the thread that could
 * evict after the save is the I/O thread, whose filter allows no file
 * operations, so the bound is made here (exec.h: exec_cache_evict()).
 */
static void exec_cache_make_room(const struct exec_config *ec, const char *dir,
				 const struct exec_cache_entry *e)
{
	const char *name = strrchr(e->path, '/');
	int n = exec_cache_evict(dir, name ? name + 1 : e->path, kvmini_version,
				 &ec->snapshot_limits, 1);

	if (n < 0)
		pr_info("exec: cannot read the snapshot cache %s to evict: %s", dir, strerror(-n));
}

/* Which way the job starts, from the cache's point of view: a claim of
 * the entry (exec.h), or EXEC_CACHE_BUSY for no cache. */
static int exec_cache_start(const char *key, struct exec_cache_entry *e)
{
	int c;

	if (!key)
		return EXEC_CACHE_BUSY;
	c = exec_cache_claim(e, key);
	if (c < 0) {
		pr_warn("exec: snapshot cache %s: %s; booting without it", e->key_path,
			strerror(-c));
		return EXEC_CACHE_BUSY;
	}
	if (c == EXEC_CACHE_BUSY)
		pr_info("exec: another kvmini exec is saving or removing %s: booting cold, saving nothing",
			e->path);
	return c;
}

/* Whether the kernel is a file kvmini could map: if not, the cold boot's
 * map_file() says so and ends kvmini before any virtiofsd is started. */
static bool exec_kernel_readable(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Every share's virtiofsd, started before anything else of the VM: each
 * comes up (its exec, loader and namespaces) while kvmini looks up the
 * cache, reads the snapshot and creates the VM, instead of after
 * (backend/virtiofsd.h). The VM takes them over; exec_shares_end() ends
 * any it did not. A share whose virtiofsd cannot start is left to the
 * VM's own start, silently here: its error line then comes in its turn,
 * after the kernel's or the snapshot's, as without this head start.
 */
static void exec_shares_start(struct exec_config *ec)
{
	log_errors_quiet = true;
	for (unsigned int i = 0; i < ec->vm.nr_shares; i++)
		if (virtiofsd_start_early(&ec->vm.shares[i]))
			break;
	log_errors_quiet = false;
}

static void exec_shares_end(struct exec_config *ec)
{
	for (unsigned int i = 0; i < ec->vm.nr_shares; i++)
		virtiofsd_early_free(&ec->vm.shares[i]);
}

static int exec_run(struct exec_config *ec)
{
	struct exec_cache_entry e;
	const char *what;
	char *kernel = exec_kernel_path(ec, &what), *key = NULL, *job = NULL, *dir = NULL;
	int status = EXIT_VMM_ERROR, claim;
	const char *save = NULL;
	bool fallback = true;
	size_t job_len;

	if (!kernel)
		return status;
	exec_vm_config(ec);
	if (exec_job(ec, &job, &job_len))
		goto out;
	exec_time_step(ec->t0, "kvmini exec started");
	if (exec_kernel_readable(kernel)) {
		exec_shares_start(ec);
		exec_time_step(ec->t0, "%u virtiofsd started", ec->vm.nr_shares);
	}
	key = exec_cache_lookup(ec, kernel, &e, &dir);
	claim = exec_cache_start(key, &e);
	exec_time_step(ec->t0, "snapshot cache looked up: %s",
		       claim == EXEC_CACHE_HIT ? "a hit" : "no snapshot to use");
	if (claim == EXEC_CACHE_HIT) {
		status = exec_run_warm(ec, &e, job, job_len, &fallback);
		if (!fallback)
			goto out;
		pr_warn("exec: the cached snapshot %s cannot be restored: booting cold and replacing it",
			e.path);
		exec_cache_drop(&e);
		/* Another exec restoring it keeps it: that one drops it. */
		claim = exec_cache_start(key, &e);
		if (claim == EXEC_CACHE_HIT)
			exec_cache_release(&e);
	}
	if (claim == EXEC_CACHE_SAVE) {
		exec_cache_make_room(ec, dir, &e);
		save = e.path;
	}
	status = exec_run_cold(ec, kernel, what, job, job_len, save);
out:
	exec_shares_end(ec);
	exec_time_step(ec->t0, "VM torn down, virtiofsd ended");
	if (key)
		exec_cache_entry_free(&e);
	free(key);
	free(dir);
	free(job);
	free(kernel);
	return status;
}

int exec_run_config(struct exec_config *ec)
{
	log_verbose = ec->vm.verbose;
	return exec_run(ec);
}

/* --clear-snapshots: every entry out, but those other execs use now. */
static int exec_clear_snapshots(const struct exec_config *ec)
{
	static const struct exec_cache_limits none = { 0, 0 };
	char *dir;
	int n;

	log_verbose = ec->vm.verbose;
	dir = exec_cache_dir(ec->snapshot_dir);
	if (!dir) {
		/* exec_cache_dir() said why, unless there is no HOME at all. */
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

		if (!ec->snapshot_dir && !(xdg && xdg[0] == '/') && !(home && home[0] == '/'))
			pr_err("--clear-snapshots: no cache directory: give --snapshot-dir DIR or set HOME");
		return EXIT_VMM_ERROR;
	}
	n = exec_cache_evict(dir, NULL, kvmini_version, &none, 0);
	if (n < 0)
		pr_err("--clear-snapshots: cannot read %s: %s", dir, strerror(-n));
	else
		pr_info("exec: %d snapshot%s removed from %s", n, n == 1 ? "" : "s", dir);
	free(dir);
	return n < 0 ? EXIT_VMM_ERROR : 0;
}

int exec_main(int argc, char **argv)
{
	uint64_t t0 = exec_time_now();
	struct exec_config ec;
	int status;
	int err = exec_parse(argc, argv, &ec);

	ec.t0 = t0;
	if (err) {
		exec_config_free(&ec);
		return err > 0 ? 0 : EXIT_VMM_ERROR;
	}
	status = ec.clear_snapshots ? exec_clear_snapshots(&ec) : 0;
	if (!status && ec.argc)
		status = exec_run_config(&ec);
	exec_config_free(&ec);
	return status;
}
