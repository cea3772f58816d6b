// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (vmm/control.h, docs/control.md): the dispatcher and
 * its table of ops, the clients' buffers and the listener, and the hooks
 * that connect it to a VM.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/container_of.h"
#include "lib/log.h"
#include "vmm/control.h"
#include "vmm/exitcode.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

/* --- The dispatcher ------------------------------------------------------ */

struct control_op {
	const char *name;
	/* Members a request may have besides "op"; NULL: none. */
	const char *const *args;
	enum control_result (*fn)(const struct control_hooks *h,
				  const struct json *req, struct json_out *o);
};

static void reply_ok(struct json_out *o)
{
	json_out_open(o, '{');
	json_out_key(o, "ok");
	json_out_bool(o, true);
}

static void control_error(struct json_out *o, const char *msg)
{
	json_out_open(o, '{');
	json_out_key(o, "ok");
	json_out_bool(o, false);
	json_out_key(o, "error");
	json_out_str(o, msg);
	json_out_close(o, '}');
}

static void reply_state(const struct control_hooks *h, struct json_out *o)
{
	reply_ok(o);
	json_out_key(o, "state");
	json_out_str(o, h->state(h->ctx));
	json_out_close(o, '}');
}

static enum control_result op_status(const struct control_hooks *h,
				     const struct json *req, struct json_out *o)
{
	(void)req;
	reply_ok(o);
	json_out_key(o, "state");
	json_out_str(o, h->state(h->ctx));
	h->status(h->ctx, o);
	json_out_close(o, '}');
	return CONTROL_REPLY;
}

static enum control_result op_pause(const struct control_hooks *h,
				    const struct json *req, struct json_out *o)
{
	(void)req;
	if (!h->pause(h->ctx))
		return CONTROL_DEFER;
	reply_state(h, o);
	return CONTROL_REPLY;
}

static enum control_result op_resume(const struct control_hooks *h,
				     const struct json *req, struct json_out *o)
{
	(void)req;
	h->resume(h->ctx);
	reply_state(h, o);
	return CONTROL_REPLY;
}

static enum control_result op_stop(const struct control_hooks *h,
				   const struct json *req, struct json_out *o)
{
	(void)req;
	h->stop(h->ctx);
	reply_ok(o);
	json_out_close(o, '}');
	return CONTROL_REPLY;
}

static const char *const snapshot_args[] = { "path", NULL };

/* A paused VM only: a running guest would change under the writer. */
static enum control_result op_snapshot(const struct control_hooks *h,
				       const struct json *req, struct json_out *o)
{
	const char *path = json_str(json_get(req, "path"));
	int err;

	if (!path || path[0] != '/') {
		control_error(o, "snapshot takes \"path\": an absolute path for a new directory");
		return CONTROL_REPLY;
	}
	if (strcmp(h->state(h->ctx), "paused")) {
		control_error(o, "the VM is not paused: send {\"op\":\"pause\"} first");
		return CONTROL_REPLY;
	}
	err = h->snapshot(h->ctx, path);
	if (err) {
		control_error(o, err == -EEXIST ? "the path exists already: choose a new one" :
			      "the snapshot failed (kvmini's stderr says why); the VM is unchanged");
		return CONTROL_REPLY;
	}
	reply_ok(o);
	json_out_key(o, "path");
	json_out_str(o, path);
	json_out_close(o, '}');
	return CONTROL_REPLY;
}

/* Adding an op is one line here (and its section in docs/control.md). */
static const struct control_op control_ops[] = {
	{ "status", NULL, op_status },
	{ "snapshot", snapshot_args, op_snapshot },
	{ "pause", NULL, op_pause },
	{ "resume", NULL, op_resume },
	{ "stop", NULL, op_stop },
};

static void reply_error(char *reply, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void reply_error(char *reply, size_t cap, const char *fmt, ...)
{
	struct json_out o;
	char msg[CONTROL_REPLY_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_out_init(&o, reply, cap);
	control_error(&o, msg);
	json_out_done(&o);
}

static bool op_takes(const struct control_op *op, const char *key)
{
	for (const char *const *a = op->args; a && *a; a++)
		if (!strcmp(*a, key))
			return true;
	return false;
}

/*
 * Names the client sent are echoed back: cut to a few printable ASCII
 * characters, so that an error reply stays short and plain.
 */
static void plain(char *dst, size_t cap, const char *s)
{
	size_t i = 0;

	for (; s && *s && i + 1 < cap; s++)
		dst[i++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
	dst[i] = '\0';
}

enum control_result control_handle_line(const struct control_hooks *h,
					const char *line, size_t len,
					char *reply, size_t cap)
{
	const struct control_op *op = NULL;
	const struct json *req, *m;
	struct json_doc doc;
	enum control_result r;
	struct json_out o;
	const char *name;
	char shown[33];

	if (json_parse(&doc, line, len)) {
		reply_error(reply, cap, "malformed request (%s): send one JSON object per line",
			    doc.err);
		return CONTROL_REPLY;
	}
	req = json_root(&doc);
	name = json_str(json_get(req, "op"));
	if (!name) {
		reply_error(reply, cap, "a request is a JSON object with an \"op\" string, e.g. {\"op\":\"status\"}");
		goto out;
	}
	for (size_t i = 0; i < sizeof(control_ops) / sizeof(control_ops[0]); i++)
		if (!strcmp(control_ops[i].name, name))
			op = &control_ops[i];
	if (!op) {
		plain(shown, sizeof(shown), name);
		reply_error(reply, cap, "unknown op \"%s\": the ops are status, pause, resume, snapshot, stop",
			    shown);
		goto out;
	}
	json_for_each(m, req) {
		if (strcmp(m->key, "op") && !op_takes(op, m->key)) {
			plain(shown, sizeof(shown), m->key);
			reply_error(reply, cap, "op \"%s\" takes no member \"%s\"", op->name, shown);
			goto out;
		}
	}
	json_out_init(&o, reply, cap);
	r = op->fn(h, req, &o);
	if (r == CONTROL_REPLY && json_out_done(&o) < 0)
		reply_error(reply, cap, "internal error: the reply to \"%s\" did not fit", op->name);
	json_free(&doc);
	return r;
out:
	json_free(&doc);
	return CONTROL_REPLY;
}

/* --- Clients and the listener -------------------------------------------- */

struct control_client {
	struct ev_handler ev;		/* fd -1: a free slot */
	struct control *ctl;
	uint32_t events;		/* what epoll watches now */
	bool waiting;			/* a pause's reply is owed */
	bool eof;			/* no more requests: close once answered */
	size_t in_len;
	size_t out_len;
	char in[CONTROL_LINE_MAX + 1];	/* a whole line and its newline */
	char out[CONTROL_OUT_MAX];
};

struct control {
	struct evloop *loop;
	struct control_hooks hooks;
	struct ev_handler listen;
	char *path;			/* removed by the VM's janitor */
	uid_t uid;			/* who may connect, besides root */
	struct control_client clients[CONTROL_CLIENTS_MAX];
	/* For control_open(): the VM's "every vCPU parked" eventfd. */
	struct vm *vm;
	struct ev_handler parked;
};

static void client_close(struct control_client *c)
{
	evloop_del(c->ctl->loop, &c->ev);
	close(c->ev.fd);
	c->ev.fd = -1;
}

/* Writes what the socket takes now; false if the client is gone. */
static bool client_flush(struct control_client *c)
{
	while (c->out_len) {
		ssize_t n = write(c->ev.fd, c->out, c->out_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		memmove(c->out, c->out + n, c->out_len - n);
		c->out_len -= n;
	}
	return true;
}

/* Queues one reply line; false if the client has let its replies pile up
 * to CONTROL_OUT_MAX bytes (then it is to be closed). */
static bool client_queue(struct control_client *c, const char *reply)
{
	size_t len = strlen(reply);

	if (c->out_len + len + 1 > sizeof(c->out))
		return false;
	memcpy(c->out + c->out_len, reply, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return true;
}

/*
 * After any change: flush, then watch what the client's state needs, or
 * close it. Requests are read only while no reply is owed, so replies keep
 * the order of their requests.
 */
static void client_update(struct control_client *c)
{
	uint32_t want = 0;

	if (!client_flush(c) || (c->eof && !c->waiting && !c->out_len)) {
		client_close(c);
		return;
	}
	if (!c->eof && !c->waiting)
		want |= EPOLLIN;
	if (c->out_len)
		want |= EPOLLOUT;
	if (want != c->events && !evloop_mod(c->ctl->loop, &c->ev, want))
		c->events = want;
}

/* A fatal error for this client: one reply, a best-effort flush, closed. */
static void client_refuse(struct control_client *c, const char *why)
{
	char reply[CONTROL_REPLY_MAX];

	reply_error(reply, sizeof(reply), "%s", why);
	c->out_len = 0;
	client_queue(c, reply);
	client_flush(c);
	client_close(c);
}

static void control_fail_waiters(struct control *ctl, const char *why);

/* The complete lines in the buffer, while no reply is owed. False if the
 * client was closed. */
static bool client_lines(struct control_client *c)
{
	struct control *ctl = c->ctl;
	char reply[CONTROL_REPLY_MAX];

	while (!c->waiting) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t len;

		if (!nl) {
			if (c->in_len == sizeof(c->in)) {
				char why[64];

				snprintf(why, sizeof(why), "request longer than %d bytes",
					 CONTROL_LINE_MAX);
				client_refuse(c, why);
				return false;
			}
			return true;
		}
		len = nl - c->in;
		if (len && control_handle_line(&ctl->hooks, c->in, len, reply,
					       sizeof(reply)) == CONTROL_DEFER)
			c->waiting = true;
		else if (len && !client_queue(c, reply)) {
			client_close(c);
			return false;
		}
		memmove(c->in, nl + 1, c->in_len - len - 1);
		c->in_len -= len + 1;
		/* A resume or a stop may have ended a pause others wait for. */
		if (strcmp(ctl->hooks.state(ctl->hooks.ctx), "pausing") &&
		    strcmp(ctl->hooks.state(ctl->hooks.ctx), "paused"))
			control_fail_waiters(ctl, "resumed before every vCPU parked");
	}
	return true;
}

static void client_on_event(struct ev_handler *h, uint32_t events)
{
	struct control_client *c = container_of(h, struct control_client, ev);

	if ((events & EPOLLIN) && !c->eof && !c->waiting) {
		ssize_t n = read(c->ev.fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_close(c);
			return;
		}
		if (n == 0)
			c->eof = true;
		if (n > 0)
			c->in_len += n;
		if (!client_lines(c))
			return;
	} else if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLOUT)) {
		client_close(c);
		return;
	}
	client_update(c);
}

/* The clients waiting for a pause get reply, and read on. */
static void control_answer_waiters(struct control *ctl, const char *reply)
{
	for (unsigned int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct control_client *c = &ctl->clients[i];

		if (c->ev.fd < 0 || !c->waiting)
			continue;
		c->waiting = false;
		if (!client_queue(c, reply))
			client_close(c);
		else if (client_lines(c))
			client_update(c);
	}
}

static void control_fail_waiters(struct control *ctl, const char *why)
{
	char reply[CONTROL_REPLY_MAX];

	reply_error(reply, sizeof(reply), "%s", why);
	control_answer_waiters(ctl, reply);
}

void control_pause_done(struct control *ctl)
{
	char reply[CONTROL_REPLY_MAX];
	struct json_out o;

	json_out_init(&o, reply, sizeof(reply));
	reply_state(&ctl->hooks, &o);
	json_out_done(&o);
	control_answer_waiters(ctl, reply);
}

/* Root, or the uid kvmini runs as: SO_PEERCRED, taken at connect(). */
static bool peer_allowed(struct control *ctl, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof(cred))
		return false;
	return cred.uid == 0 || cred.uid == ctl->uid;
}

static void control_on_accept(struct ev_handler *h, uint32_t events)
{
	struct control *ctl = container_of(h, struct control, listen);
	struct control_client tmp, *c = NULL;
	int fd;

	(void)events;
	fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (unsigned int i = 0; i < CONTROL_CLIENTS_MAX && !c; i++)
		if (ctl->clients[i].ev.fd < 0)
			c = &ctl->clients[i];
	/* Refused ones get their reason through a slot of their own, not
	 * registered anywhere. */
	if (!peer_allowed(ctl, fd) || !c) {
		char reply[CONTROL_REPLY_MAX];

		reply_error(reply, sizeof(reply), "%s", !c ?
			    "too many control clients (at most 4): close one and retry" :
			    "permission denied: only the user who runs the VM, or root, may control it");
		tmp.ev.fd = fd;
		tmp.out_len = 0;
		client_queue(&tmp, reply);
		client_flush(&tmp);
		close(fd);
		return;
	}
	c->ev.fd = fd;
	c->events = EPOLLIN;
	c->waiting = c->eof = false;
	c->in_len = c->out_len = 0;
	if (evloop_add(ctl->loop, &c->ev, EPOLLIN)) {
		close(fd);
		c->ev.fd = -1;
	}
}

/*
 * A path that exists: 0 once a stale socket (nobody accepts on it) is
 * removed; -EEXIST if it is something else; -EADDRINUSE if someone
 * listens there.
 */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (!r)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return -EEXIST;
	return unlink(path) < 0 ? -errno : 0;
}

static int control_listen(struct control *ctl)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int err;

	if (strlen(ctl->path) >= sizeof(sa.sun_path)) {
		pr_err("--control %s: the path is too long for a Unix socket (at most %zu bytes): use a shorter one",
		       ctl->path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, ctl->path);
	err = clear_stale(ctl->path, &sa);
	if (err) {
		pr_err("--control %s: %s: remove it or choose another path", ctl->path,
		       err == -EADDRINUSE ? "another program listens there" :
		       err == -EEXIST ? "the path exists" : strerror(-err));
		return err;
	}
	ctl->listen.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->listen.fd < 0) {
		err = -errno;
		pr_err("--control %s: cannot create a socket: %s", ctl->path, strerror(errno));
		return err;
	}
	/* Created 0600: at no moment may anyone else connect. Set-up is
	 * single-threaded, so the umask changes for nobody else. */
	old = umask(0177);
	err = bind(ctl->listen.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (err) {
		pr_err("--control %s: cannot bind: %s", ctl->path, strerror(-err));
		return err;
	}
	if (listen(ctl->listen.fd, CONTROL_CLIENTS_MAX) < 0) {
		err = -errno;
		pr_err("--control %s: cannot listen: %s", ctl->path, strerror(errno));
		unlink(ctl->path);
		return err;
	}
	ctl->listen.fn = control_on_accept;
	err = evloop_add(ctl->loop, &ctl->listen, EPOLLIN);
	if (err) {
		pr_err("--control %s: cannot watch the socket: %s", ctl->path, strerror(-err));
		unlink(ctl->path);
	}
	return err;
}

struct control *control_new(const char *path, struct evloop *loop,
			    const struct control_hooks *hooks)
{
	struct control *ctl = calloc(1, sizeof(*ctl));

	if (!ctl || !(ctl->path = strdup(path))) {
		pr_err("--control: out of memory");
		free(ctl);
		return NULL;
	}
	ctl->loop = loop;
	ctl->hooks = *hooks;
	ctl->uid = geteuid();
	ctl->listen.fd = -1;
	ctl->parked.fd = -1;
	for (unsigned int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		ctl->clients[i].ev.fd = -1;
		ctl->clients[i].ev.fn = client_on_event;
		ctl->clients[i].ctl = ctl;
	}
	if (control_listen(ctl)) {
		if (ctl->listen.fd >= 0)
			close(ctl->listen.fd);
		free(ctl->path);
		free(ctl);
		return NULL;
	}
	return ctl;
}

void control_free(struct control *ctl)
{
	if (!ctl)
		return;
	for (unsigned int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct control_client *c = &ctl->clients[i];

		if (c->ev.fd >= 0) {
			client_flush(c);
			client_close(c);
		}
	}
	evloop_del(ctl->loop, &ctl->listen);
	close(ctl->listen.fd);
	/* The path stays for the VM's janitor (lib/janitor.h): no filter
	 * allows unlink, and the janitor also removes it after a crash. */
	free(ctl->path);
	free(ctl);
}

/* --- The VM's hooks -------------------------------------------------------- */

static const char *vm_hook_state(void *ctx)
{
	struct vm *vm = ctx;

	if (!vm_is_paused(vm))
		return "running";
	return vm_pause_done(vm) ? "paused" : "pausing";
}

static void vm_hook_status(void *ctx, struct json_out *o)
{
	struct vm *vm = ctx;

	json_out_key(o, "vcpus");
	json_out_int(o, vm->cfg.cpus);
	json_out_key(o, "memory_mib");
	json_out_int(o, vm->cfg.mem >> 20);
}

static bool vm_hook_pause(void *ctx)
{
	return vm_pause_request(ctx);
}

static void vm_hook_resume(void *ctx)
{
	vm_resume(ctx);
}

static int vm_hook_snapshot(void *ctx, const char *path)
{
	return vm_snapshot(ctx, path);
}

static void vm_hook_stop(void *ctx)
{
	vm_request_exit(ctx, EXIT_GUEST_OK, "stopped through the control socket");
}

/* The last vCPU parked (or left): answer the pause if it still holds. */
static void control_on_parked(struct ev_handler *h, uint32_t events)
{
	struct control *ctl = container_of(h, struct control, parked);
	uint64_t n;

	(void)events;
	if (read(h->fd, &n, sizeof(n)) < 0)
		return;
	if (vm_pause_done(ctl->vm))
		control_pause_done(ctl);
}

int control_open(struct vm *vm)
{
	const struct control_hooks hooks = {
		.ctx = vm,
		.state = vm_hook_state,
		.status = vm_hook_status,
		.pause = vm_hook_pause,
		.resume = vm_hook_resume,
		.snapshot = vm_hook_snapshot,
		.stop = vm_hook_stop,
	};
	struct control *ctl = control_new(vm->cfg.control, &vm->loop, &hooks);
	int err;

	if (!ctl)
		return -EINVAL;
	ctl->vm = vm;
	ctl->parked.fd = vm->parked_fd;
	ctl->parked.fn = control_on_parked;
	err = evloop_add(&vm->loop, &ctl->parked, EPOLLIN);
	if (err) {
		pr_err("--control: cannot watch the pause eventfd: %s", strerror(-err));
		ctl->parked.fd = -1;
		control_free(ctl);
		return err;
	}
	vm->control = ctl;
	return 0;
}

void control_close(struct vm *vm)
{
	struct control *ctl = vm->control;

	if (!ctl)
		return;
	if (ctl->parked.fd >= 0)
		evloop_del(&vm->loop, &ctl->parked);
	control_free(ctl);
	vm->control = NULL;
}
