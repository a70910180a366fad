/* The line reader in front of inih (see inilines.h). */
#include "inilines.h"

#include <stdio.h>
#include <string.h>

void inil_init(struct inil *r, const char *text, size_t len, bool raw,
	       void (*error)(void *user, const char *msg),
	       void (*header)(void *user, const char *line, size_t len), void *user)
{
	memset(r, 0, sizeof(*r));
	r->text = text;
	r->len = len;
	r->raw = raw;
	r->error = error;
	r->header = header;
	r->user = user;
	/* Skip a UTF-8 byte order mark, which some Windows editors add. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
}

static void fail(struct inil *r, const char *msg)
{
	if (r->error)
		r->error(r->user, msg);
}

/* inih may be built with a small line buffer (Debian's holds 198 bytes), too small for a
 * registry token. A longer `key = value` line is split here the way inih would split it
 * (in raw mode: at the first '=', with no inline comment); inih gets `key=` and the handler
 * takes the value from r->value. Returns the length of the stand-in line, which follows the
 * value's NUL in r->value, or 0. */
static size_t split_line(struct inil *r, const char *start, size_t len, size_t room)
{
	size_t k = 0, klen, vstart, vlen;

	while (k < len && start[k] != '=' && (r->raw || start[k] != ':'))
		k++;
	klen = k;
	if (k >= len) {
		fail(r, "expected `key = value`, a [section] or a comment");
		return 0;
	}
	while (klen && (start[klen - 1] == ' ' || start[klen - 1] == '\t'))
		klen--;
	if (klen == 0 && r->raw) {
		fail(r, "expected `key = value`: the key is missing");
		return 0;
	}
	if (klen + 1 > room || klen == 0) {
		char msg[64];
		snprintf(msg, sizeof(msg), "the line is longer than %d bytes", (int) room);
		fail(r, msg);
		return 0;
	}
	vstart = k + 1;
	while (vstart < len && (start[vstart] == ' ' || start[vstart] == '\t'))
		vstart++;
	/* An inline comment starts at ';' after a blank, as in inih. */
	for (vlen = 0; vstart + vlen < len; vlen++) {
		char c = start[vstart + vlen];
		if (!r->raw && c == ';' && vlen &&
		    (start[vstart + vlen - 1] == ' ' || start[vstart + vlen - 1] == '\t'))
			break;
	}
	while (vlen && (start[vstart + vlen - 1] == ' ' || start[vstart + vlen - 1] == '\t'))
		vlen--;
	memcpy(r->value, start + vstart, vlen);
	r->value[vlen] = '\0';
	r->have_value = true;
	/* The stand-in line for inih: the key and '='. vlen + klen < len <= INIL_MAX_LINE. */
	memcpy(r->value + vlen + 1, start, klen);
	r->value[vlen + 1 + klen] = '=';
	return klen + 1;
}

char *inil_read(char *str, int num, void *stream)
{
	struct inil *r = stream;
	const char *start, *nl;
	size_t len, room = (size_t) num - 2; /* keep space for '\n' and NUL */

	if (r->pos >= r->len)
		return NULL;
	r->line++;
	r->have_value = false;
	start = r->text + r->pos;
	nl = memchr(start, '\n', r->len - r->pos);
	len = nl ? (size_t) (nl - start) : r->len - r->pos;
	r->pos += len + (nl ? 1 : 0);
	if (len && start[len - 1] == '\r')
		len--;
	/* Leading blanks are dropped so that an indented line is never taken as a continuation
	 * of the previous value: multi-line values are not part of berth's INI files. */
	while (len && (*start == ' ' || *start == '\t')) {
		start++;
		len--;
	}
	if (memchr(start, '\0', len) != NULL) {
		fail(r, "the line holds a NUL byte");
		len = 0;
	} else if (len > INIL_MAX_LINE) {
		char msg[64];
		snprintf(msg, sizeof(msg), "the line is longer than %d bytes", INIL_MAX_LINE);
		fail(r, msg);
		len = 0;
	} else if (len == 0 || start[0] == ';' || start[0] == '#') {
		len = len > room ? 0 : len; /* a long comment: nothing for inih to see */
	} else if (start[0] == '[') {
		if (len > room) {
			char msg[64];
			snprintf(msg, sizeof(msg), "the line is longer than %d bytes", (int) room);
			fail(r, msg);
		} else if (r->header) {
			r->header(r->user, start, len);
		}
		/* The header has been handled here; inih gets a blank line so that it never
		 * trips over names it parses differently. */
		len = 0;
	} else if (len > room || r->raw) {
		if (r->raw && memchr(start, '=', len) == NULL) {
			fail(r, "expected `key = value`, a [section] or a comment");
			len = 0;
		} else {
			len = split_line(r, start, len, room);
		}
	} else if (memchr(start, '=', len) == NULL) {
		fail(r, "expected `key = value`, a [section] or a comment");
		len = 0;
	}
	if (r->have_value && len)
		start = r->value + strlen(r->value) + 1;
	memcpy(str, start, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

const char *inil_value(struct inil *r, const char *value)
{
	if (r->have_value) {
		r->have_value = false;
		return r->value;
	}
	return value;
}
