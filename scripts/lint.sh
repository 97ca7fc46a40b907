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
	case $f in *.mod.c) ;; *) files+=("$f") ;; esac
done
echo "checkpatch --strict: ${files[*]}"
if ! perl "$ksrc/scripts/checkpatch.pl" --terse --show-types -f "${files[@]}"; then
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
