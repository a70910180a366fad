/* Unit tests for core/image/image.c, gc.c and verify.c in a mkdtemp data root: resolving
 * names, digests and short IDs; what the GC keeps and removes; the squashfs superblock check
 * and store verification. */
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
#include "base/paths.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/store.h"
#include "image/verify.h"

static char root[64];

struct fixture {
	struct digest manifest, config;
	struct digest chain;
};
static struct fixture fx;

/* A squashfs superblock claiming `used` bytes, in a file of `size` bytes. */
static void write_sqfs(const char *path, uint64_t used, uint64_t size)
{
	unsigned char sb[96] = { 0 };
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	sb[0] = 0x68, sb[1] = 0x73, sb[2] = 0x71, sb[3] = 0x73; /* "hsqs" */
	sb[28] = 4;
	for (int i = 0; i < 8; i++)
		sb[40 + i] = (unsigned char) (used >> (8 * i));
	assert_int_equal(write(fd, sb, sizeof(sb)), (ssize_t) sizeof(sb));
	assert_int_equal(ftruncate(fd, (off_t) size), 0);
	close(fd);
}

/* One image of one layer: config and manifest blobs, a layer file, a ref. */
static int setup(void **state)
{
	char config[512], manifest[1024], p[PATH_MAX], ds[DIGEST_STR_SIZE];
	struct digest diff;
	struct store_refs refs = { 0 };
	struct berr *err = NULL;

	(void) state;
	snprintf(root, sizeof(root), "/tmp/berth-test-image.XXXXXX");
	if (mkdtemp(root) == NULL || paths_init(root, "/run/berth-test-image") < 0 ||
	    store_init(&err) < 0)
		return -1;
	memset(diff.hex, 'a', DIGEST_HEX_LEN);
	diff.hex[DIGEST_HEX_LEN] = '\0';
	snprintf(config, sizeof(config), "{\"architecture\":\"amd64\",\"os\":\"linux\","
		 "\"created\":\"2024-01-02T03:04:05Z\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":"
		 "[\"%s\"]}}", digest_format(&diff, ds));
	if (store_put(config, strlen(config), NULL, &fx.config, &err) < 0)
		return -1;
	snprintf(manifest, sizeof(manifest), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":"
		 "{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%064d\",\"size\":1}]}",
		 MT_OCI_MANIFEST, MT_OCI_CONFIG, fx.config.hex, strlen(config), 7);
	if (store_put(manifest, strlen(manifest), NULL, &fx.manifest, &err) < 0)
		return -1;
	fx.chain = diff; /* the chain id of a bottom layer is its diff_id */
	paths_layers_dir(p, sizeof(p));
	if (fs_mkdir_p(p, 0700, &err) < 0)
		return -1;
	paths_layer(p, sizeof(p), fx.chain.hex);
	write_sqfs(p, 96, 4096);
	if (store_refs_set(&refs, "docker.io/library/app:1", &fx.manifest, -1, &err) < 0 ||
	    store_refs_set(&refs, "reg.example:5000/team/app:2", &fx.manifest, -1, &err) < 0 ||
	    store_refs_save(&refs, &err) < 0)
		return -1;
	store_refs_free(&refs);
	return 0;
}

static int teardown(void **state)
{
	struct berr *err = NULL;
	int ret = fs_rm_rf(root, &err);

	(void) state;
	berr_free(err);
	return ret;
}

static void test_parse_time(void **state)
{
	(void) state;
	assert_int_equal(img_parse_time("1970-01-01T00:00:10Z"), 10);
	assert_int_equal(img_parse_time("2024-01-02T03:04:05.123456789Z"), 1704164645);
	assert_int_equal(img_parse_time("2024-01-02T05:04:05+02:00"), 1704164645);
	assert_int_equal(img_parse_time("2024-01-02"), -1);
	assert_int_equal(img_parse_time("yesterday"), -1);
	assert_int_equal(img_parse_time(NULL), -1);
}

static void test_keys(void **state)
{
	char repo[300], tag[150], dk[DIGEST_STR_SIZE];
	struct digest d;

	(void) state;
	img_key_split("docker.io/library/nginx:1.25", NULL, repo, sizeof(repo), tag, sizeof(tag));
	assert_string_equal(repo, "nginx");
	assert_string_equal(tag, "1.25");
	img_key_split("reg:5000/app:1", "reg:5000", repo, sizeof(repo), tag, sizeof(tag));
	assert_string_equal(repo, "app");
	memset(d.hex, 'b', DIGEST_HEX_LEN);
	d.hex[DIGEST_HEX_LEN] = '\0';
	img_dangling_key(&d, dk);
	assert_true(img_key_is_dangling(dk));
	assert_false(img_key_is_dangling("docker.io/library/nginx:1"));
	img_key_split(dk, NULL, repo, sizeof(repo), tag, sizeof(tag));
	assert_string_equal(repo, "<none>");
	assert_string_equal(tag, "<none>");
}

static void test_resolve(void **state)
{
	struct store_refs refs = { 0 };
	struct img_match m;
	struct berr *err = NULL;
	char s[200];

	(void) state;
	assert_int_equal(store_refs_load(&refs, &err), 0);
	assert_int_equal(img_resolve(&refs, "app:1", NULL, &m, &err), 0);
	assert_true(digest_equal(&m.top, &fx.manifest));
	assert_string_equal(m.key, "docker.io/library/app:1");
	/* An image ID, full and short, with or without `sha256:`. */
	snprintf(s, sizeof(s), "sha256:%s", fx.config.hex);
	assert_int_equal(img_resolve(&refs, s, NULL, &m, &err), 0);
	assert_true(m.by_id);
	snprintf(s, sizeof(s), "%.12s", fx.config.hex);
	assert_int_equal(img_resolve(&refs, s, NULL, &m, &err), 0);
	assert_true(digest_equal(&m.top, &fx.manifest));
	snprintf(s, sizeof(s), "%.3s", fx.config.hex);
	assert_int_equal(img_resolve(&refs, s, NULL, &m, &err), -1);
	assert_int_equal(err->status, EXIT_FAILED);
	berr_free(err);
	err = NULL;
	/* name@digest of the manifest. */
	snprintf(s, sizeof(s), "reg.example:5000/team/app@sha256:%s", fx.manifest.hex);
	assert_int_equal(img_resolve(&refs, s, NULL, &m, &err), 0);
	snprintf(s, sizeof(s), "other@sha256:%s", fx.manifest.hex);
	assert_int_equal(img_resolve(&refs, s, NULL, &m, &err), -1);
	assert_non_null(strstr(err->msg, "No such image"));
	berr_free(err);
	err = NULL;
	assert_int_equal(img_resolve(&refs, "app:2", NULL, &m, &err), -1);
	berr_free(err);
	store_refs_free(&refs);
}

static void test_open_and_list(void **state)
{
	struct store_refs refs = { 0 };
	struct img_list l;
	struct img img;
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(img_open(&fx.manifest, &img, &err), 0);
	assert_true(digest_equal(&img.id, &fx.config));
	assert_int_equal(img.n_layers, 1);
	assert_true(digest_equal(&img.chain_ids[0], &fx.chain));
	assert_true(img_disk_size(&img) >= 4096);
	img_close(&img);
	assert_int_equal(store_refs_load(&refs, &err), 0);
	assert_int_equal(img_list_load(&refs, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].n_keys, 2);
	assert_true(l.v[0].ok);
	img_list_free(&l);
	store_refs_free(&refs);
	/* A missing config is named in the error. */
	assert_int_equal(store_delete(&fx.config, &err), 0);
	assert_int_equal(img_open(&fx.manifest, &img, &err), -1);
	assert_non_null(strstr(err->msg, "is missing from the blob store"));
	berr_free(err);
}

static void test_gc(void **state)
{
	struct gc_opts o = { .dangling = true, .tmp = true };
	struct gc_stats st;
	struct digest orphan;
	struct berr *err = NULL;
	char p[PATH_MAX], hex[DIGEST_HEX_LEN + 1];
	struct stat sb;

	(void) state;
	assert_int_equal(store_put("orphan", 6, NULL, &orphan, &err), 0);
	memset(hex, 'c', DIGEST_HEX_LEN);
	hex[DIGEST_HEX_LEN] = '\0';
	paths_layer(p, sizeof(p), hex);
	write_sqfs(p, 96, 4096);
	paths_tmp_file(p, sizeof(p), "blob-123456");
	assert_int_equal(fs_write_atomic(p, "x", 1, 0600, &err), 0);
	paths_tmp_file(p, sizeof(p), "abc.partial");
	assert_int_equal(fs_write_atomic(p, "x", 1, 0600, &err), 0);
	/* A dry run counts and removes nothing. */
	o.dry_run = true;
	assert_int_equal(gc_run(&o, &st, &err), 0);
	assert_int_equal(st.blobs, 1);
	assert_int_equal(st.layers, 1);
	assert_int_equal(st.tmp, 1);
	assert_true(store_exists(&orphan));
	o.dry_run = false;
	assert_int_equal(gc_run(&o, &st, &err), 0);
	assert_int_equal(st.blobs, 1);
	assert_false(store_exists(&orphan));
	assert_true(store_exists(&fx.manifest));
	assert_true(store_exists(&fx.config));
	paths_layer(p, sizeof(p), hex);
	assert_int_equal(stat(p, &sb), -1);
	paths_layer(p, sizeof(p), fx.chain.hex);
	assert_int_equal(stat(p, &sb), 0);
	paths_tmp_file(p, sizeof(p), "abc.partial");
	assert_int_equal(stat(p, &sb), 0);
	o.partials = true;
	assert_int_equal(gc_run(&o, &st, &err), 0);
	assert_int_equal(st.tmp, 1);
	assert_int_equal(stat(p, &sb), -1);
}

static void test_sqfs_check(void **state)
{
	char p[PATH_MAX], why[256];
	struct berr *err = NULL;

	(void) state;
	snprintf(p, sizeof(p), "%s/x.sqfs", root);
	write_sqfs(p, 5000, 8192);
	assert_int_equal(verify_sqfs_file(p, why, sizeof(why), &err), 0);
	write_sqfs(p, 5000, 4096);
	assert_int_equal(verify_sqfs_file(p, why, sizeof(why), &err), 1);
	assert_non_null(strstr(why, "truncated"));
	write_sqfs(p, 5000, 12288);
	assert_int_equal(verify_sqfs_file(p, why, sizeof(why), &err), 1);
	write_sqfs(p, 5000, 50);
	assert_int_equal(verify_sqfs_file(p, why, sizeof(why), &err), 1);
	assert_int_equal(fs_write_atomic(p, "not squashfs at all, but long enough to hold a superblock "
					 "of ninety-six bytes..............", 91, 0644, &err), 0);
	assert_int_equal(verify_sqfs_file(p, why, sizeof(why), &err), 1);
}

static int problems;

static void on_report(void *data, enum verify_kind kind, const char *subject, const char *problem,
		      bool repaired)
{
	(void) data;
	(void) subject;
	(void) problem;
	(void) repaired;
	if (kind != VERIFY_NOTE)
		problems++;
}

static void test_verify(void **state)
{
	struct verify_opts o = { .report = on_report };
	struct verify_stats st;
	struct berr *err = NULL;
	char p[PATH_MAX];

	(void) state;
	problems = 0;
	assert_int_equal(verify_store(&o, &st, &err), 0);
	assert_int_equal(st.problems, 0);
	assert_int_equal(st.blobs, 2);
	assert_int_equal(st.layers, 1);
	assert_int_equal(st.images, 1);
	/* A rotten blob and a truncated layer. */
	store_blob_path(&fx.config, p, sizeof(p), &err);
	assert_int_equal(fs_write_atomic(p, "rot", 3, 0644, &err), 0);
	paths_layer(p, sizeof(p), fx.chain.hex);
	assert_int_equal(truncate(p, 1000), 0);
	assert_int_equal(verify_store(&o, &st, &err), 0);
	assert_int_equal(st.problems, 3); /* blob, layer, image */
	o.repair = true;
	assert_int_equal(verify_store(&o, &st, &err), 0);
	assert_int_equal(st.repaired, 2);
	assert_false(store_exists(&fx.config));
	o.repair = false;
	assert_int_equal(verify_store(&o, &st, &err), 0);
	assert_int_equal(st.problems, 1); /* the ref stays, broken */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_keys),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sqfs_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
