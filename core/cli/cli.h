/* The command table and what every command gets: global options and the loaded config. */
#ifndef BERTH_CLI_H
#define BERTH_CLI_H

#include "args.h"
#include "base/config.h"
#include "image/layer.h"

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
/* berth's global options (before the command) and its top-level usage. */
enum { G_ROOT = 1, G_RUN_DIR, G_CONFIG, G_LOG_LEVEL, G_VERSION };
extern const struct cli_opt berth_global_opts[];
void berth_usage(FILE *out);
const struct command *command_find(const char *name);
/* Print a command's usage and options. */
void command_usage(const struct command *cmd, FILE *out);
/* Group commands (`berth image|volume|container SUB`): find a subcommand (with Docker's
 * `list`/`remove` aliases), and print the group's usage. */
const struct command *command_find_in(const struct command *table, const char *name);
void command_group_usage(FILE *out, const char *group, const char *summary, const struct command *table);
/* The next option of subcommand `c` (args_init on the first call, with a "berth GROUP SUB"
 * name for messages). Returns -1 to go on, else the exit status (a usage error was reported, or
 * --help was printed). */
int command_sub_args(const struct command *c, const char *group, struct args *a, int argc, char **argv,
		     int *id, const char **value);

/* Parse the usual `--format table|json`. */
enum out_format { OUT_TABLE, OUT_JSON };
int cli_parse_format(const char *value, enum out_format *fmt, struct berr **err);

int cmd_check(struct cli_ctx *ctx, int argc, char **argv);
int cmd_image(struct cli_ctx *ctx, int argc, char **argv);
int cmd_images(struct cli_ctx *ctx, int argc, char **argv);
int cmd_load(struct cli_ctx *ctx, int argc, char **argv);
int cmd_pull(struct cli_ctx *ctx, int argc, char **argv);
int cmd_login(struct cli_ctx *ctx, int argc, char **argv);
int cmd_logout(struct cli_ctx *ctx, int argc, char **argv);
int cmd_push(struct cli_ctx *ctx, int argc, char **argv);
int cmd_sign(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rmi(struct cli_ctx *ctx, int argc, char **argv);
int cmd_save(struct cli_ctx *ctx, int argc, char **argv);
int cmd_store(struct cli_ctx *ctx, int argc, char **argv);
int cmd_system(struct cli_ctx *ctx, int argc, char **argv);
int cmd_tag(struct cli_ctx *ctx, int argc, char **argv);
int cmd_config(struct cli_ctx *ctx, int argc, char **argv);
int cmd_help(struct cli_ctx *ctx, int argc, char **argv);
int cmd_version(struct cli_ctx *ctx, int argc, char **argv);
int cmd_run(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_run_opts[];
int cmd_create(struct cli_ctx *ctx, int argc, char **argv);
int cmd_start(struct cli_ctx *ctx, int argc, char **argv);
int cmd_daemon(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_daemon_opts[];
int cmd_status(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_status_opts[];
int cmd_stop(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_stop_opts[];
int cmd_restart(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_restart_opts[];
int cmd_kill(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_kill_opts[];
extern const struct cli_opt cmd_start_opts[];
/* cmd_run.c: `run` is `create` then `start -a`. run_main parses run's options and creates the
 * container, then (do_start) runs it in the foreground or (create) prints its id; the exit
 * status to give. run_start_record runs a recorded container in the foreground. */
struct rec;
int run_main(struct cli_ctx *ctx, int argc, char **argv, bool do_start);
int run_start_record(struct cli_ctx *ctx, const struct rec *rec, bool interactive);
int cmd_volume(struct cli_ctx *ctx, int argc, char **argv);
int cmd_ps(struct cli_ctx *ctx, int argc, char **argv);
int cmd_rm(struct cli_ctx *ctx, int argc, char **argv);
int cmd_inspect(struct cli_ctx *ctx, int argc, char **argv);
int cmd_container(struct cli_ctx *ctx, int argc, char **argv);
/* `berth container inspect`: containers only, no fallback to images. */
int cmd_container_inspect(struct cli_ctx *ctx, int argc, char **argv);
int cmd_keygen(struct cli_ctx *ctx, int argc, char **argv);
int cmd_logs(struct cli_ctx *ctx, int argc, char **argv);
int cmd_exec(struct cli_ctx *ctx, int argc, char **argv);
int cmd_stats(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_stats_opts[];
extern const struct cli_opt cmd_exec_opts[];
extern const struct cli_opt cmd_logs_opts[];
int cmd_verify(struct cli_ctx *ctx, int argc, char **argv);
/* cmd_power.c: poweroff, reboot and halt (argv[0] says which). */
int cmd_power(struct cli_ctx *ctx, int argc, char **argv);
extern const struct cli_opt cmd_power_opts[];

extern const struct cli_opt cmd_check_opts[];
extern const struct cli_opt cmd_config_opts[];
extern const struct cli_opt cmd_version_opts[];
extern const struct cli_opt cmd_images_opts[];
extern const struct cli_opt cmd_load_opts[];
extern const struct cli_opt cmd_pull_opts[];
extern const struct cli_opt cmd_login_opts[];
extern const struct cli_opt cmd_logout_opts[];
extern const struct cli_opt cmd_push_opts[];
extern const struct cli_opt cmd_sign_opts[];
extern const struct cli_opt cmd_rmi_opts[];
extern const struct cli_opt cmd_save_opts[];
extern const struct cli_opt cmd_store_opts[];
extern const struct cli_opt cmd_system_opts[];
extern const struct cli_opt cmd_tag_opts[];
extern const struct cli_opt cmd_ps_opts[];
extern const struct cli_opt cmd_rm_opts[];
extern const struct cli_opt cmd_inspect_opts[];
extern const struct cli_opt cmd_keygen_opts[];
extern const struct cli_opt cmd_verify_opts[];

/* Shared by the image commands (cmd_images.c, cmd_load.c). */
struct store_refs;
struct sqfs_options;
struct berr;
/* Docker's human sizes ("7.05MB") and ages ("2 days ago"; t < 0: "N/A"). */
void cli_human_size(uint64_t bytes, char *buf, size_t size);
void cli_human_since(int64_t t, char *buf, size_t size);
/* Print "WARNING! <warning>" and ask "[y/N]" (prune commands); EOF on stdin is no. */
bool cli_confirm(const char *warning);
/* Load refs.json; returns EXIT_OK or the reported error's exit status. */
int cli_load_refs(struct store_refs *refs);
/* [store] settings as squashfs writer options; errors for settings not available. */
int cli_store_options(const struct berth_config *cfg, enum layer_format *format,
		      struct sqfs_options *opt, struct berr **err);

#endif
