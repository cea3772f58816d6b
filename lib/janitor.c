// SPDX-License-Identifier: GPL-2.0
/* Files removed however kvmini ends: see janitor.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/janitor.h"

void janitor_init(struct janitor *j)
{
	memset(j, 0, sizeof(*j));
	j->pipe_w = -1;
}

int janitor_add(struct janitor *j, const char *path)
{
	struct stat st;
	char *p;

	if (j->nr == JANITOR_MAX)
		return -ENOSPC;
	if (lstat(path, &st) < 0)
		return -errno;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	j->file[j->nr].path = p;
	j->file[j->nr].dev = st.st_dev;
	j->file[j->nr].ino = st.st_ino;
	j->nr++;
	return 0;
}

/* Only what kvmini made: a file someone put there since stays. Async-
 * signal-safe, as the forked child of a threaded process must be. */
static void janitor_sweep(const struct janitor *j)
{
	struct stat st;

	for (unsigned int i = 0; i < j->nr; i++)
		if (!lstat(j->file[i].path, &st) && st.st_dev == j->file[i].dev &&
		    st.st_ino == j->file[i].ino)
			unlink(j->file[i].path);
}

static void __attribute__((noreturn)) janitor_child(const struct janitor *j, int r)
{
	static const int quiet[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	ssize_t n;
	char c;

	/* The terminal's Ctrl-C reaches the whole process group: kvmini
	 * handles it and ends cleanly, so the janitor must still be there;
	 * ignored, not just blocked, so they do not even stay pending. */
	for (unsigned int i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++)
		sigaction(quiet[i], &ign, NULL);

	/* Nothing but the pipe: a descriptor held here (a tap, a socket)
	 * would outlive kvmini. */
	if (dup2(r, STDIN_FILENO) < 0)
		_exit(1);
	close_range(STDIN_FILENO + 1, ~0U, 0);
	close(STDOUT_FILENO);
	close(STDERR_FILENO);
	do
		n = read(STDIN_FILENO, &c, 1);
	while (n > 0 || (n < 0 && errno == EINTR));
	janitor_sweep(j);
	_exit(0);
}

int janitor_start(struct janitor *j)
{
	sigset_t all, old;
	int p[2];
	pid_t pid;

	if (!j->nr || j->pid)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* The child keeps every signal blocked: a handler it inherited
	 * (kvmini's, or a test harness's) must never run in it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		janitor_child(j, p[0]);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	close(p[0]);
	j->pid = pid;
	j->pipe_w = p[1];
	return 0;
}

void janitor_finish(struct janitor *j)
{
	if (j->pid) {
		close(j->pipe_w);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		janitor_sweep(j);
	}
	for (unsigned int i = 0; i < j->nr; i++)
		free(j->file[i].path);
	janitor_init(j);
}
