// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-mmio: the register file of both layouts, the notify eventfds and
 * the interrupt eventfd. What the device does lives behind vdev->ops; the
 * status state machine and feature checks live in virtio.c.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/container_of.h"
#include "lib/evloop.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "virtio/mmio.h"

#define LOW32		0xffffffffULL

struct virtio_mmio_queue {
	struct virtio_mmio *m;
	unsigned int index;
	struct ev_handler kick;		/* notify eventfd */
	bool on_loop;
	uint32_t align;			/* legacy QueueAlign */
	uint32_t pfn;			/* legacy QueuePFN, while ready */
};

struct virtio_mmio {
	struct virtio_dev *vdev;
	uint64_t base;
	uint32_t irq;
	bool legacy;
	int irq_fd;
	struct evloop *loop;		/* where the kicks are, once attached */
	uint32_t device_features_sel;
	uint32_t driver_features_sel;
	uint32_t queue_sel;
	/* Legacy: Linux writes it once at probe time, before the first
	 * reset, so a reset must keep it. */
	uint32_t guest_page_size;
	struct virtio_mmio_queue *queues;
};

static void virtio_mmio_interrupt(struct virtio_dev *vdev, int q)
{
	struct virtio_mmio *m = vdev->transport;

	(void)q;	/* one interrupt for all */
	virtio_irq_eventfd(vdev, m->irq_fd);
}

/* A kick of our own on the queue's eventfd: the loop serves it after
 * what is already waiting (virtio_requeue()). */
static void virtio_mmio_requeue(struct virtio_dev *vdev, unsigned int q)
{
	struct virtio_mmio *m = vdev->transport;

	if (q < vdev->ops->nr_queues)
		virtio_kick_eventfd(vdev, m->queues[q].kick.fd);
}

static const struct virtio_transport_ops virtio_mmio_tops = {
	.interrupt = virtio_mmio_interrupt,
	.requeue = virtio_mmio_requeue,
};

static uint32_t virtio_mmio_bad_read(struct virtio_mmio *m, uint64_t off)
{
	pr_warn_once("virtio %s: read of write-only or unknown register %#llx",
		     m->vdev->name, (unsigned long long)off);
	return 0;
}

static void virtio_mmio_bad_write(struct virtio_mmio *m, uint64_t off)
{
	pr_warn_once("virtio %s: write to read-only or unknown register %#llx",
		     m->vdev->name, (unsigned long long)off);
}

/* The queue QueueSel names, or NULL. */
static struct virtq *virtio_mmio_vq(struct virtio_mmio *m)
{
	if (m->queue_sel >= m->vdev->ops->nr_queues) {
		pr_warn_once("virtio %s: queue %u does not exist",
			     m->vdev->name, m->queue_sel);
		return NULL;
	}
	return &m->vdev->vqs[m->queue_sel];
}

/* The selected queue if its settings may change now, or NULL. */
static struct virtq *virtio_mmio_settable_vq(struct virtio_mmio *m)
{
	struct virtq *vq = virtio_mmio_vq(m);

	if (vq && vq->ready) {
		pr_warn_once("virtio %s: queue %u changed while ready; ignored",
			     m->vdev->name, m->queue_sel);
		return NULL;
	}
	return vq;
}

/* A legacy driver's queues are final at DRIVER (no FEATURES_OK step). */
static bool virtio_mmio_enable(struct virtio_mmio *m, struct virtq *vq)
{
	return virtio_queue_field_enable(m->vdev, vq, m->legacy ? VIRTIO_CONFIG_S_DRIVER :
						      VIRTIO_CONFIG_S_FEATURES_OK);
}

/*
 * The driver stops using a queue (QueueReady or QueuePFN 0). Its settings
 * stay, so that the driver can make it ready again. A running device
 * cannot lose a queue under it, though: per-queue reset needs
 * VIRTIO_F_RING_RESET, which is not offered. So that case also puts the
 * device in DEVICE_NEEDS_RESET, which stops it first.
 */
static void virtio_mmio_disable(struct virtio_mmio *m, struct virtq *vq)
{
	struct virtq saved = *vq;

	if (m->vdev->active)
		virtio_needs_reset(m->vdev, "the driver stopped a queue of a running device");
	virtq_reset(vq);
	vq->size = saved.size;
	vq->desc_gpa = saved.desc_gpa;
	vq->avail_gpa = saved.avail_gpa;
	vq->used_gpa = saved.used_gpa;
}

static void virtio_mmio_queue_ready(struct virtio_mmio *m, uint32_t val)
{
	struct virtq *vq = virtio_mmio_vq(m);

	if (!vq)
		return;
	if (val && !vq->ready)
		virtio_mmio_enable(m, vq);
	else if (!val && vq->ready)
		virtio_mmio_disable(m, vq);
}

/* QueueNum and the version 2 ring addresses. */
static void virtio_mmio_queue_write(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	struct virtq *vq = virtio_mmio_settable_vq(m);

	if (!vq)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		/* Checked against QueueNumMax when the queue is enabled. */
		vq->size = val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		virtio_queue_field_addr(&vq->desc_gpa, val, off == VIRTIO_MMIO_QUEUE_DESC_HIGH);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		virtio_queue_field_addr(&vq->avail_gpa, val, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		virtio_queue_field_addr(&vq->used_gpa, val, off == VIRTIO_MMIO_QUEUE_USED_HIGH);
		break;
	}
}

static bool is_power_of_2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/*
 * The legacy ring layout (virtio 1.2 section 2.7.2, legacy note): the
 * descriptor table at the page, the avail ring (with used_event) right
 * after it, the used ring at the next QueueAlign boundary. With a 32-bit
 * PFN, a page size below 2^32 and a size below 2^32 nothing here can
 * overflow 64 bits; virtq_enable() checks the result.
 */
static bool virtio_mmio_legacy_layout(struct virtio_mmio *m, struct virtq *vq,
				      uint32_t align, uint32_t pfn)
{
	uint64_t avail_end;

	if (!is_power_of_2(m->guest_page_size) || !is_power_of_2(align))
		return false;
	vq->desc_gpa = (uint64_t)pfn * m->guest_page_size;
	vq->avail_gpa = vq->desc_gpa + 16ULL * vq->size;
	avail_end = vq->avail_gpa + 6 + 2ULL * vq->size;
	vq->used_gpa = (avail_end + align - 1) & ~((uint64_t)align - 1);
	return true;
}

static void virtio_mmio_queue_pfn(struct virtio_mmio *m, uint32_t pfn)
{
	struct virtq *vq = virtio_mmio_vq(m);
	struct virtio_mmio_queue *mq;

	if (!vq)
		return;
	mq = &m->queues[m->queue_sel];
	if (!pfn) {
		if (vq->ready)
			virtio_mmio_disable(m, vq);
		mq->pfn = 0;
		return;
	}
	if (!virtio_mmio_settable_vq(m))
		return;
	if (!virtio_mmio_legacy_layout(m, vq, mq->align, pfn)) {
		virtio_needs_reset(m->vdev, "the driver gave no valid GuestPageSize or QueueAlign");
		return;
	}
	if (virtio_mmio_enable(m, vq))
		mq->pfn = pfn;
}

/*
 * Checked when a queue is placed with it. A ready queue's rings were
 * placed with the size of that moment: a new one while any queue is
 * ready is ignored, as a QueueAlign would be, so that QueuePFN always
 * reads back the pages the rings are at (and a snapshot restores).
 */
static void virtio_mmio_page_size(struct virtio_mmio *m, uint32_t val)
{
	for (unsigned int i = 0; i < m->vdev->ops->nr_queues; i++) {
		if (m->vdev->vqs[i].ready && val != m->guest_page_size) {
			pr_warn_once("virtio %s: GuestPageSize changed while queue %u is ready; ignored",
				     m->vdev->name, i);
			return;
		}
	}
	m->guest_page_size = val;
}

static void virtio_mmio_queue_align(struct virtio_mmio *m, uint32_t val)
{
	if (virtio_mmio_settable_vq(m))
		m->queues[m->queue_sel].align = val;
}

/* Transport state the core does not know about goes with a reset too. */
static void virtio_mmio_reset(struct virtio_mmio *m)
{
	m->device_features_sel = 0;
	m->driver_features_sel = 0;
	m->queue_sel = 0;
	for (unsigned int i = 0; i < m->vdev->ops->nr_queues; i++) {
		m->queues[i].align = 0;
		m->queues[i].pfn = 0;
	}
}

static void virtio_mmio_set_status(struct virtio_mmio *m, uint32_t val)
{
	/* Not truncated: 0x100 must not become a reset. */
	if (val > 0xff) {
		pr_warn_once("virtio %s: status %#x ignored", m->vdev->name, val);
		return;
	}
	virtio_dev_set_status(m->vdev, val);
	if (virtio_status_resets(val))
		virtio_mmio_reset(m);
}

/* Hands the kick to the I/O thread, as an ioeventfd would have. */
static void virtio_mmio_notify(struct virtio_mmio *m, uint32_t q)
{
	if (q >= m->vdev->ops->nr_queues) {
		pr_warn_once("virtio %s: notify for queue %u ignored", m->vdev->name, q);
		return;
	}
	virtio_kick_eventfd(m->vdev, m->queues[q].kick.fd);
}

static uint32_t virtio_mmio_read_v1(struct virtio_mmio *m, uint64_t off)
{
	struct virtq *vq;

	if (off != VIRTIO_MMIO_QUEUE_PFN)
		return virtio_mmio_bad_read(m, off);
	vq = virtio_mmio_vq(m);
	return vq && vq->ready ? m->queues[m->queue_sel].pfn : 0;
}

static uint32_t virtio_mmio_read_v2(struct virtio_mmio *m, uint64_t off)
{
	struct virtq *vq;

	switch (off) {
	case VIRTIO_MMIO_QUEUE_READY:
		vq = virtio_mmio_vq(m);
		return vq && vq->ready;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* No shared memory regions: every SHMSel is unused. */
		return 0xffffffff;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return m->vdev->config_generation;
	}
	return virtio_mmio_bad_read(m, off);
}

static uint32_t virtio_mmio_read(struct virtio_mmio *m, uint64_t off)
{
	struct virtio_dev *vdev = m->vdev;
	struct virtq *vq;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return m->legacy ? 1 : 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_feature_word(vdev->host_features, m->device_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		vq = virtio_mmio_vq(m);
		return vq ? vq->max_size : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return __atomic_load_n(&vdev->isr, __ATOMIC_ACQUIRE);
	case VIRTIO_MMIO_STATUS:
		return virtio_status_read(vdev);
	}
	return m->legacy ? virtio_mmio_read_v1(m, off) : virtio_mmio_read_v2(m, off);
}

static void virtio_mmio_write_v1(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_GUEST_PAGE_SIZE:
		virtio_mmio_page_size(m, val);
		break;
	case VIRTIO_MMIO_QUEUE_ALIGN:
		virtio_mmio_queue_align(m, val);
		break;
	case VIRTIO_MMIO_QUEUE_PFN:
		virtio_mmio_queue_pfn(m, val);
		break;
	default:
		virtio_mmio_bad_write(m, off);
	}
}

static void virtio_mmio_write_v2(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_mmio_queue_ready(m, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		virtio_mmio_queue_write(m, off, val);
		break;
	case VIRTIO_MMIO_SHM_SEL:
		break;		/* every region is unused anyway */
	default:
		virtio_mmio_bad_write(m, off);
	}
}

static void virtio_mmio_write(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		m->device_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* A legacy driver has only the low 32 bits. */
		virtio_driver_feature_word(m->vdev, m->driver_features_sel, val,
					   m->legacy ? 0 : 1);
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		m->driver_features_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		m->queue_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_NUM:
		virtio_mmio_queue_write(m, off, val);
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_mmio_notify(m, val);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_fetch_and(&m->vdev->isr, ~val, __ATOMIC_ACQ_REL);
		return;
	case VIRTIO_MMIO_STATUS:
		virtio_mmio_set_status(m, val);
		return;
	}
	if (m->legacy)
		virtio_mmio_write_v1(m, off, val);
	else
		virtio_mmio_write_v2(m, off, val);
}

void virtio_mmio_access(void *opaque, uint64_t off, uint8_t *data, uint32_t len,
			bool is_write)
{
	struct virtio_mmio *m = opaque;
	uint32_t val;

	if (!is_write)
		memset(data, 0, len);
	pthread_mutex_lock(&m->vdev->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_config_access(m->vdev, off - VIRTIO_MMIO_CONFIG, data, len, is_write);
	} else if (len != 4 || (off & 3)) {
		/* The spec leaves this undefined; reading 0 sets no status
		 * or feature bit by accident. */
		pr_warn_once("virtio %s: %u-byte access to register %#llx ignored",
			     m->vdev->name, len, (unsigned long long)off);
	} else if (is_write) {
		memcpy(&val, data, sizeof(val));
		virtio_mmio_write(m, off, le32toh(val));
	} else {
		val = htole32(virtio_mmio_read(m, off));
		memcpy(data, &val, sizeof(val));
	}
	pthread_mutex_unlock(&m->vdev->lock);
}

void virtio_mmio_kick(struct virtio_mmio *m, unsigned int q)
{
	if (q < m->vdev->ops->nr_queues)
		virtio_kicked(m->vdev, m->queues[q].kick.fd, q);
}

static void virtio_mmio_on_kick(struct ev_handler *h, uint32_t events)
{
	struct virtio_mmio_queue *mq = container_of(h, struct virtio_mmio_queue, kick);

	(void)events;
	virtio_mmio_kick(mq->m, mq->index);
}

int virtio_mmio_irq_fd(const struct virtio_mmio *m)
{
	return m->irq_fd;
}

static int virtio_mmio_open_fds(struct virtio_mmio *m)
{
	m->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->irq_fd < 0)
		return -errno;
	for (unsigned int i = 0; i < m->vdev->ops->nr_queues; i++) {
		m->queues[i].kick.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (m->queues[i].kick.fd < 0)
			return -errno;
	}
	return 0;
}

static struct virtio_mmio *virtio_mmio_alloc(struct virtio_dev *vdev, uint64_t base,
					     uint32_t irq, bool legacy)
{
	unsigned int nr = vdev->ops->nr_queues;
	struct virtio_mmio *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->queues = calloc(nr ? nr : 1, sizeof(*m->queues));
	if (!m->queues) {
		free(m);
		return NULL;
	}
	m->vdev = vdev;
	m->base = base;
	m->irq = irq;
	m->legacy = legacy;
	m->irq_fd = -1;
	for (unsigned int i = 0; i < nr; i++) {
		m->queues[i].m = m;
		m->queues[i].index = i;
		m->queues[i].kick.fd = -1;
		m->queues[i].kick.fn = virtio_mmio_on_kick;
	}
	return m;
}

struct virtio_mmio *virtio_mmio_new(struct virtio_dev *vdev, uint64_t base,
				    uint32_t irq, bool legacy)
{
	struct virtio_mmio *m;
	int err;

	if (vdev->ops->config_size > VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG) {
		pr_err("virtio %s: %u bytes of config space do not fit virtio-mmio",
		       vdev->name, vdev->ops->config_size);
		return NULL;
	}
	m = virtio_mmio_alloc(vdev, base, irq, legacy);
	if (!m) {
		pr_err("virtio %s: out of memory", vdev->name);
		return NULL;
	}
	err = virtio_mmio_open_fds(m);
	if (err) {
		pr_err("virtio %s: cannot create eventfds: %s", vdev->name, strerror(-err));
		virtio_mmio_free(m);
		return NULL;
	}
	vdev->legacy = legacy;
	/* A legacy driver sees 32 feature bits; a modern one must see
	 * VERSION_1 or it would take the device for a legacy one. */
	if (legacy)
		vdev->host_features &= LOW32;
	else
		vdev->host_features |= 1ULL << VIRTIO_F_VERSION_1;
	vdev->tops = &virtio_mmio_tops;
	vdev->transport = m;
	return m;
}

static int virtio_mmio_attach_queue(struct virtio_mmio *m,
				    const struct virtio_mmio_host *host,
				    unsigned int q)
{
	struct virtio_mmio_queue *mq = &m->queues[q];
	int err;

	err = host->ioeventfd(host->ctx, m->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4,
			      q, mq->kick.fd);
	if (err)
		return err;
	err = evloop_add(host->loop, &mq->kick, EPOLLIN);
	if (err) {
		pr_err("virtio %s: cannot watch queue %u: %s", m->vdev->name, q,
		       strerror(-err));
		return err;
	}
	mq->on_loop = true;
	return 0;
}

int virtio_mmio_attach(struct virtio_mmio *m, const struct virtio_mmio_host *host)
{
	int err;

	m->loop = host->loop;
	err = host->register_mmio(host->ctx, m->base, VIRTIO_MMIO_SIZE,
				  virtio_mmio_access, m, m->vdev->name);
	if (!err)
		err = host->irqfd(host->ctx, m->irq, m->irq_fd);
	for (unsigned int q = 0; !err && q < m->vdev->ops->nr_queues; q++)
		err = virtio_mmio_attach_queue(m, host, q);
	return err;
}

void virtio_mmio_free(struct virtio_mmio *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; i < m->vdev->ops->nr_queues; i++) {
		struct virtio_mmio_queue *mq = &m->queues[i];

		if (mq->on_loop)
			evloop_del(m->loop, &mq->kick);
		if (mq->kick.fd >= 0)
			close(mq->kick.fd);
	}
	if (m->irq_fd >= 0)
		close(m->irq_fd);
	if (m->vdev->transport == m) {
		m->vdev->tops = NULL;
		m->vdev->transport = NULL;
	}
	free(m->queues);
	free(m);
}

/* ---- snapshots ----------------------------------------------------- */

void virtio_mmio_quiesce(struct virtio_mmio *m)
{
	pthread_mutex_lock(&m->vdev->lock);
	virtio_dev_quiesce(m->vdev);
	pthread_mutex_unlock(&m->vdev->lock);
}

int virtio_mmio_save(struct virtio_mmio *m, struct sbuf *b)
{
	struct virtio_dev *vdev = m->vdev;
	int err;

	pthread_mutex_lock(&vdev->lock);
	/* Again, under the same lock as the save: nothing the loop did
	 * since (a requeued kick) leaves a chain in flight. */
	virtio_dev_quiesce(vdev);
	sbuf_put_u32(b, VIRTIO_MMIO_STATE_VERSION);
	sbuf_put_u32(b, m->device_features_sel);
	sbuf_put_u32(b, m->driver_features_sel);
	sbuf_put_u32(b, m->queue_sel);
	sbuf_put_u32(b, m->guest_page_size);
	for (unsigned int i = 0; i < vdev->ops->nr_queues; i++) {
		sbuf_put_u32(b, m->queues[i].align);
		sbuf_put_u32(b, m->queues[i].pfn);
	}
	err = virtio_dev_save(vdev, b);
	pthread_mutex_unlock(&vdev->lock);
	return err;
}

/*
 * A legacy queue's PFN is nonzero exactly when it is ready, and then its
 * rings are where the legacy layout puts them; a modern one has none.
 */
static bool virtio_mmio_pfn_matches(struct virtio_mmio *m, unsigned int i)
{
	const struct virtq *vq = &m->vdev->vqs[i];
	struct virtio_mmio_queue *mq = &m->queues[i];
	struct virtq at = *vq;

	if (!m->legacy || !vq->ready)
		return !mq->pfn;
	return mq->pfn && virtio_mmio_legacy_layout(m, &at, mq->align, mq->pfn) &&
	       at.desc_gpa == vq->desc_gpa && at.avail_gpa == vq->avail_gpa &&
	       at.used_gpa == vq->used_gpa;
}

/*
 * The selectors and the legacy page size and alignment are whatever the
 * driver wrote, checked where they are used, as on a register write. A
 * legacy queue's PFN is what it reads back: nonzero exactly when ready.
 */
int virtio_mmio_load(struct virtio_mmio *m, const void *blob, size_t len)
{
	struct virtio_dev *vdev = m->vdev;
	unsigned int nr = vdev->ops->nr_queues;
	uint32_t version, dsel, drsel, qsel, page, old_page = m->guest_page_size;
	struct sbuf_rd r;
	int err = 0;

	sbuf_rd_init(&r, blob, len);
	pthread_mutex_lock(&vdev->lock);
	virtio_mmio_reset(m);
	version = sbuf_get_u32(&r);
	dsel = sbuf_get_u32(&r);
	drsel = sbuf_get_u32(&r);
	qsel = sbuf_get_u32(&r);
	page = sbuf_get_u32(&r);
	for (unsigned int i = 0; i < nr; i++) {
		m->queues[i].align = sbuf_get_u32(&r);
		m->queues[i].pfn = sbuf_get_u32(&r);
	}
	if (r.bad) {
		pr_err("virtio %s: snapshot state refused: truncated", vdev->name);
		err = -EINVAL;
	} else if (version != VIRTIO_MMIO_STATE_VERSION) {
		pr_err("virtio %s: snapshot state refused: transport layout version %u, this kvmini reads %u",
		       vdev->name, version, VIRTIO_MMIO_STATE_VERSION);
		err = -EINVAL;
	}
	if (!err)
		err = virtio_dev_load(vdev, &r);
	m->guest_page_size = page;
	for (unsigned int i = 0; !err && i < nr; i++) {
		if (!virtio_mmio_pfn_matches(m, i)) {
			pr_err("virtio %s: snapshot state refused: queue %u's QueuePFN %#x",
			       vdev->name, i, m->queues[i].pfn);
			err = -EINVAL;
		}
	}
	if (!err && !sbuf_rd_done(&r)) {
		pr_err("virtio %s: snapshot state refused: %zu bytes too many",
		       vdev->name, r.len - r.off);
		err = -EINVAL;
	}
	if (err) {
		virtio_dev_reset(vdev);
		virtio_mmio_reset(m);
		m->guest_page_size = old_page;
	} else {
		m->device_features_sel = dsel;
		m->driver_features_sel = drsel;
		m->queue_sel = qsel;
	}
	pthread_mutex_unlock(&vdev->lock);
	return err;
}
