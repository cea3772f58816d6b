// SPDX-License-Identifier: GPL-2.0
/*
 * Strict JSON reader and reply writer (lib/json.h).
 *
 * The reader is recursive descent, bounded by JSON_MAX_DEPTH. Nodes and
 * string bytes go into two growing arrays and refer to each other by
 * index while the tree grows (the arrays move as they grow); pointers are
 * filled in once, at the end. Every value takes at least one input byte
 * and no unescaped string is longer than its escaped form, so both arrays
 * stay linear in the input's size.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"

#define NO_KEY	SIZE_MAX

struct parser {
	struct json_doc *doc;
	const unsigned char *p;
	size_t len;
	size_t off;
	unsigned int depth;
	int err;
};

static int fail(struct parser *ps, int err, const char *fmt, ...)
{
	struct json_doc *doc = ps->doc;
	size_t n;
	va_list ap;

	if (ps->err)
		return ps->err;
	ps->err = err;
	n = snprintf(doc->err, sizeof(doc->err), "offset %zu: ", ps->off);
	if (n < sizeof(doc->err)) {
		va_start(ap, fmt);
		vsnprintf(doc->err + n, sizeof(doc->err) - n, fmt, ap);
		va_end(ap);
	}
	return err;
}

static int grow(struct parser *ps, void **arr, size_t *cap, size_t need,
		size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * size);
	if (!p)
		return fail(ps, -ENOMEM, "out of memory");
	*arr = p;
	*cap = n;
	return 0;
}

/* A new node's index, or SIZE_MAX when out of memory. */
static size_t new_node(struct parser *ps, enum json_type type)
{
	struct json_doc *doc = ps->doc;
	struct json *n;

	if (grow(ps, (void **)&doc->nodes, &doc->cap, doc->nr + 1, sizeof(*n)))
		return SIZE_MAX;
	n = &doc->nodes[doc->nr];
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->key_off = NO_KEY;
	return doc->nr++;
}

static int put_bytes(struct parser *ps, const void *p, size_t len)
{
	struct json_doc *doc = ps->doc;

	if (grow(ps, (void **)&doc->strs, &doc->scap, doc->slen + len, 1))
		return ps->err;
	memcpy(doc->strs + doc->slen, p, len);
	doc->slen += len;
	return 0;
}

static void skip_ws(struct parser *ps)
{
	while (ps->off < ps->len) {
		unsigned char c = ps->p[ps->off];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		ps->off++;
	}
}

static int peek(struct parser *ps)
{
	return ps->off < ps->len ? ps->p[ps->off] : -1;
}

static int hex4(struct parser *ps, uint32_t *out)
{
	uint32_t v = 0;

	if (ps->len - ps->off < 4)
		return fail(ps, -EINVAL, "\\u escape needs four hex digits");
	for (int i = 0; i < 4; i++) {
		unsigned char c = ps->p[ps->off + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(ps, -EINVAL, "\\u escape needs four hex digits");
	}
	ps->off += 4;
	*out = v;
	return 0;
}

static int put_utf8(struct parser *ps, uint32_t cp)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6;
		b[1] = 0x80 | (cp & 0x3f);
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12;
		b[1] = 0x80 | (cp >> 6 & 0x3f);
		b[2] = 0x80 | (cp & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | cp >> 18;
		b[1] = 0x80 | (cp >> 12 & 0x3f);
		b[2] = 0x80 | (cp >> 6 & 0x3f);
		b[3] = 0x80 | (cp & 0x3f);
		n = 4;
	}
	return put_bytes(ps, b, n);
}

/* After the backslash. */
static int parse_escape(struct parser *ps)
{
	uint32_t cp, lo;
	int c = peek(ps);
	char out;

	if (c < 0)
		return fail(ps, -EINVAL, "unterminated string");
	ps->off++;
	switch (c) {
	case '"': out = '"'; break;
	case '\\': out = '\\'; break;
	case '/': out = '/'; break;
	case 'b': out = '\b'; break;
	case 'f': out = '\f'; break;
	case 'n': out = '\n'; break;
	case 'r': out = '\r'; break;
	case 't': out = '\t'; break;
	case 'u':
		if (hex4(ps, &cp))
			return ps->err;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return fail(ps, -EINVAL, "lone low surrogate in a \\u escape");
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (ps->len - ps->off < 2 || ps->p[ps->off] != '\\' ||
			    ps->p[ps->off + 1] != 'u')
				return fail(ps, -EINVAL, "high surrogate without a low one");
			ps->off += 2;
			if (hex4(ps, &lo))
				return ps->err;
			if (lo < 0xdc00 || lo > 0xdfff)
				return fail(ps, -EINVAL, "high surrogate without a low one");
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		}
		return put_utf8(ps, cp);
	default:
		ps->off--;
		return fail(ps, -EINVAL, "unknown escape \\%c", c >= 0x20 && c < 0x7f ? c : '?');
	}
	return put_bytes(ps, &out, 1);
}

/* One UTF-8 sequence starting with a byte >= 0x80 (RFC 3629's table). */
static int copy_utf8(struct parser *ps)
{
	const unsigned char *s = ps->p + ps->off;
	size_t left = ps->len - ps->off;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else {
		return fail(ps, -EINVAL, "invalid UTF-8");
	}
	if (left < n || s[1] < lo || s[1] > hi)
		return fail(ps, -EINVAL, "invalid UTF-8");
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return fail(ps, -EINVAL, "invalid UTF-8");
	if (put_bytes(ps, s, n))
		return ps->err;
	ps->off += n;
	return 0;
}

/* At the opening quote: the string's bytes appended to the pool with a
 * NUL after them; *off and *len say where. */
static int parse_string(struct parser *ps, size_t *off, size_t *len)
{
	ps->off++;
	*off = ps->doc->slen;
	for (;;) {
		int c = peek(ps);

		if (c < 0)
			return fail(ps, -EINVAL, "unterminated string");
		if (c == '"')
			break;
		if (c == '\\') {
			ps->off++;
			if (parse_escape(ps))
				return ps->err;
		} else if (c < 0x20) {
			return fail(ps, -EINVAL, "control character in a string");
		} else if (c < 0x80) {
			/* A run of plain ASCII at once. */
			size_t end = ps->off + 1;

			while (end < ps->len && ps->p[end] >= 0x20 && ps->p[end] < 0x80 &&
			       ps->p[end] != '"' && ps->p[end] != '\\')
				end++;
			if (put_bytes(ps, ps->p + ps->off, end - ps->off))
				return ps->err;
			ps->off = end;
		} else if (copy_utf8(ps)) {
			return ps->err;
		}
	}
	ps->off++;
	*len = ps->doc->slen - *off;
	return put_bytes(ps, "", 1);
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int parse_number(struct parser *ps, size_t idx)
{
	size_t start = ps->off;
	bool integral = true;
	char buf[JSON_MAX_NUMBER + 1];
	struct json *n;
	char *end;
	double d;

	if (peek(ps) == '-')
		ps->off++;
	if (peek(ps) == '0') {
		ps->off++;
	} else if (is_digit(peek(ps))) {
		while (is_digit(peek(ps)))
			ps->off++;
	} else {
		return fail(ps, -EINVAL, "invalid number");
	}
	if (peek(ps) == '.') {
		integral = false;
		ps->off++;
		if (!is_digit(peek(ps)))
			return fail(ps, -EINVAL, "invalid number: a digit must follow '.'");
		while (is_digit(peek(ps)))
			ps->off++;
	}
	if (peek(ps) == 'e' || peek(ps) == 'E') {
		integral = false;
		ps->off++;
		if (peek(ps) == '+' || peek(ps) == '-')
			ps->off++;
		if (!is_digit(peek(ps)))
			return fail(ps, -EINVAL, "invalid number: an exponent needs digits");
		while (is_digit(peek(ps)))
			ps->off++;
	}
	if (ps->off - start > JSON_MAX_NUMBER) {
		ps->off = start;
		return fail(ps, -E2BIG, "number longer than %d characters", JSON_MAX_NUMBER);
	}
	memcpy(buf, ps->p + start, ps->off - start);
	buf[ps->off - start] = '\0';
	errno = 0;
	d = strtod(buf, &end);
	if (!isfinite(d)) {
		ps->off = start;
		return fail(ps, -E2BIG, "number out of range");
	}
	n = &ps->doc->nodes[idx];
	n->d = d;
	if (integral) {
		long long v;

		errno = 0;
		v = strtoll(buf, &end, 10);
		if (!errno && !*end) {
			n->is_int = true;
			n->i = v;
		}
	}
	return 0;
}

static int parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if (ps->len - ps->off < n || memcmp(ps->p + ps->off, word, n))
		return fail(ps, -EINVAL, "unexpected character");
	ps->off += n;
	return 0;
}

static int parse_value(struct parser *ps, size_t *out);

/* Appends child to parent's members, after *last. */
static void link_member(struct json_doc *doc, size_t parent, size_t *last,
			size_t child)
{
	if (*last)
		doc->nodes[*last].next_i = child;
	else
		doc->nodes[parent].child_i = child;
	*last = child;
	doc->nodes[parent].len++;
}

static int key_cmp(const void *a, const void *b, void *arg)
{
	const struct json_doc *doc = arg;
	const struct json *x = &doc->nodes[*(const size_t *)a];
	const struct json *y = &doc->nodes[*(const size_t *)b];
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int r = memcmp(doc->strs + x->key_off, doc->strs + y->key_off, n);

	if (r)
		return r;
	return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

/* Duplicate keys would let two readers of one text disagree: refused.
 * Sorting keeps a big object from costing quadratic time. */
static int check_duplicates(struct parser *ps, size_t obj)
{
	struct json_doc *doc = ps->doc;
	size_t nr = doc->nodes[obj].len, i = 0, *idx;
	int err = 0;

	if (nr < 2)
		return 0;
	idx = malloc(nr * sizeof(*idx));
	if (!idx)
		return fail(ps, -ENOMEM, "out of memory");
	for (size_t m = doc->nodes[obj].child_i; m; m = doc->nodes[m].next_i)
		idx[i++] = m;
	qsort_r(idx, nr, sizeof(*idx), key_cmp, doc);
	for (i = 1; i < nr; i++) {
		if (!key_cmp(&idx[i - 1], &idx[i], doc)) {
			err = fail(ps, -EINVAL, "duplicate key \"%.40s\" in an object",
				   doc->strs + doc->nodes[idx[i]].key_off);
			break;
		}
	}
	free(idx);
	return err;
}

static int parse_object(struct parser *ps, size_t idx)
{
	struct json_doc *doc = ps->doc;
	size_t last = 0, key_off, key_len, child;

	ps->off++;
	skip_ws(ps);
	if (peek(ps) == '}') {
		ps->off++;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (peek(ps) != '"')
			return fail(ps, -EINVAL, peek(ps) < 0 ? "unexpected end of input" :
				    "expected a string key");
		if (parse_string(ps, &key_off, &key_len))
			return ps->err;
		skip_ws(ps);
		if (peek(ps) != ':')
			return fail(ps, -EINVAL, "expected ':' after an object key");
		ps->off++;
		if (parse_value(ps, &child))
			return ps->err;
		doc->nodes[child].key_off = key_off;
		doc->nodes[child].key_len = key_len;
		link_member(doc, idx, &last, child);
		skip_ws(ps);
		if (peek(ps) == ',') {
			ps->off++;
			continue;
		}
		if (peek(ps) == '}') {
			ps->off++;
			return check_duplicates(ps, idx);
		}
		return fail(ps, -EINVAL, peek(ps) < 0 ? "unexpected end of input" :
			    "expected ',' or '}' in an object");
	}
}

static int parse_array(struct parser *ps, size_t idx)
{
	size_t last = 0, child;

	ps->off++;
	skip_ws(ps);
	if (peek(ps) == ']') {
		ps->off++;
		return 0;
	}
	for (;;) {
		if (parse_value(ps, &child))
			return ps->err;
		link_member(ps->doc, idx, &last, child);
		skip_ws(ps);
		if (peek(ps) == ',') {
			ps->off++;
			continue;
		}
		if (peek(ps) == ']') {
			ps->off++;
			return 0;
		}
		return fail(ps, -EINVAL, peek(ps) < 0 ? "unexpected end of input" :
			    "expected ',' or ']' in an array");
	}
}

static int parse_value(struct parser *ps, size_t *out)
{
	struct json_doc *doc = ps->doc;
	int c, err = 0;
	size_t idx, off, len;

	skip_ws(ps);
	c = peek(ps);
	if (c < 0)
		return fail(ps, -EINVAL, "unexpected end of input");
	switch (c) {
	case '{':
	case '[':
		if (ps->depth == JSON_MAX_DEPTH)
			return fail(ps, -E2BIG, "nested deeper than %d", JSON_MAX_DEPTH);
		idx = new_node(ps, c == '{' ? JSON_OBJECT : JSON_ARRAY);
		if (idx == SIZE_MAX)
			return ps->err;
		ps->depth++;
		err = c == '{' ? parse_object(ps, idx) : parse_array(ps, idx);
		ps->depth--;
		break;
	case '"':
		idx = new_node(ps, JSON_STRING);
		if (idx == SIZE_MAX)
			return ps->err;
		err = parse_string(ps, &off, &len);
		doc->nodes[idx].s_off = off;
		doc->nodes[idx].len = len;
		break;
	case 't':
	case 'f':
		idx = new_node(ps, JSON_BOOL);
		if (idx == SIZE_MAX)
			return ps->err;
		doc->nodes[idx].b = c == 't';
		err = parse_literal(ps, c == 't' ? "true" : "false");
		break;
	case 'n':
		idx = new_node(ps, JSON_NULL);
		if (idx == SIZE_MAX)
			return ps->err;
		err = parse_literal(ps, "null");
		break;
	default:
		if (c != '-' && !is_digit(c))
			return fail(ps, -EINVAL, "unexpected character");
		idx = new_node(ps, JSON_NUMBER);
		if (idx == SIZE_MAX)
			return ps->err;
		err = parse_number(ps, idx);
		break;
	}
	*out = idx;
	return err;
}

/* Offsets to pointers, now that neither array moves again. */
static void fix_pointers(struct json_doc *doc)
{
	for (size_t i = 0; i < doc->nr; i++) {
		struct json *n = &doc->nodes[i];

		n->child = n->child_i ? &doc->nodes[n->child_i] : NULL;
		n->next = n->next_i ? &doc->nodes[n->next_i] : NULL;
		n->key = n->key_off != NO_KEY ? doc->strs + n->key_off : NULL;
		n->s = n->type == JSON_STRING ? doc->strs + n->s_off : NULL;
	}
}

int json_parse(struct json_doc *doc, const char *text, size_t len)
{
	struct parser ps = { .doc = doc, .p = (const unsigned char *)text, .len = len };
	size_t root;

	memset(doc, 0, sizeof(*doc));
	if (len > JSON_MAX_INPUT) {
		fail(&ps, -E2BIG, "input longer than %u bytes", JSON_MAX_INPUT);
		goto out;
	}
	if (parse_value(&ps, &root))
		goto out;
	skip_ws(&ps);
	if (ps.off != len) {
		fail(&ps, -EINVAL, "unexpected data after the value");
		goto out;
	}
	fix_pointers(doc);
	return 0;
out:
	free(doc->nodes);
	free(doc->strs);
	doc->nodes = NULL;
	doc->strs = NULL;
	doc->nr = doc->cap = doc->slen = doc->scap = 0;
	return ps.err;
}

void json_free(struct json_doc *doc)
{
	free(doc->nodes);
	free(doc->strs);
	memset(doc, 0, sizeof(*doc));
}

const struct json *json_root(const struct json_doc *doc)
{
	return doc->nr ? &doc->nodes[0] : NULL;
}

const struct json *json_get(const struct json *obj, const char *key)
{
	size_t len = strlen(key);
	const struct json *m;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	json_for_each(m, obj)
		if (m->key_len == len && !memcmp(m->key, key, len))
			return m;
	return NULL;
}

const char *json_str(const struct json *v)
{
	if (!v || v->type != JSON_STRING || strlen(v->s) != v->len)
		return NULL;
	return v->s;
}

bool json_int(const struct json *v, int64_t *out)
{
	if (!v || v->type != JSON_NUMBER || !v->is_int)
		return false;
	*out = v->i;
	return true;
}

bool json_bool(const struct json *v, bool *out)
{
	if (!v || v->type != JSON_BOOL)
		return false;
	*out = v->b;
	return true;
}

const struct json *json_first(const struct json *v)
{
	if (!v || (v->type != JSON_ARRAY && v->type != JSON_OBJECT))
		return NULL;
	return v->child;
}

/* The writer. */

void json_out_init(struct json_out *o, char *buf, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->buf = buf;
	o->cap = cap;
	if (cap)
		buf[0] = '\0';
	else
		o->bad = true;
}

static void out_bytes(struct json_out *o, const char *s, size_t n)
{
	if (o->bad)
		return;
	/* Room for the bytes and the NUL. */
	if (o->cap - o->len <= n) {
		o->bad = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* Before a value: the comma its level needs. */
static void out_sep(struct json_out *o)
{
	uint64_t bit = 1ULL << o->depth;

	if (o->after_key) {
		o->after_key = false;
		return;
	}
	if (o->need_comma & bit)
		out_bytes(o, ",", 1);
	o->need_comma |= bit;
}

void json_out_open(struct json_out *o, char c)
{
	out_sep(o);
	out_bytes(o, &c, 1);
	if (o->depth == 62) {
		o->bad = true;
		return;
	}
	o->depth++;
	o->need_comma &= ~(1ULL << o->depth);
}

void json_out_close(struct json_out *o, char c)
{
	if (!o->depth) {
		o->bad = true;
		return;
	}
	o->depth--;
	out_bytes(o, &c, 1);
}

static void out_quoted(struct json_out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	out_bytes(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = *s;
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			esc[1] = c;
			out_bytes(o, esc, 2);
		} else if (c == '\n') {
			out_bytes(o, "\\n", 2);
		} else if (c < 0x20 || c == 0x7f) {
			out_bytes(o, esc, 6);
		} else {
			out_bytes(o, (const char *)&c, 1);
		}
	}
	out_bytes(o, "\"", 1);
}

void json_out_key(struct json_out *o, const char *key)
{
	out_sep(o);
	out_quoted(o, key);
	out_bytes(o, ":", 1);
	o->after_key = true;
}

void json_out_str(struct json_out *o, const char *s)
{
	out_sep(o);
	out_quoted(o, s);
}

void json_out_int(struct json_out *o, int64_t v)
{
	char buf[24];

	out_sep(o);
	out_bytes(o, buf, snprintf(buf, sizeof(buf), "%" PRId64, v));
}

void json_out_bool(struct json_out *o, bool v)
{
	out_sep(o);
	out_bytes(o, v ? "true" : "false", v ? 4 : 5);
}

void json_out_null(struct json_out *o)
{
	out_sep(o);
	out_bytes(o, "null", 4);
}

long json_out_done(struct json_out *o)
{
	if (o->bad || o->depth || o->after_key) {
		if (o->cap)
			o->buf[0] = '\0';
		return -ENOSPC;
	}
	return o->len;
}
