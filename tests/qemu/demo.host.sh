#!/usr/bin/env bash
# `make demo` as a test: berth as PID 1 pulls the signed demo image from the registry that
# scripts/demo.sh starts on the host's 127.0.0.1:5000, runs the example apps of
# rootfs/etc/berth/apps, prints `berth status` and `berth ps` on the console, and powers off
# when told, the apps ending on the stop signal rather than by the stop timeout's SIGKILL.
# The supervisor lives through several quiet spells on the way, when it hands its code pages
# back to the kernel (on an initramfs root it must leave them alone). Run by tests/qemu/run.sh.
set -uo pipefail

REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=tests/qemu/pid1_helpers.bash
. "$REPO/tests/qemu/pid1_helpers.bash"

echo "1..6"
if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then
	for i in 1 2 3 4 5 6; do skip "127.0.0.1:5000 is in use; the demo's registry needs it"; done
	exit 0
fi
log=$QEMU_LOGDIR/demo.log
console=$BUILD/demo/console.log
rc=0
DEMO_TIMEOUT=${BERTH_QEMU_TIMEOUT:-180} BUILD=$BUILD "$REPO/scripts/demo.sh" >"$log" 2>&1 || rc=$?
cp "$console" "$QEMU_LOGDIR/demo.console.log" 2>/dev/null || true

[ "$rc" = 0 ] && ok "make demo ends with success" ||
	not_ok "scripts/demo.sh exited with $rc (see $log)"
grep -q 'signature verified' "$console" && ok "the image's signature was verified on the board" ||
	not_ok "no signature verification on the console"
grep -q '^demo: all 2 apps are running' "$console" && ok "both example apps came up" ||
	not_ok "the example apps did not all come up"
grep -qE 'hello +.*(running|healthy)' "$console" && grep -qE 'web +.*(running|healthy)' "$console" &&
	ok "berth status on the console lists hello and web" ||
	not_ok "berth status did not list both apps"
grep -q 'web: exited with 0' "$console" && grep -q 'hello: exited with 0' "$console" &&
	! grep -q 'did not stop within' "$console" &&
	ok "at poweroff both apps end on the stop signal, none needs SIGKILL" ||
	not_ok "an app did not end on the stop signal"
grep -q 'reboot: Power down' "$console" && ok "the board powers off cleanly" ||
	not_ok "no clean power-off"
exit 0
