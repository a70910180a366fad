/* Unit tests for core/runtime/user.c: -u forms against fixture passwd and group files, the
 * supplementary groups Docker gives, --group-add, errors, and reading through a rootfs. */
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
#include "runtime/user.h"

static const char passwd[] =
	"root:x:0:0:root:/root:/bin/sh\n"
	"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
	"# a comment\n"
	"\n"
	"broken line without fields\n"
	"badnum:x:abc:1::/:/bin/sh\n"
	"+nis:x:0:0::/:/bin/sh\n"
	"alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
	"bob:x:1001:100::/home/bob:/bin/sh\n"
	"nohome:x:1002:1002:::\n"
	"2000:x:3000:3000::/home/num:/bin/sh\n"
	"short:x:1003:1003"; /* no home, no newline at the end */

static const char group[] =
	"root:x:0:\n"
	"users:x:100:alice,bob\n"
	"wheel:x:10:alice\n"
	"alice:x:1000:\n"
	"audio:x:29:bob,alice\n"
	"staff:x:50:\n"
	"bad:x:nope:alice\n"
	"alicex:x:77:alicexx,xalice\n";

static void resolve_ok(const char *spec, char **extra, size_t n_extra, struct user_ids *u)
{
	struct berr *err = NULL;

	if (user_resolve_buf(spec, passwd, strlen(passwd), group, strlen(group), extra, n_extra, u,
			     &err) < 0)
		fail_msg("`%s`: %s", spec, err->msg);
}

static void assert_groups(const struct user_ids *u, const uint32_t *want, size_t n)
{
	assert_int_equal(u->n_groups, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(u->groups[i], want[i]);
}

static void test_names_and_numbers(void **state)
{
	struct user_ids u;

	(void) state;
	/* No user: root, with root's entry. */
	resolve_ok("", NULL, 0, &u);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.name, "root");
	assert_string_equal(u.home, "/root");
	assert_int_equal(u.n_groups, 0);
	user_ids_free(&u);
	resolve_ok(NULL, NULL, 0, &u);
	assert_int_equal(u.uid, 0);
	user_ids_free(&u);

	resolve_ok("alice", NULL, 0, &u);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_string_equal(u.name, "alice");
	assert_string_equal(u.home, "/home/alice");
	assert_groups(&u, (uint32_t[]) { 100, 10, 29 }, 3); /* member lists, in file order */
	user_ids_free(&u);

	resolve_ok("1000", NULL, 0, &u); /* by uid: the same entry */
	assert_string_equal(u.name, "alice");
	assert_groups(&u, (uint32_t[]) { 100, 10, 29 }, 3);
	user_ids_free(&u);

	resolve_ok("bob", NULL, 0, &u);
	assert_int_equal(u.uid, 1001);
	assert_int_equal(u.gid, 100);
	assert_groups(&u, (uint32_t[]) { 100, 29 }, 2);
	user_ids_free(&u);

	/* A number nobody has: fine, gid 0, HOME=/. */
	resolve_ok("4242", NULL, 0, &u);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 0);
	assert_null(u.name);
	assert_string_equal(u.home, "/");
	assert_int_equal(u.n_groups, 0);
	user_ids_free(&u);

	/* Entries without a home get "/". */
	resolve_ok("nohome", NULL, 0, &u);
	assert_string_equal(u.home, "/");
	user_ids_free(&u);
	resolve_ok("short", NULL, 0, &u);
	assert_int_equal(u.uid, 1003);
	assert_string_equal(u.home, "/");
	user_ids_free(&u);

	/* A user named like a number: the first entry matching name or uid wins. */
	resolve_ok("2000", NULL, 0, &u);
	assert_int_equal(u.uid, 3000);
	assert_string_equal(u.home, "/home/num");
	user_ids_free(&u);

	/* "alice" is no member of "alicex" (whole names only). */
	resolve_ok("alice", NULL, 0, &u);
	for (size_t i = 0; i < u.n_groups; i++)
		assert_int_not_equal(u.groups[i], 77);
	user_ids_free(&u);
}

static void test_groups(void **state)
{
	struct user_ids u;

	(void) state;
	/* An explicit group replaces the primary one; no supplementary groups then. */
	resolve_ok("alice:staff", NULL, 0, &u);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 50);
	assert_int_equal(u.n_groups, 0);
	user_ids_free(&u);
	resolve_ok("alice:50", NULL, 0, &u);
	assert_int_equal(u.gid, 50);
	user_ids_free(&u);
	resolve_ok("1000:4242", NULL, 0, &u); /* unknown gid numbers are fine */
	assert_int_equal(u.gid, 4242);
	user_ids_free(&u);
	resolve_ok("4242:users", NULL, 0, &u);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 100);
	user_ids_free(&u);
	resolve_ok("bob:", NULL, 0, &u); /* an empty group is no group */
	assert_int_equal(u.gid, 100);
	assert_groups(&u, (uint32_t[]) { 100, 29 }, 2);
	user_ids_free(&u);

	/* --group-add, by name or number, without duplicates. */
	resolve_ok("alice:staff", (char *[]) { "audio", "4000", "audio" }, 3, &u);
	assert_int_equal(u.gid, 50);
	assert_groups(&u, (uint32_t[]) { 29, 4000 }, 2);
	user_ids_free(&u);
	resolve_ok("alice", (char *[]) { "wheel", "staff" }, 2, &u);
	assert_groups(&u, (uint32_t[]) { 100, 10, 29, 50 }, 4);
	user_ids_free(&u);
}

static void resolve_fails(const char *spec, char **extra, size_t n_extra, const char *want,
			  int status)
{
	struct berr *err = NULL;
	struct user_ids u;

	assert_int_equal(user_resolve_buf(spec, passwd, strlen(passwd), group, strlen(group),
					  extra, n_extra, &u, &err), -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL)
		fail_msg("`%s`: `%s` does not say `%s`", spec, err->msg, want);
	assert_int_equal(err->status, status);
	assert_null(u.groups);
	assert_null(u.name);
	assert_null(u.home);
	berr_free(err);
}

static void test_errors(void **state)
{
	struct berr *err = NULL;
	struct user_ids u;

	(void) state;
	resolve_fails("nobody", NULL, 0,
		      "unable to find user nobody: no matching entries in passwd file", EXIT_BERTH);
	resolve_fails("nobody:users", NULL, 0, "unable to find user nobody", EXIT_BERTH);
	resolve_fails("alice:nogroup", NULL, 0,
		      "unable to find group nogroup: no matching entries in group file", EXIT_BERTH);
	resolve_fails("alice", (char *[]) { "nosuch" }, 1, "unable to find group nosuch",
		      EXIT_BERTH);
	resolve_fails("a:b:c", NULL, 0, "expected user[:group]", EXIT_USAGE);
	resolve_fails("99999999999", NULL, 0, "range 0-2147483647", EXIT_USAGE);
	resolve_fails("2147483648", NULL, 0, "range", EXIT_USAGE);
	resolve_fails("alice:2147483648", NULL, 0, "range", EXIT_USAGE);
	resolve_fails("badnum", NULL, 0, "unable to find user badnum", EXIT_BERTH);
	resolve_fails("nis", NULL, 0, "unable to find user nis", EXIT_BERTH);

	/* Without the files: numbers work, names do not. */
	assert_int_equal(user_resolve_buf("0", NULL, 0, NULL, 0, NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 0);
	assert_string_equal(u.home, "/root");
	user_ids_free(&u);
	assert_int_equal(user_resolve_buf("2147483647:7", NULL, 0, NULL, 0, NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 2147483647u);
	assert_int_equal(u.gid, 7);
	user_ids_free(&u);
	assert_int_equal(user_resolve_buf("alice", NULL, 0, NULL, 0, NULL, 0, &u, &err), -1);
	assert_non_null(strstr(err->msg, "no matching entries in passwd file"));
	berr_free(err);
	err = NULL;
	assert_int_equal(user_resolve_buf("0:wheel", passwd, strlen(passwd), NULL, 0, NULL, 0, &u,
					  &err), -1);
	assert_non_null(strstr(err->msg, "unable to find group wheel"));
	berr_free(err);
}

/* Through a rootfs whose /etc is an absolute symlink. */
static void test_in_root(void **state)
{
	char tmp[] = "/tmp/berth-test-user.XXXXXX", path[PATH_MAX];
	struct berr *err = NULL;
	struct user_ids u;
	int rootfd, fd;

	(void) state;
	assert_non_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/real", tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc", tmp);
	assert_int_equal(symlink("/real", path), 0);
	snprintf(path, sizeof(path), "%s/real/passwd", tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, passwd, strlen(passwd)), (ssize_t) strlen(passwd));
	close(fd);
	rootfd = open(tmp, O_PATH | O_DIRECTORY);
	assert_true(rootfd >= 0);

	/* No group file: fine, no supplementary groups. */
	assert_int_equal(user_resolve(rootfd, "bob", NULL, 0, &u, &err), 0);
	assert_int_equal(u.uid, 1001);
	assert_int_equal(u.gid, 100);
	assert_int_equal(u.n_groups, 0);
	user_ids_free(&u);

	snprintf(path, sizeof(path), "%s/real/group", tmp);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, group, strlen(group)), (ssize_t) strlen(group));
	close(fd);
	assert_int_equal(user_resolve(rootfd, "alice", (char *[]) { "staff" }, 1, &u, &err), 0);
	assert_groups(&u, (uint32_t[]) { 100, 10, 29, 50 }, 4);
	user_ids_free(&u);
	assert_int_equal(user_resolve(rootfd, "mallory", NULL, 0, &u, &err), -1);
	assert_non_null(strstr(err->msg, "unable to find user mallory"));
	berr_free(err);
	err = NULL;

	/* A passwd that is a directory is an error, not "no such user". */
	snprintf(path, sizeof(path), "%s/real/passwd", tmp);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(user_resolve(rootfd, "alice", NULL, 0, &u, &err), -1);
	assert_non_null(strstr(err->msg, "not a regular file"));
	berr_free(err);
	err = NULL;

	close(rootfd);
	assert_int_equal(fs_rm_rf(tmp, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_numbers),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_in_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
