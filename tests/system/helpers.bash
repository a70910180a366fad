# Shared helpers for berth's system tests (bats). Each test gets its own data root, run dir
# and config under a temp dir, so tests never touch /var/lib/berth or collide with each other.

BERTH=${BERTH:-$BATS_TEST_DIRNAME/../../build/berth}

berth_setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/berth-test.XXXXXX")
	export BERTH_ROOT=$TMP/root
	export BERTH_RUN_DIR=$TMP/run
	export BERTH_CONFIG=$TMP/berth.conf
	: >"$BERTH_CONFIG"
	export NO_COLOR=1
}

berth_teardown() {
	release_layer_mounts
	[ -n "${TMP:-}" ] && rm -rf "$TMP"
}

# Layer mounts outlive the containers that used them (the next start finds them ready);
# a test's own go before its data root is checked and removed.
release_layer_mounts() {
	[ -n "${BERTH_RUN_DIR:-}" ] && [ -d "$BERTH_RUN_DIR/layers" ] || return 0
	"$BERTH" system prune-mounts >/dev/null 2>&1 || true
}

require_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

# Skip unless the kernel can mount xz squashfs (its config says so, when it is readable), and
# berth is built with xz.
require_squashfs_xz() {
	local conf
	"$BERTH" version | grep -q '+squashfs-xz' || skip "berth is built without CONFIG_SQUASHFS_XZ"
	if [ -r /proc/config.gz ]; then
		conf=$(zcat /proc/config.gz)
	elif [ -r "/boot/config-$(uname -r)" ]; then
		conf=$(cat "/boot/config-$(uname -r)")
	else
		return 0
	fi
	grep -q '^CONFIG_SQUASHFS_XZ=y' <<<"$conf" ||
		skip "the kernel has no squashfs xz support (CONFIG_SQUASHFS_XZ)"
}

# Every output line fits an 80-column serial console.
assert_80_columns() {
	local long
	long=$(printf '%s\n' "$output" | awk 'length > 80')
	if [ -n "$long" ]; then
		echo "lines longer than 80 columns:"
		echo "$long"
		return 1
	fi
}
