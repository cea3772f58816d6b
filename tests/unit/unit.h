/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Check suites register themselves, so adding a test file needs no edit
 * elsewhere: define `static Suite *foo_suite(void)` and write
 * UNIT_SUITE(foo_suite) below it.
 */
#ifndef KVMINI_UNIT_H
#define KVMINI_UNIT_H

#include <check.h>

void unit_register(Suite *(*fn)(void));

/*
 * The tag of test cases that read the real guest kernels (build/guest,
 * build/guest-arm64): `make unit` leaves them out (CK_EXCLUDE_TAGS) so
 * that it needs no kernel build; `make unit-kernels` runs only them.
 */
#define UNIT_TAG_KERNEL	"kernel"

#define UNIT_SUITE(fn)							\
	static void __attribute__((constructor)) fn##_register(void)	\
	{								\
		unit_register(fn);					\
	}

#endif
