# berth: one small static binary. See README.md; `make help` lists the targets.

VERSION    := 0.1.0
GIT_REV    := $(shell git describe --always --dirty 2>/dev/null || echo unknown)

O          ?= build
ifeq ($(origin CC),default)
CC         := gcc
endif
# `make V=1` shows the full commands.
ifeq ($(V),1)
Q          :=
else
Q          := @
endif
KCONFIG_CONFIG ?= .config
export KCONFIG_CONFIG

# .config is the source of truth; without one, the default configuration is used.
ifeq ($(wildcard $(KCONFIG_CONFIG)),)
CONFIG_FILE := board/configs/berth_defconfig
else
CONFIG_FILE := $(KCONFIG_CONFIG)
endif
include $(CONFIG_FILE)

WARN       := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2 -Wundef
ifeq ($(WERROR),1)
WARN       += -Werror
endif
OPT        ?= -Os
CFLAGS_BASE = -std=gnu11 $(WARN) -ffunction-sections -fdata-sections -D_GNU_SOURCE \
	      -DBERTH_VERSION='"$(VERSION)"' -DBERTH_GIT_REV='"$(GIT_REV)"' \
	      -I$(O) -Icore -Iinit -isystem /usr/include/inih
CFLAGS     ?= $(OPT) -g
ALL_CFLAGS  = $(CFLAGS_BASE) $(CFLAGS) $(EXTRA_CFLAGS)
LDFLAGS    ?=
ALL_LDFLAGS = -Wl,--gc-sections $(LDFLAGS) $(EXTRA_LDFLAGS)

# Libraries, named explicitly (libarchive's `pkg-config --static` output asks for -lacl,
# which Debian ships no .a for). Features switched off in Kconfig drop their libraries.
LIBS :=
ifeq ($(CONFIG_TLS),y)
LIBS += -lmbedtls -lmbedx509
endif
LIBS += -lmbedcrypto -linih -ljansson -larchive
ifeq ($(CONFIG_SECCOMP),y)
LIBS += -lseccomp
endif
ifeq ($(CONFIG_COMPOSE),y)
LIBS += -lyaml
endif
# The squashfs writer compresses gzip with libdeflate (CONFIG_SQUASHFS_LIBDEFLATE) or zlib, zstd
# with libzstd (CONFIG_SQUASHFS_ZSTD) and xz with liblzma (CONFIG_SQUASHFS_XZ); the static link
# and default links below list -lzstd and -llzma for libarchive already.
ifeq ($(CONFIG_SQUASHFS_LIBDEFLATE),y)
LIBS += -ldeflate
endif
ifeq ($(SHARED),1)
ifeq ($(CONFIG_SQUASHFS_ZSTD),y)
LIBS += -lzstd
endif
ifeq ($(CONFIG_SQUASHFS_XZ),y)
LIBS += -llzma
endif
endif
ifeq ($(STATIC),1)
# libarchive's own dependencies: only the objects we reference get pulled from the .a files.
LIBS += -lnettle -llzma -lzstd -llz4 -lbz2 -lz
ALL_LDFLAGS += -static
else ifeq ($(SHARED),1)
LIBS += -lz
else
# The default: the libraries from their .a files, the C library shared. Loading some twenty
# shared libraries costs a start 7-10 ms, more than everything else berth does for it
# (docs/benchmarks.md); SHARED=1 links them shared, as a distribution package would, and as
# a toolchain without the .a files needs (Buildroot with BR2_SHARED_LIBS).
LIBS := -Wl,-Bstatic $(LIBS) -lnettle -llzma -lzstd -llz4 -lbz2 -lz -Wl,-Bdynamic
endif

SRCS       := $(sort $(wildcard core/*/*.c init/*.c))
MAIN_SRC   := core/cli/main.c
LIB_SRCS   := $(filter-out $(MAIN_SRC),$(SRCS))
OBJS       := $(SRCS:%.c=$(O)/obj/%.o)
LIB_OBJS   := $(LIB_SRCS:%.c=$(O)/obj/%.o)
DEPS       := $(OBJS:.o=.d)

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)

.PHONY: all help clean distclean check unit-tests size musl-check fuzz \
	defconfig menuconfig olddefconfig savedefconfig demo

all: $(O)/berth

help:
	@echo 'make                  build $(O)/berth: libraries static, libc shared (STATIC=1: all static; SHARED=1: all shared)'
	@echo 'make check            deps (if missing), build, unit, unit under ASan+UBSan, fuzz'
	@echo '                      regression, system and QEMU tests; one summary line'
	@echo 'make demo             the appliance in QEMU: berth as PID 1 pulls a signed image'
	@echo '                      from a local registry, runs the example apps, powers off'
	@echo 'make size             binary size and its 20 largest symbols'
	@echo 'make musl-check       compile every source file with musl-gcc'
	@echo 'make fuzz             build the libFuzzer targets into $(O)/fuzz'
	@echo 'make defconfig        .config from Kconfig defaults (menuconfig, olddefconfig too)'
	@echo 'make minimal_defconfig  every optional feature off'

# The first build on a new machine installs what is missing (Debian packages, via deps.sh).
$(O)/.deps-ok: scripts/deps.sh
	@mkdir -p $(@D)
	$(Q)scripts/deps.sh --check >/dev/null 2>&1 || \
		if [ "$$(id -u)" = 0 ]; then scripts/deps.sh; \
		else echo 'warning: dependencies missing; run scripts/deps.sh as root' >&2; fi
	@touch $@

$(O)/config.h: $(CONFIG_FILE) Kconfig scripts/kconfig2h.awk | $(O)/.deps-ok
	@mkdir -p $(@D)
	$(Q)awk -f scripts/kconfig2h.awk Kconfig $(CONFIG_FILE) > $@.tmp && mv $@.tmp $@

$(O)/obj/%.o: %.c $(O)/config.h
	@mkdir -p $(@D)
	@$(if $(Q),echo '  CC      $<')
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(O)/libberth.a: $(LIB_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(O)/berth: $(O)/obj/$(MAIN_SRC:.c=.o) $(O)/libberth.a
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(ALL_LDFLAGS) $(LIBS) -o $@

# ---- tests ----
$(O)/tests/%: tests/unit/%.c $(O)/libberth.a $(O)/config.h
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit $< $(O)/libberth.a $(ALL_LDFLAGS) $(LIBS) -lcmocka -o $@

unit-tests: $(UNIT_BINS)

# Small drivers the system tests build on demand (`make build/tools/sqfs_from_dir`).
$(O)/tools/%: tests/tools/%.c $(O)/libberth.a $(O)/config.h
	@mkdir -p $(@D)
	@$(if $(Q),echo '  LD      $@')
	$(Q)$(CC) $(ALL_CFLAGS) $< $(O)/libberth.a $(ALL_LDFLAGS) $(LIBS) -o $@

# Installs missing dependencies first, so it cannot depend on anything that needs them.
check:
	O=$(O) scripts/check.sh $(SUITES)

demo:
	BUILD=$(abspath $(O)) scripts/demo.sh

# ---- fuzzing: clang + libFuzzer, with ASan and UBSan ----
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRCS:tests/fuzz/%.c=$(O)/fuzz/%)
FUZZ_O     := $(O)/fuzz-obj

fuzz: $(FUZZ_BINS)

$(FUZZ_O)/libberth.a: $(LIB_SRCS) $(O)/config.h
	@mkdir -p $(FUZZ_O)
	$(MAKE) --no-print-directory O=$(FUZZ_O) CC=clang OPT=-O1 STATIC= \
		EXTRA_CFLAGS='-fsanitize=fuzzer-no-link,address,undefined -g' $(FUZZ_O)/libberth.a

$(O)/fuzz/%: tests/fuzz/%.c $(FUZZ_O)/libberth.a
	@mkdir -p $(@D)
	clang $(CFLAGS_BASE) -I$(FUZZ_O) -O1 -g -fsanitize=fuzzer,address,undefined $< \
		$(FUZZ_O)/libberth.a $(LIBS) -o $@

# ---- size ----
size: $(O)/berth
	@strip -o $(O)/berth.stripped $(O)/berth
	@printf 'berth %s (%s), features:%s\n' '$(VERSION)' '$(CONFIG_FILE)' \
		"$$(sed -n 's/^#define ENABLE_\([A-Z0-9_]*\) 1/ \1/p' $(O)/config.h | tr -d '\n' | tr 'A-Z' 'a-z')"
	@printf 'file: %s bytes unstripped, %s bytes stripped (%s)\n' \
		$$(stat -c %s $(O)/berth) $$(stat -c %s $(O)/berth.stripped) \
		"$$(file -b $(O)/berth | cut -d, -f1-4)"
	@size $(O)/berth
	@echo 'largest symbols (bytes, type, name):'
	@nm --size-sort -S -r -t d $(O)/berth | head -n 20 | awk '{ printf "  %8d %s %s\n", $$2, $$3, $$4 }'

# ---- musl: keep the code free of glibc-only APIs ----
MUSL_INC := $(O)/musl-include
musl-check: $(O)/config.h
	@command -v musl-gcc >/dev/null || { echo 'musl-gcc missing: run scripts/deps.sh' >&2; exit 1; }
	@scripts/musl-headers.sh $(MUSL_INC)
	@fail=0; for f in $(SRCS); do \
		musl-gcc -std=gnu11 $(WARN) -Werror -Os -D_GNU_SOURCE -DBERTH_VERSION='"x"' -DBERTH_GIT_REV='"x"' \
			-I$(O) -Icore -Iinit -isystem $(MUSL_INC) -c $$f -o /dev/null || fail=1; \
	done; \
	[ $$fail = 0 ] && echo "musl-check: $(words $(SRCS)) files compile with musl-gcc"; exit $$fail

# ---- configuration (kconfiglib, Debian's python3-kconfiglib) ----
# Debian installs kconfiglib for the system python, which a PATH python may not see.
PYTHON3 ?= $(firstword $(wildcard /usr/bin/python3) python3)
KCONFIGLIB = $(PYTHON3) -m
defconfig:
	$(KCONFIGLIB) alldefconfig Kconfig
menuconfig:
	$(KCONFIGLIB) menuconfig Kconfig
olddefconfig:
	$(KCONFIGLIB) olddefconfig Kconfig
savedefconfig:
	$(KCONFIGLIB) savedefconfig --kconfig Kconfig --out defconfig
%_defconfig: board/configs/%_defconfig
	$(KCONFIGLIB) defconfig --kconfig Kconfig $<

clean:
	rm -rf $(O)/obj $(O)/tests $(O)/fuzz $(O)/fuzz-obj $(O)/asan $(O)/berth $(O)/berth.stripped \
		$(O)/libberth.a $(O)/config.h $(O)/musl-include

distclean:
	rm -rf $(O) .config .config.old

-include $(DEPS)
