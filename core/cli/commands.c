/* The commands[] table: name, entry point, usage and one-line summary of every command. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"

#include <stdio.h>
#include <string.h>

const struct command commands[] = {
	{ "check", cmd_check, "berth check [OPTIONS]",
	  "Check whether this board's kernel and storage can run containers", cmd_check_opts, CMD_CONFIG },
	{ "config", cmd_config, "berth config [OPTIONS]",
	  "Print the effective configuration, or every key with its default", cmd_config_opts, CMD_CONFIG },
	{ "container", cmd_container, "berth container COMMAND",
	  "Manage containers: ls, ps, rm, inspect, prune", NULL, CMD_CONFIG },
	{ "create", cmd_create, "berth create [OPTIONS] IMAGE [COMMAND] [ARG...]",
	  "Create a new container from an image (`berth start -a` runs it)", cmd_run_opts, CMD_CONFIG },
	{ "exec", cmd_exec, "berth exec [OPTIONS] CONTAINER COMMAND [ARG...]",
	  "Execute a command in a running container", cmd_exec_opts, CMD_CONFIG },
	{ "halt", cmd_power, "berth halt [OPTIONS]", "Stop the apps and halt the board (via PID 1)",
	  cmd_power_opts, 0 },
	{ "image", cmd_image, "berth image COMMAND",
	  "Manage images: inspect, ls, rm, prune, mount, umount, ...", NULL, CMD_CONFIG },
	{ "images", cmd_images, "berth images [OPTIONS] [REPOSITORY[:TAG]]", "List images",
	  cmd_images_opts, CMD_CONFIG },
	{ "inspect", cmd_inspect, "berth inspect [OPTIONS] NAME|ID [NAME|ID...]",
	  "Display detailed information on containers or images", cmd_inspect_opts, CMD_CONFIG },
	{ "keygen", cmd_keygen, "berth keygen [OPTIONS]",
	  "Generate an ECDSA P-256 key pair for signing images", cmd_keygen_opts, 0 },
	{ "load", cmd_load, "berth load [OPTIONS]",
	  "Load images from an OCI layout or docker save tar, or STDIN", cmd_load_opts,
	  CMD_CONFIG },
	{ "login", cmd_login, "berth login [OPTIONS] [SERVER]",
	  "Log in to a registry (credentials kept root-only for pulls)",
	  cmd_login_opts, CMD_CONFIG },
	{ "logout", cmd_logout, "berth logout [SERVER]", "Log out from a registry",
	  cmd_logout_opts, CMD_CONFIG },
	{ "logs", cmd_logs, "berth logs [OPTIONS] CONTAINER", "Fetch the logs of a container",
	  cmd_logs_opts, CMD_CONFIG },
	{ "pull", cmd_pull, "berth pull [OPTIONS] NAME[:TAG|@DIGEST]",
	  "Download an image from a registry", cmd_pull_opts, CMD_CONFIG },
	{ "push", cmd_push, "berth push [OPTIONS] NAME[:TAG]",
	  "Upload an image to a registry", cmd_push_opts, CMD_CONFIG },
	{ "poweroff", cmd_power, "berth poweroff [OPTIONS]",
	  "Stop the apps and power the board off (via PID 1)", cmd_power_opts, 0 },
	{ "ps", cmd_ps, "berth ps [OPTIONS]", "List containers", cmd_ps_opts, CMD_CONFIG },
	{ "reboot", cmd_power, "berth reboot [OPTIONS]", "Stop the apps and reboot the board (via PID 1)",
	  cmd_power_opts, 0 },
	{ "rm", cmd_rm, "berth rm [OPTIONS] CONTAINER [CONTAINER...]",
	  "Remove one or more containers", cmd_rm_opts, CMD_CONFIG },
	{ "rmi", cmd_rmi, "berth rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images",
	  cmd_rmi_opts, CMD_CONFIG },
	{ "run", cmd_run, "berth run [OPTIONS] IMAGE [COMMAND] [ARG...]",
	  "Create and run a new container from an image, in the foreground", cmd_run_opts, CMD_CONFIG },
	{ "save", cmd_save, "berth save [OPTIONS] IMAGE [IMAGE...]",
	  "Save images as an OCI layout tar (to STDOUT by default)", cmd_save_opts,
	  CMD_CONFIG },
	{ "sign", cmd_sign, "berth sign --key FILE NAME[:TAG|@DIGEST]",
	  "Sign an image in its registry (cosign's key-based .sig format)", cmd_sign_opts,
	  CMD_CONFIG },
	{ "start", cmd_start, "berth start [OPTIONS] CONTAINER [CONTAINER...]",
	  "Start containers (under the supervisor; -a: in the foreground)", cmd_start_opts, CMD_CONFIG },
	{ "stats", cmd_stats, "berth stats [OPTIONS] [CONTAINER...]",
	  "Display a live stream of container(s) resource usage statistics", cmd_stats_opts, CMD_CONFIG },
	{ "store", cmd_store, "berth store verify [OPTIONS]",
	  "Verify the image store on flash, and repair it", cmd_store_opts, CMD_CONFIG },
	{ "system", cmd_system, "berth system df|prune-mounts [OPTIONS]",
	  "Show flash usage; release unused layer mounts", cmd_system_opts,
	  CMD_CONFIG },
	{ "tag", cmd_tag, "berth tag SOURCE_IMAGE TARGET_IMAGE[:TAG]",
	  "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", cmd_tag_opts, CMD_CONFIG },
	{ "verify", cmd_verify,
	  "berth verify --key PUB --signature SIG --payload FILE IMAGE",
	  "Verify an image signature from files, offline (exit 1 if refused)", cmd_verify_opts, 0 },
	{ "volume", cmd_volume, "berth volume COMMAND",
	  "Manage volumes: create, inspect, ls, prune, rm", NULL, CMD_CONFIG },
	{ "daemon", cmd_daemon, "berth daemon [OPTIONS]",
	  "Run the supervisor in the foreground: apps, restarts, socket", cmd_daemon_opts, CMD_CONFIG },
	{ "kill", cmd_kill, "berth kill [OPTIONS] CONTAINER [CONTAINER...]",
	  "Kill one or more running containers", cmd_kill_opts, CMD_CONFIG },
	{ "restart", cmd_restart, "berth restart [OPTIONS] CONTAINER [CONTAINER...]",
	  "Restart one or more containers (through the supervisor)", cmd_restart_opts, CMD_CONFIG },
	{ "status", cmd_status, "berth status [OPTIONS]",
	  "Show the supervisor: apps, memory, cgroups, flash, last shutdown", cmd_status_opts, CMD_CONFIG },
	{ "stop", cmd_stop, "berth stop [OPTIONS] CONTAINER [CONTAINER...]",
	  "Stop one or more running containers", cmd_stop_opts, CMD_CONFIG },
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

const struct command *command_find_in(const struct command *table, const char *name)
{
	for (const struct command *c = table; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	/* Docker's aliases for the group commands. */
	if (strcmp(name, "list") == 0)
		return command_find_in(table, "ls");
	if (strcmp(name, "remove") == 0)
		return command_find_in(table, "rm");
	return NULL;
}

void command_group_usage(FILE *out, const char *group, const char *summary, const struct command *table)
{
	fprintf(out, "Usage: berth %s COMMAND\n\n%s\n\nCommands:\n", group, summary);
	for (const struct command *c = table; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'berth %s COMMAND --help' for more information on a command.\n", group);
}

int command_sub_args(const struct command *c, const char *group, struct args *a, int argc, char **argv,
		     int *id, const char **value)
{
	static char cmd[48];
	struct berr *err = NULL;

	if (a->argv != argv) {
		snprintf(cmd, sizeof(cmd), "berth %s %s", group, c->name);
		args_init(a, c->opts, argc, argv, cmd);
	}
	*id = args_next(a, value, &err);
	if (*id == -1)
		return berr_report(err);
	if (*id == ARGS_HELP) {
		command_usage(c, stdout);
		return EXIT_OK;
	}
	return -1;
}

const struct cli_opt berth_global_opts[] = {
	{ G_ROOT, 0, "root", "DIR", "Data root on flash (default /var/lib/berth, or $BERTH_ROOT)" },
	{ G_RUN_DIR, 0, "run-dir", "DIR", "Runtime dir in RAM (default /run/berth, or $BERTH_RUN_DIR)" },
	{ G_CONFIG, 0, "config", "FILE", "Config file (default /etc/berth/berth.conf, or $BERTH_CONFIG)" },
	{ G_LOG_LEVEL, 0, "log-level", "LEVEL", "error, warn, info or debug (default from config)" },
	{ G_VERSION, 'v', "version", NULL, "Print the version and exit" },
	{ 0, 0, NULL, NULL, NULL },
};

void berth_usage(FILE *out)
{
	args_print_usage(out, "berth [OPTIONS] COMMAND [ARG...]",
			 "A container engine for embedded Linux boards.", berth_global_opts);
	fprintf(out, "\nCommands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s  %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

int cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct command *c;

	(void) ctx;
	if (argc < 2) {
		berth_usage(stdout);
		return EXIT_OK;
	}
	c = command_find(argv[1]);
	if (c == NULL) {
		log_error("unknown command `%s`; see `berth --help`", argv[1]);
		return EXIT_USAGE;
	}
	command_usage(c, stdout);
	return EXIT_OK;
}
