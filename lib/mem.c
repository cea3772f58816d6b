// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/mem.h"

int gmem_add_region(struct guest_mem *m, uint64_t gpa, uint64_t size, uint8_t *hva)
{
	if (m->nr_regions == GMEM_MAX_REGIONS || !size || gpa + size < gpa)
		return -EINVAL;
	m->region[m->nr_regions++] = (struct gmem_region){ gpa, size, hva };
	m->ram_size += size;
	return 0;
}

/*
 * Guest RAM starts on a 2 MiB boundary: KVM maps guest memory with 2 MiB
 * pages only where the host address and the guest address agree modulo
 * 2 MiB (and the host page is a transparent huge page). Unaligned, every
 * 4 KiB page the guest first touches costs a nested page fault exit: 8400
 * of them in a boot to init, against QEMU's 840 (bench/README.md, the
 * exit census).
 */
#define GMEM_ALIGN	(2ULL << 20)

static int gmem_map(struct guest_mem *m, uint64_t ram_size, int flags, int fd)
{
	uint8_t *r, *p;
	size_t head;

	if (ram_size > SIZE_MAX - GMEM_ALIGN)
		return -ENOMEM;
	r = mmap(NULL, ram_size + GMEM_ALIGN, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return -errno;
	head = (GMEM_ALIGN - ((uintptr_t)r & (GMEM_ALIGN - 1))) & (GMEM_ALIGN - 1);
	/* NORESERVE: a microVM rarely touches all of its RAM; only what the
	 * guest writes costs host memory. */
	p = mmap(r + head, ram_size, PROT_READ | PROT_WRITE,
		 flags | MAP_NORESERVE | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		munmap(r, ram_size + GMEM_ALIGN);
		return err;
	}
	if (head)
		munmap(r, head);
	if (GMEM_ALIGN - head)
		munmap(p + ram_size, GMEM_ALIGN - head);
	madvise(p, ram_size, MADV_HUGEPAGE);
	madvise(p, ram_size, MADV_DONTDUMP);
	/* A child kvmini forks (virtiofsd before its exec, the janitor) has
	 * no business with private guest RAM, and sharing it copy-on-write
	 * would make the guest's next write to each page a copy. */
	if (flags & MAP_PRIVATE)
		madvise(p, ram_size, MADV_DONTFORK);
	m->map = p;
	m->map_size = ram_size;
	return 0;
}

int gmem_init(struct guest_mem *m, uint64_t ram_size)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	return gmem_map(m, ram_size, MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

int gmem_init_shared(struct guest_mem *m, uint64_t ram_size)
{
	int err;

	memset(m, 0, sizeof(*m));
	m->fd = memfd_create("kvmini-ram", MFD_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	if (ftruncate(m->fd, ram_size) < 0)
		err = -errno;
	else
		err = gmem_map(m, ram_size, MAP_SHARED, m->fd);
	if (err) {
		close(m->fd);
		m->fd = -1;
	}
	return err;
}

void gmem_exit(struct guest_mem *m)
{
	if (m->map)
		munmap(m->map, m->map_size);
	/* A zeroed guest_mem that never got mapped owns no descriptor. */
	if (m->map && m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

static const struct gmem_region *gmem_find(const struct guest_mem *m, uint64_t gpa)
{
	for (unsigned int i = 0; i < m->nr_regions; i++) {
		const struct gmem_region *r = &m->region[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return r;
	}
	return NULL;
}

void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = gmem_find(m, gpa);
	uint64_t off;

	if (!r)
		return NULL;
	off = gpa - r->gpa;
	/* Written as a subtraction so that no guest value can overflow it. */
	if (len > r->size - off)
		return NULL;
	return r->hva + off;
}

int gmem_write(const struct guest_mem *m, uint64_t gpa, const void *src, uint64_t len)
{
	void *dst = gmem_ptr(m, gpa, len);

	if (!dst)
		return -EFAULT;
	memcpy(dst, src, len);
	return 0;
}

uint64_t gmem_region_end(const struct guest_mem *m, uint64_t gpa)
{
	const struct gmem_region *r = gmem_find(m, gpa);

	return r ? r->gpa + r->size : 0;
}
