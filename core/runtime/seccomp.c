/* seccomp: Docker's default profile as a table, compilation of a profile with libseccomp to BPF
 * in the parent, and the one prctl/seccomp call that loads it in the child (the JSON profile
 * format is in seccomp_json.c).
 * The default profile is an allow-list: everything not named fails with EPERM (Docker docs,
 * "Seccomp security profiles for Docker"). */
#include "runtime/seccomp.h"
#include "runtime/caps.h"
#include "base/err.h"
#include "base/util.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- the default profile ---- */

#define KV(maj, min) (((unsigned) (maj) << 16) | (unsigned) (min))
#define C(cap) CAPS_BIT(CAP_##cap)
/* Namespace flags of clone(2): a clone without them is a plain fork or thread. */
#define CLONE_NS_FLAGS 0x7E020000ull

struct def_group {
	const char *names;      /* space-separated */
	enum secc_action action;
	int errno_ret;
	struct secc_arg arg;    /* op 0: no condition */
	uint64_t inc_caps, exc_caps;
	const char *arches;     /* space-separated Docker arch names; NULL: any */
	unsigned min_kernel;
};

#define ALLOW SECC_ACT_ALLOW, -1
#define ARG0(op, v, v2) { 0, (v), (v2), SECC_OP_##op }

static const struct def_group default_groups[] = {
	/* What any program needs: files, memory, signals, time, sockets, IPC, processes. */
	{ "accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown "
	  "chown32 clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime "
	  "clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect "
	  "copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
	  "epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat "
	  "exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark "
	  "fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync "
	  "fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs "
	  "fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait "
	  "futex_waitv futex_wake futimesat getcpu getcwd getdents getdents64 getegid getegid32 "
	  "geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid "
	  "getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid "
	  "getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt "
	  "get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch "
	  "inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents "
	  "io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill "
	  "landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 "
	  "lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr "
	  "lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret mincore "
	  "mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr "
	  "mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend "
	  "mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv msgsnd msync munlock "
	  "munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open openat openat2 "
	  "pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll "
	  "ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 "
	  "pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv "
	  "recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat "
	  "renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask "
	  "rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 "
	  "rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max "
	  "sched_get_priority_min sched_getscheduler sched_rr_get_interval "
	  "sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam "
	  "sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop "
	  "semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 "
	  "setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid "
	  "setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid "
	  "setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address "
	  "setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd "
	  "signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs "
	  "statfs64 statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time "
	  "timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime "
	  "timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime "
	  "timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname unlink "
	  "unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid "
	  "write writev",
	  ALLOW, { 0 }, 0, 0, NULL, 0 },
	/* Sockets of every family but vsock, which is not namespaced. */
	{ "socket", ALLOW, ARG0(NE, 40, 0), 0, 0, NULL, 0 },
	/* personality: only Linux, the 32-bit flag, UNAME26 and queries. */
	{ "personality", ALLOW, ARG0(EQ, 0x0, 0), 0, 0, NULL, 0 },
	{ "personality", ALLOW, ARG0(EQ, 0x0008, 0), 0, 0, NULL, 0 },
	{ "personality", ALLOW, ARG0(EQ, 0x20000, 0), 0, 0, NULL, 0 },
	{ "personality", ALLOW, ARG0(EQ, 0x20008, 0), 0, 0, NULL, 0 },
	{ "personality", ALLOW, ARG0(EQ, 0xffffffff, 0), 0, 0, NULL, 0 },
	/* ptrace could bypass seccomp before Linux 4.8. */
	{ "process_vm_readv process_vm_writev ptrace", ALLOW, { 0 }, 0, 0, NULL, KV(4, 8) },
	/* Architecture specific. */
	{ "arch_prctl modify_ldt", ALLOW, { 0 }, 0, 0, "amd64 x32 386 x86", 0 },
	{ "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
	  ALLOW, { 0 }, 0, 0, "arm arm64", 0 },
	{ "riscv_flush_icache", ALLOW, { 0 }, 0, 0, "riscv64", 0 },
	/* New namespaces only with CAP_SYS_ADMIN: clone without namespace flags; clone3's
	 * flags are in memory a filter cannot read, so it fails with ENOSYS and libcs fall back to
	 * clone. */
	{ "clone", ALLOW, ARG0(MASKED_EQ, CLONE_NS_FLAGS, 0), 0, C(SYS_ADMIN), NULL, 0 },
	{ "clone3", SECC_ACT_ERRNO, ENOSYS, { 0 }, 0, C(SYS_ADMIN), NULL, 0 },
	/* What each capability is for, allowed with it. */
	{ "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount "
	  "mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname "
	  "sethostname setns syslog umount umount2 unshare",
	  ALLOW, { 0 }, C(SYS_ADMIN), 0, NULL, 0 },
	{ "open_by_handle_at", ALLOW, { 0 }, C(DAC_READ_SEARCH), 0, NULL, 0 },
	{ "reboot", ALLOW, { 0 }, C(SYS_BOOT), 0, NULL, 0 },
	{ "chroot", ALLOW, { 0 }, C(SYS_CHROOT), 0, NULL, 0 },
	{ "delete_module init_module finit_module", ALLOW, { 0 }, C(SYS_MODULE), 0, NULL, 0 },
	{ "acct", ALLOW, { 0 }, C(SYS_PACCT), 0, NULL, 0 },
	{ "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace", ALLOW,
	  { 0 }, C(SYS_PTRACE), 0, NULL, 0 },
	{ "iopl ioperm", ALLOW, { 0 }, C(SYS_RAWIO), 0, NULL, 0 },
	{ "settimeofday stime clock_settime clock_settime64", ALLOW, { 0 }, C(SYS_TIME), 0, NULL,
	  0 },
	{ "vhangup", ALLOW, { 0 }, C(SYS_TTY_CONFIG), 0, NULL, 0 },
	{ "get_mempolicy mbind set_mempolicy set_mempolicy_home_node", ALLOW, { 0 },
	  C(SYS_NICE), 0, NULL, 0 },
	{ "syslog", ALLOW, { 0 }, C(SYSLOG), 0, NULL, 0 },
	{ "bpf", ALLOW, { 0 }, C(BPF), 0, NULL, 0 },
	{ "perf_event_open", ALLOW, { 0 }, C(PERFMON), 0, NULL, 0 },
};

static const struct secc_archmap default_archmap[] = {
	{ SCMP_ARCH_X86_64, { SCMP_ARCH_X86, SCMP_ARCH_X32 }, 2 },
	{ SCMP_ARCH_AARCH64, { SCMP_ARCH_ARM }, 1 },
	{ SCMP_ARCH_PPC64LE, { SCMP_ARCH_PPC64, SCMP_ARCH_PPC }, 2 },
	{ SCMP_ARCH_S390X, { SCMP_ARCH_S390 }, 1 },
	{ SCMP_ARCH_RISCV64, { 0 }, 0 },
};

/* ---- names ---- */

/* The name Docker profiles use for the architecture berth was built for ("amd64", "arm64"). */
static const char *native_arch_name(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
	return "x32";
#elif defined(__x86_64__)
	return "amd64";
#elif defined(__i386__)
	return "386";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__arm__)
	return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__mips__)
	return "mips";
#else
	return "unknown";
#endif
}

/* "x86" is accepted for "386", as some profiles write it. */
static bool arch_name_matches(const char *name)
{
	const char *native = native_arch_name();

	return strcmp(name, native) == 0 || (strcmp(native, "386") == 0 && strcmp(name, "x86") == 0);
}

unsigned secc_kernel_version(const char *s)
{
	unsigned long maj, min = 0;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	maj = strtoul(s, &end, 10);
	if (*end == '.') {
		const char *m = end + 1;
		if (*m < '0' || *m > '9')
			return 0;
		min = strtoul(m, &end, 10);
	}
	if (maj == 0 || maj > 0xffff || min > 0xffff)
		return 0;
	return KV(maj, min);
}

static unsigned running_kernel(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return 0;
	return secc_kernel_version(u.release);
}

/* ---- profiles ---- */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void secc_profile_free(struct secc_profile *p)
{
	for (size_t i = 0; p->rules && i < p->n_rules; i++) {
		struct secc_rule *r = &p->rules[i];
		free_strv(r->names, r->n_names);
		free_strv(r->includes_arches, r->n_includes_arches);
		free_strv(r->excludes_arches, r->n_excludes_arches);
	}
	free(p->rules);
	free(p->arches);
	memset(p, 0, sizeof(*p));
}

/* Split a space-separated list into a malloc'd vector. */
static int split_words(const char *s, char ***out, size_t *n)
{
	size_t count = 0, i = 0;
	const char *p;
	char **v;

	for (p = s; *p;) {
		p += strspn(p, " ");
		if (*p) {
			count++;
			p += strcspn(p, " ");
		}
	}
	v = calloc(count ? count : 1, sizeof(*v));
	if (v == NULL)
		return -1;
	for (p = s; *p;) {
		size_t len;
		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		v[i] = strndup(p, len);
		if (v[i] == NULL) {
			free_strv(v, i);
			return -1;
		}
		i++;
		p += len;
	}
	*out = v;
	*n = count;
	return 0;
}

static int default_profile(struct secc_profile *p, struct berr **err)
{
	memset(p, 0, sizeof(*p));
	p->default_action = SECC_ACT_ERRNO;
	p->default_errno = EPERM;
	p->arch_map = true;
	p->rules = calloc(ARRAY_SIZE(default_groups), sizeof(*p->rules));
	p->arches = malloc(sizeof(default_archmap));
	if (p->rules == NULL || p->arches == NULL)
		goto oom;
	memcpy(p->arches, default_archmap, sizeof(default_archmap));
	p->n_arches = ARRAY_SIZE(default_archmap);
	for (size_t i = 0; i < ARRAY_SIZE(default_groups); i++) {
		const struct def_group *g = &default_groups[i];
		struct secc_rule *r = &p->rules[i];

		p->n_rules = i + 1;
		if (split_words(g->names, &r->names, &r->n_names) < 0)
			goto oom;
		r->action = g->action;
		r->errno_ret = g->errno_ret;
		if (g->arg.op) {
			r->args[0] = g->arg;
			r->n_args = 1;
		}
		r->includes_caps = g->inc_caps;
		r->excludes_caps = g->exc_caps;
		r->min_kernel = g->min_kernel;
		if (g->arches &&
		    split_words(g->arches, &r->includes_arches, &r->n_includes_arches) < 0)
			goto oom;
	}
	return 0;
oom:
	secc_profile_free(p);
	return berr_make(err, ENOMEM, "default seccomp profile");
}

/* ---- compile ---- */

static uint32_t scmp_action(enum secc_action a, int errno_ret)
{
	switch (a) {
	case SECC_ACT_KILL_PROCESS:
		return SCMP_ACT_KILL_PROCESS;
	case SECC_ACT_TRAP:
		return SCMP_ACT_TRAP;
	case SECC_ACT_ERRNO:
		return SCMP_ACT_ERRNO((uint32_t) (errno_ret < 0 ? EPERM : errno_ret));
	case SECC_ACT_TRACE:
		return SCMP_ACT_TRACE((uint32_t) (errno_ret < 0 ? 0 : errno_ret));
	case SECC_ACT_ALLOW:
		return SCMP_ACT_ALLOW;
	case SECC_ACT_LOG:
		return SCMP_ACT_LOG;
	case SECC_ACT_KILL_THREAD:
	default:
		return SCMP_ACT_KILL_THREAD;
	}
}

static enum scmp_compare scmp_op(enum secc_op op)
{
	switch (op) {
	case SECC_OP_NE:
		return SCMP_CMP_NE;
	case SECC_OP_LT:
		return SCMP_CMP_LT;
	case SECC_OP_LE:
		return SCMP_CMP_LE;
	case SECC_OP_GE:
		return SCMP_CMP_GE;
	case SECC_OP_GT:
		return SCMP_CMP_GT;
	case SECC_OP_MASKED_EQ:
		return SCMP_CMP_MASKED_EQ;
	case SECC_OP_EQ:
	default:
		return SCMP_CMP_EQ;
	}
}

static bool strv_has_native(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (arch_name_matches(v[i]))
			return true;
	return false;
}

/* Docker's conditions on an entry: capabilities in the bounding set, architecture, kernel. */
static bool rule_applies(const struct secc_rule *r, uint64_t caps, unsigned kernel)
{
	if ((r->includes_caps & caps) != r->includes_caps)
		return false;
	if (r->excludes_caps & caps)
		return false;
	if (r->n_includes_arches && !strv_has_native(r->includes_arches, r->n_includes_arches))
		return false;
	if (r->n_excludes_arches && strv_has_native(r->excludes_arches, r->n_excludes_arches))
		return false;
	if (r->min_kernel && kernel && kernel < r->min_kernel)
		return false;
	return true;
}

static int add_rule(scmp_filter_ctx ctx, const struct secc_rule *r, uint32_t def,
		    struct berr **err)
{
	uint32_t act = scmp_action(r->action, r->errno_ret);
	struct scmp_arg_cmp cmp[SECC_ARGS_MAX];
	bool same_index = false;

	/* libseccomp refuses a rule that does what the default does: nothing to add. */
	if (act == def)
		return 0;
	for (size_t i = 0; i < r->n_args; i++) {
		const struct secc_arg *a = &r->args[i];
		cmp[i].arg = a->index;
		cmp[i].op = scmp_op(a->op);
		cmp[i].datum_a = a->value;
		cmp[i].datum_b = a->value_two;
		for (size_t j = 0; j < i; j++)
			if (r->args[j].index == a->index)
				same_index = true;
	}
	for (size_t i = 0; i < r->n_names; i++) {
		int nr = seccomp_syscall_resolve_name(r->names[i]), rc;

		if (nr == __NR_SCMP_ERROR)
			continue; /* unknown to this libseccomp: skipped, as Docker does */
		if (!same_index) {
			rc = seccomp_rule_add_array(ctx, act, nr, (unsigned) r->n_args,
						    r->n_args ? cmp : NULL);
		} else {
			/* Conditions on one argument are alternatives: a rule each (libseccomp
			 * cannot AND two conditions on the same argument). */
			rc = 0;
			for (size_t k = 0; k < r->n_args && rc == 0; k++)
				rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[k]);
		}
		if (rc < 0)
			return berr_make(err, -rc, "seccomp rule for `%s`", r->names[i]);
	}
	return 0;
}

/* Write the filter as BPF into memory. libseccomp 2.6 exports to memory directly; older ones
 * write to an fd, so a memfd (or, before Linux 3.17, a non-blocking pipe) takes it. */
static int export_bpf(scmp_filter_ctx ctx, struct secc_filter *out, struct berr **err)
{
	_cleanup_free_ void *buf = NULL;
	size_t len = 0;

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
	int rc = seccomp_export_bpf_mem(ctx, NULL, &len);
	if (rc < 0)
		return berr_make(err, -rc, "export the seccomp filter");
	if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return berr_make(err, 0, "the seccomp filter has %zu bytes: too large or empty", len);
	buf = malloc(len);
	if (buf == NULL)
		return berr_make(err, ENOMEM, "seccomp filter");
	rc = seccomp_export_bpf_mem(ctx, buf, &len);
	if (rc < 0)
		return berr_make(err, -rc, "export the seccomp filter");
#else
	_cleanup_close_ int rfd = -1, wfd = -1;
	size_t cap = (BPF_MAXINSNS + 1) * sizeof(struct sock_filter);
	int fd, pfd[2], rc;

	fd = (int) syscall(SYS_memfd_create, "berth-seccomp", 1u /* MFD_CLOEXEC */);
	if (fd >= 0) {
		rfd = fd;
		wfd = dup(fd);
		if (wfd < 0)
			return berr_make_errno(err, "export the seccomp filter");
	} else {
		if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0)
			return berr_make_errno(err, "export the seccomp filter");
		rfd = pfd[0];
		wfd = pfd[1];
	}
	rc = seccomp_export_bpf(ctx, wfd);
	if (rc < 0)
		return berr_make(err, -rc, "export the seccomp filter");
	if (fd >= 0 && lseek(rfd, 0, SEEK_SET) < 0)
		return berr_make_errno(err, "export the seccomp filter");
	close(steal_fd(&wfd));
	buf = malloc(cap);
	if (buf == NULL)
		return berr_make(err, ENOMEM, "seccomp filter");
	for (;;) {
		ssize_t r = read(rfd, (char *) buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			return berr_make_errno(err, "read the seccomp filter");
		if (r <= 0)
			break;
		len += (size_t) r;
		if (len == cap)
			return berr_make(err, 0, "the seccomp filter has more than %d "
					 "instructions", BPF_MAXINSNS);
	}
	if (len == 0 || len % sizeof(struct sock_filter))
		return berr_make(err, 0, "the seccomp filter export gave %zu bytes", len);
#endif
	out->insns = steal_ptr(&buf);
	out->len = (unsigned short) (len / sizeof(struct sock_filter));
	return 0;
}

static int compile(const struct secc_profile *p, uint64_t caps, struct secc_filter *out,
		   struct berr **err)
{
	uint32_t def = scmp_action(p->default_action, p->default_errno), native;
	unsigned kernel = running_kernel();
	scmp_filter_ctx ctx;
	int rc, ret = -1;

	ctx = seccomp_init(def);
	if (ctx == NULL)
		return berr_make(err, ENOMEM, "seccomp_init");
	/* berth sets no_new_privs itself, in order, before loading the filter. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (rc < 0) {
		berr_make(err, -rc, "seccomp attributes");
		goto out;
	}
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 5)
	/* A binary tree over the syscall numbers instead of one long chain of compares: Docker's
	 * default profile loads in a third of the time (the kernel converts and JITs the whole
	 * program at each start) and a syscall walks about ten compares instead of hundreds. */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (rc < 0) {
		berr_make(err, -rc, "seccomp attributes");
		goto out;
	}
#endif
	native = seccomp_arch_native();
	for (size_t i = 0; i < p->n_arches; i++) {
		const struct secc_archmap *a = &p->arches[i];
		if (p->arch_map && a->arch != native)
			continue;
		rc = seccomp_arch_add(ctx, a->arch);
		for (size_t j = 0; j < a->n_subs && (rc == 0 || rc == -EEXIST); j++)
			rc = seccomp_arch_add(ctx, a->subs[j]);
		if (rc < 0 && rc != -EEXIST) {
			berr_make(err, -rc, "seccomp architecture");
			goto out;
		}
	}
	for (size_t i = 0; i < p->n_rules; i++)
		if (rule_applies(&p->rules[i], caps, kernel) &&
		    add_rule(ctx, &p->rules[i], def, err) < 0)
			goto out;
	if (export_bpf(ctx, out, err) < 0)
		goto out;
	out->flags = p->flags;
	ret = 0;
out:
	seccomp_release(ctx);
	return ret;
}

int secc_build(const struct secc_profile *p, uint64_t caps, struct secc_filter *out,
	       struct berr **err)
{
	struct secc_profile def;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!ENABLE_SECCOMP)
		return berr_usage(err, "a seccomp profile was asked for, but this berth is built "
				  "without seccomp (Kconfig SECCOMP): use "
				  "--security-opt seccomp=unconfined");
	if (p != NULL)
		return compile(p, caps, out, err);
	if (default_profile(&def, err) < 0)
		return -1;
	ret = compile(&def, caps, out, err);
	secc_profile_free(&def);
	return ret;
}

int secc_parse_opt(const char *value, enum secc_mode *mode, const char **path,
		   struct berr **err)
{
	*path = NULL;
	if (value == NULL || value[0] == '\0')
		return berr_usage(err, "--security-opt seccomp=: expected `unconfined` or a "
				  "profile's path");
	if (strcmp(value, "unconfined") == 0) {
		*mode = SECC_MODE_UNCONFINED;
		return 0;
	}
	*mode = SECC_MODE_PROFILE;
	*path = value;
	return 0;
}

int secc_filter_for(enum secc_mode mode, const char *path, uint64_t caps,
		    struct secc_filter *out, struct berr **err)
{
	struct secc_profile p;
	int ret;

	memset(out, 0, sizeof(*out));
	switch (mode) {
	case SECC_MODE_UNCONFINED:
		return 0;
	case SECC_MODE_DEFAULT:
		if (!ENABLE_SECCOMP)
			return 0;
		return secc_build(NULL, caps, out, err);
	case SECC_MODE_PROFILE:
	default:
		if (!ENABLE_SECCOMP)
			return secc_build(NULL, caps, out, err); /* the "built without" error */
		if (secc_profile_load(path, &p, err) < 0)
			return -1;
		ret = secc_build(&p, caps, out, err);
		secc_profile_free(&p);
		return ret < 0 ? berr_wrap(err, "seccomp profile `%s`", path) : 0;
	}
}

int secc_apply(const struct secc_filter *f, struct berr **err)
{
	struct sock_fprog prog;

	if (f == NULL || f->insns == NULL)
		return 0;
	prog.len = f->len;
	prog.filter = f->insns;
	if (f->flags) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, f->flags, &prog) < 0)
			return berr_make_errno(err, "load the seccomp filter (flags %#x)", f->flags);
		return 0;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return berr_make_errno(err, "load the seccomp filter (is no_new_privs set?)");
	return 0;
}

void secc_filter_free(struct secc_filter *f)
{
	free(f->insns);
	memset(f, 0, sizeof(*f));
}
