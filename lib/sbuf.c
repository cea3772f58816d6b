// SPDX-License-Identifier: GPL-2.0
/* Byte buffers for saved state: see sbuf.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/sbuf.h"

void sbuf_put(struct sbuf *b, const void *p, size_t n)
{
	size_t cap;
	uint8_t *d;

	if (b->bad)
		return;
	if (n > b->cap - b->len) {
		if (n > SIZE_MAX / 2 - b->len) {
			b->bad = true;
			return;
		}
		cap = b->cap ? b->cap : 256;
		while (cap - b->len < n)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d) {
			b->bad = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Little-endian whatever the host: snapshots are read back on the same
 * architecture, but the format does not depend on it. */
static void put_le(struct sbuf *b, uint64_t v, size_t n)
{
	uint8_t le[8];

	for (size_t i = 0; i < n; i++)
		le[i] = v >> (8 * i);
	sbuf_put(b, le, n);
}

void sbuf_put_u8(struct sbuf *b, uint8_t v)
{
	put_le(b, v, 1);
}

void sbuf_put_u16(struct sbuf *b, uint16_t v)
{
	put_le(b, v, 2);
}

void sbuf_put_u32(struct sbuf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void sbuf_put_u64(struct sbuf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void sbuf_free(struct sbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void sbuf_get(struct sbuf_rd *r, void *p, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		memset(p, 0, n);
		return;
	}
	memcpy(p, r->data + r->off, n);
	r->off += n;
}

static uint64_t get_le(struct sbuf_rd *r, size_t n)
{
	uint8_t le[8];
	uint64_t v = 0;

	sbuf_get(r, le, n);
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)le[i] << (8 * i);
	return v;
}

uint8_t sbuf_get_u8(struct sbuf_rd *r)
{
	return get_le(r, 1);
}

uint16_t sbuf_get_u16(struct sbuf_rd *r)
{
	return get_le(r, 2);
}

uint32_t sbuf_get_u32(struct sbuf_rd *r)
{
	return get_le(r, 4);
}

uint64_t sbuf_get_u64(struct sbuf_rd *r)
{
	return get_le(r, 8);
}
