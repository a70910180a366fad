/* TLS client on mbedtls: handshake with SNI and verification, reads and writes with timeouts.
 * Only public API is used; where 2.28 and 3.x differ, the shim below picks the right call. */
#include "registry/tls.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <mbedtls/version.h>
#include <mbedtls/asn1.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/oid.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#include <psa/crypto.h>
#endif

#include "base/err.h"
#include "config.h"

struct tls_conn {
	int fd;                /* not owned */
	int timeout_ms;
	bool timed_out;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt ca;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

bool tls_available(void)
{
	return ENABLE_TLS;
}

/* ---- 2.28 / 3.x shim ---- */

static void shim_min_tls12(mbedtls_ssl_config *conf)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	mbedtls_ssl_conf_min_tls_version(conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
}

static int shim_crypto_init(void)
{
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	/* 3.x runs TLS 1.3 key exchange through PSA, which must be initialised first. */
	return psa_crypto_init() == PSA_SUCCESS ? 0 : -1;
#else
	return 0;
#endif
}

/* ---- socket callbacks with poll-based timeouts ---- */

static int wait_fd(struct tls_conn *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int r;

	do
		r = poll(&p, 1, c->timeout_ms > 0 ? c->timeout_ms : -1);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		c->timed_out = true;
		return MBEDTLS_ERR_SSL_TIMEOUT;
	}
	return r < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : 0;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	ssize_t n;

	for (;;) {
		int r = wait_fd(c, POLLOUT);
		if (r < 0)
			return r;
		n = send(c->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return (int) n;
		if (errno != EAGAIN && errno != EINTR)
			return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
								    : MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *c = ctx;
	ssize_t n;

	for (;;) {
		int r = wait_fd(c, POLLIN);
		if (r < 0)
			return r;
		n = recv(c->fd, buf, len, 0);
		if (n >= 0)
			return (int) n;
		if (errno != EAGAIN && errno != EINTR)
			return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
						   : MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

static const char *tls_strerror(int r, char *buf, size_t size)
{
	mbedtls_strerror(r, buf, size);
	return buf;
}

/* ---- IP address subjectAltName check ----
 * mbedtls 2.28 matches only DNS names, so for an IP literal the SAN iPAddress entries
 * (RFC 5280 section 4.2.1.6) are read from the certificate's public DER here. */

static int skip_element(unsigned char **p, const unsigned char *end)
{
	size_t len;

	if (end - *p < 1)
		return -1;
	(*p)++;
	if (mbedtls_asn1_get_len(p, end, &len) != 0)
		return -1;
	*p += len;
	return 0;
}

static bool san_has_ip(unsigned char *p, const unsigned char *end, const unsigned char *ip,
		       size_t ip_len)
{
	size_t len;

	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return false;
	end = p + len;
	while (p < end) {
		if (*p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7)) {
			p++;
			if (mbedtls_asn1_get_len(&p, end, &len) != 0)
				return false;
			if (len == ip_len && memcmp(p, ip, len) == 0)
				return true;
			p += len;
		} else if (skip_element(&p, end) < 0) {
			return false;
		}
	}
	return false;
}

static bool cert_matches_ip(const mbedtls_x509_crt *crt, const unsigned char *ip, size_t ip_len)
{
	unsigned char *p = crt->tbs.p, *end = crt->tbs.p + crt->tbs.len;
	size_t len;

	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return false;
	end = p + len;
	/* version [0], serial, signature, issuer, validity, subject, spki, then [1], [2], [3]. */
	while (p < end && *p != (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3))
		if (skip_element(&p, end) < 0)
			return false;
	if (p >= end)
		return false;
	p++;
	if (mbedtls_asn1_get_len(&p, end, &len) != 0 ||
	    mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return false;
	end = p + len;
	while (p < end) {
		unsigned char *ext_end;
		mbedtls_x509_buf oid;
		int crit;

		if (mbedtls_asn1_get_tag(&p, end, &len,
					 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return false;
		ext_end = p + len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &oid.len, MBEDTLS_ASN1_OID))
			return false;
		oid.p = p;
		p += oid.len;
		if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
		    mbedtls_asn1_get_bool(&p, ext_end, &crit) != 0)
			return false;
		if (mbedtls_asn1_get_tag(&p, ext_end, &len, MBEDTLS_ASN1_OCTET_STRING))
			return false;
		if (oid.len == MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME) &&
		    memcmp(oid.p, MBEDTLS_OID_SUBJECT_ALT_NAME, oid.len) == 0)
			return san_has_ip(p, p + len, ip, ip_len);
		p = ext_end;
	}
	return false;
}

/* ---- public ---- */

static void conn_free(struct tls_conn *c)
{
	mbedtls_ssl_free(&c->ssl);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	free(c);
}

int tls_connect(int fd, const char *host, const struct tls_opts *opts, struct tls_conn **out,
		struct berr **err)
{
	const char *ca = opts->ca_file ? opts->ca_file : TLS_SYSTEM_CA_FILE;
	unsigned char ip[16];
	size_t ip_len = 0;
	struct tls_conn *c;
	char ebuf[160];
	int r;

	if (!ENABLE_TLS)
		return berr_usage(err, "TLS to `%s`: this berth was built without TLS (ENABLE_TLS); "
				  "use a plain http registry on localhost or set `insecure`", host);
	if (inet_pton(AF_INET, host, ip) == 1)
		ip_len = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		ip_len = 16;

	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return berr_make(err, ENOMEM, "TLS to `%s`", host);
	c->fd = fd;
	c->timeout_ms = opts->timeout_ms;
	mbedtls_ssl_init(&c->ssl);
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_entropy_init(&c->entropy);

	if (shim_crypto_init() < 0) {
		conn_free(c);
		return berr_make(err, 0, "TLS to `%s`: cannot initialise the crypto library", host);
	}
	r = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				  (const unsigned char *) "berth-tls", 9);
	if (r != 0) {
		conn_free(c);
		return berr_make(err, 0, "TLS to `%s`: seeding the random generator: %s", host,
				 tls_strerror(r, ebuf, sizeof(ebuf)));
	}
	if (!opts->insecure) {
		r = mbedtls_x509_crt_parse_file(&c->ca, ca);
		/* A bundle with a few unparsable entries (r > 0) is still usable. */
		if (r < 0 || c->ca.version == 0) {
			conn_free(c);
			return berr_usage(err, "TLS to `%s`: cannot load CA certificates from `%s`: %s; "
					  "install ca-certificates or set `ca-file` for this registry "
					  "in berth.conf", host, ca, tls_strerror(r, ebuf, sizeof(ebuf)));
		}
	}
	r = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0) {
		conn_free(c);
		return berr_make(err, 0, "TLS to `%s`: %s", host, tls_strerror(r, ebuf, sizeof(ebuf)));
	}
	shim_min_tls12(&c->conf);
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);
	if (opts->insecure) {
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
	} else {
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	}
	r = mbedtls_ssl_setup(&c->ssl, &c->conf);
	/* SNI carries DNS names only (RFC 6066 section 3); IP literals are checked after the
	 * handshake against the iPAddress SANs. */
	if (r == 0 && ip_len == 0)
		r = mbedtls_ssl_set_hostname(&c->ssl, host);
	if (r != 0) {
		conn_free(c);
		return berr_make(err, 0, "TLS to `%s`: %s", host, tls_strerror(r, ebuf, sizeof(ebuf)));
	}
	mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);

	do
		r = mbedtls_ssl_handshake(&c->ssl);
	while (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (r != 0) {
		uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
		if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0 && flags != (uint32_t) -1) {
			char vbuf[512];
			int n = mbedtls_x509_crt_verify_info(vbuf, sizeof(vbuf), "", flags);
			while (n > 0 && (vbuf[n - 1] == '\n' || vbuf[n - 1] == ' '))
				vbuf[--n] = '\0';
			for (int i = 0; i < n - 1; i++)
				if (vbuf[i] == '\n')
					vbuf[i] = ';';
			conn_free(c);
			return berr_make(err, 0, "TLS to `%s`: certificate verification failed: %s "
					 "(CA certificates from `%s`); set `ca-file` for this registry "
					 "in berth.conf to the CA that signed its certificate", host,
					 vbuf, ca);
		}
		if (c->timed_out) {
			conn_free(c);
			return berr_make(err, ETIMEDOUT, "TLS handshake with `%s`", host);
		}
		conn_free(c);
		return berr_make(err, 0, "TLS handshake with `%s` failed: %s", host,
				 tls_strerror(r, ebuf, sizeof(ebuf)));
	}
	if (ip_len > 0 && !opts->insecure) {
		const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);
		if (peer == NULL || !cert_matches_ip(peer, ip, ip_len)) {
			conn_free(c);
			return berr_make(err, 0, "TLS to `%s`: certificate verification failed: the "
					 "certificate has no IP address subjectAltName for `%s`; "
					 "reissue it with SAN IP:%s or connect by its DNS name",
					 host, host, host);
		}
	}
	*out = c;
	return 0;
}

ssize_t tls_read(struct tls_conn *c, void *buf, size_t n, struct berr **err)
{
	char ebuf[160];
	int r;

	if (!ENABLE_TLS)
		return berr_make(err, 0, "TLS read: built without TLS");
	if (n > INT32_MAX)
		n = INT32_MAX;
	c->timed_out = false;
	do
		r = mbedtls_ssl_read(&c->ssl, buf, n);
	while (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	if (c->timed_out)
		return berr_make(err, ETIMEDOUT, "TLS read");
	if (r == MBEDTLS_ERR_NET_CONN_RESET)
		return berr_make(err, ECONNRESET, "TLS read");
	return berr_make(err, 0, "TLS read: %s", tls_strerror(r, ebuf, sizeof(ebuf)));
}

int tls_write(struct tls_conn *c, const void *buf, size_t n, struct berr **err)
{
	const unsigned char *p = buf;
	char ebuf[160];

	if (!ENABLE_TLS)
		return berr_make(err, 0, "TLS write: built without TLS");
	c->timed_out = false;
	while (n > 0) {
		int r = mbedtls_ssl_write(&c->ssl, p, n);
		if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (r < 0) {
			if (c->timed_out)
				return berr_make(err, ETIMEDOUT, "TLS write");
			if (r == MBEDTLS_ERR_NET_CONN_RESET)
				return berr_make(err, ECONNRESET, "TLS write");
			return berr_make(err, 0, "TLS write: %s", tls_strerror(r, ebuf, sizeof(ebuf)));
		}
		p += r;
		n -= (size_t) r;
	}
	return 0;
}

size_t tls_pending(struct tls_conn *c)
{
	if (!ENABLE_TLS)
		return 0;
	return mbedtls_ssl_get_bytes_avail(&c->ssl);
}

void tls_set_timeout(struct tls_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

void tls_close(struct tls_conn *c)
{
	if (c == NULL || !ENABLE_TLS)
		return;
	c->timeout_ms = 1000;
	(void) mbedtls_ssl_close_notify(&c->ssl);
	conn_free(c);
}
