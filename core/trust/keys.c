/* ECDSA P-256 keys over mbedtls' pk layer (2.28 and 3.x): PEM parsing with clear refusals,
 * generation, PEM writing and the raw ECDSA-SHA256 operations. */
#include "keys.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#if defined(MBEDTLS_USE_PSA_CRYPTO)
#include <psa/crypto.h>
#endif

/* ---- mbedtls 2.x / 3.x differences, kept here and nowhere else ---- */

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define pk_parse_key(pk, buf, len, rng, rng_ctx) \
	mbedtls_pk_parse_key((pk), (buf), (len), NULL, 0, (rng), (rng_ctx))
#define pk_sign(pk, hash, sig, size, len, rng, rng_ctx) \
	mbedtls_pk_sign((pk), MBEDTLS_MD_SHA256, (hash), KEY_HASH_LEN, (sig), (size), (len), \
			(rng), (rng_ctx))
#define sha256_once(data, len, out) mbedtls_sha256((data), (len), (out), 0)
#else
#define pk_parse_key(pk, buf, len, rng, rng_ctx) \
	((void) (rng), (void) (rng_ctx), mbedtls_pk_parse_key((pk), (buf), (len), NULL, 0))
#define pk_sign(pk, hash, sig, size, len, rng, rng_ctx) \
	((void) (size), mbedtls_pk_sign((pk), MBEDTLS_MD_SHA256, (hash), KEY_HASH_LEN, (sig), \
					(len), (rng), (rng_ctx)))
#define sha256_once(data, len, out) mbedtls_sha256_ret((data), (len), (out), 0)
#endif

/* The curve of an EC key without touching private struct fields (3.x hides them). The 3.x
 * branches follow the 3.x headers; this machine builds the 2.28 one. */
static mbedtls_ecp_group_id ec_group_of(const mbedtls_pk_context *pk)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03050000
	return mbedtls_pk_get_ec_group_id(pk);
#elif MBEDTLS_VERSION_NUMBER >= 0x03000000
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	mbedtls_ecp_point q;
	mbedtls_ecp_group_id id = MBEDTLS_ECP_DP_NONE;

	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&d);
	mbedtls_ecp_point_init(&q);
	if (mbedtls_ecp_export(mbedtls_pk_ec(*pk), &grp, &d, &q) == 0)
		id = grp.id;
	mbedtls_ecp_group_free(&grp);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	return id;
#else
	return mbedtls_pk_ec(*pk)->grp.id;
#endif
}

static int crypto_init(struct berr **err)
{
#if defined(MBEDTLS_USE_PSA_CRYPTO)
	if (psa_crypto_init() != PSA_SUCCESS)
		return berr_make(err, 0, "initialise the PSA crypto backend");
#endif
	(void) err;
	return 0;
}

/* ---- random numbers: CTR-DRBG seeded from the kernel ---- */

static int entropy_getrandom(void *ctx, unsigned char *buf, size_t len)
{
	size_t got = 0;

	(void) ctx;
	while (got < len) {
		ssize_t r = getrandom(buf + got, len - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
		}
		got += (size_t) r;
	}
	return 0;
}

static int rng_init(mbedtls_ctr_drbg_context *drbg, const char *what, struct berr **err)
{
	int rc;

	mbedtls_ctr_drbg_init(drbg);
	rc = mbedtls_ctr_drbg_seed(drbg, entropy_getrandom, NULL, (const unsigned char *) what,
				   strlen(what));
	if (rc != 0) {
		mbedtls_ctr_drbg_free(drbg);
		return berr_make(err, 0, "%s: seed the random generator from getrandom(2) "
				 "(mbedtls -0x%04x)", what, (unsigned) -rc);
	}
	return 0;
}

/* ---- keys ---- */

struct key {
	mbedtls_pk_context pk;
	bool priv;
	char *name;
	char fingerprint[KEY_FINGERPRINT_SIZE];
};

static struct key *key_new(const char *name)
{
	struct key *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	mbedtls_pk_init(&k->pk);
	k->name = strdup(name ? name : "key");
	if (k->name == NULL) {
		free(k);
		return NULL;
	}
	return k;
}

void key_free(struct key *k)
{
	if (k == NULL)
		return;
	mbedtls_pk_free(&k->pk);
	free(k->name);
	free(k);
}

const char *key_name(const struct key *k)
{
	return k->name;
}

const char *key_fingerprint(const struct key *k)
{
	return k->fingerprint;
}

bool key_is_private(const struct key *k)
{
	return k->priv;
}

/* Accept ECDSA P-256 only (cosign's default and what the format's verifiers expect); then
 * compute the fingerprint from the SPKI DER. */
static int key_finish(struct key *k, struct berr **err)
{
	mbedtls_pk_context *pk = &k->pk;
	unsigned char der[256], hash[32];
	int n;

	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY)
		return berr_make(err, 0, "`%s` is a %s key: berth signs and verifies with ECDSA "
				 "P-256 keys only", k->name, mbedtls_pk_get_name(pk));
	if (ec_group_of(pk) != MBEDTLS_ECP_DP_SECP256R1)
		return berr_make(err, 0, "`%s` is an EC key on another curve (%zu bits): berth "
				 "uses P-256 (prime256v1) only", k->name, mbedtls_pk_get_bitlen(pk));
	n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));
	if (n <= 0 || sha256_once(der + sizeof(der) - n, (size_t) n, hash) != 0)
		return berr_make(err, 0, "`%s`: cannot encode the public key", k->name);
	memcpy(k->fingerprint, "SHA256:", 7);
	for (int i = 0; i < 8; i++)
		snprintf(k->fingerprint + 7 + 2 * i, 3, "%02x", hash[i]);
	return 0;
}

/* ---- PEM blocks ---- */

#define PEM_LABEL_MAX 48

struct pem_block {
	const char *start;         /* "-----BEGIN ..." within the input; not owned */
	size_t len;                /* through the END line's dashes */
	char label[PEM_LABEL_MAX]; /* "PUBLIC KEY" */
};

/* Find the next block at or after *pos; 0 if none, -1 if one is malformed. */
static int pem_next(const char *data, size_t len, size_t *pos, struct pem_block *b,
		    const char *name, struct berr **err)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	char end_line[PEM_LABEL_MAX + 16];
	const char *p, *lab, *lab_end, *end;
	size_t rest;

	if (*pos >= len)
		return 0;
	p = memmem(data + *pos, len - *pos, begin, sizeof(begin) - 1);
	if (p == NULL)
		return 0;
	lab = p + sizeof(begin) - 1;
	rest = (size_t) (data + len - lab);
	lab_end = memmem(lab, rest, dashes, sizeof(dashes) - 1);
	if (lab_end == NULL || lab_end - lab == 0 || (size_t) (lab_end - lab) >= PEM_LABEL_MAX ||
	    memchr(lab, '\n', (size_t) (lab_end - lab)) != NULL)
		return berr_make(err, 0, "`%s`: malformed PEM BEGIN line", name);
	memcpy(b->label, lab, (size_t) (lab_end - lab));
	b->label[lab_end - lab] = '\0';
	snprintf(end_line, sizeof(end_line), "-----END %s-----", b->label);
	end = memmem(lab_end, (size_t) (data + len - lab_end), end_line, strlen(end_line));
	if (end == NULL)
		return berr_make(err, 0, "`%s`: PEM block `%s` has no END line", name, b->label);
	b->start = p;
	b->len = (size_t) (end + strlen(end_line) - p);
	if (memchr(b->start, '\0', b->len) != NULL)
		return berr_make(err, 0, "`%s`: PEM block `%s` contains a NUL byte", name, b->label);
	*pos = (size_t) (p - data) + b->len;
	return 1;
}

/* mbedtls wants PEM NUL-terminated, with the NUL counted in the length. */
static char *pem_copy(const struct pem_block *b)
{
	char *s = malloc(b->len + 2);

	if (s == NULL)
		return NULL;
	memcpy(s, b->start, b->len);
	s[b->len] = '\n';
	s[b->len + 1] = '\0';
	return s;
}

static const char *not_a_public_key(const char *label)
{
	if (strcmp(label, "CERTIFICATE") == 0)
		return "is a certificate; give the public key itself "
		       "(`openssl x509 -pubkey -noout -in CERT`)";
	if (strstr(label, "PRIVATE KEY") != NULL)
		return "is a private key; a verifier needs the public key only "
		       "(the `.pub` file)";
	return NULL;
}

int key_parse_public(const void *pem, size_t len, const char *name, struct key_list *list,
		     struct berr **err)
{
	const char *data = pem;
	struct pem_block b;
	size_t pos = 0, total = 0, idx = 0;
	int r;

	if (crypto_init(err) < 0)
		return -1;
	if (len > KEY_PEM_MAX)
		return berr_make(err, EFBIG, "`%s`: larger than %u bytes: not a key file", name,
				 KEY_PEM_MAX);
	/* Count first, so each key can be named "(key i of n)". */
	while ((r = pem_next(data, len, &pos, &b, name, err)) > 0) {
		const char *why = not_a_public_key(b.label);
		if (why)
			return berr_make(err, 0, "`%s` %s", name, why);
		if (strcmp(b.label, "PUBLIC KEY") != 0)
			return berr_make(err, 0, "`%s`: PEM block `%s` is not a `PUBLIC KEY` "
					 "(SubjectPublicKeyInfo, as in cosign.pub)", name, b.label);
		total++;
	}
	if (r < 0)
		return -1;
	if (total == 0)
		return berr_make(err, 0, "`%s` holds no PEM `PUBLIC KEY` block", name);
	if (total > KEY_FILE_KEYS_MAX)
		return berr_make(err, 0, "`%s` holds %zu public keys, more than the %d allowed",
				 name, total, KEY_FILE_KEYS_MAX);
	if (list->n + total > KEY_FILE_KEYS_MAX * 8u)
		return berr_make(err, 0, "too many public keys (more than %u)", KEY_FILE_KEYS_MAX * 8u);

	pos = 0;
	while (pem_next(data, len, &pos, &b, name, NULL) > 0) {
		_cleanup_free_ char *copy = pem_copy(&b), *kname = NULL;
		struct key **grown, *k;
		int rc;

		idx++;
		if (total > 1)
			kname = xasprintf("%s (key %zu of %zu)", name, idx, total);
		k = key_new(kname ? kname : name);
		if (copy == NULL || k == NULL) {
			key_free(k);
			return berr_make(err, ENOMEM, "`%s`", name);
		}
		rc = mbedtls_pk_parse_public_key(&k->pk, (const unsigned char *) copy,
						 strlen(copy) + 1);
		if (rc != 0) {
			berr_make(err, 0, "`%s`: not a valid public key (mbedtls -0x%04x)", k->name,
				  (unsigned) -rc);
			key_free(k);
			return -1;
		}
		if (key_finish(k, err) < 0) {
			key_free(k);
			return -1;
		}
		grown = realloc(list->keys, (list->n + 1) * sizeof(*list->keys));
		if (grown == NULL) {
			key_free(k);
			return berr_make(err, ENOMEM, "`%s`", name);
		}
		list->keys = grown;
		list->keys[list->n++] = k;
	}
	return 0;
}

int key_load_public_file(const char *path, struct key_list *list, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	size_t len;

	if (fs_read_file(path, KEY_PEM_MAX, &data, &len, err) < 0)
		return berr_wrap(err, "public key");
	return key_parse_public(data, len, path, list, err);
}

void key_list_free(struct key_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		key_free(list->keys[i]);
	free(list->keys);
	list->keys = NULL;
	list->n = 0;
}

static int refuse_private_label(const struct pem_block *b, const char *name, struct berr **err)
{
	if (strstr(b->label, "COSIGN") != NULL || strstr(b->label, "SIGSTORE") != NULL)
		return berr_usage(err, "`%s` is a cosign password-encrypted key (`%s`), a format "
				  "berth does not read: make a key with `berth keygen`, or use an "
				  "unencrypted PKCS#8 P-256 key", name, b->label);
	if (strcmp(b->label, "ENCRYPTED PRIVATE KEY") == 0)
		return berr_usage(err, "`%s` is an encrypted PKCS#8 key: berth reads unencrypted "
				  "keys only (`openssl pkcs8 -topk8 -nocrypt -in KEY -out PLAIN`)",
				  name);
	if (strcmp(b->label, "PUBLIC KEY") == 0)
		return berr_usage(err, "`%s` is a public key: signing needs the private key "
				  "(the `.key` file)", name);
	if (strcmp(b->label, "PRIVATE KEY") != 0 && strcmp(b->label, "EC PRIVATE KEY") != 0)
		return berr_usage(err, "`%s`: PEM block `%s` is not a `PRIVATE KEY` or "
				  "`EC PRIVATE KEY`", name, b->label);
	if (memmem(b->start, b->len, "Proc-Type:", 10) != NULL)
		return berr_usage(err, "`%s` is encrypted (PEM Proc-Type): berth reads unencrypted "
				  "keys only (`openssl ec -in KEY -out PLAIN`)", name);
	return 0;
}

int key_parse_private(const void *pem, size_t len, const char *name, struct key **out,
		      struct berr **err)
{
	mbedtls_ctr_drbg_context drbg;
	struct pem_block b;
	struct key *k;
	size_t pos = 0;
	char *copy;
	int r, rc;

	*out = NULL;
	if (crypto_init(err) < 0)
		return -1;
	if (len > KEY_PEM_MAX)
		return berr_make(err, EFBIG, "`%s`: larger than %u bytes: not a key file", name,
				 KEY_PEM_MAX);
	r = pem_next(pem, len, &pos, &b, name, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return berr_usage(err, "`%s` holds no PEM private key", name);
	if (refuse_private_label(&b, name, err) < 0)
		return -1;
	copy = pem_copy(&b);
	k = key_new(name);
	if (copy == NULL || k == NULL) {
		free(copy);
		key_free(k);
		return berr_make(err, ENOMEM, "`%s`", name);
	}
	k->priv = true;
	/* mbedtls 3.x blinds private-key checks with an RNG; 2.x ignores it. */
	if (rng_init(&drbg, "berth key", err) < 0) {
		rc = -1;
	} else {
		rc = pk_parse_key(&k->pk, (const unsigned char *) copy, b.len + 2,
				  mbedtls_ctr_drbg_random, &drbg);
		mbedtls_ctr_drbg_free(&drbg);
		if (rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED)
			berr_usage(err, "`%s` is encrypted: berth reads unencrypted keys only", name);
		else if (rc != 0)
			berr_make(err, 0, "`%s`: not a valid private key (mbedtls -0x%04x)", name,
				  (unsigned) -rc);
	}
	mbedtls_platform_zeroize(copy, b.len + 2);
	free(copy);
	if (rc != 0 || key_finish(k, err) < 0) {
		key_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

int key_load_private_file(const char *path, struct key **out, struct berr **err)
{
	char *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (fs_read_file(path, KEY_PEM_MAX, &data, &len, err) < 0)
		return berr_wrap(err, "private key");
	r = key_parse_private(data, len, path, out, err);
	key_pem_free(data, len);
	return r;
}

int key_generate(struct key **out, struct berr **err)
{
	mbedtls_ctr_drbg_context drbg;
	struct key *k;
	int rc;

	*out = NULL;
	if (crypto_init(err) < 0)
		return -1;
	k = key_new("new key");
	if (k == NULL)
		return berr_make(err, ENOMEM, "generate a key");
	k->priv = true;
	if (rng_init(&drbg, "berth keygen", err) < 0) {
		key_free(k);
		return -1;
	}
	rc = mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (rc == 0)
		rc = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk),
					 mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ctr_drbg_free(&drbg);
	if (rc != 0) {
		key_free(k);
		return berr_make(err, 0, "generate a P-256 key (mbedtls -0x%04x)", (unsigned) -rc);
	}
	if (key_finish(k, err) < 0) {
		key_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

static int write_pem(const struct key *k, bool priv, char **pem, size_t *len, struct berr **err)
{
	mbedtls_pk_context *pk = (mbedtls_pk_context *) &k->pk; /* 2.x takes no const */
	unsigned char buf[1024];
	int rc;

	*pem = NULL;
	*len = 0;
	if (priv && !k->priv)
		return berr_make(err, 0, "`%s` is a public key: no private part to write", k->name);
	rc = priv ? mbedtls_pk_write_key_pem(pk, buf, sizeof(buf))
		  : mbedtls_pk_write_pubkey_pem(pk, buf, sizeof(buf));
	if (rc != 0) {
		mbedtls_platform_zeroize(buf, sizeof(buf));
		return berr_make(err, 0, "encode `%s` as PEM (mbedtls -0x%04x)", k->name,
				 (unsigned) -rc);
	}
	*len = strlen((char *) buf);
	*pem = malloc(*len + 1);
	if (*pem == NULL) {
		mbedtls_platform_zeroize(buf, sizeof(buf));
		return berr_make(err, ENOMEM, "encode `%s` as PEM", k->name);
	}
	memcpy(*pem, buf, *len + 1);
	mbedtls_platform_zeroize(buf, sizeof(buf));
	return 0;
}

int key_private_pem(const struct key *k, char **pem, size_t *len, struct berr **err)
{
	return write_pem(k, true, pem, len, err);
}

int key_public_pem(const struct key *k, char **pem, size_t *len, struct berr **err)
{
	return write_pem(k, false, pem, len, err);
}

void key_pem_free(char *pem, size_t len)
{
	if (pem == NULL)
		return;
	mbedtls_platform_zeroize(pem, len);
	free(pem);
}

int key_write_pair(const struct key *k, const char *prefix, bool force, struct berr **err)
{
	_cleanup_free_ char *priv_path = xasprintf("%s.key", prefix);
	_cleanup_free_ char *pub_path = xasprintf("%s.pub", prefix);
	_cleanup_free_ char *pub = NULL;
	char *priv = NULL;
	size_t priv_len = 0, pub_len = 0;
	struct stat st;
	int r = -1;

	if (!force) {
		if (lstat(priv_path, &st) == 0)
			return berr_usage(err, "`%s` exists: use --force to overwrite it", priv_path);
		if (lstat(pub_path, &st) == 0)
			return berr_usage(err, "`%s` exists: use --force to overwrite it", pub_path);
	}
	if (key_private_pem(k, &priv, &priv_len, err) < 0 ||
	    key_public_pem(k, &pub, &pub_len, err) < 0)
		goto out;
	if (fs_write_atomic(priv_path, priv, priv_len, 0600, err) < 0 ||
	    fs_write_atomic(pub_path, pub, pub_len, 0644, err) < 0)
		goto out;
	r = 0;
out:
	key_pem_free(priv, priv_len);
	return r;
}

/* ---- ECDSA ---- */

int key_hash(const void *data, size_t len, unsigned char out[KEY_HASH_LEN], struct berr **err)
{
	if (sha256_once(data, len, out) != 0)
		return berr_make(err, 0, "SHA-256 of %zu bytes failed", len);
	return 0;
}

int key_sign_hash(const struct key *k, const unsigned char hash[KEY_HASH_LEN], unsigned char *der,
		  size_t size, size_t *der_len, struct berr **err)
{
	mbedtls_ctr_drbg_context drbg;
	int rc;

	*der_len = 0;
	if (!k->priv)
		return berr_usage(err, "`%s` is a public key: signing needs the private key",
				  k->name);
	if (size < KEY_SIG_DER_MAX)
		return berr_make(err, ENOBUFS, "sign with `%s`", k->name);
	/* Deterministic ECDSA (RFC 6979) where mbedtls has it; the RNG then only blinds. */
	if (rng_init(&drbg, "berth sign", err) < 0)
		return -1;
	rc = pk_sign((mbedtls_pk_context *) &k->pk, hash, der, size, der_len,
		     mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ctr_drbg_free(&drbg);
	if (rc != 0)
		return berr_make(err, 0, "sign with `%s` (mbedtls -0x%04x)", k->name, (unsigned) -rc);
	return 0;
}

int key_verify_hash(const struct key *k, const unsigned char hash[KEY_HASH_LEN],
		    const unsigned char *der, size_t der_len, struct berr **err)
{
	int rc = mbedtls_pk_verify((mbedtls_pk_context *) &k->pk, MBEDTLS_MD_SHA256, hash,
				   KEY_HASH_LEN, der, der_len);

	if (rc == 0)
		return 0;
	if (rc == MBEDTLS_ERR_ECP_VERIFY_FAILED)
		return berr_make(err, 0, "signature does not match key `%s` (%s)", k->name,
				 k->fingerprint);
	return berr_make(err, 0, "signature is not a valid DER ECDSA signature (mbedtls -0x%04x)",
			 (unsigned) -rc);
}
