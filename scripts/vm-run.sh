#!/usr/bin/env bash
# Run a command inside a throw-away QEMU guest booting Debian's kernel, with
# katomic.ko loaded, and judge the run by the command's exit status AND the
# guest kernel log.  See --help.
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
  --kernel VMLINUZ   kernel to boot (default: VMLINUZ from \$cache/kernel.env,
                     made by scripts/kernel.sh if missing)
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
  -h, --help         this text

exit status: CMD's status if the guest kernel log is clean; 1 if the log
shows Oops, BUG, WARNING, a lockdep/KASAN/UBSAN report or the like (the
offending lines are printed), or if the guest died before CMD's status was
printed; 124 on timeout; 2 on a usage error.
cache: \$KATOMIC_CACHE (default ~/.cache/katomic); it is $cache here.
EOF
}

kernel='' module='' modparam='' append='' insmod=1 timeout=600 kvm=0
smp=2 mem=1024 log=$top/build/vm/console.log adds=()
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
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) echo "vm-run: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "vm-run: no command (see --help)" >&2; exit 2; }

accel=(-accel "tcg,thread=multi" -cpu max)
if [ "$kvm" = 1 ]; then
	[ -w /dev/kvm ] || { echo "vm-run: --kvm: /dev/kvm is not usable here" >&2; exit 2; }
	accel=(-accel kvm -cpu host)
fi

KVER=''
if [ -z "$kernel" ]; then
	VMLINUZ=''
	# shellcheck disable=SC1091 # written by scripts/kernel.sh
	[ -r "$cache/kernel.env" ] && . "$cache/kernel.env"
	if [ ! -s "$VMLINUZ" ] || [ "${KATOMIC_KVER:-$KVER}" != "$KVER" ]; then
		"$here/kernel.sh" >/dev/null
		# shellcheck disable=SC1091
		. "$cache/kernel.env"
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

# The last exit marker wins (CMD's own output cannot fake the final one).
rc=$(grep -ao '===KATOMIC-EXIT=[0-9]*===' "$log" | tail -n1 | tr -dc '0-9' || true)
# Kernel log lines: the dmesg section if /init printed it, else every
# console line that looks like printk output ("[    1.234567] ...").
if grep -qx '===KATOMIC-DMESG-END===' "$log"; then
	klog=$(tac "$log" | sed -n '/^===KATOMIC-DMESG-END===$/,/^===KATOMIC-DMESG-BEGIN===$/p' | tac)
else
	klog=$(grep -aoE '\[ *[0-9]+\.[0-9]+\] .*' "$log" || true)
fi
bad='\b(Oops|BUG|WARNING)\b|general protection|refcount_t|list_(add|del) corruption|'
bad+='sleeping function called|scheduling while atomic|KASAN|UBSAN|'
bad+='possible (circular|recursive) locking|inconsistent lock state|'
bad+='suspicious RCU usage|INFO: trying to register non-static key|'
bad+='Kernel panic|soft lockup|hard LOCKUP|detected stalls?|blocked for more than'
hits=$(grep -aE "$bad" <<<"$klog" || true)
show_hits() {
	[ -z "$hits" ] || head -n 40 <<<"$hits" | sed 's/^/vm-run:   /' >&2
}

if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	[ -z "$hits" ] || echo "vm-run: the guest kernel log shows:" >&2
	show_hits
	echo "vm-run: TIMEOUT: guest killed after ${timeout} s (log: $log)" >&2
	exit 124
fi
if [ -n "$hits" ]; then
	echo "vm-run: FAIL: the guest kernel log shows (command status: ${rc:-none}; log: $log):" >&2
	show_hits
	exit 1
fi
if [ -z "$rc" ]; then
	echo "vm-run: FAIL: no exit status from the guest: it did not boot, crashed or panicked (qemu status $qrc; log: $log)" >&2
	exit 1
fi
echo "vm-run: command exited $rc, kernel log clean, ${secs} s" >&2
exit "$rc"
