/* Unit tests for core/image/store.c in a mkdtemp data root: blobs put, read back, verified
 * and removed; mismatches leave nothing behind; refs.json round-trips and refuses corruption. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "image/store.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fixture {
	char root[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct berr *err = NULL;

	if (f == NULL)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/berth-test-store.XXXXXX");
	if (mkdtemp(f->root) == NULL || paths_init(f->root, "/run/berth-test") < 0 ||
	    store_init(&err) < 0) {
		berr_free(err);
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
	int ret = fs_rm_rf(f->root, &err);

	berr_free(err);
	free(f);
	return ret;
}

/* Entries in a directory under the root, "." and ".." not counted. */
static int count_entries(const char *sub)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", paths_root(), sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void digest_of(const char *hex, struct digest *d)
{
	assert_int_equal(digest_parse_hex(hex, d, NULL), 0);
}

static void test_put_get(void **state)
{
	struct berr *err = NULL;
	struct digest d, want;
	char *data = NULL;
	size_t len = 0;
	uint64_t size = 0;
	char path[PATH_MAX];
	struct stat st;

	(void) state;
	digest_of(ABC, &want);
	assert_false(store_exists(&want));
	assert_int_equal(store_stat(&want, &size, &err), 0);
	assert_int_equal(store_put("abc", 3, NULL, &d, &err), 0);
	assert_true(digest_equal(&d, &want));
	assert_true(store_exists(&want));
	assert_int_equal(store_stat(&want, &size, &err), 1);
	assert_int_equal(size, 3);
	assert_int_equal(store_blob_path(&d, path, sizeof(path), &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	assert_int_equal(store_get(&d, 1024, &data, &len, &err), 0);
	assert_int_equal(len, 3);
	assert_string_equal(data, "abc");
	free(data);

	/* The bound is enforced. */
	assert_int_equal(store_get(&d, 2, &data, &len, &err), -1);
	assert_null(data);
	assert_int_equal(err->errcode, EFBIG);
	berr_free(err);
	err = NULL;

	/* Putting it again with the right expected digest is fine. */
	assert_int_equal(store_put("abc", 3, &want, NULL, &err), 0);
	assert_int_equal(count_entries("tmp"), 0);
	assert_int_equal(count_entries("blobs/sha256"), 1);

	assert_int_equal(store_delete(&d, &err), 0);
	assert_false(store_exists(&d));
	assert_int_equal(store_delete(&d, &err), 0); /* missing is fine */
	assert_int_equal(store_get(&d, 1024, &data, &len, &err), -1);
	assert_int_equal(err->errcode, ENOENT);
	berr_free(err);
}

static void test_mismatch_leaves_nothing(void **state)
{
	struct berr *err = NULL;
	struct digest want, d;

	(void) state;
	digest_of(EMPTY, &want);
	assert_int_equal(store_put("abc", 3, &want, &d, &err), -1);
	assert_non_null(strstr(err->msg, "digest mismatch: expected sha256:" EMPTY
					 ", got sha256:" ABC));
	berr_free(err);
	err = NULL;
	assert_int_equal(count_entries("tmp"), 0);
	assert_int_equal(count_entries("blobs/sha256"), 0);
}

static void test_writer(void **state)
{
	struct store_writer *w = NULL;
	struct berr *err = NULL;
	struct digest want, d;

	(void) state;
	digest_of(ABC, &want);
	/* In pieces, with digest and size. */
	assert_int_equal(store_writer_open(&want, 3, &w, &err), 0);
	assert_int_equal(count_entries("tmp"), 1);
	assert_int_equal(store_writer_write(w, "a", 1, &err), 0);
	assert_int_equal(store_writer_write(w, "bc", 2, &err), 0);
	assert_int_equal(store_writer_commit(w, &d, &err), 0);
	assert_true(digest_equal(&d, &want));
	assert_int_equal(count_entries("tmp"), 0);
	assert_int_equal(store_delete(&d, &err), 0);

	/* More bytes than announced are refused at once. */
	assert_int_equal(store_writer_open(&want, 2, &w, &err), 0);
	assert_int_equal(store_writer_write(w, "abc", 3, &err), -1);
	assert_non_null(strstr(err->msg, "larger than the expected 2 bytes"));
	berr_free(err);
	err = NULL;
	store_writer_abort(w);
	assert_int_equal(count_entries("tmp"), 0);

	/* Fewer bytes than announced fail the commit. */
	assert_int_equal(store_writer_open(NULL, 4, &w, &err), 0);
	assert_int_equal(store_writer_write(w, "abc", 3, &err), 0);
	assert_int_equal(store_writer_commit(w, &d, &err), -1);
	assert_non_null(strstr(err->msg, "size mismatch: expected 4 bytes, got 3"));
	berr_free(err);
	err = NULL;
	assert_int_equal(count_entries("tmp"), 0);
	assert_int_equal(count_entries("blobs/sha256"), 0);

	store_writer_abort(NULL);
}

static void test_put_file(void **state)
{
	struct berr *err = NULL;
	char path[PATH_MAX];
	struct digest want, d;

	(void) state;
	digest_of(ABC, &want);
	assert_int_equal(paths_partial(path, sizeof(path), ABC), 0);
	assert_int_equal(fs_write_atomic(path, "abc", 3, 0600, &err), 0);
	assert_int_equal(store_put_file(path, &want, 3, &d, &err), 0);
	assert_true(store_exists(&want));
	assert_int_equal(access(path, F_OK), -1);

	assert_int_equal(fs_write_atomic(path, "abd", 3, 0600, &err), 0);
	assert_int_equal(store_delete(&want, &err), 0);
	assert_int_equal(store_put_file(path, &want, 3, &d, &err), -1);
	assert_non_null(strstr(err->msg, "digest mismatch"));
	berr_free(err);
	assert_int_equal(access(path, F_OK), -1); /* removed */
	assert_false(store_exists(&want));
}

static void test_corrupt_blob(void **state)
{
	struct berr *err = NULL;
	char path[PATH_MAX], *data = NULL;
	struct digest d;
	int fd;

	(void) state;
	assert_int_equal(store_put("abc", 3, NULL, &d, &err), 0);
	assert_int_equal(store_blob_path(&d, path, sizeof(path), &err), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(store_get(&d, 1024, &data, NULL, &err), -1);
	assert_non_null(strstr(err->msg, "is corrupt"));
	assert_null(data);
	berr_free(err);
}

static void test_list(void **state)
{
	struct berr *err = NULL;
	struct digest *v = NULL, d;
	size_t n = 99;
	char path[PATH_MAX];

	(void) state;
	assert_int_equal(store_list(&v, &n, &err), 0);
	assert_int_equal(n, 0);
	free(v);
	assert_int_equal(store_put("abc", 3, NULL, &d, &err), 0);
	assert_int_equal(store_put("", 0, NULL, &d, &err), 0);
	/* Junk under blobs/ is not listed. */
	snprintf(path, sizeof(path), "%s/blobs/sha256/junk", paths_root());
	assert_int_equal(fs_write_atomic(path, "", 0, 0600, &err), 0);
	assert_int_equal(store_list(&v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].hex, ABC); /* sorted */
	assert_string_equal(v[1].hex, EMPTY);
	free(v);

	/* Invalid digests never become paths. */
	struct digest bad;
	memset(&bad, 0, sizeof(bad));
	strcpy(bad.hex, "../../etc/passwd");
	assert_int_equal(store_get(&bad, 10, (char **) &v, NULL, &err), -1);
	berr_free(err);
	err = NULL;
	assert_int_equal(store_stat(&bad, NULL, &err), -1);
	berr_free(err);
	err = NULL;
	assert_int_equal(store_writer_open(&bad, -1, (struct store_writer **) &v, &err), -1);
	berr_free(err);
}

static void test_refs_round_trip(void **state)
{
	struct store_refs refs = { 0 }, again = { 0 };
	const struct store_ref *r;
	struct berr *err = NULL;
	struct digest a, b;

	(void) state;
	digest_of(ABC, &a);
	digest_of(EMPTY, &b);
	/* A missing refs.json is an empty set. */
	assert_int_equal(store_refs_load(&refs, &err), 0);
	assert_int_equal(refs.n, 0);

	assert_int_equal(store_refs_set(&refs, "docker.io/library/nginx:latest", &a, 1700000000,
					&err), 0);
	assert_int_equal(store_refs_set(&refs, "192.168.1.103:5000/nginx:version1.1.test", &b, -1,
					&err), 0);
	assert_int_equal(store_refs_set(&refs, "docker.io/hbliti/nginx:version1.0.test", &a, 5,
					&err), 0);
	assert_int_equal(refs.n, 3);
	/* Replacing keeps the count. */
	assert_int_equal(store_refs_set(&refs, "docker.io/library/nginx:latest", &b, 1700000001,
					&err), 0);
	assert_int_equal(refs.n, 3);
	assert_int_equal(store_refs_save(&refs, &err), 0);
	assert_int_equal(count_entries(""), 3); /* blobs, tmp, refs.json: no tmp file left */

	assert_int_equal(store_refs_load(&again, &err), 0);
	assert_int_equal(again.n, 3);
	r = store_refs_lookup(&again, "docker.io/library/nginx:latest");
	assert_non_null(r);
	assert_true(digest_equal(&r->digest, &b));
	assert_int_equal(r->created, 1700000001);
	r = store_refs_lookup(&again, "192.168.1.103:5000/nginx:version1.1.test");
	assert_non_null(r);
	assert_true(r->created > 1700000000);
	assert_null(store_refs_lookup(&again, "docker.io/library/nginx:1"));
	/* Sorted by name. */
	assert_string_equal(again.v[0].name, "192.168.1.103:5000/nginx:version1.1.test");

	assert_int_equal(store_refs_remove(&again, "docker.io/hbliti/nginx:version1.0.test"), 1);
	assert_int_equal(store_refs_remove(&again, "docker.io/hbliti/nginx:version1.0.test"), 0);
	assert_int_equal(again.n, 2);
	assert_int_equal(store_refs_save(&again, &err), 0);
	/* Loading into a filled set replaces it. */
	assert_int_equal(store_refs_load(&refs, &err), 0);
	assert_int_equal(refs.n, 2);
	store_refs_free(&refs);
	store_refs_free(&again);
	store_refs_free(&again); /* twice is harmless */

	/* Names are bounded and printable. */
	assert_int_equal(store_refs_set(&refs, "", &a, 0, &err), -1);
	berr_free(err);
	err = NULL;
	assert_int_equal(store_refs_set(&refs, "a b", &a, 0, &err), -1);
	berr_free(err);
	err = NULL;
	char longname[STORE_REF_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(store_refs_set(&refs, longname, &a, 0, &err), -1);
	berr_free(err);
	assert_int_equal(refs.n, 0);
}

static void test_refs_limit(void **state)
{
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	struct digest a;
	char name[32];

	(void) state;
	digest_of(ABC, &a);
	for (int i = 0; i < STORE_REFS_MAX; i++) {
		snprintf(name, sizeof(name), "x/app:%d", i);
		assert_int_equal(store_refs_set(&refs, name, &a, 0, &err), 0);
	}
	assert_int_equal(store_refs_set(&refs, "x/app:one-more", &a, 0, &err), -1);
	assert_int_equal(err->errcode, ENOSPC);
	berr_free(err);
	store_refs_free(&refs);
}

static void expect_corrupt(const char *text, const char *msg)
{
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	char path[PATH_MAX];
	struct digest a;

	digest_of(ABC, &a);
	assert_int_equal(store_refs_set(&refs, "keep:me", &a, 0, &err), 0);
	assert_int_equal(paths_refs(path, sizeof(path)), 0);
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600, &err), 0);
	assert_int_equal(store_refs_load(&refs, &err), -1);
	if (strstr(err->msg, "is corrupt") == NULL || strstr(err->msg, msg) == NULL)
		fail_msg("`%s`: error `%s` does not say `%s`", text, err->msg, msg);
	berr_free(err);
	/* A failed load leaves what was there. */
	assert_int_equal(refs.n, 1);
	store_refs_free(&refs);
}

static void test_refs_corrupt(void **state)
{
	(void) state;
	expect_corrupt("", "line");
	expect_corrupt("{\"version\":1,\"refs\":{", "line 1");
	expect_corrupt("[]", "not a JSON object");
	expect_corrupt("{\"refs\":{}}", "`version`");
	expect_corrupt("{\"version\":2,\"refs\":{}}", "`version`");
	expect_corrupt("{\"version\":1}", "`refs`");
	expect_corrupt("{\"version\":1,\"refs\":{\"a:b\":{\"digest\":\"sha256:abc\"}}}", "`a:b`");
	expect_corrupt("{\"version\":1,\"refs\":{\"a:b\":\"sha256:" ABC "\"}}", "`digest`");
	expect_corrupt("{\"version\":1,\"refs\":{\"a b\":{\"digest\":\"sha256:" ABC "\"}}}",
		       "name `a b`");
	expect_corrupt("{\"version\":1,\"refs\":{\"a:b\":{\"digest\":\"sha256:" ABC
		       "\",\"created\":-1}}}", "`created`");
	expect_corrupt("{\"version\":1,\"refs\":{},\"refs\":{}}", "duplicate");
}

static void test_refs_too_big(void **state)
{
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	char path[PATH_MAX];
	size_t n = STORE_REFS_FILE_MAX + 1;
	char *big = malloc(n);

	(void) state;
	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(paths_refs(path, sizeof(path)), 0);
	assert_int_equal(fs_write_atomic(path, big, n, 0600, &err), 0);
	assert_int_equal(store_refs_load(&refs, &err), -1);
	assert_int_equal(err->errcode, EFBIG);
	berr_free(err);
	free(big);
}

static void test_refs_lock(void **state)
{
	struct berr *err = NULL;
	int fd;

	(void) state;
	fd = store_refs_lock(&err);
	assert_true(fd >= 0);
	store_refs_unlock(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mismatch_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_blob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refs_lock, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
