#!/usr/bin/env bash
# A real registry for demos and benchmarks: Debian's docker-registry on 127.0.0.1 with TLS from
# a CA made here and htpasswd (Basic) auth, as the system tests run it
# (tests/system/registry_helpers.bash).
#
# Usage: scripts/registry.sh start DIR [--port N] [--san IP:A.B.C.D|DNS:NAME]...
#        scripts/registry.sh stop DIR
#
# start makes DIR/ca.crt (the CA to trust), DIR/server.{crt,key} (for 127.0.0.1, localhost and
# every --san, e.g. IP:10.0.2.2 for a QEMU guest), DIR/htpasswd for $REG_USER/$REG_PASS
# (default berth / s3cret-pass), DIR/config.yml, and runs the registry in the background
# (DIR/registry.pid, DIR/registry.log) until `stop`. It prints the registry's host:port.
set -euo pipefail

REG_USER=${REG_USER:-berth}
REG_PASS=${REG_PASS:-s3cret-pass}

die() {
	echo "registry: $*" >&2
	exit 1
}
usage() {
	sed -n '6,7p' "$0" | sed 's/^# //' >&2
	exit 2
}

port_busy() {
	python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$1" 2>/dev/null
}

start() {
	local dir=$1 port=5000 sans='IP:127.0.0.1,DNS:localhost'
	shift
	while [ $# -gt 0 ]; do
		case "$1" in
		--port) [ $# -ge 2 ] || usage; port=$2; shift 2 ;;
		--san) [ $# -ge 2 ] || usage; sans+=",$2"; shift 2 ;;
		*) usage ;;
		esac
	done
	for t in docker-registry openssl htpasswd python3; do
		command -v $t >/dev/null || die "$t is not installed (scripts/deps.sh)"
	done
	port_busy "$port" && die "something already listens on 127.0.0.1:$port; stop it first"
	mkdir -p "$dir/data"
	(
		cd "$dir"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth demo CA" \
			-keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign
		openssl req -new -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$sans" >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile server.ext -out server.crt
	) >"$dir/certs.log" 2>&1 || { cat "$dir/certs.log" >&2; die "cannot make certificates"; }
	htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$dir/htpasswd"
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $dir/server.crt
    key: $dir/server.key
auth:
  htpasswd:
    realm: berth
    path: $dir/htpasswd
EOF
	docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
	echo $! >"$dir/registry.pid"
	for _ in $(seq 1 100); do
		if port_busy "$port"; then
			echo "127.0.0.1:$port"
			return 0
		fi
		kill -0 "$(cat "$dir/registry.pid")" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/registry.log" >&2
	stop "$dir"
	die "the registry did not start on 127.0.0.1:$port"
}

stop() {
	local dir=$1 pid
	[ -f "$dir/registry.pid" ] || return 0
	pid=$(cat "$dir/registry.pid")
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/registry.pid"
}

[ $# -ge 2 ] || usage
cmd=$1
shift
case "$cmd" in
start) start "$@" ;;
stop) stop "$1" ;;
*) usage ;;
esac
