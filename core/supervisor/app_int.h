/* Inside the app file parser: its state, shared by app.c (the file) and app_keys.c (the
 * values of its keys). Not for other modules. */
#ifndef BERTH_SUPERVISOR_APP_INT_H
#define BERTH_SUPERVISOR_APP_INT_H

#include "supervisor/app.h"
#include "base/inilines.h"

#include <stdbool.h>
#include <stddef.h>

struct berr;

#define APP_LIST_MAX 256   /* values of one repeatable key */
#define APP_WORDS_MAX 4096 /* words of a command */

struct strv {
	char **v;
	size_t n, cap;
};

enum key_id {
	K_IMAGE, K_COMMAND, K_ENTRYPOINT, K_ENVIRONMENT, K_ENV_FILE, K_VOLUMES, K_TMPFS, K_MEMORY,
	K_CPUS, K_PIDS_LIMIT, K_RESTART, K_DEPENDS_ON, K_HEALTH_CMD, K_HEALTH_INTERVAL,
	K_HEALTH_TIMEOUT, K_HEALTH_RETRIES, K_HEALTH_START_PERIOD, K_USER, K_WORKDIR, K_HOSTNAME,
	K_READ_ONLY, K_CAP_ADD, K_CAP_DROP, K_DEVICES, K_NETWORK, K_STOP_SIGNAL, K_STOP_TIMEOUT,
	K_LABELS, K_PULL, K_CONSOLE, K_COUNT
};

struct pstate {
	const char *path;
	struct app *a;
	struct inil rd;
	bool in_app;              /* under the [app] header */
	int n_headers;
	enum key_id key;          /* the key being handled */
	int lines[K_COUNT];       /* where each key was (last) set; 0: not set */
	char *errors;             /* "path:line: msg\n..." */
	size_t n_errors;
	bool oom;
	/* What becomes run_args. */
	struct strv command, entrypoint;
	struct strv list[K_COUNT];   /* repeatable keys' values, checked, as they go to berth run */
	char *scalar[K_COUNT];       /* single values, checked, as they go to berth run */
	bool read_only;
};

typedef void (*key_fn)(struct pstate *st, const char *v);

struct app_key {
	const char *name;
	bool repeatable;
	bool verbatim;   /* no unquoting: the key parses quotes itself */
	key_fn fn;
};

extern const struct app_key app_keys[K_COUNT];

/* Checked allocation: on failure these set st->oom (and return NULL or -1). */
char *app_sdup(struct pstate *st, const char *s);
/* Append a copy of s[0..len) (len: SIZE_MAX for the whole string). */
int app_sv_addn(struct pstate *st, struct strv *l, const char *s, size_t len);
int app_sv_add(struct pstate *st, struct strv *l, const char *s);
void app_sv_free(struct strv *l);

/* "path:line: msg" (line 0: "path: msg") added to the file's errors. */
void app_error_at(struct pstate *st, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An error about the value of the key on the current line: "path:line: key: msg". */
void app_bad(struct pstate *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The error for a key no app file has, with the key it likely meant. */
void app_unknown_key(struct pstate *st, const char *name);

#endif
