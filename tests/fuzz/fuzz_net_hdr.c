// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net's guest-facing parsers (virtio/net.h): the transmit check
 * (vnet_tx_check) and the control commands (vnet_ctrl_cmd) on a popped
 * chain shaped as virtq_pop() hands them out, each segment its own
 * malloc'd buffer of exactly its length (ASan sees a byte past any);
 * then the receive accounting over the same lengths.
 *
 * A frame the check lets through is held to net.h's promises: a whole
 * header and VNET_FRAME_MIN..VNET_FRAME_GSO bytes after it, only the
 * NEEDS_CSUM flag and only with CSUM, its checksum field inside the
 * frame, a GSO type the features allow with a partial checksum and a
 * segment size. It is then copied out as a callback backend gets it.
 *
 * A control command that fails leaves the state as it was; one that
 * passes keeps its promises: tables counted right, offloads negotiated,
 * a station MAC, and a pair count (VQ_PAIRS_SET) of 1..max_pairs only
 * with MQ negotiated.
 *
 * Input: features (u64), a flags byte (bit 0: legacy 10-byte header,
 * bit 1: a writable segment at the end, bits 2-4: the device's queue
 * pairs less one, bit 7: -E2BIG), a segment count,
 * per segment a u16 length, then the readable bytes; zeros when dry.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/common.h"
#include "virtio/net.h"

#define SEGS_MAX	64
#define SEG_LEN_MAX	4096

static struct virtq_chain chain;	/* 4 KiB: not on the stack */
static void *bufs[SEGS_MAX + 1];
static unsigned int nr_bufs;
static uint8_t frame[VNET_FRAME_GSO + VNET_HDR_LEN];

static void free_bufs(void)
{
	while (nr_bufs)
		free(bufs[--nr_bufs]);
}

static void *seg(struct iovec *iov, size_t len)
{
	void *p = malloc(len);

	if (!p)
		abort();
	bufs[nr_bufs++] = p;
	*iov = (struct iovec){ p, len };
	return p;
}

static void check_tx(const struct virtio_net_hdr_v1 *h, unsigned int hdr_len,
		     uint64_t f)
{
	size_t len = chain.out_len - hdr_len;
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	fuzz_check(!chain.err && !chain.nr_in);
	fuzz_check(chain.out_len >= hdr_len + VNET_FRAME_MIN);
	fuzz_check(len <= VNET_FRAME_GSO);
	fuzz_check(!(h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM));
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		fuzz_check(f & VNET_F(VIRTIO_NET_F_CSUM));
		fuzz_check((size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 <= len);
	}
	if (gso != VIRTIO_NET_HDR_GSO_NONE) {
		fuzz_check(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM);
		fuzz_check(h->gso_size);
		fuzz_check((gso == VIRTIO_NET_HDR_GSO_TCPV4 && (f & VNET_F(VIRTIO_NET_F_HOST_TSO4))) ||
			   (gso == VIRTIO_NET_HDR_GSO_TCPV6 && (f & VNET_F(VIRTIO_NET_F_HOST_TSO6))) ||
			   (gso == VIRTIO_NET_HDR_GSO_UDP && (f & VNET_F(VIRTIO_NET_F_HOST_UFO))));
	}
	if (h->gso_type & VIRTIO_NET_HDR_GSO_ECN)
		fuzz_check(gso && (f & VNET_F(VIRTIO_NET_F_HOST_ECN)));
	fuzz_check(virtq_iov_to_buf(frame, chain.iov, chain.nr_out, hdr_len, len) == len);
}

static void check_ctrl(uint64_t f, unsigned int max_pairs)
{
	static struct vnet_ctrl_state st, before;
	uint8_t r;

	memset(&st, 0, sizeof(st));
	st.max_pairs = max_pairs;
	st.pairs = 1;
	before = st;
	r = vnet_ctrl_cmd(&st, f, chain.iov, chain.nr_out, chain.out_len);
	fuzz_check(r == VIRTIO_NET_OK || r == VIRTIO_NET_ERR);
	if (r == VIRTIO_NET_ERR) {
		fuzz_check(!memcmp(&st, &before, sizeof(st)));
		return;
	}
	fuzz_check(st.max_pairs == max_pairs);
	fuzz_check(st.pairs >= 1 && st.pairs <= max_pairs);
	fuzz_check(!st.pairs_changed ||
		   ((f & VNET_F(VIRTIO_NET_F_MQ)) && chain.out_len == 4));
	fuzz_check(st.uc_overflow == (st.uc_entries > VNET_MAC_TABLE_MAX));
	fuzz_check(st.mc_overflow == (st.mc_entries > VNET_MAC_TABLE_MAX));
	fuzz_check(!(st.uc_entries | st.mc_entries) ||
		   ((uint64_t)st.uc_entries + st.mc_entries) * 6 + 10 <= chain.out_len);
	fuzz_check(!(st.guest_offloads & ~(f & VNET_GUEST_OFFLOADS)));
	fuzz_check(!st.mac_changed || !(st.mac[0] & 1));
}

static void check_account(unsigned int n, size_t bytes)
{
	uint32_t lens[SEGS_MAX + 1], used[SEGS_MAX + 1];
	uint64_t total = 0, sum = 0;
	unsigned int k;

	for (unsigned int i = 0; i < n; i++)
		total += lens[i] = chain.iov[i].iov_len;
	if (bytes > total)
		bytes = total;
	k = vnet_rx_account(lens, n, bytes, used);
	fuzz_check(k <= n);
	for (unsigned int i = 0; i < k; i++) {
		fuzz_check(used[i] <= lens[i]);
		fuzz_check(i + 1 == k || used[i] == lens[i]);
		sum += used[i];
	}
	fuzz_check(sum == bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = fuzz_input(data, size);
	struct virtio_net_hdr_v1 h;
	uint64_t f = fuzz_u64(&in);
	unsigned int flags = fuzz_u8(&in), n = fuzz_u8(&in) % (SEGS_MAX + 1);
	unsigned int hdr_len = flags & 1 ? VNET_HDR_LEN_LEGACY : VNET_HDR_LEN;
	uint16_t lens[SEGS_MAX];
	const char *why;

	memset(&chain, 0, sizeof(chain));
	for (unsigned int i = 0; i < n; i++)
		lens[i] = fuzz_u16(&in) % SEG_LEN_MAX + 1;
	for (unsigned int i = 0; i < n; i++) {
		fuzz_bytes(&in, seg(&chain.iov[i], lens[i]), lens[i]);
		chain.nr_out++;
		chain.out_len += lens[i];
	}
	if (flags & 2) {
		memset(seg(&chain.iov[n], 1), 0xee, 1);
		chain.nr_in = 1;
		chain.in_len = 1;
	}
	if (flags & 0x80) {
		free_bufs();
		memset(&chain, 0, sizeof(chain));
		chain.err = -E2BIG;
	}

	why = vnet_tx_check(&chain, hdr_len, f, &h);
	if (!why)
		check_tx(&h, hdr_len, f);
	check_ctrl(f, ((flags >> 2) & 7) + 1);
	check_account(chain.nr_out, fuzz_u32(&in));
	free_bufs();
	return 0;
}
