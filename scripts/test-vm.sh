#!/usr/bin/env bash
# Self-test of the QEMU test bed (scripts/vm-run.sh).  Needs no module.
# Prints TAP-ish lines and a kselftest-style totals line; exits 0 if all pass.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0

# check DESC WANT_RC WANT_OUTPUT_REGEX [VM-RUN OPTIONS] -- CMD [ARGS...]
check() {
	local desc=$1 want=$2 re=$3 rc=0
	shift 3
	n=$((n + 1))
	"$here/vm-run.sh" --no-insmod --timeout 120 --log "$tmp/console.$n.log" "$@" \
		>"$tmp/out.$n" 2>&1 || rc=$?
	if [ "$rc" = "$want" ] && grep -qE "$re" "$tmp/out.$n"; then
		pass=$((pass + 1))
		echo "ok $n - $desc"
	else
		fail=$((fail + 1))
		echo "not ok $n - $desc (exit $rc, want $want; output wanted /$re/)"
		tail -n 20 "$tmp/out.$n" | sed 's/^/# /'
	fi
}

echo "TAP version 13"
echo "1..7"
# shellcheck disable=SC2016 # expanded in the guest
mounted='for m in /proc /sys /dev /dev/shm /tmp; do grep -q " $m " /proc/mounts || exit 9; done'
check "a command that exits 0 passes (proc, sysfs, devtmpfs, tmpfs mounted)" 0 \
	'kernel log clean' -- sh -c "$mounted"
check "the command's exit status is the bed's" 3 'command exited 3' -- sh -c 'exit 3'
check "BUG: in the kernel log fails the run" 1 'FAIL: the guest kernel log shows' -- \
	sh -c 'echo "BUG: katomic test-vm fake report" >/dev/kmsg'
check "WARNING on the command's stdout only passes" 0 'kernel log clean' -- \
	sh -c 'echo "WARNING: not a kernel message"; echo WARNING_test'
printf 'data\n' >"$tmp/f.txt"
printf '#!/bin/sh\necho tool-ran\n' >"$tmp/tool"
chmod +x "$tmp/tool"
check "--add puts executables in /bin, data in /data, SRC:DEST where asked" 0 \
	'tool-ran' --add "$tmp/f.txt" --add "$tmp/tool" --add "$tmp/f.txt:/etc/x/" -- \
	sh -c 'tool && cmp /data/f.txt /etc/x/f.txt'
check "a guest kernel panic fails the run" 1 'Kernel panic' -- \
	sh -c 'echo c >/proc/sysrq-trigger'
check "the timeout kills the guest with exit 124" 124 'TIMEOUT' --timeout 8 -- sleep 600

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
