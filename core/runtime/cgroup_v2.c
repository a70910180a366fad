/* The cgroup v2 backend: one leaf <unified>/<parent>/<id>, with the controllers it needs
 * enabled in cgroup.subtree_control from the root down to <parent> (kernel cgroup-v2.rst). */
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

/* Controllers enabled for every container when the kernel offers them, so `berth stats` has
 * numbers even when no limit was asked for. */
#define V2_ALWAYS (CG_BIT(CG_MEMORY) | CG_BIT(CG_CPU) | CG_BIT(CG_PIDS))

static int parent_dir(const struct cg_system *sys, char *buf, size_t size, struct berr **err)
{
	return cg_join_path(buf, size, sys->unified, sys->parent, err);
}

static int leaf_dir(const struct cg_handle *h, char *buf, size_t size, struct berr **err)
{
	char sub[CG_NAME_MAX * 2 + 2];

	snprintf(sub, sizeof(sub), "%s/%s", h->sys->parent, h->id);
	return cg_join_path(buf, size, h->sys->unified, sub, err);
}

static int v2_check(const struct cg_system *sys, const struct cg_limits *l, struct berr **err)
{
	unsigned need = cg_limits_needs(l);

	for (int c = 0; c < CG_N_CTRL; c++)
		if ((need & CG_BIT(c)) && !(sys->v2_ctrls & CG_BIT(c)))
			return cg_err_missing(sys, (enum cg_ctrl) c, err);
	return 0;
}

/* Enable the controllers in `want` for the children of `dir`. Those in `need` must work; the
 * others are dropped from *want when they cannot be enabled. */
static int enable_subtree(const char *dir, unsigned *want, unsigned need, struct berr **err)
{
	char have[512];

	if (cg_read(dir, "cgroup.subtree_control", have, sizeof(have)) < 0)
		return berr_make(err, errno, "read `%s/cgroup.subtree_control`", dir);
	for (int c = 0; c < CG_N_CTRL; c++) {
		const char *name = cg_ctrl_v2_name((enum cg_ctrl) c);
		char op[32];
		struct berr *e2 = NULL;

		if (!(*want & CG_BIT(c)) || name == NULL)
			continue;
		/* Tokens, not substrings: "cpu" is also the start of "cpuset". */
		{
			bool on = false;
			for (const char *p = have; *p;) {
				size_t n = strcspn(p, " \n");
				if (n == strlen(name) && memcmp(p, name, n) == 0)
					on = true;
				p += n;
				p += strspn(p, " \n");
			}
			if (on)
				continue;
		}
		snprintf(op, sizeof(op), "+%s", name);
		if (cg_write(dir, "cgroup.subtree_control", op, &e2) == 0)
			continue;
		if (need & CG_BIT(c)) {
			int e = e2->errcode;
			berr_free(e2);
			if (e == EBUSY)
				return berr_make(err, 0, "cannot enable the %s controller in `%s`: it holds "
						 "processes, and cgroup v2 keeps processes only in leaves; "
						 "move them to a child cgroup", name, dir);
			return berr_make(err, e, "enable the %s controller in `%s/cgroup.subtree_control`",
					 name, dir);
		}
		log_debug("cgroup: %s", e2->msg);
		berr_free(e2);
		*want &= ~CG_BIT(c);
	}
	return 0;
}

static int write_i64(const char *dir, const char *file, int64_t v, struct berr **err)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cg_write(dir, file, buf, err);
}

static int write_limits(const char *dir, const struct cg_limits *l, struct berr **err)
{
	char buf[64];

	if (l->memory > 0) {
		if (write_i64(dir, "memory.max", l->memory, err) < 0)
			return -1;
		/* memory.swap.max is swap alone, where --memory-swap is memory + swap. */
		if (cg_file_exists(dir, "memory.swap.max")) {
			if (l->memory_swap == -1)
				snprintf(buf, sizeof(buf), "max");
			else if (l->memory_swap == 0)
				snprintf(buf, sizeof(buf), "0");
			else
				snprintf(buf, sizeof(buf), "%" PRId64, l->memory_swap - l->memory);
			if (cg_write(dir, "memory.swap.max", buf, err) < 0)
				return -1;
		} else if (l->memory_swap > l->memory) {
			return berr_make(err, 0, "swap limit (--memory-swap) not available: this kernel does "
					 "not account swap; build the kernel with CONFIG_MEMCG_SWAP (and boot "
					 "with swapaccount=1 on kernels before 5.8)");
		}
	}
	if (l->cpu_quota_us > 0) {
		if (!cg_file_exists(dir, "cpu.max"))
			return berr_make(err, 0, "CPU quota (--cpus) not available: `cpu.max` is missing; "
					 "build the kernel with CONFIG_CFS_BANDWIDTH");
		snprintf(buf, sizeof(buf), "%" PRId64 " %" PRId64, l->cpu_quota_us,
			 l->cpu_period_us ? l->cpu_period_us : 100000);
		if (cg_write(dir, "cpu.max", buf, err) < 0)
			return -1;
	}
	if (l->cpu_shares > 0) {
		if (!cg_file_exists(dir, "cpu.weight"))
			return berr_make(err, 0, "CPU shares (--cpu-shares) not available: `cpu.weight` is "
					 "missing; build the kernel with CONFIG_FAIR_GROUP_SCHED");
		if (write_i64(dir, "cpu.weight", (int64_t) cg_shares_to_weight(l->cpu_shares), err) < 0)
			return -1;
	}
	if (l->cpuset_cpus[0] && cg_write(dir, "cpuset.cpus", l->cpuset_cpus, err) < 0)
		return berr_wrap(err, "--cpuset-cpus `%s` (are those CPUs online?)", l->cpuset_cpus);
	if (l->cpuset_mems[0] && cg_write(dir, "cpuset.mems", l->cpuset_mems, err) < 0)
		return berr_wrap(err, "--cpuset-mems `%s` (are those memory nodes present?)", l->cpuset_mems);
	if (l->pids_max > 0 && write_i64(dir, "pids.max", l->pids_max, err) < 0)
		return -1;
	return 0;
}

static int v2_create(const struct cg_system *sys, const struct cg_limits *l, struct cg_handle *h,
		     struct berr **err)
{
	unsigned need = cg_limits_needs(l) & ~CG_BIT(CG_CPUACCT);
	unsigned want = need | (sys->v2_ctrls & V2_ALWAYS);
	char parent[CG_PATH_MAX], dir[CG_PATH_MAX];

	if (parent_dir(sys, parent, sizeof(parent), err) < 0 || leaf_dir(h, dir, sizeof(dir), err) < 0)
		return -1;
	/* The root cgroup is exempt from the no-internal-processes rule; <parent> is not, so no
	 * process may ever live in it. */
	if (enable_subtree(sys->unified, &want, need, err) < 0)
		return -1;
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return berr_make(err, errno, "create cgroup `%s`", parent);
	if (enable_subtree(parent, &want, need, err) < 0)
		return -1;
	if (mkdir(dir, 0755) < 0) {
		if (errno != EEXIST)
			return berr_make(err, errno, "create cgroup `%s`", dir);
		/* A stale, empty leaf from a berth that died is taken over; a busy one is not. */
		if (rmdir(dir) < 0)
			return errno == EBUSY ? berr_make(err, 0, "cgroup `%s` already exists and holds "
							  "processes: is a container with this name still running?", dir)
					      : berr_make(err, errno, "remove stale cgroup `%s`", dir);
		if (mkdir(dir, 0755) < 0)
			return berr_make(err, errno, "create cgroup `%s`", dir);
	}
	if (write_limits(dir, l, err) < 0) {
		if (rmdir(dir) < 0)
			log_warn("cgroup: remove `%s`: %s", dir, strerror(errno));
		return -1;
	}
	h->devices_enforced = false;
	if (!l->all_devices) {
		struct berr *e = NULL;
		if (cg_devices_bpf_attach(dir, l->devices, l->n_devices, &e) == 0) {
			h->devices_enforced = true;
		} else {
			/* The caller then keeps the container from making nodes at all. */
			log_debug("cgroup: %s", e->msg);
			berr_free(e);
		}
	}
	return 0;
}

static int v2_join_open(const struct cg_handle *h, struct cg_join *j, struct berr **err)
{
	char dir[CG_PATH_MAX], path[CG_PATH_MAX + 16];

	j->n = 0;
	j->dir_fd = -1;
	if (leaf_dir(h, dir, sizeof(dir), err) < 0 || cg_join_path(path, sizeof(path), dir, "cgroup.procs", err) < 0)
		return -1;
	j->procs_fd[0] = open(path, O_WRONLY | O_CLOEXEC);
	if (j->procs_fd[0] < 0)
		return berr_make(err, errno, "open `%s`", path);
	j->n = 1;
	j->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dir_fd < 0) {
		int e = errno;
		cg_join_close(j);
		return berr_make(err, e, "open `%s`", dir);
	}
	return 0;
}

static int v2_stats(const struct cg_handle *h, struct cg_stats *st, struct berr **err)
{
	char dir[CG_PATH_MAX], text[1024], stat[8192];
	int64_t v;

	if (leaf_dir(h, dir, sizeof(dir), err) < 0)
		return -1;
	if (cg_read_i64(dir, "memory.current", &v) == 0)
		st->memory_current = v;
	if (cg_read_i64(dir, "memory.peak", &v) == 0) /* kernel 5.19+ */
		st->memory_peak = v;
	if (cg_read_i64(dir, "memory.max", &v) == 0)
		st->memory_limit = v;
	if (cg_read(dir, "memory.events", text, sizeof(text)) == 0 && cg_keyed_get(text, "oom_kill", &v) == 0)
		st->oom_kills = v;
	if (cg_read(dir, "memory.stat", stat, sizeof(stat)) == 0 && cg_keyed_get(stat, "inactive_file", &v) == 0)
		st->memory_inactive_file = v;
	if (cg_read(dir, "cpu.stat", text, sizeof(text)) == 0 && cg_keyed_get(text, "usage_usec", &v) == 0)
		st->cpu_usage_ns = v * 1000;
	if (cg_read_i64(dir, "pids.current", &v) == 0)
		st->pids_current = v;
	if (cg_read_i64(dir, "pids.max", &v) == 0)
		st->pids_max = v;
	return 0;
}

static int v2_oom_killed(const struct cg_handle *h, bool *killed, struct berr **err)
{
	char dir[CG_PATH_MAX], text[512];
	int64_t v;

	if (leaf_dir(h, dir, sizeof(dir), err) < 0)
		return -1;
	if (cg_read(dir, "memory.events", text, sizeof(text)) < 0) {
		if (errno == ENOENT)
			return 0; /* no memory controller here: no memory cgroup OOM either */
		return berr_make(err, errno, "read `%s/memory.events`", dir);
	}
	*killed = cg_keyed_get(text, "oom_kill", &v) == 0 && v > 0;
	return 0;
}

static int v2_freeze(const struct cg_handle *h, bool frozen, struct berr **err)
{
	char dir[CG_PATH_MAX], text[256];
	int64_t v;

	if (leaf_dir(h, dir, sizeof(dir), err) < 0)
		return -1;
	if (!cg_file_exists(dir, "cgroup.freeze"))
		return berr_make(err, 0, "freezing needs cgroup v2's cgroup.freeze (kernel 5.2 or later)");
	if (cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err) < 0)
		return -1;
	/* cgroup.events says "frozen 1" once every task has stopped. */
	for (int i = 0; i < 200; i++) {
		struct timespec ts = { 0, 5000000 };
		if (cg_read(dir, "cgroup.events", text, sizeof(text)) == 0 &&
		    cg_keyed_get(text, "frozen", &v) == 0 && (v != 0) == frozen)
			return 0;
		nanosleep(&ts, NULL);
	}
	return berr_make(err, ETIMEDOUT, "cgroup `%s` did not %s", dir, frozen ? "freeze" : "thaw");
}

static int v2_kill_all(const struct cg_handle *h, int sig, struct berr **err)
{
	char dir[CG_PATH_MAX];

	if (leaf_dir(h, dir, sizeof(dir), err) < 0)
		return -1;
	/* cgroup.kill (kernel 5.14+) kills everything at once, forks in flight included. */
	if (sig == SIGKILL && cg_file_exists(dir, "cgroup.kill")) {
		if (cg_write(dir, "cgroup.kill", "1", err) < 0)
			return -1;
		return cg_wait_empty(dir, 1000) < 0 && errno != EBUSY
			       ? berr_make(err, errno, "read `%s/cgroup.procs`", dir) : 0;
	}
	return cg_signal_all(h, dir, sig, v2_freeze, err);
}

static int v2_destroy(struct cg_handle *h, struct berr **err)
{
	char dir[CG_PATH_MAX];

	if (leaf_dir(h, dir, sizeof(dir), err) < 0)
		return -1;
	return cg_rmdir_retry(dir, err);
}

const struct cg_ops cg_v2_ops = {
	.name = "v2",
	.check = v2_check,
	.create = v2_create,
	.join_open = v2_join_open,
	.stats = v2_stats,
	.oom_killed = v2_oom_killed,
	.kill_all = v2_kill_all,
	.freeze = v2_freeze,
	.destroy = v2_destroy,
};
