/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages for the user. An error is one line on stderr, printed by the
 * code that knows what failed and what to do about it; callers then only
 * pass a negative errno up.
 */
#ifndef KVMINI_LOG_H
#define KVMINI_LOG_H

#include <stdbool.h>

extern bool log_verbose;
/* While set (one thread logging), error and warning lines print as
 * --verbose ones: for an attempt whose failure the caller words itself
 * in one line (kvmini exec's restore of a cached snapshot). */
extern bool log_errors_quiet;

/* A line longer than this is cut. */
#define LOG_LINE_MAX		1024
/* How long a line may wait for a reader that is behind, then dropped. */
#define LOG_WAIT_MS		200
#define LOG_WAIT_STEP_MS	10

/*
 * While the VM runs, lines go through a non-blocking descriptor for
 * stderr (lib/term.h: term_out_open()), so that a reader that stopped
 * reading holds no thread for longer than LOG_WAIT_MS per line.
 * log_open() returns 0 or -errno (lines then stay on stderr as it is);
 * log_close() says how many lines were dropped, if any, and goes back
 * to stderr. Both from one thread, with no other thread logging.
 */
int log_open(void);
void log_close(void);

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Warns the first time a guest misbehaves in a given place; a hostile
 * guest must not be able to flood the host's log. */
#define pr_warn_once(...)					\
	do {							\
		static bool __warned;				\
		if (!__atomic_exchange_n(&__warned, true,	\
					 __ATOMIC_RELAXED))	\
			pr_warn(__VA_ARGS__);			\
	} while (0)

#endif
