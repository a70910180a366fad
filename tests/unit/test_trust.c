/* Unit tests for core/trust/policy.c: `[trust "prefix"]` matching, require/warn/off, and
 * trust_verify over signature manifests made here: good, wrong key, tampered payload, digest
 * mismatch, garbage annotations, missing signature, several keys and several signatures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "image/digest.h"
#include "image/ref.h"
#include "trust/keys.h"
#include "trust/policy.h"
#include "trust/sig.h"

#define IMAGE "reg.example:5000/team/app:1.0"
#define MHEX "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
#define OTHER "sha256:a1fce4363854ff888cff4b8e7875d600c2682390412a8cf79b37d0b11148b0fa"

static struct key *priv_a, *priv_b;
static struct key_list pub_a, pub_b;
static char dir[] = "/tmp/berth-test-trust.XXXXXX";
static char *a_pub_path;

#define assert_fails_with(call, want)                                                       \
	do {                                                                                \
		struct berr *e_ = NULL;                                                     \
		struct berr **err = &e_;                                                    \
		assert_true((call) < 0);                                                    \
		assert_non_null(e_);                                                        \
		if (strstr(e_->msg, (want)) == NULL)                                        \
			fail_msg("error `%s` lacks `%s`", e_->msg, (want));                 \
		berr_free(e_);                                                              \
	} while (0)

static int group_setup(void **state)
{
	char *pem;
	size_t len;

	(void) state;
	if (key_generate(&priv_a, NULL) < 0 || key_generate(&priv_b, NULL) < 0 ||
	    mkdtemp(dir) == NULL)
		return -1;
	a_pub_path = xasprintf("%s/a.pub", dir);
	if (key_public_pem(priv_a, &pem, &len, NULL) < 0 ||
	    key_parse_public(pem, len, a_pub_path, &pub_a, NULL) < 0 ||
	    fs_write_atomic(a_pub_path, pem, len, 0644, NULL) < 0)
		return -1;
	free(pem);
	if (key_public_pem(priv_b, &pem, &len, NULL) < 0 ||
	    key_parse_public(pem, len, "b.pub", &pub_b, NULL) < 0)
		return -1;
	free(pem);
	return 0;
}

static int group_teardown(void **state)
{
	(void) state;
	key_free(priv_a);
	key_free(priv_b);
	key_list_free(&pub_a);
	key_list_free(&pub_b);
	unlink(a_pub_path);
	rmdir(dir);
	free(a_pub_path);
	return 0;
}

/* ---- a fake registry: signature layers and their payload blobs ---- */

struct fixture {
	struct ref image;
	struct digest manifest;
	char *payloads[4];
	size_t lens[4];
	size_t n;
	struct sig_layer layers[4];
	struct sig_documents docs;
};

static int fetch(void *opaque, const struct digest *d, uint64_t size, char **data, size_t *len,
		 struct berr **err)
{
	struct fixture *f = opaque;

	(void) size;
	for (size_t i = 0; i < f->n; i++) {
		if (!digest_equal(&f->layers[i].payload, d))
			continue;
		*data = xmalloc(f->lens[i]);
		memcpy(*data, f->payloads[i], f->lens[i]);
		*len = f->lens[i];
		return 0;
	}
	return berr_make(err, 0, "blob unknown");
}

/* Add a signature by `k` over a payload naming `digest`. */
static void add_sig(struct fixture *f, const struct key *k, const char *digest)
{
	struct sig_layer *l = &f->layers[f->n];
	struct digest d;

	assert_int_equal(digest_parse(digest, NULL, &d, NULL), 0);
	assert_int_equal(sig_payload_build("reg.example:5000/team/app", &d, &f->payloads[f->n],
					   &f->lens[f->n], NULL), 0);
	assert_int_equal(sig_sign(k, f->payloads[f->n], f->lens[f->n], &l->signature, NULL), 0);
	assert_int_equal(digest_buffer(f->payloads[f->n], f->lens[f->n], &l->payload, NULL), 0);
	l->payload_size = f->lens[f->n];
	f->n++;
}

/* (Re)build the signature manifest from the layers as they are now. */
static void build(struct fixture *f)
{
	sig_documents_free(&f->docs);
	assert_int_equal(sig_manifest_build(f->layers, f->n, &f->docs, NULL), 0);
}

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(ref_parse(IMAGE, NULL, 0, &f->image, NULL), 0);
	assert_int_equal(digest_parse("sha256:" MHEX, NULL, &f->manifest, NULL), 0);
}

static void fixture_free(struct fixture *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->payloads[i]);
		free(f->layers[i].signature);
	}
	sig_documents_free(&f->docs);
}

static int verify(struct fixture *f, struct key_list *keys, struct trust_result *res,
		  struct berr **err)
{
	return trust_verify(&f->image, &f->manifest, f->docs.manifest, f->docs.manifest_len, fetch,
			    f, keys->keys, keys->n, res, err);
}

/* ---- policy selection ---- */

static void load_cfg(struct berth_config *cfg, const char *text)
{
	struct berr *err = NULL;

	if (config_load_buffer(cfg, "test.conf", text, strlen(text), &err) < 0)
		fail_msg("config: %s", err->msg);
}

static const char *rule_prefix(struct berth_config *cfg, const char *image,
			       enum trust_policy *policy)
{
	struct trust_rule rule;
	struct ref r;

	assert_int_equal(ref_parse(image, NULL, 0, &r, NULL), 0);
	assert_int_equal(trust_rule_for(cfg, &r, &rule, NULL), 0);
	*policy = rule.policy;
	return rule.prefix ? rule.prefix : "(none)";
}

static void test_prefix_matching(void **state)
{
	struct berth_config cfg;
	enum trust_policy p;

	(void) state;
	load_cfg(&cfg, "[trust \"reg.example:5000\"]\npublic-key = /k/reg.pub\n"
		       "[trust \"reg.example:5000/team/\"]\npolicy = warn\npublic-key = /k/team.pub\n"
		       "[trust \"reg.example:5000/team/app\"]\npolicy = off\n"
		       "[trust \"docker.io/library/nginx\"]\npublic-key = /k/nginx.pub\n");
	assert_string_equal(rule_prefix(&cfg, "reg.example:5000/other", &p), "reg.example:5000");
	assert_int_equal(p, TRUST_REQUIRE);
	assert_string_equal(rule_prefix(&cfg, "reg.example:5000/team/x:1", &p),
			    "reg.example:5000/team/");
	assert_int_equal(p, TRUST_WARN);
	/* Longest prefix wins; matching is on whole components. */
	assert_string_equal(rule_prefix(&cfg, "reg.example:5000/team/app@sha256:" MHEX, &p),
			    "reg.example:5000/team/app");
	assert_int_equal(p, TRUST_OFF);
	assert_string_equal(rule_prefix(&cfg, "reg.example:5000/team/apples", &p),
			    "reg.example:5000/team/");
	assert_string_equal(rule_prefix(&cfg, "reg.example:5000/teamwork/x", &p),
			    "reg.example:5000");
	/* Names are compared normalised: `nginx` is docker.io/library/nginx. */
	assert_string_equal(rule_prefix(&cfg, "nginx:1.25", &p), "docker.io/library/nginx");
	assert_int_equal(p, TRUST_REQUIRE);
	/* No section: off. Another port is another registry. */
	assert_string_equal(rule_prefix(&cfg, "reg.example:5001/team/app", &p), "(none)");
	assert_int_equal(p, TRUST_OFF);
	assert_string_equal(rule_prefix(&cfg, "busybox", &p), "(none)");
	config_free(&cfg);

	load_cfg(&cfg, "[trust \"*\"]\npublic-key = /k/all.pub\n"
		       "[trust \"localhost:5000/x\"]\npolicy = off\n");
	assert_string_equal(rule_prefix(&cfg, "busybox", &p), "*");
	assert_int_equal(p, TRUST_REQUIRE);
	assert_string_equal(rule_prefix(&cfg, "localhost:5000/x/y", &p), "localhost:5000/x");
	assert_int_equal(p, TRUST_OFF);
	config_free(&cfg);
}

static void test_rule_errors(void **state)
{
	struct berth_config cfg;
	struct trust_rule rule;
	struct ref r;

	(void) state;
	assert_int_equal(ref_parse("nginx", NULL, 0, &r, NULL), 0);
	/* A familiar name as prefix would silently never match. */
	load_cfg(&cfg, "[trust \"nginx\"]\npublic-key = /k.pub\n");
	assert_fails_with(trust_rule_for(&cfg, &r, &rule, err), "[trust \"nginx\"]: a prefix starts");
	config_free(&cfg);
	load_cfg(&cfg, "[trust \"docker.io\"]\npolicy = warn\n");
	assert_fails_with(trust_rule_for(&cfg, &r, &rule, err), "policy = warn needs a public-key");
	config_free(&cfg);
}

static void test_policy_names(void **state)
{
	enum trust_policy p;

	(void) state;
	assert_int_equal(trust_policy_parse("warn", &p), 0);
	assert_int_equal(p, TRUST_WARN);
	assert_int_equal(trust_policy_parse("maybe", &p), -1);
	assert_string_equal(trust_policy_name(TRUST_REQUIRE), "require");
}

/* ---- verification ---- */

static void test_verify_good(void **state)
{
	struct trust_result res;
	struct fixture f;

	(void) state;
	fixture_init(&f);
	add_sig(&f, priv_a, "sha256:" MHEX);
	build(&f);
	assert_int_equal(verify(&f, &pub_a, &res, NULL), 0);
	assert_int_equal(res.layer, 0);
	assert_ptr_equal(res.key, pub_a.keys[0]);
	fixture_free(&f);
}

static void test_verify_wrong_key(void **state)
{
	struct berr *err = NULL;
	struct fixture f;
	char want[128];

	(void) state;
	fixture_init(&f);
	add_sig(&f, priv_b, "sha256:" MHEX);
	build(&f);
	assert_int_equal(verify(&f, &pub_a, NULL, &err), -1);
	/* The refusal names the image, the reason and the key tried. */
	assert_non_null(strstr(err->msg, "image `reg.example:5000/team/app:1.0@sha256:" MHEX
					 "` has no valid signature"));
	assert_non_null(strstr(err->msg, "matches none of the keys"));
	snprintf(want, sizeof(want), "key tried: `%s` (%s)", a_pub_path,
		 key_fingerprint(pub_a.keys[0]));
	assert_non_null(strstr(err->msg, want));
	assert_int_equal(err->status, EXIT_FAILED);
	berr_free(err);
	fixture_free(&f);
}

static void test_verify_tampered_payload(void **state)
{
	struct fixture f;

	(void) state;
	fixture_init(&f);
	add_sig(&f, priv_a, "sha256:" MHEX);
	build(&f);
	/* One byte changed in the blob the registry serves: it no longer has its digest. */
	f.payloads[0][20] ^= 0x20;
	assert_fails_with(verify(&f, &pub_a, NULL, err), "not the layer digest");
	/* And with the manifest rewritten to the altered blob's digest, the signature fails. */
	assert_int_equal(digest_buffer(f.payloads[0], f.lens[0], &f.layers[0].payload, NULL), 0);
	build(&f);
	assert_fails_with(verify(&f, &pub_a, NULL, err), "matches none of the keys");
	fixture_free(&f);
}

static void test_verify_digest_mismatch(void **state)
{
	struct fixture f;

	(void) state;
	fixture_init(&f);
	/* A genuine signature, for another image: replaying it must fail. */
	add_sig(&f, priv_a, OTHER);
	build(&f);
	assert_fails_with(verify(&f, &pub_a, NULL, err), "the payload is for manifest `" OTHER
				 "`, not `sha256:" MHEX "`");
	fixture_free(&f);
}

static void test_verify_garbage_annotation(void **state)
{
	struct fixture f;

	(void) state;
	fixture_init(&f);
	add_sig(&f, priv_a, "sha256:" MHEX);
	free(f.layers[0].signature);
	f.layers[0].signature = xstrdup("!!not base64!!");
	build(&f);
	assert_fails_with(verify(&f, &pub_a, NULL, err), "not base64");
	free(f.layers[0].signature);
	f.layers[0].signature = xstrdup("aGVsbG8gd29ybGQh"); /* base64, not DER */
	build(&f);
	assert_fails_with(verify(&f, &pub_a, NULL, err), "not a DER ECDSA signature");
	fixture_free(&f);
}

static void test_verify_missing(void **state)
{
	struct fixture f;
	const char *s;

	(void) state;
	fixture_init(&f);
	assert_fails_with(trust_verify(&f.image, &f.manifest, NULL, 0, fetch, &f, pub_a.keys,
				       pub_a.n, NULL, err),
			  "no signature: tag `sha256-" MHEX ".sig` not found");
	/* A manifest without a signature layer, or a layer without its annotation. */
	s = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"sha256:"
	    MHEX "\"},\"layers\":[]}";
	assert_fails_with(trust_verify(&f.image, &f.manifest, s, strlen(s), fetch, &f,
				       pub_a.keys, pub_a.n, NULL, err), "has no `" SIG_MEDIA_TYPE);
	s = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"size\":1,\"digest\":\"sha256:"
	    MHEX "\"},\"layers\":[{\"mediaType\":\"" SIG_MEDIA_TYPE "\",\"size\":1,\"digest\":"
	    "\"sha256:" MHEX "\"}]}";
	assert_fails_with(trust_verify(&f.image, &f.manifest, s, strlen(s), fetch, &f,
				       pub_a.keys, pub_a.n, NULL, err), "no `" SIG_ANNOTATION);
	assert_fails_with(trust_verify(&f.image, &f.manifest, "{", 1, fetch, &f, pub_a.keys,
				       pub_a.n, NULL, err), "signature manifest");
	/* A blob the registry does not have. */
	add_sig(&f, priv_a, "sha256:" MHEX);
	build(&f);
	f.lens[0] = 0;
	assert_fails_with(verify(&f, &pub_a, NULL, err), "its descriptor says");
	fixture_free(&f);
}

static void test_verify_several(void **state)
{
	struct key *both[2] = { pub_b.keys[0], pub_a.keys[0] };
	struct key_list keys = { both, 2 };
	struct trust_result res;
	struct fixture f;

	(void) state;
	fixture_init(&f);
	add_sig(&f, priv_a, OTHER);          /* valid, for another image */
	add_sig(&f, priv_a, "sha256:" MHEX); /* the good one */
	build(&f);
	assert_int_equal(verify(&f, &keys, &res, NULL), 0);
	assert_int_equal(res.layer, 1);
	assert_ptr_equal(res.key, pub_a.keys[0]);
	/* With only the wrong key, both reasons and the key are reported. */
	keys.n = 1;
	assert_fails_with(verify(&f, &keys, NULL, err), "signature 2 of 2: signature matches none");
	assert_fails_with(verify(&f, &keys, NULL, err), "key tried: `b.pub`");
	keys.n = 0;
	assert_fails_with(verify(&f, &keys, NULL, err), "no public key configured");
	fixture_free(&f);
}

static void test_check_policies(void **state)
{
	struct trust_decision dec;
	struct berth_config cfg;
	struct fixture f;
	char *text;

	(void) state;
	fixture_init(&f);
	add_sig(&f, priv_a, "sha256:" MHEX);
	build(&f);
	text = xasprintf("[trust \"reg.example:5000/team\"]\npublic-key = %s\n"
			 "[trust \"reg.example:5000/team/app\"]\npolicy = warn\npublic-key = %s\n"
			 "[trust \"reg.example:5000/open\"]\npolicy = off\n",
			 a_pub_path, a_pub_path);
	load_cfg(&cfg, text);
	free(text);

	/* warn section, signed: verified. */
	assert_int_equal(trust_check(&cfg, &f.image, &f.manifest, f.docs.manifest,
				     f.docs.manifest_len, fetch, &f, &dec, NULL), 0);
	assert_true(dec.verified);
	assert_int_equal(dec.policy, TRUST_WARN);
	assert_non_null(strstr(dec.key, key_fingerprint(pub_a.keys[0])));
	/* warn, missing signature: passes, not verified. */
	assert_int_equal(trust_check(&cfg, &f.image, &f.manifest, NULL, 0, fetch, &f, &dec, NULL),
			 0);
	assert_false(dec.verified);
	assert_string_equal(dec.prefix, "reg.example:5000/team/app");

	/* require: verified, then refused without a signature. */
	assert_int_equal(ref_parse("reg.example:5000/team/other:2", NULL, 0, &f.image, NULL), 0);
	assert_int_equal(trust_check(&cfg, &f.image, &f.manifest, f.docs.manifest,
				     f.docs.manifest_len, fetch, &f, &dec, NULL), 0);
	assert_true(dec.verified);
	assert_int_equal(dec.policy, TRUST_REQUIRE);
	assert_fails_with(trust_check(&cfg, &f.image, &f.manifest, NULL, 0, fetch, &f, &dec, err),
			  "refused: image `reg.example:5000/team/other:2@sha256:" MHEX
			  "` has no valid signature: no signature");

	/* off and no section: nothing checked. */
	assert_int_equal(ref_parse("reg.example:5000/open/x", NULL, 0, &f.image, NULL), 0);
	assert_int_equal(trust_check(&cfg, &f.image, &f.manifest, NULL, 0, fetch, &f, &dec, NULL),
			 0);
	assert_int_equal(dec.policy, TRUST_OFF);
	assert_int_equal(ref_parse("busybox", NULL, 0, &f.image, NULL), 0);
	assert_int_equal(trust_check(&cfg, &f.image, &f.manifest, NULL, 0, fetch, &f, &dec, NULL),
			 0);
	assert_string_equal(dec.prefix, "");
	config_free(&cfg);

	/* require with an unreadable key refuses, naming the section. */
	load_cfg(&cfg, "[trust \"*\"]\npublic-key = /nonexistent/k.pub\n");
	assert_fails_with(trust_check(&cfg, &f.image, &f.manifest, f.docs.manifest,
				      f.docs.manifest_len, fetch, &f, &dec, err),
			  "refused: image `docker.io/library/busybox:latest@sha256:" MHEX
			  "`: [trust \"*\"]: public key: open `/nonexistent/k.pub`");
	config_free(&cfg);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_matching),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_policy_names),
		cmocka_unit_test(test_verify_good),
		cmocka_unit_test(test_verify_wrong_key),
		cmocka_unit_test(test_verify_tampered_payload),
		cmocka_unit_test(test_verify_digest_mismatch),
		cmocka_unit_test(test_verify_garbage_annotation),
		cmocka_unit_test(test_verify_missing),
		cmocka_unit_test(test_verify_several),
		cmocka_unit_test(test_check_policies),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
