#!/usr/bin/env bats
# The command line a user meets first: help, version, global options, exit codes.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "berth --help lists the commands and the global options" {
	run "$BERTH" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: berth [OPTIONS] COMMAND"* ]]
	for c in check config help version; do
		[[ "$output" == *"  $c "* ]]
	done
	[[ "$output" == *"--root DIR"* ]]
	[[ "$output" == *"--run-dir DIR"* ]]
	[[ "$output" == *"--config FILE"* ]]
	[[ "$output" == *"--log-level LEVEL"* ]]
	assert_80_columns
}

@test "berth help CMD and berth CMD --help show the same usage" {
	run "$BERTH" help check
	[ "$status" -eq 0 ]
	[[ "$output" == "Usage: berth check"* ]]
	a=$output
	run "$BERTH" check --help
	[ "$status" -eq 0 ]
	[ "$output" = "$a" ]
}

@test "berth with no command prints usage and exits 2" {
	run "$BERTH"
	[ "$status" -eq 2 ]
	[[ "$output" == *"Usage: berth"* ]]
}

@test "an unknown command exits 2 and says where to look" {
	run "$BERTH" frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command \`frobnicate\`"*"berth --help"* ]]
}

@test "an unknown option exits 2 and names the option" {
	run "$BERTH" version --bogus
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option \`--bogus\`"* ]]
	run "$BERTH" --bogus version
	[ "$status" -eq 2 ]
	[[ "$output" == *"\`--bogus\`"* ]]
}

@test "an option without its value exits 2" {
	run "$BERTH" --root
	[ "$status" -eq 2 ]
	[[ "$output" == *"\`--root\` needs a value"* ]]
}

@test "berth version shows version, git revision, features and libraries" {
	run "$BERTH" version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^berth\ [0-9]+\.[0-9]+\.[0-9]+\ \(git\ [0-9a-f]+ ]] || [[ "${lines[0]}" == *"(git unknown)"* ]]
	[[ "$output" == *"features:"*"tls"* ]]
	[[ "$output" == *"libarchive"* ]]
	[[ "$output" == *"mbedtls"* ]]
	[[ "$output" == *"jansson"* ]]
	run "$BERTH" -v
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "berth "* ]]
}

@test "berth version --format json is valid JSON with the same facts" {
	run "$BERTH" version --format json
	[ "$status" -eq 0 ]
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["version"] and d["git"], d
assert isinstance(d["features"], list)
assert "libarchive" in d["libraries"] and "mbedtls" in d["libraries"], d
'
}

@test "--format with a bad value exits 2 and names the flag" {
	run "$BERTH" version --format xml
	[ "$status" -eq 2 ]
	[[ "$output" == *"--format"* ]]
}

@test "--log-level rejects unknown levels" {
	run "$BERTH" --log-level loud version
	[ "$status" -eq 2 ]
	[[ "$output" == *"--log-level"* ]]
}

@test "--root overrides BERTH_ROOT, which overrides data-root in berth.conf" {
	mkdir -p "$TMP/from-config" "$TMP/env-root" "$TMP/flag-root"
	printf '[daemon]\ndata-root = %s\n' "$TMP/from-config" >"$BERTH_CONFIG"
	unset BERTH_ROOT
	run "$BERTH" config
	[ "$status" -eq 0 ]
	[[ "$output" == *"data-root = $TMP/from-config"* ]]
	# The effective data root is what commands use; `check` reports where it is.
	run "$BERTH" check --format json
	[[ "$output" == *"from-config"* ]]
	BERTH_ROOT=$TMP/env-root run "$BERTH" check --format json
	[[ "$output" == *"env-root"* ]]
	[[ "$output" != *"from-config"* ]]
	BERTH_ROOT=$TMP/env-root run "$BERTH" --root "$TMP/flag-root" check --format json
	[[ "$output" == *"flag-root"* ]]
	[[ "$output" != *"env-root"* ]]
}

@test "--root must be an absolute path" {
	run "$BERTH" --root relative/dir check
	[ "$status" -eq 2 ]
	[[ "$output" == *"absolute"* ]]
}

@test "BERTH_CONFIG and --config choose the config file" {
	printf '[logs]\nmax-size = 4M\n' >"$TMP/a.conf"
	printf '[logs]\nmax-size = 8M\n' >"$TMP/b.conf"
	BERTH_CONFIG=$TMP/a.conf run "$BERTH" config
	[[ "$output" == *"max-size = 4M"* ]]
	BERTH_CONFIG=$TMP/a.conf run "$BERTH" --config "$TMP/b.conf" config
	[[ "$output" == *"max-size = 8M"* ]]
}

@test "output has no colour escapes when stdout is not a terminal" {
	run "$BERTH" --help
	[[ "$output" != *$'\e['* ]]
	run "$BERTH" version
	[[ "$output" != *$'\e['* ]]
}
