/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control socket (docs/control.md): `kvmini run --control PATH`. A
 * Unix stream socket, mode 0600 from its creation, that takes one JSON
 * request per line and answers one JSON line, on the I/O thread, which
 * it never blocks: clients are non-blocking, at most CONTROL_CLIENTS_MAX,
 * a request at most CONTROL_LINE_MAX bytes (longer: an error reply and
 * the connection closed), and a client whose unread replies fill
 * CONTROL_OUT_MAX bytes is disconnected. Only a peer with kvmini's
 * effective uid, or root, is served (SO_PEERCRED).
 *
 * A path that exists is refused, unless it is a socket nobody listens on
 * (left by a kvmini that was killed with its janitor): that one is
 * replaced. control_free() leaves the path: control_open() hands it to
 * the VM's janitor (lib/janitor.h), which removes it however kvmini
 * ends.
 *
 * The dispatcher knows no VM: it calls a struct control_hooks, so that
 * the tests drive it with fakes. An op is one entry of its table.
 */
#ifndef KVMINI_CONTROL_H
#define KVMINI_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/evloop.h"
#include "lib/json.h"

#define CONTROL_CLIENTS_MAX	4
#define CONTROL_LINE_MAX	4096
#define CONTROL_OUT_MAX		8192
#define CONTROL_REPLY_MAX	512

struct vm;

struct control_hooks {
	void *ctx;
	/* "running", "pausing" (asked, not every vCPU parked yet), "paused" */
	const char *(*state)(void *ctx);
	/* The status reply's other members (json_out_key, then a value). */
	void (*status)(void *ctx, struct json_out *o);
	/* Asynchronous: true if every vCPU is parked already; else the
	 * owner calls control_pause_done() once they are. */
	bool (*pause)(void *ctx);
	void (*resume)(void *ctx);
	/* A paused VM into a new directory path: 0 or -errno (the error
	 * line went to kvmini's stderr). */
	int (*snapshot)(void *ctx, const char *path);
	/* Ends the VM; the reply goes out before it ends. */
	void (*stop)(void *ctx);
};

/* What control_handle_line() did. */
enum control_result {
	CONTROL_REPLY,		/* the reply is in the buffer */
	CONTROL_DEFER,		/* a pause: its reply comes when it is done */
};

/* One request (a line, without its newline) → its reply, one JSON text
 * without a newline, NUL-terminated in reply[cap] (cap >= CONTROL_REPLY_MAX). */
enum control_result control_handle_line(const struct control_hooks *h,
					const char *line, size_t len,
					char *reply, size_t cap);

struct control;

/* Listens on path, clients served on loop. NULL after one error line
 * (the path: "--control PATH: ..."). */
struct control *control_new(const char *path, struct evloop *loop,
			    const struct control_hooks *hooks);
/* Answers what is owed as far as the sockets take it, closes every
 * client and the listener (the path stays). NULL is fine. */
void control_free(struct control *ctl);
/* The pause the hooks started is complete: the clients waiting for it
 * get their reply. */
void control_pause_done(struct control *ctl);

/* The VM's socket (vm->cfg.control), with hooks on vm_pause_request(),
 * vm_resume() and vm_request_exit(). 0, or -errno after one error line. */
int control_open(struct vm *vm);
void control_close(struct vm *vm);

#endif
