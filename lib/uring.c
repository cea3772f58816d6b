// SPDX-License-Identifier: GPL-2.0
/*
 * Confined io_uring rings (see uring.h). The order matters: a ring that
 * is still disabled accepts every registration, a restricted one only
 * what its restrictions list, and restrictions can be registered only
 * once, before the ring is enabled.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/uring.h"

/* Every operation, one register operation, two flag sets. */
#define URING_MAX_RES	(256 + 3)

static void uring_set_op(struct uring *u, unsigned int op)
{
	u->ops[op / 64] |= 1ULL << (op % 64);
}

bool uring_has_op(const struct uring *u, unsigned int op)
{
	return op < 256 && (u->ops[op / 64] >> (op % 64) & 1);
}

/* Which of the spec's operations this kernel has: only those are allowed. */
static int uring_probe(struct uring *u, const struct uring_spec *spec)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(&u->ring);

	if (!p) {
		pr_err("%s: cannot ask io_uring which operations it has (Linux 5.6 or later needed)",
		       spec->name);
		return -ENOTSUP;
	}
	for (unsigned int i = 0; i < spec->nr_ops; i++)
		if (io_uring_opcode_supported(p, spec->ops[i]))
			uring_set_op(u, spec->ops[i]);
	io_uring_free_probe(p);
	return 0;
}

/* The fds, the completion eventfd and the io-wq bound: while disabled. */
static int uring_register(struct uring *u, const struct uring_spec *spec)
{
	unsigned int workers[2] = { URING_IOWQ_WORKERS, URING_IOWQ_WORKERS };
	int err;

	if (spec->nr_files) {
		err = io_uring_register_files(&u->ring, spec->files, spec->nr_files);
		if (err) {
			pr_err("%s: cannot register its files with io_uring: %s",
			       spec->name, strerror(-err));
			return err;
		}
	}
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0) {
		pr_err("%s: cannot create the completion eventfd: %s", spec->name,
		       strerror(errno));
		return -errno;
	}
	err = io_uring_register_eventfd(&u->ring, u->efd);
	if (err) {
		pr_err("%s: cannot register the completion eventfd: %s",
		       spec->name, strerror(-err));
		return err;
	}
	/* A bound on the host threads the guest can keep busy: the
	 * submitting thread's, the same for every ring (uring.h). */
	err = io_uring_register_iowq_max_workers(&u->ring, workers);
	if (err < 0) {
		pr_err("%s: cannot bound io_uring's workers: %s (Linux 5.15 or later needed)",
		       spec->name, strerror(-err));
		return err;
	}
	return 0;
}

/*
 * liburing 2.3 (Debian 12) declares io_uring_register_restrictions() and
 * io_uring_enable_rings() but its shared library does not export them:
 * the raw call, which it does export, returns -errno like they would.
 */
static int uring_reg(struct uring *u, unsigned int op, const void *arg,
		     unsigned int n)
{
	int r = io_uring_register(u->ring.ring_fd, op, arg, n);

	return r < 0 ? r : 0;
}

static int uring_restrict(struct uring *u, const struct uring_spec *spec)
{
	struct io_uring_restriction res[URING_MAX_RES];
	unsigned int n = 0;
	int err;

	memset(res, 0, sizeof(res));
	for (unsigned int op = 0; op < 256; op++) {
		if (!uring_has_op(u, op))
			continue;
		res[n].opcode = IORING_RESTRICTION_SQE_OP;
		res[n++].sqe_op = op;
	}
	/* Tear-down gives the files back before the ring goes. */
	if (spec->nr_files) {
		u->fixed_files = true;
		res[n].opcode = IORING_RESTRICTION_REGISTER_OP;
		res[n++].register_op = IORING_UNREGISTER_FILES;
		res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
		res[n++].sqe_flags = IOSQE_FIXED_FILE;
	}
	res[n].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[n++].sqe_flags = spec->sqe_flags;
	err = uring_reg(u, IORING_REGISTER_RESTRICTIONS, res, n) ?:
	      uring_reg(u, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
	if (err)
		pr_err("%s: cannot restrict its io_uring: %s (Linux 5.10 or later needed)",
		       spec->name, strerror(-err));
	return err;
}

int uring_init(struct uring *u, const struct uring_spec *spec)
{
	int err;

	memset(u, 0, sizeof(*u));
	u->efd = -1;
	err = io_uring_queue_init(spec->entries, &u->ring, IORING_SETUP_R_DISABLED);
	if (err) {
		pr_err("%s: cannot set up io_uring: %s%s", spec->name, strerror(-err),
		       err == -EPERM || err == -ENOSYS ?
		       " (is io_uring disabled here? see sysctl kernel.io_uring_disabled)" :
		       err == -EINVAL ? " (Linux 5.10 or later needed)" : "");
		return err;
	}
	u->ready = true;
	return uring_probe(u, spec) ?:
	       uring_register(u, spec) ?:
	       uring_restrict(u, spec);
}

int uring_cancel_any_says(int res)
{
	if (res == -EINVAL)
		return 0;
	/* Nothing to cancel: 0 (5.19 and later count what they cancelled),
	 * or -ENOENT. */
	if (res >= 0 || res == -ENOENT)
		return 1;
	return res;
}

int uring_probe_cancel_any(struct uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	struct io_uring_cqe *cqe;
	uint64_t v;
	int r;

	if (!sqe)
		return -EBUSY;
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	if (u->fixed_files)
		sqe->flags |= IOSQE_FIXED_FILE;
	r = io_uring_submit_and_wait(&u->ring, 1);
	if (r < 0)
		return r;
	r = io_uring_peek_cqe(&u->ring, &cqe);
	if (r)
		return r;
	r = cqe->res;
	io_uring_cqe_seen(&u->ring, cqe);
	/* Its completion rang the eventfd: the device's first wake-up
	 * should be for a completion of its own. */
	if (u->efd >= 0 && read(u->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return uring_cancel_any_says(r);
}

void uring_exit(struct uring *u)
{
	if (u->ready) {
		/* -ENXIO: none registered; nothing else can fail here. */
		io_uring_unregister_files(&u->ring);
		io_uring_queue_exit(&u->ring);
		u->ready = false;
	}
	if (u->efd >= 0)
		close(u->efd);
	u->efd = -1;
}
