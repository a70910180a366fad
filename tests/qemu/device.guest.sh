#!/bin/sh
# Guest test: `berth run --device` on a cgroup-v2-only kernel, where the device program
# attached to the container's cgroup decides what it may open: a loop device given with
# --device is read and written, with `:r` only read, and a node given its host's numbers.
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

export BERTH_ROOT=/data/berth BERTH_RUN_DIR=/run/berth
echo "1..8"

check "load the test image onto the flash" berth load -q -i /app.tar
printf 'berth-disk' >/data/disk.img
dd if=/dev/zero of=/data/disk.img bs=1k seek=1 count=1023 2>/dev/null
loop=$(losetup -f)
check "a loop device over a file on the flash ($loop)" losetup "$loop" /data/disk.img

out=$(berth run --rm --device "$loop:/dev/xvda" app:1 sh -c \
	'head -c 10 /dev/xvda; echo; echo new | dd of=/dev/xvda bs=512 count=1 conv=notrunc 2>/dev/null && echo wrote' 2>&1 | tr '\n' ' ')
check "--device LOOP:/dev/xvda reads and writes it ($out)" [ "$out" = "berth-disk wrote " ]
check "the write reached the file" [ "$(head -c 3 /data/disk.img)" = new ]

out=$(berth run --rm --device "$loop:/dev/xvda:r" app:1 sh -c \
	'head -c 3 /dev/xvda; echo; echo x >/dev/xvda && echo WROTE' 2>&1 | tr '\n' ' ')
case "$out" in
"new "*"Operation not permitted"*) case "$out" in *WROTE*) r=1 ;; *) r=0 ;; esac ;;
*) r=1 ;;
esac
check "with :r the device program lets it read, not write ($out)" [ "$r" = 0 ]

mkdir -p /tmp/dev
mknod /tmp/dev/mynull c 1 3
chmod 0620 /tmp/dev/mynull
out=$(berth run --rm --device /tmp/dev/mynull:/dev/x app:1 sh -c \
	'stat -c "%t:%T %a" /dev/x && echo hi >/dev/x && echo ok' 2>&1 | tr '\n' ' ')
check "a character node keeps its numbers and mode and is usable ($out)" [ "$out" = "1:3 620 ok " ]

losetup -d "$loop"
check "no container cgroup is left behind" sh -c '[ -z "$(find /sys/fs/cgroup/berth -mindepth 1 -type d 2>/dev/null)" ]'
# Layer mounts stay for the next start until released.
berth system prune-mounts >/dev/null 2>&1
check "nothing of berth stays mounted" sh -c '! grep -q "/run/berth\|/data/berth/containers" /proc/self/mountinfo'
exit "$failed"
