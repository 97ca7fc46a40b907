#!/usr/bin/env bash
# make study: the measurements behind the README's study section, in the
# QEMU test bed.  Boots the VM once and runs katomic hammer:
#  - RUNS default runs (2 threads x 500,000 ADDs on one counter) of
#    kernel:none and user:none: in how many did updates get lost, and how
#    many;
#  - for every other kind, kernel and user, 4 threads x OPS/4 ADDs on one
#    counter (10^7 ops by default): lost updates (must be 0) and ops/s;
#  - katomic tear on every value slot kind, kernel and user, with 2
#    readers x 500,000 loads (10^6 loads per kind): torn loads (rcu and
#    seqlock must have none) and loads/s, stores/s.
# usage: scripts/study.sh [--runs N] [--ops TOTAL]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-$top/build}
runs=10 total=10000000

while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--ops) total=$2; shift 2 ;;
	-h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "study: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
case $runs$total in *[!0-9]*) echo "study: --runs and --ops take numbers" >&2; exit 2 ;; esac
per=$((total / 4))

scripts/deps.sh >/dev/null
kenv=$(scripts/kernel.sh) || { echo "study: scripts/kernel.sh failed" >&2; exit 1; }
eval "$kenv"
make -s vm
make -s userspace O="$O"

guest=$(mktemp) log=$O/vm/study.log
trap 'rm -f "$guest"' EXIT
cat >"$guest" <<GUEST
#!/bin/sh
# hammer TAG ARGS: katomic hammer --json ARGS, each result row tagged for
# the host; stderr (the progress line) is shown only if the hammer fails.
hammer() {
	tag=\$1
	shift
	katomic hammer --json "\$@" >/tmp/h.json 2>/tmp/h.err || {
		cat /tmp/h.err
		exit 1
	}
	sed -n "/\"target\"/s/^/STUDY \$tag /p" /tmp/h.json
}
tear() {
	katomic tear --json "\$@" >/tmp/t.json 2>/tmp/t.err || {
		cat /tmp/t.err
		exit 1
	}
	sed -n "/\"target\"/s/^/TEAR /p" /tmp/t.json
}
i=0
while [ \$i -lt $runs ]; do
	i=\$((i + 1))
	echo "study: none, run \$i of $runs"
	hammer none --target kernel:none --target user:none
done
for k in atomic spinlock mutex percpu; do
	echo "study: \$k, 4 threads x $per ADDs"
	hammer exact --target kernel:\$k --target user:\$k --threads 4 --ops $per
done
echo "study: tear, 2 readers x 500000 loads per kind"
tear --loads 500000
GUEST
chmod +x "$guest"
mkdir -p "$O/vm"
scripts/vm-run.sh --log "$log" --add "$O/bin/katomic" --add "$guest:/bin/study" \
	-- /bin/study | grep --line-buffered '^study:' ||
	{ echo "study: the VM run failed, see $log" >&2; exit 1; }
bad=0

# "STUDY tag {... "target": "kernel:none", ... "lost": 123, ...}" -> fields
tr -d '\r' <"$log" | sed -n 's/^STUDY \([a-z]*\) .*"target": "\([^"]*\)".*"expected": \([0-9]*\), "got": \([0-9]*\), "lost": \([0-9]*\), "lost_share": \([0-9.]*\).*"ops_per_s": \([0-9.]*\).*/\1 \2 \3 \4 \5 \6 \7/p' |
awk -v runs="$runs" -v per="$per" '
function median(a, n,   i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 == "none" {
	t = $2; n[t]++; if ($5 > 0) lossy[t]++
	share[t, n[t]] = $6; rate[t, n[t]] = $7; lostn[t, n[t]] = $5
	order[t] = 1
}
$1 == "exact" {
	x[++nx] = $2; xe[$2] = $3; xg[$2] = $4; xl[$2] = $5; xr[$2] = $7
}
END {
	printf "none, %d default runs each (2 threads x 500000 ADDs on one counter):\n", runs
	printf "  %-14s %9s %12s %12s %12s %14s\n", "target", "lossy runs", "lost min", "lost median", "lost max", "median ops/s"
	split("kernel:none user:none", ts, " ")
	for (k = 1; k <= 2; k++) {
		t = ts[k]
		if (!n[t]) { printf "  %-14s no results\n", t; bad = 1; continue }
		min = max = lostn[t, 1]
		for (i = 1; i <= n[t]; i++) {
			v[i] = lostn[t, i]; r[i] = rate[t, i]
			if (v[i] < min) min = v[i]; if (v[i] > max) max = v[i]
		}
		printf "  %-14s %6d/%-3d %12d %12d %12d %14.0f\n", t, lossy[t], n[t], min, median(v, n[t]), max, median(r, n[t])
	}
	printf "\nevery other kind, 4 threads x %d ADDs (%d ops) on one counter:\n", per, 4 * per
	printf "  %-16s %12s %12s %8s %14s %10s\n", "target", "expected", "got", "lost", "ops/s", "vs atomic"
	for (i = 1; i <= nx; i++) {
		t = x[i]; side = t; sub(/:.*/, "", side)
		base = xr[side ":atomic"]
		printf "  %-16s %12d %12d %8d %14.0f %9.2fx\n", t, xe[t], xg[t], xl[t], xr[t], base ? xr[t] / base : 0
		if (xl[t] != 0) bad = 1
	}
	if (!nx) bad = 1
	exit bad
}' || bad=1

# "TEAR {"target": "kernel:none", "loads": N, "torn": N, "torn_share": X, ...}"
echo
echo "tear, 2 writers and 2 readers x 500000 loads, sizes 8,64,512,4096:"
printf '  %-16s %10s %10s %8s %12s %12s\n' target loads torn torn% loads/s stores/s
rows=$(tr -d '\r' <"$log" | sed -n 's/.*TEAR .*"target": "\([^"]*\)", "loads": \([0-9]*\), "torn": \([0-9]*\), "torn_share": \([0-9.]*\).*"loads_per_s": \([0-9.]*\), "stores_per_s": \([0-9.]*\).*/\1 \2 \3 \4 \5 \6/p')
[ -n "$rows" ] || { echo "  no results"; bad=1; }
while read -r t loads torn share lps sps; do
	[ -n "$t" ] || continue
	printf '  %-16s %10d %10d %7.3f%% %12.0f %12.0f\n' "$t" "$loads" "$torn" "$share" "$lps" "$sps"
	case $t in *:none) ;; *) [ "$torn" = 0 ] || bad=1 ;; esac
done <<<"$rows"
exit $bad
