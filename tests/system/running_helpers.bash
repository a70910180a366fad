# Helpers for tests that need a running container (exec.bats, stats.bats): an image made with
# umoci from busybox-static, a foreground `berth run` started in the background, waiting for it
# to run, and stopping it so that `berth run` itself cleans up (mounts, cgroup).

load helpers

# `app:1` into $BATS_FILE_TMPDIR/app.tar: busybox, a passwd with user app (1000), a group staff,
# ENV GREETING=hello and PATH=/bin, WORKDIR /, /srv/content (not executable). Call from
# setup_file; exports APP_TAR when the tools are there.
make_app_image() {
	[ "$(id -u)" = 0 ] || return 0
	command -v umoci >/dev/null && command -v skopeo >/dev/null && [ -x /bin/busybox ] || return 0
	local ref=$BATS_FILE_TMPDIR/ref r=$BATS_FILE_TMPDIR/ref/bundle
	mkdir -p "$ref"
	umoci init --layout "$ref/oci" >/dev/null
	umoci new --image "$ref/oci:app:1" >/dev/null
	umoci unpack --image "$ref/oci:app:1" "$r" >/dev/null
	mkdir -p "$r/rootfs/bin" "$r/rootfs/etc" "$r/rootfs/srv" "$r/rootfs/tmp" "$r/rootfs/home/app"
	cp /bin/busybox "$r/rootfs/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$r/rootfs/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$r/rootfs/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n' >"$r/rootfs/etc/group"
	echo 'from the image' >"$r/rootfs/srv/content"
	chmod 1777 "$r/rootfs/tmp"
	umoci repack --image "$ref/oci:app:1" "$r" >/dev/null
	umoci config --image "$ref/oci:app:1" --config.cmd sh --config.env GREETING=hello \
		--config.env PATH=/bin --config.workingdir / >/dev/null
	skopeo --insecure-policy copy -q "oci:$ref/oci:app:1" "docker-archive:$ref/app.tar:app:1" >/dev/null
	export APP_TAR=$ref/app.tar
}

require_app_image() {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
}

declare -gA BG_PID

# start_bg NAME RUN-ARGS...: `berth run --name NAME RUN-ARGS...` in the background; waits until
# the container runs. BG_PID[NAME] is berth run's pid.
start_bg() {
	local name=$1
	shift
	"$BERTH" run --name "$name" "$@" >"$TMP/$name.out" 2>&1 &
	BG_PID[$name]=$!
	for _ in $(seq 300); do
		if [ "$(container_pid "$name")" -gt 0 ] 2>/dev/null; then
			return 0
		fi
		kill -0 "${BG_PID[$name]}" 2>/dev/null || break
		sleep 0.1
	done
	echo "container $name did not start:"; cat "$TMP/$name.out"
	return 1
}

# The host pid of a running container's first process, 0 if none.
container_pid() {
	"$BERTH" inspect "$1" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])' 2>/dev/null || echo 0
}

container_id() {
	"$BERTH" inspect "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Id"])'
}

# Kill the container's first process and wait for `berth run` to clean up after it.
stop_bg() {
	local pid
	[ -n "${BG_PID[$1]:-}" ] || return 0
	pid=$(container_pid "$1")
	[ "$pid" -gt 0 ] 2>/dev/null && kill -9 "$pid" 2>/dev/null
	wait "${BG_PID[$1]}" 2>/dev/null || true
	unset "BG_PID[$1]"
}

# After a test: nothing of this data root stays mounted, looped or in a cgroup.
assert_nothing_left() {
	local leftovers
	leftovers=$(grep -c "$TMP" /proc/self/mountinfo || true)
	for m in $(grep "$TMP" /proc/self/mountinfo | awk '{ print $5 }' | sort -r); do umount -l "$m" 2>/dev/null; done
	[ "$leftovers" = 0 ] || { echo "mounts left behind: $leftovers"; return 1; }
	[ -z "$(losetup -a | grep "$TMP")" ]
	# Only this test's containers: others may run tests meanwhile.
	local d id
	for d in "$BERTH_ROOT"/containers/*/; do
		id=$(basename "$d")
		[ ${#id} -eq 64 ] || continue
		if [ -n "$(find /sys/fs/cgroup -path "*/berth/$id" -type d 2>/dev/null)" ]; then
			echo "cgroup of $id left behind"
			return 1
		fi
	done
}
