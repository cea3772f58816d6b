// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "lib/log.h"
#include "lib/term.h"

bool log_verbose;

/*
 * The terminal may be in raw mode while the guest runs, where "\n" does
 * not return the carriage: end lines with "\r\n" then.
 */
static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "kvmini: %s", prefix);
	vfprintf(stderr, fmt, ap);
	fputs(term_is_raw() ? "\r\n" : "\n", stderr);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("error: ", fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("warning: ", fmt, ap);
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
