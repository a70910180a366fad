#!/usr/bin/env bats
# `berth push` against a real registry (docker-registry with TLS from a test CA and htpasswd):
# uploads read back by skopeo and by `berth pull` with the same digest, chunked uploads,
# layers the registry already has, cross-repository mounts, and the errors a user can meet.

load helpers
load registry_helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BIG_MB=5

setup_file() {
	reg_require
	command -v skopeo >/dev/null && command -v umoci >/dev/null && [ -x /bin/busybox ] ||
		skip "skopeo, umoci or busybox-static is missing (scripts/deps.sh)"
	reg_setup_dir
	reg_make_certs
	reg_start_basic
	reg_start_token
	local d=$REG_DIR/img
	mkdir -p "$d/certs"
	cp "$REG_CA" "$d/certs/ca.crt"
	"$TOP/scripts/mktestimage.sh" "$d/app.tar" app:1
	# The same image plus a layer of random data, big enough to go up in several chunks.
	skopeo --insecure-policy copy -q "docker-archive:$d/app.tar" "oci:$d/oci:big"
	umoci unpack --image "$d/oci:big" "$d/b" >/dev/null
	head -c "${BIG_MB}M" /dev/urandom >"$d/b/rootfs/srv/big"
	umoci repack --image "$d/oci:big" "$d/b" >/dev/null
	skopeo --insecure-policy copy -q "oci:$d/oci:big" "docker-archive:$d/big.tar:big:1"
	rm -rf "$d/b" "$d/oci"
	# One image in the registry that berth did not push, to mount from.
	skopeo --insecure-policy copy -q "--dest-creds=$REG_USER:$REG_PASS" \
		--dest-cert-dir "$d/certs" "docker-archive:$d/app.tar" "docker://$REG_HOSTPORT/app:1"
	skopeo --insecure-policy copy -q --format oci "--dest-creds=$REG_USER:$REG_PASS" \
		--dest-cert-dir "$d/certs" "docker-archive:$d/app.tar" "docker://$REG_HOSTPORT/app:oci"
	reg_push_multi
}

teardown_file() {
	reg_stop_all
}

setup() {
	reg_require
	[ -n "${REG_HOSTPORT:-}" ] || skip "the test registry did not start"
	berth_setup
	write_conf "$REG_PASS"
}

teardown() {
	berth_teardown
}

# berth.conf with credentials for the registry, and 1M chunks for pushes.
write_conf() {
	printf '[registry "%s"]\nusername = %s\npassword = %s\nca-file = %s\nchunk-size = 1M\n' \
		"$REG_HOSTPORT" "$REG_USER" "$1" "$REG_CA" >"$BERTH_CONFIG"
}

# Requests of method $1 to paths containing $2 in the registry's access log.
log_count() {
	grep -c "\"$1 [^\"]*$2" "$REG_DIR/basic/log" || true
}

# The manifest digest skopeo reads for docker://$1 (with the test CA and credentials).
skopeo_digest() {
	skopeo inspect --cert-dir "$REG_DIR/img/certs" --creds "$REG_USER:$REG_PASS" \
		--format '{{.Digest}}' "docker://$1"
}

@test "push uploads a loaded image in chunks; skopeo and berth pull it back with its digest" {
	"$BERTH" load -q -i "$REG_DIR/img/big.tar"
	"$BERTH" tag big:1 "$REG_HOSTPORT/pushed:1"
	patches=$(log_count PATCH /v2/pushed/blobs/uploads/)
	run "$BERTH" push "$REG_HOSTPORT/pushed:1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "The push refers to repository [$REG_HOSTPORT/pushed]" ]
	[[ "$output" == *": Pushed"* ]]
	[[ "$output" =~ 1:\ digest:\ (sha256:[0-9a-f]{64})\ size:\ [0-9]+ ]]
	digest=${BASH_REMATCH[1]}
	# Every line but Docker's digest line (tag, 71-character digest, size) fits 80 columns.
	output=$(printf '%s\n' "$output" | grep -v ': digest: sha256:') assert_80_columns
	[[ "$output" != *$'\r'* ]]
	# The 5 MB layer went up in 1 MB PATCH chunks.
	[ "$(log_count PATCH /v2/pushed/blobs/uploads/)" -ge $((patches + BIG_MB)) ]
	# skopeo reads the same manifest, and copies the image out with every blob verified.
	[ "$(skopeo_digest "$REG_HOSTPORT/pushed:1")" = "$digest" ]
	skopeo --insecure-policy copy -q --src-cert-dir "$REG_DIR/img/certs" \
		--src-creds "$REG_USER:$REG_PASS" "docker://$REG_HOSTPORT/pushed:1" "oci:$TMP/oci:x"
	# berth pulls it into another data root with the same digest, and it runs.
	BERTH_ROOT=$TMP/root2 run "$BERTH" pull "$REG_HOSTPORT/pushed:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Digest: $digest"* ]]
	[ "$(id -u)" = 0 ] || skip "running the image needs root"
	BERTH_ROOT=$TMP/root2 run "$BERTH" run --rm "$REG_HOSTPORT/pushed:1" wc -c /srv/big
	[ "$status" -eq 0 ]
	[[ "$output" == "$((BIG_MB * 1024 * 1024)) /srv/big" ]]
}

@test "pushing again says Layer already exists and uploads no blob" {
	"$BERTH" load -q -i "$REG_DIR/img/app.tar"
	"$BERTH" tag app:1 "$REG_HOSTPORT/twice:1"
	run "$BERTH" push "$REG_HOSTPORT/twice:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Pushed"* ]]
	first=${lines[-1]}
	puts=$(log_count PUT /v2/twice/blobs/uploads/)
	run "$BERTH" push "$REG_HOSTPORT/twice:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Layer already exists"* ]]
	[[ "$output" != *": Pushed"* ]]
	[ "${lines[-1]}" = "$first" ]
	[ "$(log_count PUT /v2/twice/blobs/uploads/)" = "$puts" ]
	# -q prints only what was pushed, by digest.
	run "$BERTH" push -q "$REG_HOSTPORT/twice:1"
	[ "$status" -eq 0 ]
	[ "$output" = "$REG_HOSTPORT/twice@$(echo "$first" | cut -d' ' -f3)" ]
}

@test "push mounts layers from the repository the image was pulled from" {
	"$BERTH" pull -q "$REG_HOSTPORT/app:1"
	"$BERTH" tag "$REG_HOSTPORT/app:1" "$REG_HOSTPORT/mounted:1"
	run "$BERTH" push "$REG_HOSTPORT/mounted:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Mounted from app"* ]]
	[[ "$output" != *": Pushed"* ]]
	[ "$(log_count POST '/v2/mounted/blobs/uploads/?mount=sha256:[0-9a-f]*&from=app')" -ge 1 ]
	[ "$(log_count PATCH /v2/mounted/)" = 0 ]
	[[ "$output" =~ 1:\ digest:\ (sha256:[0-9a-f]{64}) ]]
	[ "$(skopeo_digest "$REG_HOSTPORT/mounted:1")" = "${BASH_REMATCH[1]}" ]
	[ "$(skopeo_digest "$REG_HOSTPORT/app:1")" = "${BASH_REMATCH[1]}" ]
}

@test "an index is pushed whole when every platform is in the store, else this board's alone" {
	"$BERTH" pull -q "$REG_HOSTPORT/app:multi"
	"$BERTH" tag "$REG_HOSTPORT/app:multi" "$REG_HOSTPORT/index:1"
	run "$BERTH" push "$REG_HOSTPORT/index:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"is an index of 2 platforms and only linux/"*"is in the store"* ]]
	[[ "$output" =~ 1:\ digest:\ (sha256:[0-9a-f]{64}) ]]
	[ "${BASH_REMATCH[1]}" != "$MULTI_DIGEST" ]
	[ "$(skopeo_digest "$REG_HOSTPORT/index:1")" = "${BASH_REMATCH[1]}" ]
	[ "$(skopeo_digest "$REG_HOSTPORT/app:oci")" = "${BASH_REMATCH[1]}" ]
	# With the other platform pulled too, the index goes up as it is, with both manifests.
	"$BERTH" pull -q --platform linux/s390x "$REG_HOSTPORT/app:multi"
	run "$BERTH" push "$REG_HOSTPORT/index:1"
	[ "$status" -eq 0 ]
	[[ "$output" != *"is an index"* ]]
	[[ "$output" == *"1: digest: $MULTI_DIGEST "* ]]
	run curl -sS -f --cacert "$REG_CA" -u "$REG_USER:$REG_PASS" -o /dev/null \
		-w '%header{docker-content-digest}' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' "$REG_URL/v2/index/manifests/1"
	[ "$output" = "$MULTI_DIGEST" ]
	skopeo --insecure-policy copy -q --src-cert-dir "$REG_DIR/img/certs" \
		--src-creds "$REG_USER:$REG_PASS" --override-arch s390x \
		"docker://$REG_HOSTPORT/index:1" "oci:$TMP/oci:s390x"
}

@test "a mount the registry declines falls back to an upload and cancels the session it opened" {
	"$BERTH" load -q -i "$REG_DIR/img/app.tar"
	# A local name on the registry that was never pushed: a mount from it cannot succeed.
	"$BERTH" tag app:1 "$REG_HOSTPORT/ghost:1"
	"$BERTH" tag app:1 "$REG_HOSTPORT/real:1"
	run "$BERTH" push "$REG_HOSTPORT/real:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Pushed"* ]]
	[[ "$output" != *"Mounted"* ]]
	[ "$(log_count POST '/v2/real/blobs/uploads/?mount=sha256:[0-9a-f]*&from=ghost')" -ge 1 ]
	[ "$(log_count DELETE /v2/real/blobs/uploads/)" -ge 1 ]
	[ "$(skopeo_digest "$REG_HOSTPORT/real:1")" = "$(echo "$output" |
		sed -n 's/^1: digest: \(sha256:[0-9a-f]*\) size: .*/\1/p')" ]
}

@test "push of an image whose layer blobs were not kept says how to get them" {
	printf '[store]\nkeep-layer-blobs = no\n' >>"$BERTH_CONFIG"
	"$BERTH" pull -q "$REG_HOSTPORT/app:1"
	"$BERTH" tag "$REG_HOSTPORT/app:1" "$REG_HOSTPORT/nolayers:1"
	# With the source name gone, berth knows no repository to mount from.
	"$BERTH" rmi "$REG_HOSTPORT/app:1"
	run "$BERTH" push "$REG_HOSTPORT/nolayers:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is not in the store"*"keep-layer-blobs"*"berth load"* ]]
	run curl -sS --cacert "$REG_CA" -u "$REG_USER:$REG_PASS" -o /dev/null -w '%{http_code}' \
		"$REG_URL/v2/nolayers/manifests/1"
	[ "$output" = 404 ]
}

@test "push with a wrong password is refused and names the registry" {
	"$BERTH" load -q -i "$REG_DIR/img/app.tar"
	"$BERTH" tag app:1 "$REG_HOSTPORT/refused:1"
	write_conf wrong-password
	run "$BERTH" push "$REG_HOSTPORT/refused:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry \`$REG_HOSTPORT\` refused user \`$REG_USER\`"* ]]
}

@test "push to a token registry asks for pull,push, and for pull on the repository it mounts from" {
	printf '[registry "%s"]\nusername = %s\npassword = %s\nca-file = %s\n' \
		"$TOKEN_REG_HOSTPORT" "$REG_USER" "$REG_PASS" "$REG_CA" >>"$BERTH_CONFIG"
	"$BERTH" load -q -i "$REG_DIR/img/app.tar"
	"$BERTH" tag app:1 "$TOKEN_REG_HOSTPORT/tok-src:1"
	run "$BERTH" push "$TOKEN_REG_HOSTPORT/tok-src:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Pushed"* ]]
	grep -q 'scope=repository%3Atok-src%3Apull%2Cpush auth=Basic ' "$TOKEN_LOG"
	"$BERTH" tag app:1 "$TOKEN_REG_HOSTPORT/tok-dst:1"
	run "$BERTH" push "$TOKEN_REG_HOSTPORT/tok-dst:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Mounted from tok-src"* ]]
	grep -q 'scope=repository%3Atok-dst%3Apull%2Cpush&scope=repository%3Atok-src%3Apull auth=' \
		"$TOKEN_LOG"
	run "$BERTH" pull -q "$TOKEN_REG_HOSTPORT/tok-dst:1"
	[ "$status" -eq 0 ]
}

@test "push of an image not in the store fails with Docker's message" {
	run "$BERTH" push "$REG_HOSTPORT/nothing:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"an image does not exist locally with the tag \`$REG_HOSTPORT/nothing:1\`"* ]]
}
