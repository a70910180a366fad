#!/usr/bin/env bash
# `make demo`: the appliance in QEMU. berth is PID 1 on Debian's cloud kernel with an empty
# flash image as its data partition; it pulls a signed busybox image from a real registry
# that this script runs on the host's 127.0.0.1:5000 (the guest reaches it as 10.0.2.2:5000,
# over TLS with a CA and a password made here), runs the example apps of
# rootfs/etc/berth/apps, prints `berth status` and `berth ps` on the serial console and
# powers off. The registry stops with the demo.
#
# Usage: scripts/demo.sh      (as root; installs what it needs through scripts/deps.sh)
# Env: DEMO_APPS (default rootfs/etc/berth/apps), DEMO_TIMEOUT (seconds, default 600),
#      BUILD (default build/), KEEP=1 keeps build/demo/ afterwards.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$here/build}
export BUILD
apps=${DEMO_APPS:-$here/rootfs/etc/berth/apps}
timeout=${DEMO_TIMEOUT:-600}
work=$BUILD/demo
port=5000
name=berth/busybox:demo

say() { printf '\n=== demo: %s\n' "$*"; }
die() {
	echo "demo: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and boots QEMU)"
compgen -G "$apps/*.conf" >/dev/null || die "no app files in $apps"

say "dependencies (scripts/deps.sh) and a static build"
"$here/scripts/deps.sh"
make -C "$here" -s -j2 STATIC=1 O="$BUILD/static" "$BUILD/static/berth"
berth=$BUILD/static/berth

rm -rf "$work"
mkdir -p "$work/etc/apps" "$work/host"
cleanup() {
	"$here/scripts/registry.sh" stop "$work/registry" || true
	[ "${KEEP:-0}" = 1 ] || rm -rf "$work/host" "$work/registry" "$work/initrd.gz" "$work/flash.img"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "registry on 127.0.0.1:$port (TLS, htpasswd), reached from the guest as 10.0.2.2:$port"
mkdir -p "$work/registry"
"$here/scripts/registry.sh" start "$work/registry" --port "$port" --san IP:10.0.2.2 >/dev/null
user=${REG_USER:-berth} pass=${REG_PASS:-s3cret-pass}

say "a busybox image, pushed as 127.0.0.1:$port/$name and signed with a demo key"
"$here/scripts/mktestimage.sh" "$work/host/busybox.tar" "$name"
cat >"$work/host/berth.conf" <<EOF
[registry "127.0.0.1:$port"]
username = $user
password = $pass
ca-file = $work/registry/ca.crt
EOF
hb() { "$berth" --config "$work/host/berth.conf" --root "$work/host/root" --run-dir "$work/host/run" "$@"; }
hb load -q -i "$work/host/busybox.tar" >/dev/null
hb tag "$name" "127.0.0.1:$port/$name"
hb push "127.0.0.1:$port/$name"
hb keygen --output-key-prefix "$work/host/demo" >/dev/null
hb sign --key "$work/host/demo.key" "127.0.0.1:$port/$name"

say "the guest: berth as /init, $(ls "$apps"/*.conf | wc -l) apps from ${apps#"$here"/}, an empty flash"
cp "$apps"/*.conf "$work/etc/apps/"
cp "$work/registry/ca.crt" "$work/etc/registry-ca.crt"
cp "$work/host/demo.pub" "$work/etc/demo.pub"
cat >"$work/etc/berth.conf" <<EOF
# The demo board's berth.conf (made by scripts/demo.sh).
[daemon]
data-root = /data/berth
log-level = info

[init]
data-device = /dev/vda
sysinit = /etc/init.d/rcS
console-shell = yes
hostname = berth-demo

[registry "10.0.2.2:$port"]
username = $user
password = $pass
ca-file = /etc/berth/registry-ca.crt

[trust "10.0.2.2:$port/berth"]
public-key = /etc/berth/demo.pub
policy = require
EOF
BERTH_BIN=$berth "$here/scripts/mkinitramfs.sh" "$work/initrd.gz" --berth-init "$work/etc"
"$here/scripts/mkflash.sh" "$work/flash.img" 256

# What the technician types on the serial console: wait until every app runs, then look.
n_apps=$(ls "$work/etc/apps"/*.conf | wc -l)
cat >"$work/console.sh" <<EOF
up() { berth status 2>/dev/null | grep -cE ' (running|healthy)'; }
i=0; while [ \$i -lt 300 ] && [ "\$(up)" -lt $n_apps ]; do sleep 1; i=\$((i+1)); done
[ "\$(up)" -ge $n_apps ] && echo "demo: all $n_apps apps are running"
sleep 5
berth images
berth status
berth ps
berth poweroff
EOF

say "booting (serial console below; it powers off by itself)"
rc=0
BERTH_BIN=$berth "$here/scripts/qemu-run.sh" --initrd "$work/initrd.gz" --disk "$work/flash.img" \
	--console-script "$work/console.sh" --timeout "$timeout" | tee "$work/console.log" || rc=$?
log=${work#"$here"/}/console.log
grep -q "^demo: all $n_apps apps are running" "$work/console.log" ||
	die "not every app came up in the guest; see $log"
grep -q 'berth init: powering off' "$work/console.log" && grep -q 'reboot: Power down' "$work/console.log" ||
	die "the guest did not power off cleanly (qemu-run status $rc); see $log"
say "done: $n_apps apps ran from a signed image, and the board powered off cleanly (console log: $log)"
