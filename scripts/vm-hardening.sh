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
#   6 fault injection, on a kernel that has it (make check-debug's; a skip
#     elsewhere): failslab, fail_page_alloc and fail_usercopy fail
#     KATOMIC_FAULT_PCT percent (10) of the points marked tasks pass.
#     katomic fuzz --faults (KATOMIC_FAULT_FUZZ_CALLS calls, 10^6, at most
#     KATOMIC_FAULT_FUZZ_SECONDS, 120) runs while katomic_faults walks every
#     fault point of each op's path and then draws ops at random under the
#     same probability: every result must be a clean errno with the state
#     the ABI allows.  Then the module unloads and memory is back to its
#     base; the guest's /init scans kmemleak after everything.
ko=${1:-/katomic.ko}
calls=${KATOMIC_FUZZ_CALLS:-1000000}
secs=${KATOMIC_FUZZ_SECONDS:-120}
threads=${KATOMIC_FUZZ_THREADS:-4}
seed=${KATOMIC_FUZZ_SEED:-$(date +%s)}
tol=${KATOMIC_MEM_TOLERANCE_KB:-2048}
fpct=${KATOMIC_FAULT_PCT:-10}
fcalls=${KATOMIC_FAULT_FUZZ_CALLS:-1000000}
fsecs=${KATOMIC_FAULT_FUZZ_SECONDS:-120}
n=0 bad=0 skip=0

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
echo "1..6"

sleep 1
base=$(kmem)
base0=$base
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

# 6: fault injection.  The attributes: no stack dump per fault, sleeping
# allocations (all of the module's) not exempt, only marked tasks; times
# counts down from a billion, so what is left says how many were injected.
# The probability is 0 while anything else changes, and set last: with
# task-filter N and a probability, every task in the guest (this shell
# too) would meet the failures.
fi_attrs="failslab fail_page_alloc fail_usercopy"
fi_set() {	# fi_set PROBABILITY TASK-FILTER
	for a in $fi_attrs; do
		echo 0 >"/sys/kernel/debug/$a/probability" || return 1
	done
	for a in $fi_attrs; do
		d=/sys/kernel/debug/$a
		echo 0 >"$d/verbose" && echo 1 >"$d/interval" &&
			echo 1000000000 >"$d/times" && echo "$2" >"$d/task-filter" ||
			return 1
	done
	echo N >/sys/kernel/debug/failslab/ignore-gfp-wait &&
		echo N >/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait &&
		echo N >/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem &&
		echo 0 >/sys/kernel/debug/fail_page_alloc/min-order || return 1
	[ "$1" = 0 ] && return 0
	for a in $fi_attrs; do
		echo "$1" >"/sys/kernel/debug/$a/probability" || return 1
	done
}
if [ ! -w /proc/thread-self/fail-nth ] || [ ! -d /sys/kernel/debug/failslab ] ||
	[ ! -x /bin/katomic_faults ]; then
	n=$((n + 1)) skip=$((skip + 1))
	echo "ok $n # SKIP no fault injection in this kernel (make check-debug's kernels have it)"
else
	# The base: the lower of now and before step 1 (the steps between
	# leave the kernel's caches fuller for a while: KASAN's quarantine,
	# the memory cgroup test's).
	base=$(kmem)
	[ "$base0" -lt "$base" ] && base=$base0
	ok=1
	if fi_set "$fpct" Y; then
		/bin/katomic fuzz --faults --threads "$threads" --seconds "$fsecs" \
			--calls "$fcalls" --seed "$seed" --no-rmmod >/tmp/ffuzz.out 2>&1 &
		fpid=$!
		/bin/katomic_faults >/tmp/faults.out 2>&1
		wrc=$?
		wait "$fpid"
		frc=$?
		injected=
		for a in $fi_attrs; do
			injected="$injected $a $((1000000000 - $(cat "/sys/kernel/debug/$a/times")))"
		done
		off=0
		fi_set 0 N || off=1
		[ "$off" = 0 ] || echo "# fault injection could not be turned off"
		sed 's/^/# /' /tmp/faults.out
		sed 's/^/# fault fuzz: /' /tmp/ffuzz.out
		echo "# faults injected:$injected; katomic_faults exited $wrc, katomic fuzz --faults $frc"
		made=$(sed -n 's/^fuzz: \([0-9]*\) calls in .*/\1/p' /tmp/ffuzz.out)
		reload
		rrc=$?
		sleep 1
		after=$(kmem)
		echo "# unreclaimable kernel memory: ${base} kB before, ${after} kB after the faults and a reload ($((after - base)) kB; tolerance ${tol} kB)"
		[ "$wrc" = 0 ] && [ "$frc" = 0 ] && [ "${made:-0}" -gt 0 ] && [ "$off" = 0 ] &&
			[ "$rrc" = 0 ] && [ $((after - base)) -le "$tol" ] && ok=0
	else
		echo "# fault injection attributes in /sys/kernel/debug could not be set"
		fi_set 0 N
	fi
	tap $ok "under ${fpct}% injected faults: katomic_faults and katomic fuzz --faults (${made:-no} calls) pass, the module unloads, memory is back to its base"
fi

echo "# Totals: pass:$((n - bad - skip)) fail:$bad xfail:0 xpass:0 skip:$skip error:0"
[ "$bad" = 0 ]
