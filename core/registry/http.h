/* berth's HTTP/1.1 client: connections over TCP (IPv4/IPv6) or TLS, optionally tunnelled through
 * an HTTP proxy with CONNECT, kept alive and reused; requests with redirects, Range and bounded,
 * streamed responses. Authentication lives one layer up, in registry/auth. */
#ifndef BERTH_HTTP_H
#define BERTH_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "registry/http_parse.h"

struct berr;
struct berth_config;
struct http_client;
struct http_conn;

#define HTTP_MAX_REDIRECTS 5
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 30000
#define HTTP_DEFAULT_READ_TIMEOUT_MS 60000
#define HTTP_MAX_HOST 256
#define HTTP_MAX_PATH 8192

struct http_url {
	bool https;
	char host[HTTP_MAX_HOST];   /* without IPv6 brackets, lower-case */
	unsigned port;
	char path[HTTP_MAX_PATH];   /* path and query, at least "/" */
};

/* Parse an absolute http:// or https:// URL. Userinfo and fragments are refused. */
int http_url_parse(const char *url, struct http_url *u, struct berr **err);
/* "host:port" as berth.conf's [registry "..."] names it: the port only if not the default,
 * IPv6 in brackets. */
void http_url_hostport(const struct http_url *u, char *buf, size_t size);
/* Resolve a Location value (absolute, scheme-relative, absolute-path or relative) against
 * `base`. Returns a malloc'ed absolute URL or NULL on error. */
char *http_url_resolve(const char *base, const char *location, struct berr **err);
/* Same scheme, host and port (RFC 6454 origin). */
bool http_url_same_origin(const struct http_url *a, const struct http_url *b);
/* localhost, 127.0.0.0/8 and ::1: where plain http is allowed without configuration. */
bool http_host_is_loopback(const char *host);
/* NO_PROXY matching: "*", exact hosts, domain suffixes (".example.com" or "example.com"),
 * with an optional ":port". Exposed for tests. */
bool http_no_proxy_match(const char *no_proxy, const char *host, unsigned port);

struct http_client_opts {
	const struct berth_config *cfg; /* not owned, may be NULL: [registry] ca-file, insecure */
	int connect_timeout_ms;         /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
	int read_timeout_ms;            /* a read stalled this long fails; 0: the default */
	const char *ca_file;            /* overrides the per-registry ca-file (tests, tools) */
	bool insecure;                  /* skip TLS verification and allow plain http everywhere */
	bool no_proxy;                  /* ignore the proxy environment variables */
};

int http_client_new(const struct http_client_opts *opts, struct http_client **out,
		    struct berr **err);
/* Closes the idle connections. Responses still open must be freed first. */
void http_client_free(struct http_client *c);

struct http_request {
	const char *method;              /* "GET", "HEAD", "PUT", ... */
	const char *url;
	const char *authorization;       /* Authorization value; never sent to another origin */
	const char *const *headers;      /* extra "Name: value" lines, NULL-terminated, or NULL */
	const void *body;                /* request body (not owned), or NULL */
	size_t body_len;
	bool range;                      /* send "Range: bytes=<range_from>-" */
	uint64_t range_from;
	int max_redirects;               /* < 0: HTTP_MAX_REDIRECTS; 0: do not follow */
};

/* A response whose head has arrived; the body is read with http_read(). */
struct http_response {
	int status;
	struct http_head head;           /* fields: http_head_get(&r->head, "Name") */
	char *url;                       /* the URL that answered, after redirects */
	const char *method;              /* not owned: the method of the final request */
	struct http_body_info body;      /* framing; body.length for Content-Length bodies */
	/* private */
	struct http_client *client;      /* not owned */
	struct http_conn *conn;
	uint64_t remaining;
	uint64_t received;
	struct http_chunked chunked;
	bool done;
};

/* Send a request and read the response head, following redirects (dropping Authorization on
 * a cross-origin hop) and retrying once on a kept-alive connection the server had closed.
 * Any status is a success here; errors name the method, URL and what went wrong. */
int http_send(struct http_client *c, const struct http_request *req, struct http_response **out,
	      struct berr **err);
/* Read up to n body bytes: the count, 0 at the end of the body, < 0 on error (including a
 * stall past the read timeout and a connection closed early). */
ssize_t http_read(struct http_response *r, void *buf, size_t n, struct berr **err);
/* Read the whole body into a NUL-terminated malloc'ed buffer; more than `max` bytes is an
 * error. `len` may be NULL. */
int http_read_all(struct http_response *r, size_t max, char **out, size_t *len, struct berr **err);
/* Frees the response; its connection goes back to the pool if the body was read to its end
 * and the server allows keep-alive, else it is closed. NULL is fine. */
void http_response_free(struct http_response *r);

/* An error for an unexpected status: "METHOD URL: HTTP 404 Not Found" plus a short excerpt of
 * the body when it is text (the registry's JSON errors). Consumes up to 4 KiB of the body. */
int http_status_error(struct http_response *r, struct berr **err);

#endif
