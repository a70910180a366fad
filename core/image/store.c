/* Blob store and refs.json. A blob is written to tmp/, hashed while written, verified, made
 * durable and only then renamed to blobs/sha256/<hex>, so a name under blobs/ always holds
 * exactly the content it names, even after a power cut. */
#include "store.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define BLOB_MODE 0644
#define DIR_MODE 0700

struct store_writer {
	int fd;
	char tmp[PATH_MAX];
	struct digest_ctx ctx;
	struct digest expect;   /* unset: any */
	int64_t expect_size;    /* < 0: unknown */
};

static int path_err(struct berr **err, const char *what)
{
	return berr_make(err, errno, "%s: path too long or invalid", what);
}

int store_init(struct berr **err)
{
	char p[PATH_MAX];

	if (paths_blobs_dir(p, sizeof(p)) < 0)
		return path_err(err, "blobs directory");
	if (fs_mkdir_p(p, DIR_MODE, err) < 0)
		return -1;
	if (paths_tmp_dir(p, sizeof(p)) < 0)
		return path_err(err, "tmp directory");
	return fs_mkdir_p(p, DIR_MODE, err);
}

int store_blob_path(const struct digest *d, char *buf, size_t size, struct berr **err)
{
	if (!digest_hex_valid(d->hex))
		return berr_make(err, EINVAL, "blob path: not a sha256 digest");
	if (paths_blob(buf, size, d->hex) < 0)
		return path_err(err, "blob path");
	return 0;
}

/* ---- writer ---- */

int store_writer_open(const struct digest *expect, int64_t expect_size, struct store_writer **out,
		      struct berr **err)
{
	struct store_writer *w;
	char dir[PATH_MAX];

	*out = NULL;
	if (expect != NULL && !digest_hex_valid(expect->hex))
		return berr_make(err, EINVAL, "store: expected digest is not a sha256 digest");
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return berr_make(err, ENOMEM, "store: new blob");
	if (paths_tmp_file(w->tmp, sizeof(w->tmp), "blob-XXXXXX") < 0) {
		free(w);
		return path_err(err, "store: temporary file");
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0 && errno == ENOENT) {
		/* First blob on a fresh data root. */
		if (paths_tmp_dir(dir, sizeof(dir)) < 0 || fs_mkdir_p(dir, DIR_MODE, err) < 0) {
			free(w);
			return berr_wrap(err, "store: temporary directory");
		}
		paths_tmp_file(w->tmp, sizeof(w->tmp), "blob-XXXXXX");
		w->fd = mkostemp(w->tmp, O_CLOEXEC);
	}
	if (w->fd < 0) {
		berr_make(err, errno, "store: create `%s`", w->tmp);
		free(w);
		return -1;
	}
	if (expect != NULL)
		w->expect = *expect;
	w->expect_size = expect_size;
	digest_init(&w->ctx);
	*out = w;
	return 0;
}

void store_writer_abort(struct store_writer *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	digest_ctx_free(&w->ctx);
	free(w);
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

int store_writer_write(struct store_writer *w, const void *data, size_t len, struct berr **err)
{
	if (w->expect_size >= 0 && len > (uint64_t) w->expect_size - w->ctx.size)
		return berr_make(err, EFBIG, "blob is larger than the expected %lld bytes",
				 (long long) w->expect_size);
	if (write_all(w->fd, data, len) < 0)
		return berr_make(err, errno, "write `%s`", w->tmp);
	digest_update(&w->ctx, data, len);
	return 0;
}

/* Rename a verified, fsynced file into blobs/ and make the rename durable. */
static int install(const char *tmp, const struct digest *d, struct berr **err)
{
	char dst[PATH_MAX], dir[PATH_MAX];

	if (store_blob_path(d, dst, sizeof(dst), err) < 0)
		return -1;
	if (paths_blobs_dir(dir, sizeof(dir)) < 0)
		return path_err(err, "blobs directory");
	if (rename(tmp, dst) < 0) {
		if (errno != ENOENT || fs_mkdir_p(dir, DIR_MODE, err) < 0 || rename(tmp, dst) < 0)
			return berr_make(err, errno, "rename `%s` to `%s`", tmp, dst);
	}
	return fs_fsync_dir(dir, err);
}

static int check(const struct digest *expect, int64_t expect_size, const struct digest *got,
		 uint64_t size, struct berr **err)
{
	char a[DIGEST_STR_SIZE], b[DIGEST_STR_SIZE];

	if (expect_size >= 0 && size != (uint64_t) expect_size)
		return berr_make(err, 0, "size mismatch: expected %lld bytes, got %llu",
				 (long long) expect_size, (unsigned long long) size);
	if (digest_is_set(expect) && !digest_equal(expect, got))
		return berr_make(err, 0, "digest mismatch: expected %s, got %s",
				 digest_format(expect, a), digest_format(got, b));
	return 0;
}

int store_writer_commit(struct store_writer *w, struct digest *out, struct berr **err)
{
	struct digest got;
	uint64_t size = w->ctx.size;
	int fd = w->fd;

	if (digest_final(&w->ctx, &got, err) < 0)
		goto fail;
	if (check(&w->expect, w->expect_size, &got, size, err) < 0)
		goto fail;
	if (fchmod(fd, BLOB_MODE) < 0) {
		berr_make(err, errno, "chmod `%s`", w->tmp);
		goto fail;
	}
	if (fsync(fd) < 0) {
		berr_make(err, errno, "fsync `%s`", w->tmp);
		goto fail;
	}
	w->fd = -1;
	if (close(fd) < 0) {
		berr_make(err, errno, "close `%s`", w->tmp);
		goto fail;
	}
	if (install(w->tmp, &got, err) < 0)
		goto fail;
	if (out)
		*out = got;
	free(w);
	return 0;
fail:
	store_writer_abort(w);
	return -1;
}

int store_put(const void *data, size_t len, const struct digest *expect, struct digest *out,
	      struct berr **err)
{
	struct store_writer *w;

	if (store_writer_open(expect, -1, &w, err) < 0)
		return -1;
	if (store_writer_write(w, data, len, err) < 0) {
		store_writer_abort(w);
		return -1;
	}
	return store_writer_commit(w, out, err);
}

int store_put_file(const char *path, const struct digest *expect, int64_t expect_size,
		   struct digest *out, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct digest got;
	uint64_t size;

	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	if (digest_fd(fd, &got, &size, err) < 0) {
		berr_wrap(err, "hash `%s`", path);
		goto fail;
	}
	if (check(expect ? expect : &(struct digest){ { 0 } }, expect_size, &got, size, err) < 0)
		goto fail;
	if (fchmod(fd, BLOB_MODE) < 0) {
		berr_make(err, errno, "chmod `%s`", path);
		goto fail;
	}
	if (fsync(fd) < 0) {
		berr_make(err, errno, "fsync `%s`", path);
		goto fail;
	}
	if (install(path, &got, err) < 0)
		goto fail;
	if (out)
		*out = got;
	return 0;
fail:
	unlink(path);
	return -1;
}

/* ---- reading, listing, removing ---- */

int store_get(const struct digest *d, size_t max, char **out, size_t *len, struct berr **err)
{
	_cleanup_free_ char *buf = NULL;
	char path[PATH_MAX], a[DIGEST_STR_SIZE], b[DIGEST_STR_SIZE];
	struct digest got;
	size_t n;

	*out = NULL;
	if (store_blob_path(d, path, sizeof(path), err) < 0)
		return -1;
	if (fs_read_file(path, max, &buf, &n, err) < 0)
		return berr_wrap(err, "blob %s", digest_format(d, a));
	if (digest_buffer(buf, n, &got, err) < 0)
		return -1;
	if (!digest_equal(d, &got))
		return berr_make(err, 0, "blob %s is corrupt: its content hashes to %s; remove it "
				 "(`berth rmi`) and pull again", digest_format(d, a),
				 digest_format(&got, b));
	if (len)
		*len = n;
	*out = steal_ptr(&buf);
	return 0;
}

int store_stat(const struct digest *d, uint64_t *size, struct berr **err)
{
	char path[PATH_MAX];
	struct stat st;

	if (store_blob_path(d, path, sizeof(path), err) < 0)
		return -1;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_make(err, errno, "stat `%s`", path);
	}
	if (!S_ISREG(st.st_mode))
		return berr_make(err, EINVAL, "`%s` is not a regular file", path);
	if (size)
		*size = (uint64_t) st.st_size;
	return 1;
}

bool store_exists(const struct digest *d)
{
	struct berr *err = NULL;
	int r = store_stat(d, NULL, &err);

	berr_free(err);
	return r == 1;
}

int store_delete(const struct digest *d, struct berr **err)
{
	char path[PATH_MAX];

	if (store_blob_path(d, path, sizeof(path), err) < 0)
		return -1;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return berr_make(err, errno, "remove `%s`", path);
	}
	return fs_fsync_parent(path, err);
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct digest *) a)->hex, ((const struct digest *) b)->hex);
}

int store_list(struct digest **out, size_t *n, struct berr **err)
{
	char dir[PATH_MAX];
	struct digest *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n = 0;
	if (paths_blobs_dir(dir, sizeof(dir)) < 0)
		return path_err(err, "blobs directory");
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return berr_make(err, errno, "open `%s`", dir);
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!digest_hex_valid(de->d_name))
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct digest *nv = realloc(v, ncap * sizeof(*v));
			if (nv == NULL) {
				free(v);
				closedir(d);
				return berr_make(err, ENOMEM, "list blobs");
			}
			v = nv;
			cap = ncap;
		}
		memcpy(v[cnt++].hex, de->d_name, DIGEST_HEX_LEN + 1);
	}
	if (errno != 0) {
		int e = errno;
		free(v);
		closedir(d);
		return berr_make(err, e, "read `%s`", dir);
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), cmp_digest);
	*out = v;
	*n = cnt;
	return 0;
}

/* ---- refs.json ----
 * {"version": 1, "refs": {"<name>": {"digest": "sha256:<hex>", "created": <unix seconds>}}} */

#define REFS_VERSION 1

void store_refs_free(struct store_refs *refs)
{
	for (size_t i = 0; i < refs->n; i++)
		free(refs->v[i].name);
	free(refs->v);
	refs->v = NULL;
	refs->n = refs->cap = 0;
}

/* Index of `name`, or of where it would be inserted (with *found false). */
static size_t refs_find(const struct store_refs *refs, const char *name, bool *found)
{
	size_t lo = 0, hi = refs->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(refs->v[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* A refs.json key: printable ASCII without spaces, bounded. */
static bool ref_name_ok(const char *name)
{
	size_t n = 0;

	for (; name[n]; n++)
		if (name[n] <= 0x20 || name[n] >= 0x7f || n >= STORE_REF_NAME_MAX)
			return false;
	return n > 0;
}

int store_refs_set(struct store_refs *refs, const char *name, const struct digest *d,
		   int64_t created, struct berr **err)
{
	bool found;
	size_t i;
	char *copy;

	if (!ref_name_ok(name))
		return berr_usage(err, "refs: name `%.80s` is empty, too long or has spaces or "
				  "control characters", name);
	if (!digest_hex_valid(d->hex))
		return berr_make(err, EINVAL, "refs: `%.80s`: not a sha256 digest", name);
	if (created < 0)
		created = (int64_t) time(NULL);
	i = refs_find(refs, name, &found);
	if (found) {
		refs->v[i].digest = *d;
		refs->v[i].created = created;
		return 0;
	}
	if (refs->n >= STORE_REFS_MAX)
		return berr_make(err, ENOSPC, "refs: more than %d names; remove some with `berth rmi`",
				 STORE_REFS_MAX);
	if (refs->n == refs->cap) {
		size_t ncap = refs->cap ? refs->cap * 2 : 16;
		struct store_ref *nv = realloc(refs->v, ncap * sizeof(*nv));
		if (nv == NULL)
			return berr_make(err, ENOMEM, "refs: add `%s`", name);
		refs->v = nv;
		refs->cap = ncap;
	}
	copy = strdup(name);
	if (copy == NULL)
		return berr_make(err, ENOMEM, "refs: add `%s`", name);
	memmove(&refs->v[i + 1], &refs->v[i], (refs->n - i) * sizeof(*refs->v));
	refs->v[i] = (struct store_ref){ .name = copy, .digest = *d, .created = created };
	refs->n++;
	return 0;
}

int store_refs_remove(struct store_refs *refs, const char *name)
{
	bool found;
	size_t i = refs_find(refs, name, &found);

	if (!found)
		return 0;
	free(refs->v[i].name);
	memmove(&refs->v[i], &refs->v[i + 1], (refs->n - i - 1) * sizeof(*refs->v));
	refs->n--;
	return 1;
}

const struct store_ref *store_refs_lookup(const struct store_refs *refs, const char *name)
{
	bool found;
	size_t i = refs_find(refs, name, &found);

	return found ? &refs->v[i] : NULL;
}

static int corrupt(struct berr **err, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int corrupt(struct berr **err, const char *what, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return berr_make(err, 0, "%s is corrupt (restore it, or remove it to forget every tag): %s",
			 what, detail);
}

int store_refs_parse(struct store_refs *refs, const char *data, size_t len, const char *what,
		     struct berr **err)
{
	struct store_refs tmp = { 0 };
	json_error_t jerr;
	json_t *root, *map, *ver, *val;
	const char *key;
	int ret = -1;

	if (len > STORE_REFS_FILE_MAX)
		return berr_make(err, EFBIG, "%s: larger than %u bytes", what, STORE_REFS_FILE_MAX);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return corrupt(err, what, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		corrupt(err, what, "not a JSON object");
		goto out;
	}
	ver = json_object_get(root, "version");
	if (!json_is_integer(ver) || json_integer_value(ver) != REFS_VERSION) {
		corrupt(err, what, "`version` is missing or not 1");
		goto out;
	}
	map = json_object_get(root, "refs");
	if (!json_is_object(map)) {
		corrupt(err, what, "`refs` is missing or not an object");
		goto out;
	}
	if (json_object_size(map) > STORE_REFS_MAX) {
		corrupt(err, what, "more than %d entries", STORE_REFS_MAX);
		goto out;
	}
	json_object_foreach(map, key, val) {
		json_t *dg = json_object_get(val, "digest");
		json_t *cr = json_object_get(val, "created");
		struct digest d;

		if (!ref_name_ok(key)) {
			corrupt(err, what, "name `%.80s` is invalid", key);
			goto out;
		}
		if (!json_is_object(val) || !json_is_string(dg) ||
		    digest_parse(json_string_value(dg), "digest", &d, NULL) < 0) {
			corrupt(err, what, "`%.80s`: `digest` is missing or invalid", key);
			goto out;
		}
		if (cr != NULL && (!json_is_integer(cr) || json_integer_value(cr) < 0)) {
			corrupt(err, what, "`%.80s`: `created` is not a non-negative integer", key);
			goto out;
		}
		if (store_refs_set(&tmp, key, &d, cr ? json_integer_value(cr) : 0, err) < 0) {
			berr_wrap(err, "%s", what);
			goto out;
		}
	}
	store_refs_free(refs);
	*refs = tmp;
	tmp = (struct store_refs){ 0 };
	ret = 0;
out:
	store_refs_free(&tmp);
	json_decref(root);
	return ret;
}

int store_refs_load(struct store_refs *refs, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	struct berr *e = NULL;
	char path[PATH_MAX];
	size_t len;

	if (paths_refs(path, sizeof(path)) < 0)
		return path_err(err, "refs.json");
	if (fs_read_file(path, STORE_REFS_FILE_MAX, &data, &len, &e) < 0) {
		if (e->errcode == ENOENT) {
			berr_free(e);
			store_refs_free(refs);
			return 0;
		}
		if (err != NULL && *err == NULL)
			*err = e;
		else
			berr_free(e);
		return -1;
	}
	return store_refs_parse(refs, data, len, path, err);
}

int store_refs_save(const struct store_refs *refs, struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	json_t *root, *map;
	char path[PATH_MAX], dg[DIGEST_STR_SIZE];
	int ret;

	if (paths_refs(path, sizeof(path)) < 0)
		return path_err(err, "refs.json");
	root = json_object();
	map = json_object();
	if (root == NULL || map == NULL || json_object_set_new(root, "version",
							       json_integer(REFS_VERSION)) < 0 ||
	    json_object_set(root, "refs", map) < 0)
		goto oom;
	for (size_t i = 0; i < refs->n; i++) {
		json_t *e = json_pack("{s:s, s:I}", "digest", digest_format(&refs->v[i].digest, dg),
				      "created", (json_int_t) refs->v[i].created);
		if (e == NULL || json_object_set_new(map, refs->v[i].name, e) < 0)
			goto oom;
	}
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL)
		goto oom;
	json_decref(map);
	json_decref(root);
	ret = fs_write_atomic(path, text, strlen(text), 0600, err);
	return ret;
oom:
	json_decref(map);
	json_decref(root);
	return berr_make(err, ENOMEM, "write `%s`", path);
}

int store_refs_lock(struct berr **err)
{
	char path[PATH_MAX];
	int fd;

	if (paths_refs_lock(path, sizeof(path)) < 0)
		return path_err(err, "refs.lock");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return berr_make(err, e, "lock `%s`", path);
	}
	return fd;
}

void store_refs_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
