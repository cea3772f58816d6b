// SPDX-License-Identifier: GPL-2.0
/* --verbose's timeline of a job's start: see exec.h. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "exec/exec.h"
#include "lib/log.h"

/* CLOCK_MONOTONIC through the vDSO: no system call, so any thread's
 * seccomp filter allows it. */
uint64_t exec_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void exec_time_step(uint64_t t0, const char *fmt, ...)
{
	uint64_t us;
	char what[256];
	va_list ap;

	if (!log_verbose || !t0)
		return;
	us = (exec_time_now() - t0) / 1000;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pr_info("exec: +%llu.%llu ms: %s", (unsigned long long)(us / 1000),
		(unsigned long long)(us % 1000 / 100), what);
}
