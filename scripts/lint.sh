#!/usr/bin/env bash
# checkpatch --strict (with the project's .checkpatch.conf) and sparse on the
# kernel code; the uapi header alone in C and C++, -m64 and -m32, with one
# struct layout everywhere.  Exits non-zero on any finding.
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
# The uapi header alone: compiled by itself (nothing included before it) in
# C90 (as the kernel's own uapi header test does), C11 -pedantic, C++98 and
# C++17 -pedantic, each -m64 and -m32 (Debian's gcc-multilib, which deps.sh
# installs), all with -Wall -Wextra -Werror.  Then its layout: the native
# C build of scripts/uapi_layout.c prints every struct's size, field
# offsets and sizes and ioctl numbers (and fails on a hole or an unlisted
# field); every other dialect and width must compile it with those values
# asserted.  The 32-bit variants are only compiled, never run.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dialects=("gcc -x c -std=c90" "gcc -x c -std=c11 -pedantic"
	"g++ -x c++ -std=c++98" "g++ -x c++ -std=c++17 -pedantic")
warn=(-Wall -Wextra -Werror -I"$top/uapi")
echo "uapi header alone: C90, C11, C++98, C++17; -m64 and -m32"
if ! echo 'int x;' | gcc -m32 -x c -fsyntax-only - 2>/dev/null; then
	echo "lint: gcc -m32 cannot compile (gcc-multilib is missing)"
	rc=1
fi
for d in "${dialects[@]}"; do
	for m in -m64 -m32; do
		# shellcheck disable=SC2086 # $d is a compiler and its flags
		if ! echo '#include <linux/katomic.h>' |
			$d $m "${warn[@]}" -fsyntax-only - 2>"$tmp/err"; then
			echo "lint: uapi/linux/katomic.h alone fails with $d $m:"
			cat "$tmp/err"
			rc=1
		fi
	done
done
echo "uapi layout: one layout in every dialect, -m64 and -m32"
if gcc -std=c90 "${warn[@]}" -o "$tmp/layout" scripts/uapi_layout.c 2>"$tmp/err" &&
	"$tmp/layout" >"$tmp/layout.h" 2>"$tmp/err"; then
	echo "  $(grep -c _SIZE "$tmp/layout.h") structs, $(grep -c _FIELD "$tmp/layout.h") fields," \
		"$(grep -c _IOCTL "$tmp/layout.h") ioctls (native C, -m64)"
	for d in "${dialects[@]}"; do
		for m in -m64 -m32; do
			# shellcheck disable=SC2086
			if ! $d $m "${warn[@]}" -fsyntax-only \
				-DKATOMIC_LAYOUT_EXPECT="\"$tmp/layout.h\"" \
				scripts/uapi_layout.c 2>"$tmp/err"; then
				echo "lint: the layout differs with $d $m:"
				grep -E 'error|uapi_layout' "$tmp/err" | head -n 20
				rc=1
			fi
		done
	done
else
	echo "lint: scripts/uapi_layout.c:"
	cat "$tmp/err"
	rc=1
fi
[ "$rc" = 0 ] && echo "lint: clean"
exit "$rc"
