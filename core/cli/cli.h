/* The command table and what every command gets: global options and the loaded config. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include "args.h"
#include "base/config.h"

#include <stdbool.h>

struct cli_ctx {
	const char *config_path;    /* --config, $BERTH_CONFIG or the default */
	bool config_explicit;       /* given by the user: a missing file is then an error */
	const char *root;           /* --root or $BERTH_ROOT; NULL: from the config */
	const char *run_dir;        /* --run-dir or $BERTH_RUN_DIR; NULL: from the config */
	const char *log_level;      /* --log-level; NULL: from the config */
	struct berth_config cfg;    /* loaded before commands flagged CMD_CONFIG run */
	bool color;                 /* stdout is a TTY and NO_COLOR is unset */
};

enum {
	CMD_CONFIG = 1 << 0,        /* load berth.conf and set up paths before running */
};

struct command {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv); /* returns an exit status */
	const char *usage;          /* "berth check [OPTIONS]" */
	const char *summary;        /* one line for `berth --help` */
	const struct cli_opt *opts; /* for `berth help CMD`; may be NULL */
	unsigned flags;
};

extern const struct command commands[];
const struct command *command_find(const char *name);
/* Print a command's usage and options. */
void command_usage(const struct command *cmd, FILE *out);

/* Parse the usual `--format table|json`. */
enum out_format { OUT_TABLE, OUT_JSON };
int cli_parse_format(const char *value, enum out_format *fmt, struct berr **err);

int cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config(struct cli_ctx *ctx, int argc, char **argv);
int cmd_help(struct cli_ctx *ctx, int argc, char **argv);
int cmd_version(struct cli_ctx *ctx, int argc, char **argv);

extern const struct cli_opt cmd_check_opts[];
extern const struct cli_opt cmd_config_opts[];
extern const struct cli_opt cmd_version_opts[];

#endif
