/* berth's entry point: global options, config loading, dispatch through commands[]. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "config.h"
#include "init.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Load the config and set paths for commands that need them. Precedence: command line, then
 * environment, then berth.conf, then the built-in default. */
static int setup_config(struct cli_ctx *ctx, struct berr **err)
{
	const char *root, *run_dir, *level;
	int lvl;

	if (config_load(&ctx->cfg, ctx->config_path, ctx->config_explicit, err) < 0)
		return -1;
	root = ctx->root ? ctx->root : ctx->cfg.daemon.data_root;
	run_dir = ctx->run_dir ? ctx->run_dir : ctx->cfg.daemon.run_dir;
	if (paths_init(root, run_dir) < 0)
		return berr_usage(err, "data root `%s` and run dir `%s` must be absolute paths", root, run_dir);
	level = ctx->log_level ? ctx->log_level : ctx->cfg.daemon.log_level;
	lvl = log_level_parse(level);
	if (lvl >= 0)
		log_set_level((enum log_level) lvl);
	return 0;
}

static const char *env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* Invoked as `init` (the /sbin/init or /init link), or started by the kernel as PID 1. */
static bool is_init(int argc, char **argv)
{
	const char *name;

	if (getpid() == 1)
		return true;
	if (argc < 1 || argv[0] == NULL)
		return false;
	name = strrchr(argv[0], '/');
	name = name ? name + 1 : argv[0];
	return strcmp(name, "init") == 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { 0 };
	struct berr *err = NULL;
	const struct command *cmd;
	const char *value, *nc;
	struct args a;
	int id, lvl, ret;

	if (ENABLE_INIT && is_init(argc, argv))
		init_main(argc, argv);
	log_set_target(LOG_TARGET_STDERR);
	ctx.config_path = getenv("BERTH_CONFIG");
	ctx.config_explicit = ctx.config_path && *ctx.config_path;
	if (!ctx.config_explicit)
		ctx.config_path = PATHS_DEFAULT_CONFIG;
	ctx.root = env_or("BERTH_ROOT", NULL);
	ctx.run_dir = env_or("BERTH_RUN_DIR", NULL);
	nc = getenv("NO_COLOR");
	ctx.color = isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');

	args_init(&a, berth_global_opts, argc, argv, "berth");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			berth_usage(stdout);
			return EXIT_OK;
		case G_ROOT:
			ctx.root = value;
			break;
		case G_RUN_DIR:
			ctx.run_dir = value;
			break;
		case G_CONFIG:
			ctx.config_path = value;
			ctx.config_explicit = true;
			break;
		case G_LOG_LEVEL:
			lvl = log_level_parse(value);
			if (lvl < 0) {
				log_error("bad value `%s` for --log-level: use error, warn, info or debug", value);
				return EXIT_USAGE;
			}
			log_set_level((enum log_level) lvl);
			ctx.log_level = value;
			break;
		case G_VERSION:
			return cmd_version(&ctx, 1, argv);
		}
	}
	if (a.i >= argc) {
		berth_usage(stderr);
		return EXIT_USAGE;
	}
	cmd = command_find(argv[a.i]);
	if (cmd == NULL) {
		log_error("unknown command `%s`; see `berth --help`", argv[a.i]);
		return EXIT_USAGE;
	}
	if ((cmd->flags & CMD_CONFIG) && setup_config(&ctx, &err) < 0)
		return berr_report(err);
	ret = cmd->run(&ctx, argc - a.i, argv + a.i);
	config_free(&ctx.cfg);
	if (fflush(stdout) != 0 && errno != EPIPE) {
		log_error("write to stdout: %s", strerror(errno));
		return EXIT_BERTH;
	}
	return ret;
}
