# Helpers for images.bats: reference images made with umoci and skopeo from busybox-static,
# archives in every format `berth load` reads, and cleanup of mounts and loop devices.

load helpers

BUSYBOX=${BUSYBOX:-/bin/busybox}

# Skip unless this machine can run the image tests.
require_image_tools() {
	require_root
	local t
	for t in umoci skopeo tar zstd gzip python3; do
		command -v "$t" >/dev/null || skip "$t is not installed"
	done
	[ -x "$BUSYBOX" ] || skip "busybox-static ($BUSYBOX) is not installed"
	file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' ||
		skip "$BUSYBOX is not statically linked (install busybox-static)"
	grep -qw squashfs /proc/filesystems || modprobe squashfs 2>/dev/null ||
		skip "the kernel has no squashfs"
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
		skip "the kernel has no overlayfs"
	[ -e /dev/loop-control ] || modprobe loop 2>/dev/null || skip "no loop devices"
	[ -e /dev/loop-control ] || skip "no /dev/loop-control"
}

# Make the reference images once per bats file, into $REF (set by the caller):
#   $REF/oci              OCI layout: tags `busybox:1.0` (one layer) and `multi:1.0` (two:
#                         a whiteout, an opaque directory, a replaced file) and `bare`
#                         (ref.name is only a tag)
#   $REF/oci.tar(.gz|.zst) the layout tarred
#   $REF/docker.tar       docker save format of busybox:1.0 (skopeo docker-archive)
#   $REF/multi-docker.tar docker save format of multi:1.0
#   $REF/multi.unpacked   umoci unpack of multi:1.0: what a mount must show
make_reference_images() {
	local ref=$1 root=$ref/build
	mkdir -p "$root/base/rootfs/bin" "$root/l2/etc/opq"
	# Layer 1: busybox with its applet links, and files for layer 2 to change.
	cp "$BUSYBOX" "$root/base/rootfs/bin/busybox"
	"$BUSYBOX" --list | while read -r applet; do
		[ "$applet" = busybox ] || ln -sf busybox "$root/base/rootfs/bin/$applet"
	done
	mkdir -p "$root/base/rootfs/etc/opq/sub" "$root/base/rootfs/data"
	echo keep >"$root/base/rootfs/etc/keep"
	echo gone >"$root/base/rootfs/etc/gone"
	echo a >"$root/base/rootfs/etc/opq/a"
	echo b >"$root/base/rootfs/etc/opq/sub/b"
	echo old >"$root/base/rootfs/etc/replace"
	chmod 0644 "$root/base/rootfs/etc/replace"
	echo secret >"$root/base/rootfs/data/private"
	chmod 0600 "$root/base/rootfs/data/private"
	umoci init --layout "$ref/oci"
	umoci new --image "$ref/oci:busybox:1.0"
	umoci unpack --image "$ref/oci:busybox:1.0" "$root/bundle" >/dev/null
	cp -a "$root/base/rootfs/." "$root/bundle/rootfs/"
	umoci repack --image "$ref/oci:busybox:1.0" "$root/bundle" >/dev/null
	umoci config --image "$ref/oci:busybox:1.0" --config.cmd sh \
		--config.env PATH=/bin --config.workingdir /data --config.label org.example=berth \
		--config.exposedports 80/tcp
	# Layer 2, written by hand: OCI whiteouts (image-spec layer.md) as a tar.
	: >"$root/l2/etc/.wh.gone"
	: >"$root/l2/etc/opq/.wh..wh..opq"
	echo c >"$root/l2/etc/opq/c"
	echo new >"$root/l2/etc/replace"
	chmod 0755 "$root/l2/etc/replace"
	tar --numeric-owner --owner=0 --group=0 -C "$root/l2" -cf "$root/l2.tar" etc
	umoci raw add-layer --image "$ref/oci:busybox:1.0" --tag multi:1.0 "$root/l2.tar"
	umoci tag --image "$ref/oci:busybox:1.0" bare
	umoci unpack --image "$ref/oci:multi:1.0" "$root/multi" >/dev/null
	mv "$root/multi/rootfs" "$ref/multi.unpacked"
	umoci gc --layout "$ref/oci"
	(cd "$ref/oci" && tar -cf "$ref/oci.tar" oci-layout index.json blobs)
	gzip -c "$ref/oci.tar" >"$ref/oci.tar.gz"
	zstd -q -c "$ref/oci.tar" >"$ref/oci.tar.zst"
	skopeo --insecure-policy copy -q "oci:$ref/oci:busybox:1.0" \
		"docker-archive:$ref/docker.tar:busybox:1.0" >/dev/null
	skopeo --insecure-policy copy -q "oci:$ref/oci:multi:1.0" \
		"docker-archive:$ref/multi-docker.tar:multi:1.0" >/dev/null
	rm -rf "$root"
}

# The reference images, made once per bats file.
images_setup_file() {
	export REF="$BATS_FILE_TMPDIR/ref"
	if [ "$(id -u)" = 0 ] && command -v umoci >/dev/null && command -v skopeo >/dev/null &&
		[ -x "$BUSYBOX" ]; then
		make_reference_images "$REF" >"$BATS_FILE_TMPDIR/ref.log" 2>&1 ||
			{ cat "$BATS_FILE_TMPDIR/ref.log" >&3; return 1; }
	fi
}

images_setup() {
	berth_setup
	require_image_tools
	[ -f "$REF/oci.tar" ] || skip "reference images were not made"
}

# Unmount everything under the test dir (our mounts, then layer mounts), even after a
# failure; then check nothing of it is left: no mount, no loop device backed by its files.
images_teardown() {
	[ -n "${TMP:-}" ] || return 0
	local mp i
	release_layer_mounts
	for i in 1 2 3; do
		for mp in $(awk -v t="$TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
			"$BERTH" image umount "$mp" >/dev/null 2>&1 || umount -l "$mp" 2>/dev/null || true
		done
	done
	local left
	left=$(awk -v t="$TMP" 'index($5, t) == 1' /proc/self/mountinfo)
	# Autoclear loop devices go when their mount goes, which a lazy unmount may delay.
	for i in $(seq 1 50); do
		losetup -a 2>/dev/null | grep -q "$TMP" || break
		sleep 0.1
	done
	local loops
	loops=$(losetup -a 2>/dev/null | grep "$TMP" || true)
	berth_teardown
	if [ -n "$left" ] || [ -n "$loops" ]; then
		echo "left behind: $left $loops"
		return 1
	fi
}

# Load an archive quietly; fail the test with berth's output if it fails.
berth_load() {
	run "$BERTH" load "$@"
	if [ "$status" -ne 0 ]; then
		echo "berth load $* failed ($status): $output"
		return 1
	fi
}

# A listing of the data root (names, sizes, modes), ignoring tmp/ and lock files.
root_listing() {
	(cd "$BERTH_ROOT" 2>/dev/null && find . -path ./tmp -prune -o ! -name '*.lock' \
		-printf '%p %s %m\n' | sort)
}

# The file tree of a directory as path, type, mode and, for files, a checksum.
tree_listing() {
	(cd "$1" && find . -mindepth 1 -printf '%p %y %m %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort -k2)
}

# multi:1.0 mounted through berth equals what umoci unpacked, and the store verifies clean.
multi_mounts_as_unpacked() {
	"$BERTH" image mount multi:1.0 "$TMP/mnt"
	diff -r --no-dereference "$TMP/mnt" "$REF/multi.unpacked"
	diff <(tree_listing "$TMP/mnt") <(tree_listing "$REF/multi.unpacked")
	"$BERTH" image umount "$TMP/mnt"
	run "$BERTH" store verify
	[ "$status" -eq 0 ]
}

# Digest of an image's manifest (what refs.json names), config and layers, from inspect.
image_digests() {
	"$BERTH" image inspect "$1" | python3 -c '
import json, sys
i = json.load(sys.stdin)[0]
print(i["Id"], i["Metadata"]["Manifest"], " ".join(i["RootFS"]["Layers"]))'
}

# Make an archive from a directory tree (entries as given, in order) with Python's tarfile,
# which writes what GNU tar would refuse to (absolute and escaping names).
py_tar() {
	python3 - "$@" <<'EOF'
import io, sys, tarfile
out, entries = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for e in entries:
        name, _, src = e.partition("=")
        data = open(src, "rb").read() if src else b""
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
EOF
}
