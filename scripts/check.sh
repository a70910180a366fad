#!/usr/bin/env bash
# `make check`: install what is missing, build, then run every suite and print one summary line.
# Suites: unit (cmocka), unit again under ASan+UBSan, fuzz regression (libFuzzer over the seed
# corpora), system (bats, as root, real kernel) and qemu (berth booted in a guest).
# Each suite speaks TAP; this script counts `ok`, `not ok` and `# skip` lines across all of them.
# Usage: scripts/check.sh [SUITE...]   (default: unit asan fuzz system qemu)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
O=${O:-build}
MAKE=${MAKE:-make}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit asan fuzz system qemu)
logdir=$O/check
mkdir -p "$logdir"

pass=0 fail=0 skip=0

note() { printf '# %s\n' "$*"; }

# Count one TAP stream (stdin) into the totals, echoing it.
count_tap() {
	local line
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"1..0"*[Ss][Kk][Ii][Pp]*) skip=$((skip + 1)) ;;
		"not ok"*) fail=$((fail + 1)) ;;
		"ok"*[#]*[Ss][Kk][Ii][Pp]*) skip=$((skip + 1)) ;;
		"ok"*) pass=$((pass + 1)) ;;
		esac
	done
}

# Run a TAP-producing command; a non-zero exit with no failing test line is itself a failure
# (a crash, a sanitizer report after the last test, a broken harness).
run_tap() {
	local name=$1
	shift
	local log=$logdir/$name.tap before=$fail rc
	"$@" >"$log" 2>"$logdir/$name.err"
	rc=$?
	count_tap <"$log"
	if [ $rc -ne 0 ] && [ $fail -eq "$before" ]; then
		printf 'not ok - %s exited with status %d\n' "$name" "$rc"
		sed 's/^/#   /' "$logdir/$name.err" | tail -n 20
		fail=$((fail + 1))
	elif [ $rc -ne 0 ]; then
		sed 's/^/#   /' "$logdir/$name.err" | tail -n 20
	fi
}

skip_suite() {
	count_tap <<<"1..0 # SKIP $2"
	note "$1 skipped: $2"
}

# ---- dependencies and build ----
if ! scripts/deps.sh --check >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		note "installing missing dependencies (scripts/deps.sh)"
		scripts/deps.sh || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
	else
		note "some dependencies are missing and this is not root: run scripts/deps.sh as root"
	fi
fi

note "build"
if ! $MAKE -s -j"$JOBS" O="$O" "$O/berth" unit-tests; then
	echo "not ok - build"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi

for suite in "${suites[@]}"; do
	case $suite in
	unit)
		note "unit tests (cmocka)"
		for t in "$O"/tests/test_*; do
			[ -x "$t" ] || continue
			run_tap "unit-$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
		done
		;;
	asan)
		note "unit tests under ASan+UBSan"
		san='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined'
		if ! $MAKE -s -j"$JOBS" O="$O/asan" CFLAGS="-O1 -g $san" EXTRA_LDFLAGS="$san" unit-tests \
			>"$logdir/asan-build.log" 2>&1; then
			tail -n 20 "$logdir/asan-build.log" | sed 's/^/#   /'
			count_tap <<<"not ok - build unit tests with ASan+UBSan"
			continue
		fi
		for t in "$O"/asan/tests/test_*; do
			[ -x "$t" ] || continue
			run_tap "asan-$(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP \
				ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 "$t"
		done
		;;
	fuzz)
		note "fuzz targets: replay the seed corpora, then a short fixed-seed run"
		if ! command -v clang >/dev/null; then
			skip_suite fuzz "clang is not installed"
			continue
		fi
		if ! $MAKE -s -j"$JOBS" O="$O" fuzz >"$logdir/fuzz-build.log" 2>&1; then
			tail -n 20 "$logdir/fuzz-build.log" | sed 's/^/#   /'
			count_tap <<<"not ok - build fuzz targets"
			continue
		fi
		for f in "$O"/fuzz/fuzz_*; do
			[ -x "$f" ] || continue
			name=$(basename "$f")
			corpus=tests/fuzz/corpus/${name#fuzz_}
			# New inputs go to a scratch dir, crash files to the log dir: never into the repo.
			scratch=$logdir/$name.corpus
			rm -rf "$scratch"
			mkdir -p "$scratch"
			if "$f" -seed=1 -runs=20000 -artifact_prefix="$logdir/$name-" "$scratch" "$corpus" \
				>"$logdir/$name.log" 2>&1; then
				count_tap <<<"ok - $name: seed corpus and 20000 mutations run clean"
			else
				grep -E 'ERROR|SUMMARY|runtime error' "$logdir/$name.log" | head -n 5 | sed 's/^/#   /'
				count_tap <<<"not ok - $name: crash (see $logdir/$name.log)"
			fi
		done
		;;
	system)
		note "system tests (bats, real kernel)"
		if ! command -v bats >/dev/null; then
			skip_suite system "bats is not installed"
		elif [ "$(id -u)" != 0 ]; then
			skip_suite system "system tests need root (namespaces, mounts, cgroups)"
		else
			run_tap system env BERTH="$top/$O/berth" bats --tap tests/system
		fi
		;;
	qemu)
		note "QEMU tests (berth booted in a guest)"
		# Guest tests also get static drivers (`# qemu-add: $BUILD/static/tools/...`).
		if ! $MAKE -s -j"$JOBS" O="$O/static" STATIC=1 "$O/static/berth" "$O/static/tools/cgtest" \
			>"$logdir/static-build.log" 2>&1; then
			tail -n 20 "$logdir/static-build.log" | sed 's/^/#   /'
			count_tap <<<"not ok - static build for the guest"
			continue
		fi
		# Test images for the guest are made here: the guest has no umoci.
		mkdir -p "$O/qemu-images"
		if ! scripts/mktestimage.sh "$O/qemu-images/app.tar" app:1 >"$logdir/mktestimage.log" 2>&1; then
			tail -n 20 "$logdir/mktestimage.log" | sed 's/^/#   /'
			count_tap <<<"not ok - make the guest's test image"
			continue
		fi
		run_tap qemu env BUILD="$top/$O" BERTH_BIN="$top/$O/static/berth" tests/qemu/run.sh
		;;
	*)
		echo "check.sh: unknown suite \`$suite\`; suites are unit asan fuzz system qemu" >&2
		exit 2
		;;
	esac
done

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
