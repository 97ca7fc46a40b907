#!/usr/bin/env bash
# checkpatch --strict (with the project's .checkpatch.conf) and sparse on the
# kernel code.  Exits non-zero on any finding.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
ksrc=$(scripts/ksrc.sh)
kenv=$(scripts/kernel.sh) || { echo "lint: scripts/kernel.sh failed" >&2; exit 1; }
eval "$kenv"
rc=0
files=()
for f in kmod/*.c kmod/*.h uapi/linux/katomic.h; do
	case $f in *.mod.c | kmod/compat.h) ;; *) files+=("$f") ;; esac
done
echo "checkpatch --strict: ${files[*]}"
if ! perl "$ksrc/scripts/checkpatch.pl" --terse --show-types -f "${files[@]}"; then
	rc=1
fi
# kmod/compat.h is the one place that tests kernel versions: there, and
# only there, LINUX_VERSION_CODE is allowed (and is no constant on the
# left of a comparison); anywhere else in kmod/ it is a finding.
echo "checkpatch --strict: kmod/compat.h (LINUX_VERSION_CODE allowed)"
if ! perl "$ksrc/scripts/checkpatch.pl" --terse --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f kmod/compat.h; then
	rc=1
fi
if grep -nE 'LINUX_VERSION_CODE|KERNEL_VERSION\(' "${files[@]}"; then
	echo "lint: kernel-version tests outside kmod/compat.h (above): move them there"
	rc=1
fi
echo "sparse (C=2): kmod/"
out=$(make -s -C "$KDIR" M="$top" C=2 modules 2>&1 | grep -v -e "^  CHECK" -e "^Skipping BTF" || true)
if [ -n "$out" ]; then
	echo "$out"
	rc=1
fi
[ "$rc" = 0 ] && echo "lint: clean"
exit "$rc"
