/* Unit tests for core/base/fs.c: atomic writes, mkdir -p, the symlink- and mount-safe rm -rf,
 * and bounded whole-file reads. Every test works in its own mkdtemp directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"

struct fixture {
	char dir[64];
	char mounted[PATH_MAX]; /* a tmpfs mounted by a test, unmounted in teardown */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/berth-test-fs.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct berr *err = NULL;
	int ret = 0;

	if (f->mounted[0] && umount2(f->mounted, MNT_DETACH) < 0)
		ret = -1;
	if (fs_rm_rf(f->dir, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", err->msg);
		berr_free(err);
		ret = -1;
	}
	free(f);
	return ret;
}

static void path_in(char *buf, const struct fixture *f, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/%s", f->dir, rel);
}

static void write_file(const char *path, const char *content)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(content, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries in `dir` whose name contains `.tmp.`. */
static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".tmp.") != NULL)
			n++;
	closedir(d);
	return n;
}

static void expect_content(const char *path, const char *want)
{
	struct berr *err = NULL;
	char *data = NULL;
	size_t len = 0;

	if (fs_read_file(path, 1 << 20, &data, &len, &err) < 0)
		fail_msg("%s", err->msg);
	assert_int_equal(len, strlen(want));
	assert_string_equal(data, want);
	free(data);
}

/* ---- fs_write_atomic ---- */

static void test_write_atomic_content_and_mode(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;
	mode_t old = umask(077);

	path_in(path, f, "state.json");
	assert_int_equal(fs_write_atomic(path, "{\"a\":1}\n", 8, 0644, &err), 0);
	assert_null(err);
	expect_content(path, "{\"a\":1}\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* despite umask 077 */

	umask(0);
	path_in(path, f, "secret");
	assert_int_equal(fs_write_atomic(path, "pw", 2, 0600, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	umask(old);
	assert_int_equal(count_tmp(f->dir), 0);
}

static void test_write_atomic_replaces(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;

	path_in(path, f, "refs.json");
	write_file(path, "old content that is longer than the new one");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(fs_write_atomic(path, "new", 3, 0640, &err), 0);
	expect_content(path, "new");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);

	/* Empty content is a valid, empty file. */
	assert_int_equal(fs_write_atomic(path, "", 0, 0644, &err), 0);
	expect_content(path, "");
	assert_int_equal(count_tmp(f->dir), 0);
}

static void test_write_atomic_binary(void **state)
{
	struct fixture *f = *state;
	static const char data[] = { 'a', '\0', 'b', '\n', '\xff' };
	char path[PATH_MAX], *back = NULL;
	struct berr *err = NULL;
	size_t len = 0;

	path_in(path, f, "bin");
	assert_int_equal(fs_write_atomic(path, data, sizeof(data), 0644, &err), 0);
	assert_int_equal(fs_read_file(path, 100, &back, &len, &err), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(back, data, sizeof(data));
	free(back);
}

static void test_write_atomic_missing_dir(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;

	path_in(path, f, "nodir/file");
	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errcode, ENOENT);
	assert_non_null(strstr(err->msg, "nodir/file.tmp."));
	berr_free(err);
	assert_false(exists(path));
	assert_int_equal(count_tmp(f->dir), 0);
}

static void test_write_atomic_failed_rename_cleans_up(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;

	/* A non-empty directory in the way: the rename fails after the temporary file is written. */
	path_in(path, f, "busy");
	assert_int_equal(mkdir(path, 0755), 0);
	path_in(path, f, "busy/keep");
	write_file(path, "k");
	path_in(path, f, "busy");
	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err->msg, "rename"));
	berr_free(err);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(count_tmp(f->dir), 0);
}

static void test_write_atomic_name_too_long(void **state)
{
	char path[PATH_MAX];
	struct berr *err = NULL;

	(void) state;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, &err), -1);
	assert_int_equal(err->errcode, ENAMETOOLONG);
	berr_free(err);
}

/* ---- fs_mkdir_p ---- */

static void test_mkdir_p(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;

	path_in(path, f, "a/b/c/d");
	assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* Existing is fine. */
	assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
	/* Trailing and doubled slashes. */
	path_in(path, f, "x//y///");
	assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
	path_in(path, f, "x/y");
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fs_mkdir_p("/", 0755, &err), 0);
	assert_null(err);
}

static void test_mkdir_p_relative(void **state)
{
	struct fixture *f = *state;
	char cwd[PATH_MAX], path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_int_equal(fs_mkdir_p("rel/one", 0700, &err), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_null(err);
	path_in(path, f, "rel/one");
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void test_mkdir_p_file_in_the_way(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;

	path_in(path, f, "file");
	write_file(path, "x");
	assert_int_equal(fs_mkdir_p(path, 0755, &err), -1);
	assert_int_equal(err->errcode, ENOTDIR);
	berr_free(err);
	err = NULL;
	path_in(path, f, "file/sub/dir");
	assert_int_equal(fs_mkdir_p(path, 0755, &err), -1);
	assert_int_equal(err->errcode, ENOTDIR);
	assert_non_null(strstr(err->msg, "/file`"));
	berr_free(err);
}

static void test_mkdir_p_empty(void **state)
{
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(fs_mkdir_p("", 0755, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_non_null(strstr(err->msg, "empty path"));
	berr_free(err);
}

/* ---- fs_rm_rf ---- */

static void make_tree(const struct fixture *f, const char *top)
{
	char path[PATH_MAX];
	struct berr *err = NULL;

	path_in(path, f, top);
	assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/%s/a/b/c", f->dir, top);
	assert_int_equal(fs_mkdir_p(path, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/%s/a/b/c/file", f->dir, top);
	write_file(path, "1");
	snprintf(path, sizeof(path), "%s/%s/a/top", f->dir, top);
	write_file(path, "2");
	snprintf(path, sizeof(path), "%s/%s/empty", f->dir, top);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%s/a/b/readonly", f->dir, top);
	assert_int_equal(mkdir(path, 0500), 0);
	snprintf(path, sizeof(path), "%s/%s/dangling", f->dir, top);
	assert_int_equal(symlink("/nonexistent/berth", path), 0);
	snprintf(path, sizeof(path), "%s/%s/fifo", f->dir, top);
	assert_int_equal(mkfifo(path, 0600), 0);
}

static void test_rm_rf_tree(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;

	make_tree(f, "tree");
	path_in(path, f, "tree");
	assert_int_equal(fs_rm_rf(path, &err), 0);
	assert_null(err);
	assert_false(exists(path));
	/* A missing path is fine, and so is a missing parent. */
	assert_int_equal(fs_rm_rf(path, &err), 0);
	path_in(path, f, "no/such/thing");
	assert_int_equal(fs_rm_rf(path, &err), 0);
	assert_null(err);
}

static void test_rm_rf_single_file_and_trailing_slash(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;

	path_in(path, f, "lonely");
	write_file(path, "x");
	assert_int_equal(fs_rm_rf(path, &err), 0);
	assert_false(exists(path));

	make_tree(f, "slashed");
	path_in(path, f, "slashed//");
	assert_int_equal(fs_rm_rf(path, &err), 0);
	assert_null(err);
	path_in(path, f, "slashed");
	assert_false(exists(path));
}

static void test_rm_rf_does_not_follow_symlinks(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], outside[PATH_MAX], precious[PATH_MAX], link[PATH_MAX];
	struct berr *err = NULL;

	path_in(outside, f, "outside");
	assert_int_equal(mkdir(outside, 0755), 0);
	path_in(precious, f, "outside/precious");
	write_file(precious, "keep me");

	make_tree(f, "victim");
	path_in(link, f, "victim/a/b/to-outside");
	assert_int_equal(symlink(outside, link), 0);
	path_in(link, f, "victim/to-file");
	assert_int_equal(symlink(precious, link), 0);

	path_in(path, f, "victim");
	assert_int_equal(fs_rm_rf(path, &err), 0);
	assert_null(err);
	assert_false(exists(path));
	expect_content(precious, "keep me");

	/* A symlink given as the path itself is removed, not its target. */
	path_in(link, f, "link-to-outside");
	assert_int_equal(symlink(outside, link), 0);
	assert_int_equal(fs_rm_rf(link, &err), 0);
	assert_false(exists(link));
	expect_content(precious, "keep me");
}

static void test_rm_rf_refuses(void **state)
{
	struct fixture *f = *state;
	const char *bad[] = { "", ".", "..", "/", "//", "/.", "/..", "./", "a/..", "x/./.", "../" };
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct berr *err = NULL;
		assert_int_equal(fs_rm_rf(bad[i], &err), -1);
		assert_non_null(err);
		assert_int_equal(err->status, EXIT_USAGE);
		if (strstr(err->msg, "refusing to remove") == NULL)
			fail_msg("`%s`: %s", bad[i], err->msg);
		berr_free(err);
	}
	/* Inside our tree too: "<dir>/." must not empty <dir>. */
	path_in(path, f, "kept");
	write_file(path, "x");
	snprintf(path, sizeof(path), "%s/.", f->dir);
	{
		struct berr *err = NULL;
		assert_int_equal(fs_rm_rf(path, &err), -1);
		berr_free(err);
	}
	path_in(path, f, "kept");
	assert_true(exists(path));
}

static void test_rm_rf_relative(void **state)
{
	struct fixture *f = *state;
	char cwd[PATH_MAX], path[PATH_MAX];
	struct berr *err = NULL;
	int r1, r2;

	make_tree(f, "rel1");
	make_tree(f, "rel2");
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	r1 = fs_rm_rf("rel1", &err);
	r2 = fs_rm_rf("./rel2/a", &err);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(r1, 0);
	assert_int_equal(r2, 0);
	assert_null(err);
	path_in(path, f, "rel1");
	assert_false(exists(path));
	path_in(path, f, "rel2/a");
	assert_false(exists(path));
	path_in(path, f, "rel2/empty");
	assert_true(exists(path));
}

static void test_rm_rf_stops_at_mount_point(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], inside[PATH_MAX];
	struct berr *err = NULL;

	if (geteuid() != 0)
		skip(); /* mounting a tmpfs needs root */
	make_tree(f, "ctr");
	path_in(f->mounted, f, "ctr/a/mnt");
	assert_int_equal(mkdir(f->mounted, 0755), 0);
	if (mount("berth-test", f->mounted, "tmpfs", 0, "size=64k") < 0) {
		f->mounted[0] = '\0';
		skip(); /* no CAP_SYS_ADMIN here (an unprivileged container) */
	}
	path_in(inside, f, "ctr/a/mnt/data");
	write_file(inside, "on another file system");

	path_in(path, f, "ctr");
	assert_int_equal(fs_rm_rf(path, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errcode, EBUSY);
	assert_non_null(strstr(err->msg, "mounted"));
	berr_free(err);
	expect_content(inside, "on another file system");

	/* Once unmounted, the rest goes. */
	assert_int_equal(umount2(f->mounted, 0), 0);
	f->mounted[0] = '\0';
	err = NULL;
	assert_int_equal(fs_rm_rf(path, &err), 0);
	assert_false(exists(path));
}

/* A bind mount from the same file system has the same st_dev as its parent: the check must
 * still see the mount point, or a volume bound into a container would be wiped with it. */
static void test_rm_rf_stops_at_bind_mount(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], outside[PATH_MAX], precious[PATH_MAX];
	struct berr *err = NULL;

	if (geteuid() != 0)
		skip(); /* bind mounts need root */
	path_in(outside, f, "volume");
	assert_int_equal(mkdir(outside, 0755), 0);
	path_in(precious, f, "volume/precious");
	write_file(precious, "user data");
	make_tree(f, "ctr");
	path_in(f->mounted, f, "ctr/a/b/vol");
	assert_int_equal(mkdir(f->mounted, 0755), 0);
	if (mount(outside, f->mounted, NULL, MS_BIND, NULL) < 0) {
		f->mounted[0] = '\0';
		skip(); /* no CAP_SYS_ADMIN here (an unprivileged container) */
	}

	path_in(path, f, "ctr");
	assert_int_equal(fs_rm_rf(path, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->errcode, EBUSY);
	berr_free(err);
	expect_content(precious, "user data");
}

/* ---- fs_read_file ---- */

static void test_read_file(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], *data = NULL;
	struct berr *err = NULL;
	size_t len = 99;

	path_in(path, f, "r");
	write_file(path, "hello\n");
	assert_int_equal(fs_read_file(path, 6, &data, &len, &err), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(data, "hello\n", 7); /* NUL-terminated */
	free(data);

	/* len may be NULL. */
	data = NULL;
	assert_int_equal(fs_read_file(path, 100, &data, NULL, &err), 0);
	assert_string_equal(data, "hello\n");
	free(data);

	/* Empty file. */
	path_in(path, f, "empty");
	write_file(path, "");
	data = NULL;
	assert_int_equal(fs_read_file(path, 0, &data, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
	assert_null(err);
}

static void test_read_file_bounds(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], *data = NULL, *big;
	struct berr *err = NULL;
	size_t len = 0, sizes[] = { 4095, 4096, 4097, 10000 };

	path_in(path, f, "r");
	write_file(path, "hello\n");
	assert_int_equal(fs_read_file(path, 5, &data, &len, &err), -1);
	assert_null(data);
	assert_int_equal(err->errcode, EFBIG);
	assert_non_null(strstr(err->msg, "larger than 5 bytes"));
	berr_free(err);

	/* Around the buffer's growth steps: exactly max is fine, one more is not. */
	big = malloc(10001);
	assert_non_null(big);
	memset(big, 'z', 10000);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		big[sizes[i]] = '\0';
		write_file(path, big);
		big[sizes[i]] = 'z';
		data = NULL;
		err = NULL;
		assert_int_equal(fs_read_file(path, sizes[i], &data, &len, &err), 0);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(strlen(data), sizes[i]);
		free(data);
		data = NULL;
		assert_int_equal(fs_read_file(path, sizes[i] - 1, &data, &len, &err), -1);
		assert_int_equal(err->errcode, EFBIG);
		berr_free(err);
		err = NULL;
		/* No bound at all. */
		assert_int_equal(fs_read_file(path, SIZE_MAX, &data, &len, &err), 0);
		assert_int_equal(len, sizes[i]);
		free(data);
	}
	free(big);
}

static void test_read_file_missing(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX], *data = NULL;
	struct berr *err = NULL;

	path_in(path, f, "absent");
	assert_int_equal(fs_read_file(path, 100, &data, NULL, &err), -1);
	assert_null(data);
	assert_int_equal(err->errcode, ENOENT);
	assert_non_null(strstr(err->msg, "absent`"));
	berr_free(err);

	/* A directory cannot be read as a file. */
	err = NULL;
	assert_int_equal(fs_read_file(f->dir, 100, &data, NULL, &err), -1);
	assert_int_equal(err->errcode, EISDIR);
	berr_free(err);
}

static void test_fsync_helpers(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;

	assert_int_equal(fs_fsync_dir(f->dir, &err), 0);
	path_in(path, f, "whatever");
	assert_int_equal(fs_fsync_parent(path, &err), 0);
	assert_int_equal(fs_fsync_parent("relative-name", &err), 0);
	assert_int_equal(fs_fsync_parent("/etc", &err), 0);
	assert_null(err);
	path_in(path, f, "missing/x");
	assert_int_equal(fs_fsync_parent(path, &err), -1);
	assert_int_equal(err->errcode, ENOENT);
	berr_free(err);
}

/* ---- fs_write_replace, fs_write_new ---- */

static void test_write_replace(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;

	path_in(path, f, "hosts");
	write_file(path, "old content that is longer than the new one");
	assert_int_equal(fs_write_replace(path, "new\n", 4, 0644, &err), 0);
	expect_content(path, "new\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(count_tmp(f->dir), 0);
	/* A missing directory is an error naming the file, and leaves nothing. */
	path_in(path, f, "nodir/hosts");
	assert_int_equal(fs_write_replace(path, "x", 1, 0644, &err), -1);
	assert_int_equal(err->errcode, ENOENT);
	berr_free(err);
}

static void test_write_new(void **state)
{
	struct fixture *f = *state;
	char path[PATH_MAX];
	struct berr *err = NULL;
	struct stat st;
	mode_t old = umask(077);

	path_in(path, f, "config.json");
	assert_int_equal(fs_write_new(path, "{}", 2, 0640, &err), 0);
	expect_content(path, "{}");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	umask(old);
	/* Never over an existing file: that one stays as it was. */
	assert_int_equal(fs_write_new(path, "other", 5, 0600, &err), -1);
	assert_int_equal(err->errcode, EEXIST);
	berr_free(err);
	expect_content(path, "{}");
	assert_int_equal(count_tmp(f->dir), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_write_atomic_content_and_mode),
		T(test_write_atomic_replaces),
		T(test_write_atomic_binary),
		T(test_write_atomic_missing_dir),
		T(test_write_atomic_failed_rename_cleans_up),
		T(test_write_atomic_name_too_long),
		T(test_write_replace),
		T(test_write_new),
		T(test_mkdir_p),
		T(test_mkdir_p_relative),
		T(test_mkdir_p_file_in_the_way),
		T(test_mkdir_p_empty),
		T(test_rm_rf_tree),
		T(test_rm_rf_single_file_and_trailing_slash),
		T(test_rm_rf_does_not_follow_symlinks),
		T(test_rm_rf_refuses),
		T(test_rm_rf_relative),
		T(test_rm_rf_stops_at_mount_point),
		T(test_rm_rf_stops_at_bind_mount),
		T(test_read_file),
		T(test_read_file_bounds),
		T(test_read_file_missing),
		T(test_fsync_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
