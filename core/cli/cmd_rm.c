/* `berth rm` (`berth container rm`): remove container records, killing running ones with -f
 * and taking their anonymous volumes along with -v. Named volumes always stay. */
#include "cli.h"
#include "client.h"
#include "base/err.h"
#include "base/util.h"
#include "runtime/record.h"
#include "supervisor/logs.h"

#include <stdio.h>

enum { O_FORCE = 1, O_VOLUMES };

const struct cli_opt cmd_rm_opts[] = {
	{ O_FORCE, 'f', "force", NULL, "Force the removal of a running container (uses SIGKILL)" },
	{ O_VOLUMES, 'v', "volumes", NULL, "Remove anonymous volumes associated with the container" },
	{ 0, 0, NULL, NULL, NULL },
};

int cmd_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	unsigned flags = 0;
	const char *value;
	struct args a;
	int id, ret = EXIT_OK;

	(void) ctx;
	args_init(&a, cmd_rm_opts, argc, argv, "berth rm");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("rm"), stdout);
			return EXIT_OK;
		}
		if (id == O_FORCE)
			flags |= REC_RM_FORCE;
		else if (id == O_VOLUMES)
			flags |= REC_RM_VOLUMES;
	}
	if (a.i >= argc) {
		berr_usage(&err, "`berth rm` requires at least one CONTAINER");
		return berr_report(err);
	}
	for (int i = a.i; i < argc; i++) {
		json_t *reply = NULL;
		bool handled;
		/* A container the supervisor runs is stopped (and forgotten) by it first. */
		if (client_try(json_pack("{s:s, s:s, s:b}", "cmd", "rm", "name", argv[i], "force",
					 (flags & REC_RM_FORCE) != 0), &reply, &handled, &err) < 0) {
			int st = berr_report(err);
			err = NULL;
			if (ret == EXIT_OK || st == EXIT_BERTH)
				ret = st;
			continue;
		}
		json_decref(reply);
		struct rec_removed rm;
		if (rec_remove(argv[i], flags, &rm, &err) < 0) {
			int st = berr_report(err);
			err = NULL;
			if (ret == EXIT_OK || st == EXIT_BERTH)
				ret = st;
			continue;
		}
		logs_forget(rm.id);
		/* The name as given, as Docker prints it. */
		puts(argv[i]);
	}
	return ret;
}
