// SPDX-License-Identifier: GPL-2.0
/* The AML byte stream for kvmini's DSDT: names, data, scopes, devices
 * and resource templates (ACPI 6.x, sections 20.2 and 6.4). */
#include <errno.h>
#include <string.h>

#include "arch/x86/aml.h"

#define AML_ZERO_OP		0x00
#define AML_ONE_OP		0x01
#define AML_NAME_OP		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_WORD_PREFIX		0x0b
#define AML_DWORD_PREFIX	0x0c
#define AML_STRING_PREFIX	0x0d
#define AML_QWORD_PREFIX	0x0e
#define AML_SCOPE_OP		0x10
#define AML_BUFFER_OP		0x11
#define AML_PACKAGE_OP		0x12
#define AML_DUAL_NAME_PREFIX	0x2e
#define AML_MULTI_NAME_PREFIX	0x2f
#define AML_EXT_OP_PREFIX	0x5b
#define AML_DEVICE_OP		0x82	/* after AML_EXT_OP_PREFIX */
#define AML_METHOD_OP		0x14
#define AML_ARG0_OP		0x68
#define AML_NOTIFY_OP		0x86
#define AML_LEQUAL_OP		0x93
#define AML_IF_OP		0xa0
#define AML_RETURN_OP		0xa4
#define AML_MAX_ARGS		7
#define AML_ROOT_CHAR		'\\'
#define AML_PARENT_CHAR		'^'

/* Resource descriptor tags: small items are (type << 3 | length). */
#define AML_RES_IRQ_NOFLAGS	0x22
#define AML_RES_IO		0x47
#define AML_RES_END		0x79
#define AML_RES_MEMORY32_FIXED	0x86
#define AML_RES_DWORD_SPACE	0x87
#define AML_RES_WORD_SPACE	0x88
#define AML_RES_EXT_IRQ		0x89

#define AML_PKG_MAX		0x0fffffff	/* 28 bits */

enum { AML_KIND_PKG, AML_KIND_BUFFER, AML_KIND_RESTEMPLATE };

void aml_init(struct aml *a, uint8_t *buf, size_t size)
{
	*a = (struct aml){ .buf = buf, .size = size };
}

long aml_finish(const struct aml *a)
{
	return a->err ? a->err : (long)a->len;
}

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

/* Puts n bytes at offset at, moving what follows; all or nothing. */
static void aml_insert(struct aml *a, size_t at, const void *p, size_t n)
{
	if (a->err)
		return;
	if (at > a->len || n > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + at + n, a->buf + at, a->len - at);
	memcpy(a->buf + at, p, n);
	a->len += n;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	aml_insert(a, a->len, p, n);
}

static void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

/* The shortest encoding of v: ZeroOp, OneOp, or a prefix and 1-8 bytes. */
static size_t aml_encode_integer(uint8_t *p, uint64_t v)
{
	uint8_t prefix = AML_QWORD_PREFIX;
	unsigned int n = 8;

	if (v <= 1) {
		p[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	if (v <= 0xff) {
		prefix = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		prefix = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffff) {
		prefix = AML_DWORD_PREFIX;
		n = 4;
	}
	p[0] = prefix;
	aml_le(p + 1, v, n);
	return n + 1;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t p[9];

	aml_bytes(a, p, aml_encode_integer(p, v));
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *c = s; *c; c++) {
		/* AsciiCharList: 0x01-0x7f */
		if ((unsigned char)*c > 0x7f) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Three letters of five bits each (A = 1) and four hex digits, stored
 * most significant byte first: the EISA form of "PNP0501".
 */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (!is_upper(id[i])) {
			aml_fail(a, -EINVAL);
			return;
		}
		v |= (uint32_t)(id[i] - 'A' + 1) << (26 - 5 * i);
	}
	for (int i = 3; i < 7; i++) {
		int d = hex_digit(id[i]);

		if (d < 0) {
			aml_fail(a, -EINVAL);
			return;
		}
		v |= (uint32_t)d << (4 * (6 - i));
	}
	aml_integer(a, __builtin_bswap32(v));
}

static bool name_char(char c, bool lead)
{
	return is_upper(c) || c == '_' || (!lead && c >= '0' && c <= '9');
}

/* One NameSeg of up to four characters, padded with '_'; returns the
 * characters consumed, or 0 when they do not form a name. */
static size_t name_seg(const char *s, char seg[4])
{
	size_t n = 0;

	while (s[n] && s[n] != '.') {
		if (n == 4 || !name_char(s[n], n == 0))
			return 0;
		seg[n] = s[n];
		n++;
	}
	for (size_t i = n; i < 4; i++)
		seg[i] = '_';
	return n;
}

void aml_namestring(struct aml *a, const char *name)
{
	char segs[255][4];
	unsigned int nsegs = 0;
	const char *s = name;

	while (*s == AML_ROOT_CHAR || *s == AML_PARENT_CHAR) {
		/* One root, or parent prefixes, never both. */
		if (s != name && (*s == AML_ROOT_CHAR || *name == AML_ROOT_CHAR)) {
			aml_fail(a, -EINVAL);
			return;
		}
		aml_byte(a, *s++);
	}
	while (*s) {
		size_t n = nsegs < 255 ? name_seg(s, segs[nsegs]) : 0;

		if (!n) {
			aml_fail(a, -EINVAL);
			return;
		}
		nsegs++;
		s += n;
		if (*s == '.' && !*++s) {
			aml_fail(a, -EINVAL);
			return;
		}
	}
	if (nsegs == 0 && s == name)
		aml_fail(a, -EINVAL);
	else if (nsegs == 0)
		aml_byte(a, 0);		/* NullName: "\" alone */
	else if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, nsegs);
	}
	aml_bytes(a, segs, 4 * nsegs);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_namestring(a, name);
}

static struct aml_mark aml_open(struct aml *a, int kind)
{
	return (struct aml_mark){ .at = a->len, .kind = kind };
}

struct aml_mark aml_scope_begin(struct aml *a, const char *name)
{
	struct aml_mark m;

	aml_byte(a, AML_SCOPE_OP);
	m = aml_open(a, AML_KIND_PKG);
	aml_namestring(a, name);
	return m;
}

struct aml_mark aml_device_begin(struct aml *a, const char *name)
{
	struct aml_mark m;

	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	m = aml_open(a, AML_KIND_PKG);
	aml_namestring(a, name);
	return m;
}

struct aml_mark aml_package_begin(struct aml *a, uint8_t nelems)
{
	struct aml_mark m;

	aml_byte(a, AML_PACKAGE_OP);
	m = aml_open(a, AML_KIND_PKG);
	aml_byte(a, nelems);
	return m;
}

struct aml_mark aml_buffer_begin(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	return aml_open(a, AML_KIND_BUFFER);
}

struct aml_mark aml_restemplate_begin(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	return aml_open(a, AML_KIND_RESTEMPLATE);
}

/*
 * PkgLength counts itself: one byte holds up to 63, else the lead byte
 * says how many bytes follow (bits 7-6) and carries the low nibble.
 */
static size_t aml_encode_pkglen(uint8_t *p, size_t contents)
{
	size_t n, total;

	for (n = 1; n <= 4; n++) {
		total = contents + n;
		if (n == 1 && total <= 0x3f) {
			p[0] = total;
			return 1;
		}
		if (n > 1 && total < (1UL << (4 + 8 * (n - 1)))) {
			p[0] = ((n - 1) << 6) | (total & 0xf);
			for (size_t i = 1; i < n; i++)
				p[i] = total >> (4 + 8 * (i - 1));
			return n;
		}
	}
	return 0;
}

/* The end tag, and a checksum that makes the template's bytes sum to 0. */
static void aml_res_end(struct aml *a, size_t from)
{
	uint8_t sum = AML_RES_END;

	if (a->err)
		return;
	for (size_t i = from; i < a->len; i++)
		sum += a->buf[i];
	aml_byte(a, AML_RES_END);
	aml_byte(a, -sum);
}

void aml_end(struct aml *a, struct aml_mark m)
{
	uint8_t hdr[9];
	size_t n;

	if (a->err)
		return;
	if (m.kind == AML_KIND_RESTEMPLATE)
		aml_res_end(a, m.at);
	if (m.kind != AML_KIND_PKG) {
		/* BufferSize comes inside the PkgLength, before the bytes. */
		n = aml_encode_integer(hdr, a->len - m.at);
		aml_insert(a, m.at, hdr, n);
	}
	if (a->err || a->len - m.at > AML_PKG_MAX - 4) {
		aml_fail(a, -E2BIG);
		return;
	}
	n = aml_encode_pkglen(hdr, a->len - m.at);
	aml_insert(a, m.at, hdr, n);
}

/* IO (Decode16, base, base, 1, len): a fixed 16-bit decoded port range. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	uint8_t d[8] = { AML_RES_IO, 1 };

	aml_le(d + 2, base, 2);
	aml_le(d + 4, base, 2);
	d[6] = 1;
	d[7] = len;
	aml_bytes(a, d, sizeof(d));
}

/* IRQNoFlags () {irq}: an ISA interrupt, edge triggered, active high. */
void aml_res_irq_noflags(struct aml *a, unsigned int irq)
{
	uint8_t d[3] = { AML_RES_IRQ_NOFLAGS };

	if (irq > 15) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_le(d + 1, 1U << irq, 2);
	aml_bytes(a, d, sizeof(d));
}

/*
 * WordBusNumber and DWordMemory (ACPI 6.4, 6.4.3.5.2-3) as a host
 * bridge produces them: minimum and maximum fixed, no translation.
 */
#define AML_SPACE_MEMORY	0
#define AML_SPACE_BUS		2
#define AML_SPACE_FIXED		0x0c	/* MinFixed, MaxFixed; producer */

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	uint8_t d[16] = { AML_RES_WORD_SPACE, 13, 0, AML_SPACE_BUS, AML_SPACE_FIXED };

	if (max < min) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_le(d + 8, min, 2);
	aml_le(d + 10, max, 2);
	aml_le(d + 14, max - min + 1, 2);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_dword_memory(struct aml *a, uint32_t base, uint32_t len)
{
	/* Type-specific flags: read-write, not cacheable. */
	uint8_t d[26] = { AML_RES_DWORD_SPACE, 23, 0, AML_SPACE_MEMORY,
			  AML_SPACE_FIXED, 1 };

	if (!len || len - 1 > UINT32_MAX - base) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_le(d + 10, base, 4);
	aml_le(d + 14, base + len - 1, 4);
	aml_le(d + 22, len, 4);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	uint8_t d[12] = { AML_RES_MEMORY32_FIXED, 9, 0, rw };

	aml_le(d + 4, base, 4);
	aml_le(d + 8, len, 4);
	aml_bytes(a, d, sizeof(d));
}

void aml_res_interrupt(struct aml *a, uint8_t flags, uint32_t gsi)
{
	uint8_t d[9] = { AML_RES_EXT_IRQ, 6, 0, flags, 1 };

	aml_le(d + 5, gsi, 4);
	aml_bytes(a, d, sizeof(d));
}

/* MethodFlags: ArgCount in bits 2-0; NotSerialized, SyncLevel 0. */
struct aml_mark aml_method_begin(struct aml *a, const char *name, unsigned int nargs)
{
	struct aml_mark m;

	aml_byte(a, AML_METHOD_OP);
	m = aml_open(a, AML_KIND_PKG);
	aml_namestring(a, name);
	if (nargs > AML_MAX_ARGS)
		aml_fail(a, -EINVAL);
	aml_byte(a, nargs & AML_MAX_ARGS);
	return m;
}

struct aml_mark aml_if_begin(struct aml *a)
{
	aml_byte(a, AML_IF_OP);
	return aml_open(a, AML_KIND_PKG);
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN_OP);
}

void aml_lequal(struct aml *a)
{
	aml_byte(a, AML_LEQUAL_OP);
}

void aml_arg(struct aml *a, unsigned int n)
{
	if (n >= AML_MAX_ARGS) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_byte(a, AML_ARG0_OP + n);
}

void aml_notify(struct aml *a, const char *object, uint8_t value)
{
	aml_byte(a, AML_NOTIFY_OP);
	aml_namestring(a, object);
	aml_integer(a, value);
}
