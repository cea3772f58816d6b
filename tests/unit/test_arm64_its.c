// SPDX-License-Identifier: GPL-2.0
/*
 * The GICv3 ITS's snapshot section (arch/arm64/its_state.c, built into
 * the unit tests on any host): a state put and got back field by field;
 * every truncation and every extra byte refused; a section for another
 * number of vCPUs refused; each hostile value (bits KVM never reads
 * back) refused one by one, and the values KVM does give accepted.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "arch/arm64/its_state.h"
#include "lib/sbuf.h"

#define CPUS	3

static struct its_redist_state rd_in[CPUS], rd_out[CPUS];

static struct its_state sample(void)
{
	struct its_state s = {
		.cpus = CPUS, .rd = rd_in,
		.iidr = 0x0100043b,		/* KVM's: ARM, revision 1 */
		.cbaser = 0xb800000040010000ULL,
		.creadr = 0x120, .cwriter = 0x140,
		.ctlr = 1ULL | 1ULL << 31,	/* enabled, quiescent */
	};

	for (int i = 0; i < CPUS; i++)
		rd_in[i] = (struct its_redist_state){
			.propbaser = 0x780000004005000fULL + i,
			.pendbaser = 0x4000000040100000ULL + ((uint64_t)i << 16),
			.ctlr = 1,
		};
	for (int n = 0; n < ITS_STATE_BASERS; n++)
		s.baser[n] = n < 2 ? 0x8800000040200000ULL + n * 0x10000 : 0;
	return s;
}

static struct sbuf put(const struct its_state *s)
{
	struct sbuf b = { 0 };

	its_state_put(&b, s);
	ck_assert(sbuf_ok(&b));
	return b;
}

static int get(const struct sbuf *b, size_t len, unsigned int cpus, struct its_state *out)
{
	*out = (struct its_state){ .cpus = cpus, .rd = rd_out };
	return its_state_get(b->data, len, out);
}

START_TEST(test_roundtrip)
{
	struct its_state s = sample(), o;
	struct sbuf b = put(&s);

	ck_assert_uint_eq(b.len, its_state_size(CPUS));
	ck_assert_uint_eq(b.len, 4 + CPUS * 20 + 13 * 8);
	ck_assert_int_eq(get(&b, b.len, CPUS, &o), 0);
	for (int i = 0; i < CPUS; i++) {
		ck_assert_uint_eq(o.rd[i].propbaser, rd_in[i].propbaser);
		ck_assert_uint_eq(o.rd[i].pendbaser, rd_in[i].pendbaser);
		ck_assert_uint_eq(o.rd[i].ctlr, rd_in[i].ctlr);
	}
	ck_assert_uint_eq(o.iidr, s.iidr);
	ck_assert_uint_eq(o.cbaser, s.cbaser);
	ck_assert_uint_eq(o.creadr, s.creadr);
	ck_assert_uint_eq(o.cwriter, s.cwriter);
	for (int n = 0; n < ITS_STATE_BASERS; n++)
		ck_assert_uint_eq(o.baser[n], s.baser[n]);
	ck_assert_uint_eq(o.ctlr, s.ctlr);
	/* Little-endian, the vCPU count first. */
	ck_assert_uint_eq(b.data[0], CPUS);
	ck_assert_uint_eq(b.data[1] | b.data[2] | b.data[3], 0);
	sbuf_free(&b);
}
END_TEST

/* Every length but the right one, shorter and one longer. */
START_TEST(test_truncated)
{
	struct its_state s = sample(), o;
	struct sbuf b = put(&s);
	size_t len = b.len;

	sbuf_put_u8(&b, 0);
	ck_assert(sbuf_ok(&b));
	for (size_t n = 0; n < len; n++)
		ck_assert_msg(get(&b, n, CPUS, &o) == -EINVAL, "%zu of %zu bytes accepted", n, len);
	ck_assert_int_eq(get(&b, len + 1, CPUS, &o), -EINVAL);
	ck_assert_int_eq(get(&b, len, CPUS, &o), 0);
	sbuf_free(&b);
}
END_TEST

/* A section for another VM's vCPUs: by the length, and by the count
 * itself in a section of the right length. */
START_TEST(test_cpus)
{
	struct its_state s = sample(), o;
	struct sbuf b = put(&s);

	ck_assert_int_eq(get(&b, b.len, CPUS - 1, &o), -EINVAL);
	ck_assert_int_eq(get(&b, b.len, CPUS + 1, &o), -EINVAL);
	b.data[0] = CPUS + 1;
	ck_assert_int_eq(get(&b, b.len, CPUS, &o), -EINVAL);
	b.data[0] = CPUS;
	b.data[3] = 0x80;
	ck_assert_int_eq(get(&b, b.len, CPUS, &o), -EINVAL);
	/* A count the caller never has room for. */
	ck_assert_int_eq(get(&b, b.len, 1U << 31, &o), -EINVAL);
	sbuf_free(&b);
}
END_TEST

struct hostile {
	const char *what;
	void (*set)(struct its_state *s, bool bad);
};

static void set_gicr_ctlr(struct its_state *s, bool bad)
{
	s->rd[1].ctlr = bad ? 0x10 : 0xf;
}

static void set_iidr(struct its_state *s, bool bad)
{
	s->iidr = bad ? 1ULL << 32 : UINT32_MAX;
}

static void set_creadr(struct its_state *s, bool bad)
{
	s->creadr = bad ? 0x121 : 0xfffe0;
}

static void set_creadr_high(struct its_state *s, bool bad)
{
	s->creadr = bad ? 0x100000 : 0;
}

static void set_cwriter(struct its_state *s, bool bad)
{
	s->cwriter = bad ? 0x10 : 0xfffe0;
}

static void set_cwriter_high(struct its_state *s, bool bad)
{
	s->cwriter = bad ? 1ULL << 63 : 0x20;
}

static void set_gits_ctlr(struct its_state *s, bool bad)
{
	s->ctlr = bad ? 2 : 0;
}

static void set_gits_ctlr_high(struct its_state *s, bool bad)
{
	s->ctlr = bad ? 1ULL << 32 : 1ULL << 31;
}

static const struct hostile hostile[] = {
	{ "GICR_CTLR past RWP", set_gicr_ctlr },
	{ "GITS_IIDR past 32 bits", set_iidr },
	{ "GITS_CREADR unaligned", set_creadr },
	{ "GITS_CREADR past bit 19", set_creadr_high },
	{ "GITS_CWRITER unaligned", set_cwriter },
	{ "GITS_CWRITER's top bit", set_cwriter_high },
	{ "GITS_CTLR reserved bit", set_gits_ctlr },
	{ "GITS_CTLR past 32 bits", set_gits_ctlr_high },
};

/* Each hostile value refused alone; its good neighbour accepted, so the
 * refusal is the value's. */
START_TEST(test_hostile)
{
	const struct hostile *h = &hostile[_i];
	struct its_state s = sample(), o;
	struct sbuf b;

	h->set(&s, false);
	b = put(&s);
	ck_assert_msg(get(&b, b.len, CPUS, &o) == 0, "%s: the good value refused", h->what);
	sbuf_free(&b);
	s = sample();
	h->set(&s, true);
	b = put(&s);
	ck_assert_msg(get(&b, b.len, CPUS, &o) == -EINVAL, "%s: accepted", h->what);
	sbuf_free(&b);
}
END_TEST

static Suite *arm64_its_suite(void)
{
	Suite *s = suite_create("arm64_its");
	TCase *tc = tcase_create("section");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_cpus);
	tcase_add_loop_test(tc, test_hostile, 0, sizeof(hostile) / sizeof(hostile[0]));
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(arm64_its_suite);
