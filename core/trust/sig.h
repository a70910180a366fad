/* Image signatures in the cosign key-based format (cosign specs/SIGNATURE_SPEC.md): the
 * simple-signing payload, its ECDSA P-256 signature as base64 DER, the signature manifest that
 * carries them, and the `sha256-<hex>.sig` tag it is stored under. Payloads and signature
 * manifests are outside input: sizes and counts are bounded and errors name the field. */
#ifndef BERTH_TRUST_SIG_H
#define BERTH_TRUST_SIG_H

#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct berr;
struct key;

#define SIG_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define SIG_ANNOTATION "dev.cosignproject.cosign/signature"
#define SIG_PAYLOAD_TYPE "cosign container image signature"
#define SIG_CONFIG_MEDIA_TYPE "application/vnd.oci.image.config.v1+json"

#define SIG_PAYLOAD_MAX (64u << 10)  /* a payload blob; berth's are ~250 bytes */
#define SIG_MANIFEST_MAX (1u << 20)  /* a signature manifest */
#define SIG_LAYERS_MAX 64            /* signatures in one signature manifest */
#define SIG_B64_MAX 512              /* the annotation; a P-256 signature is <= 96 chars */
#define SIG_DER_MAX 80               /* = KEY_SIG_DER_MAX */
/* "sha256-" 64 hex ".sig" */
#define SIG_TAG_SIZE (7 + DIGEST_HEX_LEN + 4 + 1)

/* The tag a signature of `manifest` lives under: "sha256-<hex>.sig". */
char *sig_tag(const struct digest *manifest, char buf[SIG_TAG_SIZE]);

/* ---- payload ---- */

/* The simple-signing payload berth writes (compact JSON, keys in this order):
 * {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},
 *  "type":"cosign container image signature"},"optional":null}
 * `docker_reference` is the repository without tag (ref_format REF_FULL_NAME). Only the
 * bytes as stored matter: verification never re-serialises. *out is malloc'd. */
int sig_payload_build(const char *docker_reference, const struct digest *manifest, char **out,
		      size_t *len, struct berr **err);

struct sig_payload {
	struct digest manifest;   /* critical.image.docker-manifest-digest */
	char *docker_reference;   /* critical.identity.docker-reference; NULL if absent */
};

/* Parse a payload: a JSON object, duplicate keys refused; `critical.type` must be
 * SIG_PAYLOAD_TYPE and `critical.image.docker-manifest-digest` a sha256 digest. Key names
 * match case-insensitively, as cosign's reader does (its spec shows `Docker-manifest-digest`),
 * but two keys differing only in case are refused. `optional` is not interpreted. */
int sig_payload_parse(const void *data, size_t len, struct sig_payload *out, struct berr **err);
void sig_payload_free(struct sig_payload *p);

/* ---- signature ---- */

/* ECDSA-SHA256 over the payload bytes; *b64 (malloc'd) is the base64 of the DER signature,
 * the annotation's value. */
int sig_sign(const struct key *k, const void *payload, size_t len, char **b64, struct berr **err);

/* Decode an annotation value: standard base64 alphabet with padding, no whitespace, at most
 * SIG_B64_MAX characters, decoding to one DER SEQUENCE of two positive INTEGERs. Errors say
 * which of these is wrong. */
int sig_decode(const char *b64, unsigned char der[SIG_DER_MAX], size_t *der_len,
	       struct berr **err);

/* 0 if `b64` is `k`'s signature over exactly these payload bytes. */
int sig_verify(const struct key *k, const void *payload, size_t len, const char *b64,
	       struct berr **err);

/* ---- signature manifest ---- */

/* One signature: a layer of media type SIG_MEDIA_TYPE. */
struct sig_layer {
	struct digest payload;   /* the payload blob */
	uint64_t payload_size;
	char *signature;         /* the annotation's value, not yet decoded; NULL if absent */
};

struct sig_manifest {
	struct sig_layer *layers;
	size_t n_layers;
	size_t n_ignored;        /* layers of other media types (attestations and such) */
};

/* Parse a signature manifest (an OCI image manifest, or Docker schema2 as some registries
 * convert it to). Layers of other media types are counted and skipped; a signature layer
 * larger than SIG_PAYLOAD_MAX or whose annotation exceeds SIG_B64_MAX is an error. */
int sig_manifest_parse(const void *data, size_t len, struct sig_manifest *out,
		       struct berr **err);
void sig_manifest_free(struct sig_manifest *m);

/* The documents to push for a signature: the OCI manifest, whose layers are `layers` (each
 * with its annotation), and its config blob. The config is what cosign writes: an empty
 * image config whose rootfs.diff_ids are the payload digests, one `history` entry per layer,
 * and the zero time:
 * {"architecture":"","created":"0001-01-01T00:00:00Z","history":[{"created":"0001-01-01T00:00:00Z"}],
 *  "os":"","rootfs":{"type":"layers","diff_ids":["sha256:<payload>"]},"config":{}}
 * To add a signature to an existing signature manifest, parse it and pass its layers plus
 * the new one. */
struct sig_documents {
	char *manifest;
	size_t manifest_len;
	struct digest manifest_digest;
	char *config;
	size_t config_len;
	struct digest config_digest;
};

int sig_manifest_build(const struct sig_layer *layers, size_t n, struct sig_documents *out,
		       struct berr **err);
void sig_documents_free(struct sig_documents *d);

#endif
