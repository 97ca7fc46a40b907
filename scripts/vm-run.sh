#!/usr/bin/env bash
# Run a command inside a throw-away QEMU guest booting Debian's kernel, with
# katomic.ko loaded, and judge the run by the command's exit status AND the
# guest kernel's log and taint flags.  See --help.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${KATOMIC_CACHE:-$HOME/.cache/katomic}

usage() {
	cat <<EOF
usage: scripts/vm-run.sh [options] -- CMD [ARGS...]

Boots Debian's kernel in QEMU with an initramfs of busybox, the module (at
/katomic.ko) and the --add'ed files; /init insmods the module, runs CMD with
sh (cwd /, stdin /dev/null, output on the console), prints the kernel log and
powers off.  The console is streamed to stdout and saved to the log file.

options:
  --kernel VMLINUZ   kernel to boot (default: the test bed kernel \$KERNEL,
                     6.1, 6.12 or 6.12-rt, default 6.1: VMLINUZ from
                     \$cache/kernel-\$KERNEL.env, made by scripts/kernel.sh
                     if missing)
  --module KO        module to load (default: kmod/katomic.ko in the tree)
  --no-insmod        do not insmod at boot (the module is still put at
                     /katomic.ko if it exists); CMD may insmod it itself
  --modparam 'k=v ...'  parameters for the boot-time insmod
  --add FILE[:DEST]  put FILE in the guest: /bin/ if executable, else /data/,
                     or at DEST (DEST ending in / is a directory); repeatable
  --append ARGS      extra kernel command line (e.g. loglevel=7)
  --timeout SECONDS  kill the guest after this long (default 600)
  --log FILE         console log (default build/vm/console.log in the tree)
  --kvm              use KVM (-accel kvm -cpu host) instead of TCG
  --smp N            virtual CPUs (default 2)
  --mem MB           guest memory (default 1024)
  --judge LOG        boot nothing: judge a console log kept from a run
                     (no CMD needed)
  -h, --help         this text

exit status: CMD's status if the guest kernel is clean; 1 if its log shows
Oops, BUG, WARNING, a lockdep/KASAN/KCSAN/UBSAN/KFENCE report or the like,
or kmemleak suspects (a debug kernel: /init scans after the command) (the
offending lines are printed; the log is the dmesg /init prints and any kernel line on
the console after it), if the kernel is tainted D (oops/BUG), W (warning),
L (soft lockup) or B (bad page) even without a log line to show for it
(O and E, an out-of-tree unsigned module, are expected), or if the guest
died before CMD's status was printed; 124 on timeout; 2 on a usage error.
cache: \$KATOMIC_CACHE (default ~/.cache/katomic); it is $cache here.
EOF
}

kernel='' module='' modparam='' append='' insmod=1 timeout=600 kvm=0
smp=2 mem=1024 log=$top/build/vm/console.log adds=() judge=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--no-insmod) insmod=0; shift ;;
	--modparam) modparam=$2; shift 2 ;;
	--add) adds+=(--add "$2"); shift 2 ;;
	--append) append=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--kvm) kvm=1; shift ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--judge) judge=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "vm-run: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || [ -n "$judge" ] || { echo "vm-run: no command (see --help)" >&2; exit 2; }

# Boot the guest, stream and keep its console in $log; sets qrc and secs.
boot() {
	accel=(-accel "tcg,thread=multi" -cpu max)
	if [ "$kvm" = 1 ]; then
		[ -w /dev/kvm ] || { echo "vm-run: --kvm: /dev/kvm is not usable here" >&2; exit 2; }
		accel=(-accel kvm -cpu host)
	fi

	KVER=''
	if [ -z "$kernel" ]; then
		VMLINUZ=''
		envf=$cache/kernel-${KERNEL:-6.1}.env
		# shellcheck disable=SC1090 # written by scripts/kernel.sh
		[ -r "$envf" ] && . "$envf"
		if [ ! -s "$VMLINUZ" ] || [ "${KATOMIC_KVER:-$KVER}" != "$KVER" ]; then
			"$here/kernel.sh" >/dev/null
			# shellcheck disable=SC1090
			. "$envf"
		fi
		kernel=$VMLINUZ
	fi
	[ -r "$kernel" ] || { echo "vm-run: kernel $kernel not found" >&2; exit 2; }

	if [ -z "$module" ] && { [ "$insmod" = 1 ] || [ -e "$top/kmod/katomic.ko" ]; }; then
		module=$top/kmod/katomic.ko
	fi
	if [ -n "$module" ] && [ ! -r "$module" ]; then
		echo "vm-run: module $module not found (build it: make -C kmod)" >&2
		exit 2
	fi
	if [ "$insmod" = 1 ] && [ -n "$KVER" ] && command -v modinfo >/dev/null; then
		built=$(modinfo -F vermagic "$module" 2>/dev/null | cut -d' ' -f1 || true)
		if [ "$built" != "$KVER" ]; then
			echo "vm-run: $module is built for '$built', the VM boots $KVER (make vm)" >&2
			exit 2
		fi
	fi

	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	initrd_args=(-o "$tmp/initramfs.cpio.gz" ${module:+--module "$module"} "${adds[@]}")
	[ "$insmod" = 1 ] || initrd_args+=(--no-insmod)
	[ -z "$modparam" ] || initrd_args+=(--modparam "$modparam")
	"$here/mkinitramfs.sh" "${initrd_args[@]}" -- "$@"

	qemu=(qemu-system-x86_64 "${accel[@]}" -smp "$smp" -m "$mem"
		-nodefaults -no-user-config -display none -serial stdio -no-reboot
		-kernel "$kernel" -initrd "$tmp/initramfs.cpio.gz"
		-append "console=ttyS0 panic=-1 panic_on_warn=0 quiet loglevel=4 printk.time=1 $append")

	mkdir -p "$(dirname "$log")"
	start=$(date +%s.%N)
	set +e
	# The log gets the whole console; stdout skips the boot part of the dmesg
	# section (up to the line /init writes to /dev/kmsg before the command).
	timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null 2>&1 |
		sed -u 's/\r$//' | tee "$log" |
		sed -u '/^===KATOMIC-DMESG-BEGIN===$/,/\] katomic-vm: init: /{
			/^===KATOMIC-/b
			/\] katomic-vm: init: /b
			d
		}'
	qrc=${PIPESTATUS[0]}
	set -e
	secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
}

qrc=0 secs=
if [ -n "$judge" ]; then
	[ -r "$judge" ] || { echo "vm-run: --judge: cannot read $judge" >&2; exit 2; }
	log=$judge
else
	boot "$@"
fi

# The last markers win (CMD's own output cannot fake the final ones).
marker() {
	grep -ao "===KATOMIC-$1=[0-9]*===" "$log" | tail -n1 | tr -dc '0-9' || true
}
rc=$(marker EXIT)
taint=$(marker TAINTED)
# Kernel log lines: the dmesg section /init printed, and every console line
# after it that looks like printk output ("[    1.234567] ..."): /init
# raised the console log level, so a late report (while dumping, around the
# exit marker, during poweroff) lands there.  If /init never printed the
# section: every printk-like line of the console.
printk='\[ *[0-9]+\.[0-9]+\] .*'
end=$(grep -anx '===KATOMIC-DMESG-END===' "$log" | tail -n1 | cut -d: -f1 || true)
if [ -n "$end" ]; then
	klog=$(head -n "$end" "$log" | tac |
		sed -n '/^===KATOMIC-DMESG-END===$/,/^===KATOMIC-DMESG-BEGIN===$/p' | tac)
	klog+=$'\n'$(tail -n "+$((end + 1))" "$log" | grep -aoE "$printk" || true)
else
	klog=$(grep -aoE "$printk" "$log" || true)
fi
# KASAN, UBSAN, lockdep and "sleeping function called" need debug options
# Debian's kernel lacks; they are here for a kernel that has them.
bad='\b(Oops|BUG|WARNING)\b|general protection|refcount_t|list_(add|del) corruption|'
bad+='sleeping function called|scheduling while atomic|KASAN|KCSAN|UBSAN|KFENCE|'
bad+='possible (circular|recursive) locking|inconsistent lock state|'
bad+='suspicious RCU usage|INFO: trying to register non-static key|'
bad+='Kernel panic|soft lockup|hard LOCKUP|detected stalls?|blocked for more than|'
# kmemleak turning itself off (its pool ran dry under fault injection) would
# make a clean scan mean nothing.
bad+='Kernel memory leak detector disabled|Cannot allocate a kmemleak_object'
# KCSAN reports data races anywhere in the kernel, and 6.1's core code has
# its own (the timer interrupt's __hrtimer_run_queues() racing
# hrtimer_active(), for one).  A report counts when one of its two
# accesses was made by katomic: a "[katomic]" frame in that access's stack
# above any interrupt entry (below one is the code the interrupt came
# into, which did not make the access).  The others are listed by title
# and dropped from the scan.
split=$(awk '
	function flush(i) {
		if (ours) for (i = 0; i < n; i++) print "K " blk[i]
		else { sub(/^.*BUG: KCSAN: /, "", title); print "T " title }
	}
	/BUG: KCSAN: / { inb = 1; n = 0; ours = 0; tail = 0; cut = 0; title = $0 }
	!inb { print "K " $0; next }
	{ blk[n++] = $0 }
	/ (read|write).* by (task|interrupt) / { cut = 0 }
	/ (asm_sysvec_|asm_common_interrupt|asm_exc_)/ { cut = 1 }
	/\[katomic\]/ && !cut { ours = 1 }
	/Reported by Kernel Concurrency Sanitizer/ { tail = 1 }
	tail && /====================/ { flush(); inb = 0 }
	END { if (inb) { ours = 1; flush() } }' <<<"$klog")
kcsan_other=$(sed -n 's/^T //p' <<<"$split")
klog=$(sed -n 's/^K //p' <<<"$split")
hits=$(grep -aE "$bad" <<<"$klog" || true)
# kmemleak's suspects (a debug kernel), printed by /init after the command.
leaks=$(sed -n '/^===KATOMIC-KMEMLEAK-BEGIN===$/,/^===KATOMIC-KMEMLEAK-END===$/p' "$log" |
	grep -av '^===KATOMIC-KMEMLEAK' || true)
if grep -aq 'unreferenced object' <<<"$leaks"; then
	hits+=${hits:+$'\n'}"kmemleak: $(grep -ac 'unreferenced object' <<<"$leaks") suspected leak(s):"
	hits+=$'\n'$leaks
fi
# The first two sanitizer reports in full (to the ===== line that ends
# each), after the matching lines.
reports=$(awk '
	/BUG: (KASAN|KCSAN|KFENCE)|UBSAN: / && !inr && shown < 2 { inr = 1; k = 0; shown++ }
	inr { print; k++ }
	inr && k > 1 && (/====================/ || k >= 80) { inr = 0 }' <<<"$klog")
show_hits() {
	[ -z "$hits" ] || head -n 40 <<<"$hits" | sed 's/^/vm-run:   /' >&2
	[ -z "$reports" ] || {
		echo "vm-run: the report(s):"
		# shellcheck disable=SC2001 # a prefix on every line
		sed 's/^/vm-run: | /' <<<"$reports"
	} >&2
}

# Taint flags (Documentation/admin-guide/tainted-kernels.rst): bit i is
# letter i of $letters.  These four mean the kernel reported a problem; the
# others are not a finding here (O and E: katomic.ko is out-of-tree and
# unsigned, so they are always set once it is loaded).
letters=PFSRMBUDAWCIOELKXT
declare -A taint_bad=([5]='B: bad page' [7]='D: died (oops or BUG)'
	[9]='W: a WARNING' [14]='L: soft lockup')
# taint_letters N: the letters of the bits set in N, e.g. "OE".
taint_letters() {
	local n=$1 i out=
	for ((i = 0; i < ${#letters}; i++)); do
		(((n >> i) & 1)) && out+=${letters:i:1}
	done
	echo "${out:--}"
}
taint_found=()
if [ -n "$taint" ]; then
	for bit in 5 7 9 14; do
		(((taint >> bit) & 1)) && taint_found+=("${taint_bad[$bit]} (bit $bit)")
	done
fi

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	[ -z "$hits" ] || echo "vm-run: the guest kernel log shows:" >&2
	show_hits
	echo "vm-run: TIMEOUT: guest killed after ${timeout} s (log: $log)" >&2
	exit 124
fi
failed=0
if [ -n "$kcsan_other" ]; then
	echo "vm-run: $(grep -c . <<<"$kcsan_other") KCSAN report(s) of accesses katomic did not make, not counted (the core kernel's):" >&2
	sort <<<"$kcsan_other" | uniq -c | sed 's/^ */vm-run:   /' >&2
fi
if [ -n "$hits" ]; then
	echo "vm-run: FAIL: the guest kernel log shows (command status: ${rc:-none}; log: $log):" >&2
	show_hits
	failed=1
fi
if [ ${#taint_found[@]} -gt 0 ]; then
	why=
	[ -n "$hits" ] || why=', though the log scan found no report'
	echo "vm-run: FAIL: the guest kernel is tainted $(taint_letters $((taint & (1 << 5 | 1 << 7 | 1 << 9 | 1 << 14))))${why} (tainted=$taint; command status: ${rc:-none}; log: $log):" >&2
	printf 'vm-run:   %s\n' "${taint_found[@]}" >&2
	failed=1
fi
[ "$failed" = 0 ] || exit 1
if [ -z "$rc" ]; then
	echo "vm-run: FAIL: no exit status from the guest: it did not boot, crashed or panicked (qemu status $qrc; log: $log)" >&2
	exit 1
fi
if [ -z "$taint" ]; then
	echo "vm-run: FAIL: the guest printed no taint flags before its exit status (log: $log)" >&2
	exit 1
fi
echo "vm-run: command exited $rc, kernel log clean, taint $(taint_letters "$taint") (none of B D W L)${secs:+, $secs s}" >&2
exit "$rc"
