/* Images in the store: resolving a user's reference through refs.json, reading an image's
 * manifest and config back from the blob store, and listing what the refs name. */
#include "image/image.h"
#include "base/err.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/platform.h"
#include "image/ref.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* An index may point at another index (image-spec image-index.md allows nesting); more
 * than this many levels is a loop or an attack. */
#define INDEX_DEPTH_MAX 4

int img_platform(struct platform *out, struct berr **err)
{
	static struct platform cached;
	static bool have;

	if (!have) {
		if (platform_detect(NULL, &cached, err) < 0)
			return -1;
		have = true;
	}
	*out = cached;
	return 0;
}

void img_close(struct img *img)
{
	manifest_free(&img->m);
	manifest_config_free(&img->cfg);
	free(img->chain_ids);
	memset(img, 0, sizeof(*img));
}

static int read_manifest(const struct digest *d, struct manifest *m, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	char ds[DIGEST_STR_SIZE];
	size_t len;

	if (!store_exists(d))
		return berr_make(err, ENOENT, "manifest %s is missing from the blob store",
				 digest_format(d, ds));
	if (store_get(d, MANIFEST_SIZE_MAX, &data, &len, err) < 0)
		return -1;
	if (manifest_parse(data, len, NULL, m, err) < 0)
		return berr_wrap(err, "blob %s", digest_format(d, ds));
	return 0;
}

int img_open(const struct digest *top, struct img *out, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	char ds[DIGEST_STR_SIZE];
	struct digest cur = *top;
	size_t len;
	int depth;

	memset(out, 0, sizeof(*out));
	out->top = *top;
	for (depth = 0;; depth++) {
		struct platform want;
		size_t chosen;

		if (read_manifest(&cur, &out->m, err) < 0)
			goto fail;
		if (!manifest_kind_is_index(out->m.kind))
			break;
		if (depth == INDEX_DEPTH_MAX) {
			berr_make(err, ELOOP, "index %s: more than %d nested indexes",
				  digest_format(top, ds), INDEX_DEPTH_MAX);
			goto fail;
		}
		if (img_platform(&want, err) < 0 ||
		    platform_select(&want, out->m.manifests, out->m.n_manifests, &chosen, err) < 0) {
			berr_wrap(err, "index %s", digest_format(&cur, ds));
			goto fail;
		}
		cur = out->m.manifests[chosen].digest;
		manifest_free(&out->m);
	}
	out->manifest = cur;
	out->id = out->m.config.digest;
	if (!store_exists(&out->id)) {
		berr_make(err, ENOENT, "config %s of manifest %s is missing from the blob store",
			  digest_format(&out->id, ds), digest_format(&cur, (char[DIGEST_STR_SIZE]){ 0 }));
		goto fail;
	}
	if (store_get(&out->id, MANIFEST_SIZE_MAX, &data, &len, err) < 0)
		goto fail;
	if (manifest_config_parse(data, len, &out->cfg, err) < 0) {
		berr_wrap(err, "blob %s", digest_format(&out->id, ds));
		goto fail;
	}
	if (out->cfg.n_diff_ids != out->m.n_layers) {
		berr_make(err, 0, "image %s: its config lists %zu diff_ids but its manifest %zu "
			  "layers", digest_format(&out->id, ds), out->cfg.n_diff_ids, out->m.n_layers);
		goto fail;
	}
	out->n_layers = out->m.n_layers;
	out->chain_ids = xcalloc(out->n_layers ? out->n_layers : 1, sizeof(*out->chain_ids));
	if (out->n_layers &&
	    digest_chain_ids(out->cfg.diff_ids, out->n_layers, out->chain_ids, err) < 0)
		goto fail;
	return 0;
fail:
	img_close(out);
	return -1;
}

/* ---- refs.json keys ---- */

bool img_key_is_dangling(const char *key)
{
	return str_has_prefix(key, "sha256:") && digest_valid(key);
}

void img_dangling_key(const struct digest *top, char buf[DIGEST_STR_SIZE])
{
	digest_format(top, buf);
}

static void copy_out(char *buf, size_t size, const char *s)
{
	if (size == 0)
		return;
	snprintf(buf, size, "%s", s);
}

void img_key_split(const char *key, const char *default_registry, char *repo, size_t repo_size,
		   char *tag, size_t tag_size)
{
	struct ref r;

	if (img_key_is_dangling(key) ||
	    ref_parse(key, default_registry, REF_NO_DEFAULT_TAG, &r, NULL) < 0) {
		copy_out(repo, repo_size, img_key_is_dangling(key) ? "<none>" : key);
		copy_out(tag, tag_size, "<none>");
		return;
	}
	if (ref_format(&r, REF_FAMILIAR_NAME, repo, repo_size) < 0)
		copy_out(repo, repo_size, key);
	copy_out(tag, tag_size, r.tag[0] ? r.tag : "<none>");
}

void img_key_familiar(const char *key, const char *default_registry, char *buf, size_t size)
{
	struct ref r;

	if (img_key_is_dangling(key) ||
	    ref_parse(key, default_registry, REF_NO_DEFAULT_TAG, &r, NULL) < 0 ||
	    ref_format(&r, REF_FAMILIAR, buf, size) < 0)
		copy_out(buf, size, key);
}

int img_name_key(const char *name, const char *default_registry, char *buf, size_t size,
		 struct berr **err)
{
	struct ref r;

	if (ref_parse(name, default_registry, 0, &r, err) < 0)
		return -1;
	if (digest_is_set(&r.digest))
		return berr_usage(err, "`%s`: a name with a digest cannot be given as a tag; use "
				  "NAME[:TAG]", name);
	if (ref_format(&r, REF_FULL, buf, size) < 0)
		return berr_usage(err, "`%s`: name too long", name);
	return 0;
}

/* ---- resolution ---- */

static bool hex_prefix(const char *s, size_t *len)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	*len = n;
	return n >= IMG_ID_PREFIX_MIN && n <= DIGEST_HEX_LEN;
}

static int no_such_image(struct berr **err, const char *s)
{
	struct berr *e = NULL;

	berr_make(&e, 0, "No such image: %s", s);
	e->status = EXIT_FAILED;
	if (err && *err == NULL)
		*err = e;
	else
		berr_free(e);
	return -1;
}

/* Match an image ID (or a prefix of one) against every image the refs name. */
static int resolve_id(const struct store_refs *refs, const char *s, const char *hex, size_t len,
		      struct img_match *out, struct berr **err)
{
	struct digest found_id = { { 0 } };
	char a[DIGEST_STR_SIZE], b[DIGEST_STR_SIZE];
	bool found = false;

	for (size_t i = 0; i < refs->n; i++) {
		struct berr *e = NULL;
		struct img img;
		bool seen = false;

		/* Each top once. */
		for (size_t j = 0; j < i; j++)
			if (digest_equal(&refs->v[j].digest, &refs->v[i].digest))
				seen = true;
		if (seen)
			continue;
		if (img_open(&refs->v[i].digest, &img, &e) < 0) {
			berr_free(e);
			/* A broken image can still be named by its manifest digest. */
			if (len == DIGEST_HEX_LEN && strcmp(refs->v[i].digest.hex, hex) == 0 && !found) {
				found = true;
				out->top = refs->v[i].digest;
				digest_clear(&found_id);
			}
			continue;
		}
		if (strncmp(img.id.hex, hex, len) == 0) {
			if (found && digest_is_set(&found_id) && !digest_equal(&found_id, &img.id)) {
				struct digest other = img.id;
				img_close(&img);
				return berr_usage(err, "short ID `%s` is ambiguous: it matches %.19s "
						  "and %.19s; give more digits", s,
						  digest_format(&found_id, a), digest_format(&other, b));
			}
			if (!found) {
				out->top = refs->v[i].digest;
				found_id = img.id;
				found = true;
			}
		}
		img_close(&img);
	}
	if (!found)
		return no_such_image(err, s);
	out->by_id = true;
	out->key[0] = '\0';
	return 0;
}

int img_resolve(const struct store_refs *refs, const char *s, const char *default_registry,
		struct img_match *out, struct berr **err)
{
	struct ref r;
	struct berr *perr = NULL;
	const struct store_ref *hit;
	char key[REF_STR_SIZE], name[REF_STR_SIZE];
	size_t len;

	memset(out, 0, sizeof(*out));
	if (str_has_prefix(s, "sha256:")) {
		if (!hex_prefix(s + 7, &len))
			return no_such_image(err, s);
		return resolve_id(refs, s, s + 7, len, out, err);
	}
	if (ref_parse(s, default_registry, 0, &r, &perr) < 0) {
		/* Not a name: perhaps a short ID (Docker takes `0123abcd` too). */
		if (hex_prefix(s, &len)) {
			berr_free(perr);
			return resolve_id(refs, s, s, len, out, err);
		}
		if (err && *err == NULL)
			*err = perr;
		else
			berr_free(perr);
		return -1;
	}
	if (digest_is_set(&r.digest)) {
		/* name@digest: an image of that repository whose manifest (or index) it is. */
		ref_format(&r, REF_FULL_NAME, name, sizeof(name));
		for (size_t i = 0; i < refs->n; i++) {
			struct ref kr;
			char kname[REF_STR_SIZE];
			struct img img;
			struct berr *e = NULL;
			bool match;

			if (img_key_is_dangling(refs->v[i].name) ||
			    ref_parse(refs->v[i].name, default_registry, REF_NO_DEFAULT_TAG, &kr, NULL) < 0 ||
			    ref_format(&kr, REF_FULL_NAME, kname, sizeof(kname)) < 0 ||
			    strcmp(kname, name) != 0)
				continue;
			match = digest_equal(&refs->v[i].digest, &r.digest);
			if (!match && img_open(&refs->v[i].digest, &img, &e) == 0) {
				match = digest_equal(&img.manifest, &r.digest);
				img_close(&img);
			}
			berr_free(e);
			if (match) {
				out->top = refs->v[i].digest;
				return 0;
			}
		}
		return no_such_image(err, s);
	}
	if (ref_format(&r, REF_FULL, key, sizeof(key)) == 0 &&
	    (hit = store_refs_lookup(refs, key)) != NULL) {
		out->top = hit->digest;
		str_copy(out->key, sizeof(out->key), key);
		return 0;
	}
	/* A bare hex word that names no repository may be a short ID. */
	if (hex_prefix(s, &len) && strchr(s, ':') == NULL)
		return resolve_id(refs, s, s, len, out, err);
	return no_such_image(err, s);
}

/* ---- listing ---- */

static uint64_t blob_size(const struct digest *d)
{
	struct berr *e = NULL;
	uint64_t size = 0;

	if (store_stat(d, &size, &e) != 1)
		size = 0;
	berr_free(e);
	return size;
}

uint64_t img_disk_size(const struct img *img)
{
	char path[PATH_MAX];
	struct stat st;
	uint64_t total = blob_size(&img->manifest) + blob_size(&img->id);

	if (!digest_equal(&img->top, &img->manifest))
		total += blob_size(&img->top);
	for (size_t i = 0; i < img->n_layers; i++) {
		bool dup = false;
		/* A layer repeated in one image is stored once. */
		for (size_t j = 0; j < i; j++)
			if (digest_equal(&img->m.layers[j].digest, &img->m.layers[i].digest))
				dup = true;
		if (dup)
			continue;
		total += blob_size(&img->m.layers[i].digest);
		if (paths_layer(path, sizeof(path), img->chain_ids[i].hex) == 0 &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += (uint64_t) st.st_size;
	}
	return total;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

void img_list_free(struct img_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (size_t k = 0; k < l->v[i].n_keys; k++)
			free(l->v[i].keys[k]);
		free(l->v[i].keys);
		free(l->v[i].problem);
		if (l->v[i].ok)
			img_close(&l->v[i].img);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

struct img_info *img_list_find(struct img_list *l, const struct digest *top)
{
	for (size_t i = 0; i < l->n; i++)
		if (digest_equal(&l->v[i].top, top))
			return &l->v[i];
	return NULL;
}

int img_list_load(const struct store_refs *refs, struct img_list *out, struct berr **err)
{
	(void) err;
	memset(out, 0, sizeof(*out));
	out->v = xcalloc(refs->n ? refs->n : 1, sizeof(*out->v));
	for (size_t i = 0; i < refs->n; i++) {
		struct img_info *info = img_list_find(out, &refs->v[i].digest);

		if (info == NULL) {
			struct berr *e = NULL;

			info = &out->v[out->n++];
			info->top = refs->v[i].digest;
			if (img_open(&info->top, &info->img, &e) == 0) {
				info->ok = true;
				info->size = img_disk_size(&info->img);
			} else {
				info->problem = xstrdup(e && e->msg ? e->msg : "unreadable");
				berr_free(e);
			}
		}
		info->keys = xrealloc(info->keys, (info->n_keys + 1) * sizeof(*info->keys));
		info->keys[info->n_keys++] = xstrdup(refs->v[i].name);
		if (refs->v[i].created > info->tagged)
			info->tagged = refs->v[i].created;
	}
	for (size_t i = 0; i < out->n; i++)
		qsort(out->v[i].keys, out->v[i].n_keys, sizeof(char *), cmp_str);
	return 0;
}

/* ---- time ---- */

int64_t img_parse_time(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	const char *p;
	int64_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n == 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return -1;
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char) *p); p++)
			;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t) timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return p[1] == '\0' ? t : -1;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 && strlen(p) == 6) {
		int64_t off = (int64_t) oh * 3600 + om * 60;
		return *p == '+' ? t - off : t + off;
	}
	return -1;
}
