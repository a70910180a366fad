/* `berth stop`, `berth restart` and `berth kill`: through the supervisor for the containers it
 * runs; a foreground `berth run` container is signalled directly. */
#include "cli.h"
#include "client.h"
#include "base/err.h"
#include "base/signame.h"
#include "runtime/record.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_TIME = 1, O_SIGNAL };

const struct cli_opt cmd_stop_opts[] = {
	{ O_TIME, 't', "time", "int", "Seconds to wait before killing the container (default: its stop timeout)" },
	{ 0, 0, NULL, NULL, NULL },
};

const struct cli_opt cmd_restart_opts[] = {
	{ O_TIME, 't', "time", "int", "Seconds to wait before killing the container" },
	{ 0, 0, NULL, NULL, NULL },
};

const struct cli_opt cmd_kill_opts[] = {
	{ O_SIGNAL, 's', "signal", "string", "Signal to send to the container (default KILL)" },
	{ 0, 0, NULL, NULL, NULL },
};

/* Stop timeout and signal of a record, for a container outside the supervisor. */
static void rec_stop_params(const char *ref, int *sig, int *timeout)
{
	struct rec rec;
	struct berr *e = NULL;

	*sig = SIGTERM;
	if (rec_find(ref, &rec, &e) < 0) {
		berr_free(e);
		return;
	}
	if (rec.cfg.stop_signal > 0)
		*sig = rec.cfg.stop_signal;
	if (*timeout < 0)
		*timeout = rec.cfg.stop_timeout >= 0 ? rec.cfg.stop_timeout : 10;
	rec_free(&rec);
}

static int run_each(const char *cmd, int argc, char **argv)
{
	const struct cli_opt *opts = strcmp(cmd, "stop") == 0 ? cmd_stop_opts :
				     strcmp(cmd, "restart") == 0 ? cmd_restart_opts : cmd_kill_opts;
	struct berr *err = NULL;
	const char *value, *signame = "KILL";
	int id, timeout = -1, ret = EXIT_OK, sig;
	char usage[32];
	struct args a;

	snprintf(usage, sizeof(usage), "berth %s", cmd);
	args_init(&a, opts, argc, argv, usage);
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find(cmd), stdout);
			return EXIT_OK;
		}
		if (id == O_TIME) {
			char *end;
			long t = strtol(value, &end, 10);
			if (*value == '\0' || *end != '\0' || t < 0 || t > 1000000) {
				berr_usage(&err, "--time `%s`: use a number of seconds", value);
				return berr_report(err);
			}
			timeout = (int) t;
		} else if (id == O_SIGNAL) {
			signame = value;
		}
	}
	sig = sig_parse(signame);
	if (sig < 0) {
		berr_usage(&err, "--signal `%s`: use a signal name or number, such as SIGHUP or 1", signame);
		return berr_report(err);
	}
	if (a.i >= argc) {
		berr_usage(&err, "`berth %s` requires at least one CONTAINER", cmd);
		return berr_report(err);
	}
	for (int i = a.i; i < argc; i++) {
		json_t *req = json_pack("{s:s, s:s}", "cmd", cmd, "name", argv[i]), *reply = NULL;
		bool handled;
		int r;

		if (timeout >= 0)
			json_object_set_new(req, "timeout", json_integer(timeout));
		if (strcmp(cmd, "kill") == 0)
			json_object_set_new(req, "signal", json_string(signame));
		r = client_try(req, &reply, &handled, &err);
		json_decref(reply);
		if (r == 0 && !handled) {
			int s, t = timeout;
			rec_stop_params(argv[i], &s, &t);
			if (strcmp(cmd, "kill") == 0)
				r = client_local_kill(argv[i], sig, false, 0, &err);
			else if (strcmp(cmd, "stop") == 0)
				r = client_local_kill(argv[i], s, true, t, &err);
			else
				r = berr_make(&err, 0, "container %s is not run by the supervisor: restart "
					      "needs it (start it with `berth daemon`)", argv[i]);
		}
		if (r < 0) {
			int st = berr_report(err);
			err = NULL;
			if (ret == EXIT_OK || st == EXIT_BERTH)
				ret = st;
			continue;
		}
		puts(argv[i]);
	}
	return ret;
}

int cmd_stop(struct cli_ctx *ctx, int argc, char **argv)
{
	(void) ctx;
	return run_each("stop", argc, argv);
}

int cmd_restart(struct cli_ctx *ctx, int argc, char **argv)
{
	(void) ctx;
	return run_each("restart", argc, argv);
}

int cmd_kill(struct cli_ctx *ctx, int argc, char **argv)
{
	(void) ctx;
	return run_each("kill", argc, argv);
}
