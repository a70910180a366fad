/* Signing keys: ECDSA P-256 public keys (SPKI PEM, the format of cosign.pub), unencrypted
 * private keys (PKCS#8 or SEC1 PEM), key generation, and the raw sign/verify of a SHA-256
 * hash. Key files are outside input: sizes and counts are bounded. */
#ifndef BERTH_TRUST_KEYS_H
#define BERTH_TRUST_KEYS_H

#include <stdbool.h>
#include <stddef.h>

struct berr;

#define KEY_PEM_MAX (16u << 10) /* a key file; a P-256 key PEM is about 180-250 bytes */
#define KEY_FILE_KEYS_MAX 8     /* PUBLIC KEY blocks in one file (old and new key in a rotation) */
#define KEY_SIG_DER_MAX 80      /* DER ECDSA P-256 signature: at most 72 bytes */
#define KEY_HASH_LEN 32         /* SHA-256 */
/* "SHA256:" and the first 16 hex digits of the SHA-256 of the key's SPKI DER. */
#define KEY_FINGERPRINT_SIZE 24

/* One P-256 key, public or private; opaque. */
struct key;

/* Keys loaded from one or more public key files. */
struct key_list {
	struct key **keys;
	size_t n;
};

/* Append every `PUBLIC KEY` block of `pem` (at most KEY_FILE_KEYS_MAX) to `list`. Each must be
 * an ECDSA P-256 key; `name` (a path) names them in messages and in key_name(). Certificates,
 * private keys, RSA and other curves are refused with a message saying what was found. */
int key_parse_public(const void *pem, size_t len, const char *name, struct key_list *list,
		     struct berr **err);
int key_load_public_file(const char *path, struct key_list *list, struct berr **err);
void key_list_free(struct key_list *list);

/* An unencrypted `PRIVATE KEY` (PKCS#8) or `EC PRIVATE KEY` (SEC1) PEM holding a P-256 key.
 * Encrypted keys (PKCS#8 `ENCRYPTED PRIVATE KEY`, legacy `Proc-Type: 4,ENCRYPTED`, cosign's
 * own password-protected `ENCRYPTED COSIGN PRIVATE KEY`) are refused, saying how to get a
 * key berth can read. */
int key_parse_private(const void *pem, size_t len, const char *name, struct key **out,
		      struct berr **err);
int key_load_private_file(const char *path, struct key **out, struct berr **err);

/* A new P-256 key pair from mbedtls' CTR-DRBG seeded by getrandom(2). */
int key_generate(struct key **out, struct berr **err);

/* The private key as SEC1 `EC PRIVATE KEY` PEM (the one mbedtls writes; openssl and berth
 * read it) and the public key as SPKI `PUBLIC KEY` PEM. *pem is NUL-terminated; the private
 * one should be released with key_pem_free, which wipes it. */
int key_private_pem(const struct key *k, char **pem, size_t *len, struct berr **err);
int key_public_pem(const struct key *k, char **pem, size_t *len, struct berr **err);
void key_pem_free(char *pem, size_t len);

/* Write `<prefix>.key` (mode 0600) and `<prefix>.pub` (0644), each atomically
 * (fs_write_atomic). Unless `force`, an existing file is an error and nothing is written. */
int key_write_pair(const struct key *k, const char *prefix, bool force, struct berr **err);

/* "path" or "path (key 2 of 3)": for messages; never NULL. */
const char *key_name(const struct key *k);
/* "SHA256:<16 hex>", the same for a private key and its public key. */
const char *key_fingerprint(const struct key *k);
bool key_is_private(const struct key *k);

/* SHA-256 of `data` as raw bytes, the input of key_sign_hash and key_verify_hash. */
int key_hash(const void *data, size_t len, unsigned char out[KEY_HASH_LEN], struct berr **err);

/* ECDSA over a SHA-256 hash; the signature is DER (SEQUENCE of two INTEGERs). */
int key_sign_hash(const struct key *k, const unsigned char hash[KEY_HASH_LEN], unsigned char *der,
		  size_t size, size_t *der_len, struct berr **err);
/* 0 if `der` is a valid signature of `hash` by `k`; otherwise -1 and an error saying either
 * "does not match" or that the signature is malformed. */
int key_verify_hash(const struct key *k, const unsigned char hash[KEY_HASH_LEN],
		    const unsigned char *der, size_t der_len, struct berr **err);

void key_free(struct key *k);

#endif
