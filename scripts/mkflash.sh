#!/usr/bin/env bash
# Make a raw ext4 image that stands in for the device's flash in QEMU (no mount needed).
# Usage: scripts/mkflash.sh FILE [SIZE_MB] [--from DIR]   (default 256 MB)
#   --from DIR: the file system starts with DIR's contents (mkfs.ext4 -d), e.g. a data
#   root that `berth --root DIR/berth load` filled on the host.
set -euo pipefail

usage() { echo "usage: $0 FILE [SIZE_MB] [--from DIR]" >&2; exit 1; }
from=
args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
if [ ${#args[@]} -lt 1 ] || [ ${#args[@]} -gt 2 ]; then usage; fi
file=${args[0]}
size=${args[1]:-256}
case "$size" in '' | *[!0-9]*) echo "mkflash: SIZE_MB must be a number: $size" >&2; exit 1 ;; esac
[ -z "$from" ] || [ -d "$from" ] || { echo "mkflash: --from: not a directory: $from" >&2; exit 1; }

rm -f "$file"
truncate -s "${size}M" "$file"
# Initialise inode tables and journal now so the guest does no background ext4lazyinit I/O.
mkfs.ext4 -F -q -L berth-flash -E lazy_itable_init=0,lazy_journal_init=0 ${from:+-d "$from"} "$file"
