#!/bin/sh
# Runs inside the test-bed guest (busybox sh): the module lifecycle test with
# the module unloaded, then every other katomic selftest against the loaded
# module (the *_test32 programs are 32-bit: the compat_ioctl path), then a
# clean rmmod.  Exits non-zero if anything failed.
ko=${KATOMIC_KO:-/katomic.ko}
rc=0

if [ -x /bin/katomic_module_test ]; then
	KATOMIC_KO=$ko /bin/katomic_module_test || rc=1
fi

insmod "$ko" || { echo "vm-selftests: insmod $ko failed"; exit 1; }
for t in /bin/katomic_*_test /bin/katomic_*_test32; do
	[ "$t" = /bin/katomic_module_test ] && continue
	[ -x "$t" ] || continue
	"$t" || rc=1
done
if ! rmmod katomic; then
	echo "vm-selftests: rmmod katomic failed"
	rc=1
fi
exit $rc
