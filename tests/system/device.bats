#!/usr/bin/env bats
# `berth run --device HOST[:CONTAINER][:PERMISSIONS]` as a Docker user meets it: the host's
# node appears in the container with its numbers, mode and owner; the cgroup lets the
# container use exactly that device with those permissions; `start -a` and the supervisor
# keep it; bad values are refused before anything is made. After each test no mount, loop
# device, cgroup or process of the test's data root remains.

load helpers
load app_image
bats_require_minimum_version 1.5.0

setup_file() {
	app_image_build
}

setup() {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	berth_setup
	"$BERTH" load -q -i "$APP_TAR"
	mkdir -p "$TMP/dev"
	LOOP=
	DAEMON=
}

teardown() {
	if [ -n "${DAEMON:-}" ]; then
		kill -TERM "$DAEMON" 2>/dev/null || true
		wait "$DAEMON" || true
	fi
	[ -z "${LOOP:-}" ] || losetup -d "$LOOP"
	app_teardown
}

# A loop device over a small file whose first bytes are known: $LOOP.
loop_attach() {
	command -v losetup >/dev/null || skip "losetup is missing"
	printf 'berth-disk' >"$TMP/disk.img"
	truncate -s 1M "$TMP/disk.img"
	LOOP=$(losetup -f --show "$TMP/disk.img") || skip "no free loop device"
}

# Where the v1 devices controller or the v2 device program limits access (else berth drops
# CAP_MKNOD instead, and the permissions of --device cannot be checked).
devices_enforced() {
	grep -qw devices /proc/cgroups && [ -d /sys/fs/cgroup/devices ]
}

@test "device: a host node appears at the container path, numbers, mode and owner kept" {
	mknod "$TMP/dev/mynull" c 1 3
	chown 1000:50 "$TMP/dev/mynull"
	chmod 0620 "$TMP/dev/mynull"
	run "$BERTH" run --rm --device "$TMP/dev/mynull:/dev/x" --entrypoint sh app:1 -c \
		'stat -c "%F %t:%T %a %u:%g" /dev/x && echo hi >/dev/x && cat /dev/x && echo read-ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "character special file 1:3 620 1000:50" ]
	[ "${lines[1]}" = "read-ok" ]
	# Without a container path, the host path is used; parent directories are made.
	run "$BERTH" run --rm --device "$TMP/dev/mynull" --entrypoint sh app:1 -c "stat -c %t:%T $TMP/dev/mynull"
	[ "$status" -eq 0 ]
	[ "$output" = "1:3" ]
	# A symlink (as /dev/serial/by-id/... are) names its target's node.
	ln -s mynull "$TMP/dev/by-id"
	run "$BERTH" run --rm --device "$TMP/dev/by-id:/dev/ttyX:rw" --entrypoint sh app:1 -c 'stat -c "%F %t:%T" /dev/ttyX'
	[ "$status" -eq 0 ]
	[ "$output" = "character special file 1:3" ]
}

@test "device: a block device is readable; :r makes writes fail with EPERM from the cgroup" {
	devices_enforced || skip "no v1 devices controller here (cgroup v2: see tests/qemu/device.guest.sh)"
	loop_attach
	run "$BERTH" run --rm --device "$LOOP:/dev/xvda" --entrypoint sh app:1 -c \
		'head -c 10 /dev/xvda; echo; echo new | dd of=/dev/xvda bs=512 count=1 conv=notrunc 2>&1 && echo wrote'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "berth-disk" ]
	[[ "$output" == *wrote* ]]
	[ "$(head -c 4 "$TMP/disk.img" | tr -d '\n')" = "new" ]
	# Read-only: reading works, opening for writing is refused by the devices controller.
	run "$BERTH" run --rm --device "$LOOP:/dev/xvda:r" --entrypoint sh app:1 -c \
		'head -c 3 /dev/xvda; echo; echo x >/dev/xvda'
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = "new" ]
	[[ "$output" == *"Operation not permitted"* ]]
	# The same node without --device: the container cannot open it even where it could mknod.
	run "$BERTH" run --rm --cap-add MKNOD --entrypoint sh app:1 -c \
		"mknod /tmp/d b $(stat -c '%t %T' "$LOOP" | awk '{ printf "%d %d", "0x"$1, "0x"$2 }') && head -c 3 /tmp/d"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "device: a host directory gives every device node under it, as Docker does" {
	mkdir -p "$TMP/dev/snd/by-path" "$TMP/dev/empty"
	mknod "$TMP/dev/snd/controlC0" c 1 3
	mknod "$TMP/dev/snd/by-path/pcm" c 1 5
	touch "$TMP/dev/snd/not-a-node"
	ln -s /dev/null "$TMP/dev/snd/link"
	run "$BERTH" run --rm --device "$TMP/dev/snd:/dev/snd:rw" --entrypoint sh app:1 -c \
		'cd /dev/snd && find . | sort && stat -c %t:%T controlC0 by-path/pcm && head -c 3 by-path/pcm | wc -c'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '.\n./by-path\n./by-path/pcm\n./controlC0\n1:3\n1:5\n3')" ]
	run -125 "$BERTH" run --rm --device "$TMP/dev/empty" app:1
	[[ "$output" == *"no device nodes in that directory"* ]]
}

@test "device: bad values are refused, naming the value, and nothing is created" {
	touch "$TMP/file"
	run -125 "$BERTH" run --rm --device "$TMP/file:/dev/x" app:1
	[[ "$output" == *"--device \`$TMP/file\`: not a device node"* ]]
	run -125 "$BERTH" run --rm --device /dev/nosuch app:1
	[[ "$output" == *"/dev/nosuch"*"no such device"* ]]
	run -2 "$BERTH" run --rm --device /dev/null:/dev/x:rwx app:1
	[[ "$output" == *"bad permissions \`rwx\`"* ]]
	run -2 "$BERTH" run --rm --device /dev/null:/dev/x:rr app:1
	[[ "$output" == *"bad permissions"* ]]
	run -2 "$BERTH" run --rm --device dev/null app:1
	[[ "$output" == *"\`dev/null\` must be absolute"* ]]
	run -2 "$BERTH" run --rm --device /dev/null:dev/x app:1
	[[ "$output" == *"\`dev/x\` must be absolute"* ]]
	run -2 "$BERTH" run --rm --device /dev/null:/dev/x:r:w app:1
	[[ "$output" == *"HOST[:CONTAINER][:PERMISSIONS]"* ]]
	assert_80_columns
	run "$BERTH" ps -a -q
	[ -z "$output" ]
}

@test "device: a path taken by something else in the container is an error, not replaced" {
	mknod "$TMP/dev/mynull" c 1 3
	run -125 "$BERTH" run --rm --device "$TMP/dev/mynull:/etc/passwd" app:1
	[[ "$output" == *"/etc/passwd"*"not a device node"* ]]
	# A default node is replaced by the one given.
	mknod "$TMP/dev/myzero" c 1 5
	run "$BERTH" run --rm --device "$TMP/dev/myzero:/dev/null" --entrypoint sh app:1 -c 'stat -c %t:%T /dev/null'
	[ "$status" -eq 0 ]
	[ "$output" = "1:5" ]
}

@test "device: create then start -a keeps the device, read again from the host" {
	mknod "$TMP/dev/mynull" c 1 3
	run "$BERTH" create --name dev1 --device "$TMP/dev/mynull:/dev/x:rw" --entrypoint sh app:1 \
		-c 'stat -c "%t:%T" /dev/x && echo hi >/dev/x'
	[ "$status" -eq 0 ]
	run "$BERTH" start -a dev1
	[ "$status" -eq 0 ]
	[ "$output" = "1:3" ]
	# inspect shows it in Docker's shape.
	run python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)[0]["HostConfig"]["Devices"]))' \
		< <("$BERTH" inspect dev1)
	[ "$output" = "[{\"PathOnHost\": \"$TMP/dev/mynull\", \"PathInContainer\": \"/dev/x\", \"CgroupPermissions\": \"rw\"}]" ]
	# Gone from the host: the start says which device is missing.
	rm "$TMP/dev/mynull"
	run -125 "$BERTH" start -a dev1
	[[ "$output" == *"dev1"*"$TMP/dev/mynull"*"no such device"* ]]
	"$BERTH" rm dev1
}

@test "device: without a devices controller (CAP_MKNOD dropped instead) the node still works" {
	devices_enforced || skip "no v1 devices controller to hide"
	command -v unshare >/dev/null || skip "unshare is missing"
	loop_attach
	# In a mount namespace of its own, berth finds no devices hierarchy.
	run unshare -m sh -c 'umount /sys/fs/cgroup/devices && exec "$@"' sh \
		"$BERTH" run --rm --device "$LOOP:/dev/xvda:r" --entrypoint sh app:1 -c \
		'grep CapEff /proc/self/status; head -c 10 /dev/xvda; echo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "CapEff:	00000000a00425fb" ]
	[ "${lines[1]}" = "berth-disk" ]
}

@test "device: --privileged with --device adds the node" {
	loop_attach
	run "$BERTH" run --rm --privileged --device "$LOOP:/dev/xvda" --entrypoint sh app:1 -c 'head -c 10 /dev/xvda'
	[ "$status" -eq 0 ]
	[ "$output" = "berth-disk" ]
}

@test "device: an app file's devices key gives the supervised container the device" {
	loop_attach
	mkdir -p "$TMP/apps"
	printf '[daemon]\napps-dir = %s\n' "$TMP/apps" >"$BERTH_CONFIG"
	printf '[app]\nimage = app:1\nentrypoint = sh\ncommand = ["-c", "head -c 10 /dev/xvda; echo; exec sleep 1000"]\ndevices = %s:/dev/xvda:r\n' \
		"$LOOP" >"$TMP/apps/disk.conf"
	"$BERTH" daemon 2>"$TMP/daemon.log" &
	DAEMON=$!
	local ok=
	for _ in $(seq 100); do
		if [ "$("$BERTH" logs disk 2>/dev/null)" = "berth-disk" ]; then ok=1; break; fi
		sleep 0.1
	done
	[ -n "$ok" ] || { cat "$TMP/daemon.log"; false; }
	if devices_enforced; then
		run "$BERTH" exec disk sh -c 'echo x >/dev/xvda'
		[ "$status" -ne 0 ]
		[[ "$output" == *"Operation not permitted"* ]]
	fi
	kill -TERM "$DAEMON"
	wait "$DAEMON" || true
	DAEMON=
}
