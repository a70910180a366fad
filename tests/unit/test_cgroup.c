/* Unit tests for core/runtime/cgroup*.c: backend choice and controller placement on fixture
 * trees standing in for /sys/fs/cgroup, the errors for missing controllers, the Docker-style
 * value parsers, and create/stats/destroy on fixtures (the kernel's side is in
 * tests/system/cgroup.bats and tests/qemu/cgroup.guest.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/err.h"
#include "runtime/cgroup.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture tree ---- */

struct fx {
	char dir[64];
	char mountinfo[8192];
	size_t len;
};

static void fx_mkdirs(const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

/* Write `text` to <fixture>/<rel>, making parent directories. */
static void fx_file(struct fx *f, const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	fx_mkdirs(path);
	*slash = '/';
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static bool fx_exists(struct fx *f, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	return access(path, F_OK) == 0;
}

static void fx_rm(struct fx *f, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	assert_int_equal(unlink(path), 0);
}

/* A mountinfo line for a mount at <fixture>/<rel> ("" for the fixture itself). */
static void fx_mount(struct fx *f, const char *rel, const char *fstype, const char *opts)
{
	static int id = 40;

	f->len += (size_t) snprintf(f->mountinfo + f->len, sizeof(f->mountinfo) - f->len,
				    "%d 31 0:%d / %s%s%s rw,relatime - %s %s %s\n", id, id, f->dir,
				    *rel ? "/" : "", rel, fstype, fstype, opts);
	id++;
	if (*rel) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
		fx_mkdirs(path);
	}
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-cg-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	/* The host's real mounts come first: everything outside the root must be ignored. */
	f->len = (size_t) snprintf(f->mountinfo, sizeof(f->mountinfo),
				   "22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
				   "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
				   "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static const char proc_cgroups_all[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t3\t1\t1\n"
	"cpu\t1\t1\t1\n"
	"cpuacct\t2\t1\t1\n"
	"blkio\t7\t1\t1\n"
	"memory\t4\t21\t1\n"
	"devices\t5\t1\t1\n"
	"freezer\t6\t1\t1\n"
	"hugetlb\t0\t1\t1\n"
	"pids\t8\t1\t1\n";

/* A board whose kernel builds the memory controller but leaves it off (no cgroup_enable=). */
static const char proc_cgroups_memory_off[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpu\t1\t1\t1\n"
	"cpuacct\t1\t1\t1\n"
	"memory\t0\t1\t0\n"
	"pids\t8\t1\t1\n";

static const char proc_cgroups_no_memory[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpu\t1\t1\t1\n"
	"pids\t8\t1\t1\n";

static const char proc_cgroups_v2[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t0\t40\t1\n"
	"cpu\t0\t40\t1\n"
	"cpuacct\t0\t40\t1\n"
	"io\t0\t40\t1\n"
	"memory\t0\t40\t1\n"
	"pids\t0\t40\t1\n";

/* This workstation's layout: every controller on v1, cgroup2 with only hugetlb. */
static void fx_hybrid(struct fx *f)
{
	fx_mount(f, "cpu,cpuacct", "cgroup", "rw,cpu,cpuacct");
	fx_mount(f, "cpuset", "cgroup", "rw,cpuset");
	fx_mount(f, "memory", "cgroup", "rw,memory");
	fx_mount(f, "devices", "cgroup", "rw,devices");
	fx_mount(f, "freezer", "cgroup", "rw,freezer");
	fx_mount(f, "blkio", "cgroup", "rw,blkio");
	fx_mount(f, "pids", "cgroup", "rw,pids");
	fx_mount(f, "systemd", "cgroup", "rw,xattr,name=systemd");
	fx_mount(f, "unified", "cgroup2", "rw,nsdelegate");
	fx_file(f, "unified/cgroup.controllers", "hugetlb\n");
	fx_file(f, "memory/memory.limit_in_bytes", "9223372036854771712\n");
	fx_file(f, "memory/memory.memsw.limit_in_bytes", "9223372036854771712\n");
	fx_file(f, "cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	fx_file(f, "cpu,cpuacct/cpu.shares", "1024\n");
}

/* A pure cgroup v2 system (the QEMU guest): cgroup2 at the root itself. */
static void fx_v2(struct fx *f, const char *controllers)
{
	fx_mount(f, "", "cgroup2", "rw,nsdelegate,memory_recursiveprot");
	fx_file(f, "cgroup.controllers", controllers);
	fx_file(f, "cgroup.subtree_control", controllers);
}

static int hier_index(const struct cg_system *sys, const char *rel, const char *root)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (size_t i = 0; i < sys->n_hier; i++)
		if (strcmp(sys->hier[i].path, path) == 0)
			return (int) i;
	return -1;
}

/* Assert that `err` holds a message containing every one of the NULL-terminated strings. */
static void assert_err_has(struct berr *err, ...)
{
	va_list ap;
	const char *s;

	assert_non_null(err);
	va_start(ap, err);
	while ((s = va_arg(ap, const char *)) != NULL) {
		if (strstr(err->msg, s) == NULL)
			fail_msg("error `%s` lacks `%s`", err->msg, s);
	}
	va_end(ap);
}

/* ---- detection ---- */

static void test_detect_hybrid_uses_v1(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct berr *err = NULL;
	int cpu, mem;

	fx_hybrid(f);
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_all, &err), 0);
	if (!ENABLE_CGROUP_V1) {
		/* A v2-only build falls back to the controller-less cgroup2 mount. */
		assert_int_equal(sys.version, CG_V2);
		return;
	}
	assert_int_equal(sys.version, CG_V1);
	assert_ptr_equal(sys.ops, &cg_v1_ops);
	assert_string_equal(sys.root, f->dir);
	assert_string_equal(sys.parent, "berth");
	/* systemd's named hierarchy carries no controller and is left alone; /sys/fs/cgroup's
	 * own mounts are outside the root. */
	assert_int_equal(sys.n_hier, 7);
	assert_int_equal(hier_index(&sys, "systemd", f->dir), -1);
	cpu = hier_index(&sys, "cpu,cpuacct", f->dir);
	mem = hier_index(&sys, "memory", f->dir);
	assert_true(cpu >= 0 && mem >= 0);
	assert_int_equal(sys.hier[cpu].ctrls, CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT));
	assert_int_equal(sys.hier[mem].ctrls, CG_BIT(CG_MEMORY));
	assert_true(sys.hier[hier_index(&sys, "blkio", f->dir)].ctrls & CG_BIT(CG_IO));
	assert_true(sys.hier[hier_index(&sys, "freezer", f->dir)].ctrls & CG_BIT(CG_FREEZER));
	assert_true(sys.hier[hier_index(&sys, "devices", f->dir)].ctrls & CG_BIT(CG_DEVICES));
	/* The unified mount is noted, with only hugetlb: none of ours. */
	assert_int_equal(strncmp(sys.unified, f->dir, strlen(f->dir)), 0);
	assert_int_equal(sys.v2_ctrls & (CG_BIT(CG_MEMORY) | CG_BIT(CG_CPU) | CG_BIT(CG_PIDS)), 0);
	assert_true(sys.have_proc_cgroups);
	assert_true(sys.v1_bound_ctrls & CG_BIT(CG_MEMORY));
	assert_string_equal(cg_version_name(sys.version), "v1");
}

static void test_detect_pure_v2(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct berr *err = NULL;

	fx_v2(f, "cpuset cpu io memory hugetlb pids rdma misc\n");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_v2, &err), 0);
	assert_int_equal(sys.version, CG_V2);
	assert_ptr_equal(sys.ops, &cg_v2_ops);
	assert_string_equal(sys.unified, f->dir);
	assert_int_equal(sys.n_hier, 0);
	assert_int_equal(sys.v2_ctrls, CG_BIT(CG_MEMORY) | CG_BIT(CG_CPU) | CG_BIT(CG_CPUACCT) |
					       CG_BIT(CG_CPUSET) | CG_BIT(CG_PIDS) | CG_BIT(CG_IO));
}

static void test_detect_trailing_slash_and_bad_root(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct berr *err = NULL;
	char root[128];

	fx_v2(f, "memory pids\n");
	snprintf(root, sizeof(root), "%s//", f->dir);
	assert_int_equal(cg_detect_from(&sys, root, f->mountinfo, NULL, &err), 0);
	assert_string_equal(sys.root, f->dir);
	assert_int_equal(sys.version, CG_V2);

	assert_int_equal(cg_detect_from(&sys, "relative/cg", f->mountinfo, NULL, &err), -1);
	assert_err_has(err, "absolute", NULL);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
}

/* v1 wins only when it carries a controller berth limits with; a v1 hierarchy with, say, only
 * devices beside a full cgroup2 leaves the work to v2. */
static void test_detect_v2_beside_unrelated_v1(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct berr *err = NULL;

	fx_mount(f, "devices", "cgroup", "rw,devices");
	fx_mount(f, "unified", "cgroup2", "rw");
	fx_file(f, "unified/cgroup.controllers", "cpu memory pids\n");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, NULL, &err), 0);
	assert_int_equal(sys.version, CG_V2);
	assert_true(sys.v2_ctrls & CG_BIT(CG_MEMORY));
}

static void test_detect_duplicate_hierarchy(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct berr *err = NULL;

	fx_mount(f, "pids", "cgroup", "rw,pids");
	fx_mount(f, "pids-again", "cgroup", "rw,pids");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, NULL, &err), 0);
	if (!ENABLE_CGROUP_V1)
		return;
	assert_int_equal(sys.version, CG_V1);
	assert_int_equal(sys.n_hier, 1);
	assert_int_equal(hier_index(&sys, "pids", f->dir), 0);
}

static void test_detect_nothing_mounted(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct cg_limits l;
	struct cg_handle h;
	struct cg_stats st;
	struct berr *err = NULL;
	bool killed = true;

	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_all, &err), 0);
	assert_int_equal(sys.version, CG_NONE);
	assert_null(sys.ops);

	/* No limits: an inactive handle, and every call is a no-op. */
	cg_limits_init(&l);
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), 0);
	assert_false(h.active);
	assert_int_equal(cg_enter(&h, getpid(), &err), 0);
	assert_int_equal(cg_stats(&h, &st, &err), 0);
	assert_int_equal(st.memory_current, -1);
	assert_int_equal(st.cpu_usage_ns, -1);
	assert_int_equal(cg_oom_killed(&h, &killed, &err), 0);
	assert_false(killed);
	assert_int_equal(cg_destroy(&h, &err), 0);

	/* A limit with nowhere to enforce it is an error. */
	l.pids_max = 10;
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), -1);
	assert_err_has(err, "pids cgroup controller not available", "neither cgroup2 nor", f->dir, NULL);
	assert_int_equal(err->status, EXIT_BERTH);
	berr_free(err);
}

/* ---- missing controllers ---- */

/* Ask for a memory limit on a v1 tree without the memory hierarchy: the error names the
 * controller and the fix, and nothing is created. */
static struct berr *create_memory_limit(struct fx *f, const char *proc_cgroups)
{
	struct cg_system sys;
	struct cg_limits l;
	struct cg_handle h;
	struct berr *err = NULL;

	fx_mount(f, "pids", "cgroup", "rw,pids");
	fx_mount(f, "cpu", "cgroup", "rw,cpu,cpuacct");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups, &err), 0);
	cg_limits_init(&l);
	l.memory = 32 << 20;
	l.pids_max = 20;
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_BERTH);
	assert_false(fx_exists(f, "pids/berth"));
	assert_false(fx_exists(f, "cpu/berth"));
	return err;
}

static void test_missing_memory_disabled(void **state)
{
	struct berr *err;

	if (!ENABLE_CGROUP_V1)
		skip();
	err = create_memory_limit(*state, proc_cgroups_memory_off);
	assert_err_has(err, "memory cgroup controller not available", "boot with cgroup_enable=memory", NULL);
	berr_free(err);
}

static void test_missing_memory_not_in_kernel(void **state)
{
	struct berr *err;

	if (!ENABLE_CGROUP_V1)
		skip();
	err = create_memory_limit(*state, proc_cgroups_no_memory);
	assert_err_has(err, "memory cgroup controller not available", "CONFIG_MEMCG", NULL);
	berr_free(err);
}

static void test_missing_memory_not_mounted(void **state)
{
	struct fx *f = *state;
	struct berr *err;

	if (!ENABLE_CGROUP_V1)
		skip();
	err = create_memory_limit(f, proc_cgroups_all);
	assert_err_has(err, "memory cgroup controller not available", "mount -t cgroup -o memory",
		       f->dir, NULL);
	berr_free(err);
}

static void test_missing_memory_unknown_why(void **state)
{
	struct berr *err;

	if (!ENABLE_CGROUP_V1)
		skip();
	err = create_memory_limit(*state, NULL);
	assert_err_has(err, "memory cgroup controller not available: boot with cgroup_enable=memory, "
			    "or build the kernel with CONFIG_MEMCG", NULL);
	berr_free(err);
}

static void test_missing_on_v2(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct cg_limits l;
	struct cg_handle h;
	struct berr *err = NULL;
	static const char memory_on_v1[] =
		"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
		"cpu\t0\t1\t1\n"
		"memory\t4\t1\t1\n"
		"pids\t0\t1\t1\n";

	/* Memory bound to a v1 hierarchy mounted elsewhere: v2 cannot have it. */
	fx_v2(f, "cpu pids\n");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, memory_on_v1, &err), 0);
	assert_int_equal(sys.version, CG_V2);
	cg_limits_init(&l);
	l.memory = 64 << 20;
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), -1);
	assert_err_has(err, "memory cgroup controller not available on cgroup v2", "cgroup_no_v1=memory", NULL);
	berr_free(err);
	err = NULL;
	assert_false(fx_exists(f, "berth"));

	/* cpuset not in this kernel at all. */
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_no_memory, &err), 0);
	cg_limits_init(&l);
	l.cpuset_cpus[0] = '0';
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), -1);
	assert_err_has(err, "cpuset cgroup controller not available", "CONFIG_CPUSETS", NULL);
	berr_free(err);
	assert_false(fx_exists(f, "berth"));
}

static void test_v1_optional_parts(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct cg_limits l;
	struct berr *err = NULL;

	if (!ENABLE_CGROUP_V1)
		skip();
	fx_mount(f, "memory", "cgroup", "rw,memory");
	fx_mount(f, "cpu", "cgroup", "rw,cpu");
	fx_file(f, "memory/memory.limit_in_bytes", "0\n");
	fx_file(f, "cpu/cpu.shares", "1024\n");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_all, &err), 0);

	/* Swap asked for, but the kernel does not account it. */
	cg_limits_init(&l);
	l.memory = 64 << 20;
	l.memory_swap = 128 << 20;
	assert_int_equal(sys.ops->check(&sys, &l, &err), -1);
	assert_err_has(err, "--memory-swap", "swapaccount=1", NULL);
	berr_free(err);
	err = NULL;
	/* No swap (the default), or unlimited swap, need no accounting. */
	l.memory_swap = 0;
	assert_int_equal(sys.ops->check(&sys, &l, &err), 0);
	l.memory_swap = -1;
	assert_int_equal(sys.ops->check(&sys, &l, &err), 0);

	/* A CPU quota without CFS bandwidth control in the kernel. */
	cg_limits_init(&l);
	l.cpu_quota_us = 50000;
	assert_int_equal(sys.ops->check(&sys, &l, &err), -1);
	assert_err_has(err, "CONFIG_CFS_BANDWIDTH", NULL);
	berr_free(err);
	err = NULL;
	cg_limits_init(&l);
	l.cpu_shares = 512;
	assert_int_equal(sys.ops->check(&sys, &l, &err), 0);
}

/* ---- create, stats, destroy on fixtures ---- */

static void test_v1_lifecycle(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct cg_limits l;
	struct cg_handle h, h2;
	struct cg_stats st;
	struct berr *err = NULL;
	char path[256], want[256];
	bool killed = false;

	if (!ENABLE_CGROUP_V1)
		skip();
	fx_mount(f, "memory", "cgroup", "rw,memory");
	fx_mount(f, "pids", "cgroup", "rw,pids");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_all, &err), 0);
	cg_limits_init(&l);
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), 0);
	assert_true(h.active);
	assert_int_equal(h.hier_mask, 3);
	assert_true(fx_exists(f, "memory/berth/c1"));
	assert_true(fx_exists(f, "pids/berth/c1"));
	assert_int_equal(cg_path(&h, CG_PIDS, path, sizeof(path), &err), 0);
	snprintf(want, sizeof(want), "%s/pids/berth/c1", f->dir);
	assert_string_equal(path, want);
	assert_int_equal(cg_path(&h, CG_CPU, path, sizeof(path), &err), -1);
	berr_free(err);
	err = NULL;

	/* What the kernel would show. */
	fx_file(f, "memory/berth/c1/memory.usage_in_bytes", "1048576\n");
	fx_file(f, "memory/berth/c1/memory.max_usage_in_bytes", "33554432\n");
	fx_file(f, "memory/berth/c1/memory.limit_in_bytes", "9223372036854771712\n");
	fx_file(f, "memory/berth/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
	fx_file(f, "pids/berth/c1/pids.current", "3\n");
	fx_file(f, "pids/berth/c1/pids.max", "max\n");

	/* Another process (`berth stats`) finds it by name. */
	assert_int_equal(cg_open(&sys, "c1", &h2, &err), 0);
	assert_int_equal(h2.hier_mask, 3);
	assert_int_equal(cg_stats(&h2, &st, &err), 0);
	assert_int_equal(st.memory_current, 1048576);
	assert_int_equal(st.memory_peak, 33554432);
	assert_int_equal(st.memory_limit, -1);
	assert_int_equal(st.oom_kills, 2);
	assert_int_equal(st.pids_current, 3);
	assert_int_equal(st.pids_max, -1);
	assert_int_equal(st.cpu_usage_ns, -1);
	assert_int_equal(cg_oom_killed(&h2, &killed, &err), 0);
	assert_true(killed);

	/* Kernels before 4.13 have no oom_kill line: the failure count stands in. */
	fx_file(f, "memory/berth/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
	fx_file(f, "memory/berth/c1/memory.failcnt", "0\n");
	assert_int_equal(cg_oom_killed(&h2, &killed, &err), 0);
	assert_false(killed);

	/* A stale, empty directory of the same name is taken over; the fixture's fake files make
	 * it look busy, which is refused. */
	assert_int_equal(cg_create(&sys, "c1", &l, &h2, &err), -1);
	assert_non_null(err);
	berr_free(err);
	err = NULL;
	assert_true(fx_exists(f, "pids/berth/c1"));

	fx_rm(f, "memory/berth/c1/memory.usage_in_bytes");
	fx_rm(f, "memory/berth/c1/memory.max_usage_in_bytes");
	fx_rm(f, "memory/berth/c1/memory.limit_in_bytes");
	fx_rm(f, "memory/berth/c1/memory.oom_control");
	fx_rm(f, "memory/berth/c1/memory.failcnt");
	fx_rm(f, "pids/berth/c1/pids.current");
	fx_rm(f, "pids/berth/c1/pids.max");
	assert_int_equal(cg_destroy(&h, &err), 0);
	assert_false(h.active);
	assert_false(fx_exists(f, "memory/berth/c1"));
	assert_false(fx_exists(f, "pids/berth/c1"));
	assert_true(fx_exists(f, "pids/berth")); /* shared by every container */
	/* Destroying twice, or opening a removed one. */
	assert_int_equal(cg_destroy(&h, &err), 0);
	assert_int_equal(cg_open(&sys, "c1", &h2, &err), -1);
	assert_err_has(err, "berth/c1", NULL);
	berr_free(err);
	err = NULL;

	/* An empty leftover (a berth that died before removing it) is taken over. */
	fx_file(f, "pids/berth/c1/x", "");
	fx_rm(f, "pids/berth/c1/x");
	assert_int_equal(cg_create(&sys, "c1", &l, &h, &err), 0);
	assert_int_equal(cg_destroy(&h, &err), 0);
	assert_false(fx_exists(f, "pids/berth/c1"));
}

static void test_v2_lifecycle(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct cg_limits l;
	struct cg_handle h;
	struct cg_stats st;
	struct berr *err = NULL;
	bool killed = true;

	/* Controllers already enabled down to berth/, as a previous container left them. */
	fx_v2(f, "cpuset cpu io memory pids\n");
	fx_file(f, "berth/cgroup.subtree_control", "cpu memory pids\n");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, proc_cgroups_v2, &err), 0);
	cg_limits_init(&l);
	assert_int_equal(cg_create(&sys, "c2", &l, &h, &err), 0);
	assert_true(h.active);
	assert_true(fx_exists(f, "berth/c2"));

	fx_file(f, "berth/c2/memory.current", "4096\n");
	fx_file(f, "berth/c2/memory.peak", "8192\n");
	fx_file(f, "berth/c2/memory.max", "33554432\n");
	fx_file(f, "berth/c2/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
	fx_file(f, "berth/c2/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
	fx_file(f, "berth/c2/pids.current", "1\n");
	fx_file(f, "berth/c2/pids.max", "20\n");
	assert_int_equal(cg_stats(&h, &st, &err), 0);
	assert_int_equal(st.memory_current, 4096);
	assert_int_equal(st.memory_peak, 8192);
	assert_int_equal(st.memory_limit, 33554432);
	assert_int_equal(st.oom_kills, 0);
	assert_int_equal(st.cpu_usage_ns, 1500000);
	assert_int_equal(st.pids_current, 1);
	assert_int_equal(st.pids_max, 20);
	/* "oom 1" counts reaching the limit; only oom_kill is a kill. */
	assert_int_equal(cg_oom_killed(&h, &killed, &err), 0);
	assert_false(killed);
	fx_file(f, "berth/c2/memory.events", "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n");
	assert_int_equal(cg_oom_killed(&h, &killed, &err), 0);
	assert_true(killed);

	fx_rm(f, "berth/c2/memory.current");
	fx_rm(f, "berth/c2/memory.peak");
	fx_rm(f, "berth/c2/memory.max");
	fx_rm(f, "berth/c2/memory.events");
	fx_rm(f, "berth/c2/cpu.stat");
	fx_rm(f, "berth/c2/pids.current");
	fx_rm(f, "berth/c2/pids.max");
	assert_int_equal(cg_destroy(&h, &err), 0);
	assert_false(fx_exists(f, "berth/c2"));
}

static void test_bad_names(void **state)
{
	struct fx *f = *state;
	struct cg_system sys;
	struct cg_limits l;
	struct cg_handle h;
	struct berr *err = NULL;
	static const char *const bad[] = { "", ".", "..", "a/b", "../../etc" };

	fx_v2(f, "memory pids\n");
	assert_int_equal(cg_detect_from(&sys, f->dir, f->mountinfo, NULL, &err), 0);
	cg_limits_init(&l);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cg_create(&sys, bad[i], &l, &h, &err), -1);
		assert_int_equal(err->status, EXIT_USAGE);
		berr_free(err);
		err = NULL;
	}
	assert_false(fx_exists(f, "berth"));
}

/* ---- values ---- */

static void test_parse_cpus(void **state)
{
	static const struct { const char *in; int64_t quota; } ok[] = {
		{ "0.5", 50000 }, { "1.5", 150000 }, { "2", 200000 }, { ".25", 25000 },
		{ "0.01", 1000 }, { "1024", 102400000 }, { "0.333", 33300 },
	};
	static const char *const bad[] = { "", "0", "0.0", "0.001", "abc", "1.2.3", "-1", "1025",
					   "2000", "0.5x", ".", "1e3" };
	struct berr *err = NULL;
	int64_t quota, period;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cg_parse_cpus(ok[i].in, &quota, &period, &err), 0);
		assert_int_equal(quota, ok[i].quota);
		assert_int_equal(period, 100000);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cg_parse_cpus(bad[i], &quota, &period, &err) == 0)
			fail_msg("--cpus `%s` was accepted", bad[i]);
		assert_int_equal(err->status, EXIT_USAGE);
		assert_non_null(strstr(err->msg, "--cpus"));
		berr_free(err);
		err = NULL;
	}
}

static void test_parse_memory(void **state)
{
	struct berr *err = NULL;
	int64_t v;

	assert_int_equal(cg_parse_memory("512m", &v, &err), 0);
	assert_int_equal(v, 512 << 20);
	assert_int_equal(cg_parse_memory("32M", &v, &err), 0);
	assert_int_equal(v, 32 << 20);
	assert_int_equal(cg_parse_memory("1g", &v, &err), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(cg_parse_memory("6291456", &v, &err), 0);
	assert_int_equal(v, 6 << 20);
	assert_int_equal(cg_parse_memory("5m", &v, &err), -1);
	assert_err_has(err, "minimum is 6m", NULL);
	berr_free(err);
	err = NULL;
	assert_int_equal(cg_parse_memory("lots", &v, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
	err = NULL;
	assert_int_equal(cg_parse_memory("-1", &v, &err), -1);
	berr_free(err);
	err = NULL;
	assert_int_equal(cg_parse_memory("99999999999t", &v, &err), -1);
	berr_free(err);
	err = NULL;

	assert_int_equal(cg_parse_memory_swap("-1", &v, &err), 0);
	assert_int_equal(v, -1);
	assert_int_equal(cg_parse_memory_swap("1g", &v, &err), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(cg_parse_memory_swap("-2", &v, &err), -1);
	assert_err_has(err, "-1 for unlimited", NULL);
	berr_free(err);
}

static void test_parse_shares_pids(void **state)
{
	struct berr *err = NULL;
	uint64_t shares;
	int64_t pids;
	static const char *const bad_shares[] = { "1", "262145", "x", "-5", "", "5k" };
	static const char *const bad_pids[] = { "-5", "abc", "5000000", "", "1.5" };

	assert_int_equal(cg_parse_cpu_shares("512", &shares, &err), 0);
	assert_int_equal(shares, 512);
	assert_int_equal(cg_parse_cpu_shares("0", &shares, &err), 0);
	assert_int_equal(shares, 0);
	assert_int_equal(cg_parse_cpu_shares("262144", &shares, &err), 0);
	for (size_t i = 0; i < sizeof(bad_shares) / sizeof(bad_shares[0]); i++) {
		if (cg_parse_cpu_shares(bad_shares[i], &shares, &err) == 0)
			fail_msg("--cpu-shares `%s` was accepted", bad_shares[i]);
		assert_err_has(err, "2 to 262144", NULL);
		berr_free(err);
		err = NULL;
	}

	assert_int_equal(cg_parse_pids_limit("20", &pids, &err), 0);
	assert_int_equal(pids, 20);
	assert_int_equal(cg_parse_pids_limit("0", &pids, &err), 0);
	assert_int_equal(pids, -1);
	assert_int_equal(cg_parse_pids_limit("-1", &pids, &err), 0);
	assert_int_equal(pids, -1);
	for (size_t i = 0; i < sizeof(bad_pids) / sizeof(bad_pids[0]); i++) {
		if (cg_parse_pids_limit(bad_pids[i], &pids, &err) == 0)
			fail_msg("--pids-limit `%s` was accepted", bad_pids[i]);
		assert_int_equal(err->status, EXIT_USAGE);
		berr_free(err);
		err = NULL;
	}
}

static void test_parse_cpuset(void **state)
{
	static const char *const ok[] = { "0", "0-2,4", "1,3,5", "0-0", "8191", "0-3,8-11" };
	static const char *const bad[] = { "", "2-1", "0,,1", "0-", "-1", "a", "1,", ",1", "0 1",
					   "8192", "0-2-4", "0x1" };
	struct berr *err = NULL;
	char out[CG_CPUSET_MAX], small[4];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (cg_parse_cpuset(ok[i], out, sizeof(out), &err) < 0)
			fail_msg("cpuset `%s` refused: %s", ok[i], err->msg);
		assert_string_equal(out, ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cg_parse_cpuset(bad[i], out, sizeof(out), &err) == 0)
			fail_msg("cpuset `%s` was accepted", bad[i]);
		assert_int_equal(err->status, EXIT_USAGE);
		berr_free(err);
		err = NULL;
	}
	assert_int_equal(cg_parse_cpuset("0-2,4", small, sizeof(small), &err), -1);
	berr_free(err);
}

static void test_shares_to_weight(void **state)
{
	assert_int_equal(cg_shares_to_weight(2), 1);
	assert_int_equal(cg_shares_to_weight(262144), 10000);
	assert_int_equal(cg_shares_to_weight(1024), 39);
	assert_int_equal(cg_shares_to_weight(512), 20);
	assert_int_equal(cg_shares_to_weight(0), 1);
	assert_int_equal(cg_shares_to_weight(1000000), 10000);
}

static void test_limits_check(void **state)
{
	struct cg_limits l;
	struct berr *err = NULL;

	cg_limits_init(&l);
	assert_false(cg_limits_any(&l));
	assert_int_equal(cg_limits_needs(&l), 0);
	assert_int_equal(cg_limits_check(&l, &err), 0);

	l.memory_swap = 1 << 30;
	assert_int_equal(cg_limits_check(&l, &err), -1);
	assert_err_has(err, "--memory-swap needs --memory", NULL);
	berr_free(err);
	err = NULL;

	l.memory = (int64_t) 2 << 30;
	assert_int_equal(cg_limits_check(&l, &err), -1);
	assert_err_has(err, "at least --memory", NULL);
	berr_free(err);
	err = NULL;

	l.memory_swap = -1;
	assert_int_equal(cg_limits_check(&l, &err), 0);
	assert_int_equal(cg_limits_needs(&l), CG_BIT(CG_MEMORY));

	cg_limits_init(&l);
	l.cpu_quota_us = 50000;
	l.cpu_period_us = 500;
	assert_int_equal(cg_limits_check(&l, &err), -1);
	assert_err_has(err, "period", NULL);
	berr_free(err);
	err = NULL;

	cg_limits_init(&l);
	snprintf(l.cpuset_mems, sizeof(l.cpuset_mems), "1-0");
	assert_int_equal(cg_limits_check(&l, &err), -1);
	assert_err_has(err, "backwards", NULL);
	berr_free(err);
	err = NULL;

	cg_limits_init(&l);
	l.cpu_shares = 512;
	l.pids_max = 5;
	l.cpuset_cpus[0] = '0';
	assert_true(cg_limits_any(&l));
	assert_int_equal(cg_limits_needs(&l), CG_BIT(CG_CPU) | CG_BIT(CG_PIDS) | CG_BIT(CG_CPUSET));
}

static void test_keyed_get(void **state)
{
	int64_t v = 0;

	assert_int_equal(cg_keyed_get("oom 7\noom_kill 3\n", "oom_kill", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cg_keyed_get("oom_kill 3\noom 7\n", "oom", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(cg_keyed_get("oom_kill_disable 0\nunder_oom 0\n", "oom_kill", &v), -1);
	assert_int_equal(cg_keyed_get("", "x", &v), -1);
	assert_int_equal(cg_keyed_get("usage_usec max\n", "usage_usec", &v), 0);
	assert_int_equal(v, -1);
}

static void test_names(void **state)
{
	assert_string_equal(cg_ctrl_name(CG_IO), "blkio");
	assert_string_equal(cg_ctrl_v2_name(CG_IO), "io");
	assert_null(cg_ctrl_v2_name(CG_CPUACCT));
	assert_string_equal(cg_version_name(CG_NONE), "none");
	assert_string_equal(cg_version_name(CG_V2), "v2");
	assert_string_equal(cg_v1_ops.name, "v1");
	assert_string_equal(cg_v2_ops.name, "v2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_detect_hybrid_uses_v1, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_detect_pure_v2, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_detect_trailing_slash_and_bad_root, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_detect_v2_beside_unrelated_v1, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_detect_duplicate_hierarchy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_detect_nothing_mounted, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_memory_disabled, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_memory_not_in_kernel, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_memory_not_mounted, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_memory_unknown_why, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_missing_on_v2, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_v1_optional_parts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_v1_lifecycle, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_v2_lifecycle, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, fx_setup, fx_teardown),
		cmocka_unit_test(test_parse_cpus),
		cmocka_unit_test(test_parse_memory),
		cmocka_unit_test(test_parse_shares_pids),
		cmocka_unit_test(test_parse_cpuset),
		cmocka_unit_test(test_shares_to_weight),
		cmocka_unit_test(test_limits_check),
		cmocka_unit_test(test_keyed_get),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
