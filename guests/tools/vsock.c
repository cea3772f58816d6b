// SPDX-License-Identifier: GPL-2.0
/*
 * vsock: streams over AF_VSOCK (in the guest) and over kvmini's Unix
 * sockets (on the host, docs/vsock.md), for the virtio-vsock test
 * (tests/scenarios/vsock.sh); busybox has neither. Static, so that the
 * test guest and the lab's outer VM run the same file.
 *
 *   vsock connect CID PORT N BYTES SEED   N streams to CID:PORT
 *   vsock listen PORT N BYTES SEED        N streams accepted on PORT
 *   vsock uconnect PATH PORT N BYTES SEED N streams through kvmini's PATH
 *                                         ("CONNECT PORT"), retried for
 *                                         300 s until the guest takes them
 *   vsock ulisten PATH N BYTES SEED       N streams accepted on PATH
 *   vsock refused CID PORT                a connect that must be reset
 *   vsock gen BYTES SEED                  stream SEED's first BYTES to stdout
 *
 * For make bench (bench/vsock.sh), timed from the moment the stream is
 * established, on one stream to or from an endpoint EP, which is
 * vsock:CID:PORT (AF_VSOCK connect), listen:PORT (AF_VSOCK, one accept),
 * unix:PATH:PORT (kvmini's PATH, "CONNECT PORT") or ulisten:PATH (a Unix
 * socket, one accept); the connecting ones retry for 300 s:
 *
 *   vsock source EP BYTES     send BYTES, half-close, read to the end of file
 *   vsock sink EP             read to the end of file, then close
 *   vsock echo EP             send back everything read, until end of file
 *   vsock pingpong EP N SIZE  N round trips of SIZE bytes (to an echo)
 *
 * printing "vsock: source|sink bytes B secs S mibps M" or "vsock: pingpong
 * n N size SIZE median_us U min_us U p99_us U max_us U". Their bytes are
 * not checked: the modes above test, these measure.
 *
 * Every stream sends BYTES of a pseudo-random stream (stream i of a run
 * with SEED s sends stream s + i), half-closes, and reads until the other
 * side's end of file, all streams at once. The line it prints:
 *
 *   vsock: streams N sent BYTES sum X recv BYTES sum Y
 *
 * where a sum adds up the streams' FNV-1a hashes, so that the two ends
 * of a run print each other's numbers whatever order the streams were
 * accepted in. VSOCK_PAUSE=SECS reads nothing for SECS seconds first:
 * a reader that stops, whose writer must block and lose nothing.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define MAX_STREAMS	128
#define CHUNK		(64 * 1024)

struct stream {
	int fd;
	uint64_t gen;			/* xorshift64 state */
	unsigned long long to_send, sent, recv;
	uint64_t sent_hash, recv_hash;
	bool wr_done, rd_done;
	uint8_t *buf;			/* CHUNK: generated, buf[off, len) unwritten */
	size_t off, len;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: vsock connect CID PORT N BYTES SEED | listen PORT N BYTES SEED |\n"
		"       uconnect PATH PORT N BYTES SEED | ulisten PATH N BYTES SEED |\n"
		"       refused CID PORT | gen BYTES SEED |\n"
		"       source EP BYTES | sink EP | echo EP | pingpong EP N SIZE\n"
		"  EP: vsock:CID:PORT | listen:PORT | unix:PATH:PORT | ulisten:PATH\n");
	return 2;
}

static int number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *out > max ? -1 : 0;
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

#define FNV_INIT	0xcbf29ce484222325ULL

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The next n bytes (a multiple of 8) of the stream. */
static void gen_fill(uint64_t *s, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = xorshift(s);

		memcpy(buf + i, &v, 8);
	}
}

static void stream_init(struct stream *st, int fd, unsigned long long bytes,
			unsigned long long seed)
{
	memset(st, 0, sizeof(*st));
	st->fd = fd;
	st->gen = seed * 0x9e3779b97f4a7c15ULL + 1;
	st->to_send = bytes;
	st->sent_hash = st->recv_hash = FNV_INIT;
	st->buf = malloc(CHUNK);
	if (!st->buf) {
		perror("vsock: malloc");
		exit(1);
	}
	if (!bytes) {
		shutdown(fd, SHUT_WR);
		st->wr_done = true;
	}
}

/* Writes what the socket takes from the stream's current chunk, and
 * generates the next chunk once this one is out. */
static int stream_write(struct stream *st)
{
	ssize_t w;

	if (st->off == st->len) {
		unsigned long long left = st->to_send - st->sent;

		st->len = left < CHUNK ? left : CHUNK;
		st->off = 0;
		gen_fill(&st->gen, st->buf, (st->len + 7) & ~7UL);
	}
	w = write(st->fd, st->buf + st->off, st->len - st->off);
	if (w < 0)
		return errno == EAGAIN ? 0 : -errno;
	st->sent_hash = fnv(st->sent_hash, st->buf + st->off, w);
	st->off += w;
	st->sent += w;
	return 0;
}

static int run(struct stream *st, unsigned int n)
{
	static struct pollfd pfd[MAX_STREAMS];
	static uint8_t buf[CHUNK];
	unsigned long long sent = 0, recv = 0;
	uint64_t sent_sum = 0, recv_sum = 0;
	const char *p = getenv("VSOCK_PAUSE");
	double read_from = now() + (p ? atof(p) : 0);
	unsigned int done = 0;

	while (done < n) {
		bool reading = now() >= read_from;

		for (unsigned int i = 0; i < n; i++) {
			pfd[i].fd = st[i].wr_done && st[i].rd_done ? -1 : st[i].fd;
			pfd[i].events = (st[i].wr_done ? 0 : POLLOUT) |
					(st[i].rd_done || !reading ? 0 : POLLIN);
		}
		if (poll(pfd, n, reading ? 10000 : 100) < 0 && errno != EINTR) {
			perror("vsock: poll");
			return 1;
		}
		for (unsigned int i = 0; i < n; i++) {
			struct stream *s = &st[i];
			int err = 0;

			if (!s->wr_done && (pfd[i].revents & (POLLOUT | POLLERR | POLLHUP))) {
				err = stream_write(s);
				if (!err && s->sent == s->to_send) {
					shutdown(s->fd, SHUT_WR);
					s->wr_done = true;
				}
			}
			if (!err && !s->rd_done && reading &&
			    (pfd[i].revents & (POLLIN | POLLERR | POLLHUP))) {
				ssize_t r = read(s->fd, buf, sizeof(buf));

				if (r > 0) {
					s->recv_hash = fnv(s->recv_hash, buf, r);
					s->recv += r;
				} else if (r == 0) {
					s->rd_done = true;
				} else if (errno != EAGAIN) {
					err = -errno;
				}
			}
			if (err) {
				fprintf(stderr, "vsock: stream %u: %s after %llu sent, %llu received\n",
					i, strerror(-err), s->sent, s->recv);
				return 1;
			}
			if (s->wr_done && s->rd_done && s->fd >= 0) {
				free(s->buf);
				close(s->fd);
				s->fd = -1;
				done++;
			}
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		sent += st[i].sent;
		recv += st[i].recv;
		sent_sum += st[i].sent_hash;
		recv_sum += st[i].recv_hash;
	}
	printf("vsock: streams %u sent %llu sum %016llx recv %llu sum %016llx\n",
	       n, sent, (unsigned long long)sent_sum, recv, (unsigned long long)recv_sum);
	return 0;
}

static int vsock_connect(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return -err;
	}
	return fd;
}

static void unix_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", path);
}

/* One stream through kvmini's PATH: the CONNECT line, then "OK n". */
static int unix_connect_port(const char *path, unsigned int port)
{
	struct sockaddr_un sa;
	char line[64];
	size_t len = 0;
	int fd, n;

	unix_addr(&sa, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (write(fd, line, n) != n)
		goto fail;
	/* A byte at a time: what follows the line is the stream's. */
	while (len < sizeof(line) - 1) {
		if (read(fd, line + len, 1) != 1)
			goto fail;
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (strncmp(line, "OK ", 3))
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

static int listen_accept(int lfd, unsigned int n, struct stream *st,
			 unsigned long long bytes, unsigned long long seed)
{
	if (listen(lfd, MAX_STREAMS) < 0) {
		perror("vsock: listen");
		return 1;
	}
	for (unsigned int i = 0; i < n; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			perror("vsock: accept");
			return 1;
		}
		stream_init(&st[i], fd, bytes, seed + i);
	}
	close(lfd);
	return run(st, n);
}

/* ---- make bench's modes: one timed stream, bytes unchecked ---- */

static int accept_one(int lfd)
{
	int fd;

	if (listen(lfd, 1) < 0) {
		perror("vsock: listen");
		return -1;
	}
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		perror("vsock: accept");
	close(lfd);
	return fd;
}

/* The stream to or from EP (see the top of the file), or -1. */
static int endpoint(const char *ep)
{
	unsigned long long a, b;
	double give_up = now() + 300;
	const char *c;
	int fd;

	if (!strncmp(ep, "vsock:", 6)) {
		char cid[16];

		c = strchr(ep + 6, ':');
		if (!c || c - (ep + 6) >= (long)sizeof(cid))
			return -1;
		memcpy(cid, ep + 6, c - (ep + 6));
		cid[c - (ep + 6)] = '\0';
		if (number(cid, UINT32_MAX, &a) || number(c + 1, UINT32_MAX, &b))
			return -1;
		while ((fd = vsock_connect(a, b)) < 0 && now() < give_up)
			usleep(200 * 1000);
		if (fd < 0)
			fprintf(stderr, "vsock: connect %s: %s\n", ep, strerror(-fd));
		return fd < 0 ? -1 : fd;
	}
	if (!strncmp(ep, "listen:", 7)) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };

		if (number(ep + 7, UINT32_MAX, &a))
			return -1;
		sa.svm_port = a;
		fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("vsock: bind");
			return -1;
		}
		return accept_one(fd);
	}
	if (!strncmp(ep, "unix:", 5)) {
		char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

		c = strrchr(ep + 5, ':');
		if (!c || c - (ep + 5) >= (long)sizeof(path) || number(c + 1, UINT32_MAX, &a))
			return -1;
		memcpy(path, ep + 5, c - (ep + 5));
		path[c - (ep + 5)] = '\0';
		while ((fd = unix_connect_port(path, a)) < 0 && now() < give_up)
			usleep(200 * 1000);
		if (fd < 0)
			fprintf(stderr, "vsock: no OK from %s for port %llu\n", path, a);
		return fd;
	}
	if (!strncmp(ep, "ulisten:", 8)) {
		struct sockaddr_un sa;

		unix_addr(&sa, ep + 8);
		unlink(ep + 8);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("vsock: bind");
			return -1;
		}
		return accept_one(fd);
	}
	return -1;
}

/* Reads fd to its end of file; the bytes read, or -1. */
static long long drain(int fd, uint8_t *buf)
{
	long long total = 0;
	ssize_t r;

	while ((r = read(fd, buf, CHUNK)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("vsock: read");
			return -1;
		}
		total += r;
	}
	return total;
}

static int full_write(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			perror("vsock: write");
			return -1;
		}
		p += w;
		n -= w;
	}
	return 0;
}

static int full_read(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			fprintf(stderr, "vsock: read: %s\n", r ? strerror(errno) : "end of file");
			return -1;
		}
		p += r;
		n -= r;
	}
	return 0;
}

static void rate(const char *mode, unsigned long long bytes, double secs)
{
	printf("vsock: %s bytes %llu secs %.6f mibps %.2f\n", mode, bytes, secs,
	       secs > 0 ? bytes / secs / (1024 * 1024) : 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench_mode(int argc, char **argv)
{
	static uint8_t buf[CHUNK];
	unsigned long long bytes, n, size;
	const char *mode = argv[1];
	long long got;
	double t0;
	int fd;

	if ((!strcmp(mode, "source") && argc == 4 && !number(argv[3], ~0ULL, &bytes)) ||
	    ((!strcmp(mode, "sink") || !strcmp(mode, "echo")) && argc == 3)) {
		fd = endpoint(argv[2]);
		if (fd < 0)
			return 1;
		t0 = now();
		if (!strcmp(mode, "source")) {
			unsigned long long left = bytes;

			memset(buf, 0x5a, sizeof(buf));
			while (left) {
				size_t k = left < CHUNK ? left : CHUNK;

				if (full_write(fd, buf, k))
					return 1;
				left -= k;
			}
			shutdown(fd, SHUT_WR);
			if (drain(fd, buf) < 0)
				return 1;
			rate(mode, bytes, now() - t0);
		} else if (!strcmp(mode, "sink")) {
			got = drain(fd, buf);
			if (got < 0)
				return 1;
			rate(mode, got, now() - t0);
		} else {
			ssize_t r;

			while ((r = read(fd, buf, sizeof(buf))) != 0) {
				if (r < 0 && errno == EINTR)
					continue;
				if (r < 0 || full_write(fd, buf, r)) {
					perror("vsock: echo");
					return 1;
				}
			}
			printf("vsock: echo done\n");
		}
		close(fd);
		return 0;
	}
	if (!strcmp(mode, "pingpong") && argc == 5 &&
	    !number(argv[3], 1000000, &n) && n && !number(argv[4], CHUNK, &size) && size) {
		double *rtt = calloc(n, sizeof(*rtt));

		if (!rtt)
			return 1;
		fd = endpoint(argv[2]);
		if (fd < 0)
			return 1;
		memset(buf, 0xa5, size);
		for (unsigned long long i = 0; i < n; i++) {
			t0 = now();
			if (full_write(fd, buf, size) || full_read(fd, buf, size))
				return 1;
			rtt[i] = (now() - t0) * 1e6;
		}
		shutdown(fd, SHUT_WR);
		drain(fd, buf);
		close(fd);
		qsort(rtt, n, sizeof(*rtt), cmp_double);
		printf("vsock: pingpong n %llu size %llu median_us %.1f min_us %.1f p99_us %.1f max_us %.1f\n",
		       n, size, n % 2 ? rtt[n / 2] : (rtt[n / 2 - 1] + rtt[n / 2]) / 2,
		       rtt[0], rtt[(n * 99) / 100], rtt[n - 1]);
		free(rtt);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	static struct stream st[MAX_STREAMS];
	unsigned long long a, b, n, bytes, seed;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "source") || !strcmp(argv[1], "sink") ||
	    !strcmp(argv[1], "echo") || !strcmp(argv[1], "pingpong"))
		return bench_mode(argc, argv);
	if (!strcmp(argv[1], "gen") && argc == 4) {
		static uint8_t buf[CHUNK];
		uint64_t s;

		if (number(argv[2], ~0ULL, &bytes) || number(argv[3], ~0ULL, &seed))
			return usage();
		s = seed * 0x9e3779b97f4a7c15ULL + 1;
		while (bytes) {
			size_t k = bytes < CHUNK ? bytes : CHUNK;

			gen_fill(&s, buf, (k + 7) & ~7UL);
			if (fwrite(buf, 1, k, stdout) != k)
				return 1;
			bytes -= k;
		}
		return 0;
	}
	if (!strcmp(argv[1], "refused") && argc == 4) {
		int fd;

		if (number(argv[2], UINT32_MAX, &a) || number(argv[3], UINT32_MAX, &b))
			return usage();
		fd = vsock_connect(a, b);
		if (fd >= 0) {
			printf("vsock: refused: connected to %llu:%llu\n", a, b);
			return 1;
		}
		printf("vsock: refused: %s\n", strerror(-fd));
		return -fd == ECONNRESET ? 0 : 1;
	}
	if (!strcmp(argv[1], "connect") && argc == 7) {
		if (number(argv[2], UINT32_MAX, &a) || number(argv[3], UINT32_MAX, &b) ||
		    number(argv[4], MAX_STREAMS, &n) || !n ||
		    number(argv[5], ~0ULL, &bytes) || number(argv[6], ~0ULL, &seed))
			return usage();
		for (unsigned int i = 0; i < n; i++) {
			int fd = vsock_connect(a, b);

			if (fd < 0) {
				fprintf(stderr, "vsock: connect %llu:%llu (stream %u): %s\n",
					a, b, i, strerror(-fd));
				return 1;
			}
			stream_init(&st[i], fd, bytes, seed + i);
		}
		return run(st, n);
	}
	if (!strcmp(argv[1], "listen") && argc == 6) {
		struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY };
		int lfd;

		if (number(argv[2], UINT32_MAX, &a) || number(argv[3], MAX_STREAMS, &n) || !n ||
		    number(argv[4], ~0ULL, &bytes) || number(argv[5], ~0ULL, &seed))
			return usage();
		sa.svm_port = a;
		lfd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("vsock: bind");
			return 1;
		}
		return listen_accept(lfd, n, st, bytes, seed);
	}
	if (!strcmp(argv[1], "ulisten") && argc == 6) {
		struct sockaddr_un sa;
		int lfd;

		if (number(argv[3], MAX_STREAMS, &n) || !n ||
		    number(argv[4], ~0ULL, &bytes) || number(argv[5], ~0ULL, &seed))
			return usage();
		unix_addr(&sa, argv[2]);
		unlink(argv[2]);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror("vsock: bind");
			return 1;
		}
		return listen_accept(lfd, n, st, bytes, seed);
	}
	if (!strcmp(argv[1], "uconnect") && argc == 7) {
		if (number(argv[3], UINT32_MAX, &a) || number(argv[4], MAX_STREAMS, &n) || !n ||
		    number(argv[5], ~0ULL, &bytes) || number(argv[6], ~0ULL, &seed))
			return usage();
		for (unsigned int i = 0; i < n; i++) {
			double give_up = now() + 300;
			int fd;

			while ((fd = unix_connect_port(argv[2], a)) < 0 && now() < give_up)
				usleep(200 * 1000);
			if (fd < 0) {
				fprintf(stderr, "vsock: no OK from %s for port %llu (stream %u)\n",
					argv[2], a, i);
				return 1;
			}
			stream_init(&st[i], fd, bytes, seed + i);
		}
		return run(st, n);
	}
	return usage();
}
