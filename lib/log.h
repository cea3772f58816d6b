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
