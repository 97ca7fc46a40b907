#!/bin/sh
# Runs inside the test-bed guest (busybox sh): the module lifecycle test with
# the module unloaded, then every other katomic selftest against the loaded
# module (the *_test32 programs are 32-bit: the compat_ioctl path), the
# liburing demo and a katomic bench smoke run if they are there, the fuzzer,
# the reloads and (on a kernel with fault injection) the fault injection
# runs of vm-hardening.sh if katomic is there, then a clean rmmod.
# Exits non-zero if anything failed.
ko=${KATOMIC_KO:-/katomic.ko}
rc=0
# The debug kernels (scripts/debug-kernel.sh) run everything several times
# slower under TCG: the tests' harness timeouts grow with them.
case $(uname -r) in
*-katomic-*)
	export KATOMIC_TIMEOUT_SCALE="${KATOMIC_TIMEOUT_SCALE:-8}"
	# the debug target fuzzes more: 4 x 10^6 calls, not CI's 10^6
	export KATOMIC_FUZZ_CALLS="${KATOMIC_FUZZ_CALLS:-4000000}"
	export KATOMIC_FUZZ_SECONDS="${KATOMIC_FUZZ_SECONDS:-1200}"
	;;
esac

# A KCSAN kernel must be watching: without KCSAN_EARLY_ENABLE it waits to
# be turned on in debugfs, and a clean log would mean nothing.
if [ -r /sys/kernel/debug/kcsan ]; then
	if grep -q '^enabled: 1' /sys/kernel/debug/kcsan; then
		echo "# KCSAN is on"
	else
		echo "vm-selftests: KCSAN is off (/sys/kernel/debug/kcsan): nothing would be reported"
		rc=1
	fi
fi

if [ -x /bin/katomic_module_test ]; then
	KATOMIC_KO=$ko /bin/katomic_module_test || rc=1
fi

insmod "$ko" || { echo "vm-selftests: insmod $ko failed"; exit 1; }
for t in /bin/katomic_*_test /bin/katomic_*_test32; do
	[ "$t" = /bin/katomic_module_test ] && continue
	[ -x "$t" ] || continue
	"$t" || rc=1
done
# The liburing demo, small: every completion is checked against the
# result it must have (uring_demo exits 1 on the first that is not).
if [ -x /bin/uring_demo ]; then
	n=0 bad=0
	echo "TAP version 13"
	echo "1..3"
	for b in 1 16 256; do
		n=$((n + 1))
		if /bin/uring_demo -n 4096 -b $b -r 1; then
			echo "ok $n uring_demo -b $b"
		else
			echo "not ok $n uring_demo -b $b"
			bad=$((bad + 1)) rc=1
		fi
	done
	echo "# Totals: pass:$((n - bad)) fail:$bad xfail:0 xpass:0 skip:0 error:0"
fi
# katomic bench, a smoke run of a few seconds: a small matrix of kernel
# and user paths at 1 and 2 threads must pass its own self-checks (exit
# 0), and its CSV and JSON must read back.  Not a performance assertion.
if [ -x /bin/katomic ]; then
	n=0 bad=0
	echo "TAP version 13"
	echo "1..3"
	smoke() {
		n=$((n + 1))
		if "$@"; then
			echo "ok $n bench: $what"
		else
			echo "not ok $n bench: $what"
			bad=$((bad + 1)) rc=1
		fi
	}
	what="a short run passes its self-checks"
	smoke sh -c 'TERM=dumb /bin/katomic bench --threads 1,2 --seconds 0.02 \
		--runs 2 --path kernel:nop,kernel:atomic,kernel:batch,kernel:uring,user:c11 \
		--op add,cas-loop --placement shared --batch 16 \
		--csv /tmp/bench.csv --json /tmp/bench.json >/dev/null'
	# 2 x (nop + atomic 2 ops + batch + uring + c11 2 ops) measured,
	# cas-loop in batch and uring skipped
	what="its CSV reads back: 14 rows measured, 2 skipped"
	# shellcheck disable=SC2016 # the guest's sh expands them
	smoke sh -c '/bin/katomic bench --from /tmp/bench.csv >/tmp/bench.txt &&
		[ "$(grep -cE "^(kernel|user):" /tmp/bench.txt)" = 14 ] &&
		grep -q "^  skipped: kernel:batch kernel:uring (2 cells)" /tmp/bench.txt'
	what="its JSON has the 16 rows"
	# shellcheck disable=SC2016
	smoke sh -c '[ "$(grep -c "^  {\"path\": " /tmp/bench.json)" = 16 ] &&
		head -c 12 /tmp/bench.json | grep -q "^{\"machine\": " &&
		[ "$(tail -n 1 /tmp/bench.json)" = " ]}" ]'
	echo "# Totals: pass:$((n - bad)) fail:$bad xfail:0 xpass:0 skip:0 error:0"
fi
# Issue 8: katomic fuzz, then reloads of the module: each rmmod proves it
# unloads, each insmod puts back the parameters it was loaded with; on a
# kernel with fault injection, katomic_faults and a fuzz under faults.
if [ -x /bin/katomic ]; then
	/bin/vm-hardening.sh "$ko" || rc=1
fi
# io_uring puts a ring's registered files (uring_demo registers its context)
# from a workqueue after the ring is closed: until then the context, and so
# the module, is in use.  Give that a few seconds.
tries=0
until rmmod katomic 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -ge 10 ]; then
		rmmod katomic
		echo "vm-selftests: rmmod katomic failed"
		rc=1
		break
	fi
	sleep 1
done
exit $rc
