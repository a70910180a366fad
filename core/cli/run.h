/* The machinery of `run`, `create` and `start`, shared with the supervisor: make a record from
 * `run` arguments, start a record's container in the background, and finish it once its first
 * process ended. */
#ifndef BERTH_CLI_RUN_H
#define BERTH_CLI_RUN_H

#include "runtime/cgroup.h"
#include "runtime/record.h"

#include <stdbool.h>
#include <sys/types.h>

struct berr;
struct cli_ctx;

/* A started container, as its parent needs it until it ends. Self-contained: no pointer into
 * what made it. */
struct run_live {
	pid_t pid;
	pid_t proxy;            /* the relay of published ports; 0: none */
	char id[REC_ID_LEN + 1];
	bool rm;                /* --rm: the record goes with the container */
	const struct rec_config *cfg; /* the record as the caller holds it (NULL: read back) */
	bool cg_made;
	struct cg_system sys;
	struct cg_handle cgh;
	struct rec_state st;
};

/* `berth create`: argv[0] is the command name, then options, IMAGE, the command. The record
 * exists once this returns 0, and *id names it. */
int run_create_args(struct cli_ctx *ctx, int argc, char **argv, char id[REC_ID_LEN + 1],
		    struct berr **err);

/* Start record `rec` (created or exited) with its stdin, stdout and stderr on the given fds
 * (-1: /dev/null), in its cgroup, and return at once: out->pid runs and state.json says so,
 * with `restart_count`. On failure *status is what Docker would exit with (125, 126, 127), the
 * record says exited with the error, and nothing is left running. */
int run_launch(struct cli_ctx *ctx, const struct rec *rec, const int stdio[3], unsigned restart_count,
	       struct run_live *out, int *status, struct berr **err);

/* The first process of `l` ended with wait status `ws` (reaped by the caller): OOM check,
 * state.json, the cgroup removed, the record removed for --rm. The layer mounts stay for
 * the next start. Returns the exit status (128+N for signal N, 137 for an OOM kill). */
int run_finish(struct run_live *l, int ws);

/* Release the layer mounts if no container other than `self` (may be NULL) runs. */
void run_release_layers(const char *self);

#endif
