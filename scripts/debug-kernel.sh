#!/usr/bin/env bash
# Build (once, then cached) a debug kernel for the test bed from Debian's
# linux-source-6.1: allnoconfig plus scripts/debug-kernel/base.config (what
# the test bed needs to boot, lockdep, fault injection) plus the flavour's
# fragment:
#   kasan   KASAN (generic, inline, vmalloc), KFENCE, UBSAN, kmemleak
#   kcsan   KCSAN (it excludes KASAN)
# Every symbol the fragments set is checked in the resulting .config: a
# fragment line Kconfig dropped (a dependency missing, a symbol renamed)
# fails the build instead of silently testing less.
#
#   scripts/debug-kernel.sh FLAVOUR   build if needed, print KVER=, VMLINUZ=,
#                                     KDIR= (as scripts/kernel.sh does)
#
# The build lives in $cache/debug-kernel/FLAVOUR, stamped with KEY, a hash
# of the fragments, the linux-source package's version and the compiler's:
# a changed KEY makes the config again and rebuilds in place (kbuild
# rebuilds what the change touches; a new source version or compiler, all
# of it).  The source is unpacked once into $cache/debug-kernel/src-VERSION
# (an O= build refers to it).  The last build's time and the kernel's size
# are kept in the build's build.time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${KATOMIC_CACHE:-$HOME/.cache/katomic}
tarball=${KATOMIC_KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
frags=$here/debug-kernel
flavour=${1:-}

case $flavour in
kasan | kcsan) ;;
*)
	echo "debug-kernel: usage: $0 kasan|kcsan" >&2
	exit 2
	;;
esac
if [ ! -r "$tarball" ]; then
	echo "debug-kernel: $tarball missing (apt-get install linux-source-6.1)" >&2
	exit 1
fi

srcver=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || echo unknown)
key=$( {
	cat "$frags/base.config" "$frags/$flavour.config"
	echo "$srcver"
	gcc --version | head -n1
} | sha256sum | cut -c1-12)
top=$cache/debug-kernel
src=$top/src-$srcver
out=$top/$flavour
mkdir -p "$top"

# The source, once per linux-source version (one unpacker at a time).
exec 8>"$top/.lock-src"
flock 8
if [ ! -f "$src/.unpacked" ]; then
	echo "debug-kernel: unpacking $tarball" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.unpacked"
	mv "$src.tmp" "$src"
fi
flock -u 8

# One builder per flavour; the other flavour's kernel may build meanwhile.
exec 9>"$top/.lock-$flavour"
flock 9

# The config, checked symbol by symbol.
check_config() {
	local frag=$1 cfg=$2 line sym want got bad=0

	while IFS= read -r line; do
		case $line in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*} want=${line#*=}
		got=$(sed -n "s/^$sym=//p" "$cfg")
		if [ "$want" = n ]; then
			[ -z "$got" ] && continue
		elif [ "$got" = "$want" ]; then
			continue
		fi
		echo "debug-kernel: $sym=$want asked, .config has '${got:-not set}'" >&2
		bad=1
	done <"$frag"
	return "$bad"
}

if [ "$(cat "$out/.built" 2>/dev/null)" != "$key" ]; then
	rm -f "$out/.built"
	# Another source tree or compiler: nothing of the old build is good.
	[ "$(cat "$out/.src" 2>/dev/null)" = "$src $(gcc --version | head -n1)" ] ||
		rm -rf "$out"
	mkdir -p "$out"
	echo "$src $(gcc --version | head -n1)" >"$out/.src"
	rm -f "$out/.config"
	# The flavour's fragment comes last: its lines win.
	cat "$frags/base.config" "$frags/$flavour.config" >"$out/fragment.config"
	make -s -C "$src" O="$out" KCONFIG_ALLCONFIG="$out/fragment.config" \
		allnoconfig 2>&1 | grep -v 'override: reassigning to symbol' >&2 || true
	# The flavour's own lines must hold; base lines it overrides are not
	# checked against base.
	check_config "$frags/$flavour.config" "$out/.config" || exit 1
	grep -v -f <(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=.*/^\1=/p' "$frags/$flavour.config") \
		"$frags/base.config" >"$out/base-checked.config"
	check_config "$out/base-checked.config" "$out/.config" || exit 1
	echo "debug-kernel: building the $flavour kernel in $out (2 cores: tens of minutes)" >&2
	start=$(date +%s)
	if ! make -C "$src" O="$out" -j"$(nproc)" \
		>"$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log" >&2
		echo "debug-kernel: the build failed; log: $out/build.log" >&2
		exit 1
	fi
	end=$(date +%s)
	printf 'seconds=%s\ncpus=%s\nbzimage_bytes=%s\n' "$((end - start))" \
		"$(nproc)" "$(stat -c %s "$out/arch/x86/boot/bzImage")" >"$out/build.time"
	echo "$key" >"$out/.built"
fi

kver=$(cat "$out/include/config/kernel.release")
env=$cache/kernel-6.1-$flavour.env
{
	echo "# written by scripts/debug-kernel.sh; sourced by sh and included by make"
	echo "KVER=$kver"
	echo "VMLINUZ=$out/arch/x86/boot/bzImage"
	echo "KDIR=$out"
} >"$env.tmp"
mv "$env.tmp" "$env"
cat "$env"
