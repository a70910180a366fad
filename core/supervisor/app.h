/* App files: /etc/berth/apps/NAME.conf, one service each, INI with one [app] section whose keys
 * are named like compose's. Parsed into `berth run` arguments plus what only the supervisor
 * acts on (pull policy, dependencies, health check, stop timeout, console). docs/apps.md is the
 * reference of the keys. */
#ifndef BERTH_SUPERVISOR_APP_H
#define BERTH_SUPERVISOR_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/record.h"

struct berr;

#define APP_FILE_MAX (256u << 10) /* bytes of one app file */
#define APP_MAX 256               /* app files in the directory */
#define APP_LABEL "berth.app"     /* label on the container: the app's name */
#define APP_HASH_LABEL "berth.app.hash" /* label on the container: the app's hash */

enum app_pull { APP_PULL_MISSING, APP_PULL_ALWAYS, APP_PULL_NEVER };
enum app_dep_cond { APP_DEP_STARTED, APP_DEP_HEALTHY, APP_DEP_COMPLETED };
struct app_dep {
	char *name;
	enum app_dep_cond cond;
	int line;            /* of its depends-on key, for messages */
};
struct app_health {
	bool set;            /* health-cmd given */
	bool disabled;       /* health-cmd = none */
	char **test; size_t n_test; /* Docker form: {"CMD-SHELL", "cmd"} or {"CMD", argv...} */
	int64_t interval_ms, timeout_ms, start_period_ms; /* -1: not given (image's or Docker default) */
	int retries;         /* -1: not given */
};
struct app {
	char *name;          /* from the file name */
	char *file;          /* path */
	char *image;
	enum app_pull pull;
	struct app_dep *deps; size_t n_deps;
	struct app_health health;
	int64_t stop_timeout_ms;   /* default 10000 */
	int stop_signal;     /* stop-signal as a number; 0: not given (the image's, else SIGTERM) */
	bool console;
	enum rec_restart restart; int restart_max;
	/* Everything that `berth run` understands, as `berth run` arguments: options, then the
	 * image, then the command words. E.g. {"--name","web","--memory","64m","-e","A=b",
	 * "--restart","always","--label","berth.app=web", ..., "IMAGE", "cmd", "arg"}. argv[0] is
	 * NOT included. The entrypoint list [a,b] with command [c] becomes --entrypoint a ... IMAGE b c
	 * (Docker clears CMD when --entrypoint is given, so this keeps compose semantics).
	 * The last option is `--label berth.app.hash=HASH`, so a container tells which version of
	 * its app file made it. */
	char **run_args; size_t n_run_args;
	char *hash;          /* hex SHA-256 of the file's semantic content (run_args + supervisor keys),
			      * so the supervisor sees when an app changed */
};
struct app_set { struct app *v; size_t n; };
struct app_error { char *file; char *name; char *msg; };  /* a file that failed to load */
struct app_errors { struct app_error *v; size_t n; };

/* Parse one app file's text. `path` names the file in errors; the app name comes from its
 * basename without ".conf". Every problem in the file is reported, one `path:line: message`
 * per line of the error (a usage error). Allocations are checked (PID 1 parses app files):
 * out of memory is an ENOMEM error, never an exit. */
int app_parse(const char *path, const char *text, size_t len, struct app *out, struct berr **err);
/* Every *.conf in dir, sorted by name. A file that fails goes into errs (the others still load);
 * returns -1 only when the directory itself cannot be read (a missing dir is an empty set). Also
 * checks the set: depends-on naming an unknown app, and dependency cycles, are errors of the apps
 * concerned (they move to errs with a message naming the cycle). */
int app_load_dir(const char *dir, struct app_set *out, struct app_errors *errs, struct berr **err);
void app_free(struct app *a); void app_set_free(struct app_set *s); void app_errors_free(struct app_errors *e);
/* Start order: a topological order of s (indexes), dependencies first. */
int app_order(const struct app_set *s, size_t *order, struct berr **err);

/* Index of the app called `name` in s, or -1. */
long app_find(const struct app_set *s, const char *name);
const char *app_pull_name(enum app_pull p);
const char *app_dep_cond_name(enum app_dep_cond c);

#endif
