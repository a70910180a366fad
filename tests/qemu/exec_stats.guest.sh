#!/bin/sh
# Guest test: `berth exec`, `berth stats` and `berth logs` on a cgroup-v2-only kernel: exec
# joins the container's v2 cgroup and namespaces, stats reads memory.max, memory.current,
# cpu.stat and pids.current, and the logs of a container under `berth daemon` read back.
# Runs inside the QEMU guest as /test.sh (busybox sh).
# shellcheck shell=sh
# qemu-timeout: 240
# qemu-add: $BUILD/qemu-images/app.tar:/app.tar

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"]*\)\"\{0,1\}.*/\1/p" | head -n 1; }
wait_running() {
	i=0
	while [ $i -lt 100 ]; do
		berth inspect "$1" 2>/dev/null | grep -q '"Running": true' && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

export BERTH_ROOT=/data/berth BERTH_RUN_DIR=/run/berth
echo "1..13"

berth load -q -i /app.tar
berth run --name box1 --hostname box -m 64m app:1 sh -c 'exec sleep 1000' >/dev/null 2>&1 &
runner=$!
check "a background container runs" wait_running box1
id=$(berth inspect box1 | json_field Id)
cg=/sys/fs/cgroup/berth/$id

out=$(berth exec box1 hostname 2>&1)
check "exec sees the container's hostname ($out)" [ "$out" = box ]
out=$(berth exec box1 cat /proc/1/cmdline 2>&1 | tr '\0' ' ')
check "exec sees the container's PID 1 ($out)" [ "$out" = "sleep 1000 " ]
out=$(berth exec box1 sh -c 'cat /proc/self/cgroup /proc/1/cgroup' 2>&1 | tr '\n' ' ')
check "exec sees its cgroup as the container's PID 1 sees its own ($out)" \
	sh -c "echo '$out' | grep -qx '0::\(/[^ ]*\)* 0::\1 '"
out=$(berth exec box1 sh -c 'readlink /proc/self/ns/cgroup; readlink /proc/1/ns/cgroup' 2>&1 | tr '\n' ' ')
check "exec is in the container's cgroup namespace ($out)" sh -c "echo '$out' | grep -qx '\(cgroup:\[[0-9]*\]\) \1 '"

berth exec box1 sleep 77 &
ex=$!
i=0
while [ $i -lt 50 ] && [ "$(wc -l <"$cg/cgroup.procs")" -lt 2 ]; do sleep 0.1; i=$((i + 1)); done
check "the exec'd process is in the container's cgroup on the host side" \
	sh -c "for p in \$(cat $cg/cgroup.procs); do tr '\\0' ' ' </proc/\$p/cmdline; echo; done | grep -qx 'sleep 77 '"
kill -9 "$(for p in $(cat "$cg/cgroup.procs"); do grep -q '^sleep.77' /proc/$p/cmdline 2>/dev/null && echo "$p"; done)" 2>/dev/null
wait $ex
berth exec box1 sh -c 'exit 3'
rc=$?
berth exec box1 nosuch 2>/dev/null
rc2=$?
check "exec's exit statuses: the command's and 127 ($rc $rc2)" [ "$rc $rc2" = "3 127" ]

out=$(berth stats --no-stream box1 2>&1)
echo "$out" | sed 's/^/# /'
check "stats shows the v2 memory.max as the limit" sh -c "echo '$out' | grep -q ' / 64MiB '"
pids=$(cat "$cg/pids.current")
check "stats shows pids.current ($pids)" sh -c "echo '$out' | tail -n 1 | grep -q ' $pids\$'"
json=$(berth stats --no-stream --format json box1 2>&1)
lim=$(echo "$json" | json_field MemoryLimit)
check "stats --format json: MemoryLimit is memory.max ($lim)" [ "$lim" = "$(cat "$cg/memory.max")" ]

kill -9 "$(berth inspect box1 | json_field Pid)"
wait $runner
out=$(berth exec box1 true 2>&1)
check "exec into a stopped container ($out)" sh -c "echo '$out' | grep -q 'is not running'"
berth rm box1 >/dev/null

# Logs of a container the supervisor runs, in the RAM run dir.
berth daemon 2>/tmp/daemon.log &
daemon=$!
i=0
while [ $i -lt 100 ] && ! berth status >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
berth run -d --name talker --stop-timeout 1 app:1 sh -c 'echo out1; echo err1 >&2; exec sleep 1000' >/dev/null
i=0
while [ $i -lt 100 ] && ! berth logs talker 2>/dev/null | grep -q out1; do sleep 0.1; i=$((i + 1)); done
out=$(berth logs talker 2>/dev/null)
err=$(berth logs talker 2>&1 >/dev/null)
check "logs of a supervised container: stdout and stderr apart ($out/$err)" [ "$out/$err" = "out1/err1" ]
berth stop talker >/dev/null
berth rm talker >/dev/null
kill -TERM $daemon
wait $daemon
check "no container cgroup is left behind" sh -c '[ -z "$(find /sys/fs/cgroup/berth -mindepth 1 -type d 2>/dev/null)" ]'
exit "$failed"
