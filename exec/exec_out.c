// SPDX-License-Identifier: GPL-2.0
/*
 * The job's streams: one virtio-console with named ports (virtio/
 * vports.c): "stdout" and "stderr", whose bytes go to kvmini's fd 1 and
 * fd 2, in order, with no buffer in between, and "status", where the
 * agent writes the job's exit status as decimal digits and a newline
 * (and, before that, "ready" and a newline when it waits for its job),
 * and "job", where kvmini sends the job (host to guest) once the agent
 * is ready: a cold boot that fills the snapshot cache pauses the VM and
 * snapshots it there first, so that a restore starts the next job where
 * this one starts. Then "stdin" and "ctl", host to guest, are exec_in.c's.
 *
 * When a descriptor is full (a slow pipe), the device keeps the guest's
 * buffer and takes no more from that port until epoll says there is
 * room: the guest waits, kvmini's memory does not grow, and the I/O
 * thread never blocks on a write. The status ends the VM only once both
 * streams have written out everything the guest queued before it: the
 * guest's writes return as soon as they are queued, not written.
 *
 * Non-blocking writes need a descriptor of our own: O_NONBLOCK on fd 1
 * itself would change the file description the shell that started kvmini
 * shares. A pipe or terminal is opened again through /proc/self/fd (a new
 * description of the same pipe or terminal); anything else gets
 * O_NONBLOCK set and restored at the end. Regular files are written as
 * they are: they never make a writer wait for a reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/exec.h"
#include "lib/container_of.h"
#include "lib/log.h"
#include "virtio/devices.h"
#include "vmm/snapshot.h"
#include "vmm/vm.h"

struct exec_out;

struct exec_stream {
	struct exec_out *out;
	unsigned int port;	/* its vports port: 0 stdout, 1 stderr */
	int fd;			/* where the job's bytes go */
	int orig_fd;		/* 1 or 2 */
	int saved_flags;	/* orig_fd's flags to restore, or -1 */
	bool own_fd;		/* fd was opened here */
	bool waiting;		/* on the loop, for EPOLLOUT */
	bool dropping;		/* the reader is gone: discard */
	struct ev_handler room;
};

/* The port names the agent looks for (guests/agent/agent.c). */
static const char *const exec_port_names[] = {
	"stdout", "stderr", "status", "job", "stdin", "ctl",
};
#define EXEC_STATUS_PORT	EXEC_OUT_STREAMS
#define EXEC_JOB_PORT		(EXEC_OUT_STREAMS + 1)
#define EXEC_STDIN_PORT		(EXEC_OUT_STREAMS + 2)
#define EXEC_CTL_PORT		(EXEC_OUT_STREAMS + 3)
#define EXEC_PORTS		(EXEC_OUT_STREAMS + 4)

struct exec_out {
	struct exec_stream s[EXEC_OUT_STREAMS];
	struct vm *vm;
	struct virtio_dev *vdev;
	/* The status port: digits and a newline, then the VM may end. */
	char status_buf[8];
	unsigned int status_len;
	int status;		/* -1 until the agent said */
	struct ev_handler status_ev;	/* eventfd: look at it outside the lock */
	/* The job: sent from job_off on, once ready. */
	const char *job;
	size_t job_len, job_off;
	const char *snapshot;	/* take it at ready first; NULL: none */
	bool ready;		/* the agent said so (lock held to set) */
	struct exec_in *in;	/* stdin and signals, after the job */
	uint64_t t0;		/* the timeline's origin (exec.h), 0: none */
	bool said_status;	/* the timeline has the status */
};

static int exec_stream_open(struct exec_stream *s, int fd)
{
	struct stat st;
	char path[32];
	int flags;

	*s = (struct exec_stream){ .out = s->out, .port = s->port, .fd = fd,
				   .orig_fd = fd, .saved_flags = -1 };
	s->room.fd = -1;
	if (fstat(fd, &st) < 0) {
		/* Closed: the job's bytes have nowhere to go. */
		s->dropping = true;
		return 0;
	}
	flags = fcntl(fd, F_GETFL);
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || flags < 0 ||
	    (flags & O_NONBLOCK))
		return 0;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		s->fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
			     (flags & O_APPEND));
		if (s->fd >= 0) {
			s->own_fd = true;
			return 0;
		}
		s->fd = fd;
	}
	if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
		pr_err("cannot make fd %d non-blocking for the job's output: %s",
		       fd, strerror(errno));
		return -errno;
	}
	s->saved_flags = flags;
	return 0;
}

static void exec_stream_close(struct exec_stream *s)
{
	if (s->own_fd)
		close(s->fd);
	if (s->saved_flags >= 0)
		fcntl(s->orig_fd, F_SETFL, s->saved_flags);
	s->own_fd = false;
	s->saved_flags = -1;
}

/* The job said how it ended: end the VM once its output is all out. */
static void exec_out_try_exit(struct exec_out *o)
{
	if (o->status < 0)
		return;
	for (unsigned int i = 0; i < EXEC_OUT_STREAMS; i++) {
		if (!virtio_vports_flush(o->vdev, i))
			return;
	}
	vm_request_exit(o->vm, o->status, "the job ended");
}

/* Room again: give the device its turn (it takes vdev->lock). */
static void exec_stream_on_room(struct ev_handler *h, uint32_t events)
{
	struct exec_stream *s = container_of(h, struct exec_stream, room);

	(void)events;
	evloop_del(&s->out->vm->loop, h);
	s->waiting = false;
	if (virtio_vports_flush(s->out->vdev, s->port))
		exec_out_try_exit(s->out);
}

/* Full: be told when it is not. */
static void exec_stream_wait(struct exec_stream *s)
{
	int err;

	if (s->waiting)
		return;
	s->room.fd = s->fd;
	s->room.fn = exec_stream_on_room;
	err = evloop_add(&s->out->vm->loop, &s->room, EPOLLOUT);
	if (err) {
		pr_warn("fd %d: cannot wait for room (%s); dropping the job's output there",
			s->orig_fd, strerror(-err));
		s->dropping = true;
		return;
	}
	s->waiting = true;
}

/* The device's write backend (I/O thread, vdev->lock held). */
static size_t exec_stream_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct exec_stream *s = ctx;
	ssize_t n;

	if (s->dropping)
		return len;
	do
		n = write(s->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n < 0 && errno == EAGAIN) {
		exec_stream_wait(s);
		return s->dropping ? len : 0;
	}
	/* EPIPE and the like: the reader went away, as from a shell
	 * pipeline's `| head`. The job runs on; its bytes go nowhere. */
	s->dropping = true;
	return len;
}

/*
 * The status port's backend (vdev->lock held): the agent's "N\n". A
 * guest may say anything here, as it may write anything to the exit
 * device; what is not a status in 0..255 is ignored.
 */
static size_t exec_status_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct exec_out *o = ctx;
	uint64_t one = 1;

	for (size_t i = 0; i < len && o->status < 0; i++) {
		unsigned int v;

		if (buf[i] != '\n') {
			if (o->status_len < sizeof(o->status_buf) - 1)
				o->status_buf[o->status_len++] = buf[i];
			continue;
		}
		o->status_buf[o->status_len] = '\0';
		o->status_len = 0;
		if (!strcmp(o->status_buf, EXEC_JOB_READY)) {
			o->ready = true;
			if (write(o->status_ev.fd, &one, sizeof(one)) < 0)
				pr_warn_once("exec: cannot wake the I/O thread: %s", strerror(errno));
			continue;
		}
		if (parse_uint(o->status_buf, 255, &v))
			continue;
		o->status = v;
		if (write(o->status_ev.fd, &one, sizeof(one)) < 0)
			pr_warn_once("exec: cannot wake the I/O thread: %s", strerror(errno));
	}
	return len;
}

/* The input ports' backend: the agent sends nothing there. */
static size_t exec_job_write(void *ctx, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)buf;
	return len;
}

/* The guest posted receive buffers (vdev->lock held): send on outside. */
static void exec_job_room(void *ctx)
{
	struct exec_out *o = ctx;
	uint64_t one = 1;

	if (write(o->status_ev.fd, &one, sizeof(one)) < 0)
		pr_warn_once("exec: cannot wake the I/O thread: %s", strerror(errno));
}

/*
 * The agent is ready and waits for its job, with nothing of it in the
 * VM yet: a cold boot snapshots here (the vCPUs parked, the devices
 * quiesced by vm_snapshot()), once, then goes on either way.
 */
static void exec_out_snapshot(struct exec_out *o)
{
	const char *path = o->snapshot;
	int err;

	o->snapshot = NULL;
	err = vm_pause(o->vm);
	if (!err) {
		err = vm_snapshot(o->vm, path);
		vm_resume(o->vm);
	}
	/*
	 * -EEXIST: another exec saved this shape first. The cache's save lock
	 * keeps two execs of one shape from both saving, so only two shapes
	 * whose keys hash alike get here: nothing is lost, the entry is not ours.
	 */
	if (err == -EEXIST)
		pr_info("exec: cold boot (another exec saved %s first)", path);
	else if (err)
		pr_warn("exec: no snapshot saved (%s); the job runs on", strerror(-err));
	else
		pr_info("exec: cold boot (snapshot saved to %s)", path);
}

/* As much of the job as the guest's buffers take; the rest waits for
 * exec_job_room(). */
static void exec_out_send_job(struct exec_out *o)
{
	bool ready;

	pthread_mutex_lock(&o->vdev->lock);
	ready = o->ready;
	pthread_mutex_unlock(&o->vdev->lock);
	if (!ready || !o->job)
		return;
	if (o->job_off == o->job_len) {
		exec_in_pump(o->in);
		return;
	}
	if (o->snapshot) {
		exec_time_step(o->t0, "the agent is ready: saving the snapshot");
		exec_out_snapshot(o);
	}
	o->job_off += virtio_vports_send(o->vdev, EXEC_JOB_PORT, o->job + o->job_off,
					 o->job_len - o->job_off);
	/* Only after the job: nothing of it may be in a snapshot. */
	if (o->job_off == o->job_len) {
		exec_time_step(o->t0, "the job is sent");
		exec_in_pump(o->in);
	}
}

static void exec_out_on_status(struct ev_handler *h, uint32_t events)
{
	struct exec_out *o = container_of(h, struct exec_out, status_ev);
	uint64_t v;

	(void)events;
	if (read(h->fd, &v, sizeof(v)) != sizeof(v))
		return;
	exec_out_send_job(o);
	if (o->status >= 0 && !o->said_status) {
		o->said_status = true;
		exec_time_step(o->t0, "the job's exit status is in: %d", o->status);
	}
	exec_out_try_exit(o);
}

void exec_out_set_t0(struct exec_out *o, uint64_t t0)
{
	o->t0 = t0;
}

void exec_out_set_job(struct exec_out *o, const char *job, size_t len,
		      const char *snapshot, bool ready)
{
	uint64_t one = 1;

	o->job = job;
	o->job_len = len;
	o->job_off = 0;
	o->snapshot = snapshot;
	pthread_mutex_lock(&o->vdev->lock);
	o->ready |= ready;
	pthread_mutex_unlock(&o->vdev->lock);
	/* The loop's first round looks: a restored agent says nothing. */
	if (write(o->status_ev.fd, &one, sizeof(one)) < 0)
		pr_warn_once("exec: cannot wake the I/O thread: %s", strerror(errno));
}

int exec_out_new(struct exec_out **out, bool tty)
{
	struct exec_out *o = calloc(1, sizeof(*o));
	int err = 0;

	if (!o)
		return -ENOMEM;
	o->status = -1;
	o->status_ev.fd = -1;
	for (unsigned int i = 0; i < EXEC_OUT_STREAMS; i++) {
		o->s[i].out = o;
		o->s[i].port = i;
		o->s[i].room.fd = o->s[i].saved_flags = -1;
	}
	for (unsigned int i = 0; i < EXEC_OUT_STREAMS && !err; i++)
		err = exec_stream_open(&o->s[i], STDOUT_FILENO + i);
	if (!err)
		err = exec_in_new(&o->in, tty);
	if (err) {
		exec_out_free(o);
		return err;
	}
	*out = o;
	return 0;
}

struct virtio_dev *exec_out_device(struct vm *vm)
{
	struct exec_out *o = vm->exec_out;
	struct vport_backend be[EXEC_PORTS];

	for (unsigned int i = 0; i < EXEC_OUT_STREAMS; i++)
		be[i] = (struct vport_backend){
			.name = exec_port_names[i], .write = exec_stream_write, .ctx = &o->s[i],
		};
	be[EXEC_STATUS_PORT] = (struct vport_backend){
		.name = exec_port_names[EXEC_STATUS_PORT], .write = exec_status_write, .ctx = o,
	};
	for (unsigned int i = EXEC_JOB_PORT; i < EXEC_PORTS; i++)
		be[i] = (struct vport_backend){
			.name = exec_port_names[i], .write = exec_job_write,
			.ctx = o, .room = exec_job_room,
		};
	o->vm = vm;
	o->status_ev.fn = exec_out_on_status;
	o->status_ev.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (o->status_ev.fd < 0 || evloop_add(&vm->loop, &o->status_ev, EPOLLIN)) {
		pr_err("cannot set up the job's status channel: %s", strerror(errno));
		return NULL;
	}
	o->vdev = virtio_vports_new(&vm->mem, be, EXEC_PORTS);
	if (o->vdev)
		exec_in_attach(o->in, vm, o->vdev, EXEC_STDIN_PORT, EXEC_CTL_PORT);
	return o->vdev;
}

bool exec_out_reported(const struct exec_out *o)
{
	return o->status >= 0;
}

/* After vm_destroy(): the devices, and the loop, are gone. */
void exec_out_free(struct exec_out *o)
{
	if (!o)
		return;
	/* Backwards: when fd 2 shares fd 1's description, fd 1 saved the
	 * flags from before either changed them. */
	for (unsigned int i = EXEC_OUT_STREAMS; i--; )
		exec_stream_close(&o->s[i]);
	if (o->status_ev.fd >= 0)
		close(o->status_ev.fd);
	exec_in_free(o->in);
	free(o);
}
