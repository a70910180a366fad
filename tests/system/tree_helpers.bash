# Trees with every file type a layer can hold, and a listing of everything a user can see of
# a tree, for comparing what the kernel mounts with its source. Shared by squashfs and layer
# tests.

# make_tree DIR: files of many sizes, sparse files, deep and long and unicode names, symlinks,
# hard-link groups, devices, a fifo, a socket, xattrs, a file capability, odd owners and times.
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

