# Builds the fuzz targets for tests/fuzz/run.sh (make -f tests/fuzz/fuzz.mk,
# from the top of the tree). kvmini's own sources are compiled by clang
# with libFuzzer's coverage instrumentation, ASan and UBSan into one
# archive; each target links against it, and the linker takes from an
# archive only the objects a target needs. So a target names no source
# list, and a file that moves or appears needs no edit here.

CC := clang
PKG_CONFIG ?= pkg-config
FUZZ := build/fuzz

SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
CFLAGS := -std=gnu11 -g -O1 -fno-omit-frame-pointer -D_GNU_SOURCE -I. \
	  -Wall -Wextra $(SAN) -fsanitize=fuzzer-no-link \
	  $(shell $(PKG_CONFIG) --cflags liburing 2>/dev/null)
# gcc's -Werror build owns kvmini's warnings; clang's own dialect warnings
# (cpu.c's GNU variable-sized struct) must not break fuzzing. The targets
# themselves are held to -Werror.
TARGET_CFLAGS := $(CFLAGS) -Werror
LIBS := $(shell $(PKG_CONFIG) --libs libfdt 2>/dev/null || echo -lfdt) \
	$(shell $(PKG_CONFIG) --libs liburing 2>/dev/null || echo -luring) \
	$(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null || echo -lseccomp) \
	-pthread

# With arm64's portable parser (no KVM in it), as the unit tests have it.
LIB_SRCS := $(wildcard lib/*.c fdt/*.c legacy/*.c pci/*.c virtio/*.c backend/*.c vmm/*.c \
	    exec/*.c arch/x86/*.c arch/arm64/image.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ)/obj/%.o)
TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
BINS := $(TARGETS:%=$(FUZZ)/fuzz_%)

.PHONY: all targets
# A target's own object is intermediate to make: keep it anyway.
.PRECIOUS: $(FUZZ)/obj/tests/fuzz/%.o
all: $(BINS)

# For run.sh: the targets this tree has.
targets:
	@echo $(TARGETS)

$(FUZZ)/obj/vmm/cli.o: CFLAGS += -DKVMINI_VERSION='"fuzz"'

$(FUZZ)/obj/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(TARGET_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ)/libkvmini.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ)/fuzz_%: $(FUZZ)/obj/tests/fuzz/fuzz_%.o $(FUZZ)/obj/tests/fuzz/common.o $(FUZZ)/libkvmini.a
	$(CC) $(SAN) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(filter %.a,$^) $(LIBS)

# The kernel loaders share a fake x86 VM.
$(FUZZ)/fuzz_bzimage $(FUZZ)/fuzz_elf: $(FUZZ)/obj/tests/fuzz/x86_boot.o

# The seed generator is a plain program (tests/fuzz/README.md).
$(FUZZ)/seeds: tests/fuzz/seeds.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -D_GNU_SOURCE -I. -Wall -Wextra -Werror -o $@ $<

-include $(LIB_OBJS:.o=.d) $(wildcard $(FUZZ)/obj/tests/fuzz/*.d)
