/* Resolution inside a container root: symlinks never lead out, missing parts are made. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "runtime/resolve.h"

static char root[PATH_MAX];
static char outside[PATH_MAX];
static int rootfd = -1;

static void mk(const char *rel, const char *content)
{
	char p[PATH_MAX * 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void ln(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
	char p[PATH_MAX * 2];

	(void) state;
	snprintf(outside, sizeof(outside), "/tmp/berth-resolve-out.XXXXXX");
	assert_non_null(mkdtemp(outside));
	snprintf(root, sizeof(root), "/tmp/berth-resolve.XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/etc", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/data", root);
	mkdir(p, 0755);
	mk("etc/passwd", "inside");
	ln("/etc", "abs-etc");             /* absolute: must mean the root's /etc */
	ln("../../../../etc", "up-etc");   /* climbing: stops at the root */
	ln(outside, "to-outside");          /* absolute path of a host dir: inside, not the host */
	ln("data/../etc/passwd", "rel-file");
	ln("loop2", "loop1");
	ln("loop1", "loop2");
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	struct berr *err = NULL;

	(void) state;
	close(rootfd);
	if (fs_rm_rf(root, &err) < 0 || fs_rm_rf(outside, &err) < 0)
		berr_free(err);
	return 0;
}

/* Read what the fd names (through /proc/self/fd), or "" if not a file. */
static void content_of(int fd, char *buf, size_t size)
{
	char p[64];
	FILE *f;
	size_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	buf[0] = '\0';
	f = fopen(p, "r");
	if (f == NULL)
		return;
	n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void real_path(int fd, char *buf, size_t size)
{
	char p[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, buf, size - 1);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void check_inside(bool walk)
{
	struct berr *err = NULL;
	char buf[256], rp[PATH_MAX];
	const char *paths[] = { "/abs-etc/passwd", "up-etc/passwd", "/rel-file", "/etc/../../../etc/passwd" };
	int fd;

	resolve_force_walk = walk;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		fd = resolve_in_root(rootfd, paths[i], RESOLVE_NO_CREATE, &err);
		if (fd < 0)
			fail_msg("%s: %s", paths[i], err->msg);
		content_of(fd, buf, sizeof(buf));
		assert_string_equal(buf, "inside");
		close(fd);
	}
	/* A symlink to a host path resolves inside the root; creating through it stays inside. */
	fd = resolve_in_root(rootfd, "/to-outside/vol", RESOLVE_CREATE_DIR, &err);
	if (fd < 0)
		fail_msg("%s", err->msg);
	real_path(fd, rp, sizeof(rp));
	assert_true(strncmp(rp, root, strlen(root)) == 0);
	close(fd);
	snprintf(rp, sizeof(rp), "%.4000s/vol", outside);
	assert_int_equal(access(rp, F_OK), -1);
	/* Loops end with an error, not a hang. */
	fd = resolve_in_root(rootfd, "/loop1/x", RESOLVE_NO_CREATE, &err);
	assert_int_equal(fd, -1);
	assert_non_null(err);
	berr_free(err);
	err = NULL;
	resolve_force_walk = false;
}

static void test_symlinks_stay_inside_openat2(void **state)
{
	(void) state;
	check_inside(false);
}

static void test_symlinks_stay_inside_walk(void **state)
{
	(void) state;
	check_inside(true);
}

static void test_create_file_and_dirs(void **state)
{
	struct berr *err = NULL;
	char p[PATH_MAX * 2];
	struct stat st;
	int fd;

	(void) state;
	for (int walk = 0; walk < 2; walk++) {
		resolve_force_walk = walk;
		fd = resolve_in_root(rootfd, walk ? "/w/a/b/file" : "/o/a/b/file", RESOLVE_CREATE_FILE, &err);
		if (fd < 0)
			fail_msg("%s", err->msg);
		close(fd);
		snprintf(p, sizeof(p), "%s/%s/a/b/file", root, walk ? "w" : "o");
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		/* A file in the way of a directory is an error. */
		fd = resolve_in_root(rootfd, "/etc/passwd/x", RESOLVE_CREATE_DIR, &err);
		assert_int_equal(fd, -1);
		berr_free(err);
		err = NULL;
	}
	resolve_force_walk = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symlinks_stay_inside_openat2),
		cmocka_unit_test(test_symlinks_stay_inside_walk),
		cmocka_unit_test(test_create_file_and_dirs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
