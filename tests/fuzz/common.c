// SPDX-License-Identifier: GPL-2.0
#include <pthread.h>
#include <sanitizer/allocator_interface.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "tests/fuzz/common.h"
#include "lib/log.h"

bool log_verbose;

/* Formatted (so a bad format still shows), dropped unless FUZZ_LOG is
 * set: reproducing a crash with it names the line kvmini would print. */
static void log_drop(const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (getenv("FUZZ_LOG"))
		fprintf(stderr, "fuzz log: %s\n", buf);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_drop(fmt, ap);
	va_end(ap);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_drop(fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_drop(fmt, ap);
	va_end(ap);
}

size_t fuzz_bytes(struct fuzz_input *in, void *dst, size_t len)
{
	size_t n = len < in->left ? len : in->left;

	memcpy(dst, in->p, n);
	memset((uint8_t *)dst + n, 0, len - n);
	in->p += n;
	in->left -= n;
	return n;
}

uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v;

	fuzz_bytes(in, &v, sizeof(v));
	return v;
}

uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint8_t b[2];

	fuzz_bytes(in, b, sizeof(b));
	return b[0] | b[1] << 8;
}

/* Two statements: the order of calls in one expression is unspecified. */
uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t lo = fuzz_u32(in);

	return lo | (uint64_t)fuzz_u32(in) << 32;
}

uint8_t *fuzz_ram_add(struct guest_mem *m, uint64_t gpa, uint64_t size)
{
	uint8_t *ram = calloc(1, size);

	if (!ram || gmem_add_region(m, gpa, size, ram))
		abort();
	return ram;
}

/*
 * Per thread: libFuzzer has threads of its own, and they allocate when
 * they please. The code under test runs on the fuzzing thread.
 */
static __thread bool allocs_counting;
static __thread unsigned long allocs;

static void count_malloc(const volatile void *p, size_t size)
{
	(void)p, (void)size;
	if (allocs_counting)
		allocs++;
}

static void count_free(const volatile void *p)
{
	(void)p;
}

void fuzz_allocs_begin(void)
{
	allocs = 0;
	allocs_counting = true;
}

unsigned long fuzz_allocs_end(void)
{
	allocs_counting = false;
	return allocs;
}

static void *volatile allocs_sink;
static sem_t allocs_go, allocs_done;

static void *alloc_elsewhere(void *arg)
{
	sem_wait(&allocs_go);
	allocs_sink = malloc(1);
	free(allocs_sink);
	sem_post(&allocs_done);
	return arg;
}

/*
 * ASan calls the hooks for every allocation from then on, so they go in
 * before libFuzzer starts. Then the counter proves that it counts only
 * its own thread: libFuzzer's -rss_limit_mb watcher, started late on a
 * busy machine, once allocated inside a window (ASan's thread start calls
 * pthread_getattr_np(), which mallocs). Here another thread's malloc
 * surely falls inside the window, and pthread_create()'s own calloc (the
 * new thread's TLS, on this thread) surely outside.
 */
__attribute__((constructor)) static void fuzz_allocs_init(void)
{
	unsigned long n;
	pthread_t t;

	if (!__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free) ||
	    sem_init(&allocs_go, 0, 0) || sem_init(&allocs_done, 0, 0) ||
	    pthread_create(&t, NULL, alloc_elsewhere, NULL))
		abort();
	fuzz_allocs_begin();
	sem_post(&allocs_go);
	sem_wait(&allocs_done);
	allocs_sink = malloc(1);
	free(allocs_sink);
	n = fuzz_allocs_end();
	pthread_join(t, NULL);
	if (n != 1) {
		fprintf(stderr, "fuzz: the allocation counter counted %lu, not 1\n", n);
		abort();
	}
}

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}

int fuzz_lowest_free_fd(void)
{
	int fd = eventfd(0, EFD_CLOEXEC);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}
