// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot state file reader (lib/snapfile.h): a file from anywhere
 * (docs/threat-model.md), parsed and, when accepted, held to the header's
 * promises: every section inside the file, sorted by (tag, index), none
 * twice, each found again by snap_find() with its own bytes; then the
 * configuration section compared with a fixed VM's.
 *
 * Input: a flags byte, then the file. Flag bit 0: the file's last four
 * bytes are replaced by its right CRC32C, so that inputs get past the
 * checksum to the section walk and the configuration; bit 1: the
 * architecture field is set to this host's.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "lib/config.h"
#include "lib/snapfile.h"

static void check_accepted(const struct snap_reader *r)
{
	size_t end = r->len - SNAP_CRC_LEN;

	fuzz_check(r->len >= SNAP_HDR_LEN + SNAP_CRC_LEN);
	fuzz_check(r->nr_sections <= SNAP_SECTIONS_MAX);
	fuzz_check(strlen(r->version) <= SNAP_KVMINI_VERSION_LEN);
	for (uint32_t i = 0; i < r->nr_sections; i++) {
		const struct snap_section *s = &r->sects[i];
		struct sbuf_rd p;

		fuzz_check(s->off >= SNAP_HDR_LEN + SNAP_SECT_HDR_LEN);
		fuzz_check(s->off <= end && s->len <= end - s->off);
		if (i) {
			const struct snap_section *t = &r->sects[i - 1];

			fuzz_check(t->tag < s->tag || (t->tag == s->tag && t->index < s->index));
		}
		fuzz_check(snap_find(r, s->tag, s->index, &p));
		fuzz_check(p.data == r->data + s->off && p.len == s->len);
		/* Touch every byte: ASan sees one past the input. */
		if (p.len) {
			volatile uint8_t x = p.data[0] ^ p.data[p.len - 1];
			(void)x;
		}
	}
}

static void check_config(const struct snap_reader *r)
{
	static const uint64_t sizes[CONFIG_DISKS_MAX] = { 1 << 20, 2 << 20 };
	struct vm_config c;

	memset(&c, 0, sizeof(c));
	c.mem = 256ULL << 20;
	c.cpus = 1;
	c.nr_disks = 2;
	c.disks[0].arg = "a.img";
	c.disks[0].path_len = 5;
	c.disks[1].arg = "b.img,ro";
	c.disks[1].path_len = 5;
	c.disks[1].ro = true;
	c.nr_nets = 1;
	c.nr_shares = 1;
	strcpy(c.shares[0].tag, "root");
	snap_config_check(r, &c, sizes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_reader r;
	uint8_t flags, *file;
	size_t len;

	if (!size)
		return 0;
	flags = data[0];
	len = size - 1;
	file = malloc(len ? len : 1);	/* exactly the file: ASan sees past it */
	if (!file)
		abort();
	memcpy(file, data + 1, len);
	if ((flags & 2) && len >= 16)
		memcpy(file + 12, &(uint32_t){ SNAP_ARCH_HOST }, 4);
	if ((flags & 1) && len >= SNAP_CRC_LEN) {
		uint32_t crc = snap_crc32c(0, file, len - SNAP_CRC_LEN);

		for (int i = 0; i < 4; i++)
			file[len - 4 + i] = crc >> (8 * i);
	}
	if (!snap_parse(&r, file, len, "fuzz/state")) {
		check_accepted(&r);
		check_config(&r);
		snap_reader_free(&r);
	} else {
		fuzz_check(!r.sects && !r.nr_sections);
	}
	free(file);
	return 0;
}
