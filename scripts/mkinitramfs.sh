#!/usr/bin/env bash
# Build the test bed's initramfs (gzip'd newc cpio; no root needed):
#   /bin/busybox (its applets linked at boot), /init, /katomic.ko, /cmd, extra files.
# The guest's /init mounts proc, sysfs, devtmpfs, tmpfs (/tmp, /dev/shm),
# debugfs, insmods /katomic.ko unless told not to, runs /cmd (else the
# arguments the kernel passed to init: the words after "--" on its command
# line); on a kernel with kmemleak it then unloads the module and prints
# kmemleak's suspects between markers; it prints the kernel log between
# markers, ===KATOMIC-TAINTED=<n>=== (the kernel's
# taint flags), then ===KATOMIC-EXIT=<rc>=== and powers off.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 -o OUT [--module KO] [--no-insmod] [--modparam 'k=v ...']
                 [--add SRC[:DEST]]... [-- CMD [ARGS...]]
  -o, --output OUT   the initramfs to write (gzip'd cpio)
  --module KO        put KO at /katomic.ko (default: none)
  --no-insmod        do not insmod /katomic.ko at boot (the command will)
  --modparam STR     module parameters for the boot-time insmod
  --add SRC[:DEST]   add a file (or directory) at DEST; default /bin/NAME
                     if it is an executable file, else /data/NAME; a DEST
                     ending in / is a directory
  -- CMD [ARGS...]   the command /init runs (written to /cmd)
busybox comes from \$KATOMIC_BUSYBOX (default /bin/busybox, busybox-static).
EOF
}

out='' module='' insmod=1 modparams='' adds=()
while [ $# -gt 0 ]; do
	case $1 in
	-o | --output) out=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--no-insmod) insmod=0; shift ;;
	--modparam) modparams=$2; shift 2 ;;
	--add) adds+=("$2"); shift 2 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { usage >&2; exit 2; }
busybox=${KATOMIC_BUSYBOX:-/bin/busybox}

# Quote for sh: 'a'\''b' (works in busybox ash, no bashisms).
shquote() {
	local a q=
	for a; do q+="'${a//\'/\'\\\'\'}' "; done
	printf '%s\n' "${q% }"
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,data,root}

install -m 0755 "$busybox" "$root/bin/busybox"	# /init links the applets
ln -s busybox "$root/bin/sh"

if [ -n "$module" ]; then
	install -m 0644 "$module" "$root/katomic.ko"
elif [ "$insmod" = 1 ]; then
	echo "mkinitramfs: --module KO or --no-insmod is needed" >&2
	exit 2
fi

for a in "${adds[@]}"; do
	src=$a dest=
	if [ ! -e "$a" ] && [[ $a == *:* ]]; then
		src=${a%:*} dest=${a##*:}
	fi
	[ -e "$src" ] || { echo "mkinitramfs: $src: no such file" >&2; exit 2; }
	if [ -z "$dest" ]; then
		if [ -f "$src" ] && [ -x "$src" ]; then dest=/bin/; else dest=/data/; fi
	fi
	[[ $dest == */ ]] && dest+=$(basename "$src")
	mkdir -p "$root/$(dirname "/$dest")"
	cp -a "$src" "$root/$dest"
done

if [ $# -gt 0 ]; then
	shquote "$@" >"$root/cmd"
fi
printf 'INSMOD=%s\nMODPARAMS=%s\n' "$insmod" "$(shquote "$modparams")" \
	>"$root/etc/katomic-vm.conf"

cat >"$root/init" <<'EOF'
#!/bin/busybox sh
# katomic test bed init (written by scripts/mkinitramfs.sh)
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s	# symlinks for the applets (needs /proc)
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t devpts devpts /dev/pts
exec </dev/null >/dev/console 2>&1
# debugfs: where a debug kernel keeps kmemleak and the fault injection knobs
[ -d /sys/kernel/debug ] && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
KMEMLEAK=/sys/kernel/debug/kmemleak
if [ -w $KMEMLEAK ]; then
	# Forget what boot left: a suspect found after the command is its own.
	echo scan >$KMEMLEAK
	echo clear >$KMEMLEAK
fi

INSMOD=1 MODPARAMS=
. /etc/katomic-vm.conf
# Marks in the kernel log where boot ends and the test's part begins.
echo "katomic-vm: init: running the command" >/dev/kmsg
rc=0
if [ "$INSMOD" = 1 ]; then
	# shellcheck disable=SC2086 # word-split the parameters
	insmod /katomic.ko $MODPARAMS || {
		rc=$?
		echo "init: insmod /katomic.ko $MODPARAMS failed ($rc); command not run"
	}
fi
if [ "$rc" = 0 ]; then
	cd /
	if [ -s /cmd ]; then
		sh /cmd
		rc=$?
	elif [ $# -gt 0 ]; then
		"$@"
		rc=$?
	else
		echo "init: no command (no /cmd and nothing after -- on the kernel command line)"
		rc=127
	fi
fi
# kmemleak (a debug kernel): unload the module, wait out kmemleak's minimum
# age of an object (5 s), scan and print the suspects between markers; vm-run
# fails the run on any.  A module that cannot be unloaded fails the command.
if [ -w $KMEMLEAK ]; then
	tries=0
	while grep -q '^katomic ' /proc/modules && ! rmmod katomic 2>/dev/null; do
		tries=$((tries + 1))
		if [ $tries -ge 20 ]; then
			echo "init: rmmod katomic failed for 10 s after the command"
			[ "$rc" != 0 ] || rc=1
			break
		fi
		sleep 0.5
	done
	sleep 6
	echo scan >$KMEMLEAK
	echo "===KATOMIC-KMEMLEAK-BEGIN==="
	cat $KMEMLEAK
	echo "===KATOMIC-KMEMLEAK-END==="
fi
# From here on every kernel message but debug also reaches the console (the
# boot ran quiet, loglevel=4): a report made while the log is dumped, or
# during poweroff, shows on the console after the markers, where vm-run
# looks for it too.
echo 7 >/proc/sys/kernel/printk
echo "===KATOMIC-DMESG-BEGIN==="
dmesg
echo "===KATOMIC-DMESG-END==="
# The kernel's taint flags: a second signal, kept even if the report's log
# lines are lost (ring buffer overrun, cleared, never on the console).
echo "===KATOMIC-TAINTED=$(cat /proc/sys/kernel/tainted)==="
echo "===KATOMIC-EXIT=$rc==="
sync
poweroff -f
echo o >/proc/sysrq-trigger
sleep 60
EOF
chmod 0755 "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
