// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-pci modern: the capabilities, the common configuration, ISR,
 * device configuration and notification regions of BAR 0, MSI-X vectors
 * and INTx. The status machine and feature rules are virtio.c's; the PCI
 * function itself (config space, BAR decoding, MSI-X table) is pci/'s.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_pci.h>

#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "virtio/pci.h"

#define LOW32		0xffffffffULL
#define PCI_CAP_VENDOR	0x09
/* PCI class "other" (0xff0000), as virtio 1.2 4.1.2.1 leaves it open;
 * Linux binds by vendor and device id. */
#define VPCI_CLASS	0xff0000

struct virtio_pci_queue {
	struct virtio_pci *p;
	unsigned int index;
	struct ev_handler kick;		/* notify eventfd */
	bool on_loop;
	bool ioev;			/* an ioeventfd at ioev_addr */
	uint64_t ioev_addr;
	uint16_t vector;
};

struct virtio_pci {
	struct virtio_dev *vdev;
	struct pci_dev pci;
	struct virtio_pci_host host;
	uint32_t irq;
	bool intx;			/* INTx line raised */
	uint32_t dfsel, gfsel;
	uint16_t qsel;
	uint16_t config_vector;
	uint8_t cfg_cap;		/* the PCI_CFG capability's offset */
	unsigned int nr_vectors;
	int vec_fd[PCI_MSIX_MAX];
	uint32_t vec_gsi[PCI_MSIX_MAX];
	struct virtio_pci_queue *queues;
};

static void virtio_pci_fire(void *opaque, unsigned int v)
{
	struct virtio_pci *p = opaque;

	if (v < p->nr_vectors)
		virtio_irq_eventfd(p->vdev, p->vec_fd[v]);
}

static void virtio_pci_route(void *opaque, unsigned int v, uint64_t addr,
			     uint32_t data, bool on)
{
	struct virtio_pci *p = opaque;

	if (v < p->nr_vectors)
		p->host.msi_route(p->host.ctx, p->vec_gsi[v], addr, data, on);
}

static const struct pci_msix_ops virtio_pci_msix_ops = {
	.fire = virtio_pci_fire,
	.route = virtio_pci_route,
};

#define PCI_CMD_INTX_OFF	0x04	/* command byte 1, bit 2: INTx disable */

/* INTx follows the ISR, unless the command register disables it. */
static void virtio_pci_set_intx(struct virtio_pci *p, bool level)
{
	if (p->pci.cfg[0x05] & PCI_CMD_INTX_OFF)
		level = false;
	if (p->intx == level)
		return;
	p->intx = level;
	p->host.set_intx(p->host.ctx, p->irq, level);
}

/* Under vdev->lock, from the device (I/O thread) or a register access. */
static void virtio_pci_interrupt(struct virtio_dev *vdev, int q)
{
	struct virtio_pci *p = vdev->transport;
	struct pci_msix *x = &p->pci.msix;

	if (!x->enabled) {
		virtio_pci_set_intx(p, true);
		return;
	}
	virtio_pci_set_intx(p, false);	/* raised before MSI-X came on */
	if (q == VIRTIO_IRQ_CONFIG) {
		pci_msix_notify(x, p->config_vector);
	} else if (q >= 0 && (unsigned int)q < vdev->ops->nr_queues) {
		pci_msix_notify(x, p->queues[q].vector);
	} else {
		/* Some queue, the device does not know which (vhost-user):
		 * each vector a ready queue uses, once. */
		uint64_t done = 0;

		for (unsigned int i = 0; i < vdev->ops->nr_queues; i++) {
			uint16_t v = p->queues[i].vector;

			if (!vdev->vqs[i].ready || v >= 64 || (done & (1ULL << v)))
				continue;
			done |= 1ULL << v;
			pci_msix_notify(x, v);
		}
	}
}

static void virtio_pci_requeue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_pci *p = vdev->transport;

	if (q < vdev->ops->nr_queues)
		virtio_kick_eventfd(vdev, p->queues[q].kick.fd);
}

static const struct virtio_transport_ops virtio_pci_tops = {
	.interrupt = virtio_pci_interrupt,
	.requeue = virtio_pci_requeue,
};

/* ---- common configuration ----------------------------------------- */

/* The width of the field at off, 0 for none. */
static uint32_t virtio_pci_field_len(uint64_t off)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_STATUS:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return 1;
	case VIRTIO_PCI_COMMON_MSIX:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_Q_SELECT:
	case VIRTIO_PCI_COMMON_Q_SIZE:
	case VIRTIO_PCI_COMMON_Q_MSIX:
	case VIRTIO_PCI_COMMON_Q_ENABLE:
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
	case VIRTIO_PCI_COMMON_Q_RESET:
		return 2;
	case VIRTIO_PCI_COMMON_DFSELECT:
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_GFSELECT:
	case VIRTIO_PCI_COMMON_GF:
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return 4;
	}
	return 0;
}

static struct virtq *virtio_pci_vq(struct virtio_pci *p)
{
	if (p->qsel >= p->vdev->ops->nr_queues)
		return NULL;
	return &p->vdev->vqs[p->qsel];
}

/* A vector the table has, else VIRTIO_MSI_NO_VECTOR (4.1.5.1.2). */
static uint16_t virtio_pci_vector(struct virtio_pci *p, uint16_t v)
{
	if (v != VIRTIO_MSI_NO_VECTOR && v >= p->nr_vectors) {
		pr_warn_once("virtio %s: MSI-X vector %u does not exist", p->vdev->name, v);
		return VIRTIO_MSI_NO_VECTOR;
	}
	return v;
}

static uint32_t virtio_pci_common_read(struct virtio_pci *p, uint64_t off)
{
	struct virtio_dev *vdev = p->vdev;
	struct virtq *vq = virtio_pci_vq(p);

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		return p->dfsel;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_feature_word(vdev->host_features, p->dfsel);
	case VIRTIO_PCI_COMMON_GFSELECT:
		return p->gfsel;
	case VIRTIO_PCI_COMMON_GF:
		return virtio_feature_word(vdev->features, p->gfsel);
	case VIRTIO_PCI_COMMON_MSIX:
		return p->config_vector;
	case VIRTIO_PCI_COMMON_NUMQ:
		return vdev->ops->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS:
		return virtio_status_read(vdev);
	case VIRTIO_PCI_COMMON_CFGGENERATION:
		return vdev->config_generation & 0xff;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		return p->qsel;
	}
	if (!vq)
		return 0;	/* a queue that does not exist: size 0 */
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return vq->size;
	case VIRTIO_PCI_COMMON_Q_MSIX:
		return p->queues[p->qsel].vector;
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return vq->ready;
	case VIRTIO_PCI_COMMON_Q_NOFF:
		return p->qsel;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
		return vq->desc_gpa & LOW32;
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		return vq->desc_gpa >> 32;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
		return vq->avail_gpa & LOW32;
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		return vq->avail_gpa >> 32;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
		return vq->used_gpa & LOW32;
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		return vq->used_gpa >> 32;
	}
	return 0;	/* queue_notify_data, queue_reset: not offered */
}

/* Transport state that goes with a device reset; the PCI function's
 * own state (BARs, MSI-X table) does not. */
static void virtio_pci_reset(struct virtio_pci *p)
{
	struct virtio_dev *vdev = p->vdev;

	p->dfsel = 0;
	p->gfsel = 0;
	p->qsel = 0;
	p->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++) {
		p->queues[i].vector = VIRTIO_MSI_NO_VECTOR;
		/* queue_size reads the largest size after a reset. */
		vdev->vqs[i].size = vdev->vqs[i].max_size;
	}
	__atomic_store_n(&vdev->isr, 0, __ATOMIC_RELEASE);
	virtio_pci_set_intx(p, false);
}

static void virtio_pci_set_status(struct virtio_pci *p, uint32_t val)
{
	virtio_dev_set_status(p->vdev, val);
	if (virtio_status_resets(val))
		virtio_pci_reset(p);
}

static void virtio_pci_queue_enable(struct virtio_pci *p, struct virtq *vq,
				    uint32_t val)
{
	if (!val || vq->ready) {
		/* 4.1.4.3.2: the driver MUST NOT write 0; without
		 * VIRTIO_F_RING_RESET there is no stopping a queue. */
		pr_warn_once("virtio %s: queue_enable %u on queue %u ignored",
			     p->vdev->name, val, p->qsel);
		return;
	}
	virtio_queue_field_enable(p->vdev, vq, VIRTIO_CONFIG_S_FEATURES_OK);
}

static void virtio_pci_queue_write(struct virtio_pci *p, uint64_t off, uint32_t val)
{
	struct virtq *vq = virtio_pci_vq(p);

	if (!vq) {
		pr_warn_once("virtio %s: queue %u does not exist", p->vdev->name, p->qsel);
		return;
	}
	if (off == VIRTIO_PCI_COMMON_Q_MSIX) {
		p->queues[p->qsel].vector = virtio_pci_vector(p, val);
		return;
	}
	if (off == VIRTIO_PCI_COMMON_Q_ENABLE) {
		virtio_pci_queue_enable(p, vq, val);
		return;
	}
	if (vq->ready) {
		pr_warn_once("virtio %s: queue %u changed while enabled; ignored",
			     p->vdev->name, p->qsel);
		return;
	}
	switch (off) {
	case VIRTIO_PCI_COMMON_Q_SIZE:
		vq->size = val;		/* checked by virtq_enable() */
		break;
	case VIRTIO_PCI_COMMON_Q_DESCLO:
	case VIRTIO_PCI_COMMON_Q_DESCHI:
		virtio_queue_field_addr(&vq->desc_gpa, val, off == VIRTIO_PCI_COMMON_Q_DESCHI);
		break;
	case VIRTIO_PCI_COMMON_Q_AVAILLO:
	case VIRTIO_PCI_COMMON_Q_AVAILHI:
		virtio_queue_field_addr(&vq->avail_gpa, val, off == VIRTIO_PCI_COMMON_Q_AVAILHI);
		break;
	case VIRTIO_PCI_COMMON_Q_USEDLO:
	case VIRTIO_PCI_COMMON_Q_USEDHI:
		virtio_queue_field_addr(&vq->used_gpa, val, off == VIRTIO_PCI_COMMON_Q_USEDHI);
		break;
	default:
		pr_warn_once("virtio %s: write to read-only field %#llx",
			     p->vdev->name, (unsigned long long)off);
	}
}

static void virtio_pci_common_write(struct virtio_pci *p, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT:
		p->dfsel = val;
		return;
	case VIRTIO_PCI_COMMON_GFSELECT:
		p->gfsel = val;
		return;
	case VIRTIO_PCI_COMMON_GF:
		virtio_driver_feature_word(p->vdev, p->gfsel, val, 1);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		p->config_vector = virtio_pci_vector(p, val);
		return;
	case VIRTIO_PCI_COMMON_STATUS:
		virtio_pci_set_status(p, val);
		return;
	case VIRTIO_PCI_COMMON_Q_SELECT:
		p->qsel = val;
		return;
	case VIRTIO_PCI_COMMON_DF:
	case VIRTIO_PCI_COMMON_NUMQ:
	case VIRTIO_PCI_COMMON_CFGGENERATION:
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA:
	case VIRTIO_PCI_COMMON_Q_RESET:
		pr_warn_once("virtio %s: write to read-only field %#llx",
			     p->vdev->name, (unsigned long long)off);
		return;
	}
	virtio_pci_queue_write(p, off, val);
}

static void virtio_pci_common(struct virtio_pci *p, uint64_t off, uint8_t *data,
			      uint32_t len, bool is_write)
{
	uint32_t val;

	if (!is_write)
		memset(data, 0, len);
	if (virtio_pci_field_len(off) != len) {
		pr_warn_once("virtio %s: %u-byte access to common field %#llx ignored",
			     p->vdev->name, len, (unsigned long long)off);
		return;
	}
	if (is_write) {
		val = 0;
		memcpy(&val, data, len);
		virtio_pci_common_write(p, off, le32toh(val));
	} else {
		val = htole32(virtio_pci_common_read(p, off));
		memcpy(data, &val, len);
	}
}

/* ---- the other regions ---------------------------------------------- */

/* Hands the kick to the I/O thread, as an ioeventfd would have. */
static void virtio_pci_notify(struct virtio_pci *p, uint64_t off)
{
	uint64_t q = off / VPCI_NOTIFY_MUL;

	if (q >= p->vdev->ops->nr_queues) {
		pr_warn_once("virtio %s: notify for queue %llu ignored", p->vdev->name,
			     (unsigned long long)q);
		return;
	}
	virtio_pci_requeue(p->vdev, q);
}

static void virtio_pci_devcfg(struct virtio_pci *p, uint64_t off, uint8_t *data,
			      uint32_t len, bool is_write)
{
	if (!is_write)
		memset(data, 0, len);
	virtio_config_access(p->vdev, off, data, len, is_write);
}

/* The ISR: read-to-clear, which also lowers INTx (4.1.4.5). */
static void virtio_pci_isr(struct virtio_pci *p, uint64_t off, uint8_t *data,
			   uint32_t len, bool is_write)
{
	if (is_write)
		return;
	memset(data, 0, len);
	if (off)
		return;
	data[0] = __atomic_exchange_n(&p->vdev->isr, 0, __ATOMIC_ACQ_REL);
	virtio_pci_set_intx(p, false);
}

/* Under vdev->lock (the PCI layer took it). */
static void virtio_pci_bar_access(struct pci_dev *d, unsigned int bar, uint64_t off,
				  uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_pci *p = container_of(d, struct virtio_pci, pci);
	uint32_t nr = p->vdev->ops->nr_queues;

	if (bar)
		return;
	if (off < VPCI_COMMON + VPCI_COMMON_LEN)
		virtio_pci_common(p, off - VPCI_COMMON, data, len, is_write);
	else if (off >= VPCI_ISR && off < VPCI_ISR + 4)
		virtio_pci_isr(p, off - VPCI_ISR, data, len, is_write);
	else if (off >= VPCI_DEVCFG && off < VPCI_DEVCFG + VPCI_DEVCFG_LEN)
		virtio_pci_devcfg(p, off - VPCI_DEVCFG, data, len, is_write);
	else if (off >= VPCI_NOTIFY && off < VPCI_NOTIFY + VPCI_NOTIFY_MUL * nr) {
		if (is_write)
			virtio_pci_notify(p, off - VPCI_NOTIFY);
		else
			memset(data, 0, len);
	}
	/* Elsewhere: nothing there, reads stay all ones. */
}

/* While BAR 0 decodes, each queue's notify address has its ioeventfd. */
static void virtio_pci_bar_moved(struct pci_dev *d, unsigned int bar, uint64_t addr,
				 bool on)
{
	struct virtio_pci *p = container_of(d, struct virtio_pci, pci);

	if (bar)
		return;
	for (unsigned int q = 0; q < p->vdev->ops->nr_queues; q++) {
		struct virtio_pci_queue *pq = &p->queues[q];
		uint64_t at = addr + VPCI_NOTIFY + VPCI_NOTIFY_MUL * q;

		if (pq->ioev && !p->host.ioeventfd(p->host.ctx, pq->ioev_addr,
						    pq->kick.fd, false))
			pq->ioev = false;
		if (on && !pq->ioev && !p->host.ioeventfd(p->host.ctx, at, pq->kick.fd, true)) {
			pq->ioev = true;
			pq->ioev_addr = at;
		}
	}
}

/*
 * The PCI_CFG capability (4.1.4.9): bar, offset and length name an
 * access that pci_cfg_data carries out, on a write after the data is in
 * and on a read before the data is read.
 */
static void virtio_pci_cfg_hook(struct pci_dev *d, uint32_t off, uint32_t len,
				bool is_write)
{
	struct virtio_pci *p = container_of(d, struct virtio_pci, pci);
	uint8_t *cap = d->cfg + p->cfg_cap;
	uint32_t boff = pci_get32(cap + 8), blen = pci_get32(cap + 12);
	uint8_t buf[4];

	(void)off;
	(void)len;
	if (cap[4] != 0 || (blen != 1 && blen != 2 && blen != 4) ||
	    boff >= VPCI_MSIX_TABLE || blen > VPCI_MSIX_TABLE - boff) {
		pr_warn_once("virtio %s: PCI_CFG access to BAR %u at %#x+%u ignored",
			     p->vdev->name, cap[4], boff, blen);
		return;
	}
	if (is_write) {
		memcpy(buf, cap + 16, blen);
		virtio_pci_bar_access(d, 0, boff, buf, blen, true);
	} else {
		memset(buf, 0xff, sizeof(buf));
		virtio_pci_bar_access(d, 0, boff, buf, blen, false);
		memcpy(cap + 16, buf, blen);
	}
}

/* Whether PCI lets INTx be asserted now: MSI-X off, INTx not disabled,
 * and a cause in the ISR. */
static bool virtio_pci_intx_due(struct virtio_pci *p)
{
	return !p->pci.msix.enabled && !(p->pci.cfg[0x05] & PCI_CMD_INTX_OFF) &&
	       __atomic_load_n(&p->vdev->isr, __ATOMIC_ACQUIRE);
}

/* INTx disabled or MSI-X on: the line drops (as on hardware), and comes
 * back if INTx is the mode again while the ISR still holds a cause. */
static void virtio_pci_irq_mode(struct pci_dev *d)
{
	struct virtio_pci *p = container_of(d, struct virtio_pci, pci);

	virtio_pci_set_intx(p, virtio_pci_intx_due(p));
}

static const struct pci_dev_ops virtio_pci_dev_ops = {
	.bar_access = virtio_pci_bar_access,
	.bar_moved = virtio_pci_bar_moved,
	.cfg_hook = virtio_pci_cfg_hook,
	.irq_mode = virtio_pci_irq_mode,
};

/* ---- set-up ------------------------------------------------------------ */

static uint8_t virtio_pci_add_cap(struct pci_dev *d, uint8_t type, uint32_t off,
				  uint32_t len, const void *extra, uint8_t extra_len)
{
	uint8_t body[18] = { 0 };

	/* cap_len, cfg_type, bar, id, padding[2], offset, length, extra */
	body[0] = 16 + extra_len;
	body[1] = type;
	pci_put32(body + 6, off);
	pci_put32(body + 10, len);
	if (extra_len)
		memcpy(body + 14, extra, extra_len);
	return pci_dev_add_cap(d, PCI_CAP_VENDOR, body, 14 + extra_len);
}

static int virtio_pci_caps(struct virtio_pci *p)
{
	struct pci_dev *d = &p->pci;
	uint8_t mul[4], data[4] = { 0 };
	uint32_t nr = p->vdev->ops->nr_queues;

	pci_put32(mul, VPCI_NOTIFY_MUL);
	if (!virtio_pci_add_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON,
				VPCI_COMMON_LEN, NULL, 0) ||
	    !virtio_pci_add_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY,
				VPCI_NOTIFY_MUL * (nr ? nr : 1), mul, 4) ||
	    !virtio_pci_add_cap(d, VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR, 4, NULL, 0) ||
	    (p->vdev->ops->config_size &&
	     !virtio_pci_add_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, VPCI_DEVCFG,
				 p->vdev->ops->config_size, NULL, 0)))
		return -ENOSPC;
	/* PCI_CFG: offset and length are the driver's to write. */
	p->cfg_cap = virtio_pci_add_cap(d, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, data, 4);
	if (!p->cfg_cap)
		return -ENOSPC;
	d->wmask[p->cfg_cap + 4] = 0xff;
	memset(d->wmask + p->cfg_cap + 8, 0xff, 12);
	d->hook_off = p->cfg_cap + 16;
	d->hook_len = 4;
	return pci_dev_add_msix(d, p->nr_vectors, 0, VPCI_MSIX_TABLE, VPCI_MSIX_PBA,
				&virtio_pci_msix_ops, p);
}

static void virtio_pci_on_kick(struct ev_handler *h, uint32_t events)
{
	struct virtio_pci_queue *pq = container_of(h, struct virtio_pci_queue, kick);

	(void)events;
	virtio_pci_kick(pq->p, pq->index);
}

void virtio_pci_kick(struct virtio_pci *p, unsigned int q)
{
	if (q < p->vdev->ops->nr_queues)
		virtio_kicked(p->vdev, p->queues[q].kick.fd, q);
}

static int virtio_pci_open_fds(struct virtio_pci *p)
{
	for (unsigned int i = 0; i < p->vdev->ops->nr_queues; i++) {
		p->queues[i].kick.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->queues[i].kick.fd < 0)
			return -errno;
	}
	for (unsigned int v = 0; v < p->nr_vectors; v++) {
		p->vec_fd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->vec_fd[v] < 0)
			return -errno;
	}
	return 0;
}

struct virtio_pci *virtio_pci_new(struct virtio_dev *vdev, uint32_t irq,
				  const struct virtio_pci_host *host)
{
	unsigned int nr = vdev->ops->nr_queues;
	struct virtio_pci *p;
	int err;

	if (vdev->ops->config_size > VPCI_DEVCFG_LEN || nr > 0x10000 / VPCI_NOTIFY_MUL) {
		pr_err("virtio %s: the device does not fit virtio-pci", vdev->name);
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->queues = calloc(nr ? nr : 1, sizeof(*p->queues));
	if (!p || !p->queues) {
		free(p);
		pr_err("virtio %s: out of memory", vdev->name);
		return NULL;
	}
	p->vdev = vdev;
	p->host = *host;
	p->irq = irq;
	/* A configuration vector and one per queue, as far as they go. */
	p->nr_vectors = nr + 1 < PCI_MSIX_MAX ? nr + 1 : PCI_MSIX_MAX;
	for (unsigned int v = 0; v < PCI_MSIX_MAX; v++)
		p->vec_fd[v] = -1;
	for (unsigned int i = 0; i < nr; i++) {
		p->queues[i].p = p;
		p->queues[i].index = i;
		p->queues[i].kick.fd = -1;
		p->queues[i].kick.fn = virtio_pci_on_kick;
	}
	pci_dev_init(&p->pci, &virtio_pci_dev_ops, p, &vdev->lock, vdev->name);
	pci_dev_ids(&p->pci, VPCI_VENDOR, VPCI_DEVICE_BASE + vdev->ops->device_id,
		    VPCI_CLASS, VPCI_VENDOR, VPCI_DEVICE_BASE + vdev->ops->device_id,
		    1, irq);
	err = pci_dev_add_bar(&p->pci, 0, VPCI_BAR_SIZE) ?: virtio_pci_caps(p) ?:
	      virtio_pci_open_fds(p);
	if (err) {
		pr_err("virtio %s: cannot set up its PCI function: %s", vdev->name,
		       strerror(-err));
		virtio_pci_free(p);
		return NULL;
	}
	vdev->legacy = false;
	vdev->host_features |= 1ULL << VIRTIO_F_VERSION_1;
	vdev->tops = &virtio_pci_tops;
	vdev->transport = p;
	virtio_pci_reset(p);
	return p;
}

/* ---- snapshots --------------------------------------------------------- */

#define VPCI_STATE_VERSION	1

void virtio_pci_quiesce(struct virtio_pci *p)
{
	pthread_mutex_lock(&p->vdev->lock);
	virtio_dev_quiesce(p->vdev);
	pthread_mutex_unlock(&p->vdev->lock);
}

int virtio_pci_save(struct virtio_pci *p, struct sbuf *b)
{
	struct virtio_dev *vdev = p->vdev;
	int err;

	pthread_mutex_lock(&vdev->lock);
	/* Again, under the same lock as the save (as virtio-mmio does). */
	virtio_dev_quiesce(vdev);
	sbuf_put_u32(b, VPCI_STATE_VERSION);
	pci_dev_save(&p->pci, b);
	sbuf_put_u32(b, p->dfsel);
	sbuf_put_u32(b, p->gfsel);
	sbuf_put_u16(b, p->qsel);
	sbuf_put_u16(b, p->config_vector);
	sbuf_put_u8(b, p->intx);
	sbuf_put_u32(b, vdev->ops->nr_queues);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++)
		sbuf_put_u16(b, p->queues[i].vector);
	err = virtio_dev_save(vdev, b);
	pthread_mutex_unlock(&vdev->lock);
	return err;
}

/* The transport's registers after the PCI part: selectors are whatever
 * the driver wrote (checked where used), vectors must exist. */
static int virtio_pci_load_regs(struct virtio_pci *p, struct sbuf_rd *r, bool *intx)
{
	unsigned int nr = p->vdev->ops->nr_queues;
	uint32_t dfsel = sbuf_get_u32(r), gfsel = sbuf_get_u32(r), nrq;
	uint16_t qsel = sbuf_get_u16(r), cfgv = sbuf_get_u16(r);
	uint8_t level = sbuf_get_u8(r);

	nrq = sbuf_get_u32(r);
	if (r->bad)
		return virtio_load_fail(p->vdev, "truncated");
	if (nrq != nr)
		return virtio_load_fail(p->vdev, "%u queues saved, the device has %u", nrq, nr);
	if (level > 1)
		return virtio_load_fail(p->vdev, "INTx level %u", level);
	if (cfgv != VIRTIO_MSI_NO_VECTOR && cfgv >= p->nr_vectors)
		return virtio_load_fail(p->vdev, "configuration vector %u of %u", cfgv, p->nr_vectors);
	for (unsigned int i = 0; i < nr; i++) {
		uint16_t v = sbuf_get_u16(r);

		if (r->bad)
			return virtio_load_fail(p->vdev, "truncated");
		if (v != VIRTIO_MSI_NO_VECTOR && v >= p->nr_vectors)
			return virtio_load_fail(p->vdev, "queue %u's vector %u of %u", i, v, p->nr_vectors);
		p->queues[i].vector = v;
	}
	p->dfsel = dfsel;
	p->gfsel = gfsel;
	p->qsel = qsel;
	p->config_vector = cfgv;
	*intx = level;
	return 0;
}

/*
 * The PCI function first (its BAR decoding brings the notify ioeventfds
 * back, its MSI-X table the routes), then the transport's registers, then
 * the device: its load may raise an interrupt, which must find the
 * vectors in place. INTx is raised only where it could be: MSI-X off,
 * INTx not disabled, an interrupt status to show for it.
 */
int virtio_pci_load(struct virtio_pci *p, const void *blob, size_t len)
{
	struct virtio_dev *vdev = p->vdev;
	uint8_t old[PCI_CFG_SIZE];
	uint32_t version;
	struct sbuf_rd r;
	bool intx = false;
	int err;

	sbuf_rd_init(&r, blob, len);
	pthread_mutex_lock(&vdev->lock);
	virtio_pci_reset(p);
	memcpy(old, p->pci.cfg, sizeof(old));
	version = sbuf_get_u32(&r);
	if (r.bad || version != VPCI_STATE_VERSION) {
		err = r.bad ? virtio_load_fail(p->vdev, "truncated") :
		      virtio_load_fail(p->vdev, "transport layout version %u, this kvmini reads %u",
					   version, VPCI_STATE_VERSION);
		goto out;
	}
	err = pci_dev_load(&p->pci, &r);
	if (err)
		goto out;
	err = virtio_pci_load_regs(p, &r, &intx);
	if (!err)
		err = virtio_dev_load(vdev, &r);
	if (!err && !sbuf_rd_done(&r))
		err = virtio_load_fail(p->vdev, "%zu bytes too many", r.len - r.off);
	if (!err && intx && !virtio_pci_intx_due(p))
		err = virtio_load_fail(p->vdev, "INTx raised with MSI-X on, INTx disabled or no interrupt status");
	if (err) {
		virtio_dev_reset(vdev);
		virtio_pci_reset(p);
		pci_dev_unload(&p->pci, old);
		goto out;
	}
	virtio_pci_set_intx(p, intx);
out:
	pthread_mutex_unlock(&vdev->lock);
	return err;
}

struct pci_dev *virtio_pci_dev(struct virtio_pci *p)
{
	return &p->pci;
}

int virtio_pci_attach(struct virtio_pci *p)
{
	int err = 0;

	for (unsigned int v = 0; !err && v < p->nr_vectors; v++)
		err = p->host.msi_irqfd(p->host.ctx, p->vec_fd[v], &p->vec_gsi[v]);
	for (unsigned int q = 0; !err && q < p->vdev->ops->nr_queues; q++) {
		err = evloop_add(p->host.loop, &p->queues[q].kick, EPOLLIN);
		if (err)
			pr_err("virtio %s: cannot watch queue %u: %s", p->vdev->name,
			       q, strerror(-err));
		else
			p->queues[q].on_loop = true;
	}
	return err;
}

void virtio_pci_free(struct virtio_pci *p)
{
	if (!p)
		return;
	for (unsigned int i = 0; i < p->vdev->ops->nr_queues; i++) {
		struct virtio_pci_queue *pq = &p->queues[i];

		if (pq->on_loop)
			evloop_del(p->host.loop, &pq->kick);
		if (pq->kick.fd >= 0)
			close(pq->kick.fd);
	}
	for (unsigned int v = 0; v < PCI_MSIX_MAX; v++)
		if (p->vec_fd[v] >= 0)
			close(p->vec_fd[v]);
	if (p->vdev->transport == p) {
		p->vdev->tops = NULL;
		p->vdev->transport = NULL;
	}
	free(p->queues);
	free(p);
}
