/* TLS client connections over an already connected socket, on mbedtls (2.28, with 3.x in mind).
 * TLS 1.2 or newer, SNI, certificate chain and host name (or IP address) verification. */
#ifndef BERTH_TLS_H
#define BERTH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct berr;
struct tls_conn;

#define TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

struct tls_opts {
	const char *ca_file;   /* PEM bundle; NULL: TLS_SYSTEM_CA_FILE */
	bool insecure;         /* skip certificate verification (only when configured) */
	int timeout_ms;        /* for the handshake and each later read or write */
};

/* Whether this build has TLS at all (Kconfig ENABLE_TLS). */
bool tls_available(void);

/* Run the handshake on connected socket `fd` (not owned: tls_close leaves it open) with server
 * name `host` (a DNS name or an IP literal without brackets). */
int tls_connect(int fd, const char *host, const struct tls_opts *opts, struct tls_conn **out,
		struct berr **err);
/* Read up to n bytes; returns the count, 0 when the peer closed, < 0 on error or timeout. */
ssize_t tls_read(struct tls_conn *c, void *buf, size_t n, struct berr **err);
/* Write all n bytes, or fail. */
int tls_write(struct tls_conn *c, const void *buf, size_t n, struct berr **err);
/* Bytes already decrypted and waiting in the TLS layer (so poll on the fd would miss them). */
size_t tls_pending(struct tls_conn *c);
void tls_set_timeout(struct tls_conn *c, int timeout_ms);
/* Send close_notify (best effort) and free; NULL is fine. */
void tls_close(struct tls_conn *c);

#endif
