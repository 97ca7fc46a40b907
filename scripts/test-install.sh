#!/usr/bin/env bash
# make install into a staging directory, and check the tree it made:
#  - make install DESTDIR=... succeeds, for the kernel of KDIR (the module
#    must be built for it: make vm for the test bed's), and rebuilds nothing;
#  - exactly the expected files, with their modes (and depmod's indexes),
#    and nothing installed outside DESTDIR (no file of the tree written at
#    its real path, no group added, no ldconfig run);
#  - the module: its vermagic is KDIR's kernel, it is the .ko that was
#    built, modules.dep lists it and modprobe finds it by name there;
#  - modprobe.d/katomic.conf: parses (uncommented) and names every module
#    parameter once, with the default its description gives;
#  - katomic.pc through PKG_CONFIG_SYSROOT_DIR: a program including
#    <katomic.h> and <linux/katomic.h> builds with its --cflags and --libs
#    (shared; runs with LD_LIBRARY_PATH into the tree, and takes the
#    staged libkatomic.so.N) and --static --libs, and both run a twin;
#  - the man pages render without a warning (groff -ww, man --warnings),
#    carry the version, and katomic(1) names every command, value
#    subcommand and option of katomic --help, help value, help hammer and
#    help tear;
#  - the udev rule's syntax, and what it sets;
#  - make uninstall DESTDIR=... removes every file again.
# Output is TAP with a kselftest "# Totals:" line.
#
# usage: scripts/test-install.sh   (KDIR, KVER: from scripts/kernel.sh;
#                                   O: the user-space build, default build/)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
O=${O:-$top/build}
if [ -z "${KDIR:-}" ] || [ -z "${KVER:-}" ]; then
	kenv=$(scripts/kernel.sh) || { echo "test-install: scripts/kernel.sh failed" >&2; exit 1; }
	eval "$kenv"
fi
version=$(cat VERSION)
major=${version%%.*}

# shellcheck source=scripts/tap.sh
. "$top/scripts/tap.sh"
finish() {
	tap_totals
	exit
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
mkdir "$stage"
chmod 0755 "$stage"
prefix=/usr/local

# The install, timed against a marker: what it writes outside DESTDIR is
# found by mtime below.
touch "$tmp/marker"
sleep 1	# a second's room: some file systems keep whole seconds
group_before=$(getent group katomic || true)
ldcache_before=$(stat -c %Y /etc/ld.so.cache 2>/dev/null || true)
if make -s install DESTDIR="$stage" KDIR="$KDIR" O="$O" >"$tmp/install.log" 2>&1; then
	ok "make install DESTDIR=... KDIR=$KDIR"
	sed 's/^/#   /' "$tmp/install.log"
else
	notok "make install DESTDIR=... KDIR=$KDIR"
	sed 's/^/#   /' "$tmp/install.log"
	finish
fi
rebuilt=$(find kmod -newer "$tmp/marker" -type f 2>/dev/null)
check "make install rebuilt nothing in kmod/" test -z "$rebuilt"

mdir=lib/modules/$KVER
# path mode [type]: every file of the tree, and nothing else (but depmod's
# modules.* indexes).
expected="$mdir/extra/kmod/katomic.ko 644
${prefix#/}/bin/katomic 755
${prefix#/}/lib/libkatomic.a 644
${prefix#/}/lib/libkatomic.so.$version 755
${prefix#/}/lib/libkatomic.so.$major link libkatomic.so.$version
${prefix#/}/lib/libkatomic.so link libkatomic.so.$major
${prefix#/}/include/katomic/katomic.h 644
${prefix#/}/include/katomic/linux/katomic.h 644
${prefix#/}/lib/pkgconfig/katomic.pc 644
${prefix#/}/share/man/man1/katomic.1 644
${prefix#/}/share/man/man4/katomic.4 644
${prefix#/}/lib/udev/rules.d/60-katomic.rules 644
${prefix#/}/lib/modprobe.d/katomic.conf 644"
while read -r path mode target; do
	f=$stage/$path
	if [ "$mode" = link ]; then
		if [ -L "$f" ] && [ "$(readlink "$f")" = "$target" ]; then
			ok "/$path -> $target"
		else
			notok "/$path -> $target: $(readlink "$f" 2>/dev/null || echo missing)"
		fi
	elif [ -f "$f" ] && [ ! -L "$f" ] && [ "$(stat -c %a "$f")" = "$mode" ]; then
		ok "/$path, mode $mode"
	else
		notok "/$path, mode $mode: $(stat -c '%F %a' "$f" 2>&1)"
	fi
done <<<"$expected"
unexpected=$(cd "$stage" && find . ! -type d | sed 's|^\./||' | sort |
	grep -vxF -f <(cut -d' ' -f1 <<<"$expected") |
	grep -vE "^$mdir/modules\.[a-z.]+$" || true)
check "no file but the expected ones (and depmod's indexes)" test -z "$unexpected"
[ -z "$unexpected" ] || sed 's/^/#   unexpected: /' <<<"$unexpected"
baddirs=$(cd "$stage" && find . -mindepth 1 -type d ! -perm 0755)
check "every directory is mode 755" test -z "$baddirs"

# Nothing outside DESTDIR: no path of the staged tree was written at its
# real place during the install, no group was added, ld.so.cache is as it
# was.
outside=$(cd "$stage" && find . ! -type d | sed 's|^\.||' | while read -r p; do
	if [ -e "$p" ] && [ "$p" -nt "$tmp/marker" ]; then echo "$p"; fi
done)
check "nothing written outside DESTDIR (the tree's paths at /)" test -z "$outside"
[ -z "$outside" ] || sed 's/^/#   written: /' <<<"$outside"
check "no group added outside DESTDIR" test "$(getent group katomic || true)" = "$group_before"
check "ldconfig not run outside DESTDIR" \
	test "$(stat -c %Y /etc/ld.so.cache 2>/dev/null || true)" = "$ldcache_before"

# The module.
ko=$stage/$mdir/extra/kmod/katomic.ko
vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null | cut -d' ' -f1)
check "katomic.ko's vermagic is $KVER (KDIR's kernel): '$vermagic'" test "$vermagic" = "$KVER"
check "katomic.ko is the module built (kmod/katomic.ko)" cmp "$ko" kmod/katomic.ko
modver=$(modinfo -F version "$ko" 2>/dev/null)
check "katomic.ko carries VERSION ($version): '$modver'" test "$modver" = "$version"
check "modules.dep lists extra/kmod/katomic.ko" \
	grep -qx 'extra/kmod/katomic.ko:' "$stage/$mdir/modules.dep"
shown=$(modprobe -d "$stage" -S "$KVER" --show-depends katomic 2>&1)
check "modprobe finds katomic by name in the staged tree" \
	test "$shown" = "insmod $ko "

# modprobe.d: every parameter documented once with its default, and the
# options lines parse.
conf=$stage/${prefix#/}/lib/modprobe.d/katomic.conf
check "modprobe.d/katomic.conf sets nothing as installed" \
	test -z "$(grep -vE '^[[:space:]]*(#|$)' "$conf")"
sed 's/^#options /options /' "$conf" >"$tmp/active.conf"
nopts=$(grep -c '^options katomic ' "$tmp/active.conf")
parsed=$(modprobe -C "$tmp/active.conf" -c 2>/dev/null | grep -c '^options katomic ')
check "its $nopts options lines parse, uncommented (modprobe -c: $parsed)" \
	test "$nopts" -gt 0 -a "$parsed" = "$nopts"
# "name:description (default) (type)"; a parameter with its own ops has no type.
params=$(modinfo -F parm "$ko" | sed -n 's/^\([a-z_]*\):.*(\([0-9]*\))\( ([a-z]*)\)\{0,1\}$/\1 \2/p')
nparams=$(modinfo -F parm "$ko" | wc -l)
check "every parameter's description gives its default ($nparams parameters)" \
	test "$(wc -l <<<"$params")" = "$nparams"
while read -r name def; do
	lines=$(grep -cE "^#options katomic $name=" "$conf")
	defline=$(grep -E "^#options katomic $name=[^ ]*$" "$conf" | head -n1)
	check "katomic.conf documents $name once, default $def" \
		test "$lines" = 1 -a "${defline#*=}" = "$def"
done <<<"$params"
unknown=$(grep -oE '^#options katomic .*' "$conf" | tr ' ' '\n' | sed -n 's/=.*//p' |
	sort -u | grep -vxF -f <(cut -d' ' -f1 <<<"$params") || true)
check "katomic.conf names no parameter the module lacks" test -z "$unknown"

# pkg-config, as a program built against the staged tree would use it.
pc() {
	PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$stage/${prefix#/}/lib/pkgconfig \
		pkg-config "$@" katomic
}
check "pkg-config --modversion katomic is $version" test "$(pc --modversion)" = "$version"
cflags=$(pc --cflags)
check "pkg-config --cflags: -I the staged include/katomic: $cflags" \
	test "${cflags% }" = "-I$stage$prefix/include/katomic"
libs=$(pc --libs)
check "pkg-config --libs: -L the staged lib -lkatomic: $libs" \
	test "${libs% }" = "-L$stage$prefix/lib -lkatomic"
cat >"$tmp/prog.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <katomic.h>
#include <linux/katomic.h>

_Static_assert(sizeof(struct katomic_op) == 40, "struct katomic_op");

int main(void)
{
	struct katomic *k, *dev;
	int64_t v = 0, seen = 0;
	int applied;

	if (katomic_open("/nonexistent/katomic", &dev) != -ENOENT)
		return 1;
	if (katomic_twin_new(4, &k))
		return 1;
	if (katomic_define(k, 3, KATOMIC_TYPE_INT64, KATOMIC_SYNC_DEFAULT, 40) ||
	    katomic_add_int64(k, 3, 2, &v) != 0)
		return 1;
	applied = katomic_cas_int64(k, 3, 42, 100, &seen);
	printf("abi %d add %lld cas %lld %s %s\n", KATOMIC_ABI_VERSION,
	       (long long)v, (long long)seen, applied == 1 ? "applied" : "no",
	       katomic_op_name(KATOMIC_OP_CAS));
	katomic_close(k);
	return 0;
}
EOF
want="abi 1 add 42 cas 42 applied cas"
# shellcheck disable=SC2046 # pkg-config's flags are words
if cc -std=c11 -Wall -Wextra -Werror -o "$tmp/prog" "$tmp/prog.c" $(pc --cflags --libs) \
	>"$tmp/cc.log" 2>&1; then
	ok "a program builds with pkg-config --cflags --libs katomic"
	out=$(LD_LIBRARY_PATH=$stage$prefix/lib "$tmp/prog" 2>&1)
	check "it runs against the staged libkatomic.so: '$out'" test "$out" = "$want"
	lib=$(LD_LIBRARY_PATH=$stage$prefix/lib ldd "$tmp/prog" | awk '$1 == "libkatomic.so.'"$major"'" { print $3 }')
	check "it loads libkatomic.so.$major from the staged tree: $lib" \
		test "$lib" = "$stage$prefix/lib/libkatomic.so.$major"
	needed=$(readelf -d "$tmp/prog" | sed -n 's/.*NEEDED.*\[\(libkatomic[^]]*\)\]/\1/p')
	check "it needs the soname libkatomic.so.$major: $needed" test "$needed" = "libkatomic.so.$major"
else
	notok "a program builds with pkg-config --cflags --libs katomic"
	sed 's/^/#   /' "$tmp/cc.log"
fi
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Wextra -Werror -static -o "$tmp/prog-static" "$tmp/prog.c" \
	$(pc --cflags --static --libs) >"$tmp/cc.log" 2>&1; then
	ok "a program links statically with pkg-config --static --libs katomic"
	out=$("$tmp/prog-static" 2>&1)
	check "the static program runs: '$out'" test "$out" = "$want"
else
	notok "a program links statically with pkg-config --static --libs katomic"
	sed 's/^/#   /' "$tmp/cc.log"
fi
# The same from C++: the library header is extern "C".
cat >"$tmp/prog.cc" <<'EOF'
#include <cstdio>
#include <katomic.h>

int main()
{
	struct katomic *k;
	int64_t v = 0;

	if (katomic_twin_new(1, &k) ||
	    katomic_define(k, 0, KATOMIC_TYPE_INT64, KATOMIC_SYNC_DEFAULT, 40) ||
	    katomic_add_int64(k, 0, 2, &v) != 0)
		return 1;
	std::printf("c++ add %lld\n", (long long)v);
	katomic_close(k);
	return 0;
}
EOF
# shellcheck disable=SC2046
if c++ -std=c++17 -Wall -Wextra -Werror -o "$tmp/prog-cc" "$tmp/prog.cc" \
	$(pc --cflags --libs) >"$tmp/cc.log" 2>&1; then
	ok "a C++ program builds with pkg-config --cflags --libs katomic"
	out=$(LD_LIBRARY_PATH=$stage$prefix/lib "$tmp/prog-cc" 2>&1)
	check "the C++ program runs: '$out'" test "$out" = "c++ add 42"
else
	notok "a C++ program builds with pkg-config --cflags --libs katomic"
	sed 's/^/#   /' "$tmp/cc.log"
fi
exports=$(nm -D --defined-only "$stage$prefix/lib/libkatomic.so.$version" |
	awk '$2 == "T" { print $3 }' | grep -v '^katomic_[a-z]' || true)
check "libkatomic.so exports katomic_* calls only" test -z "$exports"

# The man pages.
for page in man1/katomic.1 man4/katomic.4; do
	f=$stage$prefix/share/man/$page
	check "$page: groff -ww is silent" \
		test -z "$(groff -t -ww -z -man "$f" 2>&1)"
	check "$page: man --warnings is silent" \
		test -z "$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)"
	check "$page: .TH names katomic $version" grep -q "^\.TH KATOMIC [14] .*\"katomic $version\"" "$f"
done
# katomic(1) against the command's own help, rendered without hyphenation
# or justification.
groff -t -man -Tascii -rHY=0 -rLL=250n -P-cbou "$stage$prefix/share/man/man1/katomic.1" \
	>"$tmp/katomic.1.txt" 2>/dev/null
bin=$O/bin/katomic
help=$("$bin" --help; "$bin" help value; "$bin" help hammer; "$bin" help tear;
	"$bin" help bench)
cmds=$("$bin" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p')
check "katomic --help lists commands ($(wc -w <<<"$cmds"))" test "$(wc -w <<<"$cmds")" -gt 10
for c in $cmds; do
	# a tagged paragraph (7 spaces in) or a section of its own
	check "katomic(1) documents the command $c" \
		grep -qE "^( {7}$c( |$)|${c^^}$)" "$tmp/katomic.1.txt"
done
subs=$("$bin" help value | sed -n 's/^  value \([a-z]*\) .*/\1/p')
check "katomic help value lists subcommands ($(wc -w <<<"$subs"))" test "$(wc -w <<<"$subs")" -ge 8
for c in $subs; do
	check "katomic(1) documents value $c" grep -qE "^ {7}value $c( |$)" "$tmp/katomic.1.txt"
done
opts=$(grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u)
check "the help texts name options ($(wc -w <<<"$opts"))" test "$(wc -w <<<"$opts")" -gt 20
for o in $opts; do
	check "katomic(1) documents $o" grep -qF -- "$o" "$tmp/katomic.1.txt"
done

# The udev rule: every line a comment or KEY=="v"/KEY="v" pairs with
# known operators; the rule for the misc device katomic sets group
# katomic and mode 0660.
rules=$stage$prefix/lib/udev/rules.d/60-katomic.rules
pair='[A-Z_]+(\{[^}]+\})?[[:space:]]*(==|!=|=|\+=|-=|:=)[[:space:]]*"[^"]*"'
bad=$(grep -vE '^[[:space:]]*(#|$)' "$rules" |
	grep -vE "^[[:space:]]*$pair([[:space:]]*,[[:space:]]*$pair)*[[:space:]]*$" || true)
check "60-katomic.rules: every line is a comment or a rule" test -z "$bad"
rule=$(grep -E '^[^#]*KERNEL=="katomic"' "$rules")
for k in 'SUBSYSTEM=="misc"' 'GROUP="katomic"' 'MODE="0660"'; do
	check "60-katomic.rules: the KERNEL==\"katomic\" rule has $k" \
		grep -qF -- "$k" <<<"$rule"
done
if udevadm verify --help >/dev/null 2>&1; then
	check "udevadm verify 60-katomic.rules" udevadm verify "$rules"
fi

# And away again.
if make -s uninstall DESTDIR="$stage" KDIR="$KDIR" O="$O" >"$tmp/uninstall.log" 2>&1; then
	left=$(cd "$stage" && find . ! -type d | sed 's|^\./||' | grep -vE "^$mdir/modules\.[a-z.]+$" || true)
	check "make uninstall DESTDIR=... leaves no file but depmod's indexes" test -z "$left"
	[ -z "$left" ] || sed 's/^/#   left: /' <<<"$left"
	check "modules.dep no longer lists katomic" \
		test -z "$(grep katomic "$stage/$mdir/modules.dep")"
else
	notok "make uninstall DESTDIR=..."
	sed 's/^/#   /' "$tmp/uninstall.log"
fi
finish
