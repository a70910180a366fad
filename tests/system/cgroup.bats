#!/usr/bin/env bats
# Container cgroups on this host's real kernel with the v1 backend (memory, cpu, pids... on v1
# hierarchies, as on this hybrid workstation and many boards). Driven through tests/tools/cgtest;
# the kernel's own files and /proc/PID/cgroup are the oracle. cgroup v2 is covered in the QEMU
# guest (tests/qemu/cgroup.guest.sh).

load helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
CG=/sys/fs/cgroup

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	local build
	build=$(realpath -m "$(dirname "$BERTH")")
	make -s -C "$TOP" O="$build" "$build/tools/cgtest" >&2
	export CGTEST=$build/tools/cgtest
}

# The v1 hierarchy carrying controller $1 on this host, read independently of berth.
v1_mount() {
	awk -v c="$1" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' \
		/proc/self/mountinfo
}

setup() {
	require_root
	[ -n "$(v1_mount memory)" ] || skip "no v1 memory hierarchy here (v2 is tested in the QEMU guest)"
	ID=bats$$-$BATS_TEST_NUMBER
	T=$(mktemp -d /tmp/berth-cg.XXXXXX)
}

# Remove the test's cgroup in every hierarchy (killing what is left in it), then the fake
# roots' mounts, whatever state a failed test left.
teardown() {
	local d m
	for d in "$CG"/*/berth/"$ID" ${T:+"$T"/cg/*/berth/"$ID"}; do
		[ -d "$d" ] || continue
		[ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
		xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
	done
	if [ -n "${T:-}" ]; then
		for m in "$T"/cg/*/ "$T"/cg; do
			mountpoint -q "$m" 2>/dev/null && umount "$m"
		done
		rm -rf "$T"
	fi
}

# Every directory the test's cgroup has on this host.
cgroup_dirs() {
	ls -d "$CG"/*/berth/"$ID" 2>/dev/null || true
}

@test "cgroup: the v1 backend is chosen where memory and cpu live on v1 hierarchies" {
	run "$CGTEST" detect
	[ "$status" -eq 0 ]
	echo "$output"
	[[ "$output" == *"version=v1"* ]]
	[[ "$output" == *"hier=$(v1_mount memory) ctrls=memory"* ]]
	[[ "$output" == *"hier=$(v1_mount pids) ctrls="*pids* ]]
	# systemd's named hierarchy carries no controller and is left alone.
	[[ "$output" != *"name=systemd"* ]]
}

@test "cgroup: every limit is in the kernel's files before anything runs" {
	run "$CGTEST" create "$ID" --memory 32m --pids-limit 20 --cpus 0.5 --cpu-shares 512 --cpuset-cpus 0
	echo "$output"
	[ "$status" -eq 0 ]
	local mem cpu cpuset pids
	mem=$(v1_mount memory)/berth/$ID
	cpu=$(v1_mount cpu)/berth/$ID
	cpuset=$(v1_mount cpuset)/berth/$ID
	pids=$(v1_mount pids)/berth/$ID
	[ "$(cat "$mem/memory.limit_in_bytes")" = 33554432 ]
	# Swap off unless asked: memory + swap capped at the memory limit.
	if [ -f "$mem/memory.memsw.limit_in_bytes" ]; then
		[ "$(cat "$mem/memory.memsw.limit_in_bytes")" = 33554432 ]
	else
		[ "$(cat "$mem/memory.swappiness")" = 0 ]
	fi
	[ "$(cat "$cpu/cpu.cfs_period_us")" = 100000 ]
	[ "$(cat "$cpu/cpu.cfs_quota_us")" = 50000 ]
	[ "$(cat "$cpu/cpu.shares")" = 512 ]
	[ "$(cat "$cpuset/cpuset.cpus")" = 0 ]
	# Memory nodes are copied from the parent: an empty cpuset would refuse every process.
	[ -n "$(cat "$cpuset/cpuset.mems")" ]
	[ "$(cat "$pids/pids.max")" = 20 ]
	# Made, but nothing in it yet.
	local d
	for d in $(cgroup_dirs); do
		[ -z "$(cat "$d/cgroup.procs")" ]
	done
	[ "$(cgroup_dirs | wc -l)" -ge 5 ]

	run "$CGTEST" stats "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *"memory_limit=33554432"* ]]
	[[ "$output" == *"pids_max=20"* ]]

	run "$CGTEST" destroy "$ID"
	[ "$status" -eq 0 ]
	[ -z "$(cgroup_dirs)" ]
}

@test "cgroup: --memory-swap sets memory + swap; without swap accounting asking is an error" {
	local mem
	mem=$(v1_mount memory)
	run "$CGTEST" create "$ID" --memory 32m --memory-swap 64m
	if [ -f "$mem/memory.memsw.limit_in_bytes" ]; then
		[ "$status" -eq 0 ]
		[ "$(cat "$mem/berth/$ID/memory.memsw.limit_in_bytes")" = 67108864 ]
		"$CGTEST" destroy "$ID"
		run "$CGTEST" create "$ID" --memory 32m --memory-swap -1
		[ "$status" -eq 0 ]
		[ "$(cat "$mem/berth/$ID/memory.memsw.limit_in_bytes")" -gt 1099511627776 ]
		"$CGTEST" destroy "$ID"
	else
		[ "$status" -eq 125 ]
		[[ "$output" == *"swapaccount=1"* ]]
	fi
	[ -z "$(cgroup_dirs)" ]
}

@test "cgroup: a process started in the cgroup is in it in every hierarchy" {
	local c
	for how in join by-pid; do
		if [ $how = by-pid ]; then
			run "$CGTEST" run "$ID" --memory 32m --pids-limit 20 --by-pid -- cat /proc/self/cgroup
		else
			run "$CGTEST" run "$ID" --memory 32m --pids-limit 20 -- cat /proc/self/cgroup
		fi
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"exit=0"* ]]
		for c in memory pids cpu cpuset cpuacct freezer; do
			[ -n "$(v1_mount $c)" ] || continue
			echo "$output" | grep -Eq "^[0-9]+:([a-z_]+,)*$c(,[a-z_]+)*:/berth/$ID\$"
		done
		[ -z "$(cgroup_dirs)" ]
	done
}

@test "cgroup: a memory hog is OOM-killed inside the limit and reported as an OOM kill" {
	run "$CGTEST" run "$ID" --memory 32m --hog 200
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"signal=9"* ]]
	[[ "$output" == *"oom_killed=yes"* ]]
	local peak
	peak=$(echo "$output" | sed -n 's/^memory_peak=//p')
	[ "$peak" -le 33554432 ]
	[ "$peak" -gt 16777216 ]
	[ -z "$(cgroup_dirs)" ]
}

@test "cgroup: a process within its memory limit is not reported as OOM-killed" {
	run "$CGTEST" run "$ID" --memory 64m --hog 8
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit=0"* ]]
	[[ "$output" == *"oom_killed=no"* ]]
}

@test "cgroup: a fork loop stops at pids.max, and what it left is killed with the cgroup" {
	run "$CGTEST" run "$ID" --pids-limit 20 --forks 40
	echo "$output"
	[ "$status" -eq 0 ]
	# The forking process counts too: 19 more fit under 20.
	[[ "$output" == *"forked=19"* ]]
	[[ "$output" == *"fork_error=EAGAIN"* ]]
	[[ "$output" == *"pids_current=19"* ]]
	[ -z "$(cgroup_dirs)" ]
}

@test "cgroup: --cpus 0.5 holds a busy loop to about half a core" {
	run "$CGTEST" run "$ID" --cpus 0.5 --busy 2
	echo "$output"
	[ "$status" -eq 0 ]
	# The cgroup's own CPU counter over the loop's lifetime; CFS may overrun a period slightly.
	local pct
	pct=$(echo "$output" | sed -n 's/^cpu_ratio_pct=//p')
	[ -n "$pct" ]
	[ "$pct" -le 62 ]
	[ "$pct" -ge 20 ]
}

@test "cgroup: without limits a cgroup is still made, for stats and killing" {
	run "$CGTEST" run "$ID" -- sh -c 'echo hi'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"hi"* ]]
	[[ "$output" == *"memory_limit=-1"* ]]
	local usage
	usage=$(echo "$output" | sed -n 's/^cpu_usage_ns=//p')
	[ "$usage" -gt 0 ]
	[ -z "$(cgroup_dirs)" ]
}

# A fake cgroup root: a tmpfs with v1 hierarchies mounted in it ($@: `-o` option sets).
fake_root() {
	local o
	mkdir -p "$T/cg"
	mount -t tmpfs tmpfs "$T/cg"
	for o in "$@"; do
		mkdir "$T/cg/${o//[,=]/_}"
		mount -t cgroup -o "$o" cgroup "$T/cg/${o//[,=]/_}" || skip "cannot mount a v1 hierarchy with -o $o"
	done
}

@test "cgroup: a memory limit where the memory controller is missing is a clear error, and nothing is made" {
	fake_root pids
	run "$CGTEST" --root "$T/cg" detect
	[[ "$output" == *"version=v1"* ]]
	[[ "$output" != *"ctrls=memory"* ]]

	run "$CGTEST" --root "$T/cg" create "$ID" --memory 32m --pids-limit 20
	echo "$output"
	[ "$status" -eq 125 ]
	[[ "$output" == *"memory cgroup controller not available"* ]]
	[[ "$output" == *"mount -t cgroup -o memory"* ]]
	[ ! -e "$T/cg/pids/berth/$ID" ]
	[ -z "$(cgroup_dirs)" ]

	# What the hierarchy can enforce still works there.
	run "$CGTEST" --root "$T/cg" create "$ID" --pids-limit 20
	[ "$status" -eq 0 ]
	[ "$(cat "$T/cg/pids/berth/$ID/pids.max")" = 20 ]
	run "$CGTEST" --root "$T/cg" destroy "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$T/cg/pids/berth/$ID" ]
}

@test "cgroup: a root with only a named hierarchy refuses every limit and still runs without limits" {
	fake_root none,name=berthtest
	run "$CGTEST" --root "$T/cg" detect
	[[ "$output" == *"version=none"* ]]
	for opt in "--memory 32m" "--cpus 1" "--pids-limit 5" "--cpuset-cpus 0"; do
		# shellcheck disable=SC2086  # option and value
		run "$CGTEST" --root "$T/cg" create "$ID" $opt
		echo "$output"
		[ "$status" -eq 125 ]
		[[ "$output" == *"cgroup controller not available"* ]]
	done
	run "$CGTEST" --root "$T/cg" run "$ID" -- true
	[ "$status" -eq 0 ]
	[[ "$output" == *"exit=0"* ]]
	# The named hierarchy is not berth's to use.
	[ ! -e "$T/cg/none_name_berthtest/berth" ]
}

@test "cgroup: bad limit values are usage errors (exit 2) naming the option" {
	local args
	for args in "--cpus abc" "--cpus 0" "--memory 1k" "--memory-swap x" "--cpu-shares 1" \
		"--cpuset-cpus 2-1" "--pids-limit lots"; do
		# shellcheck disable=SC2086
		run "$CGTEST" create "$ID" $args
		echo "$args -> $status $output"
		[ "$status" -eq 2 ]
		[[ "$output" == *"${args%% *}"* || "$output" == *cpuset* ]]
	done
	run "$CGTEST" create "$ID" --memory-swap 1g
	[ "$status" -eq 2 ]
	[[ "$output" == *"--memory-swap needs --memory"* ]]
	[ -z "$(cgroup_dirs)" ]
}
