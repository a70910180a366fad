#!/bin/sh
# Guest test: `berth check` on a cgroup-v2-only kernel reports v2 with memory, cpu
# and pids usable. Runs inside the QEMU guest as /test.sh (busybox sh).
# shellcheck shell=sh

n=0
failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $*"
	failed=1
}
# check DESC CMD...: one assertion from a command's status.
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

root=/data/berth
echo "1..10"

# The guest itself must be what the test claims: cgroup v2 with the controllers.
check "guest has cgroup2 mounted at /sys/fs/cgroup" grep -q '^cgroup2 /sys/fs/cgroup cgroup2 ' /proc/mounts
ctrls=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
missing=
for c in cpu memory pids; do
	case " $ctrls " in *" $c "*) ;; *) missing="$missing $c" ;; esac
done
check "guest kernel offers cpu, memory and pids controllers (has: $ctrls)" [ -z "$missing" ]

out=$(berth --root "$root" check 2>&1)
rc=$?
echo "$out" | sed 's/^/# /'
check "berth check exits 0 (rc=$rc)" [ "$rc" = 0 ]
# Status column is padded: `ok      cgroup.mode            v2 (unified)`.
check "berth check: cgroup.mode is v2" sh -c 'echo "$1" | grep -Eq "^ok +cgroup\.mode +v2"' _ "$out"
for c in memory cpu pids; do
	check "berth check: cgroup.$c usable on v2" sh -c 'echo "$1" | grep -Eq "^ok +cgroup\.$2 +v2"' _ "$out" "$c"
done

json=$(berth --root "$root" check --format json 2>&1)
rc=$?
echo "$json" | sed 's/^/# /'
check "berth check --format json exits 0 (rc=$rc)" [ "$rc" = 0 ]
# Tolerate any whitespace/newlines in the JSON layout.
flat=$(echo "$json" | tr -d '\n\t')
check "berth check --format json: cgroup.mode ok and v2" \
	sh -c 'echo "$1" | grep -Eq "\"name\" *: *\"cgroup\.mode\" *, *\"status\" *: *\"ok\" *, *\"detail\" *: *\"v2"' _ "$flat"
check "berth check --format json: overall ok is true" \
	sh -c 'echo "$1" | grep -Eq "\"ok\" *: *true"' _ "$flat"

exit "$failed"
