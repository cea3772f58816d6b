// SPDX-License-Identifier: GPL-2.0
/*
 * A bundle's config.json into an exec job (docs/oci.md lists the fields).
 * The file is the caller's, not the guest's, but it is still checked
 * whole before anything starts: each field kvmini uses, its type and
 * range, with one error line naming it. Fields about the host's own
 * isolation (namespaces, capabilities, seccomp, cgroups other than the
 * VM's size) are accepted and left alone: the VM is the boundary. A field
 * that would change what runs and that kvmini cannot honour yet (a
 * terminal, hooks, a mount kind it lacks) is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/json.h"
#include "oci/oci.h"

#define OCI_CONFIG_FILE		"config.json"
#define OCI_MEM_DEFAULT		(512ULL << 20)	/* as kvmini exec */
#define OCI_MEM_MIN		(64ULL << 20)	/* a Linux guest needs this much */
#define OCI_HOSTNAME_MAX	64
#define OCI_ANNOTATION_MEM	"org.kvmini.mem"
#define OCI_ANNOTATION_CPUS	"org.kvmini.cpus"
#define OCI_ANNOTATION_SNAPSHOT	"org.kvmini.snapshot"

struct oci_parse {
	const struct oci_ctx *c;
	const char *bundle;
	struct oci_spec *spec;
	bool mem_set, cpus_set;	/* by an annotation: it wins */
};

static const char *const oci_type_names[] = {
	[JSON_NULL] = "null", [JSON_BOOL] = "a boolean", [JSON_NUMBER] = "a number",
	[JSON_STRING] = "a string", [JSON_ARRAY] = "an array", [JSON_OBJECT] = "an object",
};

/* obj's member key of type t: NULL if absent (an error if required) or
 * of another type (always an error, *err set). */
static const struct json *oci_member(struct oci_parse *p, const struct json *obj,
				     const char *where, const char *key,
				     enum json_type t, bool required, int *err)
{
	const struct json *v = json_get(obj, key);

	if (!v) {
		if (required) {
			oci_err(p->c, "config.json: %s%s is missing", where, key);
			*err = -EINVAL;
		}
		return NULL;
	}
	if (v->type != t) {
		oci_err(p->c, "config.json: %s%s must be %s, not %s", where, key,
			oci_type_names[t], oci_type_names[v->type]);
		*err = -EINVAL;
		return NULL;
	}
	if (t == JSON_STRING && !json_str(v)) {
		oci_err(p->c, "config.json: %s%s holds a NUL character", where, key);
		*err = -EINVAL;
		return NULL;
	}
	return v;
}

/* A copy of an array member that must be a string. */
static char *oci_str_item(struct oci_parse *p, const struct json *m,
			  const char *what, unsigned int i, int *err)
{
	char *s;

	if (!json_str(m)) {
		oci_err(p->c, "config.json: %s[%u] must be a string", what, i);
		*err = -EINVAL;
		return NULL;
	}
	s = strdup(m->s);
	if (!s)
		*err = -ENOMEM;
	return s;
}

/* Absolute, no "." or ".." component, not "/" itself unless root_ok. */
static bool oci_guest_path_ok(const char *path, bool root_ok)
{
	if (path[0] != '/' || strlen(path) >= PATH_MAX || (!root_ok && !path[1]))
		return false;
	for (const char *s = path; *s; s = strchrnul(s + 1, '/')) {
		const char *w = s + 1;
		size_t n = strcspn(w, "/");

		if ((n == 1 && w[0] == '.') || (n == 2 && !strncmp(w, "..", 2)))
			return false;
	}
	return true;
}

/* ---- process ------------------------------------------------------------ */

static int oci_args(struct oci_parse *p, const struct json *args)
{
	const struct json *m;
	unsigned int i = 0;
	int err = 0;

	if (!args->len) {
		oci_err(p->c, "config.json: process.args is empty: give the command to run");
		return -EINVAL;
	}
	p->spec->argv = calloc(args->len + 1, sizeof(char *));
	if (!p->spec->argv)
		return -ENOMEM;
	json_for_each(m, args) {
		p->spec->argv[i] = oci_str_item(p, m, "process.args", i, &err);
		if (err)
			return err;
		i++;
	}
	p->spec->ec.argv = p->spec->argv;
	p->spec->ec.argc = i;
	return 0;
}

static int oci_env(struct oci_parse *p, const struct json *env)
{
	struct exec_config *ec = &p->spec->ec;
	const struct json *m;
	int err = 0;

	if (env->len > EXEC_ENV_MAX) {
		oci_err(p->c, "config.json: process.env has %zu variables, at most %d",
			env->len, EXEC_ENV_MAX);
		return -EINVAL;
	}
	json_for_each(m, env) {
		char *v = oci_str_item(p, m, "process.env", ec->nr_env, &err);

		if (err)
			return err;
		if (!strchr(v, '=') || v[0] == '=') {
			oci_err(p->c, "config.json: process.env[%u] '%s' is not NAME=VALUE",
				ec->nr_env, v);
			free(v);
			return -EINVAL;
		}
		ec->env[ec->nr_env++] = v;
	}
	return 0;
}

/* A uid or gid: 0..2^32-2 (-1 means "none" to the kernel). */
static int oci_id_field(struct oci_parse *p, const struct json *user,
			const char *key, unsigned int *out)
{
	const struct json *v = json_get(user, key);
	int64_t n;

	if (!v)
		return 0;
	if (!json_int(v, &n) || n < 0 || n >= UINT32_MAX) {
		oci_err(p->c, "config.json: process.user.%s must be a number from 0 to %u",
			key, UINT32_MAX - 1);
		return -EINVAL;
	}
	*out = n;
	p->spec->ec.has_user = true;
	return 0;
}

static int oci_user(struct oci_parse *p, const struct json *user)
{
	struct exec_config *ec = &p->spec->ec;
	const struct json *groups, *m;
	int err = 0;

	groups = oci_member(p, user, "process.user.", "additionalGids", JSON_ARRAY,
			    false, &err);
	if (err)
		return err;
	if (groups && groups->len > EXEC_GROUPS_MAX) {
		oci_err(p->c, "config.json: process.user.additionalGids: at most %d groups",
			EXEC_GROUPS_MAX);
		return -EINVAL;
	}
	json_for_each(m, groups) {
		int64_t g;

		if (!json_int(m, &g) || g < 0 || g >= UINT32_MAX) {
			oci_err(p->c, "config.json: process.user.additionalGids[%u] must be a number from 0 to %u",
				ec->nr_groups, UINT32_MAX - 1);
			return -EINVAL;
		}
		ec->groups[ec->nr_groups++] = g;
	}
	if (json_get(user, "username")) {
		oci_err(p->c, "config.json: process.user.username: not supported (Windows only); give uid and gid");
		return -EINVAL;
	}
	return oci_id_field(p, user, "uid", &p->spec->ec.uid) ?:
	       oci_id_field(p, user, "gid", &p->spec->ec.gid);
}

static int oci_process(struct oci_parse *p, const struct json *proc)
{
	const struct json *args, *env, *cwd, *user, *term;
	int err = 0;
	bool tty = false;

	args = oci_member(p, proc, "process.", "args", JSON_ARRAY, true, &err);
	env = oci_member(p, proc, "process.", "env", JSON_ARRAY, false, &err);
	cwd = oci_member(p, proc, "process.", "cwd", JSON_STRING, true, &err);
	user = oci_member(p, proc, "process.", "user", JSON_OBJECT, false, &err);
	term = oci_member(p, proc, "process.", "terminal", JSON_BOOL, false, &err);
	if (err)
		return err;
	/* A pty on the host, its master to --console-socket (oci.c). */
	if (term && json_bool(term, &tty))
		p->spec->ec.tty = tty;
	if (!oci_guest_path_ok(cwd->s, true)) {
		oci_err(p->c, "config.json: process.cwd '%s' must be an absolute path without . or ..",
			cwd->s);
		return -EINVAL;
	}
	p->spec->ec.workdir = cwd->s;	/* made a copy of in oci_config_parse() */
	err = oci_args(p, args);
	if (!err && env)
		err = oci_env(p, env);
	if (!err && user)
		err = oci_user(p, user);
	return err;
}

/* ---- root, hostname, mounts -------------------------------------------- */

/* BUNDLE/path when path is relative; resolved; a directory. */
static char *oci_host_path(struct oci_parse *p, const char *what, const char *path,
			   bool dir, int *err)
{
	struct stat st;
	char *joined = NULL, *real;

	if (path[0] != '/' && asprintf(&joined, "%s/%s", p->bundle, path) < 0) {
		*err = -ENOMEM;
		return NULL;
	}
	real = realpath(joined ? joined : path, NULL);
	if (!real || stat(real, &st) < 0) {
		*err = -errno;
		oci_err(p->c, "config.json: %s '%s': %s", what, joined ? joined : path,
			strerror(errno));
		free(joined);
		free(real);
		return NULL;
	}
	free(joined);
	if (dir && !S_ISDIR(st.st_mode)) {
		oci_err(p->c, "config.json: %s '%s' is not a directory", what, real);
		*err = -ENOTDIR;
	} else if (strchr(real, ',')) {
		/* virtiofsd takes its options after commas. */
		oci_err(p->c, "config.json: %s '%s' must not contain ','", what, real);
		*err = -EINVAL;
	}
	if (*err) {
		free(real);
		return NULL;
	}
	return real;
}

static int oci_root(struct oci_parse *p, const struct json *root)
{
	struct exec_config *ec = &p->spec->ec;
	const struct json *path, *ro;
	int err = 0;

	path = oci_member(p, root, "root.", "path", JSON_STRING, true, &err);
	ro = oci_member(p, root, "root.", "readonly", JSON_BOOL, false, &err);
	if (err)
		return err;
	ec->root = EXEC_ROOT_DIR;
	ec->root_dir = oci_host_path(p, "root.path", path->s, true, &err);
	if (ro)
		json_bool(ro, &ec->root_ro);
	return err;
}

static int oci_hostname(struct oci_parse *p, const char *name)
{
	size_t n = strlen(name);

	if (!n || n > OCI_HOSTNAME_MAX || strchr(name, '/')) {
		oci_err(p->c, "config.json: hostname '%.*s' must be 1 to %d characters, without '/'",
			OCI_HOSTNAME_MAX, name, OCI_HOSTNAME_MAX);
		return -EINVAL;
	}
	p->spec->ec.hostname = strdup(name);
	return p->spec->ec.hostname ? 0 : -ENOMEM;
}

static bool oci_has_option(const struct json *opts, const char *opt)
{
	const struct json *m;

	json_for_each(m, opts) {
		if (json_str(m) && !strcmp(m->s, opt))
			return true;
	}
	return false;
}

/* What the guest's agent mounts itself, whatever config.json says. */
static bool oci_mount_given(const char *type, const char *dst)
{
	static const char *const given[][2] = {
		{ "proc", "/proc" }, { "sysfs", "/sys" }, { "tmpfs", "/dev" },
		{ "devpts", "/dev/pts" }, { "tmpfs", "/dev/shm" },
		{ "mqueue", "/dev/mqueue" }, { "cgroup", "/sys/fs/cgroup" },
		{ "cgroup2", "/sys/fs/cgroup" },
	};

	for (size_t i = 0; i < sizeof(given) / sizeof(given[0]); i++) {
		if (!strcmp(type, given[i][0]) && !strcmp(dst, given[i][1]))
			return true;
	}
	return false;
}

/*
 * podman binds its host /dev/shm directory into every container: memory
 * cannot be shared with a VM that way, so the guest mounts its own.
 */
static bool oci_engine_shm(const char *dst)
{
	return !strcmp(dst, "/dev/shm");
}

static int oci_bind(struct oci_parse *p, unsigned int i, const char *src,
		    const char *dst, bool ro)
{
	struct exec_config *ec = &p->spec->ec;
	struct exec_share *s = &ec->shares[ec->nr_shares];
	char what[32], *host;
	struct stat st;
	int err = 0;

	if (!src) {
		oci_err(p->c, "config.json: mounts[%u]: a bind mount needs a source", i);
		return -EINVAL;
	}
	snprintf(what, sizeof(what), "mounts[%u].source", i);
	host = oci_host_path(p, what, src, false, &err);
	if (err)
		return err;
	if (stat(host, &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))) {
		oci_err(p->c, "config.json: %s '%s' is neither a directory nor a regular file",
			what, host);
		free(host);
		return -EINVAL;
	}
	/* A file: in a directory of bound files alone (oci_files.c). */
	if (S_ISREG(st.st_mode))
		return oci_files_add(p->c, p->spec, i, host, dst, ro);
	if (ec->nr_shares == EXEC_SHARES_MAX) {
		oci_err(p->c, "config.json: mounts[%u]: at most %d bind mounts (the files bound take one or two)",
			i, EXEC_SHARES_MAX);
		free(host);
		return -EINVAL;
	}
	ec->nr_shares++;	/* exec_config_free() frees it from here on */
	s->ro = ro;
	s->host = host;
	s->guest = strdup(dst);
	return s->guest ? 0 : -ENOMEM;
}

static int oci_mount(struct oci_parse *p, unsigned int i, const struct json *m)
{
	struct exec_config *ec = &p->spec->ec;
	const struct json *dst, *type, *src, *opts;
	char where[32];
	int err = 0;

	if (m->type != JSON_OBJECT) {
		oci_err(p->c, "config.json: mounts[%u] must be an object", i);
		return -EINVAL;
	}
	snprintf(where, sizeof(where), "mounts[%u].", i);
	dst = oci_member(p, m, where, "destination", JSON_STRING, true, &err);
	type = oci_member(p, m, where, "type", JSON_STRING, false, &err);
	src = oci_member(p, m, where, "source", JSON_STRING, false, &err);
	opts = oci_member(p, m, where, "options", JSON_ARRAY, false, &err);
	if (err)
		return err;
	if (!oci_guest_path_ok(dst->s, false)) {
		oci_err(p->c, "config.json: mounts[%u].destination '%s' must be an absolute path other than /, without . or ..",
			i, dst->s);
		return -EINVAL;
	}
	if ((type && !strcmp(type->s, "bind")) || oci_has_option(opts, "bind") ||
	    oci_has_option(opts, "rbind")) {
		if (oci_engine_shm(dst->s))
			return 0;
		return oci_bind(p, i, src ? src->s : NULL, dst->s, oci_has_option(opts, "ro"));
	}
	if (type && oci_mount_given(type->s, dst->s))
		return 0;
	if (type && !strcmp(type->s, "tmpfs")) {
		if (ec->nr_tmpfs == EXEC_TMPFS_MAX) {
			oci_err(p->c, "config.json: mounts[%u]: at most %d tmpfs mounts", i,
				EXEC_TMPFS_MAX);
			return -EINVAL;
		}
		ec->tmpfs[ec->nr_tmpfs] = strdup(dst->s);
		return ec->tmpfs[ec->nr_tmpfs++] ? 0 : -ENOMEM;
	}
	oci_err(p->c, "config.json: mounts[%u]: type '%s' at %s is not supported (bind and tmpfs are)",
		i, type ? type->s : "(none)", dst->s);
	return -EINVAL;
}

static int oci_mounts(struct oci_parse *p, const struct json *mounts)
{
	const struct json *m;
	unsigned int i = 0;
	int err = 0;

	json_for_each(m, mounts) {
		err = oci_mount(p, i++, m);
		if (err)
			return err;
	}
	return 0;
}

/* ---- the VM's size ---------------------------------------------------- */

static int oci_annotations(struct oci_parse *p, const struct json *ann)
{
	struct oci_spec *spec = p->spec;
	const struct json *m;
	uint64_t mem;

	if (ann->len > OCI_ANNOTATIONS_MAX) {
		oci_err(p->c, "config.json: at most %d annotations", OCI_ANNOTATIONS_MAX);
		return -EINVAL;
	}
	json_for_each(m, ann) {
		struct oci_annotation *a = &spec->annotations[spec->nr_annotations];

		if (!json_str(m) || memchr(m->key, '\0', m->key_len)) {
			oci_err(p->c, "config.json: annotations['%s'] must be a string", m->key);
			return -EINVAL;
		}
		if (!strcmp(m->key, OCI_ANNOTATION_MEM)) {
			if (parse_size(m->s, &mem) || mem < OCI_MEM_MIN) {
				oci_err(p->c, "config.json: annotation %s '%s': expected a size of at least %lluM (e.g. 512M, 2G)",
					OCI_ANNOTATION_MEM, m->s, OCI_MEM_MIN >> 20);
				return -EINVAL;
			}
			spec->ec.vm.mem = mem;
			p->mem_set = true;
		} else if (!strcmp(m->key, OCI_ANNOTATION_CPUS)) {
			if (parse_uint(m->s, CONFIG_CPUS_MAX, &spec->ec.vm.cpus) ||
			    !spec->ec.vm.cpus) {
				oci_err(p->c, "config.json: annotation %s '%s': expected 1 to %d",
					OCI_ANNOTATION_CPUS, m->s, CONFIG_CPUS_MAX);
				return -EINVAL;
			}
			p->cpus_set = true;
		} else if (!strcmp(m->key, OCI_ANNOTATION_SNAPSHOT)) {
			if (strcmp(m->s, "true") && strcmp(m->s, "false")) {
				oci_err(p->c, "config.json: annotation %s '%s': expected true or false",
					OCI_ANNOTATION_SNAPSHOT, m->s);
				return -EINVAL;
			}
			spec->ec.snapshot = !strcmp(m->s, "true");
		}
		a->key = strdup(m->key);
		a->value = strdup(m->s);
		spec->nr_annotations++;
		if (!a->key || !a->value)
			return -ENOMEM;
	}
	return 0;
}

/* linux.resources: the memory limit is the VM's RAM, the CPU quota its
 * vCPUs (rounded up); an annotation says otherwise. */
static int oci_resources(struct oci_parse *p, const struct json *res)
{
	const struct json *mem = json_get(res, "memory"), *cpu = json_get(res, "cpu");
	const struct json *limit = json_get(mem, "limit");
	int64_t n, quota, period;

	if (limit && !p->mem_set) {
		if (!json_int(limit, &n) || (n < (int64_t)OCI_MEM_MIN && n != -1)) {
			oci_err(p->c, "config.json: linux.resources.memory.limit must be at least %llu bytes (the guest's kernel needs them), or -1",
				OCI_MEM_MIN);
			return -EINVAL;
		}
		if (n > 0)
			p->spec->ec.vm.mem = ((uint64_t)n + (1 << 20) - 1) & ~((1ULL << 20) - 1);
	}
	if (json_get(cpu, "quota") && !p->cpus_set) {
		if (!json_int(json_get(cpu, "quota"), &quota) ||
		    (json_get(cpu, "period") && !json_int(json_get(cpu, "period"), &period))) {
			oci_err(p->c, "config.json: linux.resources.cpu.quota and period must be integers");
			return -EINVAL;
		}
		if (!json_get(cpu, "period"))
			period = 100000;	/* the kernel's default */
		if (quota > 0 && period > 0) {
			n = (quota + period - 1) / period;
			p->spec->ec.vm.cpus = n > CONFIG_CPUS_MAX ? CONFIG_CPUS_MAX : n;
		}
	}
	return 0;
}

/*
 * linux.namespaces: only the network one matters to a VM, since the guest
 * reaches the world through kvmini's own sockets (user networking), which
 * live in whatever namespace kvmini runs in. The others are the host's
 * isolation of a process that is not the container's and are left alone.
 */
static int oci_namespaces(struct oci_parse *p, const struct json *ns)
{
	const struct json *m, *path;
	const char *s;

	if (ns->type != JSON_ARRAY) {
		oci_err(p->c, "config.json: linux.namespaces must be an array");
		return -EINVAL;
	}
	json_for_each(m, ns) {
		s = json_str(json_get(m, "type"));
		if (!s) {
			oci_err(p->c, "config.json: linux.namespaces: each entry needs a type");
			return -EINVAL;
		}
		if (strcmp(s, "network"))
			continue;
		path = json_get(m, "path");
		if (!path) {
			p->spec->net = OCI_NET_NEW;
			continue;
		}
		s = json_str(path);
		if (!s || *s != '/') {
			oci_err(p->c, "config.json: linux.namespaces: a network namespace's path must be an absolute path");
			return -EINVAL;
		}
		free(p->spec->netns_path);
		p->spec->netns_path = strdup(s);
		if (!p->spec->netns_path)
			return -ENOMEM;
		p->spec->net = OCI_NET_JOIN;
	}
	return 0;
}

static int oci_refuse_hooks(struct oci_parse *p, const struct json *hooks)
{
	const struct json *m;

	json_for_each(m, hooks) {
		if (m->type == JSON_ARRAY && m->len) {
			oci_err(p->c, "config.json: hooks.%s: hooks are not supported yet", m->key);
			return -EINVAL;
		}
	}
	return 0;
}

static int oci_version_check(struct oci_parse *p, const char *v)
{
	if (strncmp(v, "1.", 2)) {
		oci_err(p->c, "config.json: ociVersion '%s' is not supported (1.x is)", v);
		return -EINVAL;
	}
	return 0;
}

static int oci_top(struct oci_parse *p, const struct json *root)
{
	const struct json *ver, *proc, *rootfs, *host, *mounts, *ann, *linux_, *hooks;
	int err = 0;

	if (root->type != JSON_OBJECT) {
		oci_err(p->c, "config.json: must hold an object");
		return -EINVAL;
	}
	ver = oci_member(p, root, "", "ociVersion", JSON_STRING, true, &err);
	proc = oci_member(p, root, "", "process", JSON_OBJECT, true, &err);
	rootfs = oci_member(p, root, "", "root", JSON_OBJECT, true, &err);
	host = oci_member(p, root, "", "hostname", JSON_STRING, false, &err);
	mounts = oci_member(p, root, "", "mounts", JSON_ARRAY, false, &err);
	ann = oci_member(p, root, "", "annotations", JSON_OBJECT, false, &err);
	linux_ = oci_member(p, root, "", "linux", JSON_OBJECT, false, &err);
	hooks = oci_member(p, root, "", "hooks", JSON_OBJECT, false, &err);
	if (err)
		return err;
	err = oci_version_check(p, ver->s) ?: oci_process(p, proc) ?:
	      oci_root(p, rootfs);
	if (!err && host)
		err = oci_hostname(p, host->s);
	if (!err && mounts)
		err = oci_mounts(p, mounts);
	if (!err && ann)
		err = oci_annotations(p, ann);
	if (!err && json_get(linux_, "resources"))
		err = oci_resources(p, json_get(linux_, "resources"));
	if (!err && json_get(linux_, "namespaces"))
		err = oci_namespaces(p, json_get(linux_, "namespaces"));
	if (!err && hooks)
		err = oci_refuse_hooks(p, hooks);
	return err;
}

int oci_config_parse(const struct oci_ctx *c, const char *bundle,
		     const char *text, size_t len, struct oci_spec *spec)
{
	struct oci_parse p = { .c = c, .bundle = bundle, .spec = spec };
	struct json_doc doc;
	int err;

	memset(spec, 0, sizeof(*spec));
	spec->ec.vm = (struct vm_config){
		.mem = OCI_MEM_DEFAULT,
		.cpus = 1,
		.console = CONSOLE_NONE,
		.kvm_dev = "/dev/kvm",
	};
	/* From exec's snapshot cache, bounded as exec's is, unless the
	 * annotation says no; where the cache lives is create's (oci.c). */
	spec->ec.snapshot = true;
	spec->ec.snapshot_limits = (struct exec_cache_limits){
		EXEC_CACHE_MAX_BYTES, EXEC_CACHE_MAX_ENTRIES,
	};
	err = json_parse(&doc, text, len);
	if (err) {
		oci_err(c, "%s/%s is not valid JSON: %s", bundle, OCI_CONFIG_FILE, doc.err);
		return err;
	}
	err = oci_top(&p, json_root(&doc));
	/* The tree goes: keep a copy of the one string exec still points at. */
	if (!err) {
		spec->ec.workdir = strdup(spec->ec.workdir);
		if (!spec->ec.workdir)
			err = -ENOMEM;
	} else {
		spec->ec.workdir = NULL;
	}
	json_free(&doc);
	if (err == -ENOMEM)
		oci_err(c, "out of memory reading %s", OCI_CONFIG_FILE);
	return err;
}

int oci_config_load(const struct oci_ctx *c, const char *bundle,
		    struct oci_spec *spec)
{
	char path[PATH_MAX + 16];
	struct stat st;
	char *text;
	ssize_t n;
	int fd, err;

	memset(spec, 0, sizeof(*spec));
	snprintf(path, sizeof(path), "%s/%s", bundle, OCI_CONFIG_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = -errno;
		oci_err(c, "cannot read %s: %s (is --bundle the bundle's directory?)", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > JSON_MAX_INPUT) {
		oci_err(c, "%s: not a regular file of at most %u bytes", path, JSON_MAX_INPUT);
		close(fd);
		return -EINVAL;
	}
	text = malloc(st.st_size + 1);
	n = text ? read(fd, text, st.st_size) : -1;
	close(fd);
	if (n != st.st_size) {
		oci_err(c, "cannot read %s: %s", path, n < 0 ? strerror(errno) : "short read");
		free(text);
		return -EIO;
	}
	err = oci_config_parse(c, bundle, text, n, spec);
	free(text);
	return err;
}

void oci_spec_free(struct oci_spec *spec)
{
	for (unsigned int i = 0; spec->argv && spec->argv[i]; i++)
		free(spec->argv[i]);
	free(spec->argv);
	for (unsigned int i = 0; i < spec->nr_annotations; i++) {
		free(spec->annotations[i].key);
		free(spec->annotations[i].value);
	}
	free((char *)spec->ec.workdir);
	spec->ec.workdir = NULL;
	free(spec->netns_path);
	spec->netns_path = NULL;
	free(spec->snapshot_dir);
	spec->snapshot_dir = NULL;
	oci_files_free(spec);
	exec_config_free(&spec->ec);
	spec->argv = NULL;
	spec->nr_annotations = 0;
}
