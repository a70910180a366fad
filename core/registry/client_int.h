/* What client.c shares with push.c: the client's fields and the retry helpers. Not for use
 * outside core/registry. */
#ifndef BERTH_REGISTRY_CLIENT_INT_H
#define BERTH_REGISTRY_CLIENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "image/ref.h"
#include "registry/http.h"

struct auth_session;
struct berr;
struct http_request;
struct http_response;

struct reg_client {
	const struct ref *ref;          /* not owned */
	struct http_client *http;
	struct auth_session *auth;
	char base[HTTP_MAX_HOST + 16];  /* "https://host:port" */
	/* "repository:NAME:pull", or with push and a mount source
	 * "repository:NAME:pull,push repository:FROM:pull" */
	char scope[2 * REF_NAME_MAX + 64];
	/* https was tried for plain http's sake already, or plain http is configured */
	bool scheme_settled;
	bool may_fall_back;             /* loopback host, or `insecure = yes` */
};

/* Hand a locally made error up to the caller's err, or drop it. Returns -1. */
int reg_pass_err(struct berr **err, struct berr *e);
bool reg_retryable_status(int status);
/* Network trouble worth another attempt; TLS, auth and usage errors are not. */
bool reg_retryable_err(const struct berr *e);
int64_t reg_retry_after_of(struct http_response *r);
/* Sleep before attempt `attempt` + 1: exponential backoff with jitter, or Retry-After. */
void reg_backoff_sleep(int attempt, int64_t retry_after);
/* auth_send with retries on network errors and retryable statuses; after the last attempt
 * a retryable status is returned like any other. */
int reg_send_retry(struct reg_client *c, const struct http_request *req,
		   struct http_response **out, struct berr **err);

#endif
