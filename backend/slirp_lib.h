/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libslirp, loaded when --net user asks for it (dlopen at set-up), so
 * that a VM without user networking maps neither libslirp nor the glib
 * it pulls in. slirp_lib_load() fills the calls backend/slirp.c makes;
 * 0, or -ENOENT after one error line naming the package to install.
 */
#ifndef KVMINI_SLIRP_LIB_H
#define KVMINI_SLIRP_LIB_H

#include <libslirp.h>

/* Debian 12's libslirp0; its soname has said 0 since libslirp 4.0. */
#define SLIRP_LIB_SONAME	"libslirp.so.0"

struct slirp_lib {
	__typeof__(slirp_new) *new;
	__typeof__(slirp_cleanup) *cleanup;
	__typeof__(slirp_input) *input;
	__typeof__(slirp_pollfds_fill) *pollfds_fill;
	__typeof__(slirp_pollfds_poll) *pollfds_poll;
	__typeof__(slirp_handle_timer) *handle_timer;
	__typeof__(slirp_add_hostfwd) *add_hostfwd;
};

int slirp_lib_load(const struct slirp_lib **out);

#endif
