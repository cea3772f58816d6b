// SPDX-License-Identifier: GPL-2.0
/*
 * arm64 Image headers (arch/arm64/image.c, portable C, built here on any
 * host): arm64_image_parse() on the input, its result checked against
 * arm64.h. Loading it needs arm64 KVM, which this build has not; the
 * result is what the loader trusts.
 *
 * Input: a kernel file.
 */
#include <errno.h>

#include "arch/arm64/arm64.h"
#include "tests/fuzz/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arm64_image img;
	const char *why = NULL;
	int err = arm64_image_parse(data, size, &img, &why);

	if (err) {
		fuzz_check(why && (err == -ENOEXEC || err == -EINVAL));
		return 0;
	}
	fuzz_check(size >= ARM64_IMAGE_HDR_SIZE);
	fuzz_check(img.mem_size >= size);
	fuzz_check(img.text_offset < ARM64_KERNEL_ALIGN && !(img.text_offset % 4096));
	fuzz_check(img.page_size == 0 || img.page_size == 4096 ||
		   img.page_size == 16384 || img.page_size == 65536);
	return 0;
}
