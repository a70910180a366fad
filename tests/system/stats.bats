#!/usr/bin/env bats
# `berth stats` of a container that a foreground `berth run` keeps running: the figures are
# those of its cgroup (v1 on this hybrid workstation, v2 in QEMU), in Docker's columns.

load running_helpers
bats_require_minimum_version 1.5.0

setup_file() { app_image_build; }

setup() {
	require_app_image
	berth_setup
	"$BERTH" load -q -i "$APP_TAR"
	# Two processes: the shell and its sleep.
	start_bg st1 -m 64m --entrypoint sh app:1 -c 'sleep 1000; true'
}

teardown() {
	[ -n "${BERTH_ROOT:-}" ] || return 0
	stop_bg st1
	stop_bg busy1
	local ok=0
	assert_nothing_left || ok=1
	berth_teardown
	return $ok
}

# cg_read ID V1-CONTROLLER V1-FILE V2-FILE: a file of the container's cgroup.
cg_read() {
	if [ -f "/sys/fs/cgroup/$2/berth/$1/$3" ]; then
		cat "/sys/fs/cgroup/$2/berth/$1/$3"
	else
		cat "/sys/fs/cgroup/berth/$1/$4"
	fi
}

json_field() {
	python3 -c "import json,sys; print(json.load(sys.stdin)[$1][\"$2\"])"
}

@test "stats --no-stream: Docker's columns, the memory limit and pids of the cgroup" {
	id=$(container_id st1)
	run "$BERTH" stats --no-stream st1
	[ "$status" -eq 0 ]
	assert_80_columns
	[[ "${lines[0]}" == "CONTAINER ID"*"NAME"*"CPU %"*"MEM USAGE / LIMIT"*"MEM %"*"PIDS" ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" == "${id:0:12} "*" st1 "* ]]
	[[ "${lines[1]}" == *" / 64MiB "* ]]
	limit=$(cg_read "$id" memory memory.limit_in_bytes memory.max)
	[ "$limit" -eq $((64 << 20)) ]
	pids=$(cg_read "$id" pids pids.current pids.current)
	[ "$pids" -eq 2 ]
	[ "${lines[1]##* }" = "$pids" ]
	# The same figures as JSON, with the numbers behind them.
	run "$BERTH" stats --no-stream --format json st1
	[ "$status" -eq 0 ]
	[ "$(json_field 0 MemoryLimit <<<"$output")" = "$limit" ]
	[ "$(json_field 0 PidsCurrent <<<"$output")" = "$pids" ]
	[ "$(json_field 0 Name <<<"$output")" = st1 ]
	usage=$(json_field 0 MemoryUsage <<<"$output")
	[ "$usage" -gt 0 ]
	[ "$usage" -le "$limit" ]
}

@test "stats: without arguments every running container; CPU % of a busy one" {
	start_bg busy1 --entrypoint sh app:1 -c 'while :; do :; done'
	run "$BERTH" stats --no-stream --format json
	[ "$status" -eq 0 ]
	names=$(python3 -c 'import json,sys; print(" ".join(sorted(c["Name"] for c in json.load(sys.stdin))))' <<<"$output")
	[ "$names" = "busy1 st1" ]
	cpu=$(python3 -c 'import json,sys; print([c for c in json.load(sys.stdin) if c["Name"]=="busy1"][0]["CPUPercent"])' <<<"$output")
	# A shell spinning for the whole sample uses a good part of a CPU (whatever else runs).
	python3 -c "import sys; sys.exit(0 if $cpu > 5 else 1)"
	# Without a limit, the limit shown is the machine's memory.
	lim=$(python3 -c 'import json,sys; print([c for c in json.load(sys.stdin) if c["Name"]=="busy1"][0]["MemoryLimit"])' <<<"$output")
	total=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) * 1024 ))
	[ "$lim" = "$total" ]
	stop_bg busy1
	run "$BERTH" stats --no-stream
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" != *busy1* ]]
}

@test "stats streams plain blocks, without escape codes, when stdout is no terminal" {
	run timeout 3 "$BERTH" stats st1
	[ "$status" -eq 124 ]       # it streams until stopped
	[ "$(grep -c '^CONTAINER ID' <<<"$output")" -ge 1 ]
	[[ "$output" != *$'\033'* ]]
}

@test "stats: a stopped container shows no figures; an unknown one is an error" {
	stop_bg st1
	run "$BERTH" stats --no-stream st1
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == *" st1 "*"--"*"-- / --"* ]]
	run -1 "$BERTH" stats --no-stream nosuch
	[[ "$output" == *"No such container: nosuch"* ]]
	run -2 "$BERTH" stats --format yaml
}
