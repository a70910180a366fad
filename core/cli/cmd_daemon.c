/* `berth daemon`: the supervisor in the foreground (for systemd, sysvinit and tests); with
 * --check-config, validate berth.conf and every app file, and exit. */
#include "cli.h"
#include "base/err.h"
#include "supervisor/app.h"
#include "supervisor/supervisor.h"

#include <stdio.h>

enum { O_CHECK = 1 };

const struct cli_opt cmd_daemon_opts[] = {
	{ O_CHECK, 0, "check-config", NULL, "Validate berth.conf and the app files, then exit" },
	{ 0, 0, NULL, NULL, NULL },
};

static int check_config(struct cli_ctx *ctx)
{
	struct app_set set = { 0 };
	struct app_errors errs = { 0 };
	struct berr *err = NULL;
	int ret = EXIT_OK;

	if (app_load_dir(ctx->cfg.daemon.apps_dir, &set, &errs, &err) < 0)
		return berr_report(err);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "berth: %s\n", errs.v[i].msg);
	printf("%s: %s\n", ctx->cfg.path ? ctx->cfg.path : "berth.conf", "ok");
	printf("%s: %zu app%s ok, %zu with errors\n", ctx->cfg.daemon.apps_dir, set.n, set.n == 1 ? "" : "s",
	       errs.n);
	if (errs.n)
		ret = EXIT_FAILED;
	app_set_free(&set);
	app_errors_free(&errs);
	return ret;
}

int cmd_daemon(struct cli_ctx *ctx, int argc, char **argv)
{
	struct sup_opts o = { 0 };
	struct berr *err = NULL;
	bool check = false;
	const char *value;
	struct args a;
	int id;

	args_init(&a, cmd_daemon_opts, argc, argv, "berth daemon");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("daemon"), stdout);
			return EXIT_OK;
		}
		if (id == O_CHECK)
			check = true;
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth daemon` takes no arguments");
		return berr_report(err);
	}
	if (check)
		return check_config(ctx);
	return sup_run(ctx, &o);
}
