// SPDX-License-Identifier: GPL-2.0
/*
 * Host to guest, once the job is sent: kvmini's stdin to the port
 * "stdin", byte for byte, and control messages (exec_ctl_encode()) to
 * the port "ctl": the end of stdin, and the signals kvmini forwards.
 *
 * stdin is read only when the guest has taken everything read before:
 * a job that does not read stops kvmini reading (its memory holds one
 * read's worth), and nothing read is ever dropped. Its end is a message
 * on "ctl" that carries how many bytes "stdin" carried, so the agent
 * closes the job's stdin after exactly those, whatever order the two
 * ports are read in. A stdin that is closed, /dev/null or a socket ends
 * at once (a socket cannot be made non-blocking for kvmini alone: said).
 *
 * Signals: EXEC_FWD_SIGNALS are blocked before any thread exists; once
 * the job is sent, their signalfd replaces the VMM's (which ends the VM
 * on INT, TERM, HUP and QUIT) and each becomes a message. SIGUSR1 is the
 * vCPUs' kick (vmm/vm.h) and is not forwarded. A second SIGINT within a
 * second ends the VM as before, for a job that ignores the first.
 *
 * With a terminal (-t), the agent runs the job on a pty; kvmini's
 * terminal goes raw (lib/term.c restores it however kvmini ends), so
 * that ^C and the like reach the guest's pty as bytes, and its size is
 * sent first, and again on each SIGWINCH (which the job's pty then
 * raises in the guest itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "lib/container_of.h"
#include "lib/log.h"
#include "lib/term.h"
#include "virtio/devices.h"
#include "vmm/exitcode.h"
#include "vmm/vm.h"

#define EXEC_IN_BUF		65536
#define EXEC_CTL_QUEUE		32
#define EXEC_SIGINT_TWICE_NS	1000000000ULL

static const int exec_fwd_signals[] = EXEC_FWD_SIGNALS;

struct exec_in {
	struct vm *vm;
	struct virtio_dev *vdev;
	unsigned int stdin_port, ctl_port;
	/* stdin */
	int fd;			/* -1: at its end */
	bool own_fd;		/* opened here */
	bool pollable;		/* on epoll when empty; else always ready */
	bool waiting;		/* on the loop for EPOLLIN */
	bool eof;		/* read to its end */
	bool eof_queued;
	uint64_t sent;		/* bytes the guest took on "stdin" */
	uint8_t buf[EXEC_IN_BUF];
	size_t len, off;
	struct ev_handler readable;
	/* "ctl": whole messages, the first possibly part-sent */
	uint8_t ctl[EXEC_CTL_QUEUE][EXEC_CTL_SIZE];
	unsigned int ctl_head, ctl_nr;
	size_t ctl_off;
	/* signals */
	struct ev_handler sig;
	bool started;		/* the signalfd replaced the VMM's */
	uint64_t last_int_ns;
	bool tty;		/* -t: SIGWINCH becomes the new size */
};

void exec_ctl_encode(uint8_t msg[EXEC_CTL_SIZE], char type, uint64_t value)
{
	memset(msg, 0, EXEC_CTL_SIZE);
	msg[0] = (uint8_t)type;
	for (int i = 0; i < 8; i++)
		msg[4 + i] = (uint8_t)(value >> (8 * i));
}

bool exec_signal_forwarded(int sig)
{
	for (size_t i = 0; i < sizeof(exec_fwd_signals) / sizeof(exec_fwd_signals[0]); i++) {
		if (exec_fwd_signals[i] == sig)
			return true;
	}
	return false;
}

/* Queued for "ctl"; a full queue (a guest that stopped reading) drops. */
static void exec_in_ctl(struct exec_in *in, char type, uint64_t value)
{
	if (in->ctl_nr == EXEC_CTL_QUEUE) {
		pr_warn_once("exec: the guest does not take control messages; dropping some");
		return;
	}
	exec_ctl_encode(in->ctl[(in->ctl_head + in->ctl_nr++) % EXEC_CTL_QUEUE], type, value);
}

static void exec_in_send_ctl(struct exec_in *in)
{
	while (in->ctl_nr) {
		const uint8_t *m = in->ctl[in->ctl_head];
		size_t n = virtio_vports_send(in->vdev, in->ctl_port, m + in->ctl_off,
					      EXEC_CTL_SIZE - in->ctl_off);

		if (!n)
			return;
		in->ctl_off += n;
		if (in->ctl_off < EXEC_CTL_SIZE)
			return;
		in->ctl_off = 0;
		in->ctl_head = (in->ctl_head + 1) % EXEC_CTL_QUEUE;
		in->ctl_nr--;
	}
}

static void exec_in_on_readable(struct ev_handler *h, uint32_t events)
{
	struct exec_in *in = container_of(h, struct exec_in, readable);

	(void)events;
	evloop_del(&in->vm->loop, h);
	in->waiting = false;
	exec_in_pump(in);
}

static void exec_in_end(struct exec_in *in)
{
	in->eof = true;
	if (in->own_fd)
		close(in->fd);
	in->fd = -1;
	in->own_fd = false;
}

/* Nothing to read now: be told when there is. */
static void exec_in_wait(struct exec_in *in)
{
	int err;

	if (in->waiting)
		return;
	in->readable.fd = in->fd;
	in->readable.fn = exec_in_on_readable;
	err = evloop_add(&in->vm->loop, &in->readable, EPOLLIN);
	if (err) {
		pr_warn("exec: cannot wait for stdin (%s); the job's stdin ends here",
			strerror(-err));
		exec_in_end(in);
		return;
	}
	in->waiting = true;
}

/* stdin into the guest while it takes it. */
static void exec_in_send_stdin(struct exec_in *in)
{
	for (;;) {
		ssize_t n;

		if (in->off < in->len) {
			size_t took = virtio_vports_send(in->vdev, in->stdin_port,
							 in->buf + in->off, in->len - in->off);

			in->off += took;
			in->sent += took;
			if (in->off < in->len)
				return;		/* exec_out's room callback: again */
		}
		in->off = in->len = 0;
		if (in->eof) {
			if (!in->eof_queued)
				exec_in_ctl(in, EXEC_CTL_EOF, in->sent);
			in->eof_queued = true;
			return;
		}
		n = read(in->fd, in->buf, sizeof(in->buf));
		if (n > 0) {
			in->len = n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			exec_in_wait(in);
			return;
		} else {
			/* The end, or an error (EIO: a terminal kvmini lost). */
			if (n < 0)
				pr_warn("exec: reading stdin: %s; the job's stdin ends here",
					strerror(errno));
			exec_in_end(in);
		}
	}
}

/* The VMM ends the VM on INT, TERM, HUP and QUIT: from now on they are
 * the job's. Both signalfds are there before: whichever reads one first. */
static void exec_in_take_signals(struct exec_in *in)
{
	int err;

	in->started = true;
	if (in->sig.fd < 0)
		return;
	err = evloop_add(&in->vm->loop, &in->sig, EPOLLIN);
	if (err) {
		pr_warn("exec: cannot forward signals (%s); they end the VM", strerror(-err));
		return;
	}
	evloop_del(&in->vm->loop, &in->vm->signals);
}

/* The terminal's size as a message; false when there is none. */
static bool exec_in_winsize(struct exec_in *in)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
		return false;
	if (!ws.ws_row || !ws.ws_col)
		return false;
	exec_in_ctl(in, EXEC_CTL_WINSIZE, ws.ws_row | (uint64_t)ws.ws_col << 16);
	return true;
}

static void exec_in_on_signal(struct ev_handler *h, uint32_t events)
{
	struct exec_in *in = container_of(h, struct exec_in, sig);
	struct signalfd_siginfo si;
	uint64_t now;

	(void)events;
	if (read(h->fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGINT) {
		now = evloop_now_ns();
		if (in->last_int_ns && now - in->last_int_ns < EXEC_SIGINT_TWICE_NS) {
			vm_request_exit(in->vm, EXIT_SIGNAL_BASE + SIGINT,
					"Interrupt received twice");
			return;
		}
		in->last_int_ns = now;
	}
	/* Under -t the new size does it: the guest's pty signals the job. */
	if (si.ssi_signo == SIGWINCH && in->tty && exec_in_winsize(in)) {
		exec_in_send_ctl(in);
		return;
	}
	pr_info("exec: %s: forwarded to the job", strsignal(si.ssi_signo));
	exec_in_ctl(in, EXEC_CTL_SIGNAL, si.ssi_signo);
	exec_in_send_ctl(in);
}

void exec_in_pump(struct exec_in *in)
{
	if (!in->vdev)
		return;
	if (!in->started)
		exec_in_take_signals(in);
	exec_in_send_stdin(in);
	exec_in_send_ctl(in);
}

/* What stdin is: read as is, opened again non-blocking, or at its end. */
static void exec_in_open(struct exec_in *in)
{
	struct stat st;
	char path[32];
	int flags;

	in->fd = STDIN_FILENO;
	flags = fcntl(in->fd, F_GETFL);
	if (fstat(in->fd, &st) < 0 || flags < 0) {
		in->fd = -1;		/* closed: ends at once */
		in->eof = true;
		return;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode))
		return;			/* never waits; epoll refuses it */
	in->pollable = true;
	if (flags & O_NONBLOCK)
		return;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", in->fd);
		in->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (in->fd >= 0) {
			in->own_fd = true;
			return;
		}
	}
	pr_warn("exec: stdin cannot be read without blocking (a socket?): the job's stdin is empty");
	in->fd = -1;
	in->eof = true;
}

/* -t: the size first, then raw mode; no terminal, no change. */
static int exec_in_tty(struct exec_in *in)
{
	int err;

	in->tty = true;
	exec_in_winsize(in);
	err = term_raw(STDIN_FILENO);
	if (err)
		pr_err("cannot put the terminal in raw mode: %s", strerror(-err));
	return err;
}

int exec_in_new(struct exec_in **out, bool tty)
{
	struct exec_in *in = calloc(1, sizeof(*in));
	sigset_t set;

	if (!in)
		return -ENOMEM;
	in->sig.fd = -1;
	in->readable.fd = -1;
	if (tty && exec_in_tty(in)) {
		free(in);
		return -EIO;
	}
	exec_in_open(in);
	/* Before any thread exists, so that none takes them. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(exec_fwd_signals) / sizeof(exec_fwd_signals[0]); i++)
		sigaddset(&set, exec_fwd_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	in->sig.fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	in->sig.fn = exec_in_on_signal;
	if (in->sig.fd < 0)
		pr_warn("exec: cannot forward signals (%s); they end the VM", strerror(errno));
	*out = in;
	return 0;
}

void exec_in_attach(struct exec_in *in, struct vm *vm, struct virtio_dev *vdev,
		    unsigned int stdin_port, unsigned int ctl_port)
{
	in->vm = vm;
	in->vdev = vdev;
	in->stdin_port = stdin_port;
	in->ctl_port = ctl_port;
	/* /dev/null and the like: epoll refuses what never waits. */
	if (in->fd >= 0 && in->pollable) {
		struct epoll_event ev = { .events = EPOLLIN };
		int ep = epoll_create1(EPOLL_CLOEXEC);

		if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, in->fd, &ev) < 0 && errno == EPERM)
			in->pollable = false;
		if (ep >= 0)
			close(ep);
	}
}

/* After vm_destroy(). The signals stay blocked: kvmini is ending, and
 * one that came late must not kill it before it returns the status. */
void exec_in_free(struct exec_in *in)
{
	if (!in)
		return;
	if (in->own_fd)
		close(in->fd);
	if (in->sig.fd >= 0)
		close(in->sig.fd);
	free(in);
}
