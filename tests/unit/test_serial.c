// SPDX-License-Identifier: GPL-2.0
/* The 16550A model, driven the way Linux's 8250 driver drives it. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "legacy/serial.h"
#include "lib/sbuf.h"

#define RBR	0
#define THR	0
#define DLL	0
#define IER	1
#define DLM	1
#define IIR	2
#define FCR	2
#define LCR	3
#define MCR	4
#define LSR	5
#define MSR	6
#define SCR	7

#define MAX_IRQS	64
#define MAX_OUT		4096

static struct serial *s;
static int irqs[MAX_IRQS], nr_irqs;
static uint8_t out[MAX_OUT];
static size_t nr_out;
static size_t out_room;		/* how much more the host takes */
static int nr_output_calls;
static int nr_rx_space;
static uint8_t watched[MAX_OUT];
static size_t nr_watched;

static void rec_set_irq(void *ctx, int level)
{
	ck_assert_ptr_eq(ctx, &s);
	ck_assert_int_lt(nr_irqs, MAX_IRQS);
	irqs[nr_irqs++] = level;
}

/* A host whose output takes out_room bytes more, then refuses. */
static size_t rec_output(void *ctx, const uint8_t *buf, size_t len)
{
	ck_assert_ptr_eq(ctx, &s);
	ck_assert_uint_gt(len, 0);
	nr_output_calls++;
	if (len > out_room)
		len = out_room;
	out_room -= len;
	ck_assert_uint_le(nr_out + len, MAX_OUT);
	memcpy(out + nr_out, buf, len);
	nr_out += len;
	return len;
}

static void rec_tx_watch(void *ctx, uint8_t byte)
{
	ck_assert_ptr_eq(ctx, &s);
	ck_assert_uint_lt(nr_watched, MAX_OUT);
	watched[nr_watched++] = byte;
}

/* May run on test_rx_threads' reader thread, so it asserts nothing. */
static void rec_rx_space(void *ctx)
{
	if (ctx == &s)
		__atomic_add_fetch(&nr_rx_space, 1, __ATOMIC_RELAXED);
}

static const struct serial_ops rec_ops = {
	.set_irq = rec_set_irq,
	.output = rec_output,
	.tx_watch = rec_tx_watch,
	.rx_space = rec_rx_space,
};

static void setup(void)
{
	nr_irqs = 0;
	nr_out = 0;
	out_room = SIZE_MAX;
	nr_output_calls = 0;
	nr_watched = 0;
	nr_rx_space = 0;
	s = serial_new(&rec_ops, &s);
	ck_assert_ptr_nonnull(s);
}

static void teardown(void)
{
	serial_free(s);
	s = NULL;
}

static uint8_t rd(uint64_t off)
{
	uint8_t v = 0xff;

	serial_access(s, off, &v, 1, false);
	return v;
}

static void wr(uint64_t off, uint8_t v)
{
	serial_access(s, off, &v, 1, true);
}

static size_t push_str(const char *str)
{
	return serial_rx_push(s, (const uint8_t *)str, strlen(str));
}

/* The set_irq calls so far must be exactly the given levels. */
#define ck_irqs(...)							\
	do {								\
		const int want[] = { __VA_ARGS__ };			\
		int n = sizeof(want) / sizeof(want[0]);			\
		ck_assert_int_eq(nr_irqs, n);				\
		for (int i = 0; i < n; i++)				\
			ck_assert_int_eq(irqs[i], want[i]);		\
	} while (0)

START_TEST(test_reset_state)
{
	ck_assert_uint_eq(rd(IER), 0x00);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert_uint_eq(rd(LCR), 0x00);
	ck_assert_uint_eq(rd(MCR), 0x00);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(MSR), 0xb0);
	ck_assert_int_eq(nr_irqs, 0);
}
END_TEST

START_TEST(test_divisor_latch)
{
	wr(LCR, 0x80 | 0x03);
	wr(DLL, 0x34);
	wr(DLM, 0x12);
	ck_assert_uint_eq(rd(DLL), 0x34);
	ck_assert_uint_eq(rd(DLM), 0x12);
	ck_assert_uint_eq(rd(LCR), 0x83);

	/* With DLAB clear the same offsets are RBR/THR and IER. */
	wr(LCR, 0x03);
	ck_assert_uint_eq(rd(IER), 0x00);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
	ck_assert_uint_eq(nr_out, 0);
	wr(IER, 0x05);
	wr(LCR, 0x83);
	ck_assert_uint_eq(rd(DLL), 0x34);
	ck_assert_uint_eq(rd(DLM), 0x12);
	wr(LCR, 0x03);
	ck_assert_uint_eq(rd(IER), 0x05);
}
END_TEST

START_TEST(test_scratch)
{
	wr(SCR, 0xa5);
	ck_assert_uint_eq(rd(SCR), 0xa5);
	wr(SCR, 0x5a);
	ck_assert_uint_eq(rd(SCR), 0x5a);
}
END_TEST

/* autoconfig's existence test and its XScale UUE (IER bit 6) probe. */
START_TEST(test_ier_bits)
{
	wr(IER, 0x00);
	ck_assert_uint_eq(rd(IER) & 0x0f, 0x00);
	wr(IER, 0x0f);
	ck_assert_uint_eq(rd(IER) & 0x0f, 0x0f);
	wr(IER, 0xff);
	ck_assert_uint_eq(rd(IER), 0x0f);
	wr(IER, 0x00);
}
END_TEST

START_TEST(test_lcr_mcr)
{
	wr(LCR, 0x1b);
	ck_assert_uint_eq(rd(LCR), 0x1b);
	wr(LCR, 0x03);
	ck_assert_uint_eq(rd(LCR), 0x03);
	wr(MCR, 0x0b);
	ck_assert_uint_eq(rd(MCR), 0x0b);
	wr(MCR, 0xff);
	ck_assert_uint_eq(rd(MCR), 0x1f);
	wr(MCR, 0x00);
	ck_assert_uint_eq(rd(MCR), 0x00);
}
END_TEST

/* autoconfig: MCR = LOOP | OUT2 | RTS must read back DCD | CTS. */
START_TEST(test_loopback_probe)
{
	wr(MCR, 0x10 | 0x0a);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0x90);
	wr(MCR, 0x10 | 0x0f);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0xf0);
	wr(MCR, 0x10);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0x00);
	wr(MCR, 0x10 | 0x01);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0x20);
	wr(MCR, 0x00);
	ck_assert_uint_eq(rd(MSR) & 0xf0, 0xb0);
}
END_TEST

START_TEST(test_msr_deltas)
{
	/* Entering loopback drops CTS, DSR and DCD. */
	wr(MCR, 0x10);
	ck_assert_uint_eq(rd(MSR), 0x0b);
	ck_assert_uint_eq(rd(MSR), 0x00);
	/* RI (OUT1) reports only its trailing edge. */
	wr(MCR, 0x10 | 0x04);
	ck_assert_uint_eq(rd(MSR), 0x40);
	wr(MCR, 0x10);
	ck_assert_uint_eq(rd(MSR), 0x04);
	wr(MCR, 0x00);
	ck_assert_uint_eq(rd(MSR), 0xbb);
	ck_assert_uint_eq(rd(MSR), 0xb0);
}
END_TEST

START_TEST(test_loopback_data)
{
	uint8_t c = 'x';

	wr(MCR, 0x10);
	wr(THR, 'q');
	ck_assert_uint_eq(nr_out, 0);
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(RBR), 'q');
	ck_assert_uint_eq(rd(LSR), 0x60);

	/* The line is disconnected: host input waits for loopback to end. */
	ck_assert_uint_eq(serial_rx_push(s, &c, 1), 0);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
	ck_assert_int_eq(nr_rx_space, 0);
	wr(MCR, 0x0b);
	ck_assert_int_eq(nr_rx_space, 1);
	ck_assert_uint_eq(serial_rx_push(s, &c, 1), 1);
	ck_assert_uint_eq(rd(RBR), 'x');
	wr(THR, 'y');
	ck_assert_uint_eq(nr_out, 1);
	ck_assert_uint_eq(out[0], 'y');
}
END_TEST

START_TEST(test_tx_output)
{
	const char *msg = "Linux version";

	for (const char *p = msg; *p; p++) {
		wr(THR, *p);
		ck_assert_uint_eq(rd(LSR) & 0x60, 0x60);
	}
	ck_assert_uint_eq(nr_out, strlen(msg));
	ck_assert_mem_eq(out, msg, strlen(msg));
	ck_assert_int_eq(nr_irqs, 0);
}
END_TEST

/* A host whose output is full holds THR: THRE and TEMT stay clear, and
 * the byte goes out, in order, when the host has room again. */
START_TEST(test_tx_held)
{
	out_room = 0;
	wr(THR, 'a');
	ck_assert_uint_eq(rd(LSR), 0x00);
	ck_assert_uint_eq(nr_out, 0);
	/* Written without waiting for THRE: lost, as on the chip. */
	wr(THR, 'b');
	ck_assert_uint_eq(rd(LSR), 0x00);

	/* Still no room: nothing changes. */
	serial_tx_ready(s);
	ck_assert_uint_eq(rd(LSR), 0x00);
	out_room = 10;
	serial_tx_ready(s);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(nr_out, 1);
	ck_assert_uint_eq(out[0], 'a');
	/* Nothing held: a spurious call sends nothing. */
	serial_tx_ready(s);
	ck_assert_int_eq(nr_output_calls, 4);
	wr(THR, 'c');
	ck_assert_uint_eq(nr_out, 2);
	ck_assert_uint_eq(out[1], 'c');
	ck_assert_int_eq(nr_irqs, 0);
}
END_TEST

/*
 * Linux's 8250 driver, with the FIFOs on: at each THR-empty interrupt it
 * writes 16 bytes without looking at LSR. What the host does not take
 * waits in the FIFO, and the interrupt comes again once all are out.
 */
START_TEST(test_tx_fifo_backpressure)
{
	const char *msg = "0123456789abcdefghijkL";

	wr(FCR, 0x01);
	wr(IER, 0x02);
	ck_irqs(1);
	ck_assert_uint_eq(rd(IIR), 0xc2);
	ck_irqs(1, 0);

	/* Five go out at once (THR empty again after each), eleven wait. */
	out_room = 5;
	for (int i = 0; i < 16; i++)
		wr(THR, msg[i]);
	ck_irqs(1, 0, 1, 0);
	ck_assert_uint_eq(nr_out, 5);
	ck_assert_uint_eq(rd(LSR), 0x00);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	/* Five more fill the FIFO; the sixth is lost. */
	for (int i = 16; i < 22; i++)
		wr(THR, msg[i]);
	out_room = 4;
	serial_tx_ready(s);
	ck_assert_uint_eq(nr_out, 9);
	ck_assert_uint_eq(rd(LSR), 0x00);
	ck_irqs(1, 0, 1, 0);

	/* Enabling ETBEI again raises nothing while THR is not empty. */
	wr(IER, 0x00);
	wr(IER, 0x02);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	ck_irqs(1, 0, 1, 0);

	out_room = SIZE_MAX;
	serial_tx_ready(s);
	ck_irqs(1, 0, 1, 0, 1);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(IIR), 0xc2);
	ck_irqs(1, 0, 1, 0, 1, 0);
	ck_assert_uint_eq(nr_out, 21);
	ck_assert_mem_eq(out, msg, 21);
}
END_TEST

/* The watcher sees every byte the guest transmits, as it writes it: the
 * ones the host has not taken and the ones lost too; not loopback's. */
START_TEST(test_tx_watch)
{
	out_room = 0;
	wr(THR, 'a');
	wr(THR, 'b');
	ck_assert_uint_eq(nr_watched, 2);
	ck_assert_mem_eq(watched, "ab", 2);
	out_room = SIZE_MAX;
	serial_tx_ready(s);
	ck_assert_uint_eq(nr_watched, 2);
	ck_assert_uint_eq(nr_out, 1);
	wr(MCR, 0x10);
	wr(THR, 'c');
	ck_assert_uint_eq(nr_watched, 2);
	wr(MCR, 0x00);
	wr(THR, 'd');
	ck_assert_uint_eq(nr_watched, 3);
	ck_assert_uint_eq(watched[2], 'd');
	/* The divisor latch is not THR. */
	wr(LCR, 0x80);
	wr(DLL, 0x01);
	ck_assert_uint_eq(nr_watched, 3);
}
END_TEST

/* FIFOs off: THR alone, one byte deep. FCR's transmit clear, and turning
 * the FIFOs off or on, drop what the host has not taken. */
START_TEST(test_tx_depth_and_clear)
{
	out_room = 0;
	wr(THR, 'a');
	wr(THR, 'b');
	wr(FCR, 0x01);		/* FIFOs on: emptied */
	ck_assert_uint_eq(rd(LSR), 0x60);
	for (int i = 0; i < 20; i++)
		wr(THR, 'c');
	ck_assert_uint_eq(rd(LSR), 0x00);
	wr(FCR, 0x01 | 0x02);	/* receive clear only */
	ck_assert_uint_eq(rd(LSR), 0x00);
	wr(FCR, 0x01 | 0x04);
	ck_assert_uint_eq(rd(LSR), 0x60);
	wr(THR, 'd');
	wr(FCR, 0x00);		/* FIFOs off: emptied */
	ck_assert_uint_eq(rd(LSR), 0x60);
	out_room = SIZE_MAX;
	serial_tx_ready(s);
	ck_assert_uint_eq(nr_out, 0);
	wr(THR, 'e');
	ck_assert_uint_eq(nr_out, 1);
	ck_assert_uint_eq(out[0], 'e');
}
END_TEST

START_TEST(test_fifo_bits)
{
	wr(FCR, 0x01);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	/* No 64-byte FIFO (bit 5), with or without DLAB: not a 16750. */
	wr(FCR, 0x21);
	ck_assert_uint_eq(rd(IIR) & 0xe0, 0xc0);
	wr(LCR, 0x80);
	wr(FCR, 0x21);
	ck_assert_uint_eq(rd(IIR) & 0xe0, 0xc0);
	wr(LCR, 0x00);
	wr(FCR, 0x00);
	ck_assert_uint_eq(rd(IIR), 0x01);
}
END_TEST

/* serial8250_do_startup's test that THRE is raised again. */
START_TEST(test_thre_irq)
{
	wr(IER, 0x02);
	ck_irqs(1);
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_irqs(1, 0);
	ck_assert_uint_eq(rd(IIR), 0x01);
	wr(IER, 0x00);
	wr(IER, 0x02);
	ck_irqs(1, 0, 1);
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_irqs(1, 0, 1, 0);

	/* Rewriting IER without a 0 -> 1 edge does not raise it again. */
	wr(IER, 0x03);
	ck_assert_uint_eq(rd(IIR), 0x01);

	/* Each THR write empties the THR at once and raises it again. */
	wr(THR, 'a');
	ck_irqs(1, 0, 1, 0, 1);
	wr(THR, 'b');
	ck_irqs(1, 0, 1, 0, 1);
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_irqs(1, 0, 1, 0, 1, 0);

	/* Turning ETBEI off masks a pending THRE. */
	wr(THR, 'c');
	wr(IER, 0x01);
	ck_irqs(1, 0, 1, 0, 1, 0, 1, 0);
	ck_assert_uint_eq(rd(IIR), 0x01);
	ck_assert_uint_eq(nr_out, 3);
}
END_TEST

START_TEST(test_thre_masked_by_rda)
{
	wr(IER, 0x03);
	ck_irqs(1);
	push_str("k");
	/* RDA outranks THRE, and reading IIR then leaves THRE pending. */
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(RBR), 'k');
	ck_irqs(1);
	ck_assert_uint_eq(rd(IIR), 0x02);
	ck_irqs(1, 0);
}
END_TEST

START_TEST(test_iir_priority)
{
	wr(FCR, 0x01);
	wr(IER, 0x0f);
	ck_irqs(1);
	/* Loopback raises a modem status change; overfill it to overrun. */
	wr(MCR, 0x10);
	for (int i = 0; i <= SERIAL_RX_BUF_SIZE; i++)
		wr(THR, i & 0xff);

	ck_assert_uint_eq(rd(IIR), 0xc6);
	ck_assert_uint_eq(rd(LSR), 0x63);
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(IIR), 0xc4);
	for (int i = 0; i < SERIAL_RX_BUF_SIZE; i++)
		ck_assert_uint_eq(rd(RBR), i & 0xff);
	ck_assert_uint_eq(rd(IIR), 0xc2);
	ck_assert_uint_eq(rd(IIR), 0xc0);
	ck_assert_uint_eq(rd(MSR), 0x0b);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	ck_irqs(1, 0);
	ck_assert_uint_eq(nr_out, 0);
}
END_TEST

START_TEST(test_rx_irq)
{
	wr(IER, 0x01);
	ck_assert_int_eq(nr_irqs, 0);
	ck_assert_uint_eq(push_str("ab"), 2);
	ck_irqs(1);
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(IIR), 0x04);
	ck_assert_uint_eq(rd(RBR), 'a');
	ck_irqs(1);
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(RBR), 'b');
	ck_irqs(1, 0);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(IIR), 0x01);

	/* Data that arrives with ERBFI off interrupts once it is set. */
	wr(IER, 0x00);
	push_str("c");
	ck_irqs(1, 0);
	wr(IER, 0x01);
	ck_irqs(1, 0, 1);
	wr(IER, 0x00);
	ck_irqs(1, 0, 1, 0);
	ck_assert_uint_eq(rd(RBR), 'c');
}
END_TEST

START_TEST(test_rx_full)
{
	uint8_t buf[SERIAL_RX_BUF_SIZE + 10];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = i * 7;
	ck_assert_uint_eq(serial_rx_push(s, buf, sizeof(buf)),
			  SERIAL_RX_BUF_SIZE);
	ck_assert_uint_eq(serial_rx_push(s, buf, 1), 0);
	ck_assert_int_eq(nr_rx_space, 0);

	ck_assert_uint_eq(rd(RBR), buf[0]);
	ck_assert_int_eq(nr_rx_space, 1);
	ck_assert_uint_eq(rd(RBR), buf[1]);
	ck_assert_int_eq(nr_rx_space, 1);

	/* Two free: a three-byte push takes two and is owed a call. */
	ck_assert_uint_eq(serial_rx_push(s, buf + SERIAL_RX_BUF_SIZE, 3), 2);
	for (size_t i = 2; i < sizeof(buf) - 8; i++)
		ck_assert_uint_eq(rd(RBR), buf[i]);
	ck_assert_int_eq(nr_rx_space, 2);
	ck_assert_uint_eq(rd(LSR) & 0x01, 0);
}
END_TEST

/* A push that fits, even exactly, is owed nothing. */
START_TEST(test_rx_exact_fill)
{
	uint8_t buf[SERIAL_RX_BUF_SIZE] = { 0 };

	ck_assert_uint_eq(serial_rx_push(s, buf, sizeof(buf)), sizeof(buf));
	rd(RBR);
	ck_assert_int_eq(nr_rx_space, 0);
}
END_TEST

START_TEST(test_fifo_clear)
{
	uint8_t buf[SERIAL_RX_BUF_SIZE + 1] = { 0 };

	wr(FCR, 0x01);
	wr(IER, 0x01);
	push_str("abc");
	ck_irqs(1);
	wr(FCR, 0x01 | 0x04);		/* transmit clear only */
	ck_assert_uint_eq(rd(LSR), 0x61);
	wr(FCR, 0x01 | 0x02);
	ck_irqs(1, 0);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(IIR), 0xc1);

	/* Switching the FIFOs off empties them too... */
	push_str("d");
	wr(FCR, 0x00);
	ck_assert_uint_eq(rd(LSR), 0x60);
	ck_assert_uint_eq(rd(IIR), 0x01);
	/* ...but other bits are ignored while the enable bit is clear. */
	push_str("e");
	wr(FCR, 0x02);
	ck_assert_uint_eq(rd(LSR), 0x61);
	ck_assert_uint_eq(rd(RBR), 'e');

	/* Clearing a full buffer makes room for the host. */
	wr(FCR, 0x01);
	ck_assert_uint_eq(serial_rx_push(s, buf, sizeof(buf)), sizeof(buf) - 1);
	ck_assert_int_eq(nr_rx_space, 0);
	wr(FCR, 0x07);
	ck_assert_int_eq(nr_rx_space, 1);
}
END_TEST

START_TEST(test_odd_accesses)
{
	static const uint32_t lens[] = { 0, 1, 2, 3, 4, 8 };
	uint8_t data[8];

	wr(SCR, 0x42);
	for (uint64_t off = 0; off < 20; off++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			memset(data, 0xff, sizeof(data));
			serial_access(s, off, data, lens[i], false);
			if (off == SCR && lens[i])
				ck_assert_uint_eq(data[0], 0x42);
			for (uint32_t j = 1; j < sizeof(data); j++)
				ck_assert_uint_eq(data[j], 0xff);
		}
	}
	/* Offsets past the registers and empty accesses do nothing. */
	for (uint64_t off = SERIAL_NR_REGS; off < 20; off++) {
		memset(data, 0, sizeof(data));
		serial_access(s, off, data, 8, true);
	}
	serial_access(s, UINT64_MAX, data, 1, true);
	serial_access(s, SCR, data, 0, true);
	ck_assert_uint_eq(rd(SCR), 0x42);
	ck_assert_uint_eq(nr_out, 0);

	/* A wide THR write sends its low byte only. */
	memcpy(data, "wxyz", 4);
	serial_access(s, THR, data, 4, true);
	ck_assert_uint_eq(nr_out, 1);
	ck_assert_uint_eq(out[0], 'w');
}
END_TEST

START_TEST(test_null_ops)
{
	struct serial *bare = serial_new(NULL, NULL);
	uint8_t v = 0x02;

	ck_assert_ptr_nonnull(bare);
	serial_access(bare, IER, &v, 1, true);
	v = 'z';
	serial_access(bare, THR, &v, 1, true);
	ck_assert_uint_eq(serial_rx_push(bare, &v, 1), 1);
	serial_access(bare, RBR, &v, 1, false);
	ck_assert_uint_eq(v, 'z');
	serial_free(bare);
	serial_free(NULL);
}
END_TEST

#define STRESS_BYTES	100000

/*
 * Check's asserts belong to the test's own thread: count mismatches.
 * Both sides yield when they cannot go on: on a loaded machine the two
 * threads may share one CPU, and a spin would burn the whole time slice
 * the other needs (CI timed out here with 200000 bytes and no yield).
 */
static void *stress_reader(void *arg)
{
	size_t *bad = arg;

	for (size_t got = 0; got < STRESS_BYTES;) {
		if (!(rd(LSR) & 0x01)) {
			sched_yield();
			continue;
		}
		if (rd(RBR) != got % 251)
			(*bad)++;
		got++;
	}
	return NULL;
}

/* Host pushes and guest reads racing on two threads lose nothing. */
START_TEST(test_rx_threads)
{
	pthread_t reader;
	uint8_t buf[300];
	size_t sent = 0, bad = 0;

	ck_assert_int_eq(pthread_create(&reader, NULL, stress_reader, &bad), 0);
	while (sent < STRESS_BYTES) {
		size_t n = STRESS_BYTES - sent;

		if (n > sizeof(buf))
			n = sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (sent + i) % 251;
		n = serial_rx_push(s, buf, n);
		if (!n)
			sched_yield();
		sent += n;
	}
	ck_assert_int_eq(pthread_join(reader, NULL), 0);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(rd(LSR), 0x60);
}
END_TEST


/* ---- snapshots ---- */

/* A UART with input waiting, output the host has not taken, the FIFOs
 * on and an interrupt pending; its state saved into *b. */
static void busy_uart_saved(struct sbuf *b)
{
	wr(FCR, 0x01);
	wr(LCR, 0x80 | 0x03);
	wr(DLL, 0x01);
	wr(DLM, 0x00);
	wr(LCR, 0x03);
	wr(MCR, 0x0b);
	wr(SCR, 0x5a);
	wr(IER, 0x03);
	ck_assert_uint_eq(push_str("abc"), 3);
	ck_assert_uint_eq(rd(RBR), 'a');
	out_room = 0;
	wr(THR, 'x');
	wr(THR, 'y');
	ck_assert_uint_eq(rd(IIR) & 0x0f, 0x04);
	serial_save(s, b);
	ck_assert(sbuf_ok(b));
}

START_TEST(test_state_round_trip)
{
	struct sbuf b = { 0 };

	busy_uart_saved(&b);
	serial_free(s);
	s = serial_new(&rec_ops, &s);
	nr_irqs = 0;
	nr_out = 0;
	out_room = SIZE_MAX;
	ck_assert_int_eq(serial_load(s, b.data, b.len), 0);
	/* The line is driven to the pending interrupt's level, and the
	 * bytes the old host never took go to the new one. */
	ck_irqs(1);
	ck_assert_uint_eq(nr_out, 2);
	ck_assert_mem_eq(out, "xy", 2);
	ck_assert_uint_eq(rd(LCR), 0x03);
	ck_assert_uint_eq(rd(MCR), 0x0b);
	ck_assert_uint_eq(rd(SCR), 0x5a);
	ck_assert_uint_eq(rd(IER), 0x03);
	wr(LCR, 0x83);
	ck_assert_uint_eq(rd(DLL), 0x01);
	wr(LCR, 0x03);
	ck_assert_uint_eq(rd(IIR), 0xc4);
	ck_assert_uint_eq(rd(LSR) & 0x61, 0x61);
	ck_assert_uint_eq(rd(RBR), 'b');
	ck_assert_uint_eq(rd(RBR), 'c');
	/* Then THR empty, as after the host took the FIFO. */
	ck_assert_uint_eq(rd(IIR), 0xc2);
	ck_assert_uint_eq(rd(IIR), 0xc1);
	sbuf_free(&b);
}
END_TEST

START_TEST(test_state_truncated)
{
	struct sbuf b = { 0 };

	busy_uart_saved(&b);
	for (size_t n = 0; n < b.len; n++) {
		ck_assert_int_eq(serial_load(s, b.data, n), -EINVAL);
		/* Left as at power-on. */
		ck_assert_uint_eq(rd(LCR), 0);
		ck_assert_uint_eq(rd(IER), 0);
		ck_assert_uint_eq(rd(LSR), 0x60);
	}
	sbuf_free(&b);
}
END_TEST

/* Offsets in the blob: version 0-3, dll 4, dlm 5, ier 6, lcr 7, mcr 8,
 * scr 9, rbr 10, lsr 11, msr_in 12, msr_delta 13, flags 14, rx count 15. */
START_TEST(test_state_forged)
{
	static const struct { size_t off; uint8_t v; } bad[] = {
		{ 0, 2 }, { 6, 0x10 }, { 8, 0x20 }, { 11, 0x01 },
		{ 12, 0x01 }, { 13, 0x10 }, { 14, 0x04 },
		{ 16, 0x10 },	/* rx count 4098 */
	};
	struct sbuf b = { 0 };
	uint8_t *copy;

	busy_uart_saved(&b);
	copy = malloc(b.len + 1);
	ck_assert_ptr_nonnull(copy);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(copy, b.data, b.len);
		copy[bad[i].off] = bad[i].v;
		ck_assert_int_eq(serial_load(s, copy, b.len), -EINVAL);
	}
	/* Two bytes in the transmit FIFO with the FIFOs off. */
	memcpy(copy, b.data, b.len);
	copy[14] &= ~0x01;
	ck_assert_int_eq(serial_load(s, copy, b.len), -EINVAL);
	/* A byte too many. */
	memcpy(copy, b.data, b.len);
	copy[b.len] = 0;
	ck_assert_int_eq(serial_load(s, copy, b.len + 1), -EINVAL);
	ck_assert_int_eq(serial_load(s, b.data, b.len), 0);
	free(copy);
	sbuf_free(&b);
}
END_TEST

static Suite *serial_suite(void)
{
	Suite *suite = suite_create("serial");
	TCase *tc = tcase_create("16550a");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_reset_state);
	tcase_add_test(tc, test_divisor_latch);
	tcase_add_test(tc, test_scratch);
	tcase_add_test(tc, test_ier_bits);
	tcase_add_test(tc, test_lcr_mcr);
	tcase_add_test(tc, test_loopback_probe);
	tcase_add_test(tc, test_msr_deltas);
	tcase_add_test(tc, test_loopback_data);
	tcase_add_test(tc, test_tx_output);
	tcase_add_test(tc, test_tx_held);
	tcase_add_test(tc, test_tx_fifo_backpressure);
	tcase_add_test(tc, test_tx_depth_and_clear);
	tcase_add_test(tc, test_tx_watch);
	tcase_add_test(tc, test_fifo_bits);
	tcase_add_test(tc, test_thre_irq);
	tcase_add_test(tc, test_thre_masked_by_rda);
	tcase_add_test(tc, test_iir_priority);
	tcase_add_test(tc, test_rx_irq);
	tcase_add_test(tc, test_rx_full);
	tcase_add_test(tc, test_rx_exact_fill);
	tcase_add_test(tc, test_fifo_clear);
	tcase_add_test(tc, test_odd_accesses);
	tcase_add_test(tc, test_null_ops);
	tcase_add_test(tc, test_rx_threads);
	tcase_add_test(tc, test_state_round_trip);
	tcase_add_test(tc, test_state_truncated);
	tcase_add_test(tc, test_state_forged);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIT_SUITE(serial_suite)
