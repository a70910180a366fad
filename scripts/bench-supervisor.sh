#!/usr/bin/env bash
# Supervisor footprint: `berth daemon` with 0, 1 and 10 running app containers (busybox
# `sleep`), its RSS and PSS (/proc/PID/smaps_rollup) at each step, the per-container overhead,
# and the processes per container besides the container's own (target: none; peers run a
# shim per container), in the steady state (5 s after the last start: the supervisor hands
# the code pages it ran back to the kernel 3 s after starts). Uses the static build when
# there is one ($O/static/berth, else $O/berth).
# Target: at most 1.5 MB RSS with 10 containers. Also shows the anonymous part (heap, stack,
# data: what the supervisor itself costs, apart from the binary's file-backed pages).
# Usage: scripts/bench-supervisor.sh [BERTH]
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build}
berth=${1:-}
if [ -z "$berth" ]; then
	if [ -x "$O/static/berth" ]; then berth=$O/static/berth; else make -s -C "$top" O="$O" "$O/berth" >&2; berth=$O/berth; fi
fi
[ "$(id -u)" = 0 ] || { echo "bench-supervisor: needs root" >&2; exit 1; }
for t in umoci skopeo; do
	command -v "$t" >/dev/null || { echo "bench-supervisor: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
[ -x /bin/busybox ] || { echo "bench-supervisor: busybox-static missing (scripts/deps.sh)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench.XXXXXX")
export BERTH_ROOT=$work/root BERTH_RUN_DIR=$work/run BERTH_CONFIG=$work/berth.conf
daemon=
cleanup() {
	set +e
	if [ -n "$daemon" ]; then kill -TERM "$daemon"; wait "$daemon"; fi
	grep -F " $work/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | xargs -r -n1 umount -l
	rm -rf "$work"
}
trap cleanup EXIT
: >"$BERTH_CONFIG"

# A busybox image, as the system tests make it.
ref=$work/ref
umoci init --layout "$ref" >/dev/null
umoci new --image "$ref:b" >/dev/null
umoci unpack --image "$ref:b" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
ln -s busybox "$work/bundle/rootfs/bin/sh"
ln -s busybox "$work/bundle/rootfs/bin/sleep"
umoci repack --image "$ref:b" "$work/bundle" >/dev/null
umoci config --image "$ref:b" --config.env PATH=/bin --config.cmd sleep --config.cmd 100000 >/dev/null
skopeo --insecure-policy copy -q "oci:$ref:b" "docker-archive:$work/b.tar:sleeper:1" >/dev/null
"$berth" load -q -i "$work/b.tar"
mkdir -p "$work/apps"
printf '[daemon]\napps-dir = %s\n' "$work/apps" >"$BERTH_CONFIG"

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/smaps_rollup"; }
running() { "$berth" status --format json | grep -c '"state": "running"' || true; }

measure() { # N: with N apps, wait for them to run, then report
	local n=$1 i
	for i in $(seq 1 "$n"); do
		[ -f "$work/apps/s$i.conf" ] || printf '[app]\nimage = sleeper:1\n' >"$work/apps/s$i.conf"
	done
	if [ -n "$daemon" ]; then kill -TERM "$daemon"; wait "$daemon" || true; fi
	"$berth" daemon 2>>"$work/daemon.log" &
	daemon=$!
	for i in $(seq 300); do
		[ "$(running 2>/dev/null)" = "$n" ] && break
		sleep 0.1
	done
	[ "$(running)" = "$n" ] || { echo "bench-supervisor: $n containers did not come up" >&2; cat "$work/daemon.log" >&2; exit 1; }
	sleep 5
	local rss pss anon kids
	rss=$(kb "$daemon" Rss)
	pss=$(kb "$daemon" Pss)
	anon=$(kb "$daemon" Anonymous)
	# children of the supervisor: each container's first process, and nothing else
	kids=$( (ps -o pid= --ppid "$daemon" || true) | wc -l)
	printf '%-12s %10s %10s %10s %12s\n' "$n" "$rss" "$pss" "$anon" "$((kids - n))"
	eval "rss_$n=$rss anon_$n=$anon"
}

echo "berth: $berth ($(file -b "$berth" | cut -d, -f1-2))"
printf '%-12s %10s %10s %10s %12s\n' containers "RSS kB" "PSS kB" "anon kB" "extra procs"
measure 0
measure 1
measure 10
echo "per container: $(( (rss_10 - rss_0) / 10 )) kB RSS, $(( (anon_10 - anon_0) / 10 )) kB anonymous"
echo "(RSS counts the binary's text and rodata pages the kernel mapped in: file-backed, in the"
echo " page cache anyway and shared with every berth command; anonymous memory is the supervisor's own)"
echo "target: RSS with 10 containers <= 1536 kB: $([ "$rss_10" -le 1536 ] && echo met || echo NOT met)"
