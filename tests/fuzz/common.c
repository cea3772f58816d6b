// SPDX-License-Identifier: GPL-2.0
#include <sanitizer/allocator_interface.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "vmm/log.h"

bool log_verbose;

static void log_drop(const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
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

static bool allocs_counting;
static unsigned long allocs;

static void count_malloc(const volatile void *p, size_t size)
{
	(void)p, (void)size;
	if (__atomic_load_n(&allocs_counting, __ATOMIC_RELAXED))
		__atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED);
}

static void count_free(const volatile void *p)
{
	(void)p;
}

void fuzz_allocs_begin(void)
{
	static bool hooked;

	/* ASan calls the hooks for every allocation, from then on. */
	if (!hooked && !__sanitizer_install_malloc_and_free_hooks(count_malloc, count_free))
		abort();
	hooked = true;
	allocs = 0;
	__atomic_store_n(&allocs_counting, true, __ATOMIC_RELAXED);
}

unsigned long fuzz_allocs_end(void)
{
	__atomic_store_n(&allocs_counting, false, __ATOMIC_RELAXED);
	return allocs;
}

void fuzz_fail(const char *file, int line, const char *what)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
	abort();
}
