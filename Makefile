# kvmini — a minimal VMM on Linux KVM.
#
#   make            build build/$(ARCH)/kvmini
#   make run        boot the default guest on this terminal (Ctrl-A x quits)
#   make test       unit suites, native checks and Linux guest boots (lab)
#   make deps       install the Debian packages everything needs
#   make install    kvmini, its guest kernel, manual pages and bash
#                   completion under PREFIX (/usr/local), DESTDIR honoured
#   make bench      kvmini and QEMU side by side: bench/RESULTS.md
#   make lab-arm64  the arm64 build's Linux guest boots (make test runs it)
#
# ARCH=x86_64 (default) or arm64 (cross-built with aarch64-linux-gnu-gcc;
# its tests run in the arm64 lab: make ARCH=arm64 test = make lab-arm64).

ARCH ?= x86_64
KVMINI_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/kvmini
# arm64 libraries and busybox: Debian's arm64 packages unpacked into a
# sysroot (scripts/sysroot.sh), since libfdt-dev installs for one
# architecture only.
SYSROOT_ARM64 ?= $(KVMINI_CACHE)/sysroot-arm64
GUEST_X86 := build/guest
GUEST_ARM64 := build/guest-arm64
ifeq ($(ARCH),arm64)
CROSS ?= aarch64-linux-gnu-
SRCARCH := arm64
SYSROOT := $(SYSROOT_ARM64)
PKG_CONFIG := PKG_CONFIG_LIBDIR=$(SYSROOT)/usr/lib/aarch64-linux-gnu/pkgconfig \
	      PKG_CONFIG_SYSROOT_DIR=$(SYSROOT) pkg-config
GUEST := $(GUEST_ARM64)
KERNEL_IMAGE := Image
else
SRCARCH := x86
GUEST := $(GUEST_X86)
KERNEL_IMAGE := bzImage
endif
CC := $(CROSS)gcc
PKG_CONFIG ?= pkg-config

BUILD := build/$(ARCH)$(if $(SANITIZE),-san)

# The suites and native checks run on the build host, not cross-built.
ifeq ($(ARCH),arm64)
HOST_ONLY := $(filter unit native check-sanitize fuzz,$(MAKECMDGOALS))
ifneq ($(HOST_ONLY),)
$(error make $(HOST_ONLY) runs on the build host: leave out ARCH=arm64)
endif
endif

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -pthread \
	  -D_GNU_SOURCE -I. \
	  $(shell $(PKG_CONFIG) --cflags liburing 2>/dev/null) \
	  $(EXTRA_CFLAGS)
# Debian's libfdt ships no .pc file; fall back to plain -lfdt.
LIBS := $(shell $(PKG_CONFIG) --libs liburing 2>/dev/null || echo -luring) \
	$(shell $(PKG_CONFIG) --libs libfdt 2>/dev/null || echo -lfdt) \
	$(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp) -pthread
# Every symbol bound at start (and the GOT read-only: full RELRO): a lazy
# binding once set-up is over would fault the dynamic linker's code back
# into the RSS that lib/trim.c gave back.
LIBS += -Wl,-z,now
# --net user needs libslirp (backend/slirp.c), which Debian ships as a shared
# library only: the static kvmini gets slirp.c's stubs, which say so.
ifeq ($(ARCH),arm64)
# The sysroot's libslirp-dev (scripts/packages-arm64.txt), named directly:
# pkg-config runs before this make can unpack it, and its slirp.pc wants
# glib's .pc files, which the header does not need.
SLIRP_LIBS := -lslirp
SLIRP_CFLAGS := -I$(SYSROOT)/usr/include/slirp
else
SLIRP_LIBS := $(shell $(PKG_CONFIG) --libs slirp 2>/dev/null)
SLIRP_CFLAGS = $(shell $(PKG_CONFIG) --cflags slirp)
endif
# It is loaded when --net user asks for it (backend/slirp_lib.c), not
# linked: a VM without user networking maps neither libslirp nor glib.
ifneq ($(SLIRP_LIBS),)
CFLAGS += $(SLIRP_CFLAGS) -DKVMINI_HAVE_SLIRP
LIBS += -ldl
endif
ifneq ($(SYSROOT),)
# Explicit too, since pkg-config above ran before this make could unpack
# it; system headers, as on the host (no warnings from their macros).
CFLAGS += -isystem $(SYSROOT)/usr/include
# The dynamic build (the arm64 lab's, with --net user) links the
# sysroot's shared libraries, and they find theirs there too.
LIBS += -L$(SYSROOT)/usr/lib/aarch64-linux-gnu \
	-Wl,-rpath-link,$(SYSROOT)/usr/lib/aarch64-linux-gnu
endif
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -fno-omit-frame-pointer -O1
LIBS += -fsanitize=address,undefined
endif

SRCS := main.c $(wildcard lib/*.c fdt/*.c legacy/*.c pci/*.c virtio/*.c backend/*.c vmm/*.c \
	arch/$(SRCARCH)/*.c exec/*.c oci/*.c)
# kvmini exec's guest agent travels inside kvmini (exec/exec_agent.S).
AGENT := $(BUILD)/agent
OBJS := $(SRCS:%.c=$(BUILD)/%.o) $(BUILD)/exec/exec_agent.o
# main.c is the program; everything below it goes into the unit tests.
LIB_OBJS := $(filter-out $(BUILD)/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
# Other architectures' pure parsers and tree callbacks, for their suites.
UNIT_PORTABLE := $(filter-out arch/$(SRCARCH)/%,arch/arm64/image.c arch/arm64/fdt.c arch/arm64/its_state.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o) $(UNIT_PORTABLE:%.c=$(BUILD)/%.o)

KVMINI := $(BUILD)/kvmini
STATIC := $(BUILD)/kvmini-static
# One unit binary per layer (scripts/check-layers.sh has the order): a
# layer's suites link that layer and the ones below it, nothing above, so
# a test that needs a higher layer does not link. Suites go by the module
# they test.
UNIT_LAYERS := lib fdt legacy pci virtio backend vmm exec oci
UNIT_DIRS_lib := lib
UNIT_DIRS_fdt := $(UNIT_DIRS_lib) fdt
UNIT_DIRS_legacy := $(UNIT_DIRS_fdt) legacy
UNIT_DIRS_pci := $(UNIT_DIRS_legacy) pci
UNIT_DIRS_virtio := $(UNIT_DIRS_pci) virtio
UNIT_DIRS_backend := $(UNIT_DIRS_virtio) backend
UNIT_DIRS_vmm := $(UNIT_DIRS_backend) vmm arch
UNIT_DIRS_exec := $(UNIT_DIRS_vmm) exec
UNIT_DIRS_oci := $(UNIT_DIRS_exec) oci
UNIT_TESTS_lib := bus mem uring term sbuf mem_file snap_dir janitor snapfile json trim
UNIT_TESTS_fdt := fdt
UNIT_TESTS_legacy := serial i8042
UNIT_TESTS_pci := pci pci_msix pci_state
UNIT_TESTS_virtio := virtq mmio virtio_pci virtio_pci_state coalesce virtio_rng virtio_state virtio_console vports virtio_net vhost_user virtio_vsock
UNIT_TESTS_backend := slirp virtiofsd virtio_blk virtio_vsock_uds
UNIT_TESTS_vmm := cli disk e820 mptable acpi aml bzimage elf arm64_image arm64_fdt arm64_its console_out x86_state control
UNIT_TESTS_exec := exec cpio exec_cache
UNIT_TESTS_oci := oci_config oci_state
UNIT_COMMON := $(BUILD)/tests/unit/main.o $(BUILD)/tests/unit/util.o
UNIT_FAKES := $(BUILD)/tests/unit/fake_virtq.o
UNIT_BINS := $(UNIT_LAYERS:%=$(BUILD)/unit-%)
UNIT := $(UNIT_BINS)

.PHONY: all static unit test check-sanitize guests run lab lab-arm64 native deps clean fuzz
all: $(KVMINI)

$(SYSROOT_ARM64)/.complete: scripts/sysroot.sh scripts/packages-arm64.txt
	scripts/sysroot.sh $(SYSROOT_ARM64)
ifneq ($(SYSROOT),)
# A normal prerequisite, not order-only: a sysroot unpacked anew (a new
# package list) may change headers and what CFLAGS find (libslirp), so
# objects built against the old one are stale.
$(OBJS): $(SYSROOT)/.complete
endif

# The version is compiled into cli.o: rebuild it whenever the string changes.
VERSION_STAMP := $(BUILD)/version
$(VERSION_STAMP): FORCE
	@mkdir -p $(dir $@)
	@echo '$(VERSION)' | cmp -s - $@ || echo '$(VERSION)' >$@
$(BUILD)/vmm/cli.o: CFLAGS += -DKVMINI_VERSION='"$(VERSION)"'
$(BUILD)/vmm/cli.o: $(VERSION_STAMP)
.PHONY: FORCE

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# The agent is PID 1 of a guest with no libraries: static, and built
# with its own flags (no sanitizers, no liburing).
$(AGENT): guests/agent/agent.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -Os -D_GNU_SOURCE -static -s -o $@ $<
$(BUILD)/exec/exec_agent.o: exec/exec_agent.S $(AGENT)
	@mkdir -p $(dir $@)
	$(CC) -c -DAGENT_PATH='"$(AGENT)"' -o $@ $<

$(KVMINI): $(OBJS)
	$(CC) -o $@ $^ $(LIBS)

# The lab packs kvmini into an initramfs with no shared libraries.
STATIC_OBJS := $(filter-out $(BUILD)/backend/slirp.o $(BUILD)/backend/slirp_lib.o,$(OBJS)) \
	$(BUILD)/backend/slirp-stub.o
$(BUILD)/backend/slirp-stub.o: backend/slirp.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -UKVMINI_HAVE_SLIRP -MMD -MP -c -o $@ $<
-include $(BUILD)/backend/slirp-stub.d
$(STATIC): $(STATIC_OBJS)
	$(CC) -static -o $@ $^ $(filter-out $(SLIRP_LIBS),$(LIBS))
static: $(STATIC)

# unit_objs LAYER: the production objects of LAYER and those below it.
unit_objs = $(filter $(foreach d,$(UNIT_DIRS_$(1)),$(BUILD)/$(d)/%),$(LIB_OBJS) \
	$(UNIT_PORTABLE:%.c=$(BUILD)/%.o))
define UNIT_BIN
$(BUILD)/unit-$(1): $(UNIT_COMMON) $(if $(filter lib fdt legacy pci,$(1)),,$(UNIT_FAKES)) \
		$(UNIT_TESTS_$(1):%=$(BUILD)/tests/unit/test_%.o) $$(call unit_objs,$(1))
	$$(CC) -o $$@ $$^ $$(shell $$(PKG_CONFIG) --libs check) $$(LIBS)
endef
$(foreach l,$(UNIT_LAYERS),$(eval $(call UNIT_BIN,$(l))))
# Every suite is in exactly one layer's binary.
UNIT_LISTED := $(sort $(foreach l,$(UNIT_LAYERS),$(UNIT_TESTS_$(l))))
UNIT_FOUND := $(sort $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c)))
ifneq ($(UNIT_LISTED),$(UNIT_FOUND))
$(error unit suites not in UNIT_TESTS_<layer>: $(filter-out $(UNIT_LISTED),$(UNIT_FOUND)))
endif

# Includes point only down the layers (ARCHITECTURE.md, "Layers").
.PHONY: check-layers
check-layers:
	scripts/check-layers.sh

# The manual pages list exactly the options --help lists.
.PHONY: check-man
check-man: $(KVMINI)
	scripts/check-man.sh $(KVMINI) docs/man

# make install into a temporary DESTDIR, what it put there, and make
# uninstall (tests/install.sh; a few seconds, no guest kernel build).
.PHONY: check-install
check-install: $(KVMINI)
	tests/install.sh $(if $(SANITIZE),SANITIZE=$(SANITIZE))

# The suites, without the test cases that read the real guest kernels
# (tagged "kernel"), so that they need no kernel build.
unit: check-layers check-man check-install $(UNIT)
	@rc=0; for u in $(UNIT); do echo "unit: $$u"; CK_EXCLUDE_TAGS=kernel $$u || rc=1; done; exit $$rc

# The parser test cases on the real guest kernels, of both architectures.
.PHONY: unit-kernels
unit-kernels: $(UNIT) $(GUEST_X86)/bzImage $(GUEST_ARM64)/Image
	CK_INCLUDE_TAGS=kernel KVMINI_GUEST_DIR=$(GUEST_X86) \
		KVMINI_GUEST_ARM64_DIR=$(GUEST_ARM64) $(BUILD)/unit-vmm

# Guest kernel and initramfs, built from Debian packages and cached
# (see guests/README.md); a second run reuses them.
# (Without this make's flags: a parallel make's jobserver would hold the
# kernel's own make -j to one job.)
$(GUEST_X86)/bzImage: guests/build-kernel.sh guests/kernel/x86_64.config
	MAKEFLAGS= MFLAGS= guests/build-kernel.sh x86_64 $(GUEST_X86)
$(GUEST_ARM64)/Image: guests/build-kernel.sh guests/kernel/arm64.config
	MAKEFLAGS= MFLAGS= guests/build-kernel.sh arm64 $(GUEST_ARM64)
# Test programs that busybox lacks, static, for the test guest and the
# lab's outer VM alike.
GUEST_TOOLS := $(addprefix $(GUEST)/,$(basename $(notdir $(wildcard guests/tools/*.c))))
$(GUEST_TOOLS): $(GUEST)/%: guests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -Os -D_GNU_SOURCE -static -s -o $@ $<
$(GUEST)/initramfs.cpio.gz: guests/build-initramfs.sh $(wildcard guests/initramfs/* tests/guest/*) \
		$(GUEST_TOOLS) $(if $(SYSROOT),$(SYSROOT)/.complete)
	KVMINI_SYSROOT_ARM64=$(SYSROOT_ARM64) guests/build-initramfs.sh $(GUEST) $(ARCH)
guests: $(GUEST)/$(KERNEL_IMAGE) $(GUEST)/initramfs.cpio.gz

# Natively when this host's KVM can boot Linux, else inside the lab.
# RUN_ARGS adds kvmini options, e.g. make run RUN_ARGS="--cpus 2".
run: $(KVMINI) $(STATIC) guests
	@echo "make run: checking whether this host's KVM boots Linux (a few seconds)"
	@if tests/lab/probe.sh $(KVMINI) $(GUEST); then \
		echo "make run: booting the guest on this host's KVM"; \
		$(KVMINI) run --kernel $(GUEST)/$(KERNEL_IMAGE) --initrd $(GUEST)/initramfs.cpio.gz $(RUN_ARGS); \
	else \
		echo "make run: this host's KVM cannot boot Linux; using the lab (real KVM nested in QEMU's emulator: slow, a minute or two to a shell)"; \
		tests/lab/run.sh --arch $(ARCH) --kvmini $(STATIC) --guest $(GUEST) --interactive "--console stdio $(RUN_ARGS)"; \
	fi

# A guest of a few hundred bytes that runs on any KVM (tests/native/tiny.S).
# Built twice: entered through PVH, and (TINY64) through the 64-bit boot
# protocol as an ELF without the PVH note.
TINY := $(BUILD)/tiny.elf
TINY64 := $(BUILD)/tiny64.elf
TINY_LD := -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,tests/native/tiny.ld
$(TINY): tests/native/tiny.S tests/native/tiny.ld
	@mkdir -p $(dir $@)
	$(CC) $(TINY_LD) -o $@ $<
$(TINY64): tests/native/tiny.S tests/native/tiny.ld
	@mkdir -p $(dir $@)
	$(CC) $(TINY_LD) -DTINY64 -o $@ $<

# Error paths and the tiny guest, directly on this host's KVM.
native: $(KVMINI) $(TINY) $(TINY64) $(GUEST)/bzImage
	tests/native/run.sh $(KVMINI) $(TINY) $(GUEST) $(TINY64)

# Real Linux guests under real KVM: natively when this host's KVM can
# boot Linux, and always inside the lab (nested KVM under QEMU). On arm64,
# the scenarios that hold there (not ACPI's, nor blk.sh, whose tools disk
# is x86_64's: blk-busybox.sh stands in), in one boot of the lab and one
# more for those that name HOSTROOT (vsock, pci-stock, share).
ARM64_SCENARIOS := boot exit-status cpus mem rng virtio-reset endings poweroff \
	interactive stock-kernel load-errors exec blk-busybox blk-reset net-tap \
	vsock vsock-pci hostile-blk hostile-race hostile-tap hostile-vsock snapshot snapshot-pci \
	pci net-mq pci-stock share net-user
ifeq ($(ARCH),arm64)
LAB_SCENARIOS := $(ARM64_SCENARIOS:%=tests/scenarios/%.sh)
else
# A scenario the lab itself cannot run reliably goes in LAB_QUARANTINE,
# with the reason (tests/lab/README.md); `make lab-quarantine` runs those.
# None now: net-tap, held out while the lab's outer VM had two CPUs,
# passes with one.
LAB_QUARANTINE :=
LAB_SCENARIOS := $(filter-out $(LAB_QUARANTINE),$(wildcard tests/scenarios/*.sh))
endif
# Debian 12's stock kernels for tests/scenarios/acpi*.sh and pci-stock.sh,
# and arm64's cloud kernel (guests/build-debian.sh): fetched once and
# cached, reassembled when the test initramfs changes.
# (The x86_64 one makes debian-cloud/ beside debian-generic/.)
DEBIAN_GUEST := $(GUEST)/debian-$(if $(filter x86_64,$(ARCH)),generic,cloud)/initramfs.cpio.gz
$(DEBIAN_GUEST): guests/build-debian.sh $(GUEST)/initramfs.cpio.gz
	guests/build-debian.sh $(GUEST) $(ARCH)
# Both labs run the dynamic build, libraries and all (libslirp has no
# static library: --net user); arm64's are the sysroot's (tests/lab/README.md).
LAB_KVMINI := $(KVMINI)
# Each lab's whole budget in seconds, boots again after a hang included
# (a normal run took about 23 minutes on x86_64 before the pci, podman and
# containerd scenarios, which add about 5, and pci-stock and net-mq about 5
# more; 14 on arm64 before pci and net-mq, about 7 more, and pci-stock with
# the outer VM it shares with vsock.sh (HOSTROOT) about 2), so that make test
# stays within a CI job's limit whatever the emulator does.
LAB_BUDGET ?= $(if $(filter x86_64,$(ARCH)),3000,1800)
lab: $(LAB_KVMINI) guests $(DEBIAN_GUEST)
	KVMINI_SYSROOT_ARM64=$(SYSROOT_ARM64) \
	tests/lab/run.sh --arch $(ARCH) --kvmini $(LAB_KVMINI) --guest $(GUEST) \
		--timeout $(LAB_BUDGET) $(LAB_SCENARIOS)

lab-arm64:
	$(MAKE) ARCH=arm64 lab

.PHONY: lab-quarantine
lab-quarantine: $(LAB_KVMINI) guests
	@[ -n "$(strip $(LAB_QUARANTINE))" ] || { echo "lab-quarantine: no scenario is held out"; exit 0; }; \
	tests/lab/run.sh --arch $(ARCH) --kvmini $(LAB_KVMINI) --guest $(GUEST) $(LAB_QUARANTINE)

# make run as a user runs it, under a pseudo-terminal: to the guest's
# shell, a typed command, and "exit 3" (tests/lab/make-run.sh).
.PHONY: check-run
check-run: $(KVMINI) $(STATIC) guests
	tests/lab/make-run.sh

# The two labs side by side, each an emulated machine of its own (x86_64
# one CPU, arm64 two; CI has two cores): the x86_64 lab in one line of
# work, the arm64 lab and then check-run in the other. Their lines
# interleave; each says which lab it is ("lab/", "lab-arm64/").
ifeq ($(ARCH),arm64)
test: lab
else
test: unit unit-kernels native
	@$(MAKE) --no-print-directory lab & a=$$!; \
	{ $(MAKE) --no-print-directory lab-arm64; r=$$?; \
	  $(MAKE) --no-print-directory check-run && exit $$r; } & b=$$!; \
	ra=0; rb=0; wait $$a || ra=$$?; wait $$b || rb=$$?; \
	echo "test: x86_64 lab $$([ $$ra -eq 0 ] && echo passed || echo FAILED)," \
		"arm64 lab and check-run $$([ $$rb -eq 0 ] && echo passed || echo FAILED)"; \
	[ $$ra -eq 0 ] && [ $$rb -eq 0 ]
endif

# The unit suites and the native tests (tiny guest boots, seccomp on)
# under ASan, LeakSanitizer and UBSan; then one boot and exit of the tiny
# guest under valgrind, which cannot run a process that filters its own
# system calls, hence --no-seccomp there. Check's per-test timeouts are
# five times longer there: a sanitized test on a busy machine (a lab
# beside it) once ran past the default 4 s.
check-sanitize: $(KVMINI) $(TINY)
	CK_TIMEOUT_MULTIPLIER=5 $(MAKE) SANITIZE=1 unit unit-kernels native
	valgrind -q --leak-check=full --error-exitcode=1 \
		$(KVMINI) run --kernel $(TINY) --cmdline tiny=h --no-seccomp </dev/null
	@echo "check-sanitize: valgrind found nothing"

# Every fuzz target for a bounded time (tests/fuzz/).
fuzz:
	tests/fuzz/run.sh

# The long soak, on demand (docs/soak.md): SOAK_RESTORES restores of one
# snapshot of the tiny guest on this host (x86_64), SOAK_BOOTS Linux boots
# in the lab, then one kvmini whose guest resets its devices SOAK_ROUNDS times.
# make native runs the quick one (200 boots of the tiny guest).
SOAK_BOOTS ?= 200
SOAK_ROUNDS ?= 100
SOAK_RESTORES ?= 100
.PHONY: soak
soak: $(STATIC) guests $(if $(filter x86_64,$(ARCH)),$(KVMINI) $(TINY))
	$(if $(filter x86_64,$(ARCH)),tests/soak/restore.sh $(KVMINI) $(TINY) $(SOAK_RESTORES))
	tests/soak/run.sh --arch $(ARCH) --kvmini $(STATIC) --guest $(GUEST) \
		--boots $(SOAK_BOOTS) --rounds $(SOAK_ROUNDS)

# kvmini and QEMU microvm side by side (bench/README.md; x86_64): natively
# when this host's KVM can boot Linux, else in the lab. Writes
# bench/RESULTS.md and bench/results.json.
.PHONY: bench
bench: $(KVMINI) $(STATIC) guests
	bench/run.sh --kvmini $(KVMINI) --static $(STATIC) --guest $(GUEST)

# Both package lists; scripts/deps.sh --build-only installs only what
# building and running kvmini needs.
deps:
	scripts/deps.sh

# Install in the GNU conventions (PREFIX, DESTDIR): nothing outside
# $(DESTDIR)$(PREFIX), no build path in the binary. The guest kernel that
# kvmini exec boots by default goes under share/, not lib/: to the host it
# is data that kvmini reads, never code the host runs (as QEMU's guest
# firmware is in /usr/share/qemu), and the ARCH directory keeps the
# kernels of several architectures apart in one shared tree. INSTALL_KERNEL
# names another kernel file (tests/install.sh gives a stand-in).
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
INSTALL_KERNEL ?= $(GUEST)/$(KERNEL_IMAGE)
MAN_PAGES := $(wildcard docs/man/*.1)
INSTALL_FILES := $(BINDIR)/kvmini $(BINDIR)/kvmini-oci \
	$(DATADIR)/kvmini/$(ARCH)/$(KERNEL_IMAGE) \
	$(MAN_PAGES:docs/man/%=$(MANDIR)/man1/%) \
	$(DATADIR)/bash-completion/completions/kvmini
.PHONY: install uninstall
install: $(KVMINI) $(INSTALL_KERNEL)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR)/kvmini/$(ARCH) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DATADIR)/bash-completion/completions
	install -m 0755 $(KVMINI) $(DESTDIR)$(BINDIR)/kvmini
	ln -sf kvmini $(DESTDIR)$(BINDIR)/kvmini-oci
	install -m 0644 $(INSTALL_KERNEL) $(DESTDIR)$(DATADIR)/kvmini/$(ARCH)/$(KERNEL_IMAGE)
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 contrib/bash-completion/kvmini \
		$(DESTDIR)$(DATADIR)/bash-completion/completions/kvmini
uninstall:
	rm -f $(INSTALL_FILES:%=$(DESTDIR)%)
	rmdir $(DESTDIR)$(DATADIR)/kvmini/$(ARCH) $(DESTDIR)$(DATADIR)/kvmini 2>/dev/null || true

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
