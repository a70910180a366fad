/* The supervisor's control socket, client side: one request, one reply, JSON, length-bounded
 * (supervisor/ctl.h has the protocol). */
#ifndef BERTH_CLI_CLIENT_H
#define BERTH_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

struct berr;
struct cli_ctx;

/* Is a supervisor answering on this run dir's socket? */
bool client_supervisor_up(void);

/* Send `req` (consumed) and return the reply's object. A reply with "ok": false becomes an
 * error with its message and exit status. Without a supervisor: an error saying how to start
 * one (EXIT_BERTH). */
int client_call(json_t *req, json_t **reply, struct berr **err);

/* Like client_call, but "no supervisor" and "the supervisor does not know that container"
 * are not errors: *handled says whether the supervisor took the request. */
int client_try(json_t *req, json_t **reply, bool *handled, struct berr **err);

/* A container the supervisor does not run: signal its first process. With wait_gone, wait
 * up to timeout_s for it to end, then SIGKILL its cgroup (`stop`); a stopped container is then
 * fine. Otherwise it must be running (`kill`). */
int client_local_kill(const char *ref, int sig, bool wait_gone, int timeout_s, struct berr **err);

/* `run -d`: hand record `id` to the supervisor and print its id; the record is removed again
 * if that fails. Returns the exit status. */
int run_detached(struct cli_ctx *ctx, const char *id, const char *name);

#endif
