#!/usr/bin/env bash
# Container start benchmark: `berth run --rm --network none -m 64m IMAGE /bin/true`, a new
# container each time, side by side in one run with crun and runc running the same busybox
# image (unpacked by umoci) under an equivalent config.json, and with a bare floor,
# `unshare -fpmiun --mount-proc chroot ROOTFS /bin/true` (no cgroup, no overlay, no seccomp).
# Prints the median, p90 and min wall time per start, the CPU time per start, and berth/peer
# ratios. Rounds interleave the tools so that drift hits all of them. Timings vary by machine:
# compare the ratios.
# Usage: scripts/bench-start.sh [-n RUNS] [-r ROUNDS] [-m MEMORY] [-p MS] [-S] [-s]
#   RUNS starts per tool (default 50) in ROUNDS rounds (default 5), MEMORY limit (default 64m);
#   -S: the peers run without a seccomp profile (berth with seccomp=unconfined), to see its cost;
#   -s: also the static build ($O/static/berth, made with STATIC=1), as tool `berth-s`;
#   -p MS: a pause before each start (not timed), to see isolated starts rather than a burst.
# Needs root. crun refuses hybrid cgroups (v1 controllers and a cgroup2 hierarchy): there each
# round of crun runs inside one `unshare -m` where a throwaway tmpfs replaces the cgroup2 mount
# (the unshare is outside the timing).
set -euo pipefail
export LC_ALL=C

top=$(cd "$(dirname "$0")/.." && pwd)
O=${O:-$top/build}
runs=50 rounds=5 mem=64m noseccomp= static= pause=0
while getopts n:r:m:p:Ss opt; do
	case $opt in
	n) runs=$OPTARG ;;
	r) rounds=$OPTARG ;;
	m) mem=$OPTARG ;;
	S) noseccomp=1 ;;
	s) static=1 ;;
	p) pause=$OPTARG ;;
	*) sed -n 's/^# \{0,1\}//; 9,16p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench-start: needs root" >&2; exit 1; }
for t in umoci skopeo unshare jq /usr/bin/time; do
	command -v "$t" >/dev/null || { echo "bench-start: $t missing (scripts/deps.sh)" >&2; exit 1; }
done
[ "$rounds" -le "$runs" ] || rounds=$runs
case $mem in
*[kK]) mem_b=$((${mem%?} * 1024)) ;;
*[mM]) mem_b=$((${mem%?} * 1048576)) ;;
*[gG]) mem_b=$((${mem%?} * 1073741824)) ;;
*) mem_b=$mem ;;
esac
export PAUSE_S=$(awk -v p="$pause" 'BEGIN { print p / 1000 }')
make -s -C "$top" O="$O" "$O/berth" >&2
berth=$O/berth
[ -z "$static" ] || make -s -C "$top" O="$O/static" STATIC=1 "$O/static/berth" >&2

work=$(mktemp -d "${TMPDIR:-/var/tmp}/berth-bench.XXXXXX")
# The data root on disk, the run dir in RAM, as on a board: /var/lib/berth and /run/berth (a
# board's /run is a tmpfs). Where this machine's /run is not one, the run dir gets a tmpfs of
# its own. The peers keep their state in the same run dir.
run=$(mktemp -d /run/berth-bench.XXXXXX)
run_tmpfs=
if [ "$(stat -f -c %T "$run")" != tmpfs ]; then
	mount -t tmpfs -o size=64m,mode=0700 berth-bench "$run"
	run_tmpfs=1
fi
export BERTH_ROOT=$work/root BERTH_RUN_DIR=$run BERTH_CONFIG=/dev/null
# per-container cgroups under berth's parents, and the peers' (named after the container ids)
cg_count() {
	{ find /sys/fs/cgroup/*/berth -mindepth 1 -type d; find /sys/fs/cgroup -maxdepth 4 -type d -name 'bench-*'; } 2>/dev/null |
		wc -l
}
cg_before=$(cg_count)
cleanup() {
	set +e
	for r in runc crun; do
		[ -d "$run/$r-state" ] || continue
		for d in "$run/$r-state"/*/; do [ -d "$d" ] && $r --root "$run/$r-state" delete -f "$(basename "$d")"; done
	done >/dev/null 2>&1
	# the layer mounts berth keeps for the next start, then whatever else is left
	"$berth" system prune-mounts >/dev/null 2>&1
	grep -F -e " $work/" -e " $run/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r | xargs -r -n1 umount -l
	[ -z "$run_tmpfs" ] || umount "$run"
	local left
	left=$(grep -cF -e "$work" -e "$run" /proc/self/mountinfo)
	[ "$left" = 0 ] || echo "bench-start: $left mounts left under $work or $run" >&2
	rm -rf "$work" "$run"
	left=$(($(cg_count) - cg_before))
	[ "$left" -le 0 ] || echo "bench-start: $left cgroups left behind" >&2
}
trap cleanup EXIT

# The image: berth loads the docker-save archive; the peers and the floor get it unpacked.
"$top/scripts/mktestimage.sh" "$work/img.tar" bench:1
"$berth" load -i "$work/img.tar" >/dev/null
skopeo --insecure-policy copy -q "docker-archive:$work/img.tar" "oci:$work/oci:bench" >/dev/null
umoci unpack --image "$work/oci:bench" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs

# The peers' config.json: runc's default spec plus what berth does for this command line: a
# cgroup namespace, the memory limit, a writable root, Docker's default capabilities and
# (unless -S) Docker's default seccomp allow-list, as berth applies.
caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW",
"CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT",
"CAP_KILL","CAP_AUDIT_WRITE"]'
allow="accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown
chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime
clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range
creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2
fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32
fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat
fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64
futex_wait futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32
geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp
getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday
getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel
ioctl io_destroy io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup
io_submit ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr
lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat
mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl
msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat
_newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc
pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64
process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink
readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr
rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask
rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max
sched_get_priority_min sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64
sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select
semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto
setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync
sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit
umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
waitpid write writev socket arch_prctl modify_ldt personality process_vm_readv
process_vm_writev ptrace chroot"
seccomp=$(jq -n --arg names "$allow" '{
	defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
	architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	syscalls: [
		{ names: ($names | split("\\s+"; null)), action: "SCMP_ACT_ALLOW" },
		{ names: ["clone"], action: "SCMP_ACT_ALLOW",
		  args: [{ index: 0, value: 2114060288, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
		{ names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 } ] }')
[ "$(uname -m)" = x86_64 ] || seccomp='null'
[ -z "$noseccomp" ] || seccomp='null'
mkdir -p "$work/spec"
(cd "$work/spec" && runc spec 2>/dev/null) || { command -v crun >/dev/null && (cd "$work/spec" && crun spec); }
jq --arg root "$rootfs" --argjson mem "$mem_b" --argjson caps "$caps" --argjson seccomp "$seccomp" '
	.process.args = ["/bin/true"] | .process.terminal = false | .hostname = "bench" |
	.process.capabilities = { bounding: $caps, effective: $caps, permitted: $caps } |
	.root = { path: $root, readonly: false } |
	.linux.namespaces = ([.linux.namespaces[] | select(.type != "cgroup")] + [{ type: "cgroup" }]) |
	.linux.resources.memory = { limit: $mem } |
	if $seccomp == null then del(.linux.seccomp) else .linux.seccomp = $seccomp end' \
	"$work/spec/config.json" >"$work/bundle/config.json"

# loop.sh N OUT CMD...: N starts of CMD, each with @ID@ replaced by a new id; the wall time of
# each start in microseconds appended to OUT ($EPOCHREALTIME: no fork around the start).
cat >"$work/loop.sh" <<'EOF'
#!/usr/bin/env bash
export LC_ALL=C
n=$1 out=$2
shift 2
# The pause: a read that times out on a pipe nobody writes to (no process per pause).
exec 9<> <(:)
for ((i = 0; i < n; i++)); do
	[ "${PAUSE_S:-0}" = 0 ] || read -r -t "$PAUSE_S" -u 9 _ || true
	id=bench-$$-$i
	c=("${@//@ID@/$id}")
	t0=$EPOCHREALTIME
	"${c[@]}" >/dev/null 2>"$out.err" </dev/null || {
		rc=$?
		echo "exit $rc: $(tail -n 3 "$out.err" | tr '\n' ' ')" >&2
		exit 1
	}
	t1=$EPOCHREALTIME
	echo $((${t1/./} - ${t0/./})) >>"$out"
done
EOF
chmod +x "$work/loop.sh"

# timed NAME K CMD...: K starts of CMD (loop.sh) under /usr/bin/time.
timed() {
	local name=$1 k=$2
	shift 2
	/usr/bin/time -o "$work/$name.time" -f '%e %U %S' "$work/loop.sh" "$k" "$work/$name.us" "$@"
}
berth_cmd=("$berth" run --rm --network none -m "$mem")
[ -z "$noseccomp" ] || berth_cmd+=(--security-opt seccomp=unconfined)
berth_cmd+=(bench:1 /bin/true)
berth_s_cmd=("$O/static/berth" "${berth_cmd[@]:1}")
# crun on a hybrid host: its rounds in their own mount namespace where a throwaway tmpfs
# replaces the cgroup2 mount (crun still writes <id>/cgroup.procs there; on the bare mount
# point they would land in the host's /sys/fs/cgroup tmpfs, hidden under its cgroup2 mount).
crun_pre=:
if [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] && grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; then
	crun_pre='umount /sys/fs/cgroup/unified && mount -t tmpfs -o size=1m berth-bench /sys/fs/cgroup/unified'
fi
start() {
	case $1 in
	berth) timed berth "$2" "${berth_cmd[@]}" ;;
	berth-s) timed berth-s "$2" "${berth_s_cmd[@]}" ;;
	crun) unshare -m --propagation private bash -c "$crun_pre && $(declare -f timed) && work=${work@Q} &&
		timed crun $2 crun --root ${run@Q}/crun-state run --bundle ${work@Q}/bundle @ID@" ;;
	runc) timed runc "$2" runc --root "$run/runc-state" run --bundle "$work/bundle" @ID@ ;;
	floor) timed floor "$2" unshare -fpmiun --mount-proc chroot "$rootfs" /bin/true ;;
	esac
}

# round NAME K: K starts; the CPU time (user+sys of the loop and of every process it waited
# for) added up per tool. A tool that fails is reported with why and left out after that.
declare -A failed cpu
round() {
	[ -z "${failed[$1]:-}" ] || return 0
	if ! start "$1" "$2" 2>"$work/$1.why"; then
		failed[$1]=$(tail -n 2 "$work/$1.why" | tr '\n' ' ')
		echo "bench-start: $1 failed: ${failed[$1]}" >&2
		return 0
	fi
	read -r _ u s <"$work/$1.time"
	cpu[$1]=$(awk -v c="${cpu[$1]:-0}" -v u="$u" -v s="$s" 'BEGIN { print c + u + s }')
}

tools=(berth)
[ -z "$static" ] || tools+=(berth-s)
for n in crun runc; do
	if command -v $n >/dev/null; then tools+=("$n"); else failed[$n]="not installed"; fi
done
tools+=(floor)
echo "image: busybox (mktestimage.sh), $runs starts per tool in $rounds rounds, --network none, -m $mem," \
	"pause ${pause} ms, seccomp $([ -z "$noseccomp" ] && echo "Docker's default" || echo off)"
for n in "${tools[@]}"; do # warm-up, not counted
	round "$n" 3
	rm -f "$work/$n.us"
	cpu[$n]=0
done
for r in $(seq "$rounds"); do
	k=$(((runs * r / rounds) - (runs * (r - 1) / rounds)))
	for n in "${tools[@]}"; do round "$n" "$k"; done
done

# stats FILE: median, p90 (nearest rank) and min, in ms
stats() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = int(0.9 * NR); if (p < 0.9 * NR) p++
		printf "%.2f %.2f %.2f %d\n", m / 1000, v[p] / 1000, v[1] / 1000, NR }'
}
declare -A med p90 min cnt
printf '%-7s %10s %10s %10s %14s\n' tool median_ms p90_ms min_ms cpu_ms/start
for n in berth ${static:+berth-s} crun runc floor; do
	if [ -n "${failed[$n]:-}" ] || [ ! -s "$work/$n.us" ]; then
		printf '%-7s failed: %s\n' "$n" "${failed[$n]:-no starts}"
		continue
	fi
	read -r med[$n] p90[$n] min[$n] cnt[$n] < <(stats "$work/$n.us")
	cpu[$n]=$(awk -v c="${cpu[$n]}" -v k="${cnt[$n]}" 'BEGIN { printf "%.2f", c * 1000 / k }')
	printf '%-7s %10s %10s %10s %14s\n' "$n" "${med[$n]}" "${p90[$n]}" "${min[$n]}" "${cpu[$n]}"
done
for b in berth ${static:+berth-s}; do
	[ -n "${med[$b]:-}" ] || continue
	echo "ratios ($b / peer; below 1 is better for berth):"
	for n in crun runc floor; do
		[ -n "${med[$n]:-}" ] || continue
		awk -v n="$n" -v bm="${med[$b]}" -v pm="${med[$n]}" -v bp="${p90[$b]}" -v pp="${p90[$n]}" \
			-v bc="${cpu[$b]}" -v pc="${cpu[$n]}" \
			'BEGIN { printf "  vs %-6s median %.2f  p90 %.2f  cpu %s\n", n, bm / pm, bp / pp,
				(pc > 0 ? sprintf("%.2f", bc / pc) : "n/a (peer below the timer resolution)") }'
	done
done
