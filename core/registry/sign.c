/* Signing an image in a registry in cosign's key-based format: the simple-signing payload of
 * the manifest digest, signed, and added as a layer of the signature manifest at tag
 * `sha256-<hex>.sig` (cosign specs/SIGNATURE_SPEC.md). */
#include "registry/sign.h"
#include "base/err.h"
#include "base/util.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "registry/client.h"
#include "registry/push.h"
#include "trust/sig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Push a small blob unless the registry has it. */
static int put_small_blob(struct reg_client *c, const void *data, size_t len,
			  const struct digest *d, struct berr **err)
{
	int have = reg_blob_exists(c, d, err);

	if (have < 0)
		return -1;
	return have ? 0 : reg_put_blob(c, data, len, d, err);
}

int reg_sign(const struct berth_config *cfg, const struct ref *image, const struct key *key,
	     struct reg_sign_result *res, struct berr **err)
{
	char reference[DIGEST_STR_SIZE + REF_TAG_MAX], name[REF_STR_SIZE], tag[SIG_TAG_SIZE];
	_cleanup_free_ char *man = NULL, *payload = NULL, *b64 = NULL, *old = NULL;
	struct sig_manifest existing = { 0 };
	struct sig_documents docs = { 0 };
	struct sig_layer *layers = NULL;
	struct reg_client *c = NULL;
	struct digest payload_d, old_d;
	size_t man_len, payload_len, old_len = 0, n = 0;
	int found, ret = -1;

	memset(res, 0, sizeof(*res));
	if (digest_is_set(&image->digest))
		digest_format(&image->digest, reference);
	else
		snprintf(reference, sizeof(reference), "%s", image->tag);
	if (ref_format(image, REF_FULL_NAME, name, sizeof(name)) < 0)
		return berr_make(err, 0, "image name too long");
	if (reg_client_new(cfg, image, &c, err) < 0)
		return -1;
	reg_client_want_push(c, NULL);
	/* What is signed is what the registry serves for the reference now. */
	if (reg_get_manifest(c, reference, false, &man, &man_len, NULL, &res->manifest, err) < 0)
		goto out;
	sig_tag(&res->manifest, tag);
	snprintf(res->tag, sizeof(res->tag), "%s", tag);
	if (sig_payload_build(name, &res->manifest, &payload, &payload_len, err) < 0 ||
	    digest_buffer(payload, payload_len, &payload_d, err) < 0 ||
	    sig_sign(key, payload, payload_len, &b64, err) < 0)
		goto out;
	found = reg_get_manifest(c, tag, true, &old, &old_len, NULL, &old_d, err);
	if (found < 0)
		goto out;
	if (found && sig_manifest_parse(old, old_len, &existing, err) < 0) {
		berr_wrap(err, "the signature manifest already at `%s`; remove it to start over",
			  tag);
		goto out;
	}
	/* Keep the signatures already there (other keys, other signers), as cosign does. */
	layers = xcalloc(existing.n_layers + 1, sizeof(*layers));
	for (size_t i = 0; i < existing.n_layers; i++) {
		const struct sig_layer *l = &existing.layers[i];
		if (digest_equal(&l->payload, &payload_d) && l->signature &&
		    strcmp(l->signature, b64) == 0)
			res->already = true;
		layers[n++] = *l;
	}
	/* ECDSA signatures are randomised, so the same key signing again adds a layer; that
	 * is harmless and is what cosign does too. */
	if (!res->already) {
		layers[n].payload = payload_d;
		layers[n].payload_size = payload_len;
		layers[n].signature = b64;
		n++;
	}
	res->n_signatures = n;
	if (res->already) {
		ret = 0;
		goto out;
	}
	if (sig_manifest_build(layers, n, &docs, err) < 0)
		goto out;
	if (put_small_blob(c, payload, payload_len, &payload_d, err) < 0 ||
	    put_small_blob(c, docs.config, docs.config_len, &docs.config_digest, err) < 0 ||
	    reg_put_manifest(c, tag, MT_OCI_MANIFEST, docs.manifest, docs.manifest_len, err) < 0)
		goto out;
	ret = 0;
out:
	free(layers);
	sig_documents_free(&docs);
	sig_manifest_free(&existing);
	reg_client_free(c);
	if (ret < 0)
		berr_wrap(err, "sign `%s`", name);
	return ret;
}
