#!/usr/bin/env bats
# `berth run` as a Docker user meets it: the seed's ENTRYPOINT/CMD example, exit statuses,
# environment, users, limits enforced by cgroups, volumes that outlive containers, isolation.
# After every test no mount, loop device, cgroup or process of the test's data root remains.

load helpers
bats_require_minimum_version 1.5.0

load app_image

setup_file() {
	app_image_build
}

setup() {
	require_root
	[ -n "${APP_TAR:-}" ] || skip "umoci, skopeo or busybox-static is missing (scripts/deps.sh)"
	berth_setup
	"$BERTH" load -q -i "$APP_TAR"
}

teardown() {
	app_teardown
}

@test "run: the seed's ENTRYPOINT [\"ls\",\"-l\"] with CMD [\"data\"]" {
	run "$BERTH" run --rm app:1
	[ "$status" -eq 0 ]
	[[ "$output" == *"seed"* ]]        # ls -l data
	run "$BERTH" run --rm app:1 usr    # arguments replace CMD: ls -l usr
	[ "$status" -eq 0 ]
	[[ "$output" == *"lib"* ]]
	[[ "$output" != *"seed"* ]]
}

@test "run: --entrypoint replaces ENTRYPOINT and clears CMD" {
	run "$BERTH" run --rm --entrypoint echo app:1
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	run "$BERTH" run --rm --entrypoint echo app:1 hi there
	[ "$output" = "hi there" ]
}

@test "run: exit statuses are the container's own, 125, 126 and 127" {
	run "$BERTH" run --rm --entrypoint sh app:1 -c 'exit 3'
	[ "$status" -eq 3 ]
	run -127 "$BERTH" run --rm --entrypoint nosuch app:1
	[[ "$output" == *"executable file not found"* ]]
	run -126 "$BERTH" run --rm --entrypoint /srv/content app:1
	run -125 "$BERTH" run --rm nosuchimage:1
	run -125 "$BERTH" run --rm --network bridge app:1
	[[ "$output" == *"bridge"* ]]
	run -2 "$BERTH" run --rm --memory lots app:1
	# A failure while the container's root is made (before its cgroups are joined) is
	# reported as itself, and --rm leaves no record.
	run -125 "$BERTH" run --rm -w /etc/passwd app:1
	[[ "$output" == *"working directory \`/etc/passwd\` is not a directory"* ]]
	[ -z "$("$BERTH" ps -aq)" ]
}

@test "run: environment from the image, -e and --env-file; working dir made if missing" {
	printf '# comment\nFROM_FILE=yes\nGREETING=overridden-by-e\n' >"$TMP/env"
	run "$BERTH" run --rm --entrypoint sh --env-file "$TMP/env" -e GREETING=hi -e EXTRA=1 -w /new/dir \
		app:1 -c 'echo $GREETING $FROM_FILE $EXTRA $(pwd) $HOME'
	[ "$status" -eq 0 ]
	[ "$output" = "hi yes 1 /new/dir /root" ]
}

@test "run: user by name and by number, with supplementary groups" {
	run "$BERTH" run --rm --entrypoint id -u app app:1
	[ "$output" = "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)" ] || [[ "$output" == "uid=1000(app) gid=1000(app)"* ]]
	run "$BERTH" run --rm --entrypoint id -u 1234:50 app:1
	[[ "$output" == "uid=1234 gid=50(staff)"* ]]
	run -125 "$BERTH" run --rm -u nobody-here app:1
	[[ "$output" == *"unable to find user nobody-here"* ]]
}

@test "run: a memory cap is enforced: the hog is OOM-killed, 137, OOMKilled in inspect" {
	run "$BERTH" run --name hog -m 16m --entrypoint sh app:1 -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo done'
	[ "$status" -eq 137 ]
	run "$BERTH" inspect hog
	echo "$output" | python3 -c 'import json,sys; s=json.load(sys.stdin)[0]["State"]; assert s["OOMKilled"] is True and s["ExitCode"] == 137, s'
	"$BERTH" rm hog
}

@test "run: a limit whose controller is missing fails create and run with 125, naming it, and leaves no record" {
	command -v unshare >/dev/null || skip "unshare is missing"
	local mem
	mem=$(awk '$0 ~ / - cgroup / { n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == "memory") { print $5; exit } }' /proc/self/mountinfo)
	[ -n "$mem" ] || skip "no v1 memory hierarchy here (v2 is tested in the QEMU guest)"
	# In a mount namespace of its own, berth finds no memory hierarchy.
	run -125 unshare -m sh -c 'umount "$0" && exec "$@"' "$mem" "$BERTH" create --name nomem -m 32m app:1
	[[ "$output" == *"memory cgroup controller not available"* ]]
	run -125 unshare -m sh -c 'umount "$0" && exec "$@"' "$mem" "$BERTH" run --rm -m 32m app:1
	[[ "$output" == *"memory cgroup controller not available"* ]]
	[ -z "$("$BERTH" ps -aq)" ]
	# What the host can enforce still runs there.
	run unshare -m sh -c 'umount "$0" && exec "$@"' "$mem" "$BERTH" run --rm --pids-limit 20 --entrypoint true app:1
	[ "$status" -eq 0 ]
}

@test "run: pids limit and cpu quota are set in the container's cgroup" {
	# Five processes at most: the shell and four sleeps; the fifth fork fails.
	run "$BERTH" run --rm --pids-limit 5 --entrypoint sh app:1 -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait'
	[ "$status" -ne 0 ]
	[[ "$output" == *"can't fork: Resource temporarily unavailable"* ]]
	run "$BERTH" run --rm --pids-limit 20 --entrypoint sh app:1 -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait'
	[ "$status" -eq 0 ]
	# --cpus 0.5: a 50 ms quota per 100 ms period in the cgroup the host sees the container in
	"$BERTH" run --rm --name quota --cpus 0.5 --entrypoint sleep app:1 30 &
	local pid= cg=
	for _ in $(seq 100); do
		pid=$("$BERTH" inspect quota 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["State"]["Pid"])' 2>/dev/null) || pid=
		[ -n "$pid" ] && [ "$pid" != 0 ] && break
		sleep 0.1
	done
	cg=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3 }' "/proc/$pid/cgroup")
	[[ "$cg" == /berth/* ]]
	quota=$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us")
	period=$(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_period_us")
	"$BERTH" kill quota
	wait
	[ "$quota" -eq $((period / 2)) ]
}

@test "run: --read-only root and a :ro bind refuse writes" {
	mkdir "$TMP/hostdir"
	run "$BERTH" run --rm --read-only --entrypoint sh app:1 -c 'touch /x 2>/dev/null && echo wrote || echo refused'
	[ "$output" = refused ]
	run "$BERTH" run --rm -v "$TMP/hostdir:/h:ro" --entrypoint sh app:1 -c 'touch /h/x 2>/dev/null && echo wrote || echo refused'
	[ "$output" = refused ]
	[ ! -e "$TMP/hostdir/x" ]
}

@test "run: a named volume outlives the container and is filled from the image once" {
	run "$BERTH" run --name writer -v appdata:/srv --entrypoint sh app:1 -c 'cat /srv/content; echo mine > /srv/mine'
	[ "$status" -eq 0 ]
	[ "$output" = "from the image" ]
	"$BERTH" rm writer
	run "$BERTH" run --rm -v appdata:/srv --entrypoint cat app:1 /srv/mine
	[ "$output" = mine ]
	run "$BERTH" volume ls -q
	[ "$output" = appdata ]
	"$BERTH" volume rm appdata
}

@test "run: anonymous volumes (image VOLUME, -v /path) go with --rm" {
	run "$BERTH" run --rm -v /scratch --entrypoint sh app:1 -c 'echo x > /scratch/f; cat /srv/content'
	[ "$output" = "from the image" ]
	run "$BERTH" volume ls -q
	[ -z "$output" ]
}

@test "run: isolation: own processes, no mount, no module loading, no unshare, default caps" {
	run "$BERTH" run --rm --entrypoint sh app:1 -c '
		ps -o pid | tail -n +2 | wc -l
		mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo no-mount
		unshare -m true 2>/dev/null && echo unshared || echo no-unshare
		insmod /nonexistent.ko 2>&1 | grep -qi "not permitted\|no such" && echo no-insmod
		grep CapEff /proc/self/status
		grep -c -E ":/$" /proc/self/cgroup
		wc -l </proc/self/cgroup'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -le 4 ]
	[ "${lines[1]}" = no-mount ]
	[ "${lines[2]}" = no-unshare ]
	[ "${lines[4]}" = "CapEff:	00000000a80425fb" ]
	# its own cgroup is the root of its cgroup namespace, in every hierarchy
	[ "${lines[5]}" = "${lines[6]}" ]
}

@test "run: --network none has only loopback; --network host sees the host's links" {
	run "$BERTH" run --rm --network none --entrypoint ls app:1 /sys/class/net
	[ "$output" = lo ]
	run "$BERTH" run --rm --network host --entrypoint ls app:1 /sys/class/net
	[ "$output" = "$(ls /sys/class/net)" ]
}

@test "run: the container's record: ps -a shows it exited, rm removes it" {
	"$BERTH" run --name rec1 --entrypoint true app:1
	run "$BERTH" ps -a
	[[ "$output" == *"Exited (0)"*"rec1"* ]]
	run "$BERTH" rm rec1
	[ "$status" -eq 0 ]
	run "$BERTH" ps -aq
	[ -z "$output" ]
}

@test "run -t: a pty of the container's own devpts, its size, TERM, the exit status" {
	command -v script >/dev/null || skip "script(1) (util-linux) is missing"
	run script -qec "stty rows 33 cols 101; $BERTH run --rm -t --entrypoint sh app:1 -c 'tty; stty size; echo \$TERM; [ /dev/console -ef /dev/pts/0 ] && echo same; exit 7'" /dev/null
	[ "$status" -eq 7 ]
	[[ "${lines[0]}" == "/dev/pts/0"* ]]
	[[ "${lines[1]}" == "33 101"* ]]
	[[ "${lines[2]}" == "xterm"* ]]
	[[ "${lines[3]}" == "same"* ]]
}

@test "run -t: without -i nothing reaches the container's stdin; with -i it does" {
	command -v script >/dev/null || skip "script(1) (util-linux) is missing"
	# -t alone: the container reads its pty, where nothing arrives; the read times out.
	run script -qec "$BERTH run --rm -t --entrypoint sh app:1 -c 'read -t 1 x && echo got:\$x || echo nothing'" /dev/null <<<"typed"
	[[ "$output" == *"nothing"* ]]
	run script -qec "$BERTH run --rm -i -t --entrypoint sh app:1 -c 'read -t 5 x && echo got:\$x || echo nothing'" /dev/null <<<"typed"
	[[ "$output" == *"got:typed"* ]]
}

@test "run -t: the host's terminal is restored after the container ends" {
	command -v script >/dev/null || skip "script(1) (util-linux) is missing"
	run script -qec "stty -g >$TMP/before; $BERTH run --rm -it --entrypoint sh app:1 -c 'exit 3'; echo status=\$?; stty -g >$TMP/after" /dev/null </dev/null
	[[ "$output" == *"status=3"* ]]
	[ -s "$TMP/before" ]
	cmp "$TMP/before" "$TMP/after"
}

@test "run --init: PID 1 is berth's reaper, orphans are reaped, the status passes through" {
	run "$BERTH" run --rm --init --entrypoint sh app:1 -c '(sleep 0.2 &); sleep 1; ps -o pid,stat,comm; exit 5'
	[ "$status" -eq 5 ]
	echo "$output"
	pid1=$(printf '%s\n' "$output" | awk '$1 == 1 { print $3 }')
	[ -n "$pid1" ]
	[ "$pid1" != sh ]
	# The orphaned sleep was reparented to PID 1 and reaped: no zombie is left.
	[[ "$output" != *" Z "* ]]
	[[ "$(printf '%s\n' "$output" | awk '$1 != 1 && $3 == "sh"')" != "" ]]
}

@test "run --init: SIGTERM to berth run ends the command, 143" {
	"$BERTH" run --rm --init --entrypoint sleep app:1 100 &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 143 ]
}

@test "create, then start -a: the two halves of run; start alone needs the supervisor" {
	run "$BERTH" create --name made -e WHO=created --entrypoint sh app:1 -c 'echo $WHO; exit 4'
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	run "$BERTH" ps -a
	[[ "$output" == *"Created"*"made"* ]]
	run "$BERTH" start -a made
	[ "$status" -eq 4 ]
	[ "$output" = created ]
	run "$BERTH" ps -a
	[[ "$output" == *"Exited (4)"*"made"* ]]
	run -125 "$BERTH" start made
	[[ "$output" == *"supervisor"* ]]
	run -2 "$BERTH" create
	"$BERTH" rm made
}

@test "start -a: every option given at create holds again (read-only, caps, limits, ulimit, shm, network)" {
	"$BERTH" create --name opts --read-only --cap-drop ALL --pids-limit 33 --ulimit nofile=77:77 \
		--shm-size 3m --network none --stop-signal SIGUSR1 --entrypoint sh app:1 \
		-c 'touch /x 2>/dev/null && echo rw || echo ro; grep CapEff /proc/self/status;
		    ulimit -n; df -k /dev/shm | tail -1; ls /sys/class/net; cat /sys/fs/cgroup/pids.max 2>/dev/null || true'
	for round in 1 2; do
		run "$BERTH" start -a opts
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == ro ]]
		[[ "${lines[1]}" == *"0000000000000000" ]]
		[ "${lines[2]}" = 77 ]
		[[ "${lines[3]}" == *" 3072 "* ]]
		[ "${lines[4]}" = lo ]
	done
	"$BERTH" rm opts
}

@test "rmi: an image a container uses is refused without -f" {
	"$BERTH" create --name user1 app:1 >/dev/null
	run -1 "$BERTH" rmi app:1
	[[ "$output" == *"conflict: unable to remove repository reference \"app:1\" (must force) - container "*" is using its referenced image "* ]]
	"$BERTH" images | grep -q app
	"$BERTH" rm user1
	run "$BERTH" rmi app:1
	[ "$status" -eq 0 ]
	# Forced: the name goes, the image stays for the container that uses it.
	"$BERTH" load -q -i "$APP_TAR"
	"$BERTH" create --name user2 --entrypoint echo app:1 still here >/dev/null
	run "$BERTH" rmi -f app:1
	[ "$status" -eq 0 ]
	[[ "$output" == *"Untagged: app:1"* ]]
	run "$BERTH" start -a user2
	[ "$output" = "still here" ]
	"$BERTH" rm user2
}

@test "run: no_new_privs is on by default, off when asked or with --privileged" {
	run "$BERTH" run --rm --entrypoint grep app:1 NoNewPrivs /proc/self/status
	[[ "$output" == *"NoNewPrivs:	1"* ]]
	run "$BERTH" run --rm --security-opt no-new-privileges=false --entrypoint grep app:1 NoNewPrivs /proc/self/status
	[[ "$output" == *"NoNewPrivs:	0"* ]]
	run "$BERTH" run --rm --privileged --entrypoint sh app:1 -c 'grep NoNewPrivs /proc/self/status; mkdir -p /m && mount -t tmpfs none /m && echo mounted'
	[ "$status" -eq 0 ]
	[[ "$output" == *"NoNewPrivs:	0"* ]]
	[[ "$output" == *"mounted"* ]]
	# --privileged gives every capability berth itself holds.
	own=$(awk '/^CapBnd/ { print $2 }' /proc/self/status)
	run "$BERTH" run --rm --privileged --entrypoint grep app:1 CapEff /proc/self/status
	[ "$output" = "CapEff:	$own" ]
}

@test "run: a container cannot reach a host disk, even through a node it makes" {
	# v1 (here): mknod works, but the devices controller refuses opening the node.
	# Without a device controller berth drops CAP_MKNOD instead.
	run "$BERTH" run --rm --entrypoint sh app:1 -c 'mknod /d b 7 0 2>/dev/null; head -c 1 /d >/dev/null 2>&1 && echo READ || echo refused; head -c 1 /dev/zero | wc -c'
	[ "${lines[0]}" = refused ]
	[ "${lines[1]}" = 1 ]
}

@test "run: --mount bind, volume and tmpfs; a missing bind source is an error" {
	mkdir "$TMP/h"
	echo host >"$TMP/h/f"
	run "$BERTH" run --rm --mount type=bind,source="$TMP/h",target=/h,readonly \
		--mount type=volume,src=mvol,dst=/v --mount type=tmpfs,target=/t,tmpfs-size=1m \
		--entrypoint sh app:1 -c 'cat /h/f; touch /h/x 2>/dev/null || echo ro; echo kept > /v/k; df -k /t | tail -1'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = host ]
	[ "${lines[1]}" = ro ]
	[[ "${lines[2]}" == *" 1024 "* ]]
	run "$BERTH" run --rm --mount type=volume,src=mvol,dst=/v --entrypoint cat app:1 /v/k
	[ "$output" = kept ]
	run -2 "$BERTH" run --rm --mount type=bind,source="$TMP/nope",target=/x app:1
	[[ "$output" == *"bind source path does not exist"* ]]
	run -2 "$BERTH" run --rm -v "$TMP/h:/same" --mount type=tmpfs,target=/same app:1
	[[ "$output" == *"Duplicate mount point: /same"* ]]
	"$BERTH" volume rm mvol
}

@test "run: --volumes-from shares another container's volumes, read-only when asked" {
	"$BERTH" run --name data -v shared:/shared --entrypoint sh app:1 -c 'echo from-data > /shared/f'
	run "$BERTH" run --rm --volumes-from data --entrypoint cat app:1 /shared/f
	[ "$output" = from-data ]
	run "$BERTH" run --rm --volumes-from data:ro --entrypoint sh app:1 -c '{ echo x > /shared/g; } 2>/dev/null || echo ro'
	[ "$output" = ro ]
	run "$BERTH" run --rm --volumes-from nosuch app:1
	[ "$status" -ne 0 ]
	"$BERTH" rm data
	"$BERTH" volume rm shared
}

@test "run: the compiled seccomp filter is cached in the run dir, and a bad cache is ignored" {
	"$BERTH" run --rm --entrypoint true app:1
	f=$(ls "$BERTH_RUN_DIR"/seccomp/*.bpf)
	[ -f "$f" ]
	[ "$(stat -c %a "$f")" = 600 ]
	# A damaged cache file is compiled afresh: the filter still holds.
	head -c 100 /dev/urandom >"$f"
	run "$BERTH" run --rm --entrypoint sh app:1 -c 'unshare -m true 2>/dev/null && echo unshared || echo filtered; grep Seccomp: /proc/self/status'
	[ "${lines[0]}" = filtered ]
	[[ "${lines[1]}" == "Seccomp:"*2 ]]
	# Unconfined containers compile nothing.
	rm -f "$BERTH_RUN_DIR"/seccomp/*.bpf
	"$BERTH" run --rm --security-opt seccomp=unconfined --entrypoint true app:1
	[ -z "$(ls "$BERTH_RUN_DIR"/seccomp/)" ]
}

@test "run: --hostname, --add-host and --dns values cannot inject lines into /etc files" {
	run -2 "$BERTH" run --rm --add-host $'a:1.2.3.4\n6.6.6.6 evil' app:1
	run -2 "$BERTH" run --rm --dns $'1.1.1.1\nsearch evil' app:1
	run -2 "$BERTH" run --rm --hostname $'box\n6.6.6.6 evil' app:1
	run "$BERTH" run --rm --hostname box --add-host db:10.0.0.2 --dns 9.9.9.9 --entrypoint sh app:1 \
		-c 'hostname; grep db /etc/hosts; cat /etc/resolv.conf'
	[ "${lines[0]}" = box ]
	[ "${lines[1]}" = "10.0.0.2	db" ]
	[ "${lines[2]}" = "nameserver 9.9.9.9" ]
}

@test "run -p: the seed's -p HOST:CONTAINER reaches the container's port through the host port" {
	local hp cp
	hp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cp=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	mkdir -p "$TMP/www"
	echo "hello from the container" >"$TMP/www/index.html"
	"$BERTH" run --name web -p "$hp:$cp" -v "$TMP/www:/www:ro" --entrypoint httpd app:1 -f -p "$cp" -h /www &
	local pid=$!
	local body=
	for _ in $(seq 50); do
		body=$(python3 -c '
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=2).read().decode().strip())' "$hp" 2>/dev/null) && break
		sleep 0.2
	done
	[ "$body" = "hello from the container" ]
	# a port in use is refused at start, and nothing runs
	run -125 "$BERTH" run --rm -p "$hp:$cp" app:1
	[[ "$output" == *"port"*"$hp"* ]]
	run -2 "$BERTH" run --rm -p 5000 app:1
	[[ "$output" == *"HOST_PORT:CONTAINER_PORT"* ]]
	run -2 "$BERTH" run --rm -p 80:5000/udp app:1
	run -2 "$BERTH" run --rm --network none -p 80:5000 app:1
	"$BERTH" stop web
	wait $pid || true
	# the relay went with the container
	! python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$hp" 2>/dev/null
	"$BERTH" rm web
}

@test "run: the layer mount stays for the next start; prune-mounts, image prune and rmi release it" {
	layer_mounts() { grep -c " $BERTH_RUN_DIR/layers/" /proc/self/mountinfo || true; }
	"$BERTH" run --rm --entrypoint true app:1
	[ "$(layer_mounts)" = 1 ]
	# The next start uses the same mount, and no container keeps it busy.
	"$BERTH" run --rm --entrypoint true app:1
	[ "$(layer_mounts)" = 1 ]
	run "$BERTH" system df
	[[ "${lines[1]}" == "Images "*" 1 "*" 0 "* ]]
	run "$BERTH" system prune-mounts
	[ "$status" -eq 0 ]
	[ "$output" = "Released 1 layer mount" ]
	[ "$(layer_mounts)" = 0 ]
	[ -z "$(losetup -a | grep "$TMP")" ]
	# A running container's layer stays mounted through a prune.
	"$BERTH" run --name busy --entrypoint sleep app:1 1000 &
	for _ in $(seq 100); do
		[ "$("$BERTH" ps -q | wc -l)" = 1 ] && break
		sleep 0.1
	done
	run "$BERTH" system prune-mounts
	[ "$output" = "Released 0 layer mounts" ]
	[ "$(layer_mounts)" = 1 ]
	kill -9 "$(sed -n 's/^ *"Pid": \([0-9]*\).*/\1/p' "$BERTH_ROOT"/containers/*/state.json)"
	wait
	"$BERTH" rm busy
	# rmi lets the kept mount go with the image.
	[ "$(layer_mounts)" = 1 ]
	"$BERTH" rmi app:1
	[ "$(layer_mounts)" = 0 ]
	[ -z "$(ls "$BERTH_ROOT/layers")" ]
	[ -z "$(losetup -a | grep "$TMP")" ]
}

@test "run: /etc/hosts, resolv.conf and hostname are bound over the image's /etc without writing the container's layer" {
	run "$BERTH" run --name etcw --entrypoint sh app:1 -c 'cat /etc/hostname /etc/hosts /etc/resolv.conf >/dev/null && ls /etc && stat -c "%a %u %g %Y" /etc'
	[ "$status" -eq 0 ]
	[[ "$output" == *hosts* && "$output" == *passwd* ]]
	seen=${lines[-1]}
	# Nothing was written: the writable layer on flash stays empty.
	[ "$(ls "$BERTH_ROOT/containers" | wc -l)" -eq 1 ]
	[ -z "$(ls -A "$BERTH_ROOT"/containers/*/upper)" ]
	# The container's /etc is the image's: mode, owner and mtime.
	mnt=$BATS_TEST_TMPDIR/img
	mkdir -p "$mnt"
	"$BERTH" image mount app:1 "$mnt"
	want=$(stat -c '%a %u %g %Y' "$mnt/etc")
	"$BERTH" image umount "$mnt"
	[ "$seen" = "$want" ]
	# A write into /etc still lands in the container's layer.
	run "$BERTH" run --rm --entrypoint sh app:1 -c 'echo x > /etc/new && cat /etc/new'
	[ "$status" -eq 0 ]
	[ "$output" = x ]
	"$BERTH" rm etcw
}
