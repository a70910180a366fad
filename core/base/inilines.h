/* The line reader that berth's INI files (berth.conf, app files) put in front of inih: it
 * counts lines (so every error names file:line, whatever options inih was built with), rejects
 * NUL bytes and over-long lines, hands section headers to the caller, and passes values longer
 * than inih's line buffer (or, in raw mode, every value) beside inih rather than through it. */
#ifndef BERTH_INILINES_H
#define BERTH_INILINES_H

#include <stdbool.h>
#include <stddef.h>

#define INIL_MAX_LINE 4096 /* bytes of one line, long enough for a registry token */

struct inil {
	const char *text;   /* not owned */
	size_t len, pos;
	int line;           /* the line inih is on, from 1 */
	/* Raw mode: every value is taken as written after the '=' (blanks trimmed), with no
	 * inline comment, so a command may hold ` ; ` or ` # `. Otherwise inih's rules. */
	bool raw;
	/* Called with a message for the current line (r->line). */
	void (*error)(void *user, const char *msg);
	/* Called for a `[...]` line (without its newline); inih then sees a blank line. */
	void (*header)(void *user, const char *line, size_t len);
	void *user;
	bool have_value;    /* value holds the value of the line inih is on */
	char value[INIL_MAX_LINE + 2];
};

/* Set up `r` over `text`; a UTF-8 byte order mark is skipped. */
void inil_init(struct inil *r, const char *text, size_t len, bool raw,
	       void (*error)(void *user, const char *msg),
	       void (*header)(void *user, const char *line, size_t len), void *user);

/* inih's ini_reader: give it to ini_parse_stream with `r` as the stream. */
char *inil_read(char *str, int num, void *stream);

/* In the handler: the value of the current line (`value` is what inih passed). */
const char *inil_value(struct inil *r, const char *value);

#endif
