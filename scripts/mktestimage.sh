#!/usr/bin/env bash
# Make a small test image from busybox-static as a docker-save archive, for the QEMU guest
# tests (which cannot run umoci themselves). Usage: scripts/mktestimage.sh OUT.tar [NAME:TAG]
# BIG_MB=N adds N MiB of random (incompressible) data in /srv/big, for pulls that take a while.
set -euo pipefail
out=${1:?usage: mktestimage.sh OUT.tar [NAME:TAG]}
name=${2:-app:1}
busybox=${BUSYBOX:-/bin/busybox}
for t in umoci skopeo; do
	command -v $t >/dev/null || { echo "mktestimage: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umoci init --layout "$tmp/oci" >/dev/null
umoci new --image "$tmp/oci:$name" >/dev/null
umoci unpack --image "$tmp/oci:$name" "$tmp/b" >/dev/null
r=$tmp/b/rootfs
mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/srv" "$r/proc" "$r/dev" "$r/sys"
cp "$busybox" "$r/bin/busybox"
for a in $("$busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$r/etc/group"
echo 'from the image' >"$r/srv/content"
[ "${BIG_MB:-0}" = 0 ] || head -c "$((BIG_MB * 1048576))" /dev/urandom >"$r/srv/big"
chmod 1777 "$r/tmp"
umoci repack --image "$tmp/oci:$name" "$tmp/b" >/dev/null
umoci config --image "$tmp/oci:$name" --config.cmd sh --config.env PATH=/bin >/dev/null
mkdir -p "$(dirname "$out")"
rm -f "$out"
skopeo --insecure-policy copy -q "oci:$tmp/oci:$name" "docker-archive:$out:$name" >/dev/null
