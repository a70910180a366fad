#!/usr/bin/env bats
# Layer conversion as a pull or a load does it: a (compressed) tar layer streamed into one
# squashfs file, checked against its diff_id, whiteouts made into overlayfs whiteouts.
# Oracles: the kernel mounts the result, libarchive (bsdtar) extracts the same tar, overlayfs
# stacks it over a lower layer.

load helpers
load tree_helpers

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
PY=/usr/bin/python3

setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	local build
	build=$(realpath -m "$(dirname "$BERTH")")
	make -s -C "$TOP" O="$build" "$build/tools/tar2layer" >&2
	export T2L=$build/tools/tar2layer
	export SRC=$BATS_FILE_TMPDIR/src TREE_TAR=$BATS_FILE_TMPDIR/tree.tar
	make_tree "$SRC"
	# GNU tar: pax headers for xattrs, sparse files as sparse (sockets are not archived).
	tar --xattrs --xattrs-include='*' --sparse --numeric-owner -C "$SRC" -cf "$TREE_TAR" . 2>/dev/null
}

setup() {
	require_root
	grep -qw squashfs /proc/filesystems || modprobe squashfs 2>/dev/null ||
		skip "the kernel has no squashfs support"
	losetup -f >/dev/null 2>&1 || skip "no free loop device"
	for t in bsdtar getfattr zstd gzip; do
		command -v $t >/dev/null || skip "$t is not installed (scripts/deps.sh)"
	done
	berth_setup
}

teardown() {
	local m
	for m in "$TMP"/merged "$TMP"/mnt*; do
		[ -d "$m" ] || continue
		while mountpoint -q "$m"; do umount "$m" || umount -l "$m"; done
	done
	berth_teardown
}

# The tar extracted by libarchive, as a user of the layer would see it.
extract() {
	mkdir -p "$2"
	bsdtar -x --xattrs -p --numeric-owner -f "$1" -C "$2"
}

# A tar made entry by entry: python3 tarfile, so that hostile layers can be written too.
# Each argument is TYPE:NAME[:ARG] with TYPE f (ARG = content), d, l (symlink to ARG),
# h (hard link to ARG), c (char device 0:0).
craft_tar() {
	local out=$1
	shift
	$PY - "$out" "$@" <<'PYEOF'
import io, sys, tarfile
out = sys.argv[1]
with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as t:
    for spec in sys.argv[2:]:
        kind, name, *rest = spec.split(':', 2)
        arg = rest[0] if rest else ''
        i = tarfile.TarInfo(name)
        i.mtime = 1600000000
        i.mode = 0o755 if kind == 'd' else 0o644
        data = None
        if kind == 'f':
            data = arg.encode(); i.size = len(data)
        elif kind == 'd':
            i.type = tarfile.DIRTYPE
        elif kind == 'l':
            i.type = tarfile.SYMTYPE; i.linkname = arg
        elif kind == 'h':
            i.type = tarfile.LNKTYPE; i.linkname = arg
        elif kind == 'c':
            i.type = tarfile.CHRTYPE; i.devmajor = 0; i.devminor = 0
        t.addfile(i, io.BytesIO(data) if data is not None else None)
PYEOF
}

# Store-side listing: what a failed conversion must not have left behind.
store_listing() {
	(cd "$BERTH_ROOT" 2>/dev/null && find . | LC_ALL=C sort)
}

chain=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef

@test "layer: a tar with every file type mounts equal to the same tar extracted by libarchive" {
	gzip -c "$TREE_TAR" >"$TMP/tree.tar.gz"
	run "$T2L" "$TMP/tree.tar.gz" "$TMP/tree.sqfs"
	[ "$status" -eq 0 ]
	extract "$TREE_TAR" "$TMP/extracted"
	mkdir "$TMP/mnt"
	mount -t squashfs -o loop,ro "$TMP/tree.sqfs" "$TMP/mnt"
	# bsdtar leaves the time of the directory it extracts into alone; the layer keeps the
	# tar's `./` entry. Everything else must agree.
	manifest "$TMP/extracted" | grep -v '^|d|' >"$TMP/want"
	manifest "$TMP/mnt" | grep -v '^|d|' >"$TMP/got"
	diff -u "$TMP/want" "$TMP/got"
	[ "$(stat -c %Y "$TMP/mnt")" = "$(stat -c %Y "$SRC")" ]
	# unsquashfs reads the same image without complaint.
	unsquashfs -lln "$TMP/tree.sqfs" >/dev/null
}

@test "layer: uncompressed, gzip and zstd layers give the same image and the tar's diff_id" {
	gzip -c "$TREE_TAR" >"$TMP/l.tar.gz"
	zstd -q -c "$TREE_TAR" >"$TMP/l.tar.zst"
	want="sha256:$(sha256sum "$TREE_TAR" | cut -d' ' -f1)"
	for f in "$TREE_TAR" "$TMP/l.tar.gz" "$TMP/l.tar.zst"; do
		run "$T2L" -t 1 "$f" "$TMP/$(basename "$f").sqfs"
		[ "$status" -eq 0 ]
		[ "$output" = "$want" ]
	done
	cmp "$TMP/tree.tar.sqfs" "$TMP/l.tar.gz.sqfs"
	cmp "$TMP/tree.tar.sqfs" "$TMP/l.tar.zst.sqfs"
}

@test "layer: a busybox rootfs layer runs busybox when mounted" {
	[ -x /bin/busybox ] || skip "busybox-static is not installed"
	mkdir -p "$TMP/rootfs/bin" "$TMP/rootfs/etc" "$TMP/rootfs/tmp"
	cp /bin/busybox "$TMP/rootfs/bin/"
	for a in sh ls cat echo; do ln -s busybox "$TMP/rootfs/bin/$a"; done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$TMP/rootfs/etc/passwd"
	tar -C "$TMP/rootfs" -czf "$TMP/rootfs.tar.gz" .
	run "$T2L" "$TMP/rootfs.tar.gz" "$TMP/rootfs.sqfs"
	[ "$status" -eq 0 ]
	mkdir "$TMP/mnt"
	mount -t squashfs -o loop,ro "$TMP/rootfs.sqfs" "$TMP/mnt"
	run chroot "$TMP/mnt" /bin/sh -c 'echo hello from $(cat /etc/passwd | cut -d: -f1)'
	[ "$status" -eq 0 ]
	[ "$output" = "hello from root" ]
}

@test "layer: OCI whiteouts hide lower files and opaque directories under overlayfs" {
	grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlayfs"
	craft_tar "$TMP/lower.tar" d:etc f:etc/keep:keep f:etc/gone:gone d:var d:var/cache \
		f:var/cache/old:old f:replaced:v1
	craft_tar "$TMP/upper.tar" d:etc f:etc/.wh.gone: d:var/cache f:var/cache/.wh..wh..opq: \
		f:var/cache/new:new f:replaced:v2
	"$T2L" "$TMP/lower.tar" "$TMP/lower.sqfs" >/dev/null
	"$T2L" "$TMP/upper.tar" "$TMP/upper.sqfs" >/dev/null
	mkdir -p "$TMP/mnt-lower" "$TMP/mnt-upper" "$TMP/merged"
	mount -t squashfs -o loop,ro "$TMP/lower.sqfs" "$TMP/mnt-lower"
	mount -t squashfs -o loop,ro "$TMP/upper.sqfs" "$TMP/mnt-upper"
	# The layer itself holds overlayfs's own whiteout forms.
	[ "$(stat -c '%F %t:%T' "$TMP/mnt-upper/etc/gone")" = "character special file 0:0" ]
	[ "$(getfattr --only-values -n trusted.overlay.opaque "$TMP/mnt-upper/var/cache")" = y ]
	[ ! -e "$TMP/mnt-upper/etc/.wh.gone" ]
	mount -t overlay overlay -o "ro,lowerdir=$TMP/mnt-upper:$TMP/mnt-lower" "$TMP/merged"
	[ "$(cat "$TMP/merged/etc/keep")" = keep ]
	[ ! -e "$TMP/merged/etc/gone" ]
	[ "$(ls "$TMP/merged/var/cache")" = new ]
	[ "$(cat "$TMP/merged/replaced")" = v2 ]
	umount "$TMP/merged"
}

@test "layer: the last of duplicate entries wins, as when tar extracts" {
	craft_tar "$TMP/dup.tar" f:a:first f:a:second d:dir f:dir/x:x l:dir:a f:b:b
	"$T2L" "$TMP/dup.tar" "$TMP/dup.sqfs" >/dev/null
	mkdir "$TMP/mnt"
	mount -t squashfs -o loop,ro "$TMP/dup.sqfs" "$TMP/mnt"
	[ "$(cat "$TMP/mnt/a")" = second ]
	[ "$(readlink "$TMP/mnt/dir")" = a ]
}

@test "layer: hostile tars are rejected and leave nothing in the store" {
	craft_tar "$TMP/dotdot.tar" f:../escape:x
	craft_tar "$TMP/dotdot2.tar" d:a f:a/../../escape:x
	craft_tar "$TMP/abs.tar" f:/etc/evil:x
	craft_tar "$TMP/hardlink.tar" f:a:x h:b:../../etc/passwd
	craft_tar "$TMP/hardlink2.tar" h:b:not-seen-yet f:not-seen-yet:x
	craft_tar "$TMP/through-symlink.tar" l:etc:/etc f:etc/passwd:evil
	craft_tar "$TMP/badwhiteout.tar" f:.wh..:x
	head -c 3000 "$TREE_TAR" >"$TMP/truncated.tar"
	gzip -c "$TREE_TAR" | head -c 20000 >"$TMP/truncated.tar.gz"
	head -c 5000 /dev/urandom >"$TMP/garbage.tar"
	mkdir -p "$BERTH_ROOT"
	before=$(store_listing)
	for f in dotdot dotdot2 abs hardlink hardlink2 through-symlink badwhiteout truncated garbage; do
		for ext in .tar .tar.gz; do
			[ -f "$TMP/$f$ext" ] || continue
			run "$T2L" --store "$BERTH_ROOT" --chain "$chain" "$TMP/$f$ext"
			echo "$f$ext: $output"
			[ "$status" -ne 0 ]
			[ -n "$output" ]
		done
	done
	[ ! -e /etc/evil ] && [ ! -e "$TMP/../escape" ]
	# Nothing but the empty directories a conversion makes first.
	run store_listing
	[ -z "$(echo "$output" | grep -vE '^\.(/layers|/tmp)?$')" ]
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" "$TMP/dotdot.tar"
	[[ "$output" == *"escapes the layer root"* ]]
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" "$TMP/through-symlink.tar"
	[[ "$output" == *"etc/passwd"* ]]
}

@test "layer: a diff_id mismatch stores nothing; the right one stores the layer once" {
	wrong=sha256:$(printf x | sha256sum | cut -d' ' -f1)
	right=sha256:$(sha256sum "$TREE_TAR" | cut -d' ' -f1)
	gzip -c "$TREE_TAR" >"$TMP/l.tar.gz"
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" --diff-id "$wrong" "$TMP/l.tar.gz"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not match its diff_id"* ]]
	[ ! -e "$BERTH_ROOT/layers/$chain.sqfs" ]
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" --diff-id "$right" "$TMP/l.tar.gz"
	[ "$status" -eq 0 ]
	[ -f "$BERTH_ROOT/layers/$chain.sqfs" ]
	# Present: skipped without reading the stream (garbage input is fine then).
	head -c 100 /dev/urandom >"$TMP/junk"
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" "$TMP/junk"
	[ "$status" -eq 0 ]
}

@test "layer: a sparse file over 4 GiB in a tar is stored as holes" {
	mkdir "$TMP/sp"
	truncate -s $((5 * 1024 * 1024 * 1024)) "$TMP/sp/big"
	printf head | dd of="$TMP/sp/big" conv=notrunc status=none
	printf tail | dd of="$TMP/sp/big" bs=1 seek=$((5 * 1024 * 1024 * 1024 - 4)) conv=notrunc status=none
	tar --sparse -C "$TMP/sp" -cf "$TMP/sp.tar" big
	run "$T2L" "$TMP/sp.tar" "$TMP/sp.sqfs"
	[ "$status" -eq 0 ]
	[ "$(stat -c %s "$TMP/sp.sqfs")" -lt $((1024 * 1024)) ]
	mkdir "$TMP/mnt"
	mount -t squashfs -o loop,ro "$TMP/sp.sqfs" "$TMP/mnt"
	[ "$(stat -c %s "$TMP/mnt/big")" -eq $((5 * 1024 * 1024 * 1024)) ]
	[ "$(head -c 4 "$TMP/mnt/big")" = head ]
	[ "$(tail -c 4 "$TMP/mnt/big")" = tail ]
	[ "$(dd if="$TMP/mnt/big" bs=1M skip=3000 count=1 status=none | tr -d '\0' | wc -c)" -eq 0 ]
}

@test "layer: the dir format extracts the same tree the squashfs format holds" {
	"$T2L" "$TREE_TAR" "$TMP/tree.sqfs" >/dev/null
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" --dir "$TREE_TAR"
	[ "$status" -eq 0 ]
	[ -d "$BERTH_ROOT/layers/$chain" ]
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
	mkdir "$TMP/mnt"
	mount -t squashfs -o loop,ro "$TMP/tree.sqfs" "$TMP/mnt"
	manifest "$TMP/mnt" | grep -v '^|d|' >"$TMP/want"
	manifest "$BERTH_ROOT/layers/$chain" | grep -v '^|d|' >"$TMP/got"
	diff -u "$TMP/want" "$TMP/got"
}

@test "layer: the dir format makes overlayfs whiteouts and refuses hostile tars" {
	craft_tar "$TMP/upper.tar" d:etc f:etc/.wh.gone: d:var/cache f:var/cache/.wh..wh..opq: f:var/cache/new:new
	run "$T2L" --store "$BERTH_ROOT" --chain "$chain" --dir "$TMP/upper.tar"
	[ "$status" -eq 0 ]
	l=$BERTH_ROOT/layers/$chain
	[ "$(stat -c '%F %t:%T' "$l/etc/gone")" = "character special file 0:0" ]
	[ "$(getfattr --only-values -n trusted.overlay.opaque "$l/var/cache")" = y ]
	other=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
	craft_tar "$TMP/dotdot.tar" f:../escape:x
	craft_tar "$TMP/through-symlink.tar" l:etc:/etc f:etc/berth-evil:evil
	craft_tar "$TMP/hardlink.tar" f:a:x h:b:../../etc/passwd
	touch "$TMP/victim"
	craft_tar "$TMP/whiteout-through-symlink.tar" l:t:"$TMP" f:t/.wh.victim:
	for f in dotdot through-symlink hardlink whiteout-through-symlink; do
		run "$T2L" --store "$BERTH_ROOT" --chain "$other" --dir "$TMP/$f.tar"
		echo "$f: $output"
		[ "$status" -ne 0 ]
	done
	[ ! -e /etc/berth-evil ] && [ ! -e "$BERTH_ROOT/layers/$other" ]
	[ -f "$TMP/victim" ]
	[ -z "$(ls -A "$BERTH_ROOT/tmp")" ]
}
