#!/usr/bin/env bash
# Boot to first app: the time from QEMU's start to the first line an app prints on the serial
# console, on the same kernel, modules, flash image and busybox image, for
#   berth   berth is /init (PID 1): early mounts, the board's sysinit (modules, eth0), the data
#           partition, then the supervisor starts the app from /etc/berth/apps (a container:
#           namespaces, overlay over the squashfs layer, cgroup with a memory cap, seccomp) and
#           mirrors its output to the console (`console = yes`);
#   busybox a busybox sh /init that does the same mounts and module loading, mounts the flash,
#           loop-mounts the image's squashfs layer and starts the app with
#           `unshare -fpmiun chroot LAYER sh -c ...` (no overlay, no cgroup, no seccomp): the
#           floor of what any init must do.
# Boots alternate, each on a fresh copy of the flash image. berth is measured twice: on a
# flash that has booted once already (the board's every boot: the app's container exists) and
# on a freshly flashed one (the first boot after flashing: berth creates the container). Prints
# the median, min and max per case and the berth/busybox ratios of the medians (the target is
# at most 1.2). QEMU runs under TCG here: compare the ratios.
# Usage: scripts/bench-boot.sh [-n BOOTS]   (default 5 per init; needs root for the flash image)
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build}
export BUILD=$O
boots=5
while getopts n: opt; do
	case $opt in
	n) boots=$OPTARG ;;
	*) sed -n 's/^# \{0,1\}//; 15p' "$0"; exit 2 ;;
	esac
done
command -v qemu-system-x86_64 >/dev/null || { echo "bench-boot: qemu-system-x86_64 missing (scripts/deps.sh)" >&2; exit 1; }
make -s -C "$top" -j2 STATIC=1 O="$O/static" "$O/static/berth" >&2 2>/dev/null
berth=$O/static/berth
export BERTH_BIN=$berth

work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench-boot.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$top/scripts/mktestimage.sh" "$work/app.tar" app:1 >&2
mkdir -p "$work/flashroot/berth"
"$berth" --root "$work/flashroot/berth" --run-dir "$work/run" load -q -i "$work/app.tar" >/dev/null
"$top/scripts/mkflash.sh" "$work/flash.img" 256 --from "$work/flashroot" >&2
rm -rf "$work/flashroot" "$work/run"

marker=FIRST-APP-UP
mkdir -p "$work/etc/apps"
cat >"$work/etc/berth.conf" <<'EOF'
[daemon]
data-root = /data/berth
[init]
data-device = /dev/vda
sysinit = /etc/init.d/rcS
EOF
cat >"$work/etc/apps/first.conf" <<EOF
[app]
image = app:1
entrypoint = sh
command = ["-c", "echo $marker; exec sleep 1000"]
memory = 64m
network = none
console = yes
EOF
"$top/scripts/mkinitramfs.sh" "$work/berth.gz" --berth-init "$work/etc"

# The warm flash: one berth boot that starts the app and powers off cleanly.
cp -a "$work/etc" "$work/etc-warm"
printf 'console-shell = yes\n' >>"$work/etc-warm/berth.conf"
"$top/scripts/mkinitramfs.sh" "$work/warm.gz" --berth-init "$work/etc-warm"
printf '%s\n' 'i=0; while [ $i -lt 120 ] && ! berth status | grep -q "^first .*running"; do sleep 1; i=$((i+1)); done' \
	'berth poweroff' >"$work/warm.sh"
cp --sparse=always "$work/flash.img" "$work/flash-warm.img"
"$top/scripts/qemu-run.sh" --initrd "$work/warm.gz" --disk "$work/flash-warm.img" --timeout 180 \
	--console-script "$work/warm.sh" --log "$work/warm.log" || true
grep -q 'reboot: Power down' "$work/warm.log" || { echo "bench-boot: the warm-up boot failed:" >&2; tail -n 30 "$work/warm.log" >&2; exit 1; }

cat >"$work/floor.sh" <<EOF
#!/bin/sh
mkdir -p /layer
mount -t squashfs -o loop,ro "\$(ls /data/berth/layers/*.sqfs | head -n 1)" /layer
exec unshare -fpmiun chroot /layer sh -c 'echo $marker; exec sleep 1000'
EOF
"$top/scripts/mkinitramfs.sh" "$work/busybox.gz" --guest-script "$work/floor.sh"

now_ms() {
	local t=${EPOCHREALTIME//[.,]/}
	echo $((t / 1000))
}
# boot INIT FLASH: one boot on a fresh copy of FLASH, killed at the marker; prints ms.
boot() {
	local t0 t1 rc=0
	cp --sparse=always "$work/$2" "$work/flash-run.img"
	t0=$(now_ms)
	"$top/scripts/qemu-run.sh" --initrd "$work/$1.gz" --disk "$work/flash-run.img" --timeout 180 \
		--kill-on "$marker" --log "$work/$1.log" || rc=$?
	t1=$(now_ms)
	if [ "$rc" != 137 ]; then
		echo "bench-boot: $1 did not reach the marker (qemu-run status $rc); its console:" >&2
		tail -n 30 "$work/$1.log" >&2
		exit 1
	fi
	echo $((t1 - t0))
}

: >"$work/berth.ms"
: >"$work/first.ms"
: >"$work/busybox.ms"
for i in $(seq 1 "$boots"); do
	boot busybox flash.img >>"$work/busybox.ms"
	boot berth flash-warm.img >>"$work/berth.ms"
	boot berth flash.img >>"$work/first.ms"
	printf 'boot %d/%d: busybox %s ms, berth %s ms, berth first boot %s ms\n' "$i" "$boots" \
		"$(tail -n 1 "$work/busybox.ms")" "$(tail -n 1 "$work/berth.ms")" "$(tail -n 1 "$work/first.ms")" >&2
done

stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%d %d %d\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}
read -r bm bmin bmax < <(stats "$work/berth.ms")
read -r cm cmin cmax < <(stats "$work/first.ms")
read -r fm fmin fmax < <(stats "$work/busybox.ms")
printf '%-17s %10s %8s %8s\n' init median_ms min_ms max_ms
printf '%-17s %10s %8s %8s\n' berth "$bm" "$bmin" "$bmax" "berth first boot" "$cm" "$cmin" "$cmax" \
	busybox "$fm" "$fmin" "$fmax"
awk -v b="$bm" -v c="$cm" -v f="$fm" 'BEGIN {
	printf "ratio berth / busybox (median): %.2f (target: at most 1.2)\n", b / f
	printf "ratio berth first boot / busybox (median): %.2f\n", c / f }'
