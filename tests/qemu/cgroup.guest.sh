#!/bin/sh
# Guest test: container cgroups with the v2 backend on a cgroup-v2-only kernel, through the
# test driver tests/tools/cgtest (static build). The kernel's files are the oracle.
# Runs inside the QEMU guest as /test.sh (busybox sh).
# shellcheck shell=sh
# qemu-timeout: 240
# qemu-add: $BUILD/static/tools/cgtest:/bin/cgtest

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
skip() {
	n=$((n + 1))
	echo "ok $n # skip $*"
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
# is FILE VALUE: does FILE hold exactly VALUE?
# shellcheck disable=SC2317
is() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}
# val TEXT KEY: the value of a key=value line.
val() {
	printf '%s\n' "$1" | sed -n "s/^$2=//p"
}
# enabled_in DIR CTRL...: are all of them in DIR/cgroup.subtree_control?
# shellcheck disable=SC2317
enabled_in() {
	d=$1
	shift
	for c in "$@"; do
		has "$(cat "$d/cgroup.subtree_control")" "(^| )$c( |\$)" || return 1
	done
}
# in_range N LO HI
# shellcheck disable=SC2317
in_range() {
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]
}
log() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

CG=/sys/fs/cgroup
B=$CG/berth
echo "1..23"

if [ ! -x /bin/cgtest ]; then
	not_ok "driver /bin/cgtest in the guest (make STATIC=1 O=build/static build/static/tools/cgtest)"
	exit 1
fi
check "guest has cgroup2 mounted at $CG" grep -q "^cgroup2 $CG cgroup2 " /proc/mounts

out=$(cgtest detect 2>&1)
log "$out"
check "the v2 backend is chosen" has "$out" '^version=v2$'
check "memory, cpu and pids are usable on v2" has "$out" "^unified=$CG ctrls=.*memory.*pids"

# ---- limits written before anything runs ----
out=$(cgtest create c1 --memory 32m --pids-limit 20 --cpus 0.5 --cpu-shares 512 2>&1)
rc=$?
log "$out"
check "create with memory, pids, cpu quota and shares (rc=$rc)" [ "$rc" = 0 ]
check "memory.max is 32 MiB" is $B/c1/memory.max 33554432
if [ -f $B/c1/memory.swap.max ]; then
	check "memory.swap.max is 0: no swap unless asked" is $B/c1/memory.swap.max 0
else
	skip "kernel without swap accounting (no memory.swap.max)"
fi
check "cpu.max is \"50000 100000\"" is $B/c1/cpu.max "50000 100000"
check "cpu.weight is 20 (512 shares converted)" is $B/c1/cpu.weight 20
check "pids.max is 20" is $B/c1/pids.max 20
check "the cgroup holds no process yet" is $B/c1/cgroup.procs ""
sub=$(cat $CG/cgroup.subtree_control $B/cgroup.subtree_control | tr '\n' ' ')
log "subtree_control (root, berth): $sub"
check "memory, cpu and pids enabled for berth's children" enabled_in $B memory cpu pids
check "berth's own cgroup holds no process (v2: processes only in leaves)" is $B/cgroup.procs ""
out=$(cgtest stats c1 2>&1)
check "stats read the limits back" has "$out" '^memory_limit=33554432$'
cgtest destroy c1
check "destroy removes the cgroup" [ ! -e $B/c1 ]

out=$(cgtest create c2 --memory 32m --memory-swap 96m 2>&1)
rc=$?
if [ -f $B/c2/memory.swap.max ]; then
	check "--memory-swap 96m with --memory 32m: memory.swap.max is 64 MiB" is $B/c2/memory.swap.max 67108864
else
	check "--memory-swap without swap accounting is an error (rc=$rc)" has "$out" 'CONFIG_MEMCG_SWAP'
fi
cgtest destroy c2 2>/dev/null

if has "$(cat $CG/cgroup.controllers)" '(^| )cpuset( |$)'; then
	out=$(cgtest create c3 --cpuset-cpus 0 --cpuset-mems 0 2>&1)
	check "cpuset.cpus and cpuset.mems written ($out)" is $B/c3/cpuset.cpus 0
	cgtest destroy c3
else
	skip "no cpuset controller in this guest kernel"
fi

# ---- processes in the cgroup ----
out=$(cgtest run c4 --memory 32m -- cat /proc/self/cgroup 2>&1)
log "$out"
check "a started process is in berth/c4" has "$out" '^0::/berth/c4$'
out=$(cgtest run c4 --by-pid -- cat /proc/self/cgroup 2>&1)
check "a process moved in by pid is in berth/c4" has "$out" '^0::/berth/c4$'

out=$(cgtest run c5 --memory 32m --hog 200 2>&1)
log "$out"
check "a memory hog is killed by SIGKILL" has "$out" '^signal=9$'
check "the OOM kill is seen in memory.events" has "$out" '^oom_killed=yes$'

out=$(cgtest run c6 --pids-limit 20 --forks 40 2>&1)
log "$out"
check "a fork loop stops at pids.max with EAGAIN" has "$out" '^forked=19$'

out=$(cgtest run c7 --cpus 0.5 --busy 2 2>&1)
log "$out"
pct=$(val "$out" cpu_ratio_pct)
check "--cpus 0.5 holds a busy loop to about half a core (${pct:-?}% by cpu.stat)" \
	in_range "$pct" 20 62

# ---- nothing left behind ----
left=$(find $B -mindepth 1 -maxdepth 1 -type d 2>/dev/null)
check "no cgroup left under $B (found: ${left:-none})" [ -z "$left" ]

exit "$failed"
