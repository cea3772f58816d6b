// SPDX-License-Identifier: GPL-2.0
/*
 * The VM generation ID (Microsoft's "Virtual Machine Generation ID"
 * spec, as QEMU and Firecracker present it; Linux: drivers/virt/vmgenid.c):
 * a 16-byte random GUID in guest memory that changes whenever the VM is
 * started again from a snapshot, so that the guest reseeds its random
 * number generator instead of repeating what its twins produce.
 *
 * The GUID lives at X86_VMGENID_ADDR, in a page e820.c reserves. The
 * DSDT describes it as \_SB.VGEN, whose ADDR method gives its address,
 * and a Generic Event Device (ACPI0013: the hardware-reduced machine has
 * no GPE block) whose _EVT does Notify (VGEN, 0x80) when its interrupt,
 * X86_GED_IRQ, fires. kvmini raises that line, edge-triggered so that
 * nothing needs acknowledging, after it writes a new GUID on restore.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "arch/x86/aml.h"
#include "arch/x86/x86.h"
#include "lib/log.h"
#include "lib/mem.h"
#include "vmm/arch.h"
#include "vmm/vm.h"

#define VMGENID_SIZE		16
/* Notify value 0x80: the spec's "the generation ID changed". */
#define VMGENID_NOTIFY		0x80

/* arch_virtio_slot() (vm.c) gives the virtio devices pins 5 up, one each. */
_Static_assert(5 + VM_MAX_VIRTIO <= X86_GED_IRQ, "the GED's pin is a virtio device's");
_Static_assert(X86_GED_IRQ < X86_IOAPIC_PINS, "the GED's pin is on the IOAPIC");
_Static_assert(X86_VMGENID_ADDR % 8 == 0 &&
	       X86_VMGENID_ADDR + VMGENID_SIZE <= X86_EBDA_START,
	       "the GUID sits 8-byte aligned in its own reserved page");

/*
 * Device (VGEN): _HID "VMGENCTR" and _CID "VM_Gen_Counter" are both IDs
 * Linux's driver takes (ACPICA upper-cases the _CID, which it matches as
 * "VM_GEN_COUNTER"); _DDN as the spec asks. ADDR returns the GUID's
 * address as a package of its low and high 32 bits.
 */
static void vmgenid_device(struct aml *a, uint64_t guid)
{
	struct aml_mark dev = aml_device_begin(a, "VGEN");
	struct aml_mark method, pkg;

	aml_name(a, "_HID");
	aml_string(a, "VMGENCTR");
	aml_name(a, "_CID");
	aml_string(a, "VM_Gen_Counter");
	aml_name(a, "_DDN");
	aml_string(a, "VM_Gen_Counter");
	method = aml_method_begin(a, "ADDR", 0);
	aml_return(a);
	pkg = aml_package_begin(a, 2);
	aml_integer(a, guid & 0xffffffff);
	aml_integer(a, guid >> 32);
	aml_end(a, pkg);
	aml_end(a, method);
	aml_end(a, dev);
}

/*
 * Device (GED): Linux's acpi-ged driver requests each interrupt of _CRS
 * and runs _EVT with the GSI as Arg0 when it fires. Edge-triggered and
 * active high, which is what a pulse on KVM_IRQ_LINE delivers.
 */
static void vmgenid_ged(struct aml *a, uint32_t gsi)
{
	struct aml_mark dev = aml_device_begin(a, "GED");
	struct aml_mark crs, method, cond;

	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	aml_name(a, "_CRS");
	crs = aml_restemplate_begin(a);
	aml_res_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, gsi);
	aml_end(a, crs);
	method = aml_method_begin(a, "_EVT", 1);
	cond = aml_if_begin(a);
	aml_lequal(a);
	aml_arg(a, 0);
	aml_integer(a, gsi);
	aml_notify(a, "\\_SB.VGEN", VMGENID_NOTIFY);
	aml_end(a, cond);
	aml_end(a, method);
	aml_end(a, dev);
}

void vmgenid_dsdt(struct aml *a, uint64_t guid, uint32_t gsi)
{
	vmgenid_device(a, guid);
	vmgenid_ged(a, gsi);
}

/* A new GUID from the host's CSPRNG, into guest memory. */
static int vmgenid_write(struct vm *vm)
{
	uint8_t *p = gmem_ptr(&vm->mem, X86_VMGENID_ADDR, VMGENID_SIZE);
	uint8_t id[VMGENID_SIZE];
	size_t done = 0;

	if (!p) {
		pr_err("guest memory too small for the VM generation ID: use a larger --mem or --no-acpi");
		return -ENOSPC;
	}
	while (done < sizeof(id)) {
		ssize_t n = getrandom(id + done, sizeof(id) - done, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("cannot make a VM generation ID: getrandom: %s", strerror(errno));
			return -errno;
		}
		done += n;
	}
	memcpy(p, id, sizeof(id));
	return 0;
}

int vmgenid_init(struct vm *vm)
{
	return vmgenid_write(vm);
}
