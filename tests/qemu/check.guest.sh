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
# has TEXT ERE: does TEXT contain a line matching ERE?
# shellcheck disable=SC2317  # called through check()
has() {
	printf '%s\n' "$1" | grep -Eq "$2"
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
check "berth check: cgroup.mode is v2" has "$out" '^ok +cgroup\.mode +v2'
for c in memory cpu pids; do
	check "berth check: cgroup.$c usable on v2" has "$out" "^ok +cgroup\\.$c +v2"
done

json=$(berth --root "$root" check --format json 2>/dev/null)
rc=$?
echo "$json" | sed 's/^/# /'
check "berth check --format json exits 0 (rc=$rc)" [ "$rc" = 0 ]
# Tolerate any whitespace/newlines in the JSON layout.
flat=$(echo "$json" | tr -d '\n\t')
check "berth check --format json: cgroup.mode ok and v2" \
	has "$flat" '"name" *: *"cgroup\.mode" *, *"status" *: *"ok" *, *"detail" *: *"v2'
check "berth check --format json: overall ok is true" has "$flat" '"ok" *: *true'

exit "$failed"
