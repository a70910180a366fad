/* The push side of the distribution API (OCI distribution-spec, "Push"): blobs skipped when
 * the registry has them, mounted from another repository of the same registry when one is
 * known to hold them, uploaded whole (POST + PUT) or in chunks (POST, PATCH..., PUT), then
 * the manifest PUT. `berth push` and `berth sign` are built on it. */
#ifndef BERTH_REGISTRY_PUSH_H
#define BERTH_REGISTRY_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct berr;
struct berth_config;
struct reg_client;
struct ref;

#define REG_CHUNK_DEFAULT (16u << 20)  /* blobs above this go in PATCH chunks of this size */

/* Ask for push rights (scope `repository:NAME:pull,push`) from now on; with `mount_from`
 * (a repository of the same registry, may be NULL) pull rights on it too, for a mount. */
void reg_client_want_push(struct reg_client *c, const char *mount_from);

/* HEAD the blob: 1 if the registry has it, 0 if not. */
int reg_blob_exists(struct reg_client *c, const struct digest *d, struct berr **err);

/* Mount blob `d` from repository `from` of the same registry (POST ?mount=&from=): 1 if
 * mounted, 0 if the registry declined (the caller uploads it instead). */
int reg_blob_mount(struct reg_client *c, const struct digest *d, const char *from,
		   struct berr **err);

/* Upload `len` bytes held in memory as blob `d` (monolithic POST + PUT). */
int reg_put_blob(struct reg_client *c, const void *data, size_t len, const struct digest *d,
		 struct berr **err);

/* Upload the blob in file `path` (its size and digest must be `size` and `d`): whole if
 * it is at most `chunk` bytes, else in PATCH chunks of `chunk` bytes. The file is hashed on
 * the way and a mismatch stops the upload before the final PUT. `on_bytes` (may be NULL) is
 * told the bytes sent so far. A network error restarts the upload, with backoff. */
int reg_put_blob_file(struct reg_client *c, const char *path, const struct digest *d,
		      uint64_t size, uint64_t chunk,
		      void (*on_bytes)(void *data, uint64_t done, uint64_t total), void *data,
		      struct berr **err);

/* PUT a manifest or index under `reference` (a tag or its digest), with `media_type` as its
 * Content-Type. The registry's Docker-Content-Digest, if sent, must be the content's. */
int reg_put_manifest(struct reg_client *c, const char *reference, const char *media_type,
		     const void *data, size_t len, struct berr **err);

/* ---- berth push ---- */

enum reg_push_event {
	REG_PUSH_EXISTS,     /* "Layer already exists" */
	REG_PUSH_MOUNTED,    /* `from` says from which repository */
	REG_PUSH_PUSHING,    /* an upload starts */
	REG_PUSH_PROGRESS,   /* bytes sent (at most a few calls a second) */
	REG_PUSH_PUSHED,
};

struct reg_push_opts {
	const struct berth_config *cfg;   /* not owned */
	uint64_t chunk;                   /* 0: `chunk-size` of [registry], or REG_CHUNK_DEFAULT */
	/* Progress of layer blobs (configs are pushed silently, as Docker does). */
	void (*on_event)(void *data, enum reg_push_event ev, const struct digest *digest,
			 uint64_t done, uint64_t total, const char *from);
	void *data;
};

struct reg_push_result {
	struct digest digest;    /* of the manifest (or index) put under the tag */
	uint64_t size;           /* its bytes */
	uint64_t sent;           /* bytes of blobs uploaded */
	size_t n_mounted, n_existing, n_pushed;
};

/* Push the image that `source` (a refs.json key, REF_FULL) names to `dest` (a tag or a
 * digest reference). An index is pushed with its platform manifests if the store has them
 * all; otherwise this board's manifest alone is pushed, with a warning. A layer whose
 * compressed blob is not in the store (`[store] keep-layer-blobs = no`) is an error that
 * says how to get it back. */
int reg_push(const char *source, const struct ref *dest, const struct reg_push_opts *o,
	     struct reg_push_result *res, struct berr **err);

#endif
