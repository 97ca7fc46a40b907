# shellcheck shell=bash
# TAP for the check scripts (sourced): ok/notok/check count the tests, and
# tap_totals prints kselftest's "# Totals:" line, which scripts/check.sh
# counts, and returns non-zero if any failed.
tap_n=0 tap_pass=0 tap_fail=0
ok() { tap_n=$((tap_n + 1)) tap_pass=$((tap_pass + 1)); echo "ok $tap_n $*"; }
notok() { tap_n=$((tap_n + 1)) tap_fail=$((tap_fail + 1)); echo "not ok $tap_n $*"; }
# check DESCRIPTION CMD...: ok if CMD succeeds, else not ok with the last
# 30 lines of its output.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$what"
	else
		notok "$what"
		[ -z "$out" ] || printf '%s\n' "$out" | tail -n 30 | sed 's/^/#   /'
	fi
}
tap_totals() {
	echo "# Totals: pass:$tap_pass fail:$tap_fail xfail:0 xpass:0 skip:0 error:0"
	[ "$tap_fail" = 0 ]
}
