/* Trust policy: `[trust "prefix"]` sections matched against full image names, and the
 * verification of a cosign-format signature manifest against the governing keys. */
#include "policy.h"
#include "keys.h"
#include "sig.h"
#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "config.h"
#include "image/ref.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *trust_policy_name(enum trust_policy p)
{
	switch (p) {
	case TRUST_OFF: return "off";
	case TRUST_WARN: return "warn";
	case TRUST_REQUIRE: return "require";
	}
	return "?";
}

int trust_policy_parse(const char *s, enum trust_policy *out)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "require") == 0)
		*out = TRUST_REQUIRE;
	else if (strcmp(s, "warn") == 0)
		*out = TRUST_WARN;
	else if (strcmp(s, "off") == 0)
		*out = TRUST_OFF;
	else
		return -1;
	return 0;
}

/* ---- which section ---- */

/* Docker's rule for the first component of a name being a registry host. */
static bool prefix_has_host(const char *prefix)
{
	char host[REF_NAME_MAX + 1];
	size_t n = strcspn(prefix, "/");

	if (n == 0 || n > REF_NAME_MAX)
		return false;
	memcpy(host, prefix, n);
	host[n] = '\0';
	if (strcmp(host, "localhost") != 0 && strchr(host, '.') == NULL && strchr(host, ':') == NULL)
		return false;
	return ref_domain_valid(host);
}

/* Length of `prefix` that must match (a trailing '/' is not part of it), or 0 if it does not
 * match `name` on a component boundary. */
static size_t prefix_match(const char *prefix, const char *name)
{
	size_t n = strlen(prefix);

	while (n > 0 && prefix[n - 1] == '/')
		n--;
	if (n == 0 || strncmp(name, prefix, n) != 0 || (name[n] != '\0' && name[n] != '/'))
		return 0;
	return n;
}

int trust_rule_for(const struct berth_config *cfg, const struct ref *image,
		   struct trust_rule *out, struct berr **err)
{
	char name[REF_STR_SIZE];
	const struct cfg_trust *best = NULL;
	size_t best_len = 0;

	memset(out, 0, sizeof(*out));
	out->policy = TRUST_OFF;
	if (ref_format(image, REF_FULL_NAME, name, sizeof(name)) < 0)
		return berr_make(err, ENAMETOOLONG, "image name too long");
	for (size_t i = 0; i < cfg->n_trusts; i++) {
		const struct cfg_trust *t = &cfg->trusts[i];
		size_t n;

		if (strcmp(t->name, TRUST_PREFIX_ANY) == 0) {
			if (best == NULL)
				best = t;
			continue;
		}
		if (!prefix_has_host(t->name))
			return berr_usage(err, "[trust \"%s\"]: a prefix starts with the registry "
					  "host, as in `docker.io/library/nginx` or "
					  "`reg.example:5000/team` (or is `*` for every image)",
					  t->name);
		n = prefix_match(t->name, name);
		if (n > best_len) {
			best = t;
			best_len = n;
		}
	}
	if (best == NULL)
		return 0;
	out->prefix = best->name;
	out->public_key = best->public_key;
	if (trust_policy_parse(best->policy ? best->policy : "require", &out->policy) < 0)
		return berr_usage(err, "[trust \"%s\"]: policy `%s`: use require, warn or off",
				  best->name, best->policy);
	if (out->policy != TRUST_OFF && (out->public_key == NULL || out->public_key[0] == '\0'))
		return berr_usage(err, "[trust \"%s\"]: policy = %s needs a public-key", best->name,
				  trust_policy_name(out->policy));
	return 0;
}

/* ---- verification ---- */

/* A bounded text buffer; overflow ends in "...". */
struct text {
	char buf[1536];
	size_t len;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	size_t room = sizeof(t->buf) - t->len;
	va_list ap;
	int n;

	if (room <= 4)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t) n >= room) {
		memcpy(t->buf + sizeof(t->buf) - 4, "...", 4);
		t->len = sizeof(t->buf) - 1;
	} else {
		t->len += (size_t) n;
	}
}

/* Append the message of *e (then freed) as one reason. */
static void add_reason(struct text *t, size_t sig_no, size_t n_sigs, struct berr **e)
{
	const char *msg = *e ? (*e)->msg : "failed";

	if (n_sigs > 1)
		text_add(t, "%ssignature %zu of %zu: %s", t->len ? "; " : "", sig_no, n_sigs, msg);
	else
		text_add(t, "%s%s", t->len ? "; " : "", msg);
	berr_free(*e);
	*e = NULL;
}

/* "name:tag@digest" */
#define LABEL_SIZE (REF_STR_SIZE + REF_TAG_MAX + DIGEST_STR_SIZE + 8)

static void image_label(const struct ref *image, const struct digest *d, char *buf, size_t size)
{
	char name[REF_STR_SIZE], ds[DIGEST_STR_SIZE];

	if (ref_format(image, REF_FULL_NAME, name, sizeof(name)) < 0)
		str_copy(name, sizeof(name), "?");
	snprintf(buf, size, "%s%s%s@%s", name, image->tag[0] ? ":" : "", image->tag,
		 digest_format(d, ds));
}

/* One signature layer against every key. 0 if one verifies; else -1 with *e the reason. */
static int verify_layer(const struct sig_layer *l, const struct digest *manifest_digest,
			trust_fetch_fn fetch, void *opaque, struct key *const *keys, size_t n_keys,
			const struct key **good, struct berr **e)
{
	unsigned char der[SIG_DER_MAX], hash[KEY_HASH_LEN];
	char ds[DIGEST_STR_SIZE], ds2[DIGEST_STR_SIZE];
	_cleanup_free_ char *data = NULL;
	struct sig_payload p;
	struct digest got;
	size_t der_len, len = 0, mismatches = 0;
	struct berr *last = NULL;

	if (l->signature == NULL)
		return berr_make(e, 0, "no `%s` annotation", SIG_ANNOTATION);
	if (sig_decode(l->signature, der, &der_len, e) < 0)
		return -1;
	if (fetch == NULL)
		return berr_make(e, 0, "payload `%s` not available", digest_format(&l->payload, ds));
	if (fetch(opaque, &l->payload, l->payload_size, &data, &len, e) < 0)
		return berr_wrap(e, "payload `%s`", digest_format(&l->payload, ds));
	if (len > SIG_PAYLOAD_MAX || len != l->payload_size)
		return berr_make(e, 0, "payload `%s` is %zu bytes, its descriptor says %llu",
				 digest_format(&l->payload, ds), len,
				 (unsigned long long) l->payload_size);
	if (digest_buffer(data, len, &got, e) < 0)
		return -1;
	if (!digest_equal(&got, &l->payload))
		return berr_make(e, 0, "payload bytes hash to `%s`, not the layer digest `%s`",
				 digest_format(&got, ds), digest_format(&l->payload, ds2));
	if (key_hash(data, len, hash, e) < 0)
		return -1;
	for (size_t k = 0; k < n_keys; k++) {
		struct berr *ke = NULL;
		if (key_verify_hash(keys[k], hash, der, der_len, &ke) == 0) {
			berr_free(last);
			/* Only a payload whose signature verified is interpreted. */
			if (sig_payload_parse(data, len, &p, e) < 0)
				return berr_wrap(e, "signed by `%s`, but", key_name(keys[k]));
			if (!digest_equal(&p.manifest, manifest_digest)) {
				berr_make(e, 0, "signed by `%s`, but the payload is for manifest `%s`, "
					  "not `%s`", key_name(keys[k]), digest_format(&p.manifest, ds),
					  digest_format(manifest_digest, ds2));
				sig_payload_free(&p);
				return -1;
			}
			sig_payload_free(&p);
			*good = keys[k];
			return 0;
		}
		if (ke && strstr(ke->msg, "does not match") != NULL)
			mismatches++;
		berr_free(last);
		last = ke;
	}
	if (mismatches == n_keys) {
		berr_free(last);
		return berr_make(e, 0, "signature matches none of the keys (payload altered, or "
				 "signed by another key)");
	}
	*e = last;
	return -1;
}

int trust_verify(const struct ref *image, const struct digest *manifest_digest,
		 const void *sig_manifest, size_t sig_manifest_len, trust_fetch_fn fetch,
		 void *opaque, struct key *const *keys, size_t n_keys, struct trust_result *res,
		 struct berr **err)
{
	char label[LABEL_SIZE], tag[SIG_TAG_SIZE];
	struct sig_manifest sm = { 0 };
	struct text tried = { .len = 0 }, why = { .len = 0 };
	struct berr *e = NULL;

	if (res)
		memset(res, 0, sizeof(*res));
	image_label(image, manifest_digest, label, sizeof(label));
	for (size_t k = 0; k < n_keys; k++)
		text_add(&tried, "%s`%s` (%s)", k ? ", " : "", key_name(keys[k]),
			 key_fingerprint(keys[k]));
	if (n_keys == 0) {
		text_add(&tried, "none");
		text_add(&why, "no public key configured");
	} else if (sig_manifest == NULL) {
		text_add(&why, "no signature: tag `%s` not found", sig_tag(manifest_digest, tag));
	} else if (sig_manifest_parse(sig_manifest, sig_manifest_len, &sm, &e) < 0) {
		add_reason(&why, 1, 1, &e);
	} else if (sm.n_layers == 0) {
		text_add(&why, "the signature manifest has no `%s` layer", SIG_MEDIA_TYPE);
	} else {
		for (size_t i = 0; i < sm.n_layers; i++) {
			const struct key *good = NULL;
			if (verify_layer(&sm.layers[i], manifest_digest, fetch, opaque, keys, n_keys,
					 &good, &e) == 0) {
				if (res) {
					res->layer = i;
					res->key = good;
				}
				sig_manifest_free(&sm);
				return 0;
			}
			add_reason(&why, i + 1, sm.n_layers, &e);
		}
	}
	sig_manifest_free(&sm);
	berr_make(err, 0, "image `%s` has no valid signature: %s; key%s tried: %s", label, why.buf,
		  n_keys == 1 ? "" : "s", tried.buf);
	if (err && *err)
		(*err)->status = EXIT_FAILED;
	return -1;
}

/* Every key of every file in `paths` ('\n'-separated, one `public-key` line each). */
static int load_keys(const char *paths, struct key_list *keys, struct berr **err)
{
	while (*paths) {
		size_t n = strcspn(paths, "\n");
		_cleanup_free_ char *one = xasprintf("%.*s", (int) n, paths);

		if (key_load_public_file(one, keys, err) < 0)
			return -1;
		paths += n + (paths[n] == '\n');
	}
	return 0;
}

int trust_check(const struct berth_config *cfg, const struct ref *image,
		const struct digest *manifest_digest, const void *sig_manifest,
		size_t sig_manifest_len, trust_fetch_fn fetch, void *opaque,
		struct trust_decision *out, struct berr **err)
{
	char label[LABEL_SIZE];
	struct key_list keys = { 0 };
	struct trust_result res;
	struct trust_rule rule;
	struct berr *e = NULL;

	memset(out, 0, sizeof(*out));
	if (trust_rule_for(cfg, image, &rule, err) < 0)
		return -1;
	out->policy = rule.policy;
	if (rule.prefix)
		str_copy(out->prefix, sizeof(out->prefix), rule.prefix);
	if (rule.policy == TRUST_OFF)
		return 0;
	image_label(image, manifest_digest, label, sizeof(label));
	if (!ENABLE_SIGNATURES) {
		berr_make(&e, 0, "image `%s`: cannot check its signature: berth was built without "
			  "signature support (CONFIG_SIGNATURES), and [trust \"%s\"] has "
			  "policy = %s", label, rule.prefix, trust_policy_name(rule.policy));
	} else if (load_keys(rule.public_key, &keys, &e) < 0) {
		berr_wrap(&e, "image `%s`: [trust \"%s\"]", label, rule.prefix);
	} else if (trust_verify(image, manifest_digest, sig_manifest, sig_manifest_len, fetch,
				opaque, keys.keys, keys.n, &res, &e) == 0) {
		out->verified = true;
		snprintf(out->key, sizeof(out->key), "%s (%s)", key_name(res.key),
			 key_fingerprint(res.key));
		log_info("image `%s`: signature verified with `%s`", label, out->key);
		key_list_free(&keys);
		return 0;
	}
	key_list_free(&keys);
	if (rule.policy == TRUST_WARN) {
		log_warn("%s (used anyway: [trust \"%s\"] has policy = warn)", e ? e->msg : label,
			 rule.prefix);
		berr_free(e);
		return 0;
	}
	berr_wrap(&e, "refused");
	if (e)
		e->status = EXIT_FAILED;
	if (err && *err == NULL)
		*err = e;
	else
		berr_free(e);
	return -1;
}
