/* Resolve `-u` / the image's User against the container's passwd and group files. The files are
 * outside input: read with a size bound, parsed in place, malformed lines skipped as libc does. */
#include "runtime/user.h"
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct field {
	const char *p;
	size_t len;
};

#define FIELDS_MAX 7

/* Cut the next line out of [*pos, end); returns false at the end. */
static bool next_line(const char **pos, const char *end, struct field *line)
{
	const char *nl;

	if (*pos >= end)
		return false;
	nl = memchr(*pos, '\n', (size_t) (end - *pos));
	line->p = *pos;
	line->len = (size_t) ((nl ? nl : end) - *pos);
	*pos = nl ? nl + 1 : end;
	return true;
}

/* Split a line on ':'; returns the number of fields (at most FIELDS_MAX, the rest stays in the
 * last one). */
static size_t split(struct field line, struct field *f)
{
	size_t n = 0;
	const char *p = line.p, *end = line.p + line.len;

	while (n < FIELDS_MAX) {
		const char *c = n + 1 < FIELDS_MAX ? memchr(p, ':', (size_t) (end - p)) : NULL;
		f[n].p = p;
		f[n].len = (size_t) ((c ? c : end) - p);
		n++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return n;
}

static bool field_eq(struct field f, const char *s)
{
	return f.len == strlen(s) && memcmp(f.p, s, f.len) == 0;
}

/* 1: a decimal id in range; 0: not a number; -1: a number out of range. */
static int parse_id_n(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		if (v <= USER_ID_MAX) /* stop growing once out of range: no overflow */
			v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v > USER_ID_MAX)
		return -1;
	*out = (uint32_t) v;
	return 1;
}

static int parse_id(const char *s, uint32_t *out)
{
	return parse_id_n(s, strlen(s), out);
}

/* A usable passwd or group line: not empty, not a comment, not NIS compat (+/-). */
static bool entry_line(struct field line)
{
	return line.len > 0 && line.p[0] != '#' && line.p[0] != '+' && line.p[0] != '-';
}

static char *dup_field(struct field f)
{
	char *s = malloc(f.len + 1);

	if (s) {
		memcpy(s, f.p, f.len);
		s[f.len] = '\0';
	}
	return s;
}

static int add_group(struct user_ids *u, size_t *cap, uint32_t gid, struct berr **err)
{
	for (size_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return 0;
	if (u->n_groups >= USER_GROUPS_MAX)
		return berr_make(err, 0, "more than %u supplementary groups", USER_GROUPS_MAX);
	if (u->n_groups == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		uint32_t *g = realloc(u->groups, ncap * sizeof(*g));
		if (g == NULL)
			return berr_make(err, ENOMEM, "supplementary groups");
		u->groups = g;
		*cap = ncap;
	}
	u->groups[u->n_groups++] = gid;
	return 0;
}

/* Is `name` in the comma-separated member list? */
static bool is_member(struct field list, const char *name)
{
	const char *p = list.p, *end = list.p + list.len;
	size_t nlen = strlen(name);

	while (p <= end) {
		const char *c = memchr(p, ',', (size_t) (end - p));
		size_t len = (size_t) ((c ? c : end) - p);
		if (len == nlen && memcmp(p, name, len) == 0)
			return true;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return false;
}

/* Find a group by name, or by gid when `spec` is a number; 1 found, 0 not, -1 bad number. */
static int find_group(const char *group, size_t group_len, const char *spec, uint32_t *gid,
		      struct berr **err)
{
	const char *pos = group, *end = group ? group + group_len : NULL;
	struct field line, f[FIELDS_MAX];
	uint32_t want = 0;
	int numeric = parse_id(spec, &want);

	if (numeric < 0)
		return berr_usage(err, "invalid group `%s`: gids must be in range 0-%u", spec,
				  USER_ID_MAX);
	while (group && next_line(&pos, end, &line)) {
		uint32_t g;
		if (!entry_line(line) || split(line, f) < 3 || parse_id_n(f[2].p, f[2].len, &g) != 1)
			continue;
		if (field_eq(f[0], spec) || (numeric && g == want)) {
			*gid = g;
			return 1;
		}
	}
	if (numeric) {
		*gid = want;
		return 1;
	}
	return 0;
}

int user_resolve_buf(const char *spec, const char *passwd, size_t passwd_len, const char *group,
		     size_t group_len, char *const *extra_groups, size_t n_extra,
		     struct user_ids *out, struct berr **err)
{
	_cleanup_free_ char *uspec = NULL;
	struct field line, f[FIELDS_MAX];
	const char *gspec = NULL, *pos, *end;
	struct user_ids u = { 0 };
	size_t gcap = 0;
	uint32_t want = 0;
	bool found = false;
	int numeric;

	memset(out, 0, sizeof(*out));
	if (spec == NULL)
		spec = "";
	uspec = strdup(spec);
	if (uspec == NULL)
		return berr_make(err, ENOMEM, "user `%s`", spec);
	{
		char *colon = strchr(uspec, ':');
		if (colon) {
			*colon = '\0';
			gspec = colon + 1;
			if (strchr(gspec, ':'))
				return berr_usage(err, "invalid user `%s`: expected user[:group]", spec);
			if (*gspec == '\0')
				gspec = NULL;
		}
	}
	numeric = parse_id(uspec, &want);
	if (numeric < 0)
		return berr_usage(err, "invalid user `%s`: uids must be in range 0-%u", spec,
				  USER_ID_MAX);
	if (uspec[0] == '\0') { /* no user: root, and root's passwd entry if there is one */
		numeric = 1;
		want = 0;
	}

	pos = passwd;
	end = passwd ? passwd + passwd_len : NULL;
	while (passwd && next_line(&pos, end, &line)) {
		uint32_t uid, gid;
		if (!entry_line(line) || split(line, f) < 4 ||
		    parse_id_n(f[2].p, f[2].len, &uid) != 1 || parse_id_n(f[3].p, f[3].len, &gid) != 1)
			continue;
		if ((uspec[0] != '\0' && field_eq(f[0], uspec)) || (numeric && uid == want)) {
			struct field home = { "/", 1 };
			size_t n = split(line, f);
			if (n >= 6 && f[5].len > 0)
				home = f[5];
			u.uid = uid;
			u.gid = gid;
			u.name = dup_field(f[0]);
			u.home = dup_field(home);
			if (u.name == NULL || u.home == NULL) {
				user_ids_free(&u);
				return berr_make(err, ENOMEM, "user `%s`", spec);
			}
			found = true;
			break;
		}
	}
	if (!found) {
		if (!numeric)
			return berr_make(err, 0, "unable to find user %s: no matching entries in "
					 "passwd file", uspec);
		u.uid = want;
		u.gid = 0;
		u.home = strdup(want == 0 ? "/root" : "/");
		if (u.home == NULL)
			return berr_make(err, ENOMEM, "user `%s`", spec);
	}

	if (gspec) {
		int r = find_group(group, group_len, gspec, &u.gid, err);
		if (r <= 0) {
			if (r == 0)
				berr_make(err, 0, "unable to find group %s: no matching entries in "
					  "group file", gspec);
			user_ids_free(&u);
			return -1;
		}
	} else if (u.name != NULL) {
		pos = group;
		end = group ? group + group_len : NULL;
		while (group && next_line(&pos, end, &line)) {
			uint32_t gid;
			if (!entry_line(line) || split(line, f) < 4 ||
			    parse_id_n(f[2].p, f[2].len, &gid) != 1 || !is_member(f[3], u.name))
				continue;
			if (add_group(&u, &gcap, gid, err) < 0) {
				user_ids_free(&u);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < n_extra; i++) {
		uint32_t gid;
		int r = find_group(group, group_len, extra_groups[i], &gid, err);
		if (r == 0)
			berr_make(err, 0, "unable to find group %s: no matching entries in group file",
				  extra_groups[i]);
		if (r <= 0 || add_group(&u, &gcap, gid, err) < 0) {
			user_ids_free(&u);
			return -1;
		}
	}
	*out = u;
	return 0;
}

int user_resolve(int rootfd, const char *spec, char *const *extra_groups, size_t n_extra,
		 struct user_ids *out, struct berr **err)
{
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	size_t plen = 0, glen = 0;

	if (resolve_read(rootfd, "/etc/passwd", USER_FILE_MAX, true, &passwd, &plen, err) < 0 ||
	    resolve_read(rootfd, "/etc/group", USER_FILE_MAX, true, &group, &glen, err) < 0)
		return berr_wrap(err, "user `%s`", spec ? spec : "");
	return user_resolve_buf(spec, passwd, plen, group, glen, extra_groups, n_extra, out, err);
}

void user_ids_free(struct user_ids *u)
{
	free(u->groups);
	free(u->name);
	free(u->home);
	memset(u, 0, sizeof(*u));
}
