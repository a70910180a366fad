/* The pull side of the distribution API (OCI distribution-spec, "Pull"): manifests by tag or
 * digest, an index resolved to one platform, blobs downloaded resumably into tmp/<hex>.partial
 * with retries, then stored, converted and named the way `berth load` does it. */
#ifndef BERTH_REGISTRY_CLIENT_H
#define BERTH_REGISTRY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/layer.h"
#include "image/platform.h"
#include "image/squashfs.h"

struct berr;
struct berth_config;
struct ref;

#define REG_RETRIES 5                 /* attempts per request on network errors, 5xx, 429 */
#define REG_PROGRESS (1u << 20)       /* a partial blob this much past its best resets the count */
#define REG_BACKOFF_BASE_MS 500       /* first wait; doubled per attempt, with jitter */
#define REG_BACKOFF_MAX_MS 30000      /* no single wait is longer */
#define REG_RETRY_AFTER_MAX_S 60      /* a longer Retry-After is cut to this */
#define REG_SPACE_MARGIN (16u << 20)  /* free bytes a pull leaves on the data root */

/* One registry conversation for one repository. */
struct reg_client;

/* `image` names the registry and repository (not owned, must outlive the client). Credentials,
 * ca-file and insecure come from `cfg`'s [registry "host:port"] section. */
int reg_client_new(const struct berth_config *cfg, const struct ref *image,
		   struct reg_client **out, struct berr **err);
void reg_client_free(struct reg_client *c);

/* GET /v2/ of `registry` ("host[:port]") with these credentials, as `berth login` checks
 * them before saving: 0 if the registry accepts them. */
int reg_login_check(const struct berth_config *cfg, const char *registry, const char *user,
		    const char *password, struct berr **err);

/* GET /v2/<name>/manifests/<reference> with Accept listing the OCI and Docker manifest and
 * index types. Returns 1 with the body (malloc'd, NUL-terminated), its Content-Type
 * (malloc'd, may be NULL) and its digest; 0 if the registry says 404 and `missing_ok`; -1 on
 * error (a 404 says the manifest is unknown). A reference that is a digest must match. */
int reg_get_manifest(struct reg_client *c, const char *reference, bool missing_ok, char **data,
		     size_t *len, char **content_type, struct digest *digest, struct berr **err);

/* A small blob (config, signature payload) into memory; `size` from its descriptor, checked
 * along with the digest. */
int reg_get_blob(struct reg_client *c, const struct digest *d, uint64_t size, char **data,
		 size_t *len, struct berr **err);

/* Download blob `d` of `size` bytes into tmp/<hex>.partial, resuming from what the file holds
 * (re-hashed first) with a Range request; a server that ignores Range (200) starts it over.
 * On success the file is complete, verified and synced, and its path is in `path`. On failure
 * the partial file is kept for the next attempt unless its content is wrong. `on_bytes` (may
 * be NULL) is told the byte count so far. *fetched (may be NULL) gets the bytes received. */
int reg_download_blob(struct reg_client *c, const struct digest *d, uint64_t size, char *path,
		      size_t path_size, void (*on_bytes)(void *data, uint64_t done, uint64_t total),
		      void *data, uint64_t *fetched, struct berr **err);

/* Is there room for `need` more bytes (plus REG_SPACE_MARGIN) on the data root? */
int reg_check_space(uint64_t need, struct berr **err);

/* ---- berth pull ---- */

enum reg_event {
	REG_LAYER_EXISTS,      /* converted layer already on flash: nothing to fetch */
	REG_LAYER_DOWNLOADING, /* a download starts (or resumes at `done`) */
	REG_LAYER_PROGRESS,    /* bytes arrived (at most a few calls a second) */
	REG_LAYER_DOWNLOADED,  /* verified */
	REG_LAYER_COMPLETE,    /* converted into the store */
};

struct reg_pull_opts {
	const struct berth_config *cfg;   /* not owned */
	const struct platform *platform;  /* NULL: this board's */
	enum layer_format format;
	const struct sqfs_options *sqfs;  /* not owned; NULL: defaults */
	/* Progress; `digest` is the layer blob's. */
	void (*on_event)(void *data, enum reg_event ev, const struct digest *digest, uint64_t done,
			 uint64_t total);
	void *data;
};

struct reg_pull_result {
	char key[512];               /* the refs.json key set (REF_FULL) */
	struct digest digest;        /* of what the registry served for the reference */
	struct digest top;           /* what the key points at: `digest`, or with a platform
	                              * asked for, the manifest chosen from the index */
	struct digest manifest;      /* the image manifest chosen */
	bool up_to_date;             /* the key already pointed at top, and everything was here */
	uint64_t fetched;            /* bytes of layer blobs received */
	bool trust_verified;
};

/* Pull `image` (a ref with tag or digest): resolve, check the trust policy before any layer
 * is fetched, download what is missing, convert, store, and set the name in refs.json last.
 * A failure leaves refs.json and earlier images untouched. */
int reg_pull(const struct ref *image, const struct reg_pull_opts *o, struct reg_pull_result *res,
	     struct berr **err);

/* Parse a Retry-After value: delay-seconds or an HTTP date. -1 if neither. Exposed for tests. */
int64_t reg_parse_retry_after(const char *value, int64_t now);

#endif
