/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_uring rings confined to what one device does with them.
 *
 * A device that hands guest requests to io_uring describes its ring in a
 * struct uring_spec: how many entries, how many io-wq workers, which
 * files and which operations. uring_init() creates the ring disabled,
 * registers the files, a completion eventfd and the worker bound, and
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

struct uring_spec {
	const char *name;		/* for messages: "virtio blk0" */
	unsigned int entries;		/* submission ring; completions get 2x */
	unsigned int max_workers;	/* io-wq workers of each kind; 0: no bound */
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
