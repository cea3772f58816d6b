// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "lib/term.h"

static struct termios term_saved;
static int term_fd = -1;
/* A shared description term_out_open() made non-blocking, and its flags. */
static int term_fl_fd = -1;
static int term_fl_saved;

/* Async-signal-safe: the fatal-signal handler and seccomp's SIGSYS
 * handler call it too (tcsetattr and fcntl are). */
static void term_undo(int when)
{
	if (term_fd >= 0) {
		tcsetattr(term_fd, when, &term_saved);
		term_fd = -1;
	}
	if (term_fl_fd >= 0) {
		fcntl(term_fl_fd, F_SETFL, term_fl_saved);
		term_fl_fd = -1;
	}
}

void term_restore(void)
{
	term_undo(TCSAFLUSH);
}

bool term_is_raw(void)
{
	return term_fd >= 0;
}

/* A crash must not leave the user's shell in raw mode or non-blocking:
 * restore, then die the way the signal wanted. */
static void term_fatal(int sig)
{
	term_undo(TCSANOW);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Once: term_restore() at exit and on the signals that kill kvmini
 * without an exit (the others arrive through vmm/vm.c's signalfd). */
static void term_restore_on_exit(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
	static bool done;

	if (done)
		return;
	done = true;
	atexit(term_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], term_fatal);
}

int term_raw(int fd)
{
	struct termios t;

	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &term_saved) < 0)
		return -errno;
	t = term_saved;
	cfmakeraw(&t);
	/* Keep output post-processing off too: the guest sends "\r\n". */
	if (tcsetattr(fd, TCSAFLUSH, &t) < 0)
		return -errno;
	term_fd = fd;
	term_restore_on_exit();
	return 0;
}

int term_out_open(int fd)
{
	struct stat st;
	char path[32];
	int flags, out;

	if (fstat(fd, &st) < 0)
		return -errno;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0)
		return -errno;
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || (flags & O_NONBLOCK))
		return fd;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		out = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
			   (flags & O_APPEND));
		if (out >= 0)
			return out;
	}
	/* One shared description at a time is all kvmini needs. */
	if (term_fl_fd >= 0)
		return -EBUSY;
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -errno;
	term_fl_saved = flags;
	term_fl_fd = fd;
	term_restore_on_exit();
	return fd;
}

void term_out_close(int out, int fd)
{
	if (out < 0)
		return;
	if (out != fd) {
		close(out);
		return;
	}
	if (term_fl_fd == fd) {
		fcntl(fd, F_SETFL, term_fl_saved);
		term_fl_fd = -1;
	}
}
