#!/usr/bin/env bats
# berth's squashfs writer against real oracles: the kernel mounts its images and the squashfs
# tools list, unpack and compare them, over a tree with every file type a layer can hold.
# The images come from tests/tools/sqfs_from_dir, which walks a directory into the writer.

load helpers
load tree_helpers

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# The driver is built next to $BERTH unless SQFS_DRIVER names one; the source trees are built
# once per file (as root), on the same file system as TMPDIR.
setup_file() {
	[ "$(id -u)" = 0 ] || return 0
	local build
	if [ -n "${SQFS_DRIVER:-}" ]; then
		export DRIVER=$SQFS_DRIVER
	else
		build=$(realpath -m "$(dirname "$BERTH")")
		make -s -C "$TOP" O="$build" "$build/tools/sqfs_from_dir" >&2
		export DRIVER=$build/tools/sqfs_from_dir
	fi
	export SRC=$BATS_FILE_TMPDIR/src SPARSE_SRC=$BATS_FILE_TMPDIR/sparse
	make_tree "$SRC"
	mkdir "$SPARSE_SRC"
	# 5 GiB and a bit: data at the start, after 1 GiB and at the very end; the rest holes.
	truncate -s $((5 * 1024 * 1024 * 1024 + 100)) "$SPARSE_SRC/sparse-5g"
	printf head | dd of="$SPARSE_SRC/sparse-5g" conv=notrunc status=none
	printf 1gib | dd of="$SPARSE_SRC/sparse-5g" bs=1 seek=$((1024 * 1024 * 1024 + 7)) \
		conv=notrunc status=none
	printf tail | dd of="$SPARSE_SRC/sparse-5g" bs=1 seek=$((5 * 1024 * 1024 * 1024 + 96)) \
		conv=notrunc status=none
	truncate -s 3G "$SPARSE_SRC/all-hole"
}

setup() {
	require_root
	grep -qw squashfs /proc/filesystems || modprobe squashfs 2>/dev/null ||
		skip "the kernel has no squashfs support"
	losetup -f >/dev/null 2>&1 || skip "no free loop device"
	local t
	for t in unsquashfs rdsquashfs sqfsdiff mksquashfs getfattr; do
		command -v $t >/dev/null || skip "$t is not installed (scripts/deps.sh)"
	done
	berth_setup
}

teardown() {
	local m
	for m in "$TMP"/mnt*; do
		[ -d "$m" ] || continue
		if mountpoint -q "$m"; then
			umount "$m" || umount -l "$m"
		fi
	done
	berth_teardown
}

# Mount `img` and compare the whole tree with `src`.
assert_mount_matches() {
	local img=$1 src=$2 mnt=$TMP/mnt-$RANDOM
	mount_image "$img" "$mnt"
	manifest "$src" >"$TMP/want"
	manifest "$mnt" >"$TMP/got"
	diff -u "$TMP/want" "$TMP/got"
	umount "$mnt"
}

@test "squashfs: a gzip image mounted by the kernel equals the source tree" {
	"$DRIVER" -c gzip -t 1700000000 "$SRC" "$TMP/img"
	[ $(($(stat -c %s "$TMP/img") % 4096)) -eq 0 ]
	# Superblock: magic, version 4.0, gzip, the given time, 128 KiB blocks.
	run od -An -tx1 -N32 "$TMP/img"
	[[ "$output" == *"68 73 71 73"* ]]
	[ "$(od -An -tu2 -j20 -N2 "$TMP/img" | tr -d ' ')" = 1 ]
	[ "$(od -An -tu2 -j28 -N4 "$TMP/img" | tr -s ' ')" = " 4 0" ]
	[ "$(od -An -tu4 -j8 -N8 "$TMP/img" | tr -s ' ')" = " 1700000000 131072" ]
	assert_mount_matches "$TMP/img" "$SRC"
}

@test "squashfs: a zstd image fed in reverse order on 4 threads mounts equal to the source" {
	"$DRIVER" -c zstd -j 4 -R "$SRC" "$TMP/img"
	[ "$(od -An -tu2 -j20 -N2 "$TMP/img" | tr -d ' ')" = 6 ]
	assert_mount_matches "$TMP/img" "$SRC"
}

@test "squashfs: an xz image on 2 threads mounts equal to the source; the squashfs tools read it as xz" {
	require_squashfs_xz
	"$DRIVER" -c xz -j 2 -t 1700000000 "$SRC" "$TMP/img"
	# Superblock: compression 4 (xz), and no compressor options (flag 0x0400): the kernel
	# takes the block size as the dictionary size.
	[ "$(od -An -tu2 -j20 -N2 "$TMP/img" | tr -d ' ')" = 4 ]
	[ $(($(od -An -tu2 -j24 -N2 "$TMP/img") & 0x0400)) -eq 0 ]
	assert_mount_matches "$TMP/img" "$SRC"
	run unsquashfs -s "$TMP/img"
	echo "$output"
	[[ "$output" == *"Compression xz"* ]]
	[[ "$output" == *"Block size 131072"* ]]
	assert_unsquashfs_lists "$TMP/img" "$SRC"
	# squashfs-tools unpacks every block, and its contents equal the source (diff cannot
	# compare special files: the mount covers those).
	unsquashfs -q -n -d "$TMP/unpacked" "$TMP/img" >/dev/null
	run diff -r --no-dereference -x 'dev-*' -x 'fifo*' -x socket "$SRC" "$TMP/unpacked"
	echo "$output" | head -n 20
	[ "$status" -eq 0 ]
	# The same files, times and xattrs as mksquashfs's own xz image.
	mksquashfs "$SRC" "$TMP/ref" -comp xz -noappend -quiet -no-progress >/dev/null
	run sqfsdiff -T -a "$TMP/ref" -b "$TMP/img"
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "squashfs: xz at preset 0 with 4 KiB blocks, and at 1 MiB blocks, mounts equal to the source" {
	require_squashfs_xz
	# 4 KiB blocks: the kernel's xz dictionary is then a metadata block (8 KiB).
	"$DRIVER" -c xz -l 0 -b 4096 "$SRC" "$TMP/img"
	assert_mount_matches "$TMP/img" "$SRC"
	run unsquashfs -s "$TMP/img"
	[[ "$output" == *"Compression xz"* ]]
	[[ "$output" == *"Block size 4096"* ]]
	"$DRIVER" -c xz -b 1048576 "$SRC" "$TMP/img"
	assert_mount_matches "$TMP/img" "$SRC"
	run unsquashfs -s "$TMP/img"
	[[ "$output" == *"Block size 1048576"* ]]
}

@test "squashfs: 4 KiB blocks without fragments mount equal to the source" {
	"$DRIVER" -c gzip -b 4096 -F -l 1 "$SRC" "$TMP/img"
	assert_mount_matches "$TMP/img" "$SRC"
	run unsquashfs -s "$TMP/img"
	[[ "$output" == *"Block size 4096"* ]]
	[[ "$output" == *"Fragments are not stored"* ]]
}

@test "squashfs: 1 MiB blocks with zstd mount equal to the source" {
	"$DRIVER" -c zstd -b 1048576 -l 3 "$SRC" "$TMP/img"
	assert_mount_matches "$TMP/img" "$SRC"
}

# `unsquashfs -lln` of `img` lists the entries of `src` with their owners, modes, sizes and
# times. Directory sizes differ by design and unsquashfs shows device numbers in its own
# encoding: both are left out here and checked through the kernel instead.
assert_unsquashfs_lists() {
	local img=$1 src=$2
	TZ=UTC unsquashfs -lln -d '' "$img" |
		sed -E 's/^([bc][^ ]+ [^ ]+ +[0-9]+), +/\1,/; s/^([^ ]+) ([^ ]+) +/\1 \2 /' |
		awk '$6 != "" { t = substr($1, 1, 1); if (t == "d" || t == "b" || t == "c") $3 = "-"; print }' |
		LC_ALL=C sort >"$TMP/got"
	(cd "$src" && TZ=UTC find . -mindepth 1 -printf '%M %U/%G %s %TY-%Tm-%Td %TH:%TM /%P\n' |
		awk '{ t = substr($1, 1, 1); if (t == "d" || t == "b" || t == "c") $3 = "-"; print }') \
		>"$TMP/want0"
	# Symlinks: unsquashfs appends " -> target".
	(cd "$src" && find . -type l -printf '/%P\t%l\n') >"$TMP/links"
	awk -F'\t' 'NR == FNR { l[$1] = $2; next }
		{ p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p); if (p in l) $0 = $0 " -> " l[p]; print }' \
		"$TMP/links" "$TMP/want0" | LC_ALL=C sort >"$TMP/want"
	diff -u "$TMP/want" "$TMP/got"
	[ "$(wc -l <"$TMP/got")" -eq "$(find "$src" -mindepth 1 | wc -l)" ]
}

@test "squashfs: unsquashfs lists the same entries, owners, modes, sizes and times" {
	"$DRIVER" "$SRC" "$TMP/img"
	assert_unsquashfs_lists "$TMP/img" "$SRC"
}

@test "squashfs: sqfsdiff finds the image equal to mksquashfs's, times included" {
	"$DRIVER" -j 2 "$SRC" "$TMP/img"
	mksquashfs "$SRC" "$TMP/ref" -noappend -quiet -no-progress >/dev/null
	run sqfsdiff -T -a "$TMP/ref" -b "$TMP/img"
	echo "$output"
	[ "$status" -eq 0 ]
	# squashfs-tools-ng unpacks it without complaint, with the same contents (diff cannot
	# compare special files: the mount tests cover those).
	mkdir "$TMP/unpacked"
	rdsquashfs -q -u / -p "$TMP/unpacked" -X -T -C -O "$TMP/img"
	run diff -r --no-dereference -x 'dev-*' -x 'fifo*' -x socket "$SRC" "$TMP/unpacked"
	echo "$output" | head -n 20
	[ "$status" -eq 0 ]
}

@test "squashfs: same input gives the same bytes, with 1 thread or 4" {
	"$DRIVER" -j 1 "$SRC" "$TMP/a"
	"$DRIVER" -j 4 "$SRC" "$TMP/b"
	"$DRIVER" -j 4 "$SRC" "$TMP/c"
	cmp "$TMP/a" "$TMP/b"
	cmp "$TMP/b" "$TMP/c"
	"$DRIVER" -c zstd -j 1 "$SRC" "$TMP/d"
	"$DRIVER" -c zstd -j 3 "$SRC" "$TMP/e"
	cmp "$TMP/d" "$TMP/e"
	"$DRIVER" -c xz -j 1 "$SRC" "$TMP/f"
	"$DRIVER" -c xz -j 3 "$SRC" "$TMP/g"
	cmp "$TMP/f" "$TMP/g"
}

@test "squashfs: duplicate files are stored once, read back whole, the same with 1 thread or 4" {
	# tar2layer writes to a readable fd, which duplicate detection needs.
	local build src=$TMP/dups size
	build=$(realpath -m "$(dirname "$BERTH")")
	make -s -C "$TOP" O="$build" "$build/tools/tar2layer" >&2
	mkdir -p "$src/a" "$src/b"
	head -c 3000000 /dev/urandom >"$src/a/big"
	cp "$src/a/big" "$src/b/big"
	# The first 15 blocks of big and a tail of its own; big with one byte changed midway.
	{ head -c 2000000 "$src/a/big"; printf other; } >"$src/b/prefix"
	cp "$src/a/big" "$src/b/middle"
	printf X | dd of="$src/b/middle" bs=1 seek=1500000 conv=notrunc status=none
	for i in 1 2 3; do printf 'the same small file\n' >"$src/a/s$i"; done
	truncate -s 1M "$src/a/hole1" "$src/b/hole2"
	# In this order, prefix first meets middle (equal up to block 11), then finds big.
	tar -C "$src" --numeric-owner --no-recursion -cf "$TMP/dups.tar" . a a/big a/s1 a/s2 a/s3 \
		a/hole1 b b/middle b/prefix b/big b/hole2
	"$build/tools/tar2layer" -c zstd -j 1 "$TMP/dups.tar" "$TMP/d1" >/dev/null
	"$build/tools/tar2layer" -c zstd -j 4 "$TMP/dups.tar" "$TMP/d4" >/dev/null
	cmp "$TMP/d1" "$TMP/d4"
	assert_mount_matches "$TMP/d1" "$src"
	# Random data does not compress: big and middle once each (3 MB each) and prefix's
	# tail, where storing every file would take 11 MB.
	size=$(stat -c %s "$TMP/d1")
	echo "image: $size bytes"
	[ "$size" -lt 6200000 ]
}

@test "squashfs: every name in a 1500-entry directory is found by the kernel" {
	"$DRIVER" -c zstd "$SRC" "$TMP/img"
	# Large enough for the extended directory inode and its index.
	run rdsquashfs -s /bigdir "$TMP/img"
	[[ "$output" == *"extended directory"* ]]
	[[ "$output" =~ "Directory index entries: "[1-9] ]]
	mount_image "$TMP/img" "$TMP/mnt"
	local n=0 f
	for f in "$SRC"/bigdir/*; do
		[ -e "$TMP/mnt/bigdir/${f##*/}" ] || { echo "lookup failed: ${f##*/}"; false; }
		n=$((n + 1))
	done
	[ "$n" -eq 1500 ]
	[ ! -e "$TMP/mnt/bigdir/00001-nnnnnnnnnnx" ]
	[ ! -e "$TMP/mnt/bigdir/zzz" ]
	[ ! -e "$TMP/mnt/bigdir/0" ]
	[ "$(ls -f "$TMP/mnt/bigdir" | wc -l)" -eq 1502 ]
}

@test "squashfs: a 5 GiB sparse file is stored as holes and reads back" {
	"$DRIVER" "$SPARSE_SRC" "$TMP/img"
	[ "$(stat -c %s "$TMP/img")" -lt 1048576 ]
	run rdsquashfs -s /sparse-5g "$TMP/img"
	[[ "$output" == *"extended file"* ]]
	mount_image "$TMP/img" "$TMP/mnt"
	local f=$TMP/mnt/sparse-5g
	[ "$(stat -c %s "$f")" = "$(stat -c %s "$SPARSE_SRC/sparse-5g")" ]
	[ "$(stat -c %s "$TMP/mnt/all-hole")" = $((3 * 1024 * 1024 * 1024)) ]
	at() { dd if="$1" iflag=skip_bytes,count_bytes skip="$2" count="$3" status=none | od -An -c | tr -d ' \n'; }
	[ "$(at "$f" 0 4)" = head ]
	[ "$(at "$f" $((1024 * 1024 * 1024 + 7)) 4)" = 1gib ]
	[ "$(at "$f" $((5 * 1024 * 1024 * 1024 + 96)) 4)" = tail ]
	[ "$(at "$f" $((2 * 1024 * 1024 * 1024)) 8)" = '\0\0\0\0\0\0\0\0' ]
	[ "$(at "$TMP/mnt/all-hole" $((3 * 1024 * 1024 * 1024 - 8)) 8)" = '\0\0\0\0\0\0\0\0' ]
}

@test "squashfs: an empty tree is a valid image" {
	mkdir "$TMP/empty"
	"$DRIVER" "$TMP/empty" "$TMP/img"
	mount_image "$TMP/img" "$TMP/mnt"
	[ -z "$(ls -A "$TMP/mnt")" ]
	umount "$TMP/mnt"
	unsquashfs -d "$TMP/out" "$TMP/img" >/dev/null
	rdsquashfs -d "$TMP/img"
}
