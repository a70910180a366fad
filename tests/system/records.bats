#!/usr/bin/env bats
# Containers as `berth ps`, `rm`, `inspect` and `container ...` show and remove them. The
# records are written through the public API by tests/tools/mkrecord, which can start a
# `sleep` as a container's "running" process.

load helpers

MKRECORD=${MKRECORD:-$BATS_TEST_DIRNAME/../../build/tools/mkrecord}

setup_file() {
	make -s -C "$BATS_TEST_DIRNAME/../.." build/tools/mkrecord >&2
}

setup() { berth_setup; }

teardown() {
	kill_recorded_pids
	berth_teardown
}

kill_recorded_pids() {
	local f pid
	for f in "$BERTH_ROOT"/containers/*/state.json; do
		[ -f "$f" ] || continue
		pid=$(sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' "$f")
		[ -n "$pid" ] && [ "$pid" != 0 ] && kill -9 "$pid" 2>/dev/null || true
	done
}

# The pid `berth inspect` reports for a container.
pid_of() {
	"$BERTH" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])'
}

@test "ps shows running containers; ps -a also created and exited ones, like Docker" {
	run_id=$("$MKRECORD" --name web --running --image my-finance -- python3 app.py)
	"$MKRECORD" --name batch --exited 3 >/dev/null
	"$MKRECORD" --name fresh >/dev/null
	run "$BERTH" ps
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +.*STATUS\ +NAMES$ ]]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[1]}" =~ ^${run_id:0:12}\ +my-finance\ +\"python3\ app.py\"\ +.*Up\ .*\ +web$ ]]
	assert_80_columns
	run "$BERTH" ps -a
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" =~ Exited\ \(3\)\ [A-Za-z0-9\ ]+ago\ +batch ]]
	[[ "$output" =~ Created\ +fresh ]]
	[[ "$output" =~ Up\ .+web ]]
	assert_80_columns
	# Newest first.
	[[ "${lines[1]}" == *fresh ]]
}

@test "ps fits 80 columns with long image names and commands, and --no-trunc does not cut" {
	long=reg.example.com:5000/some/very/long/repository/path/my-finance-application:1.2.3
	"$MKRECORD" --name finance-frontend --running --image "$long" -- \
		python3 /app/server.py --port 5000 --workers 4 --log-level debug >/dev/null
	"$MKRECORD" --exited 137 --image "$long" >/dev/null
	run "$BERTH" ps -a
	[ "$status" -eq 0 ]
	assert_80_columns
	[[ "$output" == *"finance-frontend"* ]]
	# IMAGE (and COMMAND, when there is room for it at all) are cut, with "...".
	[[ "$output" == *"reg.e"*"..."* ]]
	[[ "$output" != *"$long"* ]]
	run "$BERTH" ps -a --no-trunc
	[[ "$output" == *"$long"* ]]
	[[ "$output" == *'"python3 /app/server.py --port 5000 --workers 4 --log-level debug"'* ]]
	[[ "$output" =~ [0-9a-f]{64} ]]
}

@test "ps -q prints short ids, --format json one object per container" {
	id=$("$MKRECORD" --name web --running)
	"$MKRECORD" --exited 0 >/dev/null
	run "$BERTH" ps -q
	[ "$output" = "${id:0:12}" ]
	run "$BERTH" ps -a -q --no-trunc
	[ "${#lines[@]}" -eq 2 ]
	[[ "$output" == *"$id"* ]]
	run "$BERTH" ps --format json
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert len(v) == 1, v
c = v[0]
assert c["ID"] == sys.argv[1] and c["Names"] == "web" and c["State"] == "running", c
assert c["Status"].startswith("Up "), c
assert c["Command"] == "\"sleep 1000\"", c
' "$id"
}

@test "a container whose process was killed shows as exited, and the record is fixed" {
	id=$("$MKRECORD" --name web --running)
	pid=$(pid_of web)
	[ "$pid" -gt 0 ]
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	run "$BERTH" ps
	[ "${#lines[@]}" -eq 1 ]
	run "$BERTH" ps -a
	[[ "$output" =~ Exited\ \(\?\)\ .*web ]]
	grep -q '"Status": "exited"' "$BERTH_ROOT/containers/$id/state.json"
	run "$BERTH" inspect web
	printf '%s' "$output" | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["State"]
assert s["Status"] == "exited" and not s["Running"] and s["Pid"] == 0, s
assert s["ExitCode"] == -1 and "unknown" in s["Error"], s
assert s["FinishedAt"] != "0001-01-01T00:00:00Z", s
'
}

@test "rm refuses a running container without -f; rm -f kills it and removes it" {
	id=$("$MKRECORD" --name web --running)
	pid=$(pid_of web)
	run "$BERTH" rm web
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot remove running container ${id:0:12}"*"rm -f"* ]]
	kill -0 "$pid"
	[ -d "$BERTH_ROOT/containers/$id" ]
	run "$BERTH" rm -f web
	[ "$status" -eq 0 ]
	[ "$output" = web ]
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	! kill -0 "$pid" 2>/dev/null
	[ ! -e "$BERTH_ROOT/containers/$id" ]
	[ -z "$(ls "$BERTH_ROOT/tmp")" ]
}

@test "rm -v removes the container's anonymous volumes, never named ones" {
	"$BERTH" volume create my-finance-data >/dev/null
	"$MKRECORD" --name app --exited 0 -v my-finance-data:/etc/finance --anon /cache >/dev/null
	anon=$("$BERTH" volume ls -q | grep -v my-finance-data)
	[[ "$anon" =~ ^[0-9a-f]{64}$ ]]
	run "$BERTH" rm -v app
	[ "$status" -eq 0 ]
	run "$BERTH" volume ls -q
	[ "$output" = my-finance-data ]
	# Without -v the anonymous volume stays, unused, for volume prune.
	"$MKRECORD" --name app2 --exited 0 --anon /cache >/dev/null
	"$BERTH" rm app2 >/dev/null
	[ "$("$BERTH" volume ls -q | wc -l)" -eq 2 ]
}

@test "container names are unique; rm and inspect take a name, an id or its prefix" {
	id=$("$MKRECORD" --name web)
	run "$MKRECORD" --name web
	[ "$status" -eq 1 ]
	[[ "$output" == *'The container name "/web" is already in use'* ]]
	run "$MKRECORD" --name 'bad name'
	[ "$status" -eq 2 ]
	run "$BERTH" inspect "${id:0:6}"
	[ "$status" -eq 0 ]
	[[ "$output" == *"\"Id\": \"$id\""* ]]
	run "$BERTH" inspect /web
	[[ "$output" == *"\"Name\": \"/web\""* ]]
	run "$BERTH" rm nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such container: nosuch"* ]]
	run "$BERTH" rm "${id:0:8}"
	[ "$status" -eq 0 ]
	[ "$output" = "${id:0:8}" ]
	# Without --name, a random Docker-like adjective_noun name.
	"$MKRECORD" >/dev/null
	run "$BERTH" ps -a --format json
	[[ "$output" =~ \"Names\":\ \"[a-z]+_[a-z]+\" ]]
}

@test "inspect prints Docker-shaped JSON for a container" {
	id=$("$MKRECORD" --name web --running --image my-finance --memory 67108864 \
		--restart on-failure:3 --label app=finance --env A=1 -v data:/etc/finance \
		--bind /srv:/srv -- python3 app.py --port 5000)
	run "$BERTH" inspect web
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, re, sys
v = json.load(sys.stdin)
assert len(v) == 1
c = v[0]
assert c["Id"] == sys.argv[1]
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", c["Created"]), c["Created"]
assert c["Path"] == "python3" and c["Args"] == ["app.py", "--port", "5000"], c
s = c["State"]
for k in ("Status", "Running", "Pid", "ExitCode", "OOMKilled", "StartedAt", "FinishedAt"):
    assert k in s, k
assert s["Status"] == "running" and s["Running"] and s["Pid"] > 0, s
assert c["Name"] == "/web" and c["RestartCount"] == 0
assert c["Image"].startswith("sha256:")
h = c["HostConfig"]
assert h["Memory"] == 67108864 and h["NanoCpus"] == 0 and h["PidsLimit"] is None, h
assert h["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}, h
cfg = c["Config"]
assert cfg["Image"] == "my-finance" and cfg["Labels"] == {"app": "finance"}, cfg
assert "A=1" in cfg["Env"] and cfg["Cmd"] == ["python3", "app.py", "--port", "5000"], cfg
assert cfg["Entrypoint"] is None and cfg["WorkingDir"] == "" and cfg["User"] == "", cfg
m = c["Mounts"]
assert m[0]["Type"] == "volume" and m[0]["Name"] == "data" and m[0]["RW"], m
assert m[0]["Destination"] == "/etc/finance"
assert m[0]["Source"].endswith("/volumes/data/_data"), m
assert m[1]["Type"] == "bind" and m[1]["Source"] == "/srv", m
' "$id"
	run "$BERTH" inspect web nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such object: nosuch"* ]]
}

@test "inspect falls back to an image of that name; container inspect does not" {
	command -v umoci >/dev/null || skip "umoci is not installed"
	umoci init --layout "$TMP/oci"
	umoci new --image "$TMP/oci:tiny:1.0"
	umoci config --image "$TMP/oci:tiny:1.0" --config.cmd true
	tar -C "$TMP/oci" -cf "$TMP/oci.tar" .
	"$BERTH" load -q -i "$TMP/oci.tar" || skip "berth load cannot load an image without layers"
	"$MKRECORD" --name web >/dev/null
	run "$BERTH" inspect tiny:1.0 web
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert len(v) == 2, v
assert v[0]["RepoTags"] == ["tiny:1.0"], v[0]
assert v[1]["Name"] == "/web", v[1]
'
	run "$BERTH" container inspect tiny:1.0
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such container: tiny:1.0"* ]]
}

@test "a corrupt state.json shows the container as dead, and rm removes it" {
	id=$("$MKRECORD" --name broken --exited 0)
	printf '{"Status": "runn' >"$BERTH_ROOT/containers/$id/state.json"
	run "$BERTH" ps -a
	[ "$status" -eq 0 ]
	[[ "$output" =~ Dead\ +broken ]]
	[[ "$output" == *"state.json"*"corrupt"* ]]
	run "$BERTH" inspect broken
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Status": "dead"'* ]]
	run "$BERTH" rm broken
	[ "$status" -eq 0 ]
	[ ! -e "$BERTH_ROOT/containers/$id" ]
}

@test "a record cut short before its rename is not a container" {
	mkdir -p "$BERTH_ROOT/tmp/$(printf 'a%.0s' $(seq 64)).new" "$BERTH_ROOT/containers/junk"
	"$MKRECORD" --name ok >/dev/null
	run "$BERTH" ps -a -q
	[ "${#lines[@]}" -eq 1 ]
}

@test "container prune removes only stopped containers" {
	run_id=$("$MKRECORD" --name web --running)
	e=$("$MKRECORD" --exited 1)
	c=$("$MKRECORD")
	run "$BERTH" container prune -f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Deleted Containers:" ]
	[[ "$output" == *"$e"* ]]
	[[ "$output" == *"$c"* ]]
	[[ "$output" != *"$run_id"* ]]
	[[ "$output" == *"Total reclaimed space: 0B"* ]]
	run "$BERTH" ps -a -q --no-trunc
	[ "$output" = "$run_id" ]
	run "$BERTH" container prune </dev/null
	[[ "$output" == *"WARNING! This will remove all stopped containers."* ]]
}

@test "container ls, ps, rm and inspect are the top-level commands" {
	id=$("$MKRECORD" --name web --exited 0)
	run "$BERTH" container ls -a
	[[ "$output" == *web* ]]
	run "$BERTH" container ps -a -q
	[ "$output" = "${id:0:12}" ]
	run "$BERTH" container inspect web
	[[ "$output" == *"\"Id\": \"$id\""* ]]
	run "$BERTH" container rm web
	[ "$status" -eq 0 ]
	run "$BERTH" container --help
	[ "$status" -eq 0 ]
	assert_80_columns
	run "$BERTH" container frob
	[ "$status" -eq 2 ]
}
