/* `berth config`: the effective configuration, or with --defaults every key documented. */
#include "cli.h"
#include "base/err.h"

#include <stdio.h>

enum { O_DEFAULTS = 1 };

const struct cli_opt cmd_config_opts[] = {
	{ O_DEFAULTS, 0, "defaults", NULL, "Print every key with its default and what it does" },
	{ 0, 0, NULL, NULL, NULL },
};

int cmd_config(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	const char *value;
	bool defaults = false;
	struct args a;
	int id;

	args_init(&a, cmd_config_opts, argc, argv, "berth config");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("config"), stdout);
			return EXIT_OK;
		}
		if (id == O_DEFAULTS)
			defaults = true;
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth config` takes no arguments");
		return berr_report(err);
	}
	if (defaults)
		config_print_defaults(stdout);
	else
		config_print(&ctx->cfg, stdout);
	return EXIT_OK;
}
