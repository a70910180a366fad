/* Unit tests for core/registry/creds.c: Docker config.json parsing and the berth login file's
 * rewrite (mode 0600, other entries kept). `berth login` against a live registry is in
 * tests/system/login.bats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "registry/creds.h"

/* Parse `json`; on failure the message must contain `want` (NULL: must succeed). */
static void parse(const char *json, const char *want, struct creds *c)
{
	struct berr *err = NULL;
	int r = creds_parse(json, strlen(json), "/x/config.json", c, &err);

	if (want == NULL) {
		if (r < 0)
			fail_msg("%s", err->msg);
		assert_null(err);
		return;
	}
	assert_int_equal(r, -1);
	assert_non_null(err);
	if (strstr(err->msg, want) == NULL || strstr(err->msg, "/x/config.json") == NULL)
		fail_msg("`%s` does not contain `%s`", err->msg, want);
	assert_int_equal(err->status, EXIT_USAGE);
	berr_free(err);
}

static void test_server_key(void **state)
{
	char k[CREDS_SERVER_MAX];

	(void) state;
	assert_true(creds_server_key("https://index.docker.io/v1/", k));
	assert_string_equal(k, "docker.io");
	assert_true(creds_server_key("registry-1.docker.io", k));
	assert_string_equal(k, "docker.io");
	assert_true(creds_server_key("http://Reg.Example:5000/", k));
	assert_string_equal(k, "reg.example:5000");
	assert_true(creds_server_key("[::1]:5000", k));
	assert_string_equal(k, "[::1]:5000");
	assert_false(creds_server_key("https:///x", k));
	assert_false(creds_server_key("", k));
	assert_false(creds_server_key("host name", k));
	assert_false(creds_server_key("a\nb", k));
}

static void test_parse(void **state)
{
	struct creds c;
	const struct creds_entry *e;

	(void) state;
	/* dXNlcjpwYTpzcw== is "user:pa:ss": the password may hold ':'. */
	parse("{\"auths\":{\"https://reg.example:5000/v2/\":{\"auth\":\"dXNlcjpwYTpzcw==\"},"
	      "\"https://index.docker.io/v1/\":{\"auth\":\"aHViOnNlY3JldA==\",\"email\":\"x\"},"
	      "\"helped.example\":{}},\"credsStore\":\"desktop\",\"psFormat\":\"x\"}", NULL, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.n_ignored, 1);
	e = creds_find(&c, "reg.example:5000");
	assert_non_null(e);
	assert_string_equal(e->user, "user");
	assert_string_equal(e->password, "pa:ss");
	e = creds_find(&c, "docker.io");
	assert_non_null(e);
	assert_string_equal(e->user, "hub");
	assert_null(creds_find(&c, "helped.example"));
	assert_null(creds_find(&c, "reg.example"));
	creds_free(&c);
	parse("{}", NULL, &c);
	assert_int_equal(c.n, 0);
	creds_free(&c);
	parse("{\"auths\":null}", NULL, &c);
	creds_free(&c);
}

static void test_bad(void **state)
{
	struct creds c;

	(void) state;
	parse("", "line 1", &c);
	parse("[]", "not a JSON object", &c);
	parse("{\"auths\":[]}", "\"auths\" is not an object", &c);
	parse("{\"auths\":{\"a\":1}}", "auths.\"a\" is not an object", &c);
	parse("{\"auths\":{\"a\":{\"auth\":1}}}", "auths.\"a\".auth is not a string", &c);
	parse("{\"auths\":{\"a\":{\"auth\":\"!!\"}}}", "auths.\"a\".auth is not base64", &c);
	/* "nocolon" */
	parse("{\"auths\":{\"a\":{\"auth\":\"bm9jb2xvbg==\"}}}", "not base64 of `user:password`", &c);
	/* ":pw": an empty user */
	parse("{\"auths\":{\"a\":{\"auth\":\"OnB3\"}}}", "not base64 of `user:password`", &c);
	/* "u\0:p" */
	parse("{\"auths\":{\"a\":{\"auth\":\"dQA6cA==\"}}}", "not base64 of `user:password`", &c);
	parse("{\"auths\":{\"a b\":{\"auth\":\"dTpw\"}}}", "does not name a registry host", &c);
	parse("{\"auths\":{\"a\":{\"auth\":\"dTpw\"},\"a\":{\"auth\":\"dTpw\"}}}", "duplicate", &c);
}

static void test_store_erase(void **state)
{
	char dir[] = "/tmp/berth-creds.XXXXXX", path[PATH_MAX], *data = NULL;
	struct berr *err = NULL;
	struct creds c;
	struct stat st;
	size_t len;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/auth.json", dir);
	assert_int_equal(creds_erase(path, "reg.example", &err), 0);
	assert_int_equal(creds_store(path, "https://reg.example/", "u", "p:w", &err), 0);
	assert_int_equal(creds_store(path, "other.example:5000", "o", "q", &err), 0);
	/* A second login to the same registry replaces the entry. */
	assert_int_equal(creds_store(path, "reg.example", "u2", "p2", &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fs_read_file(path, CREDS_FILE_MAX, &data, &len, &err), 0);
	parse(data, NULL, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(creds_find(&c, "reg.example")->user, "u2");
	assert_string_equal(creds_find(&c, "reg.example")->password, "p2");
	creds_free(&c);
	free(data);
	assert_int_equal(creds_erase(path, "reg.example", &err), 1);
	assert_int_equal(creds_erase(path, "reg.example", &err), 0);
	assert_int_equal(fs_read_file(path, CREDS_FILE_MAX, &data, &len, &err), 0);
	parse(data, NULL, &c);
	assert_int_equal(c.n, 1);
	assert_non_null(creds_find(&c, "other.example:5000"));
	creds_free(&c);
	free(data);
	/* A file that does not parse is left alone. */
	assert_int_equal(fs_write_atomic(path, "{bad", 4, 0600, &err), 0);
	assert_int_equal(creds_store(path, "reg.example", "u", "p", &err), -1);
	assert_non_null(err);
	berr_free(err);
	err = NULL;
	assert_int_equal(fs_read_file(path, CREDS_FILE_MAX, &data, &len, &err), 0);
	assert_string_equal(data, "{bad");
	free(data);
	assert_int_equal(creds_store(path, "reg.example", "a:b", "p", &err), -1);
	berr_free(err);
	err = NULL;
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_key),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_store_erase),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
