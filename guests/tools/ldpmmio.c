// SPDX-License-Identifier: GPL-2.0
/*
 * ldpmmio ADDR: read a device register with an arm64 load pair (ldp).
 * A load pair leaves KVM no syndrome to decode, so kvmini must end the
 * VM as the guest's crash (exit 122) with a line that says so, not as
 * its own failure (tests/scenarios/endings.sh). Other architectures have
 * no such instruction: the program says so and exits 77.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t addr;
	void *page;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: ldpmmio ADDR\n");
		return 2;
	}
	addr = strtoull(argv[1], NULL, 0);
	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0) {
		perror("ldpmmio: /dev/mem");
		return 1;
	}
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		    addr & ~4095ULL);
	if (page == MAP_FAILED) {
		perror("ldpmmio: mmap");
		return 1;
	}
#ifdef __aarch64__
	{
		volatile uint32_t *reg = (volatile uint32_t *)((char *)page + (addr & 4095));
		uint32_t a, b;

		printf("ldpmmio: ldp from %#llx\n", (unsigned long long)addr);
		fflush(stdout);
		asm volatile("ldp %w0, %w1, [%2]" : "=r"(a), "=r"(b) : "r"(reg) : "memory");
		printf("ldpmmio: still running after ldp (%#x %#x)\n", a, b);
	}
	return 1;
#else
	fprintf(stderr, "ldpmmio: arm64 only\n");
	return 77;
#endif
}
