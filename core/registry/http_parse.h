/* The HTTP/1.1 response parser (RFC 9112): status line, header fields, body framing and the
 * chunked transfer coding. Pure functions over bytes, no I/O, so the fuzzer can drive them. */
#ifndef BERTH_HTTP_PARSE_H
#define BERTH_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berr;

/* Bounds on what a server may send us; a response past them is an error, never a big buffer. */
#define HTTP_MAX_HEAD 65536       /* status line plus header section, bytes */
#define HTTP_MAX_HEADERS 100      /* header fields */
#define HTTP_MAX_CHUNK_LINE 4096  /* chunk-size line with extensions */
#define HTTP_MAX_TRAILERS 8192    /* trailer section after the last chunk */

struct http_header {
	const char *name;   /* points into http_head.buf, NUL-terminated */
	const char *value;  /* leading and trailing whitespace removed */
};

struct http_head {
	int version;        /* 10 or 11 */
	int status;         /* 100..999 */
	const char *reason; /* points into buf */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t n_headers;
	char *buf;          /* owned copy of the head the pointers above refer to */
};

/* Parse a response head from the first `len` bytes received. Returns the number of bytes the
 * head used (> 0) when complete, 0 if more bytes are needed, < 0 on a malformed or oversized
 * head. Bare LF line ends are accepted (RFC 9112 section 2.2); obsolete line folding is not. */
int http_head_parse(const char *data, size_t len, struct http_head *h, struct berr **err);
void http_head_free(struct http_head *h);

/* The first field named `name` (case-insensitive), or NULL. */
const char *http_head_get(const struct http_head *h, const char *name);
/* Whether a comma-separated field (Connection, Transfer-Encoding) lists `token`, in any of its
 * occurrences, case-insensitively. */
bool http_head_has_token(const struct http_head *h, const char *name, const char *token);

enum http_framing {
	HTTP_BODY_NONE,      /* HEAD, 1xx, 204, 304 */
	HTTP_BODY_LENGTH,    /* Content-Length */
	HTTP_BODY_CHUNKED,   /* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE,     /* read until the server closes */
};

struct http_body_info {
	enum http_framing framing;
	uint64_t length;     /* for HTTP_BODY_LENGTH */
	bool keep_alive;     /* the connection may carry another request afterwards */
};

/* Decide how the body is delimited (RFC 9112 section 6.3). Conflicting or malformed
 * Content-Length, and a transfer coding other than chunked, are errors. */
int http_body_info(const struct http_head *h, bool request_was_head, struct http_body_info *bi,
		   struct berr **err);

/* Parse a Content-Length-like decimal: digits only, no overflow. Returns -1 if invalid. */
int http_parse_u64(const char *s, size_t len, uint64_t *out);

/* Parse "bytes START-END/TOTAL" (Content-Range of a 206, RFC 9110 section 14.4); TOTAL may be
 * "*" (then *total is UINT64_MAX). Returns -1 if invalid. */
int http_parse_content_range(const char *s, uint64_t *start, uint64_t *end, uint64_t *total);

/* Incremental decoder of the chunked transfer coding (RFC 9112 section 7.1). */
struct http_chunked {
	int state;
	uint64_t remaining;  /* data bytes left in the current chunk */
	size_t line_len;     /* bytes of the current size line or trailer section */
	bool any_digit;
	bool in_ext;
	bool done;           /* the last chunk and trailer section were read */
};

void http_chunked_init(struct http_chunked *c);
/* Consume bytes from `in`. On return `*used` bytes were consumed; if `*data_len` > 0 the body
 * data is `*data` (inside the consumed bytes, always at their end, at most `max_data` bytes).
 * Call again with the rest until all input is used or c->done. Returns < 0 on malformed
 * framing. */
int http_chunked_feed(struct http_chunked *c, const char *in, size_t len, size_t max_data,
		      size_t *used, const char **data, size_t *data_len, struct berr **err);

#endif
