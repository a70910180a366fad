#!/usr/bin/env bats
# `berth sign` against a real registry (docker-registry with TLS and htpasswd): the signature
# is pushed in cosign's key-based format, `berth pull` verifies it under a [trust] policy,
# and skopeo (a verifier berth does not share code with) accepts it too.

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
	local d=$REG_DIR/img name
	mkdir -p "$d/certs"
	cp "$REG_CA" "$d/certs/ca.crt"
	"$TOP/scripts/mktestimage.sh" "$d/app.tar" app:1
	for name in signed:1 twokeys:1 other:1 skopeo:1; do
		skopeo --insecure-policy copy -q "--dest-creds=$REG_USER:$REG_PASS" \
			--dest-cert-dir "$d/certs" "docker-archive:$d/app.tar" \
			"docker://$REG_HOSTPORT/$name"
	done
}

teardown_file() {
	reg_stop_all
}

setup() {
	reg_require
	[ -n "${REG_HOSTPORT:-}" ] || skip "the test registry did not start"
	berth_setup
	write_conf
	(cd "$TMP" && "$BERTH" keygen --output-key-prefix a >/dev/null &&
		"$BERTH" keygen --output-key-prefix b >/dev/null)
}

teardown() {
	berth_teardown
}

write_conf() {
	printf '[registry "%s"]\nusername = %s\npassword = %s\nca-file = %s\n\n' \
		"$REG_HOSTPORT" "$REG_USER" "$REG_PASS" "$REG_CA" >"$BERTH_CONFIG"
}

# require_key REPO PUB: berth.conf with a [trust] section requiring a signature by that key.
require_key() {
	write_conf
	printf '[trust "%s/%s"]\npolicy = require\npublic-key = %s\n' "$REG_HOSTPORT" "$1" \
		"$2" >>"$BERTH_CONFIG"
}

registry_digest() {
	curl -sS -f --cacert "$REG_CA" -u "$REG_USER:$REG_PASS" -o /dev/null \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-w '%header{docker-content-digest}' "$REG_URL/v2/$1/manifests/$2"
}

@test "sign pushes a cosign signature; pull requires it and refuses another key" {
	digest=$(registry_digest signed 1)
	run "$BERTH" sign --key "$TMP/a.key" "$REG_HOSTPORT/signed:1"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "Signed $digest" ]
	[ "${lines[1]}" = "Pushed signature 1 of 1 to $REG_HOSTPORT/signed" ]
	[ "${lines[2]}" = "Tag: sha256-${digest#sha256:}.sig" ]
	assert_80_columns
	# The signature manifest is cosign's: one simple-signing layer with the annotation.
	curl -sS -f --cacert "$REG_CA" -u "$REG_USER:$REG_PASS" -o "$TMP/sig.json" \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"$REG_URL/v2/signed/manifests/sha256-${digest#sha256:}.sig"
	grep -q '"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json"' "$TMP/sig.json"
	grep -q '"dev.cosignproject.cosign/signature":"M' "$TMP/sig.json"
	require_key signed "$TMP/a.pub"
	run "$BERTH" pull "$REG_HOSTPORT/signed:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Digest: $digest"* ]]
	# Under another key the same image is refused, and nothing is stored.
	require_key signed "$TMP/b.pub"
	run env BERTH_ROOT="$TMP/root2" "$BERTH" pull "$REG_HOSTPORT/signed:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused"*"b.pub"* ]]
	[ ! -e "$TMP/root2/refs.json" ]
}

@test "a second signer's signature is added next to the first, and either key verifies" {
	run "$BERTH" sign --key "$TMP/a.key" "$REG_HOSTPORT/twokeys:1"
	[ "$status" -eq 0 ]
	run "$BERTH" sign --key "$TMP/b.key" "$REG_HOSTPORT/twokeys:1"
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "Pushed signature 2 of 2 to $REG_HOSTPORT/twokeys" ]
	require_key twokeys "$TMP/a.pub"
	run "$BERTH" pull -q "$REG_HOSTPORT/twokeys:1"
	[ "$status" -eq 0 ]
	require_key twokeys "$TMP/b.pub"
	run env BERTH_ROOT="$TMP/root2" "$BERTH" pull -q "$REG_HOSTPORT/twokeys:1"
	[ "$status" -eq 0 ]
}

@test "a [trust] section with several public-key lines accepts a signature by any of them" {
	run "$BERTH" sign --key "$TMP/a.key" "$REG_HOSTPORT/other:1"
	[ "$status" -eq 0 ]
	(cd "$TMP" && "$BERTH" keygen --output-key-prefix c >/dev/null)
	require_key other "$TMP/b.pub"
	printf 'public-key = %s\n' "$TMP/a.pub" >>"$BERTH_CONFIG"
	run "$BERTH" pull -q "$REG_HOSTPORT/other:1"
	[ "$status" -eq 0 ]
	# Refused under keys that did not sign, naming every key tried.
	require_key other "$TMP/b.pub"
	printf 'public-key = %s\n' "$TMP/c.pub" >>"$BERTH_CONFIG"
	run env BERTH_ROOT="$TMP/root2" "$BERTH" pull -q "$REG_HOSTPORT/other:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused"*"b.pub"*"c.pub"* ]]
}

@test "sign of a tag the registry does not have fails; sign without --key is a usage error" {
	run "$BERTH" sign --key "$TMP/a.key" "$REG_HOSTPORT/signed:nope"
	[ "$status" -eq 1 ]
	[[ "$output" == *"manifest for \`$REG_HOSTPORT/signed:nope\` not found"* ]]
	run "$BERTH" sign "$REG_HOSTPORT/signed:1"
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs --key FILE"* ]]
}

@test "skopeo reads berth's signature as a sigstore attachment; openssl verifies what it read" {
	run "$BERTH" sign --key "$TMP/a.key" "$REG_HOSTPORT/skopeo:1"
	[ "$status" -eq 0 ]
	digest=${lines[0]#Signed }
	mkdir -p "$TMP/registries.d"
	printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$REG_HOSTPORT" \
		>"$TMP/registries.d/berth.yaml"
	skopeo --insecure-policy --registries.d "$TMP/registries.d" copy -q \
		--src-cert-dir "$REG_DIR/img/certs" --src-creds "$REG_USER:$REG_PASS" \
		"docker://$REG_HOSTPORT/skopeo:1" "dir:$TMP/dir"
	[ -f "$TMP/dir/signature-1" ]
	# containers/image stores a sigstore signature as "\0sigstore-json\n" and a JSON object.
	tail -n +2 "$TMP/dir/signature-1" >"$TMP/sig.json"
	"$REG_PY" - "$TMP" <<'PYEOF'
import base64, json, sys
d = sys.argv[1]
s = json.load(open(d + "/sig.json"))
assert s["mimeType"] == "application/vnd.dev.cosign.simplesigning.v1+json", s["mimeType"]
open(d + "/payload", "wb").write(base64.b64decode(s["payload"]))
sig = s["annotations"]["dev.cosignproject.cosign/signature"]
open(d + "/sig.der", "wb").write(base64.b64decode(sig))
PYEOF
	openssl dgst -sha256 -verify "$TMP/a.pub" -signature "$TMP/sig.der" "$TMP/payload"
	grep -q "\"docker-manifest-digest\":\"$digest\"" "$TMP/payload"
	grep -q "\"docker-reference\":\"$REG_HOSTPORT/skopeo\"" "$TMP/payload"
	run openssl dgst -sha256 -verify "$TMP/b.pub" -signature "$TMP/sig.der" "$TMP/payload"
	[ "$status" -ne 0 ]
}

@test "skopeo with a sigstoreSigned policy accepts berth's signature and refuses another key" {
	run "$BERTH" sign --key "$TMP/a.key" "$REG_HOSTPORT/skopeo:1"
	[ "$status" -eq 0 ]
	mkdir -p "$TMP/registries.d"
	printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$REG_HOSTPORT" \
		>"$TMP/registries.d/berth.yaml"
	for k in a b; do
		printf '{"default":[{"type":"reject"}],"transports":{"docker":{"%s/skopeo":[{"type":"sigstoreSigned","keyPath":"%s","signedIdentity":{"type":"matchRepository"}}]}}}\n' \
			"$REG_HOSTPORT" "$TMP/$k.pub" >"$TMP/policy-$k.json"
	done
	run skopeo --policy "$TMP/policy-a.json" --registries.d "$TMP/registries.d" copy -q \
		--src-cert-dir "$REG_DIR/img/certs" --src-creds "$REG_USER:$REG_PASS" \
		"docker://$REG_HOSTPORT/skopeo:1" "oci:$TMP/oci-a:x"
	# Debian builds skopeo with sigstore verification patched out.
	[[ "$output" != *"sigstore disabled"* ]] ||
		skip "this skopeo cannot verify sigstore signatures: $output"
	[ "$status" -eq 0 ]
	run skopeo --policy "$TMP/policy-b.json" --registries.d "$TMP/registries.d" copy -q \
		--src-cert-dir "$REG_DIR/img/certs" --src-creds "$REG_USER:$REG_PASS" \
		"docker://$REG_HOSTPORT/skopeo:1" "oci:$TMP/oci-b:x"
	[ "$status" -ne 0 ]
	[[ "$output" == *"ignature"* ]]
}
