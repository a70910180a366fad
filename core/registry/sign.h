/* `berth sign`: a cosign key-based signature (core/trust/sig.h) of an image in a registry,
 * pushed under its `sha256-<hex>.sig` tag next to the signatures already there. */
#ifndef BERTH_REGISTRY_SIGN_H
#define BERTH_REGISTRY_SIGN_H

#include <stdbool.h>

#include "image/digest.h"

struct berr;
struct berth_config;
struct key;
struct ref;

struct reg_sign_result {
	struct digest manifest;       /* what was signed */
	char tag[80];                 /* "sha256-<hex>.sig" */
	bool already;                 /* the same signature was there already */
	size_t n_signatures;          /* in the signature manifest now */
};

/* Resolve `image` on its registry (a tag is looked up; a digest is checked to exist), sign
 * the manifest digest with `key`, and push payload, config and signature manifest. */
int reg_sign(const struct berth_config *cfg, const struct ref *image, const struct key *key,
	     struct reg_sign_result *res, struct berr **err);

#endif
