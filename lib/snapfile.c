// SPDX-License-Identifier: GPL-2.0
/* The snapshot state file: see snapfile.h and docs/snapshot.md. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/log.h"
#include "lib/snapfile.h"

/* Reflected Castagnoli polynomial. The table is built on first use: it
 * is a pure function of the polynomial, so two threads building it at
 * once write the same values. */
#define CRC32C_POLY	0x82f63b78U

static uint32_t crc_table[256];
static bool crc_ready;

uint32_t snap_crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
			crc_table[i] = c;
		}
		__atomic_store_n(&crc_ready, true, __ATOMIC_RELEASE);
	}
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static const char *arch_name(uint32_t arch)
{
	switch (arch) {
	case SNAP_ARCH_X86_64:
		return "x86_64";
	case SNAP_ARCH_ARM64:
		return "arm64";
	}
	return "an unknown architecture";
}

/* Writing. */

void snap_writer_init(struct snap_writer *w, uint32_t arch, const char *version)
{
	char v[SNAP_KVMINI_VERSION_LEN] = { 0 };

	memset(w, 0, sizeof(*w));
	w->sect_start = SIZE_MAX;
	if (version)
		strncpy(v, version, sizeof(v) - 1);
	sbuf_put(&w->buf, SNAP_MAGIC, 8);
	sbuf_put_u32(&w->buf, SNAP_VERSION);
	sbuf_put_u32(&w->buf, arch);
	sbuf_put_u32(&w->buf, 0);		/* flags */
	sbuf_put_u32(&w->buf, 0);		/* sections: snap_finish */
	sbuf_put(&w->buf, v, sizeof(v));
}

void snap_writer_flags(struct snap_writer *w, uint32_t flags)
{
	if (w->buf.len < SNAP_HDR_LEN) {
		w->bad = true;
		return;
	}
	for (int i = 0; i < 4; i++)
		w->buf.data[16 + i] = flags >> (8 * i);
}

struct sbuf *snap_begin(struct snap_writer *w, uint32_t tag, uint32_t index)
{
	if (w->sect_start != SIZE_MAX)
		w->bad = true;
	w->sect_start = w->buf.len;
	sbuf_put_u32(&w->buf, tag);
	sbuf_put_u32(&w->buf, index);
	sbuf_put_u64(&w->buf, 0);		/* length: snap_end */
	return &w->buf;
}

static void put_le_at(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = v >> (8 * i);
}

void snap_end(struct snap_writer *w)
{
	if (w->sect_start == SIZE_MAX) {
		w->bad = true;
		return;
	}
	if (sbuf_ok(&w->buf))
		put_le_at(w->buf.data + w->sect_start + 8,
			  w->buf.len - w->sect_start - SNAP_SECT_HDR_LEN, 8);
	w->sect_start = SIZE_MAX;
	w->nr_sections++;
}

void snap_add(struct snap_writer *w, uint32_t tag, uint32_t index,
	      const void *p, size_t n)
{
	sbuf_put(snap_begin(w, tag, index), p, n);
	snap_end(w);
}

int snap_finish(struct snap_writer *w)
{
	int err = 0;

	if (!sbuf_ok(&w->buf))
		err = -ENOMEM;
	else if (w->nr_sections > SNAP_SECTIONS_MAX ||
		 w->buf.len + SNAP_CRC_LEN > SNAP_FILE_MAX)
		err = -EFBIG;		/* the reader would refuse it */
	else if (w->bad || w->sect_start != SIZE_MAX)
		err = -EINVAL;		/* a section left open, or sealed twice */
	if (err) {
		w->bad = true;
		return err;
	}
	put_le_at(w->buf.data + 20, w->nr_sections, 4);
	sbuf_put_u32(&w->buf, snap_crc32c(0, w->buf.data, w->buf.len));
	w->bad = true;		/* sealed: nothing more goes in */
	return sbuf_ok(&w->buf) ? 0 : -ENOMEM;
}

void snap_writer_free(struct snap_writer *w)
{
	sbuf_free(&w->buf);
	w->nr_sections = 0;
	w->sect_start = SIZE_MAX;
	w->bad = false;
}

/* Reading. */

static int cmp_sect(const void *a, const void *b)
{
	const struct snap_section *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return 0;
}

static uint64_t le_at(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int parse(struct snap_reader *r)
{
	const uint8_t *d = r->data;
	size_t end, off = SNAP_HDR_LEN;
	uint32_t version, arch, nr;

	if (r->len < SNAP_HDR_LEN + SNAP_CRC_LEN) {
		pr_err("snapshot %s: truncated (%zu bytes): take a new snapshot", r->name, r->len);
		return -EINVAL;
	}
	if (memcmp(d, SNAP_MAGIC, 8)) {
		pr_err("snapshot %s: not a kvmini snapshot: give the directory snapshot wrote", r->name);
		return -EINVAL;
	}
	version = le_at(d + 8, 4);
	if (version != SNAP_VERSION) {
		pr_err("snapshot %s: written by format version %u, this kvmini reads %u: take a new snapshot",
		       r->name, version, SNAP_VERSION);
		return -EINVAL;
	}
	arch = le_at(d + 12, 4);
	if (arch != SNAP_ARCH_HOST) {
		pr_err("snapshot %s: taken on %s, this kvmini runs %s: restore it with kvmini on %s",
		       r->name, arch_name(arch), arch_name(SNAP_ARCH_HOST), arch_name(arch));
		return -EINVAL;
	}
	end = r->len - SNAP_CRC_LEN;
	if (snap_crc32c(0, d, end) != le_at(d + end, 4)) {
		pr_err("snapshot %s: checksum mismatch, the file is corrupt or truncated: take a new snapshot",
		       r->name);
		return -EINVAL;
	}
	r->flags = le_at(d + 16, 4);
	if (r->flags & ~SNAP_FLAGS_KNOWN) {
		pr_err("snapshot %s: unknown flags %#x: take a new snapshot with this kvmini",
		       r->name, r->flags & ~SNAP_FLAGS_KNOWN);
		return -EINVAL;
	}
	nr = le_at(d + 20, 4);
	if (nr > SNAP_SECTIONS_MAX || nr > (end - SNAP_HDR_LEN) / SNAP_SECT_HDR_LEN) {
		pr_err("snapshot %s: %u sections cannot fit: the file is corrupt: take a new snapshot",
		       r->name, nr);
		return -EINVAL;
	}
	memcpy(r->version, d + 24, SNAP_KVMINI_VERSION_LEN);
	r->version[SNAP_KVMINI_VERSION_LEN] = '\0';
	r->sects = calloc(nr ? nr : 1, sizeof(*r->sects));
	if (!r->sects) {
		pr_err("snapshot %s: out of memory", r->name);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nr; i++) {
		struct snap_section *s = &r->sects[i];
		uint64_t len;

		if (end - off < SNAP_SECT_HDR_LEN) {
			pr_err("snapshot %s: section %u of %u starts past the end: the file is corrupt: take a new snapshot",
			       r->name, i, nr);
			return -EINVAL;
		}
		s->tag = le_at(d + off, 4);
		s->index = le_at(d + off + 4, 4);
		len = le_at(d + off + 8, 8);
		off += SNAP_SECT_HDR_LEN;
		if (len > end - off) {
			pr_err("snapshot %s: section %#x/%u is %llu bytes, past the end: the file is corrupt: take a new snapshot",
			       r->name, s->tag, s->index, (unsigned long long)len);
			return -EINVAL;
		}
		s->off = off;
		s->len = len;
		off += len;
	}
	if (off != end) {
		pr_err("snapshot %s: %zu bytes after the last section: the file is corrupt: take a new snapshot",
		       r->name, end - off);
		return -EINVAL;
	}
	qsort(r->sects, nr, sizeof(*r->sects), cmp_sect);
	for (uint32_t i = 1; i < nr; i++) {
		if (!cmp_sect(&r->sects[i - 1], &r->sects[i])) {
			pr_err("snapshot %s: section %#x/%u appears twice: the file is corrupt: take a new snapshot",
			       r->name, r->sects[i].tag, r->sects[i].index);
			return -EINVAL;
		}
	}
	r->nr_sections = nr;
	return 0;
}

int snap_parse(struct snap_reader *r, const void *data, size_t len, const char *name)
{
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->data = (uint8_t *)data;
	r->len = len;
	err = parse(r);
	if (err)
		snap_reader_free(r);
	return err;
}

int snap_read(struct snap_reader *r, const char *dir)
{
	char name[256];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, err;

	snprintf(name, sizeof(name), "%s/%s", dir, SNAP_FILE_NAME);
	memset(r, 0, sizeof(*r));
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		err = -errno;
		pr_err("snapshot %s: cannot open: %s: give the directory snapshot wrote",
		       name, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SNAP_FILE_MAX) {
		pr_err("snapshot %s: not a regular file of at most %u MiB: give the directory snapshot wrote",
		       name, SNAP_FILE_MAX >> 20);
		close(fd);
		return -EINVAL;
	}
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		pr_err("snapshot %s: out of memory", name);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += k;
	}
	close(fd);
	/* A file that changed size under us is refused as truncated or by
	 * its checksum, like any other. */
	err = snap_parse(r, buf, got, name);
	if (err) {
		free(buf);
		return err;
	}
	r->owned = true;
	return 0;
}

void snap_reader_free(struct snap_reader *r)
{
	if (r->owned)
		free(r->data);
	free(r->sects);
	r->data = NULL;
	r->sects = NULL;
	r->len = 0;
	r->nr_sections = 0;
	r->owned = false;
}

bool snap_find(const struct snap_reader *r, uint32_t tag, uint32_t index,
	       struct sbuf_rd *payload)
{
	struct snap_section key = { .tag = tag, .index = index };
	const struct snap_section *s;

	if (!r->nr_sections)
		return false;
	s = bsearch(&key, r->sects, r->nr_sections, sizeof(*s), cmp_sect);
	if (!s)
		return false;
	sbuf_rd_init(payload, r->data + s->off, s->len);
	return true;
}

/* The configuration. */

#define CFG_STR_MAX	4096

static void put_str(struct sbuf *b, const char *s, size_t n)
{
	if (n > CFG_STR_MAX)
		n = CFG_STR_MAX;
	sbuf_put_u32(b, n);
	sbuf_put(b, s, n);
}

void snap_config_put(struct snap_writer *w, const struct vm_config *cfg,
		     const uint64_t *disk_sizes)
{
	struct sbuf *b = snap_begin(w, SNAP_TAG_CONFIG, 0);

	sbuf_put_u64(b, cfg->mem);
	sbuf_put_u32(b, cfg->cpus);
	sbuf_put_u32(b, cfg->console);
	sbuf_put_u8(b, cfg->no_rng);
	sbuf_put_u8(b, cfg->no_acpi);
	sbuf_put_u8(b, cfg->virtio_legacy);
	sbuf_put_u32(b, cfg->vsock.cid);
	sbuf_put_u32(b, cfg->nr_disks);
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *d = &cfg->disks[i];

		put_str(b, d->arg, d->path_len);
		sbuf_put_u64(b, disk_sizes ? disk_sizes[i] : 0);
		sbuf_put_u8(b, d->ro);
		put_str(b, d->serial, strlen(d->serial));
	}
	sbuf_put_u32(b, cfg->nr_nets);
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		sbuf_put_u32(b, cfg->nets[i].kind);
		sbuf_put(b, cfg->nets[i].mac, 6);
	}
	sbuf_put_u32(b, cfg->nr_shares);
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		put_str(b, cfg->shares[i].tag, strlen(cfg->shares[i].tag));
		sbuf_put_u8(b, cfg->shares[i].ro);
	}
	snap_end(w);
}

static const char *const console_names[] = {
	[CONSOLE_STDIO] = "stdio", [CONSOLE_NONE] = "none", [CONSOLE_FILE] = "file",
	[CONSOLE_VIRTIO] = "virtio", [CONSOLE_STDERR] = "stderr",
};

static const char *console_name(uint32_t k)
{
	if (k < sizeof(console_names) / sizeof(console_names[0]) && console_names[k])
		return console_names[k];
	return "unknown";
}

/* The saved string equals s (n bytes)? Reads it either way. */
static bool get_str_eq(struct sbuf_rd *r, const char *s, size_t n)
{
	uint32_t len = sbuf_get_u32(r);
	bool eq;

	if (len > CFG_STR_MAX || len > r->len - r->off) {
		r->bad = true;
		return false;
	}
	if (n > CFG_STR_MAX)
		n = CFG_STR_MAX;
	eq = len == n && !memcmp(r->data + r->off, s, n);
	r->off += len;
	return eq;
}

#define MISMATCH(...)							\
	do {								\
		pr_err("snapshot %s: " __VA_ARGS__);			\
		return -EINVAL;						\
	} while (0)

static int check(const struct snap_reader *r, struct sbuf_rd *b,
		 const struct vm_config *cfg, const uint64_t *disk_sizes)
{
	const char *n = r->name;
	const char *same = "restore with the options the snapshot was taken with";
	uint64_t mem = sbuf_get_u64(b);
	uint32_t cpus = sbuf_get_u32(b), console = sbuf_get_u32(b), cid, nr;
	bool no_rng = sbuf_get_u8(b), no_acpi = sbuf_get_u8(b);
	bool legacy = sbuf_get_u8(b);

	cid = sbuf_get_u32(b);
	if (b->bad)
		goto corrupt;
	if (mem != cfg->mem)
		MISMATCH("taken with --mem %lluM, this VM has %lluM: %s", n,
			 (unsigned long long)(mem >> 20), (unsigned long long)(cfg->mem >> 20), same);
	if (cpus != cfg->cpus)
		MISMATCH("taken with --cpus %u, this VM has %u: %s", n, cpus, cfg->cpus, same);
	if ((console == CONSOLE_VIRTIO) != (cfg->console == CONSOLE_VIRTIO))
		MISMATCH("taken with --console %s, this VM has %s: %s", n,
			 console_name(console), console_name(cfg->console), same);
	if (no_rng != cfg->no_rng || no_acpi != cfg->no_acpi || legacy != cfg->virtio_legacy)
		MISMATCH("--no-rng, --no-acpi or --virtio-legacy differ from the snapshot's: %s",
			 n, same);
	if (cid != cfg->vsock.cid)
		MISMATCH("taken with vsock CID %u, this VM has %u: %s", n, cid, cfg->vsock.cid, same);

	nr = sbuf_get_u32(b);
	if (b->bad)
		goto corrupt;
	if (nr != cfg->nr_disks)
		MISMATCH("taken with %u disks, this VM has %u: %s", n, nr, cfg->nr_disks, same);
	for (unsigned int i = 0; i < nr; i++) {
		const struct disk_config *d = &cfg->disks[i];
		uint64_t size, want = disk_sizes ? disk_sizes[i] : 0;
		bool ro;

		/* The path is kept for the user's information only: a disk
		 * may move; its size and mode may not change. */
		get_str_eq(b, d->arg, d->path_len);
		size = sbuf_get_u64(b);
		ro = sbuf_get_u8(b);
		get_str_eq(b, "", 0);
		if (b->bad)
			goto corrupt;
		if (size != want)
			MISMATCH("disk %u (%.*s) is %llu bytes, it was %llu: restore with the disk the snapshot was taken with",
				 n, i, (int)d->path_len, d->arg, (unsigned long long)want,
				 (unsigned long long)size);
		if (ro != d->ro)
			MISMATCH("disk %u (%.*s) was %s, it is %s now: %s", n, i,
				 (int)d->path_len, d->arg, ro ? "read-only" : "writable",
				 d->ro ? "read-only" : "writable", same);
	}
	nr = sbuf_get_u32(b);
	if (b->bad)
		goto corrupt;
	if (nr != cfg->nr_nets)
		MISMATCH("taken with %u --net, this VM has %u: %s", n, nr, cfg->nr_nets, same);
	for (unsigned int i = 0; i < nr; i++) {
		uint32_t kind = sbuf_get_u32(b);
		uint8_t mac[6];

		sbuf_get(b, mac, 6);
		if (b->bad)
			goto corrupt;
		if (kind != cfg->nets[i].kind || memcmp(mac, cfg->nets[i].mac, 6))
			MISMATCH("--net %u differs in kind or MAC address from the snapshot's: %s",
				 n, i, same);
	}
	nr = sbuf_get_u32(b);
	if (b->bad)
		goto corrupt;
	if (nr != cfg->nr_shares)
		MISMATCH("taken with %u --share, this VM has %u: %s", n, nr, cfg->nr_shares, same);
	for (unsigned int i = 0; i < nr; i++) {
		const struct share_config *s = &cfg->shares[i];
		bool eq = get_str_eq(b, s->tag, strlen(s->tag));

		eq &= sbuf_get_u8(b) == s->ro;
		if (b->bad)
			goto corrupt;
		if (!eq)
			MISMATCH("--share %u (tag %s) differs in tag or ro from the snapshot's: %s",
				 n, i, s->tag, same);
	}
	if (!sbuf_rd_done(b))
		goto corrupt;
	return 0;
corrupt:
	pr_err("snapshot %s: the configuration section is malformed: take a new snapshot", n);
	return -EINVAL;
}

int snap_config_check(const struct snap_reader *r, const struct vm_config *cfg,
		      const uint64_t *disk_sizes)
{
	struct sbuf_rd b;

	if (!snap_find(r, SNAP_TAG_CONFIG, 0, &b)) {
		pr_err("snapshot %s: no configuration section: take a new snapshot", r->name);
		return -EINVAL;
	}
	return check(r, &b, cfg, disk_sizes);
}

/* A saved string in place: *s points into the file, which outlives cfg. */
static uint32_t get_str(struct sbuf_rd *r, const char **s)
{
	uint32_t len = sbuf_get_u32(r);

	if (len > CFG_STR_MAX || len > r->len - r->off) {
		r->bad = true;
		*s = "";
		return 0;
	}
	*s = (const char *)r->data + r->off;
	r->off += len;
	return len;
}

static int get_config(struct sbuf_rd *b, struct vm_config *cfg, uint64_t *disk_sizes)
{
	const char *s;
	uint32_t n;

	cfg->mem = sbuf_get_u64(b);
	cfg->cpus = sbuf_get_u32(b);
	cfg->console = sbuf_get_u32(b);
	cfg->no_rng = sbuf_get_u8(b);
	cfg->no_acpi = sbuf_get_u8(b);
	cfg->virtio_legacy = sbuf_get_u8(b);
	cfg->vsock.cid = sbuf_get_u32(b);
	if (cfg->console > CONSOLE_STDERR || !cfg->cpus || cfg->cpus > CONFIG_CPUS_MAX ||
	    cfg->mem < CONFIG_MEM_MIN)
		return -EINVAL;
	cfg->nr_disks = sbuf_get_u32(b);
	if (cfg->nr_disks > CONFIG_DISKS_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		struct disk_config *d = &cfg->disks[i];

		d->path_len = get_str(b, &d->arg);
		disk_sizes[i] = sbuf_get_u64(b);
		d->ro = sbuf_get_u8(b);
		n = get_str(b, &s);
		if (n > CONFIG_SERIAL_MAX || !d->path_len)
			return -EINVAL;
		memcpy(d->serial, s, n);
	}
	cfg->nr_nets = sbuf_get_u32(b);
	if (cfg->nr_nets > CONFIG_NETS_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_nets; i++) {
		cfg->nets[i].kind = sbuf_get_u32(b);
		sbuf_get(b, cfg->nets[i].mac, 6);
		cfg->nets[i].mac_set = true;
		if (cfg->nets[i].kind != NET_TAP && cfg->nets[i].kind != NET_USER)
			return -EINVAL;
	}
	cfg->nr_shares = sbuf_get_u32(b);
	if (cfg->nr_shares > CONFIG_SHARES_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->nr_shares; i++) {
		n = get_str(b, &s);
		if (n > CONFIG_TAG_MAX)
			return -EINVAL;
		memcpy(cfg->shares[i].tag, s, n);
		cfg->shares[i].ro = sbuf_get_u8(b);
	}
	return sbuf_rd_done(b) ? 0 : -EINVAL;
}

int snap_config_get(const struct snap_reader *r, struct vm_config *cfg,
		    uint64_t *disk_sizes)
{
	struct sbuf_rd b;

	memset(cfg, 0, sizeof(*cfg));
	if (!snap_find(r, SNAP_TAG_CONFIG, 0, &b) || get_config(&b, cfg, disk_sizes)) {
		pr_err("snapshot %s: the configuration section is missing or malformed: take a new snapshot",
		       r->name);
		return -EINVAL;
	}
	return 0;
}
