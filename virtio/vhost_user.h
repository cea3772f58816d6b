/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The frontend half of the vhost-user protocol (QEMU's
 * docs/interop/vhost-user.rst): kvmini hands a virtio device's queues to
 * another process, the backend, over a connected Unix stream socket. The
 * backend maps guest RAM from the memfd it gets in SET_MEM_TABLE, reads
 * kicks from eventfds and signals completions on others; kvmini only
 * relays the driver's notifications and interrupts.
 *
 * The backend is trusted less than kvmini: every reply is checked (size,
 * request code, flags, no stray descriptors) and waited for at most
 * timeout_ms, so that a broken or hung backend is an error (-EPROTO,
 * -ETIMEDOUT, -EPIPE…), never a crash or a hang. After any error the
 * connection is "broken": the stream may be out of step, so every later
 * call fails with -EPIPE without touching the socket.
 *
 * Calls are synchronous and not locked: the caller serialises them (the
 * virtio device's lock). Protocol features used: REPLY_ACK (each set
 * request is confirmed, so a refusal is seen where it happens) and MQ
 * (to learn how many queues the backend has). No log, no slave channel,
 * no inflight tracking, no config space messages.
 */
#ifndef KVMINI_VHOST_USER_H
#define KVMINI_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

struct guest_mem;

/* Request codes (the subset kvmini sends). */
enum vhost_user_request {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
};

/* Header flags: bits 0-1 the version, then reply and need-reply. */
#define VHOST_USER_VERSION		0x1
#define VHOST_USER_VERSION_MASK		0x3
#define VHOST_USER_FLAG_REPLY		(1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY	(1u << 3)

/* A virtio feature bit that only vhost-user uses. */
#define VHOST_USER_F_PROTOCOL_FEATURES	30

#define VHOST_USER_PROTOCOL_F_MQ	0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK	3
/* What kvmini asks for, of what the backend offers. */
#define VHOST_USER_PROTOCOL_WANTED	((1ULL << VHOST_USER_PROTOCOL_F_MQ) | \
					 (1ULL << VHOST_USER_PROTOCOL_F_REPLY_ACK))

#define VHOST_USER_MAX_REGIONS		8	/* per SET_MEM_TABLE */
#define VHOST_USER_HDR_SIZE		12
/* The largest payload kvmini sends or takes: SET_MEM_TABLE's. */
#define VHOST_USER_MAX_PAYLOAD		(8 + VHOST_USER_MAX_REGIONS * 32)

#define VHOST_USER_TIMEOUT_MS		10000

struct vhost_user {
	int fd;				/* connected socket, owned */
	int timeout_ms;			/* per reply */
	bool broken;
	uint64_t features;		/* what GET_FEATURES offered */
	uint64_t protocol;		/* protocol features in use */
	unsigned int queues;		/* GET_QUEUE_NUM, or 0 if unknown */
};

/* Takes over fd (closed by vhost_user_close); no I/O yet. */
void vhost_user_init(struct vhost_user *vu, int fd);
void vhost_user_close(struct vhost_user *vu);

/*
 * SET_OWNER, GET_FEATURES and, when the backend offers protocol
 * features, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (the wanted
 * subset) and GET_QUEUE_NUM (with MQ). 0 or -errno.
 */
int vhost_user_connect(struct vhost_user *vu);

/* features must be a subset of vu->features; PROTOCOL_FEATURES is added
 * when protocol features are in use. */
int vhost_user_set_features(struct vhost_user *vu, uint64_t features);

/* Every RAM region of m, with m->fd (a memfd: gmem_init_shared). */
int vhost_user_set_mem_table(struct vhost_user *vu, const struct guest_mem *m);

int vhost_user_set_vring_num(struct vhost_user *vu, unsigned int q, unsigned int num);
int vhost_user_set_vring_base(struct vhost_user *vu, unsigned int q, unsigned int base);
/* The rings' addresses in kvmini's own mapping of guest RAM, which the
 * backend translates through the memory table. */
int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned int q, const void *desc,
			      const void *avail, const void *used);
/* fd: an eventfd, which the backend gets a copy of. */
int vhost_user_set_vring_kick(struct vhost_user *vu, unsigned int q, int fd);
int vhost_user_set_vring_call(struct vhost_user *vu, unsigned int q, int fd);
int vhost_user_set_vring_enable(struct vhost_user *vu, unsigned int q, bool on);
/* Stops ring q; *base gets the next avail index the backend would use. */
int vhost_user_get_vring_base(struct vhost_user *vu, unsigned int q, unsigned int *base);

#endif
