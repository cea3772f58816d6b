/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_uring rings confined to what one device does with them.
 *
 * A device that hands guest requests to io_uring describes its ring in a
 * struct uring_spec: how many entries, which files and which
 * operations. uring_init() creates the ring disabled, registers the
 * files, a completion eventfd and the worker bound (URING_IOWQ_WORKERS,
 * below), and
 * then restricts it (IORING_REGISTER_RESTRICTIONS) before enabling it:
 * from then on the kernel refuses, with -EACCES, any operation not in
 * the spec, any SQE that names a file other than by its index among the
 * registered ones (IOSQE_FIXED_FILE is required), any SQE flag not
 * allowed, and every registration but the release of the files. So a
 * bug that lets a guest steer an SQE still cannot make kvmini open,
 * connect, read other files or re-register anything through the ring.
 */
#ifndef KVMINI_URING_H
#define KVMINI_URING_H

#include <stdbool.h>
#include <stdint.h>
#include <liburing.h>

/*
 * io-wq workers, the kernel threads that run what cannot complete at
 * once, belong to the thread that submits, not to a ring: each thread
 * that submits to any ring has one io-wq, shared by all the rings it
 * uses, and IORING_REGISTER_IOWQ_MAX_WORKERS sets the bound of the
 * io-wq of every thread that uses that ring (and of one that starts to
 * later, if it had no io-wq yet): the last ring registered wins. So
 * every ring gets this one bound, and what it bounds is kvmini's I/O
 * thread as a whole: at most this many workers of each kind (bounded:
 * regular-file I/O, the disks; unbounded: the taps) per NUMA node of
 * the host, however many disks and NICs there are. A vCPU thread that
 * resets a device submits only a cancel, which runs at once; it gets an
 * io-wq of its own with the same bound, to which nothing is queued.
 */
#define URING_IOWQ_WORKERS	4

struct uring_spec {
	const char *name;		/* for messages: "virtio blk0" */
	unsigned int entries;		/* submission ring; completions get 2x */
	const int *files;		/* registered: SQEs use their index */
	unsigned int nr_files;
	const uint8_t *ops;		/* IORING_OP_* the device submits */
	unsigned int nr_ops;
	uint8_t sqe_flags;		/* IOSQE_* allowed besides FIXED_FILE */
};

struct uring {
	struct io_uring ring;
	int efd;			/* readable when completions arrived */
	bool ready;			/* ring exists: uring_exit() tears it down */
	uint64_t ops[4];		/* the spec's ops this kernel has */
	bool fixed_files;		/* IOSQE_FIXED_FILE required */
};

/*
 * Sets u up as spec says. Operations of spec->ops the kernel lacks are
 * left out (uring_has_op() tells); the caller decides which it needs.
 * 0, or -errno after one error line. On failure, uring_exit() still
 * cleans up; u->efd is -1 until it exists.
 */
int uring_init(struct uring *u, const struct uring_spec *spec);
/* Whether op is allowed on u and this kernel has it. */
bool uring_has_op(const struct uring *u, unsigned int op);
/*
 * Whether this kernel cancels every request of u with one SQE
 * (IORING_ASYNC_CANCEL_ANY, Linux 5.19), sent as a reset sends it:
 * IOSQE_FIXED_FILE set when u requires it. Submits one such cancel on
 * u, which must have IORING_OP_ASYNC_CANCEL and nothing in flight (call
 * it at set-up), and waits for its completion; uring_cancel_any_says()
 * reads that: 1 yes, 0 no (older kernels refuse the flag with -EINVAL),
 * else -errno (the probe itself failed).
 */
int uring_probe_cancel_any(struct uring *u);
int uring_cancel_any_says(int res);
/*
 * Releases the registered files, synchronously, so that the image and
 * its lock are gone when this returns (a ring's own tear-down in the
 * kernel runs later, in a worker), then the ring and the eventfd.
 * Nothing may be in flight. Idempotent.
 */
void uring_exit(struct uring *u);

#endif
