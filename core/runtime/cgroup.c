/* cgroups, the shared half: layout detection, the calls that dispatch to the chosen backend,
 * the file helpers both backends use, and the Docker-style limit parsers. The backends follow
 * the kernel's Documentation/admin-guide/cgroup-v1/ and cgroup-v2.rst. */
#include "runtime/cgroup.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "runtime/kcheck.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct {
	const char *v1name;     /* v1 mount option and /proc/cgroups row */
	const char *v2name;     /* cgroup.controllers word, NULL if v2 has no such controller */
	const char *kconfig;
	const char *what;       /* for messages */
} ctrl_info[CG_N_CTRL] = {
	[CG_MEMORY] = { "memory", "memory", "CONFIG_MEMCG", "memory" },
	[CG_CPU] = { "cpu", "cpu", "CONFIG_CGROUP_SCHED", "cpu" },
	[CG_CPUACCT] = { "cpuacct", NULL, "CONFIG_CGROUP_CPUACCT", "cpuacct" },
	[CG_CPUSET] = { "cpuset", "cpuset", "CONFIG_CPUSETS", "cpuset" },
	[CG_PIDS] = { "pids", "pids", "CONFIG_CGROUP_PIDS", "pids" },
	[CG_IO] = { "blkio", "io", "CONFIG_BLK_CGROUP", "io" },
	[CG_FREEZER] = { "freezer", NULL, "CONFIG_CGROUP_FREEZER", "freezer" },
	[CG_DEVICES] = { "devices", NULL, "CONFIG_CGROUP_DEVICE", "devices" },
};

/* Controllers whose placement decides the backend: the ones limits need. */
#define CG_DECIDING (CG_BIT(CG_MEMORY) | CG_BIT(CG_CPU) | CG_BIT(CG_CPUSET) | CG_BIT(CG_PIDS))

const char *cg_version_name(enum cg_version v)
{
	switch (v) {
	case CG_V1:
		return "v1";
	case CG_V2:
		return "v2";
	default:
		return "none";
	}
}

const char *cg_ctrl_name(enum cg_ctrl c)
{
	return (unsigned) c < CG_N_CTRL ? ctrl_info[c].v1name : "?";
}

const char *cg_ctrl_v2_name(enum cg_ctrl c)
{
	return (unsigned) c < CG_N_CTRL ? ctrl_info[c].v2name : NULL;
}

/* ---- layout ---- */

static int ctrl_by_v1name(const char *name, size_t len)
{
	for (int c = 0; c < CG_N_CTRL; c++)
		if (strlen(ctrl_info[c].v1name) == len && memcmp(ctrl_info[c].v1name, name, len) == 0)
			return c;
	return -1;
}

/* Controllers named in a v1 mount's super options ("rw,cpu,cpuacct"). */
static unsigned v1_opts_ctrls(const char *opts)
{
	unsigned bits = 0;

	for (const char *p = opts; *p;) {
		size_t n = strcspn(p, ",");
		int c = ctrl_by_v1name(p, n);
		if (c >= 0)
			bits |= CG_BIT(c);
		p += n;
		p += strspn(p, ",");
	}
	return bits;
}

static unsigned v2_words_ctrls(const char *list)
{
	unsigned bits = 0;

	for (int c = 0; c < CG_N_CTRL; c++)
		if (ctrl_info[c].v2name && kcheck_words_has(list, ctrl_info[c].v2name))
			bits |= CG_BIT(c);
	return bits;
}

/* Is `path` the directory `root` or below it? */
static bool under_root(const char *path, const char *root)
{
	size_t n = strlen(root);

	if (strncmp(path, root, n) != 0)
		return false;
	return path[n] == '\0' || path[n] == '/' || (n > 0 && root[n - 1] == '/');
}

int cg_detect_from(struct cg_system *sys, const char *root, const char *mountinfo,
		   const char *proc_cgroups, struct berr **err)
{
	struct kcheck_cgroups *kc;
	unsigned v1_ctrls = 0;
	size_t n;

	memset(sys, 0, sizeof(*sys));
	if (root == NULL)
		root = CG_DEFAULT_ROOT;
	if (root[0] != '/' || str_copy(sys->root, sizeof(sys->root), root) < 0)
		return berr_usage(err, "cgroup root `%s` must be an absolute path shorter than %d bytes",
				  root, CG_PATH_MAX);
	n = strlen(sys->root);
	while (n > 1 && sys->root[n - 1] == '/')
		sys->root[--n] = '\0';
	str_copy(sys->parent, sizeof(sys->parent), CG_DEFAULT_PARENT);

	kc = calloc(1, sizeof(*kc));
	if (kc == NULL)
		return berr_make(err, ENOMEM, "detect cgroups");
	kcheck_cg_parse_mountinfo(kc, mountinfo);
	if (proc_cgroups) {
		kcheck_cg_parse_proc_cgroups(kc, proc_cgroups);
		sys->have_proc_cgroups = true;
		for (size_t i = 0; i < kc->n_subsys; i++) {
			int c = ctrl_by_v1name(kc->subsys[i].name, strlen(kc->subsys[i].name));
			if (c < 0)
				continue;
			sys->kernel_ctrls |= CG_BIT(c);
			if (!kc->subsys[i].enabled)
				sys->disabled_ctrls |= CG_BIT(c);
			if (kc->subsys[i].hierarchy != 0)
				sys->v1_bound_ctrls |= CG_BIT(c);
		}
	}

	for (size_t i = 0; i < kc->n_mounts; i++) {
		const struct kcheck_cg_mount *m = &kc->mounts[i];
		unsigned bits;

		if (!under_root(m->path, sys->root))
			continue;
		if (m->v2) {
			if (sys->unified[0] == '\0')
				str_copy(sys->unified, sizeof(sys->unified), m->path);
			continue;
		}
		/* Named hierarchies (systemd's) carry no controller; a hierarchy mounted twice
		 * is used at its first mount point. */
		bits = v1_opts_ctrls(m->opts);
		if (bits == 0 || (bits & v1_ctrls) != 0 || sys->n_hier >= CG_MAX_HIER)
			continue;
		if (str_copy(sys->hier[sys->n_hier].path, CG_PATH_MAX, m->path) < 0)
			continue;
		sys->hier[sys->n_hier++].ctrls = bits;
		v1_ctrls |= bits;
	}
	free(kc);

	if (sys->unified[0]) {
		char list[512];
		if (cg_read(sys->unified, "cgroup.controllers", list, sizeof(list)) == 0)
			sys->v2_ctrls = v2_words_ctrls(list);
		/* cpu.stat's usage is core on v2: CPU time is accounted without the cpu controller. */
		sys->v2_ctrls |= CG_BIT(CG_CPUACCT);
	}

	if (ENABLE_CGROUP_V1 && (v1_ctrls & CG_DECIDING) != 0) {
		sys->version = CG_V1;
		sys->ops = &cg_v1_ops;
	} else if (sys->unified[0]) {
		sys->version = CG_V2;
		sys->ops = &cg_v2_ops;
	} else if (ENABLE_CGROUP_V1 && sys->n_hier > 0) {
		sys->version = CG_V1;
		sys->ops = &cg_v1_ops;
	} else {
		sys->version = CG_NONE;
		sys->ops = NULL;
	}
	return 0;
}

int cg_detect(struct cg_system *sys, const char *root, struct berr **err)
{
	_cleanup_free_ char *mountinfo = NULL;
	_cleanup_free_ char *proc_cgroups = NULL;
	struct berr *e2 = NULL;

	if (fs_read_file("/proc/self/mountinfo", 4u << 20, &mountinfo, NULL, err) < 0)
		return berr_wrap(err, "detect cgroups");
	/* Only used to explain a missing controller, so its absence is no error. */
	if (fs_read_file("/proc/cgroups", 64u << 10, &proc_cgroups, NULL, &e2) < 0)
		berr_free(e2);
	return cg_detect_from(sys, root, mountinfo, proc_cgroups, err);
}

unsigned cg_limits_needs(const struct cg_limits *l)
{
	unsigned need = 0;

	if (l->memory > 0 || l->memory_swap > 0)
		need |= CG_BIT(CG_MEMORY);
	if (l->cpu_quota_us > 0 || l->cpu_shares > 0)
		need |= CG_BIT(CG_CPU);
	if (l->cpuset_cpus[0] || l->cpuset_mems[0])
		need |= CG_BIT(CG_CPUSET);
	if (l->pids_max > 0)
		need |= CG_BIT(CG_PIDS);
	return need;
}

int cg_err_missing(const struct cg_system *sys, enum cg_ctrl c, struct berr **err)
{
	const char *name = ctrl_info[c].v1name, *what = ctrl_info[c].what, *kconfig = ctrl_info[c].kconfig;
	unsigned bit = CG_BIT(c);

	if (sys->have_proc_cgroups && (sys->kernel_ctrls & bit) == 0)
		return berr_make(err, 0, "%s cgroup controller not available: this kernel lacks it; "
				 "build the kernel with %s", what, kconfig);
	if (sys->have_proc_cgroups && (sys->disabled_ctrls & bit) != 0)
		return berr_make(err, 0, "%s cgroup controller not available: it is disabled; "
				 "boot with cgroup_enable=%s", what, name);
	if (sys->version == CG_NONE)
		return berr_make(err, 0, "%s cgroup controller not available: neither cgroup2 nor a v1 "
				 "hierarchy with controllers is mounted under `%s`; mount cgroup2 there "
				 "(mount -t cgroup2 none %s)", what, sys->root, sys->root);
	if (sys->version == CG_V2 && (sys->v1_bound_ctrls & bit) != 0)
		return berr_make(err, 0, "%s cgroup controller not available on cgroup v2: it is bound "
				 "to a v1 hierarchy; boot with cgroup_no_v1=%s%s", what, name,
				 ENABLE_CGROUP_V1 ? "" : " (this berth is built without CONFIG_CGROUP_V1)");
	if (sys->version == CG_V1 && sys->have_proc_cgroups)
		return berr_make(err, 0, "%s cgroup controller not available: no v1 hierarchy with it "
				 "is mounted under `%s`; mount one (mount -t cgroup -o %s cgroup %s/%s)",
				 what, sys->root, name, sys->root, name);
	return berr_make(err, 0, "%s cgroup controller not available: boot with cgroup_enable=%s, "
			 "or build the kernel with %s", what, name, kconfig);
}

/* ---- dispatch ---- */

int cg_create(const struct cg_system *sys, const char *id, const struct cg_limits *l,
	      struct cg_handle *h, struct berr **err)
{
	memset(h, 0, sizeof(*h));
	h->sys = sys;
	if (!paths_component_ok(id) || str_copy(h->id, sizeof(h->id), id) < 0)
		return berr_usage(err, "cgroup name `%s` must be one path component shorter than %d bytes",
				  id, CG_NAME_MAX);
	if (sys->ops == NULL) /* nothing to enforce and nowhere to group: an inactive handle */
		return cg_check(sys, l, err);
	if (cg_limits_check(l, err) < 0)
		return -1;
	if (sys->ops->check(sys, l, err) < 0 || sys->ops->create(sys, l, h, err) < 0)
		return berr_wrap(err, "cgroup `%s/%s`", sys->parent, id);
	h->active = true;
	return 0;
}

int cg_check(const struct cg_system *sys, const struct cg_limits *l, struct berr **err)
{
	unsigned need;

	if (cg_limits_check(l, err) < 0)
		return -1;
	if (sys->ops != NULL)
		return sys->ops->check(sys, l, err);
	need = cg_limits_needs(l);
	for (int c = 0; c < CG_N_CTRL; c++)
		if (need & CG_BIT(c))
			return cg_err_missing(sys, (enum cg_ctrl) c, err);
	return 0;
}

int cg_open(const struct cg_system *sys, const char *id, struct cg_handle *h, struct berr **err)
{
	char dir[CG_PATH_MAX];
	bool found = false;

	memset(h, 0, sizeof(*h));
	h->sys = sys;
	if (!paths_component_ok(id) || str_copy(h->id, sizeof(h->id), id) < 0)
		return berr_usage(err, "cgroup name `%s` must be one path component shorter than %d bytes",
				  id, CG_NAME_MAX);
	if (sys->version == CG_V2) {
		char sub[CG_NAME_MAX * 2 + 2];
		snprintf(sub, sizeof(sub), "%s/%s", sys->parent, id);
		if (cg_join_path(dir, sizeof(dir), sys->unified, sub, err) < 0)
			return -1;
		found = access(dir, F_OK) == 0;
	} else if (sys->version == CG_V1) {
		for (size_t i = 0; i < sys->n_hier; i++) {
			int n = snprintf(dir, sizeof(dir), "%s/%s/%s", sys->hier[i].path, sys->parent, id);
			if (n > 0 && (size_t) n < sizeof(dir) && access(dir, F_OK) == 0) {
				h->hier_mask |= 1u << i;
				found = true;
			}
		}
	}
	if (!found)
		return berr_make(err, ENOENT, "cgroup `%s/%s` under `%s`", sys->parent, id, sys->root);
	h->active = true;
	return 0;
}

static bool usable(const struct cg_handle *h)
{
	return h->active && h->sys != NULL && h->sys->ops != NULL;
}

int cg_join_open(const struct cg_handle *h, struct cg_join *j, struct berr **err)
{
	j->n = 0;
	j->dir_fd = -1;
	if (!usable(h))
		return 0;
	return h->sys->ops->join_open(h, j, err);
}

int cg_join_self(const struct cg_join *j)
{
	for (size_t i = 0; i < j->n; i++) {
		ssize_t w;
		do
			w = write(j->procs_fd[i], "0", 1);
		while (w < 0 && errno == EINTR);
		if (w != 1)
			return w < 0 ? -errno : -EIO;
	}
	return 0;
}

void cg_join_close(struct cg_join *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->procs_fd[i] >= 0)
			close(j->procs_fd[i]);
	j->n = 0;
	if (j->dir_fd >= 0)
		close(j->dir_fd);
	j->dir_fd = -1;
}

int cg_enter_with(const struct cg_handle *h, const struct cg_join *j, pid_t pid, struct berr **err)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%d", (int) pid);
	for (size_t i = 0; i < j->n; i++)
		if (write(j->procs_fd[i], buf, strlen(buf)) < 0)
			return berr_make(err, errno, "move process %d into cgroup `%s/%s`", (int) pid,
					 h->sys->parent, h->id);
	return 0;
}

int cg_enter(const struct cg_handle *h, pid_t pid, struct berr **err)
{
	struct cg_join j;
	int r;

	if (!usable(h))
		return 0;
	if (cg_join_open(h, &j, err) < 0)
		return -1;
	r = cg_enter_with(h, &j, pid, err);
	cg_join_close(&j);
	return r;
}

int cg_stats(const struct cg_handle *h, struct cg_stats *st, struct berr **err)
{
	st->memory_current = st->memory_peak = st->memory_limit = -1;
	st->cpu_usage_ns = st->pids_current = st->pids_max = st->oom_kills = -1;
	st->memory_inactive_file = -1;
	if (!usable(h))
		return 0;
	return h->sys->ops->stats(h, st, err);
}

int cg_oom_killed(const struct cg_handle *h, bool *killed, struct berr **err)
{
	*killed = false;
	if (!usable(h))
		return 0;
	return h->sys->ops->oom_killed(h, killed, err);
}

int cg_kill_all(const struct cg_handle *h, int sig, struct berr **err)
{
	if (!usable(h))
		return 0;
	if (h->sys->ops->kill_all == NULL)
		return berr_make(err, ENOTSUP, "kill the processes of cgroup `%s/%s`", h->sys->parent, h->id);
	return h->sys->ops->kill_all(h, sig, err);
}

int cg_freeze(const struct cg_handle *h, bool frozen, struct berr **err)
{
	if (!usable(h))
		return berr_make(err, ENOTSUP, "%s: no cgroup to freeze", h->id);
	if (h->sys->ops->freeze == NULL)
		return berr_make(err, ENOTSUP, "freeze cgroup `%s/%s`", h->sys->parent, h->id);
	return h->sys->ops->freeze(h, frozen, err);
}

int cg_destroy(struct cg_handle *h, struct berr **err)
{
	if (!usable(h))
		return 0;
	if (h->sys->ops->destroy(h, err) < 0)
		return -1;
	h->active = false;
	return 0;
}

int cg_path(const struct cg_handle *h, enum cg_ctrl c, char *buf, size_t size, struct berr **err)
{
	const struct cg_system *sys = h->sys;
	char sub[CG_NAME_MAX * 2 + 2];

	snprintf(sub, sizeof(sub), "%s/%s", sys->parent, h->id);
	if (sys->version == CG_V2)
		return cg_join_path(buf, size, sys->unified, sub, err);
	for (size_t i = 0; i < sys->n_hier; i++)
		if ((sys->hier[i].ctrls & CG_BIT(c)) && (h->hier_mask & (1u << i)))
			return cg_join_path(buf, size, sys->hier[i].path, sub, err);
	return berr_make(err, ENOENT, "cgroup `%s` has no %s hierarchy", sub, cg_ctrl_name(c));
}

/* ---- file helpers for the backends ---- */

int cg_join_path(char *buf, size_t size, const char *dir, const char *child, struct berr **err)
{
	int n = snprintf(buf, size, "%s/%s", dir, child);

	if (n < 0 || (size_t) n >= size)
		return berr_make(err, ENAMETOOLONG, "cgroup path `%s/%s`", dir, child);
	return 0;
}

int cg_write(const char *dir, const char *file, const char *value, struct berr **err)
{
	char path[CG_PATH_MAX * 2];
	size_t len = strlen(value);
	ssize_t w;
	int fd;

	if (cg_join_path(path, sizeof(path), dir, file, err) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	if (w < 0 || (size_t) w != len) {
		int e = w < 0 ? errno : EIO;
		close(fd);
		return berr_make(err, e, "write `%s` to `%s`", value, path);
	}
	close(fd);
	return 0;
}

int cg_write_each(const char *dir, const char *file, const char *const *values, size_t n, struct berr **err)
{
	char path[CG_PATH_MAX * 2];
	int fd;

	if (cg_join_path(path, sizeof(path), dir, file, err) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(values[i]);
		ssize_t w;

		do
			w = write(fd, values[i], len);
		while (w < 0 && errno == EINTR);
		if (w < 0 || (size_t) w != len) {
			int e = w < 0 ? errno : EIO;
			close(fd);
			return berr_make(err, e, "write `%s` to `%s`", values[i], path);
		}
	}
	close(fd);
	return 0;
}

int cg_read(const char *dir, const char *file, char *buf, size_t size)
{
	char path[CG_PATH_MAX * 2];
	size_t got = 0;
	int fd, n = snprintf(path, sizeof(path), "%s/%s", dir, file);

	if (n < 0 || (size_t) n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (got + 1 < size) {
		ssize_t r = read(fd, buf + got, size - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t) r;
	}
	buf[got] = '\0';
	close(fd);
	return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	while (isspace((unsigned char) *s))
		s++;
	if (strncmp(s, "max", 3) == 0 && (s[3] == '\0' || isspace((unsigned char) s[3]))) {
		*out = -1;
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || (*end != '\0' && !isspace((unsigned char) *end))) {
		errno = EINVAL;
		return -1;
	}
	*out = v;
	return 0;
}

int cg_read_i64(const char *dir, const char *file, int64_t *out)
{
	char buf[64];

	if (cg_read(dir, file, buf, sizeof(buf)) < 0)
		return -1;
	return parse_i64(buf, out);
}

int cg_keyed_get(const char *text, const char *key, int64_t *out)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p;) {
		if (strncmp(p, key, kl) == 0 && (p[kl] == ' ' || p[kl] == '\t'))
			return parse_i64(p + kl + 1, out);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

bool cg_file_exists(const char *dir, const char *file)
{
	char path[CG_PATH_MAX * 2];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, file);

	return n > 0 && (size_t) n < sizeof(path) && access(path, F_OK) == 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cg_rmdir_retry(const char *path, struct berr **err)
{
	/* The kernel refuses while a process (even a zombie being reaped) is still charged. */
	for (int i = 0;; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return berr_make(err, errno, "remove cgroup `%s`", path);
		if (i >= 100)
			return berr_make(err, EBUSY, "remove cgroup `%s` (processes still in it after 1 s: "
					 "stop them first)", path);
		sleep_ms(10);
	}
}

int cg_signal_procs(const char *dir, int sig)
{
	char path[CG_PATH_MAX * 2], buf[4096];
	int fd, n = snprintf(path, sizeof(path), "%s/cgroup.procs", dir), count = 0;
	long pid = 0;
	bool in_num = false;
	ssize_t r;

	if (n < 0 || (size_t) n >= sizeof(path))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Parsed as a stream: a cgroup may list more pids than fit one buffer. */
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (buf[i] >= '0' && buf[i] <= '9') {
				pid = pid * 10 + (buf[i] - '0');
				in_num = true;
			} else if (in_num) {
				if (pid > 0 && kill((pid_t) pid, sig) == 0)
					count++;
				pid = 0;
				in_num = false;
			}
		}
	}
	if (in_num && pid > 0 && kill((pid_t) pid, sig) == 0)
		count++;
	close(fd);
	return count;
}

int cg_wait_empty(const char *dir, int timeout_ms)
{
	char buf[16];

	for (int waited = 0;; waited += 10) {
		if (cg_read(dir, "cgroup.procs", buf, sizeof(buf)) < 0)
			return errno == ENOENT ? 0 : -1;
		if (buf[0] == '\0')
			return 0;
		if (waited >= timeout_ms) {
			errno = EBUSY;
			return -1;
		}
		sleep_ms(10);
	}
}

/* ---- limits and Docker-style values ---- */

void cg_limits_init(struct cg_limits *l)
{
	memset(l, 0, sizeof(*l));
	l->memory = -1;
	l->pids_max = -1;
}

bool cg_limits_any(const struct cg_limits *l)
{
	return cg_limits_needs(l) != 0;
}

int cg_limits_check(const struct cg_limits *l, struct berr **err)
{
	char scratch[CG_CPUSET_MAX];

	if (l->memory_swap > 0 && l->memory <= 0)
		return berr_usage(err, "--memory-swap needs --memory: it is the total of memory and swap");
	if (l->memory_swap > 0 && l->memory_swap < l->memory)
		return berr_usage(err, "--memory-swap (%" PRId64 ") must be at least --memory (%" PRId64
				  "): it is the total of memory and swap", l->memory_swap, l->memory);
	if (l->memory_swap < -1)
		return berr_usage(err, "--memory-swap must be a size or -1");
	if (l->cpu_quota_us < 0 || (l->cpu_quota_us > 0 && l->cpu_quota_us < 1000))
		return berr_usage(err, "CPU quota %" PRId64 " us is below the kernel's 1000 us minimum",
				  l->cpu_quota_us);
	if (l->cpu_period_us != 0 && (l->cpu_period_us < 1000 || l->cpu_period_us > 1000000))
		return berr_usage(err, "CPU period %" PRId64 " us must be between 1000 and 1000000",
				  l->cpu_period_us);
	if (l->cpu_shares != 0 && (l->cpu_shares < 2 || l->cpu_shares > 262144))
		return berr_usage(err, "--cpu-shares %" PRIu64 " must be between 2 and 262144", l->cpu_shares);
	if (l->cpuset_cpus[0] && cg_parse_cpuset(l->cpuset_cpus, scratch, sizeof(scratch), err) < 0)
		return -1;
	if (l->cpuset_mems[0] && cg_parse_cpuset(l->cpuset_mems, scratch, sizeof(scratch), err) < 0)
		return -1;
	if (l->n_devices > CG_DEVICES_MAX)
		return berr_usage(err, "%zu --device options: at most %d", l->n_devices, CG_DEVICES_MAX);
	for (size_t i = 0; i < l->n_devices; i++) {
		const struct cg_device *d = &l->devices[i];
		if ((d->type != 'c' && d->type != 'b') || d->access[0] == '\0' ||
		    strspn(d->access, "rwm") != strlen(d->access))
			return berr_usage(err, "device rule %c %u:%u %s: use type c or b and "
					  "permissions from r, w and m", d->type ? d->type : '?',
					  d->major, d->minor, d->access);
	}
	return 0;
}

/* Digits only, into an unsigned value no larger than max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char) *s))
		return -1;
	for (; isdigit((unsigned char) *s); s++) {
		uint64_t d = (uint64_t) (*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*s != '\0')
		return -1;
	*out = v;
	return 0;
}

int cg_parse_cpus(const char *s, int64_t *quota_us, int64_t *period_us, struct berr **err)
{
	const int64_t period = 100000;
	uint64_t whole = 0, frac = 0, scale = 1000000000; /* nanoCPUs, as Docker counts them */
	const char *p = s;
	uint64_t nano;

	if (!isdigit((unsigned char) *p) && !(*p == '.' && isdigit((unsigned char) p[1])))
		goto bad;
	for (; isdigit((unsigned char) *p); p++) {
		whole = whole * 10 + (uint64_t) (*p - '0');
		if (whole > 1024)
			return berr_usage(err, "--cpus `%s`: at most 1024", s);
	}
	if (*p == '.') {
		for (p++; isdigit((unsigned char) *p); p++) {
			if (scale == 1)
				return berr_usage(err, "--cpus `%s`: at most 9 decimals", s);
			scale /= 10;
			frac += (uint64_t) (*p - '0') * scale;
		}
	}
	if (*p != '\0')
		goto bad;
	nano = whole * 1000000000u + frac;
	if (nano > 1024ull * 1000000000u)
		return berr_usage(err, "--cpus `%s`: at most 1024", s);
	if (nano < 10000000u)
		return berr_usage(err, "--cpus `%s`: at least 0.01 (the kernel's 1 ms quota minimum)", s);
	*period_us = period;
	*quota_us = (int64_t) (nano * (uint64_t) period / 1000000000u);
	return 0;
bad:
	return berr_usage(err, "--cpus `%s`: expected a number of CPUs such as 0.5 or 2", s);
}

int cg_parse_memory(const char *s, int64_t *bytes, struct berr **err)
{
	uint64_t v;

	if (parse_size(s, &v) < 0 || v > (uint64_t) INT64_MAX)
		return berr_usage(err, "--memory `%s`: expected a size such as 512m or 1g", s);
	if (v < (6u << 20))
		return berr_usage(err, "--memory `%s`: the minimum is 6m", s);
	*bytes = (int64_t) v;
	return 0;
}

int cg_parse_memory_swap(const char *s, int64_t *bytes, struct berr **err)
{
	uint64_t v;

	if (strcmp(s, "-1") == 0) {
		*bytes = -1;
		return 0;
	}
	if (parse_size(s, &v) < 0 || v > (uint64_t) INT64_MAX)
		return berr_usage(err, "--memory-swap `%s`: expected a size such as 1g, or -1 for "
				  "unlimited swap", s);
	*bytes = (int64_t) v;
	return 0;
}

int cg_parse_cpu_shares(const char *s, uint64_t *shares, struct berr **err)
{
	uint64_t v;

	if (parse_uint(s, 262144, &v) < 0 || v == 1)
		return berr_usage(err, "--cpu-shares `%s`: expected a number from 2 to 262144 "
				  "(1024 is the default weight)", s);
	*shares = v;
	return 0;
}

int cg_parse_cpuset(const char *s, char *out, size_t size, struct berr **err)
{
	const unsigned max = 8191; /* the kernel's largest NR_CPUS and MAX_NUMNODES */
	const char *p = s;

	if (*p == '\0')
		goto bad;
	while (*p) {
		unsigned long a, b;
		char *end;

		if (!isdigit((unsigned char) *p))
			goto bad;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char) p[1]))
				goto bad;
			b = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (a > max || b > max)
			return berr_usage(err, "cpuset `%s`: %lu is past the largest CPU or node number %u", s,
					  b > a ? b : a, max);
		if (b < a)
			return berr_usage(err, "cpuset `%s`: range %lu-%lu goes backwards", s, a, b);
		if (*p == ',' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	if (str_copy(out, size, s) < 0)
		return berr_usage(err, "cpuset `%s`: longer than %zu characters", s, size - 1);
	return 0;
bad:
	return berr_usage(err, "cpuset `%s`: expected a list such as 0-2,4", s);
}

int cg_parse_pids_limit(const char *s, int64_t *max, struct berr **err)
{
	const uint64_t limit = 4194304; /* PID_MAX_LIMIT on 64-bit kernels */
	uint64_t v;

	if (strcmp(s, "-1") == 0) {
		*max = -1;
		return 0;
	}
	if (parse_uint(s, UINT64_MAX / 10, &v) < 0)
		return berr_usage(err, "--pids-limit `%s`: expected a number, or -1 for unlimited", s);
	if (v > limit)
		return berr_usage(err, "--pids-limit `%s`: at most %" PRIu64, s, limit);
	*max = v == 0 ? -1 : (int64_t) v;
	return 0;
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	/* Maps the v1 range [2, 262144] linearly onto the v2 range [1, 10000]. */
	return 1 + ((shares - 2) * 9999) / 262142;
}

static void thaw(const struct cg_handle *h,
		 int (*freeze)(const struct cg_handle *h, bool frozen, struct berr **err))
{
	struct berr *e = NULL;

	if (freeze(h, false, &e) < 0)
		berr_free(e);
}

int cg_signal_all(const struct cg_handle *h, const char *dir, int sig,
		  int (*freeze)(const struct cg_handle *h, bool frozen, struct berr **err),
		  struct berr **err)
{
	struct berr *e = NULL;
	bool frozen = false;
	int r = 0;

	if (freeze(h, true, &e) == 0)
		frozen = true;
	else
		berr_free(e);
	for (int round = 0; round < 100; round++) {
		int n = cg_signal_procs(dir, sig);
		if (n < 0) {
			r = berr_make(err, errno, "signal the processes of `%s`", dir);
			break;
		}
		if (n == 0 || sig != SIGKILL)
			break;
		/* A frozen task dies only once thawed. */
		if (frozen) {
			thaw(h, freeze);
			frozen = false;
		}
		if (cg_wait_empty(dir, 50) == 0)
			break;
	}
	if (frozen)
		thaw(h, freeze);
	return r;
}
