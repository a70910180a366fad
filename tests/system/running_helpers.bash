# Helpers for tests that need a running container (exec.bats, stats.bats): the image `app:1`
# (app_image.bash), a foreground `berth run` started in the background, waiting for it to run,
# and stopping it so that `berth run` itself cleans up (mounts, cgroup).

load helpers
load app_image

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
	release_layer_mounts
	leftovers=$(grep -c "$TMP" /proc/self/mountinfo || true)
	for m in $(grep "$TMP" /proc/self/mountinfo | awk '{ print $5 }' | sort -r); do umount -l "$m" 2>/dev/null; done
	[ "$leftovers" = 0 ] || { echo "mounts left behind: $leftovers"; return 1; }
	[ -z "$(losetup -a | grep "$TMP")" ]
	no_cgroups_left
}
