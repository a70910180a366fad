#!/usr/bin/env bats
# `berth check` on the real kernel of this machine: what a technician sees at the console.

BERTH=${BERTH:-$BATS_TEST_DIRNAME/../../build/berth}

setup() {
	[ "$(id -u)" = 0 ] || skip "berth check probes namespaces and netlink only as root"
	[ -x "$BERTH" ] || skip "no berth binary at $BERTH: run make"
	# Short, so storage.root details naming it fit the 80-column line uncut.
	T=$(mktemp -d /tmp/bc.XXXX)
	export BERTH_CONFIG=$T/none.conf   # defaults only, whatever /etc/berth holds
	: >"$BERTH_CONFIG"
}

teardown() {
	[ -n "${T:-}" ] || return 0
	if mountpoint -q "$T/mnt" 2>/dev/null; then
		umount "$T/mnt"
	fi
	rm -rf "$T"
}

# The host's own layout, read independently of berth.
host_cgroup_layout() {
	local v1 v2
	v1=$(awk '$0 ~ / - cgroup / && $NF ~ /(^|,)memory(,|$)/ { print $5 }' /proc/self/mountinfo | head -n 1)
	v2=$(awk '/ - cgroup2 / { print $5 }' /proc/self/mountinfo | head -n 1)
	if [ -n "$v1" ] && [ -n "$v2" ]; then
		echo hybrid
	elif [ -n "$v2" ]; then
		echo v2
	elif [ -n "$v1" ]; then
		echo v1
	else
		echo none
	fi
}

@test "check passes on this host and says so in the summary" {
	run "$BERTH" --root "$T/root" check
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" =~ ^berth\ check:\ [0-9]+\ ok,\ [0-9]+\ warn,\ 0\ missing$ ]]
	# One line per check, in the fixed format: status in 8 columns, name in 23.
	for name in kernel.version ns.mount ns.pid ns.uts ns.ipc ns.net ns.cgroup ns.user \
		security.no_new_privs seccomp fs.overlay fs.squashfs dev.loop cgroup.mode \
		cgroup.memory cgroup.cpu cgroup.cpuset cgroup.pids cgroup.io net.veth net.bridge \
		storage.root; do
		printf '%s\n' "$output" | grep -Eq "^(ok      |warn    |MISSING )$(printf %-22s "$name" | sed 's/\./\\./g') " ||
			{ echo "no line for $name"; false; }
	done
}

@test "check reports the hybrid cgroup layout with memory, cpu and pids on v1" {
	[ "$(host_cgroup_layout)" = hybrid ] || skip "host cgroups are $(host_cgroup_layout), not hybrid"
	run "$BERTH" --root "$T/root" check
	echo "$output"
	[ "$status" -eq 0 ]
	unified=$(awk '/ - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
	printf '%s\n' "$output" | grep -Eq "^ok +cgroup\.mode +hybrid \(v1 \+ cgroup2 at $unified\)$"
	for c in memory cpu pids; do
		mnt=$(awk -v c="$c" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++)
			if (o[i] == c) { print $5; exit } }' /proc/self/mountinfo)
		[ -n "$mnt" ]
		printf '%s\n' "$output" | grep -Fqx "$(printf 'ok      %-22s v1 (%s)' "cgroup.$c" "$mnt")" ||
			{ echo "cgroup.$c is not reported on v1 at $mnt"; false; }
	done
}

@test "check reports cgroup v2 controllers on a cgroup2-only host" {
	[ "$(host_cgroup_layout)" = v2 ] || skip "host cgroups are $(host_cgroup_layout), not v2"
	run "$BERTH" --root "$T/root" check
	echo "$output"
	printf '%s\n' "$output" | grep -Eq '^ok +cgroup\.mode +v2 '
	for c in memory cpu pids; do
		printf '%s\n' "$output" | grep -Eq "^ok +cgroup\\.$c +v2 "
	done
}

@test "check --format json is valid JSON with every check and ok true" {
	"$BERTH" --root "$T/root" check --format json >"$T/out.json"
	python3 - "$T/out.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] is True, d["ok"]
names = [c["name"] for c in d["checks"]]
for n in ("cgroup.mode", "cgroup.memory", "storage.root", "seccomp", "ns.user"):
    assert n in names, n
for c in d["checks"]:
    assert set(c) >= {"name", "status", "detail", "required"}, c
    assert c["status"] in ("ok", "warn", "MISSING"), c
    assert c["detail"], c
mode = next(c for c in d["checks"] if c["name"] == "cgroup.mode")
assert mode["status"] == "ok", mode
EOF
	# -f is the short form and gives the same document.
	"$BERTH" --root "$T/root" check -f json | python3 -c 'import json,sys; assert json.load(sys.stdin)["ok"] is True'
}

@test "check warns that a data root on tmpfs is not persistent" {
	mkdir "$T/mnt"
	mount -t tmpfs -o size=512m berth-check-test "$T/mnt"
	run "$BERTH" --root "$T/mnt/berth" check
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq '^warn +storage\.root +not persistent: images are lost at reboot'
}

@test "check warns when the kernel cannot read the configured layer compressor" {
	command -v unshare >/dev/null || skip "unshare is missing"
	local cfg
	if [ -e /proc/config.gz ]; then
		cfg=/proc/config.gz
	elif [ -e "/boot/config-$(uname -r)" ]; then
		cfg=/boot/config-$(uname -r)
	else
		skip "no kernel config to stand in for (/proc/config.gz or /boot/config-$(uname -r))"
	fi
	# The same kernel config without squashfs xz, seen through a bind mount in a mount
	# namespace of berth's own.
	{ if [ "$cfg" = /proc/config.gz ]; then zcat "$cfg"; else cat "$cfg"; fi; } |
		sed 's/^CONFIG_SQUASHFS_XZ=.*/# CONFIG_SQUASHFS_XZ is not set/' >"$T/config"
	[ "$cfg" = /proc/config.gz ] && gzip "$T/config" && mv "$T/config.gz" "$T/config"
	printf '[store]\ncompression = xz\n' >"$BERTH_CONFIG"
	run unshare -m sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$T/config" "$cfg" "$BERTH" --root "$T/root" check
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq '^warn +fs\.squashfs +no xz \(has [a-z0-9 ]*zstd[a-z0-9 ]*\): CONFIG_SQUASHFS_XZ'
	# With a compressor that kernel has, no warning.
	printf '[store]\ncompression = zstd\n' >"$BERTH_CONFIG"
	run unshare -m sh -c 'mount --bind "$0" "$1" && shift && exec "$@"' "$T/config" "$cfg" "$BERTH" --root "$T/root" check
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq '^ok +fs\.squashfs +supported \('
}

@test "check warns when the data root has little free space" {
	command -v mkfs.ext4 >/dev/null || skip "mkfs.ext4 is needed for a small real file system"
	[ -e /dev/loop-control ] || skip "no loop devices"
	mkdir "$T/mnt"
	truncate -s 32M "$T/small.img"
	mkfs.ext4 -q -F "$T/small.img"
	mount -o loop "$T/small.img" "$T/mnt"
	run "$BERTH" --root "$T/mnt/berth" check
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq '^warn +storage\.root +only [0-9.]+ MiB free at '
}

@test "check judges a data root that does not exist yet by its nearest parent" {
	run "$BERTH" --root "$T/no/such/root" check
	echo "$output"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -Eq "^ok +storage\\.root +to be made in $T: [a-z0-9]+, .* free$"
	# Read-only: nothing was created.
	[ ! -e "$T/no" ]
}

@test "check refuses a read-only data root" {
	mkdir "$T/mnt"
	mount -t tmpfs -o ro,size=1m berth-check-test "$T/mnt"
	run "$BERTH" --root "$T/mnt" check
	echo "$output"
	[ "$status" -eq 1 ]
	printf '%s\n' "$output" | grep -Eq '^MISSING storage\.root +read-only \(tmpfs\)'
	[[ "${lines[-1]}" =~ ,\ 1\ missing$ ]]
}

@test "check --format xml is a usage error naming --format" {
	run "$BERTH" check --format xml
	echo "$output"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--format"* ]]
	[[ "$output" == *"xml"* ]]
}

@test "check with an operand is a usage error" {
	run "$BERTH" check extra
	[ "$status" -eq 2 ]
}

@test "check --help prints the usage" {
	run "$BERTH" check --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Usage: berth check"* ]]
	[[ "$output" == *"--format"* ]]
}

@test "check output lines fit an 80-column console" {
	mkdir "$T/mnt"
	mount -t tmpfs -o size=1m berth-check-test "$T/mnt"
	for root in "$T/root" "$T/mnt" "$T/a/very/long/data/root/path/that/would/never/fit/on/one/line"; do
		run "$BERTH" --root "$root" check
		printf '%s\n' "$output" | awk -v r="$root" 'length($0) > 80 { print "too long (" length($0) ") for " r ": " $0; bad = 1 }
			END { exit bad }'
	done
}

@test "check prints no escape sequences to a pipe or with NO_COLOR" {
	command -v script >/dev/null || skip "script(1) is needed to give berth a terminal"
	esc=$(printf '\033')
	run "$BERTH" --root "$T/root" check
	[[ "$output" != *"$esc"* ]]
	# On a terminal, colour is on unless NO_COLOR is set.
	script -qec "NO_COLOR=1 '$BERTH' --root '$T/root' check" /dev/null >"$T/nocolor.txt"
	! grep -q "$esc" "$T/nocolor.txt"
	grep -q 'cgroup.mode' "$T/nocolor.txt"
	script -qec "env -u NO_COLOR '$BERTH' --root '$T/root' check" /dev/null >"$T/color.txt"
	grep -q "$esc\\[" "$T/color.txt"
}

@test "check leaves no network links or mounts behind" {
	command -v ip >/dev/null || skip "ip(8) is needed to list links"
	links_before=$(ip -o link show | wc -l)
	mounts_before=$(wc -l </proc/self/mountinfo)
	run "$BERTH" --root "$T/root" check
	[ "$status" -eq 0 ]
	[ "$(ip -o link show | wc -l)" = "$links_before" ]
	[ "$(wc -l </proc/self/mountinfo)" = "$mounts_before" ]
	! ip -o link show | grep -q berthchk
}
