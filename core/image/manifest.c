/* Manifest, index and image-config parsing with jansson (OCI image-spec manifest.md,
 * image-index.md, config.md, descriptor.md; Docker Image Manifest V2 Schema 2). Unknown fields
 * are ignored, as the specs require; known fields of the wrong type are errors. */
#include "manifest.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#define PATH_LEN 128 /* field paths in messages: "manifests[12].platform.architecture" */
#define URL_MAX 4096
#define SIGNAL_MAX 32
#define PATHNAME_MAX 4096

/* Quote at most 80 bytes of outside input, printable ASCII only, for error messages. */
static const char *quote(const char *s, char buf[96])
{
	size_t i, o = 0;

	for (i = 0; s[i] && o < 80; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static int ferr(struct berr **err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ferr(struct berr **err, const char *path, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return berr_make(err, 0, "`%s`: %s", path, msg);
}

/* A field path for messages; truncation is harmless there. */
static const char *pathf(char buf[PATH_LEN], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *pathf(char buf[PATH_LEN], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PATH_LEN, fmt, ap);
	va_end(ap);
	return buf;
}

/* "parent.key" */
static const char *join(char buf[PATH_LEN], const char *parent, const char *key)
{
	return pathf(buf, "%s%s%s", parent, parent[0] ? "." : "", key);
}

/* "parent[i]" */
static const char *index_of(char buf[PATH_LEN], const char *parent, size_t i)
{
	return pathf(buf, "%s[%zu]", parent, i);
}

static json_t *parse_json(const void *data, size_t len, const char *what, struct berr **err)
{
	json_error_t jerr;
	json_t *root;

	if (len > MANIFEST_SIZE_MAX) {
		berr_make(err, EFBIG, "%s is larger than %u bytes", what, MANIFEST_SIZE_MAX);
		return NULL;
	}
	/* Duplicate keys are refused: two parsers must never see two different documents. */
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		berr_make(err, 0, "%s is not valid JSON: line %d column %d: %s", what, jerr.line,
			  jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		berr_make(err, 0, "%s is not a JSON object", what);
		return NULL;
	}
	return root;
}

/* ---- typed getters: missing and null are the same ("not set") ---- */

static json_t *get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_null(v) ? NULL : v;
}

static int check_string(json_t *v, const char *path, size_t max, struct berr **err)
{
	if (!json_is_string(v))
		return ferr(err, path, "expected a string");
	if (json_string_length(v) > max)
		return ferr(err, path, "longer than %zu bytes", max);
	return 0;
}

static int dup_string(json_t *v, const char *path, size_t max, char **out, struct berr **err)
{
	if (check_string(v, path, max, err) < 0)
		return -1;
	*out = strdup(json_string_value(v));
	if (*out == NULL)
		return berr_make(err, ENOMEM, "%s", path);
	return 0;
}

static int get_string(json_t *obj, const char *key, const char *parent, bool required,
		      size_t max, char **out, struct berr **err)
{
	char p[PATH_LEN];
	json_t *v = get(obj, key);

	*out = NULL;
	if (v == NULL)
		return required ? ferr(err, join(p, parent, key), "missing") : 0;
	return dup_string(v, join(p, parent, key), max, out, err);
}

/* A non-negative JSON integer. */
static int get_int(json_t *obj, const char *key, const char *parent, bool required,
		   int64_t max, int64_t *out, struct berr **err)
{
	char p[PATH_LEN];
	json_t *v = get(obj, key);

	*out = 0;
	if (v == NULL)
		return required ? ferr(err, join(p, parent, key), "missing") : 0;
	if (!json_is_integer(v))
		return ferr(err, join(p, parent, key), "expected an integer");
	if (json_integer_value(v) < 0 || json_integer_value(v) > max)
		return ferr(err, join(p, parent, key), "%lld is out of range 0..%lld",
			    (long long) json_integer_value(v), (long long) max);
	*out = json_integer_value(v);
	return 0;
}

static void free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* An array of strings; `single_string` also takes a lone string as one element (Docker's
 * Entrypoint and Cmd). *present tells set-but-empty from unset. */
static int get_strv(json_t *obj, const char *key, const char *parent, size_t max_n,
		    size_t max_len, bool single_string, char ***out, size_t *n, bool *present,
		    struct berr **err)
{
	char p[PATH_LEN], pi[PATH_LEN];
	json_t *v = get(obj, key);
	size_t cnt;

	*out = NULL;
	*n = 0;
	if (present)
		*present = v != NULL;
	if (v == NULL)
		return 0;
	join(p, parent, key);
	if (single_string && json_is_string(v)) {
		*out = calloc(1, sizeof(char *));
		if (*out == NULL)
			return berr_make(err, ENOMEM, "%s", p);
		*n = 1;
		return dup_string(v, p, max_len, &(*out)[0], err);
	}
	if (!json_is_array(v))
		return ferr(err, p, single_string ? "expected an array of strings or a string"
						  : "expected an array of strings");
	cnt = json_array_size(v);
	if (cnt > max_n)
		return ferr(err, p, "%zu entries, more than the %zu allowed", cnt, max_n);
	*out = calloc(cnt ? cnt : 1, sizeof(char *));
	if (*out == NULL)
		return berr_make(err, ENOMEM, "%s", p);
	*n = cnt;
	for (size_t i = 0; i < cnt; i++)
		if (dup_string(json_array_get(v, i), index_of(pi, p, i), max_len, &(*out)[i], err) < 0)
			return -1;
	return 0;
}

static void free_kv(struct manifest_kv *kv, size_t n)
{
	if (kv == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

/* An object of string values (annotations, Labels). */
static int get_kv(json_t *obj, const char *key, const char *parent, size_t max_n,
		  struct manifest_kv **out, size_t *n, struct berr **err)
{
	char p[PATH_LEN], pk[PATH_LEN];
	json_t *v = get(obj, key), *val;
	const char *k;
	size_t cnt, i = 0;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	join(p, parent, key);
	if (!json_is_object(v))
		return ferr(err, p, "expected an object of strings");
	cnt = json_object_size(v);
	if (cnt > max_n)
		return ferr(err, p, "%zu entries, more than the %zu allowed", cnt, max_n);
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (*out == NULL)
		return berr_make(err, ENOMEM, "%s", p);
	*n = cnt;
	json_object_foreach(v, k, val) {
		char q[96];
		pathf(pk, "%s[\"%s\"]", p, quote(k, q));
		if (strlen(k) > MANIFEST_STR_MAX)
			return ferr(err, p, "a key is longer than %u bytes", MANIFEST_STR_MAX);
		if (dup_string(val, pk, MANIFEST_STR_MAX, &(*out)[i].value, err) < 0)
			return -1;
		(*out)[i].key = strdup(k);
		if ((*out)[i].key == NULL)
			return berr_make(err, ENOMEM, "%s", p);
		i++;
	}
	return 0;
}

/* The keys of an object whose values are empty objects (ExposedPorts, Volumes). `check`
 * returns NULL if a key is fine, else why not. */
static int get_keys(json_t *obj, const char *key, const char *parent, size_t max_n,
		    size_t max_len, const char *(*check)(const char *), char ***out, size_t *n,
		    struct berr **err)
{
	char p[PATH_LEN], pk[PATH_LEN], q[96];
	json_t *v = get(obj, key), *val;
	const char *k, *why;
	size_t cnt, i = 0;

	*out = NULL;
	*n = 0;
	if (v == NULL)
		return 0;
	join(p, parent, key);
	if (!json_is_object(v))
		return ferr(err, p, "expected an object");
	cnt = json_object_size(v);
	if (cnt > max_n)
		return ferr(err, p, "%zu entries, more than the %zu allowed", cnt, max_n);
	*out = calloc(cnt ? cnt : 1, sizeof(char *));
	if (*out == NULL)
		return berr_make(err, ENOMEM, "%s", p);
	*n = cnt;
	json_object_foreach(v, k, val) {
		pathf(pk, "%s[\"%s\"]", p, quote(k, q));
		if (!json_is_object(val) && !json_is_null(val))
			return ferr(err, pk, "expected an empty object");
		if (strlen(k) > max_len)
			return ferr(err, pk, "longer than %zu bytes", max_len);
		if (check && (why = check(k)) != NULL)
			return ferr(err, pk, "%s", why);
		(*out)[i] = strdup(k);
		if ((*out)[i] == NULL)
			return berr_make(err, ENOMEM, "%s", p);
		i++;
	}
	return 0;
}

/* ---- media types ---- */

static const struct {
	const char *type;
	enum manifest_kind kind;
} kinds[] = {
	{ MT_OCI_MANIFEST, MANIFEST_OCI_MANIFEST },
	{ MT_OCI_INDEX, MANIFEST_OCI_INDEX },
	{ MT_DOCKER_MANIFEST, MANIFEST_DOCKER_MANIFEST },
	{ MT_DOCKER_LIST, MANIFEST_DOCKER_LIST },
};

/* Compare a media type, ignoring parameters and surrounding blanks ("type; charset=x"). */
static bool media_type_is(const char *mt, const char *want)
{
	size_t n = strlen(want);

	while (*mt == ' ' || *mt == '\t')
		mt++;
	if (strncmp(mt, want, n) != 0)
		return false;
	mt += n;
	while (*mt == ' ' || *mt == '\t')
		mt++;
	return *mt == '\0' || *mt == ';';
}

enum manifest_kind manifest_kind_of(const char *media_type)
{
	if (media_type == NULL)
		return MANIFEST_UNKNOWN;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (media_type_is(media_type, kinds[i].type))
			return kinds[i].kind;
	return MANIFEST_UNKNOWN;
}

bool manifest_kind_is_index(enum manifest_kind kind)
{
	return kind == MANIFEST_OCI_INDEX || kind == MANIFEST_DOCKER_LIST;
}

static const char *kind_media_type(enum manifest_kind kind)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (kinds[i].kind == kind)
			return kinds[i].type;
	return "";
}

static bool is_schema1(const char *mt)
{
	return mt != NULL &&
	       (media_type_is(mt, "application/vnd.docker.distribution.manifest.v1+json") ||
		media_type_is(mt, "application/vnd.docker.distribution.manifest.v1+prettyjws"));
}

/* OCI image-spec layer.md and media-types.md; Docker's schema2 layer types. */
static const struct {
	const char *type;
	enum manifest_layer_format format;
	bool foreign;
} layer_types[] = {
	{ "application/vnd.oci.image.layer.v1.tar", LAYER_TAR, false },
	{ "application/vnd.oci.image.layer.v1.tar+gzip", LAYER_TAR_GZIP, false },
	{ "application/vnd.oci.image.layer.v1.tar+zstd", LAYER_TAR_ZSTD, false },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar", LAYER_TAR, true },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LAYER_TAR_GZIP, true },
	{ "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LAYER_TAR_ZSTD, true },
	{ "application/vnd.docker.image.rootfs.diff.tar", LAYER_TAR, false },
	{ "application/vnd.docker.image.rootfs.diff.tar.gzip", LAYER_TAR_GZIP, false },
	{ "application/vnd.docker.image.rootfs.diff.tar.zstd", LAYER_TAR_ZSTD, false },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar", LAYER_TAR, true },
	{ "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LAYER_TAR_GZIP, true },
};

enum manifest_layer_format manifest_layer_format_of(const char *media_type, bool *foreign)
{
	if (foreign)
		*foreign = false;
	if (media_type == NULL)
		return LAYER_UNKNOWN;
	for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++)
		if (strcmp(media_type, layer_types[i].type) == 0) {
			if (foreign)
				*foreign = layer_types[i].foreign;
			return layer_types[i].format;
		}
	return LAYER_UNKNOWN;
}

/* type "/" subtype, visible ASCII, no blanks (RFC 6838 names, plus "+" suffixes). */
static bool media_type_ok(const char *s)
{
	const char *slash = strchr(s, '/');

	if (slash == NULL || slash == s || slash[1] == '\0' || strchr(slash + 1, '/'))
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

/* ---- descriptors ---- */

static void descriptor_free(struct manifest_descriptor *d)
{
	free(d->media_type);
	free_kv(d->annotations, d->n_annotations);
	free_strv(d->urls, d->n_urls);
	memset(d, 0, sizeof(*d));
}

static int parse_platform(json_t *v, const char *path, struct platform *out, struct berr **err)
{
	json_t *os, *arch, *variant;
	char p[PATH_LEN];

	if (!json_is_object(v))
		return ferr(err, path, "expected an object");
	os = get(v, "os");
	arch = get(v, "architecture");
	variant = get(v, "variant");
	if (os == NULL)
		return ferr(err, join(p, path, "os"), "missing");
	if (arch == NULL)
		return ferr(err, join(p, path, "architecture"), "missing");
	if (check_string(os, join(p, path, "os"), PLATFORM_FIELD_MAX, err) < 0 ||
	    check_string(arch, join(p, path, "architecture"), PLATFORM_FIELD_MAX, err) < 0 ||
	    (variant && check_string(variant, join(p, path, "variant"), PLATFORM_FIELD_MAX, err) < 0))
		return -1;
	if (platform_set(out, json_string_value(os), json_string_value(arch),
			 variant ? json_string_value(variant) : NULL, err) < 0)
		return berr_wrap(err, "`%s`", path);
	return 0;
}

static int parse_descriptor(json_t *v, const char *path, struct manifest_descriptor *d,
			    struct berr **err)
{
	char p[PATH_LEN], q[96];
	json_t *jd, *pl;
	int64_t size;

	memset(d, 0, sizeof(*d));
	if (!json_is_object(v))
		return ferr(err, path, "expected a descriptor object");
	if (get_string(v, "mediaType", path, true, MANIFEST_MEDIA_TYPE_MAX, &d->media_type, err) < 0)
		return -1;
	if (!media_type_ok(d->media_type))
		return ferr(err, join(p, path, "mediaType"), "`%s` is not a media type",
			    quote(d->media_type, q));
	jd = get(v, "digest");
	if (jd == NULL)
		return ferr(err, join(p, path, "digest"), "missing");
	if (check_string(jd, join(p, path, "digest"), DIGEST_STR_LEN + 64, err) < 0 ||
	    digest_parse(json_string_value(jd), join(p, path, "digest"), &d->digest, err) < 0)
		return -1;
	if (get_int(v, "size", path, true, INT64_MAX, &size, err) < 0)
		return -1;
	d->size = (uint64_t) size;
	if (get_kv(v, "annotations", path, MANIFEST_ANNOTATIONS_MAX, &d->annotations,
		   &d->n_annotations, err) < 0 ||
	    get_strv(v, "urls", path, MANIFEST_URLS_MAX, URL_MAX, false, &d->urls, &d->n_urls, NULL,
		     err) < 0)
		return -1;
	pl = get(v, "platform");
	if (pl != NULL) {
		if (parse_platform(pl, join(p, path, "platform"), &d->platform, err) < 0)
			return -1;
		d->has_platform = true;
	}
	d->format = manifest_layer_format_of(d->media_type, &d->foreign);
	return 0;
}

static int parse_descriptors(json_t *obj, const char *key, size_t max_n,
			     struct manifest_descriptor **out, size_t *n, struct berr **err)
{
	char pi[PATH_LEN];
	json_t *v = get(obj, key);
	size_t cnt;

	if (v == NULL)
		return ferr(err, key, "missing");
	if (!json_is_array(v))
		return ferr(err, key, "expected an array of descriptors");
	cnt = json_array_size(v);
	if (cnt > max_n)
		return ferr(err, key, "%zu entries, more than the %zu berth allows", cnt, max_n);
	*out = calloc(cnt ? cnt : 1, sizeof(**out));
	if (*out == NULL)
		return berr_make(err, ENOMEM, "%s", key);
	*n = cnt;
	for (size_t i = 0; i < cnt; i++)
		if (parse_descriptor(json_array_get(v, i), index_of(pi, key, i), &(*out)[i], err) < 0)
			return -1;
	return 0;
}

/* ---- manifests and indexes ---- */

void manifest_free(struct manifest *m)
{
	descriptor_free(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_free(&m->layers[i]);
	free(m->layers);
	for (size_t i = 0; i < m->n_manifests; i++)
		descriptor_free(&m->manifests[i]);
	free(m->manifests);
	free_kv(m->annotations, m->n_annotations);
	memset(m, 0, sizeof(*m));
}

static int pick_kind(json_t *root, const char *content_type, enum manifest_kind *kind,
		     struct berr **err)
{
	json_t *mt = json_object_get(root, "mediaType");
	enum manifest_kind ct_kind = manifest_kind_of(content_type);
	bool has_manifests = json_object_get(root, "manifests") != NULL;
	bool has_image = json_object_get(root, "config") != NULL ||
			 json_object_get(root, "layers") != NULL;
	char q[96], q2[96];

	if (is_schema1(content_type))
		goto schema1;
	if (mt != NULL && !json_is_null(mt)) {
		if (check_string(mt, "mediaType", MANIFEST_MEDIA_TYPE_MAX, err) < 0)
			return -1;
		if (is_schema1(json_string_value(mt)))
			goto schema1;
		*kind = manifest_kind_of(json_string_value(mt));
		if (*kind == MANIFEST_UNKNOWN)
			return ferr(err, "mediaType", "`%s` is not a manifest or index type berth "
				    "supports", quote(json_string_value(mt), q));
		/* distribution-spec: the document's mediaType must match the Content-Type. */
		if (ct_kind != MANIFEST_UNKNOWN && ct_kind != *kind)
			return ferr(err, "mediaType", "`%s` does not match the Content-Type `%s`",
				    quote(json_string_value(mt), q), quote(content_type, q2));
	} else if (ct_kind != MANIFEST_UNKNOWN) {
		*kind = ct_kind;
	} else if (has_manifests && has_image) {
		return berr_make(err, 0, "manifest has no mediaType and has both `manifests` and "
				 "`config`/`layers`: cannot tell an index from an image manifest");
	} else if (has_manifests) {
		*kind = MANIFEST_OCI_INDEX;
	} else if (has_image) {
		*kind = MANIFEST_OCI_MANIFEST;
	} else {
		json_t *sv = json_object_get(root, "schemaVersion");
		if (json_is_integer(sv) && json_integer_value(sv) == 1)
			goto schema1;
		return berr_make(err, 0, "manifest has no mediaType, `manifests` or `layers`: not an "
				 "image manifest or index");
	}
	/* A document must not be readable as both kinds (image-spec, "Security considerations"). */
	if (manifest_kind_is_index(*kind) && has_image)
		return berr_make(err, 0, "%s has `config` or `layers`, which only an image manifest "
				 "may have", kind_media_type(*kind));
	if (!manifest_kind_is_index(*kind) && has_manifests)
		return berr_make(err, 0, "%s has `manifests`, which only an index may have",
				 kind_media_type(*kind));
	return 0;
schema1:
	return berr_make(err, 0, "Docker schema 1 manifests are not supported: push the image again "
			 "with a current tool (schema 2 or OCI)");
}

int manifest_parse(const void *data, size_t len, const char *content_type, struct manifest *out,
		   struct berr **err)
{
	json_t *root;
	int64_t sv;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	root = parse_json(data, len, "manifest", err);
	if (root == NULL)
		return -1;
	if (pick_kind(root, content_type, &out->kind, err) < 0)
		goto out;
	out->media_type = kind_media_type(out->kind);
	if (get_int(root, "schemaVersion", "", true, INT_MAX, &sv, err) < 0)
		goto out;
	if (sv != 2) {
		ferr(err, "schemaVersion", "%lld, expected 2", (long long) sv);
		goto out;
	}
	if (get_kv(root, "annotations", "", MANIFEST_ANNOTATIONS_MAX, &out->annotations,
		   &out->n_annotations, err) < 0)
		goto out;
	if (manifest_kind_is_index(out->kind)) {
		if (parse_descriptors(root, "manifests", MANIFEST_ENTRIES_MAX, &out->manifests,
				      &out->n_manifests, err) < 0)
			goto out;
	} else {
		json_t *cfg = get(root, "config");
		if (cfg == NULL) {
			ferr(err, "config", "missing");
			goto out;
		}
		if (parse_descriptor(cfg, "config", &out->config, err) < 0)
			goto out;
		if (parse_descriptors(root, "layers", MANIFEST_LAYERS_MAX, &out->layers,
				      &out->n_layers, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		berr_wrap(err, "%s", out->kind ? out->media_type : "manifest");
		manifest_free(out);
	}
	json_decref(root);
	return ret;
}

/* ---- image config ---- */

static void healthcheck_free(struct manifest_healthcheck *h)
{
	if (h == NULL)
		return;
	free_strv(h->test, h->n_test);
	free(h);
}

void manifest_config_free(struct manifest_config *c)
{
	free(c->created);
	free(c->author);
	free(c->user);
	free_strv(c->env, c->n_env);
	free_strv(c->entrypoint, c->n_entrypoint);
	free_strv(c->cmd, c->n_cmd);
	free(c->working_dir);
	free_strv(c->exposed_ports, c->n_exposed_ports);
	free_strv(c->volumes, c->n_volumes);
	healthcheck_free(c->healthcheck);
	free(c->stop_signal);
	free_kv(c->labels, c->n_labels);
	free(c->diff_ids);
	for (size_t i = 0; i < c->n_history; i++) {
		free(c->history[i].created);
		free(c->history[i].created_by);
		free(c->history[i].author);
		free(c->history[i].comment);
	}
	free(c->history);
	memset(c, 0, sizeof(*c));
}

static bool parse_port(const char **s, unsigned *out)
{
	unsigned v = 0;
	int digits = 0;

	while (**s >= '0' && **s <= '9') {
		v = v * 10 + (unsigned) (**s - '0');
		(*s)++;
		if (++digits > 5)
			return false;
	}
	*out = v;
	return digits > 0 && v >= 1 && v <= 65535;
}

/* "<port>[-<port>][/tcp|/udp|/sctp]", as Docker's EXPOSE writes them. */
static const char *check_port(const char *k)
{
	unsigned lo, hi;

	if (!parse_port(&k, &lo))
		return "not a port (1-65535) optionally followed by /tcp, /udp or /sctp";
	if (*k == '-') {
		k++;
		if (!parse_port(&k, &hi) || hi < lo)
			return "not a valid port range";
	}
	if (*k == '\0' || strcmp(k, "/tcp") == 0 || strcmp(k, "/udp") == 0 ||
	    strcmp(k, "/sctp") == 0)
		return NULL;
	return "protocol must be tcp, udp or sctp";
}

static const char *check_volume(const char *k)
{
	return k[0] == '/' ? NULL : "volume path must be absolute";
}

static int parse_healthcheck(json_t *v, const char *path, struct manifest_healthcheck **out,
			     struct berr **err)
{
	struct manifest_healthcheck *h;
	int64_t retries;

	if (!json_is_object(v))
		return ferr(err, path, "expected an object");
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return berr_make(err, ENOMEM, "%s", path);
	*out = h;
	if (get_strv(v, "Test", path, MANIFEST_ARGS_MAX, MANIFEST_STR_MAX, false, &h->test,
		     &h->n_test, NULL, err) < 0 ||
	    get_int(v, "Interval", path, false, INT64_MAX, &h->interval_ns, err) < 0 ||
	    get_int(v, "Timeout", path, false, INT64_MAX, &h->timeout_ns, err) < 0 ||
	    get_int(v, "StartPeriod", path, false, INT64_MAX, &h->start_period_ns, err) < 0 ||
	    get_int(v, "StartInterval", path, false, INT64_MAX, &h->start_interval_ns, err) < 0 ||
	    get_int(v, "Retries", path, false, INT_MAX, &retries, err) < 0)
		return -1;
	h->retries = (int) retries;
	if (h->test != NULL && h->n_test > 0) {
		const char *t = h->test[0];
		char p[PATH_LEN], q[96];
		if (strcmp(t, "NONE") != 0 && strcmp(t, "CMD") != 0 && strcmp(t, "CMD-SHELL") != 0)
			return ferr(err, join(p, path, "Test[0]"),
				    "`%s`: expected NONE, CMD or CMD-SHELL", quote(t, q));
		if (strcmp(t, "CMD-SHELL") == 0 && h->n_test != 2)
			return ferr(err, join(p, path, "Test"), "CMD-SHELL takes exactly one command");
	}
	return 0;
}

static int parse_container_config(json_t *v, struct manifest_config *c, struct berr **err)
{
	const char *P = "config";
	json_t *hc;

	if (!json_is_object(v))
		return ferr(err, P, "expected an object");
	if (get_string(v, "User", P, false, MANIFEST_STR_MAX, &c->user, err) < 0 ||
	    get_strv(v, "Env", P, MANIFEST_ARGS_MAX, MANIFEST_STR_MAX, false, &c->env, &c->n_env,
		     NULL, err) < 0 ||
	    get_strv(v, "Entrypoint", P, MANIFEST_ARGS_MAX, MANIFEST_STR_MAX, true, &c->entrypoint,
		     &c->n_entrypoint, &c->has_entrypoint, err) < 0 ||
	    get_strv(v, "Cmd", P, MANIFEST_ARGS_MAX, MANIFEST_STR_MAX, true, &c->cmd, &c->n_cmd,
		     &c->has_cmd, err) < 0 ||
	    get_string(v, "WorkingDir", P, false, PATHNAME_MAX, &c->working_dir, err) < 0 ||
	    get_keys(v, "ExposedPorts", P, MANIFEST_MAP_MAX, 32, check_port, &c->exposed_ports,
		     &c->n_exposed_ports, err) < 0 ||
	    get_keys(v, "Volumes", P, MANIFEST_MAP_MAX, PATHNAME_MAX, check_volume, &c->volumes,
		     &c->n_volumes, err) < 0 ||
	    get_string(v, "StopSignal", P, false, SIGNAL_MAX, &c->stop_signal, err) < 0 ||
	    get_kv(v, "Labels", P, MANIFEST_MAP_MAX, &c->labels, &c->n_labels, err) < 0)
		return -1;
	hc = get(v, "Healthcheck");
	if (hc != NULL && parse_healthcheck(hc, "config.Healthcheck", &c->healthcheck, err) < 0)
		return -1;
	return 0;
}

static int parse_rootfs(json_t *v, struct manifest_config *c, struct berr **err)
{
	char pi[PATH_LEN];
	json_t *type, *ids;
	size_t cnt;

	if (v == NULL)
		return ferr(err, "rootfs", "missing");
	if (!json_is_object(v))
		return ferr(err, "rootfs", "expected an object");
	type = get(v, "type");
	if (type == NULL)
		return ferr(err, "rootfs.type", "missing");
	if (!json_is_string(type) || strcmp(json_string_value(type), "layers") != 0)
		return ferr(err, "rootfs.type", "expected \"layers\"");
	ids = get(v, "diff_ids");
	if (ids == NULL)
		return ferr(err, "rootfs.diff_ids", "missing");
	if (!json_is_array(ids))
		return ferr(err, "rootfs.diff_ids", "expected an array of digests");
	cnt = json_array_size(ids);
	if (cnt > MANIFEST_LAYERS_MAX)
		return ferr(err, "rootfs.diff_ids", "%zu layers, more than the %d berth allows", cnt,
			    MANIFEST_LAYERS_MAX);
	c->diff_ids = calloc(cnt ? cnt : 1, sizeof(*c->diff_ids));
	if (c->diff_ids == NULL)
		return berr_make(err, ENOMEM, "rootfs.diff_ids");
	c->n_diff_ids = cnt;
	for (size_t i = 0; i < cnt; i++) {
		json_t *d = json_array_get(ids, i);
		index_of(pi, "rootfs.diff_ids", i);
		if (check_string(d, pi, DIGEST_STR_LEN + 64, err) < 0 ||
		    digest_parse(json_string_value(d), pi, &c->diff_ids[i], err) < 0)
			return -1;
	}
	return 0;
}

static int parse_history(json_t *v, struct manifest_config *c, struct berr **err)
{
	char pi[PATH_LEN], p[PATH_LEN];
	size_t cnt;

	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return ferr(err, "history", "expected an array");
	cnt = json_array_size(v);
	if (cnt > MANIFEST_HISTORY_MAX)
		return ferr(err, "history", "%zu entries, more than the %d berth allows", cnt,
			    MANIFEST_HISTORY_MAX);
	c->history = calloc(cnt ? cnt : 1, sizeof(*c->history));
	if (c->history == NULL)
		return berr_make(err, ENOMEM, "history");
	c->n_history = cnt;
	for (size_t i = 0; i < cnt; i++) {
		struct manifest_history *h = &c->history[i];
		json_t *e = json_array_get(v, i), *empty;

		index_of(pi, "history", i);
		if (!json_is_object(e))
			return ferr(err, pi, "expected an object");
		if (get_string(e, "created", pi, false, 64, &h->created, err) < 0 ||
		    get_string(e, "created_by", pi, false, MANIFEST_STR_MAX, &h->created_by, err) < 0 ||
		    get_string(e, "author", pi, false, MANIFEST_STR_MAX, &h->author, err) < 0 ||
		    get_string(e, "comment", pi, false, MANIFEST_STR_MAX, &h->comment, err) < 0)
			return -1;
		empty = get(e, "empty_layer");
		if (empty != NULL && !json_is_boolean(empty))
			return ferr(err, join(p, pi, "empty_layer"), "expected true or false");
		h->empty_layer = json_is_true(empty);
	}
	return 0;
}

int manifest_config_parse(const void *data, size_t len, struct manifest_config *out,
			  struct berr **err)
{
	json_t *root, *os, *arch, *variant, *cfg;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	root = parse_json(data, len, "image config", err);
	if (root == NULL)
		return -1;
	os = get(root, "os");
	arch = get(root, "architecture");
	variant = get(root, "variant");
	if (os == NULL) {
		ferr(err, "os", "missing");
		goto out;
	}
	if (arch == NULL) {
		ferr(err, "architecture", "missing");
		goto out;
	}
	if (check_string(os, "os", PLATFORM_FIELD_MAX, err) < 0 ||
	    check_string(arch, "architecture", PLATFORM_FIELD_MAX, err) < 0 ||
	    (variant && check_string(variant, "variant", PLATFORM_FIELD_MAX, err) < 0) ||
	    platform_set(&out->platform, json_string_value(os), json_string_value(arch),
			 variant ? json_string_value(variant) : NULL, err) < 0)
		goto out;
	if (get_string(root, "created", "", false, 64, &out->created, err) < 0 ||
	    get_string(root, "author", "", false, MANIFEST_STR_MAX, &out->author, err) < 0)
		goto out;
	cfg = get(root, "config");
	if (cfg != NULL && parse_container_config(cfg, out, err) < 0)
		goto out;
	if (parse_rootfs(get(root, "rootfs"), out, err) < 0 ||
	    parse_history(get(root, "history"), out, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		berr_wrap(err, "image config");
		manifest_config_free(out);
	}
	json_decref(root);
	return ret;
}
