#!/usr/bin/env bats
# berth.conf as a firmware engineer writes it: errors name file:line and exit 2.

load helpers

setup() { berth_setup; }
teardown() { berth_teardown; }

@test "a typo in a key gives berth.conf:LINE: unknown key and exit 2" {
	cfg=$TMP/etc/berth/berth.conf
	mkdir -p "${cfg%/*}"
	printf '# board config\n[daemon]\nlog-levle = debug\n' >"$cfg"
	run "$BERTH" --config "$cfg" config
	[ "$status" -eq 2 ]
	[[ "$output" == *"berth.conf:3: unknown key 'log-levle' in [daemon]"* ]]
	[[ "$output" == *"did you mean 'log-level'"* ]]
}

@test "every bad line is reported with its own line number" {
	cat >"$BERTH_CONFIG" <<-'CONF'
	[daemon]
	network = bridge
	log-size = lots
	[nosuch]
	[registry "reg.example:5000"]
	insecure = maybe
	CONF
	run "$BERTH" config
	[ "$status" -eq 2 ]
	[[ "$output" == *"berth.conf:2: bad value 'bridge' for 'network' in [daemon]"* ]]
	[[ "$output" == *"berth.conf:3: bad value 'lots' for 'log-size'"* ]]
	[[ "$output" == *"berth.conf:4: unknown section [nosuch]"* ]]
	[[ "$output" == *"berth.conf:6: bad value 'maybe' for 'insecure'"* ]]
}

@test "a config error stops commands that need the config, not version or help" {
	printf '[daemon]\nbogus = 1\n' >"$BERTH_CONFIG"
	run "$BERTH" check
	[ "$status" -eq 2 ]
	[[ "$output" == *"berth.conf:2: unknown key 'bogus'"* ]]
	run "$BERTH" version
	[ "$status" -eq 0 ]
	run "$BERTH" help
	[ "$status" -eq 0 ]
}

@test "a missing default config is fine, a missing --config file is an error" {
	rm -f "$BERTH_CONFIG"
	unset BERTH_CONFIG
	run "$BERTH" --config "$TMP/nope.conf" config
	[ "$status" -eq 2 ]
	[[ "$output" == *"nope.conf"* ]]
}

@test "berth config prints the effective configuration, masking secrets" {
	cat >"$BERTH_CONFIG" <<-'CONF'
	[daemon]
	log-size = 256k
	[registry "reg.example:5000"]
	username = fleet
	password = s3cret
	[trust "reg.example:5000/apps/"]
	public-key = /etc/berth/keys/apps.pub
	CONF
	run "$BERTH" config
	[ "$status" -eq 0 ]
	# The old `[daemon] log-size` is read as `[logs] max-size`.
	[[ "$output" == *$'[logs]\nmax-size = 256K'* ]]
	[[ "$output" != *"log-size"* ]]
	[[ "$output" == *'[registry "reg.example:5000"]'* ]]
	[[ "$output" == *"username = fleet"* ]]
	[[ "$output" != *"s3cret"* ]]
	[[ "$output" == *"policy = require"* ]]
	# What it prints is itself a valid config.
	printf '%s\n' "$output" | grep -v '^password' >"$TMP/round.conf"
	run "$BERTH" --config "$TMP/round.conf" config
	[ "$status" -eq 0 ]
}

@test "berth config --defaults documents every key and loads back as a config" {
	run "$BERTH" config --defaults
	[ "$status" -eq 0 ]
	for k in data-root run-dir log-level network max-size persist apps-dir data-device hostname \
		watchdog-device username password ca-file insecure mirror public-key policy; do
		[[ "$output" == *"$k ="* ]]
	done
	printf '%s\n' "$output" >"$TMP/defaults.conf"
	run "$BERTH" --config "$TMP/defaults.conf" config
	[ "$status" -eq 0 ]
}

@test "the shipped rootfs berth.conf is valid and documents every key as --defaults does" {
	shipped=$BATS_TEST_DIRNAME/../../rootfs/etc/berth/berth.conf
	run "$BERTH" --config "$shipped" config
	[ "$status" -eq 0 ]
	# It is generated: `build/berth config --defaults > rootfs/etc/berth/berth.conf`.
	diff -u "$shipped" <("$BERTH" config --defaults)
}
