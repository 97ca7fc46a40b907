#!/usr/bin/env bash
# make demo: install what is needed, build the module for the test bed's
# kernel and the katomic command, boot the VM, load the module, drive
# counters and value slots with katomic, and end with the study tables:
# katomic hammer over every kernel and user counter kind, kernel and user
# atomics on the same mapped counter (kernel:mmap, kernel:mixed), katomic
# tear over every value slot kind.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-$top/build}

scripts/deps.sh
kenv=$(scripts/kernel.sh) || { echo "demo: scripts/kernel.sh failed" >&2; exit 1; }
eval "$kenv"
make -s vm
make -s userspace O="$O"

guest=$(mktemp)
trap 'rm -f "$guest"' EXIT
cat >"$guest" <<'GUEST'
#!/bin/sh
# The demo, as run inside the guest with the module loaded.
run() {
	echo "\$ $*"
	"$@"
	echo
}
fails() {
	echo "\$ $*    # fails on purpose"
	"$@" && { echo "demo: expected a failure"; exit 1; }
	echo "(exit status $?)"
	echo
}
set -e
run cat /sys/module/katomic/parameters/nr_counters
run ls -l /dev/katomic
run katomic info
run katomic define 0 int64 --init 40
run katomic add 0 2
run katomic load 0
run katomic cas 0 42 100
run katomic cas 0 42 7
run katomic define 1 uint32
run katomic add 1 0xffffffff
run katomic max 1 5
run katomic define 2 int32 --init -1
run katomic add-unless 2 1 -1
run katomic define 3 uintptr --init 0xf0
run katomic and 3 0x3c
run katomic xor 3 0xff
run katomic swap 3 0x1234
run katomic query 3
run katomic list
fails katomic add 5 1
fails katomic store 2 3000000000
fails katomic define 0 int64
run katomic undefine 0
run katomic define 4 int64 --sync none --delay 2000
run katomic query 4
run katomic undefine 4
run katomic list
run katomic value define 0
run katomic value store 0 --tag 7 hello
run katomic value load 0
fails katomic value store 0 --tag 8 other
run katomic value swap 0 --tag 7 world
run katomic value cas 0 --old-tag 7 world --tag 7 again
run katomic value list
run katomic value undefine 0
echo "# The study: i++ from 2 threads on one counter, with every sync kind,"
echo "# in the kernel (ioctl per op) and in user space (libkatomic's twin)."
run katomic hammer
echo "# Kernel and user atomics on the same memory: ATOMIC counters of a mapped"
echo "# context, the threads adding with their own C11 atomics on the mapped"
echo "# cells (kernel:mmap), or half through ioctls and half through the mapping"
echo "# on one counter (kernel:mixed): the totals stay exact."
run katomic hammer --target kernel:atomic --target kernel:mmap --target kernel:mixed
echo "# The tear study: writers store values whose bytes are all one byte,"
echo "# readers check every load, on a value slot of each kind."
run katomic tear
GUEST
chmod +x "$guest"

scripts/vm-run.sh --log "$O/vm/demo.log" --add "$O/bin/katomic" \
	--add "$guest:/bin/demo" -- /bin/demo
