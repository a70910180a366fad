/* Pulling from a registry (OCI distribution-spec, "Pull"): manifests, resumable blob downloads
 * with bounded retries, and `berth pull`, which stores what it fetched in the order `berth load`
 * uses: layers converted, then blobs, then refs.json last. */
#include "registry/client.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "image/store.h"
#include "registry/auth.h"
#include "registry/client_int.h"
#include "registry/http.h"
#include "trust/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define BLOB_BUF_SIZE (64u << 10)

static const char *const manifest_accept[] = {
	"Accept: " MT_OCI_MANIFEST ", " MT_OCI_INDEX ", " MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST,
	NULL,
};

int reg_pass_err(struct berr **err, struct berr *e)
{
	if (err != NULL && *err == NULL)
		*err = e;
	else
		berr_free(e);
	return -1;
}

int reg_client_new(const struct berth_config *cfg, const struct ref *image,
		   struct reg_client **out, struct berr **err)
{
	struct http_client_opts ho = { .cfg = cfg };
	struct reg_client *c = xcalloc(1, sizeof(*c));
	/* Docker Hub's API is not served on the name users write (distribution-spec leaves the
	 * host to the registry); every other registry is its own API host. */
	const char *host = strcmp(image->domain, REF_DEFAULT_REGISTRY) == 0 ? "registry-1.docker.io"
									     : image->domain;
	const struct cfg_registry *rc = cfg ? config_find_registry(cfg, image->domain) : NULL;
	struct http_url u;

	c->ref = image;
	snprintf(c->base, sizeof(c->base), "%s://%s", rc && rc->plain_http ? "http" : "https",
		 host);
	c->scheme_settled = rc && rc->plain_http;
	/* As Docker does for localhost and insecure registries: https first, then plain http. */
	c->may_fall_back = (rc && rc->insecure) ||
			   (http_url_parse(c->base, &u, NULL) == 0 && http_host_is_loopback(u.host));
	snprintf(c->scope, sizeof(c->scope), "repository:%s:pull", image->path);
	if (http_client_new(&ho, &c->http, err) < 0 ||
	    auth_session_new(c->http, cfg, image->domain, &c->auth, err) < 0) {
		reg_client_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

int reg_login_check(const struct berth_config *cfg, const char *registry, const char *user,
		    const char *password, struct berr **err)
{
	struct ref r = { 0 };
	struct reg_client *c = NULL;
	struct http_response *resp = NULL;
	_cleanup_free_ char *url = NULL;
	struct http_request req = { .method = "GET", .max_redirects = -1 };
	int ret = -1;

	snprintf(r.domain, sizeof(r.domain), "%s", registry);
	if (reg_client_new(cfg, &r, &c, err) < 0)
		return -1;
	auth_session_set_credentials(c->auth, user, password);
	c->scope[0] = '\0';
	url = xasprintf("%s/v2/", c->base);
	req.url = url;
	if (reg_send_retry(c, &req, &resp, err) < 0)
		goto out;
	if (resp->status != 200) {
		http_status_error(resp, err);
		goto out;
	}
	ret = 0;
out:
	http_response_free(resp);
	reg_client_free(c);
	return ret;
}

void reg_client_free(struct reg_client *c)
{
	if (c == NULL)
		return;
	auth_session_free(c->auth);
	http_client_free(c->http);
	free(c);
}

/* ---- retries ---- */

bool reg_retryable_status(int status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

bool reg_retryable_err(const struct berr *e)
{
	if (e == NULL || e->status != EXIT_BERTH)
		return false;
	switch (e->errcode) {
	case ECONNREFUSED: case ECONNRESET: case ECONNABORTED: case ETIMEDOUT: case EPIPE:
	case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN: case EAGAIN:
		return true;
	default:
		return false;
	}
}

int64_t reg_parse_retry_after(const char *value, int64_t now)
{
	struct tm tm;
	char *end;
	long long s;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		errno = 0;
		s = strtoll(value, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		return errno || *end ? -1 : (int64_t) s;
	}
	/* RFC 9110 section 10.2.3: an HTTP-date (IMF-fixdate) is the other form. */
	memset(&tm, 0, sizeof(tm));
	end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end)
		return -1;
	s = (long long) timegm(&tm) - now;
	return s < 0 ? 0 : (int64_t) s;
}

int64_t reg_retry_after_of(struct http_response *r)
{
	return reg_parse_retry_after(http_head_get(&r->head, "Retry-After"), (int64_t) time(NULL));
}

/* Exponential backoff with jitter (half fixed, half random, so boards that lost the link
 * together do not come back together); a server's Retry-After wins, within bounds. */
void reg_backoff_sleep(int attempt, int64_t retry_after)
{
	static bool seeded;
	uint64_t ms = (uint64_t) REG_BACKOFF_BASE_MS << (attempt - 1);
	struct timespec ts;

	if (!seeded) {
		srandom((unsigned) time(NULL) ^ (unsigned) getpid());
		seeded = true;
	}
	if (ms > REG_BACKOFF_MAX_MS)
		ms = REG_BACKOFF_MAX_MS;
	ms = ms / 2 + (uint64_t) random() % (ms / 2 + 1);
	if (retry_after >= 0)
		ms = (uint64_t) (retry_after > REG_RETRY_AFTER_MAX_S ? REG_RETRY_AFTER_MAX_S
								     : retry_after) * 1000;
	log_warn("retrying in %" PRIu64 ".%01" PRIu64 " s (attempt %d of %d)", ms / 1000,
		 ms % 1000 / 100, attempt + 1, REG_RETRIES);
	ts.tv_sec = (time_t) (ms / 1000);
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Send the first request of a client. To a loopback or insecure registry whose https fails
 * below HTTP (it speaks plain http), the same request goes again over http, and the client
 * stays there. The error reported is https's. */
static int send_first(struct reg_client *c, const struct http_request *req,
		      struct http_response **out, struct berr **err)
{
	struct http_request r2 = *req;
	struct berr *e = NULL, *e2 = NULL;
	_cleanup_free_ char *url = NULL;
	size_t n = strlen("https://");

	c->scheme_settled = true;
	if (auth_send(c->auth, c->scope, req, out, &e) == 0)
		return 0;
	/* Refused credentials and the like came over an https that works. */
	if (!c->may_fall_back || strncmp(req->url, "https://", n) != 0 ||
	    e->status == EXIT_USAGE)
		return reg_pass_err(err, e);
	url = xasprintf("http://%s", req->url + n);
	r2.url = url;
	if (auth_send(c->auth, c->scope, &r2, out, &e2) == 0) {
		/* 400 is an https server's answer to plain http. */
		if ((*out)->status != 400) {
			log_info("registry `%s` does not answer https (%s); using plain http",
				 c->ref->domain, e->msg);
			berr_free(e);
			memmove(c->base + 4, c->base + 5, strlen(c->base + 5) + 1);
			return 0;
		}
		http_response_free(*out);
		*out = NULL;
	} else {
		log_debug("plain http to `%s`: %s", c->ref->domain, e2->msg);
		berr_free(e2);
	}
	c->scheme_settled = false; /* a network error: the next attempt tries both again */
	return reg_pass_err(err, e);
}

int reg_send_retry(struct reg_client *c, const struct http_request *req,
		   struct http_response **out, struct berr **err)
{
	struct http_request again = *req;
	_cleanup_free_ char *url = NULL;

	for (int attempt = 1;; attempt++) {
		struct http_response *r = NULL;
		struct berr *e = NULL;
		int64_t after = -1;

		/* The first attempt may have moved the client to plain http. */
		if (url == NULL && strncmp(c->base, "http://", 7) == 0 &&
		    strncmp(req->url, "https://", 8) == 0) {
			url = xasprintf("http://%s", req->url + 8);
			again.url = url;
		}
		if ((c->scheme_settled ? auth_send(c->auth, c->scope, &again, &r, &e)
				       : send_first(c, &again, &r, &e)) == 0) {
			if (!reg_retryable_status(r->status) || attempt == REG_RETRIES) {
				*out = r;
				return 0;
			}
			log_warn("%s %s: HTTP %d", req->method, req->url, r->status);
			after = reg_retry_after_of(r);
			http_response_free(r);
		} else {
			if (!reg_retryable_err(e))
				return reg_pass_err(err, e);
			if (attempt == REG_RETRIES) {
				reg_pass_err(err, e);
				return berr_wrap(err, "gave up after %d attempts", REG_RETRIES);
			}
			log_warn("%s", e->msg);
			berr_free(e);
		}
		reg_backoff_sleep(attempt, after);
	}
}

/* ---- manifests and small blobs ---- */

int reg_get_manifest(struct reg_client *c, const char *reference, bool missing_ok, char **data,
		     size_t *len, char **content_type, struct digest *digest, struct berr **err)
{
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/manifests/%s", c->base, c->ref->path,
					     reference);
	struct http_request req = { .method = "GET", .url = url, .headers = manifest_accept,
				    .max_redirects = -1 };
	struct http_response *r = NULL;
	_cleanup_free_ char *body = NULL;
	const char *ct;
	struct digest want;
	char a[DIGEST_STR_SIZE], b[DIGEST_STR_SIZE];
	size_t n;

	if (reg_send_retry(c, &req, &r, err) < 0)
		return -1;
	if (r->status == 404) {
		http_response_free(r);
		if (missing_ok)
			return 0;
		berr_make(err, 0, "manifest for `%s/%s:%s` not found (HTTP 404, manifest "
			  "unknown): check the repository name and tag", c->ref->domain, c->ref->path,
			  reference);
		(*err)->status = EXIT_FAILED;
		return -1;
	}
	if (r->status != 200) {
		http_status_error(r, err);
		http_response_free(r);
		return -1;
	}
	if (http_read_all(r, MANIFEST_SIZE_MAX, &body, &n, err) < 0) {
		http_response_free(r);
		return berr_wrap(err, "manifest `%s`", reference);
	}
	ct = http_head_get(&r->head, "Content-Type");
	if (content_type != NULL)
		*content_type = ct ? xstrdup(ct) : NULL;
	http_response_free(r);
	if (digest_buffer(body, n, digest, err) < 0)
		goto fail;
	/* By digest, the content is what was asked for, whatever the server claims. */
	if (digest_valid(reference)) {
		if (digest_parse(reference, NULL, &want, err) < 0)
			goto fail;
		if (!digest_equal(&want, digest)) {
			berr_make(err, 0, "registry `%s` served manifest %s for %s", c->ref->domain,
				  digest_format(digest, a), digest_format(&want, b));
			goto fail;
		}
	}
	*data = steal_ptr(&body);
	*len = n;
	return 1;
fail:
	if (content_type != NULL) {
		free(*content_type);
		*content_type = NULL;
	}
	return -1;
}

int reg_get_blob(struct reg_client *c, const struct digest *d, uint64_t size, char **data,
		 size_t *len, struct berr **err)
{
	char ds[DIGEST_STR_SIZE];
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", c->base, c->ref->path,
					     digest_format(d, ds));
	struct http_request req = { .method = "GET", .url = url, .max_redirects = -1 };
	struct http_response *r = NULL;
	_cleanup_free_ char *body = NULL;
	struct digest got;
	size_t n;

	if (size > MANIFEST_SIZE_MAX)
		return berr_make(err, EFBIG, "blob %s: %" PRIu64 " bytes is more than the %u a "
				 "config may have", ds, size, MANIFEST_SIZE_MAX);
	if (reg_send_retry(c, &req, &r, err) < 0)
		return -1;
	if (r->status != 200) {
		http_status_error(r, err);
		http_response_free(r);
		return -1;
	}
	if (http_read_all(r, (size_t) size, &body, &n, err) < 0) {
		http_response_free(r);
		return berr_wrap(err, "blob %s", ds);
	}
	http_response_free(r);
	if (n != size)
		return berr_make(err, 0, "blob %s: %zu bytes, the descriptor says %" PRIu64, ds, n,
				 size);
	if (digest_buffer(body, n, &got, err) < 0)
		return -1;
	if (!digest_equal(&got, d))
		return berr_make(err, 0, "blob %s: content hashes to %s", ds,
				 digest_format(&got, (char[DIGEST_STR_SIZE]){ 0 }));
	*data = steal_ptr(&body);
	*len = n;
	return 0;
}

/* ---- resumable blob downloads ---- */

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

/* Hash the first `have` bytes of the partial file: they were written by an earlier attempt,
 * maybe before a power cut, so only the final digest check vouches for them. */
static int hash_prefix(int fd, uint64_t have, struct digest_ctx *ctx, const char *path,
		       struct berr **err)
{
	static char buf[BLOB_BUF_SIZE];
	uint64_t off = 0;

	while (off < have) {
		size_t want = have - off < sizeof(buf) ? (size_t) (have - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t) off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berr_make(err, n < 0 ? errno : EIO, "read `%s`", path);
		digest_update(ctx, buf, (size_t) n);
		off += (uint64_t) n;
	}
	return 0;
}

/* Does a 206's Content-Range start where we asked? */
static bool content_range_ok(struct http_response *r, uint64_t from)
{
	const char *v = http_head_get(&r->head, "Content-Range");
	unsigned long long start;
	char *end;

	if (v == NULL || strncmp(v, "bytes ", 6) != 0)
		return false;
	errno = 0;
	start = strtoull(v + 6, &end, 10);
	return errno == 0 && *end == '-' && start == from;
}

struct dl {
	struct reg_client *c;
	const struct digest *d;
	uint64_t size;
	const char *path;
	void (*on_bytes)(void *data, uint64_t done, uint64_t total);
	void *data;
	uint64_t fetched;
	bool retry;          /* the failure is worth another attempt */
	int64_t retry_after;
};

static int download_once(struct dl *D, struct berr **err)
{
	static char buf[BLOB_BUF_SIZE];
	char ds[DIGEST_STR_SIZE];
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/blobs/%s", D->c->base, D->c->ref->path,
					     digest_format(D->d, ds));
	struct http_request req = { .method = "GET", .url = url, .max_redirects = -1 };
	struct http_response *r = NULL;
	_cleanup_close_ int fd = -1;
	struct digest_ctx ctx;
	struct digest got;
	struct stat st;
	uint64_t have;
	bool resumed;
	int ret = -1;

	D->retry = false;
	D->retry_after = -1;
	fd = open(D->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_make(err, errno, "open `%s`", D->path);
	have = (uint64_t) st.st_size;
	if (have > D->size) {
		if (ftruncate(fd, 0) < 0)
			return berr_make(err, errno, "truncate `%s`", D->path);
		have = 0;
	}
	resumed = have > 0;
	digest_init(&ctx);
	if (hash_prefix(fd, have, &ctx, D->path, err) < 0)
		goto out;
	if (have < D->size) {
		req.range = have > 0;
		req.range_from = have;
		if (auth_send(D->c->auth, D->c->scope, &req, &r, err) < 0) {
			D->retry = reg_retryable_err(err ? *err : NULL);
			goto out;
		}
		if (r->status == 200 && have > 0) {
			/* distribution-spec: a registry may ignore Range; start over. */
			log_info("blob %.19s: the registry ignored the Range request; downloading "
				 "it from the start", ds);
			digest_ctx_free(&ctx);
			digest_init(&ctx);
			if (ftruncate(fd, 0) < 0) {
				berr_make(err, errno, "truncate `%s`", D->path);
				goto out;
			}
			have = 0;
		} else if (r->status == 206 && have > 0) {
			if (!content_range_ok(r, have)) {
				/* Start over on the next attempt rather than guess. */
				if (ftruncate(fd, 0) < 0) {
					berr_make(err, errno, "truncate `%s`", D->path);
					goto out;
				}
				berr_make(err, 0, "GET %s: Content-Range does not start at byte %" PRIu64,
					  url, have);
				D->retry = true;
				goto out;
			}
		} else if (r->status != 200) {
			D->retry = reg_retryable_status(r->status);
			D->retry_after = reg_retry_after_of(r);
			http_status_error(r, err);
			goto out;
		}
		if (lseek(fd, (off_t) have, SEEK_SET) < 0) {
			berr_make(err, errno, "seek `%s`", D->path);
			goto out;
		}
		if (D->on_bytes)
			D->on_bytes(D->data, have, D->size);
		for (;;) {
			ssize_t n = http_read(r, buf, sizeof(buf), err);
			if (n < 0) {
				D->retry = reg_retryable_err(err ? *err : NULL);
				goto out;
			}
			if (n == 0)
				break;
			if ((uint64_t) n > D->size - have) {
				/* A lying peer must not fill the flash; this file is no good. */
				unlink(D->path);
				berr_make(err, EFBIG, "blob %s: the registry sent more than the %" PRIu64
					  " bytes the manifest says", ds, D->size);
				goto out;
			}
			if (write_all(fd, buf, (size_t) n) < 0) {
				/* Disk full or I/O error: keep what arrived for the next pull. */
				berr_make(err, errno, "write `%s`", D->path);
				goto out;
			}
			digest_update(&ctx, buf, (size_t) n);
			have += (uint64_t) n;
			D->fetched += (uint64_t) n;
			if (D->on_bytes)
				D->on_bytes(D->data, have, D->size);
		}
		if (have != D->size) {
			berr_make(err, ECONNRESET, "blob %s: the body ended after %" PRIu64 " of %" PRIu64
				  " bytes", ds, have, D->size);
			D->retry = true;
			goto out;
		}
	}
	if (digest_final(&ctx, &got, err) < 0)
		goto out;
	if (!digest_equal(&got, D->d)) {
		unlink(D->path);
		berr_make(err, 0, "blob %s: the download hashes to %s", ds,
			  digest_format(&got, (char[DIGEST_STR_SIZE]){ 0 }));
		/* A prefix kept from before a power cut can be garbage; a fresh download can not. */
		D->retry = resumed;
		goto out;
	}
	if (fsync(fd) < 0) {
		berr_make(err, errno, "fsync `%s`", D->path);
		goto out;
	}
	ret = 0;
out:
	digest_ctx_free(&ctx);
	http_response_free(r);
	return ret;
}

int reg_download_blob(struct reg_client *c, const struct digest *d, uint64_t size, char *path,
		      size_t path_size, void (*on_bytes)(void *data, uint64_t done, uint64_t total),
		      void *data, uint64_t *fetched, struct berr **err)
{
	struct dl D = { .c = c, .d = d, .size = size, .path = path, .on_bytes = on_bytes,
			.data = data };
	uint64_t kept = 0; /* the most of the blob on flash after any attempt */
	int ret = -1;

	if (paths_partial(path, path_size, d->hex) < 0)
		return berr_make(err, errno, "path of the partial download of %s", d->hex);
	for (int attempt = 1;; attempt++) {
		struct berr *e = NULL;
		struct stat st;

		if (download_once(&D, &e) == 0) {
			ret = 0;
			break;
		}
		/* A link that drops after real progress is flaky, not down: the count starts over,
		 * so a long blob on a bad cellular link still arrives. Progress is what the partial
		 * file holds beyond its best so far (a server that ignores Range and drops each
		 * time makes none), so this happens at most size / REG_PROGRESS times. */
		if (D.retry && stat(D.path, &st) == 0 && (uint64_t) st.st_size >= kept + REG_PROGRESS) {
			kept = (uint64_t) st.st_size;
			attempt = 1;
		}
		if (!D.retry || attempt == REG_RETRIES) {
			reg_pass_err(err, e);
			if (D.retry)
				berr_wrap(err, "gave up after %d attempts", REG_RETRIES);
			break;
		}
		log_warn("%s", e->msg);
		berr_free(e);
		reg_backoff_sleep(attempt, D.retry_after);
	}
	if (fetched != NULL)
		*fetched = D.fetched;
	return ret;
}

static void human_mb(uint64_t n, char *buf, size_t size)
{
	snprintf(buf, size, "%.1fMB", (double) n / 1e6);
}

int reg_check_space(uint64_t need, struct berr **err)
{
	struct statvfs sv;
	uint64_t avail;
	char a[32], b[32];

	if (statvfs(paths_root(), &sv) < 0)
		return berr_make(err, errno, "statvfs `%s`", paths_root());
	avail = (uint64_t) sv.f_bavail * (uint64_t) sv.f_frsize;
	if (avail >= need && avail - need >= REG_SPACE_MARGIN)
		return 0;
	human_mb(need + REG_SPACE_MARGIN, a, sizeof(a));
	human_mb(avail, b, sizeof(b));
	return berr_make(err, ENOSPC, "not enough space on `%s`: this pull needs about %s and %s "
			 "is free; remove unused images (`berth image prune -a`) or make room",
			 paths_root(), a, b);
}

/* ---- berth pull ---- */

static int trust_fetch(void *opaque, const struct digest *digest, uint64_t size, char **data,
		       size_t *len, struct berr **err)
{
	return reg_get_blob(opaque, digest, size, data, len, err);
}

/* The trust policy, on the digest the reference resolved to, before any layer is fetched. */
static int pull_trust(struct reg_client *c, const struct reg_pull_opts *o, const struct ref *image,
		      const struct digest *d, bool *verified, struct berr **err)
{
	struct trust_rule rule;
	struct trust_decision dec;
	_cleanup_free_ char *sig = NULL, *tag = NULL;
	struct digest sig_d;
	size_t sig_len = 0;
	int found;

	*verified = false;
	if (trust_rule_for(o->cfg, image, &rule, err) < 0)
		return -1;
	if (rule.policy == TRUST_OFF)
		return 0;
	/* The signature's tag, as cosign's key-based format names it. */
	tag = xasprintf("sha256-%s.sig", d->hex);
	found = reg_get_manifest(c, tag, true, &sig, &sig_len, NULL, &sig_d, err);
	if (found < 0)
		return berr_wrap(err, "signature of `%s`", tag);
	if (trust_check(o->cfg, image, d, found ? sig : NULL, found ? sig_len : 0, trust_fetch, c,
			&dec, err) < 0)
		return -1;
	*verified = dec.verified;
	return 0;
}

struct pull_image {
	struct manifest top;
	struct manifest m;         /* the image manifest (a copy's owner: see has_child) */
	bool has_child;            /* top is an index and m its chosen child */
	char *top_data, *man_data, *cfg_data;
	size_t top_len, man_len, cfg_len;
	struct manifest_config cfg;
	bool have_cfg;
	struct digest *chain_ids;
};

static void pull_image_free(struct pull_image *p)
{
	manifest_free(&p->top);
	if (p->has_child)
		manifest_free(&p->m);
	if (p->have_cfg)
		manifest_config_free(&p->cfg);
	free(p->top_data);
	free(p->man_data);
	free(p->cfg_data);
	free(p->chain_ids);
}

/* The manifest, index resolved to `want`, and the config. */
static int pull_resolve(struct reg_client *c, const struct ref *image,
			const struct reg_pull_opts *o, struct pull_image *p,
			struct reg_pull_result *res, struct berr **err)
{
	char reference[DIGEST_STR_SIZE + REF_TAG_MAX], ds[DIGEST_STR_SIZE];
	_cleanup_free_ char *ct = NULL, *child_ct = NULL;
	const struct manifest_descriptor *cd;
	struct platform want;
	size_t chosen;

	if (digest_is_set(&image->digest))
		digest_format(&image->digest, reference);
	else
		snprintf(reference, sizeof(reference), "%s", image->tag);
	if (reg_get_manifest(c, reference, false, &p->top_data, &p->top_len, &ct, &res->digest,
			     err) < 0)
		return -1;
	if (manifest_parse(p->top_data, p->top_len, ct, &p->top, err) < 0)
		return berr_wrap(err, "manifest %s", digest_format(&res->digest, ds));
	res->manifest = res->top = res->digest;
	if (manifest_kind_is_index(p->top.kind)) {
		if (o->platform != NULL)
			want = *o->platform;
		else if (img_platform(&want, err) < 0)
			return -1;
		if (platform_select(&want, p->top.manifests, p->top.n_manifests, &chosen, err) < 0)
			return berr_wrap(err, "index %s", digest_format(&res->digest, ds));
		cd = &p->top.manifests[chosen];
		if (reg_get_manifest(c, digest_format(&cd->digest, ds), false, &p->man_data,
				     &p->man_len, &child_ct, &res->manifest, err) < 0)
			return -1;
		if (p->man_len != cd->size)
			return berr_make(err, 0, "manifest %s: %zu bytes, the index says %" PRIu64, ds,
					 p->man_len, cd->size);
		if (manifest_parse(p->man_data, p->man_len, child_ct, &p->m, err) < 0)
			return berr_wrap(err, "manifest %s", ds);
		p->has_child = true;
		if (manifest_kind_is_index(p->m.kind))
			return berr_make(err, 0, "manifest %s is an index inside an index, which berth "
					 "does not follow", ds);
		/* With a platform asked for, name the manifest itself: opening the index later
		 * would pick this board's platform instead. */
		if (o->platform != NULL)
			res->top = res->manifest;
	} else {
		p->m = p->top;
	}
	return 0;
}

static int pull_config(struct reg_client *c, const struct reg_pull_opts *o, struct pull_image *p,
		       struct berr **err)
{
	const struct manifest_descriptor *cd = &p->m.config;
	char ds[DIGEST_STR_SIZE], a[PLATFORM_STR_SIZE], b[PLATFORM_STR_SIZE];
	struct platform want;

	digest_format(&cd->digest, ds);
	if (store_exists(&cd->digest)) {
		if (store_get(&cd->digest, MANIFEST_SIZE_MAX, &p->cfg_data, &p->cfg_len, err) < 0)
			return -1;
	} else if (reg_get_blob(c, &cd->digest, cd->size, &p->cfg_data, &p->cfg_len, err) < 0) {
		return berr_wrap(err, "config");
	}
	if (manifest_config_parse(p->cfg_data, p->cfg_len, &p->cfg, err) < 0)
		return berr_wrap(err, "config %s", ds);
	p->have_cfg = true;
	/* A platform asked for must be what the image is; this board's is only advice, as in
	 * `berth load`. */
	if (o->platform != NULL && platform_rank(o->platform, &p->cfg.platform) < 0)
		return berr_make(err, 0, "image is for %s, not %s", platform_format(&p->cfg.platform, a),
				 platform_format(o->platform, b));
	if (o->platform == NULL && img_platform(&want, NULL) == 0 &&
	    platform_rank(&want, &p->cfg.platform) < 0)
		log_warn("image is for %s, this board is %s", platform_format(&p->cfg.platform, a),
			 platform_format(&want, b));
	if (p->cfg.n_diff_ids != p->m.n_layers)
		return berr_make(err, 0, "config %s lists %zu diff_ids but the manifest has %zu "
				 "layers", ds, p->cfg.n_diff_ids, p->m.n_layers);
	for (size_t i = 0; i < p->m.n_layers; i++)
		if (p->m.layers[i].format == LAYER_UNKNOWN)
			return berr_make(err, 0, "layers[%zu] has media type `%.100s`, which is not an "
					 "image layer", i, p->m.layers[i].media_type);
	p->chain_ids = xcalloc(p->m.n_layers ? p->m.n_layers : 1, sizeof(struct digest));
	if (p->m.n_layers && digest_chain_ids(p->cfg.diff_ids, p->m.n_layers, p->chain_ids, err) < 0)
		return -1;
	return 0;
}

/* Bytes on flash the missing layers may take: what is left to download, plus about as much
 * again for the squashfs file made from it. */
static uint64_t pull_space_needed(const struct pull_image *p)
{
	char path[PATH_MAX];
	uint64_t need = 0;
	struct stat st;

	for (size_t i = 0; i < p->m.n_layers; i++) {
		const struct manifest_descriptor *l = &p->m.layers[i];
		uint64_t have = 0;

		if (layer_exists(&p->chain_ids[i]))
			continue;
		need += l->size;
		if (store_exists(&l->digest))
			continue;
		if (paths_partial(path, sizeof(path), l->digest.hex) == 0 && stat(path, &st) == 0 &&
		    (uint64_t) st.st_size <= l->size)
			have = (uint64_t) st.st_size;
		need += l->size - have;
	}
	return need;
}

struct progress {
	const struct reg_pull_opts *o;
	const struct digest *d;
};

static void on_bytes(void *data, uint64_t done, uint64_t total)
{
	struct progress *pr = data;

	if (pr->o->on_event)
		pr->o->on_event(pr->o->data, REG_LAYER_PROGRESS, pr->d, done, total);
}

static void event(const struct reg_pull_opts *o, enum reg_event ev, const struct digest *d,
		  uint64_t done, uint64_t total)
{
	if (o->on_event)
		o->on_event(o->data, ev, d, done, total);
}

/* Fetch (unless kept) and convert layer i. */
static int pull_layer(struct reg_client *c, const struct reg_pull_opts *o, struct pull_image *p,
		      size_t i, struct reg_pull_result *res, bool *changed, struct berr **err)
{
	const struct manifest_descriptor *l = &p->m.layers[i];
	char src[PATH_MAX], ds[DIGEST_STR_SIZE];
	_cleanup_close_ int fd = -1;
	bool from_store = store_exists(&l->digest);
	struct progress pr = { o, &l->digest };
	struct stat st;
	uint64_t got = 0;
	int ret;

	digest_format(&l->digest, ds);
	if (layer_exists(&p->chain_ids[i])) {
		event(o, REG_LAYER_EXISTS, &l->digest, l->size, l->size);
		return 0;
	}
	if (l->foreign && !from_store)
		log_info("layer %s is non-distributable; asking the registry for it anyway", ds);
	if (from_store) {
		if (store_blob_path(&l->digest, src, sizeof(src), err) < 0)
			return -1;
	} else {
		if (paths_partial(src, sizeof(src), l->digest.hex) < 0)
			return berr_make(err, errno, "partial download path");
		event(o, REG_LAYER_DOWNLOADING, &l->digest,
		      stat(src, &st) == 0 ? (uint64_t) st.st_size : 0, l->size);
		ret = reg_download_blob(c, &l->digest, l->size, src, sizeof(src), on_bytes, &pr, &got,
					err);
		res->fetched += got;
		if (ret < 0)
			return berr_wrap(err, "layer %s", ds);
		event(o, REG_LAYER_DOWNLOADED, &l->digest, l->size, l->size);
	}
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", src);
	if (layer_store(o->format, fd, &p->cfg.diff_ids[i], &p->chain_ids[i], o->sqfs, NULL, err) < 0)
		return berr_wrap(err, "layer %zu (%s)", i, ds);
	*changed = true;
	if (!from_store) {
		if (o->cfg->store.keep_layer_blobs) {
			if (store_put_file(src, &l->digest, (int64_t) l->size, NULL, err) < 0)
				return -1;
		} else if (unlink(src) < 0 && errno != ENOENT) {
			log_warn("remove `%s`: %s", src, strerror(errno));
		}
	}
	event(o, REG_LAYER_COMPLETE, &l->digest, l->size, l->size);
	return 0;
}

static int put_blob(const char *data, size_t len, const struct digest *d, bool *changed,
		    struct berr **err)
{
	if (store_exists(d))
		return 0;
	*changed = true;
	return store_put(data, len, d, NULL, err);
}

static int pull_commit_ref(const struct reg_pull_result *res, bool *was_there, struct berr **err)
{
	struct store_refs refs = { 0 };
	const struct store_ref *cur;
	char dk[DIGEST_STR_SIZE];
	int lock, ret = -1;

	lock = store_refs_lock(err);
	if (lock < 0)
		return -1;
	if (store_refs_load(&refs, err) < 0)
		goto out;
	cur = store_refs_lookup(&refs, res->key);
	*was_there = cur != NULL && digest_equal(&cur->digest, &res->top);
	if (*was_there) {
		ret = 0;
		goto out;
	}
	if (store_refs_set(&refs, res->key, &res->top, -1, err) < 0)
		goto out;
	img_dangling_key(&res->top, dk);
	store_refs_remove(&refs, dk);
	ret = store_refs_save(&refs, err);
out:
	store_refs_free(&refs);
	store_refs_unlock(lock);
	return ret;
}

int reg_pull(const struct ref *image, const struct reg_pull_opts *o, struct reg_pull_result *res,
	     struct berr **err)
{
	struct pull_image p = { 0 };
	struct reg_client *c = NULL;
	bool changed = false, was_there = false;
	int glock = -1, ret = -1;

	memset(res, 0, sizeof(*res));
	if (ref_format(image, REF_FULL, res->key, sizeof(res->key)) < 0)
		return berr_make(err, ENAMETOOLONG, "image name");
	if (store_init(err) < 0 || reg_client_new(o->cfg, image, &c, err) < 0)
		return -1;
	if (pull_resolve(c, image, o, &p, res, err) < 0 ||
	    pull_trust(c, o, image, &res->digest, &res->trust_verified, err) < 0 ||
	    pull_config(c, o, &p, err) < 0)
		goto out;
	if (reg_check_space(pull_space_needed(&p), err) < 0)
		goto out;
	/* From the first write until refs.json names the image, the GC must not take our blobs
	 * and layers for garbage. */
	glock = gc_lock(false, err);
	if (glock < 0)
		goto out;
	for (size_t i = 0; i < p.m.n_layers; i++)
		if (pull_layer(c, o, &p, i, res, &changed, err) < 0)
			goto out;
	/* Blobs after the layers and refs.json last, as `berth load` does: a power cut before
	 * the refs are saved leaves only what the GC collects. A failure keeps the converted
	 * layers, unnamed, so a retry over a poor link does not fetch them again. */
	if (put_blob(p.cfg_data, p.cfg_len, &p.m.config.digest, &changed, err) < 0)
		goto out;
	if (p.has_child && put_blob(p.man_data, p.man_len, &res->manifest, &changed, err) < 0)
		goto out;
	if (!digest_equal(&res->top, &res->manifest) &&
	    put_blob(p.top_data, p.top_len, &res->digest, &changed, err) < 0)
		goto out;
	if (!p.has_child && put_blob(p.top_data, p.top_len, &res->digest, &changed, err) < 0)
		goto out;
	if (pull_commit_ref(res, &was_there, err) < 0)
		goto out;
	res->up_to_date = was_there && !changed;
	ret = 0;
out:
	if (glock >= 0)
		gc_unlock(glock);
	pull_image_free(&p);
	reg_client_free(c);
	if (ret < 0)
		berr_wrap(err, "pull `%s`", res->key);
	return ret;
}
