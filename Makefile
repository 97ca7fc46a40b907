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
#   make check-debug     make check on the two debug kernels (KASAN, KFENCE,
#                        UBSAN, lockdep, kmemleak, fault injection; KCSAN),
#                        built from linux-source-6.1 on first use (cached)
#   make demo            boot the VM, load the module, drive counters and
#                        value slots, print the study tables (hammer, tear)
#   make study           the README's study figures: 10 runs of none, 10^7
#                        ops of every other kind, the tear study (~4 min)
#   make bench-uring     the README's batch and io_uring figures: the
#                        liburing demo in the VM at B = 1, 16, 256 (~1 min)
#   make bench           katomic bench's full matrix in the VM, written into
#                        bench/ (table, CSV, JSON, PNG plot; ~5 min)
#   make vm              the module built for the VM's kernel (Debian 6.1,
#                        or KERNEL=6.12 or KERNEL=6.12-rt)
#   make lint            checkpatch --strict and sparse on kmod/ and uapi/;
#                        the uapi header alone in C, C++ and -m32
#   make install         after make: the module (modules_install + depmod,
#                        for KDIR's kernel), the katomic tool, libkatomic
#                        (static, shared, katomic.pc), the headers, the man
#                        pages katomic(1) and katomic(4), the udev rule and
#                        modprobe.d/katomic.conf; DESTDIR and PREFIX
#                        (default /usr/local) are honoured
#   make uninstall       remove what make install installed (same DESTDIR,
#                        PREFIX and KDIR)
#   make dkms-install    as root: copy the module's sources to
#                        /usr/src/katomic-VERSION, dkms add, build and
#                        install for KVER (default: KDIR's kernel)
#   make dkms-uninstall  as root: dkms remove every katomic version, delete
#                        /usr/src/katomic-*
#
# KDIR is the build directory of the kernel that will load the module, KVER
# its release; O is where user-space programs go.  The version is the file
# VERSION (used by dkms.conf, katomic.pc and the man pages).

KDIR ?= /lib/modules/$(shell uname -r)/build
O ?= $(CURDIR)/build
KATOMIC_CACHE ?= $(HOME)/.cache/katomic
export KATOMIC_CACHE
# The test bed's kernel(s), for the scripts (see scripts/kernel.sh).
export KERNEL KERNELS

.PHONY: all module userspace selftests check check-matrix check-debug demo study \
	bench-uring bench vm lint \
	clean help install install-module install-data uninstall dkms-install \
	dkms-uninstall

VERSION := $(shell cat "$(CURDIR)/VERSION")
# The release of KDIR's kernel, as its modules' vermagic names it.
KVER ?= $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"/\1/p' \
	"$(KDIR)/include/generated/utsrelease.h" 2>/dev/null)

DESTDIR ?=
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
# udev and kmod both read $(PREFIX)/lib/... for /usr and /usr/local.
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
MODPROBEDIR ?= $(PREFIX)/lib/modprobe.d
INSTALL_VARS = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" $(if $(BINDIR),BINDIR="$(BINDIR)") \
	$(if $(LIBDIR),LIBDIR="$(LIBDIR)") $(if $(INCLUDEDIR),INCLUDEDIR="$(INCLUDEDIR)") \
	$(if $(PKGCONFIGDIR),PKGCONFIGDIR="$(PKGCONFIGDIR)")

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

check-debug:
	KERNELS="6.1-kasan 6.1-kcsan" scripts/check.sh

demo:
	scripts/demo.sh

study:
	scripts/study.sh

bench-uring:
	scripts/bench-uring.sh

# make bench: katomic bench in the VM; bench/ gets the results (KERNEL=
# picks the test bed kernel; BENCH_ARGS go to katomic bench).
bench:
	scripts/bench.sh $(if $(BENCH_ARGS),-- $(BENCH_ARGS))

# make install: the module as it was built (make, or make vm with KDIR of
# the test bed), with kbuild's modules_install into
# $(DESTDIR)/lib/modules/$(KVER)/extra, then depmod for that kernel (-b
# DESTDIR when staging).  A kernel tree without its signing key (Debian's
# headers) installs the module unsigned instead of failing to sign it
# (kbuild's own cmd_sign is turned into a no-op).  kbuild's depmod step
# needs the kernel's System.map, which headers lack: depmod runs here.
# kbuild and dkms run with MAKEFLAGS emptied: this make's command line (O=,
# DESTDIR=, ...) must not reach kbuild, which takes O= as its output
# directory.
install: install-module
	$(MAKE) -C userspace install O="$(O)" $(INSTALL_VARS)
	$(MAKE) install-data

install-module:
	@test -f "$(KDIR)/Makefile" || { \
	  echo "katomic: no kernel build tree at KDIR=$(KDIR)" >&2; exit 1; }
	@test -n "$(KVER)" || { \
	  echo "katomic: no UTS_RELEASE in $(KDIR): pass KVER=..." >&2; exit 1; }
	@test -f kmod/katomic.ko || { \
	  echo "katomic: kmod/katomic.ko is not built: run make first" >&2; exit 1; }
	@built=$$(modinfo -F vermagic kmod/katomic.ko | cut -d' ' -f1); \
	test "$$built" = "$(KVER)" || { \
	  echo "katomic: kmod/katomic.ko is built for $$built, KDIR is $(KVER):" \
	    "run make KDIR=$(KDIR) module first" >&2; exit 1; }
	@key=$$(sed -n 's/^CONFIG_MODULE_SIG_KEY="\(.*\)"$$/\1/p' "$(KDIR)/.config" 2>/dev/null); \
	case $$key in /*) ;; *) key="$(KDIR)/$$key" ;; esac; \
	nosign=; \
	if grep -qs '^CONFIG_MODULE_SIG_ALL=y' "$(KDIR)/.config" && [ ! -r "$$key" ]; then \
	  echo "katomic: $(KDIR) has no signing key: the module is installed unsigned"; \
	  nosign="cmd_sign=: quiet_cmd_sign="; \
	fi; \
	echo "$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(DESTDIR) $$nosign modules_install"; \
	out=$$(MAKEFLAGS= $(MAKE) -C "$(KDIR)" M="$(CURDIR)" INSTALL_MOD_PATH="$(DESTDIR)" \
	  $${nosign:+"cmd_sign=:" "quiet_cmd_sign="} modules_install 2>&1); rc=$$?; \
	printf '%s\n' "$$out" | grep -v -e "missing 'System.map' file. Skipping depmod" \
	  -e "^make\(\[[0-9]*\]\)\?: \(Entering\|Leaving\) directory"; \
	exit $$rc
	depmod $(if $(DESTDIR),-b "$(DESTDIR)") -a "$(KVER)"

# The man pages (with VERSION), the udev rule and modprobe.d/katomic.conf;
# a real install (no DESTDIR, as root) also adds the system group katomic
# that the udev rule gives /dev/katomic to.
install-data:
	install -d "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man4" \
		"$(DESTDIR)$(UDEVRULESDIR)" "$(DESTDIR)$(MODPROBEDIR)"
	for s in 1 4; do \
	  sed 's/@VERSION@/$(VERSION)/g' man/katomic.$$s.in \
	    >"$(DESTDIR)$(MANDIR)/man$$s/katomic.$$s" && \
	  chmod 0644 "$(DESTDIR)$(MANDIR)/man$$s/katomic.$$s" || exit 1; \
	done
	install -m 0644 dist/60-katomic.rules "$(DESTDIR)$(UDEVRULESDIR)/60-katomic.rules"
	install -m 0644 dist/katomic.conf "$(DESTDIR)$(MODPROBEDIR)/katomic.conf"
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && ! getent group katomic >/dev/null; then \
	  echo "groupadd --system katomic"; groupadd --system katomic; \
	fi

uninstall:
	$(MAKE) -C userspace uninstall O="$(O)" $(INSTALL_VARS)
	rm -f "$(DESTDIR)$(MANDIR)/man1/katomic.1" "$(DESTDIR)$(MANDIR)/man4/katomic.4" \
		"$(DESTDIR)$(UDEVRULESDIR)/60-katomic.rules" "$(DESTDIR)$(MODPROBEDIR)/katomic.conf"
	@if [ -n "$(KVER)" ] && [ -d "$(DESTDIR)/lib/modules/$(KVER)" ]; then \
	  echo "rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/kmod/katomic.ko*"; \
	  rm -f "$(DESTDIR)/lib/modules/$(KVER)/extra/kmod/"katomic.ko*; \
	  rmdir "$(DESTDIR)/lib/modules/$(KVER)/extra/kmod" 2>/dev/null || :; \
	  depmod $(if $(DESTDIR),-b "$(DESTDIR)") -a "$(KVER)"; \
	fi

# DKMS.  The sources dkms needs (dkms.conf, VERSION, the Kbuild files,
# kmod/ and the uapi header) are copied to /usr/src/katomic-$(VERSION);
# dkms-install first removes every katomic already registered, so it can
# be run again after a change.
DKMS_FILES = dkms.conf VERSION Kbuild kmod/Kbuild uapi/linux/katomic.h \
	$(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h)

dkms-install:
	@command -v dkms >/dev/null || { \
	  echo "katomic: dkms is not installed (apt-get install dkms)" >&2; exit 1; }
	@test -n "$(KVER)" || { \
	  echo "katomic: which kernel? no UTS_RELEASE in KDIR=$(KDIR): pass KVER=..." >&2; exit 1; }
	@test -f "/lib/modules/$(KVER)/build/Makefile" || { \
	  echo "katomic: no headers at /lib/modules/$(KVER)/build (linux-headers-$(KVER)?)" >&2; exit 1; }
	$(MAKE) -s dkms-uninstall
	rm -rf /usr/src/katomic-$(VERSION)
	for f in $(DKMS_FILES); do \
	  install -D -m 0644 "$$f" "/usr/src/katomic-$(VERSION)/$$f" || exit 1; \
	done
	MAKEFLAGS= dkms add -m katomic -v $(VERSION)
	MAKEFLAGS= dkms build -m katomic -v $(VERSION) -k $(KVER)
	MAKEFLAGS= dkms install -m katomic -v $(VERSION) -k $(KVER)

dkms-uninstall:
	@if command -v dkms >/dev/null; then \
	  for v in $$(dkms status -m katomic 2>/dev/null | \
	      sed -n 's|^katomic/\([^,:]*\)[,:].*|\1|p' | sort -u); do \
	    echo "dkms remove -m katomic -v $$v --all"; \
	    MAKEFLAGS= dkms remove -m katomic -v "$$v" --all || exit 1; \
	  done; \
	fi
	rm -rf /usr/src/katomic-[0-9]*

clean:
	-test -f "$(KDIR)/Makefile" && $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean
	rm -rf "$(O)" kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd \
	  kmod/modules.order modules.order Module.symvers .*.cmd

help:
	@sed -n '3,/^$$/s/^# \{0,1\}//p' Makefile
