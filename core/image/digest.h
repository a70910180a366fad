/* SHA-256 digests: the streaming hash, `sha256:<hex>` strings, and OCI chain ids. */
#ifndef BERTH_IMAGE_DIGEST_H
#define BERTH_IMAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/sha256.h>

struct berr;

#define DIGEST_ALGO "sha256"
#define DIGEST_HEX_LEN 64
#define DIGEST_PREFIX_LEN 7                                /* "sha256:" */
#define DIGEST_STR_LEN (DIGEST_PREFIX_LEN + DIGEST_HEX_LEN) /* "sha256:<64 hex>" */
#define DIGEST_STR_SIZE (DIGEST_STR_LEN + 1)

/* A SHA-256 digest as lowercase hex, the only form berth stores and compares. An empty hex
 * (hex[0] == '\0') means "no digest". */
struct digest {
	char hex[DIGEST_HEX_LEN + 1];
};

/* Streaming hash. digest_update never fails visibly: a failure of the crypto backend is
 * remembered and reported by digest_final, so callers check once. */
struct digest_ctx {
	mbedtls_sha256_context sha;
	uint64_t size;  /* bytes hashed so far */
	bool failed;
	bool accel;     /* the CPU's SHA instructions hash, into h[] via buf[] */
	uint32_t h[8];
	uint8_t buf[64];
};

void digest_init(struct digest_ctx *ctx);
void digest_update(struct digest_ctx *ctx, const void *data, size_t len);
/* Finish into *out and release the context (digest_ctx_free is then a no-op but harmless). */
int digest_final(struct digest_ctx *ctx, struct digest *out, struct berr **err);
/* Release a context that will not be finished (error paths). */
void digest_ctx_free(struct digest_ctx *ctx);

/* Whether new contexts use the CPU's SHA-256 instructions where it has them (x86-64 SHA
 * extensions); the default is yes. Returns the previous setting; tests compare both ways. */
bool digest_set_accel(bool on);

/* Hash a buffer. */
int digest_buffer(const void *data, size_t len, struct digest *out, struct berr **err);
/* Hash everything readable from `fd` (from its current offset); *size gets the byte count. */
int digest_fd(int fd, struct digest *out, uint64_t *size, struct berr **err);
int digest_file(const char *path, struct digest *out, uint64_t *size, struct berr **err);

/* Parse "sha256:<64 lowercase hex>" (OCI image-spec descriptor.md, "Digests"). Errors say
 * what is wrong: missing algorithm, unsupported algorithm, wrong length, bad characters.
 * `what` names the field in the message ("layers[2].digest"); NULL for "digest". */
int digest_parse(const char *s, const char *what, struct digest *out, struct berr **err);
/* Parse 64 lowercase hex characters with no algorithm (a file name under blobs/sha256/). */
int digest_parse_hex(const char *hex, struct digest *out, struct berr **err);
bool digest_valid(const char *s);      /* digest_parse would accept it */
bool digest_hex_valid(const char *hex); /* exactly 64 lowercase hex characters */

/* "sha256:<hex>" into buf (at least DIGEST_STR_SIZE bytes); returns buf. */
char *digest_format(const struct digest *d, char buf[DIGEST_STR_SIZE]);
/* True if both are set and the same; an unset digest equals nothing. */
bool digest_equal(const struct digest *a, const struct digest *b);
bool digest_is_set(const struct digest *d);
void digest_clear(struct digest *d);

/* OCI image-spec config.md, "Layer ChainID": ChainID(L0) = DiffID(L0),
 * ChainID(Ln) = SHA256(ChainID(Ln-1) + " " + DiffID(Ln)), both as "sha256:<hex>" strings.
 * `parent` is NULL for the bottom layer. */
int digest_chain(const struct digest *parent, const struct digest *diff_id, struct digest *out,
		 struct berr **err);
/* Chain ids of a whole stack: out[i] is the chain id of layers 0..i; out has n entries. */
int digest_chain_ids(const struct digest *diff_ids, size_t n, struct digest *out,
		     struct berr **err);

#endif
