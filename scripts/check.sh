#!/usr/bin/env bash
# make check: install what is needed, build everything, run the host tests
# and, on each test bed kernel, the module's build, lint, the test bed's own
# test and the selftests and studies in QEMU; on 6.1, make install into a
# staging tree and DKMS.  Every step's output is shown and kept in
# build/check/ (a kernel's steps in build/check/<kernel>/).
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero if anything failed.
#
# Kernels: $KERNELS (e.g. "6.1 6.12 6.12-rt", what make check-matrix runs;
# "6.1-kasan 6.1-kcsan", the debug kernels make check-debug builds once and
# runs), else $KERNEL, else 6.1.  What does not depend on the kernel (packages,
# user space, host tests) runs once, among the first kernel's steps in the
# order of a one-kernel run; each further kernel's steps follow.  With more
# than one kernel a summary line per kernel comes before the total.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-$top/build}
logs=$O/check
mkdir -p "$logs"
pass=0 fail=0 skip=0
failed=()
read -ra kernels <<<"${KERNELS:-${KERNEL:-6.1}}"
for k in "${kernels[@]}"; do
	case $k in
	6.1 | 6.12 | 6.12-rt | 6.1-kasan | 6.1-kcsan) ;;
	*)
		echo "check: unknown kernel '$k' (6.1, 6.12, 6.12-rt, 6.1-kasan or 6.1-kcsan)"
		echo "0 passed, 1 failed, 0 skipped"
		exit 2
		;;
	esac
done
if [ ${#kernels[@]} -gt 1 ] && [ -n "${KATOMIC_KVER:-}" ]; then
	echo "check: KATOMIC_KVER pins one kernel's version: use it with KERNEL=, not KERNELS="
	echo "0 passed, 1 failed, 0 skipped"
	exit 2
fi
export KERNEL=${kernels[0]}	# for deps.sh (a $KATOMIC_KVER is this kernel's)
kernel=		# the kernel the current step is for; empty: common steps
klog=$logs	# where the current steps' logs go
declare -A kpass kfail kskip ksecs kok kbuilt
for k in "${kernels[@]}"; do
	kpass[$k]=0 kfail[$k]=0 kskip[$k]=0 ksecs[$k]=0 kok[$k]=0 kbuilt[$k]=0
done

# on KERNEL: the steps that follow are KERNEL's ('' for the common ones).
on() {
	kernel=$1 klog=$logs
	[ -z "$kernel" ] || { klog=$logs/$kernel; mkdir -p "$klog"; }
	export KERNEL=$kernel
}

step() { printf '\n=== %s\n' "$*"; }

# count NAME RC LOG: add the harness totals found in LOG; a step that failed
# without a failing test (build, kernel log finding, crash) counts one failure.
count() {
	local name=$1 rc=$2 log=$3 p=0 f=0 s=0 n=0 tp tf ts te
	while read -r tp tf ts te; do
		p=$((p + tp)) f=$((f + tf + te)) s=$((s + ts)) n=$((n + 1))
	done < <(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .* skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4/p' "$log" 2>/dev/null)
	if [ "$n" = 0 ]; then
		[ "$rc" = 0 ] && p=1 || f=1
	elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	if [ -n "$kernel" ]; then
		kpass[$kernel]=$((kpass[$kernel] + p))
		kfail[$kernel]=$((kfail[$kernel] + f))
		kskip[$kernel]=$((kskip[$kernel] + s))
	fi
	[ "$f" = 0 ] || failed+=("$name${kernel:+ ($kernel)}")
	printf '=== %s%s: %d passed, %d failed, %d skipped\n' "$name" \
		"${kernel:+ ($kernel)}" "$p" "$f" "$s"
}

# run NAME CMD...: run a step, tee its output, count it.
run() {
	local name=$1 log=$klog/$1.log rc start=$SECONDS
	shift
	step "$name${kernel:+ ($kernel)}: $*"
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	count "$name" "$rc" "$log"
	[ -z "$kernel" ] || ksecs[$kernel]=$((ksecs[$kernel] + SECONDS - start))
	return "$rc"
}

# abort WHY: a step everything else needs failed; one failure, stop here.
abort() {
	echo "check: $*: nothing else can run"
	fail=$((fail + 1))
	echo "$pass passed, $fail failed, $skip skipped"
	exit 1
}

run deps scripts/deps.sh || abort "installing the packages failed"
KSRC=$(scripts/ksrc.sh) || abort "scripts/ksrc.sh failed"
export KSFT_DIR=$KSRC/tools/testing/selftests

# The module for the test bed's kernel ($KERNEL), with W=1: any warning
# fails the step (one failure), but the module it built is still tested:
# exit 3.
build_module() {
	local out rc
	out=$(mktemp)
	make -s vm 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" = 0 ] && grep -qiE 'warning:|error:' "$out"; then
		echo "build-module: the build printed warnings (W=1): that fails the step"
		rc=3
	fi
	rm -f "$out"
	return "$rc"
}

# The selftests.  Their Makefile leaves the 32-bit programs out, silently,
# when -m32 cannot link; deps.sh installed gcc-multilib, so here that fails
# the step (the compat_ioctl path would go untested), while the 64-bit
# programs are still run: exit 3.
build_selftests() {
	make -s selftests O="$O" || return
	if [ ! -x "$O/selftests/katomic/katomic_ops_test32" ]; then
		echo "build-selftests: $O/selftests/katomic/katomic_ops_test32 is missing:"
		echo "  the 32-bit selftests were not built (gcc -m32 -static fails: gcc-multilib?)"
		return 3
	fi
}

# kernel_setup: provision the current kernel (image and headers) and build
# the module for it; if there is no kernel, that is one failure and none of
# its steps runs.
kernel_setup() {
	local kenv start=$SECONDS
	step "kernel $kernel"
	if kenv=$(scripts/kernel.sh); then
		echo "$kenv"
		kok[$kernel]=1
	else
		echo "check: scripts/kernel.sh failed: no $kernel test bed kernel, nothing of it can run"
		fail=$((fail + 1)) kfail[$kernel]=$((kfail[$kernel] + 1)) failed+=("kernel ($kernel)")
	fi
	ksecs[$kernel]=$((ksecs[$kernel] + SECONDS - start))
	[ "${kok[$kernel]}" = 1 ] || return 0
	run build-module build_module
	case $? in 0 | 3) kbuilt[$kernel]=1 ;; esac
}

# kernel_lint: checkpatch and sparse against the current kernel's headers.
kernel_lint() {
	[ "${kok[$kernel]}" = 1 ] || return 0
	run lint scripts/lint.sh
}

# kernel_install: make install into a staging tree, checked; DKMS builds
# the module for the current kernel and that .ko passes a smoke test in
# its VM.  Run on 6.1 only, the kernel whose headers are installed (DKMS
# needs /lib/modules/KVER/build; the staged tree is checked as 6.1 lays
# it out: 6.12's modules_install puts the module in updates/, xz'd); a run
# without 6.1 skips them (2 skipped).
kernel_install() {
	[ "${kok[$kernel]}" = 1 ] && [ "$kernel" = 6.1 ] || return 0
	if [ "${kbuilt[$kernel]}" != 1 ] || [ "$ubuilt" != 1 ]; then
		echo "install, dkms ($kernel): not run, the build failed"
		fail=$((fail + 2)) kfail[$kernel]=$((kfail[$kernel] + 2))
		failed+=("install ($kernel)" "dkms ($kernel)")
		return 0
	fi
	run install env O="$O" scripts/test-install.sh
	run dkms env O="$O" scripts/test-dkms.sh
}

# kernel_vm: the test bed's own test, the selftests and the studies' claims
# in the current kernel's VM.
kernel_vm() {
	local t adds vmtime
	[ "${kok[$kernel]}" = 1 ] || return 0
	run testbed scripts/test-vm.sh
	if [ "${kbuilt[$kernel]}" != 1 ] || [ "$ubuilt" != 1 ]; then
		echo "vm-selftests, vm-study ($kernel): not run, the build failed"
		fail=$((fail + 2)) kfail[$kernel]=$((kfail[$kernel] + 2))
		failed+=("vm-selftests ($kernel)" "vm-study ($kernel)")
		return 0
	fi
	adds=(--add "$top/scripts/vm-selftests.sh" --add "$top/scripts/vm-hardening.sh")
	for t in "$O"/selftests/katomic/*_test "$O"/selftests/katomic/*_test32 \
		 "$O"/vmtests/katomic_*_test "$O"/bin/uring_demo "$O"/bin/katomic \
		 "$O"/selftests/katomic/katomic_faults; do
		[ -x "$t" ] && adds+=(--add "$t")
	done
	# A debug kernel runs the suite several times slower (KASAN, lockdep).
	case $kernel in
	*-kasan | *-kcsan) vmtime=(--timeout 5400) ;;
	*) vmtime=() ;;
	esac
	run vm-selftests scripts/vm-run.sh --no-insmod --module "$top/kmod/katomic.ko" \
		--log "$klog/vm-console.log" "${vmtime[@]}" "${adds[@]}" -- /bin/vm-selftests.sh
	# The studies' claims: katomic hammer and katomic tear on every kind.
	run vm-study scripts/vm-run.sh --module "$top/kmod/katomic.ko" \
		--log "$klog/vm-study-console.log" "${vmtime[@]}" --add "$O/bin/katomic" \
		--add "$top/scripts/vm-study.sh" -- /bin/vm-study.sh
}

# The first kernel's steps with the common ones, in a one-kernel run's
# order; ubuilt: 0 if a user-space build failed (3, built with a finding,
# still counts as built).
ubuilt=1
on "${kernels[0]}"
kernel_setup
on ''
run build-userspace make -s userspace O="$O" || ubuilt=0
run build-selftests build_selftests
case $? in 0 | 3) ;; *) ubuilt=0 ;; esac
on "${kernels[0]}"
kernel_lint
kernel_install
on ''
run host-tests make -s -C userspace check O="$O"
on "${kernels[0]}"
kernel_vm
for k in "${kernels[@]:1}"; do
	on "$k"
	kernel_setup
	kernel_lint
	kernel_install
	kernel_vm
done
if [[ " ${kernels[*]} " != *" 6.1 "* ]]; then
	on ''
	step "install, dkms: not run: they check 6.1 (installed headers), not asked for"
	skip=$((skip + 2))
fi

echo
if [ ${#kernels[@]} -gt 1 ]; then
	echo "per kernel (the common steps, counted once in the total, are not in these lines):"
	for k in "${kernels[@]}"; do
		printf '  %-8s %d passed, %d failed, %d skipped (%d min %02d s)\n' "$k:" \
			"${kpass[$k]}" "${kfail[$k]}" "${kskip[$k]}" \
			$((ksecs[$k] / 60)) $((ksecs[$k] % 60))
	done
fi
[ ${#failed[@]} -eq 0 ] || echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
