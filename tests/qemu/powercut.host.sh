#!/usr/bin/env bash
# Power cuts with berth as PID 1: QEMU is killed 10 times at random moments while an app
# writes and fsyncs a counter to its volume and while an image is being pulled from a real
# registry on the host (reached as 10.0.2.2, TLS and a password). After each cut the next
# boot checks, on the serial console, that `berth store verify` is clean, that the counter on
# flash is at least the last value the app reported as fsynced, and that the app is back.
# A last boot finishes the pull. Run by tests/qemu/run.sh.
set -uo pipefail
. "$(dirname "$0")/pid1_helpers.bash"
pid1_require
QEMU_TIMEOUT=300
CUTS=${BERTH_POWERCUTS:-10}

if ! "$BERTH_BIN" help daemon >/dev/null 2>&1; then
	echo "1..0 # SKIP no supervisor (berth daemon) in this build: no apps to cut under"
	exit 0
fi
image=$BUILD/qemu-images/app.tar
if [ ! -f "$image" ]; then
	mkdir -p "$(dirname "$image")"
	"$scripts/mktestimage.sh" "$image" app:1 >&2 || { echo "1..0 # SKIP cannot make the test image"; exit 0; }
fi

etc=$QEMU_WORK/etc
mkdir -p "$etc/apps"
cat >"$etc/berth.conf" <<'CONF'
[daemon]
data-root = /data/berth
[init]
data-device = /dev/vda
sysinit = /etc/init.d/rcS
console-shell = yes
CONF
# The writer: write the next value, fsync, rename over the counter, fsync the directory (sync
# does both), and only then say so on the console.
cat >"$etc/apps/writer.conf" <<'APP'
[app]
image = app:1
entrypoint = sh
command = ["-c", "i=$(cat /w/n 2>/dev/null || echo 0); while :; do i=$((i+1)); echo $i >/w/n.tmp; sync; mv /w/n.tmp /w/n; sync; echo FSYNCED $i; sleep 0.3; done"]
volumes = wdata:/w
restart = always
console = yes
APP

# A registry with an image big enough that a pull is under way when the power goes.
pull_ref=
reg=$QEMU_WORK/registry
cleanup_reg() { "$scripts/registry.sh" stop "$reg" >/dev/null 2>&1 || true; }
trap 'cleanup_reg; rm -rf "$QEMU_WORK/host"' EXIT
if command -v docker-registry >/dev/null && command -v umoci >/dev/null; then
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	mkdir -p "$reg" "$QEMU_WORK/host"
	if "$scripts/registry.sh" start "$reg" --port "$port" --san IP:10.0.2.2 >/dev/null &&
		BIG_MB=24 "$scripts/mktestimage.sh" "$QEMU_WORK/host/big.tar" big:1 >&2; then
		printf '[registry "127.0.0.1:%s"]\nusername = berth\npassword = s3cret-pass\nca-file = %s\n' \
			"$port" "$reg/ca.crt" >"$QEMU_WORK/host/berth.conf"
		hb() { "$BERTH_BIN" --config "$QEMU_WORK/host/berth.conf" --root "$QEMU_WORK/host/root" \
			--run-dir "$QEMU_WORK/host/run" "$@"; }
		if hb load -q -i "$QEMU_WORK/host/big.tar" >/dev/null && hb tag big:1 "127.0.0.1:$port/big:1" &&
			hb push -q "127.0.0.1:$port/big:1" >&2; then
			pull_ref=10.0.2.2:$port/big:1
			cp "$reg/ca.crt" "$etc/registry-ca.crt"
			printf '[registry "10.0.2.2:%s"]\nusername = berth\npassword = s3cret-pass\nca-file = /etc/berth/registry-ca.crt\n' \
				"$port" >>"$etc/berth.conf"
		fi
	fi
fi

if ! pid1_initrd "$QEMU_WORK/initrd.gz" "$etc" >&2 || ! pid1_flash "$QEMU_WORK/flash.img" "$image" >&2; then
	not_ok "build the initramfs and the flash image with the app image"
	pid1_done
fi
[ -n "$pull_ref" ] || skip "no registry or image to pull from the host: power cuts hit the writer only"

helpers=(
	'ok() { echo "ok - $*"; }; no() { echo "not ok - $*"; }'
	't() { d=$1; shift; if "$@"; then ok "$d"; else no "$d"; fi; }'
	'w() { i=0; while [ $i -lt 60 ]; do "$@" && return 0; sleep 1; i=$((i+1)); done; return 1; }'
	'st() { berth status 2>/dev/null | grep -q "^ *$1 .*$2"; }'
	'n() { cat /data/berth/volumes/wdata/_data/n 2>/dev/null || echo -1; }'
)

acked=0
for cut in $(seq 1 "$CUTS"); do
	# A random moment: 0.5 to 5 s after the writer is back and the pull has started.
	pause=$((RANDOM % 45 + 5))
	{
		printf '%s\n' "${helpers[@]}"
		if [ "$cut" -gt 1 ]; then
			printf '%s\n' "t \"after cut $((cut - 1)): berth store verify is clean\" berth store verify"
			printf '%s\n' "t \"after cut $((cut - 1)): the counter on flash (\$(n)) is at least the last fsynced one ($acked)\" [ \"\$(n)\" -ge $acked ]"
		fi
		printf '%s\n' "t \"boot $cut: the writer app is running\" w st writer running"
		if [ -n "$pull_ref" ]; then
			printf '%s\n' "berth rmi $pull_ref >/dev/null 2>&1; berth pull -q $pull_ref >/dev/null 2>&1 &"
		fi
		printf '%s\n' "sleep $((pause / 10)).$((pause % 10)); echo BERTH-POWERCUT-POINT"
	} >"$QEMU_WORK/cut$cut.sh"
	pid1_boot "cut$cut" "$QEMU_WORK/cut$cut.sh" --initrd "$QEMU_WORK/initrd.gz" --disk "$QEMU_WORK/flash.img" \
		--kill-on '^BERTH-POWERCUT-POINT'
	relay_guest_tap
	if [ "$rc" != 137 ]; then
		not_ok "boot $cut: the power cut point was reached (qemu-run status $rc)"
		pid1_done
	fi
	last=$(grep -oE 'FSYNCED [0-9]+' "$log" | tail -n 1 | cut -d' ' -f2)
	[ -z "$last" ] || acked=$last
done

{
	printf '%s\n' "${helpers[@]}"
	printf '%s\n' "t \"after cut $CUTS: berth store verify is clean\" berth store verify"
	printf '%s\n' "t \"after cut $CUTS: the counter on flash (\$(n)) is at least the last fsynced one ($acked)\" [ \"\$(n)\" -ge $acked ]"
	printf '%s\n' "t \"after $CUTS cuts: the writer app is back\" w st writer running"
	if [ -n "$pull_ref" ]; then
		printf '%s\n' "t \"after $CUTS cuts: the pull completes\" berth pull -q $pull_ref"
		printf '%s\n' "t \"after the pull: berth store verify is clean\" berth store verify"
	fi
	printf '%s\n' 'berth poweroff'
} >"$QEMU_WORK/final.sh"
pid1_boot final "$QEMU_WORK/final.sh" --initrd "$QEMU_WORK/initrd.gz" --disk "$QEMU_WORK/flash.img"
relay_guest_tap
check "the writer reported fsynced values before the cuts (last: $acked)" [ "$acked" -gt 0 ]
check "the last boot after the cuts powers off cleanly" log_has 'reboot: Power down'
check "PID 1 read the last shutdown as unclean after the cuts" log_has 'berth init: last shutdown: unclean'
pid1_done
