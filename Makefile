# SPDX-License-Identifier: GPL-2.0
#
# katomic: top-level build.
#
#   make                 module (against KDIR), libkatomic, the katomic tool,
#                        host tests and selftests
#   make check           install deps, build, host tests, VM selftests
#                        (KERNEL=6.1|6.12|6.12-rt: on that test bed kernel,
#                        default 6.1; KERNELS="6.1 6.12": on each of them)
#   make check-matrix    make check on all three kernels, a line per kernel
#   make demo            boot the VM, load the module, drive counters and
#                        value slots, print the study tables (hammer, tear)
#   make study           the README's study figures: 10 runs of none, 10^7
#                        ops of every other kind, the tear study (~4 min)
#   make vm              the module built for the VM's kernel (Debian 6.1,
#                        or KERNEL=6.12 or KERNEL=6.12-rt)
#   make lint            checkpatch --strict and sparse on kmod/ and uapi/
#
# KDIR is the build directory of the kernel that will load the module;
# O is where user-space programs go.

KDIR ?= /lib/modules/$(shell uname -r)/build
O ?= $(CURDIR)/build
KATOMIC_CACHE ?= $(HOME)/.cache/katomic
export KATOMIC_CACHE
# The test bed's kernel(s), for the scripts (see scripts/kernel.sh).
export KERNEL KERNELS

.PHONY: all module userspace selftests check check-matrix demo study vm lint clean help

all: module userspace selftests

module:
	@test -f "$(KDIR)/Makefile" || { \
	  echo "katomic: no kernel build tree at KDIR=$(KDIR)"; \
	  echo "  install linux-headers-$$(uname -r), pass KDIR=..., or use 'make vm'"; \
	  exit 1; }
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

userspace:
	$(MAKE) -C userspace O="$(O)"

selftests:
	$(MAKE) -C selftests/katomic OUTPUT="$(O)/selftests/katomic"

# The module for the kernel the QEMU test bed boots.  (eval of kernel.sh's
# output would hide its failure: take the output first, then check KDIR.)
vm:
	@kenv=$$(scripts/kernel.sh) || { \
	  echo "katomic: scripts/kernel.sh failed: no kernel for the test bed" >&2; \
	  exit 1; }; \
	KDIR=; eval "$$kenv"; \
	test -n "$$KDIR" || { \
	  echo "katomic: scripts/kernel.sh printed no KDIR" >&2; exit 1; }; \
	$(MAKE) -C "$$KDIR" M="$(CURDIR)" W=1 modules

lint:
	scripts/lint.sh

check:
	scripts/check.sh

check-matrix:
	KERNELS="6.1 6.12 6.12-rt" scripts/check.sh

demo:
	scripts/demo.sh

study:
	scripts/study.sh

clean:
	-test -f "$(KDIR)/Makefile" && $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean
	rm -rf "$(O)" kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
	  kmod/modules.order modules.order Module.symvers .*.cmd

help:
	@sed -n '3,18s/^# \{0,1\}//p' Makefile
