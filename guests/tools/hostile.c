// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: a virtio driver that does what no driver should, for the
 * hostile-guest scenarios (tests/scenarios/hostile-*.sh, issue #17). It
 * unbinds Linux's virtio-mmio driver from one device, maps the device's
 * register page through /dev/mem and drives it itself, with rings in
 * mlock'ed pages of its own whose guest-physical addresses
 * /proc/self/pagemap gives. Static, so that the test guest and the lab's
 * outer VM run the same file.
 *
 *   hostile blk       re-post one request of an unknown type (the device
 *                     completes it without I/O), forever
 *   hostile net-tx    re-post a 4-byte transmit chain (shorter than the
 *                     virtio-net header: dropped), forever
 *   hostile net-rx    re-post device-readable receive buffers (unusable),
 *                     forever; an ARP request for 10.0.2.2 goes out on the
 *                     transmit queue every 100 ms, so that a user-mode
 *                     network has frames to deliver
 *   hostile reset DEV ROUNDS
 *                     ROUNDS times: reset, set up, post a chain whose head
 *                     is outside the table, kick, wait for
 *                     DEVICE_NEEDS_RESET; DEV is blk, net or rng
 *   hostile race SECS [control]
 *                     transmit a valid frame for SECS seconds while a
 *                     second thread flips its header's NEEDS_CSUM flag
 *                     (never negotiated): the device must send the header
 *                     it checked, not the guest's; with control, CSUM
 *                     negotiated and the flag always set, no flipping
 *   hostile rng SECS  read the rng 16 bytes at a time for SECS seconds and
 *                     say how long the longest read took: the I/O thread
 *                     that serves it is the one a loop above keeps busy
 *   hostile capture IFACE SECS
 *                     (host side) count the race's frames on IFACE and
 *                     those that reached it with a partial checksum, for
 *                     SECS seconds or until 3 s pass without one
 *   hostile vsock LISTEN LISTEN2 CLOSED MAX
 *                     on virtio-vsock, one packet at a time: headers
 *                     short, forged, misaddressed, of unknown type or
 *                     op; lengths the chain does not hold or over 64 KiB;
 *                     data for no stream; requests to a closed port, one
 *                     at a time and faster than we take the resets; to
 *                     LISTEN from more ports than the device's table
 *                     holds (MAX); bad packets on the streams it took;
 *                     data past the credit into a host reader that never
 *                     reads. Each reply, counted, must be the one the
 *                     packet deserves; then a summary line, and a device
 *                     reset that closes every stream (exit 1 if any reply
 *                     was wrong or missing)
 *
 * The loops pace themselves by the used ring's entries, which the device
 * writes as it completes each chain, not by used idx, which it publishes
 * only at the end of a turn: a device that never ends its turn is what
 * they look for. Each says "hostile: MODE loop running" once the device
 * has taken its buffers back a few rounds over.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>

#define PAGE		4096
#define QSIZE		256		/* at most; less if the device says so */
#define ETH_P_HOSTILE	0x88b5		/* IEEE local experimental */
#define RACE_PAYLOAD	100
#define DEV_BLK		2
#define DEV_NET		1
#define DEV_RNG		4
#define S_ACK		1
#define S_DRIVER	2
#define S_DRIVER_OK	4
#define S_FEATURES_OK	8
#define S_NEEDS_RESET	0x40

static volatile uint8_t *regs;

static void die(const char *what)
{
	printf("hostile: %s: %s\n", what, errno ? strerror(errno) : "failed");
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- registers: plain 32-bit loads and stores, which KVM can decode ---- */

static uint32_t rd(unsigned int off)
{
	uint32_t v;
#ifdef __aarch64__
	asm volatile("ldr %w0, [%1]" : "=r"(v) : "r"(regs + off) : "memory");
#else
	v = *(volatile uint32_t *)(regs + off);
#endif
	return v;
}

static void wr(unsigned int off, uint32_t v)
{
#ifdef __aarch64__
	asm volatile("str %w0, [%1]" : : "r"(v), "r"(regs + off) : "memory");
#else
	*(volatile uint32_t *)(regs + off) = v;
#endif
}

/* ---- finding and taking the device ------------------------------------ */

static int read_hex(const char *path, unsigned long *v)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%lx", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* Linux's driver lets go of the first virtio device of this id. */
static void unbind(unsigned int id)
{
	DIR *d = opendir("/sys/bus/virtio/devices");
	struct dirent *e;
	char path[512], link[512];
	unsigned long v;

	if (!d)
		die("/sys/bus/virtio/devices");
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/device", e->d_name);
		if (read_hex(path, &v) || v != id)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/virtio/devices/%s/..", e->d_name);
		if (!realpath(path, link))
			die("the device's platform device");
		FILE *f = fopen("/sys/bus/platform/drivers/virtio-mmio/unbind", "w");

		if (!f || fputs(strrchr(link, '/') + 1, f) < 0 || fclose(f))
			die("unbind");
		closedir(d);
		return;
	}
	errno = 0;
	die("no virtio device of that type");
}

static volatile uint8_t *map_phys(uint64_t pa)
{
	static int fd = -1;
	void *p;

	if (fd < 0)
		fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		die("/dev/mem");
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, pa);
	if (p == MAP_FAILED)
		die("mmap /dev/mem");
	return p;
}

/* The device id at pa, or -1 where no virtio-mmio registers answer. */
static int probe(uint64_t pa)
{
	int id = -1;

	regs = map_phys(pa);
	if (rd(VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976)
		id = rd(VIRTIO_MMIO_DEVICE_ID);
	munmap((void *)regs, PAGE);
	regs = NULL;
	return id;
}

/*
 * The device's registers: on arm64 the device tree names every
 * virtio_mmio@ADDR; on x86 the slots follow the exit device at
 * 0xd0000000, a page each (arch/x86/vm.c), as far as there are devices.
 */
static void find_device(unsigned int id)
{
	DIR *d = opendir("/sys/firmware/devicetree/base");
	struct dirent *e;
	uint64_t found = 0;
	int got;

	if (d) {
		while (!found && (e = readdir(d))) {
			unsigned long pa;

			if (sscanf(e->d_name, "virtio_mmio@%lx", &pa) == 1 && probe(pa) == (int)id)
				found = pa;
		}
		closedir(d);
	} else {
		for (uint64_t pa = 0xd0001000; !found && pa < 0xd0020000; pa += PAGE) {
			got = probe(pa);
			if (got < 0)
				break;
			if (got == (int)id)
				found = pa;
		}
	}
	if (!found) {
		errno = 0;
		die("no virtio-mmio registers for that device");
	}
	regs = map_phys(found);
}

/* ---- memory the device can reach ---------------------------------------- */

struct page {
	uint8_t *va;
	uint64_t pa;
};

/* A zeroed page, locked in RAM, and its guest-physical address. */
static struct page ram_page(void)
{
	struct page p;
	uint64_t ent;
	int fd;

	p.va = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (p.va == MAP_FAILED)
		die("mmap");
	memset(p.va, 0, PAGE);
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0 || pread(fd, &ent, sizeof(ent),
			    (uintptr_t)p.va / PAGE * sizeof(ent)) != sizeof(ent))
		die("/proc/self/pagemap");
	close(fd);
	/* Bit 63: present; bits 0-54: the frame (zero without CAP_SYS_ADMIN). */
	if (!(ent >> 63) || !(ent & ((1ULL << 55) - 1))) {
		errno = 0;
		die("no physical address for a locked page (not root?)");
	}
	p.pa = (ent & ((1ULL << 55) - 1)) * PAGE;
	return p;
}

/* ---- a virtqueue of ours -------------------------------------------------- */

struct vq {
	unsigned int index, n;
	struct page table, ring, buf;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t avail_idx;
	uint32_t seen;			/* completions taken back */
};

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* Status, features (VERSION_1 and the low ones given), up to FEATURES_OK. */
static void negotiate_with(uint32_t low)
{
	if (rd(VIRTIO_MMIO_VERSION) != 2) {
		errno = 0;
		die("not a modern (version 2) virtio-mmio device");
	}
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, S_ACK);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER);
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	if (!(rd(VIRTIO_MMIO_DEVICE_FEATURES) & 1)) {
		errno = 0;
		die("the device does not offer VERSION_1");
	}
	wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	if ((rd(VIRTIO_MMIO_DEVICE_FEATURES) & low) != low) {
		errno = 0;
		die("the device does not offer the features asked for");
	}
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, low);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(VIRTIO_MMIO_STATUS) & S_FEATURES_OK)) {
		errno = 0;
		die("FEATURES_OK refused");
	}
}

static void negotiate(void)
{
	negotiate_with(0);
}

static void vq_alloc(struct vq *q, unsigned int index)
{
	memset(q, 0, sizeof(*q));
	q->index = index;
	q->table = ram_page();
	q->ring = ram_page();
	q->buf = ram_page();
	/* 256 descriptors fill a page; avail at 0 and used at 1024 of another. */
	q->desc = (struct vring_desc *)q->table.va;
	q->avail = (struct vring_avail *)q->ring.va;
	q->used = (struct vring_used *)(q->ring.va + 1024);
}

/* Rings emptied and handed to the device; the device not yet DRIVER_OK. */
static void vq_setup(struct vq *q)
{
	unsigned int max;

	memset(q->table.va, 0, PAGE);
	memset(q->ring.va, 0, PAGE);
	q->avail_idx = 0;
	q->seen = 0;
	/* No interrupts: nobody would take them. */
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT;
	wr(VIRTIO_MMIO_QUEUE_SEL, q->index);
	max = rd(VIRTIO_MMIO_QUEUE_NUM_MAX);
	if (!max) {
		errno = 0;
		die("the queue does not exist");
	}
	q->n = max < QSIZE ? max : QSIZE;
	wr(VIRTIO_MMIO_QUEUE_NUM, q->n);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->table.pa);
	wr(VIRTIO_MMIO_QUEUE_DESC_HIGH, q->table.pa >> 32);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->ring.pa);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, q->ring.pa >> 32);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(q->ring.pa + 1024));
	wr(VIRTIO_MMIO_QUEUE_USED_HIGH, (q->ring.pa + 1024) >> 32);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	if (rd(VIRTIO_MMIO_QUEUE_READY) != 1) {
		errno = 0;
		die("QueueReady refused");
	}
}

static void driver_ok(void)
{
	wr(VIRTIO_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
}

static void kick(const struct vq *q)
{
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q->index);
}

/* One more chain of head 0 made available, kicked if the device asks. */
static void vq_post(struct vq *q)
{
	q->avail->ring[q->avail_idx % q->n] = 0;
	STORE(q->avail->idx, ++q->avail_idx);
	/* Against the device's enabling kicks and re-reading avail idx. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(LOAD(q->used->flags) & VRING_USED_F_NO_NOTIFY))
		kick(q);
}

/* ---- the re-posting loops ------------------------------------------------- */

/*
 * One chain through the whole table, head 0: descriptor 0 is (addr, len,
 * flags), the last is last_len bytes with last_flags, and those between
 * are empty and device-readable. Legal, and the device walks all of it
 * on every pop: the most work a ring of chains can ask of it, so that a
 * guest sharing its CPU has the best chance to refill the ring before the
 * device finds it empty (which ends a loop without a budget).
 */
static void long_chain(struct vq *q, uint64_t addr, uint32_t len, uint16_t flags,
		       uint32_t last_len, uint16_t last_flags)
{
	unsigned int last = q->n - 1;

	for (unsigned int i = 0; i < last; i++)
		q->desc[i] = (struct vring_desc){ q->buf.pa, 0, VRING_DESC_F_NEXT, i + 1 };
	q->desc[0] = (struct vring_desc){ addr, len, flags | VRING_DESC_F_NEXT, 1 };
	q->desc[last] = (struct vring_desc){ q->buf.pa + 2048, last_len, last_flags, 0 };
}

#define NO_ID	0xffff		/* a used entry the device has not written */

/*
 * Keeps q->n chains (all head 0) available, and one more each time the
 * device writes a used entry: the device never finds the ring empty.
 * Entry k of the used ring is written by completion k, k + n, ...; we
 * mark it NO_ID again before the post that allows the next one. idle()
 * runs between polls.
 */
static void repost_forever(struct vq *q, const char *mode, void (*idle)(void))
{
	double last = now(), said = last;
	unsigned long polls = 0;
	int stopped = 0;

	for (unsigned int i = 0; i < q->n; i++)
		q->used->ring[i].id = NO_ID;
	for (unsigned int i = 0; i < q->n; i++)
		vq_post(q);
	kick(q);
	for (;;) {
		struct vring_used_elem *e = &q->used->ring[q->seen % q->n];

		if (LOAD(e->id) == NO_ID) {
			if (++polls % 4096)
				continue;
			if (idle)
				idle();
			double t = now();

			/* A kick lost to a race of ours: ask again. */
			if (t - last > 0.05)
				kick(q);
			if (t - last > 2 && !stopped) {
				printf("hostile: the device stopped taking buffers (status %#x)\n",
				       rd(VIRTIO_MMIO_STATUS));
				fflush(stdout);
				stopped = 1;
			}
			continue;
		}
		STORE(e->id, NO_ID);
		q->seen++;
		vq_post(q);
		last = now();
		stopped = 0;
		if (q->seen == 4 * q->n) {
			printf("hostile: %s loop running\n", mode);
			fflush(stdout);
		}
		if (last - said > 5) {
			printf("hostile: %s: %u chains re-posted\n", mode, q->seen);
			fflush(stdout);
			said = last;
		}
	}
}

/* A request of a type no device knows: status UNSUPP, no I/O. */
static void mode_blk(void)
{
	struct vq q;
	uint32_t *hdr;

	unbind(DEV_BLK);
	find_device(DEV_BLK);
	negotiate();
	vq_alloc(&q, 0);
	vq_setup(&q);
	hdr = (uint32_t *)q.buf.va;
	hdr[0] = 0x7fff0000;		/* type */
	/* The header, empty descriptors, the status byte. */
	long_chain(&q, q.buf.pa, 16, 0, 1, VRING_DESC_F_WRITE);
	driver_ok();
	repost_forever(&q, "blk", NULL);
}

/* Four bytes (and empty descriptors): not even the 12-byte header. */
static void mode_net_tx(void)
{
	struct vq rx, tx;

	unbind(DEV_NET);
	find_device(DEV_NET);
	negotiate();
	vq_alloc(&rx, 0);
	vq_alloc(&tx, 1);
	vq_setup(&rx);
	vq_setup(&tx);
	long_chain(&tx, tx.buf.pa, 4, 0, 0, 0);
	driver_ok();
	repost_forever(&tx, "net-tx", NULL);
}

static struct vq arp_q;
static double arp_at;

/* An ARP request for 10.0.2.2 from 10.0.2.15 (slirp's defaults), with a
 * zero header, once the last one is back. */
static void arp_send(void)
{
	static const uint8_t frame[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
		0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 10, 0, 2, 15,
		0, 0, 0, 0, 0, 0, 10, 0, 2, 2,
	};
	struct vq *q = &arp_q;
	double t = now();

	if (t - arp_at < 0.1 || LOAD(q->used->idx) != q->avail_idx)
		return;
	arp_at = t;
	memset(q->buf.va, 0, 12 + 60);
	memcpy(q->buf.va + 12, frame, sizeof(frame));
	q->desc[0] = (struct vring_desc){ q->buf.pa, 12 + 60, 0, 0 };
	vq_post(q);
}

/* Receive buffers the device may only read: unusable, given back empty. */
static void mode_net_rx(void)
{
	struct vq rx;

	unbind(DEV_NET);
	find_device(DEV_NET);
	negotiate();
	vq_alloc(&rx, 0);
	vq_alloc(&arp_q, 1);
	vq_setup(&rx);
	vq_setup(&arp_q);
	long_chain(&rx, rx.buf.pa, 1536, 0, 0, 0);
	driver_ok();
	arp_send();
	repost_forever(&rx, "net-rx", arp_send);
}

/* ---- reset, set up, break, again ------------------------------------------- */

static int mode_reset(const char *dev, long rounds)
{
	unsigned int id = !strcmp(dev, "blk") ? DEV_BLK : !strcmp(dev, "net") ? DEV_NET :
			  !strcmp(dev, "rng") ? DEV_RNG : 0;
	long broke = 0;
	struct vq q;

	if (!id || rounds < 1)
		return 2;
	unbind(id);
	find_device(id);
	vq_alloc(&q, 0);
	printf("hostile: reset loop on %s running\n", dev);
	fflush(stdout);
	for (long i = 0; i < rounds; i++) {
		double t;

		negotiate();
		vq_setup(&q);
		driver_ok();
		/* A head outside the table: the queue is broken. */
		q.avail->ring[0] = q.n + 7;
		STORE(q.avail->idx, 1);
		kick(&q);
		for (t = now(); now() - t < 0.5;) {
			if (rd(VIRTIO_MMIO_STATUS) & S_NEEDS_RESET) {
				broke++;
				break;
			}
		}
		wr(VIRTIO_MMIO_STATUS, 0);
	}
	printf("hostile: reset loop on %s: %ld rounds, the device needed a reset after %ld\n",
	       dev, rounds, broke);
	return broke == rounds ? 0 : 1;
}

/* ---- a header rewritten between the device's check and its send ------------- */

static volatile uint8_t *race_flags;
static volatile int race_done;

/* NEEDS_CSUM on and off, as fast as it goes: a header checked with it
 * off must never reach the tap with it on. */
static void *race_flip(void *arg)
{
	(void)arg;
	while (!race_done) {
		*race_flags = 1;
		*race_flags = 0;
	}
	return NULL;
}

/*
 * control: CSUM negotiated and NEEDS_CSUM set for good, no flipping: the
 * frames must reach the tap with a partial checksum, or the capture could
 * not tell a header that slipped through.
 */
static int mode_race(long secs, int control)
{
	struct vq rx, tx;
	pthread_t thr;
	uint8_t *hdr, *frame;
	unsigned long sent = 0, kicks = 0;
	double end;

	unbind(DEV_NET);
	find_device(DEV_NET);
	negotiate_with(control ? 1 << 0 /* VIRTIO_NET_F_CSUM */ : 0);
	vq_alloc(&rx, 0);
	vq_alloc(&tx, 1);
	vq_setup(&rx);
	vq_setup(&tx);
	hdr = tx.buf.va;
	hdr[0] = control;
	frame = tx.buf.va + 64;
	/* csum_start 14, csum_offset 0: would the flag reach the tap, the
	 * frame would arrive with a partial checksum over its payload. */
	hdr[2] = 14;
	race_flags = hdr;
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x52\x54\x00\x12\x34\x56\x88\xb5", 8);
	memset(frame + 14, 0x5a, RACE_PAYLOAD);
	tx.desc[0] = (struct vring_desc){ tx.buf.pa, 12, VRING_DESC_F_NEXT, 1 };
	tx.desc[1] = (struct vring_desc){ tx.buf.pa + 64, 14 + RACE_PAYLOAD, 0, 0 };
	driver_ok();
	if (!control && pthread_create(&thr, NULL, race_flip, NULL))
		die("pthread_create");
	printf("hostile: race%s loop running\n", control ? " control" : "");
	fflush(stdout);
	end = now() + secs;
	while (now() < end) {
		/* Every chain back (used idx), then one more. */
		if ((uint16_t)(tx.avail_idx - LOAD(tx.used->idx)) >= tx.n) {
			if (++kicks % 65536 == 0)
				kick(&tx);
			continue;
		}
		vq_post(&tx);
		sent++;
	}
	race_done = 1;
	if (!control)
		pthread_join(thr, NULL);
	printf("hostile: race: %lu frames posted\n", sent);
	return 0;
}

/* Host side: the race's frames as the tap hands them to the host. */
static int capture(const char *iface, long secs)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct timeval tv = { .tv_sec = 1 };
	unsigned long frames = 0, partial = 0, altered = 0;
	int fd, one = 1;
	double end = now() + secs, last = 0;

	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	sll.sll_ifindex = if_nametoindex(iface);
	if (fd < 0 || !sll.sll_ifindex ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		die("packet socket");
	printf("hostile: capturing on %s\n", iface);
	fflush(stdout);
	/* Until SECS pass, or 3 s of silence after the first frame. */
	while (now() < end && !(frames && now() - last > 3)) {
		uint8_t buf[2048];
		union {
			struct cmsghdr h;
			char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
		} ctl;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = &ctl, .msg_controllen = sizeof(ctl),
		};
		struct cmsghdr *c;
		ssize_t r = recvmsg(fd, &msg, 0);
		int bad = 0;

		if (r < 14 || buf[12] != 0x88 || buf[13] != 0xb5)
			continue;
		frames++;
		last = now();
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			struct tpacket_auxdata aux;

			if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
				continue;
			memcpy(&aux, CMSG_DATA(c), sizeof(aux));
			if (aux.tp_status & TP_STATUS_CSUMNOTREADY)
				partial++;
		}
		for (ssize_t i = 14; i < r && i < 14 + RACE_PAYLOAD; i++)
			bad |= buf[i] != 0x5a;
		altered += bad || r < 14 + RACE_PAYLOAD;
	}
	printf("hostile: capture: %lu frames, %lu with a partial checksum, %lu altered\n",
	       frames, partial, altered);
	return 0;
}

/* How long the rng keeps a reader waiting, at worst, over SECS seconds. */
static int rng_latency(long secs)
{
	double start = now(), worst = 0;
	unsigned long reads = 0;
	char buf[16];
	int fd = open("/dev/hwrng", O_RDONLY);

	if (fd < 0)
		die("/dev/hwrng");
	while (now() - start < secs) {
		double t = now();

		if (read(fd, buf, sizeof(buf)) <= 0)
			die("read /dev/hwrng");
		t = now() - t;
		if (t > worst)
			worst = t;
		reads++;
	}
	printf("hostile: rng: %lu reads in %ld s, the longest %ld ms\n",
	       reads, secs, (long)(worst * 1000));
	return 0;
}

/* ---- virtio-vsock: forged, oversized and overrunning packets ----------------- */

/*
 * One packet at a time on the transmit queue, each from a source port of
 * its own, and the device's replies (receive queue) matched to it by
 * ports: what comes back for each, and nothing else, is what a device
 * that judged it right sends. Our buf_alloc is 0, so that the host never
 * has data for us; a credit update from it is never wrong.
 */
#define DEV_VSOCK	19
#define VS_HDR		((unsigned int)sizeof(struct virtio_vsock_hdr))
#define VS_RX_BUFS	64
#define VS_RX_LEN	64
#define VS_OPS		8		/* replies counted by op; 0: unknown */
#define VS_ANY		0xff		/* wait for a reply, whichever */
#define VS_RAW		0x10000		/* vs_pkt.type: this type, even 0 */
#define VS_PORT_BASE	0x40000		/* our source ports, one per packet */
#define VS_BIG		(64 * 1024 + 1)	/* a byte more than a packet carries */
#define VS_CHUNK	(64 * 1024)
#define VS_OVERRUN_MAX	64		/* of VS_CHUNK: 4 MiB */
#define REQUEST		VIRTIO_VSOCK_OP_REQUEST
#define RESPONSE	VIRTIO_VSOCK_OP_RESPONSE
#define RST		VIRTIO_VSOCK_OP_RST
#define SHUTDOWN	VIRTIO_VSOCK_OP_SHUTDOWN
#define RW		VIRTIO_VSOCK_OP_RW
#define UPDATE		VIRTIO_VSOCK_OP_CREDIT_UPDATE
#define CREDIT_REQ	VIRTIO_VSOCK_OP_CREDIT_REQUEST

struct vs {
	struct vq rx, tx;
	uint64_t cid;
	uint32_t port;			/* our next source port */
	uint32_t host_credit;		/* buf_alloc in the host's responses */
	unsigned long sent, replies[VS_OPS], stray, failed;
};

/* A packet: its header's fields (0: ours, the host, a stream), and how
 * its chain lays it out. */
struct vs_pkt {
	uint64_t src_cid, dst_cid;
	uint32_t type;
	uint16_t op;
	uint32_t dst_port, len, flags, buf_alloc, fwd_cnt;
	unsigned int hdr_len;		/* header bytes in the chain; 0: all */
	unsigned int split;		/* a first descriptor of these; 0: none */
	unsigned int payload;		/* bytes after the header */
	int writable;			/* the chain device-writable */
};

/* The chain in the transmit queue's pages, head 0, given back before
 * this returns. The payload's descriptors alias the buffer page, as
 * often as it takes: the device only reads them. */
static void vs_send(struct vs *v, uint32_t port, const struct vs_pkt *p)
{
	struct vq *q = &v->tx;
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(p->src_cid ? p->src_cid : v->cid),
		.dst_cid = htole64(p->dst_cid ? p->dst_cid : 2),
		.src_port = htole32(port),
		.dst_port = htole32(p->dst_port),
		.len = htole32(p->len),
		.type = htole16(p->type ? (uint16_t)p->type : VIRTIO_VSOCK_TYPE_STREAM),
		.op = htole16(p->op),
		.flags = htole32(p->flags),
		.buf_alloc = htole32(p->buf_alloc),
		.fwd_cnt = htole32(p->fwd_cnt),
	};
	uint16_t w = p->writable ? VRING_DESC_F_WRITE : 0;
	unsigned int n = 0, left = p->payload;
	double t;

	memset(q->buf.va, 0, PAGE);
	memcpy(q->buf.va, &h, VS_HDR);
	if (p->split)
		q->desc[n++] = (struct vring_desc){ q->buf.pa, p->split, w, 0 };
	q->desc[n++] = (struct vring_desc){ q->buf.pa + p->split,
					    (p->hdr_len ? p->hdr_len : VS_HDR) - p->split, w, 0 };
	for (; left; left -= q->desc[n++].len)
		q->desc[n] = (struct vring_desc){ q->buf.pa, left < PAGE ? left : PAGE, w, 0 };
	for (unsigned int i = 0; i + 1 < n; i++) {
		q->desc[i].flags |= VRING_DESC_F_NEXT;
		q->desc[i].next = i + 1;
	}
	q->avail->ring[q->avail_idx % q->n] = 0;
	STORE(q->avail->idx, ++q->avail_idx);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	kick(q);
	v->sent++;
	for (t = now(); LOAD(q->used->idx) != q->avail_idx;) {
		if (now() - t > 10) {
			printf("hostile: vsock: the device stopped taking packets (status %#x)\n",
			       rd(VIRTIO_MMIO_STATUS));
			exit(1);
		}
		if (now() - t > 0.05)
			kick(q);
	}
}

/* The next reply's header, if one came; its buffer goes back. */
static int vs_rx(struct vs *v, struct virtio_vsock_hdr *h)
{
	struct vq *q = &v->rx;
	uint32_t id, len;

	if (LOAD(q->used->idx) == (uint16_t)q->seen)
		return 0;
	id = q->used->ring[q->seen % q->n].id;
	len = q->used->ring[q->seen % q->n].len;
	q->seen++;
	if (id >= VS_RX_BUFS || len < VS_HDR) {
		printf("hostile: vsock: a receive buffer back with id %u, %u bytes\n", id, len);
		memset(h, 0xff, sizeof(*h));
		id = id < VS_RX_BUFS ? id : 0;
	} else {
		memcpy(h, q->buf.va + id * VS_RX_LEN, VS_HDR);
	}
	q->avail->ring[q->avail_idx % q->n] = id;
	STORE(q->avail->idx, ++q->avail_idx);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(LOAD(q->used->flags) & VRING_USED_F_NO_NOTIFY))
		kick(q);
	return 1;
}

/*
 * The replies to (our port, their port), by op into got[], until one of
 * want_op came (VS_ANY: any but an update), or for a while when none is
 * wanted. Replies to other ports are stray: nothing we sent asked them.
 */
static void vs_replies(struct vs *v, uint32_t ours, uint32_t theirs,
		       unsigned int want_op, unsigned int got[VS_OPS])
{
	double end = now() + (want_op ? 5 : 0.1);

	memset(got, 0, VS_OPS * sizeof(*got));
	for (;;) {
		struct virtio_vsock_hdr h;
		unsigned int op;

		if (!vs_rx(v, &h)) {
			if (now() > end)
				return;
			continue;
		}
		op = le16toh(h.op) < VS_OPS ? le16toh(h.op) : 0;
		v->replies[op]++;
		if (le64toh(h.dst_cid) != v->cid || le32toh(h.dst_port) != ours ||
		    le32toh(h.src_port) != theirs) {
			if (v->stray++ < 8)
				printf("hostile: vsock: a stray reply: op %u, %llu:%u to %llu:%u\n",
				       le16toh(h.op), (unsigned long long)le64toh(h.src_cid),
				       le32toh(h.src_port), (unsigned long long)le64toh(h.dst_cid),
				       le32toh(h.dst_port));
			continue;
		}
		got[op]++;
		if (op == RESPONSE)
			v->host_credit = le32toh(h.buf_alloc);
		if (op == want_op || (want_op == VS_ANY && op != UPDATE))
			return;
	}
}

/* Packet p from port: want_op back (0: nothing), and nothing else but
 * credit updates. */
static void vs_at(struct vs *v, const char *what, uint32_t port, const struct vs_pkt *p,
		  unsigned int want_op)
{
	unsigned int got[VS_OPS], other = 0;

	vs_send(v, port, p);
	vs_replies(v, port, p->dst_port, want_op, got);
	for (unsigned int i = 0; i < VS_OPS; i++)
		if (i != want_op && i != UPDATE)
			other += got[i];
	if (!other && (!want_op || got[want_op] == 1))
		return;
	printf("hostile: vsock: %s: expected %s%.0u, got", what,
	       want_op ? "op " : "no reply", want_op);
	for (unsigned int i = 0; i < VS_OPS; i++)
		if (got[i] && (i != UPDATE || i == want_op))
			printf(" op %u (%u)", i, got[i]);
	printf("%s\n", other || (want_op && got[want_op]) ? "" : " nothing");
	v->failed++;
}

/* Packets that no stream takes: dropped (no reply) or refused (a reset);
 * none may reach a listener. */
static void vs_no_stream(struct vs *v, uint32_t listen, uint32_t closed)
{
	const struct {
		const char *what;
		struct vs_pkt p;
		unsigned int reply;
	} c[] = {
		{ "a header of 20 bytes", { .op = REQUEST, .hdr_len = 20 }, 0 },
		{ "a header of 43 bytes in two pieces",
		  { .op = REQUEST, .hdr_len = 43, .split = 20 }, 0 },
		{ "a device-writable chain", { .op = REQUEST, .writable = 1 }, 0 },
		{ "source CID 2, the host's", { .src_cid = 2, .op = REQUEST }, 0 },
		{ "source CID another guest's", { .src_cid = v->cid + 1, .op = REQUEST }, 0 },
		{ "source CID 2^64 - 1", { .src_cid = ~0ULL, .op = REQUEST }, 0 },
		{ "destination CID 1", { .dst_cid = 1, .op = REQUEST }, RST },
		{ "destination CID the guest's own", { .dst_cid = v->cid, .op = REQUEST }, RST },
		{ "destination CID 2^32 + 2", { .dst_cid = (1ULL << 32) + 2, .op = REQUEST }, RST },
		{ "type 0", { .type = VS_RAW | 0, .op = REQUEST }, RST },
		{ "type SEQPACKET", { .type = VIRTIO_VSOCK_TYPE_SEQPACKET, .op = REQUEST }, RST },
		{ "type 0xffff", { .type = 0xffff, .op = REQUEST }, RST },
		{ "op 0 (INVALID)", { .op = 0 }, RST },
		{ "op 8", { .op = 8 }, RST },
		{ "op 0xffff", { .op = 0xffff }, RST },
		{ "a request with a payload", { .op = REQUEST, .len = 16, .payload = 16 }, RST },
		{ "a reset with a payload", { .op = RST, .len = 16, .payload = 16 }, 0 },
		{ "a reset to CID 1", { .dst_cid = 1, .op = RST }, 0 },
		{ "a reset for no stream", { .op = RST }, 0 },
		{ "data of len 1000 in a chain of 16", { .op = RW, .len = 1000, .payload = 16 }, RST },
		{ "data of len 2^32 - 1", { .op = RW, .len = ~0U, .payload = 16 }, RST },
		{ "data of len 64 KiB + 1, all there", { .op = RW, .len = VS_BIG, .payload = VS_BIG },
		  RST },
		{ "data for no stream", { .op = RW, .len = 16, .payload = 16 }, RST },
		{ "a response for no stream", { .op = RESPONSE }, RST },
		{ "a shutdown for no stream", { .op = SHUTDOWN, .flags = 3 }, RST },
		{ "a credit update for no stream", { .op = UPDATE }, RST },
		{ "a credit request for no stream", { .op = CREDIT_REQ }, RST },
	};
	unsigned long before = v->replies[RST];
	unsigned int want = 0, n = 0;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++, n++) {
		struct vs_pkt p = c[i].p;

		p.dst_port = listen;
		want += c[i].reply == RST;
		vs_at(v, c[i].what, v->port++, &p, c[i].reply);
	}
	for (int i = 0; i < 20; i++, n++) {
		struct vs_pkt p = { .op = REQUEST, .dst_port = closed };

		want++;
		vs_at(v, "a request to a port nobody listens on", v->port++, &p, RST);
	}
	printf("hostile: vsock: no stream: %u packets, %lu resets back (%u expected)\n",
	       n, v->replies[RST] - before, want);
}

/*
 * Refusals faster than we take their resets: the device fills our
 * VS_RX_BUFS receive buffers, keeps what it holds for more in a bounded
 * ring, and drops the rest. Then we take them: the first ones, in order,
 * and no more than the ring's worth past our buffers.
 */
static void vs_flood(struct vs *v, uint32_t closed, unsigned int count)
{
	uint32_t first = v->port;
	unsigned int n = 0, order = 0;
	double end;

	for (unsigned int i = 0; i < count; i++)
		vs_send(v, v->port++, &(struct vs_pkt){ .op = REQUEST, .dst_port = closed });
	for (end = now() + 1; now() < end;) {
		struct virtio_vsock_hdr h;

		if (!vs_rx(v, &h))
			continue;
		v->replies[le16toh(h.op) < VS_OPS ? le16toh(h.op) : 0]++;
		if (le16toh(h.op) != RST || le64toh(h.dst_cid) != v->cid ||
		    le32toh(h.src_port) != closed || le32toh(h.dst_port) - first >= count) {
			v->stray++;
			continue;
		}
		order += le32toh(h.dst_port) == first + n;
		n++;
		end = now() + 1;
	}
	printf("hostile: vsock: flood: %u requests to a closed port, %u resets back, "
	       "%u in order, %u dropped (%u receive buffers)\n",
	       count, n, order, count - n, VS_RX_BUFS);
	if (order != n || n < VS_RX_BUFS || n >= count)
		v->failed++;
}

/*
 * Requests to a listening port from more ports than the table holds
 * (max): max accepted, the rest reset. Then, the table full, requests to
 * a closed port and to a second listening port: reset, and nothing may
 * reach that listener (its one stream is for later). Returns our port
 * of the first stream.
 */
static uint32_t vs_table(struct vs *v, uint32_t listen, uint32_t listen2, uint32_t closed,
			 unsigned int max)
{
	unsigned int tries = max + max / 2, acc = 0, rst = 0, got[VS_OPS];
	uint32_t first = v->port;

	for (unsigned int i = 0; i < tries; i++) {
		struct vs_pkt p = { .op = REQUEST, .dst_port = listen };
		uint32_t port = v->port++;

		vs_send(v, port, &p);
		vs_replies(v, port, listen, VS_ANY, got);
		acc += got[RESPONSE];
		rst += got[RST];
		/* The table fills in order: the first max are the streams. */
		if (got[RESPONSE] != (i < max)) {
			printf("hostile: vsock: request %u of %u: %s\n", i + 1, tries,
			       got[RESPONSE] ? "accepted" : "not accepted");
			v->failed++;
		}
	}
	printf("hostile: vsock: table: %u requests, %u accepted, %u reset (%u expected)\n",
	       tries, acc, rst, max);
	for (int i = 0; i < 8; i++) {
		struct vs_pkt p = { .op = REQUEST, .dst_port = closed };

		vs_at(v, "the table full: a request to a closed port", v->port++, &p, RST);
	}
	vs_at(v, "the table full: a request to a listener",
	      v->port++, &(struct vs_pkt){ .op = REQUEST, .dst_port = listen2 }, RST);
	return first;
}

/* Packets on streams that exist, one stream each from `first` on: a
 * reset ends the stream, and only that one. */
static void vs_streams(struct vs *v, uint32_t listen, uint32_t first)
{
	const struct {
		const char *what;
		struct vs_pkt p;
		unsigned int reply;
	} c[] = {
		{ "a stream: data of len 1000 in a chain of 16",
		  { .op = RW, .len = 1000, .payload = 16 }, RST },
		{ "a stream: data of len 64 KiB + 1, all there",
		  { .op = RW, .len = VS_BIG, .payload = VS_BIG }, RST },
		{ "a stream: a shutdown with unknown flags", { .op = SHUTDOWN, .flags = 0xff }, RST },
		{ "a stream: a credit update with a payload",
		  { .op = UPDATE, .len = 16, .payload = 16 }, RST },
		{ "a stream: a second request", { .op = REQUEST }, RST },
		{ "a stream: a response to a response", { .op = RESPONSE }, RST },
		{ "a stream: a credit request", { .op = CREDIT_REQ }, UPDATE },
		/* fwd_cnt 2^31 ahead of what the host sent: no credit at all,
		 * however big buf_alloc (the host sends nothing: no reply). */
		{ "a stream: a fwd_cnt ahead of the host",
		  { .op = UPDATE, .buf_alloc = 4096, .fwd_cnt = 1U << 31 }, 0 },
		{ "a stream: empty data", { .op = RW }, 0 },
		{ "a stream: a reset", { .op = RST }, 0 },
	};
	unsigned long before = v->replies[RST];

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct vs_pkt p = c[i].p;

		p.dst_port = listen;
		vs_at(v, c[i].what, first + i, &p, c[i].reply);
	}
	printf("hostile: vsock: streams: %zu packets, %lu resets back (6 expected)\n",
	       sizeof(c) / sizeof(c[0]), v->replies[RST] - before);
}

/*
 * Data on a stream whose host reader never reads, past the credit the
 * host gave: the device must take the credit's worth (what the socket
 * does not, it holds) and then reset the stream, long before 4 MiB.
 */
static void vs_overrun(struct vs *v, uint32_t port, uint32_t listen)
{
	struct vs_pkt p = { .op = RW, .dst_port = listen, .len = VS_CHUNK, .payload = VS_CHUNK };
	unsigned int got[VS_OPS], i, updates = 0, reset = 0;

	for (i = 0; i < VS_OVERRUN_MAX && !reset; i++) {
		vs_send(v, port, &p);
		vs_replies(v, port, listen, 0, got);
		updates += got[UPDATE];
		reset = got[RST];
	}
	/* Packets taken: all but the one the reset answered. */
	i -= reset;
	printf("hostile: vsock: overrun: %s after %u KiB taken (the credit: %u KiB), "
	       "%u credit updates\n", reset ? "reset" : "no reset", i * VS_CHUNK / 1024,
	       v->host_credit / 1024, updates);
	if (!reset || i * VS_CHUNK < v->host_credit)
		v->failed++;
}

/*
 * hostile vsock LISTEN LISTEN2 CLOSED MAX: the host listens on ports
 * LISTEN (and never reads) and LISTEN2 (one stream), not on CLOSED; the
 * device's table holds MAX streams. Ends with a device reset, which
 * closes every stream.
 */
static int mode_vsock(uint32_t listen, uint32_t listen2, uint32_t closed, unsigned int max)
{
	static struct vs v;
	uint32_t first;

	unbind(DEV_VSOCK);
	find_device(DEV_VSOCK);
	negotiate();
	v.cid = rd(VIRTIO_MMIO_CONFIG) | (uint64_t)rd(VIRTIO_MMIO_CONFIG + 4) << 32;
	v.port = VS_PORT_BASE;
	vq_alloc(&v.rx, 0);
	vq_alloc(&v.tx, 1);
	vq_setup(&v.rx);
	vq_setup(&v.tx);
	for (unsigned int i = 0; i < VS_RX_BUFS; i++) {
		v.rx.desc[i] = (struct vring_desc){ v.rx.buf.pa + i * VS_RX_LEN, VS_RX_LEN,
						    VRING_DESC_F_WRITE, 0 };
		v.rx.avail->ring[i] = i;
	}
	v.rx.avail_idx = VS_RX_BUFS;
	STORE(v.rx.avail->idx, v.rx.avail_idx);
	driver_ok();
	kick(&v.rx);
	printf("hostile: vsock running, CID %llu\n", (unsigned long long)v.cid);
	vs_no_stream(&v, listen, closed);
	vs_flood(&v, closed, 200);
	first = vs_table(&v, listen, listen2, closed, max);
	vs_streams(&v, listen, first);
	vs_overrun(&v, first + 10, listen);
	/* Streams closed by resets leave room for more. */
	vs_at(&v, "a request once streams closed", v.port++,
	      &(struct vs_pkt){ .op = REQUEST, .dst_port = listen2 }, RESPONSE);
	wr(VIRTIO_MMIO_STATUS, 0);
	printf("hostile: vsock: %lu packets; back: %lu resets, %lu responses, %lu credit updates, "
	       "%lu other; %lu stray; %s\n", v.sent, v.replies[RST], v.replies[RESPONSE],
	       v.replies[UPDATE], v.replies[0] + v.replies[REQUEST] + v.replies[SHUTDOWN] +
	       v.replies[RW] + v.replies[CREDIT_REQ], v.stray,
	       v.failed || v.stray ? "NOT as expected" : "as expected");
	return v.failed || v.stray ? 1 : 0;
}

static int number(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || end == s || *end || *out < 1 || *out > 1000000 ? -1 : 0;
}

int main(int argc, char **argv)
{
	long n, a, b, c;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Compaction may move locked pages unless told not to. */
	int fd = open("/proc/sys/vm/compact_unevictable_allowed", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			printf("hostile: locked pages may move (compact_unevictable_allowed)\n");
		close(fd);
	}
	if (argc == 2 && !strcmp(argv[1], "blk"))
		mode_blk();
	if (argc == 2 && !strcmp(argv[1], "net-tx"))
		mode_net_tx();
	if (argc == 2 && !strcmp(argv[1], "net-rx"))
		mode_net_rx();
	if (argc == 4 && !strcmp(argv[1], "reset") && !number(argv[3], &n))
		return mode_reset(argv[2], n);
	if ((argc == 3 || (argc == 4 && !strcmp(argv[3], "control"))) &&
	    !strcmp(argv[1], "race") && !number(argv[2], &n))
		return mode_race(n, argc == 4);
	if (argc == 3 && !strcmp(argv[1], "rng") && !number(argv[2], &n))
		return rng_latency(n);
	if (argc == 4 && !strcmp(argv[1], "capture") && !number(argv[3], &n))
		return capture(argv[2], n);
	if (argc == 6 && !strcmp(argv[1], "vsock") && !number(argv[2], &a) &&
	    !number(argv[3], &b) && !number(argv[4], &c) && !number(argv[5], &n))
		return mode_vsock(a, b, c, n);
	fprintf(stderr, "usage: hostile blk | net-tx | net-rx | reset blk|net|rng ROUNDS |"
		" race SECS [control] | rng SECS | capture IFACE SECS |"
		" vsock LISTEN LISTEN2 CLOSED MAX\n");
	return 2;
}
