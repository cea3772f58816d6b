// SPDX-License-Identifier: GPL-2.0
/*
 * i8042 keyboard controller: the command byte, the self tests, port
 * enable bits and the reset line. Commands it does not know are dropped,
 * which a guest sees as a controller that never answers them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "legacy/i8042.h"
#include "lib/log.h"
#include "lib/sbuf.h"

#define I8042_OFF_DATA		0
#define I8042_OFF_CMD		4	/* status when read */

#define STS_OBF			0x01	/* output buffer full */
#define STS_SYS			0x04	/* copy of CTR_SYS */
#define STS_CMD			0x08	/* last write was a command */
#define STS_UNLOCKED		0x10	/* keylock switch off */
#define STS_AUXDATA		0x20	/* output came from the aux port */

#define CTR_KBDINT		0x01
#define CTR_SYS			0x04
#define CTR_KBDDIS		0x10
#define CTR_AUXDIS		0x20
#define CTR_XLATE		0x40

#define CMD_READ_CTR		0x20
#define CMD_WRITE_CTR		0x60
#define CMD_AUX_DISABLE		0xa7
#define CMD_AUX_ENABLE		0xa8
#define CMD_SELF_TEST		0xaa
#define CMD_KBD_TEST		0xab
#define CMD_KBD_DISABLE		0xad
#define CMD_KBD_ENABLE		0xae
#define CMD_AUX_LOOP		0xd3	/* data byte comes back as aux input */
#define CMD_PULSE		0xf0	/* 0xf0-0xff: pulse output lines */
#define PULSE_RESET		0x01	/* bit clear = pulse the reset line */

#define SELF_TEST_OK		0x55
#define KBD_TEST_OK		0x00

struct i8042 {
	pthread_mutex_t lock;	/* vCPUs may race, e.g. one rebooting */
	struct i8042_ops ops;
	void *ctx;
	uint8_t ctr;
	uint8_t status;		/* STS_OBF, STS_CMD and STS_AUXDATA */
	uint8_t out;		/* output buffer */
	uint8_t pending;	/* command awaiting a data byte, or 0 */
};

static void i8042_output(struct i8042 *kbc, uint8_t v, bool aux)
{
	kbc->out = v;
	kbc->status |= STS_OBF;
	if (aux)
		kbc->status |= STS_AUXDATA;
	else
		kbc->status &= ~STS_AUXDATA;
}

/* Returns true when the command pulsed the reset line. */
static bool i8042_command(struct i8042 *kbc, uint8_t cmd)
{
	kbc->pending = 0;
	switch (cmd) {
	case CMD_READ_CTR:
		i8042_output(kbc, kbc->ctr, false);
		break;
	case CMD_WRITE_CTR:
	case CMD_AUX_LOOP:
		kbc->pending = cmd;
		break;
	case CMD_AUX_DISABLE:
		kbc->ctr |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		kbc->ctr &= ~CTR_AUXDIS;
		break;
	case CMD_SELF_TEST:
		i8042_output(kbc, SELF_TEST_OK, false);
		break;
	case CMD_KBD_TEST:
		i8042_output(kbc, KBD_TEST_OK, false);
		break;
	case CMD_KBD_DISABLE:
		kbc->ctr |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		kbc->ctr &= ~CTR_KBDDIS;
		break;
	default:
		return (cmd & CMD_PULSE) == CMD_PULSE && !(cmd & PULSE_RESET);
	}
	return false;
}

static void i8042_write_data(struct i8042 *kbc, uint8_t v)
{
	switch (kbc->pending) {
	case CMD_WRITE_CTR:
		kbc->ctr = v;
		break;
	case CMD_AUX_LOOP:
		i8042_output(kbc, v, true);
		break;
	default:		/* a byte for the keyboard, which is absent */
		break;
	}
	kbc->pending = 0;
}

static uint8_t i8042_read_data(struct i8042 *kbc)
{
	kbc->status &= ~(STS_OBF | STS_AUXDATA);
	return kbc->out;
}

static uint8_t i8042_read_status(const struct i8042 *kbc)
{
	return kbc->status | (kbc->ctr & CTR_SYS ? STS_SYS : 0) | STS_UNLOCKED;
}

/* Wider accesses act on the low byte, like a byte access at off. */
void i8042_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
		  bool is_write)
{
	struct i8042 *kbc = opaque;
	bool reset = false;

	if (!len || (off != I8042_OFF_DATA && off != I8042_OFF_CMD))
		return;
	pthread_mutex_lock(&kbc->lock);
	if (!is_write) {
		data[0] = off == I8042_OFF_DATA ? i8042_read_data(kbc) :
						  i8042_read_status(kbc);
	} else if (off == I8042_OFF_DATA) {
		kbc->status &= ~STS_CMD;
		i8042_write_data(kbc, data[0]);
	} else {
		kbc->status |= STS_CMD;
		reset = i8042_command(kbc, data[0]);
	}
	pthread_mutex_unlock(&kbc->lock);

	if (reset && kbc->ops.reset)
		kbc->ops.reset(kbc->ctx);
}

static void i8042_power_on(struct i8042 *kbc)
{
	/* What firmware leaves behind: keyboard on and translated, POST
	 * passed; Linux reads this and adjusts it. */
	kbc->ctr = CTR_KBDINT | CTR_SYS | CTR_XLATE;
	kbc->status = 0;
	kbc->out = 0;
	kbc->pending = 0;
}

struct i8042 *i8042_new(const struct i8042_ops *ops, void *ctx)
{
	struct i8042 *kbc = calloc(1, sizeof(*kbc));

	if (!kbc)
		return NULL;
	pthread_mutex_init(&kbc->lock, NULL);
	if (ops)
		kbc->ops = *ops;
	kbc->ctx = ctx;
	i8042_power_on(kbc);
	return kbc;
}

void i8042_save(struct i8042 *kbc, struct sbuf *b)
{
	pthread_mutex_lock(&kbc->lock);
	sbuf_put_u32(b, I8042_STATE_VERSION);
	sbuf_put_u8(b, kbc->ctr);
	sbuf_put_u8(b, kbc->status);
	sbuf_put_u8(b, kbc->out);
	sbuf_put_u8(b, kbc->pending);
	pthread_mutex_unlock(&kbc->lock);
}

/* Any command byte can be written; status and pending hold only what
 * the model itself puts there. */
int i8042_load(struct i8042 *kbc, const void *blob, size_t len)
{
	struct sbuf_rd r;
	uint32_t version;
	uint8_t ctr, status, out, pending;
	const char *why = NULL;

	sbuf_rd_init(&r, blob, len);
	version = sbuf_get_u32(&r);
	ctr = sbuf_get_u8(&r);
	status = sbuf_get_u8(&r);
	out = sbuf_get_u8(&r);
	pending = sbuf_get_u8(&r);
	if (!sbuf_rd_done(&r))
		why = r.bad ? "truncated" : "trailing bytes";
	else if (version != I8042_STATE_VERSION)
		why = "unknown layout version";
	else if (status & ~(STS_OBF | STS_CMD | STS_AUXDATA))
		why = "status out of range";
	else if (pending && pending != CMD_WRITE_CTR && pending != CMD_AUX_LOOP)
		why = "unknown pending command";
	pthread_mutex_lock(&kbc->lock);
	i8042_power_on(kbc);
	if (!why) {
		kbc->ctr = ctr;
		kbc->status = status;
		kbc->out = out;
		kbc->pending = pending;
	}
	pthread_mutex_unlock(&kbc->lock);
	if (why) {
		pr_err("i8042: snapshot state refused: %s", why);
		return -EINVAL;
	}
	return 0;
}

void i8042_free(struct i8042 *kbc)
{
	if (!kbc)
		return;
	pthread_mutex_destroy(&kbc->lock);
	free(kbc);
}
