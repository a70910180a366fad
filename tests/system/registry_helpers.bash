# Real registries for system tests: Debian's docker-registry on 127.0.0.1 with TLS from a test CA,
# either with htpasswd (Basic) or token auth backed by a small python3 token server, plus tiny
# python3 fixtures (redirector, header recorder, stalling server). Everything runs in the
# background under $REG_DIR and is stopped by reg_stop_all, even when a test fails.
#
# Use from a .bats file:
#   load registry_helpers
#   setup_file() { reg_require; reg_setup_dir; reg_make_certs; reg_start_basic; }
#   teardown_file() { reg_stop_all; }
# Afterwards: $REG_URL (https://127.0.0.1:PORT), $REG_HOSTPORT, $REG_CA, $REG_USER, $REG_PASS;
# reg_start_token sets $TOKEN_REG_URL, $TOKEN_REG_HOSTPORT, $TOKEN_URL, $TOKEN_LOG.

REG_USER=${REG_USER:-berth}
REG_PASS=${REG_PASS:-s3cret-pass}
REG_PY=${REG_PY:-/usr/bin/python3}
[ -x "$REG_PY" ] || REG_PY=python3

# Skip (with the reason) unless the tools are installed.
reg_require() {
	command -v docker-registry >/dev/null || skip "docker-registry is not installed (scripts/deps.sh)"
	command -v openssl >/dev/null || skip "openssl is not installed"
	command -v "$REG_PY" >/dev/null || skip "python3 is not installed"
	command -v htpasswd >/dev/null || skip "htpasswd is not installed (apache2-utils)"
	command -v curl >/dev/null || skip "curl is not installed"
}

reg_setup_dir() {
	REG_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/berth-reg.XXXXXX")
	export REG_DIR
	: >"$REG_DIR/pids"
}

# A port nobody listens on now: bind port 0 and report what the kernel picked.
reg_free_port() {
	"$REG_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# CA, server cert (SAN IP:127.0.0.1, DNS:localhost), a second unrelated CA, and the token
# signing key with its self-signed cert (the registry's rootcertbundle).
reg_make_certs() {
	local d=$REG_DIR/certs
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" \
			-keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
			-keyout other.key -out other.crt -addext basicConstraints=critical,CA:TRUE
		openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" \
			-keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.crt
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth token signer" \
			-keyout token.key -out token.crt
	) >"$REG_DIR/certs.log" 2>&1 || { cat "$REG_DIR/certs.log"; return 1; }
	export REG_CA=$d/ca.crt REG_OTHER_CA=$d/other.crt
}

# Start a command in the background, remember its pid for reg_stop_all.
reg_spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 3>&- &
	echo $! >>"$REG_DIR/pids"
	echo $!
}

# Wait until something accepts TCP connections on 127.0.0.1:$1 (up to 10 s).
reg_wait_port() {
	local port=$1 i
	for i in $(seq 1 100); do
		if "$REG_PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$port" 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	echo "nothing listens on 127.0.0.1:$port after 10 s" >&2
	return 1
}

# reg_write_config NAME PORT AUTH_YAML: a registry config with TLS and the given auth section.
reg_write_config() {
	local name=$1 port=$2 auth=$3
	mkdir -p "$REG_DIR/$name/data"
	cat >"$REG_DIR/$name/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REG_DIR/$name/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $REG_DIR/certs/server.crt
    key: $REG_DIR/certs/server.key
$auth
EOF
}

# The htpasswd registry: $REG_URL, $REG_HOSTPORT.
reg_start_basic() {
	local port
	port=$(reg_free_port)
	htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$REG_DIR/htpasswd"
	reg_write_config basic "$port" "auth:
  htpasswd:
    realm: berth-test
    path: $REG_DIR/htpasswd"
	reg_spawn "$REG_DIR/basic/log" docker-registry serve "$REG_DIR/basic/config.yml" >/dev/null
	reg_wait_port "$port" || { cat "$REG_DIR/basic/log" >&2; return 1; }
	export REG_HOSTPORT=127.0.0.1:$port
	export REG_URL=https://$REG_HOSTPORT
}

# The token server fixture: issues RS256 JWTs (signed with `openssl dgst`, since python's
# stdlib has no crypto) for any requested scope. With an Authorization header the Basic
# credentials must be $REG_USER/$REG_PASS; without one the token is anonymous. Every request
# line and its Authorization header are appended to $TOKEN_LOG.
reg_write_token_server() {
	cat >"$REG_DIR/token_server.py" <<'EOF'
import base64, json, os, subprocess, sys, time, uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse, parse_qs

port, key, cert, issuer, user, pw, log = sys.argv[1:8]
der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                     capture_output=True, check=True).stdout

def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

def jwt(claims):
    head = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    signing = (b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing,
                         capture_output=True, check=True).stdout
    return signing.decode() + "." + b64(sig)

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        with open(log, "a") as f:
            f.write("%s auth=%s\n" % (self.path, auth))
        q = parse_qs(urlparse(self.path).query)
        sub = ""
        if auth:
            want = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
            if auth != want:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            sub = user
        access = []
        for s in q.get("scope", []):
            parts = s.split(":")
            if len(parts) >= 3:
                acts = parts[-1].split(",")
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": acts})
        now = int(time.time())
        tok = jwt({"iss": issuer, "sub": sub, "aud": q.get("service", [""])[0],
                   "exp": now + 300, "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()),
                   "access": access})
        field = os.environ.get("TOKEN_FIELD", "token")
        body = json.dumps({field: tok, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("127.0.0.1", int(port)), H).serve_forever()
EOF
}

# The token-auth registry and its token server: $TOKEN_REG_URL, $TOKEN_REG_HOSTPORT, $TOKEN_URL.
reg_start_token() {
	local tport rport
	tport=$(reg_free_port)
	rport=$(reg_free_port)
	export TOKEN_URL=http://127.0.0.1:$tport/token TOKEN_LOG=$REG_DIR/token.log
	: >"$TOKEN_LOG"
	reg_write_token_server
	reg_spawn "$REG_DIR/token_server.log" "$REG_PY" "$REG_DIR/token_server.py" "$tport" \
		"$REG_DIR/certs/token.key" "$REG_DIR/certs/token.crt" berth-test-issuer \
		"$REG_USER" "$REG_PASS" "$TOKEN_LOG" >/dev/null
	reg_write_config token "$rport" "auth:
  token:
    realm: $TOKEN_URL
    service: berth-test-registry
    issuer: berth-test-issuer
    rootcertbundle: $REG_DIR/certs/token.crt"
	reg_spawn "$REG_DIR/token/log" docker-registry serve "$REG_DIR/token/config.yml" >/dev/null
	reg_wait_port "$tport" || { cat "$REG_DIR/token_server.log" >&2; return 1; }
	reg_wait_port "$rport" || { cat "$REG_DIR/token/log" >&2; return 1; }
	export TOKEN_REG_HOSTPORT=127.0.0.1:$rport
	export TOKEN_REG_URL=https://$TOKEN_REG_HOSTPORT
}

# reg_push_blob URL REPO FILE [CURL_AUTH...]: upload FILE as a blob (monolithic POST + PUT,
# distribution-spec "Pushing a blob monolithically"); prints its digest.
reg_push_blob() {
	local url=$1 repo=$2 file=$3 digest loc
	shift 3
	digest=sha256:$(sha256sum "$file" | cut -d' ' -f1)
	loc=$(curl -sS --cacert "$REG_CA" "$@" -X POST -D - -o /dev/null \
		"$url/v2/$repo/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	[ -n "$loc" ] || { echo "no upload location from $url" >&2; return 1; }
	case $loc in http*) ;; *) loc=$url$loc ;; esac
	case $loc in *\?*) loc="$loc&digest=$digest" ;; *) loc="$loc?digest=$digest" ;; esac
	curl -sS -f --cacert "$REG_CA" "$@" -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary "@$file" "$loc" >/dev/null || return 1
	echo "$digest"
}

# reg_push_multi: a two-platform OCI index pushed as app:multi to the htpasswd registry,
# which must hold app:oci already (an OCI image; $REG_DIR/img is the scratch dir): a manifest
# whose config says s390x first, then app:oci's manifest for the platform it was built on.
# Made by hand with curl (the distribution-spec's PUT of manifests), since the copy tools push
# one platform at a time. Sets $MULTI_DIGEST.
reg_push_multi() {
	local d=$REG_DIR/img c=(-sS -f --cacert "$REG_CA" -u "$REG_USER:$REG_PASS") mt
	mt=application/vnd.oci.image.manifest.v1+json
	curl "${c[@]}" -H "Accept: $mt" -o "$d/m1.json" "$REG_URL/v2/app/manifests/oci"
	curl "${c[@]}" -L -o "$d/c1.json" "$REG_URL/v2/app/blobs/$("$REG_PY" -c \
		'import json,sys; print(json.load(open(sys.argv[1]))["config"]["digest"])' "$d/m1.json")"
	"$REG_PY" - "$d" <<'PYEOF'
import hashlib, json, sys
d = sys.argv[1]
m1 = open(d + "/m1.json", "rb").read()
host = json.load(open(d + "/c1.json"))
cfg = dict(host, architecture="s390x")
cfg.pop("variant", None)
c2 = json.dumps(cfg).encode()
open(d + "/c2.json", "wb").write(c2)
m = json.loads(m1)
m["config"] = dict(m["config"], digest="sha256:" + hashlib.sha256(c2).hexdigest(), size=len(c2))
m2 = json.dumps(m).encode()
open(d + "/m2.json", "wb").write(m2)
def entry(b, arch, variant):
    p = {"os": "linux", "architecture": arch}
    if variant:
        p["variant"] = variant
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + hashlib.sha256(b).hexdigest(), "size": len(b), "platform": p}
idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
       "manifests": [entry(m2, "s390x", None),
                     entry(m1, host["architecture"], host.get("variant"))]}
open(d + "/index.json", "w").write(json.dumps(idx))
PYEOF
	reg_push_blob "$REG_URL" app "$d/c2.json" -u "$REG_USER:$REG_PASS" >/dev/null
	curl "${c[@]}" -X PUT -H "Content-Type: $mt" --data-binary "@$d/m2.json" \
		"$REG_URL/v2/app/manifests/sha256:$(sha256sum "$d/m2.json" | cut -d' ' -f1)"
	curl "${c[@]}" -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" \
		--data-binary "@$d/index.json" "$REG_URL/v2/app/manifests/multi"
	MULTI_DIGEST=sha256:$(sha256sum "$d/index.json" | cut -d' ' -f1)
	export MULTI_DIGEST
}

# A python3 fixture server: reg_start_fixture NAME MODE [ARG]; prints its port.
#   record:        answers 200 "recorded" and appends each request's headers to $REG_DIR/NAME.log
#   redirect URL:  answers 307 with Location: URL + the request path
#   redirect_self: answers 307 to itself (a redirect loop)
#   stall:         sends a head with Content-Length: 1000000 and 10 bytes, then goes silent
reg_start_fixture() {
	local name=$1 mode=$2 arg=${3:-} port
	port=$(reg_free_port)
	cat >"$REG_DIR/fixture.py" <<'EOF'
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer

port, mode, arg, log = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        with open(log, "a") as f:
            f.write("%s %s\n%s\n" % (self.command, self.path, str(self.headers)))
        if mode.startswith("redirect"):
            self.send_response(307)
            base = "http://127.0.0.1:" + port if mode == "redirect_self" else arg
            self.send_header("Location", base + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "stall":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            time.sleep(60)
        else:
            body = b"recorded\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

HTTPServer(("127.0.0.1", int(port)), H).serve_forever()
EOF
	: >"$REG_DIR/$name.log"
	reg_spawn "$REG_DIR/$name.out" "$REG_PY" "$REG_DIR/fixture.py" "$port" "$mode" "$arg" \
		"$REG_DIR/$name.log" >/dev/null
	reg_wait_port "$port" || return 1
	echo "$port"
}

# Stop everything reg_spawn started, then remove the temp dir.
reg_stop_all() {
	[ -n "${REG_DIR:-}" ] || return 0
	if [ -f "$REG_DIR/pids" ]; then
		local pid
		while read -r pid; do
			kill "$pid" 2>/dev/null
		done <"$REG_DIR/pids"
		while read -r pid; do
			# Wait (up to 5 s) so no process outlives the suite.
			for _ in $(seq 1 50); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -9 "$pid" 2>/dev/null
		done <"$REG_DIR/pids"
	fi
	rm -rf "$REG_DIR"
}
