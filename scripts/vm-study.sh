#!/bin/sh
# Runs inside the test-bed guest (busybox sh) with the module loaded: the
# studies' claims, checked with katomic hammer on every kernel and user
# counter kind and with katomic tear on every value slot kind.
#  - a default run (2 threads x 500,000 ADDs on one shared counter) loses
#    updates with kernel:none and user:none, and none with any other kind;
#  - every kind but none stays exact for cas-loop and swap from 4 threads
#    (none's rows there must only add up: in such short runs its losses
#    are too few to count on);
#  - every kind, none too, is exact when each thread has its own counter;
#  - kernel and user atomics on the same memory: kernel:mmap (every thread
#    through the mapping) and kernel:mixed (half through ioctls, half
#    through the mapping, on one counter) are exact for add, cas-loop and
#    swap, the ioctl half by ioctl, batch and io_uring;
#  - the hammer leaves no counter defined behind it;
#  - katomic tear: a default run tears loads of kernel:none (user:none's
#    tearing depends on how the threads overlap: only its row must add
#    up), and no load of an rcu or seqlock slot, kernel or user, is torn;
#    no slot is left defined.
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
	# stderr is the console, a terminal: keep the progress line off it
	if ! katomic hammer --json "$@" >"$json" 2>/tmp/hammer.err; then
		notok "$name: katomic hammer exited $?"
		cat /tmp/hammer.err
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
hammer mapped exact --threads 4 --ops 20000 --target kernel:mmap \
	--target kernel:mixed
hammer mapped-cas-loop exact --threads 4 --ops 10000 --op cas-loop \
	--target kernel:mmap --target kernel:mixed
hammer mapped-swap-batch exact --threads 4 --ops 20000 --op swap --path batch \
	--target kernel:mixed
hammer mapped-uring exact --threads 4 --ops 20000 --path uring \
	--target kernel:mixed
left=$(katomic list)
if [ -z "$left" ]; then
	ok "the hammer left no counter defined"
else
	notok "the hammer left counters defined: $left"
fi

# tear: "target loads torn" per result line of katomic tear --json.
tear_rows() {
	sed -n 's/.*"target": "\([^"]*\)", "loads": \([0-9]*\), "torn": \([0-9]*\),.*/\1 \2 \3/p' "$1"
}

echo "# katomic tear"
json=/tmp/tear.json
if ! katomic tear --json >"$json" 2>/tmp/tear.err; then
	notok "tear: katomic tear exited $?"
	cat /tmp/tear.err
else
	tear_rows "$json" >/tmp/tear.rows
	[ -s /tmp/tear.rows ] || notok "tear: no results in the JSON"
	while read -r target loads torn; do
		what="tear: $target: $loads loads, $torn torn"
		case $target in
		kernel:none)
			if [ "$torn" -gt 0 ]; then ok "$what"; else notok "$what: none tore nothing"; fi ;;
		user:none)
			ok "$what (none: not counted on)" ;;
		*)
			if [ "$torn" = 0 ] && [ "$loads" -gt 0 ]; then ok "$what"; else notok "$what"; fi ;;
		esac
	done </tmp/tear.rows
fi
left=$(katomic value list)
if [ -z "$left" ]; then
	ok "tear left no slot defined"
else
	notok "tear left slots defined: $left"
fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
