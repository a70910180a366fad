#!/usr/bin/env bash
# Layer conversion benchmark: the same uncompressed tar turned into squashfs by berth's
# converter, by tar2sqfs and by `mksquashfs -tar`, with the same compressor, level, block size
# and thread count, in one run. Prints wall time, CPU time, peak RSS and image size for each,
# and berth/peer ratios. Timings vary by machine: compare the ratios.
# Usage: scripts/bench-convert.sh [-c zstd|gzip|xz] [-l LEVEL] [-B LEVEL] [-j THREADS] [-r RUNS]
#                                  [-s] [DIR...]
#   DIR... (relative to /) make the input tar; default usr/lib/gcc usr/include usr/share/doc
#   -s: also count the bytes each tool feeds its compressor and the CPU time spent inside it
#       (berth's converter is then linked with shared libraries, as the peers are, so that the
#       counter can stand in for their calls: make SHARED=1 in $O/shared)
#   levels: zstd 15, gzip 9, xz 6 unless -l; mksquashfs takes no xz level (it runs preset 6)
#   -B: berth's own level, for setting a lower berth level against the peers' -l; the size
#       ratio then says what the lower level costs in image size
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build}
comp=zstd level= blevel= jobs=$(nproc) runs=1 count=
while getopts c:l:B:j:r:s opt; do
	case $opt in
	c) comp=$OPTARG ;;
	l) level=$OPTARG ;;
	B) blevel=$OPTARG ;;
	j) jobs=$OPTARG ;;
	r) runs=$OPTARG ;;
	s) count=1 ;;
	*) sed -n 's/^# \{0,1\}//; 2,14p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(usr/lib/gcc usr/include usr/share/doc)
if [ -z "$level" ]; then
	case $comp in zstd) level=15 ;; xz) level=6 ;; *) level=9 ;; esac
fi
blevel=${blevel:-$level} bnote=
[ "$blevel" = "$level" ] || bnote=" (berth $blevel)"
block=131072

for t in tar2sqfs mksquashfs /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench-convert: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
tar2layer=$O/tools/tar2layer
preload=
if [ -n "$count" ]; then
	tar2layer=$O/shared/tools/tar2layer
	make -s -C "$top" O="$O/shared" SHARED=1 "$tar2layer" >&2
	preload=$O/tools/compress_count.so
	mkdir -p "$O/tools"
	cc -O2 -shared -fPIC -o "$preload" "$top/tests/tools/compress_count.c" -ldl
else
	make -s -C "$top" O="$O" "$tar2layer" >&2
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -C / --numeric-owner -cf "$work/in.tar" "${dirs[@]}" 2>/dev/null || true
in_mb=$(( $(stat -c %s "$work/in.tar") / 1048576 ))
echo "input: ${dirs[*]} ($in_mb MiB tar), $comp level $level$bnote, block $block, $jobs threads, best of $runs"

# run NAME CMD...: one run; keeps the best wall time, with CPU (user+sys) and peak RSS of that
# run. The tools take turns run after run, so load from other work falls on each alike.
declare -A wall cpu rss size fed
run() {
	local name=$1 out
	shift
	rm -f "$work/out.sqfs"
	sync
	out=$(/usr/bin/time -f '%e %U %S %M' env ${preload:+LD_PRELOAD="$preload"} "$@" 2>&1 \
		>/dev/null </dev/null)
	read -r e u s m <<<"$(tail -n 1 <<<"$out")"
	if [ -z "${wall[$name]:-}" ] || awk "BEGIN { exit !($e < ${wall[$name]}) }"; then
		fed[$name]=$(sed -n 's/^compress-count: //p' <<<"$out")
		wall[$name]=$e
		cpu[$name]=$(awk "BEGIN { print $u + $s }")
		rss[$name]=$m
		size[$name]=$(stat -c %s "$work/out.sqfs")
	fi
}

case $comp in
zstd) t2s_x="level=$level" mk_x=(-Xcompression-level "$level") ;;
gzip) t2s_x="level=$level" mk_x=(-Xcompression-level "$level") ;;
xz)
	# Dictionary: one block for all three (the tools' default). mksquashfs has no level.
	t2s_x="level=$level" mk_x=()
	[ "$level" = 6 ] || echo "bench-convert: note: mksquashfs runs xz preset 6, not $level" >&2
	;;
*) echo "bench-convert: -c zstd, gzip or xz" >&2; exit 2 ;;
esac

for _ in $(seq "$runs"); do
	run berth "$tar2layer" -c "$comp" -l "$blevel" -b $block -j "$jobs" "$work/in.tar" "$work/out.sqfs"
	run tar2sqfs sh -c "exec tar2sqfs -q -f -c $comp -X $t2s_x -b $block -j $jobs '$work/out.sqfs' < '$work/in.tar'"
	run mksquashfs sh -c "exec mksquashfs - '$work/out.sqfs' -tar -quiet -no-progress -noappend -comp $comp \
		${mk_x[*]} -b $block -processors $jobs < '$work/in.tar'"
done

printf '%-11s %9s %9s %10s %12s\n' tool wall_s cpu_s rss_MiB image_MiB
for n in berth tar2sqfs mksquashfs; do
	printf '%-11s %9s %9s %10d %12.1f\n' "$n" "${wall[$n]}" "${cpu[$n]}" $((rss[$n] / 1024)) \
		"$(awk "BEGIN { print ${size[$n]} / 1048576 }")"
done
echo "ratios (berth / peer; below 1 is better for berth):"
for n in tar2sqfs mksquashfs; do
	awk -v n="$n" -v bw="${wall[berth]}" -v pw="${wall[$n]}" -v bc="${cpu[berth]}" -v pc="${cpu[$n]}" \
		-v br="${rss[berth]}" -v pr="${rss[$n]}" -v bs="${size[berth]}" -v ps="${size[$n]}" \
		'BEGIN { printf "  vs %-10s wall %.2f  cpu %.2f  rss %.2f  size %.3f\n", n, bw / pw, bc / pc, br / pr, bs / ps }'
done
if [ -n "$count" ]; then
	echo "fed to the compressor (calls, MiB, CPU inside it):"
	for n in berth tar2sqfs mksquashfs; do
		printf '  %-10s %s\n' "$n" "${fed[$n]}"
	done
fi
