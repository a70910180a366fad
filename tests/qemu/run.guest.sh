#!/bin/sh
# Guest test: `berth run` on a cgroup-v2-only kernel, with berth's data root on the ext4
# "flash": limits land in the v2 cgroup, a memory hog is OOM-killed (137, OOMKilled), volumes
# persist, and nothing is left behind. Runs inside the QEMU guest as /test.sh (busybox sh).
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

export BERTH_ROOT=/data/berth BERTH_RUN_DIR=/run/berth
echo "1..13"

check "load the test image onto the flash" berth load -q -i /app.tar
out=$(berth run --rm app:1 sh -c 'echo hello $$' 2>&1)
check "a container runs as PID 1 ($out)" [ "$out" = "hello 1" ]

berth run --name hog -m 16m app:1 sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo done' >/dev/null 2>&1
rc=$?
check "a memory hog under -m 16m is OOM-killed with 137 on v2 (rc=$rc)" [ "$rc" = 137 ]
check "inspect says OOMKilled" sh -c 'berth inspect hog | grep -q "\"OOMKilled\": true"'
berth rm hog >/dev/null

out=$(berth run --rm --cpus 0.5 --pids-limit 20 -m 32m app:1 cat /proc/self/cgroup 2>&1)
check "the container is in its own v2 cgroup ($out)" sh -c "echo '$out' | grep -q '^0::/'"
berth run --rm --pids-limit 5 app:1 sh -c 'for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait' >/dev/null 2>&1
check "the pids limit stops forks" [ $? -ne 0 ]

berth run --rm -v data:/srv app:1 sh -c 'echo kept > /srv/mine' >/dev/null 2>&1
out=$(berth run --rm -v data:/srv app:1 cat /srv/mine /srv/content 2>&1 | tr '\n' ' ')
check "a named volume on flash keeps data and was filled from the image ($out)" [ "$out" = "kept from the image " ]

out=$(berth run --rm app:1 sh -c 'mknod /d b 254 0 2>/dev/null; head -c 1 /d >/dev/null 2>&1 && echo READ || echo refused' 2>&1)
check "a container cannot open a disk through a node it makes ($out)" [ "$out" = refused ]
out=$(berth run --rm app:1 sh -c 'grep CapEff /proc/self/status; mknod /z c 1 5 && head -c 1 /z | wc -c' 2>&1 | tr '\n\t' '  ')
check "on v2 a device program guards opens, so the default capabilities stay whole ($out)" [ "$out" = "CapEff: 00000000a80425fb 1 " ]
check "no container cgroup is left behind" sh -c '[ -z "$(find /sys/fs/cgroup/berth -mindepth 1 -type d 2>/dev/null)" ]'
# Layer mounts stay for the next start until released.
check "the image's layer stays mounted for the next start" grep -q " /run/berth/layers/" /proc/self/mountinfo
out=$(berth system prune-mounts 2>&1)
check "berth system prune-mounts releases it ($out)" sh -c "echo '$out' | grep -q '^Released [1-9][0-9]* layer mounts*$'"
check "nothing of berth stays mounted" sh -c '! grep -q "/run/berth\|/data/berth/containers" /proc/self/mountinfo'
exit "$failed"
