// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/term.h"

bool log_verbose;
bool log_errors_quiet;

/* Where lines go: stderr, or a non-blocking descriptor for it (log_open). */
static int log_fd = STDERR_FILENO;
static unsigned long log_dropped;

/*
 * One line, written whole if the reader takes it within LOG_WAIT_MS;
 * else dropped and counted. Never waits longer: a reader that stopped
 * reading must not hold a vCPU or the I/O thread (or kvmini's exit).
 */
static void log_write(const char *buf, size_t len)
{
	int waited = 0;

	while (len) {
		ssize_t n = write(log_fd, buf, len);
		struct pollfd p = { .fd = log_fd, .events = POLLOUT };

		if (n > 0) {
			buf += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && waited < LOG_WAIT_MS) {
			poll(&p, 1, LOG_WAIT_STEP_MS);
			waited += LOG_WAIT_STEP_MS;
			continue;
		}
		__atomic_add_fetch(&log_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
}

/*
 * The terminal may be in raw mode while the guest runs, where "\n" does
 * not return the carriage: end lines with "\r\n" then.
 */
static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	const char *end = term_is_raw() ? "\r\n" : "\n";
	int n, room = sizeof(buf) - 3;

	n = snprintf(buf, room, "kvmini: %s", prefix);
	if (n >= 0 && n < room)
		n += vsnprintf(buf + n, room - n, fmt, ap);
	if (n < 0)
		return;
	if (n >= room)
		n = room - 1;
	n += snprintf(buf + n, 3, "%s", end);
	log_write(buf, n);
}

int log_open(void)
{
	int fd = term_out_open(STDERR_FILENO);

	if (fd < 0)
		return fd;
	log_fd = fd;
	return 0;
}

void log_close(void)
{
	unsigned long n = __atomic_load_n(&log_dropped, __ATOMIC_RELAXED);

	if (n)
		pr_warn("%lu message%s dropped: stderr's reader was behind", n,
			n == 1 ? "" : "s");
	if (log_fd != STDERR_FILENO)
		term_out_close(log_fd, STDERR_FILENO);
	log_fd = STDERR_FILENO;
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	if (log_errors_quiet && !log_verbose)
		return;
	va_start(ap, fmt);
	log_line(log_errors_quiet ? "" : "error: ", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	if (log_errors_quiet && !log_verbose)
		return;
	va_start(ap, fmt);
	log_line(log_errors_quiet ? "" : "warning: ", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_line("", fmt, ap);
	va_end(ap);
}
