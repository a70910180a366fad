/* Unit tests for core/trust/sig.c and keys.c: the payload's exact bytes and its parser's
 * errors, base64/DER decoding, sign/verify, key PEM parsing and refusals, key files and
 * modes, and the signature manifest built and read back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"
#include "image/digest.h"
#include "trust/keys.h"
#include "trust/sig.h"

#define HEX "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
#define DIG "sha256:" HEX

static struct key *priv_a, *priv_b;

static int group_setup(void **state)
{
	(void) state;
	if (key_generate(&priv_a, NULL) < 0 || key_generate(&priv_b, NULL) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void) state;
	key_free(priv_a);
	key_free(priv_b);
	return 0;
}

/* Public half of a private key, as a verifier loads it. */
static struct key_list public_of(const struct key *k, const char *name)
{
	struct key_list l = { 0 };
	char *pem;
	size_t len;

	assert_int_equal(key_public_pem(k, &pem, &len, NULL), 0);
	assert_int_equal(key_parse_public(pem, len, name, &l, NULL), 0);
	free(pem);
	return l;
}

/* The error message of a call expected to fail, which must contain `want`. */
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

static void test_tag(void **state)
{
	char buf[SIG_TAG_SIZE];
	struct digest d;

	(void) state;
	assert_int_equal(digest_parse(DIG, NULL, &d, NULL), 0);
	assert_string_equal(sig_tag(&d, buf), "sha256-" HEX ".sig");
}

static void test_payload_bytes(void **state)
{
	struct digest d;
	char *p;
	size_t len;

	(void) state;
	assert_int_equal(digest_parse(DIG, NULL, &d, NULL), 0);
	assert_int_equal(sig_payload_build("reg.example:5000/app", &d, &p, &len, NULL), 0);
	assert_string_equal(p, "{\"critical\":{\"identity\":{\"docker-reference\":"
			       "\"reg.example:5000/app\"},\"image\":{\"docker-manifest-digest\":\""
			       DIG "\"},\"type\":\"cosign container image signature\"},"
			       "\"optional\":null}");
	assert_int_equal(len, strlen(p));
	free(p);
}

static void test_payload_parse(void **state)
{
	struct sig_payload p;
	struct digest d;
	char *s;
	size_t len;

	(void) state;
	assert_int_equal(digest_parse(DIG, NULL, &d, NULL), 0);
	assert_int_equal(sig_payload_build("docker.io/library/nginx", &d, &s, &len, NULL), 0);
	assert_int_equal(sig_payload_parse(s, len, &p, NULL), 0);
	assert_true(digest_equal(&p.manifest, &d));
	assert_string_equal(p.docker_reference, "docker.io/library/nginx");
	sig_payload_free(&p);
	free(s);

	/* The spec's own example capitalises a key; optional claims are not interpreted. */
	s = "{\"critical\":{\"image\":{\"Docker-manifest-digest\":\"" DIG "\"},"
	    "\"type\":\"cosign container image signature\"},"
	    "\"optional\":{\"creator\":\"atomic\",\"timestamp\":1458239713}}";
	assert_int_equal(sig_payload_parse(s, strlen(s), &p, NULL), 0);
	assert_true(digest_equal(&p.manifest, &d));
	assert_null(p.docker_reference);
	sig_payload_free(&p);
}

static void test_payload_errors(void **state)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "", "not valid JSON" },
		{ "[1]", "not a JSON object" },
		{ "{}", "`critical`: missing" },
		{ "{\"critical\":1}", "`critical`: expected an object" },
		{ "{\"critical\":{}}", "`critical.type`: missing" },
		{ "{\"critical\":{\"type\":7}}", "`critical.type`: expected a string" },
		{ "{\"critical\":{\"type\":\"atomic container signature\"}}",
		  "`critical.type`: `atomic container signature`, expected" },
		{ "{\"critical\":{\"type\":\"cosign container image signature\"}}",
		  "`critical.image`: missing" },
		{ "{\"critical\":{\"type\":\"cosign container image signature\",\"image\":{}}}",
		  "`critical.image.docker-manifest-digest`: missing" },
		{ "{\"critical\":{\"type\":\"cosign container image signature\",\"image\":"
		  "{\"docker-manifest-digest\":\"sha512:00\"}}}",
		  "critical.image.docker-manifest-digest" },
		{ "{\"critical\":{\"type\":\"cosign container image signature\",\"image\":"
		  "{\"docker-manifest-digest\":\"" DIG "\",\"Docker-Manifest-Digest\":\"" DIG "\"}}}",
		  "differ only in letter case" },
		{ "{\"critical\":{\"type\":\"cosign container image signature\",\"image\":"
		  "{\"docker-manifest-digest\":\"" DIG "\"},\"identity\":{\"docker-reference\":1}}}",
		  "`critical.identity.docker-reference`: expected a string" },
		{ "{\"critical\":{},\"critical\":{}}", "duplicate" },
	};
	struct sig_payload p;
	char *big;

	(void) state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_fails_with(sig_payload_parse(cases[i].json, strlen(cases[i].json), &p, err),
				  cases[i].want);
	big = calloc(1, SIG_PAYLOAD_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', SIG_PAYLOAD_MAX + 1);
	assert_fails_with(sig_payload_parse(big, SIG_PAYLOAD_MAX + 1, &p, err), "larger than");
	free(big);
}

static void test_sign_verify(void **state)
{
	struct key_list a = public_of(priv_a, "a.pub"), b = public_of(priv_b, "b.pub");
	char payload[] = "{\"critical\":{}}", *b64;

	(void) state;
	assert_int_equal(sig_sign(priv_a, payload, strlen(payload), &b64, NULL), 0);
	assert_int_equal(sig_verify(a.keys[0], payload, strlen(payload), b64, NULL), 0);
	/* The private key verifies its own signatures too. */
	assert_int_equal(sig_verify(priv_a, payload, strlen(payload), b64, NULL), 0);
	assert_fails_with(sig_verify(b.keys[0], payload, strlen(payload), b64, err),
			  "does not match key `b.pub`");
	payload[3] ^= 1; /* one byte */
	assert_fails_with(sig_verify(a.keys[0], payload, strlen(payload), b64, err),
			  "does not match");
	free(b64);
	assert_fails_with(sig_sign(a.keys[0], payload, 1, &b64, err), "is a public key");
	assert_null(b64);
	key_list_free(&a);
	key_list_free(&b);
}

static void test_decode_errors(void **state)
{
	unsigned char der[SIG_DER_MAX];
	char long_b64[SIG_B64_MAX + 2];
	size_t len;

	(void) state;
	assert_fails_with(sig_decode("", der, &len, err), "empty");
	assert_fails_with(sig_decode("MEUC IQ==", der, &len, err), "bad character at offset 4");
	assert_fails_with(sig_decode("not-base64!", der, &len, err), "not base64");
	assert_fails_with(sig_decode("QUJD=A==", der, &len, err), "not base64");
	assert_fails_with(sig_decode("QUJDRA", der, &len, err), "multiple of 4");
	/* "hello world!" decodes fine, but is no DER signature. */
	assert_fails_with(sig_decode("aGVsbG8gd29ybGQh", der, &len, err), "expected a SEQUENCE");
	memset(long_b64, 'A', sizeof(long_b64) - 1);
	long_b64[sizeof(long_b64) - 1] = '\0';
	assert_fails_with(sig_decode(long_b64, der, &len, err), "longer than");
	long_b64[120] = '\0';
	assert_fails_with(sig_decode(long_b64, der, &len, err), "more than");
	/* SEQUENCE { INTEGER 1, INTEGER 1 } is well-formed. */
	assert_int_equal(sig_decode("MAYCAQECAQE=", der, &len, NULL), 0);
	assert_int_equal(len, 8);
	/* Trailing byte, negative integer, non-minimal integer, wrong outer length. */
	assert_fails_with(sig_decode("MAcCAQECAQEA", der, &len, err), "after the two INTEGERs");
	assert_fails_with(sig_decode("MAYCAYECAQE=", der, &len, err), "negative");
	assert_fails_with(sig_decode("MAcCAgABAgEB", der, &len, err), "minimally");
	assert_fails_with(sig_decode("MAUCAQECAQE=", der, &len, err), "length does not match");
}

static void test_key_pem(void **state)
{
	struct key_list l = { 0 };
	struct key *k;
	char *pub, *priv, *two;
	size_t pub_len, priv_len;

	(void) state;
	assert_int_equal(key_public_pem(priv_a, &pub, &pub_len, NULL), 0);
	assert_int_equal(key_private_pem(priv_a, &priv, &priv_len, NULL), 0);
	assert_non_null(strstr(pub, "-----BEGIN PUBLIC KEY-----"));
	assert_non_null(strstr(priv, "-----BEGIN EC PRIVATE KEY-----"));

	/* A private key read back has the same fingerprint. */
	assert_int_equal(key_parse_private(priv, priv_len, "a.key", &k, NULL), 0);
	assert_string_equal(key_fingerprint(k), key_fingerprint(priv_a));
	assert_true(key_is_private(k));
	key_free(k);

	/* Two keys in one file, named apart. */
	two = xasprintf("comment\n%s%s", pub, pub);
	assert_int_equal(key_parse_public(two, strlen(two), "two.pub", &l, NULL), 0);
	assert_int_equal(l.n, 2);
	assert_string_equal(key_name(l.keys[1]), "two.pub (key 2 of 2)");
	assert_false(key_is_private(l.keys[0]));
	key_list_free(&l);
	free(two);

	assert_fails_with(key_parse_public(priv, priv_len, "a.key", &l, err), "is a private key");
	assert_fails_with(key_parse_private(pub, pub_len, "a.pub", &k, err), "is a public key");
	assert_fails_with(key_parse_public("hello", 5, "x.pub", &l, err), "no PEM `PUBLIC KEY`");
	assert_fails_with(key_parse_private("hello", 5, "x.key", &k, err), "no PEM private key");
	two = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	assert_fails_with(key_parse_public(two, strlen(two), "c.pem", &l, err), "is a certificate");
	two = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	assert_fails_with(key_parse_public(two, strlen(two), "bad.pub", &l, err),
			  "not a valid public key");
	two = "-----BEGIN PUBLIC KEY-----\nAAAA\n";
	assert_fails_with(key_parse_public(two, strlen(two), "bad.pub", &l, err), "no END line");
	two = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
	assert_fails_with(key_parse_private(two, strlen(two), "e.key", &k, err),
			  "encrypted PKCS#8");
	two = "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\nAAAA\n"
	      "-----END ENCRYPTED COSIGN PRIVATE KEY-----\n";
	assert_fails_with(key_parse_private(two, strlen(two), "cosign.key", &k, err),
			  "cosign password-encrypted key");
	two = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n"
	      "-----END EC PRIVATE KEY-----\n";
	assert_fails_with(key_parse_private(two, strlen(two), "p.key", &k, err), "Proc-Type");
	assert_int_equal(key_parse_public(pub, pub_len, "a.pub", &l, NULL), 0);
	assert_fails_with(key_private_pem(l.keys[0], &two, &pub_len, err), "no private part");
	key_list_free(&l);
	free(pub);
	key_pem_free(priv, priv_len);
}

static void test_key_files(void **state)
{
	char dir[] = "/tmp/berth-test-sig.XXXXXX";
	_cleanup_free_ char *prefix = NULL, *kpath = NULL, *ppath = NULL;
	struct key_list l = { 0 };
	struct key *k;
	struct stat st;

	(void) state;
	assert_non_null(mkdtemp(dir));
	prefix = xasprintf("%s/cosign", dir);
	kpath = xasprintf("%s.key", prefix);
	ppath = xasprintf("%s.pub", prefix);
	assert_int_equal(key_write_pair(priv_a, prefix, false, NULL), 0);
	assert_int_equal(stat(kpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(ppath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_fails_with(key_write_pair(priv_b, prefix, false, err), "use --force");
	assert_int_equal(key_write_pair(priv_b, prefix, true, NULL), 0);
	assert_int_equal(key_load_private_file(kpath, &k, NULL), 0);
	assert_int_equal(key_load_public_file(ppath, &l, NULL), 0);
	assert_string_equal(key_fingerprint(k), key_fingerprint(priv_b));
	assert_string_equal(key_fingerprint(l.keys[0]), key_fingerprint(priv_b));
	assert_string_equal(key_name(l.keys[0]), ppath);
	key_free(k);
	key_list_free(&l);
	assert_fails_with(key_load_public_file("/nonexistent/k.pub", &l, err), "k.pub");
	unlink(kpath);
	unlink(ppath);
	rmdir(dir);
}

static void test_manifest_round_trip(void **state)
{
	struct sig_layer layers[2] = { 0 };
	struct sig_documents docs;
	struct sig_manifest m;
	struct digest cd;

	(void) state;
	assert_int_equal(digest_parse(DIG, NULL, &layers[0].payload, NULL), 0);
	assert_int_equal(digest_buffer("x", 1, &layers[1].payload, NULL), 0);
	layers[0].payload_size = 236;
	layers[1].payload_size = 1;
	layers[0].signature = "MAYCAQECAQE=";
	layers[1].signature = "MEUCIQ==";
	assert_int_equal(sig_manifest_build(layers, 2, &docs, NULL), 0);
	assert_int_equal(digest_buffer(docs.config, docs.config_len, &cd, NULL), 0);
	assert_true(digest_equal(&cd, &docs.config_digest));
	assert_non_null(strstr(docs.config, "\"diff_ids\":[\"" DIG "\",\"sha256:"));
	assert_non_null(strstr(docs.config, "\"history\":[{\"created\":\"0001-01-01T00:00:00Z\"},"
					    "{\"created\":\"0001-01-01T00:00:00Z\"}]"));
	assert_int_equal(sig_manifest_parse(docs.manifest, docs.manifest_len, &m, NULL), 0);
	assert_int_equal(m.n_layers, 2);
	assert_int_equal(m.n_ignored, 0);
	assert_true(digest_equal(&m.layers[0].payload, &layers[0].payload));
	assert_int_equal(m.layers[0].payload_size, 236);
	assert_string_equal(m.layers[1].signature, "MEUCIQ==");
	sig_manifest_free(&m);
	sig_documents_free(&docs);

	layers[0].signature = NULL;
	assert_fails_with(sig_manifest_build(layers, 1, &docs, err), "incomplete");
	assert_fails_with(sig_manifest_build(layers, 0, &docs, err), "0 signatures");
}

#define CFG "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\"," \
	    "\"size\":2,\"digest\":\"" DIG "\"}"
#define LAYER(mt, size, ann) "{\"mediaType\":\"" mt "\",\"size\":" size ",\"digest\":\"" DIG \
	    "\"" ann "}"

static void test_manifest_parse_errors(void **state)
{
	struct sig_manifest m;
	const char *s;
	char *big;

	(void) state;
	/* Other layers (attestations) are skipped; a missing annotation is kept as NULL. */
	s = "{\"schemaVersion\":2," CFG ",\"layers\":["
	    LAYER("application/vnd.dsse.envelope.v1+json", "10", "") ","
	    LAYER(SIG_MEDIA_TYPE, "10", "") "]}";
	assert_int_equal(sig_manifest_parse(s, strlen(s), &m, NULL), 0);
	assert_int_equal(m.n_layers, 1);
	assert_int_equal(m.n_ignored, 1);
	assert_null(m.layers[0].signature);
	sig_manifest_free(&m);

	s = "{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(SIG_MEDIA_TYPE, "99999999", "") "]}";
	assert_fails_with(sig_manifest_parse(s, strlen(s), &m, err), "`layers[0].size`");
	s = "{\"schemaVersion\":2,\"manifests\":[]}";
	assert_fails_with(sig_manifest_parse(s, strlen(s), &m, err), "is an index");
	s = "{\"schemaVersion\":2," CFG ",\"layers\":[{\"mediaType\":\"" SIG_MEDIA_TYPE
	    "\",\"size\":1}]}";
	assert_fails_with(sig_manifest_parse(s, strlen(s), &m, err), "layers[0].digest");
	assert_fails_with(sig_manifest_parse("nope", 4, &m, err), "signature manifest");

	big = xasprintf("{\"schemaVersion\":2," CFG ",\"layers\":[" LAYER(SIG_MEDIA_TYPE, "1",
			",\"annotations\":{\"" SIG_ANNOTATION "\":\"%0600d\"}") "]}", 0);
	assert_fails_with(sig_manifest_parse(big, strlen(big), &m, err), "longer than 512");
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag),
		cmocka_unit_test(test_payload_bytes),
		cmocka_unit_test(test_payload_parse),
		cmocka_unit_test(test_payload_errors),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_key_pem),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_manifest_round_trip),
		cmocka_unit_test(test_manifest_parse_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
