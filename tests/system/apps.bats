#!/usr/bin/env bats
# App files (/etc/berth/apps/*.conf) as the supervisor will start them: the run arguments an
# app file becomes (printed by tests/tools/apprun) are fed to a real `berth run --rm`, and the
# container must see what the file asked for: its environment, its memory cap (read from the
# kernel's cgroup files), its volume, its user, its command. The shipped example apps load.

load helpers
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# An image `app:1` made with umoci: busybox, a passwd with user app (1000), /data owned by app
# with a seed file, ENTRYPOINT ["ls","-l"] and CMD ["data"] (which the app file replaces).
setup_file() {
	local build
	build=$(realpath -m "$(dirname "$BERTH")")
	make -s -C "$TOP" O="$build" "$build/tools/apprun" >&2
	export APPRUN=$build/tools/apprun
	[ "$(id -u)" = 0 ] || return 0
	command -v umoci >/dev/null && command -v skopeo >/dev/null && [ -x /bin/busybox ] || return 0
	local ref=$BATS_FILE_TMPDIR/ref r=$BATS_FILE_TMPDIR/ref/bundle
	mkdir -p "$ref"
	umoci init --layout "$ref/oci" >/dev/null
	umoci new --image "$ref/oci:app:1" >/dev/null
	umoci unpack --image "$ref/oci:app:1" "$r" >/dev/null
	mkdir -p "$r/rootfs/bin" "$r/rootfs/etc" "$r/rootfs/data" "$r/rootfs/tmp"
	cp /bin/busybox "$r/rootfs/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$r/rootfs/bin/$a"; done
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$r/rootfs/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\n' >"$r/rootfs/etc/group"
	echo seed >"$r/rootfs/data/seed"
	chown -R 1000:1000 "$r/rootfs/data"
	chmod 1777 "$r/rootfs/tmp"
	umoci repack --image "$ref/oci:app:1" "$r" >/dev/null
	umoci config --image "$ref/oci:app:1" --config.entrypoint ls --config.entrypoint -l \
		--config.cmd data --config.env PATH=/bin --config.workingdir / >/dev/null
	skopeo --insecure-policy copy -q "oci:$ref/oci:app:1" "docker-archive:$ref/app.tar:app:1" >/dev/null
	export APP_TAR=$ref/app.tar
}

setup() {
	berth_setup
	mkdir -p "$TMP/apps"
}

teardown() {
	[ -n "${TMP:-}" ] || return 0
	[ -f "$TMP/sig/stop" ] || touch "$TMP/sig/stop" 2>/dev/null || true
	[ -z "${RUN_PID:-}" ] || wait "$RUN_PID" 2>/dev/null || true
	local leftovers
	release_layer_mounts
	leftovers=$(grep -c "$TMP" /proc/self/mountinfo || true)
	for m in $(grep "$TMP" /proc/self/mountinfo | awk '{ print $5 }' | sort -r); do umount -l "$m" 2>/dev/null; done
	[ "$leftovers" = 0 ] || { echo "mounts left behind: $leftovers"; berth_teardown; return 1; }
	[ -z "$(losetup -a | grep "$TMP")" ]
	berth_teardown
}

# The v1 hierarchy carrying controller $1 on this host, read independently of berth.
v1_mount() {
	awk -v c="$1" '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $5; exit } }' \
		/proc/self/mountinfo
}

# The memory limit of process $1's cgroup, from the kernel's files (v1 or v2).
memory_limit_of() {
	local pid=$1 path mnt
	path=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup")
	if [ -n "$path" ] && mnt=$(v1_mount memory) && [ -n "$mnt" ]; then
		cat "$mnt$path/memory.limit_in_bytes"
	else
		path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$path/memory.max"
	fi
}

@test "apps: every shipped example app file loads, in dependency order" {
	run "$APPRUN" --dir "$TOP/rootfs/etc/berth/apps"
	[ "$status" -eq 0 ]
	[[ "$output" != *error* ]]
	[ "$(echo "$output" | awk '{ print $1 }' | tr '\n' ' ')" = "hello web " ]
}

@test "apps: a bad app file's errors name file:line and the key; the others still load" {
	printf '[app]\nimage = busybox\n' >"$TMP/apps/good.conf"
	printf '[app]\nimage = busybox\nmemory = 64q\nmemroy = 8m\n' >"$TMP/apps/bad.conf"
	printf '[app]\nimage = busybox\ndepends-on = bad\n' >"$TMP/apps/needy.conf"
	run "$APPRUN" --dir "$TMP/apps"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "good "* ]]
	[[ "$output" == *"error bad: $TMP/apps/bad.conf:3: memory: \`64q\`: expected a size"* ]]
	[[ "$output" == *"$TMP/apps/bad.conf:4: unknown key 'memroy' in [app]; did you mean 'memory'?"* ]]
	[[ "$output" == *"error needy: $TMP/apps/needy.conf:3: depends-on: no app \`bad\`"* ]]
	run -2 "$APPRUN" "$TMP/apps/bad.conf"
	[[ "$output" == *"bad.conf:3: memory:"* ]]
}

@test "apps: berth run takes an app's run arguments as they are: env, memory cap, volume, user, command" {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	"$BERTH" load -q -i "$APP_TAR"
	mkdir -m 0777 "$TMP/sig"
	printf 'FROM_FILE=yes\n' >"$TMP/apps/web.env"
	cat >"$TMP/apps/web.conf" <<EOF
# The app under test: it reports what it sees, then waits to be told to stop.
[app]
image = app:1
# No ENTRYPOINT (the image's is ls -l): the command is all that runs.
entrypoint = []
command = sh -c 'echo "id=\$(id -u):\$(id -g) greeting=\$GREETING file=\$FROM_FILE"; cat /data/seed; echo kept > /data/note; echo ready > /sig/ready; while [ ! -e /sig/stop ]; do sleep 0.1; done; echo bye'
environment = GREETING=hello from an app file
env-file = web.env
volumes = appdata:/data
volumes = $TMP/sig:/sig
memory = 32m
pids-limit = 20
user = app
health-cmd = test -f /sig/ready
stop-timeout = 3s
EOF
	run "$APPRUN" "$TMP/apps/web.conf"
	[ "$status" -eq 0 ]
	mapfile -t args <<<"$output"
	# The supervisor's own keys stay out of the arguments; the stop timeout goes in seconds.
	[[ "$output" != *health* ]]
	[[ "$output" == *$'--stop-timeout\n3\n'* ]]

	"$BERTH" run --rm "${args[@]}" >"$TMP/out" 2>&1 &
	RUN_PID=$!
	for _ in $(seq 1 300); do
		[ -e "$TMP/sig/ready" ] || ! kill -0 "$RUN_PID" 2>/dev/null || { sleep 0.1; continue; }
		break
	done
	[ -e "$TMP/sig/ready" ] || { cat "$TMP/out"; false; }
	# The container carries the app's name and labels while it runs...
	run "$BERTH" inspect web
	[ "$status" -eq 0 ]
	pid=$(echo "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])')
	labels=$(echo "$output" | python3 -c 'import json,sys; l=json.load(sys.stdin)[0]["Config"]["Labels"]; print(l["berth.app"], len(l["berth.app.hash"]))')
	[ "$labels" = "web 64" ]
	# ...and the kernel enforces its memory cap: 32m.
	[ "$pid" -gt 0 ]
	[ "$(memory_limit_of "$pid")" = 33554432 ]
	touch "$TMP/sig/stop"
	wait "$RUN_PID"
	status=$?
	RUN_PID=
	cat "$TMP/out"
	[ "$status" -eq 0 ]
	[ "$(sed -n 1p "$TMP/out")" = "id=1000:1000 greeting=hello from an app file file=yes" ]
	[ "$(sed -n 2p "$TMP/out")" = seed ]
	[ "$(tail -n 1 "$TMP/out")" = bye ]
	# --rm removed the container; the named volume stays with what the app wrote.
	run "$BERTH" ps -a -q
	[ "$output" = "" ]
	run "$BERTH" run --rm -v appdata:/data --entrypoint cat app:1 /data/note
	[ "$status" -eq 0 ]
	[ "$output" = kept ]
	"$BERTH" volume rm appdata
}

@test "apps: a JSON entrypoint and command, read-only root, tmpfs, dropped capabilities and a restart policy reach the container" {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	"$BERTH" load -q -i "$APP_TAR"
	cat >"$TMP/apps/probe.conf" <<'EOF'
[app]
image = app:1
entrypoint = ["sh", "-c"]
command = ["touch /x 2>/dev/null && echo rw || echo ro; touch /scratch/y && echo tmpfs-ok; grep CapBnd /proc/self/status; hostname; pwd", "ignored-arg0"]
read-only = yes
tmpfs = /scratch
cap-drop = CHOWN, KILL
hostname = probe-host
workdir = /data
stop-signal = SIGINT
restart = on-failure:2
EOF
	run "$APPRUN" "$TMP/apps/probe.conf"
	[ "$status" -eq 0 ]
	mapfile -t args <<<"$output"
	# A restart policy is the supervisor's to act on, and berth run refuses it with --rm:
	# run it plain, then remove it.
	run "$BERTH" run "${args[@]}"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ro ]
	[ "${lines[1]}" = tmpfs-ok ]
	# Docker's default set less CHOWN (bit 0) and KILL (bit 5).
	bnd=$(echo "${lines[2]}" | awk '{ print $2 }')
	[ $((0x$bnd & 1)) -eq 0 ]
	[ $((0x$bnd & 32)) -eq 0 ]
	[ $((0x$bnd & 2)) -eq 2 ]   # DAC_OVERRIDE stays
	[ "${lines[3]}" = probe-host ]
	[ "${lines[4]}" = /data ]
	run "$BERTH" inspect probe
	echo "$output" | python3 -c 'import json,sys; c=json.load(sys.stdin)[0]; p=c["HostConfig"]["RestartPolicy"]; assert p["Name"] == "on-failure" and p["MaximumRetryCount"] == 2, p; assert c["Config"]["Labels"]["berth.app"] == "probe"'
	"$BERTH" rm probe
}
