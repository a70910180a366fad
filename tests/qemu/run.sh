#!/usr/bin/env bash
# Run berth's QEMU guest tests and print TAP on stdout.
#
# Usage: tests/qemu/run.sh [NAME...]
#   NAME is a guest test (tests/qemu/NAME.guest.sh), a host-driven test
#   (tests/qemu/NAME.host.sh) or `harness` (the power-cut self-test). Without
#   names, all guest tests run, then the host-driven ones, then the self-test.
#
# A host-driven test is a bash script run on the host that boots guests itself,
# with berth as PID 1 (tests/qemu/pid1_helpers.bash), and prints TAP on stdout.
#
# Each guest test gets a fresh initramfs, a fresh flash image and a fresh boot.
# Directives read from a guest test's comments (all optional):
#   # qemu-timeout: SECS        per-boot timeout (default $BERTH_QEMU_TIMEOUT or 120)
#   # qemu-add: SRC:DEST        extra file/dir in the initramfs (SRC relative to the
#                               repo, or starting with $BUILD/)
#   # qemu-powercut: REGEX      boot 1 is cut (QEMU killed) when the console matches
#                               REGEX; boot 2 then runs on the same flash image. The
#                               script sees the boot number in $BERTH_BOOT.
# Serial logs are kept in $BUILD/qemu-tests/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export BUILD=${BUILD:-$repo/build}
default_timeout=${BERTH_QEMU_TIMEOUT:-120}
scripts=$repo/scripts
logdir=$BUILD/qemu-tests

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
command -v qemu-system-x86_64 >/dev/null || skip_all "qemu-system-x86_64 not installed"
kdir=${KERNEL_DIR:-$BUILD/kernel}
compgen -G "$kdir/boot/vmlinuz-*" >/dev/null || skip_all "no guest kernel in $kdir (run scripts/deps.sh)"
reason=$("$scripts/mkinitramfs.sh" --check 2>&1) || skip_all "$reason"

names=()
if [ $# -eq 0 ]; then
	for f in "$here"/*.guest.sh; do
		[ -e "$f" ] || continue
		f=${f##*/}
		names+=("${f%.guest.sh}")
	done
	for f in "$here"/*.host.sh; do
		[ -e "$f" ] || continue
		f=${f##*/}
		names+=("${f%.host.sh}")
	done
	names+=(harness)
else
	for a in "$@"; do
		a=${a##*/}
		a=${a%.guest.sh}
		a=${a%.host.sh}
		if [ "$a" != harness ] && [ ! -f "$here/$a.guest.sh" ] && [ ! -f "$here/$a.host.sh" ]; then
			echo "qemu tests: no such test: $here/$a.guest.sh or .host.sh" >&2
			exit 2
		fi
		names+=("$a")
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-qemu-tests.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$logdir"

tap=()
failed_tests=()
# Append one TAP result line (numbered when printed).
result() {
	tap+=("$1")
}
fail_diag() {
	local name=$1
	shift
	failed_tests+=("$name")
	{
		echo "qemu test $name failed; serial logs:"
		local l
		for l in "$@"; do
			[ -f "$l" ] || continue
			echo "== $l (last 40 lines)"
			tail -n 40 "$l" 2>/dev/null || true
		done
	} >&2
}

# Turn the guest's TAP lines in LOG into results prefixed with the test name;
# sets $n_lines, $n_failed and $plan for the caller.
collect() {
	local name=$1 log=$2 line st rest
	n_lines=0 n_failed=0 plan=''
	while IFS= read -r line; do
		if [[ $line =~ ^1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
		elif [[ $line =~ ^(not\ ok|ok)(\ +[0-9]+)?(\ +-)?\ *(.*)$ ]]; then
			st=${BASH_REMATCH[1]}
			rest=${BASH_REMATCH[4]}
			n_lines=$((n_lines + 1))
			[ "$st" = ok ] || n_failed=$((n_failed + 1))
			case "$rest" in
			'#'*) result "$st - $name $rest" ;;
			*) result "$st - $name: $rest" ;;
			esac
		fi
	done <"$log"
}

# boot LOG ARGS... : one guest boot via qemu-run.sh; sets $rc to its status.
# A guest that prints nothing at all for a minute never got going (a TCG stall on a loaded
# host, before the kernel or init printed a line): it is booted once more, and its log says so.
boot() {
	local log=$1
	rc=0
	"$scripts/qemu-run.sh" --silent-limit 60 --log "$@" || rc=$?
	if [ "$rc" = 75 ]; then
		mv "$log" "$log.silent"
		rc=0
		"$scripts/qemu-run.sh" --silent-limit 60 --log "$@" || rc=$?
		{ echo "run.sh: the first boot printed nothing in 60 s (log: $log.silent); this is the second"; } >>"$log"
	fi
}

describe_rc() {
	case "$1" in
	124) echo "timed out" ;;
	75) echo "the guest printed nothing, twice" ;;
	125) echo "guest setup failed or QEMU ended without the done marker" ;;
	137) echo "power cut" ;;
	*) echo "guest exited with rc=$1" ;;
	esac
}

run_guest_test() {
	local name=$1 script=$here/$1.guest.sh work=$tmp/$1 timeout powercut src dest rc logs=()
	local adds=() before=${#tap[@]}
	mkdir -p "$work"
	rm -f "$logdir/$name.log" "$logdir/$name".boot*.log
	timeout=$(sed -n 's/^# *qemu-timeout: *//p' "$script" | head -n 1)
	powercut=$(sed -n 's/^# *qemu-powercut: *//p' "$script" | head -n 1)
	while IFS= read -r a; do
		[ -n "$a" ] || continue
		src=${a%:*}
		dest=${a##*:}
		# shellcheck disable=SC2016  # a literal $BUILD/ prefix in the directive
		case "$src" in
		'$BUILD'/*) src=$BUILD/${src#\$BUILD/} ;;
		/*) ;;
		*) src=$repo/$src ;;
		esac
		adds+=(--add "$src:$dest")
	done < <(sed -n 's/^# *qemu-add: *//p' "$script")

	if ! "$scripts/mkinitramfs.sh" "$work/initrd.gz" --guest-script "$script" ${adds[@]+"${adds[@]}"} 2>"$work/build.err" ||
		! "$scripts/mkflash.sh" "$work/flash.img" 2>>"$work/build.err"; then
		result "not ok - $name: cannot build initramfs or flash image"
		fail_diag "$name" "$work/build.err"
		return
	fi
	local run=("--initrd" "$work/initrd.gz" "--disk" "$work/flash.img" "--timeout" "${timeout:-$default_timeout}")

	local bad=0
	if [ -n "$powercut" ]; then
		logs=("$logdir/$name.boot1.log" "$logdir/$name.boot2.log")
		boot "${logs[0]}" "${run[@]}" --kill-on "$powercut" --append berth.boot=1
		collect "$name" "${logs[0]}"
		if [ "$rc" != 137 ]; then
			result "not ok - $name: power cut point /$powercut/ not reached ($(describe_rc "$rc"))"
			bad=1
		fi
		[ "$n_failed" = 0 ] || bad=1
		if [ "$rc" = 137 ]; then
			boot "${logs[1]}" "${run[@]}" --append berth.boot=2
			collect "$name" "${logs[1]}"
			check_boot "$name" "$rc" || bad=1
		fi
	else
		logs=("$logdir/$name.log")
		boot "${logs[0]}" "${run[@]}"
		collect "$name" "${logs[0]}"
		check_boot "$name" "$rc" || bad=1
	fi
	[ "${#tap[@]}" -gt "$before" ] || { result "not ok - $name: no TAP output"; bad=1; }
	[ "$bad" = 0 ] || fail_diag "$name" "${logs[@]}"
}

# Judge a completed boot from its status and the counts left by collect().
check_boot() {
	local name=$1 rc=$2 ok=0
	if [ -n "$plan" ] && [ "$plan" != "$n_lines" ]; then
		result "not ok - $name: planned $plan assertions, saw $n_lines"
		ok=1
	fi
	if [ "$rc" != 0 ]; then
		# Failures the guest already reported count once; otherwise say why the boot failed.
		if [ "$n_failed" = 0 ] || [ "$rc" -ge 124 ]; then
			result "not ok - $name: $(describe_rc "$rc")"
		fi
		ok=1
	fi
	[ "$n_failed" = 0 ] || ok=1
	return "$ok"
}

# Host-side self-test: --kill-on must cut the power at the marker and leave the flash image.
run_harness_test() {
	local work=$tmp/harness log=$logdir/harness-powercut.log rc size
	local desc="harness: power cut kills QEMU at the chosen moment"
	mkdir -p "$work"
	printf '%s\n' 'sync' 'echo BERTH-POWERCUT-POINT' 'sleep 600' 'echo "not ok 1 - still running after the power cut"' >"$work/guest.sh"
	if ! "$scripts/mkinitramfs.sh" "$work/initrd.gz" --guest-script "$work/guest.sh" 2>"$work/build.err" ||
		! "$scripts/mkflash.sh" "$work/flash.img" 2>>"$work/build.err"; then
		result "not ok - $desc # cannot build initramfs or flash image"
		fail_diag harness "$work/build.err"
		return
	fi
	size=$(stat -c %s "$work/flash.img")
	boot "$log" --initrd "$work/initrd.gz" --disk "$work/flash.img" \
		--timeout "$default_timeout" --kill-on BERTH-POWERCUT-POINT
	if [ "$rc" = 137 ] && grep -q '^BERTH-POWERCUT-POINT' "$log" && ! grep -q 'BERTH-GUEST-DONE' "$log" &&
		[ -f "$work/flash.img" ] && [ "$(stat -c %s "$work/flash.img")" = "$size" ]; then
		result "ok - $desc"
	else
		result "not ok - $desc (rc=$rc)"
		fail_diag harness "$log"
	fi
}

# A host-driven test: its stdout is TAP; its serial logs are $logdir/NAME*.log.
run_host_test() {
	local name=$1 work=$tmp/$1 rc=0 before=${#tap[@]} bad=0
	mkdir -p "$work"
	rm -f "$logdir/$name".*log
	REPO=$repo QEMU_LOGDIR=$logdir QEMU_WORK=$work QEMU_TEST=$name BERTH_QEMU_TIMEOUT=$default_timeout \
		bash "$here/$name.host.sh" >"$work/tap" 2>"$work/err" || rc=$?
	collect "$name" "$work/tap"
	if [ -n "$plan" ] && [ "$plan" != "$n_lines" ]; then
		result "not ok - $name: planned $plan assertions, saw $n_lines"
		bad=1
	fi
	if [ "$rc" != 0 ] && [ "$n_failed" = 0 ]; then
		result "not ok - $name: exited with status $rc"
		bad=1
	fi
	[ "$n_failed" = 0 ] || bad=1
	[ "${#tap[@]}" -gt "$before" ] || { result "not ok - $name: no TAP output"; bad=1; }
	[ "$bad" = 0 ] || fail_diag "$name" "$work/err" "$logdir/$name".*log
}

for name in "${names[@]}"; do
	if [ "$name" = harness ]; then
		run_harness_test
	elif [ -f "$here/$name.host.sh" ]; then
		run_host_test "$name"
	else
		run_guest_test "$name"
	fi
done

# The plan goes first, so results are buffered and numbered here.
echo "1..${#tap[@]}"
i=0
for line in "${tap[@]}"; do
	i=$((i + 1))
	case "$line" in
	'not ok '*) echo "not ok $i ${line#not ok }" ;;
	*) echo "ok $i ${line#ok }" ;;
	esac
done
[ "${#failed_tests[@]}" = 0 ]
