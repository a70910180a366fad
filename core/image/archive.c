/* `berth load`: an OCI image layout tar or a docker save tar, streamed once. Blob files are
 * staged in tmp/ and hashed on the way (a file named by its digest must match it); nothing
 * reaches blobs/, layers/ or refs.json until the whole archive has been read and checked.
 * Then layers are converted, blobs moved into the store, and refs.json updated last, so a
 * power cut at any instant leaves only tmp/ leftovers and unreferenced blobs or layers. */
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

/* ---- the loader ---- */

struct entry {
	char *path;            /* cleaned */
	char *link;            /* for links: the cleaned target; NULL for files */
	char *tmp;             /* staged content; NULL if the blob was already in the store */
	struct digest digest;
	uint64_t size;
};

struct need {
	struct digest d;
	bool layer;            /* a layer blob: kept only with keep-layer-blobs */
	char *json;            /* content made here (a docker save image's manifest) */
	size_t json_len;
};

struct image {
	struct digest top;
	struct digest id;
	char **keys;
	size_t n_keys;
	struct digest *diff_ids;   /* n_layers */
	struct digest *chain_ids;
	struct digest *layer_blobs;
	size_t n_layers;
};

struct loader {
	const struct arch_load_opts *o;
	const char *what;
	struct entry *v;
	size_t n, cap;
	size_t n_entries, n_files;
	unsigned seq;
	/* oci-layout, index.json, manifest.json, repositories */
	char *meta[4];
	size_t meta_len[4];
	struct need *needs;
	size_t n_needs;
	struct image *imgs;
	size_t n_imgs;
	/* What this load added, removed again if it fails. */
	struct digest *new_blobs, *new_layers;
	size_t n_new_blobs, n_new_layers;
};

static const char *const meta_names[4] = { "oci-layout", "index.json", "manifest.json", "repositories" };

static void loader_free(struct loader *L)
{
	for (size_t i = 0; i < L->n; i++) {
		if (L->v[i].tmp)
			unlink(L->v[i].tmp);
		free(L->v[i].tmp);
		free(L->v[i].path);
		free(L->v[i].link);
	}
	free(L->v);
	for (size_t i = 0; i < 4; i++)
		free(L->meta[i]);
	for (size_t i = 0; i < L->n_needs; i++)
		free(L->needs[i].json);
	free(L->needs);
	for (size_t i = 0; i < L->n_imgs; i++) {
		struct image *im = &L->imgs[i];
		for (size_t k = 0; k < im->n_keys; k++)
			free(im->keys[k]);
		free(im->keys);
		free(im->diff_ids);
		free(im->chain_ids);
		free(im->layer_blobs);
	}
	free(L->imgs);
	free(L->new_blobs);
	free(L->new_layers);
}

static struct entry *entry_find(struct loader *L, const char *path)
{
	for (size_t i = 0; i < L->n; i++)
		if (strcmp(L->v[i].path, path) == 0)
			return &L->v[i];
	return NULL;
}

static struct entry *entry_add(struct loader *L, const char *path, struct berr **err)
{
	if (entry_find(L, path) != NULL)
		return berr_make(err, EINVAL, "%s: `%.200s` appears twice in the archive", L->what, path), NULL;
	if (L->n >= ARCH_STAGED_MAX)
		return berr_make(err, E2BIG, "%s: more than %d files and links", L->what, ARCH_STAGED_MAX), NULL;
	if (L->n == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 64;
		L->v = xrealloc(L->v, L->cap * sizeof(*L->v));
	}
	memset(&L->v[L->n], 0, sizeof(L->v[0]));
	L->v[L->n].path = xstrdup(path);
	return &L->v[L->n++];
}

/* Follow links to the file a path names in the archive. */
static struct entry *entry_resolve(struct loader *L, const char *path)
{
	struct entry *e = entry_find(L, path);

	for (int hops = 0; e && e->link; hops++) {
		if (hops == ARCH_LINK_DEPTH)
			return NULL;
		e = entry_find(L, e->link);
	}
	return e;
}

/* The blob with digest d: a staged file, or the store's. */
static struct entry *staged_blob(struct loader *L, const struct digest *d)
{
	for (size_t i = 0; i < L->n; i++)
		if (!L->v[i].link && L->v[i].tmp && digest_equal(&L->v[i].digest, d))
			return &L->v[i];
	return NULL;
}

static bool have_blob(struct loader *L, const struct digest *d)
{
	return staged_blob(L, d) != NULL || store_exists(d);
}

static int blob_source(struct loader *L, const struct digest *d, char *path, size_t size,
		       struct berr **err)
{
	struct entry *e = staged_blob(L, d);
	char ds[DIGEST_STR_SIZE];

	if (e != NULL)
		return str_copy(path, size, e->tmp) < 0 ? berr_make(err, ENAMETOOLONG, "path") : 0;
	if (store_exists(d))
		return store_blob_path(d, path, size, err);
	return berr_make(err, ENOENT, "%s: blob %s is missing from the archive", L->what,
			 digest_format(d, ds));
}

static int read_blob(struct loader *L, const struct digest *d, char **out, size_t *len,
		     struct berr **err)
{
	struct entry *e = staged_blob(L, d);

	if (e != NULL)
		return fs_read_file(e->tmp, ARCH_META_MAX, out, len, err);
	if (!store_exists(d)) {
		char ds[DIGEST_STR_SIZE];
		return berr_make(err, ENOENT, "%s: blob %s is missing from the archive", L->what,
				 digest_format(d, ds));
	}
	return store_get(d, ARCH_META_MAX, out, len, err);
}

static void need(struct loader *L, const struct digest *d, bool layer)
{
	for (size_t i = 0; i < L->n_needs; i++)
		if (digest_equal(&L->needs[i].d, d)) {
			L->needs[i].layer = L->needs[i].layer && layer;
			return;
		}
	L->needs = xrealloc(L->needs, (L->n_needs + 1) * sizeof(*L->needs));
	L->needs[L->n_needs++] = (struct need){ .d = *d, .layer = layer };
}

/* What a blob path in the archive says its digest is: blobs/sha256/<hex>, or docker save's
 * <hex>.json config. Returns 1 with *d set, 0 if the path names none, -1 if it is bad. */
static int path_digest(struct loader *L, const char *path, struct digest *d, struct berr **err)
{
	size_t len = strlen(path);

	if (str_has_prefix(path, "blobs/")) {
		const char *alg = path + 6, *slash = strchr(alg, '/');
		if (slash == NULL)
			return 0;
		if ((size_t) (slash - alg) != 6 || strncmp(alg, "sha256", 6) != 0)
			return berr_make(err, EINVAL, "%s: `%.200s`: only sha256 blobs are supported",
					 L->what, path);
		if (!digest_hex_valid(slash + 1))
			return berr_make(err, EINVAL, "%s: `%.200s` is not named by a sha256 digest",
					 L->what, path);
		memcpy(d->hex, slash + 1, DIGEST_HEX_LEN + 1);
		return 1;
	}
	if (len == DIGEST_HEX_LEN + 5 && strcmp(path + DIGEST_HEX_LEN, ".json") == 0) {
		memcpy(d->hex, path, DIGEST_HEX_LEN);
		d->hex[DIGEST_HEX_LEN] = '\0';
		return digest_hex_valid(d->hex) ? 1 : 0;
	}
	return 0;
}

/* Files that may be blobs: blobs/, and in docker save archives any top-level file (configs
 * <hex>.json, layers <hex>.tar) and <id>/layer.tar. The rest (<id>/json, VERSION) is skipped. */
static bool is_blob_path(const char *path)
{
	size_t len = strlen(path);

	if (str_has_prefix(path, "blobs/"))
		return true;
	if (len > 10 && strcmp(path + len - 10, "/layer.tar") == 0)
		return true;
	return strchr(path, '/') == NULL;
}

static int read_meta(struct loader *L, struct archive *a, int idx, struct archive_entry *ae,
		     struct berr **err)
{
	size_t cap = ARCH_META_MAX + 1, n = 0;
	char *buf;
	la_ssize_t r;

	if (L->meta[idx] != NULL)
		return berr_make(err, EINVAL, "%s: `%s` appears twice in the archive", L->what,
				 meta_names[idx]);
	if (archive_entry_size_is_set(ae) && archive_entry_size(ae) > (la_int64_t) ARCH_META_MAX)
		return berr_make(err, EFBIG, "%s: `%s` is larger than %u bytes", L->what,
				 meta_names[idx], ARCH_META_MAX);
	buf = xmalloc(cap + 1);
	while ((r = archive_read_data(a, buf + n, cap - n)) > 0) {
		n += (size_t) r;
		if (n > ARCH_META_MAX) {
			free(buf);
			return berr_make(err, EFBIG, "%s: `%s` is larger than %u bytes", L->what,
					 meta_names[idx], ARCH_META_MAX);
		}
	}
	if (r < 0) {
		free(buf);
		return berr_make(err, 0, "%s: read `%s`: %s", L->what, meta_names[idx],
				 archive_error_string(a));
	}
	buf[n] = '\0';
	L->meta[idx] = buf;
	L->meta_len[idx] = n;
	return 0;
}

/* Copy one file entry into tmp/, hashing it; check it against the digest its name says. */
static int stage_file(struct loader *L, struct archive *a, struct archive_entry *ae,
		      const char *path, struct berr **err)
{
	char tmp[PATH_MAX], name[64], gs[DIGEST_STR_SIZE];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct digest_ctx ctx;
	struct digest expect = { { 0 } };
	struct entry *e;
	la_ssize_t r;
	int named;

	named = path_digest(L, path, &expect, err);
	if (named < 0)
		return -1;
	if (archive_entry_size_is_set(ae) && (uint64_t) archive_entry_size(ae) > ARCH_BLOB_MAX)
		return berr_make(err, EFBIG, "%s: `%.200s` is larger than %llu bytes", L->what, path,
				 (unsigned long long) ARCH_BLOB_MAX);
	e = entry_add(L, path, err);
	if (e == NULL)
		return -1;
	if (named && store_exists(&expect)) {
		/* Content-addressed and already here: no need to read it. */
		e->digest = expect;
		return archive_read_data_skip(a) == ARCHIVE_OK ? 0 :
		       berr_make(err, 0, "%s: read `%.200s`: %s", L->what, path, archive_error_string(a));
	}
	snprintf(name, sizeof(name), "load-%ld-%u.tmp", (long) getpid(), L->seq++);
	if (paths_tmp_file(tmp, sizeof(tmp), name) < 0)
		return berr_make(err, errno, "tmp path");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_make(err, errno, "create `%s`", tmp);
	e->tmp = xstrdup(tmp);
	buf = xmalloc(IO_BUF);
	digest_init(&ctx);
	while ((r = archive_read_data(a, buf, IO_BUF)) > 0) {
		size_t off = 0;
		if (ctx.size + (uint64_t) r > ARCH_BLOB_MAX) {
			digest_ctx_free(&ctx);
			return berr_make(err, EFBIG, "%s: `%.200s` is larger than %llu bytes", L->what,
					 path, (unsigned long long) ARCH_BLOB_MAX);
		}
		digest_update(&ctx, buf, (size_t) r);
		while (off < (size_t) r) {
			ssize_t w = write(fd, buf + off, (size_t) r - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				digest_ctx_free(&ctx);
				return berr_make(err, errno, "write `%s`", tmp);
			}
			off += (size_t) w;
		}
	}
	if (r < 0) {
		digest_ctx_free(&ctx);
		return berr_make(err, 0, "%s: read `%.200s`: %s", L->what, path, archive_error_string(a));
	}
	e->size = ctx.size;
	if (digest_final(&ctx, &e->digest, err) < 0)
		return -1;
	if (named && !digest_equal(&expect, &e->digest))
		return berr_make(err, 0, "%s: `%.200s` does not match its name: its content hashes to "
				 "%s", L->what, path, digest_format(&e->digest, gs));
	return 0;
}

static int read_archive(struct loader *L, int fd, struct berr **err)
{
	char path[ARCH_PATH_MAX], target[ARCH_PATH_MAX * 2 + 2], clean[ARCH_PATH_MAX * 2 + 2];
	struct archive_entry *ae;
	struct archive *a;
	int r, ret = -1;

	a = archive_read_new();
	if (a == NULL)
		return berr_make(err, ENOMEM, "archive reader");
	/* docker save writes plain tar; people compress it with gzip or zstd. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, IO_BUF) != ARCHIVE_OK) {
		berr_make(err, 0, "%s: %s", L->what, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(ae), *hl = archive_entry_hardlink(ae);
		mode_t type = archive_entry_filetype(ae);
		int meta = -1;

		if (++L->n_entries > ARCH_ENTRIES_MAX) {
			berr_make(err, E2BIG, "%s: more than %d entries", L->what, ARCH_ENTRIES_MAX);
			goto out;
		}
		if (name == NULL) {
			berr_make(err, EINVAL, "%s: an entry has no name", L->what);
			goto out;
		}
		if (arch_clean_path(name, path, sizeof(path), err) < 0) {
			berr_wrap(err, "%s", L->what);
			goto out;
		}
		if (path[0] == '\0' || (type == AE_IFDIR && hl == NULL))
			continue;
		if (hl != NULL || type == AE_IFLNK) {
			struct entry *e;
			const char *t = hl ? hl : archive_entry_symlink(ae);
			const char *slash = strrchr(path, '/');

			if (t == NULL || t[0] == '\0' || strlen(t) >= ARCH_PATH_MAX) {
				berr_make(err, EINVAL, "%s: link `%.200s` has a bad target", L->what, path);
				goto out;
			}
			/* A symlink's target is relative to its directory, a hard link's to the root. */
			if (hl == NULL && slash != NULL)
				snprintf(target, sizeof(target), "%.*s/%s", (int) (slash - path), path, t);
			else
				snprintf(target, sizeof(target), "%s", t);
			if (arch_normalize(target, clean, sizeof(clean), hl == NULL) < 0) {
				berr_make(err, EINVAL, "%s: link `%.200s` points outside the archive (`%.200s`)",
					  L->what, path, t);
				goto out;
			}
			if ((e = entry_add(L, path, err)) == NULL)
				goto out;
			e->link = xstrdup(clean);
			continue;
		}
		if (type != AE_IFREG) {
			berr_make(err, EINVAL, "%s: `%.200s` is not a file, directory or link", L->what, path);
			goto out;
		}
		for (int i = 0; i < 4; i++)
			if (strcmp(path, meta_names[i]) == 0)
				meta = i;
		if (meta >= 0) {
			if (read_meta(L, a, meta, ae, err) < 0)
				goto out;
		} else if (is_blob_path(path)) {
			if (stage_file(L, a, ae, path, err) < 0)
				goto out;
		} else if (archive_read_data_skip(a) != ARCHIVE_OK) {
			berr_make(err, 0, "%s: read `%.200s`: %s", L->what, path, archive_error_string(a));
			goto out;
		}
	}
	if (r != ARCHIVE_EOF) {
		berr_make(err, 0, "%s: %s", L->what, archive_error_string(a));
		goto out;
	}
	if (L->n_entries == 0) {
		berr_make(err, 0, "%s: empty archive", L->what);
		goto out;
	}
	ret = 0;
out:
	archive_read_free(a);
	return ret;
}

/* ---- images of an archive ---- */

static struct image *image_new(struct loader *L)
{
	L->imgs = xrealloc(L->imgs, (L->n_imgs + 1) * sizeof(*L->imgs));
	memset(&L->imgs[L->n_imgs], 0, sizeof(L->imgs[0]));
	return &L->imgs[L->n_imgs++];
}

static void image_key(struct image *im, const char *key)
{
	for (size_t i = 0; i < im->n_keys; i++)
		if (strcmp(im->keys[i], key) == 0)
			return;
	im->keys = xrealloc(im->keys, (im->n_keys + 1) * sizeof(char *));
	im->keys[im->n_keys++] = xstrdup(key);
}

/* Read and check a config; set the image's layers from it. */
static int image_config(struct loader *L, struct image *im, const struct digest *cfg_d,
			size_t n_layers, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	struct manifest_config cfg;
	char ds[DIGEST_STR_SIZE];
	struct platform want;
	size_t len;
	int ret = -1;

	if (read_blob(L, cfg_d, &data, &len, err) < 0)
		return -1;
	if (manifest_config_parse(data, len, &cfg, err) < 0)
		return berr_wrap(err, "%s: config %s", L->what, digest_format(cfg_d, ds));
	if (cfg.n_diff_ids != n_layers) {
		berr_make(err, 0, "%s: config %s lists %zu diff_ids but the image has %zu layers",
			  L->what, digest_format(cfg_d, ds), cfg.n_diff_ids, n_layers);
		goto out;
	}
	if (img_platform(&want, NULL) == 0 && platform_rank(&want, &cfg.platform) < 0) {
		char a[PLATFORM_STR_SIZE], b[PLATFORM_STR_SIZE];
		log_warn("image %.19s is for %s, this board is %s", digest_format(cfg_d, ds),
			 platform_format(&cfg.platform, a), platform_format(&want, b));
	}
	im->id = *cfg_d;
	im->n_layers = n_layers;
	im->diff_ids = xcalloc(n_layers ? n_layers : 1, sizeof(struct digest));
	im->chain_ids = xcalloc(n_layers ? n_layers : 1, sizeof(struct digest));
	im->layer_blobs = xcalloc(n_layers ? n_layers : 1, sizeof(struct digest));
	memcpy(im->diff_ids, cfg.diff_ids, n_layers * sizeof(struct digest));
	if (n_layers && digest_chain_ids(im->diff_ids, n_layers, im->chain_ids, err) < 0)
		goto out;
	need(L, cfg_d, false);
	ret = 0;
out:
	manifest_config_free(&cfg);
	return ret;
}

/* A layer blob is needed unless its layer is already converted. */
static int image_layer(struct loader *L, struct image *im, size_t i, const struct digest *blob,
		       struct berr **err)
{
	char ds[DIGEST_STR_SIZE];

	im->layer_blobs[i] = *blob;
	if (have_blob(L, blob)) {
		need(L, blob, true);
		return 0;
	}
	if (layer_exists(&im->chain_ids[i]))
		return 0;
	return berr_make(err, ENOENT, "%s: layer %zu (%s) is missing from the archive", L->what, i,
			 digest_format(blob, ds));
}

static int check_size(struct loader *L, const struct manifest_descriptor *d, const char *what,
		      struct berr **err)
{
	struct entry *e = staged_blob(L, &d->digest);
	char ds[DIGEST_STR_SIZE];

	if (e != NULL && e->size != d->size)
		return berr_make(err, 0, "%s: %s %s: the descriptor says %llu bytes, the blob has %llu",
				 L->what, what, digest_format(&d->digest, ds),
				 (unsigned long long) d->size, (unsigned long long) e->size);
	return 0;
}

/* An OCI image manifest (or an index down to this board's manifest) named by index.json. */
static int oci_image(struct loader *L, const struct digest *top, const char *key, struct berr **err)
{
	struct digest cur = *top;
	struct image *im = image_new(L);
	struct manifest m;
	char ds[DIGEST_STR_SIZE];

	im->top = *top;
	if (key[0])
		image_key(im, key);
	for (int depth = 0;; depth++) {
		_cleanup_free_ char *data = NULL;
		struct platform want;
		size_t len, chosen;

		if (read_blob(L, &cur, &data, &len, err) < 0)
			return -1;
		if (manifest_parse(data, len, NULL, &m, err) < 0)
			return berr_wrap(err, "%s: blob %s", L->what, digest_format(&cur, ds));
		need(L, &cur, false);
		if (!manifest_kind_is_index(m.kind))
			break;
		if (depth == INDEX_DEPTH_MAX || img_platform(&want, err) < 0 ||
		    platform_select(&want, m.manifests, m.n_manifests, &chosen, err) < 0) {
			manifest_free(&m);
			berr_make(err, ELOOP, "nested too deep");
			return berr_wrap(err, "%s: index %s", L->what, digest_format(&cur, ds));
		}
		if (check_size(L, &m.manifests[chosen], "manifest", err) < 0) {
			manifest_free(&m);
			return -1;
		}
		cur = m.manifests[chosen].digest;
		manifest_free(&m);
	}
	if (check_size(L, &m.config, "config", err) < 0 ||
	    image_config(L, im, &m.config.digest, m.n_layers, err) < 0)
		goto fail;
	for (size_t i = 0; i < m.n_layers; i++) {
		if (m.layers[i].format == LAYER_UNKNOWN) {
			berr_make(err, 0, "%s: manifest %s: layers[%zu] has media type `%.100s`, which is "
				  "not an image layer", L->what, digest_format(&cur, ds), i,
				  m.layers[i].media_type);
			goto fail;
		}
		if (check_size(L, &m.layers[i], "layer", err) < 0 ||
		    image_layer(L, im, i, &m.layers[i].digest, err) < 0)
			goto fail;
	}
	manifest_free(&m);
	return 0;
fail:
	manifest_free(&m);
	return -1;
}

static int load_oci(struct loader *L, struct berr **err)
{
	struct manifest idx;
	char key[STORE_REF_NAME_MAX + 1], ds[DIGEST_STR_SIZE];
	int ret = -1;

	if (L->meta[0] && arch_parse_oci_layout(L->meta[0], L->meta_len[0], err) < 0)
		return berr_wrap(err, "%s", L->what);
	if (manifest_parse(L->meta[1], L->meta_len[1], MT_OCI_INDEX, &idx, err) < 0)
		return berr_wrap(err, "%s: index.json", L->what);
	if (idx.n_manifests == 0 || idx.n_manifests > ARCH_IMAGES_MAX) {
		berr_make(err, 0, "%s: index.json lists %zu images; expected 1 to %d", L->what,
			  idx.n_manifests, ARCH_IMAGES_MAX);
		goto out;
	}
	for (size_t i = 0; i < idx.n_manifests; i++) {
		const struct manifest_descriptor *d = &idx.manifests[i];
		struct image *same = NULL;

		if (manifest_kind_of(d->media_type) == MANIFEST_UNKNOWN) {
			log_warn("%s: index.json: skipping manifests[%zu], media type `%.80s`", L->what,
				 i, d->media_type);
			continue;
		}
		if (!have_blob(L, &d->digest)) {
			berr_make(err, ENOENT, "%s: index.json: manifests[%zu]: blob %s is missing from "
				  "the archive", L->what, i, digest_format(&d->digest, ds));
			goto out;
		}
		if (check_size(L, d, "manifest", err) < 0 ||
		    arch_index_entry_key(d, L->o->default_registry, key, sizeof(key), err) < 0)
			goto out;
		for (size_t k = 0; k < L->n_imgs; k++)
			if (digest_equal(&L->imgs[k].top, &d->digest))
				same = &L->imgs[k];
		if (same != NULL) {
			if (key[0])
				image_key(same, key);
			continue;
		}
		if (oci_image(L, &d->digest, key, err) < 0)
			goto out;
	}
	if (L->n_imgs == 0) {
		berr_make(err, 0, "%s: index.json names no image manifest", L->what);
		goto out;
	}
	ret = 0;
out:
	manifest_free(&idx);
	return ret;
}

static const char *layer_media_type(const char *path)
{
	unsigned char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;

	if (fd >= 0)
		close(fd);
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return "application/vnd.oci.image.layer.v1.tar+gzip";
	if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
		return "application/vnd.oci.image.layer.v1.tar+zstd";
	return "application/vnd.oci.image.layer.v1.tar";
}

static int blob_size_of(struct loader *L, const struct digest *d, uint64_t *size, struct berr **err)
{
	struct entry *e = staged_blob(L, d);

	if (e) {
		*size = e->size;
		return 0;
	}
	return store_stat(d, size, err) == 1 ? 0 : berr_make(err, ENOENT, "blob missing");
}

/* docker save names files by path: make the OCI manifest it implies and store that. */
static int docker_image(struct loader *L, const struct arch_docker_image *di, size_t idx,
			const struct arch_repo_tag *repo, size_t n_repo, struct berr **err)
{
	char p[ARCH_PATH_MAX], src[PATH_MAX], ds[DIGEST_STR_SIZE], key[STORE_REF_NAME_MAX + 1];
	struct image *im = image_new(L);
	json_t *root = NULL, *layers;
	struct entry *e;
	uint64_t size;
	char *text = NULL;
	int ret = -1;

	if (arch_clean_path(di->config, p, sizeof(p), err) < 0 || (e = entry_resolve(L, p)) == NULL) {
		if (err && *err == NULL)
			berr_make(err, ENOENT, "file not in the archive");
		return berr_wrap(err, "%s: manifest.json[%zu].Config `%.200s`", L->what, idx, di->config);
	}
	if (image_config(L, im, &e->digest, di->n_layers, err) < 0 ||
	    blob_size_of(L, &e->digest, &size, err) < 0)
		return -1;
	root = json_object();
	json_object_set_new(root, "schemaVersion", json_integer(2));
	json_object_set_new(root, "mediaType", json_string(MT_OCI_MANIFEST));
	json_object_set_new(root, "config", json_pack("{s:s, s:s, s:I}", "mediaType", MT_OCI_CONFIG,
						      "digest", digest_format(&e->digest, ds),
						      "size", (json_int_t) size));
	layers = json_array();
	json_object_set_new(root, "layers", layers);
	for (size_t i = 0; i < di->n_layers; i++) {
		if (arch_clean_path(di->layers[i], p, sizeof(p), err) < 0 ||
		    (e = entry_resolve(L, p)) == NULL) {
			if (err && *err == NULL)
				berr_make(err, ENOENT, "file not in the archive");
			berr_wrap(err, "%s: manifest.json[%zu].Layers[%zu] `%.200s`", L->what, idx, i,
				  di->layers[i]);
			goto out;
		}
		if (image_layer(L, im, i, &e->digest, err) < 0 ||
		    blob_size_of(L, &e->digest, &size, err) < 0 ||
		    blob_source(L, &e->digest, src, sizeof(src), err) < 0)
			goto out;
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType",
							layer_media_type(src), "digest",
							digest_format(&e->digest, ds), "size",
							(json_int_t) size));
	}
	text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL || digest_buffer(text, strlen(text), &im->top, err) < 0) {
		if (text == NULL)
			berr_make(err, ENOMEM, "manifest");
		goto out;
	}
	L->needs = xrealloc(L->needs, (L->n_needs + 1) * sizeof(*L->needs));
	L->needs[L->n_needs++] = (struct need){ .d = im->top, .json = text, .json_len = strlen(text) };
	text = NULL;
	for (size_t i = 0; i < di->n_repo_tags; i++) {
		if (img_name_key(di->repo_tags[i], L->o->default_registry, key, sizeof(key), err) < 0) {
			berr_wrap(err, "%s: manifest.json[%zu].RepoTags[%zu]", L->what, idx, i);
			goto out;
		}
		image_key(im, key);
	}
	/* Old archives name images only in `repositories`, by their top layer's directory. */
	if (di->n_repo_tags == 0 && di->n_layers > 0) {
		const char *top = di->layers[di->n_layers - 1];
		for (size_t i = 0; i < n_repo; i++)
			if (str_has_prefix(top, repo[i].id) && top[DIGEST_HEX_LEN] == '/' &&
			    img_name_key(repo[i].name, L->o->default_registry, key, sizeof(key), NULL) == 0)
				image_key(im, key);
	}
	ret = 0;
out:
	free(text);
	json_decref(root);
	return ret;
}

static int load_docker(struct loader *L, struct berr **err)
{
	struct arch_docker_manifest dm;
	struct arch_repo_tag *repo = NULL;
	size_t n_repo = 0;
	int ret = -1;

	if (arch_parse_docker_manifest(L->meta[2], L->meta_len[2], &dm, err) < 0)
		return berr_wrap(err, "%s", L->what);
	if (L->meta[3] && arch_parse_repositories(L->meta[3], L->meta_len[3], &repo, &n_repo, err) < 0) {
		berr_wrap(err, "%s", L->what);
		goto out;
	}
	for (size_t i = 0; i < dm.n; i++)
		if (docker_image(L, &dm.v[i], i, repo, n_repo, err) < 0)
			goto out;
	ret = 0;
out:
	arch_repo_tags_free(repo, n_repo);
	arch_docker_manifest_free(&dm);
	return ret;
}

/* ---- commit ---- */

static int convert_layers(struct loader *L, struct berr **err)
{
	char src[PATH_MAX], ds[DIGEST_STR_SIZE];

	for (size_t i = 0; i < L->n_imgs; i++) {
		struct image *im = &L->imgs[i];
		for (size_t k = 0; k < im->n_layers; k++) {
			_cleanup_close_ int fd = -1;

			if (layer_exists(&im->chain_ids[k]))
				continue;
			if (blob_source(L, &im->layer_blobs[k], src, sizeof(src), err) < 0)
				return -1;
			fd = open(src, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				return berr_make(err, errno, "open `%s`", src);
			if (layer_store(L->o->format, fd, &im->diff_ids[k], &im->chain_ids[k], L->o->sqfs,
					NULL, err) < 0)
				return berr_wrap(err, "%s: layer %zu (%s)", L->what, k,
						 digest_format(&im->layer_blobs[k], ds));
			arch_digests_add(&L->new_layers, &L->n_new_layers, &im->chain_ids[k]);
		}
	}
	return 0;
}

static int commit_blobs(struct loader *L, struct berr **err)
{
	for (size_t i = 0; i < L->n_needs; i++) {
		struct need *n = &L->needs[i];
		struct entry *e;

		if (store_exists(&n->d) || (n->layer && !L->o->keep_layer_blobs))
			continue;
		if (n->json) {
			if (store_put(n->json, n->json_len, &n->d, NULL, err) < 0)
				return -1;
		} else {
			e = staged_blob(L, &n->d);
			if (e == NULL)
				continue;
			if (store_put_file(e->tmp, &n->d, (int64_t) e->size, NULL, err) < 0)
				return -1;
			/* The file is the blob now; other entries with the same content stay staged. */
			free(e->tmp);
			e->tmp = NULL;
		}
		arch_digests_add(&L->new_blobs, &L->n_new_blobs, &n->d);
	}
	return 0;
}

static int commit_refs(struct loader *L, struct berr **err)
{
	struct store_refs refs = { 0 };
	char dk[DIGEST_STR_SIZE];
	int lock, ret = -1;

	lock = store_refs_lock(err);
	if (lock < 0)
		return -1;
	if (store_refs_load(&refs, err) < 0)
		goto out;
	for (size_t i = 0; i < L->n_imgs; i++) {
		struct image *im = &L->imgs[i];
		bool named = false;

		img_dangling_key(&im->top, dk);
		for (size_t k = 0; k < im->n_keys; k++)
			if (store_refs_set(&refs, im->keys[k], &im->top, -1, err) < 0)
				goto out;
		for (size_t k = 0; k < refs.n; k++)
			if (digest_equal(&refs.v[k].digest, &im->top) && !img_key_is_dangling(refs.v[k].name))
				named = true;
		if (named)
			store_refs_remove(&refs, dk);
		else if (store_refs_set(&refs, dk, &im->top, -1, err) < 0)
			goto out;
	}
	ret = store_refs_save(&refs, err);
out:
	store_refs_free(&refs);
	store_refs_unlock(lock);
	return ret;
}

static void rollback(struct loader *L)
{
	for (size_t i = 0; i < L->n_new_layers; i++) {
		struct berr *e = NULL;
		if (layer_remove(&L->new_layers[i], &e) < 0)
			berr_free(e);
	}
	for (size_t i = 0; i < L->n_new_blobs; i++) {
		struct berr *e = NULL;
		if (store_delete(&L->new_blobs[i], &e) < 0)
			berr_free(e);
	}
}

int arch_load(int fd, const char *what, const struct arch_load_opts *o, struct berr **err)
{
	struct loader L = { .o = o, .what = what };
	int glock, ret = -1;

	if (store_init(err) < 0)
		return -1;
	glock = gc_lock(false, err);
	if (glock < 0)
		return -1;
	if (read_archive(&L, fd, err) < 0)
		goto out;
	if (L.meta[1] != NULL) {
		if (load_oci(&L, err) < 0)
			goto out;
	} else if (L.meta[2] != NULL) {
		if (load_docker(&L, err) < 0)
			goto out;
	} else {
		berr_make(err, 0, "%s is not an image archive: it has neither index.json (OCI image "
			  "layout) nor manifest.json (docker save)", what);
		goto out;
	}
	if (convert_layers(&L, err) < 0 || commit_blobs(&L, err) < 0 || commit_refs(&L, err) < 0) {
		rollback(&L);
		goto out;
	}
	if (o->on_loaded)
		for (size_t i = 0; i < L.n_imgs; i++) {
			for (size_t k = 0; k < L.imgs[i].n_keys; k++)
				o->on_loaded(o->data, L.imgs[i].keys[k], &L.imgs[i].id);
			if (L.imgs[i].n_keys == 0)
				o->on_loaded(o->data, NULL, &L.imgs[i].id);
		}
	ret = 0;
out:
	loader_free(&L);
	gc_unlock(glock);
	return ret;
}

