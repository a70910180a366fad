#!/usr/bin/env bats
# Volumes a user meets: `berth volume create|ls|inspect|rm|prune`, Docker's names and output,
# in-use refusal through container records (made with tests/tools/mkrecord), and data that
# outlives the container using it.

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

# Stop the `sleep` processes mkrecord --running started.
kill_recorded_pids() {
	local f pid
	for f in "$BERTH_ROOT"/containers/*/state.json; do
		[ -f "$f" ] || continue
		pid=$(sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' "$f")
		[ -n "$pid" ] && [ "$pid" != 0 ] && kill -9 "$pid" 2>/dev/null || true
	done
}

@test "volume create prints the name, and creating it again reuses it" {
	run "$BERTH" volume create my-finance-data
	[ "$status" -eq 0 ]
	[ "$output" = my-finance-data ]
	echo data >"$BERTH_ROOT/volumes/my-finance-data/_data/keep"
	run "$BERTH" volume create my-finance-data
	[ "$status" -eq 0 ]
	[ "$output" = my-finance-data ]
	[ "$(cat "$BERTH_ROOT/volumes/my-finance-data/_data/keep")" = data ]
}

@test "volume create without a name makes an anonymous volume with a 64-hex name" {
	run "$BERTH" volume create
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	[ -d "$BERTH_ROOT/volumes/$output/_data" ]
}

@test "volume create refuses a bad name with exit 2, and a foreign driver" {
	for bad in a _x 'a b' '../x' "$(printf 'v%.0s' $(seq 130))"; do
		run "$BERTH" volume create "$bad"
		[ "$status" -eq 2 ]
		[[ "$output" == *"invalid characters for a local volume name"* ]]
	done
	run "$BERTH" volume create -d nfs x1
	[ "$status" -eq 2 ]
	[ ! -e "$BERTH_ROOT/volumes/x1" ]
}

@test "volume ls lists volumes as Docker does, -q only names, fitting 80 columns" {
	"$BERTH" volume create bb >/dev/null
	"$BERTH" volume create aa >/dev/null
	run "$BERTH" volume ls
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^DRIVER\ +VOLUME\ NAME$ ]]
	[[ "${lines[1]}" =~ ^local\ +aa$ ]]
	[[ "${lines[2]}" =~ ^local\ +bb$ ]]
	assert_80_columns
	run "$BERTH" volume ls -q
	[ "$output" = "$(printf 'aa\nbb')" ]
}

@test "volume ls --filter dangling=true shows only volumes no container uses" {
	"$BERTH" volume create used >/dev/null
	"$BERTH" volume create free >/dev/null
	"$MKRECORD" -v used:/data >/dev/null
	run "$BERTH" volume ls -q --filter dangling=true
	[ "$status" -eq 0 ]
	[ "$output" = free ]
	run "$BERTH" volume ls -q --filter dangling=false
	[ "$output" = used ]
	run "$BERTH" volume ls --filter color=blue
	[ "$status" -eq 2 ]
}

@test "volume ls --format json and volume inspect print Docker-shaped JSON" {
	"$BERTH" volume create --label app=finance --label tier my-finance-data >/dev/null
	run "$BERTH" volume inspect my-finance-data
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, re, sys
v = json.load(sys.stdin)
assert len(v) == 1, v
v = v[0]
assert sorted(v) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"], v
assert v["Name"] == "my-finance-data"
assert v["Driver"] == "local" and v["Scope"] == "local"
assert v["Labels"] == {"app": "finance", "tier": ""}, v["Labels"]
assert v["Options"] == {}
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", v["CreatedAt"]), v["CreatedAt"]
assert v["Mountpoint"] == sys.argv[1] + "/volumes/my-finance-data/_data", v["Mountpoint"]
' "$BERTH_ROOT"
	run "$BERTH" volume ls --format json
	[ "$status" -eq 0 ]
	printf '%s' "$output" | python3 -c '
import json, sys
v = json.load(sys.stdin)
assert [x["Name"] for x in v] == ["my-finance-data"], v
'
}

@test "volume inspect of a missing volume exits 1 naming it" {
	run "$BERTH" volume inspect nosuch
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such volume: nosuch"* ]]
}

@test "volume rm removes volumes no container uses and prints their names" {
	"$BERTH" volume create v1 >/dev/null
	"$BERTH" volume create v2 >/dev/null
	run "$BERTH" volume rm v1 v2
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'v1\nv2')" ]
	[ ! -e "$BERTH_ROOT/volumes/v1" ]
	[ -z "$(ls "$BERTH_ROOT/tmp")" ]
	run "$BERTH" volume rm v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"No such volume: v1"* ]]
	run "$BERTH" volume rm -f v1
	[ "$status" -eq 0 ]
}

@test "volume rm refuses a volume a container uses; -f only when it is stopped" {
	"$BERTH" volume create data >/dev/null
	id=$("$MKRECORD" --name app --exited 0 -v data:/data)
	run "$BERTH" volume rm data
	[ "$status" -eq 1 ]
	[[ "$output" == *"volume is in use"*"${id:0:12}"* ]]
	[ -d "$BERTH_ROOT/volumes/data/_data" ]
	"$BERTH" volume create live >/dev/null
	"$MKRECORD" --name runner --running -v live:/data >/dev/null
	run "$BERTH" volume rm -f live
	[ "$status" -eq 1 ]
	[[ "$output" == *"running"* ]]
	[ -d "$BERTH_ROOT/volumes/live/_data" ]
	run "$BERTH" volume rm -f data
	[ "$status" -eq 0 ]
	[ ! -e "$BERTH_ROOT/volumes/data" ]
}

@test "data in a named volume outlives the container that used it" {
	"$BERTH" volume create my-finance-data >/dev/null
	"$MKRECORD" --name finance --exited 0 -v my-finance-data:/etc/finance >/dev/null
	echo "balance=42" >"$BERTH_ROOT/volumes/my-finance-data/_data/ledger"
	run "$BERTH" rm -v finance
	[ "$status" -eq 0 ]
	[ "$(cat "$BERTH_ROOT/volumes/my-finance-data/_data/ledger")" = "balance=42" ]
	"$MKRECORD" --name finance2 -v my-finance-data:/etc/finance >/dev/null
	run "$BERTH" inspect finance2
	[[ "$output" == *"\"Source\": \"$BERTH_ROOT/volumes/my-finance-data/_data\""* ]]
}

@test "volume prune removes unused anonymous volumes; -a named ones too; never used ones" {
	anon=$("$BERTH" volume create)
	anon_used=$("$BERTH" volume create)
	"$BERTH" volume create named >/dev/null
	"$BERTH" volume create named-used >/dev/null
	"$MKRECORD" -v "$anon_used:/a" -v named-used:/b >/dev/null
	echo 12345 >"$BERTH_ROOT/volumes/$anon/_data/f"
	run "$BERTH" volume prune -f
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Deleted Volumes:" ]
	[ "${lines[1]}" = "$anon" ]
	[ "${lines[2]}" = "Total reclaimed space: 6B" ]
	run "$BERTH" volume ls -q
	[ "$output" = "$(printf '%s\n' "$anon_used" named named-used | sort)" ]
	run "$BERTH" volume prune -f -a
	[ "$status" -eq 0 ]
	[[ "$output" == *"named"* ]]
	run "$BERTH" volume ls -q
	[ "$output" = "$(printf '%s\n' "$anon_used" named-used | sort)" ]
	run "$BERTH" volume prune -f
	[ "$output" = "Total reclaimed space: 0B" ]
}

@test "volume prune asks first, and no answer keeps everything" {
	"$BERTH" volume create >/dev/null
	run "$BERTH" volume prune </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"WARNING! This will remove anonymous local volumes"*"[y/N]"* ]]
	[ "$(ls "$BERTH_ROOT/volumes" | wc -l)" -eq 1 ]
	run "$BERTH" volume prune <<<y
	[[ "$output" == *"Deleted Volumes:"* ]]
	[ "$(ls "$BERTH_ROOT/volumes" | wc -l)" -eq 0 ]
}

@test "leftovers of a volume half made or half copied at a power cut neither show nor block" {
	"$BERTH" volume create v1 >/dev/null
	mkdir -p "$BERTH_ROOT/volumes/v1/_data.tmp/partial" "$BERTH_ROOT/tmp/vol-v2.new/_data"
	run "$BERTH" volume ls -q
	[ "$output" = v1 ]
	run "$BERTH" volume create v2
	[ "$status" -eq 0 ]
	[ -f "$BERTH_ROOT/volumes/v2/meta.json" ]
}

@test "volume --help lists the subcommands; an unknown one exits 2" {
	run "$BERTH" volume --help
	[ "$status" -eq 0 ]
	for c in create inspect ls prune rm; do
		[[ "$output" == *"  $c "* ]]
	done
	assert_80_columns
	run "$BERTH" volume frob
	[ "$status" -eq 2 ]
	run "$BERTH" volume create --help
	[ "$status" -eq 0 ]
	[[ "$output" == "Usage: berth volume create"* ]]
	assert_80_columns
}
