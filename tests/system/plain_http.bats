#!/usr/bin/env bats
# Registries that speak plain http (docker-registry without TLS on 127.0.0.1): berth tries
# https first and falls back to http for loopback and `insecure` registries, as Docker does,
# and goes straight to http with `plain-http = yes`. A remote host's plain http stays refused
# (tests/system/http.bats).

load helpers
load registry_helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	reg_require
	command -v skopeo >/dev/null && command -v umoci >/dev/null && [ -x /bin/busybox ] ||
		skip "skopeo, umoci or busybox-static is missing (scripts/deps.sh)"
	reg_setup_dir
	local port d=$REG_DIR/img
	port=$(reg_free_port)
	mkdir -p "$REG_DIR/plain/data" "$d"
	cat >"$REG_DIR/plain/config.yml" <<EOF2
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REG_DIR/plain/data
http:
  addr: 127.0.0.1:$port
EOF2
	reg_spawn "$REG_DIR/plain/log" docker-registry serve "$REG_DIR/plain/config.yml" >/dev/null
	reg_wait_port "$port"
	export PLAIN_HOSTPORT=127.0.0.1:$port
	"$TOP/scripts/mktestimage.sh" "$d/app.tar" app:1
	skopeo --insecure-policy copy -q --dest-tls-verify=false "docker-archive:$d/app.tar" \
		"docker://$PLAIN_HOSTPORT/app:1"
}

teardown_file() {
	reg_stop_all
}

setup() {
	reg_require
	[ -n "${PLAIN_HOSTPORT:-}" ] || skip "the test registry did not start"
	berth_setup
}

teardown() {
	berth_teardown
}

@test "a plain-http registry on 127.0.0.1 is pulled from over http once https fails" {
	run "$BERTH" --log-level info pull "$PLAIN_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"registry \`$PLAIN_HOSTPORT\` does not answer https"*"using plain http"* ]]
	[[ "$output" == *"Status: Downloaded newer image for $PLAIN_HOSTPORT/app:1"* ]]
	# The registry saw the pull's requests over http.
	grep -q '"GET /v2/app/manifests/1 HTTP/1.1" 200' "$REG_DIR/plain/log"
}

@test "plain-http = yes goes to http without trying https; push and pull work" {
	printf '[registry "%s"]\nplain-http = yes\n' "$PLAIN_HOSTPORT" >"$BERTH_CONFIG"
	"$BERTH" load -q -i "$REG_DIR/img/app.tar"
	"$BERTH" tag app:1 "$PLAIN_HOSTPORT/pushed:1"
	run "$BERTH" --log-level info push "$PLAIN_HOSTPORT/pushed:1"
	[ "$status" -eq 0 ]
	[[ "$output" != *"does not answer https"* ]]
	[[ "$output" =~ 1:\ digest:\ (sha256:[0-9a-f]{64}) ]]
	digest=${BASH_REMATCH[1]}
	BERTH_ROOT=$TMP/root2 run "$BERTH" --log-level info pull "$PLAIN_HOSTPORT/pushed:1"
	[ "$status" -eq 0 ]
	[[ "$output" != *"does not answer https"* ]]
	[[ "$output" == *"Digest: $digest"* ]]
	run skopeo inspect --tls-verify=false --format '{{.Digest}}' \
		"docker://$PLAIN_HOSTPORT/pushed:1"
	[ "$output" = "$digest" ]
}

@test "login to a plain-http registry without auth succeeds after the https attempt" {
	run "$BERTH" login -u someone --password-stdin "$PLAIN_HOSTPORT" <<<"pw"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Login Succeeded" ]
}
