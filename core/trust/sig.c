/* The cosign key-based signature format (cosign specs/SIGNATURE_SPEC.md; the payload is
 * containers/image's simple signing, containers-signature(5) "JSON Data Format"): payloads,
 * base64 DER signatures, signature manifests and their tag. */
#include "sig.h"
#include "keys.h"
#include "base/err.h"
#include "base/util.h"
#include "image/manifest.h"
#include "image/ref.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <mbedtls/base64.h>

#define ZERO_TIME "0001-01-01T00:00:00Z"

char *sig_tag(const struct digest *manifest, char buf[SIG_TAG_SIZE])
{
	snprintf(buf, SIG_TAG_SIZE, "%s-%s.sig", DIGEST_ALGO, manifest->hex);
	return buf;
}

/* Quote at most 64 bytes of outside input, printable ASCII only. */
static const char *quote(const char *s, char buf[80])
{
	size_t i, o = 0;

	for (i = 0; s[i] && o < 64; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- payload ---- */

int sig_payload_build(const char *docker_reference, const struct digest *manifest, char **out,
		      size_t *len, struct berr **err)
{
	char ds[DIGEST_STR_SIZE];
	json_t *root;
	char *s;

	*out = NULL;
	*len = 0;
	if (!digest_is_set(manifest))
		return berr_make(err, EINVAL, "signature payload: no manifest digest");
	if (strlen(docker_reference) > REF_STR_MAX)
		return berr_make(err, ENAMETOOLONG, "signature payload: reference too long");
	/* jansson keeps insertion order, so the bytes are as documented in sig.h. */
	root = json_pack("{s:{s:{s:s},s:{s:s},s:s},s:n}", "critical", "identity",
			 "docker-reference", docker_reference, "image", "docker-manifest-digest",
			 digest_format(manifest, ds), "type", SIG_PAYLOAD_TYPE, "optional");
	if (root == NULL)
		return berr_make(err, 0, "signature payload: reference `%s` is not valid UTF-8",
				 docker_reference);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (s == NULL)
		return berr_make(err, ENOMEM, "signature payload");
	*out = s;
	*len = strlen(s);
	return 0;
}

static int ferr(struct berr **err, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int ferr(struct berr **err, const char *field, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return berr_make(err, 0, "signature payload: `%s`: %s", field, msg);
}

/* The value under `key`, matched case-insensitively; NULL (and 0) when absent. */
static int get_ci(json_t *obj, const char *key, const char *field, json_t **out,
		  struct berr **err)
{
	const char *k;
	json_t *v;

	*out = NULL;
	json_object_foreach(obj, k, v) {
		if (strcasecmp(k, key) != 0)
			continue;
		if (*out != NULL)
			return ferr(err, field, "two keys differ only in letter case");
		*out = v;
	}
	return 0;
}

static int get_object(json_t *obj, const char *key, const char *field, bool required,
		      json_t **out, struct berr **err)
{
	if (get_ci(obj, key, field, out, err) < 0)
		return -1;
	if (*out == NULL || json_is_null(*out)) {
		*out = NULL;
		return required ? ferr(err, field, "missing") : 0;
	}
	if (!json_is_object(*out))
		return ferr(err, field, "expected an object");
	return 0;
}

static int get_string(json_t *obj, const char *key, const char *field, size_t max,
		      const char **out, struct berr **err)
{
	json_t *v;

	*out = NULL;
	if (get_ci(obj, key, field, &v, err) < 0)
		return -1;
	if (v == NULL || json_is_null(v))
		return ferr(err, field, "missing");
	if (!json_is_string(v))
		return ferr(err, field, "expected a string");
	if (json_string_length(v) > max)
		return ferr(err, field, "longer than %zu bytes", max);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return ferr(err, field, "contains a NUL character");
	*out = json_string_value(v);
	return 0;
}

void sig_payload_free(struct sig_payload *p)
{
	free(p->docker_reference);
	memset(p, 0, sizeof(*p));
}

int sig_payload_parse(const void *data, size_t len, struct sig_payload *out, struct berr **err)
{
	json_t *root, *critical, *image, *identity, *dr;
	const char *type, *digest;
	json_error_t jerr;
	char q[80];
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (len > SIG_PAYLOAD_MAX)
		return berr_make(err, EFBIG, "signature payload is larger than %u bytes",
				 SIG_PAYLOAD_MAX);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return berr_make(err, 0, "signature payload is not valid JSON: line %d column %d: "
				 "%s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(root)) {
		berr_make(err, 0, "signature payload is not a JSON object");
		goto out;
	}
	if (get_object(root, "critical", "critical", true, &critical, err) < 0 ||
	    get_string(critical, "type", "critical.type", 256, &type, err) < 0)
		goto out;
	if (strcmp(type, SIG_PAYLOAD_TYPE) != 0) {
		ferr(err, "critical.type", "`%s`, expected `%s`", quote(type, q), SIG_PAYLOAD_TYPE);
		goto out;
	}
	if (get_object(critical, "image", "critical.image", true, &image, err) < 0 ||
	    get_string(image, "docker-manifest-digest", "critical.image.docker-manifest-digest",
		       DIGEST_STR_LEN + 64, &digest, err) < 0)
		goto out;
	if (digest_parse(digest, "critical.image.docker-manifest-digest", &out->manifest, err) < 0) {
		berr_wrap(err, "signature payload");
		goto out;
	}
	/* The spec lets verifiers ignore the identity; it is kept for messages only. */
	if (get_object(critical, "identity", "critical.identity", false, &identity, err) < 0)
		goto out;
	if (identity != NULL) {
		if (get_ci(identity, "docker-reference", "critical.identity.docker-reference", &dr,
			   err) < 0)
			goto out;
		if (dr != NULL && !json_is_null(dr)) {
			const char *s;
			if (get_string(identity, "docker-reference",
				       "critical.identity.docker-reference", REF_STR_MAX, &s, err) < 0)
				goto out;
			out->docker_reference = strdup(s);
			if (out->docker_reference == NULL) {
				berr_make(err, ENOMEM, "signature payload");
				goto out;
			}
		}
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		sig_payload_free(out);
	return ret;
}

/* ---- signature ---- */

int sig_sign(const struct key *k, const void *payload, size_t len, char **b64, struct berr **err)
{
	unsigned char hash[KEY_HASH_LEN], der[SIG_DER_MAX];
	size_t der_len, olen;
	char *s;

	*b64 = NULL;
	if (key_hash(payload, len, hash, err) < 0 ||
	    key_sign_hash(k, hash, der, sizeof(der), &der_len, err) < 0)
		return -1;
	s = malloc(SIG_B64_MAX + 1);
	if (s == NULL)
		return berr_make(err, ENOMEM, "sign");
	if (mbedtls_base64_encode((unsigned char *) s, SIG_B64_MAX + 1, &olen, der, der_len) != 0) {
		free(s);
		return berr_make(err, 0, "base64 of the signature");
	}
	s[olen] = '\0';
	*b64 = s;
	return 0;
}

static bool b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* One DER INTEGER at der[*pos]: positive, minimally encoded, at most 33 bytes (P-256). */
static const char *der_integer(const unsigned char *der, size_t len, size_t *pos)
{
	size_t n;

	if (*pos + 2 > len || der[*pos] != 0x02)
		return "expected an INTEGER";
	n = der[*pos + 1];
	*pos += 2;
	if (n == 0 || n > 33 || *pos + n > len)
		return "INTEGER of a bad length";
	if (der[*pos] & 0x80)
		return "negative INTEGER";
	if (n > 1 && der[*pos] == 0 && !(der[*pos + 1] & 0x80))
		return "INTEGER not minimally encoded";
	*pos += n;
	return NULL;
}

int sig_decode(const char *b64, unsigned char der[SIG_DER_MAX], size_t *der_len,
	       struct berr **err)
{
	size_t len = strnlen(b64, SIG_B64_MAX + 1), pad = 0, pos = 2, olen = 0;
	const char *why = NULL;
	int rc;

	*der_len = 0;
	if (len == 0)
		return berr_make(err, 0, "signature annotation is empty");
	if (len > SIG_B64_MAX)
		return berr_make(err, 0, "signature annotation is longer than %d characters",
				 SIG_B64_MAX);
	for (size_t i = 0; i < len; i++) {
		if (b64[i] == '=' && i >= len - 2) {
			pad++;
			continue;
		}
		if (pad || !b64_char(b64[i]))
			return berr_make(err, 0, "signature annotation is not base64: bad character "
					 "at offset %zu", i);
	}
	if (len % 4 != 0)
		return berr_make(err, 0, "signature annotation is not base64: length %zu is not a "
				 "multiple of 4", len);
	rc = mbedtls_base64_decode(der, SIG_DER_MAX, &olen, (const unsigned char *) b64, len);
	if (rc == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL)
		return berr_make(err, 0, "signature decodes to more than %d bytes: not a P-256 "
				 "ECDSA signature", SIG_DER_MAX);
	if (rc != 0)
		return berr_make(err, 0, "signature annotation is not base64 (mbedtls -0x%04x)",
				 (unsigned) -rc);
	/* SEQUENCE { INTEGER r, INTEGER s }, short-form length: P-256 needs at most 70 bytes. */
	if (olen < 8 || der[0] != 0x30)
		why = "expected a SEQUENCE";
	else if (der[1] != olen - 2)
		why = "SEQUENCE length does not match";
	else if ((why = der_integer(der, olen, &pos)) == NULL &&
		 (why = der_integer(der, olen, &pos)) == NULL && pos != olen)
		why = "bytes after the two INTEGERs";
	if (why)
		return berr_make(err, 0, "signature is not a DER ECDSA signature: %s", why);
	*der_len = olen;
	return 0;
}

int sig_verify(const struct key *k, const void *payload, size_t len, const char *b64,
	       struct berr **err)
{
	unsigned char hash[KEY_HASH_LEN], der[SIG_DER_MAX];
	size_t der_len;

	if (sig_decode(b64, der, &der_len, err) < 0 || key_hash(payload, len, hash, err) < 0)
		return -1;
	return key_verify_hash(k, hash, der, der_len, err);
}

/* ---- signature manifest ---- */

void sig_manifest_free(struct sig_manifest *m)
{
	for (size_t i = 0; i < m->n_layers; i++)
		free(m->layers[i].signature);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

int sig_manifest_parse(const void *data, size_t len, struct sig_manifest *out,
		       struct berr **err)
{
	struct manifest m;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (len > SIG_MANIFEST_MAX)
		return berr_make(err, EFBIG, "signature manifest is larger than %u bytes",
				 SIG_MANIFEST_MAX);
	if (manifest_parse(data, len, NULL, &m, err) < 0)
		return berr_wrap(err, "signature manifest");
	if (m.kind != MANIFEST_OCI_MANIFEST && m.kind != MANIFEST_DOCKER_MANIFEST) {
		berr_make(err, 0, "signature manifest is an index, not an image manifest");
		goto out;
	}
	out->layers = calloc(m.n_layers ? m.n_layers : 1, sizeof(*out->layers));
	if (out->layers == NULL) {
		berr_make(err, ENOMEM, "signature manifest");
		goto out;
	}
	for (size_t i = 0; i < m.n_layers; i++) {
		const struct manifest_descriptor *d = &m.layers[i];
		struct sig_layer *l;
		const char *sig = NULL;

		if (strcmp(d->media_type, SIG_MEDIA_TYPE) != 0) {
			out->n_ignored++;
			continue;
		}
		if (out->n_layers >= SIG_LAYERS_MAX) {
			berr_make(err, 0, "signature manifest: more than %d signatures",
				  SIG_LAYERS_MAX);
			goto out;
		}
		if (d->size > SIG_PAYLOAD_MAX) {
			berr_make(err, 0, "signature manifest: `layers[%zu].size`: %llu bytes, more "
				  "than the %u a payload may have", i, (unsigned long long) d->size,
				  SIG_PAYLOAD_MAX);
			goto out;
		}
		for (size_t a = 0; a < d->n_annotations; a++)
			if (strcmp(d->annotations[a].key, SIG_ANNOTATION) == 0)
				sig = d->annotations[a].value;
		l = &out->layers[out->n_layers++];
		l->payload = d->digest;
		l->payload_size = d->size;
		if (sig != NULL) {
			if (strlen(sig) > SIG_B64_MAX) {
				berr_make(err, 0, "signature manifest: `layers[%zu].annotations[\"%s\"]`"
					  ": longer than %d characters", i, SIG_ANNOTATION,
					  SIG_B64_MAX);
				goto out;
			}
			l->signature = strdup(sig);
			if (l->signature == NULL) {
				berr_make(err, ENOMEM, "signature manifest");
				goto out;
			}
		}
	}
	ret = 0;
out:
	manifest_free(&m);
	if (ret < 0)
		sig_manifest_free(out);
	return ret;
}

void sig_documents_free(struct sig_documents *d)
{
	free(d->manifest);
	free(d->config);
	memset(d, 0, sizeof(*d));
}

static int set_new(json_t *obj, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(obj, key, v);
}

static int append_new(json_t *arr, json_t *v)
{
	return v == NULL ? -1 : json_array_append_new(arr, v);
}

static json_t *descriptor(const char *media_type, const struct digest *d, uint64_t size)
{
	char ds[DIGEST_STR_SIZE];

	return json_pack("{s:s,s:I,s:s}", "mediaType", media_type, "size", (json_int_t) size,
			 "digest", digest_format(d, ds));
}

static char *dump(json_t *v, size_t *len)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;

	*len = s ? strlen(s) : 0;
	return s;
}

int sig_manifest_build(const struct sig_layer *layers, size_t n, struct sig_documents *out,
		       struct berr **err)
{
	json_t *config = NULL, *history, *diff_ids, *rootfs, *manifest = NULL, *jl;
	char ds[DIGEST_STR_SIZE];
	int bad = 0, ret = -1;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > SIG_LAYERS_MAX)
		return berr_make(err, EINVAL, "signature manifest: %zu signatures (1 to %d)", n,
				 SIG_LAYERS_MAX);
	for (i = 0; i < n; i++)
		if (layers[i].signature == NULL || !digest_is_set(&layers[i].payload))
			return berr_make(err, EINVAL, "signature manifest: signature %zu is "
					 "incomplete", i + 1);

	/* The config, with cosign's key order. */
	history = json_array();
	diff_ids = json_array();
	for (i = 0; i < n; i++) {
		bad |= append_new(history, json_pack("{s:s}", "created", ZERO_TIME));
		bad |= append_new(diff_ids, json_string(digest_format(&layers[i].payload, ds)));
	}
	rootfs = json_pack("{s:s,s:o}", "type", "layers", "diff_ids", diff_ids);
	config = json_pack("{s:s,s:s,s:o,s:s,s:o,s:o}", "architecture", "", "created", ZERO_TIME,
			   "history", history, "os", "", "rootfs", rootfs, "config", json_object());
	out->config = dump(config, &out->config_len);
	if (bad || out->config == NULL ||
	    digest_buffer(out->config, out->config_len, &out->config_digest, err) < 0)
		goto fail;

	manifest = json_pack("{s:i,s:s,s:o,s:[]}", "schemaVersion", 2, "mediaType",
			     MT_OCI_MANIFEST, "config",
			     descriptor(SIG_CONFIG_MEDIA_TYPE, &out->config_digest, out->config_len),
			     "layers");
	if (manifest == NULL)
		goto fail;
	for (i = 0; i < n; i++) {
		jl = descriptor(SIG_MEDIA_TYPE, &layers[i].payload, layers[i].payload_size);
		bad |= set_new(jl, "annotations",
			       json_pack("{s:s}", SIG_ANNOTATION, layers[i].signature));
		bad |= append_new(json_object_get(manifest, "layers"), jl);
	}
	out->manifest = dump(manifest, &out->manifest_len);
	if (bad || out->manifest == NULL ||
	    digest_buffer(out->manifest, out->manifest_len, &out->manifest_digest, err) < 0)
		goto fail;
	ret = 0;
fail:
	if (ret < 0) {
		if (err && *err == NULL)
			berr_make(err, ENOMEM, "build the signature manifest");
		sig_documents_free(out);
	}
	json_decref(config);
	json_decref(manifest);
	return ret;
}
