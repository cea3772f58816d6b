// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (vmm/control.h) against fake hooks: the dispatcher's
 * replies, then real sockets on a temporary path, served by an event loop
 * turned by hand: the path's mode, refused paths, a stale socket, long
 * lines, too many clients, a deferred pause, a client that never reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "unit.h"
#include "util.h"
#include "lib/evloop.h"
#include "vmm/control.h"
#include "vmm/vm.h"

struct fake {
	bool paused, parked;
	bool pause_parks_at_once;
	unsigned int pauses, resumes, stops, snapshots;
	int snapshot_result;
	char snapshot_path[64];
};

static const char *fake_state(void *ctx)
{
	struct fake *f = ctx;

	if (!f->paused)
		return "running";
	return f->parked ? "paused" : "pausing";
}

static void fake_status(void *ctx, struct json_out *o)
{
	(void)ctx;
	json_out_key(o, "vcpus");
	json_out_int(o, 3);
	json_out_key(o, "memory_mib");
	json_out_int(o, 512);
}

static bool fake_pause(void *ctx)
{
	struct fake *f = ctx;

	f->pauses++;
	f->paused = true;
	if (f->pause_parks_at_once)
		f->parked = true;
	return f->parked;
}

static void fake_resume(void *ctx)
{
	struct fake *f = ctx;

	f->resumes++;
	f->paused = f->parked = false;
}

static void fake_stop(void *ctx)
{
	struct fake *f = ctx;

	f->stops++;
}

static int fake_snapshot(void *ctx, const char *path)
{
	struct fake *f = ctx;

	f->snapshots++;
	snprintf(f->snapshot_path, sizeof(f->snapshot_path), "%s", path);
	return f->snapshot_result;
}

static struct control_hooks fake_hooks(struct fake *f)
{
	return (struct control_hooks){
		.ctx = f, .state = fake_state, .status = fake_status,
		.pause = fake_pause, .resume = fake_resume, .stop = fake_stop,
		.snapshot = fake_snapshot,
	};
}

static enum control_result handle(const struct control_hooks *h, const char *line,
				  char *reply)
{
	enum control_result r = control_handle_line(h, line, strlen(line), reply,
						    CONTROL_REPLY_MAX);
	struct json_doc doc;

	/* Every reply is one JSON object with "ok", on one line. */
	if (r == CONTROL_REPLY) {
		ck_assert_msg(!json_parse(&doc, reply, strlen(reply)), "%s", reply);
		ck_assert_ptr_nonnull(json_get(json_root(&doc), "ok"));
		json_free(&doc);
		ck_assert_ptr_null(strchr(reply, '\n'));
	}
	return r;
}

START_TEST(test_control_ops)
{
	struct fake f = { .pause_parks_at_once = true };
	struct control_hooks h = fake_hooks(&f);
	char reply[CONTROL_REPLY_MAX];

	ck_assert_int_eq(handle(&h, "{\"op\":\"status\"}", reply), CONTROL_REPLY);
	ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"running\",\"vcpus\":3,\"memory_mib\":512}");
	ck_assert_int_eq(handle(&h, " { \"op\" : \"pause\" } ", reply), CONTROL_REPLY);
	ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"paused\"}");
	/* Pausing twice: the same answer. */
	ck_assert_int_eq(handle(&h, "{\"op\":\"pause\"}", reply), CONTROL_REPLY);
	ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"paused\"}");
	ck_assert_int_eq(handle(&h, "{\"op\":\"resume\"}", reply), CONTROL_REPLY);
	ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"running\"}");
	/* Resuming a running VM: the same answer. */
	ck_assert_int_eq(handle(&h, "{\"op\":\"resume\"}", reply), CONTROL_REPLY);
	ck_assert_str_eq(reply, "{\"ok\":true,\"state\":\"running\"}");
	ck_assert_int_eq(handle(&h, "{\"op\":\"stop\"}", reply), CONTROL_REPLY);
	ck_assert_str_eq(reply, "{\"ok\":true}");
	ck_assert_uint_eq(f.pauses, 2);
	ck_assert_uint_eq(f.resumes, 2);
	ck_assert_uint_eq(f.stops, 1);
}
END_TEST

START_TEST(test_control_pause_deferred)
{
	struct fake f = { 0 };
	struct control_hooks h = fake_hooks(&f);
	char reply[CONTROL_REPLY_MAX];

	ck_assert_int_eq(handle(&h, "{\"op\":\"pause\"}", reply), CONTROL_DEFER);
	ck_assert_int_eq(handle(&h, "{\"op\":\"status\"}", reply), CONTROL_REPLY);
	ck_assert_ptr_nonnull(strstr(reply, "\"state\":\"pausing\""));
}
END_TEST

/* What the VM must not see: bad requests reach no hook. */
START_TEST(test_control_errors)
{
	static const char *const bad[][2] = {
		{ "{\"op\":\"snapshot\",\"dir\":\"/tmp/x\"}", "takes no member \\\"dir\\\"" },
		{ "{\"op\":\"snapshot\"}", "snapshot takes \\\"path\\\"" },
		{ "{\"op\":\"snapshot\",\"path\":\"rel\"}", "an absolute path" },
		{ "{\"op\":\"snapshot\",\"path\":7}", "snapshot takes \\\"path\\\"" },
		{ "{\"op\":\"snapshot\",\"path\":\"/x\"}", "the VM is not paused" },
		{ "{\"op\":\"frob\"}", "unknown op \\\"frob\\\"" },
		{ "{\"op\":\"st\\u0000op\"}", "an \\\"op\\\" string" },
		{ "{\"op\":\"\\u00e9\\n\"}", "unknown op \\\"???\\\"" },
		{ "{\"op\":1}", "an \\\"op\\\" string" },
		{ "{}", "an \\\"op\\\" string" },
		{ "[\"stop\"]", "an \\\"op\\\" string" },
		{ "\"stop\"", "an \\\"op\\\" string" },
		{ "stop", "malformed request (offset 0" },
		{ "{\"op\":\"stop\"", "malformed request (offset 12: unexpected end" },
		{ "{\"op\":\"stop\",\"op\":\"stop\"}", "duplicate key" },
		{ "{\"op\":\"stop\"} {}", "malformed request" },
		{ "{\"op\":\"stop\",\"force\":true}", "op \\\"stop\\\" takes no member \\\"force\\\"" },
		{ "{\"op\":\"pause\",\"\":0}", "takes no member \\\"\\\"" },
	};
	struct fake f = { .pause_parks_at_once = true };
	struct control_hooks h = fake_hooks(&f);
	char reply[CONTROL_REPLY_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(handle(&h, bad[i][0], reply), CONTROL_REPLY);
		ck_assert_msg(!strncmp(reply, "{\"ok\":false,\"error\":\"", 21), "%s", reply);
		ck_assert_msg(strstr(reply, bad[i][1]), "%s: %s", bad[i][0], reply);
	}
	ck_assert_uint_eq(f.pauses + f.resumes + f.stops + f.snapshots, 0);
}
END_TEST

/* A paused VM's snapshot: the path reaches the hook; its failure is an
 * error reply, the VM still paused. */
START_TEST(test_control_snapshot)
{
	struct fake f = { .pause_parks_at_once = true };
	struct control_hooks h = fake_hooks(&f);
	char reply[CONTROL_REPLY_MAX];

	handle(&h, "{\"op\":\"pause\"}", reply);
	handle(&h, "{\"op\":\"snapshot\",\"path\":\"/s/1\"}", reply);
	ck_assert_str_eq(reply, "{\"ok\":true,\"path\":\"/s/1\"}");
	ck_assert_str_eq(f.snapshot_path, "/s/1");
	f.snapshot_result = -EEXIST;
	handle(&h, "{\"op\":\"snapshot\",\"path\":\"/s/1\"}", reply);
	ck_assert_ptr_nonnull(strstr(reply, "the path exists already"));
	f.snapshot_result = -EIO;
	handle(&h, "{\"op\":\"snapshot\",\"path\":\"/s/2\"}", reply);
	ck_assert_ptr_nonnull(strstr(reply, "the snapshot failed"));
	ck_assert_uint_eq(f.snapshots, 3);
	ck_assert_str_eq(fake_state(&f), "paused");
}
END_TEST

/* A long unknown name is cut, and the reply still fits. */
START_TEST(test_control_long_name)
{
	struct fake f = { 0 };
	struct control_hooks h = fake_hooks(&f);
	char line[CONTROL_LINE_MAX], reply[CONTROL_REPLY_MAX];
	int n = snprintf(line, sizeof(line), "{\"op\":\"");

	memset(line + n, 'a', 3000);
	strcpy(line + n + 3000, "\"}");
	ck_assert_int_eq(handle(&h, line, reply), CONTROL_REPLY);
	ck_assert_ptr_nonnull(strstr(reply, "unknown op \\\"aaaaaaaa"));
	ck_assert_uint_lt(strlen(reply), 200);
}
END_TEST

/* --- Sockets ------------------------------------------------------------ */

struct rig {
	char dir[64];
	char path[96];
	struct evloop loop;
	struct fake f;
	struct control_hooks h;
	struct control *ctl;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	strcpy(r->dir, "/tmp/kvmini-unit-control.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(r->dir));
	snprintf(r->path, sizeof(r->path), "%s/sock", r->dir);
	ck_assert_int_eq(evloop_init(&r->loop), 0);
	r->h = fake_hooks(&r->f);
}

static void rig_open(struct rig *r)
{
	r->ctl = control_new(r->path, &r->loop, &r->h);
	ck_assert_ptr_nonnull(r->ctl);
}

static void rig_exit(struct rig *r)
{
	control_free(r->ctl);
	evloop_exit(&r->loop);
	unlink(r->path);
	rmdir(r->dir);
}

static int rig_connect(struct rig *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	strcpy(sa.sun_path, r->path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* The accept. */
	ck_assert_int_ge(evloop_run_once(&r->loop, 100), 1);
	return fd;
}

static void rig_turn(struct rig *r, int rounds)
{
	while (rounds--)
		evloop_run_once(&r->loop, 20);
}

static void send_str(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* What the server sent until now (a short wait for the first byte); 0
 * bytes and eof set when it closed the connection. */
static size_t recv_now(int fd, char *buf, size_t cap, bool *eof)
{
	size_t len = 0;
	ssize_t n;

	*eof = false;
	while (len + 1 < cap) {
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET)) {
			*eof = true;
			break;
		}
		if (n < 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return len;
}

static void expect_reply(struct rig *r, int fd, const char *want)
{
	char buf[1024];
	bool eof;

	rig_turn(r, 2);
	recv_now(fd, buf, sizeof(buf), &eof);
	ck_assert_str_eq(buf, want);
	ck_assert(!eof);
}

START_TEST(test_control_socket_basic)
{
	struct rig r;
	struct stat st;
	char buf[1024];
	bool eof;
	int fd;

	rig_init(&r);
	rig_open(&r);
	ck_assert_int_eq(lstat(r.path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	fd = rig_connect(&r);
	/* Two requests in one write, one split across writes, blank lines. */
	send_str(fd, "{\"op\":\"status\"}\n\n{\"op\":\"pau");
	expect_reply(&r, fd, "{\"ok\":true,\"state\":\"running\",\"vcpus\":3,\"memory_mib\":512}\n");
	send_str(fd, "se\"}\n");
	rig_turn(&r, 2);
	/* Owed: nothing yet, and later requests wait behind it. */
	send_str(fd, "{\"op\":\"status\"}\n");
	rig_turn(&r, 2);
	recv_now(fd, buf, sizeof(buf), &eof);
	ck_assert_str_eq(buf, "");
	r.f.parked = true;
	control_pause_done(r.ctl);
	expect_reply(&r, fd, "{\"ok\":true,\"state\":\"paused\"}\n"
		     "{\"ok\":true,\"state\":\"paused\",\"vcpus\":3,\"memory_mib\":512}\n");
	/* The client half-closes after a request: answered, then closed. */
	send_str(fd, "{\"op\":\"resume\"}\n");
	shutdown(fd, SHUT_WR);
	rig_turn(&r, 3);
	recv_now(fd, buf, sizeof(buf), &eof);
	ck_assert_str_eq(buf, "{\"ok\":true,\"state\":\"running\"}\n");
	ck_assert(eof);
	close(fd);
	rig_exit(&r);
	/* Unlinked by control_free. */
	ck_assert_int_eq(lstat(r.path, &st), -1);
}
END_TEST

START_TEST(test_control_socket_resume_fails_waiters)
{
	struct rig r;
	char buf[1024];
	bool eof;
	int a, b;

	rig_init(&r);
	rig_open(&r);
	a = rig_connect(&r);
	b = rig_connect(&r);
	send_str(a, "{\"op\":\"pause\"}\n");
	rig_turn(&r, 2);
	send_str(b, "{\"op\":\"resume\"}\n");
	expect_reply(&r, b, "{\"ok\":true,\"state\":\"running\"}\n");
	recv_now(a, buf, sizeof(buf), &eof);
	ck_assert_ptr_nonnull(strstr(buf, "{\"ok\":false,\"error\":\"resumed before every vCPU parked\"}\n"));
	close(a);
	close(b);
	rig_exit(&r);
}
END_TEST

START_TEST(test_control_socket_long_line)
{
	struct rig r;
	char line[CONTROL_LINE_MAX + 100], buf[1024];
	bool eof;
	int fd;

	rig_init(&r);
	rig_open(&r);
	/* Exactly CONTROL_LINE_MAX bytes before the newline: taken. */
	fd = rig_connect(&r);
	memset(line, ' ', CONTROL_LINE_MAX);
	memcpy(line, "{\"op\":\"status\"}", 15);
	line[CONTROL_LINE_MAX] = '\n';
	ck_assert_int_eq(write(fd, line, CONTROL_LINE_MAX + 1), CONTROL_LINE_MAX + 1);
	expect_reply(&r, fd, "{\"ok\":true,\"state\":\"running\",\"vcpus\":3,\"memory_mib\":512}\n");
	/* One more: an error, and the connection closed. */
	memset(line, ' ', sizeof(line));
	ck_assert_int_eq(write(fd, line, sizeof(line)), (ssize_t)sizeof(line));
	rig_turn(&r, 3);
	recv_now(fd, buf, sizeof(buf), &eof);
	ck_assert_str_eq(buf, "{\"ok\":false,\"error\":\"request longer than 4096 bytes\"}\n");
	ck_assert(eof);
	close(fd);
	/* The server still serves others. */
	fd = rig_connect(&r);
	send_str(fd, "{\"op\":\"resume\"}\n");
	expect_reply(&r, fd, "{\"ok\":true,\"state\":\"running\"}\n");
	close(fd);
	rig_exit(&r);
}
END_TEST

START_TEST(test_control_socket_too_many)
{
	struct rig r;
	int fd[CONTROL_CLIENTS_MAX + 1];
	char buf[1024];
	bool eof;

	rig_init(&r);
	rig_open(&r);
	for (int i = 0; i <= CONTROL_CLIENTS_MAX; i++)
		fd[i] = rig_connect(&r);
	recv_now(fd[CONTROL_CLIENTS_MAX], buf, sizeof(buf), &eof);
	ck_assert_ptr_nonnull(strstr(buf, "too many control clients"));
	ck_assert(eof);
	/* A slot freed is a slot taken again. */
	close(fd[0]);
	rig_turn(&r, 2);
	close(fd[CONTROL_CLIENTS_MAX]);
	fd[0] = rig_connect(&r);
	send_str(fd[0], "{\"op\":\"resume\"}\n");
	expect_reply(&r, fd[0], "{\"ok\":true,\"state\":\"running\"}\n");
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		close(fd[i]);
	rig_exit(&r);
}
END_TEST

/* A client that writes and never reads: cut off, never waited for. */
START_TEST(test_control_socket_slow_reader)
{
	static const char req[] = "{\"op\":\"status\"}\n";
	struct rig r;
	char buf[4096];
	bool closed = false;
	int fd, other;

	rig_init(&r);
	rig_open(&r);
	fd = rig_connect(&r);
	for (size_t i = 0; i + sizeof(req) - 1 <= sizeof(buf); i += sizeof(req) - 1)
		memcpy(buf + i, req, sizeof(req) - 1);
	for (int round = 0; round < 2000 && !closed; round++) {
		ssize_t n = send(fd, buf, sizeof(buf) / (sizeof(req) - 1) * (sizeof(req) - 1),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		/* Closed by the server: writes fail. */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			closed = true;
		rig_turn(&r, 1);
	}
	ck_assert_msg(closed, "the server kept a client that does not read");
	close(fd);
	other = rig_connect(&r);
	send_str(other, "{\"op\":\"resume\"}\n");
	expect_reply(&r, other, "{\"ok\":true,\"state\":\"running\"}\n");
	close(other);
	rig_exit(&r);
}
END_TEST

START_TEST(test_control_socket_paths)
{
	struct unit_capture_std cap;
	struct rig r, live;
	char *out, *err;
	struct stat st;
	int fd;

	rig_init(&r);
	/* A file: refused, left alone. */
	fd = open(r.path, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	unit_capture_std_begin(&cap);
	ck_assert_ptr_null(control_new(r.path, &r.loop, &r.h));
	unit_capture_std_end(&cap, &out, &err);
	ck_assert_ptr_nonnull(strstr(err, "the path exists: remove it or choose another path"));
	ck_assert_uint_eq(unit_count_lines(err), 1);
	ck_assert_int_eq(lstat(r.path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	free(out);
	free(err);
	unlink(r.path);
	/* A stale socket (bound, nobody listening): replaced. */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(sa.sun_path, r.path);
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(fd);
	}
	rig_open(&r);
	/* A live one: refused, and it keeps working. */
	rig_init(&live);
	strcpy(live.path, r.path);
	unit_capture_std_begin(&cap);
	ck_assert_ptr_null(control_new(live.path, &live.loop, &live.h));
	unit_capture_std_end(&cap, &out, &err);
	ck_assert_ptr_nonnull(strstr(err, "another program listens there"));
	free(out);
	free(err);
	evloop_exit(&live.loop);
	rmdir(live.dir);
	fd = rig_connect(&r);
	send_str(fd, "{\"op\":\"resume\"}\n");
	expect_reply(&r, fd, "{\"ok\":true,\"state\":\"running\"}\n");
	close(fd);
	rig_exit(&r);
	/* Too long for sun_path. */
	rig_init(&r);
	memset(r.path, 'a', sizeof(r.path) - 1);
	r.path[sizeof(r.path) - 1] = '\0';
	{
		char longp[200];

		memset(longp, 'p', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = '\0';
		unit_capture_std_begin(&cap);
		ck_assert_ptr_null(control_new(longp, &r.loop, &r.h));
		unit_capture_std_end(&cap, &out, &err);
		ck_assert_ptr_nonnull(strstr(err, "too long for a Unix socket"));
		free(out);
		free(err);
	}
	evloop_exit(&r.loop);
	rmdir(r.dir);
}
END_TEST

/*
 * vm_pause()'s bookkeeping (vcpu.c), without KVM: with no vCPU thread it
 * is paused at once; with one that never parks it gives up after its
 * bound and the VM runs again.
 */
START_TEST(test_control_vm_pause_bounded)
{
	struct vm vm;
	uint64_t t0;

	memset(&vm, 0, sizeof(vm));
	ck_assert_int_eq(vm_pause_init(&vm), 0);
	ck_assert_int_eq(vm_pause(&vm), 0);
	ck_assert(vm_is_paused(&vm) && vm_pause_done(&vm));
	vm_resume(&vm);
	ck_assert(!vm_is_paused(&vm) && !vm_pause_done(&vm));
	vm.vcpus_live = 1;
	t0 = evloop_now_ns();
	ck_assert_int_eq(vm_pause(&vm), -ETIMEDOUT);
	ck_assert_uint_ge(evloop_now_ns() - t0, VM_PAUSE_TIMEOUT_SECS * 1000000000ULL);
	ck_assert(!vm_is_paused(&vm));
	close(vm.parked_fd);
}
END_TEST

static Suite *control_suite(void)
{
	Suite *s = suite_create("control");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_control_ops);
	tcase_add_test(tc, test_control_pause_deferred);
	tcase_add_test(tc, test_control_errors);
	tcase_add_test(tc, test_control_snapshot);
	tcase_add_test(tc, test_control_long_name);
	tcase_add_test(tc, test_control_socket_basic);
	tcase_add_test(tc, test_control_socket_resume_fails_waiters);
	tcase_add_test(tc, test_control_socket_long_line);
	tcase_add_test(tc, test_control_socket_too_many);
	tcase_add_test(tc, test_control_socket_slow_reader);
	tcase_add_test(tc, test_control_socket_paths);
	tcase_add_test(tc, test_control_vm_pause_bounded);
	suite_add_tcase(s, tc);
	return s;
}
UNIT_SUITE(control_suite)
