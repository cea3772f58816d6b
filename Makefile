# kvmini — a minimal VMM on Linux KVM.
#
#   make            build build/$(ARCH)/kvmini
#   make run        boot the default guest on this terminal (Ctrl-A x quits)
#   make test       unit suites, native checks and Linux guest boots (lab)
#   make deps       install the Debian packages everything needs
#
# ARCH=x86_64 (default) or arm64 (cross-built with aarch64-linux-gnu-gcc).

ARCH ?= x86_64
ifeq ($(ARCH),arm64)
CROSS ?= aarch64-linux-gnu-
SRCARCH := arm64
else
SRCARCH := x86
endif
CC := $(CROSS)gcc
PKG_CONFIG ?= pkg-config

BUILD := build/$(ARCH)$(if $(SANITIZE),-san)
GUEST := build/guest

VERSION := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g -pthread \
	  -D_GNU_SOURCE -I. \
	  $(shell $(PKG_CONFIG) --cflags liburing 2>/dev/null) \
	  $(EXTRA_CFLAGS)
# Debian's libfdt ships no .pc file; fall back to plain -lfdt.
LIBS := $(shell $(PKG_CONFIG) --libs liburing 2>/dev/null || echo -luring) \
	$(shell $(PKG_CONFIG) --libs libfdt 2>/dev/null || echo -lfdt) \
	$(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp) -pthread
ifneq ($(SANITIZE),)
CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	  -fno-omit-frame-pointer -O1
LIBS += -fsanitize=address,undefined
endif

SRCS := $(wildcard vmm/*.c virtio/*.c fdt/*.c arch/$(SRCARCH)/*.c)
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/vmm/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)

KVMINI := $(BUILD)/kvmini
STATIC := $(BUILD)/kvmini-static
UNIT := $(BUILD)/unit-tests

.PHONY: all static unit test check-sanitize guests run lab native deps clean fuzz
all: $(KVMINI)

$(BUILD)/vmm/cli.o: CFLAGS += -DKVMINI_VERSION='"$(VERSION)"'

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(KVMINI): $(OBJS)
	$(CC) -o $@ $^ $(LIBS)

# The lab packs kvmini into an initramfs with no shared libraries.
$(STATIC): $(OBJS)
	$(CC) -static -o $@ $^ $(LIBS)
static: $(STATIC)

$(UNIT): $(LIB_OBJS) $(UNIT_OBJS)
	$(CC) -o $@ $^ $(shell $(PKG_CONFIG) --libs check) $(LIBS)

# The parser suites read the real guest kernels.
unit: $(UNIT) $(GUEST)/bzImage
	KVMINI_GUEST_DIR=$(GUEST) $(UNIT)

# Guest kernel and initramfs, built from Debian packages and cached
# (see guests/README.md); a second run reuses them.
$(GUEST)/bzImage: guests/build-kernel.sh guests/kernel/x86_64.config
	guests/build-kernel.sh x86_64 $(GUEST)
$(GUEST)/initramfs.cpio.gz: guests/build-initramfs.sh $(wildcard guests/initramfs/* tests/guest/*)
	guests/build-initramfs.sh $(GUEST)
guests: $(GUEST)/bzImage $(GUEST)/initramfs.cpio.gz

# Natively when this host's KVM can boot Linux, else inside the lab.
# RUN_ARGS adds kvmini options, e.g. make run RUN_ARGS="--cpus 2".
run: $(KVMINI) $(STATIC) guests
	@if tests/lab/probe.sh $(KVMINI) $(GUEST); then \
		$(KVMINI) run --kernel $(GUEST)/bzImage --initrd $(GUEST)/initramfs.cpio.gz $(RUN_ARGS); \
	else \
		echo "make run: this host's KVM cannot boot Linux; using the lab"; \
		tests/lab/run.sh --kvmini $(STATIC) --guest $(GUEST) --interactive "--console stdio $(RUN_ARGS)"; \
	fi

# A guest of a few hundred bytes that runs on any KVM (tests/native/tiny.S).
TINY := $(BUILD)/tiny.elf
$(TINY): tests/native/tiny.S tests/native/tiny.ld
	@mkdir -p $(dir $@)
	$(CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-T,tests/native/tiny.ld -o $@ $<

# Error paths and the tiny guest, directly on this host's KVM.
native: $(KVMINI) $(TINY) $(GUEST)/bzImage
	tests/native/run.sh $(KVMINI) $(TINY) $(GUEST)

# Real Linux guests under real KVM: natively when this host's KVM can
# boot Linux, and always inside the lab (nested KVM under QEMU).
lab: $(STATIC) guests
	tests/lab/run.sh --kvmini $(STATIC) --guest $(GUEST) tests/scenarios/*.sh

test: unit native lab

check-sanitize:
	$(MAKE) SANITIZE=1 unit

# Every fuzz target for a bounded time (tests/fuzz/).
fuzz:
	tests/fuzz/run.sh

deps:
	scripts/deps.sh

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
