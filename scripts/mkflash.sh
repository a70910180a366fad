#!/usr/bin/env bash
# Make a raw ext4 image that stands in for the device's flash in QEMU (no mount needed).
# Usage: scripts/mkflash.sh FILE [SIZE_MB]   (default 256 MB)
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then echo "usage: $0 FILE [SIZE_MB]" >&2; exit 1; fi
file=$1
size=${2:-256}
case "$size" in '' | *[!0-9]*) echo "mkflash: SIZE_MB must be a number: $size" >&2; exit 1 ;; esac

rm -f "$file"
truncate -s "${size}M" "$file"
# Initialise inode tables and journal now so the guest does no background ext4lazyinit I/O.
mkfs.ext4 -F -q -L berth-flash -E lazy_itable_init=0,lazy_journal_init=0 "$file"
