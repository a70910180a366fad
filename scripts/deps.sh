#!/usr/bin/env bash
# Install what berth needs to build, test and boot in QEMU, from Debian's packages.
# Idempotent: installs only what is missing and runs `apt-get update` at most once.
# Usage: scripts/deps.sh [--check]   (--check: exit 1 if something is missing, install nothing)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$here/build}

pkgs=(
	# build
	gcc make pkg-config musl-tools python3-kconfiglib file binutils
	libarchive-dev libmbedtls-dev libinih-dev libseccomp-dev libjansson-dev libyaml-dev
	zlib1g-dev libzstd-dev liblzma-dev libbz2-dev liblz4-dev libxml2-dev libssl-dev libdeflate-dev
	linux-libc-dev
	# tests
	libcmocka-dev bats clang libclang-rt-14-dev
	docker-registry skopeo umoci squashfs-tools squashfs-tools-ng apache2-utils openssl attr libcap2-bin libarchive-tools python3
	iproute2 util-linux procps
	# qemu harness
	qemu-system-x86 qemu-utils cpio kmod busybox-static e2fsprogs
	# peers for benchmarks
	crun runc
)

missing=()
for p in "${pkgs[@]}"; do
	case "$p" in '#'*) continue ;; esac
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

arch=$(dpkg --print-architecture)
kdir=$build/kernel
kernel_ok() { ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; }

if [ "${1:-}" = "--check" ]; then
	[ ${#missing[@]} -eq 0 ] && kernel_ok && exit 0
	[ ${#missing[@]} -gt 0 ] && echo "deps: missing packages: ${missing[*]}" >&2
	kernel_ok || echo "deps: missing QEMU guest kernel in $kdir" >&2
	exit 1
fi

updated=0
apt_update() {
	if [ $updated = 0 ]; then
		apt-get update -q >/dev/null
		updated=1
	fi
}

if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The guest kernel for QEMU tests: Debian's cloud kernel, downloaded and unpacked into build/,
# never installed on this machine.
if ! kernel_ok; then
	mkdir -p "$kdir"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && { apt-get download "linux-image-cloud-$arch" >/dev/null 2>&1 || { apt_update; apt-get download "linux-image-cloud-$arch" >/dev/null; }; })
	meta=$(ls "$tmp"/linux-image-cloud-*.deb)
	# The meta package depends on the versioned image package: fetch that one.
	real=$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
	[ -n "$real" ] || { echo "deps: cannot find the kernel package behind $meta" >&2; exit 1; }
	(cd "$tmp" && apt-get download "$real" >/dev/null)
	dpkg-deb -x "$tmp/$real"_*.deb "$kdir"
	echo "deps: guest kernel $(ls "$kdir"/boot/vmlinuz-*) ready"
fi
