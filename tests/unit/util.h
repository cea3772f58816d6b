/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the unit suites: guest files, copies, captured output. */
#ifndef KVMINI_UNIT_UTIL_H
#define KVMINI_UNIT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads a file of the guest build ($KVMINI_GUEST_DIR, else build/guest)
 * into a malloc'd buffer of exactly its size, so that ASan catches any
 * read past its end. Fails the running test when the file is missing.
 */
uint8_t *unit_read_guest_file(const char *name, size_t *size);
/* The same from the arm64 guest ($KVMINI_GUEST_ARM64_DIR, else
 * build/guest-arm64). */
uint8_t *unit_read_arm64_guest_file(const char *name, size_t *size);

/*
 * For a test that cannot run on this host (a tool, a file system feature,
 * /dev/shm or root missing): says so on stderr ("unit: SKIP …") and counts
 * it, and the caller returns. main() prints the count after Check's own
 * summary, which counts the test as run, so a skip never looks like a
 * pass. With KVMINI_CI=1, where everything is installed, it fails the
 * test instead.
 */
void unit_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The skip counter, shared with the forked tests; main() sets it up. */
void unit_skips_init(void);
unsigned int unit_skips(void);

/*
 * A driver posting its n-th buffer on a split ring laid out as the PCI
 * suites lay theirs (descriptors at ring, the avail ring 4 KiB after):
 * descriptor 0, 64 device-writable bytes at buf_gpa, at avail entry n.
 */
void unit_vring_post(uint8_t *ring, uint64_t buf_gpa, unsigned int qsize, uint16_t n);

/* A malloc'd copy of exactly len bytes (a 1-byte allocation when 0). */
uint8_t *unit_memdup(const void *buf, size_t len);

/* Everything written to fd between begin and end lands in a temp file. */
struct unit_capture {
	int fd;
	int saved;
	int tmp;
};

void unit_capture_begin(struct unit_capture *c, int fd);
/* Restores fd; returns what was written, malloc'd and NUL-terminated. */
char *unit_capture_end(struct unit_capture *c);

/* stdout and stderr, both captured: what a command-line parser printed. */
struct unit_capture_std {
	struct unit_capture out;
	struct unit_capture err;
};

void unit_capture_std_begin(struct unit_capture_std *c);
/* Both malloc'd and NUL-terminated. */
void unit_capture_std_end(struct unit_capture_std *c, char **out, char **err);

/*
 * Fills argv (max + 1 entries) with argv0, then args up to their NULL,
 * then NULL, as main() gets it; fails the test past max. Returns argc.
 * argv points into args: they must outlive its use.
 */
int unit_argv(char **argv, int max, const char *argv0, const char *const *args);

/* A refused command line's output: nothing on stdout, one line on stderr,
 * marked as an error, that names the culprit. */
void unit_check_error_line(const char *out, const char *err, const char *culprit);

/* expr (an int) must give want, after printing unit_check_error_line()'s
 * one line naming culprit and nothing else. */
#define UNIT_EXPECT_ERROR(expr, want, culprit)				\
	do {								\
		struct unit_capture_std __c;				\
		char *__out, *__err;					\
		int __r;						\
									\
		unit_capture_std_begin(&__c);				\
		__r = (expr);						\
		unit_capture_std_end(&__c, &__out, &__err);		\
		ck_assert_int_eq(__r, (want));				\
		unit_check_error_line(__out, __err, (culprit));		\
		free(__out);						\
		free(__err);						\
	} while (0)

/* Counts the '\n' in s. */
unsigned int unit_count_lines(const char *s);

/* xorshift64: reproducible "random" bytes; *state must not be 0. */
uint64_t unit_rand(uint64_t *state);
void unit_fill_random(uint8_t *buf, size_t len, uint64_t seed);

#endif
