/* SPDX-License-Identifier: GPL-2.0 */
/*
 * container_of(ptr, type, member): the struct type that holds *ptr as its
 * member, as in Linux. The event loop hands its handlers the struct
 * ev_handler they registered; this gets them back to their own state.
 */
#ifndef KVMINI_CONTAINER_OF_H
#define KVMINI_CONTAINER_OF_H

#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
