// SPDX-License-Identifier: GPL-2.0
/* The strict JSON reader and the reply writer (lib/json.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "lib/json.h"

/* Parses exactly len bytes from their own allocation, so ASan sees a
 * read one past the end. */
static int parse_exact(struct json_doc *doc, const char *text, size_t len)
{
	char *copy = malloc(len ? len : 1);
	int err;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, text, len);
	err = json_parse(doc, copy, len);
	free(copy);
	return err;
}

static int parse(struct json_doc *doc, const char *text)
{
	return parse_exact(doc, text, strlen(text));
}

static const char *const valid[] = {
	"0", "-0", "1", "-1", "1.5", "1e3", "1E+3", "1e-3", "-0.0e0",
	"\"\"", "\"a\"", "true", "false", "null", "[]", "{}", " [ ] ",
	"\t\r\n{}\n", "[1,2,3]", "{\"a\":1,\"b\":[true,false,null]}",
	"[[[[[]]]]]", "{\"a\":{\"b\":{\"c\":\"d\"}}}", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	"\"\\u0041\"", "\"\\ud83d\\ude00\"", "\"\xc3\xa9\"", "\"\xe2\x82\xac\"",
	"\"\xf0\x9f\x98\x80\"", "\"\xf4\x8f\xbf\xbf\"", "\"\xed\x9f\xbf\"",
	"9223372036854775807", "-9223372036854775808", "9223372036854775808",
	"{\"a\":1,\"A\":2}", "{\"\":0}", "[\"\x7f\"]",
};

static const char *const invalid[] = {
	"", " ", "[", "]", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{,}",
	"{\"a\"}", "{\"a\" 1}", "{a:1}", "{1:1}", "[1 2]", "01", "-", "+1",
	"1.", ".1", "1e", "1e+", "--1", "0x10", "NaN", "Infinity", "1e999",
	"tru", "truee", "nul", "True", "'a'", "\"a", "\"\\x\"", "\"\\u12\"",
	"\"\\u12G4\"", "\"\\ud83d\"", "\"\\ud83dx\"", "\"\\ud83d\\u0041\"",
	"\"\\ude00\"", "\"\x01\"", "\"\n\"", "\"\xc0\xaf\"", "\"\xc1\xbf\"",
	"\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf0\x80\x80\xaf\"",
	"\"\xf4\x90\x80\x80\"", "\"\xf5\x80\x80\x80\"", "\"\x80\"", "\"\xc3\"",
	"\"\xe2\x82\"", "\xef\xbb\xbf{}", "{} {}", "[] x", "1 2",
	"{\"a\":1,\"a\":2}", "{\"k\":{\"x\":1},\"b\":0,\"k\":[]}", "[1]\0",
	"/* */ 1",
};

START_TEST(test_json_valid_corpus)
{
	struct json_doc doc;

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		int err = parse(&doc, valid[i]);

		ck_assert_msg(!err, "refused %s: %s", valid[i], doc.err);
		ck_assert_ptr_nonnull(json_root(&doc));
		json_free(&doc);
	}
}
END_TEST

START_TEST(test_json_invalid_corpus)
{
	struct json_doc doc;

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		/* "[1]\0" is four bytes: the NUL is data after the value. */
		size_t len = strlen(invalid[i]) + !strcmp(invalid[i], "[1]");
		int err = parse_exact(&doc, invalid[i], len);

		ck_assert_msg(err == -EINVAL || err == -E2BIG, "took %s", invalid[i]);
		ck_assert_msg(!strncmp(doc.err, "offset ", 7), "%s", doc.err);
		ck_assert_ptr_null(json_root(&doc));
		ck_assert_ptr_null(doc.nodes);
	}
}
END_TEST

START_TEST(test_json_error_offset)
{
	struct json_doc doc;

	ck_assert_int_eq(parse(&doc, "{\"a\": [1, 2,, 3]}"), -EINVAL);
	ck_assert_str_eq(doc.err, "offset 12: unexpected character");
	ck_assert_int_eq(parse(&doc, "{\"op\":\"x\",\"op\":1}"), -EINVAL);
	ck_assert_ptr_nonnull(strstr(doc.err, "duplicate key \"op\""));
}
END_TEST

START_TEST(test_json_lookups)
{
	const char *text = "{\"op\":\"pause\",\"n\":-42,\"f\":2.5,\"big\":1e2,"
			   "\"ok\":true,\"nil\":null,\"args\":[\"sh\",\"-c\",\"true\"],"
			   "\"o\":{\"x\":{}}}";
	const struct json *root, *args, *m;
	struct json_doc doc;
	const char *want[] = { "sh", "-c", "true" };
	int64_t i;
	bool b;
	int n = 0;

	ck_assert_int_eq(parse(&doc, text), 0);
	root = json_root(&doc);
	ck_assert_int_eq(root->type, JSON_OBJECT);
	ck_assert_uint_eq(root->len, 8);
	ck_assert_str_eq(json_str(json_get(root, "op")), "pause");
	ck_assert(json_int(json_get(root, "n"), &i));
	ck_assert_int_eq(i, -42);
	ck_assert(!json_int(json_get(root, "f"), &i));
	ck_assert(json_get(root, "f")->d == 2.5);
	ck_assert(!json_int(json_get(root, "big"), &i));
	ck_assert(json_get(root, "big")->d == 100.0);
	ck_assert(json_bool(json_get(root, "ok"), &b) && b);
	ck_assert(!json_bool(json_get(root, "nil"), &b));
	ck_assert_int_eq(json_get(root, "nil")->type, JSON_NULL);
	/* Wrong types and missing keys answer NULL, and NULL goes through. */
	ck_assert_ptr_null(json_str(json_get(root, "n")));
	ck_assert_ptr_null(json_get(root, "missing"));
	ck_assert_ptr_null(json_get(json_get(root, "missing"), "x"));
	ck_assert_ptr_null(json_get(json_get(root, "args"), "x"));
	ck_assert_ptr_null(json_first(json_get(root, "op")));
	ck_assert(!json_int(NULL, &i));
	ck_assert_ptr_nonnull(json_get(json_get(root, "o"), "x"));
	ck_assert_ptr_null(json_first(json_get(json_get(root, "o"), "x")));
	args = json_get(root, "args");
	ck_assert_uint_eq(args->len, 3);
	json_for_each(m, args) {
		ck_assert_ptr_null(m->key);
		ck_assert_str_eq(json_str(m), want[n++]);
	}
	ck_assert_int_eq(n, 3);
	n = 0;
	json_for_each(m, root) {
		ck_assert_ptr_nonnull(m->key);
		n++;
	}
	ck_assert_int_eq(n, 8);
	json_free(&doc);
	ck_assert_ptr_null(json_root(&doc));
}
END_TEST

START_TEST(test_json_numbers)
{
	struct json_doc doc;
	int64_t i;

	ck_assert_int_eq(parse(&doc, "9223372036854775807"), 0);
	ck_assert(json_int(json_root(&doc), &i));
	ck_assert(i == INT64_MAX);
	json_free(&doc);
	ck_assert_int_eq(parse(&doc, "-9223372036854775808"), 0);
	ck_assert(json_int(json_root(&doc), &i));
	ck_assert(i == INT64_MIN);
	json_free(&doc);
	/* Past int64: a double only. */
	ck_assert_int_eq(parse(&doc, "9223372036854775808"), 0);
	ck_assert(!json_int(json_root(&doc), &i));
	ck_assert(json_root(&doc)->d > 9.2e18);
	json_free(&doc);
	ck_assert_int_eq(parse(&doc, "-0"), 0);
	ck_assert(json_int(json_root(&doc), &i) && i == 0);
	json_free(&doc);
	ck_assert_int_eq(parse(&doc, "1e-400"), 0);	/* underflow: 0 */
	ck_assert(json_root(&doc)->d == 0.0);
	json_free(&doc);
	ck_assert_int_eq(parse(&doc, "-1e400"), -E2BIG);
	/* A long number token is refused, not cut. */
	char num[JSON_MAX_NUMBER + 2];

	memset(num, '1', sizeof(num) - 1);
	num[sizeof(num) - 1] = '\0';
	ck_assert_int_eq(parse(&doc, num), -E2BIG);
	num[sizeof(num) - 2] = '\0';
	ck_assert_int_eq(parse(&doc, num), 0);
	json_free(&doc);
}
END_TEST

START_TEST(test_json_escapes)
{
	struct json_doc doc;
	const struct json *v;

	ck_assert_int_eq(parse(&doc, "\"a\\u00e9\\u20ac\\ud83d\\ude00\\n\\/\""), 0);
	ck_assert_str_eq(json_str(json_root(&doc)),
			 "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n/");
	json_free(&doc);
	ck_assert_int_eq(parse(&doc, "\"\\uDBFF\\uDFFF\""), 0);
	ck_assert_str_eq(json_str(json_root(&doc)), "\xf4\x8f\xbf\xbf");
	json_free(&doc);
	/* A NUL inside: the length has it, json_str() refuses it. */
	ck_assert_int_eq(parse(&doc, "{\"k\\u0000x\":\"ab\\u0000c\"}"), 0);
	v = json_first(json_root(&doc));
	ck_assert_uint_eq(v->len, 4);
	ck_assert(!memcmp(v->s, "ab\0c", 5));
	ck_assert_ptr_null(json_str(v));
	ck_assert_uint_eq(v->key_len, 3);
	ck_assert_ptr_null(json_get(json_root(&doc), "k"));
	json_free(&doc);
}
END_TEST

static char *nested(unsigned int depth, const char *open, const char *close)
{
	char *s = malloc(2 * depth + 1);

	ck_assert_ptr_nonnull(s);
	for (unsigned int i = 0; i < depth; i++) {
		s[i] = open[i % strlen(open)];
		s[2 * depth - 1 - i] = close[i % strlen(close)];
	}
	s[2 * depth] = '\0';
	return s;
}

START_TEST(test_json_depth)
{
	struct json_doc doc;
	char *s = nested(JSON_MAX_DEPTH, "[", "]");

	ck_assert_int_eq(parse(&doc, s), 0);
	json_free(&doc);
	free(s);
	s = nested(JSON_MAX_DEPTH + 1, "[", "]");
	ck_assert_int_eq(parse(&doc, s), -E2BIG);
	ck_assert_ptr_nonnull(strstr(doc.err, "nested deeper"));
	free(s);
	/* Deep without an end: refused at the limit, not by running out. */
	s = nested(100000, "[", "]");
	s[100000] = '\0';
	ck_assert_int_eq(parse(&doc, s), -E2BIG);
	free(s);
}
END_TEST

START_TEST(test_json_size_limit)
{
	struct json_doc doc;
	size_t len = JSON_MAX_INPUT + 1;
	char *s = malloc(len);

	ck_assert_ptr_nonnull(s);
	memset(s, ' ', len);
	s[0] = '0';
	ck_assert_int_eq(json_parse(&doc, s, len), -E2BIG);
	ck_assert_int_eq(json_parse(&doc, s, len - 1), 0);
	json_free(&doc);
	free(s);
}
END_TEST

/* Every strict prefix of an object is malformed, and refused cleanly. */
START_TEST(test_json_truncated_everywhere)
{
	const char *text = "{\"op\":\"st\\u00e9\\ud83d\\ude00\xc3\xa9\",\"a\":[1,-2.5e3,"
			   "true,false,null,{\"x\":[]}],\"n\":12}";
	size_t len = strlen(text);
	struct json_doc doc;

	for (size_t n = 0; n < len; n++) {
		int err = parse_exact(&doc, text, n);

		ck_assert_msg(err == -EINVAL, "prefix %zu: %d", n, err);
		ck_assert_ptr_null(json_root(&doc));
	}
	ck_assert_int_eq(parse_exact(&doc, text, len), 0);
	json_free(&doc);
}
END_TEST

START_TEST(test_json_writer)
{
	struct json_out o;
	struct json_doc doc;
	char buf[256];

	json_out_init(&o, buf, sizeof(buf));
	json_out_open(&o, '{');
	json_out_key(&o, "ok");
	json_out_bool(&o, false);
	json_out_key(&o, "error");
	json_out_str(&o, "a \"q\" \\ \n\x01\x7f \xc3\xa9");
	json_out_key(&o, "list");
	json_out_open(&o, '[');
	json_out_int(&o, -5);
	json_out_null(&o);
	json_out_open(&o, '{');
	json_out_close(&o, '}');
	json_out_open(&o, '[');
	json_out_close(&o, ']');
	json_out_close(&o, ']');
	json_out_key(&o, "n");
	json_out_int(&o, INT64_MIN);
	json_out_close(&o, '}');
	ck_assert_int_eq(json_out_done(&o), strlen(buf));
	ck_assert_str_eq(buf, "{\"ok\":false,\"error\":\"a \\\"q\\\" \\\\ \\n\\u0001\\u007f "
			 "\xc3\xa9\",\"list\":[-5,null,{},[]],\"n\":-9223372036854775808}");
	/* What it writes, the reader takes back. */
	ck_assert_int_eq(parse(&doc, buf), 0);
	ck_assert_str_eq(json_str(json_get(json_root(&doc), "error")),
			 "a \"q\" \\ \n\x01\x7f \xc3\xa9");
	json_free(&doc);
}
END_TEST

START_TEST(test_json_writer_overflow)
{
	struct json_out o;
	char buf[64];

	/* Every buffer size: fits exactly when there is room for the NUL. */
	for (size_t cap = 0; cap <= 16; cap++) {
		json_out_init(&o, buf, cap);
		json_out_open(&o, '{');
		json_out_key(&o, "ok");
		json_out_bool(&o, true);
		json_out_close(&o, '}');
		if (cap > strlen("{\"ok\":true}")) {
			ck_assert_int_eq(json_out_done(&o), 11);
			ck_assert_str_eq(buf, "{\"ok\":true}");
		} else {
			ck_assert_int_eq(json_out_done(&o), -ENOSPC);
			if (cap)
				ck_assert_str_eq(buf, "");
		}
	}
	/* Unbalanced: refused. */
	json_out_init(&o, buf, sizeof(buf));
	json_out_open(&o, '[');
	ck_assert_int_eq(json_out_done(&o), -ENOSPC);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_json_valid_corpus);
	tcase_add_test(tc, test_json_invalid_corpus);
	tcase_add_test(tc, test_json_error_offset);
	tcase_add_test(tc, test_json_lookups);
	tcase_add_test(tc, test_json_numbers);
	tcase_add_test(tc, test_json_escapes);
	tcase_add_test(tc, test_json_depth);
	tcase_add_test(tc, test_json_size_limit);
	tcase_add_test(tc, test_json_truncated_everywhere);
	tcase_add_test(tc, test_json_writer);
	tcase_add_test(tc, test_json_writer_overflow);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(json_suite)
