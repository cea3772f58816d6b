// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of every fuzz target (tests/fuzz/README.md):
 *
 *	seeds OUTDIR [BZIMAGE VMLINUX TINY_ELF TINY64_ELF]
 *
 * OUTDIR/<target>/<name> for each seed. The seeds are small inputs that
 * go a long way: a driver that brings a device up and moves a buffer
 * through it, a kernel image that loads. The optional real files add a
 * few kilobytes of their headers (never the whole file) and the tiny
 * test guests. The encodings follow the fuzz_*.c files' comments.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <asm/bootparam.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

struct buf {
	uint8_t d[65536];
	size_t n;
};

static const char *outdir;

static void put(struct buf *b, const void *p, size_t len)
{
	if (b->n + len > sizeof(b->d)) {
		fprintf(stderr, "seeds: a seed outgrew its buffer\n");
		exit(1);
	}
	memcpy(b->d + b->n, p, len);
	b->n += len;
}

static void u8(struct buf *b, uint8_t v) { put(b, &v, 1); }
static void u16(struct buf *b, uint16_t v) { put(b, &v, 2); }
static void u32(struct buf *b, uint32_t v) { put(b, &v, 4); }
static void u64(struct buf *b, uint64_t v) { put(b, &v, 8); }
static void str(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void save(const char *target, const char *name, const void *p, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	if (mkdir(path, 0755) && errno != EEXIST) {
		perror(path);
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void save_buf(const char *target, const char *name, const struct buf *b)
{
	save(target, name, b->d, b->n);
}

/* The first max bytes of a real file, if it was given. */
static void save_head(const char *target, const char *name, const char *path,
		      size_t max)
{
	static uint8_t data[1 << 20];
	FILE *f;
	size_t n;

	if (!path)
		return;
	f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	n = fread(data, 1, max < sizeof(data) ? max : sizeof(data), f);
	fclose(f);
	save(target, name, data, n);
}

/* --- virtq: fuzz_virtq.c --------------------------------------------------- */

#define VQ_RAM_A	0x10000ULL
#define VQ_RAM_C	0x40000ULL
#define VQ_DESC		VQ_RAM_A
#define VQ_AVAIL	(VQ_RAM_A + 0x1000)
#define VQ_USED		(VQ_RAM_A + 0x2000)

static void vq_write(struct buf *b, uint64_t gpa, const void *p, uint8_t len)
{
	u8(b, 0);
	u16(b, gpa >= VQ_RAM_C ? 0x8000 | (gpa - VQ_RAM_C) : gpa - VQ_RAM_A);
	u8(b, len);
	put(b, p, len);
}

static void vq_desc(struct buf *b, uint64_t table, uint16_t i, uint64_t addr,
		    uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { addr, len, flags, next };

	vq_write(b, table + 16 * i, &d, sizeof(d));
}

static void vq_avail(struct buf *b, uint16_t slot, uint16_t head, uint16_t idx)
{
	vq_write(b, VQ_AVAIL + 4 + 2 * slot, &head, 2);
	vq_write(b, VQ_AVAIL + 2, &idx, 2);
}

static void seeds_virtq(void)
{
	struct buf b;

	/* Size 8: a readable and a writable buffer, popped and pushed. */
	b.n = 0;
	u8(&b, 3);
	vq_desc(&b, VQ_DESC, 0, VQ_RAM_A + 0x2800, 16, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, VQ_DESC, 1, VQ_RAM_A + 0x2900, 64, VRING_DESC_F_WRITE, 0);
	vq_avail(&b, 0, 0, 1);
	u8(&b, 1);
	u8(&b, 2); u32(&b, 64);
	u8(&b, 5);
	save_buf("virtq", "chain", &b);

	/* A buffer across the two adjacent regions, one in the third. */
	b.n = 0;
	u8(&b, 4);
	vq_desc(&b, VQ_DESC, 3, VQ_RAM_A + 0x2ff0, 0x20, VRING_DESC_F_NEXT, 7);
	vq_desc(&b, VQ_DESC, 7, VQ_RAM_C + 0x100, 0x40, VRING_DESC_F_WRITE, 0);
	vq_avail(&b, 0, 3, 1);
	u8(&b, 9);
	save_buf("virtq", "regions", &b);

	/* EVENT_IDX and INDIRECT_DESC: a direct descriptor, then a table. */
	b.n = 0;
	u8(&b, 0x30 | 4);
	vq_desc(&b, VQ_DESC, 0, VQ_RAM_A + 0x2800, 8, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, VQ_DESC, 1, VQ_RAM_A + 0x2400, 48, VRING_DESC_F_INDIRECT, 0);
	vq_desc(&b, VQ_RAM_A + 0x2400, 0, VQ_RAM_A + 0x2a00, 32, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, VQ_RAM_A + 0x2400, 1, VQ_RAM_A + 0x2b00, 0, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	vq_desc(&b, VQ_RAM_A + 0x2400, 2, VQ_RAM_A + 0x2c00, 512, VRING_DESC_F_WRITE, 0);
	vq_avail(&b, 0, 0, 1);
	u8(&b, 6);
	u8(&b, 1);
	u8(&b, 3); u32(&b, 512);
	u8(&b, 4);
	u8(&b, 5);
	u8(&b, 7);
	save_buf("virtq", "indirect-event-idx", &b);

	/* Several chains drained the way devices do, then a reset. */
	b.n = 0;
	u8(&b, 0x10 | 3);
	for (uint16_t i = 0; i < 6; i++) {
		vq_desc(&b, VQ_DESC, i, VQ_RAM_A + 0x2800 + 0x40 * i, 0x40,
			i & 1 ? VRING_DESC_F_WRITE : 0, 0);
		vq_avail(&b, i, i, i + 1);
	}
	u8(&b, 9);
	u8(&b, 8);
	u8(&b, 9);
	save_buf("virtq", "drain-reset", &b);

	/* A loop: the chain must break the queue, not hang it. */
	b.n = 0;
	u8(&b, 2);
	vq_desc(&b, VQ_DESC, 0, VQ_RAM_A + 0x2800, 8, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, VQ_DESC, 1, VQ_RAM_A + 0x2800, 8, VRING_DESC_F_NEXT, 0);
	vq_avail(&b, 0, 0, 1);
	u8(&b, 1);
	u8(&b, 1);
	save_buf("virtq", "loop", &b);

	/* More than VIRTQ_MAX_SEGS segments: a direct descriptor, then an
	 * indirect table of 256 one-byte buffers (written by operation 10).
	 * The request fails alone; the queue goes on. */
	b.n = 0;
	u8(&b, 0x20 | 8);
	vq_desc(&b, VQ_DESC, 0, VQ_RAM_A + 0x2900, 8, VRING_DESC_F_NEXT, 1);
	vq_desc(&b, VQ_DESC, 1, VQ_RAM_A + 0x3000, 4096, VRING_DESC_F_INDIRECT, 0);
	u8(&b, 10);
	u16(&b, 0x3000);	/* the table, in RAM B */
	u16(&b, 0);
	u16(&b, 256);
	u64(&b, VQ_RAM_C);
	u32(&b, 1);
	u16(&b, VRING_DESC_F_WRITE);
	vq_avail(&b, 0, 0, 1);
	vq_desc(&b, VQ_DESC, 2, VQ_RAM_A + 0x2a00, 16, 0, 0);
	vq_avail(&b, 1, 2, 2);
	u8(&b, 9);
	save_buf("virtq", "too-many-segments", &b);

	/* Ring addresses from the input: RAM C holds all three. */
	b.n = 0;
	u8(&b, 0x40 | 2);
	u64(&b, VQ_RAM_C);
	u64(&b, VQ_RAM_C + 0x40);
	u64(&b, VQ_RAM_C + 0x80);
	vq_desc(&b, VQ_RAM_C, 0, VQ_RAM_C + 0x800, 16, VRING_DESC_F_WRITE, 0);
	{
		uint16_t avail[4] = { 0, 1, 0, 0 };

		vq_write(&b, VQ_RAM_C + 0x40, avail, sizeof(avail));
	}
	u8(&b, 9);
	save_buf("virtq", "placed", &b);
}

/* --- mmio: fuzz_mmio.c ----------------------------------------------------- */

#define MM_RAM		0x100000ULL
#define MM_BUF		(MM_RAM + 0x8000)

enum { MM_FAKE, MM_RNG, MM_CONSOLE, MM_CONSOLE_SIZE };

static void mm_w(struct buf *b, uint16_t off, uint32_t val)
{
	u8(b, 0);
	u8(b, 0xff);	/* a raw offset: independent of fuzz_mmio.c's table */
	u16(b, off);
	u32(b, val);
}

static void mm_r(struct buf *b, uint16_t off)
{
	u8(b, 1);
	u8(b, 0xff);
	u16(b, off);
}

static void mm_ram(struct buf *b, uint64_t gpa, const void *p, uint8_t len)
{
	u8(b, 5);
	u16(b, gpa - MM_RAM);
	u8(b, len);
	put(b, p, len);
}

static uint64_t mm_ring(unsigned int q, unsigned int part)
{
	return MM_RAM + 0x2000 * q + 0x800 * part;
}

static void mm_queue(struct buf *b, unsigned int q, unsigned int size)
{
	mm_w(b, VIRTIO_MMIO_QUEUE_SEL, q);
	mm_r(b, VIRTIO_MMIO_QUEUE_NUM_MAX);
	mm_w(b, VIRTIO_MMIO_QUEUE_NUM, size);
	mm_w(b, VIRTIO_MMIO_QUEUE_DESC_LOW, mm_ring(q, 0));
	mm_w(b, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	mm_w(b, VIRTIO_MMIO_QUEUE_AVAIL_LOW, mm_ring(q, 1));
	mm_w(b, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
	mm_w(b, VIRTIO_MMIO_QUEUE_USED_LOW, mm_ring(q, 2));
	mm_w(b, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
	mm_w(b, VIRTIO_MMIO_QUEUE_READY, 1);
	mm_r(b, VIRTIO_MMIO_QUEUE_READY);
}

/* One buffer on queue q (descriptor i, avail slot i), made available. */
static void mm_buffer(struct buf *b, unsigned int q, uint16_t i, uint32_t len,
		      bool write)
{
	struct vring_desc d = { MM_BUF + 0x1000 * q + 0x100 * i, len,
				write ? VRING_DESC_F_WRITE : 0, 0 };
	uint16_t idx = i + 1;

	mm_ram(b, mm_ring(q, 0) + 16 * i, &d, sizeof(d));
	mm_ram(b, mm_ring(q, 1) + 4 + 2 * i, &i, 2);
	mm_ram(b, mm_ring(q, 1) + 2, &idx, 2);
}

static void mm_notify(struct buf *b, unsigned int q)
{
	u8(b, 4);
	u8(b, q);
}

/* Modern bring-up: virtio 1.2 section 3.1.1, as Linux does it. */
static void mm_start(struct buf *b, uint32_t features, unsigned int nq)
{
	mm_r(b, VIRTIO_MMIO_MAGIC_VALUE);
	mm_r(b, VIRTIO_MMIO_VERSION);
	mm_r(b, VIRTIO_MMIO_DEVICE_ID);
	mm_w(b, VIRTIO_MMIO_STATUS, 0);
	mm_w(b, VIRTIO_MMIO_STATUS, 1);
	mm_w(b, VIRTIO_MMIO_STATUS, 3);
	mm_w(b, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	mm_r(b, VIRTIO_MMIO_DEVICE_FEATURES);
	mm_w(b, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	mm_r(b, VIRTIO_MMIO_DEVICE_FEATURES);
	mm_w(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mm_w(b, VIRTIO_MMIO_DRIVER_FEATURES, 1);	/* VERSION_1 */
	mm_w(b, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mm_w(b, VIRTIO_MMIO_DRIVER_FEATURES, features);
	mm_w(b, VIRTIO_MMIO_STATUS, 11);
	mm_r(b, VIRTIO_MMIO_STATUS);
	for (unsigned int q = 0; q < nq; q++)
		mm_queue(b, q, 8);
	mm_w(b, VIRTIO_MMIO_STATUS, 15);
}

static void seeds_mmio(void)
{
	const uint32_t ring = 1u << VIRTIO_RING_F_INDIRECT_DESC |
			      1u << VIRTIO_RING_F_EVENT_IDX;
	struct buf b;

	/* The fake device: config space, a buffer on each queue. */
	b.n = 0;
	u8(&b, MM_FAKE);
	mm_start(&b, 0x21, 2);
	mm_r(&b, VIRTIO_MMIO_CONFIG);
	mm_w(&b, VIRTIO_MMIO_CONFIG + 4, 0x12345678);
	mm_r(&b, VIRTIO_MMIO_CONFIG_GENERATION);
	mm_buffer(&b, 0, 0, 64, true);
	mm_notify(&b, 0);
	mm_buffer(&b, 1, 0, 32, false);
	mm_notify(&b, 1);
	mm_r(&b, VIRTIO_MMIO_INTERRUPT_STATUS);
	mm_w(&b, VIRTIO_MMIO_INTERRUPT_ACK, 3);
	save_buf("mmio", "fake", &b);

	/* The fake device with event index and indirect tables, then a reset
	 * while running and a second bring-up. */
	b.n = 0;
	u8(&b, MM_FAKE);
	mm_start(&b, 0x21 | ring, 2);
	mm_buffer(&b, 0, 0, 128, true);
	mm_notify(&b, 0);
	mm_w(&b, VIRTIO_MMIO_QUEUE_SEL, 0);
	mm_w(&b, VIRTIO_MMIO_QUEUE_READY, 0);
	mm_r(&b, VIRTIO_MMIO_STATUS);
	mm_w(&b, VIRTIO_MMIO_STATUS, 0);
	mm_start(&b, 0x21, 2);
	mm_buffer(&b, 0, 1, 16, true);
	mm_notify(&b, 0);
	save_buf("mmio", "fake-reset", &b);

	/* virtio-rng: a writable buffer filled. */
	b.n = 0;
	u8(&b, MM_RNG);
	mm_start(&b, ring, 1);
	mm_buffer(&b, 0, 0, 256, true);
	mm_notify(&b, 0);
	save_buf("mmio", "rng", &b);

	/* virtio-rng: one request of 90000 bytes, three overlapping
	 * buffers; the device gives at most VIRTIO_RNG_MAX_REQUEST. */
	b.n = 0;
	u8(&b, MM_RNG);
	mm_start(&b, 0, 1);
	for (uint16_t i = 0; i < 3; i++) {
		struct vring_desc d = { MM_RAM + 0x4000, 30000,
					VRING_DESC_F_WRITE | (i < 2 ? VRING_DESC_F_NEXT : 0),
					i + 1 };

		mm_ram(&b, mm_ring(0, 0) + 16 * i, &d, sizeof(d));
	}
	{
		uint16_t head = 0, idx = 1;

		mm_ram(&b, mm_ring(0, 1) + 4, &head, 2);
		mm_ram(&b, mm_ring(0, 1) + 2, &idx, 2);
	}
	mm_notify(&b, 0);
	save_buf("mmio", "rng-large", &b);

	/* virtio-console with a window size: output, input, emergency write. */
	b.n = 0;
	u8(&b, MM_CONSOLE_SIZE);
	mm_start(&b, 1u << VIRTIO_CONSOLE_F_SIZE | 1u << VIRTIO_CONSOLE_F_EMERG_WRITE, 2);
	mm_r(&b, VIRTIO_MMIO_CONFIG);
	mm_w(&b, VIRTIO_MMIO_CONFIG + 8, 'x');
	mm_buffer(&b, 1, 0, 24, false);
	mm_notify(&b, 1);
	mm_buffer(&b, 0, 0, 64, true);
	mm_notify(&b, 0);
	u8(&b, 6);
	u8(&b, 5);
	str(&b, "hello");
	save_buf("mmio", "console", &b);

	/* Legacy (version 1): page-based queue, no FEATURES_OK step. */
	b.n = 0;
	u8(&b, MM_FAKE | 4);
	mm_w(&b, VIRTIO_MMIO_STATUS, 1);
	mm_w(&b, VIRTIO_MMIO_STATUS, 3);
	mm_r(&b, VIRTIO_MMIO_DEVICE_FEATURES);
	mm_w(&b, VIRTIO_MMIO_DRIVER_FEATURES, 0x21);
	mm_w(&b, VIRTIO_MMIO_GUEST_PAGE_SIZE, 4096);
	mm_w(&b, VIRTIO_MMIO_QUEUE_SEL, 0);
	mm_w(&b, VIRTIO_MMIO_QUEUE_NUM, 8);
	mm_w(&b, VIRTIO_MMIO_QUEUE_ALIGN, 4096);
	mm_w(&b, VIRTIO_MMIO_QUEUE_PFN, MM_RAM >> 12);
	mm_r(&b, VIRTIO_MMIO_QUEUE_PFN);
	mm_w(&b, VIRTIO_MMIO_STATUS, 7);
	{
		struct vring_desc d = { MM_BUF, 64, VRING_DESC_F_WRITE, 0 };
		uint16_t head = 0, idx = 1;

		mm_ram(&b, MM_RAM, &d, sizeof(d));
		mm_ram(&b, MM_RAM + 128 + 4, &head, 2);
		mm_ram(&b, MM_RAM + 128 + 2, &idx, 2);
	}
	mm_notify(&b, 0);
	mm_w(&b, VIRTIO_MMIO_QUEUE_PFN, 0);
	save_buf("mmio", "legacy", &b);

	/* Odd widths and offsets everywhere. */
	b.n = 0;
	u8(&b, MM_CONSOLE);
	for (unsigned int w = 0; w < 6; w++) {
		u8(&b, 2); u16(&b, 0x70); u8(&b, w << 1 | 1); u32(&b, 1);
		u8(&b, 2); u16(&b, 0x101 + w); u8(&b, w << 1); u32(&b, 0);
		u8(&b, 2); u16(&b, 0x1ff); u8(&b, w << 1 | 1); u32(&b, 0xff);
	}
	save_buf("mmio", "widths", &b);
}

/* --- bzimage: fuzz_bzimage.c ----------------------------------------------- */

static size_t make_bzimage(uint8_t *img, uint32_t init_size, uint32_t initrd_max,
			   uint32_t cmdline_size)
{
	struct setup_header *h = (struct setup_header *)(img + 0x1f1);
	const size_t setup = 2 * 512, payload = 2048;

	memset(img, 0, setup + payload);
	h->setup_sects = 1;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb;	/* the header runs to 0x268 */
	h->header = 0x53726448;
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->xloadflags = XLF_KERNEL_64;
	h->syssize = payload / 16;
	h->pref_address = 0x200000;
	h->init_size = init_size;
	h->initrd_addr_max = initrd_max;
	h->cmdline_size = cmdline_size;
	h->kernel_alignment = 0x200000;
	for (size_t i = 0; i < payload; i++)
		img[setup + i] = i;
	return setup + payload;
}

static void seeds_bzimage(const char *real)
{
	static uint8_t img[8192];

	save("bzimage", "loads", img, make_bzimage(img, 0x100000, 0x7fffffff, 2047));
	save("bzimage", "initrd-low", img, make_bzimage(img, 0x100000, 0x300000, 2047));
	save("bzimage", "cmdline-short", img, make_bzimage(img, 0x100000, 0x7fffffff, 8));
	save("bzimage", "too-big", img, make_bzimage(img, 0x2000000, 0x7fffffff, 2047));
	save_head("bzimage", "real-header", real, 1024);
}

/* --- elf: fuzz_elf.c --------------------------------------------------------- */

static size_t make_elf(uint8_t *img, int note_desc, bool two_loads)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));
	const uint64_t load = 0x100000, code = 0x1000;
	unsigned int n = 0;

	memset(img, 0, 0x1100);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = load + 0x10;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = code, .p_vaddr = load, .p_paddr = load,
		.p_filesz = 0x100, .p_memsz = 0x4000, .p_align = 0x1000 };
	if (two_loads)
		ph[n++] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R,
			.p_offset = code, .p_vaddr = load + 0x10000,
			.p_paddr = load + 0x10000, .p_filesz = 0x80,
			.p_memsz = 0x80, .p_align = 0x1000 };
	if (note_desc) {
		uint8_t *p = img + 0x200;
		Elf64_Nhdr nh = { 4, note_desc, 18 };
		uint64_t entry = load + 0x20;

		/* A foreign note first, then Xen's PVH entry. */
		Elf64_Nhdr other = { 4, 4, 1 };

		memcpy(p, &other, sizeof(other));
		memcpy(p + 12, "GNU", 4);
		p += 20;
		memcpy(p, &nh, sizeof(nh));
		memcpy(p + 12, "Xen", 4);
		memcpy(p + 16, &entry, note_desc);
		ph[n++] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x200,
			.p_filesz = 20 + 16 + note_desc, .p_align = 4 };
	}
	eh->e_phnum = n;
	for (unsigned int i = 0; i < 0x100; i++)
		img[code + i] = 0x90;
	return code + 0x100;
}

static void seeds_elf(const char *vmlinux, const char *tiny, const char *tiny64)
{
	static uint8_t img[0x1100];

	save("elf", "plain", img, make_elf(img, 0, false));
	save("elf", "pvh-4", img, make_elf(img, 4, true));
	save("elf", "pvh-8", img, make_elf(img, 8, false));
	save_head("elf", "tiny", tiny, 16384);
	save_head("elf", "tiny64", tiny64, 16384);
	save_head("elf", "vmlinux-headers", vmlinux, 4096);
}

/* --- arm64_image: fuzz_arm64_image.c ---------------------------------------- */

static void arm64_seed(const char *name, uint64_t text_offset,
		       uint64_t image_size, uint64_t flags)
{
	struct buf b = { .n = 0 };

	u32(&b, 0x91005a4d);	/* add x13, x18, #0x16: "MZ", for EFI */
	u32(&b, 0x14000000);	/* b stext */
	u64(&b, text_offset);
	u64(&b, image_size);
	u64(&b, flags);
	u64(&b, 0);
	u64(&b, 0);
	u64(&b, 0);
	u32(&b, 0x644d5241);	/* "ARM\x64" */
	u32(&b, 0);
	for (int i = 0; i < 192; i++)
		u8(&b, i);
	save_buf("arm64_image", name, &b);
}

static void seeds_arm64_image(void)
{
	arm64_seed("4k-anywhere", 0, 0x2000000, 1 << 1 | 1 << 3);
	arm64_seed("64k", 0x80000, 0x1000000, 3 << 1);
	arm64_seed("pre-3.17", 0x80000, 0, 0);
	arm64_seed("big-endian", 0, 0x1000000, 1);
}

/* --- fdt: fuzz_fdt.c --------------------------------------------------------- */

static void fdt_dev(struct buf *b, uint8_t name, uint8_t compat, uint64_t base,
		    uint64_t size, uint32_t irq, uint8_t flags)
{
	u8(b, name);
	u8(b, compat);
	u64(b, base);
	u64(b, size);
	u32(b, irq);
	u8(b, flags);
}

static void seeds_fdt(void)
{
	struct buf b;

	/* What --dump-dtb describes on x86: one CPU, two RAM regions. */
	b.n = 0;
	u8(&b, 0x40);
	u16(&b, 1);
	u8(&b, 2);
	u64(&b, 0); u64(&b, 0xc0000000);
	u64(&b, 0x100000000ULL); u64(&b, 0x40000000);
	u8(&b, 32);
	for (int i = 0; i < 32; i++)
		u8(&b, i);
	u8(&b, 0);
	u32(&b, 0);
	u8(&b, 3);
	fdt_dev(&b, 2, 2, 0xd0000000, 0x1000, 0, 0);
	fdt_dev(&b, 0, 0, 0xd0001000, 0x200, 5, 1);
	fdt_dev(&b, 0, 0, 0xd0002000, 0x200, 6, 1);
	u16(&b, 1);
	str(&b, "console=ttyS0 reboot=k panic=-1 virtio_mmio.device=0x200@0xd0001000:5");
	save_buf("fdt", "x86", &b);

	/* arm64-like: GIC cells, CPU ids and properties, PSCI/GIC nodes, an
	 * initrd, a UART on stdout-path. */
	b.n = 0;
	u8(&b, 0x01 | 0x02 | 0x04 | 0x08 | 0x80);
	u16(&b, 4);
	u32(&b, 0); u32(&b, 1); u32(&b, 0x100); u32(&b, 0x101);
	u8(&b, 1);
	u64(&b, 0x80000000); u64(&b, 0x10000000);
	u64(&b, 0x88000000); u64(&b, 0x88100000);
	u8(&b, 3);
	u32(&b, 1);
	u8(&b, 2);
	fdt_dev(&b, 1, 1, 0x9000000, 0x1000, 33, 2 | 4);
	fdt_dev(&b, 0, 0, 0xa000000, 0x200, 48, 1 | 8);
	u16(&b, 1);
	str(&b, "console=ttyAMA0 earlycon");
	save_buf("fdt", "arm64", &b);

	/* A long command line: the buffer grows several times. */
	b.n = 0;
	u8(&b, 0);
	u16(&b, 2);
	u8(&b, 1);
	u64(&b, 0); u64(&b, 0x10000000);
	u8(&b, 0);
	u32(&b, 0);
	u8(&b, 0);
	u16(&b, 400);
	str(&b, "quiet loglevel=0 ");
	save_buf("fdt", "long-bootargs", &b);

	/* Bootargs past FDT_MAX_SIZE: -E2BIG after the last growth. */
	b.n = 0;
	u8(&b, 0);
	u16(&b, 1);
	u8(&b, 1);
	u64(&b, 0); u64(&b, 0x10000000);
	u8(&b, 0);
	u32(&b, 0);
	u8(&b, 0);
	u16(&b, 600);
	for (int i = 0; i < 3600; i++)
		u8(&b, 'a' + i % 26);
	save_buf("fdt", "too-big", &b);

	/* A callback that leaves a node open: must be refused. */
	b.n = 0;
	u8(&b, 0x08 | 0x10);
	u16(&b, 1);
	u8(&b, 1);
	u64(&b, 0); u64(&b, 0x10000000);
	u8(&b, 0);
	u32(&b, 0);
	u8(&b, 0);
	u16(&b, 0);
	save_buf("fdt", "open-node", &b);

	/* Two devices with one name. */
	b.n = 0;
	u8(&b, 0);
	u16(&b, 1);
	u8(&b, 1);
	u64(&b, 0); u64(&b, 0x10000000);
	u8(&b, 0);
	u32(&b, 0);
	u8(&b, 2);
	fdt_dev(&b, 0, 0, 0xd0001000, 0x200, 5, 0);
	fdt_dev(&b, 0, 0, 0xd0001000, 0x200, 6, 0);
	u16(&b, 0);
	save_buf("fdt", "duplicate", &b);
}

/* --- blk_req: fuzz_blk_req.c ------------------------------------------------ */

struct blk_seg {
	uint16_t len;
	bool write;
};

static void blk_seed(const char *name, uint8_t flags, uint32_t type,
		     uint64_t sector, const struct blk_seg *segs, unsigned int n,
		     const void *payload, size_t payload_len)
{
	struct buf b = { .n = 0 };
	uint8_t hdr[16] = { 0 };
	size_t readable = 0;

	u64(&b, 1 << 16);		/* 32 MiB */
	u8(&b, flags);
	str(&b, "kvmini-fuzz-serial-1");
	u16(&b, n);
	for (unsigned int i = 0; i < n; i++) {
		u16(&b, (segs[i].len - 1) | (segs[i].write ? 0x8000 : 0));
		if (!segs[i].write)
			readable += segs[i].len;
	}
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	put(&b, hdr, 16);
	put(&b, payload, payload_len);
	/* The rest of the readable bytes are zeros: fuzz_bytes() pads. */
	(void)readable;
	save_buf("blk_req", name, &b);
}

static void seeds_blk_req(void)
{
	const uint8_t align512 = 1, discard = 8, wzeroes = 16;
	const struct blk_seg rd[] = { { 16, false }, { 4096, true }, { 1, true } };
	const struct blk_seg wr[] = { { 16, false }, { 4096, false }, { 1, true } };
	const struct blk_seg fl[] = { { 16, false }, { 1, true } };
	const struct blk_seg id[] = { { 16, false }, { 20, true }, { 1, true } };
	const struct blk_seg dwz[] = { { 16, false }, { 32, false }, { 1, true } };
	/* Header and data split anyhow, the status inside the last buffer. */
	const struct blk_seg split[] = {
		{ 5, false }, { 5, false }, { 6 + 100, false }, { 412, false },
		{ 512, false }, { 1, true },
	};
	struct { uint64_t sector; uint32_t num, flags; } segs[2] = {
		{ 0, 8, 0 }, { 100, 16, 0 },
	};

	blk_seed("read", align512, VIRTIO_BLK_T_IN, 8, rd, 3, NULL, 0);
	blk_seed("write", align512, VIRTIO_BLK_T_OUT, 16, wr, 3, NULL, 0);
	blk_seed("write-ro", align512 | 4, VIRTIO_BLK_T_OUT, 16, wr, 3, NULL, 0);
	blk_seed("flush", 0, VIRTIO_BLK_T_FLUSH, 0, fl, 2, NULL, 0);
	blk_seed("get-id", 0, VIRTIO_BLK_T_GET_ID, 0, id, 3, NULL, 0);
	blk_seed("discard", discard | wzeroes, VIRTIO_BLK_T_DISCARD, 0, dwz, 3,
		 segs, sizeof(segs));
	segs[1].flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	blk_seed("write-zeroes", discard | wzeroes, VIRTIO_BLK_T_WRITE_ZEROES, 0,
		 dwz, 3, segs, sizeof(segs));
	blk_seed("split", align512, VIRTIO_BLK_T_OUT, 65534, split, 6, NULL, 0);
}

/* --- net_hdr: fuzz_net_hdr.c ------------------------------------------------ */

#define NET_F(bit)	(1ULL << (bit))

static void net_seed(const char *name, uint8_t flags, const uint16_t *lens,
		     unsigned int n, const void *bytes, size_t len)
{
	struct buf b = { .n = 0 };
	/* Every offload and control feature kvmini offers. */
	uint64_t f = NET_F(VIRTIO_NET_F_CSUM) | NET_F(VIRTIO_NET_F_GUEST_CSUM) |
		     NET_F(VIRTIO_NET_F_HOST_TSO4) | NET_F(VIRTIO_NET_F_HOST_TSO6) |
		     NET_F(VIRTIO_NET_F_HOST_ECN) | NET_F(VIRTIO_NET_F_GUEST_TSO4) |
		     NET_F(VIRTIO_NET_F_MRG_RXBUF) | NET_F(VIRTIO_NET_F_CTRL_VQ) |
		     NET_F(VIRTIO_NET_F_CTRL_RX) | NET_F(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		     NET_F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | NET_F(VIRTIO_F_VERSION_1);

	u64(&b, f);
	u8(&b, flags);
	u8(&b, n);
	for (unsigned int i = 0; i < n; i++)
		u16(&b, lens[i] - 1);
	put(&b, bytes, len);
	u32(&b, 1600);		/* bytes for the receive accounting */
	save_buf("net_hdr", name, &b);
}

static void seeds_net_hdr(void)
{
	struct virtio_net_hdr_v1 h = { 0 };
	uint8_t p[4096] = { 0 };
	const uint16_t two[] = { 12, 60 }, legacy[] = { 10, 60 }, one[] = { 72 };
	const uint16_t tso[] = { 12, 3000 };
	const uint8_t promisc[] = { VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 1 };
	const uint8_t mac[] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
				0x52, 0x54, 0, 1, 2, 3 };
	const uint8_t table[] = { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
				  1, 0, 0, 0, 0x52, 0x54, 0, 1, 2, 3,
				  2, 0, 0, 0, 1, 0, 0x5e, 0, 0, 1, 0x33, 0x33, 0, 0, 0, 1 };
	const uint8_t offloads[] = { VIRTIO_NET_CTRL_GUEST_OFFLOADS,
				     VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, 2, 0, 0, 0, 0, 0, 0, 0 };
	const uint16_t l_promisc[] = { 1, 2 }, l_mac[] = { 8 }, l_table[] = { 2, 26 };
	const uint16_t l_off[] = { 10 };

	net_seed("frame", 0, two, 2, p, 72);
	net_seed("legacy", 1, legacy, 2, p, 70);
	net_seed("writable", 2, two, 2, p, 72);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 16;
	memcpy(p, &h, sizeof(h));
	net_seed("csum", 0, one, 1, p, 72);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	h.gso_size = 1448;
	memcpy(p, &h, sizeof(h));
	net_seed("tso", 0, tso, 2, p, 3012);
	net_seed("ctrl-promisc", 0, l_promisc, 2, promisc, sizeof(promisc));
	net_seed("ctrl-mac", 0, l_mac, 1, mac, sizeof(mac));
	net_seed("ctrl-mac-table", 0, l_table, 2, table, sizeof(table));
	net_seed("ctrl-offloads", 0, l_off, 1, offloads, sizeof(offloads));
}

/* --- cli: fuzz_cli.c --------------------------------------------------------- */

static void cli_seed(const char *name, const char *const *args)
{
	struct buf b = { .n = 0 };

	for (; *args; args++)
		put(&b, *args, strlen(*args) + 1);
	save_buf("cli", name, &b);
}

static void seeds_cli(void)
{
	static const char *const minimal[] = { "run", "--kernel", "bzImage", NULL };
	static const char *const every[] = {
		"run", "--kernel", "vmlinux", "--initrd", "initrd.img",
		"--cmdline", "quiet console=hvc0", "--mem", "2G", "--cpus", "4",
		"--console", "file:/tmp/log", "--timeout", "30", "--verbose",
		"--no-rng", "--no-acpi", "--no-seccomp", "--virtio-legacy",
		"--dump-dtb", "vm.dtb", "--kvm-device", "/dev/kvm",
		"--disk", "disk.img,ro,serial=abc", NULL,
	};
	static const char *const sizes[] = {
		"run", "--kernel=k", "--mem=4096K", "--mem", "1GiB", "--mem",
		"512MB", "--mem", "18446744073709551615", "--console=virtio", NULL,
	};
	static const char *const bad[] = {
		"run", "--kernel", "k", "--cpus", "255", "--mem", "1M", "-x", NULL,
	};
	static const char *const version[] = { "--version", NULL };
	static const char *const help[] = { "run", "--help", NULL };
	static const char *const missing[] = { "run", "--timeout", NULL };
	static const char *const nets[] = {
		"run", "--kernel", "k", "--net", "tap=tap0,mac=52:54:00:00:00:01",
		"--net", "user,hostfwd=tcp::8080-:80,hostfwd=udp:127.0.0.1:53-10.0.2.15:53",
		NULL,
	};

	cli_seed("minimal", minimal);
	cli_seed("every-option", every);
	cli_seed("sizes", sizes);
	cli_seed("bad", bad);
	cli_seed("version", version);
	cli_seed("help", help);
	cli_seed("missing-value", missing);
	cli_seed("net", nets);
}

/* --- json: fuzz_json.c ---------------------------------------------------- */

static void seeds_json(void)
{
	static const char *const seeds[][2] = {
		{ "status", "{\"op\":\"status\"}\n" },
		{ "pause", "{\"op\":\"pause\"}" },
		{ "snapshot", "{\"op\":\"snapshot\",\"dir\":\"/tmp/snap\"}" },
		{ "escapes", "[\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\\\\\\/\",\"\\u0000\"]" },
		{ "utf8", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"" },
		{ "numbers", "[0,-0,1.5e-3,-12E+4,9223372036854775807,-9223372036854775808,1e400]" },
		{ "literals", " [true , false,null] " },
		{ "oci", "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"echo hi\"],"
			 "\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}},"
			 "\"root\":{\"path\":\"rootfs\",\"readonly\":true}}" },
		{ "duplicate", "{\"a\":1,\"b\":2,\"a\":3}" },
		{ "deep", "[[[[[[[[[[[[[[[[{\"a\":[[[[]]]]}]]]]]]]]]]]]]]]]" },
		{ "trailing-comma", "{\"a\":[1,2,],}" },
	};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		save("json", seeds[i][0], seeds[i][1], strlen(seeds[i][1]));
}

/* --- pci_cfg: fuzz_pci_cfg.c -------------------------------------------- */

/* A write to a field of function 0's BAR region r (fuzz_pci_cfg.c's
 * bar_off(): region index in bits 1-3 of the selector). */
static void pci_bar_write(struct buf *b, uint8_t width_op, uint8_t region,
			  uint8_t off, uint64_t val)
{
	u8(b, 4);
	u8(b, width_op);	/* 0x82: 1 byte, 0x84: 4 bytes; written */
	u8(b, region << 1);
	u8(b, off);
	u64(b, val);
}

static void seeds_pci_cfg(void)
{
	struct buf b = { .n = 0 };

	/* Both functions' BARs in the window, decoding; MSI-X on (its
	 * capability at 0x88, control at 0x8a); the driver's status steps
	 * and VERSION_1; two table entries unmasked; interrupts, a kick. */
	u8(&b, 1); u8(&b, 2); u64(&b, 0xc0000000);
	u8(&b, 1); u8(&b, 3); u64(&b, 0xc0010000);
	u8(&b, 0); u8(&b, 0x85); u16(&b, 0x8a); u32(&b, 0x8000);
	pci_bar_write(&b, 0x82, 0, 20, 0);
	pci_bar_write(&b, 0x82, 0, 20, 1);
	pci_bar_write(&b, 0x82, 0, 20, 3);
	pci_bar_write(&b, 0x84, 0, 8, 1);
	pci_bar_write(&b, 0x84, 0, 12, 1);
	pci_bar_write(&b, 0x82, 0, 20, 0xb);
	for (unsigned int v = 0; v < 2; v++) {
		pci_bar_write(&b, 0x84, 4, 16 * v, 0xfee00000);
		pci_bar_write(&b, 0x84, 4, 16 * v + 8, 0x40 + v);
		pci_bar_write(&b, 0x84, 4, 16 * v + 12, 0);
	}
	u8(&b, 6); u8(&b, 0x02);
	u8(&b, 6); u8(&b, 0x06);
	u8(&b, 5); u8(&b, 0);
	save_buf("pci_cfg", "msix-up", &b);

	/* conf1: slot 1's registers dword by dword, through every port. */
	b.n = 0;
	for (unsigned int i = 0; i < 64; i++) {
		u8(&b, 2);
		u8(&b, (i * 37) & 0xff);
		u32(&b, 0x80000000 | 1 << 11 | i * 4);
	}
	save_buf("pci_cfg", "conf1-walk", &b);
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 6) {
		fprintf(stderr, "usage: seeds OUTDIR [BZIMAGE VMLINUX TINY_ELF TINY64_ELF]\n");
		return 2;
	}
	outdir = argv[1];
	seeds_virtq();
	seeds_mmio();
	seeds_pci_cfg();
	seeds_bzimage(argc == 6 ? argv[2] : NULL);
	seeds_elf(argc == 6 ? argv[3] : NULL, argc == 6 ? argv[4] : NULL,
		  argc == 6 ? argv[5] : NULL);
	seeds_arm64_image();
	seeds_fdt();
	seeds_blk_req();
	seeds_net_hdr();
	seeds_cli();
	seeds_json();
	return 0;
}
