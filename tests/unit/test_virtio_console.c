// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console through its ops and virtio_console_push(), with the fake
 * guest of fake_virtq.c as driver and transport and a recording backend.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ring.h>

#include "unit.h"
#include "fake_virtq.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"

#define RXQ		0
#define TXQ		1
#define QSIZE		8
#define F_INDIRECT	(1ULL << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ULL << VIRTIO_RING_F_EVENT_IDX)
#define F_SIZE		(1ULL << VIRTIO_CONSOLE_F_SIZE)
#define F_EMERG		(1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE)

static struct fake_guest g;
static struct virtio_dev *con;

/* The recording backend. */
static uint8_t out[4096];
static size_t out_len;
static size_t out_room;		/* how much more the backend takes */
static unsigned int output_calls, space_calls;
static void (*output_hook)(void);

static size_t be_output(void *ctx, const uint8_t *buf, size_t len)
{
	ck_assert_ptr_eq(ctx, &g);
	ck_assert_uint_gt(len, 0);
	output_calls++;
	if (len > out_room)
		len = out_room;
	out_room -= len;
	ck_assert_uint_le(len, sizeof(out) - out_len);
	memcpy(out + out_len, buf, len);
	out_len += len;
	if (output_hook)
		output_hook();
	return len;
}

static void be_input_space(void *ctx)
{
	ck_assert_ptr_eq(ctx, &g);
	space_calls++;
}

static void con_new(uint16_t cols, uint16_t rows)
{
	struct vconsole_backend be = {
		.output = be_output,
		.input_space = be_input_space,
		.ctx = &g,
		.cols = cols,
		.rows = rows,
	};

	con = virtio_console_new(&g.mem, &be);
	ck_assert_ptr_nonnull(con);
	fake_attach(&g, con);
}

static void setup(void)
{
	fake_guest_init(&g);
	out_len = 0;
	out_room = SIZE_MAX;
	output_calls = space_calls = 0;
	output_hook = NULL;
	con = NULL;
}

static void teardown(void)
{
	if (con) {
		virtio_dev_exit(con);
		free(con);
	}
	fake_guest_exit(&g);
}

static void start(uint64_t features)
{
	con_new(0, 0);
	fake_driver_start(&g, con, features, QSIZE);
}

static void expect_used(unsigned int q, uint16_t head, uint32_t len)
{
	uint32_t id, l;

	ck_assert(fake_get_used(&g, q, &id, &l));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(l, len);
}

static void expect_no_used(unsigned int q)
{
	uint32_t id, l;

	ck_assert(!fake_get_used(&g, q, &id, &l));
}

/* Guest memory holding s, readable by the device. */
static struct fake_seg tx_seg(const char *s)
{
	uint32_t len = strlen(s);
	struct fake_seg seg = { fake_alloc(&g, len, 1), len, false };

	memcpy(fake_ptr(&g, seg.gpa), s, len);
	return seg;
}

static struct fake_seg rx_seg(uint32_t len)
{
	return (struct fake_seg){ fake_alloc_guarded(&g, len), len, true };
}

static size_t push(const char *s)
{
	return virtio_console_push(con, (const uint8_t *)s, strlen(s));
}

static void config_read(uint32_t off, void *data, uint32_t len)
{
	pthread_mutex_lock(&con->lock);
	con->ops->config_read(con, off, data, len);
	pthread_mutex_unlock(&con->lock);
}

static void config_write(uint32_t off, const void *data, uint32_t len)
{
	pthread_mutex_lock(&con->lock);
	con->ops->config_write(con, off, data, len);
	pthread_mutex_unlock(&con->lock);
}

/* ---- identity and config space ---- */

START_TEST(test_con_identity)
{
	con_new(0, 0);
	ck_assert_uint_eq(con->ops->device_id, VIRTIO_ID_CONSOLE);
	ck_assert_uint_eq(con->ops->nr_queues, 2);
	ck_assert_uint_eq(con->ops->queue_max, 256);
	ck_assert_uint_eq(con->ops->config_size, 12);
	ck_assert_uint_eq(con->ops->features, F_EMERG);
	virtio_dev_exit(con);
	free(con);

	/* A window size offers F_SIZE; MULTIPORT never. */
	con_new(80, 25);
	ck_assert_uint_eq(con->ops->features, F_SIZE | F_EMERG);
	virtio_dev_exit(con);
	free(con);

	/* Half a size is no size. */
	con_new(80, 0);
	ck_assert_uint_eq(con->ops->features, F_EMERG);
}
END_TEST

START_TEST(test_con_null_backend)
{
	struct fake_seg s;

	con = virtio_console_new(&g.mem, NULL);
	ck_assert_ptr_nonnull(con);
	fake_driver_start(&g, con, 0, QSIZE);
	s = tx_seg("dropped");
	fake_add_chain(&g, TXQ, &s, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 1);
	ck_assert_uint_eq(push("x"), 0);
	s = rx_seg(4);
	fake_add_chain(&g, RXQ, &s, 1);
	fake_kick(&g, con, RXQ);
	config_write(8, "A\0\0\0", 4);
}
END_TEST

START_TEST(test_con_config)
{
	uint8_t cfg[12];
	uint16_t v16;
	uint32_t v32;

	con_new(132, 43);
	config_read(0, &v16, 2);
	ck_assert_uint_eq(le16toh(v16), 132);
	config_read(2, &v16, 2);
	ck_assert_uint_eq(le16toh(v16), 43);
	config_read(4, &v32, 4);
	ck_assert_uint_eq(le32toh(v32), 1);
	config_read(8, &v32, 4);
	ck_assert_uint_eq(v32, 0);		/* emerg_wr reads as 0 */
	config_read(0, cfg, sizeof(cfg));
	ck_assert_uint_eq(cfg[0] | cfg[1] << 8, 132);
	ck_assert_uint_eq(cfg[2] | cfg[3] << 8, 43);
	/* Byte by byte, as a legacy transport may read it. */
	config_read(1, &cfg[0], 1);
	ck_assert_uint_eq(cfg[0], 0);
	config_read(2, &cfg[0], 1);
	ck_assert_uint_eq(cfg[0], 43);
	virtio_dev_exit(con);
	free(con);

	con_new(0, 0);
	config_read(0, &v32, 4);
	ck_assert_uint_eq(v32, 0);
}
END_TEST

/* The core checks bounds; the device does not trust that either. */
START_TEST(test_con_config_bounds)
{
	uint8_t buf[16];

	con_new(80, 25);
	memset(buf, 0xff, sizeof(buf));
	config_read(10, buf, 4);
	ck_assert(!buf[0] && !buf[1] && !buf[2] && !buf[3]);
	memset(buf, 0xff, sizeof(buf));
	config_read(0, buf, 16);
	ck_assert_uint_eq(buf[0], 0);
	memset(buf, 0xff, sizeof(buf));
	config_read(UINT32_MAX, buf, 2);
	ck_assert(!buf[0] && !buf[1]);
	config_read(12, buf, 0);
	/* Writes outside emerg_wr change nothing and output nothing. */
	config_write(0, "\x10\x00\x10\x00", 4);
	config_write(UINT32_MAX, "A", 1);
	config_write(12, "A", 1);
	ck_assert_uint_eq(out_len, 0);
	config_read(0, buf, 2);
	ck_assert_uint_eq(buf[0], 80);
}
END_TEST

START_TEST(test_con_emerg_wr)
{
	con_new(0, 0);
	/* Before the driver has even acknowledged the device. */
	config_write(8, "H\0\0\0", 4);
	config_write(8, "i", 1);
	config_write(9, "x", 1);		/* not the low byte */
	config_write(10, "xy", 2);
	config_write(6, "\0\0!\0", 4);		/* covers byte 8 */
	ck_assert_uint_eq(out_len, 3);
	ck_assert(!memcmp(out, "Hi!", 3));
	fake_driver_start(&g, con, F_EMERG, QSIZE);
	config_write(8, "\n\0\0\0", 4);
	ck_assert_uint_eq(out_len, 4);
}
END_TEST

START_TEST(test_con_resize)
{
	uint16_t v16[2];
	uint32_t gen;

	con_new(80, 25);
	fake_driver_start(&g, con, F_SIZE, QSIZE);
	gen = con->config_generation;
	virtio_console_resize(con, 100, 40);
	config_read(0, v16, 4);
	ck_assert_uint_eq(le16toh(v16[0]), 100);
	ck_assert_uint_eq(le16toh(v16[1]), 40);
	ck_assert_uint_eq(con->config_generation, gen + 1);
	ck_assert_uint_eq(g.interrupts, 1);
	ck_assert_uint_eq(g.isr, VIRTIO_ISR_CONFIG);
	/* The same size again, or no size, is no change. */
	virtio_console_resize(con, 100, 40);
	virtio_console_resize(con, 0, 40);
	ck_assert_uint_eq(con->config_generation, gen + 1);
	ck_assert_uint_eq(g.interrupts, 1);
	virtio_dev_exit(con);
	free(con);

	/* Without F_SIZE offered the size stays 0. */
	con_new(0, 0);
	virtio_console_resize(con, 100, 40);
	config_read(0, v16, 4);
	ck_assert(!v16[0] && !v16[1]);
	ck_assert_uint_eq(con->config_generation, 0);
}
END_TEST

/* ---- transmit ---- */

START_TEST(test_con_tx_order)
{
	struct fake_seg a = tx_seg("hello ");
	struct fake_seg b[2] = { tx_seg("wor"), tx_seg("ld") };
	struct fake_seg c[2] = { tx_seg("!"), tx_seg("\n") };
	uint16_t ha, hb, hc;

	start(F_INDIRECT);
	ha = fake_add_chain(&g, TXQ, &a, 1);
	hb = fake_add_chain(&g, TXQ, b, 2);
	hc = fake_add_indirect(&g, TXQ, c, 2);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 13);
	ck_assert(!memcmp(out, "hello world!\n", 13));
	ck_assert_uint_eq(output_calls, 5);
	expect_used(TXQ, ha, 0);
	expect_used(TXQ, hb, 0);
	expect_used(TXQ, hc, 0);
	expect_no_used(TXQ);
	ck_assert_uint_eq(g.interrupts, 1);
	expect_no_used(RXQ);
}
END_TEST

/* Writable buffers on the transmitq are a driver bug: not written. */
START_TEST(test_con_tx_writable_ignored)
{
	struct fake_seg s[2] = { tx_seg("ab"), rx_seg(8) };
	uint16_t head;

	start(0);
	memset(fake_ptr(&g, s[1].gpa), 0x5a, 8);
	head = fake_add_chain(&g, TXQ, s, 2);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 2);
	expect_used(TXQ, head, 0);
	ck_assert_uint_eq(((uint8_t *)fake_ptr(&g, s[1].gpa))[7], 0x5a);
	fake_check_guards(&g, s[1].gpa, 8);
}
END_TEST

/* Output written while the device drains the queue, as another vCPU
 * would, is drained in the same kick. */
static void post_more(void)
{
	struct fake_seg s;

	if (output_calls > 1)
		return;
	s = tx_seg("late");
	fake_add_chain(&g, TXQ, &s, 1);
}

START_TEST(test_con_tx_added_during_drain)
{
	struct fake_seg s = tx_seg("early ");

	start(0);
	output_hook = post_more;
	fake_add_chain(&g, TXQ, &s, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 10);
	ck_assert(!memcmp(out, "early late", 10));
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 2);
	ck_assert_uint_eq(g.interrupts, 1);
}
END_TEST

/* A driver that keeps re-posting a buffer we hold cannot keep the I/O
 * thread in the drain loop: one more than the queue holds breaks it. */
static void repost_head0(void)
{
	fake_add_head(&g, TXQ, 0);
}

START_TEST(test_con_tx_repost_breaks)
{
	struct fake_seg s = tx_seg("x");

	start(0);
	output_hook = repost_head0;
	fake_add_chain(&g, TXQ, &s, 1);
	fake_kick(&g, con, TXQ);
	ck_assert(con->broken);
	ck_assert_uint_eq(output_calls, QSIZE);
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 0);
}
END_TEST

/*
 * A backend that takes part of a chain (its reader is behind): the chain
 * is held where it stopped, unused, the chains after it stay in the
 * avail ring and kicks stay off, so the guest waits. The backend's room
 * call requeues the transmitq, and the next turn goes on in order.
 */
START_TEST(test_con_tx_backpressure)
{
	struct fake_seg a[2] = { tx_seg("hel"), tx_seg("lo ") };
	struct fake_seg b = tx_seg("world");
	uint16_t ha, hb;

	start(0);
	out_room = 4;
	ha = fake_add_chain(&g, TXQ, a, 2);
	hb = fake_add_chain(&g, TXQ, &b, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 4);
	ck_assert(!memcmp(out, "hell", 4));
	expect_no_used(TXQ);
	ck_assert_uint_eq(g.interrupts, 0);
	ck_assert(!fake_kick_wanted(&g, TXQ));

	/* Room again: a requeue, which the transport turns into a kick. */
	out_room = 0;
	virtio_console_output_room(con);
	ck_assert_uint_eq(g.requeues[TXQ], 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 4);
	expect_no_used(TXQ);

	out_room = 3;
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 7);
	expect_used(TXQ, ha, 0);
	expect_no_used(TXQ);
	ck_assert_uint_eq(g.interrupts, 1);

	out_room = SIZE_MAX;
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 11);
	ck_assert(!memcmp(out, "hello world", 11));
	expect_used(TXQ, hb, 0);
	ck_assert_uint_eq(g.interrupts, 2);
	/* Nothing held: kicks are on again. */
	b = tx_seg("!");
	fake_add_chain(&g, TXQ, &b, 1);
	ck_assert(fake_kick_wanted(&g, TXQ));
}
END_TEST

/* A held chain belongs to the driver that posted it: a reset forgets it,
 * and the next driver's output is all that goes out. */
START_TEST(test_con_tx_held_reset)
{
	struct fake_seg a = tx_seg("stale");
	struct fake_seg b = tx_seg("fresh");

	start(0);
	out_room = 2;
	fake_add_chain(&g, TXQ, &a, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 2);
	ck_assert(fake_set_status(con, 0));
	out_room = SIZE_MAX;
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 2);

	fake_driver_start(&g, con, 0, QSIZE);
	fake_add_chain(&g, TXQ, &b, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 7);
	ck_assert(!memcmp(out, "stfresh", 7));
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 1);
}
END_TEST

/* An emergency write has no buffer to hold: refused, it is lost, and
 * the transmitq is not held up by it. */
START_TEST(test_con_emerg_wr_refused)
{
	struct fake_seg a = tx_seg("ok");

	start(F_EMERG);
	out_room = 0;
	config_write(8, "!", 1);
	ck_assert_uint_eq(output_calls, 1);
	out_room = SIZE_MAX;
	fake_add_chain(&g, TXQ, &a, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 2);
	ck_assert(!memcmp(out, "ok", 2));
}
END_TEST

START_TEST(test_con_tx_broken_ring)
{
	start(0);
	fake_add_head(&g, TXQ, QSIZE + 3);
	fake_kick(&g, con, TXQ);
	ck_assert(con->broken);
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(g.isr, VIRTIO_ISR_CONFIG);
	/* The receive side is gone with it. */
	ck_assert_uint_eq(push("a"), 0);
}
END_TEST

/* ---- receive ---- */

START_TEST(test_con_rx_no_buffers)
{
	start(0);
	ck_assert_uint_eq(push("abc"), 0);
	ck_assert_uint_eq(space_calls, 0);
	ck_assert_uint_eq(g.interrupts, 0);
	ck_assert_uint_eq(push(""), 0);
}
END_TEST

START_TEST(test_con_rx_kick_input_space)
{
	struct fake_seg s = rx_seg(16);

	start(0);
	ck_assert_uint_eq(push("abc"), 0);
	fake_add_chain(&g, RXQ, &s, 1);
	/* The device asked for this kick when it ran dry. */
	ck_assert(fake_kick_wanted(&g, RXQ));
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(space_calls, 1);
	/* Once per refusal. */
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(space_calls, 1);
	ck_assert_uint_eq(push("abc"), 3);
	ck_assert(!memcmp(fake_ptr(&g, s.gpa), "abc", 3));
}
END_TEST

/* No refusal, no call, and no need for kicks while buffers remain. */
START_TEST(test_con_rx_kick_without_refusal)
{
	struct fake_seg s[2] = { rx_seg(16), rx_seg(16) };

	start(0);
	fake_add_chain(&g, RXQ, &s[0], 1);
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(space_calls, 0);
	fake_add_chain(&g, RXQ, &s[1], 1);
	ck_assert(!fake_kick_wanted(&g, RXQ));
	ck_assert_uint_eq(push("0123456789abcdefXY"), 18);
	ck_assert_uint_eq(space_calls, 0);
}
END_TEST

START_TEST(test_con_rx_push)
{
	struct fake_seg s[2] = { rx_seg(8), rx_seg(8) };
	uint16_t h0, h1;

	start(0);
	h0 = fake_add_chain(&g, RXQ, &s[0], 1);
	h1 = fake_add_chain(&g, RXQ, &s[1], 1);
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(push("hello"), 5);
	expect_used(RXQ, h0, 5);
	expect_no_used(RXQ);
	ck_assert(!memcmp(fake_ptr(&g, s[0].gpa), "hello", 5));
	ck_assert_uint_eq(g.interrupts, 1);
	/* The rest of that buffer went back with it; the next one is used. */
	ck_assert_uint_eq(push("xy"), 2);
	expect_used(RXQ, h1, 2);
	ck_assert(!memcmp(fake_ptr(&g, s[1].gpa), "xy", 2));
	ck_assert_uint_eq(g.interrupts, 2);
	fake_check_guards(&g, s[0].gpa, 8);
	fake_check_guards(&g, s[1].gpa, 8);
	ck_assert_uint_eq(space_calls, 0);
}
END_TEST

/* One push across several chains and segments, in one publication. */
START_TEST(test_con_rx_spans_chains)
{
	struct fake_seg a[2] = { rx_seg(2), rx_seg(3) };
	struct fake_seg b = rx_seg(10);
	uint16_t ha, hb;

	start(0);
	ha = fake_add_chain(&g, RXQ, a, 2);
	hb = fake_add_chain(&g, RXQ, &b, 1);
	ck_assert_uint_eq(push("abcdefgh"), 8);
	expect_used(RXQ, ha, 5);
	expect_used(RXQ, hb, 3);
	ck_assert(!memcmp(fake_ptr(&g, a[0].gpa), "ab", 2));
	ck_assert(!memcmp(fake_ptr(&g, a[1].gpa), "cde", 3));
	ck_assert(!memcmp(fake_ptr(&g, b.gpa), "fgh", 3));
	ck_assert_uint_eq(g.interrupts, 1);
	fake_check_guards(&g, a[0].gpa, 2);
	fake_check_guards(&g, a[1].gpa, 3);
}
END_TEST

START_TEST(test_con_rx_partial)
{
	struct fake_seg s = rx_seg(4);
	struct fake_seg t = rx_seg(16);
	uint16_t head;

	start(0);
	head = fake_add_chain(&g, RXQ, &s, 1);
	ck_assert_uint_eq(push("abcdefgh"), 4);
	expect_used(RXQ, head, 4);
	ck_assert(!memcmp(fake_ptr(&g, s.gpa), "abcd", 4));
	fake_check_guards(&g, s.gpa, 4);
	/* The rest waits for the next buffer. */
	fake_add_chain(&g, RXQ, &t, 1);
	ck_assert(fake_kick_wanted(&g, RXQ));
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(space_calls, 1);
	ck_assert_uint_eq(push("efgh"), 4);
}
END_TEST

/* A receive chain with nothing writable is returned empty and skipped. */
START_TEST(test_con_rx_readable_chain)
{
	struct fake_seg r = tx_seg("ro");
	struct fake_seg w = rx_seg(4);
	uint16_t hr, hw;

	start(0);
	hr = fake_add_chain(&g, RXQ, &r, 1);
	hw = fake_add_chain(&g, RXQ, &w, 1);
	ck_assert_uint_eq(push("ok"), 2);
	expect_used(RXQ, hr, 0);
	expect_used(RXQ, hw, 2);
	ck_assert(!memcmp(fake_ptr(&g, r.gpa), "ro", 2));
}
END_TEST

/* With EVENT_IDX the device must move avail_event when it runs dry, or
 * the driver would never kick for the buffers that input waits for. */
START_TEST(test_con_rx_event_idx)
{
	struct fake_seg s[3] = { rx_seg(2), rx_seg(2), rx_seg(8) };

	start(F_EVENT_IDX);
	fake_set_used_event(&g, RXQ, 0);
	fake_add_chain(&g, RXQ, &s[0], 1);
	fake_add_chain(&g, RXQ, &s[1], 1);
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(push("abc"), 3);
	ck_assert_uint_eq(push("def"), 0);
	fake_add_chain(&g, RXQ, &s[2], 1);
	ck_assert(fake_kick_wanted(&g, RXQ));
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(space_calls, 1);
	ck_assert_uint_eq(push("def"), 3);
	ck_assert(!memcmp(fake_ptr(&g, s[2].gpa), "def", 3));
}
END_TEST

/* Input offered before the driver is up is wanted again once it is. */
START_TEST(test_con_rx_before_driver)
{
	con_new(0, 0);
	ck_assert_uint_eq(push("early"), 0);
	ck_assert_uint_eq(space_calls, 0);
	fake_driver_start(&g, con, 0, QSIZE);
	ck_assert_uint_eq(space_calls, 1);
}
END_TEST

/* ---- reset ---- */

START_TEST(test_con_reset)
{
	struct fake_seg rx = rx_seg(8);
	struct fake_seg tx = tx_seg("gone");
	uint8_t used_before[6 + 8 * QSIZE];

	start(0);
	fake_add_chain(&g, RXQ, &rx, 1);
	ck_assert_uint_eq(push("a"), 1);
	fake_add_chain(&g, RXQ, &rx, 1);
	fake_add_chain(&g, TXQ, &tx, 1);
	memcpy(used_before, fake_ptr(&g, g.q[RXQ].used), sizeof(used_before));

	ck_assert(fake_set_status(con, 0));
	ck_assert(!con->active);
	/* Neither input nor a stale kick touches the old rings. */
	ck_assert_uint_eq(push("bcd"), 0);
	fake_kick(&g, con, TXQ);
	fake_kick(&g, con, RXQ);
	ck_assert_uint_eq(out_len, 0);
	ck_assert(!memcmp(used_before, fake_ptr(&g, g.q[RXQ].used),
			  sizeof(used_before)));
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 0);
	ck_assert_uint_eq(((uint8_t *)fake_ptr(&g, rx.gpa))[1], 0);

	/* The refused input is wanted again by the next driver. */
	ck_assert_uint_eq(space_calls, 0);
	fake_driver_start(&g, con, 0, QSIZE);
	ck_assert_uint_eq(space_calls, 1);
	fake_add_chain(&g, RXQ, &rx, 1);
	ck_assert_uint_eq(push("bcd"), 3);
}
END_TEST

START_TEST(test_con_failed_status)
{
	struct fake_seg rx = rx_seg(8);

	start(0);
	fake_add_chain(&g, RXQ, &rx, 1);
	ck_assert(fake_set_status(con, con->status | VIRTIO_CONFIG_S_FAILED));
	ck_assert_uint_eq(push("a"), 0);
	ck_assert_uint_eq(fake_used_idx(&g, RXQ), 0);
}
END_TEST


/* ---- snapshots ---- */

/* The device's state, quiesced as before a snapshot, then a fresh
 * device in its place with that state loaded. */
static void con_restore(uint16_t cols, uint16_t rows)
{
	struct sbuf b = { 0 };
	struct sbuf_rd r;

	pthread_mutex_lock(&con->lock);
	virtio_dev_quiesce(con);
	ck_assert_int_eq(virtio_dev_save(con, &b), 0);
	pthread_mutex_unlock(&con->lock);
	virtio_dev_exit(con);
	free(con);
	con_new(cols, rows);
	for (size_t n = 0; n < b.len; n++) {
		sbuf_rd_init(&r, b.data, n);
		ck_assert_int_eq(virtio_dev_load(con, &r), -EINVAL);
		ck_assert(!con->active);
	}
	sbuf_rd_init(&r, b.data, b.len);
	pthread_mutex_lock(&con->lock);
	ck_assert_int_eq(virtio_dev_load(con, &r), 0);
	pthread_mutex_unlock(&con->lock);
	ck_assert(sbuf_rd_done(&r));
	ck_assert(con->active);
	sbuf_free(&b);
}

/* A chain the backend took part of: after the restore its rest goes
 * out, not its beginning again, and the next chain after it. */
START_TEST(test_con_state_held_chain)
{
	struct fake_seg a[2] = { tx_seg("hel"), tx_seg("lo ") };
	struct fake_seg b = tx_seg("world");
	uint16_t ha, hb;

	start(0);
	out_room = 4;
	ha = fake_add_chain(&g, TXQ, a, 2);
	hb = fake_add_chain(&g, TXQ, &b, 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 4);
	expect_no_used(TXQ);

	out_room = SIZE_MAX;
	con_restore(0, 0);
	ck_assert_uint_eq(g.requeues[TXQ], 1);
	fake_kick(&g, con, TXQ);
	ck_assert_uint_eq(out_len, 11);
	ck_assert(!memcmp(out, "hello world", 11));
	expect_used(TXQ, ha, 0);
	expect_used(TXQ, hb, 0);
}
END_TEST

/* A window of another size is a config change for the driver. */
START_TEST(test_con_state_resized)
{
	uint16_t v;

	con_new(80, 25);
	fake_driver_start(&g, con, F_SIZE, QSIZE);
	con_restore(100, 30);
	ck_assert(g.isr & VIRTIO_ISR_CONFIG);
	config_read(0, &v, 2);
	ck_assert_uint_eq(le16toh(v), 100);
	ck_assert_uint_eq(con->config_generation, 1);
}
END_TEST

static Suite *virtio_console_suite(void)
{
	Suite *s = suite_create("virtio_console");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_con_identity);
	tcase_add_test(tc, test_con_null_backend);
	tcase_add_test(tc, test_con_config);
	tcase_add_test(tc, test_con_config_bounds);
	tcase_add_test(tc, test_con_emerg_wr);
	tcase_add_test(tc, test_con_resize);
	suite_add_tcase(s, tc);

	tc = tcase_create("tx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_con_tx_order);
	tcase_add_test(tc, test_con_tx_writable_ignored);
	tcase_add_test(tc, test_con_tx_added_during_drain);
	tcase_add_test(tc, test_con_tx_repost_breaks);
	tcase_add_test(tc, test_con_tx_broken_ring);
	tcase_add_test(tc, test_con_tx_backpressure);
	tcase_add_test(tc, test_con_tx_held_reset);
	tcase_add_test(tc, test_con_emerg_wr_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("rx");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_con_rx_no_buffers);
	tcase_add_test(tc, test_con_rx_kick_input_space);
	tcase_add_test(tc, test_con_rx_kick_without_refusal);
	tcase_add_test(tc, test_con_rx_push);
	tcase_add_test(tc, test_con_state_held_chain);
	tcase_add_test(tc, test_con_state_resized);
	tcase_add_test(tc, test_con_rx_spans_chains);
	tcase_add_test(tc, test_con_rx_partial);
	tcase_add_test(tc, test_con_rx_readable_chain);
	tcase_add_test(tc, test_con_rx_event_idx);
	tcase_add_test(tc, test_con_rx_before_driver);
	tcase_add_test(tc, test_con_reset);
	tcase_add_test(tc, test_con_failed_status);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(virtio_console_suite)
