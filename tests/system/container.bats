#!/usr/bin/env bats
# The container start on the real kernel: namespaces, the root built in the child's own mount
# namespace, volumes resolved inside the root, masked paths, exit statuses. Driven through
# tests/tools/rtrun (the runtime without images or cgroups).

load helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	local build r=$BATS_FILE_TMPDIR/rootfs
	build=$(realpath -m "$(dirname "$BERTH")")
	make -s -C "$TOP" O="$build" "$build/tools/rtrun" >&2
	export RTRUN=$build/tools/rtrun ROOTFS=$r
	mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/srv"
	cp /bin/busybox "$r/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	ln -s /etc "$r/evil"   # a symlink in the image aimed at the host's /etc
	echo 'image content' >"$r/srv/file"
}

setup() {
	require_root
	[ -x /bin/busybox ] || skip "busybox-static is not installed"
	berth_setup
	mounts_before=$(grep -c "$ROOTFS" /proc/self/mountinfo || true)
}

teardown() {
	# The child's mounts live in its own namespace: the host must not see any of them.
	[ "$(grep -c "$ROOTFS" /proc/self/mountinfo || true)" = "${mounts_before:-0}" ]
	rm -f /etc/berth-escape-test
	berth_teardown
}

@test "container: the command runs as PID 1 and sees only its own processes" {
	run "$RTRUN" "$ROOTFS" sh -c 'echo $$; ps -o pid,comm; true'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	# Only the shell (PID 1) and ps itself: no host process is visible.
	[ "$(printf '%s\n' "${lines[@]:2}" | awk '{ print $1 "-" $2 }' | tr '\n' ' ')" = "1-sh 2-ps " ]
}

@test "container: exit statuses are the command's own, 126, 127 and 125" {
	run "$RTRUN" "$ROOTFS" sh -c 'exit 3'
	[ "$status" -eq 3 ]
	run -127 "$RTRUN" "$ROOTFS" nosuchcommand
	[[ "$output" == *"executable file not found in \$PATH"* ]]
	run -126 "$RTRUN" "$ROOTFS" /etc/passwd
	run "$RTRUN" -w /etc/passwd "$ROOTFS" true
	[ "$status" -eq 125 ]
	[[ "$output" == *"working directory \`/etc/passwd\` is not a directory"* ]]
}

@test "container: hostname, working directory and environment" {
	run "$RTRUN" --hostname box -w /work/dir -e GREETING=hi "$ROOTFS" sh -c 'echo $(hostname) $(pwd) $GREETING'
	[ "$status" -eq 0 ]
	[ "$output" = "box /work/dir hi" ]
	[ "$(hostname)" != box ]
}

@test "container: --network none gives a namespace with only loopback" {
	run "$RTRUN" --net-none "$ROOTFS" sh -c 'ls /sys/class/net'
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
}

@test "container: a minimal /dev of its own, with a private devpts" {
	run "$RTRUN" "$ROOTFS" sh -c 'ls /dev | tr "\n" " "; echo; grep -c . /proc/self/mountinfo >/dev/null; ls /dev/pts'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " ]]
	[ "$(printf '%s\n' "${lines[@]:1}" | grep -v ptmx | wc -l)" -eq 0 ]
}

@test "container: masked and read-only kernel paths" {
	run "$RTRUN" "$ROOTFS" sh -c '
		[ ! -s /proc/keys ] && echo keys-masked
		{ echo 1 > /proc/sys/kernel/domainname; } 2>/dev/null || echo sys-ro
		{ touch /sys/berth; } 2>/dev/null || echo sysfs-ro
		ls /sys/firmware | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = keys-masked ]
	[ "${lines[1]}" = sys-ro ]
	[ "${lines[2]}" = sysfs-ro ]
	[ "${lines[3]}" = 0 ]
	if [ -e /proc/kcore ]; then
		run "$RTRUN" "$ROOTFS" sh -c 'head -c 16 /proc/kcore | wc -c'
		[ "$output" = 0 ]
	fi
}

@test "container: bind mounts, read-only binds and tmpfs" {
	mkdir "$TMP/vol"
	run "$RTRUN" -v "$TMP/vol:/data" "$ROOTFS" sh -c 'echo written > /data/f'
	[ "$status" -eq 0 ]
	[ "$(cat "$TMP/vol/f")" = written ]
	run "$RTRUN" -v "$TMP/vol:/data:ro" "$ROOTFS" sh -c 'cat /data/f; echo x > /data/g'
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = written ]
	[ ! -e "$TMP/vol/g" ]
	run "$RTRUN" --tmpfs /scratch "$ROOTFS" sh -c 'echo t > /scratch/t && cat /scratch/t'
	[ "$output" = t ]
	[ ! -e "$ROOTFS/scratch/t" ]
}

@test "container: a symlink in the image cannot redirect a mount onto the host" {
	mkdir "$TMP/vol"
	echo secret >"$TMP/vol/data"
	run "$RTRUN" -v "$TMP/vol:/evil/berth-escape-test" "$ROOTFS" sh -c 'cat /etc/berth-escape-test/data'
	[ "$status" -eq 0 ]
	[ "$output" = secret ]
	# The mount landed in the container's /etc, never in the host's.
	[ ! -e /etc/berth-escape-test ]
}

@test "container: --read-only keeps the root from being written" {
	run "$RTRUN" --read-only --tmpfs /tmp "$ROOTFS" sh -c 'touch /x 2>/dev/null || echo ro; touch /tmp/ok && echo tmp-ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ro ]
	[ "${lines[1]}" = tmp-ok ]
	[ ! -e "$ROOTFS/x" ]
}
