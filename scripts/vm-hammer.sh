#!/bin/sh
# Runs inside the test-bed guest (busybox sh) with the module loaded: the
# study's claims, checked with katomic hammer on every kernel and user kind.
#  - a default run (2 threads x 500,000 ADDs on one shared counter) loses
#    updates with kernel:none and user:none, and none with any other kind;
#  - every kind but none stays exact for cas-loop and swap from 4 threads
#    (none's rows there must only add up: in such short runs its losses
#    are too few to count on);
#  - every kind, none too, is exact when each thread has its own counter;
#  - the hammer leaves no counter defined behind it.
# Output is TAP with a kselftest "# Totals:" line, which make check counts.
n=0 pass=0 fail=0

ok() {
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n $*"
}
notok() {
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n $*"
}

# rows JSON: "target supported expected got lost dups" per result line
# (dups: swap's duplicates, 0 for the other ops).
rows() {
	sed -n '/"target"/{
		s/.*"target": "\([^"]*\)", "supported": \([a-z]*\)/\1 \2 /
		s/"duplicates": \([0-9]*\)/@\1@/
		s/ , "expected": \([0-9]*\), "got": \([0-9]*\), "lost": \([0-9]*\)[^@]*/ \1 \2 \3 0/
		s/ 0@\([0-9]*\)@.*/ \1/
		s/ *[,}].*//
		p
	}' "$1"
}

# hammer NAME EXPECT ARGS...: run katomic hammer --json ARGS; EXPECT is
# "lossy" (none kinds must lose updates, others none), "locked" (kinds
# other than none lose none) or "exact" (no kind may lose any).  percpu
# rows for ops it lacks must say unsupported.
hammer() {
	name=$1 expect=$2 json=/tmp/hammer.json
	shift 2
	echo "# katomic hammer $*"
	if ! katomic hammer --json "$@" >"$json"; then
		notok "$name: katomic hammer exited $?"
		return
	fi
	rows "$json" >/tmp/hammer.rows
	if [ ! -s /tmp/hammer.rows ]; then
		notok "$name: no results in the hammer's JSON"
		cat "$json"
		return
	fi
	while read -r target supported expected got lost dups; do
		kind=${target#*:}
		what="$name: $target: expected $expected got $got lost $lost"
		[ "$dups" = 0 ] || what="$what dups $dups"
		if [ "$supported" = false ]; then
			if [ "$kind" = percpu ]; then
				ok "$name: $target: unsupported, as the ABI says"
			else
				notok "$name: $target: unsupported?"
			fi
		elif [ -z "$lost" ] || [ $((expected - got)) != "$lost" ]; then
			notok "$what: the row does not add up"
		elif [ "$expect" = lossy ] && [ "$kind" = none ]; then
			if [ "$lost" -gt 0 ]; then ok "$what"; else notok "$what: none lost nothing"; fi
		elif [ "$expect" = locked ] && [ "$kind" = none ]; then
			ok "$what (none: the row adds up; its losses are not counted on)"
		elif [ "$lost" = 0 ] && [ "$dups" = 0 ]; then
			ok "$what"
		else
			notok "$what"
		fi
	done </tmp/hammer.rows
}

echo "TAP version 13"
hammer default lossy --threads 2
hammer cas-loop locked --threads 4 --ops 20000 --op cas-loop
hammer swap locked --threads 4 --ops 20000 --op swap
hammer per-thread exact --threads 4 --ops 20000 --counter per-thread
hammer adjacent exact --threads 4 --ops 20000 --counter adjacent --op swap
left=$(katomic list)
if [ -z "$left" ]; then
	ok "the hammer left no counter defined"
else
	notok "the hammer left counters defined: $left"
fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
