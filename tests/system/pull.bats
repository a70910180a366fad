#!/usr/bin/env bats
# `berth pull` against a real registry (docker-registry with TLS from a test CA and htpasswd):
# Docker and OCI images, credentials from berth.conf, up-to-date pulls, resume after a kill -9
# mid-blob, auth and 404 errors, and the trust policy applied before any layer is fetched.

load helpers
load registry_helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BIG_MB=20

# A TCP relay that slows the registry's answers down to $3 bytes/s, so a pull can be killed
# in the middle of a blob at a moment the test chooses; with $4, it also cuts every
# connection once it has relayed $4 bytes of answers. TLS passes through untouched.
write_slow_proxy() {
	cat >"$REG_DIR/slow_proxy.py" <<'EOF'
import socket, sys, threading, time
lport, rport, rate = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
cut = int(sys.argv[4]) if len(sys.argv) > 4 else 0

def pipe(a, b, slow):
    sent = 0
    try:
        while True:
            d = a.recv(16384)
            if not d:
                break
            b.sendall(d)
            sent += len(d)
            if slow and cut and sent >= cut:
                break  # cut the connection, as a flaky link does, in the middle of a blob
            if slow:
                time.sleep(len(d) / rate)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

def serve(c):
    try:
        u = socket.create_connection(("127.0.0.1", rport))
    except OSError:
        c.close()
        return
    threading.Thread(target=pipe, args=(c, u, False), daemon=True).start()
    pipe(u, c, True)

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", lport))
s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
}

# A TLS server (the test registry's certificate) that answers the first request with 429 and
# Retry-After: 2, and every later one with 404; each request line goes to $REG_DIR/busy.log
# with the time it arrived.
write_busy_server() {
	cat >"$REG_DIR/busy.py" <<'EOF'
import ssl, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
seen = [0]

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        seen[0] += 1
        with open(log, "a") as f:
            f.write("%.3f %s\n" % (time.time(), self.path))
        self.send_response(429 if seen[0] == 1 else 404)
        if seen[0] == 1:
            self.send_header("Retry-After", "2")
        self.send_header("Content-Length", "0")
        self.end_headers()

srv = HTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
EOF
}

setup_file() {
	reg_require
	command -v skopeo >/dev/null && command -v umoci >/dev/null && [ -x /bin/busybox ] ||
		skip "skopeo, umoci or busybox-static is missing (scripts/deps.sh)"
	reg_setup_dir
	reg_make_certs
	reg_start_basic
	local d=$REG_DIR/img creds="--dest-creds=$REG_USER:$REG_PASS" port
	mkdir -p "$d/certs"
	cp "$REG_CA" "$d/certs/ca.crt"
	"$TOP/scripts/mktestimage.sh" "$d/app.tar" app:1
	skopeo --insecure-policy copy -q "$creds" --dest-cert-dir "$d/certs" \
		"docker-archive:$d/app.tar" "docker://$REG_HOSTPORT/app:1"
	skopeo --insecure-policy copy -q --format oci "$creds" --dest-cert-dir "$d/certs" \
		"docker-archive:$d/app.tar" "docker://$REG_HOSTPORT/app:oci"
	# The same image plus a layer of random (incompressible) data, for the resume test.
	skopeo --insecure-policy copy -q "docker-archive:$d/app.tar" "oci:$d/oci:big"
	umoci unpack --image "$d/oci:big" "$d/b" >/dev/null
	head -c "${BIG_MB}M" /dev/urandom >"$d/b/rootfs/srv/big"
	umoci repack --image "$d/oci:big" "$d/b" >/dev/null
	skopeo --insecure-policy copy -q --format oci "$creds" --dest-cert-dir "$d/certs" \
		"oci:$d/oci:big" "docker://$REG_HOSTPORT/big:1"
	rm -rf "$d/b" "$d/oci"
	reg_push_multi
	port=$(reg_free_port)
	write_slow_proxy
	reg_spawn "$REG_DIR/slow_proxy.log" "$REG_PY" "$REG_DIR/slow_proxy.py" "$port" \
		"${REG_HOSTPORT#*:}" 8000000 >/dev/null
	reg_wait_port "$port"
	export SLOW_HOSTPORT=127.0.0.1:$port
	port=$(reg_free_port)
	reg_spawn "$REG_DIR/cut_proxy.log" "$REG_PY" "$REG_DIR/slow_proxy.py" "$port" \
		"${REG_HOSTPORT#*:}" 1000000000 3000000 >/dev/null
	reg_wait_port "$port"
	export CUT_HOSTPORT=127.0.0.1:$port
	port=$(reg_free_port)
	write_busy_server
	: >"$REG_DIR/busy.log"
	reg_spawn "$REG_DIR/busy.out" "$REG_PY" "$REG_DIR/busy.py" "$port" \
		"$REG_DIR/certs/server.crt" "$REG_DIR/certs/server.key" "$REG_DIR/busy.log" >/dev/null
	reg_wait_port "$port"
	export BUSY_HOSTPORT=127.0.0.1:$port
}

teardown_file() {
	reg_stop_all
}

setup() {
	reg_require
	[ -n "${SLOW_HOSTPORT:-}" ] || skip "the test registry did not start"
	berth_setup
	write_conf "$REG_PASS"
}

teardown() {
	berth_teardown
}

# berth.conf with credentials for the registry and for the slow relay in front of it.
write_conf() {
	local h
	: >"$BERTH_CONFIG"
	for h in "$REG_HOSTPORT" "$SLOW_HOSTPORT" "$BUSY_HOSTPORT" "$CUT_HOSTPORT"; do
		printf '[registry "%s"]\nusername = %s\npassword = %s\nca-file = %s\n\n' \
			"$h" "$REG_USER" "$1" "$REG_CA" >>"$BERTH_CONFIG"
	done
}

# Bytes the registry sent for GETs of blob $1 in access-log lines after line $2.
blob_bytes_since() {
	tail -n +"$(($2 + 1))" "$REG_DIR/basic/log" |
		awk -v d="blobs/$1 " 'index($0, "\"GET ") && index($0, d) { n += $10 } END { print n + 0 }'
}

log_lines() {
	wc -l <"$REG_DIR/basic/log"
}

# Everything under the data root but tmp/ and the lock files, with checksums.
snapshot_root() {
	(cd "$BERTH_ROOT" && find . -path ./tmp -prune -o -name '*.lock' -prune -o -print |
		sort | while read -r f; do
			if [ -f "$f" ]; then echo "$f $(sha256sum <"$f" | cut -d' ' -f1)"; else echo "$f"; fi
		done)
}

@test "pull a Docker schema2 image with credentials from berth.conf; images lists it, run runs it" {
	run "$BERTH" pull "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "1: Pulling from app" ]]
	[[ "$output" == *": Downloading "*MB* ]]
	[[ "$output" == *": Pull complete"* ]]
	[[ "$output" =~ Digest:\ sha256:[0-9a-f]{64} ]]
	[[ "$output" == *"Status: Downloaded newer image for $REG_HOSTPORT/app:1"* ]]
	assert_80_columns
	# No carriage-return progress when stdout is not a terminal.
	[[ "$output" != *$'\r'* ]]
	run "$BERTH" images
	[ "$status" -eq 0 ]
	[[ "$output" == *"$REG_HOSTPORT/app"*" 1 "* ]]
	# Nothing is left in tmp/ after a complete pull.
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
	[ "$(id -u)" = 0 ] || skip "running the image needs root"
	run "$BERTH" run --rm "$REG_HOSTPORT/app:1" cat /srv/content
	[ "$status" -eq 0 ]
	[ "$output" = "from the image" ]
}

@test "pull an OCI image; -q prints only the name" {
	run "$BERTH" pull -q "$REG_HOSTPORT/app:oci"
	[ "$status" -eq 0 ]
	[ "$output" = "$REG_HOSTPORT/app:oci" ]
	run "$BERTH" images
	[[ "$output" == *"$REG_HOSTPORT/app"*" oci "* ]]
	run "$BERTH" image inspect "$REG_HOSTPORT/app:oci"
	[ "$status" -eq 0 ]
}

@test "pulling again says the image is up to date and downloads no blob" {
	run "$BERTH" pull "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	before=$(grep -c '"GET /v2/app/blobs/' "$REG_DIR/basic/log")
	run "$BERTH" pull "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *": Already exists"* ]]
	[[ "$output" != *"Downloading"* ]]
	[[ "$output" == *"Status: Image is up to date for $REG_HOSTPORT/app:1"* ]]
	[ "$(grep -c '"GET /v2/app/blobs/' "$REG_DIR/basic/log")" = "$before" ]
}

@test "a pull killed with SIGKILL mid-blob resumes and re-downloads at most ~10% more" {
	"$BERTH" pull -q "$SLOW_HOSTPORT/big:1" >"$TMP/pull1.out" 2>&1 &
	pid=$!
	size=$((BIG_MB * 1024 * 1024))
	# Kill it once a quarter of the big layer is on flash (the relay sends 8 MB/s).
	partial=
	for _ in $(seq 1 200); do
		partial=$(find "$BERTH_ROOT/tmp" -name '*.partial' -size +5000k 2>/dev/null | head -1)
		[ -n "$partial" ] && break
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" || true
	[ -n "$partial" ] || { cat "$TMP/pull1.out"; false; }
	have=$(stat -c %s "$partial")
	[ "$have" -lt "$size" ]
	hex=$(basename "$partial" .partial)
	mark=$(log_lines)
	run "$BERTH" pull "$REG_HOSTPORT/big:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(resuming at "* ]]
	[[ "$output" == *"Status: Downloaded newer image"* ]]
	got=$(blob_bytes_since "sha256:$hex" "$mark")
	echo "partial $have of $size bytes; the second pull fetched $got" >&2
	[ "$got" -gt 0 ]
	[ "$got" -le $((size - have + size / 10)) ]
	# A Range request answered 206.
	tail -n +"$((mark + 1))" "$REG_DIR/basic/log" | grep "blobs/sha256:$hex " | grep -q '" 206 '
	[ ! -e "$partial" ]
	[ "$(id -u)" = 0 ] || skip "checking the content needs root"
	run "$BERTH" run --rm "$REG_HOSTPORT/big:1" sh -c 'wc -c </srv/big'
	[ "$status" -eq 0 ]
	[ "$output" = "$size" ]
}

@test "a link that drops every connection mid-blob, more often than the retry limit: each drop resumes with Range, the pull completes" {
	mark=$(log_lines)
	run "$BERTH" pull "$CUT_HOSTPORT/big:1"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Status: Downloaded newer image"* ]]
	# Each reconnect asked for the rest of the blob only (Range, answered 206): the bytes left
	# after a drop are what the next connection had to send, so nothing came twice.
	tail -n +"$((mark + 1))" "$REG_DIR/basic/log" | grep '/blobs/sha256:' | grep -q '" 206 '
	echo "$output" | "$REG_PY" -c '
import re, sys
drops = [(int(a), int(b)) for a, b in re.findall(r"closed the connection after (\d+) of (\d+) bytes", sys.stdin.read())]
assert len(drops) >= 5, drops  # more than REG_RETRIES: progress resets the count
for (got, want), (_, rest) in zip(drops, drops[1:]):
    assert rest == want - got, (got, want, rest)
'
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
	run "$BERTH" run --rm "$CUT_HOSTPORT/big:1" sh -c 'wc -c </srv/big'
	[ "$output" = $((BIG_MB * 1024 * 1024)) ]
}

@test "a wrong password is a clear error and writes nothing" {
	"$BERTH" pull -q "$REG_HOSTPORT/app:1" >/dev/null
	before=$(snapshot_root)
	write_conf wrong-password
	run "$BERTH" pull "$REG_HOSTPORT/app:oci"
	[ "$status" -eq 2 ]
	[[ "$output" == *"registry \`$REG_HOSTPORT\` refused user \`$REG_USER\`"* ]]
	[[ "$output" == *"password"* ]]
	[ "$(snapshot_root)" = "$before" ]
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
}

@test "an unknown tag is a clear 404 error" {
	run "$BERTH" pull "$REG_HOSTPORT/app:nope"
	[ "$status" -eq 1 ]
	[[ "$output" == *"manifest for \`$REG_HOSTPORT/app:nope\` not found"* ]]
	[[ "$output" == *"404"* ]]
	run "$BERTH" images -q
	[ -z "$output" ]
}

@test "trust policy require without a signature refuses before any layer is fetched" {
	(cd "$TMP" && "$BERTH" keygen >/dev/null)
	printf '[trust "%s/app"]\npolicy = require\npublic-key = %s\n' "$REG_HOSTPORT" \
		"$TMP/cosign.pub" >>"$BERTH_CONFIG"
	mark=$(log_lines)
	run "$BERTH" pull "$REG_HOSTPORT/app:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refused"* ]]
	[[ "$output" == *"app"* ]]
	[[ "$output" != *"Downloading"* ]]
	# No blob asked for, none on flash, nothing named.
	! tail -n +"$((mark + 1))" "$REG_DIR/basic/log" | grep -q '"GET /v2/app/blobs/'
	[ -z "$(ls -A "$BERTH_ROOT/blobs/sha256" 2>/dev/null)" ]
	[ -z "$(ls -A "$BERTH_ROOT/tmp" 2>/dev/null)" ]
	[ -z "$(ls -A "$BERTH_ROOT/layers" 2>/dev/null)" ]
	run "$BERTH" images -q
	[ -z "$output" ]
}

@test "trust policy warn without a signature pulls with a warning" {
	(cd "$TMP" && "$BERTH" keygen >/dev/null)
	printf '[trust "%s/app"]\npolicy = warn\npublic-key = %s\n' "$REG_HOSTPORT" \
		"$TMP/cosign.pub" >>"$BERTH_CONFIG"
	run "$BERTH" pull "$REG_HOSTPORT/app:1"
	[ "$status" -eq 0 ]
	[[ "$output" == *"warn"* ]]
	[[ "$output" == *"Status: Downloaded newer image for $REG_HOSTPORT/app:1"* ]]
}

@test "429 with Retry-After: the pull waits as told, then asks again" {
	run "$BERTH" pull "$BUSY_HOSTPORT/app:1"
	[ "$status" -eq 1 ]
	[[ "$output" == *"HTTP 429"* ]]
	[[ "$output" == *"retrying in 2.0 s"* ]]
	[[ "$output" == *"not found"* ]]
	[ "$(wc -l <"$REG_DIR/busy.log")" -eq 2 ]
	awk 'NR == 1 { t = $1 } NR == 2 { exit !($1 - t >= 1.9) }' "$REG_DIR/busy.log"
}

@test "a registry that refuses connections: bounded retries with backoff, then a clear error" {
	port=$(reg_free_port)
	start=$(date +%s)
	run "$BERTH" pull "127.0.0.1:$port/app:1"
	[ "$status" -eq 125 ]
	[[ "$output" == *"127.0.0.1"* ]]
	[[ "$output" == *"gave up after 5 attempts"* ]]
	[ "$(grep -c 'retrying in' <<<"$output")" -eq 4 ]
	[ $(($(date +%s) - start)) -lt 20 ]
}

@test "an index resolves to this board's platform; --platform picks another" {
	run "$BERTH" pull "$REG_HOSTPORT/app:multi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Digest: $MULTI_DIGEST"* ]]
	run "$BERTH" image inspect "$REG_HOSTPORT/app:multi"
	[ "$status" -eq 0 ]
	[[ "$output" != *'"s390x"'* ]]
	run "$BERTH" pull --platform linux/s390x "$REG_HOSTPORT/app:multi"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Status: Downloaded newer image for $REG_HOSTPORT/app:multi"* ]]
	run "$BERTH" image inspect "$REG_HOSTPORT/app:multi"
	[ "$status" -eq 0 ]
	[[ "$output" == *'"Architecture": "s390x"'* ]]
}

@test "--platform that the image does not offer is a clear error and writes nothing" {
	run "$BERTH" pull --platform linux/mips64le "$REG_HOSTPORT/app:multi"
	[ "$status" -ne 0 ]
	[[ "$output" == *"s390x"* ]]
	run "$BERTH" pull --platform linux/s390x "$REG_HOSTPORT/app:1"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not linux/s390x"* ]]
	[ -z "$(ls -A "$BERTH_ROOT/layers" 2>/dev/null)" ]
	run "$BERTH" images -q
	[ -z "$output" ]
}

@test "a data root too small for the layers is refused before downloading, naming the sizes" {
	require_root
	mkdir -p "$TMP/small"
	mount -t tmpfs -o size=24m tmpfs "$TMP/small" || skip "cannot mount a tmpfs here"
	export BERTH_ROOT=$TMP/small/root
	run "$BERTH" pull "$REG_HOSTPORT/big:1"
	partials=$(find "$BERTH_ROOT" -name '*.partial' | wc -l)
	umount "$TMP/small"
	[ "$status" -ne 0 ]
	[[ "$output" == *"not enough space on \`$TMP/small/root\`"* ]]
	[[ "$output" == *"MB is free"* ]]
	[ "$partials" -eq 0 ]
}
