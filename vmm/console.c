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
#include "vmm/exitcode.h"
#include "vmm/vm.h"

#define CONSOLE_ESCAPE	0x01	/* Ctrl-A */

/* Linux prints this, whatever its log level, when it panics. */
static const char panic_marker[] = "Kernel panic - not syncing";

struct console {
	struct vm *vm;
	int out_fd;
	bool own_out;
	/* How much of the panic marker each stream has matched so far: the
	 * console's own, and a secondary device's (another thread). */
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

void console_output(struct console *c, const uint8_t *buf, size_t len)
{
	console_find_panic(c, &c->panic_match, buf, len);
	while (c->out_fd >= 0 && len) {
		ssize_t n = write(c->out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;	/* a closed stdout must not stop the guest */
		buf += n;
		len -= n;
	}
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
	uint64_t one = 1;

	if (write(c->space.fd, &one, sizeof(one)) < 0)
		pr_warn_once("console: cannot wake the I/O thread: %s", strerror(errno));
}

void console_attach(struct console *c, console_push_fn *push, void *ctx)
{
	c->push = push;
	c->push_ctx = ctx;
}

static int console_open_output(struct console *c, const struct vm_config *cfg)
{
	switch (cfg->console) {
	case CONSOLE_STDIO:
	case CONSOLE_VIRTIO:
		c->out_fd = STDOUT_FILENO;
		return 0;
	case CONSOLE_NONE:
		c->out_fd = -1;
		return 0;
	case CONSOLE_STDERR:
		c->out_fd = STDERR_FILENO;
		return 0;
	case CONSOLE_FILE:
		c->out_fd = open(cfg->console_path,
				 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			pr_err("cannot open console file '%s': %s",
			       cfg->console_path, strerror(errno));
			return -errno;
		}
		c->own_out = true;
		return 0;
	}
	return -EINVAL;
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
	c->vm = vm;
	c->in.fd = -1;
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

void console_exit(struct vm *vm)
{
	struct console *c = vm->console;

	if (!c)
		return;
	term_restore();
	if (c->own_out)
		close(c->out_fd);
	if (c->space.fd >= 0)
		close(c->space.fd);
	free(c);
	vm->console = NULL;
}
