/* Unit tests for core/image/archive.c: the parsers of what an image archive holds, and
 * load/save end to end in a mkdtemp data root with archives built here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
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
#include "image/archive.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/store.h"

static char root[64];

static int setup(void **state)
{
	(void) state;
	snprintf(root, sizeof(root), "/tmp/berth-test-archive.XXXXXX");
	if (mkdtemp(root) == NULL || paths_init(root, "/run/berth-test-archive") < 0)
		return -1;
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

/* ---- parsers ---- */

static void test_clean_path(void **state)
{
	char out[256];
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(arch_clean_path("./blobs//sha256/ab", out, sizeof(out), &err), 0);
	assert_string_equal(out, "blobs/sha256/ab");
	assert_int_equal(arch_clean_path("./", out, sizeof(out), &err), 0);
	assert_string_equal(out, "");
	assert_int_equal(arch_clean_path("../../x", out, sizeof(out), &err), -1);
	assert_non_null(strstr(err->msg, "escapes the archive root"));
	berr_free(err);
	err = NULL;
	assert_int_equal(arch_clean_path("a/../../x", out, sizeof(out), &err), -1);
	berr_free(err);
	err = NULL;
	assert_int_equal(arch_clean_path("/etc/passwd", out, sizeof(out), &err), -1);
	assert_non_null(strstr(err->msg, "absolute path"));
	berr_free(err);
}

static void test_oci_layout(void **state)
{
	struct berr *err = NULL;
	const char *ok = "{\"imageLayoutVersion\": \"1.0.0\"}";
	const char *bad = "{\"imageLayoutVersion\": \"2.0.0\"}";

	(void) state;
	assert_int_equal(arch_parse_oci_layout(ok, strlen(ok), &err), 0);
	assert_int_equal(arch_parse_oci_layout(bad, strlen(bad), &err), -1);
	assert_non_null(strstr(err->msg, "not supported"));
	berr_free(err);
	err = NULL;
	assert_int_equal(arch_parse_oci_layout("{", 1, &err), -1);
	berr_free(err);
}

static void test_docker_manifest(void **state)
{
	const char *ok = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"busybox:1\",\"x/y:2\"],"
			 "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]},"
			 "{\"Config\":\"def.json\",\"RepoTags\":null,\"Layers\":[]}]";
	struct arch_docker_manifest m;
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(arch_parse_docker_manifest(ok, strlen(ok), &m, &err), 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].config, "abc.json");
	assert_int_equal(m.v[0].n_repo_tags, 2);
	assert_string_equal(m.v[0].repo_tags[1], "x/y:2");
	assert_int_equal(m.v[0].n_layers, 2);
	assert_string_equal(m.v[0].layers[1], "l2/layer.tar");
	assert_int_equal(m.v[1].n_repo_tags, 0);
	arch_docker_manifest_free(&m);

	static const char *const bad[] = {
		"{}", "[]", "[1]", "[{\"RepoTags\":[],\"Layers\":[]}]", "[{\"Config\":\"\",\"Layers\":[]}]",
		"[{\"Config\":\"a\"}]", "[{\"Config\":\"a\",\"Layers\":[1]}]",
		"[{\"Config\":\"a\",\"Layers\":[],\"RepoTags\":\"x\"}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(arch_parse_docker_manifest(bad[i], strlen(bad[i]), &m, &err), -1);
		assert_non_null(strstr(err->msg, "manifest.json"));
		berr_free(err);
		err = NULL;
	}
}

static void test_repositories(void **state)
{
	char ok[256];
	struct arch_repo_tag *v;
	struct berr *err = NULL;
	size_t n;

	(void) state;
	snprintf(ok, sizeof(ok), "{\"busybox\":{\"1.0\":\"%064d\",\"latest\":\"%064d\"}}", 1, 2);
	assert_int_equal(arch_parse_repositories(ok, strlen(ok), &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "busybox:1.0");
	arch_repo_tags_free(v, n);
	snprintf(ok, sizeof(ok), "{\"a\":{\"b\":\"12\"}}");
	assert_int_equal(arch_parse_repositories(ok, strlen(ok), &v, &n, &err), -1);
	assert_non_null(strstr(err->msg, "64-hex"));
	berr_free(err);
	err = NULL;
	assert_int_equal(arch_parse_repositories("[]", 2, &v, &n, &err), -1);
	berr_free(err);
}

static void test_index_entry_key(void **state)
{
	struct manifest_kv kv[2] = { { "org.opencontainers.image.ref.name", "busybox:1.0" },
				     { "io.containerd.image.name", "reg:5000/app:2" } };
	struct manifest_descriptor d = { .annotations = kv, .n_annotations = 1 };
	char key[512];
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(arch_index_entry_key(&d, NULL, key, sizeof(key), &err), 0);
	assert_string_equal(key, "docker.io/library/busybox:1.0");
	d.n_annotations = 2;
	assert_int_equal(arch_index_entry_key(&d, NULL, key, sizeof(key), &err), 0);
	assert_string_equal(key, "reg:5000/app:2");
	/* A bare tag names no repository. */
	kv[0].value = "latest";
	d.n_annotations = 1;
	assert_int_equal(arch_index_entry_key(&d, NULL, key, sizeof(key), &err), 0);
	assert_string_equal(key, "");
	kv[0].value = "Bad/Name:1";
	assert_int_equal(arch_index_entry_key(&d, NULL, key, sizeof(key), &err), -1);
	berr_free(err);
}

/* ---- load and save, end to end ---- */

struct membuf {
	char data[1 << 16];
	size_t used;
};

static void tar_add(struct archive *a, const char *path, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t) len);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, data, len), (la_ssize_t) len);
	archive_entry_free(e);
}

static struct archive *tar_new(struct membuf *m)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, m->data, sizeof(m->data), &m->used), ARCHIVE_OK);
	return a;
}

static void tar_end(struct archive *a)
{
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

static void hex_of(const void *data, size_t len, char out[DIGEST_STR_SIZE])
{
	struct digest d;

	assert_int_equal(digest_buffer(data, len, &d, NULL), 0);
	digest_format(&d, out);
}

/* An OCI layout with one image of one layer (a file `hello`); `diff_id` overrides the
 * config's diff_id, `name` the ref.name annotation. Written to `path`. */
static void make_layout(const char *path, const char *diff_id, const char *name, bool bad_blob)
{
	static struct membuf layer, out;
	char ld[DIGEST_STR_SIZE], cd[DIGEST_STR_SIZE], md[DIGEST_STR_SIZE], p[128];
	char config[512], manifest[1024], index[1024];
	struct archive *a;
	int fd;

	layer.used = out.used = 0;
	a = tar_new(&layer);
	tar_add(a, "hello", "hi\n", 3);
	tar_end(a);
	hex_of(layer.data, layer.used, ld);
	snprintf(config, sizeof(config), "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":"
		 "{\"Cmd\":[\"/hello\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 diff_id ? diff_id : ld);
	hex_of(config, strlen(config), cd);
	snprintf(manifest, sizeof(manifest), "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":"
		 "{\"mediaType\":\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
		 MT_OCI_MANIFEST, MT_OCI_CONFIG, cd, strlen(config), ld, layer.used);
	hex_of(manifest, strlen(manifest), md);
	snprintf(index, sizeof(index), "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":"
		 "\"%s\"}}]}", MT_OCI_MANIFEST, md, strlen(manifest), name);
	a = tar_new(&out);
	tar_add(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	tar_add(a, "index.json", index, strlen(index));
	snprintf(p, sizeof(p), "blobs/sha256/%s", ld + 7);
	tar_add(a, p, layer.data, layer.used);
	snprintf(p, sizeof(p), "blobs/sha256/%s", cd + 7);
	if (bad_blob)
		config[10] ^= 1;
	tar_add(a, p, config, strlen(config));
	snprintf(p, sizeof(p), "blobs/sha256/%s", md + 7);
	tar_add(a, p, manifest, strlen(manifest));
	tar_end(a);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, out.data, out.used), (ssize_t) out.used);
	close(fd);
}

static int n_loaded;

static void on_loaded(void *data, const char *key, const struct digest *id)
{
	(void) data;
	(void) id;
	assert_string_equal(key, "docker.io/library/hello:1");
	n_loaded++;
}

static int load_file(const char *path, struct berr **err)
{
	struct arch_load_opts o = { .keep_layer_blobs = true, .on_loaded = on_loaded };
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	assert_true(fd >= 0);
	ret = arch_load(fd, path, &o, err);
	close(fd);
	return ret;
}

/* Entries in a directory under the root ("." and ".." not counted; missing: 0). */
static size_t count(const char *sub)
{
	char p[PATH_MAX];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(p, sizeof(p), "%s/%s", root, sub);
	d = opendir(p);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_load_and_save(void **state)
{
	char arch[PATH_MAX], saved[PATH_MAX];
	struct store_refs refs = { 0 };
	struct img_match m;
	struct img img;
	struct berr *err = NULL;
	const char *label = "hello:1";
	struct arch_save_image si;
	int fd;

	(void) state;
	snprintf(arch, sizeof(arch), "%s/in.tar", root);
	make_layout(arch, NULL, "hello:1", false);
	n_loaded = 0;
	assert_int_equal(load_file(arch, &err), 0);
	assert_int_equal(n_loaded, 1);
	assert_int_equal(count("blobs/sha256"), 3);
	assert_int_equal(count("layers"), 1);
	assert_int_equal(count("tmp"), 0);
	assert_int_equal(store_refs_load(&refs, &err), 0);
	assert_int_equal(img_resolve(&refs, "hello:1", NULL, &m, &err), 0);
	assert_int_equal(img_open(&m.top, &img, &err), 0);
	assert_int_equal(img.n_layers, 1);
	assert_true(layer_exists(&img.chain_ids[0]));
	/* Save it, remove everything, load the saved archive: the same image comes back. */
	snprintf(saved, sizeof(saved), "%s/saved.tar", root);
	fd = open(saved, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	si.top = m.top;
	si.key = "docker.io/library/hello:1";
	assert_int_equal(arch_save(fd, &si, &label, 1, &err), 0);
	close(fd);
	{
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/blobs", root);
		assert_int_equal(fs_rm_rf(p, &err), 0);
		snprintf(p, sizeof(p), "%s/layers", root);
		assert_int_equal(fs_rm_rf(p, &err), 0);
		snprintf(p, sizeof(p), "%s/refs.json", root);
		unlink(p);
	}
	assert_int_equal(load_file(saved, &err), 0);
	assert_int_equal(n_loaded, 2);
	assert_int_equal(store_refs_load(&refs, &err), 0);
	assert_int_equal(img_resolve(&refs, img.id.hex, NULL, &m, &err), 0);
	assert_true(digest_equal(&m.top, &img.top));
	img_close(&img);
	store_refs_free(&refs);
}

static void test_load_rejects(void **state)
{
	char arch[PATH_MAX];
	struct berr *err = NULL;

	(void) state;
	snprintf(arch, sizeof(arch), "%s/diffid.tar", root);
	make_layout(arch, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		    "hello:1", false);
	assert_int_equal(load_file(arch, &err), -1);
	assert_non_null(strstr(err->msg, "does not match its diff_id"));
	berr_free(err);
	err = NULL;
	assert_int_equal(count("blobs/sha256"), 0);
	assert_int_equal(count("layers"), 0);
	assert_int_equal(count("tmp"), 0);
	snprintf(arch, sizeof(arch), "%s/bad.tar", root);
	make_layout(arch, NULL, "hello:1", true);
	assert_int_equal(load_file(arch, &err), -1);
	assert_non_null(strstr(err->msg, "does not match its name"));
	berr_free(err);
	assert_int_equal(count("blobs/sha256"), 0);
	assert_int_equal(count("tmp"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_path),
		cmocka_unit_test(test_oci_layout),
		cmocka_unit_test(test_docker_manifest),
		cmocka_unit_test(test_repositories),
		cmocka_unit_test(test_index_entry_key),
		cmocka_unit_test_setup_teardown(test_load_and_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_rejects, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
