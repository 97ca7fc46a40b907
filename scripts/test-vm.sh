#!/usr/bin/env bash
# Self-test of the QEMU test bed (scripts/vm-run.sh).  Needs no katomic
# module; it builds a tiny one of its own (a deliberate WARN) against the
# test bed kernel's headers.  Prints TAP lines and a kselftest-style totals
# line; exits 0 if all pass.
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

# A module that WARNs at load when told to (warn=1): out-of-tree and
# unsigned, so loading it taints the kernel O and E as katomic.ko does.
warnmod=$tmp/warnmod
mkdir -p "$warnmod"
cat >"$warnmod/katomic_warn.c" <<'EOF_C'
// SPDX-License-Identifier: GPL-2.0
#include <linux/bug.h>
#include <linux/module.h>

static bool warn;
module_param(warn, bool, 0444);

static int __init katomic_warn_init(void)
{
	WARN(warn, "katomic test-vm: a deliberate warning\n");
	return 0;
}

static void __exit katomic_warn_exit(void)
{
}

module_init(katomic_warn_init);
module_exit(katomic_warn_exit);
MODULE_LICENSE("GPL");
EOF_C
echo 'obj-m := katomic_warn.o' >"$warnmod/Kbuild"
ko=$warnmod/katomic_warn.ko
if kenv=$("$here/kernel.sh") && eval "$kenv" &&
	make -s -C "$KDIR" M="$warnmod" modules >"$warnmod/build.log" 2>&1; then
	:
else
	echo "# building the WARN test module failed:"
	sed 's/^/# /' "$warnmod/build.log" 2>/dev/null || true
fi

# Console logs for --judge (no boot): /init's markers around made-up lines.
judged() {
	local f=$tmp/judge.$1.log
	{
		echo "[    1.000000] Linux version 6.1.0 (test-vm)"
		echo "===KATOMIC-DMESG-BEGIN==="
		echo "[    1.000000] Linux version 6.1.0 (test-vm)"
		echo "[    2.000000] katomic-vm: init: running the command"
		echo "===KATOMIC-DMESG-END==="
		[ "$2" = - ] || echo "===KATOMIC-TAINTED=$2==="
		echo "===KATOMIC-EXIT=$3==="
		[ -z "${4:-}" ] || echo "$4"
		echo "[    3.000000] reboot: Power down"
	} >"$f"
	echo "$f"
}

echo "TAP version 13"
echo "1..17"
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
check "a guest kernel panic fails the run" 1 'vm-run:   .*Kernel panic' -- \
	sh -c 'echo c >/proc/sysrq-trigger'
check "the timeout kills the guest with exit 124" 124 'TIMEOUT' --timeout 8 -- sleep 600

# Taint: a second signal that survives a lost log line.  E (unsigned) is
# set only by a kernel that checks signatures: Debian's do, the debug
# kernels (no CONFIG_MODULE_SIG) do not.
oe=OE
grep -q '^CONFIG_MODULE_SIG=y' "$KDIR/.config" 2>/dev/null || oe=O
check "an out-of-tree unsigned module (taint $oe) passes" 0 \
	"kernel log clean, taint $oe " --add "$ko" -- insmod /data/katomic_warn.ko
check "a real WARN fails the run by taint W with its log line gone" 1 \
	'tainted W, though the log scan found no report' --add "$ko" -- \
	sh -c 'insmod /data/katomic_warn.ko warn=1 && dmesg -c >/dev/null'
check "a taint set from user space (L, soft lockup) fails the run" 1 \
	'tainted L, though the log scan found no report' -- \
	sh -c 'echo 16384 >/proc/sys/kernel/tainted'
check "--judge: a clean log with taint O, E passes with the command's status" 5 \
	'command exited 5, kernel log clean, taint OE ' --judge "$(judged clean 12288 5)"
check "--judge: taint D and B fail the run, naming both bits" 1 \
	'tainted BD, though the log scan found no report' --judge "$(judged db $((12288 | 1 << 7 | 1 << 5)) 0)"
check "--judge: a report on the console after the exit marker fails the run" 1 \
	'vm-run:   \[ *2\.900000\] WARNING: CPU: 0 PID: 1 at' --judge "$(judged late 12288 0 \
	'[    2.900000] WARNING: CPU: 0 PID: 1 at kernel/test.c:1 test+0x0/0x1')"
check "--judge: no taint line before the exit status fails the run" 1 \
	'printed no taint flags' --judge "$(judged notaint - 0)"

# A KCSAN report as 6.1 prints it, its second stack's frames the arguments.
kcsan_report() {
	local t='[    2.800000]' f
	printf '%s %s\n' "$t" "==================================================================" \
		"$t" "BUG: KCSAN: data-race in hrtimer_active / test_reader" "$t" "" \
		"$t" "write to 0x1000 of 8 bytes by interrupt on cpu 1:" \
		"$t" " __hrtimer_run_queues+0x10/0x80" "$t" "" \
		"$t" "read to 0x1000 of 8 bytes by task 70 on cpu 0:"
	for f; do printf '%s  %s\n' "$t" "$f"; done
	printf '%s %s\n' "$t" "" \
		"$t" "Reported by Kernel Concurrency Sanitizer on:" \
		"$t" "CPU: 0 PID: 70 Comm: katomic_ops_test Not tainted 6.1.0 #1" \
		"$t" "=================================================================="
}
check "--judge: a KCSAN report with no katomic frame is listed, not counted" 0 \
	'1 KCSAN report.* katomic did not make, not counted' \
	--judge "$(judged kcsan-core 12288 0 "$(kcsan_report 'hrtimer_active+0x4/0x20')")"
check "--judge: a KCSAN report whose katomic frame is below an interrupt is not counted" 0 \
	'1 KCSAN report.* katomic did not make, not counted' \
	--judge "$(judged kcsan-irq 12288 0 "$(kcsan_report 'hrtimer_active+0x4/0x20' \
		'asm_sysvec_apic_timer_interrupt+0x16/0x20' 'katomic_ioctl+0xb6/0x160 [katomic]')")"
check "--judge: a KCSAN report with a katomic frame fails the run" 1 \
	'vm-run:   .*BUG: KCSAN: data-race' \
	--judge "$(judged kcsan-ours 12288 0 "$(kcsan_report 'katomic_op+0x4/0x20 [katomic]')")"

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
