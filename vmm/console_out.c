// SPDX-License-Identifier: GPL-2.0
/* The console's output buffer (vmm/console_out.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/console_out.h"

void console_out_init(struct console_out *o, int fd)
{
	pthread_mutex_init(&o->lock, NULL);
	o->fd = fd;
	o->gone = false;
	o->refused = false;
	o->head = o->len = 0;
}

void console_out_destroy(struct console_out *o)
{
	pthread_mutex_destroy(&o->lock);
}

/*
 * One write(); how many bytes the descriptor took. EAGAIN takes none; an
 * error means the reader is gone (EPIPE, a hung-up terminal, a full
 * disk): from then on everything is discarded, as a closed stdout must
 * not stop the guest.
 */
static size_t console_out_put(struct console_out *o, const uint8_t *buf, size_t len)
{
	ssize_t n;

	do
		n = write(o->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n < 0 && errno == EAGAIN)
		return 0;
	o->gone = true;
	o->len = 0;
	return len;
}

static void console_out_queue(struct console_out *o, const uint8_t *buf, size_t len)
{
	size_t tail = (o->head + o->len) % CONSOLE_OUT_SIZE;
	size_t n = len < CONSOLE_OUT_SIZE - tail ? len : CONSOLE_OUT_SIZE - tail;

	memcpy(o->buf + tail, buf, n);
	memcpy(o->buf, buf + n, len - n);
	o->len += len;
}

size_t console_out_write(struct console_out *o, const uint8_t *buf, size_t len,
			 bool *wait)
{
	size_t done = 0, room;

	if (!len)
		return 0;
	pthread_mutex_lock(&o->lock);
	if (o->fd < 0 || o->gone) {
		done = len;
		goto out;
	}
	/* Straight out while nothing waits: the common case costs one
	 * write, as it did before there was a buffer. */
	if (!o->len)
		done = console_out_put(o, buf, len);
	if (o->gone) {
		done = len;
		goto out;
	}
	room = CONSOLE_OUT_SIZE - o->len;
	if (len - done < room)
		room = len - done;
	if (room) {
		*wait |= !o->len;
		console_out_queue(o, buf + done, room);
		done += room;
	}
	if (done < len)
		o->refused = true;
out:
	pthread_mutex_unlock(&o->lock);
	return done;
}

size_t console_out_flush(struct console_out *o, bool *room)
{
	size_t left;

	pthread_mutex_lock(&o->lock);
	while (o->len && !o->gone) {
		size_t n = o->len < CONSOLE_OUT_SIZE - o->head ?
			   o->len : CONSOLE_OUT_SIZE - o->head;

		n = console_out_put(o, o->buf + o->head, n);
		if (!n)
			break;
		if (o->gone)
			break;
		o->head = (o->head + n) % CONSOLE_OUT_SIZE;
		o->len -= n;
	}
	if (!o->len)
		o->head = 0;
	if (o->refused && (o->gone || o->len <= CONSOLE_OUT_SIZE / 2)) {
		o->refused = false;
		*room = true;
	}
	left = o->len;
	pthread_mutex_unlock(&o->lock);
	return left;
}

size_t console_out_discard(struct console_out *o)
{
	size_t n;

	pthread_mutex_lock(&o->lock);
	n = o->len;
	o->head = o->len = 0;
	pthread_mutex_unlock(&o->lock);
	return n;
}
