// SPDX-License-Identifier: GPL-2.0
/*
 * The control queue's commands (virtio 1.2 section 5.1.6.5), the ones
 * Linux sends for what kvmini offers: receive modes, the MAC filter
 * table, the MAC address, the guest offloads, and with MQ the number of
 * queue pairs in use. A tap passes every
 * frame whatever the filters say, so the modes and tables are parsed,
 * validated and recorded, not enforced. The command bytes stay in guest
 * memory and are read once, field by field, through the iovecs.
 */
#include <endian.h>
#include <string.h>

#include "virtio/net.h"

#define CTRL_HDR	2	/* class, command */

struct ctrl_cursor {
	const struct iovec *iov;
	unsigned int cnt;
	size_t off, len;
};

static bool ctrl_read(struct ctrl_cursor *c, void *dst, size_t n)
{
	if (n > c->len - c->off)
		return false;
	if (virtq_iov_to_buf(dst, c->iov, c->cnt, c->off, n) != n)
		return false;
	c->off += n;
	return true;
}

static uint8_t ctrl_rx(struct vnet_ctrl_state *st, uint64_t f, uint8_t cmd,
		       struct ctrl_cursor *c)
{
	uint8_t on;

	if (!(f & VNET_F(VIRTIO_NET_F_CTRL_RX)) || c->len - c->off != 1 ||
	    !ctrl_read(c, &on, 1) || on > 1)
		return VIRTIO_NET_ERR;
	if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
		st->promisc = on;
	else if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
		st->allmulti = on;
	else
		return VIRTIO_NET_ERR;	/* RX_EXTRA is not offered */
	return VIRTIO_NET_OK;
}

/* One table: le32 entries, then entries MACs; keeps the first ones. */
static bool ctrl_mac_table(struct ctrl_cursor *c, uint8_t (*mac)[6],
			   unsigned int *entries, bool *overflow)
{
	uint32_t n;

	if (!ctrl_read(c, &n, sizeof(n)))
		return false;
	n = le32toh(n);
	if ((uint64_t)n * 6 > c->len - c->off)
		return false;
	*entries = n;
	*overflow = n > VNET_MAC_TABLE_MAX;
	for (uint32_t i = 0; i < n && i < VNET_MAC_TABLE_MAX; i++)
		ctrl_read(c, mac[i], 6);
	if (n > VNET_MAC_TABLE_MAX)
		c->off += (uint64_t)(n - VNET_MAC_TABLE_MAX) * 6;
	return true;
}

static uint8_t ctrl_mac(struct vnet_ctrl_state *st, uint64_t f, uint8_t cmd,
			struct ctrl_cursor *c)
{
	struct vnet_ctrl_state t = *st;
	uint8_t mac[6];

	if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
		if (!(f & VNET_F(VIRTIO_NET_F_CTRL_MAC_ADDR)) ||
		    c->len - c->off != 6 || !ctrl_read(c, mac, 6))
			return VIRTIO_NET_ERR;
		/* A group address is no station's address. */
		if (mac[0] & 1)
			return VIRTIO_NET_ERR;
		memcpy(st->mac, mac, 6);
		st->mac_changed = true;
		return VIRTIO_NET_OK;
	}
	if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET || !(f & VNET_F(VIRTIO_NET_F_CTRL_RX)))
		return VIRTIO_NET_ERR;
	/* Unicast table, multicast table, nothing after them. */
	if (!ctrl_mac_table(c, t.uc, &t.uc_entries, &t.uc_overflow) ||
	    !ctrl_mac_table(c, t.mc, &t.mc_entries, &t.mc_overflow) ||
	    c->off != c->len)
		return VIRTIO_NET_ERR;
	*st = t;
	return VIRTIO_NET_OK;
}

static uint8_t ctrl_offloads(struct vnet_ctrl_state *st, uint64_t f, uint8_t cmd,
			     struct ctrl_cursor *c)
{
	uint64_t o;

	if (!(f & VNET_F(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS)) ||
	    cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET ||
	    c->len - c->off != sizeof(o) || !ctrl_read(c, &o, sizeof(o)))
		return VIRTIO_NET_ERR;
	o = le64toh(o);
	/* Only offloads negotiated, and only a set the rules allow. */
	if (o & ~(f & VNET_GUEST_OFFLOADS) ||
	    !vnet_features_ok(o | (f & ~VNET_GUEST_OFFLOADS)))
		return VIRTIO_NET_ERR;
	st->guest_offloads = o;
	st->offloads_changed = true;
	return VIRTIO_NET_OK;
}

/* VQ_PAIRS_SET, le16 pairs: 1..max_pairs (virtio 1.2, 5.1.6.5.5); no
 * RSS or hash commands (neither is offered). */
static uint8_t ctrl_mq(struct vnet_ctrl_state *st, uint64_t f, uint8_t cmd,
		       struct ctrl_cursor *c)
{
	uint16_t pairs;

	if (!(f & VNET_F(VIRTIO_NET_F_MQ)) || cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    c->len - c->off != sizeof(pairs) || !ctrl_read(c, &pairs, sizeof(pairs)))
		return VIRTIO_NET_ERR;
	pairs = le16toh(pairs);
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > st->max_pairs)
		return VIRTIO_NET_ERR;
	st->pairs = pairs;
	st->pairs_changed = true;
	return VIRTIO_NET_OK;
}

uint8_t vnet_ctrl_cmd(struct vnet_ctrl_state *st, uint64_t features,
		      const struct iovec *iov, unsigned int cnt, size_t len)
{
	struct ctrl_cursor c = { .iov = iov, .cnt = cnt, .len = len };
	uint8_t hdr[CTRL_HDR];

	if (!ctrl_read(&c, hdr, sizeof(hdr)))
		return VIRTIO_NET_ERR;
	switch (hdr[0]) {
	case VIRTIO_NET_CTRL_RX:
		return ctrl_rx(st, features, hdr[1], &c);
	case VIRTIO_NET_CTRL_MAC:
		return ctrl_mac(st, features, hdr[1], &c);
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		return ctrl_offloads(st, features, hdr[1], &c);
	case VIRTIO_NET_CTRL_MQ:
		return ctrl_mq(st, features, hdr[1], &c);
	}
	return VIRTIO_NET_ERR;
}
