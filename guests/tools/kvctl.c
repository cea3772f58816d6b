// SPDX-License-Identifier: GPL-2.0
/*
 * kvctl: a client for kvmini's control socket (docs/control.md), for the
 * lab's outer VM, whose busybox cannot connect to a Unix socket (the
 * host's tests use socat). Static, like the other tools here.
 *
 *   kvctl PATH REQUEST...   send each REQUEST as one line, print each
 *                           reply line; exit 0 when every reply has
 *                           "ok":true, 1 when one has not, 2 on an error
 *                           of the socket itself (named on stderr)
 *
 * It waits up to 10 s for PATH to take the connection (a VM starting),
 * and up to 60 s for the replies (a snapshot writes guest memory).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int connect_retry(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec pause = { 0, 50 * 1000 * 1000 };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "kvctl: %s: path too long\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	for (int i = 0; i < 200; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			break;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "kvctl: cannot connect to %s: %s\n", path, strerror(errno));
	return -1;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char buf[16384];
	size_t len = 0;
	int fd, want, got = 0, status = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: kvctl PATH REQUEST...\n");
		return 2;
	}
	fd = connect_retry(argv[1]);
	if (fd < 0)
		return 2;
	for (int i = 2; i < argc; i++) {
		if (write_all(fd, argv[i], strlen(argv[i])) || write_all(fd, "\n", 1)) {
			fprintf(stderr, "kvctl: %s: write: %s\n", argv[1], strerror(errno));
			return 2;
		}
	}
	shutdown(fd, SHUT_WR);
	want = argc - 2;
	while (got < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;

		if (poll(&p, 1, 60000) <= 0) {
			fprintf(stderr, "kvctl: %s: no reply within 60 s\n", argv[1]);
			return 2;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "kvctl: %s: closed after %d of %d replies\n",
				argv[1], got, want);
			return 2;
		}
		len += (size_t)n;
		buf[len] = '\0';
		while (got < want && (nl = strchr(buf, '\n'))) {
			*nl = '\0';
			puts(buf);
			if (strncmp(buf, "{\"ok\":true", 10))
				status = 1;
			got++;
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1) {
			fprintf(stderr, "kvctl: %s: reply line too long\n", argv[1]);
			return 2;
		}
	}
	fflush(stdout);
	close(fd);
	return status;
}
