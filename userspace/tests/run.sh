#!/usr/bin/env bash
# Runs the host tests given as arguments, keeping their kselftest output,
# and ends with "host tests: N passed, N failed, N skipped" summed from the
# harness totals.  Exits non-zero if a test failed or a program ended
# without reporting its totals.
set -u
pass=0 fail=0 skip=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	"$t" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	totals=$(sed -n 's/^# Totals: pass:\([0-9]*\) fail:\([0-9]*\) .*skip:\([0-9]*\) error:\([0-9]*\).*/\1 \2 \3 \4/p' "$log")
	if [ -z "$totals" ]; then
		echo "# $t: exit status $rc without totals"
		fail=$((fail + 1))
		continue
	fi
	read -r p f s e <<<"$totals"
	pass=$((pass + p)) fail=$((fail + f + e)) skip=$((skip + s))
	if [ "$rc" != 0 ] && [ "$((f + e))" = 0 ]; then
		echo "# $t: exit status $rc"
		fail=$((fail + 1))
	fi
done
echo "host tests: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
