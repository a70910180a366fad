/* Unit tests for core/image/manifest.c: real-world-shaped documents of each media type from
 * tests/data/manifests/, media type detection, and error paths that must name the field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fs.h"
#include "image/manifest.h"

#define DATA "tests/data/manifests/"
#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DG "\"sha256:" H64 "\""

static char *load(const char *name, size_t *len)
{
	char path[PATH_MAX];
	struct berr *err = NULL;
	char *data = NULL;

	snprintf(path, sizeof(path), DATA "%s", name);
	if (fs_read_file(path, 1 << 20, &data, len, &err) < 0)
		fail_msg("%s (run the tests from the top of the tree)", err->msg);
	return data;
}

static void parse_fixture(const char *name, const char *content_type, struct manifest *m)
{
	struct berr *err = NULL;
	size_t len;
	char *data = load(name, &len);

	if (manifest_parse(data, len, content_type, m, &err) < 0)
		fail_msg("%s: %s", name, err->msg);
	free(data);
}

static void test_docker_manifest(void **state)
{
	struct manifest m;

	(void) state;
	parse_fixture("docker-manifest.json", NULL, &m);
	assert_int_equal(m.kind, MANIFEST_DOCKER_MANIFEST);
	assert_string_equal(m.media_type, MT_DOCKER_MANIFEST);
	assert_string_equal(m.config.media_type, MT_DOCKER_CONFIG);
	assert_int_equal(m.config.size, 8004);
	assert_int_equal(m.n_layers, 7);
	assert_int_equal(m.n_manifests, 0);
	for (size_t i = 0; i < m.n_layers; i++) {
		assert_int_equal(m.layers[i].format, LAYER_TAR_GZIP);
		assert_false(m.layers[i].foreign);
		assert_true(digest_is_set(&m.layers[i].digest));
	}
	assert_int_equal(m.layers[1].size, 37632111);
	manifest_free(&m);

	/* The registry's Content-Type agrees, with parameters. */
	parse_fixture("docker-manifest.json", MT_DOCKER_MANIFEST "; charset=utf-8", &m);
	manifest_free(&m);
	/* A Content-Type berth does not know says nothing. */
	parse_fixture("docker-manifest.json", "application/json", &m);
	manifest_free(&m);
	manifest_free(&m); /* twice is harmless */
}

static void test_docker_list(void **state)
{
	struct manifest m;

	(void) state;
	parse_fixture("docker-list.json", MT_DOCKER_LIST, &m);
	assert_int_equal(m.kind, MANIFEST_DOCKER_LIST);
	assert_true(manifest_kind_is_index(m.kind));
	assert_int_equal(m.n_manifests, 8);
	assert_int_equal(m.n_layers, 0);
	assert_true(m.manifests[2].has_platform);
	assert_string_equal(m.manifests[2].platform.os, "linux");
	assert_string_equal(m.manifests[2].platform.arch, "arm");
	assert_string_equal(m.manifests[2].platform.variant, "v7");
	/* Normalised: amd64 has no variant, arm64 gets v8. */
	assert_string_equal(m.manifests[0].platform.variant, "");
	assert_string_equal(m.manifests[3].platform.variant, "v8");
	assert_string_equal(m.manifests[4].platform.arch, "386");
	assert_int_equal(m.manifests[5].size, 1570);
	manifest_free(&m);
}

static void test_oci_manifest(void **state)
{
	struct manifest m;

	(void) state;
	parse_fixture("oci-manifest.json", MT_OCI_MANIFEST, &m);
	assert_int_equal(m.kind, MANIFEST_OCI_MANIFEST);
	assert_string_equal(m.config.media_type, MT_OCI_CONFIG);
	assert_int_equal(m.n_layers, 1);
	assert_int_equal(m.layers[0].format, LAYER_TAR_GZIP);
	assert_int_equal(m.n_annotations, 3);
	assert_string_equal(m.annotations[1].key, "org.opencontainers.image.version");
	assert_string_equal(m.annotations[1].value, "1.36.1-glibc");
	manifest_free(&m);
}

static void test_oci_index(void **state)
{
	struct manifest m;

	(void) state;
	parse_fixture("oci-index.json", NULL, &m);
	assert_int_equal(m.kind, MANIFEST_OCI_INDEX);
	assert_int_equal(m.n_manifests, 7);
	assert_string_equal(m.manifests[1].platform.variant, "v6");
	assert_string_equal(m.manifests[5].platform.os, "unknown");
	assert_int_equal(m.manifests[5].n_annotations, 2);
	assert_string_equal(m.manifests[5].annotations[1].value, "attestation-manifest");
	assert_int_equal(m.n_annotations, 1);
	manifest_free(&m);
}

static void test_shape_detection(void **state)
{
	struct manifest m;

	(void) state;
	parse_fixture("oci-index-no-mediatype.json", NULL, &m);
	assert_int_equal(m.kind, MANIFEST_OCI_INDEX);
	assert_int_equal(m.n_manifests, 1);
	manifest_free(&m);

	parse_fixture("oci-manifest-zstd.json", NULL, &m);
	assert_int_equal(m.kind, MANIFEST_OCI_MANIFEST);
	assert_int_equal(m.n_layers, 3);
	assert_int_equal(m.layers[0].format, LAYER_TAR_ZSTD);
	assert_int_equal(m.layers[1].format, LAYER_TAR);
	assert_int_equal(m.layers[2].format, LAYER_TAR_GZIP);
	manifest_free(&m);

	/* Without mediaType, the Content-Type decides. */
	parse_fixture("oci-manifest-zstd.json", MT_DOCKER_MANIFEST, &m);
	assert_int_equal(m.kind, MANIFEST_DOCKER_MANIFEST);
	manifest_free(&m);
}

static void test_foreign_and_artifacts(void **state)
{
	struct manifest m;

	(void) state;
	parse_fixture("docker-manifest-foreign.json", NULL, &m);
	assert_int_equal(m.n_layers, 3);
	assert_true(m.layers[0].foreign);
	assert_int_equal(m.layers[0].format, LAYER_TAR_GZIP);
	assert_int_equal(m.layers[0].n_urls, 1);
	assert_non_null(strstr(m.layers[0].urls[0], "https://"));
	assert_int_equal(m.layers[0].size, 1500000000);
	assert_true(m.layers[1].foreign);
	assert_false(m.layers[2].foreign);
	manifest_free(&m);

	parse_fixture("cosign-signature.json", NULL, &m);
	assert_int_equal(m.n_layers, 1);
	assert_int_equal(m.layers[0].format, LAYER_UNKNOWN);
	assert_string_equal(m.layers[0].media_type, "application/vnd.dev.cosign.simplesigning.v1+json");
	assert_string_equal(m.layers[0].annotations[0].key, "dev.cosignproject.cosign/signature");
	manifest_free(&m);
}

static void test_media_type_helpers(void **state)
{
	bool foreign = true;

	(void) state;
	assert_int_equal(manifest_kind_of(MT_OCI_INDEX), MANIFEST_OCI_INDEX);
	assert_int_equal(manifest_kind_of(" " MT_OCI_INDEX " ;x=y"), MANIFEST_OCI_INDEX);
	assert_int_equal(manifest_kind_of(MT_OCI_INDEX "x"), MANIFEST_UNKNOWN);
	assert_int_equal(manifest_kind_of(NULL), MANIFEST_UNKNOWN);
	assert_int_equal(manifest_layer_format_of("application/vnd.oci.image.layer.v1.tar", &foreign),
			 LAYER_TAR);
	assert_false(foreign);
	assert_int_equal(manifest_layer_format_of(
				 "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", &foreign),
			 LAYER_TAR_GZIP);
	assert_true(foreign);
	assert_int_equal(manifest_layer_format_of("text/plain", &foreign), LAYER_UNKNOWN);
	assert_false(foreign);
}

struct bad {
	const char *doc;
	const char *content_type;
	const char *msg;
};

#define CFG "\"config\":{\"mediaType\":\"" MT_OCI_CONFIG "\",\"digest\":" DG ",\"size\":1}"
#define LAYER(extra) "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\"," \
		     "\"digest\":" DG ",\"size\":1" extra "}"
#define OCI(body) "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_MANIFEST "\"," body "}"
#define IDX(entry) "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[" \
		   "{\"mediaType\":\"" MT_OCI_MANIFEST "\",\"digest\":" DG ",\"size\":1" entry "}]}"

static const struct bad bads[] = {
	{ "", NULL, "not valid JSON" },
	{ "{", NULL, "not valid JSON" },
	{ "[]", NULL, "not a JSON object" },
	{ "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", NULL, "schema 1" },
	{ "{\"schemaVersion\":1,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+json\"}",
	  NULL, "schema 1" },
	{ "{\"schemaVersion\":1}", "application/vnd.docker.distribution.manifest.v1+prettyjws",
	  "schema 1" },
	{ "{\"mediaType\":\"" MT_OCI_MANIFEST "\"," CFG ",\"layers\":[]}", NULL,
	  "`schemaVersion`: missing" },
	{ "{\"schemaVersion\":\"2\"," CFG ",\"layers\":[]}", NULL,
	  "`schemaVersion`: expected an integer" },
	{ "{\"schemaVersion\":3," CFG ",\"layers\":[]}", NULL, "`schemaVersion`: 3, expected 2" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"text/html\"}", NULL,
	  "`mediaType`: `text/html` is not a manifest or index type" },
	{ "{\"schemaVersion\":2,\"mediaType\":7}", NULL, "`mediaType`: expected a string" },
	{ OCI(CFG ",\"layers\":[]"), MT_DOCKER_MANIFEST, "does not match the Content-Type" },
	{ OCI(CFG ",\"layers\":[]"), MT_OCI_INDEX, "does not match the Content-Type" },
	{ "{\"schemaVersion\":2,\"manifests\":[]," CFG ",\"layers\":[]}", NULL,
	  "cannot tell an index from an image manifest" },
	{ "{\"schemaVersion\":2}", NULL, "not an image manifest or index" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":[],\"layers\":[]}",
	  NULL, "only an image manifest may have" },
	{ OCI(CFG ",\"layers\":[],\"manifests\":[]"), NULL, "only an index may have" },
	{ OCI("\"layers\":[]"), NULL, "`config`: missing" },
	{ OCI("\"config\":null,\"layers\":[]"), NULL, "`config`: missing" },
	{ OCI("\"config\":[]," "\"layers\":[]"), NULL, "`config`: expected a descriptor object" },
	{ OCI(CFG), NULL, "`layers`: missing" },
	{ OCI(CFG ",\"layers\":{}"), NULL, "`layers`: expected an array" },
	{ OCI(CFG ",\"layers\":[" LAYER("") ",7]"), NULL, "`layers[1]`: expected a descriptor" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":1}]"), NULL,
	  "`layers[0].digest`: missing" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"sha256:00\"}]"), NULL,
	  "layers[0].digest `sha256:00`: invalid checksum digest length" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"md5:" H64 "\"}]"),
	  NULL, "unsupported digest algorithm" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":1,\"digest\":5}]"), NULL,
	  "`layers[0].digest`: expected a string" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":-1,\"digest\":" DG "}]"), NULL,
	  "`layers[0].size`: -1 is out of range" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":1.5,\"digest\":" DG "}]"), NULL,
	  "`layers[0].size`: expected an integer" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"size\":\"1\",\"digest\":" DG "}]"), NULL,
	  "`layers[0].size`: expected an integer" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"a/b\",\"digest\":" DG "}]"), NULL,
	  "`layers[0].size`: missing" },
	{ OCI(CFG ",\"layers\":[{\"size\":1,\"digest\":" DG "}]"), NULL,
	  "`layers[0].mediaType`: missing" },
	{ OCI(CFG ",\"layers\":[{\"mediaType\":\"nonsense\",\"size\":1,\"digest\":" DG "}]"), NULL,
	  "`layers[0].mediaType`: `nonsense` is not a media type" },
	{ OCI(CFG ",\"layers\":[" LAYER(",\"annotations\":{\"a\":1}") "]"), NULL,
	  "`layers[0].annotations[\"a\"]`: expected a string" },
	{ OCI(CFG ",\"layers\":[" LAYER(",\"annotations\":[]") "]"), NULL,
	  "`layers[0].annotations`: expected an object of strings" },
	{ OCI(CFG ",\"layers\":[" LAYER(",\"urls\":[\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
					 "\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\"]") "]"),
	  NULL, "`layers[0].urls`: 17 entries, more than the 16 allowed" },
	{ OCI(CFG ",\"layers\":[" LAYER(",\"urls\":[3]") "]"), NULL,
	  "`layers[0].urls[0]`: expected a string" },
	{ OCI(CFG ",\"layers\":[]"  ",\"annotations\":5"), NULL, "`annotations`: expected an object" },
	{ OCI(CFG ",\"layers\":[],\"layers\":[]"), NULL, "duplicate object key" },
	{ IDX(",\"platform\":{\"os\":\"linux\"}"), NULL, "`manifests[0].platform.architecture`: missing" },
	{ IDX(",\"platform\":{\"architecture\":\"arm\"}"), NULL, "`manifests[0].platform.os`: missing" },
	{ IDX(",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":7}"), NULL,
	  "`manifests[0].platform.variant`: expected a string" },
	{ IDX(",\"platform\":{\"architecture\":\"a/b\",\"os\":\"linux\"}"), NULL,
	  "architecture `a/b`" },
	{ IDX(",\"platform\":{\"architecture\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"os\":\"linux\"}"),
	  NULL, "`manifests[0].platform.architecture`: longer than 32 bytes" },
	{ IDX(",\"platform\":\"linux/arm\""), NULL, "`manifests[0].platform`: expected an object" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\"}", NULL, "`manifests`: missing" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" MT_OCI_INDEX "\",\"manifests\":{}}", NULL,
	  "`manifests`: expected an array" },
	{ "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_LIST "\",\"manifests\":[{}]}", NULL,
	  MT_DOCKER_LIST ": `manifests[0].mediaType`: missing" },
};

static void expect_bad_manifest(const char *doc, size_t len, const char *ct, const char *msg)
{
	struct berr *err = NULL;
	struct manifest m;

	if (manifest_parse(doc, len, ct, &m, &err) != -1)
		fail_msg("accepted: %.200s", doc);
	if (strstr(err->msg, msg) == NULL)
		fail_msg("%.200s\nerror `%s` does not say `%s`", doc, err->msg, msg);
	assert_int_equal(m.n_layers, 0);
	assert_null(m.layers);
	berr_free(err);
}

static void test_bad_manifests(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		expect_bad_manifest(bads[i].doc, strlen(bads[i].doc), bads[i].content_type,
				    bads[i].msg);
}

/* A JSON document with `n` copies of `item` in the array named `key`. */
static char *repeat(const char *head, const char *item, size_t n, const char *tail)
{
	size_t len = strlen(head) + n * (strlen(item) + 1) + strlen(tail) + 1;
	char *s = malloc(len), *p = s;

	assert_non_null(s);
	p += sprintf(p, "%s", head);
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", item);
	sprintf(p, "%s", tail);
	return s;
}

static void test_limits(void **state)
{
	struct berr *err = NULL;
	struct manifest m;
	char *s;

	(void) state;
	/* 128 layers is fine, 129 is not. */
	s = repeat("{\"schemaVersion\":2," CFG ",\"layers\":[", LAYER(""), MANIFEST_LAYERS_MAX, "]}");
	assert_int_equal(manifest_parse(s, strlen(s), NULL, &m, &err), 0);
	assert_int_equal(m.n_layers, MANIFEST_LAYERS_MAX);
	manifest_free(&m);
	free(s);
	s = repeat("{\"schemaVersion\":2," CFG ",\"layers\":[", LAYER(""), MANIFEST_LAYERS_MAX + 1,
		   "]}");
	expect_bad_manifest(s, strlen(s), NULL, "`layers`: 129 entries, more than the 128");
	free(s);
	s = repeat("{\"schemaVersion\":2,\"manifests\":[",
		   "{\"mediaType\":\"a/b\",\"digest\":" DG ",\"size\":1}", MANIFEST_ENTRIES_MAX + 1,
		   "]}");
	expect_bad_manifest(s, strlen(s), NULL, "`manifests`: 1025 entries");
	free(s);
	s = repeat("{\"schemaVersion\":2," CFG ",\"layers\":[],\"annotations\":{", "\"a\":\"b\"", 1,
		   "}}");
	assert_int_equal(manifest_parse(s, strlen(s), NULL, &m, &err), 0);
	manifest_free(&m);
	free(s);

	/* Bigger than 4 MiB is refused before parsing. */
	size_t big = MANIFEST_SIZE_MAX + 1;
	s = malloc(big);
	assert_non_null(s);
	memset(s, ' ', big);
	expect_bad_manifest(s, big, NULL, "larger than");
	free(s);
}

/* ---- image config ---- */

static void parse_config_fixture(const char *name, struct manifest_config *c)
{
	struct berr *err = NULL;
	size_t len;
	char *data = load(name, &len);

	if (manifest_config_parse(data, len, c, &err) < 0)
		fail_msg("%s: %s", name, err->msg);
	free(data);
}

static void test_docker_config(void **state)
{
	struct manifest_config c;

	(void) state;
	parse_config_fixture("docker-config.json", &c);
	assert_string_equal(c.platform.os, "linux");
	assert_string_equal(c.platform.arch, "arm");
	assert_string_equal(c.platform.variant, "v7");
	assert_string_equal(c.created, "2024-04-16T23:35:35.516063425Z");
	assert_string_equal(c.user, "");
	assert_int_equal(c.n_env, 4);
	assert_string_equal(c.env[1], "NGINX_VERSION=1.25.5");
	assert_true(c.has_cmd);
	assert_int_equal(c.n_cmd, 3);
	assert_string_equal(c.cmd[2], "daemon off;");
	assert_true(c.has_entrypoint);
	assert_int_equal(c.n_entrypoint, 1);
	assert_string_equal(c.entrypoint[0], "/docker-entrypoint.sh");
	assert_int_equal(c.n_exposed_ports, 1);
	assert_string_equal(c.exposed_ports[0], "80/tcp");
	assert_int_equal(c.n_volumes, 0); /* null */
	assert_null(c.volumes);
	assert_string_equal(c.working_dir, "");
	assert_string_equal(c.stop_signal, "SIGQUIT");
	assert_null(c.healthcheck);
	assert_int_equal(c.n_labels, 1);
	assert_string_equal(c.labels[0].key, "maintainer");
	assert_int_equal(c.n_diff_ids, 1);
	assert_int_equal(c.n_history, 3);
	assert_false(c.history[0].empty_layer);
	assert_true(c.history[1].empty_layer);
	assert_string_equal(c.history[2].comment, "buildkit.dockerfile.v0");
	assert_null(c.history[0].author);
	manifest_config_free(&c);
	manifest_config_free(&c);
}

static void test_oci_config(void **state)
{
	struct manifest_config c;

	(void) state;
	parse_config_fixture("oci-config.json", &c);
	assert_string_equal(c.platform.arch, "arm64");
	assert_string_equal(c.platform.variant, "v8");
	assert_string_equal(c.author, "berth tests");
	assert_string_equal(c.user, "1000:1000");
	assert_int_equal(c.n_env, 2);
	/* A string Entrypoint is one argument, as in Docker. */
	assert_true(c.has_entrypoint);
	assert_int_equal(c.n_entrypoint, 1);
	assert_string_equal(c.entrypoint[0], "/app/server");
	assert_false(c.has_cmd);
	assert_int_equal(c.n_cmd, 0);
	assert_int_equal(c.n_exposed_ports, 3);
	assert_string_equal(c.exposed_ports[2], "9000-9010");
	assert_int_equal(c.n_volumes, 2);
	assert_string_equal(c.volumes[1], "/var/log/app");
	assert_string_equal(c.working_dir, "/app");
	assert_non_null(c.healthcheck);
	assert_int_equal(c.healthcheck->n_test, 2);
	assert_string_equal(c.healthcheck->test[0], "CMD-SHELL");
	assert_int_equal(c.healthcheck->interval_ns, 30000000000LL);
	assert_int_equal(c.healthcheck->timeout_ns, 5000000000LL);
	assert_int_equal(c.healthcheck->start_period_ns, 10000000000LL);
	assert_int_equal(c.healthcheck->start_interval_ns, 0);
	assert_int_equal(c.healthcheck->retries, 3);
	assert_int_equal(c.n_labels, 2);
	assert_string_equal(c.labels[1].value, "");
	assert_int_equal(c.n_diff_ids, 3);
	assert_int_equal(c.n_history, 4);
	assert_null(c.history[1].created);
	manifest_config_free(&c);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" DG "]}"
#define CONF(body) "{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS "," body "}"

static void test_config_null_vs_missing(void **state)
{
	static const char *docs[] = {
		CONF("\"config\":{\"Cmd\":null,\"Entrypoint\":null}"),
		CONF("\"config\":{}"),
		CONF("\"config\":null"),
		"{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS "}",
	};
	struct berr *err = NULL;
	struct manifest_config c;

	(void) state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		assert_int_equal(manifest_config_parse(docs[i], strlen(docs[i]), &c, &err), 0);
		assert_false(c.has_cmd);
		assert_false(c.has_entrypoint);
		assert_null(c.cmd);
		assert_null(c.user);
		manifest_config_free(&c);
	}
	/* [] is set and empty. */
	const char *empty = CONF("\"config\":{\"Cmd\":[],\"Entrypoint\":[]}");
	assert_int_equal(manifest_config_parse(empty, strlen(empty), &c, &err), 0);
	assert_true(c.has_cmd);
	assert_int_equal(c.n_cmd, 0);
	assert_true(c.has_entrypoint);
	assert_int_equal(c.n_entrypoint, 0);
	manifest_config_free(&c);
	/* Healthcheck NONE disables an inherited check. */
	const char *none = CONF("\"config\":{\"Healthcheck\":{\"Test\":[\"NONE\"]}}");
	assert_int_equal(manifest_config_parse(none, strlen(none), &c, &err), 0);
	assert_non_null(c.healthcheck);
	assert_string_equal(c.healthcheck->test[0], "NONE");
	manifest_config_free(&c);
}

static const struct {
	const char *doc, *msg;
} bad_configs[] = {
	{ "[1]", "image config is not a JSON object" },
	{ "{\"os\":\"linux\"," ROOTFS "}", "image config: `architecture`: missing" },
	{ "{\"architecture\":\"amd64\"," ROOTFS "}", "`os`: missing" },
	{ "{\"architecture\":5,\"os\":\"linux\"," ROOTFS "}", "`architecture`: expected a string" },
	{ "{\"architecture\":\"x y\",\"os\":\"linux\"," ROOTFS "}", "architecture `x y`" },
	{ "{\"architecture\":\"arm\",\"variant\":[],\"os\":\"linux\"," ROOTFS "}",
	  "`variant`: expected a string" },
	{ "{\"architecture\":\"amd64\",\"os\":\"linux\"}", "`rootfs`: missing" },
	{ "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":[]}", "`rootfs`: expected an object" },
	{ "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"tar\",\"diff_ids\":[]}}",
	  "`rootfs.type`: expected \"layers\"" },
	{ "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\"}}",
	  "`rootfs.diff_ids`: missing" },
	{ "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"x\"]}}",
	  "rootfs.diff_ids[0] `x`: invalid checksum digest format" },
	{ CONF("\"config\":[]"), "`config`: expected an object" },
	{ CONF("\"config\":{\"Env\":\"A=1\"}"), "`config.Env`: expected an array of strings" },
	{ CONF("\"config\":{\"Env\":[\"A=1\",2]}"), "`config.Env[1]`: expected a string" },
	{ CONF("\"config\":{\"Cmd\":{}}"), "`config.Cmd`: expected an array of strings or a string" },
	{ CONF("\"config\":{\"Entrypoint\":[null]}"), "`config.Entrypoint[0]`: expected a string" },
	{ CONF("\"config\":{\"User\":0}"), "`config.User`: expected a string" },
	{ CONF("\"config\":{\"ExposedPorts\":{\"http\":{}}}"), "`config.ExposedPorts[\"http\"]`: not a port" },
	{ CONF("\"config\":{\"ExposedPorts\":{\"0/tcp\":{}}}"), "not a port" },
	{ CONF("\"config\":{\"ExposedPorts\":{\"65536\":{}}}"), "not a port" },
	{ CONF("\"config\":{\"ExposedPorts\":{\"80/tcpx\":{}}}"), "protocol must be" },
	{ CONF("\"config\":{\"ExposedPorts\":{\"90-80\":{}}}"), "not a valid port range" },
	{ CONF("\"config\":{\"ExposedPorts\":{\"80\":1}}"), "expected an empty object" },
	{ CONF("\"config\":{\"ExposedPorts\":[\"80\"]}"), "`config.ExposedPorts`: expected an object" },
	{ CONF("\"config\":{\"Volumes\":{\"data\":{}}}"), "`config.Volumes[\"data\"]`: volume path must be absolute" },
	{ CONF("\"config\":{\"Labels\":{\"a\":true}}"), "`config.Labels[\"a\"]`: expected a string" },
	{ CONF("\"config\":{\"StopSignal\":\"SIGAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}"),
	  "`config.StopSignal`: longer than 32 bytes" },
	{ CONF("\"config\":{\"Healthcheck\":[]}"), "`config.Healthcheck`: expected an object" },
	{ CONF("\"config\":{\"Healthcheck\":{\"Test\":[\"RUN\",\"x\"]}}"),
	  "`config.Healthcheck.Test[0]`: `RUN`: expected NONE, CMD or CMD-SHELL" },
	{ CONF("\"config\":{\"Healthcheck\":{\"Test\":[\"CMD-SHELL\",\"a\",\"b\"]}}"),
	  "CMD-SHELL takes exactly one command" },
	{ CONF("\"config\":{\"Healthcheck\":{\"Interval\":-1}}"),
	  "`config.Healthcheck.Interval`: -1 is out of range" },
	{ CONF("\"config\":{\"Healthcheck\":{\"Retries\":4294967296}}"),
	  "`config.Healthcheck.Retries`: 4294967296 is out of range" },
	{ CONF("\"config\":{\"Healthcheck\":{\"Timeout\":\"5s\"}}"),
	  "`config.Healthcheck.Timeout`: expected an integer" },
	{ CONF("\"history\":{}"), "`history`: expected an array" },
	{ CONF("\"history\":[1]"), "`history[0]`: expected an object" },
	{ CONF("\"history\":[{\"empty_layer\":\"yes\"}]"), "`history[0].empty_layer`: expected true or false" },
	{ CONF("\"history\":[{\"created_by\":[]}]"), "`history[0].created_by`: expected a string" },
	{ CONF("\"created\":1"), "`created`: expected a string" },
	{ "{\"architecture\":\"amd64\",\"os\":\"linux\",\"os\":\"linux\"," ROOTFS "}", "duplicate" },
	{ "{\"architecture\":\"amd64\",\"os\":\"li\\u0000nux\"," ROOTFS "}", "NUL" },
};

static void test_bad_configs(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		struct berr *err = NULL;
		struct manifest_config c;
		const char *doc = bad_configs[i].doc;

		if (manifest_config_parse(doc, strlen(doc), &c, &err) != -1)
			fail_msg("accepted: %s", doc);
		if (strstr(err->msg, bad_configs[i].msg) == NULL)
			fail_msg("%s\nerror `%s` does not say `%s`", doc, err->msg, bad_configs[i].msg);
		assert_null(c.env);
		berr_free(err);
	}
}

static void test_config_limits(void **state)
{
	struct berr *err = NULL;
	struct manifest_config c;
	char *s;

	(void) state;
	s = repeat("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		   "\"diff_ids\":[", DG, MANIFEST_LAYERS_MAX + 1, "]}}");
	assert_int_equal(manifest_config_parse(s, strlen(s), &c, &err), -1);
	assert_non_null(strstr(err->msg, "`rootfs.diff_ids`: 129 layers"));
	berr_free(err);
	err = NULL;
	free(s);
	s = repeat("{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS ",\"config\":{\"Env\":[",
		   "\"A=1\"", MANIFEST_ARGS_MAX + 1, "]}}");
	assert_int_equal(manifest_config_parse(s, strlen(s), &c, &err), -1);
	assert_non_null(strstr(err->msg, "`config.Env`: 4097 entries"));
	berr_free(err);
	err = NULL;
	free(s);

	/* One string longer than the bound. */
	size_t n = MANIFEST_STR_MAX + 1;
	char *val = malloc(n + 1);
	assert_non_null(val);
	memset(val, 'u', n);
	val[n] = '\0';
	s = repeat("{\"architecture\":\"amd64\",\"os\":\"linux\"," ROOTFS ",\"config\":{\"User\":\"",
		   val, 1, "\"}}");
	assert_int_equal(manifest_config_parse(s, strlen(s), &c, &err), -1);
	assert_non_null(strstr(err->msg, "`config.User`: longer than"));
	berr_free(err);
	free(s);
	free(val);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_manifest),
		cmocka_unit_test(test_docker_list),
		cmocka_unit_test(test_oci_manifest),
		cmocka_unit_test(test_oci_index),
		cmocka_unit_test(test_shape_detection),
		cmocka_unit_test(test_foreign_and_artifacts),
		cmocka_unit_test(test_media_type_helpers),
		cmocka_unit_test(test_bad_manifests),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_docker_config),
		cmocka_unit_test(test_oci_config),
		cmocka_unit_test(test_config_null_vs_missing),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_config_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
