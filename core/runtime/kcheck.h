/* Board-readiness probes for `berth check`: kernel features, cgroups, storage. The parsers are
 * pure functions over file text so tests can feed fixtures; kcheck_run() reads the real files. */
#ifndef BERTH_KCHECK_H
#define BERTH_KCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berr;

enum kcheck_status { KCHECK_OK, KCHECK_WARN, KCHECK_MISSING };

#define KCHECK_NAME_MAX 24
#define KCHECK_DETAIL_MAX 192
/* Details are worded to fit this many columns: an 80-column console minus `berth check`'s
 * status (8) and name (23) columns. Longer ones are cut there in the table. */
#define KCHECK_DETAIL_COLS 49

struct kcheck_item {
	char name[KCHECK_NAME_MAX];     /* "cgroup.memory" */
	enum kcheck_status status;
	bool required;                  /* a MISSING required item fails the check */
	char detail[KCHECK_DETAIL_MAX]; /* what was found, or what to do */
};

struct kcheck_list {
	struct kcheck_item *items;
	size_t n, cap;
};

/* Append one result. An optional item is never MISSING: that status becomes a warn. */
void kcheck_add(struct kcheck_list *l, const char *name, bool required, enum kcheck_status st,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void kcheck_list_free(struct kcheck_list *l);
const char *kcheck_status_name(enum kcheck_status st); /* "ok", "warn", "MISSING" */
/* True when no item is MISSING (warns allowed). */
bool kcheck_list_ok(const struct kcheck_list *l);

struct kcheck_opts {
	const char *data_root;  /* where images and containers live (paths_root()) */
	bool probe;             /* fork children that really unshare, install filters, make links */
	const char *compression; /* [store] compression: the kernel must read it; NULL: not checked */
};

/* Run fn(arg) in a forked child (with a 5 s alarm, so nothing hangs) and reap it. fn returns 0
 * or a positive errno (< 256). Returns what fn returned, a positive errno if the child could
 * not be made, or KCHECK_E_HUNG / KCHECK_E_DIED. */
enum { KCHECK_E_HUNG = 256, KCHECK_E_DIED = 257 };
int kcheck_in_child(int (*fn)(const void *arg), const void *arg);
/* strerror() that also names KCHECK_E_HUNG and KCHECK_E_DIED. */
const char *kcheck_strerror(int e);

/* Run every probe, in the order they are printed. Probes are read-only and leave nothing
 * behind; forked children are reaped before this returns. */
int kcheck_run(struct kcheck_list *out, const struct kcheck_opts *opts, struct berr **err);

/* ---- kernel config (/proc/config.gz or /boot/config-<release>) ---- */

/* Value of `opt` ("CONFIG_MEMCG") in kernel config text: 'y', 'm', 'n' (`is not set` or
 * absent). Other values (numbers, strings) count as 'y'. */
char kcheck_kconfig_get(const char *text, const char *opt);

/* Parse "6.1.0-18-arm64" into numbers; returns -1 if it does not start with two numbers. */
int kcheck_parse_kernel_version(const char *release, unsigned *major, unsigned *minor,
				unsigned *patch);

/* ---- /proc/filesystems, modules.builtin, modules.dep ---- */

/* Does /proc/filesystems text list `fs` ("nodev\toverlay")? */
bool kcheck_filesystems_has(const char *text, const char *fs);
/* Does a module list (modules.builtin or modules.dep: one path per line, "kernel/fs/overlayfs/
 * overlay.ko.xz: deps...") name module `mod`? '-' and '_' are the same in module names. */
bool kcheck_modlist_has(const char *text, const char *mod);

/* ---- storage ---- */

/* Name of a statfs f_type ("ext4", "tmpfs"), or NULL if unknown. ext2/3/4 share one magic. */
const char *kcheck_fs_type_name(uint64_t magic);
/* "53.1 GiB", "512 MiB", "900 KiB" into buf. */
void kcheck_format_size(char *buf, size_t size, uint64_t bytes);
/* Copy `path` into out, keeping its tail (".../lib/berth") if it is longer than `max` (at
 * least 12) characters. */
void kcheck_shorten_path(char *out, size_t size, const char *path, int max);
/* Add the `storage.root` line for data root `root`, judged on its nearest existing parent if
 * it does not exist yet. (kcheck_storage.c) */
void kcheck_storage_run(struct kcheck_list *l, const char *root);

/* ---- cgroups (kcheck_cgroup.c) ---- */

#define KCHECK_CG_MAX_MOUNTS 32
#define KCHECK_CG_MAX_SUBSYS 32

struct kcheck_cg_mount {
	bool v2;                /* cgroup2, else a v1 hierarchy */
	char path[256];         /* mount point, octal escapes decoded */
	char opts[256];         /* super options: "rw,cpu,cpuacct" */
};

struct kcheck_cg_subsys {
	char name[32];          /* "memory" */
	unsigned hierarchy;     /* 0: not bound to a v1 hierarchy */
	bool enabled;
};

struct kcheck_cgroups {
	struct kcheck_cg_mount mounts[KCHECK_CG_MAX_MOUNTS];
	size_t n_mounts;
	struct kcheck_cg_subsys subsys[KCHECK_CG_MAX_SUBSYS];
	size_t n_subsys;
	bool have_proc_cgroups;  /* /proc/cgroups was read */
	char controllers[512];   /* the cgroup2 root's cgroup.controllers, "" if none */
};

/* Collect the cgroup and cgroup2 mounts of /proc/self/mountinfo text. Extra mounts past
 * KCHECK_CG_MAX_MOUNTS are ignored. */
void kcheck_cg_parse_mountinfo(struct kcheck_cgroups *cg, const char *text);
/* Read /proc/cgroups text ("#subsys_name hierarchy num_cgroups enabled"). */
void kcheck_cg_parse_proc_cgroups(struct kcheck_cgroups *cg, const char *text);
/* Does a space-separated list (cgroup.controllers) hold `name`? */
bool kcheck_words_has(const char *list, const char *name);
/* The first cgroup2 mount, or NULL. */
const struct kcheck_cg_mount *kcheck_cg_unified(const struct kcheck_cgroups *cg);
/* The first v1 hierarchy carrying controller `v1name`, or NULL. */
const struct kcheck_cg_mount *kcheck_cg_v1_mount(const struct kcheck_cgroups *cg, const char *v1name);

enum kcheck_cg_mode { KCHECK_CG_NONE, KCHECK_CG_V1, KCHECK_CG_V2, KCHECK_CG_HYBRID };
enum kcheck_cg_mode kcheck_cg_mode(const struct kcheck_cgroups *cg);

/* Add the `cgroup.mode` line. */
void kcheck_cg_check_mode(struct kcheck_list *l, const struct kcheck_cgroups *cg);
/* Add the `cgroup.<name>` line for controller `name` (memory cpu cpuset pids io); `v1_ok` says
 * whether this build has the v1 backend. */
void kcheck_cg_check_controller(struct kcheck_list *l, const struct kcheck_cgroups *cg,
				const char *name, bool v1_ok);
/* Read mountinfo, /proc/cgroups and the cgroup2 root's cgroup.controllers under `proc` ("/proc"),
 * then add the mode line and one line per controller. */
void kcheck_cgroups_run(struct kcheck_list *l, const char *proc);

/* ---- network (kcheck_net.c) ---- */

/* In a child in a fresh net namespace, ask the kernel over rtnetlink to create a link of
 * `kind` ("veth", "bridge"). Returns 0 if it worked, else a positive errno. */
int kcheck_net_try_link(const char *kind);

#endif
