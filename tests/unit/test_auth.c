/* Unit tests for core/registry/auth.c: WWW-Authenticate parsing, Basic values, token JSON and
 * token URLs. The token flow against a live registry is in tests/system/http.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "registry/auth.h"

static struct auth_challenge ch[AUTH_MAX_CHALLENGES];

static int parse(const char *v, size_t *n)
{
	struct berr *err = NULL;
	int r = auth_parse_challenges(v, ch, AUTH_MAX_CHALLENGES, n, &err);

	if (r < 0) {
		assert_non_null(err);
		assert_non_null(strstr(err->msg, "WWW-Authenticate"));
	}
	berr_free(err);
	return r;
}

static void test_bearer(void **state)
{
	size_t n;

	assert_int_equal(parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry."
			       "docker.io\",scope=\"repository:library/busybox:pull\"", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ch[0].scheme, AUTH_SCHEME_BEARER);
	assert_string_equal(ch[0].realm, "https://auth.docker.io/token");
	assert_string_equal(ch[0].service, "registry.docker.io");
	assert_string_equal(ch[0].scope, "repository:library/busybox:pull");

	/* Case-insensitive names, tokens without quotes, BWS around '=', escapes, RFC 6750 error. */
	assert_int_equal(parse("bearer  REALM = tok ,  Scope=\"a \\\"b\\\\ c\", error=\"invalid_"
			       "token\", unknown=x", &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ch[0].realm, "tok");
	assert_string_equal(ch[0].scope, "a \"b\\ c");
	assert_string_equal(ch[0].error, "invalid_token");
	assert_string_equal(ch[0].service, "");
}

static void test_several(void **state)
{
	size_t n;

	assert_int_equal(parse("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", "
			       "Basic realm=\"simple\", Bearer realm=\"r\",service=\"s\"", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ch[0].scheme, AUTH_SCHEME_OTHER);
	assert_string_equal(ch[0].realm, "apps");
	assert_int_equal(ch[1].scheme, AUTH_SCHEME_BASIC);
	assert_string_equal(ch[1].realm, "simple");
	assert_int_equal(ch[2].scheme, AUTH_SCHEME_BEARER);
	assert_string_equal(ch[2].service, "s");

	/* Bare schemes, token68 with padding, empty list elements. */
	assert_int_equal(parse("Negotiate, , Foo abc+/==, Basic realm=x", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ch[2].scheme, AUTH_SCHEME_BASIC);
	assert_string_equal(ch[2].realm, "x");
	assert_int_equal(parse("", &n), 0);
	assert_int_equal(n, 0);
}

static void test_bad(void **state)
{
	static const char *bad[] = {
		"Bearer realm=\"unterminated",
		"Bearer realm=\"x\\",
		"Bearer realm=\"a\", realm=\"b\"",
		"Bearer realm=\"x\" junk",
		"Bearer realm=\"x\"; y=1",
		"=x",
		"Bearer realm=\"\x01\"",
		"Foo abc==x",
		"Ba\"sic realm=x",
	};
	size_t n;
	char *big;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(parse(bad[i], &n) < 0);
	big = malloc(AUTH_MAX_PARAM + 40);
	strcpy(big, "Bearer realm=\"");
	memset(big + 14, 'a', AUTH_MAX_PARAM + 10);
	strcpy(big + 14 + AUTH_MAX_PARAM + 10, "\"");
	assert_true(parse(big, &n) < 0);
	free(big);
	assert_true(parse("A, B, C, D, E, F, G, H, I", &n) < 0);
}

static void test_basic_value(void **state)
{
	char *v = NULL;
	struct berr *err = NULL;

	assert_int_equal(auth_basic_value("Aladdin", "open sesame", &v, &err), 0);
	assert_string_equal(v, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	free(v);
	assert_int_equal(auth_basic_value("u", "", &v, &err), 0);
	assert_string_equal(v, "Basic dTo=");
	free(v);
	assert_true(auth_basic_value("a:b", "p", &v, &err) < 0);
	assert_non_null(strstr(err->msg, "`:`"));
	berr_free(err);
}

static int token(const char *json, char **tok, int64_t *exp)
{
	struct berr *err = NULL;
	int r = auth_parse_token_response(json, strlen(json), tok, exp, &err);

	if (r < 0)
		assert_non_null(err);
	berr_free(err);
	return r;
}

static void test_token_json(void **state)
{
	char *t = NULL;
	int64_t e;

	assert_int_equal(token("{\"token\":\"abc.def-_\",\"expires_in\":300,\"issued_at\":\"x\"}", &t,
			       &e), 0);
	assert_string_equal(t, "abc.def-_");
	assert_int_equal(e, 300);
	free(t);
	assert_int_equal(token("{\"access_token\":\"zz==\"}", &t, &e), 0);
	assert_string_equal(t, "zz==");
	assert_int_equal(e, AUTH_DEFAULT_EXPIRES_IN);
	free(t);
	/* "token" wins over "access_token"; an empty token falls back to the other. */
	assert_int_equal(token("{\"token\":\"a\",\"access_token\":\"b\"}", &t, &e), 0);
	assert_string_equal(t, "a");
	free(t);
	assert_int_equal(token("{\"token\":\"\",\"access_token\":\"b\"}", &t, &e), 0);
	assert_string_equal(t, "b");
	free(t);

	static const char *bad[] = {
		"", "[]", "{}", "{\"token\":1}", "{\"token\":\"a b\"}", "{\"token\":\"a\\r\\nX: y\"}",
		"{\"token\":\"a\\u0000b\"}", "{\"token\":\"a\",\"expires_in\":-5}",
		"{\"token\":\"a\",\"expires_in\":\"60\"}", "{\"token\":\"a\",\"token\":\"b\"}",
		"{\"token\":\"=a\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(token(bad[i], &t, &e) < 0);
}

static void test_token_url(void **state)
{
	char *u = auth_token_url("https://auth.example/token", "registry.example",
				 "repository:a/b:pull,push repository:c:pull");

	assert_string_equal(u, "https://auth.example/token?service=registry.example&scope="
			       "repository%3Aa%2Fb%3Apull%2Cpush&scope=repository%3Ac%3Apull");
	free(u);
	u = auth_token_url("https://a/t?x=1", "", NULL);
	assert_string_equal(u, "https://a/t?x=1");
	free(u);
	u = auth_token_url("https://a/t?x=1", "s p", "");
	assert_string_equal(u, "https://a/t?x=1&service=s%20p");
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bearer),
		cmocka_unit_test(test_several),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_basic_value),
		cmocka_unit_test(test_token_json),
		cmocka_unit_test(test_token_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
