# Helpers for host-driven QEMU tests (tests/qemu/NAME.host.sh) that boot berth as PID 1:
# /init is the static berth, /etc/berth comes from a directory, the flash image is the data
# partition (/dev/vda, filled on the host with `berth load`), and commands are typed on the
# serial console's shell as a technician would (scripts/qemu-run.sh --console-script).
#
# run.sh sets REPO, BUILD, BERTH_BIN, QEMU_LOGDIR, QEMU_WORK and QEMU_TEST. Use:
#   . "$(dirname "$0")/pid1_helpers.bash"
#   pid1_require                          # prints `1..0 # SKIP ...` and exits if it cannot run
#   pid1_initrd "$QEMU_WORK/initrd.gz" ETC_DIR [--add SRC:DEST]...
#   pid1_flash "$QEMU_WORK/flash.img" [IMAGE.tar]...
#   pid1_boot NAME CONSOLE_SCRIPT [qemu-run.sh options]  # $rc, $log (serial log)
# and TAP with ok / not_ok / check / skip, ending with pid1_done.
# shellcheck shell=bash

REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${BUILD:-$REPO/build}
BERTH_BIN=${BERTH_BIN:-$BUILD/berth}
QEMU_LOGDIR=${QEMU_LOGDIR:-$BUILD/qemu-tests}
QEMU_TEST=${QEMU_TEST:-$(basename "$0" .host.sh)}
QEMU_TIMEOUT=${BERTH_QEMU_TIMEOUT:-120}
scripts=$REPO/scripts
if [ -z "${QEMU_WORK:-}" ]; then
	QEMU_WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-pid1.XXXXXX")
	trap 'rm -rf "$QEMU_WORK"' EXIT
fi
mkdir -p "$QEMU_LOGDIR"

tap_n=0
tap_failed=0
ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $*"
}
not_ok() {
	tap_n=$((tap_n + 1))
	echo "not ok $tap_n - $*"
	tap_failed=1
}
skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n # skip $*"
}
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
pid1_done() {
	exit "$tap_failed"
}

pid1_require() {
	local why=
	if ! command -v qemu-system-x86_64 >/dev/null; then
		why="qemu-system-x86_64 not installed"
	elif ! compgen -G "${KERNEL_DIR:-$BUILD/kernel}/boot/vmlinuz-*" >/dev/null; then
		why="no guest kernel (scripts/deps.sh)"
	elif ! why=$(BERTH_BIN=$BERTH_BIN "$scripts/mkinitramfs.sh" --check 2>&1); then
		:
	else
		why=
	fi
	if [ -n "$why" ]; then
		echo "1..0 # SKIP $why"
		exit 0
	fi
}

# pid1_initrd OUT ETC_DIR [--add SRC:DEST]...
pid1_initrd() {
	local out=$1 etc=$2
	shift 2
	BERTH_BIN=$BERTH_BIN "$scripts/mkinitramfs.sh" "$out" --berth-init "$etc" "$@"
}

# pid1_flash OUT [IMAGE.tar]...: a fresh ext4 flash whose data root (/berth on it, /data/berth
# in the guest) already holds the images, loaded on the host.
pid1_flash() {
	local out=$1 d rc=0
	shift
	d=$(mktemp -d "$QEMU_WORK/flashroot.XXXXXX")
	mkdir -p "$d/berth"
	for t in "$@"; do
		"$BERTH_BIN" --root "$d/berth" --run-dir "$d/run" load -q -i "$t" >/dev/null || { rc=1; break; }
	done
	rm -rf "$d/run"
	[ "$rc" = 0 ] && "$scripts/mkflash.sh" "$out" 256 --from "$d" || rc=1
	rm -rf "$d"
	return "$rc"
}

# pid1_boot NAME SCRIPT [qemu-run.sh options]: boot once, typing SCRIPT on the console; the
# serial log is $QEMU_LOGDIR/$QEMU_TEST.NAME.log ($log); qemu-run.sh's status is $rc.
pid1_boot() {
	local name=$1 script=$2
	shift 2
	log=$QEMU_LOGDIR/$QEMU_TEST.$name.log
	rc=0
	"$scripts/qemu-run.sh" --log "$log" --console-script "$script" --timeout "$QEMU_TIMEOUT" "$@" || rc=$?
}

# log_has REGEX [LOG]: does the serial log have a line matching the ERE?
log_has() {
	grep -Eq -- "$1" "${2:-$log}"
}

# Pass the guest's own TAP lines through, renumbered: `ok - desc` / `not ok - desc` lines from
# the console (not the echo of the commands typed, which start with the prompt).
relay_guest_tap() {
	local line
	while IFS= read -r line; do
		line=${line%$'\r'}
		case "$line" in
		'not ok '*) not_ok "${line#not ok - }" ;;
		'ok '*) ok "${line#ok - }" ;;
		esac
	done <"${1:-$log}"
}
