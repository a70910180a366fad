/* `berth save`: images written as an OCI image layout tar (image-spec image-layout.md), blobs
 * re-hashed on their way out. */
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

/* ---- save ---- */

struct saver {
	struct digest *blobs;
	size_t n;
};

static void save_add(struct saver *S, const struct digest *d)
{
	for (size_t i = 0; i < S->n; i++)
		if (digest_equal(&S->blobs[i], d))
			return;
	arch_digests_add(&S->blobs, &S->n, d);
}

static int save_walk(struct saver *S, const struct digest *d, const char *label, int depth,
		     struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	char ds[DIGEST_STR_SIZE];
	struct manifest m;
	size_t len;
	int ret = -1;

	if (depth > INDEX_DEPTH_MAX)
		return berr_make(err, ELOOP, "%s: indexes nested too deep", label);
	if (store_get(d, MANIFEST_SIZE_MAX, &data, &len, err) < 0 ||
	    manifest_parse(data, len, NULL, &m, err) < 0)
		return berr_wrap(err, "%s", label);
	save_add(S, d);
	if (manifest_kind_is_index(m.kind)) {
		/* Other platforms' manifests are saved if this board has them. */
		for (size_t i = 0; i < m.n_manifests; i++)
			if (store_exists(&m.manifests[i].digest) &&
			    save_walk(S, &m.manifests[i].digest, label, depth + 1, err) < 0)
				goto out;
		ret = 0;
		goto out;
	}
	if (!store_exists(&m.config.digest)) {
		berr_make(err, ENOENT, "config %s of %s is missing", digest_format(&m.config.digest, ds), label);
		goto out;
	}
	save_add(S, &m.config.digest);
	for (size_t i = 0; i < m.n_layers; i++) {
		if (!store_exists(&m.layers[i].digest)) {
			berr_make(err, ENOENT, "layer %s of %s is not kept on this device ([store] "
				  "keep-layer-blobs = no); pull it again or save it elsewhere",
				  digest_format(&m.layers[i].digest, ds), label);
			if (err && *err)
				(*err)->status = EXIT_FAILED;
			goto out;
		}
		save_add(S, &m.layers[i].digest);
	}
	ret = 0;
out:
	manifest_free(&m);
	return ret;
}

static int write_entry(struct archive *a, const char *path, mode_t type, const void *data,
		       uint64_t size, struct berr **err)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : (la_int64_t) size);
	archive_entry_set_mtime(e, 0, 0);
	r = archive_write_header(a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK)
		return berr_make(err, 0, "write `%s`: %s", path, archive_error_string(a));
	if (data && size && archive_write_data(a, data, (size_t) size) != (la_ssize_t) size)
		return berr_make(err, 0, "write `%s`: %s", path, archive_error_string(a));
	return 0;
}

/* Stream a blob from the store into the archive, checking on the way that it is intact. */
static int write_blob(struct archive *a, const struct digest *d, struct berr **err)
{
	char src[PATH_MAX], name[16 + DIGEST_HEX_LEN], ds[DIGEST_STR_SIZE], gs[DIGEST_STR_SIZE];
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = xmalloc(IO_BUF);
	struct digest_ctx ctx;
	struct digest got;
	struct stat st;
	uint64_t done = 0;

	if (store_blob_path(d, src, sizeof(src), err) < 0)
		return -1;
	fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_make(err, errno, "open `%s`", src);
	snprintf(name, sizeof(name), "blobs/sha256/%s", d->hex);
	if (write_entry(a, name, AE_IFREG, NULL, (uint64_t) st.st_size, err) < 0)
		return -1;
	digest_init(&ctx);
	while (done < (uint64_t) st.st_size) {
		ssize_t n = read(fd, buf, IO_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			digest_ctx_free(&ctx);
			return berr_make(err, n < 0 ? errno : EIO, "read `%s`", src);
		}
		if ((uint64_t) n > (uint64_t) st.st_size - done)
			n = (ssize_t) ((uint64_t) st.st_size - done);
		digest_update(&ctx, buf, (size_t) n);
		if (archive_write_data(a, buf, (size_t) n) != n) {
			digest_ctx_free(&ctx);
			return berr_make(err, 0, "write `%s`: %s", name, archive_error_string(a));
		}
		done += (uint64_t) n;
	}
	if (digest_final(&ctx, &got, err) < 0)
		return -1;
	if (!digest_equal(&got, d))
		return berr_make(err, 0, "blob %s is corrupt: its content hashes to %s (`berth store "
				 "verify --repair`, then pull it again)", digest_format(d, ds),
				 digest_format(&got, gs));
	return 0;
}

int arch_save(int fd, const struct arch_save_image *imgs, const char *const *labels, size_t n,
	      struct berr **err)
{
	struct saver S = { 0 };
	struct archive *a = NULL;
	json_t *index = NULL, *mans;
	char *text = NULL, ds[DIGEST_STR_SIZE];
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int ret = -1;

	index = json_object();
	mans = json_array();
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(MT_OCI_INDEX));
	json_object_set_new(index, "manifests", mans);
	/* Check everything before the first byte is written. */
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *data = NULL;
		struct manifest m;
		uint64_t size = 0;
		size_t len;
		json_t *d;

		if (save_walk(&S, &imgs[i].top, labels[i], 0, err) < 0)
			goto out;
		if (store_get(&imgs[i].top, MANIFEST_SIZE_MAX, &data, &len, err) < 0 ||
		    manifest_parse(data, len, NULL, &m, err) < 0 || store_stat(&imgs[i].top, &size, err) != 1)
			goto out;
		d = json_pack("{s:s, s:s, s:I}", "mediaType", m.media_type, "digest",
			      digest_format(&imgs[i].top, ds), "size", (json_int_t) size);
		manifest_free(&m);
		if (imgs[i].key)
			json_object_set_new(d, "annotations",
					    json_pack("{s:s, s:s}", ARCH_ANN_IMAGE_NAME, imgs[i].key,
						      ARCH_ANN_REF_NAME, imgs[i].key));
		json_array_append_new(mans, d);
	}
	text = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		berr_make(err, ENOMEM, "index.json");
		goto out;
	}
	a = archive_write_new();
	if (a == NULL || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		berr_make(err, 0, "archive writer: %s", a ? archive_error_string(a) : "out of memory");
		goto out;
	}
	if (write_entry(a, "oci-layout", AE_IFREG, layout, strlen(layout), err) < 0 ||
	    write_entry(a, "index.json", AE_IFREG, text, strlen(text), err) < 0 ||
	    write_entry(a, "blobs", AE_IFDIR, NULL, 0, err) < 0 ||
	    write_entry(a, "blobs/sha256", AE_IFDIR, NULL, 0, err) < 0)
		goto out;
	for (size_t i = 0; i < S.n; i++)
		if (write_blob(a, &S.blobs[i], err) < 0)
			goto out;
	if (archive_write_close(a) != ARCHIVE_OK) {
		berr_make(err, 0, "finish the archive: %s", archive_error_string(a));
		goto out;
	}
	ret = 0;
out:
	if (a)
		archive_write_free(a);
	free(text);
	json_decref(index);
	free(S.blobs);
	return ret;
}

