/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Byte buffers for saved state: little-endian fields put one after the
 * other, and read back in the same order.
 *
 * Writing: a struct sbuf grows as fields are put; a failed allocation
 * makes it sticky-bad (sbuf_ok() false) and every later put a no-op, so a
 * saver puts everything and checks once.
 * Reading: a struct sbuf_rd over bytes someone else owns (a snapshot file
 * that may be truncated or forged); a get past the end makes it bad and
 * yields zeroes, so a loader gets every field and checks once, and never
 * reads out of bounds. Values read are still untrusted: range-check them.
 */
#ifndef KVMINI_SBUF_H
#define KVMINI_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	uint8_t *data;
	size_t len;
	size_t cap;
	bool bad;
};

struct sbuf_rd {
	const uint8_t *data;
	size_t len;
	size_t off;
	bool bad;
};

/* Writing. sbuf_free() leaves an empty, good buffer. */
void sbuf_put(struct sbuf *b, const void *p, size_t n);
void sbuf_put_u8(struct sbuf *b, uint8_t v);
void sbuf_put_u16(struct sbuf *b, uint16_t v);
void sbuf_put_u32(struct sbuf *b, uint32_t v);
void sbuf_put_u64(struct sbuf *b, uint64_t v);
void sbuf_free(struct sbuf *b);

static inline bool sbuf_ok(const struct sbuf *b)
{
	return !b->bad;
}

/* Reading. */
static inline void sbuf_rd_init(struct sbuf_rd *r, const void *p, size_t n)
{
	r->data = p;
	r->len = n;
	r->off = 0;
	r->bad = false;
}

/* n bytes into p (zeroes when short). */
void sbuf_get(struct sbuf_rd *r, void *p, size_t n);
uint8_t sbuf_get_u8(struct sbuf_rd *r);
uint16_t sbuf_get_u16(struct sbuf_rd *r);
uint32_t sbuf_get_u32(struct sbuf_rd *r);
uint64_t sbuf_get_u64(struct sbuf_rd *r);

/* Every get succeeded and nothing is left over: a loader's one check. */
static inline bool sbuf_rd_done(const struct sbuf_rd *r)
{
	return !r->bad && r->off == r->len;
}

#endif
