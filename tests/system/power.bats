#!/usr/bin/env bats
# `berth poweroff`, `reboot` and `halt` ask PID 1 with BusyBox init's signals, and refuse a
# PID 1 that reads them differently. Every test runs berth in its own PID namespace (unshare
# --fork --pid --mount-proc), so PID 1 there is a stand-in, never this machine's init. The -f
# path (reboot(2) at once) runs in the QEMU guests only (tests/qemu/pid1.host.sh).

load helpers

setup() {
	require_root
	command -v unshare >/dev/null || skip "unshare is not installed (util-linux)"
	BB=$(command -v busybox) || skip "busybox is not installed (scripts/deps.sh)"
	B=$(readlink -f "$BERTH")
	[ -x "$B" ] || skip "no berth binary at $BERTH: run make"
}

# in_pidns CMD...: CMD as PID 1 of a new PID namespace with its own /proc.
in_pidns() {
	unshare --fork --pid --mount-proc "$@"
}

@test "power: poweroff, reboot and halt send SIGUSR2, SIGTERM and SIGUSR1 to a BusyBox-like PID 1" {
	for pair in poweroff:USR2 reboot:TERM halt:USR1; do
		cmd=${pair%:*} sig=${pair#*:}
		run in_pidns "$BB" sh -c "trap 'echo got-$sig; exit 0' $sig; '$B' $cmd; echo rc=\$?; sleep 5 & wait"
		echo "$cmd: $output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"got-$sig"* ]]
		[[ "$output" != *"rc="* ]]
	done
}

@test "power: a PID 1 that is neither berth nor BusyBox is refused, and says what to do" {
	run in_pidns sh -c "'$B' poweroff; echo rc=\$?"
	echo "$output"
	[[ "$output" == *"PID 1 is \`"*"\`, not berth"* ]]
	[[ "$output" == *"berth poweroff -f"* ]]
	[[ "$output" == *"rc=2"* ]]
}

@test "power: extra arguments are a usage error" {
	run "$B" reboot now
	[ "$status" -eq 2 ]
	[[ "$output" == *"takes no arguments"* ]]
}
