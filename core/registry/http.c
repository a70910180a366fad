/* The HTTP/1.1 client (RFC 9112): connections with poll-based timeouts, proxies through CONNECT,
 * keep-alive pooling, requests, redirects and streamed, bounded responses. */
#include "registry/http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <mbedtls/base64.h>

#include "base/config.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "registry/tls.h"

#define POOL_SIZE 4
#define RBUF_SIZE (HTTP_MAX_HEAD + 1)

struct http_conn {
	int fd;
	struct tls_conn *tls;
	char key[HTTP_MAX_HOST + 32];   /* "https://host:port" it is connected to */
	char host[HTTP_MAX_HOST];       /* for messages */
	int read_timeout_ms;
	bool reused;
	size_t rpos, rlen;
	char rbuf[RBUF_SIZE];
};

struct http_client {
	struct http_client_opts opts;
	char *ca_file;
	struct http_conn *idle[POOL_SIZE];
};

/* ---- URLs ---- */

static bool is_url_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

int http_url_parse(const char *url, struct http_url *u, struct berr **err)
{
	const char *p, *host_end, *path;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(url, "https://", 8) == 0) {
		u->https = true;
		u->port = 443;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		u->port = 80;
		p = url + 7;
	} else {
		return berr_make(err, 0, "URL `%.200s`: only http:// and https:// are supported", url);
	}
	for (const char *q = url; *q; q++)
		if (!is_url_char((unsigned char) *q))
			return berr_make(err, 0, "URL `%.200s` has a space or control character", url);
	path = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t) (path - p)) != NULL)
		return berr_make(err, 0, "URL `%.200s`: credentials in URLs are not supported", url);
	if (*p == '[') {
		const char *rb = memchr(p, ']', (size_t) (path - p));
		if (rb == NULL)
			return berr_make(err, 0, "URL `%.200s`: unterminated IPv6 address", url);
		hl = (size_t) (rb - p - 1);
		if (hl == 0 || hl >= sizeof(u->host))
			return berr_make(err, 0, "URL `%.200s`: bad host", url);
		memcpy(u->host, p + 1, hl);
		host_end = rb + 1;
		if (strspn(u->host, "0123456789abcdefABCDEF:.") != hl)
			return berr_make(err, 0, "URL `%.200s`: bad IPv6 address", url);
	} else {
		host_end = p + strcspn(p, ":/?#");
		if (host_end > path)
			host_end = path;
		hl = (size_t) (host_end - p);
		if (hl == 0 || hl >= sizeof(u->host))
			return berr_make(err, 0, "URL `%.200s`: bad host", url);
		memcpy(u->host, p, hl);
		for (size_t i = 0; i < hl; i++) {
			unsigned char c = (unsigned char) u->host[i];
			if (!isalnum(c) && c != '-' && c != '.' && c != '_')
				return berr_make(err, 0, "URL `%.200s`: bad host", url);
		}
	}
	for (char *h = u->host; *h; h++)
		*h = (char) tolower((unsigned char) *h);
	if (*host_end == ':') {
		uint64_t port;
		const char *ps = host_end + 1;
		if (path == ps)
			; /* "host:" means the default port (RFC 3986 section 3.2.3) */
		else if (http_parse_u64(ps, (size_t) (path - ps), &port) < 0 || port == 0 ||
			 port > 65535)
			return berr_make(err, 0, "URL `%.200s`: bad port", url);
		else
			u->port = (unsigned) port;
	} else if (host_end != path) {
		return berr_make(err, 0, "URL `%.200s`: bad host", url);
	}
	{
		size_t pl = strcspn(path, "#");
		if (pl + 2 > sizeof(u->path))
			return berr_make(err, 0, "URL `%.200s...` is too long", url);
		if (*path != '/')
			u->path[0] = '/';
		memcpy(u->path + (*path != '/'), path, pl);
	}
	return 0;
}

void http_url_hostport(const struct http_url *u, char *buf, size_t size)
{
	bool v6 = strchr(u->host, ':') != NULL;
	bool dflt = u->port == (u->https ? 443u : 80u);

	if (dflt)
		snprintf(buf, size, v6 ? "[%s]" : "%s", u->host);
	else
		snprintf(buf, size, v6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
}

bool http_url_same_origin(const struct http_url *a, const struct http_url *b)
{
	return a->https == b->https && a->port == b->port && strcmp(a->host, b->host) == 0;
}

char *http_url_resolve(const char *base, const char *loc, struct berr **err)
{
	struct http_url b;
	char hp[HTTP_MAX_HOST + 16];
	const char *scheme;

	if (strncasecmp(loc, "http://", 7) == 0 || strncasecmp(loc, "https://", 8) == 0)
		return xstrdup(loc);
	if (http_url_parse(base, &b, err) < 0)
		return NULL;
	scheme = b.https ? "https:" : "http:";
	if (loc[0] == '/' && loc[1] == '/')
		return xasprintf("%s%s", scheme, loc);
	http_url_hostport(&b, hp, sizeof(hp));
	if (loc[0] == '/')
		return xasprintf("%s//%s%s", scheme, hp, loc);
	if (loc[0] == '?') {
		b.path[strcspn(b.path, "?")] = '\0';
		return xasprintf("%s//%s%s%s", scheme, hp, b.path, loc);
	}
	/* A relative path replaces the last segment of the base path. */
	b.path[strcspn(b.path, "?")] = '\0';
	*(strrchr(b.path, '/') + 1) = '\0';
	return xasprintf("%s//%s%s%s", scheme, hp, b.path, loc);
}

bool http_host_is_loopback(const char *host)
{
	struct in_addr a4;

	if (strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0)
		return true;
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

bool http_no_proxy_match(const char *no_proxy, const char *host, unsigned port)
{
	const char *p = no_proxy;
	size_t hl = strlen(host);

	while (p && *p) {
		char ent[HTTP_MAX_HOST + 16];
		size_t n;
		char *colon, *e;
		unsigned eport = 0;

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (n >= sizeof(ent)) {
			p += n;
			continue;
		}
		memcpy(ent, p, n);
		ent[n] = '\0';
		p += n;
		if (strcmp(ent, "*") == 0)
			return true;
		e = ent;
		if (*e == '[') {
			char *rb = strchr(e, ']');
			if (rb == NULL)
				continue;
			*rb = '\0';
			e++;
			if (rb[1] == ':')
				eport = (unsigned) atoi(rb + 2);
		} else if ((colon = strrchr(e, ':')) != NULL && strchr(e, ':') == colon) {
			*colon = '\0';
			eport = (unsigned) atoi(colon + 1);
		}
		if (eport != 0 && eport != port)
			continue;
		if (*e == '*')
			e++;
		if (*e == '.')
			e++;
		n = strlen(e);
		if (n == 0)
			continue;
		if (strcasecmp(host, e) == 0)
			return true;
		if (hl > n && host[hl - n - 1] == '.' && strcasecmp(host + hl - n, e) == 0)
			return true;
	}
	return false;
}

/* ---- per-registry settings ---- */

static const struct cfg_registry *find_registry(const struct http_client *c,
						const struct http_url *u)
{
	char hp[HTTP_MAX_HOST + 16];
	const struct cfg_registry *r;

	if (c->opts.cfg == NULL)
		return NULL;
	http_url_hostport(u, hp, sizeof(hp));
	r = config_find_registry(c->opts.cfg, hp);
	if (r == NULL) {
		/* [registry "host:443"] also names https://host. */
		bool v6 = strchr(u->host, ':') != NULL;
		snprintf(hp, sizeof(hp), v6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
		r = config_find_registry(c->opts.cfg, hp);
	}
	return r;
}

/* ---- client ---- */

int http_client_new(const struct http_client_opts *opts, struct http_client **out,
		    struct berr **err)
{
	struct http_client *c = xcalloc(1, sizeof(*c));

	c->opts = *opts;
	if (c->opts.connect_timeout_ms <= 0)
		c->opts.connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	if (c->opts.read_timeout_ms <= 0)
		c->opts.read_timeout_ms = HTTP_DEFAULT_READ_TIMEOUT_MS;
	if (opts->ca_file)
		c->ca_file = xstrdup(opts->ca_file);
	c->opts.ca_file = c->ca_file;
	*out = c;
	return 0;
}

static void conn_close(struct http_conn *k)
{
	if (k == NULL)
		return;
	tls_close(k->tls);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

void http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < POOL_SIZE; i++)
		conn_close(c->idle[i]);
	free(c->ca_file);
	free(c);
}

/* ---- raw I/O on a connection ---- */

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

static int conn_write(struct http_conn *k, const void *buf, size_t n, struct berr **err)
{
	const char *p = buf;

	if (k->tls)
		return tls_write(k->tls, buf, n, err);
	while (n > 0) {
		ssize_t w;
		if (wait_fd(k->fd, POLLOUT, k->read_timeout_ms) < 0)
			return berr_make(err, errno, "send to `%s`", k->host);
		w = send(k->fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return berr_make(err, errno, "send to `%s`", k->host);
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

static int stall_error(struct http_conn *k, struct berr **err)
{
	return berr_make(err, ETIMEDOUT, "no data from `%s` for %d s (stalled connection); check "
			 "the network or the proxy", k->host, k->read_timeout_ms / 1000);
}

/* Read into buf from the network (not the buffer): count, 0 on EOF, < 0 on error. */
static ssize_t conn_read_raw(struct http_conn *k, void *buf, size_t n, struct berr **err)
{
	if (k->tls) {
		struct berr *e = NULL;
		ssize_t r = tls_read(k->tls, buf, n, &e);
		if (r < 0) {
			if (e && e->errcode == ETIMEDOUT) {
				berr_free(e);
				return stall_error(k, err);
			}
			if (err && !*err)
				*err = e;
			else
				berr_free(e);
			return berr_wrap(err, "receive from `%s`", k->host);
		}
		return r;
	}
	for (;;) {
		ssize_t r;
		if (wait_fd(k->fd, POLLIN, k->read_timeout_ms) < 0)
			return errno == ETIMEDOUT ? stall_error(k, err)
						  : berr_make(err, errno, "receive from `%s`", k->host);
		r = recv(k->fd, buf, n, 0);
		if (r >= 0)
			return r;
		if (errno != EAGAIN && errno != EINTR)
			return berr_make(err, errno, "receive from `%s`", k->host);
	}
}

/* Append network bytes to the read buffer; 0 on EOF, count, or < 0. */
static ssize_t conn_fill(struct http_conn *k, struct berr **err)
{
	ssize_t r;

	if (k->rpos > 0) {
		memmove(k->rbuf, k->rbuf + k->rpos, k->rlen - k->rpos);
		k->rlen -= k->rpos;
		k->rpos = 0;
	}
	if (k->rlen >= sizeof(k->rbuf))
		return berr_make(err, 0, "read buffer full");
	r = conn_read_raw(k, k->rbuf + k->rlen, sizeof(k->rbuf) - k->rlen, err);
	if (r > 0)
		k->rlen += (size_t) r;
	return r;
}

/* Whether an idle connection is still usable: nothing to read, no EOF. */
static bool conn_alive(struct http_conn *k)
{
	struct pollfd p = { .fd = k->fd, .events = POLLIN };

	if (k->rlen != k->rpos || (k->tls && tls_pending(k->tls) > 0))
		return false;
	return poll(&p, 1, 0) == 0;
}

/* ---- connecting ---- */

static int tcp_connect(struct http_client *c, const char *host, unsigned port, struct berr **err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char ports[8];
	int r, last_errno = 0;

	snprintf(ports, sizeof(ports), "%u", port);
	r = getaddrinfo(host, ports, &hints, &res);
	if (r != 0)
		return berr_make(err, 0, "cannot resolve `%s`: %s; check the name and DNS", host,
				 r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		int soerr = 0, one = 1;
		socklen_t sl = sizeof(soerr);

		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				last_errno = errno;
				close(fd);
				continue;
			}
			if (wait_fd(fd, POLLOUT, c->opts.connect_timeout_ms) < 0) {
				last_errno = errno;
				close(fd);
				continue;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
				last_errno = soerr ? soerr : errno;
				close(fd);
				continue;
			}
		}
		(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		freeaddrinfo(res);
		return fd;
	}
	freeaddrinfo(res);
	if (last_errno == ETIMEDOUT)
		return berr_make(err, 0, "connect to `%s` port %u: no answer in %d s", host, port,
				 c->opts.connect_timeout_ms / 1000);
	return berr_make(err, last_errno, "connect to `%s` port %u", host, port);
}

struct proxy {
	struct http_url url;
	char auth[512];      /* "Basic ..." or "" */
};

/* The proxy for a URL from HTTPS_PROXY / HTTP_PROXY (either case), unless NO_PROXY matches. */
static int proxy_for(const struct http_client *c, const struct http_url *u, struct proxy *px,
		     bool *use, struct berr **err)
{
	const char *v, *np;
	char tmp[HTTP_MAX_PATH];
	const char *at;

	*use = false;
	if (c->opts.no_proxy)
		return 0;
	v = u->https ? getenv("https_proxy") : getenv("http_proxy");
	if (v == NULL || *v == '\0')
		v = u->https ? getenv("HTTPS_PROXY") : getenv("HTTP_PROXY");
	if (v == NULL || *v == '\0')
		return 0;
	np = getenv("no_proxy");
	if (np == NULL || *np == '\0')
		np = getenv("NO_PROXY");
	if (np && http_no_proxy_match(np, u->host, u->port))
		return 0;
	memset(px, 0, sizeof(*px));
	/* "host:port" without a scheme means http://. Userinfo becomes Proxy-Authorization. */
	if (strstr(v, "://") == NULL)
		snprintf(tmp, sizeof(tmp), "http://%s", v);
	else
		snprintf(tmp, sizeof(tmp), "%s", v);
	at = strrchr(tmp, '@');
	if (at) {
		char *s = strstr(tmp, "://") + 3;
		unsigned char b64[400];
		size_t bl = 0, ul = (size_t) (at - s);
		if (at < s || mbedtls_base64_encode(b64, sizeof(b64), &bl, (unsigned char *) s, ul) != 0)
			return berr_usage(err, "proxy setting is malformed");
		snprintf(px->auth, sizeof(px->auth), "Basic %.*s", (int) bl, b64);
		memmove(s, at + 1, strlen(at + 1) + 1);
	}
	if (strncasecmp(tmp, "http://", 7) != 0)
		return berr_usage(err, "proxy `%.200s`: only http:// proxies are supported", tmp);
	if (http_url_parse(tmp, &px->url, err) < 0)
		return berr_wrap(err, "proxy setting");
	*use = true;
	return 0;
}

static int read_head(struct http_conn *k, struct http_head *h, bool skip_1xx, struct berr **err);

/* CONNECT host:port through the proxy (RFC 9110 section 9.3.6). */
static int proxy_connect(struct http_conn *k, const struct proxy *px, const struct http_url *u,
			 struct berr **err)
{
	char req[1024], hp[HTTP_MAX_HOST + 16];
	struct http_head h;
	bool v6 = strchr(u->host, ':') != NULL;
	int n;

	snprintf(hp, sizeof(hp), v6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
	n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", hp, hp,
		     px->auth[0] ? "Proxy-Authorization: " : "", px->auth, px->auth[0] ? "\r\n" : "");
	if (n < 0 || (size_t) n >= sizeof(req))
		return berr_make(err, 0, "CONNECT request too long");
	if (conn_write(k, req, (size_t) n, err) < 0 || read_head(k, &h, true, err) < 0)
		return berr_wrap(err, "proxy `%s` CONNECT %s", px->url.host, hp);
	if (h.status < 200 || h.status > 299) {
		int st = h.status;
		http_head_free(&h);
		return berr_make(err, 0, "proxy `%s` refused CONNECT %s: HTTP %d%s", px->url.host, hp,
				 st, st == 407 ? "; put credentials in HTTPS_PROXY as "
						 "http://user:password@host:port" : "");
	}
	http_head_free(&h);
	/* Whatever the proxy sent after its answer belongs to the tunnel; there must be none. */
	if (k->rlen != k->rpos)
		return berr_make(err, 0, "proxy `%s` sent data before the tunnel was up", px->url.host);
	k->rpos = k->rlen = 0;
	return 0;
}

static void conn_key(const struct http_url *u, char *buf, size_t size)
{
	snprintf(buf, size, "%s://%s:%u", u->https ? "https" : "http", u->host, u->port);
}

static int conn_open(struct http_client *c, const struct http_url *u, struct http_conn **out,
		     struct berr **err)
{
	const struct cfg_registry *reg = find_registry(c, u);
	struct proxy px;
	bool use_proxy;
	struct http_conn *k;

	if (proxy_for(c, u, &px, &use_proxy, err) < 0)
		return -1;
	k = malloc(sizeof(*k));
	if (k == NULL)
		return berr_make(err, ENOMEM, "connection to `%s`", u->host);
	k->fd = -1;
	k->tls = NULL;
	k->reused = false;
	k->rpos = k->rlen = 0;
	k->read_timeout_ms = c->opts.read_timeout_ms;
	conn_key(u, k->key, sizeof(k->key));
	snprintf(k->host, sizeof(k->host), "%s", u->host);

	if (use_proxy) {
		log_debug("http: %s via proxy %s:%u", k->key, px.url.host, px.url.port);
		k->fd = tcp_connect(c, px.url.host, px.url.port, err);
		if (k->fd < 0 || proxy_connect(k, &px, u, err) < 0) {
			conn_close(k);
			return berr_wrap(err, "proxy `%s:%u`", px.url.host, px.url.port);
		}
	} else {
		k->fd = tcp_connect(c, u->host, u->port, err);
		if (k->fd < 0) {
			conn_close(k);
			return -1;
		}
	}
	if (u->https) {
		struct tls_opts to = {
			.ca_file = c->opts.ca_file ? c->opts.ca_file : reg ? reg->ca_file : NULL,
			.insecure = c->opts.insecure || (reg && reg->insecure),
			.timeout_ms = c->opts.read_timeout_ms,
		};
		if (tls_connect(k->fd, u->host, &to, &k->tls, err) < 0) {
			conn_close(k);
			return -1;
		}
	}
	*out = k;
	return 0;
}

static struct http_conn *pool_take(struct http_client *c, const struct http_url *u)
{
	char key[HTTP_MAX_HOST + 32];

	conn_key(u, key, sizeof(key));
	for (size_t i = 0; i < POOL_SIZE; i++) {
		struct http_conn *k = c->idle[i];
		if (k == NULL || strcmp(k->key, key) != 0)
			continue;
		c->idle[i] = NULL;
		if (!conn_alive(k)) {
			conn_close(k);
			continue;
		}
		k->reused = true;
		return k;
	}
	return NULL;
}

static void pool_put(struct http_client *c, struct http_conn *k)
{
	k->rpos = k->rlen = 0;
	for (size_t i = 0; i < POOL_SIZE; i++) {
		if (c->idle[i] == NULL) {
			c->idle[i] = k;
			return;
		}
	}
	/* Pool full: replace the oldest slot. */
	conn_close(c->idle[0]);
	memmove(&c->idle[0], &c->idle[1], sizeof(c->idle[0]) * (POOL_SIZE - 1));
	c->idle[POOL_SIZE - 1] = k;
}

/* ---- request and response head ---- */

static int read_head(struct http_conn *k, struct http_head *h, bool skip_1xx, struct berr **err)
{
	for (;;) {
		int used = http_head_parse(k->rbuf + k->rpos, k->rlen - k->rpos, h, err);
		if (used < 0)
			return berr_wrap(err, "bad response from `%s`", k->host);
		if (used > 0) {
			k->rpos += (size_t) used;
			/* Interim answers (100 Continue) come before the real one (RFC 9110 15.2). */
			if (skip_1xx && h->status >= 100 && h->status < 200 && h->status != 101) {
				http_head_free(h);
				continue;
			}
			return 0;
		}
		ssize_t r = conn_fill(k, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return berr_make(err, ECONNRESET, "`%s` closed the connection before answering",
					 k->host);
	}
}

static bool header_line_ok(const char *s)
{
	const char *colon = strchr(s, ':');

	if (colon == NULL || colon == s)
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n' || (p < colon && (*p == ' ' || *p == '\t')))
			return false;
	return true;
}

static char *build_request(struct http_client *c, const struct http_url *u, const char *method,
			   const struct http_request *req, const char *auth, bool send_body,
			   size_t *len, struct berr **err)
{
	char hp[HTTP_MAX_HOST + 16];
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	for (const char *m = method; *m; m++)
		if (!isupper((unsigned char) *m))
			return berr_make(err, 0, "bad method `%s`", method), NULL;
	if (auth && strpbrk(auth, "\r\n"))
		return berr_make(err, 0, "bad Authorization value"), NULL;
	for (const char *const *hl = req->headers; hl && *hl; hl++)
		if (!header_line_ok(*hl))
			return berr_make(err, 0, "bad request header `%.100s`", *hl), NULL;
	f = open_memstream(&buf, &size);
	if (f == NULL)
		return berr_make(err, errno, "request buffer"), NULL;
	http_url_hostport(u, hp, sizeof(hp));
	fprintf(f, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: berth/%s\r\n", method, u->path, hp,
		BERTH_VERSION);
	if (auth)
		fprintf(f, "Authorization: %s\r\n", auth);
	if (req->range)
		fprintf(f, "Range: bytes=%llu-\r\n", (unsigned long long) req->range_from);
	if (send_body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	    strcmp(method, "PATCH") == 0)
		fprintf(f, "Content-Length: %zu\r\n", send_body ? req->body_len : 0);
	for (const char *const *hl = req->headers; hl && *hl; hl++)
		fprintf(f, "%s\r\n", *hl);
	fputs("\r\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return berr_make(err, ENOMEM, "request buffer"), NULL;
	}
	(void) c;
	*len = size;
	return buf;
}

static void response_destroy(struct http_response *r)
{
	http_head_free(&r->head);
	free(r->url);
	free(r);
}

/* One request on one connection, no redirects. */
static int send_once(struct http_client *c, const char *url, const char *method,
		     const struct http_request *req, const char *auth, bool send_body,
		     struct http_response **out, struct berr **err)
{
	struct http_url u;
	const struct cfg_registry *reg;
	_cleanup_free_ char *head = NULL;
	size_t head_len;
	bool is_head = strcmp(method, "HEAD") == 0;

	if (http_url_parse(url, &u, err) < 0)
		return -1;
	reg = find_registry(c, &u);
	if (!u.https && !c->opts.insecure && !(reg && (reg->insecure || reg->plain_http)) &&
	    !http_host_is_loopback(u.host))
		return berr_usage(err, "plain http to `%s` is refused: use https, or set "
				  "`plain-http = yes` (or `insecure = yes`) in [registry \"%s:%u\"] in "
				  "berth.conf", u.host, u.host, u.port);
	head = build_request(c, &u, method, req, auth, send_body, &head_len, err);
	if (head == NULL)
		return -1;

	for (int attempt = 0;; attempt++) {
		struct http_conn *k = attempt == 0 ? pool_take(c, &u) : NULL;
		struct http_response *r;
		struct berr *e = NULL;
		bool reused;

		if (k == NULL && conn_open(c, &u, &k, err) < 0)
			return -1;
		reused = k->reused;
		if (conn_write(k, head, head_len, &e) < 0 ||
		    (send_body && req->body_len > 0 && conn_write(k, req->body, req->body_len, &e) < 0)) {
			conn_close(k);
			if (reused && attempt == 0) {
				berr_free(e);
				continue;
			}
			if (err && !*err)
				*err = e;
			else
				berr_free(e);
			return -1;
		}
		r = xcalloc(1, sizeof(*r));
		if (read_head(k, &r->head, true, &e) < 0) {
			bool nothing = k->rlen == 0;
			conn_close(k);
			free(r);
			/* A kept-alive connection the server closed meanwhile: try a fresh one. */
			if (reused && attempt == 0 && nothing) {
				berr_free(e);
				continue;
			}
			if (err && !*err)
				*err = e;
			else
				berr_free(e);
			return -1;
		}
		if (http_body_info(&r->head, is_head, &r->body, err) < 0) {
			conn_close(k);
			response_destroy(r);
			return berr_wrap(err, "bad response from `%s`", u.host);
		}
		r->status = r->head.status;
		r->url = xstrdup(url);
		r->method = method;
		r->client = c;
		r->conn = k;
		r->remaining = r->body.length;
		http_chunked_init(&r->chunked);
		r->done = r->body.framing == HTTP_BODY_NONE ||
			  (r->body.framing == HTTP_BODY_LENGTH && r->body.length == 0);
		*out = r;
		return 0;
	}
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int http_send(struct http_client *c, const struct http_request *req, struct http_response **out,
	      struct berr **err)
{
	int max = req->max_redirects < 0 ? HTTP_MAX_REDIRECTS : req->max_redirects;
	_cleanup_free_ char *url = xstrdup(req->url);
	const char *method = req->method;
	const char *auth = req->authorization;
	bool send_body = req->body != NULL;
	struct http_url first;

	*out = NULL;
	if (http_url_parse(req->url, &first, err) < 0)
		return berr_wrap(err, "%s", method);
	for (int hops = 0;; hops++) {
		struct http_response *r = NULL;
		const char *loc;
		char *next;
		struct http_url nu, cu;

		if (send_once(c, url, method, req, auth, send_body, &r, err) < 0)
			return berr_wrap(err, "%s %s", method, url);
		loc = http_head_get(&r->head, "Location");
		if (!is_redirect(r->status) || loc == NULL || max == 0) {
			*out = r;
			return 0;
		}
		if (hops >= max) {
			berr_make(err, 0, "%s %s: more than %d redirects", req->method, req->url, max);
			http_response_free(r);
			return -1;
		}
		next = http_url_resolve(url, loc, err);
		if (next == NULL || http_url_parse(next, &nu, err) < 0 ||
		    http_url_parse(url, &cu, err) < 0) {
			free(next);
			http_response_free(r);
			return berr_wrap(err, "%s %s: bad redirect", method, url);
		}
		/* Credentials for the registry never go to another origin (a CDN, say). */
		if (!http_url_same_origin(&cu, &nu) && auth != NULL) {
			log_debug("http: redirect to %s: dropping Authorization", nu.host);
			auth = NULL;
		}
		if (r->status == 303 ||
		    ((r->status == 301 || r->status == 302) && strcmp(method, "POST") == 0)) {
			if (strcmp(method, "HEAD") != 0)
				method = "GET";
			send_body = false;
		}
		log_debug("http: %d redirect to %s", r->status, next);
		{
			/* Drain a small redirect body so the connection can be reused. */
			char sink[1024];
			struct berr *e = NULL;
			for (int i = 0; i < 16 && http_read(r, sink, sizeof(sink), &e) > 0; i++)
				;
			berr_free(e);
		}
		http_response_free(r);
		free(url);
		url = next;
	}
}

/* ---- body ---- */

static ssize_t take_buffered(struct http_conn *k, void *buf, size_t n)
{
	size_t avail = k->rlen - k->rpos;

	if (n > avail)
		n = avail;
	memcpy(buf, k->rbuf + k->rpos, n);
	k->rpos += n;
	return (ssize_t) n;
}

static ssize_t read_chunked(struct http_response *r, void *buf, size_t n, struct berr **err)
{
	struct http_conn *k = r->conn;

	for (;;) {
		size_t used, dl;
		const char *data;
		if (k->rlen > k->rpos) {
			if (http_chunked_feed(&r->chunked, k->rbuf + k->rpos, k->rlen - k->rpos, n,
					      &used, &data, &dl, err) < 0)
				return berr_wrap(err, "bad chunked body from `%s`", k->host);
			k->rpos += used;
			if (dl > 0) {
				memcpy(buf, data, dl);
				return (ssize_t) dl;
			}
			if (r->chunked.done) {
				r->done = true;
				return 0;
			}
			if (k->rlen > k->rpos)
				continue;
		}
		ssize_t got = conn_fill(k, err);
		if (got < 0)
			return -1;
		if (got == 0)
			return berr_make(err, ECONNRESET, "`%s` closed the connection in the middle "
					 "of a chunked body", k->host);
	}
}

ssize_t http_read(struct http_response *r, void *buf, size_t n, struct berr **err)
{
	struct http_conn *k = r->conn;
	ssize_t got;

	if (r->done || n == 0)
		return 0;
	if (k == NULL)
		return berr_make(err, 0, "response body already closed");
	switch (r->body.framing) {
	case HTTP_BODY_CHUNKED:
		got = read_chunked(r, buf, n, err);
		break;
	case HTTP_BODY_LENGTH:
		if ((uint64_t) n > r->remaining)
			n = (size_t) r->remaining;
		if (k->rlen > k->rpos)
			got = take_buffered(k, buf, n);
		else
			got = conn_read_raw(k, buf, n, err);
		if (got == 0)
			return berr_make(err, ECONNRESET, "`%s` closed the connection after %llu of "
					 "%llu bytes", k->host, (unsigned long long) r->received,
					 (unsigned long long) r->body.length);
		if (got > 0) {
			r->remaining -= (uint64_t) got;
			if (r->remaining == 0)
				r->done = true;
		}
		break;
	case HTTP_BODY_CLOSE:
		if (k->rlen > k->rpos)
			got = take_buffered(k, buf, n);
		else
			got = conn_read_raw(k, buf, n, err);
		if (got == 0)
			r->done = true;
		break;
	default:
		r->done = true;
		return 0;
	}
	if (got > 0)
		r->received += (uint64_t) got;
	return got;
}

int http_read_all(struct http_response *r, size_t max, char **out, size_t *len, struct berr **err)
{
	size_t cap = 4096, n = 0;
	char *buf;

	if (r->body.framing == HTTP_BODY_LENGTH) {
		if (r->body.length > max)
			return berr_make(err, 0, "%s %s: response body of %llu bytes is larger than "
					 "the %zu allowed", r->method, r->url,
					 (unsigned long long) r->body.length, max);
		cap = (size_t) r->body.length + 1;
	}
	buf = xmalloc(cap);
	for (;;) {
		ssize_t got;
		if (cap - n < 2) {
			if (cap > max + 1) {
				free(buf);
				return berr_make(err, 0, "%s %s: response body larger than the %zu bytes "
						 "allowed", r->method, r->url, max);
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		got = http_read(r, buf + n, cap - n - 1, err);
		if (got < 0) {
			free(buf);
			return berr_wrap(err, "%s %s", r->method, r->url);
		}
		if (got == 0)
			break;
		n += (size_t) got;
		if (n > max) {
			free(buf);
			return berr_make(err, 0, "%s %s: response body larger than the %zu bytes "
					 "allowed", r->method, r->url, max);
		}
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

void http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	if (r->conn) {
		if (r->done && r->body.keep_alive && r->conn->rlen == r->conn->rpos)
			pool_put(r->client, r->conn);
		else
			conn_close(r->conn);
	}
	response_destroy(r);
}

int http_status_error(struct http_response *r, struct berr **err)
{
	char body[4096];
	size_t n = 0;
	const char *ct = http_head_get(&r->head, "Content-Type");
	struct berr *e = NULL;

	if (ct && (str_has_prefix(ct, "application/json") || str_has_prefix(ct, "text/"))) {
		while (n < sizeof(body) - 1) {
			ssize_t got = http_read(r, body + n, sizeof(body) - 1 - n, &e);
			if (got <= 0)
				break;
			n += (size_t) got;
		}
		berr_free(e);
	}
	body[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char) body[i] < 0x20)
			body[i] = ' ';
	while (n > 0 && body[n - 1] == ' ')
		body[--n] = '\0';
	if (n > 300)
		strcpy(body + 297, "...");
	return berr_make(err, 0, "%s %s: HTTP %d %s%s%s", r->method, r->url, r->status,
			 r->head.reason ? r->head.reason : "", n ? ": " : "", body);
}
