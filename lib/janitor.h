/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Files kvmini made that must not outlive it (the Unix sockets it listens
 * on), removed however it ends.
 *
 * Once seccomp filters are on, kvmini may not unlink anything (a filter
 * that allowed unlink would let a subverted kvmini delete any file its
 * user may). So before the filters, janitor_start() forks a small
 * process that holds the read end of a pipe and nothing else; when
 * kvmini ends — janitor_finish(), a crash or SIGKILL alike — the pipe
 * closes and it unlinks each path that is still the very file kvmini
 * made (same device and inode), then exits. janitor_finish() waits for
 * it, so the files are gone when kvmini returns; without a janitor
 * (failure before start) it unlinks them itself.
 */
#ifndef KVMINI_JANITOR_H
#define KVMINI_JANITOR_H

#include <stdbool.h>
#include <sys/types.h>

#define JANITOR_MAX	4

struct janitor {
	struct {
		char *path;
		dev_t dev;
		ino_t ino;
	} file[JANITOR_MAX];
	unsigned int nr;
	pid_t pid;		/* 0: not started */
	int pipe_w;		/* -1 when not started */
};

void janitor_init(struct janitor *j);
/* Records a file just made: 0, or -errno (it is then not watched). */
int janitor_add(struct janitor *j, const char *path);
/* Before any filter: forks the watcher when there is a file to watch. */
int janitor_start(struct janitor *j);
/* The files are gone on return. */
void janitor_finish(struct janitor *j);

#endif
