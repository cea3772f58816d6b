// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART model. Transmission takes no time while the host takes the
 * bytes: THR and the transmitter shift register are empty again at once.
 * When the host's output is full, the bytes wait in the transmit FIFO
 * (16 bytes, or THR alone with the FIFOs off), THRE and TEMT stay clear
 * and the guest's driver waits, as for a slow line, until the host calls
 * serial_tx_ready(); a byte written to a full FIFO is lost, as on the
 * chip. Reception is a buffer deeper than the chip's FIFO that the guest
 * drains one byte per RBR read.
 *
 * The interrupt line is not gated by MCR OUT2 as on PC boards: Linux sets
 * OUT2 anyway, and a guest that never does still gets its interrupts, as
 * under QEMU and kvmtool.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/sbuf.h"

#include "legacy/serial.h"

/* Register offsets; DLL and DLM replace RBR/THR and IER while LCR.DLAB. */
#define UART_RBR	0	/* read */
#define UART_THR	0	/* write */
#define UART_DLL	0
#define UART_IER	1
#define UART_DLM	1
#define UART_IIR	2	/* read */
#define UART_FCR	2	/* write */
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* THR empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0f	/* Linux probes that bits 4-7 do not stick */

#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RLSI	0x06
#define IIR_FIFO_ON	0xc0

#define FCR_ENABLE	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_CLEAR_TX	0x04

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1f

#define LSR_DR		0x01
#define LSR_OE		0x02
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

struct serial {
	pthread_mutex_t lock;
	struct serial_ops ops;
	void *ctx;

	uint8_t dll, dlm, ier, lcr, mcr, scr;
	uint8_t rbr;		/* last byte read, returned again when empty */
	uint8_t lsr_err;	/* error bits held until LSR is read */
	uint8_t msr_in;		/* modem input levels, MSR bits 4-7 */
	uint8_t msr_delta;	/* MSR bits 0-3, held until MSR is read */
	bool fifo;
	bool thri;		/* THR-empty interrupt not acknowledged yet */
	bool irq;
	bool rx_refused;	/* owe the host an rx_space call */

	size_t rx_head, rx_count;
	uint8_t rx_buf[SERIAL_RX_BUF_SIZE];
	size_t tx_count;	/* bytes the host has not taken yet */
	uint8_t tx_buf[SERIAL_TX_FIFO_SIZE];
};

static bool serial_loopback(const struct serial *s)
{
	return s->mcr & MCR_LOOP;
}

static bool serial_rx_room(const struct serial *s)
{
	return !serial_loopback(s) && s->rx_count < SERIAL_RX_BUF_SIZE;
}

static void serial_rx_put(struct serial *s, uint8_t c)
{
	s->rx_buf[(s->rx_head + s->rx_count) % SERIAL_RX_BUF_SIZE] = c;
	s->rx_count++;
}

static void serial_rx_get(struct serial *s)
{
	if (!s->rx_count)
		return;
	s->rx_count--;
	s->rbr = s->rx_buf[s->rx_head];
	s->rx_head = (s->rx_head + 1) % SERIAL_RX_BUF_SIZE;
}

static void serial_rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* Under s->lock: the transmit FIFO to the host, oldest first; what it
 * takes leaves the FIFO. Empty again, THR is empty: its interrupt. */
static void serial_tx_send(struct serial *s)
{
	size_t n = s->tx_count;

	if (!n)
		return;
	if (s->ops.output)
		n = s->ops.output(s->ctx, s->tx_buf, s->tx_count);
	if (n > s->tx_count)
		n = s->tx_count;
	memmove(s->tx_buf, s->tx_buf + n, s->tx_count - n);
	s->tx_count -= n;
	if (!s->tx_count)
		s->thri = true;
}

/* Bytes the host never took go with the FIFO; THR is empty then. */
static void serial_tx_clear(struct serial *s)
{
	if (!s->tx_count)
		return;
	s->tx_count = 0;
	s->thri = true;
}

/* The highest-priority enabled cause, as IIR bits 0-3. */
static uint8_t serial_iir_id(const struct serial *s)
{
	if ((s->ier & IER_ELSI) && s->lsr_err)
		return IIR_RLSI;
	/* Data is reported at once: the FIFO trigger level and character
	 * timeout only delay what Linux handles the same way. */
	if ((s->ier & IER_ERBFI) && s->rx_count)
		return IIR_RDI;
	if ((s->ier & IER_ETBEI) && s->thri)
		return IIR_THRI;
	if ((s->ier & IER_EDSSI) && s->msr_delta)
		return IIR_MSI;
	return IIR_NO_INT;
}

static void serial_update_irq(struct serial *s)
{
	bool level = serial_iir_id(s) != IIR_NO_INT;

	if (level == s->irq)
		return;
	s->irq = level;
	if (s->ops.set_irq)
		s->ops.set_irq(s->ctx, level);
}

/*
 * Not connected to anything, the modem reports a live carrier and a peer
 * that is ready and clear to receive. In loopback the inputs follow the
 * MCR outputs instead, which is what Linux's probe checks for.
 */
static void serial_update_modem(struct serial *s)
{
	uint8_t in = MSR_DCD | MSR_DSR | MSR_CTS;
	uint8_t changed;

	if (serial_loopback(s)) {
		in = 0;
		if (s->mcr & MCR_RTS)
			in |= MSR_CTS;
		if (s->mcr & MCR_DTR)
			in |= MSR_DSR;
		if (s->mcr & MCR_OUT1)
			in |= MSR_RI;
		if (s->mcr & MCR_OUT2)
			in |= MSR_DCD;
	}
	changed = in ^ s->msr_in;
	if (changed & MSR_CTS)
		s->msr_delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		s->msr_delta |= MSR_DDSR;
	if (changed & s->msr_in & MSR_RI)	/* trailing edge only */
		s->msr_delta |= MSR_TERI;
	if (changed & MSR_DCD)
		s->msr_delta |= MSR_DDCD;
	s->msr_in = in;
}

static uint8_t serial_read_iir(struct serial *s)
{
	uint8_t id = serial_iir_id(s);

	/* Reading IIR is the acknowledgement of a THR-empty interrupt, but
	 * only when that is what the guest was told about. */
	if (id == IIR_THRI)
		s->thri = false;
	return id | (s->fifo ? IIR_FIFO_ON : 0);
}

static uint8_t serial_read_lsr(struct serial *s)
{
	uint8_t lsr = s->lsr_err;

	if (!s->tx_count)
		lsr |= LSR_THRE | LSR_TEMT;
	if (s->rx_count)
		lsr |= LSR_DR;
	s->lsr_err = 0;
	return lsr;
}

static uint8_t serial_read(struct serial *s, uint64_t off)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t msr;

	switch (off) {
	case UART_RBR:
		if (dlab)
			return s->dll;
		serial_rx_get(s);
		return s->rbr;
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR:
		return serial_read_iir(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return serial_read_lsr(s);
	case UART_MSR:
		msr = s->msr_in | s->msr_delta;
		s->msr_delta = 0;
		return msr;
	default:
		return s->scr;
	}
}

static void serial_write_thr(struct serial *s, uint8_t v)
{
	if (serial_loopback(s)) {
		/* The byte is at the receiver at once: THR is empty. */
		s->thri = true;
		if (s->rx_count < SERIAL_RX_BUF_SIZE)
			serial_rx_put(s, v);
		else
			s->lsr_err |= LSR_OE;
		return;
	}
	/* THR is full until the host takes the byte, at once unless its
	 * output is full; a guest that did not wait for THRE loses it. */
	if (s->ops.tx_watch)
		s->ops.tx_watch(s->ctx, v);
	s->thri = false;
	if (s->tx_count < (s->fifo ? SERIAL_TX_FIFO_SIZE : 1))
		s->tx_buf[s->tx_count++] = v;
	serial_tx_send(s);
}

static void serial_write_ier(struct serial *s, uint8_t v)
{
	uint8_t old = s->ier;

	s->ier = v & IER_MASK;
	/* Enabling it raises the THR-empty interrupt if THR is empty. */
	if ((s->ier & IER_ETBEI) && !(old & IER_ETBEI) && !s->tx_count)
		s->thri = true;
}

static void serial_write_fcr(struct serial *s, uint8_t v)
{
	bool enable = v & FCR_ENABLE;

	/* Switching FIFO mode on or off empties the FIFOs, and the other
	 * FCR bits only take effect with the enable bit set. Our receive
	 * buffer stands for the FIFO, so all unread input goes. */
	if (enable != s->fifo || (enable && (v & FCR_CLEAR_RX)))
		serial_rx_clear(s);
	if (enable != s->fifo || (enable && (v & FCR_CLEAR_TX)))
		serial_tx_clear(s);
	s->fifo = enable;
}

static void serial_write(struct serial *s, uint64_t off, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case UART_THR:
		if (dlab)
			s->dll = v;
		else
			serial_write_thr(s, v);
		break;
	case UART_IER:
		if (dlab)
			s->dlm = v;
		else
			serial_write_ier(s, v);
		break;
	case UART_FCR:
		serial_write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		s->mcr = v & MCR_MASK;
		serial_update_modem(s);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:		/* LSR and MSR: factory test writes */
		break;
	}
}

/* Under s->lock: whether to call ops.rx_space once the lock is dropped. */
static bool serial_rx_space_due(struct serial *s)
{
	if (!s->rx_refused || !serial_rx_room(s))
		return false;
	s->rx_refused = false;
	return s->ops.rx_space != NULL;
}

/* Wider accesses act on the low byte, like a byte access at off. */
void serial_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		   bool is_write)
{
	struct serial *s = opaque;
	bool space;

	if (!len || off >= SERIAL_NR_REGS)
		return;
	pthread_mutex_lock(&s->lock);
	if (is_write)
		serial_write(s, off, data[0]);
	else
		data[0] = serial_read(s, off);
	serial_update_irq(s);
	space = serial_rx_space_due(s);
	pthread_mutex_unlock(&s->lock);

	if (space)
		s->ops.rx_space(s->ctx);
}

void serial_tx_ready(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	serial_tx_send(s);
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && serial_rx_room(s))
		serial_rx_put(s, buf[n++]);
	if (n < len)
		s->rx_refused = true;
	serial_update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* The registers as at power-on; ops, ctx and the lock stay. */
static void serial_power_on(struct serial *s)
{
	memset(&s->dll, 0, sizeof(*s) - offsetof(struct serial, dll));
	s->dll = 0x0c;		/* 9600 baud, a typical firmware setting */
	s->msr_in = MSR_DCD | MSR_DSR | MSR_CTS;
}

struct serial *serial_new(const struct serial_ops *ops, void *ctx)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->lock, NULL);
	if (ops)
		s->ops = *ops;
	s->ctx = ctx;
	serial_power_on(s);
	return s;
}

/* ---- snapshots ------------------------------------------------------ */

#define ST_FIFO		0x1
#define ST_THRI		0x2

/*
 * The interrupt level is not saved: it follows from the rest. Nor is
 * rx_refused, which is owed to this process's host side: a new one has
 * refused nothing yet.
 */
void serial_save(struct serial *s, struct sbuf *b)
{
	pthread_mutex_lock(&s->lock);
	sbuf_put_u32(b, SERIAL_STATE_VERSION);
	sbuf_put_u8(b, s->dll);
	sbuf_put_u8(b, s->dlm);
	sbuf_put_u8(b, s->ier);
	sbuf_put_u8(b, s->lcr);
	sbuf_put_u8(b, s->mcr);
	sbuf_put_u8(b, s->scr);
	sbuf_put_u8(b, s->rbr);
	sbuf_put_u8(b, s->lsr_err);
	sbuf_put_u8(b, s->msr_in);
	sbuf_put_u8(b, s->msr_delta);
	sbuf_put_u8(b, (s->fifo ? ST_FIFO : 0) | (s->thri ? ST_THRI : 0));
	/* The receive buffer oldest first, whatever its head. */
	sbuf_put_u32(b, s->rx_count);
	for (size_t i = 0; i < s->rx_count; i++)
		sbuf_put_u8(b, s->rx_buf[(s->rx_head + i) % SERIAL_RX_BUF_SIZE]);
	sbuf_put_u32(b, s->tx_count);
	sbuf_put(b, s->tx_buf, s->tx_count);
	pthread_mutex_unlock(&s->lock);
}

static const char *serial_load_regs(struct serial *s, struct sbuf_rd *r)
{
	uint32_t version = sbuf_get_u32(r);
	uint8_t flags;
	uint32_t n;

	s->dll = sbuf_get_u8(r);
	s->dlm = sbuf_get_u8(r);
	s->ier = sbuf_get_u8(r);
	s->lcr = sbuf_get_u8(r);
	s->mcr = sbuf_get_u8(r);
	s->scr = sbuf_get_u8(r);
	s->rbr = sbuf_get_u8(r);
	s->lsr_err = sbuf_get_u8(r);
	s->msr_in = sbuf_get_u8(r);
	s->msr_delta = sbuf_get_u8(r);
	flags = sbuf_get_u8(r);
	if (r->bad)
		return "truncated";
	if (version != SERIAL_STATE_VERSION)
		return "unknown layout version";
	/* Only what a guest's writes can make of each register. */
	if ((s->ier & ~IER_MASK) || (s->mcr & ~MCR_MASK) ||
	    (s->lsr_err & ~LSR_OE) || (s->msr_in & 0x0f) ||
	    (s->msr_delta & 0xf0) || (flags & ~(ST_FIFO | ST_THRI)))
		return "register value out of range";
	s->fifo = flags & ST_FIFO;
	s->thri = flags & ST_THRI;
	n = sbuf_get_u32(r);
	if (n > SERIAL_RX_BUF_SIZE)
		return "receive buffer too long";
	sbuf_get(r, s->rx_buf, n);
	s->rx_head = 0;
	s->rx_count = n;
	n = sbuf_get_u32(r);
	if (n > (s->fifo ? SERIAL_TX_FIFO_SIZE : 1))
		return "transmit FIFO too long";
	sbuf_get(r, s->tx_buf, n);
	s->tx_count = n;
	if (!sbuf_rd_done(r))
		return r->bad ? "truncated" : "trailing bytes";
	return NULL;
}

int serial_load(struct serial *s, const void *blob, size_t len)
{
	struct sbuf_rd r;
	const char *why;
	bool refused, space;

	sbuf_rd_init(&r, blob, len);
	pthread_mutex_lock(&s->lock);
	/* The host side's debt is this process's, not the snapshot's. */
	refused = s->rx_refused;
	serial_power_on(s);
	why = serial_load_regs(s, &r);
	if (why)
		serial_power_on(s);
	else
		serial_tx_send(s);
	/* Driven whatever it was: the line's level is this model's now. */
	s->irq = serial_iir_id(s) != IIR_NO_INT;
	if (s->ops.set_irq)
		s->ops.set_irq(s->ctx, s->irq);
	s->rx_refused = refused;
	space = serial_rx_space_due(s);
	pthread_mutex_unlock(&s->lock);
	if (space)
		s->ops.rx_space(s->ctx);
	if (why) {
		pr_err("serial: snapshot state refused: %s", why);
		return -EINVAL;
	}
	return 0;
}

void serial_free(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}
