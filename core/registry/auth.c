/* Registry authentication: challenge parsing, Basic, and the token flow of the distribution
 * spec ("Token Authentication Specification": GET realm?service=..&scope=.. -> JSON token). */
#include "registry/auth.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <mbedtls/base64.h>

#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "registry/creds.h"
#include "registry/http.h"

/* ---- WWW-Authenticate ---- */

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token68_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != 0 && strchr("-._~+/", c) != NULL);
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Whether p starts an auth-param: token BWS "=" and not a token68's padding. */
static bool at_param(const char *p)
{
	const char *q = p;

	while (is_tchar((unsigned char) *q))
		q++;
	if (q == p)
		return false;
	q = skip_ows(q);
	if (*q != '=')
		return false;
	q = skip_ows(q + 1);
	return *q != '=' && *q != ',' && *q != '\0';
}

/* Read a token or quoted-string (RFC 9110 section 5.6.4) into out. */
static int read_value(const char **pp, char *out, size_t size, struct berr **err)
{
	const char *p = *pp;
	size_t n = 0;

	if (*p == '"') {
		p++;
		for (;;) {
			unsigned char c = (unsigned char) *p;
			if (c == '\0')
				return berr_make(err, 0, "unterminated quoted string");
			if (c == '"')
				break;
			if (c == '\\') {
				p++;
				c = (unsigned char) *p;
				if (c == '\0')
					return berr_make(err, 0, "unterminated quoted string");
			}
			if (c < 0x20 && c != '\t')
				return berr_make(err, 0, "control character in a quoted string");
			if (n + 1 >= size)
				return berr_make(err, 0, "parameter value longer than %zu bytes",
						 size - 1);
			out[n++] = (char) c;
			p++;
		}
		p++;
	} else {
		while (is_tchar((unsigned char) *p)) {
			if (n + 1 >= size)
				return berr_make(err, 0, "parameter value longer than %zu bytes",
						 size - 1);
			out[n++] = *p++;
		}
		if (n == 0)
			return berr_make(err, 0, "missing parameter value");
	}
	out[n] = '\0';
	*pp = p;
	return 0;
}

static int parse_params(const char **pp, struct auth_challenge *c, struct berr **err)
{
	const char *p = *pp;
	unsigned seen = 0;

	for (;;) {
		const char *name = p;
		size_t nl;
		char *dst = NULL, scratch[AUTH_MAX_PARAM];
		size_t dsize = sizeof(scratch);
		unsigned bit = 0;

		while (is_tchar((unsigned char) *p))
			p++;
		nl = (size_t) (p - name);
		p = skip_ows(p);
		p = skip_ows(p + 1); /* the '=' at_param found */
		if (nl == 5 && strncasecmp(name, "realm", 5) == 0)
			dst = c->realm, dsize = sizeof(c->realm), bit = 1;
		else if (nl == 7 && strncasecmp(name, "service", 7) == 0)
			dst = c->service, dsize = sizeof(c->service), bit = 2;
		else if (nl == 5 && strncasecmp(name, "scope", 5) == 0)
			dst = c->scope, dsize = sizeof(c->scope), bit = 4;
		else if (nl == 5 && strncasecmp(name, "error", 5) == 0)
			dst = c->error, dsize = sizeof(c->error), bit = 8;
		if (bit && (seen & bit))
			return berr_make(err, 0, "parameter `%.*s` given twice", (int) nl, name);
		seen |= bit;
		if (read_value(&p, dst ? dst : scratch, dsize, err) < 0)
			return berr_wrap(err, "parameter `%.*s`", (int) (nl > 40 ? 40 : nl), name);
		p = skip_ows(p);
		if (*p == '\0')
			break;
		if (*p != ',')
			return berr_make(err, 0, "unexpected `%c` after a parameter", *p);
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!at_param(p))
			break; /* the next challenge, or the end */
	}
	*pp = p;
	return 0;
}

int auth_parse_challenges(const char *value, struct auth_challenge *out, size_t max, size_t *n,
			  struct berr **err)
{
	const char *p = value;

	*n = 0;
	for (;;) {
		const char *scheme;
		size_t sl;
		struct auth_challenge *c;

		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		scheme = p;
		while (is_tchar((unsigned char) *p))
			p++;
		sl = (size_t) (p - scheme);
		if (sl == 0)
			return berr_make(err, 0, "WWW-Authenticate: expected an auth scheme at `%.20s`",
					 p);
		if (*n >= max)
			return berr_make(err, 0, "WWW-Authenticate: more than %zu challenges", max);
		c = &out[(*n)++];
		memset(c, 0, sizeof(*c));
		if (sl == 5 && strncasecmp(scheme, "Basic", 5) == 0)
			c->scheme = AUTH_SCHEME_BASIC;
		else if (sl == 6 && strncasecmp(scheme, "Bearer", 6) == 0)
			c->scheme = AUTH_SCHEME_BEARER;
		if (*p == '\0' || *p == ',')
			continue;
		if (*p != ' ' && *p != '\t')
			return berr_make(err, 0, "WWW-Authenticate: bad auth scheme `%.*s`",
					 (int) (sl > 40 ? 40 : sl), scheme);
		p = skip_ows(p);
		if (at_param(p)) {
			if (parse_params(&p, c, err) < 0)
				return berr_wrap(err, "WWW-Authenticate");
		} else if (is_token68_char((unsigned char) *p)) {
			while (is_token68_char((unsigned char) *p))
				p++;
			while (*p == '=')
				p++;
			p = skip_ows(p);
			if (*p != '\0' && *p != ',')
				return berr_make(err, 0, "WWW-Authenticate: malformed token68");
		}
	}
	return 0;
}

/* ---- Basic ---- */

int auth_basic_value(const char *user, const char *password, char **out, struct berr **err)
{
	_cleanup_free_ char *plain = NULL;
	size_t pl, bl = 0;
	char *b;

	if (strchr(user, ':') != NULL)
		return berr_usage(err, "user name `%s` has a `:`, which Basic auth cannot carry", user);
	plain = xasprintf("%s:%s", user, password ? password : "");
	pl = strlen(plain);
	if (pl > 4096)
		return berr_usage(err, "credentials for `%s` are too long", user);
	b = xmalloc(6 + (pl + 2) / 3 * 4 + 1);
	memcpy(b, "Basic ", 6);
	if (mbedtls_base64_encode((unsigned char *) b + 6, (pl + 2) / 3 * 4 + 1, &bl,
				  (const unsigned char *) plain, pl) != 0) {
		free(b);
		return berr_make(err, 0, "base64 encoding failed");
	}
	*out = b;
	return 0;
}

/* ---- token response ---- */

static bool is_b64token(const char *s)
{
	const char *p = s;

	while (is_token68_char((unsigned char) *p))
		p++;
	if (p == s)
		return false;
	while (*p == '=')
		p++;
	return *p == '\0';
}

int auth_parse_token_response(const char *json, size_t len, char **token, int64_t *expires_in,
			      struct berr **err)
{
	json_error_t je;
	json_t *root, *t, *e;
	const char *tok;

	if (len > AUTH_MAX_TOKEN_RESPONSE)
		return berr_make(err, 0, "token response larger than %d bytes",
				 AUTH_MAX_TOKEN_RESPONSE);
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return berr_make(err, 0, "token response is not JSON: %s", je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return berr_make(err, 0, "token response is not a JSON object");
	}
	t = json_object_get(root, "token");
	if (!json_is_string(t) || json_string_length(t) == 0)
		t = json_object_get(root, "access_token");
	if (!json_is_string(t) || json_string_length(t) == 0) {
		json_decref(root);
		return berr_make(err, 0, "token response has neither `token` nor `access_token`");
	}
	tok = json_string_value(t);
	if (json_string_length(t) > AUTH_MAX_TOKEN || strlen(tok) != json_string_length(t) ||
	    !is_b64token(tok)) {
		json_decref(root);
		return berr_make(err, 0, "token in the token response is too long or malformed");
	}
	*expires_in = AUTH_DEFAULT_EXPIRES_IN;
	e = json_object_get(root, "expires_in");
	if (e != NULL && !json_is_null(e)) {
		if (!json_is_integer(e) || json_integer_value(e) <= 0 ||
		    json_integer_value(e) > 10 * 365 * 86400) {
			json_decref(root);
			return berr_make(err, 0, "token response has a bad `expires_in`");
		}
		*expires_in = json_integer_value(e);
	}
	*token = xstrdup(tok);
	json_decref(root);
	return 0;
}

static void url_encode(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    strchr("-._~", c))
			fputc(c, f);
		else
			fprintf(f, "%%%02X", c);
	}
}

char *auth_token_url(const char *realm, const char *service, const char *scope)
{
	char *buf = NULL;
	size_t size = 0;
	char sep = strchr(realm, '?') ? '&' : '?';
	FILE *f = open_memstream(&buf, &size);

	if (f == NULL)
		return NULL;
	fputs(realm, f);
	if (service && *service) {
		fprintf(f, "%cservice=", sep);
		url_encode(f, service);
		sep = '&';
	}
	while (scope && *scope) {
		size_t n = strcspn(scope, " ");
		if (n > 0) {
			char one[AUTH_MAX_PARAM];
			snprintf(one, sizeof(one), "%.*s", (int) n, scope);
			fprintf(f, "%cscope=", sep);
			url_encode(f, one);
			sep = '&';
		}
		scope += n;
		scope += strspn(scope, " ");
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- session ---- */

#define TOKEN_CACHE 8

struct cached_token {
	char *scope;      /* "" for none */
	char *value;      /* "Bearer ..." */
	time_t expires;   /* monotonic seconds */
};

struct auth_session {
	struct http_client *http;       /* not owned */
	char *registry;
	char *user, *password;
	char source[PATH_MAX + 64];     /* where user and password came from, for messages */
	char *basic;                    /* "Basic ..." once a Basic challenge was seen */
	struct cached_token tokens[TOKEN_CACHE];
	size_t next_slot;
};

static time_t now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int auth_session_new(struct http_client *http, const struct berth_config *cfg,
		     const char *registry, struct auth_session **out, struct berr **err)
{
	struct auth_session *s = xcalloc(1, sizeof(*s));
	const struct cfg_registry *r = cfg ? config_find_registry(cfg, registry) : NULL;

	_cleanup_free_ char *user = NULL, *password = NULL;

	s->http = http;
	s->registry = xstrdup(registry);
	/* berth.conf first, then `berth login`'s file, then Docker's config.json. */
	if (r && r->username) {
		auth_session_set_credentials(s, r->username, r->password);
		snprintf(s->source, sizeof(s->source), "[registry \"%s\"] in berth.conf", registry);
	} else {
		char source[sizeof(s->source)];
		int found = creds_lookup(cfg, registry, &user, &password, source, sizeof(source),
					 err);
		if (found < 0) {
			auth_session_free(s);
			return berr_wrap(err, "credentials for registry `%s`", registry);
		}
		if (found) {
			auth_session_set_credentials(s, user, password);
			snprintf(s->source, sizeof(s->source), "%s", source);
		}
		if (password)
			explicit_bzero(password, strlen(password));
	}
	*out = s;
	return 0;
}

void auth_session_set_credentials(struct auth_session *s, const char *user, const char *password)
{
	snprintf(s->source, sizeof(s->source), "the credentials given");
	free(s->user);
	free(s->password);
	free(s->basic);
	s->user = s->password = s->basic = NULL;
	if (user) {
		s->user = xstrdup(user);
		s->password = xstrdup(password ? password : "");
	}
}

static void token_clear(struct cached_token *t)
{
	free(t->scope);
	free(t->value);
	memset(t, 0, sizeof(*t));
}

void auth_session_free(struct auth_session *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < TOKEN_CACHE; i++)
		token_clear(&s->tokens[i]);
	free(s->registry);
	free(s->user);
	free(s->password);
	free(s->basic);
	free(s);
}

static struct cached_token *token_find(struct auth_session *s, const char *scope)
{
	for (size_t i = 0; i < TOKEN_CACHE; i++) {
		struct cached_token *t = &s->tokens[i];
		if (t->value && strcmp(t->scope, scope ? scope : "") == 0) {
			if (now_mono() < t->expires)
				return t;
			log_debug("auth: token for `%s` expired", t->scope);
			token_clear(t);
		}
	}
	return NULL;
}

static const char *current_auth(struct auth_session *s, const char *scope)
{
	struct cached_token *t = token_find(s, scope);

	if (t)
		return t->value;
	return s->basic;
}

/* GET the token server and cache the token for `scope`. */
static int fetch_token(struct auth_session *s, const struct auth_challenge *ch, const char *scope,
		       struct berr **err)
{
	_cleanup_free_ char *url = NULL, *basic = NULL, *body = NULL, *token = NULL;
	const char *want = scope && *scope ? scope : ch->scope;
	struct http_request req = { .method = "GET", .max_redirects = -1 };
	struct http_response *r = NULL;
	struct cached_token *slot;
	int64_t expires_in;
	size_t len;

	if (ch->realm[0] == '\0')
		return berr_make(err, 0, "registry `%s` asked for a bearer token without a realm",
				 s->registry);
	url = auth_token_url(ch->realm, ch->service, want);
	if (url == NULL)
		return berr_make(err, ENOMEM, "token URL");
	if (s->user && auth_basic_value(s->user, s->password, &basic, err) < 0)
		return -1;
	req.url = url;
	req.authorization = basic;
	if (http_send(s->http, &req, &r, err) < 0)
		return berr_wrap(err, "token for registry `%s`", s->registry);
	if (r->status == 401 || r->status == 403) {
		http_response_free(r);
		if (s->user)
			return berr_usage(err, "token server `%s` refused user `%s` (HTTP 401/403) for "
					  "registry `%s`: check the username and password in %s",
					  ch->realm, s->user, s->registry, s->source);
		return berr_usage(err, "token server `%s` wants credentials for registry `%s`: run "
				  "`berth login %s`, or set `username` and `password` in "
				  "[registry \"%s\"] in berth.conf", ch->realm, s->registry,
				  s->registry, s->registry);
	}
	if (r->status != 200) {
		http_status_error(r, err);
		http_response_free(r);
		return berr_wrap(err, "token for registry `%s`", s->registry);
	}
	if (http_read_all(r, AUTH_MAX_TOKEN_RESPONSE, &body, &len, err) < 0 ||
	    auth_parse_token_response(body, len, &token, &expires_in, err) < 0) {
		http_response_free(r);
		return berr_wrap(err, "token from `%s` for registry `%s`", ch->realm, s->registry);
	}
	http_response_free(r);

	slot = &s->tokens[s->next_slot];
	s->next_slot = (s->next_slot + 1) % TOKEN_CACHE;
	token_clear(slot);
	slot->scope = xstrdup(scope ? scope : "");
	slot->value = xasprintf("Bearer %s", token);
	/* Renew a little early so a token does not expire between check and use. */
	slot->expires = now_mono() + (time_t) expires_in - (expires_in > 30 ? 10 : 0);
	log_debug("auth: token for `%s` scope `%s`, expires in %lld s", s->registry, slot->scope,
		  (long long) expires_in);
	return 0;
}

static int answer_challenge(struct auth_session *s, struct http_response *r, const char *scope,
			    bool retried, struct berr **err)
{
	struct auth_challenge ch[AUTH_MAX_CHALLENGES];
	const struct auth_challenge *bearer = NULL, *basic = NULL;
	size_t n_all = 0;

	for (size_t i = 0; i < r->head.n_headers; i++) {
		size_t n = 0;
		if (strcasecmp(r->head.headers[i].name, "WWW-Authenticate") != 0)
			continue;
		if (auth_parse_challenges(r->head.headers[i].value, ch + n_all,
					  AUTH_MAX_CHALLENGES - n_all, &n, err) < 0)
			return berr_wrap(err, "registry `%s`", s->registry);
		n_all += n;
	}
	for (size_t i = 0; i < n_all; i++) {
		if (ch[i].scheme == AUTH_SCHEME_BEARER && bearer == NULL)
			bearer = &ch[i];
		else if (ch[i].scheme == AUTH_SCHEME_BASIC && basic == NULL)
			basic = &ch[i];
	}
	if (bearer) {
		if (retried && s->user)
			return berr_usage(err, "registry `%s` refused the token it issued for user "
					  "`%s`%s%s: check the user's access to `%s`", s->registry,
					  s->user, bearer->error[0] ? ": " : "", bearer->error,
					  scope ? scope : "the repository");
		if (retried)
			return berr_usage(err, "registry `%s` refused anonymous access%s%s: run "
					  "`berth login %s`, or set `username` and `password` in "
					  "[registry \"%s\"] in berth.conf", s->registry,
					  scope ? " to " : "", scope ? scope : "", s->registry,
					  s->registry);
		return fetch_token(s, bearer, scope, err);
	}
	if (basic) {
		if (s->user == NULL)
			return berr_usage(err, "registry `%s` requires a user name and password: "
					  "run `berth login %s`, or set `username` and `password` in "
					  "[registry \"%s\"] in berth.conf", s->registry, s->registry,
					  s->registry);
		if (retried || s->basic)
			return berr_usage(err, "registry `%s` refused user `%s` (HTTP 401): check "
					  "the username and password in %s", s->registry, s->user,
					  s->source);
		return auth_basic_value(s->user, s->password, &s->basic, err);
	}
	return berr_make(err, 0, "registry `%s` answered 401 without a Basic or Bearer challenge",
			 s->registry);
}

int auth_send(struct auth_session *s, const char *scope, const struct http_request *req,
	      struct http_response **out, struct berr **err)
{
	struct http_request r2 = *req;

	for (int attempt = 0;; attempt++) {
		struct http_response *r = NULL;
		struct berr *e = NULL;
		char *sink = NULL;

		r2.authorization = current_auth(s, scope);
		if (http_send(s->http, &r2, &r, err) < 0)
			return -1;
		if (r->status != 401) {
			*out = r;
			return 0;
		}
		/* Read the small error body so the connection can carry the retry. */
		if (http_read_all(r, 65536, &sink, NULL, &e) < 0)
			berr_free(e);
		free(sink);
		if (answer_challenge(s, r, scope, attempt > 0, err) < 0) {
			http_response_free(r);
			return berr_wrap(err, "%s %s", req->method, req->url);
		}
		http_response_free(r);
		if (attempt > 0)
			return berr_make(err, 0, "%s %s: still unauthorized", req->method, req->url);
	}
}
