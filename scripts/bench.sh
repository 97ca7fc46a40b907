#!/usr/bin/env bash
# make bench: katomic bench's full default matrix in the QEMU test bed, the
# results written into bench/ (results.txt, results.csv, results.json,
# bench.png).  Boots the VM once (KERNEL=6.1|6.12|6.12-rt, as every test
# bed script), runs `katomic bench` there, takes its CSV and JSON off the
# console (between marker lines) and renders the table and the plot on
# the host from the CSV (the guest has no gnuplot).  Options after --
# go to katomic bench (e.g. -- --seconds 0.1 --runs 3).
# usage: scripts/bench.sh [--out DIR] [-- BENCH-OPTION...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-$top/build}
out=$top/bench
args=()

while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--) shift; args=("$@"); break ;;
	-h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "bench: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
for a in "${args[@]}"; do
	case $a in
	*[!-A-Za-z0-9.,:_=]*) echo "bench: bench option '$a' has characters the guest's shell would read" >&2; exit 2 ;;
	esac
done

# The module for the test bed's kernel (make vm provisions it), the tools.
scripts/deps.sh >/dev/null
make -s vm
make -s userspace O="$O"

commit=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || commit=$commit-dirty
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# TERM=dumb: progress as whole lines, not one line rewritten, on the
# console the markers are cut from.
cat >"$work/guest" <<GUEST
#!/bin/sh
TERM=dumb /bin/katomic bench --commit $commit --csv /tmp/r.csv --json /tmp/r.json ${args[*]} >/dev/null
rc=\$?
echo "===BENCH-CSV-BEGIN==="
cat /tmp/r.csv
echo "===BENCH-CSV-END==="
echo "===BENCH-JSON-BEGIN==="
cat /tmp/r.json
echo "===BENCH-JSON-END==="
exit \$rc
GUEST
chmod +x "$work/guest"
mkdir -p "$O/vm"
rc=0
scripts/vm-run.sh --timeout 1800 --log "$O/vm/bench.log" --add "$O/bin/katomic" \
	--add "$work/guest:/bin/bench-guest" -- /bin/bench-guest >"$work/console" || rc=$?
# What the guest printed between the markers, without carriage returns
# and kernel messages.
cut_out() {
	tr -d '\r' <"$work/console" |
		sed -n "/^===BENCH-$1-BEGIN===\$/,/^===BENCH-$1-END===\$/p" |
		sed '1d;$d' | grep -v '^\[ *[0-9][0-9]*\.[0-9]*\]' || :
}
if [ "$rc" != 0 ]; then
	grep -a 'katomic: bench' "$work/console" >&2 || :
	echo "bench: the run in the VM failed ($rc); the console is in $O/vm/bench.log" >&2
	exit "$rc"
fi
mkdir -p "$out"
cut_out CSV >"$work/results.csv"
cut_out JSON >"$work/results.json"
if command -v python3 >/dev/null; then
	python3 -m json.tool "$work/results.json" >/dev/null ||
		{ echo "bench: the guest's JSON does not parse" >&2; exit 1; }
fi
"$O/bin/katomic" bench --from "$work/results.csv" >"$work/results.txt" ||
	{ echo "bench: the guest's CSV does not read back" >&2; exit 1; }
"$O/bin/katomic" bench --from "$work/results.csv" --plot "$out/bench.png"
cp "$work/results.csv" "$work/results.json" "$work/results.txt" "$out/"
cat "$out/results.txt"
echo "bench: results.txt, results.csv, results.json and bench.png in $out"
