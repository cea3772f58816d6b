// SPDX-License-Identifier: GPL-2.0
/* Runs every suite that registered itself with UNIT_SUITE(). */
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "util.h"

#define UNIT_MAX_SUITES 64

static Suite *(*suites[UNIT_MAX_SUITES])(void);
static int nr_suites;

void unit_register(Suite *(*fn)(void))
{
	if (nr_suites == UNIT_MAX_SUITES)
		abort();
	suites[nr_suites++] = fn;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if (!nr_suites)
		return EXIT_FAILURE;
	sr = srunner_create(suites[0]());
	for (int i = 1; i < nr_suites; i++)
		srunner_add_suite(sr, suites[i]());
	unit_skips_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	/* Check counts a skipped test as passed: say how many were. */
	printf("unit: %u skipped (the SKIP lines say why)\n", unit_skips());
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
