/* Unit tests for core/registry/http_parse.c (status line, fields, framing, chunked) and the
 * pure URL helpers of core/registry/http.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "registry/http.h"
#include "registry/http_parse.h"

static int parse(const char *s, struct http_head *h)
{
	struct berr *err = NULL;
	int r = http_head_parse(s, strlen(s), h, &err);

	if (r < 0)
		assert_non_null(err);
	berr_free(err);
	return r;
}

static void test_head_ok(void **state)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  spaced value \t\r\n"
			"Www-Authenticate: Bearer realm=\"x\"\r\n\r\nhello";
	struct http_head h;

	assert_int_equal(parse(s, &h), (int) strlen(s) - 5);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.version, 11);
	assert_string_equal(h.reason, "OK");
	assert_int_equal(h.n_headers, 3);
	assert_string_equal(http_head_get(&h, "content-length"), "5");
	assert_string_equal(http_head_get(&h, "x-a"), "spaced value");
	assert_null(http_head_get(&h, "missing"));
	http_head_free(&h);

	/* Bare LF, HTTP/1.0, an empty reason, no reason at all. */
	assert_true(parse("HTTP/1.0 404 \nA: b\n\n", &h) > 0);
	assert_int_equal(h.version, 10);
	assert_int_equal(h.status, 404);
	assert_string_equal(h.reason, "");
	http_head_free(&h);
	assert_true(parse("HTTP/1.1 204\r\n\r\n", &h) > 0);
	assert_int_equal(h.status, 204);
	http_head_free(&h);
}

static void test_head_incomplete_and_bad(void **state)
{
	static const char *bad[] = {
		"HTTP/2 200 OK\r\n\r\n",
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 099 X\r\n\r\n",
		"ICY 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n folded: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\n:x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n",
		"HTTP/1.1 200 O\x01K\r\n\r\n",
	};
	struct http_head h;
	struct berr *err = NULL;
	char *big;

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nA: b\r\n", &h), 0);
	assert_int_equal(parse("", &h), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(parse(bad[i], &h) < 0);
	/* NUL inside the head. */
	assert_true(http_head_parse("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 25, &h, &err) < 0);
	berr_free(err);
	err = NULL;
	/* A head past the bound is an error, not a wait for more. */
	big = malloc(HTTP_MAX_HEAD + 10);
	memset(big, 'a', HTTP_MAX_HEAD + 10);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_true(http_head_parse(big, HTTP_MAX_HEAD + 10, &h, &err) < 0);
	assert_non_null(strstr(err->msg, "larger than"));
	berr_free(err);
	free(big);
}

static void test_too_many_headers(void **state)
{
	char buf[8192] = "HTTP/1.1 200 OK\r\n";
	struct http_head h;

	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		strcat(buf, "A: b\r\n");
	strcat(buf, "\r\n");
	assert_true(parse(buf, &h) < 0);
}

static int framing(const char *s, bool head, struct http_body_info *bi)
{
	struct http_head h;
	struct berr *err = NULL;
	int r;

	assert_true(parse(s, &h) > 0);
	r = http_body_info(&h, head, bi, &err);
	berr_free(err);
	http_head_free(&h);
	return r;
}

static void test_framing(void **state)
{
	struct http_body_info bi;

	assert_int_equal(framing("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", false, &bi), 0);
	assert_int_equal(bi.framing, HTTP_BODY_LENGTH);
	assert_int_equal(bi.length, 42);
	assert_true(bi.keep_alive);
	assert_int_equal(framing("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n\r\n", true, &bi), 0);
	assert_int_equal(bi.framing, HTTP_BODY_NONE);
	assert_int_equal(framing("HTTP/1.1 304 NM\r\nContent-Length: 42\r\n\r\n", false, &bi), 0);
	assert_int_equal(bi.framing, HTTP_BODY_NONE);
	assert_int_equal(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", false,
				 &bi), 0);
	assert_int_equal(bi.framing, HTTP_BODY_CHUNKED);
	assert_int_equal(framing("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n\r\n", false,
				 &bi), 0);
	assert_int_equal(bi.framing, HTTP_BODY_CLOSE);
	assert_false(bi.keep_alive);
	assert_int_equal(framing("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false, &bi), 0);
	assert_false(bi.keep_alive);
	/* Both: chunked wins and the connection is not reused (RFC 9112 section 6.3). */
	assert_int_equal(framing("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: "
				 "chunked\r\n\r\n", false, &bi), 0);
	assert_int_equal(bi.framing, HTTP_BODY_CHUNKED);
	assert_false(bi.keep_alive);
	/* Same length twice is fine; different lengths, signs, overflow and gzip are not. */
	assert_int_equal(framing("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n",
				 false, &bi), 0);
	assert_true(framing("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
			    false, &bi) < 0);
	assert_true(framing("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false, &bi) < 0);
	assert_true(framing("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\n", false, &bi) < 0);
	assert_true(framing("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
			    false, &bi) < 0);
	assert_true(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false,
			    &bi) < 0);
	assert_true(framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, &bi) < 0);
}

/* Decode `in` fed in pieces of `step` bytes; returns the body or NULL on error. */
static char *dechunk(const char *in, size_t len, size_t step, size_t max_data, bool *done)
{
	struct http_chunked c;
	char *out = calloc(1, len + 1);
	size_t n = 0, pos = 0;

	http_chunked_init(&c);
	while (pos < len && !c.done) {
		size_t avail = len - pos < step ? len - pos : step;
		size_t used, dl;
		const char *data;
		struct berr *err = NULL;

		if (http_chunked_feed(&c, in + pos, avail, max_data, &used, &data, &dl, &err) < 0) {
			assert_non_null(err);
			berr_free(err);
			free(out);
			return NULL;
		}
		assert_true(used <= avail);
		assert_true(dl <= max_data);
		if (dl)
			memcpy(out + n, data, dl);
		n += dl;
		pos += used;
		if (used == 0 && dl == 0)
			break;
	}
	*done = c.done;
	return out;
}

static void test_chunked(void **state)
{
	const char *s = "5;ext=\"v\"\r\nhello\r\n0006\r\n world\r\nA\n0123456789\n0\r\n"
			"Trailer: x\r\n\r\n";
	bool done;

	for (size_t step = 1; step < strlen(s) + 2; step++) {
		for (size_t max = 1; max < 12; max += 5) {
			char *out = dechunk(s, strlen(s), step, max, &done);
			assert_non_null(out);
			assert_true(done);
			assert_string_equal(out, "hello world0123456789");
			free(out);
		}
	}
	/* Incomplete input is not done; malformed framing is an error. */
	{
		char *out = dechunk("5\r\nhel", 6, 100, 100, &done);
		assert_false(done);
		free(out);
	}
	assert_null(dechunk("x\r\n", 3, 100, 100, &done));
	assert_null(dechunk("\r\n", 2, 100, 100, &done));
	assert_null(dechunk("3\r\nabcd\r\n", 9, 100, 100, &done));
	assert_null(dechunk("3\rx", 3, 100, 100, &done));
	assert_null(dechunk("11111111111111111\r\n", 19, 100, 100, &done));
	assert_null(dechunk("0\r\nA\rB\r\n\r\n", 11, 100, 100, &done));
	{
		char *line = malloc(HTTP_MAX_CHUNK_LINE + 10);
		memset(line, ' ', HTTP_MAX_CHUNK_LINE + 10);
		line[0] = '1';
		line[1] = ';';
		assert_null(dechunk(line, HTTP_MAX_CHUNK_LINE + 10, 64, 100, &done));
		free(line);
	}
}

static void test_content_range(void **state)
{
	uint64_t a, b, t;

	assert_int_equal(http_parse_content_range("bytes 10-99/100", &a, &b, &t), 0);
	assert_int_equal(a, 10);
	assert_int_equal(b, 99);
	assert_int_equal(t, 100);
	assert_int_equal(http_parse_content_range("bytes 0-0/*", &a, &b, &t), 0);
	assert_true(t == UINT64_MAX);
	assert_true(http_parse_content_range("bytes 10-9/100", &a, &b, &t) < 0);
	assert_true(http_parse_content_range("bytes 10-100/100", &a, &b, &t) < 0);
	assert_true(http_parse_content_range("bytes */100", &a, &b, &t) < 0);
	assert_true(http_parse_content_range("items 1-2/3", &a, &b, &t) < 0);
}

static void test_url(void **state)
{
	struct http_url u;
	struct berr *err = NULL;
	char hp[300], *r;

	assert_int_equal(http_url_parse("https://Reg.Example:5000/v2/?n=1#frag", &u, &err), 0);
	assert_true(u.https);
	assert_string_equal(u.host, "reg.example");
	assert_int_equal(u.port, 5000);
	assert_string_equal(u.path, "/v2/?n=1");
	http_url_hostport(&u, hp, sizeof(hp));
	assert_string_equal(hp, "reg.example:5000");
	assert_int_equal(http_url_parse("http://[::1]:8080", &u, &err), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.path, "/");
	http_url_hostport(&u, hp, sizeof(hp));
	assert_string_equal(hp, "[::1]:8080");
	assert_int_equal(http_url_parse("https://h?x", &u, &err), 0);
	assert_string_equal(u.path, "/?x");
	assert_int_equal(u.port, 443);
	static const char *bad[] = { "ftp://h/", "https://", "https://u:p@h/", "https://h:0/",
				     "https://h:70000/", "https://h:x/", "https://[::1/", "https://h h/",
				     "https://h\r\n/", "https://a/b c" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(http_url_parse(bad[i], &u, &err) < 0);
		berr_free(err);
		err = NULL;
	}
	r = http_url_resolve("https://a:1/v2/x/blobs/y", "/z?q", &err);
	assert_string_equal(r, "https://a:1/z?q");
	free(r);
	r = http_url_resolve("https://a/v2/x", "//cdn.example/p", &err);
	assert_string_equal(r, "https://cdn.example/p");
	free(r);
	r = http_url_resolve("https://a/v2/x?old", "y", &err);
	assert_string_equal(r, "https://a/v2/y");
	free(r);
	r = http_url_resolve("https://a/v2/x", "http://b/", &err);
	assert_string_equal(r, "http://b/");
	free(r);
}

static void test_origin_loopback_no_proxy(void **state)
{
	struct http_url a, b;
	struct berr *err = NULL;

	assert_int_equal(http_url_parse("https://a/x", &a, &err), 0);
	assert_int_equal(http_url_parse("https://A:443/y", &b, &err), 0);
	assert_true(http_url_same_origin(&a, &b));
	assert_int_equal(http_url_parse("http://a/x", &b, &err), 0);
	assert_false(http_url_same_origin(&a, &b));
	assert_int_equal(http_url_parse("https://a:444/x", &b, &err), 0);
	assert_false(http_url_same_origin(&a, &b));

	assert_true(http_host_is_loopback("localhost"));
	assert_true(http_host_is_loopback("127.0.0.1"));
	assert_true(http_host_is_loopback("127.9.9.9"));
	assert_true(http_host_is_loopback("::1"));
	assert_false(http_host_is_loopback("128.0.0.1"));
	assert_false(http_host_is_loopback("localhost.example"));

	assert_true(http_no_proxy_match("*", "x", 1));
	assert_true(http_no_proxy_match("a.com, .b.com", "b.com", 443));
	assert_true(http_no_proxy_match("a.com,.b.com", "x.b.com", 443));
	assert_true(http_no_proxy_match("a.com", "www.a.com", 443));
	assert_false(http_no_proxy_match("a.com", "xa.com", 443));
	assert_true(http_no_proxy_match("reg:5000", "reg", 5000));
	assert_false(http_no_proxy_match("reg:5000", "reg", 443));
	assert_true(http_no_proxy_match("[::1]:8080,10.0.0.1", "::1", 8080));
	assert_true(http_no_proxy_match("10.0.0.1", "10.0.0.1", 1));
	assert_false(http_no_proxy_match("", "10.0.0.1", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_ok),
		cmocka_unit_test(test_head_incomplete_and_bad),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_content_range),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_origin_loopback_no_proxy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
