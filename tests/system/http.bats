#!/usr/bin/env bats
# berth's HTTP client against a real registry (docker-registry with TLS from a test CA, htpasswd
# or token auth) and small fixtures: what a user sees when credentials, CAs, redirects and
# stalled connections go right or wrong. Driven through build/tools/httpget.

load helpers
load registry_helpers

HTTPGET=$BATS_TEST_DIRNAME/../../build/tools/httpget

setup_file() {
	reg_require
	make -s -C "$BATS_TEST_DIRNAME/../.." build/tools/httpget >&2
	reg_setup_dir
	reg_make_certs
	reg_start_basic
	reg_start_token
}

teardown_file() {
	reg_stop_all
}

setup() {
	reg_require
	[ -n "${REG_URL:-}" ] || skip "the test registry did not start"
}

@test "GET /v2/ over TLS with the test CA: 401 without credentials, 200 with them" {
	run "$HTTPGET" --ca "$REG_CA" "$REG_URL/v2/"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "HTTP 401 Unauthorized" ]]
	[[ "$output" == *'Www-Authenticate: Basic realm="berth-test"'* ]]

	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password "$REG_PASS" "$REG_URL/v2/"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "HTTP 200 OK" ]]
	[[ "$output" == *"Docker-Distribution-Api-Version: registry/2.0"* ]]
}

@test "the DNS name in the certificate works too (localhost)" {
	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password "$REG_PASS" \
		"https://localhost:${REG_HOSTPORT#*:}/v2/"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "HTTP 200 OK" ]]
}

@test "a certificate from another CA is refused with an error naming the host" {
	run "$HTTPGET" --ca "$REG_OTHER_CA" "$REG_URL/v2/"
	[ "$status" -eq 125 ]
	[[ "$output" == *"127.0.0.1"* ]]
	[[ "$output" == *"certificate verification failed"* ]]
	[[ "$output" == *"ca-file"* ]]
	# The system bundle does not know the test CA either.
	run "$HTTPGET" "$REG_URL/v2/"
	[ "$status" -eq 125 ]
	[[ "$output" == *"certificate verification failed"* ]]
	# insecure skips verification, as configured.
	run "$HTTPGET" --insecure "$REG_URL/v2/"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "HTTP 401 Unauthorized" ]]
}

@test "a wrong password is a 401 error naming the registry and the user" {
	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password wrong "$REG_URL/v2/"
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry \`$REG_HOSTPORT\` refused user \`$REG_USER\`"* ]]
	[[ "$output" == *"HTTP 401"* ]]
	[[ "$output" == *"password"* ]]
}

@test "a Range request gets 206 and exactly the bytes after the offset" {
	head -c 100000 /dev/urandom >"$REG_DIR/blob"
	digest=$(reg_push_blob "$REG_URL" test/blob "$REG_DIR/blob" -u "$REG_USER:$REG_PASS")
	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password "$REG_PASS" --range 12345 \
		-o "$REG_DIR/part" "$REG_URL/v2/test/blob/blobs/$digest"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "HTTP 206 Partial Content" ]]
	[[ "$output" == *"Content-Range: bytes 12345-99999/100000"* ]]
	tail -c +12346 "$REG_DIR/blob" | cmp - "$REG_DIR/part"
	# And the whole blob without Range.
	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password "$REG_PASS" \
		-o "$REG_DIR/whole" "$REG_URL/v2/test/blob/blobs/$digest"
	[ "$status" -eq 0 ]
	cmp "$REG_DIR/blob" "$REG_DIR/whole"
}

@test "a redirect to another host does not carry the Authorization header" {
	target=$(reg_start_fixture target record)
	redir=$(reg_start_fixture redir redirect "http://localhost:$target")
	run "$HTTPGET" -H "X-Trace: 1" --authorization "Bearer sekrit" \
		"http://127.0.0.1:$redir/v2/x/blobs/sha256:00"
	[ "$status" -eq 0 ]
	[[ "$output" == *"recorded"* ]]
	# The registry got the credentials; the other host got the request without them.
	grep -q "^Authorization: Bearer sekrit" "$REG_DIR/redir.log"
	grep -q "GET /v2/x/blobs/sha256:00" "$REG_DIR/target.log"
	grep -q "X-Trace: 1" "$REG_DIR/target.log"
	! grep -qi "^Authorization" "$REG_DIR/target.log"
	! grep -q "sekrit" "$REG_DIR/target.log"
}

@test "a same-origin redirect keeps Authorization, and a redirect loop stops after 5 hops" {
	port=$(reg_free_port)
	loop=$(reg_start_fixture loop redirect "http://127.0.0.1:$port")
	run "$HTTPGET" --no-redirect --authorization "Bearer x" "http://127.0.0.1:$loop/a"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "HTTP 307 Temporary Redirect" ]]
	[[ "$output" == *"Location: http://127.0.0.1:$port/a"* ]]

	self=$(reg_start_fixture self redirect_self)
	run "$HTTPGET" --authorization "Bearer same-origin" "http://127.0.0.1:$self/a"
	[ "$status" -eq 125 ]
	[[ "$output" == *"more than 5 redirects"* ]]
	[ "$(grep -c '^Authorization: Bearer same-origin' "$REG_DIR/self.log")" -eq 6 ]
}

@test "token auth: anonymous and with credentials, the token server's JWT opens /v2/" {
	run "$HTTPGET" --ca "$REG_CA" "$TOKEN_REG_URL/v2/"
	[ "$status" -eq 1 ]
	[[ "$output" == *"Www-Authenticate: Bearer realm=\"$TOKEN_URL\""* ]]

	run "$HTTPGET" --ca "$REG_CA" --auth "$TOKEN_REG_URL/v2/"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "HTTP 200 OK" ]]
	grep -q "^/token?service=berth-test-registry auth=$" "$TOKEN_LOG"

	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password "$REG_PASS" \
		--scope "repository:test/blob:pull,push" "$TOKEN_REG_URL/v2/test/blob/tags/list"
	# An empty repository answers 404 NAME_UNKNOWN once authorised, never 401.
	[[ "${lines[0]}" == "HTTP 404 Not Found" ]] || [[ "${lines[0]}" == "HTTP 200 OK" ]]
	grep -q "scope=repository%3Atest%2Fblob%3Apull%2Cpush auth=Basic " "$TOKEN_LOG"
}

@test "token auth: wrong credentials at the token server are a clear error" {
	run "$HTTPGET" --ca "$REG_CA" --user "$REG_USER" --password wrong "$TOKEN_REG_URL/v2/"
	[ "$status" -eq 2 ]
	[[ "$output" == *"token server"* ]]
	[[ "$output" == *"refused user \`$REG_USER\`"* ]]
}

@test "a server that stalls in the middle of the body is a timeout error, not a hang" {
	port=$(reg_start_fixture stall stall)
	start=$SECONDS
	run "$HTTPGET" --timeout 1500 -o "$REG_DIR/stalled" "http://127.0.0.1:$port/blob"
	[ "$status" -eq 125 ]
	[[ "$output" == *"stalled"* ]]
	[[ "$output" == *"127.0.0.1"* ]]
	[ $((SECONDS - start)) -lt 10 ]
}

@test "plain http to a remote host is refused unless configured" {
	run "$HTTPGET" "http://registry.example.invalid/v2/"
	[ "$status" -eq 2 ]
	[[ "$output" == *"plain http"* ]]
	[[ "$output" == *"insecure"* ]]
}

@test "HTTPS_PROXY is used through CONNECT, and NO_PROXY bypasses it" {
	# A proxy that is not there: the error names it, so the proxy was used.
	port=$(reg_free_port)
	HTTPS_PROXY=http://127.0.0.1:$port run "$HTTPGET" --ca "$REG_CA" "$REG_URL/v2/"
	[ "$status" -eq 125 ]
	[[ "$output" == *"proxy \`127.0.0.1:$port\`"* ]]
	HTTPS_PROXY=http://127.0.0.1:$port NO_PROXY=localhost,127.0.0.1 \
		run "$HTTPGET" --ca "$REG_CA" "$REG_URL/v2/"
	[ "$status" -eq 1 ]
	[[ "${lines[0]}" == "HTTP 401 Unauthorized" ]]
}
