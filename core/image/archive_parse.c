/* Image archive parsing: entry paths, oci-layout, docker save's manifest.json and
 * repositories, and the names index.json entries carry. All outside input: bounded, checked,
 * errors naming the file and field. */
#include "image/archive.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/platform.h"
#include "image/store.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#define IO_BUF (64 * 1024)
#define INDEX_DEPTH_MAX 4

/* Append to a growing digest list (commands only: xrealloc). */
void arch_digests_add(struct digest **v, size_t *n, const struct digest *d)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = *d;
}

/* ---- paths ---- */

/* Normalise `in` lexically. With `allow_up`, ".." removes the previous component (symlink
 * targets), but may not climb above the root. */
int arch_normalize(const char *in, char *out, size_t size, bool allow_up)
{
	const char *p = in;
	size_t n = 0;

	if (in[0] == '/' || strlen(in) >= size)
		return -1;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t) (end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (!allow_up || n == 0)
				return -1;
			while (n > 0 && out[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	out[n] = '\0';
	return n == 0 ? -1 : 0;
}

int arch_clean_path(const char *in, char *out, size_t size, struct berr **err)
{
	if (in[0] == '/')
		return berr_make(err, EINVAL, "archive entry `%.200s` is an absolute path", in);
	if (strlen(in) >= size || strlen(in) >= ARCH_PATH_MAX)
		return berr_make(err, ENAMETOOLONG, "archive entry `%.200s...`: path too long", in);
	if (arch_normalize(in, out, size, false) < 0) {
		/* "./" alone (the root directory) is harmless; anything with ".." is not. */
		if (strstr(in, "..") == NULL)
			return (out[0] = '\0', 0);
		return berr_make(err, EINVAL, "archive entry `%.200s` escapes the archive root", in);
	}
	return 0;
}

/* ---- parsers ---- */

static json_t *load_json(const char *data, size_t len, const char *what, struct berr **err)
{
	json_error_t je;
	json_t *root;

	if (len > ARCH_META_MAX)
		return berr_make(err, EFBIG, "`%s`: larger than %u bytes", what, ARCH_META_MAX), NULL;
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		berr_make(err, 0, "`%s`: line %d column %d: %s", what, je.line, je.column, je.text);
	return root;
}

int arch_parse_oci_layout(const char *data, size_t len, struct berr **err)
{
	json_t *root = load_json(data, len, "oci-layout", err), *v;
	int ret = 0;

	if (root == NULL)
		return -1;
	v = json_object_get(root, "imageLayoutVersion");
	if (!json_is_string(v))
		ret = berr_make(err, 0, "`oci-layout`: `imageLayoutVersion` is missing or not a string");
	else if (!str_has_prefix(json_string_value(v), "1.0."))
		ret = berr_make(err, 0, "`oci-layout`: image layout version `%.40s` is not supported "
				"(berth reads 1.0.x)", json_string_value(v));
	json_decref(root);
	return ret;
}

static int strv_from(json_t *arr, const char *what, size_t max_n, char ***out, size_t *n,
		     struct berr **err)
{
	size_t cnt;

	*out = NULL;
	*n = 0;
	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return berr_make(err, 0, "`%s`: expected an array of strings", what);
	cnt = json_array_size(arr);
	if (cnt > max_n)
		return berr_make(err, 0, "`%s`: %zu entries, more than the %zu berth allows", what, cnt, max_n);
	*out = xcalloc(cnt ? cnt : 1, sizeof(char *));
	for (size_t i = 0; i < cnt; i++) {
		json_t *s = json_array_get(arr, i);
		if (!json_is_string(s) || json_string_length(s) == 0 || json_string_length(s) >= ARCH_PATH_MAX ||
		    strlen(json_string_value(s)) != json_string_length(s))
			return berr_make(err, 0, "`%s[%zu]`: expected a non-empty string of at most %d "
					 "bytes", what, i, ARCH_PATH_MAX - 1);
		(*out)[i] = xstrdup(json_string_value(s));
		*n = i + 1;
	}
	return 0;
}

void arch_docker_manifest_free(struct arch_docker_manifest *m)
{
	for (size_t i = 0; i < m->n; i++) {
		struct arch_docker_image *im = &m->v[i];
		free(im->config);
		for (size_t k = 0; k < im->n_repo_tags; k++)
			free(im->repo_tags[k]);
		free(im->repo_tags);
		for (size_t k = 0; k < im->n_layers; k++)
			free(im->layers[k]);
		free(im->layers);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int arch_parse_docker_manifest(const char *data, size_t len, struct arch_docker_manifest *out,
			       struct berr **err)
{
	json_t *root = load_json(data, len, "manifest.json", err);
	char what[64];
	size_t cnt;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (root == NULL)
		return -1;
	if (!json_is_array(root)) {
		berr_make(err, 0, "`manifest.json`: expected an array of images");
		goto out;
	}
	cnt = json_array_size(root);
	if (cnt == 0 || cnt > ARCH_IMAGES_MAX) {
		berr_make(err, 0, "`manifest.json`: %zu images; expected 1 to %d", cnt, ARCH_IMAGES_MAX);
		goto out;
	}
	out->v = xcalloc(cnt, sizeof(*out->v));
	for (size_t i = 0; i < cnt; i++) {
		struct arch_docker_image *im = &out->v[i];
		json_t *o = json_array_get(root, i), *c;

		out->n = i + 1;
		if (!json_is_object(o)) {
			berr_make(err, 0, "`manifest.json[%zu]`: expected an object", i);
			goto out;
		}
		c = json_object_get(o, "Config");
		if (!json_is_string(c) || json_string_length(c) == 0 || json_string_length(c) >= ARCH_PATH_MAX ||
		    strlen(json_string_value(c)) != json_string_length(c)) {
			berr_make(err, 0, "`manifest.json[%zu].Config`: missing or not a path", i);
			goto out;
		}
		im->config = xstrdup(json_string_value(c));
		snprintf(what, sizeof(what), "manifest.json[%zu].RepoTags", i);
		if (strv_from(json_object_get(o, "RepoTags"), what, ARCH_TAGS_MAX, &im->repo_tags,
			      &im->n_repo_tags, err) < 0)
			goto out;
		snprintf(what, sizeof(what), "manifest.json[%zu].Layers", i);
		if (json_object_get(o, "Layers") == NULL) {
			berr_make(err, 0, "`%s`: missing", what);
			goto out;
		}
		if (strv_from(json_object_get(o, "Layers"), what, MANIFEST_LAYERS_MAX, &im->layers,
			      &im->n_layers, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret < 0)
		arch_docker_manifest_free(out);
	json_decref(root);
	return ret;
}

void arch_repo_tags_free(struct arch_repo_tag *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].id);
	}
	free(v);
}

int arch_parse_repositories(const char *data, size_t len, struct arch_repo_tag **out, size_t *n,
			    struct berr **err)
{
	json_t *root = load_json(data, len, "repositories", err), *tags, *id;
	const char *repo, *tag;
	struct arch_repo_tag *v = NULL;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (root == NULL)
		return -1;
	if (!json_is_object(root)) {
		json_decref(root);
		return berr_make(err, 0, "`repositories`: expected an object");
	}
	json_object_foreach(root, repo, tags) {
		if (!json_is_object(tags)) {
			berr_make(err, 0, "`repositories`: `%.80s`: expected an object of tags", repo);
			goto fail;
		}
		json_object_foreach(tags, tag, id) {
			if (cnt >= ARCH_TAGS_MAX * 4) {
				berr_make(err, 0, "`repositories`: more than %d tags", ARCH_TAGS_MAX * 4);
				goto fail;
			}
			if (!json_is_string(id) || !digest_hex_valid(json_string_value(id)) ||
			    strlen(repo) + strlen(tag) + 2 > ARCH_PATH_MAX) {
				berr_make(err, 0, "`repositories`: `%.80s:%.40s`: expected a 64-hex layer id",
					  repo, tag);
				goto fail;
			}
			v = xrealloc(v, (cnt + 1) * sizeof(*v));
			v[cnt].name = xasprintf("%s:%s", repo, tag);
			v[cnt].id = xstrdup(json_string_value(id));
			cnt++;
		}
	}
	json_decref(root);
	*out = v;
	*n = cnt;
	return 0;
fail:
	arch_repo_tags_free(v, cnt);
	json_decref(root);
	return -1;
}

static const char *annotation(const struct manifest_descriptor *d, const char *key)
{
	for (size_t i = 0; i < d->n_annotations; i++)
		if (strcmp(d->annotations[i].key, key) == 0)
			return d->annotations[i].value;
	return NULL;
}

int arch_index_entry_key(const struct manifest_descriptor *d, const char *default_registry,
			 char *key, size_t size, struct berr **err)
{
	const char *name = annotation(d, ARCH_ANN_IMAGE_NAME);

	key[0] = '\0';
	if (name == NULL) {
		name = annotation(d, ARCH_ANN_REF_NAME);
		/* image-layout.md lets ref.name be a bare tag (`latest`, `v1`): that names no
		 * repository, so the image is loaded without a name. */
		if (name == NULL || strpbrk(name, "/:@") == NULL)
			return 0;
	}
	if (img_name_key(name, default_registry, key, size, err) < 0)
		return berr_wrap(err, "index.json: image name `%.120s`", name);
	return 0;
}

