/* `berth container SUBCOMMAND`: ls/ps, rm, inspect (the top-level commands under Docker's
 * grouped names) and prune, which removes every stopped container. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "runtime/record.h"
#include "supervisor/logs.h"

#include <stdio.h>
#include <string.h>

enum { O_FORCE = 1 };

static const struct cli_opt prune_opts[] = {
	{ O_FORCE, 'f', "force", NULL, "Do not prompt for confirmation" },
	{ 0, 0, NULL, NULL, NULL },
};

static int sub_prune(struct cli_ctx *ctx, int argc, char **argv);

static const struct command subcommands[] = {
	{ "inspect", cmd_container_inspect, "berth container inspect CONTAINER [CONTAINER...]",
	  "Display detailed information on one or more containers", cmd_inspect_opts, 0 },
	{ "ls", cmd_ps, "berth container ls [OPTIONS]", "List containers", cmd_ps_opts, 0 },
	{ "prune", sub_prune, "berth container prune [OPTIONS]", "Remove all stopped containers",
	  prune_opts, 0 },
	{ "ps", cmd_ps, "berth container ps [OPTIONS]", "List containers (as ls)", cmd_ps_opts, 0 },
	{ "rm", cmd_rm, "berth container rm [OPTIONS] CONTAINER [CONTAINER...]",
	  "Remove one or more containers", cmd_rm_opts, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0 },
};

static const struct command *sub_find(const char *name)
{
	return command_find_in(subcommands, name);
}

static void container_usage(FILE *out)
{
	command_group_usage(out, "container", "Manage containers", subcommands);
}

static int sub_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	struct rec_list l = { 0 };
	struct berr *err = NULL;
	bool force = false, header = false;
	uint64_t total = 0;
	const char *value;
	struct args a;
	char size[16];
	int id, ret = EXIT_OK;

	(void) ctx;
	args_init(&a, prune_opts, argc, argv, "berth container prune");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(sub_find("prune"), stdout);
			return EXIT_OK;
		}
		if (id == O_FORCE)
			force = true;
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth container prune` takes no arguments");
		return berr_report(err);
	}
	if (!force && !cli_confirm("This will remove all stopped containers."))
		return EXIT_OK;
	if (rec_list_load(&l, &err) < 0)
		return berr_report(err);
	for (size_t i = 0; i < l.n; i++) {
		struct rec_removed rm;

		if (l.v[i].st.status == REC_RUNNING)
			continue;
		/* Started since the list was read: rec_remove refuses it, which is right. */
		if (rec_remove(l.v[i].cfg.id, 0, &rm, &err) < 0) {
			if (err->status == EXIT_FAILED) {
				berr_free(err);
			} else {
				ret = berr_report(err);
			}
			err = NULL;
			continue;
		}
		if (!header) {
			printf("Deleted Containers:\n");
			header = true;
		}
		logs_forget(rm.id);
		puts(rm.id);
		total += rm.size;
	}
	rec_list_free(&l);
	if (header)
		printf("\n");
	cli_human_size(total, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	return ret;
}

int cmd_container(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		container_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		container_usage(stdout);
		return EXIT_OK;
	}
	c = sub_find(argv[1]);
	if (c == NULL) {
		log_error("unknown command `berth container %s`; see `berth container --help`", argv[1]);
		return EXIT_USAGE;
	}
	return c->run(ctx, argc - 1, argv + 1);
}
