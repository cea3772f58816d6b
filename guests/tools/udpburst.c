// SPDX-License-Identifier: GPL-2.0
/*
 * udpburst: small UDP datagrams as fast as a socket takes them, for the
 * virtio-net burst test (tests/scenarios/net-tap.sh), which needs a flood
 * that neither busybox's nc nor its ping can make. Static, so that the
 * test guest and the lab's outer VM run the same file.
 *
 *   udpburst send ADDR PORT SECS [SIZE]   flood ADDR:PORT for SECS seconds
 *   udpburst sink PORT SECS               count what arrives on PORT until
 *                                         SECS pass or 2 s pass in silence
 *
 * Each prints one line of counts on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: udpburst send ADDR PORT SECS [SIZE] | udpburst sink PORT SECS\n");
	return 2;
}

static int number(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end || *out < min || *out > max ? -1 : 0;
}

static int burst_send(int fd, const char *addr, long port, long secs, long size)
{
	static char buf[65507];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	unsigned long sent = 0, errors = 0;
	double start = now(), end = start + secs;

	if (inet_pton(AF_INET, addr, &to.sin_addr) != 1) {
		fprintf(stderr, "udpburst: %s is not an IPv4 address\n", addr);
		return 2;
	}
	memset(buf, 0x5a, size);
	/* The clock is read once per 256 datagrams: the loop is the load. */
	while ((sent + errors) % 256 || now() < end) {
		if (sendto(fd, buf, size, 0, (struct sockaddr *)&to, sizeof(to)) == size)
			sent++;
		else
			errors++;	/* ENOBUFS: the queue is full, go on */
	}
	printf("udpburst: sent %lu datagrams of %ld bytes in %.1f s, %lu refused\n",
	       sent, size, now() - start, errors);
	return sent ? 0 : 1;
}

static int burst_sink(int fd, long port, long secs)
{
	static char buf[65536];
	struct sockaddr_in me = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct timeval tv = { .tv_sec = 2 };
	unsigned long got = 0, bytes = 0;
	double start = now(), end = start + secs;

	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		perror("udpburst: bind");
		return 1;
	}
	/* Ready: the sender may start. */
	printf("udpburst: listening on %ld\n", port);
	fflush(stdout);
	while (now() < end) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && got)
			break;
		if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			perror("udpburst: recv");
			return 1;
		}
		if (r >= 0) {
			got++;
			bytes += r;
		}
	}
	printf("udpburst: received %lu datagrams, %lu bytes\n", got, bytes);
	return 0;
}

int main(int argc, char **argv)
{
	long port, secs, size = 64;
	int fd;

	if (argc < 4)
		return usage();
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpburst: socket");
		return 1;
	}
	if (!strcmp(argv[1], "send") && (argc == 5 || argc == 6)) {
		if (number(argv[3], 1, 65535, &port) || number(argv[4], 1, 3600, &secs) ||
		    (argc == 6 && number(argv[5], 1, 65507, &size)))
			return usage();
		return burst_send(fd, argv[2], port, secs, size);
	}
	if (!strcmp(argv[1], "sink") && argc == 4) {
		if (number(argv[2], 1, 65535, &port) || number(argv[3], 1, 3600, &secs))
			return usage();
		return burst_sink(fd, port, secs);
	}
	return usage();
}
