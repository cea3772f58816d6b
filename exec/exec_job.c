// SPDX-License-Identifier: GPL-2.0
/*
 * The job spec, sent on the port "job" (docs/exec.md has the format):
 * NUL-terminated key and value strings, so that arguments travel byte
 * for byte, whatever they contain; and its frame (exec.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/exec.h"

struct job_buf {
	char *buf;
	size_t len;
	size_t cap;
	int err;
};

static void job_put(struct job_buf *j, const char *s)
{
	size_t n = strlen(s) + 1;

	if (j->err)
		return;
	if (j->len + n > j->cap) {
		size_t cap = j->cap ? j->cap : 1024;
		char *p;

		while (cap < j->len + n)
			cap *= 2;
		p = realloc(j->buf, cap);
		if (!p) {
			j->err = -ENOMEM;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void job_pair(struct job_buf *j, const char *key, const char *value)
{
	job_put(j, key);
	job_put(j, value);
}

/* "share" "TAG ro|rw GUESTDIR": the tag and mode never hold a space. */
static void job_share(struct job_buf *j, unsigned int i, const struct exec_share *s)
{
	char *v;

	if (asprintf(&v, "share%u %s %s", i, s->ro ? "ro" : "rw", s->guest) < 0) {
		j->err = -ENOMEM;
		return;
	}
	job_pair(j, "share", v);
	free(v);
}

/* "file" "TAG ro|rw NAME GUESTPATH" (kvmini oci): the name never holds
 * a space. */
static void job_file(struct job_buf *j, const struct exec_config *ec,
		     const struct exec_file *f)
{
	char *v;

	if (f->share >= ec->nr_shares) {
		j->err = -EINVAL;
		return;
	}
	if (asprintf(&v, "share%u %s %s %s", f->share, ec->shares[f->share].ro ? "ro" : "rw",
		     f->name, f->guest) < 0) {
		j->err = -ENOMEM;
		return;
	}
	job_pair(j, "file", v);
	free(v);
}

/* "user" "UID GID", then "groups" "G1 G2…" if any: the command's
 * credentials. */
static void job_user(struct job_buf *j, const struct exec_config *ec)
{
	char v[EXEC_GROUPS_MAX * 11 + 1];
	size_t n = 0;

	snprintf(v, sizeof(v), "%u %u", ec->uid, ec->gid);
	job_pair(j, "user", v);
	if (!ec->nr_groups)
		return;
	for (unsigned int i = 0; i < ec->nr_groups && i < EXEC_GROUPS_MAX; i++)
		n += snprintf(v + n, sizeof(v) - n, "%s%u", i ? " " : "", ec->groups[i]);
	job_pair(j, "groups", v);
}

int exec_job_encode(const struct exec_config *ec, char **buf, size_t *len)
{
	struct job_buf j = { 0 };

	job_pair(&j, EXEC_JOB_MAGIC, EXEC_JOB_VERSION);
	job_pair(&j, "root", ec->root == EXEC_ROOT_INITRD ? "initrd" : EXEC_ROOT_TAG);
	/* kvmini oci's keys only when set: exec's job stays as it was. */
	if (ec->root == EXEC_ROOT_DIR)
		job_pair(&j, "root-mode", ec->root_ro ? "ro" : "rw");
	for (unsigned int i = 0; i < ec->nr_shares; i++) {
		if (!ec->shares[i].files)
			job_share(&j, i, &ec->shares[i]);
	}
	for (unsigned int i = 0; i < ec->nr_files; i++)
		job_file(&j, ec, &ec->files[i]);
	for (unsigned int i = 0; i < ec->nr_tmpfs; i++)
		job_pair(&j, "tmpfs", ec->tmpfs[i]);
	if (ec->hostname)
		job_pair(&j, "hostname", ec->hostname);
	if (ec->has_user)
		job_user(&j, ec);
	if (ec->tty)
		job_pair(&j, "tty", "1");
	job_pair(&j, "workdir", ec->workdir ? ec->workdir : "/");
	job_pair(&j, "net", ec->net_user ? "user" : "none");
	job_pair(&j, "verbose", ec->vm.verbose ? "1" : "0");
	for (unsigned int i = 0; i < ec->nr_env; i++)
		job_pair(&j, "env", ec->env[i]);
	for (int i = 0; i < ec->argc; i++)
		job_pair(&j, "arg", ec->argv[i]);
	if (j.err) {
		free(j.buf);
		return j.err;
	}
	*buf = j.buf;
	*len = j.len;
	return 0;
}

int exec_job_frame(const char *spec, size_t len,
		   const uint8_t entropy[EXEC_JOB_ENTROPY], char **buf, size_t *out_len)
{
	char *f;

	if (len > EXEC_JOB_MAX)
		return -E2BIG;
	f = malloc(4 + EXEC_JOB_ENTROPY + len);
	if (!f)
		return -ENOMEM;
	for (int i = 0; i < 4; i++)
		f[i] = (char)(len >> (8 * i));
	memcpy(f + 4, entropy, EXEC_JOB_ENTROPY);
	memcpy(f + 4 + EXEC_JOB_ENTROPY, spec, len);
	*buf = f;
	*out_len = 4 + EXEC_JOB_ENTROPY + len;
	return 0;
}
