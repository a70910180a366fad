#!/usr/bin/env bats
# berth's squashfs writer against real oracles: the kernel mounts its images and the squashfs
# tools list, unpack and compare them, over a tree with every file type a layer can hold.
# The images come from tests/tools/sqfs_from_dir, which walks a directory into the writer.

load helpers

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

make_tree() {
	python3 - "$1" <<'EOF'
import os, socket, stat, sys
root = sys.argv[1]
def p(*a): return os.path.join(root, *a)
def w(path, data):
    with open(p(path), 'wb') as f: f.write(data)
rnd = os.urandom
os.makedirs(root)
w('empty', b'')
w('one-byte', b'x')
w('exactly-one-block', rnd(131072))
w('block-plus-one', rnd(131073))
w('three-blocks-and-tail', rnd(3 * 131072 + 1000))
w('compressible', b'berth squashfs test line\n' * 40000)
with open(p('small-sparse'), 'wb') as f:
    f.write(b'start'); f.seek(400000); f.write(b'middle'); f.truncate(1000000)
os.makedirs(p('many'))
for i in range(400): w('many/f%03d' % i, rnd(i * 37 % 5000))
deep = 'deep' + '/d' * 60
os.makedirs(p(deep)); w(deep + '/leaf', b'deep')
long = 'L' * 255
os.makedirs(p('long', long)); w('long/%s/%s' % (long, 'f' * 255), b'long')
os.makedirs(p('ünïcödé-名前')); w('ünïcödé-名前/ファイル-🚀', 'héllo'.encode())
w('name with spaces', b'spaces')
os.symlink('one-byte', p('link-rel'))
os.symlink('/etc/passwd', p('link-abs'))
os.symlink('nowhere/at/all', p('link-dangling'))
os.symlink('t' * 1000, p('link-long'))
w('hl-a', b'hard linked')
os.link(p('hl-a'), p('hl-b'))
os.makedirs(p('hl-dir')); os.link(p('hl-a'), p('hl-dir/hl-c'))
w('hl-empty-1', b''); os.link(p('hl-empty-1'), p('hl-empty-2'))
os.link(p('link-rel'), p('hl-symlink'), follow_symlinks=False)
os.mknod(p('dev-null'), stat.S_IFCHR | 0o666, os.makedev(1, 3))
os.mknod(p('dev-loop'), stat.S_IFBLK | 0o660, os.makedev(7, 200))
os.mknod(p('dev-bigminor'), stat.S_IFCHR | 0o600, os.makedev(250, 70000))
os.mkfifo(p('fifo')); os.link(p('fifo'), p('fifo-link'))
s = socket.socket(socket.AF_UNIX); s.bind(p('socket')); s.close()
os.setxattr(p('one-byte'), 'user.comment', b'hello')
os.makedirs(p('opaque-dir')); os.setxattr(p('opaque-dir'), 'trusted.overlay.opaque', b'y')
os.setxattr(p('fifo'), 'trusted.note', b'on a fifo')
os.setxattr(p('link-rel'), 'trusted.link', b'on a symlink', follow_symlinks=False)
os.setxattr(p('dev-null'), 'trusted.dev', b'1')
os.setxattr(p('hl-a'), 'user.big', rnd(3000))
for i in range(0, 400, 7): os.setxattr(p('many/f%03d' % i), 'user.same', b'one shared set')
w('caps', b'#!/bin/sh\n'); os.chmod(p('caps'), 0o755)
os.makedirs(p('bigdir'))
for i in range(1500): w('bigdir/%05d-%s' % (i, 'n' * (200 if i % 3 == 0 else 10)), b'')
os.chown(p('hl-a'), 1000, 1000)
os.chown(p('many/f001'), 4000000000, 123)
os.chown(p('link-abs'), 33, 44, follow_symlinks=False)
os.chown(p('deep'), 65534, 65534)
os.chmod(p('exactly-one-block'), 0o4755)
os.chmod(p('block-plus-one'), 0o2711)
os.chmod(p('empty'), 0)
os.chmod(p('opaque-dir'), 0o1777)
os.utime(p('empty'), (0, 0))
os.utime(p('one-byte'), (4294967295, 4294967295))
os.utime(p('link-rel'), (1234567890, 1234567890), follow_symlinks=False)
EOF
	if command -v setcap >/dev/null; then
		setcap cap_net_raw+ep "$1/caps"
	else # VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW (13)
		python3 -c 'import os,struct,sys; os.setxattr(sys.argv[1], "security.capability", struct.pack("<5I", 0x02000001, 1 << 13, 0, 0, 0))' "$1/caps"
	fi
	# Directory times last: creating entries moved them.
	find "$1" -type d -exec touch -d @1600000000 {} +
	touch -d @1500000000 "$1/deep"
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

# Mount an image read-only through a loop device (autoclear: freed at umount).
mount_image() {
	mkdir -p "$2"
	mount -t squashfs -o loop,ro "$1" "$2"
}

# Everything a user can see of a tree, one sorted line per fact: type, permissions, owner,
# mtime (seconds), link count, size (not for directories), symlink target, device numbers,
# content hashes, xattrs (hex) and hard-link groups (by path, not inode number).
manifest() {
	(
		cd "$1" || exit 1
		find . -printf '%P|%y|%m|%U:%G|%T@|%n|%s|%l\n' |
			awk -F'|' 'BEGIN { OFS = "|" } { sub(/\..*/, "", $5); if ($2 == "d") $7 = "-"; print }'
		find . \( -type b -o -type c \) -exec stat -c '%n|dev %t:%T' {} +
		find . -type f -exec sha256sum {} +
		getfattr -R -h -d -m - -e hex . 2>/dev/null |
			awk '/^# file: / { f = substr($0, 9); next } NF { print f "|xattr " $0 }'
		find . ! -type d -links +1 -printf '%i %P\n' | LC_ALL=C sort -k2 |
			awk '{ i = $1; p = substr($0, length($1) + 2); if (!(i in g)) g[i] = p; print p "|group " g[i] }'
	) | LC_ALL=C sort
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

@test "squashfs: unsquashfs lists the same entries, owners, modes, sizes and times" {
	"$DRIVER" "$SRC" "$TMP/img"
	# Directory sizes differ by design and unsquashfs shows device numbers in its own
	# encoding: both are left out here and checked through the kernel instead.
	TZ=UTC unsquashfs -lln -d '' "$TMP/img" |
		sed -E 's/^([bc][^ ]+ [^ ]+ +[0-9]+), +/\1,/; s/^([^ ]+) ([^ ]+) +/\1 \2 /' |
		awk '$6 != "" { t = substr($1, 1, 1); if (t == "d" || t == "b" || t == "c") $3 = "-"; print }' |
		LC_ALL=C sort >"$TMP/got"
	(cd "$SRC" && TZ=UTC find . -mindepth 1 -printf '%M %U/%G %s %TY-%Tm-%Td %TH:%TM /%P\n' |
		awk '{ t = substr($1, 1, 1); if (t == "d" || t == "b" || t == "c") $3 = "-"; print }') \
		>"$TMP/want0"
	# Symlinks: unsquashfs appends " -> target".
	(cd "$SRC" && find . -type l -printf '/%P\t%l\n') >"$TMP/links"
	awk -F'\t' 'NR == FNR { l[$1] = $2; next }
		{ p = $0; sub(/^[^ ]+ [^ ]+ [^ ]+ [^ ]+ [^ ]+ /, "", p); if (p in l) $0 = $0 " -> " l[p]; print }' \
		"$TMP/links" "$TMP/want0" | LC_ALL=C sort >"$TMP/want"
	diff -u "$TMP/want" "$TMP/got"
	[ "$(wc -l <"$TMP/got")" -eq "$(find "$SRC" -mindepth 1 | wc -l)" ]
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
