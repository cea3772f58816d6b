// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lib/term.h"

static struct termios term_saved;
static int term_fd = -1;

void term_restore(void)
{
	if (term_fd >= 0) {
		tcsetattr(term_fd, TCSAFLUSH, &term_saved);
		term_fd = -1;
	}
}

bool term_is_raw(void)
{
	return term_fd >= 0;
}

/* A crash must not leave the user's shell in raw mode: restore, then die
 * the way the signal wanted. tcsetattr is async-signal-safe. */
static void term_fatal(int sig)
{
	if (term_fd >= 0)
		tcsetattr(term_fd, TCSANOW, &term_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

int term_raw(int fd)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
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
	atexit(term_restore);
	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], term_fatal);
	return 0;
}
