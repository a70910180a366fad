/* Unit tests for core/image/ref.c: a table of valid references with their normalised and
 * familiar forms, a table of invalid ones with the error they must give, and the flags. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "image/ref.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good {
	const char *in;
	const char *registry; /* default registry; NULL: docker.io */
	const char *full;
	const char *familiar;
	const char *domain;
	const char *path;
};

static const struct good goods[] = {
	/* Docker Hub normalisation. */
	{ "nginx", NULL, "docker.io/library/nginx:latest", "nginx:latest", "docker.io",
	  "library/nginx" },
	{ "nginx:1.25", NULL, "docker.io/library/nginx:1.25", "nginx:1.25", "docker.io",
	  "library/nginx" },
	{ "library/nginx", NULL, "docker.io/library/nginx:latest", "nginx:latest", "docker.io",
	  "library/nginx" },
	{ "docker.io/nginx", NULL, "docker.io/library/nginx:latest", "nginx:latest", "docker.io",
	  "library/nginx" },
	{ "docker.io/library/nginx", NULL, "docker.io/library/nginx:latest", "nginx:latest",
	  "docker.io", "library/nginx" },
	{ "index.docker.io/nginx", NULL, "docker.io/library/nginx:latest", "nginx:latest",
	  "docker.io", "library/nginx" },
	{ "index.docker.io/user/app:v1", NULL, "docker.io/user/app:v1", "user/app:v1",
	  "docker.io", "user/app" },
	/* The seed's examples. */
	{ "hbliti/nginx:version1.0.test", NULL, "docker.io/hbliti/nginx:version1.0.test",
	  "hbliti/nginx:version1.0.test", "docker.io", "hbliti/nginx" },
	{ "192.168.1.103:5000/nginx:version1.1.test", NULL,
	  "192.168.1.103:5000/nginx:version1.1.test", "192.168.1.103:5000/nginx:version1.1.test",
	  "192.168.1.103:5000", "nginx" },
	/* Registry hosts. */
	{ "localhost/x", NULL, "localhost/x:latest", "localhost/x:latest", "localhost", "x" },
	{ "localhost:5000/x", NULL, "localhost:5000/x:latest", "localhost:5000/x:latest",
	  "localhost:5000", "x" },
	{ "[::1]:5000/x", NULL, "[::1]:5000/x:latest", "[::1]:5000/x:latest", "[::1]:5000", "x" },
	{ "[2001:db8::1]/team/app:2", NULL, "[2001:db8::1]/team/app:2", "[2001:db8::1]/team/app:2",
	  "[2001:db8::1]", "team/app" },
	{ "reg.example/a/b/c:1", NULL, "reg.example/a/b/c:1", "reg.example/a/b/c:1", "reg.example",
	  "a/b/c" },
	{ "Reg.Example:443/app", NULL, "Reg.Example:443/app:latest", "Reg.Example:443/app:latest",
	  "Reg.Example:443", "app" },
	{ "ghcr.io/owner/img@sha256:" D64, NULL, "ghcr.io/owner/img@sha256:" D64,
	  "ghcr.io/owner/img@sha256:" D64, "ghcr.io", "owner/img" },
	/* An uppercase first component is a host, as in Docker. */
	{ "Upper/app", NULL, "Upper/app:latest", "Upper/app:latest", "Upper", "app" },
	/* Digests, and tag with digest. */
	{ "nginx@sha256:" D64, NULL, "docker.io/library/nginx@sha256:" D64,
	  "nginx@sha256:" D64, "docker.io", "library/nginx" },
	{ "nginx:1.25@sha256:" D64, NULL, "docker.io/library/nginx:1.25@sha256:" D64,
	  "nginx:1.25@sha256:" D64, "docker.io", "library/nginx" },
	/* Separators and tags. */
	{ "docker.io/a.b_c__d-e---f/g:_T.a-g", NULL, "docker.io/a.b_c__d-e---f/g:_T.a-g",
	  "docker.io/a.b_c__d-e---f/g:_T.a-g", "docker.io", "a.b_c__d-e---f/g" },
	{ "foo.bar/baz", NULL, "foo.bar/baz:latest", "foo.bar/baz:latest", "foo.bar", "baz" },
	{ "docker.io/foo.bar/baz", NULL, "docker.io/foo.bar/baz:latest",
	  "docker.io/foo.bar/baz:latest", "docker.io", "foo.bar/baz" },
	{ "a_b__c-d---e/g", NULL, "docker.io/a_b__c-d---e/g:latest", "a_b__c-d---e/g:latest",
	  "docker.io", "a_b__c-d---e/g" },
	/* A name that is 64 hex digits keeps enough to not read as an image id. */
	{ "library/" D64, NULL, "docker.io/library/" D64 ":latest", "library/" D64 ":latest",
	  "docker.io", "library/" D64 },
	{ D64 ":1", "reg.example", "reg.example/" D64 ":1", "reg.example/" D64 ":1",
	  "reg.example", D64 },
	{ "0/1", NULL, "docker.io/0/1:latest", "0/1:latest", "docker.io", "0/1" },
	/* A custom default registry: no library/, and it is dropped in the familiar form. */
	{ "nginx", "reg.example:5000", "reg.example:5000/nginx:latest", "nginx:latest",
	  "reg.example:5000", "nginx" },
	{ "team/app:1", "reg.example:5000", "reg.example:5000/team/app:1", "team/app:1",
	  "reg.example:5000", "team/app" },
	{ "docker.io/nginx", "reg.example:5000", "docker.io/library/nginx:latest",
	  "docker.io/library/nginx:latest", "docker.io", "library/nginx" },
	{ "x", "localhost", "localhost/x:latest", "x:latest", "localhost", "x" },
	{ "Upper/x", "Upper", "Upper/x:latest", "x:latest", "Upper", "x" },
	{ "reg.example:5000/x", "reg.example:5000", "reg.example:5000/x:latest", "x:latest",
	  "reg.example:5000", "x" },
	{ "nginx", "index.docker.io", "docker.io/library/nginx:latest", "nginx:latest",
	  "docker.io", "library/nginx" },
};

struct bad {
	const char *in;
	const char *registry;
	const char *msg; /* substring of the error */
};

static const struct bad bads[] = {
	{ "", NULL, "empty reference" },
	{ "Hbliti/NGINX", NULL, "repository name must be lowercase" },
	{ "hbliti/NGINX", NULL, "repository name must be lowercase" },
	{ "NGINX", NULL, "repository name must be lowercase" },
	{ "reg.example/App", NULL, "repository name must be lowercase" },
	{ D64, NULL, "64-character hex id" },
	{ "nginx:", NULL, "tag ``" },
	{ "nginx:-x", NULL, "tag `-x`" },
	{ "nginx:.x", NULL, "tag `.x`" },
	{ "nginx:a+b", NULL, "tag `a+b`" },
	{ ":tag", NULL, "at least one component" },
	{ "nginx@sha256:abc", NULL, "invalid checksum digest length" },
	{ "nginx@sha256:" D64 "00", NULL, "invalid checksum digest length" },
	{ "nginx@sha512:" D64, NULL, "unsupported digest algorithm" },
	{ "nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", NULL,
	  "lowercase hex" },
	{ "nginx@" D64, NULL, "invalid checksum digest format" },
	{ "nginx@", NULL, "invalid checksum digest format" },
	{ "/nginx", NULL, "empty path component" },
	{ "nginx/", NULL, "empty path component" },
	{ "a//b", NULL, "empty path component" },
	{ "reg.example/", NULL, "empty path component" },
	{ "-a/b", NULL, "start and end" },
	{ "a-/b", NULL, "start and end" },
	{ "a/b.", NULL, "start and end" },
	{ "a/.b", NULL, "start and end" },
	{ "a/b..c", NULL, "two separators" },
	{ "a/b___c", NULL, "two separators" },
	{ "a/b._c", NULL, "two separators" },
	{ "a/b c", NULL, "may only contain" },
	{ "a/b\x01" "c", NULL, "may only contain" },
	{ "reg..example/x", NULL, "registry `reg..example`" },
	{ "-reg.example/x", NULL, "registry `-reg.example`" },
	{ "reg.example:/x", NULL, "registry `reg.example:`" },
	{ "reg.example:0/x", NULL, "registry `reg.example:0`" },
	{ "reg.example:65536/x", NULL, "registry `reg.example:65536`" },
	{ "reg.example:12a/x", NULL, "registry" },
	{ "[::1/x", NULL, "registry" },
	{ "[]:5000/x", NULL, "registry" },
	{ "[:::1]:5000/x", NULL, "registry" },
	{ "[fe80::1%eth0]/x", NULL, "registry" },
	{ "[::1]:5000", NULL, "path component" },
	{ "nginx", "not a host!", "default registry" },
	{ "nginx", "reg.example:99999", "default registry" },
	{ "nginx", "myreg", "must contain `.` or `:`" },
};

static void test_valid_table(void **state)
{
	char buf[REF_STR_SIZE];

	(void) state;
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		struct berr *err = NULL;
		struct ref r;
		int ret = ref_parse(g->in, g->registry, 0, &r, &err);

		if (ret != 0)
			fail_msg("`%s`: %s", g->in, err ? err->msg : "?");
		assert_string_equal(r.domain, g->domain);
		assert_string_equal(r.path, g->path);
		assert_int_equal(ref_format(&r, REF_FULL, buf, sizeof(buf)), 0);
		if (strcmp(buf, g->full) != 0)
			fail_msg("`%s`: full `%s`, want `%s`", g->in, buf, g->full);
		assert_int_equal(ref_format(&r, REF_FAMILIAR, buf, sizeof(buf)), 0);
		if (strcmp(buf, g->familiar) != 0)
			fail_msg("`%s`: familiar `%s`, want `%s`", g->in, buf, g->familiar);

		/* Both forms parse back to the same reference. */
		for (int form = REF_FULL; form <= REF_FAMILIAR; form += 2) {
			struct ref again;
			char buf2[REF_STR_SIZE];
			assert_int_equal(ref_format(&r, (enum ref_form) form, buf, sizeof(buf)), 0);
			if (ref_parse(buf, g->registry, 0, &again, &err) != 0)
				fail_msg("`%s` does not parse back: %s", buf, err->msg);
			assert_int_equal(ref_format(&again, REF_FULL, buf2, sizeof(buf2)), 0);
			assert_string_equal(buf2, g->full);
		}
	}
}

static void test_invalid_table(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		struct berr *err = NULL;
		struct ref r;

		if (ref_parse(b->in, b->registry, 0, &r, &err) != -1)
			fail_msg("`%s` was accepted", b->in);
		assert_non_null(err);
		if (strstr(err->msg, b->msg) == NULL)
			fail_msg("`%s`: error `%s` does not say `%s`", b->in, err->msg, b->msg);
		assert_int_equal(err->status, EXIT_USAGE);
		berr_free(err);
	}
}

static void test_lowercase_message(void **state)
{
	struct berr *err = NULL;
	struct ref r;

	(void) state;
	assert_int_equal(ref_parse("hbliti/Nginx", NULL, 0, &r, &err), -1);
	assert_string_equal(err->msg, "invalid reference format: repository name must be lowercase");
	berr_free(err);
}

static void test_length_limits(void **state)
{
	char in[600], buf[REF_STR_SIZE];
	struct berr *err = NULL;
	struct ref r;

	(void) state;
	/* docker.io/ (10) + user/ (5) + 240 = 255: the longest name. */
	memset(in, 0, sizeof(in));
	memcpy(in, "user/", 5);
	memset(in + 5, 'a', 240);
	assert_int_equal(ref_parse(in, NULL, 0, &r, &err), 0);
	assert_int_equal(ref_format(&r, REF_FULL_NAME, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 255);
	/* One more is too long. */
	in[245] = 'a';
	assert_int_equal(ref_parse(in, NULL, 0, &r, &err), -1);
	assert_non_null(strstr(err->msg, "must not be more than 255 characters"));
	berr_free(err);
	err = NULL;
	/* library/ counts: docker.io/library/ + 238 = 256. */
	memset(in, 0, sizeof(in));
	memset(in, 'a', 238);
	assert_int_equal(ref_parse(in, NULL, 0, &r, &err), -1);
	assert_non_null(strstr(err->msg, "255 characters"));
	berr_free(err);
	err = NULL;
	/* Far too long input is refused before any parsing. */
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(ref_parse(in, NULL, 0, &r, &err), -1);
	assert_non_null(strstr(err->msg, "longer than"));
	berr_free(err);
	err = NULL;
	/* Tag: 128 is fine, 129 is not. */
	memset(in, 0, sizeof(in));
	memcpy(in, "x:", 2);
	memset(in + 2, 't', 128);
	assert_int_equal(ref_parse(in, NULL, 0, &r, &err), 0);
	assert_int_equal(strlen(r.tag), 128);
	in[130] = 't';
	assert_int_equal(ref_parse(in, NULL, 0, &r, &err), -1);
	assert_non_null(strstr(err->msg, "tag"));
	berr_free(err);
}

static void test_flags(void **state)
{
	struct berr *err = NULL;
	char buf[REF_STR_SIZE];
	struct ref r;

	(void) state;
	assert_int_equal(ref_parse("nginx", NULL, REF_NO_DEFAULT_TAG, &r, &err), 0);
	assert_string_equal(r.tag, "");
	assert_int_equal(ref_format(&r, REF_FULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "docker.io/library/nginx");
	assert_int_equal(ref_parse("hbliti/nginx:1", NULL, REF_NO_DEFAULT_TAG, &r, &err), 0);
	assert_string_equal(r.tag, "1");

	assert_int_equal(ref_parse("reg.example:5000/app", NULL, REF_NAME_ONLY, &r, &err), 0);
	assert_string_equal(r.tag, "");
	assert_int_equal(ref_parse("app:1", NULL, REF_NAME_ONLY, &r, &err), -1);
	assert_non_null(strstr(err->msg, "tag is not allowed"));
	berr_free(err);
	err = NULL;
	assert_int_equal(ref_parse("app@sha256:" D64, NULL, REF_NAME_ONLY, &r, &err), -1);
	assert_non_null(strstr(err->msg, "digest is not allowed"));
	berr_free(err);
	err = NULL;

	/* A digest alone gets no default tag. */
	assert_int_equal(ref_parse("app@sha256:" D64, NULL, 0, &r, &err), 0);
	assert_string_equal(r.tag, "");
	assert_string_equal(r.digest.hex, D64);
}

static void test_forms(void **state)
{
	struct berr *err = NULL;
	char buf[REF_STR_SIZE];
	struct ref r;

	(void) state;
	assert_int_equal(ref_parse("nginx:1@sha256:" D64, NULL, 0, &r, &err), 0);
	assert_int_equal(ref_format(&r, REF_FULL_NAME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "docker.io/library/nginx");
	assert_int_equal(ref_format(&r, REF_FAMILIAR_NAME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "nginx");
	assert_int_equal(ref_parse("hbliti/nginx", NULL, 0, &r, &err), 0);
	assert_int_equal(ref_format(&r, REF_FAMILIAR_NAME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "hbliti/nginx");
	/* library/ with more components stays. */
	assert_int_equal(ref_parse("library/a/b", NULL, 0, &r, &err), 0);
	assert_int_equal(ref_format(&r, REF_FAMILIAR_NAME, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "library/a/b");
	/* A small buffer is refused, never overrun. */
	errno = 0;
	assert_int_equal(ref_format(&r, REF_FULL, buf, 8), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_string_equal(buf, "");
}

static void test_domain_valid(void **state)
{
	(void) state;
	assert_true(ref_domain_valid("docker.io"));
	assert_true(ref_domain_valid("localhost"));
	assert_true(ref_domain_valid("localhost:5000"));
	assert_true(ref_domain_valid("10.0.0.1:443"));
	assert_true(ref_domain_valid("[::1]"));
	assert_true(ref_domain_valid("[fe80::1:2]:65535"));
	assert_true(ref_domain_valid("a-b.c"));
	assert_false(ref_domain_valid(""));
	assert_false(ref_domain_valid("a_b.c"));
	assert_false(ref_domain_valid("a.-b"));
	assert_false(ref_domain_valid("a."));
	assert_false(ref_domain_valid(".a"));
	assert_false(ref_domain_valid("a:b"));
	assert_false(ref_domain_valid("a:5000:1"));
	assert_false(ref_domain_valid("[::1]x"));
	assert_false(ref_domain_valid("[1.2.3.4]"));
	assert_false(ref_domain_valid("host/x"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_invalid_table),
		cmocka_unit_test(test_lowercase_message),
		cmocka_unit_test(test_length_limits),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_domain_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
