/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small AML encoder: just what kvmini's DSDT needs (ACPI 6.x, chapter
 * 20 for the byte stream, 6.4 for resource descriptors). It writes into
 * a caller's buffer; on overflow or a bad name it stops writing and
 * remembers the error, so a builder checks aml_finish() once at the end
 * instead of after every call.
 *
 * Objects with a PkgLength (scope, device, package, buffer) are opened
 * with *_begin(), which returns a mark, and closed with aml_end(mark):
 * the length is only known then, so it is inserted in front of the
 * contents.
 */
#ifndef KVMINI_ARCH_X86_AML_H
#define KVMINI_ARCH_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t size;
	size_t len;
	int err;		/* first error, -errno; 0 while all is well */
};

/* An open object: where its contents start and how to close it. */
struct aml_mark {
	size_t at;
	int kind;
};

void aml_init(struct aml *a, uint8_t *buf, size_t size);
/* Bytes written, or the first error. */
long aml_finish(const struct aml *a);

void aml_bytes(struct aml *a, const void *p, size_t n);

/* Data objects. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* EISAID("PNP0501"): the compressed 32-bit form of a PNP ID. */
void aml_eisaid(struct aml *a, const char *id);

/* NameString: "\\_SB_", "_SB.COM1", "_HID"; segments shorter than four
 * characters are padded with '_'. */
void aml_namestring(struct aml *a, const char *name);
/* Name (NAME, ...): the caller then writes the object. */
void aml_name(struct aml *a, const char *name);

struct aml_mark aml_scope_begin(struct aml *a, const char *name);
struct aml_mark aml_device_begin(struct aml *a, const char *name);
struct aml_mark aml_package_begin(struct aml *a, uint8_t nelems);
/* Buffer () {...}; ResourceTemplate () is a buffer whose end tag
 * aml_end() writes, with its checksum. */
struct aml_mark aml_buffer_begin(struct aml *a);
struct aml_mark aml_restemplate_begin(struct aml *a);
void aml_end(struct aml *a, struct aml_mark m);

/* Resource descriptors, inside a resource template. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq_noflags(struct aml *a, unsigned int irq);
void aml_res_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len);
/* A host bridge's bus range and memory window (producer, fixed). */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_memory(struct aml *a, uint32_t base, uint32_t len);

#define AML_IRQ_CONSUMER	(1 << 0)
#define AML_IRQ_EDGE		(1 << 1)
#define AML_IRQ_ACTIVE_LOW	(1 << 2)
#define AML_IRQ_SHARED		(1 << 3)
/* Interrupt (...) {gsi}: the Extended Interrupt Descriptor. */
void aml_res_interrupt(struct aml *a, uint8_t flags, uint32_t gsi);

/*
 * Control methods (20.2.5): AML is prefix code, so an operator is its
 * opcode followed by its operands, which the caller writes next.
 */
/* Method (NAME, nargs, NotSerialized) {...}: nargs at most 7. */
struct aml_mark aml_method_begin(struct aml *a, const char *name, unsigned int nargs);
/* If (predicate) {...}: the predicate first, then the body. */
struct aml_mark aml_if_begin(struct aml *a);
/* Return (object) */
void aml_return(struct aml *a);
/* LEqual (x, y) */
void aml_lequal(struct aml *a);
/* Arg0 to Arg6 */
void aml_arg(struct aml *a, unsigned int n);
/* Notify (object, value) */
void aml_notify(struct aml *a, const char *object, uint8_t value);

#endif
