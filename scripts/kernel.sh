#!/usr/bin/env bash
# Provision the kernel the QEMU test bed boots: Debian's linux-image-<kver>,
# downloaded (never installed) and unpacked into the cache, plus the matching
# linux-headers-<kver> (installed) to build the module against.
#
#   scripts/kernel.sh          provision, write $cache/kernel.env, print it
#   scripts/kernel.sh --kver   only print the kernel version that would be used
#
# The version is what linux-image-amd64 depends on now, or $KATOMIC_KVER
# (any Debian kernel ABI name, e.g. 6.1.0-56-amd64).
set -euo pipefail
cache=${KATOMIC_CACHE:-$HOME/.cache/katomic}
export DEBIAN_FRONTEND=noninteractive
updated=0

apt_update() {
	[ "$updated" = 1 ] && return 0
	apt-get update -qq >/dev/null
	updated=1
}

# The kernel ABI name linux-image-amd64 depends on, from apt's lists.
resolve_kver() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9].*\)$/\1/p' | head -n1
}

# Set $v to the kernel version to use.
kver() {
	v=${KATOMIC_KVER:-}
	if [ -z "$v" ]; then
		v=$(resolve_kver)
		if [ -z "$v" ]; then
			apt_update
			v=$(resolve_kver)
		fi
	fi
	[ -n "$v" ] || { echo "kernel.sh: cannot resolve linux-image-amd64" >&2; exit 1; }
}

# Download linux-image-$1 into a temp dir and unpack its vmlinuz and config.
fetch_image() {
	local v=$1 dest=$2 tmp deb
	tmp=$(mktemp -d "$cache/.kernel.XXXXXX")
	# shellcheck disable=SC2064 # expand now: $tmp is local
	trap "rm -rf '$tmp'" EXIT
	if ! (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
		"linux-image-$v" >/dev/null 2>&1); then
		[ "$updated" = 1 ] && return 1	# lists are fresh: a real failure
		apt_update			# stale lists: the file left the archive
		(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root \
			"linux-image-$v" >/dev/null) || return 1
	fi
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
if ! installed "linux-headers-$v"; then
	apt_update
	apt-get install -y -qq --no-install-recommends "linux-headers-$v" >/dev/null
fi
kdir=/usr/src/linux-headers-$v
[ -f "$kdir/Makefile" ] || { echo "kernel.sh: $kdir missing" >&2; exit 1; }

env="KVER=$v
VMLINUZ=$dir/vmlinuz
KDIR=$kdir"
printf '# written by scripts/kernel.sh; sourced by sh and included by make\n%s\n' \
	"$env" >"$cache/kernel.env.tmp"
mv "$cache/kernel.env.tmp" "$cache/kernel.env"
echo "$env"
