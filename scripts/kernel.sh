#!/usr/bin/env bash
# Provision the kernel the QEMU test bed boots: Debian's linux-image-<kver>,
# downloaded (never installed) and unpacked into the cache, plus the matching
# headers to build the module against.
#
#   scripts/kernel.sh          provision, write the kernel's env file, print it
#   scripts/kernel.sh --kver   only print the kernel version that would be used
#
# $KERNEL picks the kernel (default 6.1):
#   6.1      Debian bookworm's kernel: what linux-image-amd64 depends on
#   6.12     Debian's 6.12 for bookworm (+deb12, bookworm-security): what
#            linux-image-6.12-amd64 depends on
#   6.12-rt  the same kernel's PREEMPT_RT flavour (linux-image-6.12-rt-amd64)
#   6.1-kasan, 6.1-kcsan  debug kernels built from linux-source-6.1 by
#            scripts/debug-kernel.sh (built once, then cached)
# or $KATOMIC_KVER names the version (a Debian kernel ABI name of that
# flavour, e.g. 6.1.0-56-amd64 or 6.12.117+deb12-amd64).
#
# Headers: 6.1's linux-headers-<kver> is installed (DKMS and a plain `make`
# use it too).  6.12's headers package depends on its linux-image package,
# which would install a kernel (and initramfs-tools, and run their hooks) on
# a machine that never boots it: its three packages (linux-headers-<kver>,
# their -common part and linux-kbuild) are unpacked into the cache instead,
# and only their build dependencies (gcc-12, pahole, ...) are installed.
#
# Output: KVER=, VMLINUZ=, KDIR=, also written to $cache/kernel-$KERNEL.env
# (and, for 6.1, to $cache/kernel.env as before), so kernels coexist in
# one cache.
set -euo pipefail
cache=${KATOMIC_CACHE:-$HOME/.cache/katomic}
kernel=${KERNEL:-6.1}
export DEBIAN_FRONTEND=noninteractive
updated=0

# meta: the package whose dependency names the version; flavour: what a
# version of this kernel looks like (for $KATOMIC_KVER).
case $kernel in
6.1-kasan | 6.1-kcsan)
	[ $# -eq 0 ] || { echo "kernel.sh: $kernel is built, not resolved: no --kver" >&2; exit 2; }
	exec "$(dirname "$0")/debug-kernel.sh" "${kernel#6.1-}"
	;;
6.1) meta=linux-image-amd64 flavour='6.1.*-amd64' ;;
6.12) meta=linux-image-6.12-amd64 flavour='6.12.*+deb12-amd64' ;;
6.12-rt) meta=linux-image-6.12-rt-amd64 flavour='6.12.*+deb12-rt-amd64' ;;
*)
	echo "kernel.sh: unknown KERNEL '$kernel' (6.1, 6.12, 6.12-rt, 6.1-kasan or 6.1-kcsan)" >&2
	exit 2
	;;
esac

apt_update() {
	[ "$updated" = 1 ] && return 0
	apt-get update -qq >/dev/null
	updated=1
}

# The kernel ABI name $meta depends on, from apt's lists.
resolve_kver() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1
}

# Set $v to the kernel version to use.
kver() {
	v=${KATOMIC_KVER:-}
	# shellcheck disable=SC2254 # $flavour is a pattern
	case $v in
	'' | $flavour) ;;
	*)
		echo "kernel.sh: KATOMIC_KVER=$v is no $kernel kernel ($flavour)" >&2
		exit 2
		;;
	esac
	if [ -z "$v" ]; then
		v=$(resolve_kver)
		if [ -z "$v" ]; then
			apt_update
			v=$(resolve_kver)
		fi
	fi
	[ -n "$v" ] || { echo "kernel.sh: cannot resolve $meta" >&2; exit 1; }
}

# apt-get download PKG... into the directory $1; with stale lists a file
# may have left the archive: update them once and try again.
download() {
	local dir=$1
	shift
	if ! (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root \
		"$@" >/dev/null 2>&1); then
		[ "$updated" = 1 ] && return 1	# lists are fresh: a real failure
		apt_update
		(cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root \
			"$@" >/dev/null) || return 1
	fi
}

# Download linux-image-$1 into a temp dir and unpack its vmlinuz and config.
fetch_image() {
	local v=$1 dest=$2 tmp deb
	tmp=$(mktemp -d "$cache/.kernel.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $tmp is local
	trap "rm -rf '$tmp'" EXIT
	download "$tmp" "linux-image-$v" || return 1
	deb=$(echo "$tmp"/*.deb)
	dpkg-deb --fsys-tarfile "$deb" |
		tar -x -C "$tmp" "./boot/vmlinuz-$v" "./boot/config-$v" || return 1
	mkdir -p "$dest" &&
	mv "$tmp/boot/config-$v" "$dest/config" &&
	mv "$tmp/boot/vmlinuz-$v" "$dest/vmlinuz" || return 1	# last: marks it complete
	rm -rf "$tmp"
	trap - EXIT
}

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# The packages PKG depends on, one a line (of an alternative "a | b", the
# last: apt-cache marks the others with '|').
depends() {
	apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: \([^<>]*\)$/\1/p'
}

# 6.12: unpack linux-headers-$1, its -common part and linux-kbuild into
# $2 (a root: usr/src, usr/lib), install what they need to build with, and
# point the headers' Makefile, which includes the -common one by its
# absolute path under /usr/src, at the unpacked copy.
fetch_headers() {
	local v=$1 dest=$2 tmp deps common='' kbuild='' p missing=() mk out
	[ -f "$dest/.complete" ] && return 0
	deps=$(depends "linux-headers-$v")
	[ -n "$deps" ] || { apt_update; deps=$(depends "linux-headers-$v"); }
	for p in $deps; do
		case $p in
		linux-headers-*common*) common=$p ;;
		linux-kbuild-*) kbuild=$p ;;
		esac
	done
	if [ -z "$common" ] || [ -z "$kbuild" ]; then
		echo "kernel.sh: linux-headers-$v: no -common or linux-kbuild package among its dependencies" >&2
		return 1
	fi
	# The build's own dependencies: gcc-12 (the compiler 6.12+deb12 was
	# built with), pahole (module BTF); the kbuild tools' libraries are
	# the base system's.
	for p in $deps $(depends "$kbuild"); do
		case $p in
		linux-* | lib*) ;;	# the kernel's own packages; libs come with the tools
		*) installed "$p" || missing+=("$p") ;;
		esac
	done
	if [ ${#missing[@]} -gt 0 ]; then
		apt_update
		# Quiet unless it fails (debconf talks on stderr).
		if ! out=$(apt-get install -y -qq --no-install-recommends \
			"${missing[@]}" 2>&1); then
			echo "$out" >&2
			echo "kernel.sh: cannot install ${missing[*]}" >&2
			return 1
		fi
	fi
	tmp=$(mktemp -d "$cache/.headers.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $tmp is local
	trap "rm -rf '$tmp'" EXIT
	mkdir "$tmp/debs" "$tmp/root"
	download "$tmp/debs" "linux-headers-$v" "$common" "$kbuild" || return 1
	for p in "$tmp"/debs/*.deb; do
		dpkg-deb -x "$p" "$tmp/root" || return 1
	done
	rm -rf "$tmp/debs" "$tmp/root/usr/share"
	mk=$tmp/root/usr/src/linux-headers-$v/Makefile
	grep -q '^include /usr/src/' "$mk" || {
		echo "kernel.sh: $mk: no 'include /usr/src/...' line to redirect" >&2
		return 1
	}
	sed -i "s|^include /usr/src/|include $dest/usr/src/|" "$mk"
	rm -rf "$dest"
	mkdir -p "$(dirname "$dest")"
	mv "$tmp/root" "$dest"
	touch "$dest/.complete"
	rm -rf "$tmp"
	trap - EXIT
}

if [ "${1:-}" = --kver ]; then
	kver
	echo "$v"
	exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--kver]" >&2; exit 2; }

mkdir -p "$cache"
kver
dir=$cache/kernel/$v
if [ ! -s "$dir/vmlinuz" ]; then
	if ! fetch_image "$v" "$dir" && [ -z "${KATOMIC_KVER:-}" ]; then
		# Fresh lists may name a newer kernel than the stale ones did.
		kver
		dir=$cache/kernel/$v
		fetch_image "$v" "$dir"
	fi
	[ -s "$dir/vmlinuz" ] || { echo "kernel.sh: no vmlinuz for $v" >&2; exit 1; }
fi
if [ "$kernel" = 6.1 ]; then
	if ! installed "linux-headers-$v"; then
		apt_update
		apt-get install -y -qq --no-install-recommends "linux-headers-$v" >/dev/null
	fi
	kdir=/usr/src/linux-headers-$v
else
	fetch_headers "$v" "$dir/headers" ||
		{ echo "kernel.sh: cannot provision the headers of $v" >&2; exit 1; }
	kdir=$dir/headers/usr/src/linux-headers-$v
fi
[ -f "$kdir/Makefile" ] || { echo "kernel.sh: $kdir missing" >&2; exit 1; }

env="KVER=$v
VMLINUZ=$dir/vmlinuz
KDIR=$kdir"
write_env() {
	printf '# written by scripts/kernel.sh; sourced by sh and included by make\n%s\n' \
		"$env" >"$1.tmp"
	mv "$1.tmp" "$1"
}
write_env "$cache/kernel-$kernel.env"
[ "$kernel" != 6.1 ] || write_env "$cache/kernel.env"
echo "$env"
