/* Pushing to a registry (OCI distribution-spec, "Push"): blob existence checks, cross-repository
 * mounts, monolithic and chunked uploads, manifest PUTs, and `berth push` on top of them. */
#include "registry/push.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "image/store.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "registry/client_int.h"
#include "registry/http.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define UPLOAD_RESPONSE_MAX 65536  /* bytes of an upload answer's body we read and drop */

static const char *const octet_stream[] = { "Content-Type: application/octet-stream", NULL };

void reg_client_want_push(struct reg_client *c, const char *mount_from)
{
	if (mount_from != NULL)
		snprintf(c->scope, sizeof(c->scope), "repository:%s:pull,push repository:%s:pull",
			 c->ref->path, mount_from);
	else
		snprintf(c->scope, sizeof(c->scope), "repository:%s:pull,push", c->ref->path);
}

/* Read and drop a small answer body so the connection can carry the next request. */
static void drain(struct http_response *r)
{
	struct berr *e = NULL;
	char *sink = NULL;

	if (http_read_all(r, UPLOAD_RESPONSE_MAX, &sink, NULL, &e) < 0)
		berr_free(e);
	free(sink);
}

int reg_blob_exists(struct reg_client *c, const struct digest *d, struct berr **err)
{
	char ds[DIGEST_STR_SIZE];
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", c->base, c->ref->path,
					     digest_format(d, ds));
	struct http_request req = { .method = "HEAD", .url = url, .max_redirects = -1 };
	struct http_response *r = NULL;
	int ret;

	if (reg_send_retry(c, &req, &r, err) < 0)
		return -1;
	if (r->status == 200)
		ret = 1;
	else if (r->status == 404)
		ret = 0;
	else
		ret = http_status_error(r, err);
	http_response_free(r);
	return ret;
}

/* The upload URL a 202 names in Location, made absolute against the URL that answered. */
static char *upload_location(struct http_response *r, struct berr **err)
{
	const char *loc = http_head_get(&r->head, "Location");

	if (loc == NULL || *loc == '\0') {
		berr_make(err, 0, "%s %s: HTTP %d without a Location for the upload", r->method,
			  r->url, r->status);
		return NULL;
	}
	return http_url_resolve(r->url, loc, err);
}

/* POST .../blobs/uploads/ (with `from`, a mount): 1 with the blob mounted (201), 0 with
 * an upload session's URL in *location (202). */
static int upload_start(struct reg_client *c, const struct digest *d, const char *from,
			char **location, struct berr **err)
{
	char ds[DIGEST_STR_SIZE];
	_cleanup_free_ char *url = NULL;
	struct http_request req = { .method = "POST", .max_redirects = 0 };
	struct http_response *r = NULL;
	int ret = -1;

	*location = NULL;
	if (from != NULL)
		url = xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, c->ref->path,
				digest_format(d, ds), from);
	else
		url = xasprintf("%s/v2/%s/blobs/uploads/", c->base, c->ref->path);
	req.url = url;
	if (reg_send_retry(c, &req, &r, err) < 0)
		return -1;
	if (r->status == 201 && from != NULL) {
		drain(r);
		ret = 1;
	} else if (r->status == 202) {
		*location = upload_location(r, err);
		drain(r);
		ret = *location ? 0 : -1;
	} else {
		http_status_error(r, err);
	}
	http_response_free(r);
	return ret;
}

int reg_blob_mount(struct reg_client *c, const struct digest *d, const char *from,
		   struct berr **err)
{
	_cleanup_free_ char *location = NULL;
	int ret = upload_start(c, d, from, &location, err);

	if (ret == 0) {
		/* The registry opened an upload instead; cancel it (distribution-spec "Cancel
		 * an upload") rather than leave it to its purge, since the caller opens its own. */
		struct http_request req = { .method = "DELETE", .url = location, .max_redirects = 0 };
		struct http_response *r = NULL;
		struct berr *e = NULL;

		log_debug("push: registry `%s` declined to mount %s from `%s`", c->ref->domain,
			  d->hex, from);
		if (auth_send(c->auth, c->scope, &req, &r, &e) == 0)
			drain(r);
		http_response_free(r);
		berr_free(e);
	}
	return ret;
}

/* One upload attempt; *retry says whether a failure is worth another. */
struct upload {
	struct reg_client *c;
	const struct digest *d;
	uint64_t size;
	uint64_t chunk;
	const void *data;         /* the whole blob in memory, or NULL: read from fd */
	int fd;
	const char *path;
	void (*on_bytes)(void *data, uint64_t done, uint64_t total);
	void *cb_data;
	bool retry;
	int64_t retry_after;
};

/* Send one upload request; a status other than `want` fails (retryably if the status is). */
static int upload_send(struct upload *U, const char *method, const char *url,
		       const char *const *headers, const void *body, size_t len, int want,
		       char **next, struct berr **err)
{
	struct http_request req = { .method = method, .url = url, .headers = headers,
				    .body = body, .body_len = len, .max_redirects = 0 };
	struct http_response *r = NULL;
	int ret = -1;

	if (body == NULL && len == 0 && strcmp(method, "PUT") == 0)
		req.body = "";
	if (auth_send(U->c->auth, U->c->scope, &req, &r, err) < 0) {
		U->retry = reg_retryable_err(err ? *err : NULL);
		return -1;
	}
	if (r->status == want) {
		if (next != NULL)
			*next = upload_location(r, err);
		drain(r);
		ret = next == NULL || *next != NULL ? 0 : -1;
	} else {
		U->retry = reg_retryable_status(r->status);
		U->retry_after = reg_retry_after_of(r);
		http_status_error(r, err);
	}
	http_response_free(r);
	return ret;
}

static char *with_digest(const char *location, const struct digest *d)
{
	char ds[DIGEST_STR_SIZE];

	return xasprintf("%s%cdigest=%s", location, strchr(location, '?') ? '&' : '?',
			 digest_format(d, ds));
}

static int read_at(int fd, void *buf, size_t n, uint64_t off, const char *path, struct berr **err)
{
	char *p = buf;

	while (n > 0) {
		ssize_t got = pread(fd, p, n, (off_t) off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return berr_make(err, got < 0 ? errno : EIO, "read `%s`%s", path,
					 got == 0 ? ": the file is shorter than its descriptor says" : "");
		p += got;
		n -= (size_t) got;
		off += (uint64_t) got;
	}
	return 0;
}

static int check_hash(struct upload *U, struct digest_ctx *ctx, struct berr **err)
{
	char a[DIGEST_STR_SIZE], b[DIGEST_STR_SIZE];
	struct digest got;

	if (digest_final(ctx, &got, err) < 0)
		return -1;
	if (!digest_equal(&got, U->d))
		return berr_make(err, EIO, "blob `%s` hashes to %s, not %s: the store is damaged; "
				 "run `berth store verify --repair`", U->path ? U->path : "",
				 digest_format(&got, a), digest_format(U->d, b));
	return 0;
}

static int upload_once(struct upload *U, struct berr **err)
{
	_cleanup_free_ char *location = NULL, *put_url = NULL, *buf = NULL;
	const struct digest *d = U->d;
	struct digest_ctx ctx;
	char range[64];
	const char *patch_headers[] = { octet_stream[0], range, NULL };
	uint64_t off = 0;
	int ret = -1;

	U->retry = false;
	U->retry_after = -1;
	if (upload_start(U->c, d, NULL, &location, err) < 0) {
		U->retry = reg_retryable_err(err ? *err : NULL);
		return -1;
	}
	digest_init(&ctx);
	if (U->data != NULL || U->size <= U->chunk) {
		/* Monolithic: the whole blob in the PUT that closes the session. */
		const void *body = U->data;
		if (body == NULL) {
			buf = xmalloc(U->size ? (size_t) U->size : 1);
			if (read_at(U->fd, buf, (size_t) U->size, 0, U->path, err) < 0)
				goto out;
			body = buf;
		}
		digest_update(&ctx, body, (size_t) U->size);
		if (check_hash(U, &ctx, err) < 0)
			goto out;
		put_url = with_digest(location, d);
		if (upload_send(U, "PUT", put_url, octet_stream, body, (size_t) U->size, 201, NULL,
				err) < 0)
			goto out;
		if (U->on_bytes)
			U->on_bytes(U->cb_data, U->size, U->size);
		ret = 0;
		goto out;
	}
	/* Chunked (distribution-spec "Pushing a blob in chunks"): each PATCH carries the next
	 * Content-Range and answers with the URL for the one after. */
	buf = xmalloc((size_t) U->chunk);
	while (off < U->size) {
		size_t n = U->size - off < U->chunk ? (size_t) (U->size - off) : (size_t) U->chunk;
		char *next = NULL;

		if (read_at(U->fd, buf, n, off, U->path, err) < 0)
			goto out;
		digest_update(&ctx, buf, n);
		snprintf(range, sizeof(range), "Content-Range: %" PRIu64 "-%" PRIu64, off,
			 off + n - 1);
		if (upload_send(U, "PATCH", location, patch_headers, buf, n, 202, &next, err) < 0)
			goto out;
		free(location);
		location = next;
		off += n;
		if (U->on_bytes)
			U->on_bytes(U->cb_data, off, U->size);
	}
	/* The content is checked before the PUT that would make it a blob. */
	if (check_hash(U, &ctx, err) < 0)
		goto out;
	put_url = with_digest(location, d);
	ret = upload_send(U, "PUT", put_url, NULL, NULL, 0, 201, NULL, err);
out:
	digest_ctx_free(&ctx);
	return ret;
}

static int upload(struct upload *U, struct berr **err)
{
	char ds[DIGEST_STR_SIZE];

	for (int attempt = 1;; attempt++) {
		struct berr *e = NULL;

		if (upload_once(U, &e) == 0)
			return 0;
		if (!U->retry || attempt == REG_RETRIES) {
			reg_pass_err(err, e);
			if (U->retry)
				berr_wrap(err, "gave up after %d attempts", REG_RETRIES);
			return berr_wrap(err, "upload blob %s", digest_format(U->d, ds));
		}
		log_warn("%s", e->msg);
		berr_free(e);
		reg_backoff_sleep(attempt, U->retry_after);
	}
}

int reg_put_blob(struct reg_client *c, const void *data, size_t len, const struct digest *d,
		 struct berr **err)
{
	struct upload U = { .c = c, .d = d, .size = len, .chunk = len, .data = data ? data : "",
			    .fd = -1 };

	return upload(&U, err);
}

int reg_put_blob_file(struct reg_client *c, const char *path, const struct digest *d,
		      uint64_t size, uint64_t chunk,
		      void (*on_bytes)(void *data, uint64_t done, uint64_t total), void *data,
		      struct berr **err)
{
	struct upload U = { .c = c, .d = d, .size = size, .chunk = chunk ? chunk : REG_CHUNK_DEFAULT,
			    .path = path, .on_bytes = on_bytes, .cb_data = data };
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_make(err, errno, "open `%s`", path);
	if ((uint64_t) st.st_size != size)
		return berr_make(err, 0, "`%s` has %lld bytes, its descriptor says %" PRIu64 ": the "
				 "store is damaged; run `berth store verify --repair`", path,
				 (long long) st.st_size, size);
	U.fd = fd;
	return upload(&U, err);
}

int reg_put_manifest(struct reg_client *c, const char *reference, const char *media_type,
		     const void *data, size_t len, struct berr **err)
{
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", c->base, c->ref->path,
					     reference);
	_cleanup_free_ char *ct = xasprintf("Content-Type: %s", media_type);
	const char *headers[] = { ct, NULL };
	struct http_request req = { .method = "PUT", .url = url, .headers = headers,
				    .body = data, .body_len = len, .max_redirects = 0 };
	struct http_response *r = NULL;
	char a[DIGEST_STR_SIZE];
	struct digest want, got;
	const char *dcd;

	if (digest_buffer(data, len, &want, err) < 0)
		return -1;
	if (reg_send_retry(c, &req, &r, err) < 0)
		return -1;
	if (r->status != 201 && r->status != 200) {
		http_status_error(r, err);
		http_response_free(r);
		return berr_wrap(err, "manifest `%s`", reference);
	}
	dcd = http_head_get(&r->head, "Docker-Content-Digest");
	if (dcd != NULL && (digest_parse(dcd, NULL, &got, NULL) < 0 || !digest_equal(&got, &want))) {
		berr_make(err, 0, "registry `%s` stored manifest `%s` as `%.80s`, not %s",
			  c->ref->domain, reference, dcd, digest_format(&want, a));
		http_response_free(r);
		return -1;
	}
	drain(r);
	http_response_free(r);
	return 0;
}

/* ---- berth push ---- */

/* A repository of the destination registry that an image in the store came from: its blobs
 * can be mounted instead of uploaded. */
struct mount_source {
	char path[REF_NAME_MAX + 1];
	struct img img;
};

struct pusher {
	const struct reg_push_opts *o;
	struct reg_push_result *res;
	struct reg_client *c;
	const char *source;           /* not owned */
	uint64_t chunk;
	struct mount_source *mounts;
	size_t n_mounts;
	const struct digest *current; /* layer being uploaded, for progress */
};

static void collect_mount_sources(struct pusher *P, const struct store_refs *refs,
				  const struct ref *dest)
{
	for (size_t i = 0; i < refs->n; i++) {
		struct ref r;
		struct berr *e = NULL;
		struct mount_source *m;
		bool seen = false;

		if (img_key_is_dangling(refs->v[i].name) ||
		    ref_parse(refs->v[i].name, NULL, 0, &r, &e) < 0) {
			berr_free(e);
			continue;
		}
		if (strcmp(r.domain, dest->domain) != 0 || strcmp(r.path, dest->path) == 0)
			continue;
		for (size_t j = 0; j < P->n_mounts; j++)
			if (strcmp(P->mounts[j].path, r.path) == 0 &&
			    digest_equal(&P->mounts[j].img.top, &refs->v[i].digest))
				seen = true;
		if (seen)
			continue;
		P->mounts = xrealloc(P->mounts, (P->n_mounts + 1) * sizeof(*P->mounts));
		m = &P->mounts[P->n_mounts];
		memset(m, 0, sizeof(*m));
		snprintf(m->path, sizeof(m->path), "%s", r.path);
		if (img_open(&refs->v[i].digest, &m->img, &e) < 0) {
			berr_free(e);
			continue;
		}
		P->n_mounts++;
	}
}

static const char *mount_source_for(const struct pusher *P, const struct digest *d)
{
	for (size_t i = 0; i < P->n_mounts; i++) {
		const struct img *img = &P->mounts[i].img;
		if (digest_equal(&img->m.config.digest, d))
			return P->mounts[i].path;
		for (size_t j = 0; j < img->m.n_layers; j++)
			if (digest_equal(&img->m.layers[j].digest, d))
				return P->mounts[i].path;
	}
	return NULL;
}

static void push_event(struct pusher *P, bool silent, enum reg_push_event ev,
		       const struct digest *d, uint64_t done, uint64_t total, const char *from)
{
	if (!silent && P->o->on_event)
		P->o->on_event(P->o->data, ev, d, done, total, from);
}

static void on_bytes(void *data, uint64_t done, uint64_t total)
{
	struct pusher *P = data;

	push_event(P, false, REG_PUSH_PROGRESS, P->current, done, total, NULL);
}

static int push_blob(struct pusher *P, const struct manifest_descriptor *desc, bool silent,
		     struct berr **err)
{
	char path[PATH_MAX], ds[DIGEST_STR_SIZE];
	const char *from;
	int have;

	digest_format(&desc->digest, ds);
	have = reg_blob_exists(P->c, &desc->digest, err);
	if (have < 0)
		return berr_wrap(err, "blob %s", ds);
	if (have) {
		P->res->n_existing++;
		push_event(P, silent, REG_PUSH_EXISTS, &desc->digest, desc->size, desc->size, NULL);
		return 0;
	}
	from = mount_source_for(P, &desc->digest);
	if (from != NULL) {
		int mounted;

		reg_client_want_push(P->c, from);
		mounted = reg_blob_mount(P->c, &desc->digest, from, err);
		reg_client_want_push(P->c, NULL);
		if (mounted < 0)
			return berr_wrap(err, "mount blob %s from `%s`", ds, from);
		if (mounted) {
			P->res->n_mounted++;
			push_event(P, silent, REG_PUSH_MOUNTED, &desc->digest, desc->size, desc->size,
				   from);
			return 0;
		}
	}
	if (!store_exists(&desc->digest)) {
		if (desc->foreign) {
			log_info("layer %s is non-distributable and not in the store; not pushing it",
				 ds);
			return 0;
		}
		return berr_usage(err, "layer %s of `%s` is not in the store: its compressed blob "
				  "was dropped after conversion ([store] keep-layer-blobs = no) and "
				  "the registry does not have it; set keep-layer-blobs = yes, then "
				  "`berth rmi` the image and pull it again, or `berth load` it from "
				  "an archive", ds, P->source);
	}
	if (store_blob_path(&desc->digest, path, sizeof(path), err) < 0)
		return -1;
	push_event(P, silent, REG_PUSH_PUSHING, &desc->digest, 0, desc->size, NULL);
	P->current = &desc->digest;
	if (reg_put_blob_file(P->c, path, &desc->digest, desc->size, P->chunk,
			      silent ? NULL : on_bytes, P, err) < 0)
		return -1;
	P->res->sent += desc->size;
	P->res->n_pushed++;
	push_event(P, silent, REG_PUSH_PUSHED, &desc->digest, desc->size, desc->size, NULL);
	return 0;
}

/* The blobs of one image manifest, then the manifest under `reference`. */
static int push_manifest(struct pusher *P, const struct digest *d, const char *reference,
			 struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	char ds[DIGEST_STR_SIZE];
	struct manifest m;
	size_t len;
	int ret = -1;

	digest_format(d, ds);
	if (store_get(d, MANIFEST_SIZE_MAX, &data, &len, err) < 0 ||
	    manifest_parse(data, len, NULL, &m, err) < 0)
		return berr_wrap(err, "manifest %s", ds);
	if (!manifest_kind_is_index(m.kind)) {
		for (size_t i = 0; i < m.n_layers; i++)
			if (push_blob(P, &m.layers[i], false, err) < 0)
				goto out;
		if (push_blob(P, &m.config, true, err) < 0)
			goto out;
	}
	if (reg_put_manifest(P->c, reference ? reference : ds, m.media_type, data, len, err) < 0)
		goto out;
	P->res->digest = *d;
	P->res->size = len;
	ret = 0;
out:
	manifest_free(&m);
	return ret;
}

/* An index whose platform manifests are all in the store is pushed whole; otherwise (a pull
 * keeps only this board's) the manifest for this board alone. */
static int push_top(struct pusher *P, const struct digest *top, const char *reference,
		    struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	char ds[DIGEST_STR_SIZE], ps[PLATFORM_STR_SIZE];
	struct manifest m;
	struct img img;
	size_t len, missing = 0;
	int ret = -1;

	if (store_get(top, MANIFEST_SIZE_MAX, &data, &len, err) < 0 ||
	    manifest_parse(data, len, NULL, &m, err) < 0)
		return berr_wrap(err, "manifest %s", digest_format(top, ds));
	if (!manifest_kind_is_index(m.kind)) {
		manifest_free(&m);
		return push_manifest(P, top, reference, err);
	}
	for (size_t i = 0; i < m.n_manifests; i++)
		if (!store_exists(&m.manifests[i].digest))
			missing++;
	if (missing == 0) {
		for (size_t i = 0; i < m.n_manifests; i++)
			if (push_manifest(P, &m.manifests[i].digest, NULL, err) < 0)
				goto out;
		ret = push_manifest(P, top, reference, err);
		goto out;
	}
	if (img_open(top, &img, err) < 0)
		goto out;
	log_warn("`%s` is an index of %zu platforms and only %s is in the store; pushing that "
		 "manifest (%s) alone", P->source, m.n_manifests,
		 platform_format(&img.cfg.platform, ps), digest_format(&img.manifest, ds));
	ret = push_manifest(P, &img.manifest, reference, err);
	img_close(&img);
out:
	manifest_free(&m);
	return ret;
}

int reg_push(const char *source, const struct ref *dest, const struct reg_push_opts *o,
	     struct reg_push_result *res, struct berr **err)
{
	struct pusher P = { .o = o, .res = res, .source = source, .chunk = o->chunk };
	const struct cfg_registry *rc = config_find_registry(o->cfg, dest->domain);
	struct store_refs refs = { 0 };
	const struct store_ref *sr;
	char reference[DIGEST_STR_SIZE + REF_TAG_MAX], ds[DIGEST_STR_SIZE];
	struct digest top;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	if (P.chunk == 0)
		P.chunk = rc && rc->chunk_size ? rc->chunk_size : REG_CHUNK_DEFAULT;
	if (store_refs_load(&refs, err) < 0)
		return -1;
	sr = store_refs_lookup(&refs, source);
	if (sr == NULL) {
		berr_make(err, 0, "an image does not exist locally with the tag `%s`: pull it, or "
			  "`berth tag` an image with that name first", source);
		(*err)->status = EXIT_FAILED;
		goto out;
	}
	top = sr->digest;
	if (digest_is_set(&dest->digest) && !dest->tag[0] && !digest_equal(&dest->digest, &top)) {
		berr_usage(err, "`%s` is %s, not the digest given", source, digest_format(&top, ds));
		goto out;
	}
	if (dest->tag[0])
		snprintf(reference, sizeof(reference), "%s", dest->tag);
	else
		digest_format(&top, reference);
	collect_mount_sources(&P, &refs, dest);
	if (reg_client_new(o->cfg, dest, &P.c, err) < 0)
		goto out;
	reg_client_want_push(P.c, NULL);
	ret = push_top(&P, &top, reference, err);
out:
	for (size_t i = 0; i < P.n_mounts; i++)
		img_close(&P.mounts[i].img);
	free(P.mounts);
	reg_client_free(P.c);
	store_refs_free(&refs);
	if (ret < 0)
		berr_wrap(err, "push `%s`", source);
	return ret;
}
