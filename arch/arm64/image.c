// SPDX-License-Identifier: GPL-2.0
/*
 * The arm64 Linux Image header (Documentation/arm64/booting.rst): a
 * 64-byte header at the start of the uncompressed kernel. Everything in
 * it comes from the user's file, so every field is checked before use.
 * Plain C with no KVM or host-architecture dependency: the unit tests
 * build it on x86 too.
 */
#include <errno.h>
#include <string.h>

#include "arch/arm64/arm64.h"

#define IMAGE_OFF_TEXT_OFFSET	8
#define IMAGE_OFF_IMAGE_SIZE	16
#define IMAGE_OFF_FLAGS		24
#define IMAGE_OFF_MAGIC		56

#define IMAGE_FLAG_BE		(1ULL << 0)
#define IMAGE_FLAG_PAGE_SHIFT	1
#define IMAGE_FLAG_PAGE_MASK	3ULL
#define IMAGE_FLAG_ANYWHERE	(1ULL << 3)
/* Kernels before 3.17 left image_size at 0 and meant this offset. */
#define IMAGE_OLD_TEXT_OFFSET	0x80000ULL

/* The header is little endian whatever the host's byte order. */
static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int image_bad(const char **why, const char *msg)
{
	*why = msg;
	return -EINVAL;
}

int arm64_image_parse(const uint8_t *buf, size_t size, struct arm64_image *img,
		      const char **why)
{
	static const unsigned int page_sizes[] = { 0, 4096, 16384, 65536 };
	uint64_t flags, image_size;

	if (size < ARM64_IMAGE_HDR_SIZE || le32(buf + IMAGE_OFF_MAGIC) != ARM64_IMAGE_MAGIC) {
		*why = "not an arm64 Linux Image (no \"ARM\\x64\" magic at offset 0x38)";
		return -ENOEXEC;
	}
	memset(img, 0, sizeof(*img));
	image_size = le64(buf + IMAGE_OFF_IMAGE_SIZE);
	flags = le64(buf + IMAGE_OFF_FLAGS);
	/* A signed kernel may carry its signature past image_size: the
	 * whole file is loaded, so it is the least the kernel occupies. */
	img->mem_size = image_size > size ? image_size : size;
	if (!image_size) {
		/* Pre-3.17: text_offset's byte order was the kernel's own. */
		img->text_offset = IMAGE_OLD_TEXT_OFFSET;
		return 0;
	}
	img->text_offset = le64(buf + IMAGE_OFF_TEXT_OFFSET);
	if (flags & IMAGE_FLAG_BE)
		return image_bad(why, "a big-endian kernel (kvmini starts vCPUs little-endian)");
	if (img->text_offset >= ARM64_KERNEL_ALIGN || img->text_offset % 4096)
		return image_bad(why, "text_offset is not a page offset within 2 MiB");
	if (image_size > ARM64_IPA_LIMIT)
		return image_bad(why, "image_size is larger than any guest's memory");
	img->page_size = page_sizes[(flags >> IMAGE_FLAG_PAGE_SHIFT) & IMAGE_FLAG_PAGE_MASK];
	img->anywhere = flags & IMAGE_FLAG_ANYWHERE;
	return 0;
}
