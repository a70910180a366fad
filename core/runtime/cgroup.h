/* Container cgroups: find the hierarchy layout once, then create, fill, join, read and remove a
 * container's cgroup through the backend (v1 or v2) that fits it. Also the parsers for the
 * Docker-style limit options (`--memory 512m`, `--cpus 0.5`, ...). */
#ifndef BERTH_CGROUP_H
#define BERTH_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct berr;

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"
#define CG_DEFAULT_PARENT "berth"
#define CG_PATH_MAX 256
#define CG_NAME_MAX 128
#define CG_MAX_HIER 16
#define CG_CPUSET_MAX 64

/* Controllers berth drives. v1 names are given by cg_ctrl_name(); on v2, cpuacct is part of
 * cpu, blkio is `io` and freezing is the core file cgroup.freeze. */
enum cg_ctrl {
	CG_MEMORY,
	CG_CPU,
	CG_CPUACCT,
	CG_CPUSET,
	CG_PIDS,
	CG_IO,
	CG_FREEZER,
	CG_DEVICES,     /* v1 only: device access (v2 uses a BPF program instead) */
	CG_N_CTRL
};
#define CG_BIT(c) (1u << (c))

enum cg_version { CG_NONE, CG_V1, CG_V2 };

/* One device the container may use besides the default nodes (--device): exactly this type,
 * major and minor, with these permissions. */
struct cg_device {
	char type;               /* 'c' or 'b' */
	unsigned major, minor;
	char access[4];          /* a subset of "rwm" */
};

/* Limits as the Docker run reference defines them. cg_limits_init() sets "none" everywhere. */
struct cg_limits {
	int64_t memory;          /* bytes; -1 none */
	int64_t memory_swap;     /* memory + swap in bytes; -1 unlimited swap; 0 unset: no swap */
	int64_t cpu_quota_us;    /* 0 none */
	int64_t cpu_period_us;   /* 0: the default, 100000 */
	uint64_t cpu_shares;     /* 2..262144, 0 none */
	char cpuset_cpus[CG_CPUSET_MAX]; /* "0-2,4", "" none */
	char cpuset_mems[CG_CPUSET_MAX];
	int64_t pids_max;        /* -1 none */
	bool all_devices;        /* --privileged: no device rules */
	const struct cg_device *devices; /* not owned: allowed besides the defaults (--device) */
	size_t n_devices;
};

/* One mounted v1 hierarchy berth uses. */
struct cg_hier {
	char path[CG_PATH_MAX];  /* mount point: "/sys/fs/cgroup/cpu,cpuacct" */
	unsigned ctrls;          /* CG_BIT()s of the controllers it carries */
};

/* The layout found by cg_detect(): which backend, and where each controller lives. */
struct cg_system {
	const struct cg_ops *ops;     /* not owned: the chosen backend's table; NULL for CG_NONE */
	enum cg_version version;
	char root[CG_PATH_MAX];       /* "/sys/fs/cgroup" */
	char parent[CG_NAME_MAX];     /* berth's cgroup under each hierarchy: "berth" */
	/* v2 */
	char unified[CG_PATH_MAX];    /* cgroup2 mount under root, "" if none */
	unsigned v2_ctrls;            /* its cgroup.controllers */
	/* v1 */
	struct cg_hier hier[CG_MAX_HIER];
	size_t n_hier;
	/* From /proc/cgroups, to say why a controller is missing. */
	bool have_proc_cgroups;
	unsigned kernel_ctrls;        /* listed (built into the kernel) */
	unsigned disabled_ctrls;      /* listed with enabled 0 (cgroup_disable=, or off by default) */
	unsigned v1_bound_ctrls;      /* bound to some v1 hierarchy (hierarchy id != 0) */
};

/* A container's cgroup. The handle is plain data: it can be copied, and cg_open() rebuilds it
 * in another process (`berth stats`) from the system and the id. */
struct cg_handle {
	const struct cg_system *sys;  /* not owned: must outlive the handle */
	char id[CG_NAME_MAX];         /* "<container id>"; the cgroup is <parent>/<id> */
	unsigned hier_mask;           /* v1: bit i set when hierarchy i has our directory */
	bool active;                  /* false: no cgroup file system, nothing was made */
	bool devices_enforced;        /* device access limited to the default nodes (v1 devices
				       * controller); when false the caller must keep the
				       * container from making device nodes (drop CAP_MKNOD) */
};

struct cg_stats {
	int64_t memory_current;  /* bytes; -1 unknown in all fields */
	int64_t memory_peak;     /* bytes: v2 memory.peak (kernel 5.19+), v1 max_usage_in_bytes */
	int64_t memory_limit;    /* bytes; -1 also when unlimited */
	int64_t cpu_usage_ns;
	int64_t pids_current;
	int64_t pids_max;        /* -1 also when unlimited */
	int64_t oom_kills;
	int64_t memory_inactive_file; /* bytes of page cache the kernel can drop (v1
				       * total_inactive_file, v2 inactive_file): `stats` leaves it
				       * out of the usage, as Docker does */
};

/* Descriptors a child opens nothing with: it writes "0" to each cgroup.procs fd to join
 * (cg_join_self), or the parent passes dir_fd to clone3() with CLONE_INTO_CGROUP (v2). Join
 * before unshare(CLONE_NEWCGROUP), so the namespace is rooted at the container's cgroup. */
struct cg_join {
	int procs_fd[CG_MAX_HIER];
	size_t n;
	int dir_fd;              /* v2: the cgroup's directory (O_RDONLY|O_DIRECTORY); else -1 */
};

/* The backend table (cgroup_v1.c, cgroup_v2.c). Optional slots may be NULL. */
struct cg_ops {
	const char *name;        /* "v1", "v2" */
	/* Can every limit in `l` be enforced here? Creates nothing. */
	int (*check)(const struct cg_system *sys, const struct cg_limits *l, struct berr **err);
	/* Make the directories and write every limit, before any process joins. */
	int (*create)(const struct cg_system *sys, const struct cg_limits *l, struct cg_handle *h,
		      struct berr **err);
	int (*join_open)(const struct cg_handle *h, struct cg_join *j, struct berr **err);
	int (*stats)(const struct cg_handle *h, struct cg_stats *st, struct berr **err);
	int (*oom_killed)(const struct cg_handle *h, bool *killed, struct berr **err);
	int (*kill_all)(const struct cg_handle *h, int sig, struct berr **err);   /* optional */
	int (*freeze)(const struct cg_handle *h, bool frozen, struct berr **err); /* optional */
	/* Remove the cgroup's directories; retries while the last process exits. */
	int (*destroy)(struct cg_handle *h, struct berr **err);
};

extern const struct cg_ops cg_v1_ops;
extern const struct cg_ops cg_v2_ops;

/* ---- layout ---- */

/* Find the layout under `root` (NULL: /sys/fs/cgroup) from /proc/self/mountinfo and
 * /proc/cgroups. v1 is chosen when a controller berth limits with (memory, cpu, cpuset, pids)
 * sits on a v1 hierarchy mounted under root, or when there is no cgroup2 mount but v1
 * hierarchies; v2 otherwise. A build without CONFIG_CGROUP_V1 never chooses v1. */
int cg_detect(struct cg_system *sys, const char *root, struct berr **err);
/* The same from given text (tests): only mounts at or below `root` count; the cgroup2 mount's
 * cgroup.controllers is read from the file system. `proc_cgroups` may be NULL. */
int cg_detect_from(struct cg_system *sys, const char *root, const char *mountinfo,
		   const char *proc_cgroups, struct berr **err);
const char *cg_version_name(enum cg_version v);   /* "none", "v1", "v2" */
const char *cg_ctrl_name(enum cg_ctrl c);          /* v1 name: "memory", "cpuacct", "blkio" */
const char *cg_ctrl_v2_name(enum cg_ctrl c);       /* v2 name, NULL if none: "io" */
/* Controllers a set of limits needs. */
unsigned cg_limits_needs(const struct cg_limits *l);

/* ---- a container's cgroup ---- */

/* Validate `l`, check every limit can be enforced (else an error naming the controller and the
 * kernel option or boot argument that enables it, and nothing is created), then create
 * <parent>/<id> and write the limits. With no limits and no cgroup file system the handle is
 * inactive and the other calls do nothing. */
int cg_create(const struct cg_system *sys, const char *id, const struct cg_limits *l,
	      struct cg_handle *h, struct berr **err);
/* cg_create's checks alone: `l` is valid and every limit in it can be enforced here.
 * Creates nothing. */
int cg_check(const struct cg_system *sys, const struct cg_limits *l, struct berr **err);
/* A handle for an existing cgroup (made by another process). */
int cg_open(const struct cg_system *sys, const char *id, struct cg_handle *h, struct berr **err);
/* Move process `pid` (every thread) into the cgroup, in every hierarchy. */
int cg_enter(const struct cg_handle *h, pid_t pid, struct berr **err);
/* The same through descriptors cg_join_open gave (j empty: nothing to do). */
int cg_enter_with(const struct cg_handle *h, const struct cg_join *j, pid_t pid, struct berr **err);
int cg_join_open(const struct cg_handle *h, struct cg_join *j, struct berr **err);
/* In the child, after fork: join through the fds. Async-signal-safe; returns 0 or -errno. */
int cg_join_self(const struct cg_join *j);
void cg_join_close(struct cg_join *j);
int cg_stats(const struct cg_handle *h, struct cg_stats *st, struct berr **err);
/* Did the kernel's OOM killer kill a process in this cgroup? */
int cg_oom_killed(const struct cg_handle *h, bool *killed, struct berr **err);
/* Send `sig` to every process in the cgroup until it is empty (SIGKILL) or once (others). */
int cg_kill_all(const struct cg_handle *h, int sig, struct berr **err);
int cg_freeze(const struct cg_handle *h, bool frozen, struct berr **err);
/* Remove the cgroup in every hierarchy, retrying on EBUSY for about a second while the last
 * process exits. A missing directory is fine. */
int cg_destroy(struct cg_handle *h, struct berr **err);
/* cgroup v2: attach the program that lets the cgroup open only the default device nodes and
 * `devices` (n of them, at most CG_DEVICES_MAX). */
#define CG_DEVICES_MAX 256
int cg_devices_bpf_attach(const char *cgroup_dir, const struct cg_device *devices, size_t n,
			  struct berr **err);
/* Path of the cgroup's directory in the hierarchy carrying `c` (v2: the one directory). */
int cg_path(const struct cg_handle *h, enum cg_ctrl c, char *buf, size_t size, struct berr **err);

/* ---- limits and Docker-style values (the CLI's `run` options) ---- */

void cg_limits_init(struct cg_limits *l);
bool cg_limits_any(const struct cg_limits *l);
/* Cross-checks: --memory-swap needs --memory and must not be below it. */
int cg_limits_check(const struct cg_limits *l, struct berr **err);
/* `--cpus 1.5` -> quota 150000, period 100000; from 0.01 to 1024. */
int cg_parse_cpus(const char *s, int64_t *quota_us, int64_t *period_us, struct berr **err);
/* `--memory 512m` (1024-based units, at least 6 MiB, as Docker requires). */
int cg_parse_memory(const char *s, int64_t *bytes, struct berr **err);
/* `--memory-swap 1g` or `-1` (unlimited swap). */
int cg_parse_memory_swap(const char *s, int64_t *bytes, struct berr **err);
/* `--cpu-shares 512`: 2..262144, or 0 for the default. */
int cg_parse_cpu_shares(const char *s, uint64_t *shares, struct berr **err);
/* `--cpuset-cpus 0-2,4` / `--cpuset-mems 0`: a list of numbers and ascending ranges. */
int cg_parse_cpuset(const char *s, char *out, size_t size, struct berr **err);
/* `--pids-limit 100`; 0 or -1 mean unlimited (stored as -1). */
int cg_parse_pids_limit(const char *s, int64_t *max, struct berr **err);
/* cgroup v2 cpu.weight (1..10000) from v1 cpu.shares (2..262144). */
uint64_t cg_shares_to_weight(uint64_t shares);

/* ---- for the backends (cgroup_v1.c, cgroup_v2.c) only ---- */

/* The "<what> cgroup controller not available: <how to get it>" error for controller c. */
int cg_err_missing(const struct cg_system *sys, enum cg_ctrl c, struct berr **err);
/* Write `value` to dir/file in one write(2); the kernel's answer is the error. */
int cg_write(const char *dir, const char *file, const char *value, struct berr **err);
/* Write each of `values` to dir/file, one write(2) each, through one open: the kernel takes
 * every write of a cgroup file as a command of its own (devices.allow lines). */
int cg_write_each(const char *dir, const char *file, const char *const *values, size_t n, struct berr **err);
/* Read dir/file (at most size-1 bytes) into buf. -1 with errno set, no berr: callers decide
 * whether a missing file is an error. */
int cg_read(const char *dir, const char *file, char *buf, size_t size);
/* Read a single number; "max" reads as -1. -1 with errno set on failure. */
int cg_read_i64(const char *dir, const char *file, int64_t *out);
/* Value of `key` in a flat-keyed file text ("oom_kill 3\n"); -1 if absent. */
int cg_keyed_get(const char *text, const char *key, int64_t *out);
bool cg_file_exists(const char *dir, const char *file);
/* dir/child into buf, with an error on overflow. */
int cg_join_path(char *buf, size_t size, const char *dir, const char *child, struct berr **err);
/* rmdir that waits for the last process to go (EBUSY), about a second. ENOENT is success. */
int cg_rmdir_retry(const char *path, struct berr **err);
/* Kill every pid listed in dir/cgroup.procs with sig; returns how many were signalled, or -1. */
int cg_signal_procs(const char *dir, int sig);
/* Wait up to timeout_ms for dir/cgroup.procs to be empty; 0 when it is. */
int cg_wait_empty(const char *dir, int timeout_ms);
/* Signal every process listed in `dir`/cgroup.procs, frozen meanwhile where `freeze` can (so
 * nothing forks between reading the list and the signal); with SIGKILL, repeat until the
 * cgroup is empty. Shared by both backends' kill_all. */
int cg_signal_all(const struct cg_handle *h, const char *dir, int sig,
		  int (*freeze)(const struct cg_handle *h, bool frozen, struct berr **err),
		  struct berr **err);

#endif
