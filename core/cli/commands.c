/* The commands[] table: name, entry point, usage and one-line summary of every command. */
#include "cli.h"
#include "base/err.h"

#include <string.h>

const struct command commands[] = {
	{ "check", cmd_check, "berth check [OPTIONS]",
	  "Check whether this board's kernel and storage can run containers", cmd_check_opts, CMD_CONFIG },
	{ "config", cmd_config, "berth config [OPTIONS]",
	  "Print the effective configuration, or every key with its default", cmd_config_opts, CMD_CONFIG },
	{ "help", cmd_help, "berth help [COMMAND]", "Show help for berth or for one command", NULL, 0 },
	{ "version", cmd_version, "berth version [OPTIONS]",
	  "Show the version, build features and linked libraries", cmd_version_opts, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0 },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void command_usage(const struct command *cmd, FILE *out)
{
	args_print_usage(out, cmd->usage, cmd->summary, cmd->opts);
}

int cli_parse_format(const char *value, enum out_format *fmt, struct berr **err)
{
	if (strcmp(value, "table") == 0)
		*fmt = OUT_TABLE;
	else if (strcmp(value, "json") == 0)
		*fmt = OUT_JSON;
	else
		return berr_usage(err, "bad value `%s` for --format: use table or json", value);
	return 0;
}
