/* Unit tests for core/runtime/device.c: --device's syntax as Docker reads it, errors naming
 * the value, the host node read through symlinks, the cgroup rule, and the node made inside
 * a root without leaving it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/err.h"
#include "runtime/cgroup.h"
#include "runtime/device.h"

static void parse_ok(const char *spec, const char *host, const char *path, const char *perms)
{
	struct dev_node d;
	struct berr *err = NULL;

	if (dev_parse(spec, &d, &err) < 0)
		fail_msg("`%s`: %s", spec, err->msg);
	assert_string_equal(d.host, host);
	assert_string_equal(d.path, path);
	assert_string_equal(d.perms, perms);
	dev_free(&d);
}

static void parse_bad(const char *spec, const char *want)
{
	struct dev_node d;
	struct berr *err = NULL;

	assert_int_equal(dev_parse(spec, &d, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	if (strstr(err->msg, want) == NULL)
		fail_msg("`%s`: `%s` does not say `%s`", spec, err->msg, want);
	berr_free(err);
}

static void test_parse(void **state)
{
	(void) state;
	parse_ok("/dev/sdc", "/dev/sdc", "/dev/sdc", "rwm");
	parse_ok("/dev/sdc:/dev/xvdc", "/dev/sdc", "/dev/xvdc", "rwm");
	parse_ok("/dev/sdc:/dev/xvdc:r", "/dev/sdc", "/dev/xvdc", "r");
	/* The second field is permissions when it reads as such, as Docker decides. */
	parse_ok("/dev/sdc:rw", "/dev/sdc", "/dev/sdc", "rw");
	parse_ok("/dev/sdc:mr", "/dev/sdc", "/dev/sdc", "rm");
	parse_ok("/dev/sdc:/dev/xvdc:mwr", "/dev/sdc", "/dev/xvdc", "rwm");
	/* The container path is cleaned. */
	parse_ok("/dev/sdc://dev/./x/../xvdc/", "/dev/sdc", "/dev/xvdc", "rwm");
	parse_ok("/dev/sdc:/../../dev/y", "/dev/sdc", "/dev/y", "rwm");
}

static void test_parse_errors(void **state)
{
	(void) state;
	parse_bad("dev/sdc", "`dev/sdc` must be absolute");
	parse_bad("", "must be absolute");
	parse_bad("/dev/sdc:dev/x", "`dev/x` must be absolute");
	parse_bad("/dev/sdc:/dev/x:rwx", "bad permissions `rwx`");
	parse_bad("/dev/sdc:/dev/x:rr", "bad permissions `rr`");
	parse_bad("/dev/sdc:/dev/x:", "bad permissions ``");
	parse_bad("/dev/sdc:/dev/x:rwmr", "bad permissions");
	parse_bad("/dev/sdc:/dev/x:r:w", "HOST[:CONTAINER][:PERMISSIONS]");
	parse_bad("/dev/sdc:/", "cannot be /");
	parse_bad("/dev/sdc:/..", "cannot be /");
	parse_bad("/dev/sdc:", "`` must be absolute");
}

static void test_stat(void **state)
{
	char dir[] = "/tmp/berth-test-device.XXXXXX", file[64], link[64];
	struct dev_node d;
	struct berr *err = NULL;
	struct cg_device rule;
	struct stat st;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/file", dir);
	snprintf(link, sizeof(link), "%s/null", dir);
	assert_int_equal(symlink("/dev/null", link), 0);
	close(open(file, O_WRONLY | O_CREAT, 0644));
	assert_int_equal(stat("/dev/null", &st), 0);

	/* Through a symlink, as /dev/serial/by-id/... are. */
	assert_int_equal(dev_parse(link, &d, &err), 0);
	strcpy(d.perms, "rw");
	assert_int_equal(dev_stat(&d, &err), 0);
	assert_true(S_ISCHR(d.mode));
	assert_int_equal(d.rdev, st.st_rdev);
	assert_int_equal(d.mode & 07777, st.st_mode & 07777);
	assert_int_equal(d.uid, st.st_uid);
	dev_cg_rule(&d, &rule);
	assert_int_equal(rule.type, 'c');
	assert_int_equal(rule.major, 1);
	assert_int_equal(rule.minor, 3);
	assert_string_equal(rule.access, "rw");
	dev_free(&d);

	assert_int_equal(dev_from_spec(file, &d, &err), -1);
	assert_int_equal(err->status, EXIT_BERTH);
	assert_non_null(strstr(err->msg, "not a device node"));
	berr_free(err);
	err = NULL;
	assert_int_equal(dev_from_spec("/nonexistent/ttyUSB9", &d, &err), -1);
	assert_non_null(strstr(err->msg, "`/nonexistent/ttyUSB9`: no such device"));
	berr_free(err);

	unlink(file);
	unlink(link);
	rmdir(dir);
}

/* As root: the node is made inside the root, parents too; a symlink in the root that points
 * out of it is followed inside it; something else at the path is refused. */
static void test_create_in_root(void **state)
{
	char dir[] = "/tmp/berth-test-device.XXXXXX", p[128];
	struct dev_node d = { 0 };
	struct berr *err = NULL;
	struct stat st;
	int rootfd;

	(void) state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(rootfd >= 0);
	snprintf(p, sizeof(p), "%s/etc", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/escape", dir);
	assert_int_equal(symlink("/tmp", p), 0); /* in the root, /tmp means <root>/tmp */

	d.path = (char *) "/escape/sub/x";
	d.mode = S_IFCHR | 0620;
	d.rdev = makedev(1, 3);
	d.uid = 1000;
	d.gid = 50;
	assert_int_equal(dev_create_in_root(rootfd, &d, &err), 0);
	snprintf(p, sizeof(p), "%s/tmp/sub/x", dir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
	assert_int_equal(st.st_mode & 07777, 0620);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 50);
	assert_int_equal(access("/tmp/sub/x", F_OK), -1);

	/* A node there is replaced. */
	d.rdev = makedev(1, 5);
	assert_int_equal(dev_create_in_root(rootfd, &d, &err), 0);
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_rdev, makedev(1, 5));

	/* A directory there is not. */
	d.path = (char *) "/etc";
	assert_int_equal(dev_create_in_root(rootfd, &d, &err), -1);
	assert_non_null(strstr(err->msg, "not a device node"));
	berr_free(err);

	close(rootfd);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* As root: a directory gives its nodes, with the container path mapped; a file does not. */
static void test_expand_dir(void **state)
{
	char dir[] = "/tmp/berth-test-device.XXXXXX", p[128], spec[160];
	struct dev_node *v = NULL;
	struct berr *err = NULL;
	size_t n = 0;

	(void) state;
	if (geteuid() != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sub/n", dir);
	assert_int_equal(mknod(p, S_IFBLK | 0600, makedev(7, 9)), 0);
	snprintf(p, sizeof(p), "%s/file", dir);
	close(open(p, O_WRONLY | O_CREAT, 0644));
	snprintf(spec, sizeof(spec), "%s:/dev/d:r", dir);
	assert_int_equal(dev_expand(spec, &v, &n, 10, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(v[0].path, "/dev/d/sub/n");
	assert_string_equal(v[0].perms, "r");
	assert_true(S_ISBLK(v[0].mode));
	assert_int_equal(v[0].rdev, makedev(7, 9));
	/* The limit counts every node. */
	assert_int_equal(dev_expand(spec, &v, &n, 1, &err), -1);
	assert_non_null(strstr(err->msg, "more than 1 devices"));
	berr_free(err);
	for (size_t i = 0; i < n; i++)
		dev_free(&v[i]);
	free(v);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_stat),
		cmocka_unit_test(test_create_in_root),
		cmocka_unit_test(test_expand_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
