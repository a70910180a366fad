#!/usr/bin/env bash
# Copy the dependency headers berth includes into one directory for `make musl-check`.
# musl-gcc searches only musl's own include dir, and must never see glibc's /usr/include,
# so the library headers (and linux/, asm/, asm-generic/ for seccomp.h) are copied, not added.
set -euo pipefail
out=${1:?usage: musl-headers.sh OUTDIR}
inc=/usr/include
multi=$inc/$(gcc -print-multiarch)

rm -rf "$out.tmp"
mkdir -p "$out.tmp"
cp -r "$inc/linux" "$inc/asm-generic" "$inc/mtd" "$out.tmp/" 2>/dev/null || cp -r "$inc/linux" "$inc/asm-generic" "$out.tmp/"
cp -r "$multi/asm" "$out.tmp/asm"
cp -r "$inc/mbedtls" "$inc/lzma" "$out.tmp/"
[ -d "$inc/psa" ] && cp -r "$inc/psa" "$out.tmp/"
for h in ini.h archive.h archive_entry.h jansson.h jansson_config.h seccomp.h seccomp-syscalls.h \
	yaml.h zlib.h zconf.h zstd.h lzma.h libdeflate.h; do
	if [ -f "$inc/$h" ]; then
		cp "$inc/$h" "$out.tmp/"
	elif [ -f "$multi/$h" ]; then
		cp "$multi/$h" "$out.tmp/"
	elif [ -f "$inc/inih/$h" ]; then
		cp "$inc/inih/$h" "$out.tmp/"
	fi
done
rm -rf "$out"
mv "$out.tmp" "$out"
