/* The content-addressed blob store (blobs/sha256/<hex>) and refs.json (name:tag -> manifest
 * digest), both power-cut safe (DESIGN.md, "On-flash layout"). */
#ifndef BERTH_IMAGE_STORE_H
#define BERTH_IMAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct berr;

#define STORE_REFS_FILE_MAX (4u << 20) /* refs.json */
#define STORE_REFS_MAX 4096            /* entries in refs.json */
#define STORE_REF_NAME_MAX 512         /* bytes in one refs.json key */

/* Create blobs/sha256/ and tmp/ under the data root if missing. */
int store_init(struct berr **err);

/* ---- blobs ---- */

/* A blob being written: bytes go to a file in tmp/ and are hashed on the way. Nothing appears
 * under blobs/ until commit has checked the digest (and size) and made the file durable. */
struct store_writer;

/* `expect` (NULL: any) is the digest the content must have; `expect_size` (< 0: unknown) its
 * size, which also bounds the writes so a lying peer cannot fill the flash. */
int store_writer_open(const struct digest *expect, int64_t expect_size, struct store_writer **out,
		      struct berr **err);
int store_writer_write(struct store_writer *w, const void *data, size_t len, struct berr **err);
/* Verify, fsync, rename into blobs/sha256/, fsync the directory. Always frees w; on any failure
 * (a mismatch names expected and actual) the temporary file is removed. *out (may be NULL)
 * gets the digest. */
int store_writer_commit(struct store_writer *w, struct digest *out, struct berr **err);
/* Drop a writer and its temporary file; NULL is fine. */
void store_writer_abort(struct store_writer *w);

/* Store `len` bytes; the same checks as the writer. */
int store_put(const void *data, size_t len, const struct digest *expect, struct digest *out,
	      struct berr **err);
/* Move a finished file (a completed download in tmp/, same file system) into the store after
 * hashing it; a mismatch removes `path`. */
int store_put_file(const char *path, const struct digest *expect, int64_t expect_size,
		   struct digest *out, struct berr **err);

/* Read a blob of at most `max` bytes into a NUL-terminated malloc'd buffer, and check that it
 * still hashes to its name (flash does rot). */
int store_get(const struct digest *d, size_t max, char **out, size_t *len, struct berr **err);
/* 1 if present (with *size, may be NULL), 0 if not, -1 on error. */
int store_stat(const struct digest *d, uint64_t *size, struct berr **err);
bool store_exists(const struct digest *d);
/* Remove a blob; a missing blob is not an error. */
int store_delete(const struct digest *d, struct berr **err);
/* Every blob's digest, sorted; names under blobs/sha256/ that are not digests are skipped. */
int store_list(struct digest **out, size_t *n, struct berr **err);
/* Path of a blob, for callers that stream it (layers). */
int store_blob_path(const struct digest *d, char *buf, size_t size, struct berr **err);

/* ---- refs.json ---- */

struct store_ref {
	char *name;           /* "docker.io/library/nginx:latest", as ref_format(REF_FULL) */
	struct digest digest; /* of the manifest (or index) the name points at */
	int64_t created;      /* seconds since the epoch when the name was set */
};

struct store_refs {
	struct store_ref *v; /* sorted by name */
	size_t n, cap;
};

/* Load refs.json; a missing file is an empty set, a corrupt or oversized one an error that
 * says so (nothing is changed). Frees what *refs held. */
int store_refs_load(struct store_refs *refs, struct berr **err);
/* Parse refs.json content held in memory; `what` names it in messages. */
int store_refs_parse(struct store_refs *refs, const char *data, size_t len, const char *what,
		     struct berr **err);
/* Write refs.json atomically (fs_write_atomic). */
int store_refs_save(const struct store_refs *refs, struct berr **err);
/* Add or replace `name`. `created` < 0 means now. */
int store_refs_set(struct store_refs *refs, const char *name, const struct digest *d,
		   int64_t created, struct berr **err);
/* 1 if removed, 0 if it was not there. */
int store_refs_remove(struct store_refs *refs, const char *name);
const struct store_ref *store_refs_lookup(const struct store_refs *refs, const char *name);
void store_refs_free(struct store_refs *refs);

/* Serialise load-modify-save of refs.json between berth processes (a pull in a worker and an
 * `rmi` on the console): an exclusive flock on refs.lock. Returns the lock fd (>= 0). */
int store_refs_lock(struct berr **err);
void store_refs_unlock(int fd);

#endif
