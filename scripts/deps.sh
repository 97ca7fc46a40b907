#!/usr/bin/env bash
# Install, idempotently, every Debian package katomic needs to build and to
# run its tests in QEMU.  Needs root (or nothing to do).  Prints one line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive

pkgs=(
	make build-essential bc flex bison libelf-dev libssl-dev kmod cpio
	xz-utils busybox-static qemu-system-x86 liburing-dev linux-source-6.1
	sparse gcc-multilib liburcu-dev
	dkms groff-base man-db pkgconf
	gnuplot-nox
)
# The headers of the test bed's default kernel (6.1), as kernel.sh resolves
# it: from apt's lists as they are (it runs apt-get update only if they name
# none).  Installed whichever $KERNEL is asked for: a plain build and DKMS
# use them; kernel.sh provisions the other kernels' headers in the cache.
headers() {
	local v kv=''
	# $KATOMIC_KVER names a version of $KERNEL's flavour: not 6.1's if
	# another kernel is asked for.
	[ "${KERNEL:-6.1}" != 6.1 ] || kv=${KATOMIC_KVER:-}
	v=$(KERNEL=6.1 KATOMIC_KVER=$kv "$here/kernel.sh" --kver) || exit 1
	echo "linux-headers-$v"
}
installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

hdr=$(headers)
pkgs+=("$hdr")
missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages already installed"
	exit 0
fi
# Quiet unless it fails: then show what apt said.
out=$(mktemp)
trap 'rm -rf "$out"' EXIT
apt_failed() {
	cat "$out" >&2
	echo "deps: $*" >&2
	exit 1
}
apt-get update -qq >"$out" 2>&1 || apt_failed "apt-get update failed"
# The lists are fresh now.  Stale ones may have named a kernel that has
# left the archive since: resolve again, as kernel.sh does for the image,
# and take the headers of the kernel it will use from now on.
new=$(headers)
if [ "$new" != "$hdr" ]; then
	echo "deps: the kernel is now ${new#linux-headers-} (stale apt lists named ${hdr#linux-headers-})"
	rest=()
	for p in "${missing[@]}"; do
		[ "$p" = "$hdr" ] || rest+=("$p")
	done
	installed "$new" || rest+=("$new")
	missing=("${rest[@]}")
	[ ${#missing[@]} -gt 0 ] || { echo "deps: all packages already installed"; exit 0; }
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$out" 2>&1 ||
	apt_failed "failed to install ${missing[*]}"
echo "deps: installed ${missing[*]}"
