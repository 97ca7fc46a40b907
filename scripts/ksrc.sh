#!/usr/bin/env bash
# Extract the few files katomic takes from Debian's linux-source-6.1 into the
# cache: the kselftest harness headers and checkpatch.pl with the data files
# it reads.  Nothing extracted here is committed.  Prints the directory.
set -euo pipefail
cache=${KATOMIC_CACHE:-$HOME/.cache/katomic}
tarball=${KATOMIC_KSRC_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
dest=$cache/linux-source-6.1
files=(
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/kselftest_harness.h
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
)
have=1
for f in "${files[@]}"; do [ -s "$dest/$f" ] || have=0; done
if [ "$have" = 0 ]; then
	if [ ! -r "$tarball" ]; then
		echo "ksrc: $tarball missing (apt-get install linux-source-6.1)" >&2
		exit 1
	fi
	tmp=$(mktemp -d "$cache/.ksrc.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache/.ksrc.XXXXXX"; })
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$tarball" -C "$tmp" "${files[@]/#/linux-source-6.1/}"
	rm -rf "$dest"
	mv "$tmp/linux-source-6.1" "$dest"
fi
echo "$dest"
