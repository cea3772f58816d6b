/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the fuzz targets share: a reader that takes typed values off the
 * fuzzer's input (zeros once it runs dry, so every input means something),
 * malloc'd guest RAM (ASan sees a byte past a region), and a check that
 * crashes, so that libFuzzer keeps the input.
 *
 * common.c also replaces lib/log.c: messages are formatted, so their
 * arguments are exercised, and dropped, so a run is not a flood of
 * warnings. Nothing else of kvmini is replaced here; a target that needs
 * a stub defines it itself.
 */
#ifndef KVMINI_FUZZ_COMMON_H
#define KVMINI_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/mem.h"

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline struct fuzz_input fuzz_input(const uint8_t *data, size_t size)
{
	return (struct fuzz_input){ data, size };
}

static inline bool fuzz_empty(const struct fuzz_input *in)
{
	return !in->left;
}

/* Little endian, like every guest structure kvmini reads. */
uint8_t fuzz_u8(struct fuzz_input *in);
uint16_t fuzz_u16(struct fuzz_input *in);
uint32_t fuzz_u32(struct fuzz_input *in);
uint64_t fuzz_u64(struct fuzz_input *in);
/* Up to len bytes; returns how many were left to take. */
size_t fuzz_bytes(struct fuzz_input *in, void *dst, size_t len);

/* A guest RAM region of size bytes at gpa, backed by its own zeroed
 * malloc'd buffer (returned; free it after the target is done). */
uint8_t *fuzz_ram_add(struct guest_mem *m, uint64_t gpa, uint64_t size);

/*
 * Resource bounds (docs/threat-model.md): what the guest drives must not
 * allocate. Between fuzz_allocs_begin() and fuzz_allocs_end(), which
 * returns the count, every malloc of the calling thread is counted, and
 * only those: libFuzzer's own threads allocate when they please.
 */
void fuzz_allocs_begin(void);
unsigned long fuzz_allocs_end(void);

/*
 * The lowest free descriptor number: a target compares it before and
 * after an input, so that a descriptor the input made and nothing closed
 * is found.
 */
int fuzz_lowest_free_fd(void);

/* An invariant the code under test broke: report it and crash. */
#define fuzz_check(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_fail(__FILE__, __LINE__, #cond);		\
	} while (0)
void fuzz_fail(const char *file, int line, const char *what)
	__attribute__((noreturn));

#endif
