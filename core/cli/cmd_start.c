/* `berth start`: hand created or exited containers to the supervisor, which runs them in the
 * background; `berth start -a` runs one in the foreground instead, the second half of
 * `berth run`. */
#include "cli.h"
#include "client.h"
#include "base/err.h"
#include "runtime/record.h"

#include <stdio.h>

enum { O_ATTACH = 1, O_INTERACTIVE };

const struct cli_opt cmd_start_opts[] = {
	{ O_ATTACH, 'a', "attach", NULL, "Attach STDOUT/STDERR and forward signals" },
	{ O_INTERACTIVE, 'i', "interactive", NULL, "Attach container's STDIN" },
	{ 0, 0, NULL, NULL, NULL },
};

int cmd_start(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	bool attach = false, interactive = false;
	const char *value;
	struct rec rec;
	struct args a;
	int id, ret;

	args_init(&a, cmd_start_opts, argc, argv, "berth start");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("start"), stdout);
			return EXIT_OK;
		}
		if (id == O_ATTACH)
			attach = true;
		else if (id == O_INTERACTIVE)
			interactive = true;
	}
	if (a.i >= argc) {
		berr_usage(&err, "`berth start` requires a CONTAINER");
		return berr_report(err);
	}
	if (!attach && !interactive) {
		ret = EXIT_OK;
		for (int i = a.i; i < argc; i++) {
			json_t *reply = NULL;
			if (client_call(json_pack("{s:s, s:s}", "cmd", "start", "name", argv[i]), &reply, &err) < 0) {
				int st = berr_report(err);
				err = NULL;
				if (ret == EXIT_OK || st == EXIT_BERTH)
					ret = st;
				continue;
			}
			json_decref(reply);
			puts(argv[i]);
		}
		return ret;
	}
	if (a.i + 1 < argc) {
		berr_usage(&err, "`berth start -a` runs one container in the foreground: give one CONTAINER");
		return berr_report(err);
	}
	if (rec_find(argv[a.i], &rec, &err) < 0)
		return berr_report(err);
	if (rec.broken) {
		berr_make(&err, 0, "container %s cannot be started: %s", argv[a.i],
			  rec.problem ? rec.problem : "its record is broken");
		rec_free(&rec);
		return berr_report(err);
	}
	if (rec.st.status == REC_RUNNING) {
		berr_make(&err, 0, "container %s is already running", argv[a.i]);
		err->status = EXIT_FAILED;
		rec_free(&rec);
		return berr_report(err);
	}
	ret = run_start_record(ctx, &rec, interactive);
	rec_free(&rec);
	return ret;
}
