/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small strict JSON reader (RFC 8259) and a writer for short replies.
 *
 * Reading: json_parse() turns untrusted text into a tree owned by a
 * struct json_doc, or refuses it with one message naming the byte offset
 * (doc->err). Strict: UTF-8 only (no BOM, no overlong forms, no encoded
 * surrogates), no trailing commas, no leading zeros, no lone surrogate
 * escapes, no duplicate keys in an object, nothing after the value. Bounds:
 * JSON_MAX_INPUT bytes, JSON_MAX_DEPTH nesting, number tokens of at most
 * JSON_MAX_NUMBER characters and finite doubles; the tree's memory is
 * linear in the input's size. Strings are NUL-terminated UTF-8 and may
 * hold a NUL from \u0000: json_str() refuses those, so a C string is never
 * silently shorter than the JSON one.
 *
 * Lookups take NULL and wrong types and answer NULL/false, so a caller
 * chains them and checks once: json_str(json_get(root, "op")).
 *
 * Writing: struct json_out builds one JSON text into a caller's buffer,
 * commas placed for it; overflowing makes it sticky-bad, and
 * json_out_done() says so.
 */
#ifndef KVMINI_JSON_H
#define KVMINI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_INPUT	(4u << 20)
#define JSON_MAX_DEPTH	64
#define JSON_MAX_NUMBER	64

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json {
	enum json_type type;
	bool b;			/* JSON_BOOL */
	bool is_int;		/* JSON_NUMBER: integral and fits i */
	int64_t i;
	double d;		/* JSON_NUMBER, always */
	const char *s;		/* JSON_STRING, NUL-terminated */
	size_t len;		/* string bytes, or array/object members */
	const char *key;	/* a member of an object: its name */
	size_t key_len;
	const struct json *child;	/* first member of an array/object */
	const struct json *next;	/* the next member of its parent */
	/* Private to json.c: the tree is built with offsets. */
	size_t key_off, s_off;
	size_t child_i, next_i;	/* 0: none (node 0 is the root) */
};

struct json_doc {
	struct json *nodes;
	size_t nr, cap;
	char *strs;
	size_t slen, scap;
	char err[128];
};

/* 0, or -EINVAL (malformed), -E2BIG (a limit), -ENOMEM; doc->err then
 * holds one line with the offset. The doc is freed on failure too. */
int json_parse(struct json_doc *doc, const char *text, size_t len);
void json_free(struct json_doc *doc);
const struct json *json_root(const struct json_doc *doc);

const struct json *json_get(const struct json *obj, const char *key);
/* The string, or NULL if v is not one or holds a NUL. */
const char *json_str(const struct json *v);
/* False if v is not an integral number within int64. */
bool json_int(const struct json *v, int64_t *out);
bool json_bool(const struct json *v, bool *out);
/* Members of an array or object in order (NULL for other types). */
const struct json *json_first(const struct json *v);
#define json_for_each(m, v) for ((m) = json_first(v); (m); (m) = (m)->next)

struct json_out {
	char *buf;
	size_t cap, len;
	bool bad;
	bool after_key;
	unsigned int depth;
	uint64_t need_comma;	/* one bit per open level */
};

void json_out_init(struct json_out *o, char *buf, size_t cap);
/* c: '{' or '[' to open, '}' or ']' to close. At most 63 levels. */
void json_out_open(struct json_out *o, char c);
void json_out_close(struct json_out *o, char c);
void json_out_key(struct json_out *o, const char *key);
/* s: UTF-8; quotes, backslashes and control characters are escaped. */
void json_out_str(struct json_out *o, const char *s);
void json_out_int(struct json_out *o, int64_t v);
void json_out_bool(struct json_out *o, bool v);
void json_out_null(struct json_out *o);
/* The text's length (NUL-terminated in buf), or -ENOSPC if it did not fit
 * (buf then holds an empty string). */
long json_out_done(struct json_out *o);

#endif
