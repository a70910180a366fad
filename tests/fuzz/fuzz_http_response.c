/* libFuzzer target for the HTTP response parser (core/registry/http_parse.c): a head, its
 * framing, then a chunked body fed in pieces whose sizes come from the input's first byte.
 * Besides not crashing: consumed counts stay within the input and data stays within bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "registry/http_parse.h"

static void chunked(const char *in, size_t len, size_t step, size_t max_data)
{
	struct http_chunked c;
	size_t pos = 0;

	http_chunked_init(&c);
	while (pos < len && !c.done) {
		size_t avail = len - pos < step ? len - pos : step;
		size_t used = 0, dl = 0;
		const char *data = NULL;
		struct berr *err = NULL;

		if (http_chunked_feed(&c, in + pos, avail, max_data, &used, &data, &dl, &err) < 0) {
			if (err == NULL)
				abort();
			berr_free(err);
			return;
		}
		if (used > avail || dl > max_data || dl > used)
			abort();
		if (dl > 0 && (data < in + pos || data + dl != in + pos + used))
			abort(); /* data is the tail of the consumed bytes */
		if (used == 0)
			return;
		pos += used;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in;
	size_t step, len;
	struct http_head h;
	struct http_body_info bi;
	struct berr *err = NULL;
	int used;

	if (size < 1)
		return 0;
	step = (size_t) (data[0] % 32) + 1;
	in = (const char *) data + 1;
	len = size - 1;

	used = http_head_parse(in, len, &h, &err);
	if (used < 0) {
		if (err == NULL)
			abort();
		berr_free(err);
		/* Whatever it is, try it as a chunked body too. */
		chunked(in, len, step, step * 3);
		return 0;
	}
	if (used == 0)
		return 0;
	if ((size_t) used > len || h.status < 100 || h.status > 999 || h.n_headers > HTTP_MAX_HEADERS)
		abort();
	for (size_t i = 0; i < h.n_headers; i++) {
		if (http_head_get(&h, h.headers[i].name) == NULL)
			abort();
		(void) http_head_has_token(&h, h.headers[i].name, "close");
	}
	if (http_body_info(&h, false, &bi, &err) == 0) {
		if (bi.framing == HTTP_BODY_CHUNKED)
			chunked(in + used, len - (size_t) used, step, 1 + (size_t) (data[0] >> 5) * 100);
	} else {
		if (err == NULL)
			abort();
		berr_free(err);
	}
	{
		const char *cr = http_head_get(&h, "Content-Range");
		uint64_t a, b, t;
		if (cr && http_parse_content_range(cr, &a, &b, &t) == 0 && (b < a || (t != UINT64_MAX && b >= t)))
			abort();
	}
	http_head_free(&h);
	return 0;
}
