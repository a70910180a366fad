#!/usr/bin/env bash
# Pull benchmark: time to a runnable image, for the same multi-layer image from the same local
# registry (docker-registry on 127.0.0.1 with TLS and htpasswd, as the system tests start it):
# `berth pull` (download, verify, convert to squashfs) versus `skopeo copy` to an OCI layout
# plus `umoci unpack`, what a crun user must do. Prints wall time, CPU time, peak RSS and the
# bytes left on flash for each, and berth/peer ratios. Timings vary by machine: compare ratios.
# Usage: scripts/bench-pull.sh [-r RUNS] [-m RANDOM_MB] [-l LEVEL] [DIR...]
#   the image is busybox, a layer of RANDOM_MB (default 25) MiB of random data, and one layer
#   per DIR (relative to /; default usr/include usr/share/doc); LEVEL is berth's
#   [store] compression-level (default: zstd 6)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build}
BERTH=${BERTH:-$O/berth}
runs=1 rand_mb=25 level=default
while getopts r:m:l: opt; do
	case $opt in
	r) runs=$OPTARG ;;
	m) rand_mb=$OPTARG ;;
	l) level=$OPTARG ;;
	*) sed -n 's/^# \{0,1\}//; 2,11p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(usr/include usr/share/doc)

for t in skopeo umoci docker-registry openssl htpasswd curl /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench-pull: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench-pull: run as root (umoci unpack, berth's store)" >&2; exit 1; }
[ -x "$BERTH" ] || make -s -C "$top" O="$O" >&2

# The registry fixtures of the system tests; `skip` is theirs for a missing tool.
skip() { echo "bench-pull: $*" >&2; exit 1; }
# shellcheck source=tests/system/registry_helpers.bash
. "$top/tests/system/registry_helpers.bash"
reg_require
export BATS_TMPDIR=${TMPDIR:-/var/tmp}
reg_setup_dir
work=$REG_DIR/bench
# reg_stop_all's last kill -9 of an exited pid fails, which set -e would stop at.
trap 'set +e; reg_stop_all' EXIT
reg_make_certs
reg_start_basic
mkdir -p "$work/certs"
cp "$REG_CA" "$work/certs/ca.crt"

# The image: busybox, then the random layer, then one layer per DIR; pushed gzip-compressed.
"$top/scripts/mktestimage.sh" "$work/app.tar" app:1
skopeo --insecure-policy copy -q "docker-archive:$work/app.tar" "oci:$work/src:img"
umoci unpack --image "$work/src:img" "$work/b" >/dev/null
head -c "${rand_mb}M" /dev/urandom >"$work/b/rootfs/srv/random"
umoci repack --refresh-bundle --image "$work/src:img" "$work/b" >/dev/null
for d in "${dirs[@]}"; do
	mkdir -p "$work/b/rootfs/$(dirname "$d")"
	cp -a "/$d" "$work/b/rootfs/$d"
	umoci repack --refresh-bundle --image "$work/src:img" "$work/b" >/dev/null
done
rm -rf "$work/b"
skopeo --insecure-policy copy -q "--dest-creds=$REG_USER:$REG_PASS" --dest-cert-dir "$work/certs" \
	"oci:$work/src:img" "docker://$REG_HOSTPORT/bench:1"
rm -rf "$work/src" "$work/app.tar"
blob_mb=$(skopeo inspect --cert-dir "$work/certs" --creds "$REG_USER:$REG_PASS" --raw \
	"docker://$REG_HOSTPORT/bench:1" |
	"$REG_PY" -c 'import json,sys; m=json.load(sys.stdin); print("%d layers, %.1f" % (len(m["layers"]), sum(l["size"] for l in m["layers"]) / 1048576))')
echo "image: busybox + ${rand_mb} MiB random + ${dirs[*]}: $blob_mb MiB compressed"
echo "berth: zstd squashfs, compression-level $level; best of $runs"

printf '[registry "%s"]\nusername = %s\npassword = %s\nca-file = %s\n' "$REG_HOSTPORT" \
	"$REG_USER" "$REG_PASS" "$REG_CA" >"$work/berth.conf"
printf '[store]\ncompression = zstd\ncompression-level = %s\n' "$level" >>"$work/berth.conf"

# run NAME CMD...: best wall time of $runs from an empty target; CPU (user+sys) and peak RSS
# of that run, and the bytes its result takes on disk.
declare -A wall cpu rss disk
run() {
	local name=$1 best="" out e u s m
	shift
	for _ in $(seq "$runs"); do
		rm -rf "$work/out"
		mkdir -p "$work/out"
		sync
		out=$(/usr/bin/time -f '%e %U %S %M' "$@" 2>&1 >/dev/null </dev/null | tail -n 1)
		read -r e u s m <<<"$out"
		sync
		if [ -z "$best" ] || awk "BEGIN { exit !($e < $best) }"; then
			best=$e
			wall[$name]=$e
			cpu[$name]=$(awk "BEGIN { print $u + $s }")
			rss[$name]=$m
			disk[$name]=$(du -sb "$work/out" | cut -f1)
		fi
	done
	rm -rf "$work/out"
}

run berth env BERTH_CONFIG="$work/berth.conf" BERTH_ROOT="$work/out/root" \
	BERTH_RUN_DIR="$work/run" "$BERTH" pull -q "$REG_HOSTPORT/bench:1"
run skopeo+umoci sh -c "skopeo --insecure-policy copy -q --src-cert-dir '$work/certs' \
	--src-creds '$REG_USER:$REG_PASS' 'docker://$REG_HOSTPORT/bench:1' 'oci:$work/out/oci:img' &&
	exec umoci unpack --image '$work/out/oci:img' '$work/out/bundle'"

printf '%-13s %9s %9s %10s %10s\n' tool wall_s cpu_s rss_MiB disk_MiB
for n in berth skopeo+umoci; do
	printf '%-13s %9s %9s %10.1f %10.1f\n' "$n" "${wall[$n]}" "${cpu[$n]}" \
		"$(awk "BEGIN { print ${rss[$n]} / 1024 }")" "$(awk "BEGIN { print ${disk[$n]} / 1048576 }")"
done
echo "ratios (berth / peer; below 1 is better for berth):"
awk -v bw="${wall[berth]}" -v pw="${wall[skopeo+umoci]}" -v bc="${cpu[berth]}" \
	-v pc="${cpu[skopeo+umoci]}" -v br="${rss[berth]}" -v pr="${rss[skopeo+umoci]}" \
	-v bd="${disk[berth]}" -v pd="${disk[skopeo+umoci]}" \
	'BEGIN { printf "  vs skopeo+umoci  wall %.2f  cpu %.2f  rss %.2f  disk %.2f\n", bw / pw, bc / pc, br / pr, bd / pd }'
