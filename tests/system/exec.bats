#!/usr/bin/env bats
# `berth exec` into a container that a foreground `berth run` keeps running: the container's
# namespaces (hostname, its PID 1), environment, user, working directory, cgroup, the security
# settings of its first process, and Docker's exit statuses.

load running_helpers
bats_require_minimum_version 1.5.0

setup_file() { app_image_build; }

setup() {
	require_app_image
	berth_setup
	"$BERTH" load -q -i "$APP_TAR"
	start_bg box1 --hostname box --entrypoint sleep app:1 1000
}

teardown() {
	[ -n "${BERTH_ROOT:-}" ] || return 0
	stop_bg box1
	local ok=0
	assert_nothing_left || ok=1
	berth_teardown
	return $ok
}

@test "exec: the container's hostname, PID 1 and pid namespace" {
	run "$BERTH" exec box1 hostname
	[ "$status" -eq 0 ]
	[ "$output" = box ]
	run "$BERTH" exec box1 cat /proc/1/cmdline
	[ "$output" = "sleep1000" ] || [ "$(printf '%s' "$output" | tr -d '\0')" = "sleep1000" ]
	# A pid of the container's namespace: small, and not the host's.
	run "$BERTH" exec box1 sh -c 'echo $$'
	[ "$status" -eq 0 ]
	[ "$output" -gt 1 ]
	[ "$output" -lt 100 ]
	run "$BERTH" exec box1 ps -o pid,comm
	[[ "$output" == *"1 sleep"* ]]
	[[ "$output" != *"bats"* ]]
}

@test "exec: the container's environment, with -e over it" {
	run "$BERTH" exec box1 env
	[ "$status" -eq 0 ]
	[[ "$output" == *"GREETING=hello"* ]]
	[[ "$output" == *"PATH=/bin"* ]]
	[[ "$output" == *"HOME=/root"* ]]
	run "$BERTH" exec -e GREETING=bye -e EXTRA=1 box1 env
	[[ "$output" == *"GREETING=bye"* ]]
	[[ "$output" != *"GREETING=hello"* ]]
	[[ "$output" == *"EXTRA=1"* ]]
}

@test "exec: -u picks the user from the container's /etc/passwd, -w the directory" {
	run "$BERTH" exec box1 id -u
	[ "$output" = 0 ]
	run "$BERTH" exec -u app box1 sh -c 'id -un; id -G; echo $HOME'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = app ]
	[ "${lines[1]}" = "1000 50" ]
	[ "${lines[2]}" = /home/app ]
	run "$BERTH" exec -u 1234:99 box1 id
	[[ "$output" == "uid=1234 gid=99"* ]]
	run -125 "$BERTH" exec -u nobody box1 id
	[[ "$output" == *"unable to find user nobody"* ]]
	run "$BERTH" exec box1 pwd
	[ "$output" = / ]
	run "$BERTH" exec -w /srv box1 pwd
	[ "$output" = /srv ]
	run -126 "$BERTH" exec -w /nonexistent box1 pwd
	[[ "$output" == *"/nonexistent"* ]]
}

@test "exec: exit statuses 0, the command's, 126 and 127" {
	run "$BERTH" exec box1 true
	[ "$status" -eq 0 ]
	run -3 "$BERTH" exec box1 sh -c 'exit 3'
	run -126 "$BERTH" exec box1 /srv/content
	run -127 "$BERTH" exec box1 nosuchcommand
	[[ "$output" == *"nosuchcommand"* ]]
	run -137 "$BERTH" exec box1 sh -c 'kill -9 $$'
	run -2 "$BERTH" exec box1
	run -1 "$BERTH" exec nosuch true
	[[ "$output" == *"No such container: nosuch"* ]]
}

@test "exec: the process is in the container's cgroup, with its capabilities and seccomp" {
	id=$(container_id box1)
	# In every hierarchy, the same cgroup as the container's PID 1, seen from the container's
	# cgroup namespace.
	run "$BERTH" exec box1 sh -c 'cat /proc/self/cgroup; echo; cat /proc/1/cgroup'
	[ "$status" -eq 0 ]
	[ "${output%%$'\n\n'*}" = "${output#*$'\n\n'}" ]
	[[ "$output" == *"$id"* ]] || [[ "$output" == *"0::/"* ]]
	# From the host: a second process in the container's cgroup while the exec runs.
	"$BERTH" exec box1 sleep 77 &
	local ex=$! procs found=
	for _ in $(seq 100); do
		procs=$(cat /sys/fs/cgroup/pids/berth/"$id"/cgroup.procs /sys/fs/cgroup/berth/"$id"/cgroup.procs 2>/dev/null || true)
		for p in $procs; do
			[ "$(tr '\0' ' ' </proc/$p/cmdline)" = "sleep 77 " ] && found=$p
		done
		[ -n "$found" ] && break
		sleep 0.1
	done
	kill -9 "$found"
	wait "$ex" || true
	[ -n "$found" ]
	# The same bounding set as the first process, no_new_privs and a seccomp filter.
	pid=$(container_pid box1)
	want=$(grep CapBnd /proc/$pid/status)
	run "$BERTH" exec box1 cat /proc/self/status
	[[ "$output" == *"$want"* ]]
	[[ "$output" == *$'NoNewPrivs:\t1'* ]]
	[[ "$output" == *$'Seccomp:\t2'* ]]
}

@test "exec -t: the command gets a terminal of the container's own" {
	run "$BERTH" exec -t box1 tty
	[ "$status" -eq 0 ]
	[[ "$output" == /dev/pts/* ]]
	run "$BERTH" exec box1 tty
	[[ "$output" == *"not a tty"* ]]
	run "$BERTH" exec -t box1 sh -c 'echo $TERM'
	[ "$output" = $'xterm\r' ] || [ "$output" = xterm ]
	run "$BERTH" exec -t -e TERM=vt100 box1 sh -c 'echo $TERM'
	[[ "$output" == vt100* ]]
}

@test "exec -d runs the command in the background and returns" {
	run "$BERTH" exec -d box1 sh -c 'echo detached > /tmp/mark'
	[ "$status" -eq 0 ]
	for _ in $(seq 50); do
		run "$BERTH" exec box1 cat /tmp/mark
		[ "$output" = detached ] && break
		sleep 0.1
	done
	[ "$output" = detached ]
}

@test "exec: a stopped container is not running" {
	stop_bg box1
	run -1 "$BERTH" exec box1 true
	[[ "$output" == *"container box1 is not running"* ]]
}
