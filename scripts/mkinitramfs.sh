#!/usr/bin/env bash
# Build the initramfs that boots berth's QEMU test guest.
#
# Usage: scripts/mkinitramfs.sh OUT.cpio.gz [--add SRC:DEST]... [--guest-script FILE]
#                                           [--berth-init ETC_DIR]
#        scripts/mkinitramfs.sh --check    (only verify the inputs; print why not on stderr)
#
# Contents: static busybox (+ applet links), the static berth binary ($BERTH_BIN,
# default $BUILD/berth) at /bin/berth, /dev/console, the kernel modules the guest
# needs, and an /init that sets up the guest, runs /test.sh, prints
# `BERTH-GUEST-DONE rc=<N>` and powers off.
#
# With --berth-init, /init is berth itself (a link to /bin/berth): PID 1 as on a
# board. ETC_DIR's files (berth.conf, apps/) go to /etc/berth. The guest gets
# /etc/init.d/rcS for `[init] sysinit` (kernel modules, eth0 as QEMU's 10.0.2.15)
# and an /etc/profile whose prompt is `berth# `, for scripts fed to the console
# shell (`[init] console-shell = yes`).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}
berth_bin=${BERTH_BIN:-$build/berth}
busybox=${BUSYBOX:-/bin/busybox}
kdir=${KERNEL_DIR:-$build/kernel}

# Load order matters: insmod does not resolve dependencies.
modules=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk
	failover net_failover virtio_net loop squashfs overlay veth llc stp bridge
	# A watchdog for PID 1's [init] watchdog-device; it counts only once opened.
	softdog
	# The flash disk is ext4; its helpers are pulled in below if they are modular.
	ext4)

die() {
	echo "mkinitramfs: $*" >&2
	exit 1
}

is_static() {
	# A dynamically linked ELF has a program interpreter; static (and static-pie) has none.
	[ -f "$1" ] && [ -x "$1" ] || return 1
	[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] || return 1
	if command -v readelf >/dev/null; then
		if LC_ALL=C readelf -lW "$1" 2>/dev/null | grep -q 'INTERP'; then return 1; fi
	else
		LC_ALL=C file -L "$1" | grep -Eq 'statically linked|static-pie linked'
	fi
}

# Check prerequisites; on failure leave the reason in $reason.
reason=
check_inputs() {
	if [ ! -f "$berth_bin" ]; then
		reason="berth binary not found: $berth_bin"
	elif ! is_static "$berth_bin"; then
		reason="berth binary is not a static executable: $berth_bin"
	elif ! is_static "$busybox"; then
		reason="static busybox not found: $busybox (apt-get install busybox-static)"
	elif ! compgen -G "$kdir/lib/modules/*/kernel" >/dev/null; then
		reason="kernel modules not found under $kdir/lib/modules (run scripts/deps.sh)"
	fi
	[ -z "$reason" ]
}

if [ "${1:-}" = "--check" ]; then
	check_inputs || { echo "$reason" >&2; exit 1; }
	exit 0
fi

[ $# -ge 1 ] || die "usage: $0 OUT.cpio.gz [--add SRC:DEST]... [--guest-script FILE]"
out=$1
shift
adds=()
guest_script=
berth_etc=
while [ $# -gt 0 ]; do
	case "$1" in
	--add) [ $# -ge 2 ] || die "--add needs SRC:DEST"; adds+=("$2"); shift 2 ;;
	--guest-script) [ $# -ge 2 ] || die "--guest-script needs FILE"; guest_script=$2; shift 2 ;;
	--berth-init) [ $# -ge 2 ] || die "--berth-init needs ETC_DIR"; berth_etc=$2; shift 2 ;;
	*) die "unknown argument: $1" ;;
	esac
done

check_inputs || die "$reason"
[ -z "$guest_script" ] || [ -f "$guest_script" ] || die "guest script not found: $guest_script"
[ -z "$berth_etc" ] || [ -f "$berth_etc/berth.conf" ] || die "no berth.conf in $berth_etc"

mdirs=("$kdir"/lib/modules/*/)
[ ${#mdirs[@]} = 1 ] || die "expected one kernel version under $kdir/lib/modules, found ${#mdirs[@]}"
mdir=${mdirs[0]%/}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir "$root"
chmod 0755 "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,data,etc,root,lib/modules}
chmod 1777 "$root/tmp"

cp "$busybox" "$root/bin/busybox"
# Applet links at build time, so /init can use them before anything is mounted.
while read -r applet; do
	[ "$applet" = bin/busybox ] || [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done < <("$busybox" --list-full)
cp "$berth_bin" "$root/bin/berth"
chmod 0755 "$root/bin/berth"

# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$root/dev/console" c 5 1 || die "cannot create /dev/console (mknod needs root)"
mknod -m 666 "$root/dev/null" c 1 3 || die "cannot create /dev/null"

# The kernel's config, where a Debian system keeps it, so `berth check` can read it in the guest.
kver=$(basename "$mdir")
if [ -f "$kdir/boot/config-$kver" ]; then
	mkdir -p "$root/boot"
	cp "$kdir/boot/config-$kver" "$root/boot/"
fi

# Resolve each module to a .ko (after its own dependencies) or to a built-in; fail if neither.
declare -A seen=()
order=()
add_module() {
	local name=$1 ko dep
	[ -z "${seen[$name]:-}" ] || return 0
	seen[$name]=1
	ko=$(find "$mdir/kernel" -name "$name.ko" -print -quit)
	if [ -z "$ko" ]; then
		grep -q "/$name\.ko$" "$mdir/modules.builtin" || die "kernel module $name is neither a .ko nor built in"
		return 0
	fi
	for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do
		add_module "$dep"
	done
	cp "$ko" "$root/lib/modules/"
	order+=("$name")
}
for m in "${modules[@]}"; do
	add_module "$m"
done
printf '%s\n' "${order[@]}" >"$root/lib/modules/load-order"

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
printf 'nameserver 10.0.2.3\n' >"$root/etc/resolv.conf"
echo berth-guest >"$root/etc/hostname"

if [ -n "$guest_script" ]; then
	cp "$guest_script" "$root/test.sh"
	chmod 0755 "$root/test.sh"
fi

for a in ${adds[@]+"${adds[@]}"}; do
	src=${a%:*}
	dest=${a##*:}
	if [ "$src" = "$a" ] || [ -z "$src" ] || [ -z "$dest" ]; then die "--add wants SRC:DEST, got: $a"; fi
	[ -e "$src" ] || die "--add source not found: $src"
	mkdir -p "$root/$(dirname "$dest")"
	cp -a "$src" "$root/$dest"
done

if [ -n "$berth_etc" ]; then
	ln -s /bin/berth "$root/init"
	mkdir -p "$root/etc/berth" "$root/etc/init.d"
	cp -a "$berth_etc"/. "$root/etc/berth/"
	cat >"$root/etc/init.d/rcS" <<'EOF'
#!/bin/sh
# sysinit of berth's QEMU guest, run by berth (PID 1) before the data partition:
# kernel modules (insmod: no dependency resolution, so in load order) and eth0.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
while read -r m; do
	insmod "/lib/modules/$m.ko" || echo "rcS: insmod $m failed"
done </lib/modules/load-order
if [ -e /sys/class/net/eth0 ]; then
	ip addr add 10.0.2.15/24 dev eth0 && ip link set eth0 up &&
		ip route add default via 10.0.2.2 || echo "rcS: eth0 setup failed"
fi
EOF
	chmod 0755 "$root/etc/init.d/rcS"
	# A prompt the harness waits for before it types the next line.
	printf '%s\n' 'export PS1="berth# " PATH=/bin:/sbin:/usr/bin:/usr/sbin' >"$root/etc/profile"
else
	cat >"$root/init" <<'EOF'
#!/bin/sh
# berth QEMU guest init: set up the guest, run /test.sh, report, power off.
# It must always reach poweroff, so nothing here may abort the script.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100

say() { echo "berth-init: $*"; }
# Start on a fresh line: firmware leaves terminal escapes on the current one.
echo

setup() {
	mount -t proc proc /proc || return
	mount -t sysfs sysfs /sys || return
	mount -t devtmpfs devtmpfs /dev || return
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts || return
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm || return
	mount -t tmpfs -o mode=755 tmpfs /run || return
	mount -t tmpfs -o mode=1777 tmpfs /tmp || return

	BERTH_BOOT=1 want_disk=0
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		berth.boot=*) BERTH_BOOT=${arg#*=} ;;
		berth.disk=*) want_disk=${arg#*=} ;;
		esac
	done
	export BERTH_BOOT

	while read -r m; do
		insmod "/lib/modules/$m.ko" || { say "insmod $m failed"; return 1; }
	done </lib/modules/load-order

	# cgroup v2 only: the guest tests exist to exercise the unified hierarchy.
	mount -t cgroup2 cgroup2 /sys/fs/cgroup || { say "cannot mount cgroup2"; return 1; }

	hostname -F /etc/hostname
	ip link set lo up || return
	if [ -e /sys/class/net/eth0 ]; then
		ip addr add 10.0.2.15/24 dev eth0 &&
			ip link set eth0 up &&
			ip route add default via 10.0.2.2 || { say "eth0 setup failed"; return 1; }
	fi

	if [ "$want_disk" = 1 ]; then
		# The virtio disk normally exists once virtio_blk is loaded; allow a little slack.
		i=0
		while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		[ -b /dev/vda ] || { say "/dev/vda did not appear"; return 1; }
	fi
	if [ -b /dev/vda ]; then
		mount -t ext4 /dev/vda /data || { say "cannot mount /dev/vda on /data"; return 1; }
	fi
	# Keep kernel chatter from splitting test output lines; oopses still show.
	echo 3 >/proc/sys/kernel/printk
}

if setup; then
	cd /
	if [ -f /test.sh ]; then
		sh /test.sh
		rc=$?
	else
		rc=0
	fi
else
	rc=125
fi
echo "BERTH-GUEST-DONE rc=$rc"
# Stop leftovers (e.g. containers) so /data unmounts cleanly; -1 spares init itself.
kill -KILL -1 2>/dev/null
sleep 0.1
sync
grep -q ' /data ' /proc/mounts 2>/dev/null && umount /data
poweroff -f
# Not reached unless poweroff failed; exiting init panics, and panic=-1 + -no-reboot ends QEMU.
exit "$rc"
EOF
	chmod 0755 "$root/init"
fi

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -n -6 >"$out.tmp"
mv "$out.tmp" "$out"
