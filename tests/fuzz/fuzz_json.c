// SPDX-License-Identifier: GPL-2.0
/*
 * The strict JSON reader (lib/json.h): the input is the text, as a
 * control-socket client or an OCI config.json would send it.
 *
 * Held to json.h's promises: a refusal leaves no tree and one message
 * that starts with the offset; a tree is well formed (members counted
 * right, keys on an object's members only, strings NUL-terminated at
 * their length, no deeper than JSON_MAX_DEPTH, no more nodes than input
 * bytes), every string the reader hands out goes through the writer and
 * back unchanged, and an integer keeps its value.
 */
#include <errno.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "lib/json.h"

static size_t walk(const struct json *v, unsigned int depth)
{
	const struct json *m;
	size_t nodes = 1, count = 0;

	fuzz_check(depth <= JSON_MAX_DEPTH);
	switch (v->type) {
	case JSON_STRING:
		fuzz_check(v->s && v->s[v->len] == '\0');
		fuzz_check(!json_str(v) == (strlen(v->s) != v->len));
		break;
	case JSON_NUMBER:
		if (v->is_int)
			fuzz_check((double)v->i == v->d || v->i > (1LL << 53) ||
				   v->i < -(1LL << 53));
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		json_for_each(m, v) {
			fuzz_check(!m->key == (v->type == JSON_ARRAY));
			if (m->key) {
				fuzz_check(m->key[m->key_len] == '\0');
				if (strlen(m->key) == m->key_len)
					fuzz_check(json_get(v, m->key) == m);
			}
			nodes += walk(m, depth + 1);
			count++;
		}
		fuzz_check(count == v->len);
		break;
	default:
		fuzz_check(v->type == JSON_NULL || v->type == JSON_BOOL);
		break;
	}
	return nodes;
}

/* A string out through the writer and back through the reader. */
static void round_trip(const struct json *v)
{
	static char buf[6 * 4096 + 16];
	struct json_doc doc;
	struct json_out o;
	long n;

	if (v->type != JSON_STRING || !json_str(v) || v->len > 4096)
		return;
	json_out_init(&o, buf, sizeof(buf));
	json_out_open(&o, '[');
	json_out_str(&o, v->s);
	json_out_close(&o, ']');
	n = json_out_done(&o);
	fuzz_check(n > 0);
	fuzz_check(json_parse(&doc, buf, n) == 0);
	fuzz_check(!strcmp(json_str(json_first(json_root(&doc))), v->s));
	json_free(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct json *root, *m;
	struct json_doc doc;
	int err = json_parse(&doc, (const char *)data, size);

	if (err) {
		fuzz_check(err == -EINVAL || err == -E2BIG || err == -ENOMEM);
		fuzz_check(!json_root(&doc) && !doc.nodes && !doc.strs);
		fuzz_check(!strncmp(doc.err, "offset ", 7));
		return 0;
	}
	root = json_root(&doc);
	fuzz_check(root && !root->key && !root->next);
	fuzz_check(walk(root, 0) == doc.nr && doc.nr <= size);
	round_trip(root);
	json_for_each(m, root)
		round_trip(m);
	json_free(&doc);
	return 0;
}
