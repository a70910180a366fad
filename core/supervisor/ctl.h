/* The control socket's protocol: <run-dir>/berth.sock, a stream socket, mode 0600, peers
 * checked with SO_PEERCRED (root only). One request per connection: a JSON object on one line
 * (at most CTL_REQ_MAX bytes), then one JSON reply object (at most CTL_REPLY_MAX bytes), then
 * the server closes. A request is {"cmd": NAME, ...}; a reply is {"ok": true, ...} or
 * {"ok": false, "error": MESSAGE, "status": EXIT}. */
#ifndef BERTH_SUPERVISOR_CTL_H
#define BERTH_SUPERVISOR_CTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct berr;

#define CTL_REQ_MAX (64u << 10)
#define CTL_REPLY_MAX (4u << 20)
#define CTL_TIMEOUT_MS 2000

/* Read one message of at most `max` bytes (up to '\n' or EOF) within `timeout_ms`, and parse
 * it: it must be a JSON object. Errors say what was wrong with it. */
int ctl_read(int fd, size_t max, int timeout_ms, json_t **out, struct berr **err);
/* Parse a message's text (exposed for the fuzzer). */
int ctl_parse(const char *buf, size_t len, json_t **out, struct berr **err);
/* Write `msg` compactly and a '\n' (msg is not consumed). */
int ctl_write(int fd, const json_t *msg, int timeout_ms, struct berr **err);

/* A request, checked: what the supervisor acts on. Pointers into the parsed JSON. */
enum ctl_cmd { CTL_STATUS, CTL_START, CTL_STOP, CTL_RESTART, CTL_KILL, CTL_RM };
struct ctl_req {
	enum ctl_cmd cmd;
	const char *name;    /* container or app name, or id prefix; NULL for status */
	int signal;          /* kill: the signal (default SIGKILL) */
	int timeout;         /* stop/restart: seconds, -1 when not given */
	bool force;          /* rm */
};
/* Check a parsed request; errors name the field and say what it should be. */
int ctl_request(const json_t *msg, struct ctl_req *out, struct berr **err);

/* A request's string field, or NULL when absent or not a string. */
const char *ctl_str(const json_t *req, const char *key);

#endif
