// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots of KVM's own x86 state per vCPU (docs/snapshot.md): the
 * registers, special registers, XSAVE (or FPU), XCRs, MSRs, LAPIC,
 * events, MP state, debug registers, CPUID and TSC frequency. The VM's
 * own (PICs, IOAPIC, PIT, kvmclock) is in state_vm.c.
 *
 * Save order: MP state first, since reading it makes KVM accept pending
 * INIT/SIPI events, which changes registers and events. Load order:
 * TSC frequency, CPUID (KVM judges MSRs against it), MP state, registers,
 * special registers (they carry the APIC base), XSAVE, XCRs, debug
 * registers, LAPIC, MSRs (TSC before TSC_DEADLINE, which KVM takes only
 * with the LAPIC timer in deadline mode and as a point on the TSC), and
 * events last. The loader checks every section's size and refuses CPU
 * features this host lacks before KVM sees them.
 */
#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "lib/log.h"
#include "lib/snapfile.h"
#include "vmm/arch.h"
#include "vmm/vm.h"

#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_DEADLINE	0x6e0
#define MSRS_MAX		4096
#define CPUID_ENTRIES_MAX	4096
/* A TSC frequency within this of the saved one needs no scaling
 * (calibration differs by a few kHz between boots of one host). */
#define TSC_KHZ_PPM		250

/* Saving. */

static int save_ioctl(struct vcpu *vcpu, unsigned long req, const char *name, void *p)
{
	if (ioctl(vcpu->fd, req, p) < 0) {
		int err = -errno;

		pr_err("snapshot: cannot save vCPU %u: %s failed: %s", vcpu->id, name,
		       strerror(errno));
		return err;
	}
	return 0;
}

#define SAVE_FIXED(vcpu, w, req, tag, type)				\
	({								\
		type __v;						\
		int __e;						\
									\
		memset(&__v, 0, sizeof(__v));				\
		__e = save_ioctl(vcpu, req, #req, &__v);		\
		if (!__e)						\
			snap_add(w, tag, (vcpu)->id, &__v, sizeof(__v));	\
		__e;							\
	})

static int save_xsave(struct vcpu *vcpu, struct snap_writer *w)
{
	int size = kvm_check_cap(vcpu->vm, KVM_CAP_XSAVE2);
	unsigned long req = KVM_GET_XSAVE2;
	struct kvm_xsave *x;
	int err;

	if (size <= 0) {
		if (!kvm_check_cap(vcpu->vm, KVM_CAP_XSAVE))
			return SAVE_FIXED(vcpu, w, KVM_GET_FPU, SNAP_TAG_X86_FPU, struct kvm_fpu);
		size = sizeof(*x);
		req = KVM_GET_XSAVE;
	}
	if ((size_t)size < sizeof(*x))
		size = sizeof(*x);
	x = calloc(1, size);
	if (!x)
		return -ENOMEM;
	err = save_ioctl(vcpu, req, req == KVM_GET_XSAVE ? "KVM_GET_XSAVE" : "KVM_GET_XSAVE2", x);
	if (!err)
		snap_add(w, SNAP_TAG_X86_XSAVE, vcpu->id, x, size);
	free(x);
	return err;
}

static struct kvm_msr_list *msr_index_list(struct vm *vm)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;

	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	if (probe.nmsrs > MSRS_MAX)
		probe.nmsrs = MSRS_MAX;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0]));
	if (!l)
		return NULL;
	l->nmsrs = probe.nmsrs;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

/* The TSC first, TSC_DEADLINE last, the rest as they were: the order
 * KVM_SET_MSRS must see them in. */
static void msrs_order(struct kvm_msr_entry *e, unsigned int n)
{
	struct kvm_msr_entry t;

	for (unsigned int i = 0; i < n; i++) {
		if (e[i].index == MSR_IA32_TSC && i) {
			t = e[i];
			memmove(e + 1, e, i * sizeof(*e));
			e[0] = t;
		}
	}
	for (unsigned int i = 0; i + 1 < n; i++) {
		if (e[i].index == MSR_IA32_TSC_DEADLINE) {
			t = e[i];
			memmove(e + i, e + i + 1, (n - i - 1) * sizeof(*e));
			e[n - 1] = t;
			break;
		}
	}
}

/* Every MSR of KVM's list that reads back on this vCPU: KVM_GET_MSRS
 * stops at the first it cannot read, which is dropped, and goes on. */
static int save_msrs(struct vcpu *vcpu, struct snap_writer *w)
{
	struct kvm_msr_list *list = msr_index_list(vcpu->vm);
	struct kvm_msrs *m;
	unsigned int n = 0, done = 0;
	struct sbuf *b;
	int err = 0;

	if (!list) {
		pr_err("snapshot: cannot save vCPU %u: KVM_GET_MSR_INDEX_LIST failed", vcpu->id);
		return -EIO;
	}
	m = calloc(1, sizeof(*m) + list->nmsrs * sizeof(m->entries[0]));
	if (!m) {
		free(list);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < list->nmsrs; i++)
		m->entries[n++].index = list->indices[i];
	msrs_order(m->entries, n);
	while (done < n) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e[64];
		} part;
		unsigned int k = n - done < 64 ? n - done : 64;
		int got;

		memset(&part, 0, sizeof(part));
		part.hdr.nmsrs = k;
		memcpy(part.e, m->entries + done, k * sizeof(part.e[0]));
		got = ioctl(vcpu->fd, KVM_GET_MSRS, &part);
		if (got < 0) {
			err = -errno;
			pr_err("snapshot: cannot save vCPU %u: KVM_GET_MSRS failed: %s",
			       vcpu->id, strerror(errno));
			goto out;
		}
		memcpy(m->entries + done, part.e, got * sizeof(part.e[0]));
		done += got;
		if ((unsigned int)got < k) {	/* not readable here: drop it */
			memmove(m->entries + done, m->entries + done + 1,
				(n - done - 1) * sizeof(m->entries[0]));
			n--;
		}
	}
	b = snap_begin(w, SNAP_TAG_X86_MSRS, vcpu->id);
	sbuf_put_u32(b, n);
	for (unsigned int i = 0; i < n; i++) {
		sbuf_put_u32(b, m->entries[i].index);
		sbuf_put_u64(b, m->entries[i].data);
	}
	snap_end(w);
out:
	free(m);
	free(list);
	return err;
}

static struct kvm_cpuid2 *cpuid_alloc(unsigned int n)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

	if (c)
		c->nent = n;
	return c;
}

static int save_cpuid(struct vcpu *vcpu, struct snap_writer *w)
{
	struct kvm_cpuid2 *c = NULL;
	struct sbuf *b;
	int err = -E2BIG;

	for (unsigned int n = 256; n <= CPUID_ENTRIES_MAX && err == -E2BIG; n *= 2) {
		free(c);
		c = cpuid_alloc(n);
		if (!c)
			return -ENOMEM;
		err = ioctl(vcpu->fd, KVM_GET_CPUID2, c) < 0 ? -errno : 0;
	}
	if (err) {
		pr_err("snapshot: cannot save vCPU %u: KVM_GET_CPUID2 failed: %s",
		       vcpu->id, strerror(-err));
		free(c);
		return err;
	}
	b = snap_begin(w, SNAP_TAG_X86_CPUID, vcpu->id);
	sbuf_put_u32(b, c->nent);
	sbuf_put(b, c->entries, c->nent * sizeof(c->entries[0]));
	snap_end(w);
	free(c);
	return 0;
}

int arch_vcpu_save(struct vcpu *vcpu, struct snap_writer *w)
{
	struct vm *vm = vcpu->vm;
	int err, khz;

	err = SAVE_FIXED(vcpu, w, KVM_GET_MP_STATE, SNAP_TAG_X86_MP_STATE, struct kvm_mp_state);
	if (!err)
		err = SAVE_FIXED(vcpu, w, KVM_GET_REGS, SNAP_TAG_X86_REGS, struct kvm_regs);
	if (!err && kvm_check_cap(vm, KVM_CAP_SREGS2))
		err = SAVE_FIXED(vcpu, w, KVM_GET_SREGS2, SNAP_TAG_X86_SREGS2, struct kvm_sregs2);
	else if (!err)
		err = SAVE_FIXED(vcpu, w, KVM_GET_SREGS, SNAP_TAG_X86_SREGS, struct kvm_sregs);
	if (!err)
		err = save_xsave(vcpu, w);
	if (!err && kvm_check_cap(vm, KVM_CAP_XCRS))
		err = SAVE_FIXED(vcpu, w, KVM_GET_XCRS, SNAP_TAG_X86_XCRS, struct kvm_xcrs);
	if (!err && kvm_check_cap(vm, KVM_CAP_DEBUGREGS))
		err = SAVE_FIXED(vcpu, w, KVM_GET_DEBUGREGS, SNAP_TAG_X86_DEBUGREGS,
				 struct kvm_debugregs);
	if (!err)
		err = SAVE_FIXED(vcpu, w, KVM_GET_LAPIC, SNAP_TAG_X86_LAPIC, struct kvm_lapic_state);
	if (!err)
		err = save_msrs(vcpu, w);
	if (!err && kvm_check_cap(vm, KVM_CAP_VCPU_EVENTS))
		err = SAVE_FIXED(vcpu, w, KVM_GET_VCPU_EVENTS, SNAP_TAG_X86_EVENTS,
				 struct kvm_vcpu_events);
	if (!err)
		err = save_cpuid(vcpu, w);
	if (err || !kvm_check_cap(vm, KVM_CAP_GET_TSC_KHZ))
		return err;
	khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
	if (khz <= 0) {
		pr_err("snapshot: cannot save vCPU %u: KVM_GET_TSC_KHZ failed: %s", vcpu->id,
		       strerror(errno));
		return -EIO;
	}
	sbuf_put_u32(snap_begin(w, SNAP_TAG_X86_TSC_KHZ, vcpu->id), khz);
	snap_end(w);
	return 0;
}

/* Loading. */

/* The section (tag, index): its payload, or one error line. */
static int need(const struct snap_reader *r, uint32_t tag, uint32_t index,
		const char *what, struct sbuf_rd *p)
{
	if (snap_find(r, tag, index, p))
		return 0;
	pr_err("snapshot %s: no %s for vCPU %u: take a new snapshot", r->name, what, index);
	return -EINVAL;
}

/* A section that is one KVM structure of exactly n bytes, into p. */
static int need_fixed(const struct snap_reader *r, uint32_t tag, uint32_t index,
		      const char *what, void *p, size_t n)
{
	struct sbuf_rd b;

	if (need(r, tag, index, what, &b))
		return -EINVAL;
	if (b.len != n) {
		pr_err("snapshot %s: the %s of %u is %zu bytes, this kvmini's is %zu: take a new snapshot",
		       r->name, what, index, b.len, n);
		return -EINVAL;
	}
	sbuf_get(&b, p, n);
	return 0;
}

static int load_ioctl(const struct snap_reader *r, struct vcpu *vcpu, unsigned long req,
		      const char *name, void *p)
{
	if (ioctl(vcpu->fd, req, p) < 0) {
		int err = -errno;

		pr_err("snapshot %s: vCPU %u: %s failed: %s: restore on a host like the one the snapshot came from",
		       r->name, vcpu->id, name, strerror(errno));
		return err;
	}
	return 0;
}

#define LOAD_FIXED(r, vcpu, req, tag, type, what)			\
	({								\
		type __v;						\
		int __e = need_fixed(r, tag, (vcpu)->id, what, &__v, sizeof(__v)); \
									\
		if (!__e)						\
			__e = load_ioctl(r, vcpu, req, #req, &__v);	\
		__e;							\
	})

static int load_tsc_khz(struct vcpu *vcpu, const struct snap_reader *r)
{
	struct sbuf_rd b;
	uint32_t saved;
	int cur;

	if (!snap_find(r, SNAP_TAG_X86_TSC_KHZ, vcpu->id, &b))
		return 0;	/* taken where KVM could not tell */
	saved = sbuf_get_u32(&b);
	if (!sbuf_rd_done(&b) || !saved) {
		pr_err("snapshot %s: the TSC frequency of vCPU %u is malformed: take a new snapshot",
		       r->name, vcpu->id);
		return -EINVAL;
	}
	cur = kvm_check_cap(vcpu->vm, KVM_CAP_GET_TSC_KHZ) ?
		ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0) : -1;
	if (cur > 0 && (uint64_t)(saved > (uint32_t)cur ? saved - cur : cur - saved) * 1000000 <=
	    (uint64_t)cur * TSC_KHZ_PPM)
		return 0;
	if (kvm_check_cap(vcpu->vm, KVM_CAP_TSC_CONTROL) &&
	    ioctl(vcpu->fd, KVM_SET_TSC_KHZ, (unsigned long)saved) == 0)
		return 0;
	pr_err("snapshot %s: the guest's TSC ran at %u kHz, this host's at %d kHz and KVM cannot scale it: restore on a host with the same CPU",
	       r->name, saved, cur);
	return -ENOTSUP;
}

enum { EAX, EBX, ECX, EDX };

/* Feature leaves: a bit set in the snapshot must be set in what this
 * host's KVM supports. Ignored: bits kvmini sets itself (hypervisor,
 * HTT) and bits KVM computes from guest state at run time (OSXSAVE,
 * MONITOR, the APIC bit, OSPKE). */
static const struct {
	uint32_t fn, idx;
	uint8_t reg;
	uint32_t ignore;
	const char *name;
} cpuid_features[] = {
	{ 1, 0, ECX, 1U << 31 | 1U << 27 | 1U << 3, "ECX" },
	{ 1, 0, EDX, 1U << 28 | 1U << 9, "EDX" },
	{ 7, 0, EBX, 0, "EBX" },
	{ 7, 0, ECX, 1U << 4, "ECX" },
	{ 7, 0, EDX, 0, "EDX" },
	{ 7, 1, EAX, 0, "EAX" },
	{ 0xd, 0, EAX, 0, "EAX" },
	{ 0xd, 1, EAX, 0, "EAX" },
	{ 0x80000001, 0, ECX, 0, "ECX" },
	{ 0x80000001, 0, EDX, 0, "EDX" },
	{ 0x80000008, 0, EBX, 0, "EBX" },
};

static uint32_t cpuid_reg(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx,
			  unsigned int reg, bool *found)
{
	for (unsigned int i = 0; i < c->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function != fn || e->index != idx)
			continue;
		*found = true;
		return reg == EAX ? e->eax : reg == EBX ? e->ebx : reg == ECX ? e->ecx : e->edx;
	}
	*found = false;
	return 0;
}

/*
 * What this CPU itself has. A KVM whose guests see the host's CPUID
 * directly (kvm_pvm runs them unprivileged, where CPUID does not trap)
 * reports more in KVM_GET_CPUID2 than in KVM_GET_SUPPORTED_CPUID; what
 * the CPU has, the host does not lack.
 */
static uint32_t native_cpuid(uint32_t fn, uint32_t idx, unsigned int reg)
{
	uint32_t r[4];

	if ((uint32_t)__get_cpuid_max(fn & 0x80000000, NULL) < fn)
		return 0;
	__cpuid_count(fn, idx, r[EAX], r[EBX], r[ECX], r[EDX]);
	return r[reg];
}

/*
 * What KVM emulates without listing it in KVM_GET_SUPPORTED_CPUID, and
 * kvmini advertises (arch/x86/cpu.c): the TSC-deadline timer.
 */
static uint32_t kvm_emulated(struct vm *vm, uint32_t fn, uint32_t idx, unsigned int reg)
{
	if (fn == 1 && idx == 0 && reg == ECX &&
	    kvm_check_cap(vm, KVM_CAP_TSC_DEADLINE_TIMER))
		return 1U << 24;
	return 0;
}

static int cpuid_check(const struct snap_reader *r, struct vcpu *vcpu,
		       const struct kvm_cpuid2 *saved)
{
	struct kvm_cpuid2 *host = NULL;
	int err = -E2BIG;

	for (unsigned int n = 256; n <= CPUID_ENTRIES_MAX && err == -E2BIG; n *= 2) {
		free(host);
		host = cpuid_alloc(n);
		if (!host)
			return -ENOMEM;
		err = ioctl(vcpu->vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, host) < 0 ? -errno : 0;
	}
	if (err) {
		pr_err("snapshot %s: KVM_GET_SUPPORTED_CPUID failed: %s", r->name, strerror(-err));
		free(host);
		return err;
	}
	for (size_t i = 0; i < sizeof(cpuid_features) / sizeof(cpuid_features[0]); i++) {
		uint32_t fn = cpuid_features[i].fn, idx = cpuid_features[i].idx, missing;
		bool found;
		uint32_t want = cpuid_reg(saved, fn, idx, cpuid_features[i].reg, &found);
		uint32_t have = cpuid_reg(host, fn, idx, cpuid_features[i].reg, &found) |
				native_cpuid(fn, idx, cpuid_features[i].reg) |
				kvm_emulated(vcpu->vm, fn, idx, cpuid_features[i].reg);

		missing = want & ~have & ~cpuid_features[i].ignore;
		if (missing) {
			pr_err("snapshot %s: vCPU %u needs CPU features this host lacks (CPUID %#x.%u %s bits %#x): restore on a host with the same CPU",
			       r->name, vcpu->id, fn, idx, cpuid_features[i].name, missing);
			free(host);
			return -ENOTSUP;
		}
	}
	free(host);
	return 0;
}

static int load_cpuid(struct vcpu *vcpu, const struct snap_reader *r)
{
	struct kvm_cpuid2 *c;
	struct sbuf_rd b;
	uint32_t n;
	int err;

	if (need(r, SNAP_TAG_X86_CPUID, vcpu->id, "CPUID", &b))
		return -EINVAL;
	n = sbuf_get_u32(&b);
	if (b.bad || n > CPUID_ENTRIES_MAX || b.len - b.off != n * sizeof(c->entries[0])) {
		pr_err("snapshot %s: the CPUID of vCPU %u is malformed: take a new snapshot",
		       r->name, vcpu->id);
		return -EINVAL;
	}
	c = cpuid_alloc(n);
	if (!c)
		return -ENOMEM;
	sbuf_get(&b, c->entries, n * sizeof(c->entries[0]));
	err = cpuid_check(r, vcpu, c);
	if (!err)
		err = load_ioctl(r, vcpu, KVM_SET_CPUID2, "KVM_SET_CPUID2", c);
	free(c);
	return err;
}

static int load_xsave(struct vcpu *vcpu, const struct snap_reader *r)
{
	int size = kvm_check_cap(vcpu->vm, KVM_CAP_XSAVE2);
	struct kvm_xsave *x;
	struct sbuf_rd b;
	int err;

	if (!snap_find(r, SNAP_TAG_X86_XSAVE, vcpu->id, &b))
		return LOAD_FIXED(r, vcpu, KVM_SET_FPU, SNAP_TAG_X86_FPU, struct kvm_fpu, "FPU");
	if (!kvm_check_cap(vcpu->vm, KVM_CAP_XSAVE)) {
		pr_err("snapshot %s: the guest used XSAVE, this host's KVM has none: restore on a host with the same CPU",
		       r->name);
		return -ENOTSUP;
	}
	if ((size_t)size < sizeof(*x))
		size = sizeof(*x);
	if (b.len < sizeof(*x) || b.len > (size_t)size) {
		pr_err("snapshot %s: the XSAVE area of vCPU %u is %zu bytes, this host's is %d: restore on a host with the same CPU",
		       r->name, vcpu->id, b.len, size);
		return -ENOTSUP;
	}
	x = calloc(1, size);
	if (!x)
		return -ENOMEM;
	sbuf_get(&b, x, b.len);
	err = load_ioctl(r, vcpu, KVM_SET_XSAVE, "KVM_SET_XSAVE", x);
	free(x);
	return err;
}

static int load_msrs(struct vcpu *vcpu, const struct snap_reader *r)
{
	struct kvm_msrs *m;
	struct sbuf_rd b;
	uint32_t n;
	int got, err = 0;

	if (need(r, SNAP_TAG_X86_MSRS, vcpu->id, "MSRs", &b))
		return -EINVAL;
	n = sbuf_get_u32(&b);
	if (b.bad || n > MSRS_MAX || b.len - b.off != n * 12ULL) {
		pr_err("snapshot %s: the MSRs of vCPU %u are malformed: take a new snapshot",
		       r->name, vcpu->id);
		return -EINVAL;
	}
	m = calloc(1, sizeof(*m) + n * sizeof(m->entries[0]));
	if (!m)
		return -ENOMEM;
	m->nmsrs = n;
	for (uint32_t i = 0; i < n; i++) {
		m->entries[i].index = sbuf_get_u32(&b);
		m->entries[i].data = sbuf_get_u64(&b);
	}
	msrs_order(m->entries, n);
	got = n ? ioctl(vcpu->fd, KVM_SET_MSRS, m) : 0;
	if (got < 0) {
		err = -errno;
		pr_err("snapshot %s: vCPU %u: KVM_SET_MSRS failed: %s", r->name, vcpu->id,
		       strerror(errno));
	} else if ((uint32_t)got < n) {
		err = -ENOTSUP;
		pr_err("snapshot %s: KVM refused MSR %#x = %#llx of vCPU %u: restore on a host like the one the snapshot came from",
		       r->name, m->entries[got].index,
		       (unsigned long long)m->entries[got].data, vcpu->id);
	}
	free(m);
	return err;
}

static int load_events(struct vcpu *vcpu, const struct snap_reader *r)
{
	struct kvm_vcpu_events ev;
	int err;

	if (!kvm_check_cap(vcpu->vm, KVM_CAP_VCPU_EVENTS))
		return 0;
	err = need_fixed(r, SNAP_TAG_X86_EVENTS, vcpu->id, "events", &ev, sizeof(ev));
	if (err)
		return err;
	/* A pending NMI and the SIPI vector are taken only when asked. */
	ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	return load_ioctl(r, vcpu, KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS", &ev);
}

int arch_vcpu_load(struct vcpu *vcpu, const struct snap_reader *r)
{
	struct vm *vm = vcpu->vm;
	struct sbuf_rd b;
	int err;

	err = load_tsc_khz(vcpu, r);
	if (!err)
		err = load_cpuid(vcpu, r);
	if (!err)
		err = LOAD_FIXED(r, vcpu, KVM_SET_MP_STATE, SNAP_TAG_X86_MP_STATE,
				 struct kvm_mp_state, "MP state");
	if (!err)
		err = LOAD_FIXED(r, vcpu, KVM_SET_REGS, SNAP_TAG_X86_REGS, struct kvm_regs,
				 "registers");
	if (err)
		return err;
	if (snap_find(r, SNAP_TAG_X86_SREGS2, vcpu->id, &b)) {
		if (!kvm_check_cap(vm, KVM_CAP_SREGS2)) {
			pr_err("snapshot %s: saved with KVM_CAP_SREGS2, which this host's KVM lacks: restore on a newer kernel",
			       r->name);
			return -ENOTSUP;
		}
		err = LOAD_FIXED(r, vcpu, KVM_SET_SREGS2, SNAP_TAG_X86_SREGS2, struct kvm_sregs2,
				 "special registers");
	} else {
		err = LOAD_FIXED(r, vcpu, KVM_SET_SREGS, SNAP_TAG_X86_SREGS, struct kvm_sregs,
				 "special registers");
	}
	if (!err)
		err = load_xsave(vcpu, r);
	if (!err && snap_find(r, SNAP_TAG_X86_XCRS, vcpu->id, &b))
		err = LOAD_FIXED(r, vcpu, KVM_SET_XCRS, SNAP_TAG_X86_XCRS, struct kvm_xcrs, "XCRs");
	if (!err && snap_find(r, SNAP_TAG_X86_DEBUGREGS, vcpu->id, &b))
		err = LOAD_FIXED(r, vcpu, KVM_SET_DEBUGREGS, SNAP_TAG_X86_DEBUGREGS,
				 struct kvm_debugregs, "debug registers");
	if (!err)
		err = LOAD_FIXED(r, vcpu, KVM_SET_LAPIC, SNAP_TAG_X86_LAPIC,
				 struct kvm_lapic_state, "LAPIC");
	if (!err)
		err = load_msrs(vcpu, r);
	if (!err)
		err = load_events(vcpu, r);
	return err;
}
