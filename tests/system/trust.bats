#!/usr/bin/env bats
# Image signatures in the cosign key-based format, offline: `berth keygen`, `berth verify`,
# and interoperability with signatures and keys made independently by openssl. Signatures
# berth makes come from tests/tools/sigmake (the library `berth sign` will push with).

load helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
IMG=reg.example:5000/team/app
DIGEST=sha256:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881

setup_file() {
	local build
	build=$(realpath -m "$(dirname "$BERTH")")
	make -s -C "$TOP" O="$build" "$build/tools/sigmake" >&2
	export SIGMAKE=$build/tools/sigmake
}

setup() {
	berth_setup
	command -v openssl >/dev/null || skip "openssl is not installed"
	cd "$TMP"
}

teardown() {
	berth_teardown
}

# A signature manifest in the cosign format around payload.json and the base64 signature $1.
write_sig_manifest() {
	local size digest
	size=$(stat -c %s payload.json)
	digest=sha256:$(sha256sum payload.json | cut -d' ' -f1)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'`
		`'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,'`
		`'"digest":"%s"},"layers":[{"mediaType":'`
		`'"application/vnd.dev.cosign.simplesigning.v1+json","size":%s,"digest":"%s",'`
		`'"annotations":{"dev.cosignproject.cosign/signature":"%s"}}]}' \
		"$digest" "$size" "$digest" "$1" >sig.json
}

@test "keygen writes cosign.key (0600) and cosign.pub (0644) and will not overwrite them" {
	run "$BERTH" keygen
	[ "$status" -eq 0 ]
	[[ "$output" == *"Private key written to cosign.key"* ]]
	[[ "$output" == *"Fingerprint: SHA256:"* ]]
	assert_80_columns
	[ "$(stat -c %a cosign.key)" = 600 ]
	[ "$(stat -c %a cosign.pub)" = 644 ]
	grep -q 'BEGIN PUBLIC KEY' cosign.pub
	# openssl reads both, and they are one P-256 pair.
	openssl ec -in cosign.key -noout -text 2>/dev/null | grep -q 'prime256v1'
	[ "$(openssl ec -in cosign.key -pubout 2>/dev/null)" = "$(cat cosign.pub)" ]
	before=$(sha256sum cosign.key)
	run "$BERTH" keygen
	[ "$status" -eq 2 ]
	[[ "$output" == *"cosign.key"*"exists: use --force"* ]]
	[ "$(sha256sum cosign.key)" = "$before" ]
	run "$BERTH" keygen --force
	[ "$status" -eq 0 ]
	[ "$(sha256sum cosign.key)" != "$before" ]
	run "$BERTH" keygen --output-key-prefix "$TMP/vendor"
	[ "$status" -eq 0 ]
	[ -f vendor.key ] && [ -f vendor.pub ]
}

@test "berth verify accepts a signature berth made, and openssl verifies it too" {
	"$BERTH" keygen --output-key-prefix berth >/dev/null
	"$SIGMAKE" berth.key "$IMG" "$DIGEST" .
	run "$BERTH" verify --key berth.pub --signature manifest.json --payload payload.json \
		--digest "$DIGEST" "$IMG:1.0"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Verified OK"*"berth.pub"* ]]
	# The image may carry the digest instead of --digest.
	run "$BERTH" verify -k berth.pub -s manifest.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -eq 0 ]
	# The DER signature is what openssl checks over the payload bytes as stored.
	run openssl dgst -sha256 -verify berth.pub -signature sig.der payload.json
	[ "$status" -eq 0 ]
	[[ "$output" == *"Verified OK"* ]]
	# The config blob is the one the manifest names.
	grep -q "\"digest\":\"sha256:$(sha256sum config.json | cut -d' ' -f1)\"" manifest.json
}

@test "a signature made independently with openssl verifies" {
	openssl ecparam -genkey -name prime256v1 -noout -out k.pem
	openssl ec -in k.pem -pubout -out k.pub 2>/dev/null
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":{"creator":"openssl"}}' \
		"$IMG" "$DIGEST" >payload.json
	write_sig_manifest "$(openssl dgst -sha256 -sign k.pem payload.json | base64 -w0)"
	run "$BERTH" verify --key k.pub --signature sig.json --payload payload.json "$IMG@$DIGEST"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Verified OK"*"k.pub"* ]]
}

@test "an openssl PKCS#8 key works as a signing key" {
	openssl ecparam -genkey -name prime256v1 -noout -out k.pem
	openssl pkcs8 -topk8 -nocrypt -in k.pem -out k8.pem
	grep -q 'BEGIN PRIVATE KEY' k8.pem
	openssl ec -in k.pem -pubout -out k.pub 2>/dev/null
	"$SIGMAKE" k8.pem "$IMG" "$DIGEST" .
	run "$BERTH" verify --key k.pub --signature manifest.json --payload payload.json "$IMG@$DIGEST"
	[ "$status" -eq 0 ]
	run openssl dgst -sha256 -verify k.pub -signature sig.der payload.json
	[ "$status" -eq 0 ]
}

@test "verify refuses a wrong key, a tampered payload and another image's digest, naming the key" {
	"$BERTH" keygen --output-key-prefix good >/dev/null
	"$BERTH" keygen --output-key-prefix other >/dev/null
	"$SIGMAKE" good.key "$IMG" "$DIGEST" .
	run "$BERTH" verify --key other.pub --signature manifest.json --payload payload.json "$IMG@$DIGEST"
	[ "$status" -eq 1 ]
	[[ "$output" == *"image \`$IMG@$DIGEST\` has no valid signature"* ]]
	[[ "$output" == *"matches none of the keys"*"key tried: \`other.pub\` (SHA256:"* ]]
	# Two keys: any may verify, and both are listed when none does.
	run "$BERTH" verify -k other.pub -k good.pub -s manifest.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -eq 0 ]
	# One byte of the payload changed.
	sed -i 's/cosign container/cosign_container/' payload.json
	run "$BERTH" verify -k good.pub -s manifest.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no --payload file has digest"* ]]
	# Another image's digest.
	"$SIGMAKE" good.key "$IMG" "$DIGEST" .
	run "$BERTH" verify -k good.pub -s manifest.json -p payload.json \
		"$IMG@sha256:a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"
	[ "$status" -eq 1 ]
	[[ "$output" == *"the payload is for manifest \`$DIGEST\`"* ]]
}

@test "verify refuses garbage annotations and keys that are not P-256" {
	"$BERTH" keygen --output-key-prefix good >/dev/null
	printf '{"critical":{"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"}}' \
		"$DIGEST" >payload.json
	write_sig_manifest 'not*base64'
	run "$BERTH" verify -k good.pub -s sig.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not base64"* ]]
	write_sig_manifest "$(printf 'hello, world' | base64 -w0)"
	run "$BERTH" verify -k good.pub -s sig.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not a DER ECDSA signature"* ]]
	openssl ecparam -genkey -name secp384r1 -noout -out p384.pem
	openssl ec -in p384.pem -pubout -out p384.pub 2>/dev/null
	run "$BERTH" verify -k p384.pub -s sig.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -ne 0 ]
	[[ "$output" == *"P-256 (prime256v1) only"* ]]
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
	openssl pkey -in rsa.pem -pubout -out rsa.pub
	run "$BERTH" verify -k rsa.pub -s sig.json -p payload.json "$IMG@$DIGEST"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is a RSA key"* ]]
	# An encrypted key is refused as a signing key, saying how to get a usable one.
	openssl pkcs8 -topk8 -in p384.pem -passout pass:x -out enc.pem
	run ! "$SIGMAKE" enc.pem "$IMG" "$DIGEST" .
	[[ "$output" == *"encrypted PKCS#8"*"-nocrypt"* ]]
}

@test "verify usage errors exit 2" {
	run "$BERTH" verify "$IMG@$DIGEST"
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs --key and --signature"* ]]
	"$BERTH" keygen >/dev/null
	echo '{}' >sig.json
	run "$BERTH" verify -k cosign.pub -s sig.json "$IMG"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--digest"* ]]
	run "$BERTH" keygen extra
	[ "$status" -eq 2 ]
}
