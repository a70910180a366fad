/* The cgroup v1 backend: one directory <hierarchy>/<parent>/<id> in every mounted hierarchy
 * that carries a controller, and a process joins each (kernel cgroup-v1/cgroups.rst). */
#include "runtime/cgroup.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* v1 reports "no limit" as the largest page-aligned counter, about 2^63. */
#define V1_UNLIMITED_FLOOR (INT64_C(1) << 62)

static int find_hier(const struct cg_system *sys, enum cg_ctrl c)
{
	for (size_t i = 0; i < sys->n_hier; i++)
		if (sys->hier[i].ctrls & CG_BIT(c))
			return (int) i;
	return -1;
}

/* <hierarchy i>/<parent>, or <hierarchy i>/<parent>/<id> when id is non-NULL. */
static int hier_dir(const struct cg_system *sys, size_t i, const char *id, char *buf, size_t size,
		    struct berr **err)
{
	int n = id ? snprintf(buf, size, "%s/%s/%s", sys->hier[i].path, sys->parent, id)
		   : snprintf(buf, size, "%s/%s", sys->hier[i].path, sys->parent);

	if (n < 0 || (size_t) n >= size)
		return berr_make(err, ENAMETOOLONG, "cgroup path under `%s`", sys->hier[i].path);
	return 0;
}

/* The container's directory in the hierarchy carrying c, if it has one. */
static int ctrl_dir(const struct cg_handle *h, enum cg_ctrl c, char *buf, size_t size)
{
	int i = find_hier(h->sys, c);

	if (i < 0 || !(h->hier_mask & (1u << i)))
		return -1;
	return hier_dir(h->sys, (size_t) i, h->id, buf, size, NULL);
}

static int v1_check(const struct cg_system *sys, const struct cg_limits *l, struct berr **err)
{
	unsigned need = cg_limits_needs(l);
	int mem, cpu;

	for (int c = 0; c < CG_N_CTRL; c++)
		if ((need & CG_BIT(c)) && find_hier(sys, (enum cg_ctrl) c) < 0)
			return cg_err_missing(sys, (enum cg_ctrl) c, err);
	/* The root of each hierarchy has the same files as its children, so the optional parts
	 * of a controller can be checked before anything is made. */
	mem = find_hier(sys, CG_MEMORY);
	if (l->memory_swap > l->memory && l->memory > 0 &&
	    !cg_file_exists(sys->hier[mem].path, "memory.memsw.limit_in_bytes"))
		return berr_make(err, 0, "swap limit (--memory-swap) not available: this kernel does not "
				 "account swap; boot with swapaccount=1, or build the kernel with "
				 "CONFIG_MEMCG_SWAP");
	cpu = find_hier(sys, CG_CPU);
	if (l->cpu_quota_us > 0 && !cg_file_exists(sys->hier[cpu].path, "cpu.cfs_quota_us"))
		return berr_make(err, 0, "CPU quota (--cpus) not available: `cpu.cfs_quota_us` is missing; "
				 "build the kernel with CONFIG_CFS_BANDWIDTH");
	if (l->cpu_shares > 0 && !cg_file_exists(sys->hier[cpu].path, "cpu.shares"))
		return berr_make(err, 0, "CPU shares (--cpu-shares) not available: `cpu.shares` is missing; "
				 "build the kernel with CONFIG_FAIR_GROUP_SCHED");
	return 0;
}

/* A new cpuset cgroup starts with no CPUs and no memory nodes, and refuses processes until
 * both are set: copy the parent's where they are empty (cgroup-v1/cpusets.rst). */
static int cpuset_inherit(const char *parent, const char *dir, struct berr **err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char cur[CG_CPUSET_MAX * 4], up[CG_CPUSET_MAX * 4];
		if (cg_read(dir, files[i], cur, sizeof(cur)) < 0)
			return berr_make(err, errno, "read `%s/%s`", dir, files[i]);
		if (cur[0] != '\0' && cur[0] != '\n')
			continue;
		if (cg_read(parent, files[i], up, sizeof(up)) < 0)
			return berr_make(err, errno, "read `%s/%s`", parent, files[i]);
		up[strcspn(up, "\n")] = '\0';
		if (cg_write(dir, files[i], up, err) < 0)
			return -1;
	}
	return 0;
}

/* mkdir that takes over a stale, empty directory of the same name (a berth that died before
 * removing it); one that still holds processes belongs to a live container. The parent is
 * made only when missing, the first time. */
static int mkdir_fresh(const char *parent, const char *dir, struct berr **err)
{
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno == ENOENT) {
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return berr_make(err, errno, "create cgroup `%s`", parent);
		if (mkdir(dir, 0755) == 0)
			return 0;
	}
	if (errno != EEXIST)
		return berr_make(err, errno, "create cgroup `%s`", dir);
	if (rmdir(dir) < 0) {
		if (errno == EBUSY)
			return berr_make(err, 0, "cgroup `%s` already exists and holds processes: is a "
					 "container with this name still running?", dir);
		return berr_make(err, errno, "remove stale cgroup `%s`", dir);
	}
	if (mkdir(dir, 0755) < 0)
		return berr_make(err, errno, "create cgroup `%s`", dir);
	return 0;
}

static int write_i64(const char *dir, const char *file, int64_t v, struct berr **err)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cg_write(dir, file, buf, err);
}

/* The device nodes a container may use, as Docker allows them: it may make any node (m) but
 * open only these, and those given with --device. Everything else, a host disk above all, stays out of reach even to a
 * container that can mknod. */
static const char *const device_allow[] = {
	"c *:* m", "b *:* m",
	"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", /* null zero full random urandom */
	"c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm",             /* tty console ptmx pts */
	"c 10:200 rwm",                                                  /* tun */
};

static int write_devices(struct cg_handle *h, const struct cg_limits *l, struct berr **err)
{
	char dir[CG_PATH_MAX];

	h->devices_enforced = false;
	if (l->all_devices)
		return 0;
	if (ctrl_dir(h, CG_DEVICES, dir, sizeof(dir)) < 0)
		return 0; /* no devices hierarchy: the caller falls back to dropping CAP_MKNOD */
	if (cg_write(dir, "devices.deny", "a", err) < 0 ||
	    cg_write_each(dir, "devices.allow", device_allow, ARRAY_SIZE(device_allow), err) < 0)
		return -1;
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct cg_device *d = &l->devices[i];
		char rule[64];
		snprintf(rule, sizeof(rule), "%c %u:%u %s", d->type, d->major, d->minor, d->access);
		if (cg_write(dir, "devices.allow", rule, err) < 0)
			return berr_wrap(err, "allow device %s", rule);
	}
	h->devices_enforced = true;
	return 0;
}

static int write_limits(struct cg_handle *h, const struct cg_limits *l, struct berr **err)
{
	char dir[CG_PATH_MAX];

	if (write_devices(h, l, err) < 0)
		return -1;

	if (l->memory > 0) {
		if (ctrl_dir(h, CG_MEMORY, dir, sizeof(dir)) < 0)
			return cg_err_missing(h->sys, CG_MEMORY, err);
		if (write_i64(dir, "memory.limit_in_bytes", l->memory, err) < 0)
			return -1;
		/* memsw is memory + swap, so equal to the memory limit means no swap at all. Raised
		 * after the memory limit: the kernel keeps memsw >= limit. */
		int64_t total = l->memory_swap == 0 ? l->memory : l->memory_swap;
		struct berr *e1 = NULL;
		bool no_swap_accounting = false;

		/* Written straight away: a missing file (no swap accounting) is the answer. */
		if (write_i64(dir, "memory.memsw.limit_in_bytes", total, &e1) < 0) {
			if (e1->errcode != ENOENT) {
				if (err)
					*err = e1;
				else
					berr_free(e1);
				return -1;
			}
			berr_free(e1);
			no_swap_accounting = true;
		}
		if (no_swap_accounting && (l->memory_swap == 0 || l->memory_swap == l->memory)) {
			/* Without swap accounting, keeping the cgroup off swap is the next best. */
			struct berr *e2 = NULL;
			if (cg_write(dir, "memory.swappiness", "0", &e2) < 0) {
				log_debug("cgroup: %s", e2->msg);
				berr_free(e2);
			}
		}
	}
	if (l->cpu_quota_us > 0 || l->cpu_shares > 0) {
		if (ctrl_dir(h, CG_CPU, dir, sizeof(dir)) < 0)
			return cg_err_missing(h->sys, CG_CPU, err);
		/* The period first: the kernel checks the quota against it. */
		if (l->cpu_quota_us > 0 &&
		    (write_i64(dir, "cpu.cfs_period_us", l->cpu_period_us ? l->cpu_period_us : 100000, err) < 0 ||
		     write_i64(dir, "cpu.cfs_quota_us", l->cpu_quota_us, err) < 0))
			return -1;
		if (l->cpu_shares > 0 && write_i64(dir, "cpu.shares", (int64_t) l->cpu_shares, err) < 0)
			return -1;
	}
	if (l->cpuset_cpus[0] || l->cpuset_mems[0]) {
		if (ctrl_dir(h, CG_CPUSET, dir, sizeof(dir)) < 0)
			return cg_err_missing(h->sys, CG_CPUSET, err);
		if (l->cpuset_cpus[0] && cg_write(dir, "cpuset.cpus", l->cpuset_cpus, err) < 0)
			return berr_wrap(err, "--cpuset-cpus `%s` (are those CPUs online?)", l->cpuset_cpus);
		if (l->cpuset_mems[0] && cg_write(dir, "cpuset.mems", l->cpuset_mems, err) < 0)
			return berr_wrap(err, "--cpuset-mems `%s` (are those memory nodes present?)",
					 l->cpuset_mems);
	}
	if (l->pids_max > 0) {
		if (ctrl_dir(h, CG_PIDS, dir, sizeof(dir)) < 0)
			return cg_err_missing(h->sys, CG_PIDS, err);
		if (write_i64(dir, "pids.max", l->pids_max, err) < 0)
			return -1;
	}
	return 0;
}

static int v1_destroy(struct cg_handle *h, struct berr **err)
{
	int r = 0;

	for (size_t i = 0; i < h->sys->n_hier; i++) {
		char dir[CG_PATH_MAX];
		if (!(h->hier_mask & (1u << i)))
			continue;
		if (hier_dir(h->sys, i, h->id, dir, sizeof(dir), err) < 0 || cg_rmdir_retry(dir, err) < 0) {
			r = -1; /* keep going: every other hierarchy still gets cleaned */
			continue;
		}
		h->hier_mask &= ~(1u << i);
	}
	return r;
}

static int v1_create(const struct cg_system *sys, const struct cg_limits *l, struct cg_handle *h,
		     struct berr **err)
{
	for (size_t i = 0; i < sys->n_hier; i++) {
		char parent[CG_PATH_MAX], dir[CG_PATH_MAX];
		bool cpuset = sys->hier[i].ctrls & CG_BIT(CG_CPUSET);

		if (hier_dir(sys, i, NULL, parent, sizeof(parent), err) < 0 ||
		    hier_dir(sys, i, h->id, dir, sizeof(dir), err) < 0)
			goto fail;
		/* The cpuset parent needs its CPUs and memory nodes before a child can copy them. */
		if (cpuset && mkdir(parent, 0755) < 0 && errno != EEXIST) {
			berr_make(err, errno, "create cgroup `%s`", parent);
			goto fail;
		}
		if (cpuset && cpuset_inherit(sys->hier[i].path, parent, err) < 0)
			goto fail;
		if (mkdir_fresh(parent, dir, err) < 0)
			goto fail;
		h->hier_mask |= 1u << i;
		if (cpuset && cpuset_inherit(parent, dir, err) < 0)
			goto fail;
	}
	if (write_limits(h, l, err) < 0)
		goto fail;
	return 0;
fail:
	{
		struct berr *e2 = NULL;
		if (v1_destroy(h, &e2) < 0) {
			log_warn("cgroup: %s", e2->msg);
			berr_free(e2);
		}
	}
	return -1;
}

static int v1_join_open(const struct cg_handle *h, struct cg_join *j, struct berr **err)
{
	j->n = 0;
	j->dir_fd = -1;
	for (size_t i = 0; i < h->sys->n_hier; i++) {
		char dir[CG_PATH_MAX], path[CG_PATH_MAX + 16];
		int fd;

		if (!(h->hier_mask & (1u << i)))
			continue;
		if (hier_dir(h->sys, i, h->id, dir, sizeof(dir), err) < 0 ||
		    cg_join_path(path, sizeof(path), dir, "cgroup.procs", err) < 0)
			goto fail;
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			berr_make(err, errno, "open `%s`", path);
			goto fail;
		}
		j->procs_fd[j->n++] = fd;
	}
	return 0;
fail:
	cg_join_close(j);
	return -1;
}

static int v1_stats(const struct cg_handle *h, struct cg_stats *st, struct berr **err)
{
	char dir[CG_PATH_MAX], text[512], stat[8192];
	int64_t v;

	if (ctrl_dir(h, CG_MEMORY, dir, sizeof(dir)) == 0) {
		if (cg_read_i64(dir, "memory.usage_in_bytes", &v) == 0)
			st->memory_current = v;
		if (cg_read_i64(dir, "memory.max_usage_in_bytes", &v) == 0)
			st->memory_peak = v;
		if (cg_read_i64(dir, "memory.limit_in_bytes", &v) == 0)
			st->memory_limit = v >= V1_UNLIMITED_FLOOR ? -1 : v;
		if (cg_read(dir, "memory.oom_control", text, sizeof(text)) == 0 &&
		    cg_keyed_get(text, "oom_kill", &v) == 0)
			st->oom_kills = v;
		if (cg_read(dir, "memory.stat", stat, sizeof(stat)) == 0 &&
		    cg_keyed_get(stat, "total_inactive_file", &v) == 0)
			st->memory_inactive_file = v;
	}
	if (ctrl_dir(h, CG_CPUACCT, dir, sizeof(dir)) == 0 && cg_read_i64(dir, "cpuacct.usage", &v) == 0)
		st->cpu_usage_ns = v;
	if (ctrl_dir(h, CG_PIDS, dir, sizeof(dir)) == 0) {
		if (cg_read_i64(dir, "pids.current", &v) == 0)
			st->pids_current = v;
		if (cg_read_i64(dir, "pids.max", &v) == 0)
			st->pids_max = v;
	}
	return 0;
}

static int v1_oom_killed(const struct cg_handle *h, bool *killed, struct berr **err)
{
	char dir[CG_PATH_MAX], text[512];
	int64_t v;

	if (ctrl_dir(h, CG_MEMORY, dir, sizeof(dir)) < 0)
		return 0; /* no memory controller: no memory cgroup OOM either */
	if (cg_read(dir, "memory.oom_control", text, sizeof(text)) < 0)
		return berr_make(err, errno, "read `%s/memory.oom_control`", dir);
	if (cg_keyed_get(text, "oom_kill", &v) == 0) { /* kernel 4.13+ */
		*killed = v > 0;
		return 0;
	}
	/* Older kernels only count hits on the limit; the caller pairs this with the process
	 * having died of SIGKILL. */
	if (cg_read_i64(dir, "memory.memsw.failcnt", &v) < 0 && cg_read_i64(dir, "memory.failcnt", &v) < 0)
		return berr_make(err, errno, "read `%s/memory.failcnt`", dir);
	*killed = v > 0;
	return 0;
}

static int freezer_set(const char *dir, const char *state, struct berr **err)
{
	char cur[32];

	if (cg_write(dir, "freezer.state", state, err) < 0)
		return -1;
	/* FREEZING becomes FROZEN once every task has stopped. */
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 5000000 };
		if (cg_read(dir, "freezer.state", cur, sizeof(cur)) < 0)
			return berr_make(err, errno, "read `%s/freezer.state`", dir);
		if (strncmp(cur, state, strlen(state)) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return berr_make(err, ETIMEDOUT, "cgroup `%s` did not reach %s", dir, state);
}

static int v1_freeze(const struct cg_handle *h, bool frozen, struct berr **err)
{
	char dir[CG_PATH_MAX];

	if (ctrl_dir(h, CG_FREEZER, dir, sizeof(dir)) < 0)
		return cg_err_missing(h->sys, CG_FREEZER, err);
	return freezer_set(dir, frozen ? "FROZEN" : "THAWED", err);
}

/* Any hierarchy lists the same processes; the first one we have is used. */
static int procs_dir(const struct cg_handle *h, char *buf, size_t size)
{
	for (size_t i = 0; i < h->sys->n_hier; i++)
		if (h->hier_mask & (1u << i))
			return hier_dir(h->sys, i, h->id, buf, size, NULL);
	return -1;
}

static int v1_kill_all(const struct cg_handle *h, int sig, struct berr **err)
{
	char dir[CG_PATH_MAX];

	if (procs_dir(h, dir, sizeof(dir)) < 0)
		return 0;
	return cg_signal_all(h, dir, sig, v1_freeze, err);
}

const struct cg_ops cg_v1_ops = {
	.name = "v1",
	.check = v1_check,
	.create = v1_create,
	.join_open = v1_join_open,
	.stats = v1_stats,
	.oom_killed = v1_oom_killed,
	.kill_all = v1_kill_all,
	.freeze = v1_freeze,
	.destroy = v1_destroy,
};
