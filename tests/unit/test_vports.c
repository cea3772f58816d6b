// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-console with MULTIPORT (virtio/vports.c), one port, driven by
 * the fake guest: the control handshake as Linux does it, messages that
 * wait for control buffers, a hostile driver's messages, output with
 * flow control, in order, held while the backend has no room, and input
 * into the guest's receive buffers only while it has the port open.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_console.h>

#include "unit.h"
#include "fake_virtq.h"
#include "lib/sbuf.h"
#include "virtio/devices.h"

#define RXQ		0
#define TXQ		1
#define CRXQ		2
#define CTXQ		3
#define QSIZE		8
#define F_MULTIPORT	(1ULL << VIRTIO_CONSOLE_F_MULTIPORT)

static struct fake_guest g;
static struct virtio_dev *vp;

/* The backend: takes at most room bytes, then nothing. */
static uint8_t out[4096];
static size_t out_len, room;
static unsigned int write_calls, room_calls;

static void be_room(void *ctx)
{
	ck_assert_ptr_eq(ctx, &g);
	room_calls++;
}

static size_t be_write(void *ctx, const uint8_t *buf, size_t len)
{
	ck_assert_ptr_eq(ctx, &g);
	write_calls++;
	if (len > room)
		len = room;
	ck_assert_uint_le(len, sizeof(out) - out_len);
	memcpy(out + out_len, buf, len);
	out_len += len;
	room -= len;
	return len;
}

static void setup(void)
{
	struct vport_backend be = { "stdout", be_write, &g, be_room };

	fake_guest_init(&g);
	out_len = write_calls = room_calls = 0;
	room = sizeof(out);
	vp = virtio_vports_new(&g.mem, &be, 1);
	ck_assert_ptr_nonnull(vp);
	fake_attach(&g, vp);
}

static void teardown(void)
{
	virtio_dev_exit(vp);
	free(vp);
	fake_guest_exit(&g);
}

static struct fake_seg tx_seg(const void *data, uint32_t len)
{
	struct fake_seg seg = { fake_alloc(&g, len, 1), len, false };

	memcpy(fake_ptr(&g, seg.gpa), data, len);
	return seg;
}

static struct fake_seg tx_str(const char *s)
{
	return tx_seg(s, strlen(s));
}

/* The driver sends a control message. */
static void ctrl_send(uint32_t id, uint16_t event, uint16_t value)
{
	struct virtio_console_control cc = {
		.id = htole32(id), .event = htole16(event), .value = htole16(value),
	};
	struct fake_seg s = tx_seg(&cc, sizeof(cc));

	fake_add_chain(&g, CTXQ, &s, 1);
	fake_kick(&g, vp, CTXQ);
}

/* The driver posts a control buffer of len bytes; returns its gpa. */
static uint64_t ctrl_post(uint32_t len)
{
	struct fake_seg s = { fake_alloc_guarded(&g, len), len, true };

	fake_add_chain(&g, CRXQ, &s, 1);
	return s.gpa;
}

/* The next control message the device wrote into the buffer at gpa. */
static void expect_msg(uint64_t gpa, uint32_t id, uint16_t event, uint16_t value,
		       const char *name)
{
	struct virtio_console_control cc;
	uint32_t head, len;

	ck_assert(fake_get_used(&g, CRXQ, &head, &len));
	ck_assert_uint_eq(len, sizeof(cc) + strlen(name));
	memcpy(&cc, fake_ptr(&g, gpa), sizeof(cc));
	ck_assert_uint_eq(le32toh(cc.id), id);
	ck_assert_uint_eq(le16toh(cc.event), event);
	ck_assert_uint_eq(le16toh(cc.value), value);
	ck_assert(!memcmp((uint8_t *)fake_ptr(&g, gpa) + sizeof(cc), name, strlen(name)));
}

static void expect_no_msg(void)
{
	uint32_t head, len;

	ck_assert(!fake_get_used(&g, CRXQ, &head, &len));
}

START_TEST(test_vports_identity)
{
	struct virtio_console_config cfg;

	ck_assert_uint_eq(vp->ops->device_id, VIRTIO_ID_CONSOLE);
	ck_assert_uint_eq(vp->ops->nr_queues, 4);
	ck_assert_uint_eq(vp->ops->features, F_MULTIPORT);
	pthread_mutex_lock(&vp->lock);
	vp->ops->config_read(vp, 0, (uint8_t *)&cfg, sizeof(cfg));
	pthread_mutex_unlock(&vp->lock);
	ck_assert_uint_eq(le32toh(cfg.max_nr_ports), 1);
	ck_assert_ptr_null(virtio_vports_new(&g.mem, NULL, 0));
	ck_assert_ptr_null(virtio_vports_new(&g.mem, NULL, VPORTS_MAX + 1));
}
END_TEST

/* Linux's order: DEVICE_READY, PORT_ADD, PORT_READY, PORT_NAME, PORT_OPEN. */
START_TEST(test_vports_handshake)
{
	uint64_t b[3];

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	for (int i = 0; i < 3; i++)
		b[i] = ctrl_post(64);
	ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	ck_assert_uint_eq(fake_used_idx(&g, CTXQ), 1);
	expect_msg(b[0], 0, VIRTIO_CONSOLE_PORT_ADD, 0, "");
	expect_no_msg();
	ctrl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect_msg(b[1], 0, VIRTIO_CONSOLE_PORT_NAME, 0, "stdout");
	expect_msg(b[2], 0, VIRTIO_CONSOLE_PORT_OPEN, 1, "");
	expect_no_msg();
	/* The guest opening its end needs no answer. */
	ctrl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	expect_no_msg();
	fake_check_guards(&g, b[1], 64);
}
END_TEST

/* Messages wait for the driver's buffers, in order. */
START_TEST(test_vports_msgs_wait)
{
	uint64_t b;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect_no_msg();
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_ADD, 0, "");
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_NAME, 0, "stdout");
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_OPEN, 1, "");
}
END_TEST

/* A hostile driver: unknown ports, failed readiness, short messages, a
 * buffer too small for a name, and a flood that must stay bounded. */
START_TEST(test_vports_hostile_ctrl)
{
	struct fake_seg s = tx_str("abc");
	uint32_t head, len;
	uint64_t b;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	ctrl_send(1, VIRTIO_CONSOLE_PORT_READY, 1);
	ctrl_send(0xffffffff, VIRTIO_CONSOLE_PORT_READY, 1);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_READY, 0);
	ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 0);
	fake_add_chain(&g, CTXQ, &s, 1);
	fake_kick(&g, vp, CTXQ);
	ck_assert_uint_eq(fake_used_idx(&g, CTXQ), 5);
	ctrl_post(9);			/* the name will not fit: dropped */
	fake_kick(&g, vp, CRXQ);
	expect_no_msg();

	ctrl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	ck_assert(fake_get_used(&g, CRXQ, &head, &len));
	ck_assert_uint_eq(len, 0);
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_OPEN, 1, "");

	for (int i = 0; i < 200; i++)
		ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	ck_assert(!vp->broken);
}
END_TEST

/* Output in order, across segments and chains. */
START_TEST(test_vports_tx_order)
{
	struct fake_seg a = tx_str("hello ");
	struct fake_seg b[2] = { tx_str("wor"), tx_str("ld\n") };
	uint32_t head, len;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	fake_add_chain(&g, TXQ, &a, 1);
	fake_add_chain(&g, TXQ, b, 2);
	fake_kick(&g, vp, TXQ);
	ck_assert_uint_eq(out_len, 12);
	ck_assert(!memcmp(out, "hello world\n", 12));
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 2);
	ck_assert(fake_get_used(&g, TXQ, &head, &len));
	ck_assert_uint_eq(len, 0);
	ck_assert(virtio_vports_flush(vp, 0));
}
END_TEST

/* A full backend holds the buffer in the guest; a flush goes on from
 * the byte where it stopped, and nothing is lost or reordered. */
START_TEST(test_vports_tx_flow_control)
{
	struct fake_seg a = tx_str("0123456789");
	struct fake_seg b = tx_str("abcdef");

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	room = 4;
	fake_add_chain(&g, TXQ, &a, 1);
	fake_add_chain(&g, TXQ, &b, 1);
	fake_kick(&g, vp, TXQ);
	ck_assert_uint_eq(out_len, 4);
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 0);
	/* A kick while held takes nothing more. */
	fake_kick(&g, vp, TXQ);
	ck_assert_uint_eq(out_len, 4);
	ck_assert(!virtio_vports_flush(vp, 0));

	room = 8;
	ck_assert(!virtio_vports_flush(vp, 0));
	ck_assert_uint_eq(out_len, 12);
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 1);

	room = 100;
	ck_assert(virtio_vports_flush(vp, 0));
	ck_assert_uint_eq(out_len, 16);
	ck_assert(!memcmp(out, "0123456789abcdef", 16));
	ck_assert_uint_eq(fake_used_idx(&g, TXQ), 2);
}
END_TEST

/* A reset forgets a held buffer and the pending messages. */
START_TEST(test_vports_reset)
{
	struct fake_seg a = tx_str("held");
	uint64_t b;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	room = 1;
	fake_add_chain(&g, TXQ, &a, 1);
	fake_kick(&g, vp, TXQ);
	ck_assert(fake_set_status(vp, 0));
	room = 100;
	ck_assert(virtio_vports_flush(vp, 0));
	ck_assert_uint_eq(out_len, 1);

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_no_msg();
	ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_ADD, 0, "");
	/* The receiveq is never used: no input. */
	ck_assert_uint_eq(fake_used_idx(&g, RXQ), 0);
}
END_TEST


/* ---- input ---- */

/* The guest posts a receive buffer of len bytes on the port; its gpa. */
static uint64_t rx_post(uint32_t len)
{
	struct fake_seg s = { fake_alloc_guarded(&g, len), len, true };

	fake_add_chain(&g, RXQ, &s, 1);
	return s.gpa;
}

static void expect_rx(uint64_t gpa, const char *data)
{
	uint32_t head, len;

	ck_assert(fake_get_used(&g, RXQ, &head, &len));
	ck_assert_uint_eq(len, strlen(data));
	ck_assert(!memcmp(fake_ptr(&g, gpa), data, len));
}

/* Nothing goes in before the guest opens its end (Linux would discard
 * it) nor after it closes it; opening says there is room. */
START_TEST(test_vports_rx_open)
{
	uint64_t b;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	b = rx_post(16);
	fake_kick(&g, vp, RXQ);
	ck_assert_uint_eq(room_calls, 0);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "job", 3), 0);
	ck_assert_uint_eq(fake_used_idx(&g, RXQ), 0);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ck_assert_uint_eq(room_calls, 1);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "job", 3), 3);
	expect_rx(b, "job");
	fake_check_guards(&g, b, 16);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 0);
	rx_post(16);
	fake_kick(&g, vp, RXQ);
	ck_assert_uint_eq(room_calls, 1);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "x", 1), 0);
	/* Ports that do not exist, and a hostile open value. */
	ctrl_send(7, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 2);
	ck_assert_uint_eq(room_calls, 1);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "x", 1), 0);
	ck_assert_uint_eq(virtio_vports_send(vp, 5, "x", 1), 0);
	ck_assert(!vp->broken);
}
END_TEST

/* Input takes what the posted buffers hold, in order; the rest is the
 * caller's until the guest posts more, which the room callback says. */
START_TEST(test_vports_rx_flow_control)
{
	uint64_t b[3];

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "0123456789", 10), 0);
	b[0] = rx_post(4);
	b[1] = rx_post(4);
	fake_kick(&g, vp, RXQ);
	ck_assert_uint_eq(room_calls, 2);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "0123456789", 10), 8);
	expect_rx(b[0], "0123");
	expect_rx(b[1], "4567");
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "89", 2), 0);
	b[2] = rx_post(64);
	fake_kick(&g, vp, RXQ);
	ck_assert_uint_eq(room_calls, 3);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "89", 2), 2);
	expect_rx(b[2], "89");
	fake_check_guards(&g, b[2], 64);
	/* A reset closes the port. */
	ck_assert(fake_set_status(vp, 0));
	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	rx_post(16);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "x", 1), 0);
}
END_TEST


/* ---- snapshots ---- */

/* Quiesce, save, a fresh device in place, every cut of the blob
 * refused, then the whole blob loaded. */
static void vp_restore(struct sbuf *b)
{
	struct vport_backend be = { "stdout", be_write, &g, be_room };
	struct sbuf_rd r;

	pthread_mutex_lock(&vp->lock);
	virtio_dev_quiesce(vp);
	ck_assert_int_eq(virtio_dev_save(vp, b), 0);
	pthread_mutex_unlock(&vp->lock);
	virtio_dev_exit(vp);
	free(vp);
	vp = virtio_vports_new(&g.mem, &be, 1);
	ck_assert_ptr_nonnull(vp);
	fake_attach(&g, vp);
	for (size_t n = 0; n < b->len; n++) {
		sbuf_rd_init(&r, b->data, n);
		ck_assert_int_eq(virtio_dev_load(vp, &r), -EINVAL);
	}
	sbuf_rd_init(&r, b->data, b->len);
	ck_assert_int_eq(virtio_dev_load(vp, &r), 0);
	ck_assert(sbuf_rd_done(&r));
	ck_assert(vp->active);
}

/* Messages the driver had no buffer for, and a port's held chain,
 * carry over: the handshake and the output go on where they were. */
START_TEST(test_vports_state)
{
	struct fake_seg a = tx_str("partial"), c = tx_str("!");
	struct sbuf blob = { 0 };
	uint32_t head, len;
	uint16_t ha, hc;
	uint64_t b;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	ctrl_send(VIRTIO_CONSOLE_BAD_ID, VIRTIO_CONSOLE_DEVICE_READY, 1);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	room = 3;
	ha = fake_add_chain(&g, TXQ, &a, 1);
	hc = fake_add_chain(&g, TXQ, &c, 1);
	fake_kick(&g, vp, TXQ);
	ck_assert_uint_eq(out_len, 3);
	room = sizeof(out);

	vp_restore(&blob);
	fake_kick(&g, vp, TXQ);
	ck_assert_uint_eq(out_len, 8);
	ck_assert(!memcmp(out, "partial!", 8));
	ck_assert(fake_get_used(&g, TXQ, &head, &len));
	ck_assert_uint_eq(head, ha);
	ck_assert(fake_get_used(&g, TXQ, &head, &len));
	ck_assert_uint_eq(head, hc);
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_ADD, 0, "");
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_NAME, 0, "stdout");
	b = ctrl_post(64);
	fake_kick(&g, vp, CRXQ);
	expect_msg(b, 0, VIRTIO_CONSOLE_PORT_OPEN, 1, "");

	/* Forged: a message about a port that does not exist. The blob
	 * ends with the device's part: count, then id, event, value. */
	sbuf_free(&blob);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_READY, 1);
	pthread_mutex_lock(&vp->lock);
	ck_assert_int_eq(virtio_dev_save(vp, &blob), 0);
	pthread_mutex_unlock(&vp->lock);
	blob.data[blob.len - 16] = 1;	/* the first message's id */
	{
		struct sbuf_rd r;

		sbuf_rd_init(&r, blob.data, blob.len);
		ck_assert_int_eq(virtio_dev_load(vp, &r), -EINVAL);
		ck_assert(!vp->active);
	}
	sbuf_free(&blob);
}
END_TEST

/* The guest's open end carries over: input goes on after a restore. */
START_TEST(test_vports_rx_state)
{
	struct sbuf blob = { 0 };
	uint64_t b;

	fake_driver_start(&g, vp, F_MULTIPORT, QSIZE);
	ctrl_send(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	b = rx_post(16);
	vp_restore(&blob);
	sbuf_free(&blob);
	ck_assert_uint_eq(virtio_vports_send(vp, 0, "after", 5), 5);
	expect_rx(b, "after");
}
END_TEST

static Suite *vports_suite(void)
{
	Suite *s = suite_create("vports");
	TCase *tc = tcase_create("vports");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vports_identity);
	tcase_add_test(tc, test_vports_handshake);
	tcase_add_test(tc, test_vports_msgs_wait);
	tcase_add_test(tc, test_vports_hostile_ctrl);
	tcase_add_test(tc, test_vports_tx_order);
	tcase_add_test(tc, test_vports_tx_flow_control);
	tcase_add_test(tc, test_vports_reset);
	tcase_add_test(tc, test_vports_state);
	tcase_add_test(tc, test_vports_rx_state);
	tcase_add_test(tc, test_vports_rx_open);
	tcase_add_test(tc, test_vports_rx_flow_control);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_SUITE(vports_suite)
