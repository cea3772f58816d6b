// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net headers (virtio 1.2 section 5.1.6): which features the
 * device offers and accepts, what the tap is told, how a transmitted
 * frame is checked, and how a received frame spreads over buffers.
 * Nothing here touches a queue or a file descriptor.
 */
#include <endian.h>
#include <string.h>
#include <linux/if_tun.h>
#include <linux/virtio_config.h>

#include "virtio/net.h"

#define NEED(f, bit)	((f) & VNET_F(bit))

uint64_t vnet_offered(uint64_t offloads)
{
	uint64_t f = VNET_F(VIRTIO_NET_F_MAC) | VNET_F(VIRTIO_NET_F_STATUS) |
		     VNET_F(VIRTIO_NET_F_MRG_RXBUF) | VNET_F(VIRTIO_NET_F_CTRL_VQ) |
		     VNET_F(VIRTIO_NET_F_CTRL_RX) | VNET_F(VIRTIO_NET_F_CTRL_MAC_ADDR);

	offloads &= VNET_OFFLOADS;
	/* Each offload only with what it depends on, so that a driver that
	 * takes everything offered keeps the rules below. */
	if (!NEED(offloads, VIRTIO_NET_F_CSUM))
		offloads &= ~(VNET_F(VIRTIO_NET_F_HOST_TSO4) | VNET_F(VIRTIO_NET_F_HOST_TSO6));
	if (!NEED(offloads, VIRTIO_NET_F_GUEST_CSUM))
		offloads &= ~(VNET_F(VIRTIO_NET_F_GUEST_TSO4) | VNET_F(VIRTIO_NET_F_GUEST_TSO6));
	if (!(offloads & (VNET_F(VIRTIO_NET_F_HOST_TSO4) | VNET_F(VIRTIO_NET_F_HOST_TSO6))))
		offloads &= ~VNET_F(VIRTIO_NET_F_HOST_ECN);
	if (!(offloads & (VNET_F(VIRTIO_NET_F_GUEST_TSO4) | VNET_F(VIRTIO_NET_F_GUEST_TSO6))))
		offloads &= ~VNET_F(VIRTIO_NET_F_GUEST_ECN);
	if (offloads & VNET_GUEST_OFFLOADS)
		f |= VNET_F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	return f | offloads;
}

/* "X requires Y" of virtio 1.2, 5.1.3.1, for the bits kvmini offers. */
bool vnet_features_ok(uint64_t f)
{
	bool ctrl = NEED(f, VIRTIO_NET_F_CTRL_VQ);

	if ((NEED(f, VIRTIO_NET_F_HOST_TSO4) || NEED(f, VIRTIO_NET_F_HOST_TSO6) ||
	     NEED(f, VIRTIO_NET_F_HOST_UFO)) && !NEED(f, VIRTIO_NET_F_CSUM))
		return false;
	if ((NEED(f, VIRTIO_NET_F_GUEST_TSO4) || NEED(f, VIRTIO_NET_F_GUEST_TSO6) ||
	     NEED(f, VIRTIO_NET_F_GUEST_UFO)) && !NEED(f, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if (NEED(f, VIRTIO_NET_F_HOST_ECN) &&
	    !NEED(f, VIRTIO_NET_F_HOST_TSO4) && !NEED(f, VIRTIO_NET_F_HOST_TSO6))
		return false;
	if (NEED(f, VIRTIO_NET_F_GUEST_ECN) &&
	    !NEED(f, VIRTIO_NET_F_GUEST_TSO4) && !NEED(f, VIRTIO_NET_F_GUEST_TSO6))
		return false;
	if (!ctrl && (NEED(f, VIRTIO_NET_F_CTRL_RX) || NEED(f, VIRTIO_NET_F_CTRL_VLAN) ||
		      NEED(f, VIRTIO_NET_F_GUEST_ANNOUNCE) || NEED(f, VIRTIO_NET_F_MQ) ||
		      NEED(f, VIRTIO_NET_F_CTRL_MAC_ADDR)))
		return false;
	return !NEED(f, VIRTIO_NET_F_CTRL_RX_EXTRA) || NEED(f, VIRTIO_NET_F_CTRL_RX);
}

unsigned int vnet_hdr_len(uint64_t features)
{
	if (NEED(features, VIRTIO_F_VERSION_1) || NEED(features, VIRTIO_NET_F_MRG_RXBUF))
		return VNET_HDR_LEN;
	return VNET_HDR_LEN_LEGACY;
}

unsigned int vnet_tun_offloads(uint64_t f)
{
	unsigned int t = 0;

	/* The tap hands over partial checksums only to a guest that takes
	 * them; segmentation offloads need that too (TUNSETOFFLOAD refuses
	 * TSO without CSUM). */
	if (!NEED(f, VIRTIO_NET_F_GUEST_CSUM))
		return 0;
	t |= TUN_F_CSUM;
	if (NEED(f, VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (NEED(f, VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if (NEED(f, VIRTIO_NET_F_GUEST_ECN) && (t & (TUN_F_TSO4 | TUN_F_TSO6)))
		t |= TUN_F_TSO_ECN;
	return t;
}

size_t vnet_rx_frame_max(uint64_t f)
{
	if (NEED(f, VIRTIO_NET_F_GUEST_TSO4) || NEED(f, VIRTIO_NET_F_GUEST_TSO6) ||
	    NEED(f, VIRTIO_NET_F_GUEST_UFO))
		return VNET_FRAME_GSO;
	return VNET_FRAME_MTU;
}

static const char *vnet_check_csum(const struct virtio_net_hdr_v1 *h,
				   uint64_t f, size_t frame)
{
	uint32_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return NULL;
	if (!NEED(f, VIRTIO_NET_F_CSUM))
		return "partial checksum without CSUM";
	/* The 16-bit checksum field must lie inside the frame. */
	if ((uint64_t)start + off + 2 > frame)
		return "checksum field outside the frame";
	return NULL;
}

static const char *vnet_check_gso(const struct virtio_net_hdr_v1 *h, uint64_t f)
{
	uint8_t type = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if (type == VIRTIO_NET_HDR_GSO_NONE)
		return h->gso_type ? "ECN without a GSO type" : NULL;
	if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && !NEED(f, VIRTIO_NET_F_HOST_TSO4)) ||
	    (type == VIRTIO_NET_HDR_GSO_TCPV6 && !NEED(f, VIRTIO_NET_F_HOST_TSO6)) ||
	    (type == VIRTIO_NET_HDR_GSO_UDP && !NEED(f, VIRTIO_NET_F_HOST_UFO)))
		return "GSO type not negotiated";
	if (type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6 &&
	    type != VIRTIO_NET_HDR_GSO_UDP)
		return "unknown GSO type";
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !NEED(f, VIRTIO_NET_F_HOST_ECN))
		return "GSO ECN not negotiated";
	/* Segmentation recomputes checksums: the driver must ask for one. */
	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return "GSO without a partial checksum";
	if (!le16toh(h->gso_size))
		return "GSO with segment size 0";
	return NULL;
}

const char *vnet_tx_check(const struct virtq_chain *c, unsigned int hdr_len,
			  uint64_t f, struct virtio_net_hdr_v1 *hdr)
{
	size_t frame;
	const char *why;

	memset(hdr, 0, sizeof(*hdr));
	if (c->err)
		return "too many segments";
	if (c->nr_in || c->in_len)
		return "device-writable buffer in a transmit chain";
	if (c->out_len < hdr_len)
		return "no whole header";
	frame = c->out_len - hdr_len;
	if (frame < VNET_FRAME_MIN)
		return "frame shorter than an Ethernet header";
	if (frame > VNET_FRAME_GSO)
		return "frame longer than 64 KiB";
	if (virtq_iov_to_buf(hdr, c->iov, c->nr_out, 0, hdr_len) != hdr_len)
		return "no whole header";
	/* DATA_VALID and RSC_INFO are the device's to set. */
	if (hdr->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return "header flags only a device may set";
	why = vnet_check_csum(hdr, f, frame);
	return why ? why : vnet_check_gso(hdr, f);
}

unsigned int vnet_rx_account(const uint32_t *lens, unsigned int n, size_t bytes,
			     uint32_t *used)
{
	unsigned int i;

	for (i = 0; i < n && bytes; i++) {
		used[i] = bytes < lens[i] ? bytes : lens[i];
		bytes -= used[i];
	}
	return i;
}
