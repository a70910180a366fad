/* Unit tests for core/runtime/kcheck*.c: the parsers behind `berth check`, fed with fixtures
 * from a hybrid host, a pure cgroup v2 guest and a v1 board with the memory controller off. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/kcheck.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- fixtures ---- */

/* A workstation with systemd's hybrid layout: every controller on v1 except hugetlb. */
static const char hybrid_mountinfo[] =
	"22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n"
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static const char hybrid_proc_cgroups[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t3\t1\t1\n"
	"cpu\t1\t1\t1\n"
	"cpuacct\t2\t1\t1\n"
	"blkio\t7\t1\t1\n"
	"memory\t4\t21\t1\n"
	"devices\t5\t1\t1\n"
	"freezer\t6\t1\t1\n"
	"net_cls\t0\t1\t1\n"
	"perf_event\t0\t1\t1\n"
	"net_prio\t0\t1\t1\n"
	"hugetlb\t0\t1\t1\n"
	"pids\t8\t1\t1\n";

static const char hybrid_controllers[] = "hugetlb\n";

/* A QEMU guest (or a modern distribution) with only cgroup2 at /sys/fs/cgroup. */
static const char v2_mountinfo[] =
	"1 0 254:1 / / rw,relatime - ext4 /dev/vda rw\n"
	"25 18 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n";

static const char v2_proc_cgroups[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t0\t40\t1\n"
	"cpu\t0\t40\t1\n"
	"cpuacct\t0\t40\t1\n"
	"blkio\t0\t40\t1\n"
	"memory\t0\t40\t1\n"
	"pids\t0\t40\t1\n";

static const char v2_controllers[] = "cpuset cpu io memory hugetlb pids rdma misc\n";

/* An ARM board on v1 whose kernel builds the memory controller but leaves it off (it wants
 * cgroup_enable=memory); cpu and cpuacct share a hierarchy. */
static const char board_mountinfo[] =
	"15 1 179:2 / / rw,noatime - ext4 /dev/root rw\n"
	"20 15 0:17 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755\n"
	"21 20 0:18 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:6 - cgroup "
	"cgroup rw,cpu,cpuacct\n"
	"22 20 0:19 / /sys/fs/cgroup/blkio rw,relatime shared:7 - cgroup cgroup rw,blkio\n"
	"23 20 0:20 / /sys/fs/cgroup/pids rw,relatime shared:8 - cgroup cgroup rw,pids\n"
	"24 20 0:21 / /sys/fs/cgroup/cpuset rw,relatime shared:9 - cgroup cgroup rw,cpuset,"
	"clone_children\n";

static const char board_proc_cgroups[] =
	"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
	"cpuset\t4\t1\t1\n"
	"cpu\t2\t1\t1\n"
	"cpuacct\t2\t1\t1\n"
	"blkio\t3\t1\t1\n"
	"memory\t0\t1\t0\n"
	"pids\t5\t1\t1\n";

static struct kcheck_cgroups *cg_from(const char *mountinfo, const char *proc_cgroups,
				      const char *controllers)
{
	struct kcheck_cgroups *cg = calloc(1, sizeof(*cg));

	assert_non_null(cg);
	kcheck_cg_parse_mountinfo(cg, mountinfo);
	if (proc_cgroups)
		kcheck_cg_parse_proc_cgroups(cg, proc_cgroups);
	if (controllers)
		strcpy(cg->controllers, controllers);
	return cg;
}

/* Run one controller check and return its only item (freed with the list). */
static const struct kcheck_item *one(struct kcheck_list *l, const struct kcheck_cgroups *cg,
				     const char *ctrl, bool v1_ok)
{
	kcheck_list_free(l);
	kcheck_cg_check_controller(l, cg, ctrl, v1_ok);
	assert_int_equal(l->n, 1);
	return &l->items[0];
}

/* ---- mountinfo and /proc/cgroups ---- */

static void test_mountinfo_hybrid(void **state)
{
	struct kcheck_cgroups *cg = cg_from(hybrid_mountinfo, NULL, NULL);

	/* Nine v1 hierarchies (one named) and one cgroup2; ext4 and tmpfs are not cgroups. */
	assert_int_equal(cg->n_mounts, 10);
	assert_non_null(kcheck_cg_unified(cg));
	assert_string_equal(kcheck_cg_unified(cg)->path, "/sys/fs/cgroup/unified");
	assert_string_equal(kcheck_cg_v1_mount(cg, "memory")->path, "/sys/fs/cgroup/memory");
	assert_string_equal(kcheck_cg_v1_mount(cg, "blkio")->path, "/sys/fs/cgroup/blkio");
	assert_null(kcheck_cg_v1_mount(cg, "io"));
	assert_null(kcheck_cg_v1_mount(cg, "systemd"));
	assert_int_equal(kcheck_cg_mode(cg), KCHECK_CG_HYBRID);
	free(cg);
}

static void test_mountinfo_v2(void **state)
{
	struct kcheck_cgroups *cg = cg_from(v2_mountinfo, NULL, NULL);

	assert_int_equal(cg->n_mounts, 1);
	assert_true(cg->mounts[0].v2);
	assert_string_equal(cg->mounts[0].path, "/sys/fs/cgroup");
	assert_string_equal(cg->mounts[0].opts, "rw,nsdelegate,memory_recursiveprot");
	assert_int_equal(kcheck_cg_mode(cg), KCHECK_CG_V2);
	free(cg);
}

static void test_mountinfo_board_v1(void **state)
{
	struct kcheck_cgroups *cg = cg_from(board_mountinfo, NULL, NULL);

	assert_int_equal(cg->n_mounts, 4);
	assert_null(kcheck_cg_unified(cg));
	/* "cpu,cpuacct" is one mount point and one hierarchy with two controllers. */
	assert_string_equal(kcheck_cg_v1_mount(cg, "cpu")->path, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(kcheck_cg_v1_mount(cg, "cpuacct")->path, "/sys/fs/cgroup/cpu,cpuacct");
	assert_string_equal(kcheck_cg_v1_mount(cg, "cpuset")->path, "/sys/fs/cgroup/cpuset");
	assert_null(kcheck_cg_v1_mount(cg, "memory"));
	assert_int_equal(kcheck_cg_mode(cg), KCHECK_CG_V1);
	free(cg);
}

static void test_mountinfo_edge_cases(void **state)
{
	struct kcheck_cgroups *cg;

	/* Octal escapes in the mount point; optional fields before the separator. */
	cg = cg_from("30 20 0:40 / /mnt/my\\040cg rw shared:3 master:1 - cgroup2 none rw\n", NULL, NULL);
	assert_int_equal(cg->n_mounts, 1);
	assert_string_equal(cg->mounts[0].path, "/mnt/my cg");
	free(cg);

	/* Truncated and garbage lines are skipped; a last line without newline is read. */
	cg = cg_from("garbage\n1 2 3\n31 1 0:1 / /x rw - cgroup\n"
		     "32 1 0:2 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids", NULL, NULL);
	assert_int_equal(cg->n_mounts, 1);
	assert_string_equal(cg->mounts[0].path, "/sys/fs/cgroup/pids");
	free(cg);

	/* Only systemd's named v1 hierarchy and an empty cgroup2: no v1 controllers, so v2. */
	cg = cg_from("1 0 0:1 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
		     "2 0 0:2 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", NULL, NULL);
	assert_int_equal(kcheck_cg_mode(cg), KCHECK_CG_V2);
	free(cg);

	cg = cg_from("", NULL, NULL);
	assert_int_equal(kcheck_cg_mode(cg), KCHECK_CG_NONE);
	free(cg);
}

static void test_proc_cgroups(void **state)
{
	struct kcheck_cgroups *cg = cg_from("", board_proc_cgroups, NULL);

	assert_true(cg->have_proc_cgroups);
	assert_int_equal(cg->n_subsys, 6);
	assert_string_equal(cg->subsys[4].name, "memory");
	assert_int_equal(cg->subsys[4].hierarchy, 0);
	assert_false(cg->subsys[4].enabled);
	assert_string_equal(cg->subsys[1].name, "cpu");
	assert_int_equal(cg->subsys[1].hierarchy, 2);
	assert_true(cg->subsys[1].enabled);
	free(cg);
}

static void test_controllers_list(void **state)
{
	assert_true(kcheck_words_has(v2_controllers, "cpu"));
	assert_true(kcheck_words_has(v2_controllers, "misc"));
	assert_true(kcheck_words_has(v2_controllers, "cpuset"));
	assert_false(kcheck_words_has("cpuset io\n", "cpu"));
	assert_false(kcheck_words_has("", "memory"));
	assert_false(kcheck_words_has(hybrid_controllers, "memory"));
	assert_true(kcheck_words_has(hybrid_controllers, "hugetlb"));
}

/* ---- the mode and controller lines ---- */

static void test_check_hybrid(void **state)
{
	struct kcheck_cgroups *cg = cg_from(hybrid_mountinfo, hybrid_proc_cgroups, hybrid_controllers);
	struct kcheck_list l = { 0 };
	const struct kcheck_item *it;

	kcheck_cg_check_mode(&l, cg);
	assert_string_equal(l.items[0].name, "cgroup.mode");
	assert_int_equal(l.items[0].status, KCHECK_OK);
	assert_string_equal(l.items[0].detail, "hybrid (v1 + cgroup2 at /sys/fs/cgroup/unified)");

	it = one(&l, cg, "memory", true);
	assert_string_equal(it->name, "cgroup.memory");
	assert_int_equal(it->status, KCHECK_OK);
	assert_string_equal(it->detail, "v1 (/sys/fs/cgroup/memory)");
	it = one(&l, cg, "cpu", true);
	assert_string_equal(it->detail, "v1 (/sys/fs/cgroup/cpu)");
	it = one(&l, cg, "pids", true);
	assert_string_equal(it->detail, "v1 (/sys/fs/cgroup/pids)");
	it = one(&l, cg, "io", true);
	assert_string_equal(it->name, "cgroup.io");
	assert_string_equal(it->detail, "v1 (/sys/fs/cgroup/blkio)");

	/* A v2-only build cannot use any of it. */
	it = one(&l, cg, "memory", false);
	assert_int_equal(it->status, KCHECK_MISSING);
	assert_non_null(strstr(it->detail, "v2-only"));
	it = one(&l, cg, "cpuset", false);
	assert_int_equal(it->status, KCHECK_WARN); /* optional: never MISSING */

	kcheck_list_free(&l);
	free(cg);
}

static void test_check_v2(void **state)
{
	struct kcheck_cgroups *cg = cg_from(v2_mountinfo, v2_proc_cgroups, v2_controllers);
	struct kcheck_list l = { 0 };
	static const char *const ctrls[] = { "memory", "cpu", "cpuset", "pids", "io" };

	kcheck_cg_check_mode(&l, cg);
	assert_int_equal(l.items[0].status, KCHECK_OK);
	assert_string_equal(l.items[0].detail, "v2 (cgroup2 at /sys/fs/cgroup)");
	for (size_t i = 0; i < sizeof(ctrls) / sizeof(ctrls[0]); i++) {
		const struct kcheck_item *it = one(&l, cg, ctrls[i], false);
		assert_int_equal(it->status, KCHECK_OK);
		assert_string_equal(it->detail, "v2 (/sys/fs/cgroup)");
	}
	kcheck_list_free(&l);
	free(cg);

	/* cgroup2 mounted, but the kernel has no memory controller at all. */
	cg = cg_from(v2_mountinfo, "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t0\t1\t1\n",
		     "cpu pids\n");
	const struct kcheck_item *it = one(&l, cg, "memory", false);
	assert_int_equal(it->status, KCHECK_MISSING);
	assert_string_equal(it->detail, "not in this kernel: CONFIG_MEMCG");
	it = one(&l, cg, "io", false);
	assert_int_equal(it->status, KCHECK_WARN);
	assert_string_equal(it->detail, "not in this kernel: CONFIG_BLK_CGROUP");
	kcheck_list_free(&l);
	free(cg);
}

static void test_check_board_memory_disabled(void **state)
{
	struct kcheck_cgroups *cg = cg_from(board_mountinfo, board_proc_cgroups, NULL);
	struct kcheck_list l = { 0 };
	const struct kcheck_item *it;

	kcheck_cg_check_mode(&l, cg);
	assert_string_equal(l.items[0].detail, "v1 (hierarchies under /sys/fs/cgroup)");

	it = one(&l, cg, "memory", true);
	assert_int_equal(it->status, KCHECK_MISSING);
	assert_true(it->required);
	assert_string_equal(it->detail, "disabled: boot with cgroup_enable=memory");
	assert_true(strlen(it->detail) <= KCHECK_DETAIL_COLS);
	it = one(&l, cg, "cpu", true);
	assert_int_equal(it->status, KCHECK_OK);
	assert_string_equal(it->detail, "v1 (/sys/fs/cgroup/cpu,cpuacct)");
	it = one(&l, cg, "pids", true);
	assert_int_equal(it->status, KCHECK_OK);
	kcheck_list_free(&l);
	free(cg);
}

static void test_check_no_cgroups(void **state)
{
	struct kcheck_cgroups *cg = cg_from("", hybrid_proc_cgroups, NULL);
	struct kcheck_list l = { 0 };
	const struct kcheck_item *it;

	kcheck_cg_check_mode(&l, cg);
	assert_int_equal(l.items[0].status, KCHECK_MISSING);
	assert_string_equal(l.items[0].detail, "no cgroup file system mounted");
	/* Bound to hierarchy 4 that nobody mounted in this namespace. */
	it = one(&l, cg, "memory", true);
	assert_int_equal(it->status, KCHECK_MISSING);
	assert_non_null(strstr(it->detail, "not mounted"));
	/* Free for v2 (hierarchy 0) but no cgroup2 either. */
	it = one(&l, cg, "hugetlb", true);
	assert_string_equal(it->detail, "not mounted: mount cgroup2 on /sys/fs/cgroup");
	kcheck_list_free(&l);
	free(cg);
}

/* ---- kernel config, version, /proc/filesystems, module lists ---- */

static const char kconfig[] =
	"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
	"CONFIG_LOCALVERSION=\"\"\n"
	"CONFIG_NAMESPACES=y\n"
	"CONFIG_MEMCG=y\n"
	"# CONFIG_VETH is not set\n"
	"CONFIG_BRIDGE=m\n"
	"CONFIG_SQUASHFS_XATTR=y\n"
	"CONFIG_LOG_BUF_SHIFT=17\n"
	"CONFIG_SQUASHFS_ZLIB=y";

static void test_kconfig(void **state)
{
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_NAMESPACES"), 'y');
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_MEMCG"), 'y');
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_BRIDGE"), 'm');
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_VETH"), 'n');
	/* A prefix of a set option is not set itself. */
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_SQUASHFS"), 'n');
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_MEMCG_SWAP"), 'n');
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_LOG_BUF_SHIFT"), 'y');
	assert_int_equal(kcheck_kconfig_get(kconfig, "CONFIG_SQUASHFS_ZLIB"), 'y');
	assert_int_equal(kcheck_kconfig_get("", "CONFIG_MEMCG"), 'n');
}

static void test_kernel_version(void **state)
{
	unsigned a, b, c;

	assert_int_equal(kcheck_parse_kernel_version("6.1.0-18-arm64", &a, &b, &c), 0);
	assert_int_equal(a, 6);
	assert_int_equal(b, 1);
	assert_int_equal(c, 0);
	assert_int_equal(kcheck_parse_kernel_version("4.19", &a, &b, &c), 0);
	assert_int_equal(b, 19);
	assert_int_equal(c, 0);
	assert_int_equal(kcheck_parse_kernel_version("5.10.120-rt70-v7l+", &a, &b, &c), 0);
	assert_int_equal(c, 120);
	assert_int_equal(kcheck_parse_kernel_version("linux", &a, &b, &c), -1);
	assert_int_equal(kcheck_parse_kernel_version("6", &a, &b, &c), -1);
}

static void test_filesystems(void **state)
{
	static const char fs[] = "nodev\tsysfs\nnodev\toverlay\n\text4\n\tsquashfs\n\tfuseblk\n";

	assert_true(kcheck_filesystems_has(fs, "overlay"));
	assert_true(kcheck_filesystems_has(fs, "squashfs"));
	assert_true(kcheck_filesystems_has(fs, "ext4"));
	assert_false(kcheck_filesystems_has(fs, "fuse"));
	assert_false(kcheck_filesystems_has(fs, "nodev"));
	assert_false(kcheck_filesystems_has("", "overlay"));
}

static void test_modlist(void **state)
{
	static const char builtin[] = "kernel/fs/overlayfs/overlay.ko\nkernel/drivers/block/loop.ko\n";
	static const char dep[] =
		"kernel/drivers/net/veth.ko.xz:\n"
		"kernel/net/bridge/bridge.ko.zst: kernel/net/802/stp.ko.zst kernel/net/llc/llc.ko.zst\n"
		"kernel/fs/nls/nls_cp437.ko:\n"
		"kernel/fs/squashfs/squashfs.ko.gz:\n";

	assert_true(kcheck_modlist_has(builtin, "overlay"));
	assert_true(kcheck_modlist_has(builtin, "loop"));
	assert_false(kcheck_modlist_has(builtin, "overlayfs"));
	assert_false(kcheck_modlist_has(builtin, "over"));
	assert_true(kcheck_modlist_has(dep, "veth"));
	assert_true(kcheck_modlist_has(dep, "bridge"));
	assert_true(kcheck_modlist_has(dep, "squashfs"));
	assert_true(kcheck_modlist_has(dep, "nls-cp437"));
	/* Names after the colon are dependencies, not entries. */
	assert_false(kcheck_modlist_has(dep, "stp"));
	assert_false(kcheck_modlist_has("", "veth"));
}

/* ---- storage helpers and the result list ---- */

static void test_fs_type_and_size(void **state)
{
	char buf[32];

	assert_string_equal(kcheck_fs_type_name(0xEF53), "ext4");
	assert_string_equal(kcheck_fs_type_name(0x01021994), "tmpfs");
	assert_string_equal(kcheck_fs_type_name(0x794c7630), "overlay");
	/* f_type is a signed word on 32-bit boards: the sign-extended value still matches. */
	assert_string_equal(kcheck_fs_type_name((uint64_t) (int64_t) (int32_t) 0xF2F52010u), "f2fs");
	assert_null(kcheck_fs_type_name(0x12345678));

	kcheck_format_size(buf, sizeof(buf), 0);
	assert_string_equal(buf, "0 B");
	kcheck_format_size(buf, sizeof(buf), 1536);
	assert_string_equal(buf, "1.5 KiB");
	kcheck_format_size(buf, sizeof(buf), 200ull << 20);
	assert_string_equal(buf, "200 MiB");
	kcheck_format_size(buf, sizeof(buf), 252ull << 30);
	assert_string_equal(buf, "252 GiB");
	kcheck_format_size(buf, sizeof(buf), (uint64_t) (53.1 * (1ull << 30)));
	assert_string_equal(buf, "53.1 GiB");
}

static void test_list(void **state)
{
	struct kcheck_list l = { 0 };

	kcheck_add(&l, "a", true, KCHECK_OK, "fine");
	kcheck_add(&l, "b", false, KCHECK_MISSING, "optional %s", "thing");
	assert_int_equal(l.items[1].status, KCHECK_WARN);
	assert_string_equal(l.items[1].detail, "optional thing");
	assert_true(kcheck_list_ok(&l));
	for (int i = 0; i < 100; i++)
		kcheck_add(&l, "c", false, KCHECK_WARN, "%d", i);
	kcheck_add(&l, "d", true, KCHECK_MISSING, "%s", "needed");
	assert_int_equal(l.n, 103);
	assert_false(kcheck_list_ok(&l));
	assert_string_equal(kcheck_status_name(l.items[102].status), "MISSING");
	kcheck_list_free(&l);
	assert_int_equal(l.n, 0);
}

static int child_returns(const void *arg)
{
	return *(const int *) arg;
}

static int child_dies(const void *arg)
{
	raise(SIGKILL);
	return 0;
}

static void test_in_child(void **state)
{
	int seven = 7, zero = 0, big = 1000;
	pid_t me = getpid();

	assert_int_equal(kcheck_in_child(child_returns, &zero), 0);
	assert_int_equal(kcheck_in_child(child_returns, &seven), 7);
	assert_int_equal(kcheck_in_child(child_returns, &big), EPROTO);
	assert_int_equal(kcheck_in_child(child_dies, NULL), KCHECK_E_DIED);
	assert_string_equal(kcheck_strerror(KCHECK_E_DIED), "probe killed by a signal");
	/* Only the child ran the function; this process is untouched. */
	assert_int_equal(getpid(), me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mountinfo_hybrid),
		cmocka_unit_test(test_mountinfo_v2),
		cmocka_unit_test(test_mountinfo_board_v1),
		cmocka_unit_test(test_mountinfo_edge_cases),
		cmocka_unit_test(test_proc_cgroups),
		cmocka_unit_test(test_controllers_list),
		cmocka_unit_test(test_check_hybrid),
		cmocka_unit_test(test_check_v2),
		cmocka_unit_test(test_check_board_memory_disabled),
		cmocka_unit_test(test_check_no_cgroups),
		cmocka_unit_test(test_kconfig),
		cmocka_unit_test(test_kernel_version),
		cmocka_unit_test(test_filesystems),
		cmocka_unit_test(test_modlist),
		cmocka_unit_test(test_fs_type_and_size),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_in_child),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
