#!/bin/sh
# Runs inside the test-bed guest (busybox sh) with katomic loaded from $1
# (default /katomic.ko), from scripts/vm-selftests.sh: issue 8's steps that
# unload and reload the module.  TAP; exits non-zero if a step failed.  The
# module is loaded again afterwards with the parameters it had.
#
#   1 katomic fuzz: KATOMIC_FUZZ_CALLS calls (default 10^6) from
#     KATOMIC_FUZZ_THREADS threads (4), at most KATOMIC_FUZZ_SECONDS (120 s),
#     seed KATOMIC_FUZZ_SEED (default: from the clock, printed)
#   2 the module unloads after it, and the kernel's unreclaimable memory
#     (SUnreclaim + VmallocUsed + Percpu, empty slabs shrunk first) is back
#     to what it was before the fuzz, within KATOMIC_MEM_TOLERANCE_KB (2048)
#   3 rmmod while RCU frees are pending (katomic_lifetime_test, reload mode)
#   4 /dev/katomic's mode is devmode's (0600 by default); loaded with
#     devmode=0666, katomic_perm_test's unprivileged process opens it
#   5 no kernel address in the module's sysfs files, its debugfs (none) or
#     the kernel log, and no allocation failure or OOM report in the log
#     (the memory cgroup tests' refusals must be quiet)
ko=${1:-/katomic.ko}
calls=${KATOMIC_FUZZ_CALLS:-1000000}
secs=${KATOMIC_FUZZ_SECONDS:-120}
threads=${KATOMIC_FUZZ_THREADS:-4}
seed=${KATOMIC_FUZZ_SEED:-$(date +%s)}
tol=${KATOMIC_MEM_TOLERANCE_KB:-2048}
n=0 bad=0

# The parameters as loaded, to load the module with them again.
params=
for p in /sys/module/katomic/parameters/*; do
	params="$params ${p##*/}=$(cat "$p")"
done

tap() {		# tap OK DESC
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		bad=$((bad + 1))
	fi
}

# Unreclaimable kernel memory in kB, empty slabs given back first.
kmem() {
	for f in /sys/kernel/slab/*/shrink; do
		echo 1 >"$f"
	done 2>/dev/null
	awk '/^(SUnreclaim|VmallocUsed|Percpu):/ { s += $2 } END { print s }' \
		/proc/meminfo
}

# rmmod (io_uring puts a ring's files from a workqueue: retry a few
# seconds), then insmod with the original parameters and any given.
reload() {
	tries=0
	until rmmod katomic 2>/dev/null; do
		tries=$((tries + 1))
		if [ "$tries" -ge 10 ]; then
			rmmod katomic
			return 1
		fi
		sleep 1
	done
	# shellcheck disable=SC2086 # one word per parameter
	insmod "$ko" $params "$@"
}

echo "TAP version 13"
echo "1..5"

sleep 1
base=$(kmem)
/bin/katomic fuzz --threads "$threads" --seconds "$secs" --calls "$calls" \
	--seed "$seed" >/tmp/fuzz.out 2>&1
frc=$?
sed 's/^/# /' /tmp/fuzz.out
made=$(sed -n 's/^fuzz: \([0-9]*\) calls in .*/\1/p' /tmp/fuzz.out)
[ "$frc" = 0 ] && [ "${made:-0}" -ge "$calls" ]
tap $? "katomic fuzz: ${made:-no} calls (at least $calls), every result one the ABI allows"

reload
rrc=$?
sleep 1
after=$(kmem)
echo "# unreclaimable kernel memory: ${base} kB before the fuzz, ${after} kB after it and a reload ($((after - base)) kB; tolerance ${tol} kB)"
[ "$rrc" = 0 ] && [ $((after - base)) -le "$tol" ]
tap $? "the module unloads after the fuzz and memory is back to its base"

ok=1
if [ -x /bin/katomic_lifetime_test ]; then
	KATOMIC_RELOAD=1 /bin/katomic_lifetime_test >/tmp/reload.out 2>&1
	lrc=$?
	sed 's/^/# /' /tmp/reload.out
	# shellcheck disable=SC2086 # one word per parameter
	lsmod | grep -q '^katomic ' || insmod "$ko" $params
	[ "$lrc" = 0 ] && lsmod | grep -q '^katomic ' && ok=0
fi
tap $ok "rmmod while RCU frees are pending, then insmod"

mode=$(stat -c %a /dev/katomic)
want=$(sed 's/^0*//' /sys/module/katomic/parameters/devmode)
ok=1 prc=0
if [ "$mode" = "$want" ] && reload devmode=0666 &&
	[ "$(stat -c %a /dev/katomic)" = 666 ]; then
	if [ -x /bin/katomic_perm_test ]; then
		/bin/katomic_perm_test >/tmp/perm.out 2>&1
		prc=$?
		sed 's/^/# /' /tmp/perm.out
	fi
	reload && [ "$(stat -c %a /dev/katomic)" = "$want" ] && [ "$prc" = 0 ] &&
		ok=0
fi
tap $ok "/dev/katomic is mode $want (devmode), 0666 with devmode=0666"

# Kernel addresses: 0xffff... in 16 hex digits, as %px or %lx print them.
# sections/ and notes/ are the module loader's (kptr_restrict rules them).
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
leaks=$( {
	find /sys/module/katomic -path '*/sections' -prune -o \
		-path '*/notes' -prune -o -type f -print |
		while read -r f; do cat "$f" 2>/dev/null; done
	[ ! -e /sys/kernel/debug/katomic ] || cat /sys/kernel/debug/katomic/* 2>/dev/null
	dmesg | grep -i katomic
} | grep -iE 'ffff[0-9a-f]{12}')
noise=$(dmesg | grep -E 'vmalloc error|page allocation failure|invoked oom-killer|percpu: allocation failed')
[ -z "$leaks" ] && [ -z "$noise" ]
tap $? "no kernel address in /sys/module/katomic, debugfs or the kernel log; no allocation failure logged"
[ -z "$leaks$noise" ] || printf '%s\n%s\n' "$leaks" "$noise" | sed '/^$/d; s/^/# /'

echo "# Totals: pass:$((n - bad)) fail:$bad xfail:0 xpass:0 skip:0 error:0"
[ "$bad" = 0 ]
