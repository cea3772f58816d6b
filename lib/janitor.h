/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files kvmini made that must not outlive it (the Unix sockets it listens
 * on), removed however it ends.
 *
 * Once seccomp filters are on, kvmini may not unlink anything (a filter
 * that allowed unlink would let a subverted kvmini delete any file its
 * user may). So the first janitor_add(), during set-up, forks a small
 * process that keeps every signal blocked and holds nothing but the read
 * end of a pipe; each later janitor_add() sends it one record through
 * the pipe. When kvmini ends — janitor_finish(), a crash or SIGKILL
 * alike — the pipe closes and the janitor unlinks each path that is
 * still the very file kvmini made (same device and inode), then exits.
 * janitor_finish() waits for it, so the files are gone when kvmini
 * returns. A file is watched from its janitor_add() on: call it right
 * after making the file. Set-up only (it may fork): never after the
 * filters are on.
 */
#ifndef KVMINI_JANITOR_H
#define KVMINI_JANITOR_H

#include <stdint.h>
#include <sys/types.h>

#define JANITOR_MAX		8
#define JANITOR_PATH_MAX	256	/* a Unix socket's path is shorter */

/* One watched file: what goes through the pipe, whole (under PIPE_BUF). */
struct janitor_file {
	uint64_t dev;
	uint64_t ino;
	char path[JANITOR_PATH_MAX];
};

struct janitor {
	struct janitor_file file[JANITOR_MAX];
	unsigned int nr;
	pid_t pid;		/* 0: no janitor process (yet) */
	int pipe_w;		/* -1 without one */
};

void janitor_init(struct janitor *j);
/* Watches a file just made: 0, or -errno (it is then not watched). */
int janitor_add(struct janitor *j, const char *path);
/* The files are gone on return. */
void janitor_finish(struct janitor *j);

#endif
