#!/usr/bin/env bats
# `berth daemon`, the supervisor, as a firmware engineer and a technician meet it: apps from app
# files, restart policies and their backoff, health checks, depends-on, OOM kills, the control
# socket (stop, start, restart, kill, rm, run -d, status) and what it refuses. Each test runs
# its own supervisor with its own --root, --run-dir and --config; after each, no container,
# mount, loop device or cgroup of it remains.

load helpers
load app_image
bats_require_minimum_version 1.5.0

setup_file() {
	app_image_build
}

setup() {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	berth_setup
	"$BERTH" load -q -i "$APP_TAR"
	mkdir -p "$TMP/apps"
	printf '[daemon]\napps-dir = %s\n' "$TMP/apps" >"$BERTH_CONFIG"
	DAEMON=
}

teardown() {
	daemon_stop
	app_teardown
}

daemon_start() {
	"$BERTH" daemon 2>"$TMP/daemon.log" &
	DAEMON=$!
	for _ in $(seq 100); do
		"$BERTH" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$TMP/daemon.log"
	return 1
}

daemon_stop() {
	[ -n "${DAEMON:-}" ] || return 0
	kill -TERM "$DAEMON" 2>/dev/null || true
	wait "$DAEMON" || true
	DAEMON=
}

# app NAME LINE... : an app file
app() {
	local name=$1
	shift
	{ echo '[app]'; printf '%s\n' "$@"; } >"$TMP/apps/$name.conf"
}

# field NAME KEY: a service's field from `berth status --format json`
field() {
	"$BERTH" status --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = [x for x in d["services"] if x["name"] == sys.argv[1]]
print(s[0][sys.argv[2]] if s else "absent")' "$1" "$2"
}

# until_ok SECONDS CMD...: retry until CMD succeeds
until_ok() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	echo "timed out: $*"
	cat "$TMP/daemon.log"
	return 1
}

is() { [ "$(field "$1" "$2")" = "$3" ]; }
logged() { grep -q -- "$1" "$TMP/daemon.log"; }

@test "daemon: apps come up from app files; a bad file is named with its line, and the others still run" {
	app good 'image = app:1' 'entrypoint = sh' 'command = ["-c", "echo up; exec sleep 1000"]'
	app bad 'image = app:1' 'memory = 64q'
	run -1 "$BERTH" daemon --check-config
	[[ "$output" == *"bad.conf:3"*"memory"* ]]
	[[ "$output" == *"1 app ok, 1 with errors"* ]]
	daemon_start
	until_ok 10 is good state running
	is bad state failed
	[[ "$(field bad error)" == *"bad.conf:3"* ]]
	run "$BERTH" ps
	[[ "$output" == *"Up"*"good"* ]]
	# its output is in its log; exec joins it
	until_ok 5 bash -c '"$BERTH" logs good | grep -qx up'
	run "$BERTH" exec good cat /proc/1/cmdline
	[ "$status" -eq 0 ]
	[[ "$output" == sleep* ]]
	run "$BERTH" status
	[ "$status" -eq 0 ]
	[[ "$output" == *"apps:"*"2"* ]]
	[[ "$output" == *"good"*"running"* ]]
	[[ "$output" == *"bad"*"failed"*"bad.conf:3"* ]]
	# A clean stop takes every container down; the next start reuses the unchanged app's record.
	id=$(field good id)
	daemon_stop
	no_cgroups_left
	run "$BERTH" ps -a
	[[ "$output" == *"Exited"*"good"* ]]
	daemon_start
	until_ok 10 is good state running
	[ "$(field good id)" = "$id" ]
	# A changed file makes a new container.
	daemon_stop
	app good 'image = app:1' 'entrypoint = sh' 'command = ["-c", "echo changed; exec sleep 1000"]'
	daemon_start
	until_ok 10 is good state running
	[ "$(field good id)" != "$id" ]
}

@test "daemon: restart policies no, on-failure:N, always; backoff doubles from 100 ms" {
	app never 'image = app:1' 'entrypoint = sh' 'command = ["-c", "exit 3"]' 'restart = no'
	app twice 'image = app:1' 'entrypoint = sh' 'command = ["-c", "exit 1"]' 'restart = on-failure:2'
	app always 'image = app:1' 'entrypoint = sh' 'command = ["-c", "exit 0"]' 'restart = always'
	daemon_start
	until_ok 10 is never state exited
	is never exit_code 3
	is never restart_count 0
	until_ok 10 is twice state exited
	is twice restart_count 2
	is twice exit_code 1
	until_ok 20 logged 'always: exited with 0; restart 5 in 1600 ms'
	# The delays logged: 100, 200, 400, 800, 1600 ms; and the starts are at least that far apart.
	run python3 - "$TMP/daemon.log" <<'PY'
import re, sys, datetime
delays, starts = [], []
for line in open(sys.argv[1]):
    try:
        t = datetime.datetime.strptime(line[:23], "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        continue  # a line of an app's output, not the supervisor's
    m = re.search(r"always: exited with 0; restart (\d+) in (\d+) ms", line)
    if m: delays.append(int(m.group(2)))
    if "always: started" in line: starts.append(t)
assert delays[:5] == [100, 200, 400, 800, 1600], delays
for i in range(1, 5):
    gap = (starts[i] - starts[i - 1]).total_seconds() * 1000
    assert gap >= delays[i - 1], (i, gap, delays)
print("ok")
PY
	[ "$output" = ok ] || { echo "$output"; cat "$TMP/daemon.log"; false; }
}

@test "daemon: health checks go healthy then unhealthy; depends-on waits for healthy; stop runs in reverse order" {
	app db 'image = app:1' 'entrypoint = sh' \
		'command = ["-c", "sleep 1; touch /tmp/ok; sleep 3; rm /tmp/ok; exec sleep 1000"]' \
		'health-cmd = test -f /tmp/ok' 'health-interval = 200ms' 'health-retries = 2' 'stop-timeout = 1s'
	app web 'image = app:1' 'entrypoint = sh' 'command = ["-c", "exec sleep 1000"]' \
		'depends-on = db:healthy' 'stop-timeout = 1s'
	daemon_start
	is web state created
	until_ok 10 is db state healthy
	until_ok 10 is web state running
	until_ok 15 is db state unhealthy
	# web started only after db was healthy
	run python3 -c '
import sys
log = open(sys.argv[1]).read().splitlines()
h = next(i for i, l in enumerate(log) if "db: healthy" in l)
s = next(i for i, l in enumerate(log) if "web: started" in l)
assert h < s, (h, s)' "$TMP/daemon.log"
	[ "$status" -eq 0 ]
	daemon_stop
	# web, which depends on db, stops first
	run python3 -c '
import sys
log = open(sys.argv[1]).read().splitlines()
w = next(i for i, l in enumerate(log) if "web: stopping" in l)
d = next(i for i, l in enumerate(log) if "db: stopping" in l)
assert w < d, (w, d)' "$TMP/daemon.log"
	[ "$status" -eq 0 ]
}

@test "daemon: an OOM-killed app is reported as such and restarted" {
	app hog 'image = app:1' 'entrypoint = sh' 'memory = 16m' 'restart = on-failure:1' \
		'command = ["-c", "x=$(head -c 200000000 /dev/zero | tr \"\\0\" a); echo done"]'
	daemon_start
	until_ok 30 is hog restart_count 1
	until_ok 30 is hog state exited
	is hog oom_killed True
	is hog exit_code 137
	logged 'hog: OOM-killed'
	run "$BERTH" status
	[[ "$output" == *"hog"*"OOM-killed"* ]]
	run "$BERTH" inspect hog
	echo "$output" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["State"]; assert s["OOMKilled"] is True, s'
}

@test "daemon: run -d, stop, start, restart, kill and rm -f through the supervisor" {
	run -125 "$BERTH" run -d --name early app:1
	[[ "$output" == *"berth daemon"* ]]
	run "$BERTH" ps -a
	[[ "$output" != *"early"* ]]
	daemon_start
	run "$BERTH" run -d --name bg --restart always --stop-timeout 1 --entrypoint sh app:1 -c 'exec sleep 1000'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	until_ok 10 is bg state running
	pid=$(field bg pid)
	run "$BERTH" stop bg
	[ "$status" -eq 0 ]
	[ "$output" = bg ]
	is bg state exited
	run "$BERTH" ps -a
	[[ "$output" == *"Exited (137)"*"bg"* ]]
	# killed by the stop timeout, not by the kernel's OOM killer: not reported as an OOM kill
	is bg oom_killed False
	[ "$(grep -c 'bg: OOM-killed' "$TMP/daemon.log")" -eq 0 ]
	run "$BERTH" start bg
	[ "$status" -eq 0 ]
	is bg state running
	pid2=$(field bg pid)
	[ "$pid2" != "$pid" ]
	run "$BERTH" restart bg
	[ "$status" -eq 0 ]
	is bg state running
	[ "$(field bg pid)" != "$pid2" ]
	run "$BERTH" kill -s KILL bg
	[ "$status" -eq 0 ]
	until_ok 5 is bg state exited
	run -1 "$BERTH" rm bg2
	"$BERTH" start bg
	run -1 "$BERTH" rm bg
	[[ "$output" == *"running"* ]]
	run "$BERTH" rm -f bg
	[ "$status" -eq 0 ]
	is bg state absent
	run "$BERTH" ps -a
	[[ "$output" != *"bg"* ]]
	# stop also works on a foreground container the supervisor does not run
	"$BERTH" run --name fg --entrypoint sh app:1 -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' &
	fg=$!
	until_ok 10 bash -c '"$BERTH" ps | grep -q fg'
	run "$BERTH" stop fg
	[ "$status" -eq 0 ]
	wait $fg || rc=$?
	[ "${rc:-0}" -eq 7 ]
	"$BERTH" rm fg
}

@test "daemon: the control socket: root only, malformed messages refused, the supervisor goes on" {
	daemon_start
	sock=$BERTH_RUN_DIR/berth.sock
	[ "$(stat -c %a "$sock")" = 600 ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" status
	[ "$status" -ne 0 ]
	# even if the socket's mode were opened up, the peer's credentials are checked
	chmod 711 "$TMP" "$BERTH_RUN_DIR"
	chmod 666 "$sock"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$BERTH" status
	[ "$status" -ne 0 ]
	[[ "$output" == *"root only"* ]]
	chmod 600 "$sock"
	run python3 - "$sock" <<'PY'
import json, socket, sys
def ask(data):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b: break
        out += b
    return json.loads(out)
for data, want in [(b"not json\n", "not JSON"), (b"[1,2]\n", "not a JSON object"),
                   (b"{\"cmd\": 3}\n", "no \"cmd\""), (b"{\"cmd\": \"format-flash\"}\n", "unknown"),
                   (b"{\"cmd\": \"stop\"}\n", "needs a \"name\""), (b"x" * 70000, "longer than"),
                   (b"{\"cmd\": \"kill\", \"name\": \"nobody\"}\n", "does not run")]:
    r = ask(data)
    assert r["ok"] is False and want in r["error"], (data[:30], r)
print("ok")
PY
	[ "$output" = ok ] || { echo "$output"; cat "$TMP/daemon.log"; false; }
	run "$BERTH" status
	[ "$status" -eq 0 ]
}

@test "daemon: the seed's run -p HOST:CONTAINER -d -v VOLUME:/path: detached, published, data in the volume" {
	local hp cp
	hp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	daemon_start
	run "$BERTH" run -p "$hp:$cp" -d -v my-finance-data:/etc/finance --name finance --entrypoint sh app:1 \
		-c "echo ledger >/etc/finance/index.html; exec httpd -f -p $cp -h /etc/finance"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	until_ok 10 python3 -c '
import sys, urllib.request
assert urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=2).read().decode().strip() == "ledger"' "$hp"
	run "$BERTH" volume ls
	[[ "$output" == *my-finance-data* ]]
	run "$BERTH" rm -f finance
	[ "$status" -eq 0 ]
	"$BERTH" volume rm my-finance-data
}

@test "daemon: --rm containers a power cut left behind are removed at start-up; others stay" {
	# A --rm record is written without fsync, so a power cut can leave it with an empty
	# config.json, or with the running mark lost (an empty state.json, which reads as exited).
	cut=$("$BERTH" create --rm app:1 true)
	lost=$("$BERTH" create --rm app:1 true)
	kept=$("$BERTH" create --name kept app:1 true)
	waiting=$("$BERTH" create --rm --name waiting app:1 true)
	"$BERTH" inspect "$waiting" "$kept" | python3 -c '
import json, sys
w, k = json.load(sys.stdin)
assert w["HostConfig"]["AutoRemove"] is True and k["HostConfig"]["AutoRemove"] is False'
	: >"$BERTH_ROOT/containers/$cut/config.json"
	: >"$BERTH_ROOT/containers/$lost/state.json"
	: >"$BERTH_ROOT/containers/$kept/state.json"
	run "$BERTH" ps -a -q --no-trunc
	[ "${#lines[@]}" -eq 4 ]
	daemon_start
	until_ok 5 logged "removed container ${cut:0:12}"
	logged "removed container ${lost:0:12}"
	[ ! -e "$BERTH_ROOT/containers/$cut" ] && [ ! -e "$BERTH_ROOT/containers/$lost" ]
	# Not a --rm one, and a --rm one that was only created: both stay, as they were.
	run "$BERTH" ps -a -q --no-trunc
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" == *"$kept"* && "$output" == *"$waiting"* ]]
	"$BERTH" rm "$kept" "$waiting"
}

@test "daemon: layer mounts are released once no container has used them for layer-mount-idle" {
	printf '[daemon]\napps-dir = %s\nlayer-mount-idle = 1s\n' "$TMP/apps" >"$BERTH_CONFIG"
	layer_mounts() { grep -c " $BERTH_RUN_DIR/layers/" /proc/self/mountinfo || true; }
	daemon_start
	"$BERTH" run -d --name once --entrypoint sh app:1 -c 'sleep 0.5'
	# Mounted while it runs, and for a while after: the next start finds them there.
	[ "$(layer_mounts)" -ge 1 ]
	until_ok 10 logged "released 1 layer mount no container uses"
	[ "$(layer_mounts)" -eq 0 ]
	# A container that runs keeps its layers, however long the board is quiet.
	"$BERTH" run -d --name long --entrypoint sh app:1 -c 'exec sleep 1000'
	until_ok 10 is long state running
	"$BERTH" run -d --name twice --entrypoint true app:1
	until_ok 10 is twice state exited
	sleep 2.5
	[ "$(layer_mounts)" -ge 1 ]
	[ "$(grep -c "released .* layer mount" "$TMP/daemon.log")" -eq 1 ]
	"$BERTH" rm -f long twice
}
