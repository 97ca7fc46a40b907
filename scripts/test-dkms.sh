#!/usr/bin/env bash
# DKMS end to end, as root: make dkms-install builds the module with dkms
# for the test bed's kernel (Debian's 6.1 headers; the host runs another
# kernel, so KVER is passed and dkms gets -k), the .ko dkms built is
# checked (vermagic, installed under /lib/modules/KVER/updates/dkms,
# modules.dep) and booted in the QEMU test bed (scripts/vm-run.sh --module
# that.ko) with a smoke test (scripts/vm-dkms-smoke.sh: the guest checks
# that it loaded that very file, then drives counters and a value slot
# with katomic); make dkms-install once more (it replaces the
# registration), then make dkms-uninstall must leave no trace in dkms's
# tree, /usr/src or /lib/modules.  Whatever happens, the machine is left as
# it was found: the registration is removed, and the files dkms's depmod
# and its module signing key generation made (if they were not there
# before) are deleted.  Installs Debian's dkms if it is missing.
# Output is TAP with a kselftest "# Totals:" line.
#
# usage: scripts/test-dkms.sh   (O: the user-space build, default build/)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-$top/build}
logs=$O/check
mkdir -p "$logs"
export DEBIAN_FRONTEND=noninteractive

# shellcheck source=scripts/tap.sh
. "$top/scripts/tap.sh"

if [ "$(id -u)" != 0 ]; then
	notok "dkms needs root (run make check as root)"
	tap_totals
	exit
fi
if ! command -v dkms >/dev/null; then
	echo "# dkms is missing: installing Debian's dkms"
	if ! { apt-get install -y -qq --no-install-recommends dkms ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends dkms; }; } \
		</dev/null >"$logs/dkms-apt.log" 2>&1; then
		sed 's/^/#   /' "$logs/dkms-apt.log"
		notok "apt-get install dkms"
		tap_totals
		exit
	fi
fi
echo "# $(dkms --version)"

kenv=$(scripts/kernel.sh) || { notok "scripts/kernel.sh"; tap_totals; exit; }
eval "$kenv"
version=$(cat VERSION)
arch=$(uname -m)
mods=/lib/modules/$KVER
if [ ! -f "$mods/build/Makefile" ]; then
	notok "no headers at $mods/build (linux-headers-$KVER)"
	tap_totals
	exit
fi

# What is there before, so that cleanup removes only what this run made.
before=$(ls -A "$mods")
mok_before=
for f in /var/lib/dkms/mok.key /var/lib/dkms/mok.pub; do
	[ -e "$f" ] && mok_before+=" $f"
done
cleanup() {
	make -s dkms-uninstall >/dev/null 2>&1
	local f
	for f in "$mods"/* "$mods"/.[!.]*; do
		[ -e "$f" ] || continue
		grep -qxF "$(basename "$f")" <<<"$before" || rm -rf "$f"
	done
	for f in /var/lib/dkms/mok.key /var/lib/dkms/mok.pub; do
		[[ " $mok_before " == *" $f "* ]] || rm -f "$f"
	done
}
trap cleanup EXIT

if [ -n "$(dkms status -m katomic 2>/dev/null)" ]; then
	echo "# a katomic registration was left from before: make dkms-install replaces it"
	dkms status -m katomic | sed 's/^/#   /'
fi

# 1. make dkms-install for the test bed's kernel.
if make -s dkms-install KVER="$KVER" >"$logs/dkms-install.log" 2>&1; then
	ok "make dkms-install KVER=$KVER"
else
	notok "make dkms-install KVER=$KVER"
	sed 's/^/#   /' "$logs/dkms-install.log"
	log=/var/lib/dkms/katomic/$version/build/make.log
	[ ! -r "$log" ] || sed 's/^/#   make.log: /' "$log"
	tap_totals
	exit
fi
status=$(dkms status -m katomic -v "$version" -k "$KVER" 2>&1)
check "dkms status: katomic/$version, $KVER, $arch: installed ($status)" \
	grep -qE "^katomic/$version, $KVER, $arch: installed" <<<"$status"
ko=/var/lib/dkms/katomic/$version/$KVER/$arch/module/katomic.ko
check "dkms built $ko" test -f "$ko"
vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
check "its vermagic is $KVER: '$vermagic'" test "$vermagic" = "$KVER"
modver=$(modinfo -F version "$ko" 2>/dev/null)
check "it carries VERSION ($version): '$modver'" test "$modver" = "$version"
check "dkms installed it as $mods/updates/dkms/katomic.ko" cmp "$ko" "$mods/updates/dkms/katomic.ko"
check "modules.dep lists updates/dkms/katomic.ko" grep -qx 'updates/dkms/katomic.ko:' "$mods/modules.dep"
check "dkms built it from /usr/src/katomic-$version" \
	test "$(readlink "/var/lib/dkms/katomic/$version/source")" = "/usr/src/katomic-$version"

# 2. That very .ko in the test bed, with a smoke test.
sum=$(sha256sum "$ko" | cut -d' ' -f1)
scripts/vm-run.sh --module "$ko" --log "$logs/vm-dkms-console.log" \
	--add "$O/bin/katomic" --add "$top/scripts/vm-dkms-smoke.sh" \
	-- /bin/vm-dkms-smoke.sh "$sum" >"$logs/vm-dkms.out" 2>&1
rc=$?
sed 's/^/#   vm: /' "$logs/vm-dkms.out"
guest=$(grep -aE '^(not )?ok [0-9]+ ' "$logs/vm-dkms.out")
check "the guest ran its smoke test ($(grep -c . <<<"$guest") checks)" test -n "$guest"
while read -r line; do
	[ -n "$line" ] || continue
	desc=${line#*ok }
	desc=${desc#* }
	case $line in
	ok*) ok "vm: $desc" ;;
	*) notok "vm: $desc" ;;
	esac
done <<<"$guest"
check "vm-run: the dkms-built module loaded, the smoke test passed and the kernel log is clean (exit $rc)" \
	test "$rc" = 0

# 3. Again: dkms-install replaces the registration.
if make -s dkms-install KVER="$KVER" >"$logs/dkms-install2.log" 2>&1; then
	ok "make dkms-install again (replaces the registration)"
else
	notok "make dkms-install again"
	sed 's/^/#   /' "$logs/dkms-install2.log"
fi
check "one registration of katomic: $(dkms status -m katomic | tr '\n' ' ')" \
	test "$(dkms status -m katomic | wc -l)" = 1

# 4. make dkms-uninstall leaves nothing behind.
if make -s dkms-uninstall >"$logs/dkms-uninstall.log" 2>&1; then
	ok "make dkms-uninstall"
else
	notok "make dkms-uninstall"
	sed 's/^/#   /' "$logs/dkms-uninstall.log"
fi
check "dkms status has no katomic" test -z "$(dkms status -m katomic 2>&1)"
check "no /var/lib/dkms/katomic" test ! -e /var/lib/dkms/katomic
check "no /usr/src/katomic-*" test -z "$(ls -d /usr/src/katomic-* 2>/dev/null)"
check "no katomic.ko under $mods" test -z "$(find "$mods/" -name 'katomic.ko*' 2>/dev/null)"
check "modules.dep no longer lists katomic" test -z "$(grep katomic "$mods/modules.dep" 2>/dev/null)"
tap_totals
