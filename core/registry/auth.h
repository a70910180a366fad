/* Registry authentication: WWW-Authenticate challenges (RFC 9110 section 11, RFC 7235, RFC 6750),
 * Basic credentials and the distribution-spec token flow, with tokens cached per scope. */
#ifndef BERTH_AUTH_H
#define BERTH_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct berr;
struct berth_config;
struct http_client;
struct http_request;
struct http_response;

#define AUTH_MAX_CHALLENGES 8
#define AUTH_MAX_PARAM 1024          /* realm, service, scope values */
#define AUTH_MAX_TOKEN 16384         /* bytes of a bearer token */
#define AUTH_MAX_TOKEN_RESPONSE 65536
#define AUTH_DEFAULT_EXPIRES_IN 60   /* seconds, when the token server gives none */

enum auth_scheme {
	AUTH_SCHEME_OTHER = 0,
	AUTH_SCHEME_BASIC,
	AUTH_SCHEME_BEARER,
};

struct auth_challenge {
	enum auth_scheme scheme;
	char realm[AUTH_MAX_PARAM];
	char service[AUTH_MAX_PARAM];
	char scope[AUTH_MAX_PARAM];
	char error[64];              /* RFC 6750 error code, e.g. "invalid_token" */
};

/* Parse one WWW-Authenticate field value holding one or more challenges. Schemes other than
 * Basic and Bearer are kept as AUTH_SCHEME_OTHER; more than `max` challenges, unterminated
 * quoted strings, duplicate or oversized parameters are errors. */
int auth_parse_challenges(const char *value, struct auth_challenge *out, size_t max, size_t *n,
			  struct berr **err);

/* "Basic base64(user:password)" (RFC 7617); a user name with ':' is refused. */
int auth_basic_value(const char *user, const char *password, char **out, struct berr **err);

/* The token server's JSON answer: "token" or "access_token" (the first wins), "expires_in"
 * (seconds; AUTH_DEFAULT_EXPIRES_IN if absent). The token must be a b64token (RFC 6750 2.1). */
int auth_parse_token_response(const char *json, size_t len, char **token, int64_t *expires_in,
			      struct berr **err);

/* The URL to ask the token server: realm?service=..&scope=..&scope=.. (scopes are separated
 * by spaces in `scope`), percent-encoded. */
char *auth_token_url(const char *realm, const char *service, const char *scope);

/* An authenticated conversation with one registry. */
struct auth_session;

/* `registry` is "host" or "host:port" as in [registry "..."]; credentials come from that
 * section of `cfg` (may be NULL). `http` is not owned and must outlive the session. */
int auth_session_new(struct http_client *http, const struct berth_config *cfg,
		     const char *registry, struct auth_session **out, struct berr **err);
/* Replace the credentials (berth login, tools). NULL user clears them. */
void auth_session_set_credentials(struct auth_session *s, const char *user, const char *password);
void auth_session_free(struct auth_session *s);

/* Send `req` with the credentials for `scope` ("repository:NAME:pull", may be NULL). On a 401
 * the challenge is answered (Basic, or a token fetched for the scope) and the request sent
 * once more; a second 401 is an error naming the registry and what to check. Other statuses
 * are returned to the caller. A cached token past its expires_in is fetched again. */
int auth_send(struct auth_session *s, const char *scope, const struct http_request *req,
	      struct http_response **out, struct berr **err);

#endif
