#!/bin/sh
# Runs inside the test-bed guest (busybox sh) with the module DKMS built
# loaded at boot: a smoke test of that very module through katomic.
#   vm-dkms-smoke.sh SHA256    SHA256: the dkms-built katomic.ko's, on the host
# Output is TAP with a kselftest "# Totals:" line.
n=0 pass=0 fail=0
ok() { n=$((n + 1)) pass=$((pass + 1)); echo "ok $n $*"; }
notok() { n=$((n + 1)) fail=$((fail + 1)); echo "not ok $n $*"; }
# expect DESCRIPTION WANT CMD...: CMD's output (stdout and stderr) is WANT
# and its exit status 0.
expect() {
	what=$1 want=$2
	shift 2
	got=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ "$got" = "$want" ]; then
		ok "$what"
	else
		notok "$what: exit $rc"
		printf '%s\n' "$got" | sed 's/^/#   got: /'
		printf '%s\n' "$want" | sed 's/^/#   want: /'
	fi
}

got=$(sha256sum /katomic.ko | cut -d' ' -f1)
if [ -n "$1" ] && [ "$got" = "$1" ]; then
	ok "/katomic.ko is the module dkms built (sha256 $got)"
else
	notok "/katomic.ko is not the module dkms built: sha256 $got, want '$1'"
fi
if [ -d /sys/module/katomic ] && [ -c /dev/katomic ]; then
	ok "the module is loaded and /dev/katomic exists"
else
	notok "the module is not loaded or /dev/katomic is missing"
fi
info=$(katomic info 2>&1)
case $info in
*"abi_version 1"*) ok "katomic info: abi_version 1" ;;
*) notok "katomic info: $info" ;;
esac
expect "counter define, add, cas, load, undefine" "42
42 applied
100" katomic define 0 int64 --init 40 , add 0 2 , cas 0 42 100 , load 0 , undefine 0
expect "uint32 wraps Go's way" "4294967295
0" katomic define 1 uint32 , add 1 0xffffffff , add 1 1 , undefine 1
expect "value slot define, store, load, undefine" "version 1
tag 7 len 5 version 1 text hello" \
	katomic value define 0 , value store 0 --tag 7 hello , value load 0 , value undefine 0
out=$(katomic hammer --threads 2 --ops 20000 --target kernel:atomic --target kernel:spinlock --json 2>&1)
rows=$(printf '%s\n' "$out" | grep -c '"lost": 0,')
if [ "$rows" = 2 ]; then
	ok "hammer: kernel:atomic and kernel:spinlock lose nothing (2 x 20000 ADDs)"
else
	notok "hammer: $out"
fi
left=$(katomic list; katomic value list)
if [ -z "$left" ]; then ok "nothing left defined"; else notok "left defined: $left"; fi
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
[ "$fail" = 0 ]
