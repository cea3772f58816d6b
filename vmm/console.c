// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/container_of.h"
#include "lib/log.h"
#include "lib/term.h"
#include "vmm/console.h"
#include "vmm/console_out.h"
#include "vmm/exitcode.h"
#include "vmm/vm.h"

#define CONSOLE_ESCAPE	0x01	/* Ctrl-A */

/* Linux prints this, whatever its log level, when it panics. */
static const char panic_marker[] = "Kernel panic - not syncing";

struct console {
	struct vm *vm;
	int out_fd;		/* where output goes (non-blocking), or -1 */
	int out_std;		/* the stdout or stderr it stands for, or -1 */
	bool own_out;		/* a --console file */
	struct console_out *out;
	struct ev_handler out_wait;	/* eventfd: output waits in the buffer */
	struct ev_handler out_ready;	/* out_fd, for EPOLLOUT while it does */
	bool out_watching;
	int flush_ep;		/* epoll set of out_fd alone, for the end */
	console_room_fn *room;
	void *room_ctx;
	/* How much of the panic marker each stream has matched so far:
	 * virtio-console's, and the UART's (other threads). */
	size_t panic_match;
	size_t panic_match_scan;

	struct ev_handler in;	/* stdin, when the console is stdio */
	bool in_tty;
	bool in_paused;
	bool escape;
	uint8_t pending[512];	/* read from stdin, not yet taken */
	size_t pending_off, pending_len;

	struct ev_handler space;	/* eventfd: backend has room again */
	console_push_fn *push;
	void *push_ctx;
};

static void console_find_panic(struct console *c, size_t *match,
			       const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		/* The marker's first letter occurs nowhere else in it, so a
		 * mismatch can only restart the match at that letter. */
		if (buf[i] == (uint8_t)panic_marker[*match])
			(*match)++;
		else
			*match = buf[i] == (uint8_t)panic_marker[0];
		if (*match == sizeof(panic_marker) - 1) {
			*match = 0;
			vm_guest_panicked(c->vm);
		}
	}
}

void console_scan(struct console *c, const uint8_t *buf, size_t len)
{
	console_find_panic(c, &c->panic_match_scan, buf, len);
}

static void console_wake(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0)
		pr_warn_once("console: cannot wake the I/O thread: %s", strerror(errno));
}

size_t console_write(struct console *c, const uint8_t *buf, size_t len)
{
	bool wait = false;
	size_t n = console_out_write(c->out, buf, len, &wait);

	if (wait)
		console_wake(c->out_wait.fd);
	return n;
}

size_t console_output(struct console *c, const uint8_t *buf, size_t len)
{
	size_t n = console_write(c, buf, len);

	/* Only what was taken: the rest comes again. */
	console_find_panic(c, &c->panic_match, buf, n);
	return n;
}

/* I/O thread: out_fd has room; stop watching once nothing waits. */
static void console_on_out_ready(struct ev_handler *h, uint32_t events)
{
	struct console *c = container_of(h, struct console, out_ready);
	bool room = false;

	(void)events;
	if (!console_out_flush(c->out, &room)) {
		evloop_del(&c->vm->loop, h);
		c->out_watching = false;
	}
	if (room && c->room)
		c->room(c->room_ctx);
}

/* I/O thread: output waits in the buffer; watch out_fd for room. */
static void console_on_out_wait(struct ev_handler *h, uint32_t events)
{
	struct console *c = container_of(h, struct console, out_wait);
	bool room = false;
	uint64_t v;
	int err;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0 || c->out_watching)
		return;
	err = evloop_add(&c->vm->loop, &c->out_ready, EPOLLOUT);
	if (!err) {
		c->out_watching = true;
		return;
	}
	/* A descriptor that said EAGAIN and cannot be watched: none is
	 * known, but the guest must not wait for it forever. */
	pr_warn_once("console: cannot wait for room in the output (%s); dropping what waits",
		     strerror(-err));
	console_out_discard(c->out);
	console_out_flush(c->out, &room);
	if (room && c->room)
		c->room(c->room_ctx);
}

static void console_pause_input(struct console *c, bool pause)
{
	if (c->in_paused == pause || c->in.fd < 0)
		return;
	c->in_paused = pause;
	evloop_mod(&c->vm->loop, &c->in, pause ? 0 : EPOLLIN);
}

/* Hands pending input to the backend; pauses stdin while it is full. */
static void console_flush_input(struct console *c)
{
	size_t n;

	if (!c->push) {
		c->pending_len = c->pending_off = 0;
		return;
	}
	n = c->push(c->push_ctx, c->pending + c->pending_off,
		    c->pending_len - c->pending_off);
	c->pending_off += n;
	if (c->pending_off == c->pending_len)
		c->pending_off = c->pending_len = 0;
	console_pause_input(c, c->pending_len != 0);
}

/* Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A; only on a terminal, so
 * piped input reaches the guest byte for byte. Returns bytes kept. */
static size_t console_escape(struct console *c, uint8_t *buf, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t ch = buf[i];

		if (c->escape) {
			c->escape = false;
			if (ch == 'x' || ch == 'X') {
				vm_request_exit(c->vm, EXIT_GUEST_OK, "quit from the console");
				return out;
			}
			if (ch != CONSOLE_ESCAPE)
				buf[out++] = CONSOLE_ESCAPE;
		} else if (ch == CONSOLE_ESCAPE) {
			c->escape = true;
			continue;
		}
		buf[out++] = ch;
	}
	return out;
}

static void console_on_input(struct ev_handler *h, uint32_t events)
{
	struct console *c = container_of(h, struct console, in);
	ssize_t n;

	(void)events;
	n = read(h->fd, c->pending, sizeof(c->pending));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* End of input: the guest keeps running without it. */
		evloop_del(&c->vm->loop, h);
		h->fd = -1;
		return;
	}
	c->pending_len = c->in_tty ? console_escape(c, c->pending, n) : (size_t)n;
	c->pending_off = 0;
	console_flush_input(c);
}

static void console_on_space(struct ev_handler *h, uint32_t events)
{
	struct console *c = container_of(h, struct console, space);
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) < 0)
		return;
	if (c->pending_len)
		console_flush_input(c);
}

void console_input_space(struct console *c)
{
	console_wake(c->space.fd);
}

void console_attach(struct console *c, console_push_fn *push, void *ctx)
{
	c->push = push;
	c->push_ctx = ctx;
}

void console_attach_output(struct console *c, console_room_fn *room, void *ctx)
{
	c->room = room;
	c->room_ctx = ctx;
}

/* stdout or stderr, through a descriptor of kvmini's own when it can
 * (lib/term.h); closed, the output goes nowhere. */
static int console_open_std(struct console *c, int fd)
{
	int out = term_out_open(fd);

	if (out == -EBADF)
		return 0;
	if (out < 0) {
		pr_err("cannot make %s non-blocking for the console: %s",
		       fd == STDOUT_FILENO ? "stdout" : "stderr", strerror(-out));
		return out;
	}
	c->out_fd = out;
	c->out_std = fd;
	return 0;
}

/* A FIFO waits for its reader here, at start-up, as before; from then
 * on nothing waits for it. */
static int console_open_file(struct console *c, const char *path)
{
	int flags;

	c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c->out_fd < 0) {
		pr_err("cannot open console file '%s': %s", path, strerror(errno));
		return -errno;
	}
	c->own_out = true;
	flags = fcntl(c->out_fd, F_GETFL);
	if (flags < 0 || fcntl(c->out_fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		pr_err("cannot make console file '%s' non-blocking: %s", path,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* For the end: an epoll set of out_fd alone, made now, since the I/O
 * thread's seccomp filter allows epoll_wait but not epoll_create. Regular
 * files and /dev/null cannot be watched, and never need to be. */
static void console_open_flush(struct console *c)
{
	struct epoll_event ev = { .events = EPOLLOUT };

	c->flush_ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->flush_ep < 0)
		return;
	if (epoll_ctl(c->flush_ep, EPOLL_CTL_ADD, c->out_fd, &ev) < 0) {
		close(c->flush_ep);
		c->flush_ep = -1;
	}
}

static int console_open_output(struct console *c, const struct vm_config *cfg)
{
	int err;

	switch (cfg->console) {
	case CONSOLE_STDIO:
	case CONSOLE_VIRTIO:
		err = console_open_std(c, STDOUT_FILENO);
		break;
	case CONSOLE_NONE:
		err = 0;
		break;
	case CONSOLE_STDERR:
		err = console_open_std(c, STDERR_FILENO);
		break;
	case CONSOLE_FILE:
		err = console_open_file(c, cfg->console_path);
		break;
	default:
		return -EINVAL;
	}
	if (err)
		return err;
	c->out = calloc(1, sizeof(*c->out));
	if (!c->out)
		return -ENOMEM;
	console_out_init(c->out, c->out_fd);
	if (c->out_fd >= 0)
		console_open_flush(c);
	c->out_ready.fd = c->out_fd;
	c->out_ready.fn = console_on_out_ready;
	c->out_wait.fn = console_on_out_wait;
	c->out_wait.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->out_wait.fd < 0)
		return -errno;
	return evloop_add(&c->vm->loop, &c->out_wait, EPOLLIN);
}

static int console_open_input(struct console *c, struct vm *vm)
{
	int err;

	c->in.fd = -1;
	c->in.fn = console_on_input;
	if (vm->cfg.console != CONSOLE_STDIO && vm->cfg.console != CONSOLE_VIRTIO)
		return 0;
	c->in.fd = STDIN_FILENO;
	c->in_tty = isatty(STDIN_FILENO);
	err = evloop_add(&vm->loop, &c->in, EPOLLIN);
	if (err == -EPERM) {
		/* stdin is a regular file or /dev/null: epoll refuses those;
		 * such input is not interactive, so the guest just gets none. */
		c->in.fd = -1;
		return 0;
	}
	if (err) {
		pr_err("cannot watch standard input: %s", strerror(-err));
		return err;
	}
	if (c->in_tty) {
		err = term_raw(STDIN_FILENO);
		if (err) {
			pr_err("cannot put the terminal in raw mode: %s", strerror(-err));
			return err;
		}
	}
	return 0;
}

int console_init(struct vm *vm)
{
	struct console *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	/* kvmini's own lines must not wait for the reader either; failing
	 * that (-EBUSY: two sockets), they stay on stderr as it is. */
	log_open();
	c->vm = vm;
	c->in.fd = -1;
	c->out_fd = c->out_std = -1;
	c->out_wait.fd = c->flush_ep = -1;
	vm->console = c;
	c->space.fn = console_on_space;
	c->space.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->space.fd < 0)
		return -errno;
	err = evloop_add(&vm->loop, &c->space, EPOLLIN);
	if (err)
		return err;
	err = console_open_output(c, &vm->cfg);
	if (err)
		return err;
	return console_open_input(c, vm);
}

/*
 * The devices are gone: what still waits gets CONSOLE_FLUSH_MS to go out,
 * and no longer, as a reader that does not read must not keep kvmini
 * from ending. Returns how many bytes are left for the dropping.
 */
static size_t console_out_finish(struct console *c)
{
	uint64_t deadline = evloop_now_ns() + CONSOLE_FLUSH_MS * 1000000ULL;
	bool room = false;

	while (console_out_flush(c->out, &room) && c->flush_ep >= 0) {
		uint64_t now = evloop_now_ns();
		struct epoll_event ev;

		if (now >= deadline)
			break;
		/* Rounded up: a wait of 0 ms would spin. */
		if (epoll_wait(c->flush_ep, &ev, 1, (deadline - now + 999999) / 1000000) < 0 &&
		    errno != EINTR)
			break;
	}
	return console_out_discard(c->out);
}

void console_exit(struct vm *vm)
{
	struct console *c = vm->console;
	size_t dropped = 0;

	if (!c)
		return;
	if (c->out) {
		dropped = console_out_finish(c);
		console_out_destroy(c->out);
		free(c->out);
	}
	/* While stderr is still non-blocking. */
	if (dropped)
		pr_warn("console: %zu bytes of the guest's output were dropped: nothing read them within %d ms",
			dropped, CONSOLE_FLUSH_MS);
	if (c->out_watching)
		evloop_del(&vm->loop, &c->out_ready);
	if (c->out_wait.fd >= 0) {
		evloop_del(&vm->loop, &c->out_wait);
		close(c->out_wait.fd);
	}
	if (c->flush_ep >= 0)
		close(c->flush_ep);
	if (c->own_out)
		close(c->out_fd);
	else
		term_out_close(c->out_fd, c->out_std);
	term_restore();
	if (c->space.fd >= 0)
		close(c->space.fd);
	free(c);
	vm->console = NULL;
	log_close();
}
