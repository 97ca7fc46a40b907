#!/usr/bin/env bash
# make bench-uring: the README's batch and io_uring figures, in the QEMU
# test bed.  Boots the VM once and runs userspace/uring's demo at B = 1,
# 16 and 256 (-n OPS ops, -r REPEATS repeats of every way, round-robin, so
# every ratio is taken in one run); each table shows per-op medians and
# their ratios to one ioctl per op and to the NOP ioctl.  Every completion
# is checked.  The output is also kept in $O/bench/uring.txt.
# usage: scripts/bench-uring.sh [--ops N] [--repeats R]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-$top/build}
ops=50000 repeats=7

while [ $# -gt 0 ]; do
	case $1 in
	--ops) ops=$2; shift 2 ;;
	--repeats) repeats=$2; shift 2 ;;
	-h | --help) sed -n '2,8s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench-uring: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
case $ops$repeats in
*[!0-9]* | '') echo "bench-uring: --ops and --repeats take numbers" >&2; exit 2 ;;
esac

scripts/deps.sh >/dev/null
kenv=$(scripts/kernel.sh) || { echo "bench-uring: scripts/kernel.sh failed" >&2; exit 1; }
eval "$kenv"
make -s vm
make -s userspace O="$O"

mkdir -p "$O/bench"
guest=$(mktemp) out=$O/bench/uring.txt
trap 'rm -f "$guest"' EXIT
cat >"$guest" <<GUEST
#!/bin/sh
echo "bench-uring: \$(uname -r), \$(grep -c ^processor /proc/cpuinfo) vCPUs, QEMU TCG"
for b in 1 16 256; do
	/bin/uring_demo -n $ops -b \$b -r $repeats || exit 1
done
GUEST
chmod +x "$guest"
scripts/vm-run.sh --log "$O/vm/bench-uring.log" --add "$O/bin/uring_demo" \
	--add "$guest:/bin/bench-uring" -- /bin/bench-uring |
	sed -n '/^bench-uring:/p; /^uring_demo:/,/^user copy/p' | tee "$out"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || { echo "bench-uring: the run in the VM failed ($rc)" >&2; exit "$rc"; }
echo "bench-uring: kept in $out"
