// SPDX-License-Identifier: GPL-2.0
/* Files removed however kvmini ends: see janitor.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

/* Only what kvmini made: a file someone put there since stays. Async-
 * signal-safe, as the forked child of a threaded process must be. */
static void janitor_sweep(const struct janitor_file *f, unsigned int n)
{
	struct stat st;

	for (unsigned int i = 0; i < n; i++)
		if (!lstat(f[i].path, &st) && st.st_dev == f[i].dev &&
		    st.st_ino == f[i].ino)
			unlink(f[i].path);
}

static void __attribute__((noreturn)) janitor_child(struct janitor *j, int r)
{
	static const int quiet[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct janitor_file rec;
	ssize_t n;

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
	/* Records until kvmini's end closes the pipe; each came whole. */
	for (;;) {
		n = read(STDIN_FILENO, &rec, sizeof(rec));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(rec))
			break;
		if (j->nr < JANITOR_MAX)
			j->file[j->nr++] = rec;
	}
	janitor_sweep(j->file, j->nr);
	_exit(0);
}

static int janitor_start(struct janitor *j)
{
	sigset_t all, old;
	int p[2];
	pid_t pid;

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

int janitor_add(struct janitor *j, const char *path)
{
	struct janitor_file *f;
	struct stat st;

	if (j->nr == JANITOR_MAX)
		return -ENOSPC;
	if (strlen(path) >= JANITOR_PATH_MAX)
		return -ENAMETOOLONG;
	if (lstat(path, &st) < 0)
		return -errno;
	f = &j->file[j->nr];
	memset(f, 0, sizeof(*f));
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	strcpy(f->path, path);
	j->nr++;
	/* The first file forks the janitor, which has it already; the
	 * others go through the pipe. Without a janitor, finish sweeps. */
	if (!j->pid)
		return janitor_start(j);
	return write(j->pipe_w, f, sizeof(*f)) == sizeof(*f) ? 0 : -EIO;
}

void janitor_finish(struct janitor *j)
{
	if (j->pid) {
		close(j->pipe_w);
		while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		janitor_sweep(j->file, j->nr);
	}
	janitor_init(j);
}
