/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The snapshot state file (docs/snapshot.md): a header, tagged sections,
 * a CRC32C over everything before it.
 *
 * Writing: snap_writer_init(), then per section snap_begin() (returns the
 * buffer to put the payload into with lib/sbuf.h) and snap_end(), or
 * snap_add() for a payload already in memory; snap_finish() seals the
 * buffer, which the caller writes as DIR/state inside a snapshot
 * directory that appears whole or not at all (lib/snap_dir.h). Errors
 * stick, as in sbuf: check once, at snap_finish().
 *
 * Reading: snap_read() (or snap_parse() on bytes in memory) checks magic,
 * version, architecture, checksum and every section's bounds, and refuses
 * a repeated (tag, index), before anything is handed out; then
 * snap_find() by (tag, index). Each refusal is one error line that names
 * the file, what is wrong and what to do. Payload values are still
 * untrusted: loaders range-check them.
 */
#ifndef KVMINI_SNAPFILE_H
#define KVMINI_SNAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sbuf.h"

struct vm_config;

#define SNAP_MAGIC		"KVMINI\0S"	/* 8 bytes */
#define SNAP_VERSION		1
#define SNAP_HDR_LEN		56	/* magic, 4 u32, 32-byte version */
#define SNAP_SECT_HDR_LEN	16	/* tag u32, index u32, length u64 */
#define SNAP_CRC_LEN		4
#define SNAP_KVMINI_VERSION_LEN	32
/* Bounds on what the reader takes: a state file is tens of KiB per vCPU,
 * guest memory lives in a file of its own. */
#define SNAP_FILE_MAX		(64U << 20)
#define SNAP_SECTIONS_MAX	16384
#define SNAP_FILE_NAME		"state"

enum snap_arch {
	SNAP_ARCH_X86_64 = 1,
	SNAP_ARCH_ARM64 = 2,
};

#if defined(__x86_64__)
#define SNAP_ARCH_HOST		SNAP_ARCH_X86_64
#elif defined(__aarch64__)
#define SNAP_ARCH_HOST		SNAP_ARCH_ARM64
#else
#error "kvmini snapshots: unknown architecture"
#endif

/* Section tags. Per-vCPU sections have the vCPU number as index, per-VM
 * ones index 0 unless said; payloads are in docs/snapshot.md. */
enum snap_tag {
	SNAP_TAG_CONFIG = 1,		/* the VM's configuration (snap_config_put) */

	/* x86_64, per vCPU. KVM structures are stored as the uapi lays
	 * them out (little-endian, fixed by the kernel's ABI). */
	SNAP_TAG_X86_REGS = 0x100,	/* struct kvm_regs */
	SNAP_TAG_X86_SREGS,		/* struct kvm_sregs (no KVM_CAP_SREGS2) */
	SNAP_TAG_X86_SREGS2,		/* struct kvm_sregs2 */
	SNAP_TAG_X86_XSAVE,		/* the KVM_GET_XSAVE(2) area, its size */
	SNAP_TAG_X86_FPU,		/* struct kvm_fpu (no KVM_CAP_XSAVE) */
	SNAP_TAG_X86_XCRS,		/* struct kvm_xcrs */
	SNAP_TAG_X86_MSRS,		/* u32 count, then {u32 index, u64 data} */
	SNAP_TAG_X86_LAPIC,		/* struct kvm_lapic_state */
	SNAP_TAG_X86_EVENTS,		/* struct kvm_vcpu_events */
	SNAP_TAG_X86_MP_STATE,		/* u32 mp_state */
	SNAP_TAG_X86_DEBUGREGS,		/* struct kvm_debugregs */
	SNAP_TAG_X86_CPUID,		/* u32 count, then struct kvm_cpuid_entry2 */
	SNAP_TAG_X86_TSC_KHZ,		/* u32 kHz */

	/* x86_64, per VM. */
	SNAP_TAG_X86_IRQCHIP = 0x180,	/* struct kvm_irqchip; index = chip_id */
	SNAP_TAG_X86_PIT2,		/* struct kvm_pit_state2 */
	SNAP_TAG_X86_CLOCK,		/* struct kvm_clock_data, u64 realtime ns */

	/* arm64, per vCPU. */
	SNAP_TAG_ARM64_REGS = 0x200,	/* u32 count, then {u64 id, value} */
	SNAP_TAG_ARM64_MP_STATE,	/* u32 mp_state */

	/* arm64, per VM. */
	SNAP_TAG_ARM64_VGIC = 0x280,	/* u32 count, then {u32 group, u64 attr, u64 value} */
	SNAP_TAG_ARM64_ITS,		/* arch/arm64/its_state.h's layout */

	/* Devices (h-devstate's blobs); index = the device's slot. */
	SNAP_TAG_DEVICE = 0x1000,
	/* The platform's own devices (arch_devices_save). */
	SNAP_TAG_UART = 0x1100,		/* legacy/serial.h's blob */
	SNAP_TAG_I8042,			/* legacy/i8042.h's blob (x86) */
	/* --transport pci (SNAP_FLAG_PCI): the bus, and each virtio-pci
	 * function's blob in place of SNAP_TAG_DEVICE; index = the
	 * function's number among the virtio devices. */
	SNAP_TAG_PCI_BUS = 0x1200,	/* pci_bus_save()'s blob */
	SNAP_TAG_PCI_FUNC,		/* virtio_pci_save()'s blob */
};

/* Header flags: additions an older kvmini must refuse, not ignore. */
#define SNAP_FLAG_PCI		0x1	/* virtio devices on PCI (--transport pci) */
#define SNAP_FLAGS_KNOWN	SNAP_FLAG_PCI

struct snap_writer {
	struct sbuf buf;
	uint32_t nr_sections;
	size_t sect_start;	/* of the open section, or SIZE_MAX */
	bool bad;		/* a misuse or failed put: snap_finish refuses */
};

/* version: kvmini's version string (cut to 31 bytes). */
void snap_writer_init(struct snap_writer *w, uint32_t arch, const char *version);
/* Sets the header's flags (SNAP_FLAG_*). */
void snap_writer_flags(struct snap_writer *w, uint32_t flags);
/* Opens a section; returns the buffer its payload goes into. */
struct sbuf *snap_begin(struct snap_writer *w, uint32_t tag, uint32_t index);
void snap_end(struct snap_writer *w);
void snap_add(struct snap_writer *w, uint32_t tag, uint32_t index,
	      const void *p, size_t n);
/* Seals the buffer (count, checksum): then w->buf holds the file. */
int snap_finish(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);

struct snap_section {
	uint32_t tag;
	uint32_t index;
	size_t off;		/* of the payload in the file */
	size_t len;
};

struct snap_reader {
	char name[256];		/* for error lines: DIR/state */
	uint8_t *data;		/* the whole file (owned when read) */
	size_t len;
	bool owned;
	uint32_t flags;
	char version[SNAP_KVMINI_VERSION_LEN + 1];
	struct snap_section *sects;	/* sorted by (tag, index) */
	uint32_t nr_sections;
};

/* Reads and checks DIR/state. 0, or -errno after one error line. */
int snap_read(struct snap_reader *r, const char *dir);
/* The same checks on bytes in memory, which must outlive r; name is for
 * the error lines. */
int snap_parse(struct snap_reader *r, const void *data, size_t len, const char *name);
void snap_reader_free(struct snap_reader *r);

/* A section's payload as a reader, or false when there is none. */
bool snap_find(const struct snap_reader *r, uint32_t tag, uint32_t index,
	       struct sbuf_rd *payload);

/* CRC32C (Castagnoli), as iSCSI and ext4 use it: crc32c("123456789") is
 * 0xe3069283. Start with crc = 0. */
uint32_t snap_crc32c(uint32_t crc, const void *p, size_t n);

/*
 * The configuration section: what must match for guest memory and device
 * state to make sense in the restored VM. disk_sizes[i] is the size in
 * bytes of cfg->disks[i] (the backend knows it, not the configuration).
 * snap_config_check() compares it with the VM being restored: 0, or
 * -EINVAL after one error line naming the first difference.
 */
void snap_config_put(struct snap_writer *w, const struct vm_config *cfg,
		     const uint64_t *disk_sizes);
int snap_config_check(const struct snap_reader *r, const struct vm_config *cfg,
		      const uint64_t *disk_sizes);
/* The configuration the snapshot was taken with, as far as it is saved
 * (what shapes the machine: not tap names, host paths of shares, or
 * --net user's forwards), into a zeroed cfg; disk paths point into r's
 * data, disk_sizes[CONFIG_DISKS_MAX] gets the sizes. 0, or -EINVAL
 * after one error line. */
int snap_config_get(const struct snap_reader *r, struct vm_config *cfg,
		    uint64_t *disk_sizes);

#endif
