/* mountinfo parser: one line per mount, fields as in proc(5). */
#include "mountinfo.h"
#include "err.h"
#include "fs.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Undo the kernel's octal escapes (\040 for space, \011, \012, \134) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

static char *next_field(char **p)
{
	char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return NULL;
	e = strchr(s, ' ');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

static int parse_line(char *line, struct mountinfo_entry *e)
{
	char *p = line, *f[6], *sep;

	for (int i = 0; i < 6; i++)
		if ((f[i] = next_field(&p)) == NULL)
			return -1;
	if (sscanf(f[0], "%d", &e->id) != 1 || sscanf(f[1], "%d", &e->parent) != 1 ||
	    sscanf(f[2], "%u:%u", &e->major, &e->minor) != 2)
		return -1;
	/* Optional fields run up to a lone "-". */
	while ((sep = next_field(&p)) != NULL && strcmp(sep, "-") != 0)
		;
	if (sep == NULL)
		return -1;
	e->fstype = next_field(&p);
	e->source = next_field(&p);
	e->super_opts = next_field(&p);
	if (e->fstype == NULL || e->source == NULL)
		return -1;
	if (e->super_opts == NULL)
		e->super_opts = "";
	unescape(f[3]);
	unescape(f[4]);
	unescape((char *) e->source);
	e->root = f[3];
	e->mount_point = f[4];
	e->mount_opts = f[5];
	return 0;
}

int mountinfo_parse(const char *text, int (*fn)(const struct mountinfo_entry *e, void *data), void *data)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);
		struct mountinfo_entry e;
		char *line = malloc(len + 1);
		int r = 0;

		if (line == NULL)
			return -1;
		memcpy(line, p, len);
		line[len] = '\0';
		if (parse_line(line, &e) == 0)
			r = fn(&e, data);
		free(line);
		if (r != 0)
			return r < 0 ? r : 0;
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

int mountinfo_each(const char *path, int (*fn)(const struct mountinfo_entry *e, void *data), void *data,
		   struct berr **err)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (path == NULL)
		path = "/proc/self/mountinfo";
	if (fs_read_file(path, 16u << 20, &text, NULL, err) < 0)
		return -1;
	r = mountinfo_parse(text, fn, data);
	if (r < 0)
		return berr_make(err, 0, "parse `%s`", path);
	return 0;
}

int mountinfo_opt(const char *opts, const char *key, char *buf, unsigned size)
{
	size_t kl = strlen(key);
	const char *p = opts;

	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t) (end - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = len - kl - 1;
			if (vl >= size)
				return -1;
			memcpy(buf, p + kl + 1, vl);
			buf[vl] = '\0';
			return 0;
		}
		p = end ? end + 1 : NULL;
	}
	return -1;
}
