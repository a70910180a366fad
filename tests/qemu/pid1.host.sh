#!/usr/bin/env bash
# berth as PID 1 (/init is berth itself) on the Debian kernel: the apps come up from the flash
# image, a killed app is restarted, a memory hog under `memory = 16m` is OOM-killed and
# reported, `berth status`, `ps` and `stats` run on the serial console, and `berth poweroff`
# stops the apps gracefully and powers off; the next boot reads last-shutdown = poweroff.
# Commands are typed on the console shell as a technician would. Run by tests/qemu/run.sh.
set -uo pipefail
. "$(dirname "$0")/pid1_helpers.bash"
pid1_require
QEMU_TIMEOUT=300

image=$BUILD/qemu-images/app.tar
if [ ! -f "$image" ]; then
	mkdir -p "$(dirname "$image")"
	"$scripts/mktestimage.sh" "$image" app:1 >&2 || { echo "1..0 # SKIP cannot make the test image"; exit 0; }
fi

etc=$QEMU_WORK/etc
mkdir -p "$etc/apps"
cat >"$etc/berth.conf" <<'CONF'
[daemon]
data-root = /data/berth
log-level = info
[init]
data-device = /dev/vda
sysinit = /etc/init.d/rcS
console-shell = yes
hostname = pid1-test
# softdog: if PID 1 stopped feeding it for 3 s, the guest would reset (and QEMU end).
watchdog-device = /dev/watchdog0
watchdog-timeout = 3s
CONF
# web: stops gracefully on SIGTERM, adding a line to a log on its volume (SIGKILL adds none).
cat >"$etc/apps/web.conf" <<'APP'
[app]
image = app:1
entrypoint = sh
command = ["-c", "trap 'echo stopped >>/srv/stops; sync; exit 0' TERM; while :; do sleep 1; done"]
volumes = webdata:/srv
memory = 32m
restart = always
APP
cat >"$etc/apps/hog.conf" <<'APP'
[app]
image = app:1
entrypoint = sh
command = ["-c", "x=a; while :; do x=$x$x; done"]
memory = 16m
restart = no
APP

# The console script's helpers: TAP lines `ok - D` / `not ok - D`; w retries for up to 60 s.
helpers=(
	'ok() { echo "ok - $*"; }; no() { echo "not ok - $*"; }'
	't() { d=$1; shift; if "$@"; then ok "$d"; else no "$d"; fi; }'
	'w() { i=0; while [ $i -lt 60 ]; do "$@" && return 0; sleep 1; i=$((i+1)); done; return 1; }'
	'st() { berth status 2>/dev/null | grep -q "^ *$1 .*$2"; }'
	'pid() { berth inspect "$1" 2>/dev/null | sed -n "s/.*\"Pid\": \([0-9]*\).*/\1/p" | head -n 1; }'
	'cid() { berth inspect "$1" 2>/dev/null | sed -n "s/^ *\"Id\": \"\([0-9a-f]*\)\".*/\1/p" | head -n 1; }'
	'memmax() { cat $(find /sys/fs/cgroup -path "*$(cid $1)*" -name memory.max | head -n 1); }'
	'newpid() { p=$(pid web); [ -n "$p" ] && [ "$p" != 0 ] && [ "$p" != "$1" ]; }'
)

# Without the supervisor in this build (no `berth daemon`), PID 1 boots without apps: only
# what init itself does is tested, and the rest skips.
supervisor=1
"$BERTH_BIN" help daemon >/dev/null 2>&1 || supervisor=0
if [ "$supervisor" = 0 ]; then
	{
		printf '%s\n' "${helpers[@]}"
		cat <<'CONSOLE'
t "berth is PID 1, started as /init" [ "$(tr -d '\0' </proc/1/cmdline)" = /init ]
t "the data partition is mounted at /data" grep -q " /data ext4 " /proc/mounts
berth poweroff
CONSOLE
	} >"$QEMU_WORK/boot1.sh"
	echo 'berth poweroff' >"$QEMU_WORK/boot2.sh"
else
	{
		printf '%s\n' "${helpers[@]}"
		cat <<'CONSOLE'
t "berth is PID 1, started as /init" [ "$(tr -d '\0' </proc/1/cmdline)" = /init ]
t "the app web comes up from the flash image" w st web running
t "web's cgroup v2 memory.max is 32m" [ "$(memmax web)" = 33554432 ]
t "hog, over its memory = 16m, is OOM-killed and reported so" w st hog OOM-killed
t "berth inspect says hog was OOMKilled" sh -c 'berth inspect hog | grep -q "\"OOMKilled\": true"'
berth status
t "berth status runs on the console" sh -c 'berth status >/dev/null'
berth ps -a
t "berth ps lists web as up" sh -c 'berth ps | grep -q "Up.*web"'
STATS
p1=$(pid web); kill -9 "$p1"
t "web, killed, is restarted" w newpid "$p1"
t "the watchdog runs, and the board outlived its 3 s timeout" [ "$(cat /sys/class/watchdog/watchdog0/state)" = active ] && [ "$(cut -d. -f1 /proc/uptime)" -gt 10 ]
berth poweroff
CONSOLE
	} >"$QEMU_WORK/boot1.sh.in"
	# `berth stats` comes with the supervisor's stats command; without it the test says so.
	if "$BERTH_BIN" help stats >/dev/null 2>&1; then
		stats=$'berth stats --no-stream\nt "berth stats shows web" sh -c \'berth stats --no-stream | grep -q web\''
	else
		stats='echo "ok - # skip berth stats: not in this build"'
	fi
	while IFS= read -r l; do
		if [ "$l" = STATS ]; then printf '%s\n' "$stats"; else printf '%s\n' "$l"; fi
	done <"$QEMU_WORK/boot1.sh.in" >"$QEMU_WORK/boot1.sh"
	{
		printf '%s\n' "${helpers[@]}"
		cat <<'CONSOLE'
t "the second boot reads last-shutdown = poweroff" sh -c 'berth status --format json | grep -q "\"last_shutdown\": *\"poweroff\""'
t "web was stopped gracefully (SIGTERM) once, at the power-off" [ "$(grep -c stopped /data/berth/volumes/webdata/_data/stops)" = 1 ]
t "web comes back on the next boot" w st web running
berth poweroff
CONSOLE
	} >"$QEMU_WORK/boot2.sh"
fi

if ! pid1_initrd "$QEMU_WORK/initrd.gz" "$etc" >&2 || ! pid1_flash "$QEMU_WORK/flash.img" "$image" >&2; then
	not_ok "build the initramfs and the flash image with the app image"
	pid1_done
fi

pid1_boot boot1 "$QEMU_WORK/boot1.sh" --initrd "$QEMU_WORK/initrd.gz" --disk "$QEMU_WORK/flash.img"
relay_guest_tap
check "boot 1 ends in a clean power-off, not a timeout" log_has '(reboot: Power down|berth init: powering off)'
check "PID 1 stopped the remaining processes before powering off" log_has 'berth init: poweroff: stopping every process'
check "the watchdog was closed with the magic character (no unexpected close)" sh -c "! grep -q 'Unexpected close' '$log'"
check "the guest did not need a shell /init (PID 1 said it is berth)" log_has 'berth init: berth .* starting as PID 1'

pid1_boot boot2 "$QEMU_WORK/boot2.sh" --initrd "$QEMU_WORK/initrd.gz" --disk "$QEMU_WORK/flash.img"
relay_guest_tap
[ "$supervisor" = 1 ] || skip "apps, restarts, OOM reports, status/ps/stats: no supervisor (berth daemon) in this build"
check "PID 1 reported the last shutdown on the console at boot 2" log_has 'berth init: last shutdown: poweroff'
check "boot 2 ends in a clean power-off" log_has 'reboot: Power down'

# A data partition that is not there: PID 1 says so on the console, starts no app, still
# gives the console shell and still powers off when asked.
mkdir -p "$QEMU_WORK/etc-bad"
cp -a "$etc/." "$QEMU_WORK/etc-bad/"
sed -i 's|^data-device = .*|data-device = /dev/vdz|' "$QEMU_WORK/etc-bad/berth.conf"
printf '%s\n' 'echo "ok - the console shell runs without the data partition"' 'berth poweroff' >"$QEMU_WORK/boot3.sh"
if pid1_initrd "$QEMU_WORK/initrd-bad.gz" "$QEMU_WORK/etc-bad" >&2; then
	pid1_boot nodata "$QEMU_WORK/boot3.sh" --initrd "$QEMU_WORK/initrd-bad.gz" --disk "$QEMU_WORK/flash.img"
	relay_guest_tap
	check "a missing data partition is named on the console" \
		log_has 'berth init: cannot mount the data partition `/dev/vdz` \(ext4\) on `/data`'
	check "the console says apps will not start and what to check" log_has 'apps will not start: check \[init\] data-device'
	check "no app was started without the data partition" sh -c "! grep -q 'web: started' '$log'"
	check "PID 1 still powers off cleanly" log_has 'reboot: Power down'
else
	not_ok "build the initramfs with a missing data device"
fi

# [init] cgroup = v1: PID 1 mounts one v1 hierarchy per controller instead of cgroup2, and the
# apps' limits land there.
mkdir -p "$QEMU_WORK/etc-v1"
cp -a "$etc/." "$QEMU_WORK/etc-v1/"
printf 'cgroup = v1\n' >>"$QEMU_WORK/etc-v1/berth.conf"
{
	printf '%s\n' "${helpers[@]}"
	cat <<'CONSOLE'
t "v1: the memory controller has its own hierarchy" grep -q " /sys/fs/cgroup/memory cgroup .*memory" /proc/mounts
t "v1: cpu and cpuacct are mounted together" grep -q " /sys/fs/cgroup/cpu,cpuacct cgroup " /proc/mounts
t "v1: no cgroup2 is mounted" sh -c '! grep -q " cgroup2 " /proc/mounts'
t "v1: web comes up" w st web running
t "v1: berth status says cgroup v1" sh -c 'berth status | grep -q "^cgroup: *v1"'
t "v1: web's memory.limit_in_bytes is 32m" [ "$(cat /sys/fs/cgroup/memory/berth/$(cid web)/memory.limit_in_bytes)" = 33554432 ]
t "v1: hog is OOM-killed under its memory cap" w st hog OOM-killed
berth poweroff
CONSOLE
} >"$QEMU_WORK/boot4.sh"
if pid1_initrd "$QEMU_WORK/initrd-v1.gz" "$QEMU_WORK/etc-v1" >&2; then
	pid1_boot v1 "$QEMU_WORK/boot4.sh" --initrd "$QEMU_WORK/initrd-v1.gz" --disk "$QEMU_WORK/flash.img"
	relay_guest_tap
	check "v1: the boot ends in a clean power-off" log_has 'reboot: Power down'
else
	not_ok "build the initramfs with [init] cgroup = v1"
fi
pid1_done
