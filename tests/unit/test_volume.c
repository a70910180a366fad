/* Unit tests for core/runtime/volume.c in a mkdtemp data root: names, create (idempotent,
 * anonymous, labels), list and inspect, in-use refusal through container records, prune,
 * the copy-up from a fixture image directory (modes, owners, symlinks, hard links, fifos,
 * xattrs, times; once only; never over data) and repair after a power cut. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "runtime/record.h"
#include "runtime/volume.h"

static char root[64];
static char image[128]; /* a fixture image root, outside the data root */

static int setup(void **state)
{
	(void) state;
	snprintf(root, sizeof(root), "/tmp/berth-test-volume.XXXXXX");
	if (mkdtemp(root) == NULL || paths_init(root, "/run/berth-test-volume") < 0)
		return -1;
	snprintf(image, sizeof(image), "%s-image", root);
	return mkdir(image, 0755);
}

static int teardown(void **state)
{
	struct berr *err = NULL;
	int ret = 0;

	(void) state;
	if (fs_rm_rf(root, &err) < 0 || fs_rm_rf(image, &err) < 0) {
		fprintf(stderr, "teardown: %s\n", err->msg);
		berr_free(err);
		ret = -1;
	}
	return ret;
}

static void in_image(char *buf, const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/%s", image, rel);
}

static void put(const char *rel, const char *data, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	in_image(p, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t) strlen(data));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* A record mounting volume `name`, optionally "running" with a live child's pid. */
static void use_volume(const char *cname, const char *vname, pid_t running)
{
	struct rec_config c = { 0 };
	struct berr *err = NULL;

	snprintf(c.name, sizeof(c.name), "%s", cname);
	c.image = strdup("busybox");
	c.mounts = calloc(1, sizeof(*c.mounts));
	c.mounts[0].type = REC_MOUNT_VOLUME;
	c.mounts[0].name = strdup(vname);
	c.mounts[0].destination = strdup("/data");
	c.n_mounts = 1;
	assert_int_equal(rec_create(&c, &err), 0);
	if (running > 0) {
		struct rec_state st = { 0 };
		assert_int_equal(rec_state_set_running(&st, running, &err), 0);
		assert_int_equal(rec_save_state(c.id, &st, &err), 0);
		rec_state_free(&st);
	}
	rec_config_free(&c);
}

static bool exists(const char *name)
{
	struct vol_info v;
	struct berr *err = NULL;
	bool ok = vol_inspect(name, &v, &err) == 0;

	if (ok)
		vol_info_free(&v);
	berr_free(err);
	return ok;
}

static void test_names(void **state)
{
	char big[VOL_NAME_MAX + 2];

	(void) state;
	assert_true(vol_name_valid("my-finance-data"));
	assert_true(vol_name_valid("a.b_c-1"));
	assert_true(vol_name_valid("ab"));
	assert_false(vol_name_valid("a"));
	assert_false(vol_name_valid(""));
	assert_false(vol_name_valid(".."));
	assert_false(vol_name_valid("_x"));
	assert_false(vol_name_valid("a/b"));
	assert_false(vol_name_valid("a b"));
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(vol_name_valid(big));
}

static void test_create_inspect_list(void **state)
{
	struct vol_label labels[] = { { (char *) "app", (char *) "finance" }, { (char *) "tier", (char *) "" } };
	struct vol_info v, anon;
	struct vol_list l;
	struct berr *err = NULL;
	char path[PATH_MAX], expect[PATH_MAX];
	struct stat sb;
	bool created;

	(void) state;
	assert_int_equal(vol_create("my-finance-data", labels, 2, &v, &created, &err), 0);
	assert_true(created);
	assert_string_equal(v.name, "my-finance-data");
	assert_false(v.anonymous);
	assert_false(v.populated);
	assert_null(v.problem);
	assert_int_equal(v.n_labels, 2);
	assert_true(v.created > 0);
	vol_info_free(&v);
	/* Idempotent: the existing volume, its labels kept. */
	assert_int_equal(vol_create("my-finance-data", NULL, 0, &v, &created, &err), 0);
	assert_false(created);
	assert_int_equal(v.n_labels, 2);
	vol_info_free(&v);
	assert_int_equal(vol_path("my-finance-data", path, sizeof(path), &err), 0);
	snprintf(expect, sizeof(expect), "%s/volumes/my-finance-data/_data", root);
	assert_string_equal(path, expect);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));

	assert_int_equal(vol_create(NULL, NULL, 0, &anon, &created, &err), 0);
	assert_true(created);
	assert_true(anon.anonymous);
	assert_true(rec_id_valid(anon.name));

	assert_int_equal(vol_create("bad/name", NULL, 0, NULL, NULL, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
	err = NULL;
	assert_int_equal(vol_inspect("nosuch", &v, &err), -1);
	assert_int_equal(err->status, EXIT_FAILED);
	assert_non_null(strstr(err->msg, "No such volume: nosuch"));
	berr_free(err);
	err = NULL;

	assert_int_equal(vol_list_load(&l, &err), 0);
	assert_int_equal(l.n, 2);
	/* Sorted by name: hex digits sort before letters... or not; check both are there. */
	assert_true(strcmp(l.v[0].name, l.v[1].name) < 0);
	assert_true(strcmp(l.v[0].name, anon.name) == 0 || strcmp(l.v[1].name, anon.name) == 0);
	vol_list_free(&l);
	vol_info_free(&anon);

	/* A meta.json cut short: the volume still lists, with the problem said. */
	assert_int_equal(paths_volume_file(path, sizeof(path), "my-finance-data", "meta.json"), 0);
	assert_int_equal(truncate(path, 5), 0);
	assert_int_equal(vol_inspect("my-finance-data", &v, &err), 0);
	assert_non_null(v.problem);
	assert_non_null(strstr(v.problem, "meta.json"));
	vol_info_free(&v);
}

static void test_in_use(void **state)
{
	struct berr *err = NULL;
	char **ids;
	size_t n;
	int p[2], status;
	pid_t pid;

	(void) state;
	assert_int_equal(vol_create("shared", NULL, 0, NULL, NULL, &err), 0);
	use_volume("stopped", "shared", 0);
	assert_int_equal(vol_users("shared", &ids, &n, &err), 0);
	assert_int_equal(n, 1);
	vol_ids_free(ids, n);
	assert_int_equal(vol_remove("shared", false, NULL, &err), -1);
	assert_int_equal(err->status, EXIT_FAILED);
	assert_non_null(strstr(err->msg, "in use"));
	berr_free(err);
	err = NULL;
	assert_true(exists("shared"));

	/* A running user: refused even forced. */
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		char c;
		close(p[1]);
		(void) !read(p[0], &c, 1);
		_exit(0);
	}
	close(p[0]);
	assert_int_equal(vol_create("live", NULL, 0, NULL, NULL, &err), 0);
	use_volume("runner", "live", pid);
	assert_int_equal(vol_remove("live", true, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "running"));
	berr_free(err);
	err = NULL;
	close(p[1]);
	waitpid(pid, &status, 0);

	/* Forced, a stopped user does not keep it. */
	assert_int_equal(vol_remove("shared", true, NULL, &err), 0);
	assert_false(exists("shared"));
	/* Missing: an error, unless forced. */
	assert_int_equal(vol_remove("shared", false, NULL, &err), -1);
	assert_int_equal(err->status, EXIT_FAILED);
	berr_free(err);
	err = NULL;
	assert_int_equal(vol_remove("shared", true, NULL, &err), 0);
}

static void count(void *data, const char *name, uint64_t size)
{
	(void) name;
	(void) size;
	(*(int *) data)++;
}

static void test_prune(void **state)
{
	struct vol_info a1, a2;
	struct berr *err = NULL;
	uint64_t reclaimed;
	char path[PATH_MAX + 16];
	int n = 0;
	FILE *f;

	(void) state;
	assert_int_equal(vol_create(NULL, NULL, 0, &a1, NULL, &err), 0);
	assert_int_equal(vol_create(NULL, NULL, 0, &a2, NULL, &err), 0);
	assert_int_equal(vol_create("named", NULL, 0, NULL, NULL, &err), 0);
	assert_int_equal(vol_create("named-used", NULL, 0, NULL, NULL, &err), 0);
	use_volume("c1", a2.name, 0);
	use_volume("c2", "named-used", 0);
	assert_int_equal(vol_path(a1.name, path, sizeof(path), &err), 0);
	strcat(path, "/f");
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("12345", f);
	fclose(f);

	/* Default: unused anonymous volumes only. */
	assert_int_equal(vol_prune(false, count, &n, &reclaimed, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(reclaimed, 5);
	assert_false(exists(a1.name));
	assert_true(exists(a2.name));
	assert_true(exists("named"));
	/* -a: named ones too, never one in use. */
	n = 0;
	assert_int_equal(vol_prune(true, count, &n, &reclaimed, &err), 0);
	assert_int_equal(n, 1);
	assert_false(exists("named"));
	assert_true(exists("named-used"));
	assert_true(exists(a2.name));
	vol_info_free(&a1);
	vol_info_free(&a2);
}

/* The fixture image: etc/finance with a file, a subdirectory, a symlink, a hard link, a
 * fifo, odd modes, an owner and an xattr. */
static bool make_image(bool *have_xattr)
{
	char p[PATH_MAX], q[PATH_MAX];
	struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	in_image(p, "etc");
	assert_int_equal(mkdir(p, 0755), 0);
	in_image(p, "etc/finance");
	assert_int_equal(mkdir(p, 0750), 0);
	assert_int_equal(chmod(p, 0750), 0);
	put("etc/finance/config.ini", "[db]\nhost=db\n", 0640);
	in_image(p, "etc/finance/sub");
	assert_int_equal(mkdir(p, 0700), 0);
	put("etc/finance/sub/tool", "#!/bin/sh\n", 04755);
	in_image(p, "etc/finance/link");
	assert_int_equal(symlink("config.ini", p), 0);
	in_image(p, "etc/finance/config.ini");
	in_image(q, "etc/finance/hard");
	assert_int_equal(link(p, q), 0);
	in_image(p, "etc/finance/pipe");
	assert_int_equal(mkfifo(p, 0620), 0);
	assert_int_equal(chmod(p, 0620), 0); /* past the umask */
	in_image(p, "etc/finance/config.ini");
	*have_xattr = setxattr(p, "user.berth.test", "yes", 3, 0) == 0;
	if (geteuid() == 0) {
		in_image(p, "etc/finance/sub/tool");
		assert_int_equal(chown(p, 1234, 5678), 0);
		/* chown cleared the setuid bit. */
		assert_int_equal(chmod(p, 04755), 0);
		in_image(p, "etc/finance");
		assert_int_equal(chown(p, 1000, 1000), 0);
	}
	in_image(p, "etc/finance/config.ini");
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
	/* A symlink in the path inside the image resolves inside it. */
	in_image(p, "finance-link");
	assert_int_equal(symlink("/etc/finance", p), 0);
	return true;
}

static void vol_file(char *buf, const char *vol, const char *rel)
{
	char data[PATH_MAX];
	struct berr *err = NULL;

	assert_int_equal(vol_path(vol, data, sizeof(data), &err), 0);
	snprintf(buf, PATH_MAX, "%.3000s/%s", data, rel);
}

static void test_populate(void **state)
{
	char p[PATH_MAX], q[PATH_MAX], buf[64];
	struct berr *err = NULL;
	struct stat a, b;
	struct vol_info v;
	bool have_xattr;
	int rootfd;
	ssize_t n;

	(void) state;
	make_image(&have_xattr);
	rootfd = open(image, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	assert_int_equal(vol_create("my-finance-data", NULL, 0, NULL, NULL, &err), 0);
	if (vol_populate("my-finance-data", rootfd, "/finance-link", &err) < 0)
		fail_msg("%s", err->msg);

	vol_file(p, "my-finance-data", "config.ini");
	assert_int_equal(lstat(p, &a), 0);
	assert_int_equal(a.st_mode & 07777, 0640);
	assert_int_equal(a.st_mtim.tv_sec, 1000000000);
	if (have_xattr) {
		n = getxattr(p, "user.berth.test", buf, sizeof(buf));
		assert_int_equal(n, 3);
		assert_memory_equal(buf, "yes", 3);
	}
	vol_file(q, "my-finance-data", "hard");
	assert_int_equal(lstat(q, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	vol_file(p, "my-finance-data", "link");
	n = readlink(p, buf, sizeof(buf) - 1);
	assert_int_equal(n, 10);
	buf[n] = '\0';
	assert_string_equal(buf, "config.ini");
	vol_file(p, "my-finance-data", "pipe");
	assert_int_equal(lstat(p, &a), 0);
	assert_true(S_ISFIFO(a.st_mode));
	assert_int_equal(a.st_mode & 07777, 0620);
	vol_file(p, "my-finance-data", "sub");
	assert_int_equal(lstat(p, &a), 0);
	assert_int_equal(a.st_mode & 07777, 0700);
	vol_file(p, "my-finance-data", "sub/tool");
	assert_int_equal(lstat(p, &a), 0);
	assert_int_equal(a.st_mode & 07777, 04755);
	/* The volume's root takes the image directory's mode (and owner). */
	vol_file(p, "my-finance-data", "");
	assert_int_equal(stat(p, &b), 0);
	assert_int_equal(b.st_mode & 07777, 0750);
	if (geteuid() == 0) {
		assert_int_equal(a.st_uid, 1234);
		assert_int_equal(a.st_gid, 5678);
		assert_int_equal(b.st_uid, 1000);
	}
	assert_int_equal(vol_inspect("my-finance-data", &v, &err), 0);
	assert_true(v.populated);
	vol_info_free(&v);

	/* Once only: data the container deleted does not come back. */
	vol_file(p, "my-finance-data", "config.ini");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(vol_populate("my-finance-data", rootfd, "/etc/finance", &err), 0);
	assert_int_equal(lstat(p, &a), -1);

	/* A volume that already holds data is never written over. */
	assert_int_equal(vol_create("full", NULL, 0, NULL, NULL, &err), 0);
	vol_file(p, "full", "mine");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(vol_populate("full", rootfd, "/etc/finance", &err), 0);
	vol_file(p, "full", "config.ini");
	assert_int_equal(lstat(p, &a), -1);
	assert_int_equal(vol_inspect("full", &v, &err), 0);
	assert_true(v.populated);
	vol_info_free(&v);

	/* Nothing at the path in the image: nothing copied, marked done. */
	assert_int_equal(vol_create("empty", NULL, 0, NULL, NULL, &err), 0);
	assert_int_equal(vol_populate("empty", rootfd, "/no/such/dir", &err), 0);
	assert_int_equal(vol_inspect("empty", &v, &err), 0);
	assert_true(v.populated);
	vol_info_free(&v);
	close(rootfd);
}

/* A power cut in the middle of a copy leaves _data empty and _data.tmp half full: the next
 * attempt (or the startup repair) starts over. */
static void test_populate_after_power_cut(void **state)
{
	char p[PATH_MAX], dir[PATH_MAX];
	struct berr *err = NULL;
	struct stat a;
	bool have_xattr;
	int rootfd;

	(void) state;
	make_image(&have_xattr);
	rootfd = open(image, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	assert_int_equal(vol_create("v1", NULL, 0, NULL, NULL, &err), 0);
	assert_int_equal(paths_volume_file(dir, sizeof(dir), "v1", "_data.tmp"), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(p, sizeof(p), "%.4000s/half", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(vol_populate("v1", rootfd, "/etc/finance", &err), 0);
	vol_file(p, "v1", "config.ini");
	assert_int_equal(lstat(p, &a), 0);
	vol_file(p, "v1", "half");
	assert_int_equal(lstat(p, &a), -1);
	assert_int_equal(lstat(dir, &a), -1);

	assert_int_equal(vol_create("v2", NULL, 0, NULL, NULL, &err), 0);
	assert_int_equal(paths_volume_file(dir, sizeof(dir), "v2", "_data.tmp"), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(paths_volume_file(p, sizeof(p), "v2", "meta.json.tmp.99"), 0);
	assert_int_equal(close(open(p, O_WRONLY | O_CREAT, 0600)), 0);
	assert_int_equal(vol_repair(&err), 0);
	assert_int_equal(lstat(dir, &a), -1);
	assert_int_equal(lstat(p, &a), -1);
	assert_true(exists("v2"));
	close(rootfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_create_inspect_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_populate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_populate_after_power_cut, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
