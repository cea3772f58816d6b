// SPDX-License-Identifier: GPL-2.0
/* libslirp on demand: see slirp_lib.h. Builds without it have slirp.c's
 * stubs and leave this out. */
#ifdef KVMINI_HAVE_SLIRP
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>

#include "backend/slirp_lib.h"
#include "lib/log.h"

/* Set-up only, before any thread but the main one: no lock needed. */
static struct slirp_lib slirp_lib;
static bool slirp_lib_loaded;

static void *slirp_lib_sym(void *h, const char *name, bool *ok)
{
	void *p = dlsym(h, name);

	if (!p && *ok) {
		pr_err("--net user: %s has no %s (libslirp 4.7 or later needed)",
		       SLIRP_LIB_SONAME, name);
		*ok = false;
	}
	return p;
}

int slirp_lib_load(const struct slirp_lib **out)
{
	struct slirp_lib *l = &slirp_lib;
	bool ok = true;
	void *h;

	if (!slirp_lib_loaded) {
		h = dlopen(SLIRP_LIB_SONAME, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			pr_err("--net user needs %s: %s (Debian: apt install libslirp0)",
			       SLIRP_LIB_SONAME, dlerror());
			return -ENOENT;
		}
		l->new = slirp_lib_sym(h, "slirp_new", &ok);
		l->cleanup = slirp_lib_sym(h, "slirp_cleanup", &ok);
		l->input = slirp_lib_sym(h, "slirp_input", &ok);
		l->pollfds_fill = slirp_lib_sym(h, "slirp_pollfds_fill", &ok);
		l->pollfds_poll = slirp_lib_sym(h, "slirp_pollfds_poll", &ok);
		l->handle_timer = slirp_lib_sym(h, "slirp_handle_timer", &ok);
		l->add_hostfwd = slirp_lib_sym(h, "slirp_add_hostfwd", &ok);
		if (!ok) {
			dlclose(h);
			return -ENOENT;
		}
		/* Never closed: libslirp and glib stay until kvmini exits. */
		slirp_lib_loaded = true;
	}
	*out = l;
	return 0;
}
#endif
