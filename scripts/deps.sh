#!/usr/bin/env bash
# Install, idempotently, every Debian package katomic needs to build and to
# run its tests in QEMU.  Needs root (or nothing to do).  Prints one line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive

pkgs=(
	build-essential bc flex bison libelf-dev libssl-dev kmod cpio xz-utils
	busybox-static qemu-system-x86 liburing-dev linux-source-6.1 sparse
	gcc-multilib
)
# The headers of the kernel the VM boots (resolving it may run apt-get update).
pkgs+=("linux-headers-$("$here/kernel.sh" --kver)")

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q '^install ok installed$' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages already installed"
	exit 0
fi
# Quiet unless it fails: then show what apt said.
out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! { apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$out" 2>&1; then
	cat "$out" >&2
	echo "deps: failed to install ${missing[*]}" >&2
	exit 1
fi
echo "deps: installed ${missing[*]}"
