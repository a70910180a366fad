/* --ulimit parsing (Docker run reference, "Set ulimits in container") and setrlimit. */
#include "runtime/rlimit.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int resource;
} names[] = {
	{ "core", RLIMIT_CORE },       { "cpu", RLIMIT_CPU },
	{ "data", RLIMIT_DATA },       { "fsize", RLIMIT_FSIZE },
	{ "locks", RLIMIT_LOCKS },     { "memlock", RLIMIT_MEMLOCK },
	{ "msgqueue", RLIMIT_MSGQUEUE }, { "nice", RLIMIT_NICE },
	{ "nofile", RLIMIT_NOFILE },   { "nproc", RLIMIT_NPROC },
	{ "rss", RLIMIT_RSS },         { "rtprio", RLIMIT_RTPRIO },
	{ "rttime", RLIMIT_RTTIME },   { "sigpending", RLIMIT_SIGPENDING },
	{ "stack", RLIMIT_STACK },
};

const char *rlimit_name(int resource)
{
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].resource == resource)
			return names[i].name;
	return NULL;
}

static int parse_value(const char *s, size_t len, rlim_t *out)
{
	uint64_t v = 0;

	if (len == 9 && strncmp(s, "unlimited", 9) == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (len == 2 && strncmp(s, "-1", 2) == 0) {
		*out = RLIM_INFINITY;
		return 0;
	}
	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	if (v >= (uint64_t) RLIM_INFINITY)
		return -1;
	*out = (rlim_t) v;
	return 0;
}

int rlimit_parse(const char *s, struct rlimit_entry *out, struct berr **err)
{
	const char *eq = strchr(s, '='), *val, *colon;
	size_t nlen;

	memset(out, 0, sizeof(*out));
	if (eq == NULL)
		return berr_usage(err, "--ulimit `%s`: expected name=soft[:hard], e.g. "
				  "nofile=1024:2048", s);
	nlen = (size_t) (eq - s);
	out->resource = -1;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i].name) == nlen && strncmp(names[i].name, s, nlen) == 0)
			out->resource = names[i].resource;
	if (out->resource < 0)
		return berr_usage(err, "--ulimit `%s`: unknown limit `%.*s` (core, cpu, data, "
				  "fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, "
				  "rttime, sigpending, stack)", s, (int) nlen, s);
	val = eq + 1;
	colon = strchr(val, ':');
	if (parse_value(val, colon ? (size_t) (colon - val) : strlen(val),
			&out->limit.rlim_cur) < 0 ||
	    (colon && parse_value(colon + 1, strlen(colon + 1), &out->limit.rlim_max) < 0))
		return berr_usage(err, "--ulimit `%s`: limits are decimal numbers, -1 or "
				  "`unlimited`", s);
	if (!colon)
		out->limit.rlim_max = out->limit.rlim_cur;
	if (out->limit.rlim_cur > out->limit.rlim_max)
		return berr_usage(err, "--ulimit `%s`: the soft limit must not exceed the hard "
				  "limit", s);
	return 0;
}

void rlimit_set(struct rlimit_entry *tab, size_t *n, const struct rlimit_entry *e)
{
	for (size_t i = 0; i < *n; i++) {
		if (tab[i].resource == e->resource) {
			tab[i] = *e;
			return;
		}
	}
	if (*n < RLIMIT_ENTRIES_MAX)
		tab[(*n)++] = *e;
}

int rlimit_apply(const struct rlimit_entry *tab, size_t n, struct berr **err)
{
	for (size_t i = 0; i < n; i++)
		if (setrlimit(tab[i].resource, &tab[i].limit) < 0)
			return berr_make_errno(err, "setrlimit %s", rlimit_name(tab[i].resource));
	return 0;
}
