/* Trust policy: which `[trust "prefix"]` section governs an image, and the verification of an
 * image's signature manifest against that section's keys. Runs on the manifest digest before
 * any layer is fetched (DESIGN.md, "Trust"). */
#ifndef BERTH_TRUST_POLICY_H
#define BERTH_TRUST_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct berr;
struct berth_config;
struct key;
struct ref;

enum trust_policy {
	TRUST_OFF = 0,  /* no check */
	TRUST_WARN,     /* check; a failure is logged and the image is used anyway */
	TRUST_REQUIRE,  /* check; a failure refuses the image */
};

const char *trust_policy_name(enum trust_policy p);
/* "require", "warn", "off"; -1 for anything else. */
int trust_policy_parse(const char *s, enum trust_policy *out);

#define TRUST_PREFIX_ANY "*"

/* The section that governs an image. */
struct trust_rule {
	const char *prefix;       /* section name; NULL when no section matched (not owned) */
	const char *public_key;   /* path; NULL if the section names none (not owned) */
	enum trust_policy policy;
};

/* Pick the `[trust "PREFIX"]` section for `image`, whose name is compared in its full form
 * (ref_format REF_FULL_NAME: `docker.io/library/nginx`, `reg.example:5000/team/app`).
 * A prefix matches the name itself or whole leading path components of it
 * (`reg.example:5000/team` matches `reg.example:5000/team/app`, not `.../teamwork`); the
 * longest matching prefix wins; `*` matches every image and loses to any other match.
 * With no matching section the policy is `off`: a board that configures no trust section
 * checks nothing, and one that wants every image checked writes `[trust "*"]`.
 * Prefixes are written in the full form: one whose first component is not a registry host
 * (`nginx`, `library/nginx`) would silently never match, so it is an error (EXIT_USAGE)
 * naming the section, as is a `require` or `warn` section without a public-key. */
int trust_rule_for(const struct berth_config *cfg, const struct ref *image,
		   struct trust_rule *out, struct berr **err);

/* Fetch the payload blob `digest` (whose descriptor says `size` bytes, at most
 * SIG_PAYLOAD_MAX) from wherever the signature manifest came from: malloc'd *data, *len.
 * The verifier checks the bytes against `digest` itself. */
typedef int (*trust_fetch_fn)(void *opaque, const struct digest *digest, uint64_t size,
			      char **data, size_t *len, struct berr **err);

/* Which signature and key verified. */
struct trust_result {
	size_t layer;             /* index among the signature layers */
	const struct key *key;    /* not owned: one of the keys passed in */
};

/* Verify that `sig_manifest` (NULL: none was found under the `.sig` tag) holds a signature,
 * by one of `keys`, over a payload whose bytes hash to its descriptor's digest and whose
 * `critical.image.docker-manifest-digest` is `manifest_digest`. The first good signature
 * wins. Otherwise -1 and one error (EXIT_FAILED), "image `NAME:TAG@DIGEST` has no valid
 * signature: REASONS; keys tried: `PATH` (SHA256:...), ...", with the reason each signature
 * failed. Nothing is written anywhere. */
int trust_verify(const struct ref *image, const struct digest *manifest_digest,
		 const void *sig_manifest, size_t sig_manifest_len, trust_fetch_fn fetch,
		 void *opaque, struct key *const *keys, size_t n_keys, struct trust_result *res,
		 struct berr **err);

/* What trust_check decided. */
struct trust_decision {
	enum trust_policy policy;
	bool verified;            /* a signature verified (false under `off`, or `warn` failures) */
	char prefix[256];         /* the governing section, "" if none */
	char key[320];            /* key that verified: "path (SHA256:...)", "" if none */
};

/* The pull path's one call: pick the rule for `image`, load its keys and verify. Returns 0
 * when the image may be used: verified, or policy `off`, or `warn` (the failure is logged as
 * a warning naming the image, the keys and the reason). Returns -1 when refused (policy
 * `require`: missing or bad signature, unreadable key; the error starts with "refused: " and
 * has status EXIT_FAILED) or the config is wrong (EXIT_USAGE). Built without
 * ENABLE_SIGNATURES, `require` refuses and `warn` warns, saying so. */
int trust_check(const struct berth_config *cfg, const struct ref *image,
		const struct digest *manifest_digest, const void *sig_manifest,
		size_t sig_manifest_len, trust_fetch_fn fetch, void *opaque,
		struct trust_decision *out, struct berr **err);

#endif
