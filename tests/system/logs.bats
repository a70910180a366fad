#!/usr/bin/env bats
# `berth logs` as a Docker user meets it. The log files are written by tests/tools/logfeed,
# which runs a command with its stdout and stderr on pipes into the same log sink the
# supervisor feeds; the container records come from tests/tools/mkrecord.

load helpers
load app_image
bats_require_minimum_version 1.5.0

TOOLS=$BATS_TEST_DIRNAME/../../build/tools
MKRECORD=${MKRECORD:-$TOOLS/mkrecord}
LOGFEED=${LOGFEED:-$TOOLS/logfeed}

setup_file() {
	make -s -C "$BATS_TEST_DIRNAME/../.." build/tools/mkrecord build/tools/logfeed >&2
	app_image_build
}

setup() {
	berth_setup
	LOGS=$BERTH_RUN_DIR/logs
}

teardown() {
	local f pid
	for f in "$BERTH_ROOT"/containers/*/state.json; do
		[ -f "$f" ] || continue
		pid=$(sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' "$f")
		[ -n "$pid" ] && [ "$pid" != 0 ] && kill -9 "$pid" 2>/dev/null || true
	done
	[ -z "${FOLLOWER:-}" ] || kill "$FOLLOWER" 2>/dev/null || true
	if [ -n "${DAEMON:-}" ]; then
		kill -TERM "$DAEMON" 2>/dev/null || true
		wait "$DAEMON" || true
		DAEMON=
		app_teardown
		return
	fi
	berth_teardown
}

# Wait (at most ~20 s, never as an assertion on speed) until file $1 holds a line equal to $2.
wait_for_line() {
	for _ in $(seq 200); do
		grep -qxF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "never saw \`$2\` in $1:"; cat "$1"
	return 1
}

@test "logs: stdout lines go to stdout and stderr lines to stderr, in order" {
	id=$("$MKRECORD" --name web --exited 0)
	"$LOGFEED" "$LOGS" "$id" -- sh -c 'echo out1; echo err1 >&2; printf "out2\nno newline"'
	run --separate-stderr "$BERTH" logs web
	[ "$status" -eq 0 ]
	[ "$output" = $'out1\nout2\nno newline' ]
	[ "$stderr" = "err1" ]
	# The id prefix finds it as well as the name.
	run --separate-stderr "$BERTH" logs "${id:0:12}"
	[ "${lines[1]}" = "out2" ]
}

@test "logs -t: each line with its RFC 3339 UTC timestamp" {
	id=$("$MKRECORD" --name web --exited 0)
	"$LOGFEED" "$LOGS" "$id" -- echo hello world
	run "$BERTH" logs -t web
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z\ hello\ world$ ]]
	# Within a day of now: the clock used is the wall clock, in UTC.
	[[ "$output" == "$(date -u +%Y-%m-%d)"* || "$output" == "$(date -u -d yesterday +%Y-%m-%d)"* ]]
}

@test "logs --tail N shows the last N lines across both files; all and 0 as Docker" {
	id=$("$MKRECORD" --name web --exited 0)
	"$LOGFEED" --cap 8192 "$LOGS" "$id" -- sh -c 'i=0; while [ $i -lt 1000 ]; do echo "line $i"; i=$((i+1)); done'
	[ -f "$LOGS/$id.log.1" ]    # rotated
	run "$BERTH" logs --tail 3 web
	[ "$status" -eq 0 ]
	[ "$output" = $'line 997\nline 998\nline 999' ]
	run "$BERTH" logs --tail 0 web
	[ "$output" = "" ]
	run "$BERTH" logs -n all web
	[ "${lines[${#lines[@]}-1]}" = "line 999" ]
	# Only the newest lines are kept (at most the cap), without a gap between the files.
	local total=$(( $(stat -c %s "$LOGS/$id.log") + $(stat -c %s "$LOGS/$id.log.1") ))
	[ "$total" -le 8192 ]
	first=${lines[0]#line }
	[ "$first" -gt 0 ]
	[ "${#lines[@]}" -eq $((1000 - first)) ]
	run "$BERTH" logs --tail 3000 web
	[ "${#lines[@]}" -eq $((1000 - first)) ]
	run -2 "$BERTH" logs --tail ten web
	[[ "$output" == *"--tail"* ]]
}

@test "logs --since: only lines from that time on" {
	id=$("$MKRECORD" --name web --exited 0)
	"$LOGFEED" "$LOGS" "$id" -- echo early
	run "$BERTH" logs --since 1h web
	[ "$output" = "early" ]
	run "$BERTH" logs --since 2099-01-01T00:00:00Z web
	[ "$output" = "" ]
	run "$BERTH" logs --since 0 web
	[ "$output" = "early" ]
	run -2 "$BERTH" logs --since yesterday web
	[[ "$output" == *"--since"* ]]
}

@test "logs: a container without log files prints nothing; an unknown one is an error" {
	"$MKRECORD" --name quiet --exited 0 >/dev/null
	run "$BERTH" logs quiet
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run -1 "$BERTH" logs nosuch
	[[ "$output" == *"No such container: nosuch"* ]]
	run -2 "$BERTH" logs
	run -2 "$BERTH" logs a b
}

@test "logs -f follows new lines and rotations, and ends when the container stops" {
	id=$("$MKRECORD" --name web --running)
	pid=$(sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' "$BERTH_ROOT/containers/$id/state.json")
	"$LOGFEED" --cap 8192 "$LOGS" "$id" -- echo before
	"$BERTH" logs -f web >"$TMP/out" 2>"$TMP/err" &
	FOLLOWER=$!
	wait_for_line "$TMP/out" before
	# Batches smaller than half the cap, each waited for: every rotation is seen.
	for b in 1 2 3 4 5; do
		"$LOGFEED" --cap 8192 "$LOGS" "$id" -- sh -c \
			"i=0; while [ \$i -lt 100 ]; do echo \"b$b line \$i\"; i=\$((i+1)); done; echo oops$b >&2"
		wait_for_line "$TMP/out" "b$b line 99"
		wait_for_line "$TMP/err" "oops$b"
	done
	[ -f "$LOGS/$id.log.1" ]
	# Every line, once, in order.
	[ "$(wc -l <"$TMP/out")" -eq 501 ]
	[ "$(sed -n 2p "$TMP/out")" = "b1 line 0" ]
	[ "$(sed -n 501p "$TMP/out")" = "b5 line 99" ]
	[ "$(sort "$TMP/out" | uniq -d)" = "" ]
	# The container stops: the follower ends by itself, with status 0.
	kill -9 "$pid"
	wait "$FOLLOWER"
	FOLLOWER=
}

@test "logs -f on a stopped container prints what there is and returns" {
	id=$("$MKRECORD" --name web --exited 1)
	"$LOGFEED" "$LOGS" "$id" -- echo bye
	run "$BERTH" logs -f web
	[ "$status" -eq 0 ]
	[ "$output" = "bye" ]
}

@test "logs: [logs] persist = yes keeps them under the data root; rm removes them" {
	printf '[logs]\npersist = yes\nmax-size = 64k\n' >"$BERTH_CONFIG"
	id=$("$MKRECORD" --name web --exited 0)
	"$LOGFEED" "$BERTH_ROOT/logs" "$id" -- echo on flash
	run "$BERTH" logs web
	[ "$output" = "on flash" ]
	run "$BERTH" rm web
	[ "$status" -eq 0 ]
	[ ! -e "$BERTH_ROOT/logs/$id.log" ]
}

@test "logs of a container the supervisor runs: both streams, -f until it stops, gone with rm" {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	"$BERTH" load -q -i "$APP_TAR"
	mkdir -p "$TMP/apps"
	printf '[daemon]\napps-dir = %s\n' "$TMP/apps" >"$BERTH_CONFIG"
	"$BERTH" daemon 2>"$TMP/daemon.log" &
	DAEMON=$!
	for _ in $(seq 100); do "$BERTH" status >/dev/null 2>&1 && break; sleep 0.1; done
	"$BERTH" run -d --name talker --stop-timeout 1 --entrypoint sh app:1 \
		-c 'echo out1; echo err1 >&2; exec sleep 1000' >/dev/null
	for _ in $(seq 100); do
		"$BERTH" logs talker 2>/dev/null | grep -qx out1 && break
		sleep 0.1
	done
	run --separate-stderr "$BERTH" logs talker
	[ "$status" -eq 0 ]
	[ "$output" = out1 ]
	[ "$stderr" = err1 ]
	id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])' <<<"$("$BERTH" inspect talker)")
	[ -f "$LOGS/$id.log" ]
	"$BERTH" logs -f -t talker >"$TMP/out" 2>"$TMP/err" &
	FOLLOWER=$!
	wait_for_line "$TMP/err" "$(sed -n 's/ stderr err1$//p' "$LOGS/$id.log") err1"
	# The container stops: the follower ends by itself.
	"$BERTH" stop talker >/dev/null
	wait "$FOLLOWER"
	FOLLOWER=
	[ "$(cut -d' ' -f2- "$TMP/out")" = out1 ]
	"$BERTH" rm talker >/dev/null
	[ ! -e "$LOGS/$id.log" ]
}
