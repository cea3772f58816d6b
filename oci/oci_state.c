// SPDX-License-Identifier: GPL-2.0
/*
 * kvmini oci's state (oci.h has the layout). Commands on one container
 * are serialised by flock() on its lock file, held for the command's
 * whole run; two creates of one ID race on mkdir(), which only one wins.
 * state.json is replaced whole by rename(), so a reader never sees half
 * of one. Whether a container still runs is not written anywhere: it is
 * whether the process create started lives, checked against the start
 * time /proc gave at create, so that a recycled PID is not taken for it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/json.h"
#include "oci/oci.h"

#define OCI_STATE_MAX		(64u << 10)

int oci_id_check(const struct oci_ctx *c, const char *id)
{
	size_t n = strlen(id);

	if (!n || n > OCI_ID_MAX) {
		oci_err(c, "container ID must be 1 to %d characters long", OCI_ID_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = id[i];

		if (!isalnum(ch) && !strchr("_.+-", ch)) {
			/* Not the ID itself: it may hold a newline. */
			oci_err(c, "container ID holds '%c' at %zu: use letters, digits and _ . + - only",
				isprint(ch) ? ch : '?', i);
			return -EINVAL;
		}
	}
	if (!strcmp(id, ".") || !strcmp(id, "..")) {
		oci_err(c, "container ID '%s' is not a valid name", id);
		return -EINVAL;
	}
	return 0;
}

/* mkdir -p ROOT, the last component 0700; then open it. */
static int oci_root_open(const struct oci_ctx *c, bool make)
{
	char path[4096];
	size_t n = strlen(c->root);
	int fd;

	if (n >= sizeof(path) || c->root[0] != '/') {
		oci_err(c, "--root '%s': give an absolute directory", c->root);
		return -EINVAL;
	}
	memcpy(path, c->root, n + 1);
	for (char *p = path + 1; make && *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			break;
		*p = '/';
	}
	if (make && mkdir(c->root, 0700) < 0 && errno != EEXIST) {
		oci_err(c, "cannot make the state directory %s: %s", c->root, strerror(errno));
		return -errno;
	}
	fd = open(c->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && (make || errno != ENOENT))
		oci_err(c, "cannot open the state directory %s: %s", c->root, strerror(errno));
	return fd < 0 ? -errno : fd;
}

/* Opens ROOT/ID and takes its lock; a directory removed meanwhile is gone. */
static int oci_dir_lock(const struct oci_ctx *c, int rfd, const char *id,
			struct oci_dir *d)
{
	struct stat st;

	d->lock_fd = -1;
	d->dfd = openat(rfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (d->dfd < 0 && errno != ENOENT)
		oci_err(c, "cannot open %s/%s: %s", c->root, id, strerror(errno));
	if (d->dfd < 0)
		return -errno;
	d->lock_fd = openat(d->dfd, OCI_LOCK_FILE,
			    O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (d->lock_fd < 0 || flock(d->lock_fd, LOCK_EX) < 0) {
		int err = -errno;

		oci_err(c, "cannot lock container %s: %s", id, strerror(errno));
		oci_dir_close(d);
		return err == -ENOENT ? -EIO : err;	/* said already */
	}
	if (fstat(d->dfd, &st) < 0 || !st.st_nlink) {
		oci_dir_close(d);
		return -ENOENT;
	}
	return 0;
}

int oci_dir_create(const struct oci_ctx *c, const char *id, struct oci_dir *d)
{
	int err, rfd = oci_root_open(c, true);

	if (rfd < 0)
		return rfd;
	if (mkdirat(rfd, id, 0700) < 0) {
		err = -errno;
		if (err == -EEXIST)
			oci_err(c, "container %s exists already: pick another ID or delete it first", id);
		else
			oci_err(c, "cannot make %s/%s: %s", c->root, id, strerror(-err));
		close(rfd);
		return err;
	}
	err = oci_dir_lock(c, rfd, id, d);
	if (err == -ENOENT)
		oci_err(c, "container %s was deleted while it was being created", id);
	close(rfd);
	return err;
}

int oci_dir_open(const struct oci_ctx *c, const char *id, struct oci_dir *d)
{
	int err, rfd = oci_root_open(c, false);

	d->dfd = d->lock_fd = -1;
	if (rfd < 0 && rfd != -ENOENT)
		return rfd;
	err = rfd < 0 ? rfd : oci_dir_lock(c, rfd, id, d);
	if (err == -ENOENT)
		oci_err(c, "container %s does not exist", id);
	if (rfd >= 0)
		close(rfd);
	return err;
}

void oci_dir_close(struct oci_dir *d)
{
	if (d->lock_fd >= 0)
		close(d->lock_fd);	/* and the lock goes */
	if (d->dfd >= 0)
		close(d->dfd);
	d->lock_fd = d->dfd = -1;
}

int oci_dir_remove(const struct oci_ctx *c, const char *id, struct oci_dir *d)
{
	static const char *const files[] = {
		OCI_STATE_FILE, OCI_STATE_FILE ".tmp", OCI_START_FIFO, OCI_LOCK_FILE,
	};
	int rfd = oci_root_open(c, false);
	int err = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlinkat(d->dfd, files[i], 0);
	/* The files' mount point (oci_files.c): empty in this namespace. */
	unlinkat(d->dfd, OCI_FILES_DIR, AT_REMOVEDIR);
	if (rfd < 0 || unlinkat(rfd, id, AT_REMOVEDIR) < 0) {
		err = rfd < 0 ? rfd : -errno;
		oci_err(c, "cannot remove %s/%s: %s", c->root, id, strerror(-err));
	}
	if (rfd >= 0)
		close(rfd);
	oci_dir_close(d);
	return err;
}

int oci_write_file(const struct oci_ctx *c, int dfd, const char *path,
		   const char *data, size_t len)
{
	char tmp[4200];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		oci_err(c, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = -errno;
	} else {
		while (len && !err) {
			ssize_t n = write(fd, data, len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				err = n < 0 ? -errno : -EIO;
			else
				data += n, len -= n;
		}
		if (!err && fsync(fd) < 0)
			err = -errno;
		close(fd);
		if (!err && renameat(dfd, tmp, dfd, path) < 0)
			err = -errno;
		if (err)
			unlinkat(dfd, tmp, 0);
	}
	if (err)
		oci_err(c, "cannot write %s: %s", path, strerror(-err));
	return err;
}

/* ---- state.json ----------------------------------------------------------- */

static void oci_put_annotations(struct json_out *o, const struct oci_annotation *a,
				unsigned int nr)
{
	json_out_key(o, "annotations");
	json_out_open(o, '{');
	for (unsigned int i = 0; i < nr; i++) {
		json_out_key(o, a[i].key);
		json_out_str(o, a[i].value);
	}
	json_out_close(o, '}');
}

/* What the spec's state has, and (internal) what kvmini needs besides. */
static long oci_state_put(const struct oci_state *s, bool internal,
			  char *buf, size_t cap)
{
	enum oci_status st = internal ? OCI_CREATED : oci_state_status(s);
	struct json_out o;

	json_out_init(&o, buf, cap);
	json_out_open(&o, '{');
	json_out_key(&o, "ociVersion");
	json_out_str(&o, OCI_VERSION);
	json_out_key(&o, "id");
	json_out_str(&o, s->id);
	if (!internal) {
		json_out_key(&o, "status");
		json_out_str(&o, oci_status_name(st));
	}
	if (internal || st != OCI_STOPPED) {
		json_out_key(&o, "pid");
		json_out_int(&o, s->pid);
	}
	json_out_key(&o, "bundle");
	json_out_str(&o, s->bundle);
	oci_put_annotations(&o, s->annotations, s->nr_annotations);
	if (internal) {
		json_out_key(&o, "created");
		json_out_int(&o, s->created);
		json_out_key(&o, "startTime");
		json_out_int(&o, (int64_t)s->start_time);
		json_out_key(&o, "started");
		json_out_bool(&o, s->started);
	}
	json_out_close(&o, '}');
	return json_out_done(&o);
}

long oci_state_json(const struct oci_state *s, char *buf, size_t cap)
{
	return oci_state_put(s, false, buf, cap);
}

int oci_state_write(const struct oci_ctx *c, const struct oci_dir *d,
		    const struct oci_state *s)
{
	char *buf = malloc(OCI_STATE_MAX);
	long n = buf ? oci_state_put(s, true, buf, OCI_STATE_MAX) : -ENOMEM;
	int err;

	if (n < 0) {
		oci_err(c, "container %s: its state does not fit in %u bytes", s->id,
			OCI_STATE_MAX);
		free(buf);
		return n;
	}
	err = oci_write_file(c, d->dfd, OCI_STATE_FILE, buf, n);
	free(buf);
	return err;
}

static int oci_read_all(int dfd, const char *path, char **text, size_t *len)
{
	int fd = openat(dfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	size_t n = 0;
	char *buf;

	if (fd < 0)
		return -errno;
	buf = malloc(OCI_STATE_MAX);
	while (buf && n < OCI_STATE_MAX) {
		ssize_t r = read(fd, buf + n, OCI_STATE_MAX - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (!buf)
		return -ENOMEM;
	if (n == OCI_STATE_MAX) {
		free(buf);
		return -EFBIG;
	}
	*text = buf;
	*len = n;
	return 0;
}

static int oci_state_fill(const struct json *root, struct oci_state *s)
{
	const char *id = json_str(json_get(root, "id"));
	const char *bundle = json_str(json_get(root, "bundle"));
	const struct json *ann = json_get(root, "annotations"), *m;
	int64_t pid, start, created;

	if (!id || strlen(id) > OCI_ID_MAX || !bundle ||
	    !json_int(json_get(root, "pid"), &pid) || pid <= 0 || pid > INT32_MAX ||
	    !json_int(json_get(root, "startTime"), &start) || start < 0 ||
	    !json_int(json_get(root, "created"), &created) ||
	    !json_bool(json_get(root, "started"), &s->started) ||
	    !ann || ann->type != JSON_OBJECT || ann->len > OCI_ANNOTATIONS_MAX)
		return -EINVAL;
	strcpy(s->id, id);
	s->pid = pid;
	s->start_time = start;
	s->created = created;
	s->bundle = strdup(bundle);
	if (!s->bundle)
		return -ENOMEM;
	json_for_each(m, ann) {
		struct oci_annotation *a = &s->annotations[s->nr_annotations];

		if (!json_str(m) || memchr(m->key, '\0', m->key_len))
			return -EINVAL;
		a->key = strdup(m->key);
		a->value = strdup(json_str(m));
		s->nr_annotations++;
		if (!a->key || !a->value)
			return -ENOMEM;
	}
	return 0;
}

int oci_state_read(const struct oci_ctx *c, const struct oci_dir *d,
		   struct oci_state *s)
{
	struct json_doc doc;
	size_t len = 0;
	char *text = NULL;
	int err = oci_read_all(d->dfd, OCI_STATE_FILE, &text, &len);

	memset(s, 0, sizeof(*s));
	if (err == -ENOENT)
		return err;
	if (err) {
		oci_err(c, "cannot read %s: %s", OCI_STATE_FILE, strerror(-err));
		return err;
	}
	err = json_parse(&doc, text, len);
	free(text);
	if (err) {
		oci_err(c, "%s is damaged (%s): delete the container", OCI_STATE_FILE, doc.err);
		return err;
	}
	err = oci_state_fill(json_root(&doc), s);
	json_free(&doc);
	if (err) {
		oci_err(c, "%s is damaged: delete the container", OCI_STATE_FILE);
		oci_state_free(s);
	}
	return err;
}

void oci_state_free(struct oci_state *s)
{
	for (unsigned int i = 0; i < s->nr_annotations; i++) {
		free(s->annotations[i].key);
		free(s->annotations[i].value);
	}
	free(s->bundle);
	s->bundle = NULL;
	s->nr_annotations = 0;
}

/* ---- is it running? ----------------------------------------------------- */

/* Field 3 (the state letter) and 22 (start time) of /proc/PID/stat. */
static unsigned long long oci_proc_stat(pid_t pid, char *state)
{
	char path[32], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and ')': the last ')' ends it. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 state, &start) != 2)
		return 0;
	return start;
}

unsigned long long oci_proc_start_time(pid_t pid)
{
	char state;

	return oci_proc_stat(pid, &state);
}

enum oci_status oci_state_status(const struct oci_state *s)
{
	char state = 0;
	unsigned long long start = s->pid > 0 ? oci_proc_stat(s->pid, &state) : 0;

	if (!start || start != s->start_time || state == 'Z' || state == 'X')
		return OCI_STOPPED;
	return s->started ? OCI_RUNNING : OCI_CREATED;
}

int oci_state_signal(const struct oci_state *s, int sig)
{
	int err = 0, fd = s->pid > 0 ? syscall(SYS_pidfd_open, s->pid, 0) : -1;

	if (fd < 0)
		return errno == ESRCH || s->pid <= 0 ? -ESRCH : -errno;
	/* The pidfd holds this process, whatever its PID becomes: check it
	 * is create's, then signal that one. */
	if (oci_state_status(s) == OCI_STOPPED)
		err = -ESRCH;
	else if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		err = -errno;
	close(fd);
	return err;
}

const char *oci_status_name(enum oci_status st)
{
	static const char *const names[] = {
		[OCI_CREATING] = "creating", [OCI_CREATED] = "created",
		[OCI_RUNNING] = "running", [OCI_STOPPED] = "stopped",
	};

	return names[st];
}
