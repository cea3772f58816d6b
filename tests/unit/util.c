// SPDX-License-Identifier: GPL-2.0
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "util.h"

static uint8_t *read_guest_file(const char *env, const char *def,
				const char *name, size_t *size)
{
	const char *dir = getenv(env);
	char path[4096];
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd;

	if (!dir || !*dir)
		dir = def;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* A missing kernel must fail loudly: a skipped parser test would
	 * look like a passing one. */
	ck_assert_msg(fd >= 0, "cannot open guest file '%s': %s (build it with "
		      "`make guests`, or point KVMINI_GUEST_DIR at it)",
		      path, strerror(errno));
	ck_assert_msg(!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size > 0,
		      "guest file '%s' is not a non-empty regular file", path);
	buf = malloc(st.st_size);
	ck_assert_ptr_nonnull(buf);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		ck_assert_msg(n > 0, "reading '%s' failed", path);
		done += n;
	}
	close(fd);
	*size = done;
	return buf;
}

uint8_t *unit_read_guest_file(const char *name, size_t *size)
{
	return read_guest_file("KVMINI_GUEST_DIR", "build/guest", name, size);
}

uint8_t *unit_read_arm64_guest_file(const char *name, size_t *size)
{
	return read_guest_file("KVMINI_GUEST_ARM64_DIR", "build/guest-arm64", name, size);
}

/* In shared memory: Check runs each test in a child of its own. */
static unsigned int *skips;

void unit_skips_init(void)
{
	void *p = mmap(NULL, sizeof(*skips), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	skips = p;
}

unsigned int unit_skips(void)
{
	return skips ? __atomic_load_n(skips, __ATOMIC_RELAXED) : 0;
}

void unit_skip(const char *fmt, ...)
{
	const char *ci = getenv("KVMINI_CI");
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ck_assert_msg(!ci || strcmp(ci, "1"), "cannot run here (KVMINI_CI=1): %s", why);
	fprintf(stderr, "unit: SKIP %s\n", why);
	if (skips)
		__atomic_fetch_add(skips, 1, __ATOMIC_RELAXED);
}

uint8_t *unit_memdup(const void *buf, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	if (len)
		memcpy(p, buf, len);
	return p;
}

void unit_capture_begin(struct unit_capture *c, int fd)
{
	fflush(stdout);
	fflush(stderr);
	c->fd = fd;
	c->tmp = memfd_create("unit-capture", MFD_CLOEXEC);
	ck_assert_int_ge(c->tmp, 0);
	c->saved = dup(fd);
	ck_assert_int_ge(c->saved, 0);
	ck_assert_int_eq(dup2(c->tmp, fd), fd);
}

char *unit_capture_end(struct unit_capture *c)
{
	off_t len;
	char *s;

	fflush(stdout);
	fflush(stderr);
	ck_assert_int_eq(dup2(c->saved, c->fd), c->fd);
	close(c->saved);
	len = lseek(c->tmp, 0, SEEK_END);
	ck_assert_int_ge(len, 0);
	s = malloc(len + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(pread(c->tmp, s, len, 0), len);
	s[len] = '\0';
	close(c->tmp);
	return s;
}

void unit_capture_std_begin(struct unit_capture_std *c)
{
	unit_capture_begin(&c->out, STDOUT_FILENO);
	unit_capture_begin(&c->err, STDERR_FILENO);
}

void unit_capture_std_end(struct unit_capture_std *c, char **out, char **err)
{
	*err = unit_capture_end(&c->err);
	*out = unit_capture_end(&c->out);
}

int unit_argv(char **argv, int max, const char *argv0, const char *const *args)
{
	int argc = 1;

	argv[0] = (char *)argv0;
	for (; args[argc - 1]; argc++) {
		ck_assert_int_lt(argc, max);
		argv[argc] = (char *)args[argc - 1];
	}
	argv[argc] = NULL;
	return argc;
}

void unit_check_error_line(const char *out, const char *err, const char *culprit)
{
	size_t len = strlen(err);

	ck_assert_str_eq(out, "");
	ck_assert_msg(unit_count_lines(err) == 1 && err[len - 1] == '\n',
		      "expected exactly one line, got \"%s\"", err);
	ck_assert_msg(!strncmp(err, "kvmini: error: ", 15),
		      "not an error line: \"%s\"", err);
	ck_assert_msg(strstr(err, culprit), "\"%s\" does not name '%s'",
		      err, culprit);
}

unsigned int unit_count_lines(const char *s)
{
	unsigned int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

uint64_t unit_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

void unit_fill_random(uint8_t *buf, size_t len, uint64_t seed)
{
	uint64_t state = seed ? seed : 1;

	for (size_t i = 0; i < len; i++)
		buf[i] = unit_rand(&state) >> 56;
}

void unit_vring_post(uint8_t *ring, uint64_t buf_gpa, unsigned int qsize, uint16_t n)
{
	struct vring_desc *d = (struct vring_desc *)ring;
	struct vring_avail *a = (struct vring_avail *)(ring + 0x1000);

	d[0].addr = htole64(buf_gpa);
	d[0].len = htole32(64);
	d[0].flags = htole16(VRING_DESC_F_WRITE);
	a->ring[n % qsize] = 0;
	__atomic_store_n(&a->idx, htole16(n + 1), __ATOMIC_RELEASE);
}
