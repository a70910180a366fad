#!/usr/bin/env bats
# The supervisor pulls an app's missing image in a worker process, retrying with backoff,
# while the other apps run: the registry is real (docker-registry with TLS and htpasswd on
# 127.0.0.1), and the image appears there only after the supervisor started.

load helpers
load app_image
load registry_helpers
bats_require_minimum_version 1.5.0

setup_file() {
	reg_require
	app_image_build
	[ -n "${APP_TAR:-}" ] || return 0
	reg_setup_dir
	reg_make_certs
	reg_start_basic
	mkdir -p "$REG_DIR/certs-client"
	cp "$REG_CA" "$REG_DIR/certs-client/ca.crt"
}

teardown_file() {
	reg_stop_all
}

setup() {
	require_root
	reg_require
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	berth_setup
	"$BERTH" load -q -i "$APP_TAR"
	mkdir -p "$TMP/apps"
	cat >"$BERTH_CONFIG" <<EOF2
[daemon]
apps-dir = $TMP/apps

[registry "$REG_HOSTPORT"]
username = $REG_USER
password = $REG_PASS
ca-file = $REG_CA
EOF2
	DAEMON=
}

teardown() {
	if [ -n "${DAEMON:-}" ]; then
		kill -TERM "$DAEMON" 2>/dev/null || true
		wait "$DAEMON" || true
	fi
	app_teardown
}

status_of() {
	"$BERTH" status --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print([x["state"] for x in d["services"] if x["name"] == sys.argv[1]][0])' "$1"
}

until_state() { # NAME STATE SECONDS
	local end=$((SECONDS + $3))
	while [ $SECONDS -le $end ]; do
		[ "$(status_of "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.2
	done
	echo "$1 is $(status_of "$1"), not $2"
	cat "$TMP/daemon.log"
	return 1
}

@test "daemon: a missing image is pulled in the background, with retries, while the other apps run" {
	local name=late-$RANDOM
	printf '[app]\nimage = app:1\nentrypoint = sh\ncommand = ["-c", "exec sleep 1000"]\n' >"$TMP/apps/local.conf"
	printf '[app]\nimage = %s/%s:1\nentrypoint = sh\ncommand = ["-c", "echo pulled-and-running; exec sleep 1000"]\n' \
		"$REG_HOSTPORT" "$name" >"$TMP/apps/remote.conf"
	"$BERTH" daemon 2>"$TMP/daemon.log" &
	DAEMON=$!
	until_state local running 15
	# not in the registry yet: the pull fails and is retried
	local end=$((SECONDS + 15))
	until grep -q 'remote: pull failed; retry in 200 ms' "$TMP/daemon.log" || [ $SECONDS -gt $end ]; do sleep 0.2; done
	grep -q 'remote: pull failed; retry in 200 ms' "$TMP/daemon.log"
	[ "$(status_of local)" = running ]
	skopeo --insecure-policy copy -q "--dest-creds=$REG_USER:$REG_PASS" --dest-cert-dir "$REG_DIR/certs-client" \
		"docker-archive:$APP_TAR" "docker://$REG_HOSTPORT/$name:1"
	until_state remote running 30
	grep -q "remote: pulled $REG_HOSTPORT/$name:1" "$TMP/daemon.log"
	run "$BERTH" images
	[[ "$output" == *"$name"* ]]
	run "$BERTH" logs remote
	[[ "$output" == *pulled-and-running* ]]
}
