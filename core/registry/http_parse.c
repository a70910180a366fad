/* The HTTP/1.1 response parser: status line, header fields, body framing, chunked coding.
 * Follows RFC 9112 (message syntax) and RFC 9110 (field semantics); see http_parse.h. */
#include "registry/http_parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field values may hold VCHAR, obs-text, SP and HTAB (RFC 9110 section 5.5). */
static bool is_field_char(unsigned char c)
{
	return c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Find the end of the head: the empty line. Returns its length including the terminator, or 0. */
static size_t find_head_end(const char *d, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (d[i] != '\n')
			continue;
		if (i + 1 < len && d[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && d[i + 1] == '\r' && d[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int parse_status_line(char *line, struct http_head *h, struct berr **err)
{
	size_t n = strlen(line);

	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || (line[7] != '0' && line[7] != '1') ||
	    line[8] != ' ')
		return berr_make(err, 0, "malformed status line (not HTTP/1.0 or HTTP/1.1)");
	h->version = line[7] == '1' ? 11 : 10;
	for (int i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return berr_make(err, 0, "malformed status code in the status line");
	h->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (h->status < 100)
		return berr_make(err, 0, "status code %d out of range", h->status);
	if (line[12] == '\0') {
		h->reason = line + 12;
		return 0;
	}
	if (line[12] != ' ')
		return berr_make(err, 0, "malformed status line after the status code");
	for (char *p = line + 13; *p; p++)
		if (!is_field_char((unsigned char) *p))
			return berr_make(err, 0, "control character in the reason phrase");
	h->reason = line + 13;
	return 0;
}

static int parse_field(char *line, struct http_head *h, struct berr **err)
{
	char *colon = line, *v, *end;

	while (is_tchar((unsigned char) *colon))
		colon++;
	if (colon == line || *colon != ':')
		return berr_make(err, 0, "malformed header field (no name or whitespace before `:`)");
	if (h->n_headers >= HTTP_MAX_HEADERS)
		return berr_make(err, 0, "more than %d header fields", HTTP_MAX_HEADERS);
	*colon = '\0';
	v = colon + 1;
	while (is_ows(*v))
		v++;
	end = v + strlen(v);
	while (end > v && is_ows(end[-1]))
		end--;
	*end = '\0';
	for (char *p = v; *p; p++)
		if (!is_field_char((unsigned char) *p))
			return berr_make(err, 0, "control character in header field `%s`", line);
	h->headers[h->n_headers].name = line;
	h->headers[h->n_headers].value = v;
	h->n_headers++;
	return 0;
}

int http_head_parse(const char *data, size_t len, struct http_head *h, struct berr **err)
{
	size_t scan = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	size_t used = find_head_end(data, scan);
	char *p, *line;
	bool first = true;

	memset(h, 0, sizeof(*h));
	if (used == 0) {
		if (len >= HTTP_MAX_HEAD)
			return berr_make(err, 0, "response head larger than %d bytes", HTTP_MAX_HEAD);
		return 0;
	}
	h->buf = malloc(used + 1);
	if (h->buf == NULL)
		return berr_make(err, ENOMEM, "response head");
	memcpy(h->buf, data, used);
	h->buf[used] = '\0';
	if (memchr(h->buf, '\0', used) != NULL) {
		http_head_free(h);
		return berr_make(err, 0, "NUL byte in the response head");
	}
	p = h->buf;
	for (;;) {
		char *nl = strchr(p, '\n');
		if (nl == NULL)
			break;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		line = p;
		p = nl + 1;
		if (*line == '\0')
			break; /* the empty line ending the head */
		if (strchr(line, '\r') != NULL) {
			http_head_free(h);
			return berr_make(err, 0, "bare CR in the response head");
		}
		if (first) {
			first = false;
			if (parse_status_line(line, h, err) < 0) {
				http_head_free(h);
				return -1;
			}
			continue;
		}
		/* Obsolete line folding and whitespace before a field name are refused
		 * (RFC 9112 sections 2.2 and 5.2). */
		if (parse_field(line, h, err) < 0) {
			http_head_free(h);
			return -1;
		}
	}
	if (first) {
		http_head_free(h);
		return berr_make(err, 0, "empty response head");
	}
	return (int) used;
}

void http_head_free(struct http_head *h)
{
	free(h->buf);
	memset(h, 0, sizeof(*h));
}

const char *http_head_get(const struct http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_headers; i++)
		if (strcasecmp(h->headers[i].name, name) == 0)
			return h->headers[i].value;
	return NULL;
}

/* Iterate comma-separated list elements of one field value (RFC 9110 section 5.6.1). */
static bool list_has_token(const char *v, const char *token, bool last_only)
{
	size_t tl = strlen(token);
	bool found = false;

	while (*v) {
		const char *s, *e;
		while (*v == ',' || is_ows(*v))
			v++;
		if (!*v)
			break;
		s = v;
		while (*v && *v != ',')
			v++;
		e = v;
		while (e > s && is_ows(e[-1]))
			e--;
		if (last_only)
			found = (size_t) (e - s) == tl && strncasecmp(s, token, tl) == 0;
		else if ((size_t) (e - s) == tl && strncasecmp(s, token, tl) == 0)
			return true;
	}
	return found;
}

bool http_head_has_token(const struct http_head *h, const char *name, const char *token)
{
	for (size_t i = 0; i < h->n_headers; i++)
		if (strcasecmp(h->headers[i].name, name) == 0 &&
		    list_has_token(h->headers[i].value, token, false))
			return true;
	return false;
}

int http_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	*out = v;
	return 0;
}

int http_parse_content_range(const char *s, uint64_t *start, uint64_t *end, uint64_t *total)
{
	const char *dash, *slash;

	if (strncasecmp(s, "bytes ", 6) != 0)
		return -1;
	s += 6;
	while (*s == ' ')
		s++;
	dash = strchr(s, '-');
	slash = dash ? strchr(dash, '/') : NULL;
	if (dash == NULL || slash == NULL)
		return -1;
	if (http_parse_u64(s, (size_t) (dash - s), start) < 0 ||
	    http_parse_u64(dash + 1, (size_t) (slash - dash - 1), end) < 0 || *end < *start)
		return -1;
	if (strcmp(slash + 1, "*") == 0)
		*total = UINT64_MAX;
	else if (http_parse_u64(slash + 1, strlen(slash + 1), total) < 0 || *end >= *total)
		return -1;
	return 0;
}

int http_body_info(const struct http_head *h, bool request_was_head, struct http_body_info *bi,
		   struct berr **err)
{
	bool have_te = false, have_cl = false;
	uint64_t cl = 0;

	memset(bi, 0, sizeof(*bi));
	bi->keep_alive = h->version == 11 ? !http_head_has_token(h, "Connection", "close")
					  : http_head_has_token(h, "Connection", "keep-alive");
	for (size_t i = 0; i < h->n_headers; i++) {
		const char *n = h->headers[i].name, *v = h->headers[i].value;
		if (strcasecmp(n, "Transfer-Encoding") == 0) {
			/* Only chunked is ever asked for; it must be the final coding (section 6.3). */
			if (!list_has_token(v, "chunked", true) || strchr(v, ',') != NULL)
				return berr_make(err, 0, "unsupported Transfer-Encoding `%s`", v);
			have_te = true;
		} else if (strcasecmp(n, "Content-Length") == 0) {
			uint64_t x;
			if (http_parse_u64(v, strlen(v), &x) < 0)
				return berr_make(err, 0, "malformed Content-Length `%s`", v);
			if (have_cl && x != cl)
				return berr_make(err, 0, "conflicting Content-Length fields");
			have_cl = true;
			cl = x;
		}
	}
	if (request_was_head || (h->status >= 100 && h->status < 200) || h->status == 204 ||
	    h->status == 304) {
		bi->framing = HTTP_BODY_NONE;
		return 0;
	}
	if (have_te) {
		bi->framing = HTTP_BODY_CHUNKED;
		/* Both present may be a smuggling attempt: use chunked, then close (section 6.3). */
		if (have_cl)
			bi->keep_alive = false;
		return 0;
	}
	if (have_cl) {
		bi->framing = HTTP_BODY_LENGTH;
		bi->length = cl;
		return 0;
	}
	bi->framing = HTTP_BODY_CLOSE;
	bi->keep_alive = false;
	return 0;
}

/* ---- chunked ---- */

enum {
	CH_SIZE,        /* reading chunk-size [; ext] */
	CH_SIZE_LF,     /* saw CR after the size line */
	CH_DATA,
	CH_DATA_CR,     /* expecting CR (or LF) after data */
	CH_DATA_LF,
	CH_TRAILER,     /* at the start of a trailer line */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,  /* saw CR in a trailer line */
	CH_END_LF,      /* saw CR on the final empty line */
	CH_DONE,
};

void http_chunked_init(struct http_chunked *c)
{
	memset(c, 0, sizeof(*c));
	c->state = CH_SIZE;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int size_line_end(struct http_chunked *c, struct berr **err)
{
	if (!c->any_digit)
		return berr_make(err, 0, "malformed chunk size line");
	c->line_len = 0;
	c->any_digit = false;
	c->in_ext = false;
	if (c->remaining == 0) {
		c->state = CH_TRAILER;
		return 0;
	}
	c->state = CH_DATA;
	return 0;
}

int http_chunked_feed(struct http_chunked *c, const char *in, size_t len, size_t max_data,
		      size_t *used, const char **data, size_t *data_len, struct berr **err)
{
	size_t i = 0;

	*data = NULL;
	*data_len = 0;
	while (i < len && c->state != CH_DONE) {
		char ch = in[i];

		switch (c->state) {
		case CH_SIZE:
			if (++c->line_len > HTTP_MAX_CHUNK_LINE)
				return berr_make(err, 0, "chunk size line longer than %d bytes",
						 HTTP_MAX_CHUNK_LINE);
			if (ch == '\r') {
				c->state = CH_SIZE_LF;
			} else if (ch == '\n') {
				if (size_line_end(c, err) < 0)
					return -1;
			} else if (c->in_ext) {
				if (ch != '\t' && (unsigned char) ch < 0x20)
					return berr_make(err, 0, "control character in a chunk extension");
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				if (!c->any_digit)
					return berr_make(err, 0, "malformed chunk size line");
				c->in_ext = true;
			} else {
				int v = hexval(ch);
				if (v < 0)
					return berr_make(err, 0, "malformed chunk size");
				if (c->remaining >> 60)
					return berr_make(err, 0, "chunk size too large");
				c->remaining = c->remaining << 4 | (uint64_t) v;
				c->any_digit = true;
			}
			i++;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return berr_make(err, 0, "bare CR in a chunk size line");
			i++;
			if (size_line_end(c, err) < 0)
				return -1;
			break;
		case CH_DATA: {
			size_t n = len - i;
			if ((uint64_t) n > c->remaining)
				n = (size_t) c->remaining;
			if (n > max_data)
				n = max_data;
			if (n == 0) {
				*used = i;
				return 0;
			}
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			*data = in + i;
			*data_len = n;
			*used = i + n;
			return 0;
		}
		case CH_DATA_CR:
			if (ch == '\r')
				c->state = CH_DATA_LF;
			else if (ch == '\n')
				c->state = CH_SIZE;
			else
				return berr_make(err, 0, "chunk data longer than its size");
			i++;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return berr_make(err, 0, "chunk data longer than its size");
			c->state = CH_SIZE;
			i++;
			break;
		case CH_TRAILER:
		case CH_TRAILER_LINE:
			if (++c->line_len > HTTP_MAX_TRAILERS)
				return berr_make(err, 0, "chunked trailer section longer than %d bytes",
						 HTTP_MAX_TRAILERS);
			if (ch == '\r') {
				c->state = c->state == CH_TRAILER ? CH_END_LF : CH_TRAILER_LF;
			} else if (ch == '\n') {
				c->state = c->state == CH_TRAILER ? CH_DONE : CH_TRAILER;
			} else {
				if (ch != '\t' && (unsigned char) ch < 0x20)
					return berr_make(err, 0, "control character in a trailer field");
				c->state = CH_TRAILER_LINE;
			}
			i++;
			break;
		case CH_TRAILER_LF:
			if (ch != '\n')
				return berr_make(err, 0, "bare CR in a trailer field");
			c->state = CH_TRAILER;
			i++;
			break;
		case CH_END_LF:
			if (ch != '\n')
				return berr_make(err, 0, "bare CR after the last chunk");
			c->state = CH_DONE;
			i++;
			break;
		default:
			return berr_make(err, 0, "chunked decoder in a bad state");
		}
	}
	if (c->state == CH_DONE)
		c->done = true;
	*used = i;
	return 0;
}
