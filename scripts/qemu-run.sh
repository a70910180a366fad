#!/usr/bin/env bash
# Boot berth's QEMU test guest and return the guest's result.
#
# Usage: scripts/qemu-run.sh --initrd F [--disk F] [--timeout SECS] [--log F]
#                            [--kill-on REGEX] [--kill-after SECS] [--append ARGS]
#                            [--kernel F] [--mem MB]
#                            [--console-script F [--prompt REGEX]] [--silent-limit SECS]
#
# Exit status: the N of the guest's `BERTH-GUEST-DONE rc=N` line; 124 on timeout;
# 137 on a deliberate power cut (--kill-on / --kill-after); 125 if QEMU ended
# without the marker; 75 if the guest said nothing at all (past the firmware's
# lines) within --silent-limit SECS, a guest that never got going (seen with TCG
# on a loaded host), which the caller may boot again. The serial console goes to
# --log, or to stdout without it.
#
# --console-script types F's lines on the serial console, as a technician would:
# one line each time the console shows a prompt (REGEX, default `berth# `, the
# prompt of guests made with mkinitramfs.sh --berth-init) after the previous line
# was echoed; the prompt may share its line with other console output (an app
# mirrored to the console). With no BERTH-GUEST-DONE marker, a guest that powers
# off exits 125.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}

usage() {
	sed -n '4,7p' "$0" | sed 's/^# //' >&2
	exit 2
}

initrd='' disk='' log='' kill_on='' kill_after='' append='' kernel='' mem=512 timeout=120 silent_limit=0
console_script='' prompt='berth# '
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || usage
	case "$1" in
	--initrd) initrd=$2 ;;
	--disk) disk=$2 ;;
	--timeout) timeout=$2 ;;
	--log) log=$2 ;;
	--kill-on) kill_on=$2 ;;
	--kill-after) kill_after=$2 ;;
	--append) append=$2 ;;
	--kernel) kernel=$2 ;;
	--mem) mem=$2 ;;
	--console-script) console_script=$2 ;;
	--prompt) prompt=$2 ;;
	--silent-limit) silent_limit=$2 ;;
	*) usage ;;
	esac
	shift 2
done
[ -n "$initrd" ] || usage
[ -f "$initrd" ] || { echo "qemu-run: initramfs not found: $initrd" >&2; exit 2; }
[ -z "$disk" ] || [ -f "$disk" ] || { echo "qemu-run: disk image not found: $disk" >&2; exit 2; }
[ -z "$console_script" ] || [ -f "$console_script" ] ||
	{ echo "qemu-run: console script not found: $console_script" >&2; exit 2; }
if [ -z "$kernel" ]; then
	kernels=("${KERNEL_DIR:-$build/kernel}"/boot/vmlinuz-*)
	kernel=${kernels[0]}
fi
[ -f "$kernel" ] || { echo "qemu-run: kernel not found: $kernel (run scripts/deps.sh)" >&2; exit 2; }

# Seconds (may be fractional) -> milliseconds.
to_ms() {
	local s=$1 int frac
	[[ $s =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "qemu-run: not a number of seconds: $s" >&2; exit 2; }
	int=${s%%.*}
	frac=000
	[[ $s == *.* ]] && frac=${s#*.}000
	echo $((10#$int * 1000 + 10#${frac:0:3}))
}
now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((t / 1000))
}
timeout_ms=$(to_ms "$timeout")
silent_ms=$(to_ms "$silent_limit")
kill_after_ms=
[ -z "$kill_after" ] || kill_after_ms=$(to_ms "$kill_after")

cmdline="console=ttyS0 panic=-1 quiet"
[ -z "$disk" ] || cmdline+=" berth.disk=1"
[ -z "$append" ] || cmdline+=" $append"

# No network boot ROM: the guest boots straight from -kernel. `-cpu max` gives the guest
# RDRAND, as boards have a hardware RNG: the kernel's random pool is ready at boot instead of
# a second later (/proc/sys/kernel/random/boot_id and getrandom wait for it).
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp 2 -nographic -no-reboot
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-netdev 'user,id=n0' -device 'virtio-net-pci,netdev=n0,romfile=')
[ -z "$disk" ] || qemu+=(-drive "file=$disk,format=raw,if=virtio")

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-qemu.XXXXXX")
qpid=''
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	# Never leave a QEMU behind, whatever way we leave.
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill -9 "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	exec 3<&- 2>/dev/null || true
	exec 5>&- 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# QEMU writes the console into a FIFO that we read line by line, so the power
# cut happens the moment the chosen line appears.
mkfifo "$tmp/console"
typed=()
if [ -n "$console_script" ]; then
	mapfile -t typed <"$console_script"
	mkfifo "$tmp/input"
	"${qemu[@]}" <"$tmp/input" >"$tmp/console" 2>&1 &
	qpid=$!
	# Held open for the whole boot: QEMU must not see EOF on the serial line.
	exec 5>"$tmp/input"
else
	"${qemu[@]}" </dev/null >"$tmp/console" 2>&1 &
	qpid=$!
fi
exec 3<"$tmp/console"

if [ -n "$log" ]; then
	: >"$log"
	exec 4>>"$log"
else
	exec 4>&1
fi

start=$(now_ms)
result=''
buf=''
next_typed=0
echoed=1  # the previous typed line came back, so the next prompt is a new one
# type_next TEXT: type the next script line if TEXT shows a new prompt.
type_next() {
	if [ "$echoed" = 1 ] && [ "$next_typed" -lt ${#typed[@]} ] && [[ $1 =~ $prompt ]]; then
		printf '%s\n' "${typed[$next_typed]}" >&5
		next_typed=$((next_typed + 1))
		echoed=0
	fi
}
spoke=0 # has the guest (not the firmware) printed a line yet?
emit() {
	local line=${1%$'\r'} bare
	printf '%s\n' "$line" >&4
	if [ "$spoke" = 0 ]; then
		bare=$(printf '%s' "$line" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g')
		[[ $bare =~ [[:alnum:]] && ! $bare =~ SeaBIOS|Booting\ from ]] && spoke=1
	fi
	if [ -n "$kill_on" ] && [ -z "$result" ] && [[ $line =~ $kill_on ]]; then
		kill -9 "$qpid" 2>/dev/null || true
		result=137
	elif [ -z "$result" ] && [[ $line =~ BERTH-GUEST-DONE\ rc=([0-9]+) ]]; then
		result=${BASH_REMATCH[1]}
	fi
}
while :; do
	line=''
	if IFS= read -r -t 0.2 -u 3 line; then
		emit "$buf$line"
		# The first line after typing is its echo, whose prompt is the old one.
		if [ "$echoed" = 0 ]; then
			echoed=1
		else
			type_next "$buf$line"
		fi
		buf=
		[ "$result" != 137 ] || break
		continue
	else
		st=$?
		if [ "$st" -le 128 ]; then
			# EOF: QEMU has exited.
			[ -z "$buf$line" ] || emit "$buf$line"
			break
		fi
		# Timed out mid-line: keep what we have for the next read.
		buf+=$line
		type_next "$buf"
	fi
	elapsed=$(($(now_ms) - start))
	if [ -n "$kill_after_ms" ] && [ -z "$result" ] && [ "$elapsed" -ge "$kill_after_ms" ]; then
		kill -9 "$qpid" 2>/dev/null || true
		result=137
		break
	fi
	if [ "$spoke" = 0 ] && [ "$silent_ms" -gt 0 ] && [ "$elapsed" -ge "$silent_ms" ]; then
		echo "qemu-run: the guest said nothing in ${silent_limit}s, killing QEMU" >&4
		kill -9 "$qpid" 2>/dev/null || true
		result=75
		break
	fi
	if [ "$elapsed" -ge "$timeout_ms" ]; then
		[ -n "$buf" ] && printf '%s\n' "${buf%$'\r'}" >&4
		echo "qemu-run: timeout after ${timeout}s, killing QEMU" >&4
		kill -9 "$qpid" 2>/dev/null || true
		# The guest's verdict stands if it already printed the marker but did not power off.
		[ -n "$result" ] || result=124
		break
	fi
done
wait "$qpid" 2>/dev/null || true
qpid=''
exit "${result:-125}"
