/* Image references (`nginx`, `host:5000/team/app:1.2`, `repo@sha256:...`): parsing, Docker's
 * normalisation, and the full and familiar forms. */
#ifndef BERTH_IMAGE_REF_H
#define BERTH_IMAGE_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "image/digest.h"

struct berr;

#define REF_DEFAULT_REGISTRY "docker.io"
#define REF_NAME_MAX 255 /* domain "/" path, distribution-spec's limit on a repository name */
#define REF_TAG_MAX 128
/* The longest reference we accept as input or produce: name ":" tag "@" digest. */
#define REF_STR_MAX (REF_NAME_MAX + 1 + REF_TAG_MAX + 1 + DIGEST_STR_LEN)
#define REF_STR_SIZE (REF_STR_MAX + 1)

struct ref {
	char domain[REF_NAME_MAX + 1]; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char path[REF_NAME_MAX + 1];   /* "library/nginx", "hbliti/nginx" */
	char tag[REF_TAG_MAX + 1];     /* "" when none */
	struct digest digest;          /* unset when none */
	bool default_domain;           /* domain is the default registry given to ref_parse */
};

enum ref_parse_flags {
	/* Leave the tag empty when the reference has neither tag nor digest, instead of
	 * adding `latest` (for filters such as `berth images nginx`). */
	REF_NO_DEFAULT_TAG = 1 << 0,
	/* A repository name only: a tag or a digest is an error (`berth push` destinations
	 * are given with a tag, so this is for names in config files and filters). */
	REF_NAME_ONLY = 1 << 1,
};

/* Parse and normalise `s` the way Docker does: a first component that contains `.` or `:`, is
 * `localhost`, or has an uppercase letter names the registry; otherwise the registry is
 * `default_registry` (NULL: docker.io), and on docker.io a one-component path gets `library/`.
 * `index.docker.io` is docker.io. Without a tag or digest the tag is `latest` (see flags).
 * Grammar per the distribution-spec (reference grammar); only sha256 digests are accepted.
 * Errors are EXIT_USAGE and start with "invalid reference format". */
int ref_parse(const char *s, const char *default_registry, unsigned flags, struct ref *out,
	      struct berr **err);

enum ref_form {
	REF_FULL,          /* docker.io/library/nginx:latest[@sha256:...] */
	REF_FULL_NAME,     /* docker.io/library/nginx */
	REF_FAMILIAR,      /* nginx:latest, hbliti/nginx:1.0, reg:5000/app:1[@sha256:...] */
	REF_FAMILIAR_NAME, /* nginx, hbliti/nginx, reg:5000/app (as `berth images` shows) */
};

/* Write `r` in `form` into buf. The familiar forms drop the default registry (and docker.io's
 * `library/`) only where the result parses back to the same name. Returns -1 (ENAMETOOLONG)
 * if buf is too small; REF_STR_SIZE is always enough. */
int ref_format(const struct ref *r, enum ref_form form, char *buf, size_t size);

/* Registry host with optional port: a DNS name (`reg.example`, `localhost`), an IPv4 address
 * or a bracketed IPv6 address (`[::1]`), then `:<1-65535>`. */
bool ref_domain_valid(const char *domain);

#endif
