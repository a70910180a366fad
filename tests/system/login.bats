#!/usr/bin/env bats
# `berth login` / `berth logout` against a real registry (docker-registry with TLS and
# htpasswd): credentials are checked before they are saved, kept root-only in Docker's
# config.json format, used by pull and push, and removed again; Docker's own config.json
# is read too.

load helpers
load registry_helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	reg_require
	command -v skopeo >/dev/null && command -v umoci >/dev/null && [ -x /bin/busybox ] ||
		skip "skopeo, umoci or busybox-static is missing (scripts/deps.sh)"
	reg_setup_dir
	reg_make_certs
	reg_start_basic
	local d=$REG_DIR/img
	mkdir -p "$d/certs"
	cp "$REG_CA" "$d/certs/ca.crt"
	"$TOP/scripts/mktestimage.sh" "$d/app.tar" app:1
	skopeo --insecure-policy copy -q "--dest-creds=$REG_USER:$REG_PASS" \
		--dest-cert-dir "$d/certs" "docker-archive:$d/app.tar" "docker://$REG_HOSTPORT/app:1"
}

teardown_file() {
	reg_stop_all
}

setup() {
	reg_require
	[ -n "${REG_HOSTPORT:-}" ] || skip "the test registry did not start"
	berth_setup
	# The CA only: no credentials in berth.conf.
	printf '[registry "%s"]\nca-file = %s\n' "$REG_HOSTPORT" "$REG_CA" >"$BERTH_CONFIG"
	# No Docker config of the machine's may leak in.
	export DOCKER_CONFIG=$TMP/docker HOME=$TMP/home
	AUTH=$BERTH_ROOT/auth.json
}

teardown() {
	berth_teardown
}

# The "auth" value saved for $REG_HOSTPORT in file $1.
saved_auth() {
	"$REG_PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"])' \
		"$1" "$REG_HOSTPORT"
}

@test "login with a wrong password is refused and saves nothing" {
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG_HOSTPORT" <<<"not-the-password"
	[ "$status" -eq 2 ]
	[[ "$output" == *"login to \`$REG_HOSTPORT\`"*"refused user \`$REG_USER\`"* ]]
	[ ! -e "$AUTH" ]
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"requires a user name and password: run \`berth login $REG_HOSTPORT\`"* ]]
}

@test "login saves the credentials 0600 in Docker's format; pull uses them; logout removes them" {
	run "$BERTH" login -u "$REG_USER" --password-stdin "https://$REG_HOSTPORT/" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Login Succeeded" ]
	[ "${lines[1]}" = "Credentials saved (root only) in $AUTH" ]
	[ "$(stat -c %a "$AUTH")" = 600 ]
	[ "$(saved_auth "$AUTH")" = "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" ]
	run "$BERTH" pull "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Status: Downloaded newer image for $REG_HOSTPORT/app:1"* ]]
	# Push finds them too.
	"$BERTH" tag "$REG_HOSTPORT/app:1" "$REG_HOSTPORT/loggedin:1"
	run "$BERTH" push "$REG_HOSTPORT/loggedin:1"
	[ "$status" -eq 0 ]
	run "$BERTH" logout "$REG_HOSTPORT"
	[ "$status" -eq 0 ]
	[ "$output" = "Removing login credentials for $REG_HOSTPORT" ]
	! grep -q "$REG_HOSTPORT" "$AUTH"
	run "$BERTH" logout "$REG_HOSTPORT"
	[ "$status" -eq 0 ]
	[ "$output" = "Not logged in to $REG_HOSTPORT" ]
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"run \`berth login $REG_HOSTPORT\`"* ]]
}

@test "login keeps other registries' entries, and -p warns that it is insecure" {
	mkdir -p "$BERTH_ROOT"
	printf '{"auths":{"other.example:5000":{"auth":"%s"}},"HttpHeaders":{"X":"y"}}' \
		"$(printf 'o:p' | base64)" >"$AUTH"
	run "$BERTH" login -u "$REG_USER" -p "$REG_PASS" "$REG_HOSTPORT"
	[ "$status" -eq 0 ]
	[[ "$output" == *"WARNING! Using --password via the CLI is insecure"* ]]
	[ "$(saved_auth "$AUTH")" = "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" ]
	grep -q '"other.example:5000"' "$AUTH"
	grep -q '"HttpHeaders"' "$AUTH"
}

@test "[daemon] auth-file moves the credentials file" {
	printf '[daemon]\nauth-file = %s\n' "$TMP/etc/auth.json" >>"$BERTH_CONFIG"
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG_HOSTPORT" <<<"$REG_PASS"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$TMP/etc/auth.json")" = 600 ]
	[ ! -e "$AUTH" ]
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
}

@test "pull reads credentials from Docker's config.json (DOCKER_CONFIG, then ~/.docker)" {
	mkdir -p "$TMP/docker" "$TMP/home/.docker"
	printf '{"auths":{"https://%s":{"auth":"%s"}},"credsStore":"none"}' "$REG_HOSTPORT" \
		"$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)" >"$TMP/docker/config.json"
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	mv "$TMP/docker/config.json" "$TMP/home/.docker/config.json"
	unset DOCKER_CONFIG
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	# A wrong password there is reported with the file it came from.
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG_HOSTPORT" \
		"$(printf '%s:wrong' "$REG_USER" | base64 -w0)" >"$TMP/home/.docker/config.json"
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"check the username and password in Docker's \`$TMP/home/.docker/config.json\`"* ]]
}

@test "a damaged credentials file is an error naming it, and login does not overwrite it" {
	mkdir -p "$BERTH_ROOT"
	printf '{"auths":{"%s":{"auth":"!!notbase64"}}}' "$REG_HOSTPORT" >"$AUTH"
	before=$(sha256sum <"$AUTH")
	run "$BERTH" pull -q "$REG_HOSTPORT/app:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$AUTH: auths.\"$REG_HOSTPORT\".auth is not base64"* ]]
	run "$BERTH" login -u "$REG_USER" --password-stdin "$REG_HOSTPORT" <<<"$REG_PASS"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$AUTH"* ]]
	[ "$(sha256sum <"$AUTH")" = "$before" ]
}

@test "login usage errors exit 2" {
	run "$BERTH" login -u x -p y --password-stdin "$REG_HOSTPORT"
	[ "$status" -eq 2 ]
	[[ "$output" == *"mutually exclusive"* ]]
	run "$BERTH" login --password-stdin "$REG_HOSTPORT" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs the user name"* ]]
	run "$BERTH" login -u x "$REG_HOSTPORT" </dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"stdin is not a terminal"* ]]
	run "$BERTH" logout a b
	[ "$status" -eq 2 ]
}
