/* Reference parsing per the distribution-spec grammar, with Docker's normalisation rules
 * (docker.io, `library/`, `latest`). Every byte is checked; nothing here allocates. */
#include "ref.h"
#include "base/err.h"
#include "base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define LEGACY_DOCKER_HUB "index.docker.io"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Quote at most 80 bytes of outside input, printable ASCII only, for error messages. */
static const char *quote(const char *s, size_t len, char buf[96])
{
	size_t i, o = 0;

	for (i = 0; i < len && s[i] && o < 80; i++)
		buf[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (i < len && s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* domain-component: [a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool dns_name_valid(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!is_alnum(s[i]) && s[i] != '-')
				return false;
			continue;
		}
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return false;
		start = i + 1;
	}
	return true;
}

static bool port_valid(const char *s, size_t len)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (unsigned long) (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool domain_valid(const char *s, size_t len)
{
	const char *host_end;
	size_t host_len;

	if (len == 0 || len > REF_NAME_MAX)
		return false;
	if (s[0] == '[') {
		char addr[INET6_ADDRSTRLEN + 1];
		unsigned char bin[16];
		const char *close = memchr(s, ']', len);
		size_t alen;

		if (close == NULL)
			return false;
		alen = (size_t) (close - s - 1);
		if (alen == 0 || alen >= sizeof(addr))
			return false;
		memcpy(addr, s + 1, alen);
		addr[alen] = '\0';
		/* The grammar allows hex digits and colons only: no zone, no embedded IPv4. */
		for (size_t i = 0; i < alen; i++)
			if (!(is_digit(addr[i]) || (addr[i] >= 'a' && addr[i] <= 'f') ||
			      (addr[i] >= 'A' && addr[i] <= 'F') || addr[i] == ':'))
				return false;
		if (inet_pton(AF_INET6, addr, bin) != 1)
			return false;
		host_end = close + 1;
	} else {
		host_end = memchr(s, ':', len);
		if (host_end == NULL)
			host_end = s + len;
		if (!dns_name_valid(s, (size_t) (host_end - s)))
			return false;
	}
	host_len = (size_t) (host_end - s);
	if (host_len == len)
		return true;
	if (*host_end != ':')
		return false;
	return port_valid(host_end + 1, len - host_len - 1);
}

bool ref_domain_valid(const char *domain)
{
	return domain_valid(domain, strlen(domain));
}

/* path-component: [a-z0-9]+ ((?:[._]|__|[-]*) [a-z0-9]+)*, components joined by '/'. On
 * failure *bad points at the offending component and *why says what is wrong. */
static bool path_valid(const char *s, size_t len, const char **bad, size_t *bad_len,
		       const char **why)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		const char *c = s + start;
		size_t n = i - start, j = 0;

		*bad = c;
		*bad_len = n;
		if (n == 0) {
			*why = "empty path component (`//`, or a leading or trailing `/`)";
			return false;
		}
		while (j < n) {
			size_t run = 0;
			while (j < n && is_lower_alnum(c[j])) {
				j++;
				run++;
			}
			if (run == 0) {
				*why = "path component must start and end with a lowercase letter or digit";
				return false;
			}
			if (j == n)
				break;
			/* A separator: one '.', one or two '_', or any number of '-'. */
			if (c[j] == '.') {
				j++;
			} else if (c[j] == '_') {
				j++;
				if (j < n && c[j] == '_')
					j++;
			} else if (c[j] == '-') {
				while (j < n && c[j] == '-')
					j++;
			} else {
				*why = "path component may only contain lowercase letters, digits and "
				       "the separators `.`, `_`, `__` and `-`";
				return false;
			}
			if (j == n || !is_lower_alnum(c[j])) {
				*why = j == n ? "path component must start and end with a lowercase "
						"letter or digit"
					      : "path component has two separators in a row";
				return false;
			}
		}
		start = i + 1;
	}
	return true;
}

/* tag: [\w][\w.-]{0,127} */
static bool tag_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REF_TAG_MAX || !is_word(s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static bool has_upper(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			return true;
	return false;
}

/* Docker's rule for telling a registry host from a Docker Hub user name. */
static bool looks_like_domain(const char *s, size_t len)
{
	return memchr(s, '.', len) != NULL || memchr(s, ':', len) != NULL ||
	       (len == 9 && memcmp(s, "localhost", 9) == 0) || has_upper(s, len);
}

static int invalid(struct berr **err, const char *why)
{
	return berr_usage(err, "invalid reference format: %s", why);
}

int ref_parse(const char *s, const char *default_registry, unsigned flags, struct ref *out,
	      struct berr **err)
{
	char buf[REF_STR_SIZE], q[96];
	const char *name, *remote, *bad = NULL, *why = NULL;
	char *at, *colon, *slash;
	size_t len, name_len, dom_len, bad_len = 0;

	memset(out, 0, sizeof(*out));
	if (default_registry == NULL || default_registry[0] == '\0')
		default_registry = REF_DEFAULT_REGISTRY;
	if (strcmp(default_registry, LEGACY_DOCKER_HUB) == 0)
		default_registry = REF_DEFAULT_REGISTRY;
	if (!ref_domain_valid(default_registry))
		return berr_usage(err, "default registry `%s` is not a valid host[:port]",
				  quote(default_registry, SIZE_MAX, q));
	/* Otherwise `myreg/app` written in full would read as docker.io/myreg/app. */
	if (!looks_like_domain(default_registry, strlen(default_registry)))
		return berr_usage(err, "default registry `%s` must contain `.` or `:` or be "
				  "`localhost`, or full names under it would not parse back",
				  quote(default_registry, SIZE_MAX, q));

	len = strnlen(s, REF_STR_SIZE);
	if (len == 0)
		return invalid(err, "empty reference");
	if (len > REF_STR_MAX)
		return berr_usage(err, "invalid reference format: longer than %d characters",
				  REF_STR_MAX);
	memcpy(buf, s, len + 1);

	/* A bare 64-hex string is an image id, never a repository name. */
	if (digest_hex_valid(buf))
		return berr_usage(err, "invalid reference format: `%s` is a 64-character hex id, "
				  "not a repository name", quote(buf, len, q));

	at = strchr(buf, '@');
	if (at != NULL) {
		*at = '\0';
		if (flags & REF_NAME_ONLY)
			return invalid(err, "a digest is not allowed here, only a repository name");
		if (digest_parse(at + 1, "digest", &out->digest, err) < 0)
			return berr_wrap(err, "invalid reference format");
	}

	/* The tag follows the last ':' that comes after the last '/', so a registry port or an
	 * IPv6 host is never taken for one. */
	slash = strrchr(buf, '/');
	colon = strrchr(slash ? slash : buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (flags & REF_NAME_ONLY)
			return invalid(err, "a tag is not allowed here, only a repository name");
		if (!tag_valid(colon + 1))
			return berr_usage(err, "invalid reference format: tag `%s` must be 1 to 128 "
					  "letters, digits, `_`, `.` or `-`, not starting with `.` "
					  "or `-`", quote(colon + 1, SIZE_MAX, q));
		memcpy(out->tag, colon + 1, strlen(colon + 1) + 1);
	}

	name = buf;
	name_len = strlen(name);
	if (name_len == 0)
		return invalid(err, "repository name must have at least one component");

	slash = strchr(name, '/');
	if (slash != NULL && looks_like_domain(name, (size_t) (slash - name))) {
		dom_len = (size_t) (slash - name);
		if (!domain_valid(name, dom_len))
			return berr_usage(err, "invalid reference format: registry `%s` is not a "
					  "valid host[:port]", quote(name, dom_len, q));
		if (dom_len == strlen(LEGACY_DOCKER_HUB) &&
		    memcmp(name, LEGACY_DOCKER_HUB, dom_len) == 0)
			strcpy(out->domain, REF_DEFAULT_REGISTRY);
		else {
			memcpy(out->domain, name, dom_len);
			out->domain[dom_len] = '\0';
		}
		remote = slash + 1;
	} else {
		memcpy(out->domain, default_registry, strlen(default_registry) + 1);
		remote = name;
	}

	if (has_upper(remote, strlen(remote)))
		return invalid(err, "repository name must be lowercase");
	if (!path_valid(remote, strlen(remote), &bad, &bad_len, &why))
		return berr_usage(err, "invalid reference format: `%s`: %s",
				  quote(bad, bad_len, q), why);

	/* Docker Hub's official images live under library/. */
	if (strcmp(out->domain, REF_DEFAULT_REGISTRY) == 0 && strchr(remote, '/') == NULL) {
		if (snprintf(out->path, sizeof(out->path), "library/%s", remote) >=
		    (int) sizeof(out->path))
			goto too_long;
	} else {
		if (strlen(remote) >= sizeof(out->path))
			goto too_long;
		memcpy(out->path, remote, strlen(remote) + 1);
	}
	if (strlen(out->domain) + 1 + strlen(out->path) > REF_NAME_MAX)
		goto too_long;

	out->default_domain = strcmp(out->domain, default_registry) == 0;
	if (out->tag[0] == '\0' && !digest_is_set(&out->digest) &&
	    !(flags & (REF_NO_DEFAULT_TAG | REF_NAME_ONLY)))
		strcpy(out->tag, "latest");
	return 0;

too_long:
	return berr_usage(err, "invalid reference format: repository name must not be more than "
			  "%d characters", REF_NAME_MAX);
}

/* The path as the familiar form shows it, or NULL if the domain must stay. */
static const char *familiar_path(const struct ref *r)
{
	const char *p = r->path;
	const char *slash;

	if (!r->default_domain)
		return NULL;
	if (strcmp(r->domain, REF_DEFAULT_REGISTRY) == 0 && str_has_prefix(p, "library/") &&
	    strchr(p + 8, '/') == NULL)
		/* A bare 64-hex name would read as an image id. */
		return digest_hex_valid(p + 8) ? p : p + 8;
	if (digest_hex_valid(p))
		return NULL;
	/* `foo.bar/baz` would parse back as registry `foo.bar`. */
	slash = strchr(p, '/');
	if (slash != NULL && looks_like_domain(p, (size_t) (slash - p)))
		return NULL;
	return p;
}

int ref_format(const struct ref *r, enum ref_form form, char *buf, size_t size)
{
	char dg[DIGEST_STR_SIZE];
	const char *short_path = NULL;
	bool with_ref = form == REF_FULL || form == REF_FAMILIAR;
	int n;

	if (form == REF_FAMILIAR || form == REF_FAMILIAR_NAME)
		short_path = familiar_path(r);
	n = snprintf(buf, size, "%s%s%s%s%s%s%s", short_path ? "" : r->domain,
		     short_path ? "" : "/", short_path ? short_path : r->path,
		     with_ref && r->tag[0] ? ":" : "", with_ref ? r->tag : "",
		     with_ref && digest_is_set(&r->digest) ? "@" : "",
		     with_ref && digest_is_set(&r->digest) ? digest_format(&r->digest, dg) : "");
	if (n < 0 || (size_t) n >= size) {
		if (size)
			buf[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
