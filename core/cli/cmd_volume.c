/* `berth volume create|inspect|ls|prune|rm`: named and anonymous volumes on flash, shown as
 * Docker shows its local volumes (driver "local", scope "local"). */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "runtime/record.h"
#include "runtime/volume.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_ALL = 1, O_FORCE, O_FORMAT, O_QUIET, O_FILTER, O_LABEL, O_DRIVER };

static const struct cli_opt create_opts[] = {
	{ O_DRIVER, 'd', "driver", "string", "Volume driver name (only \"local\")" },
	{ O_LABEL, 0, "label", "KEY=VALUE", "Set metadata for a volume (repeatable)" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_opt inspect_opts[] = {
	{ O_FORMAT, 'f', "format", "string", "Output format: json (the only one)" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_opt ls_opts[] = {
	{ O_FILTER, 'f', "filter", "FILTER", "Filter: dangling=true|false, name=SUBSTRING" },
	{ O_FORMAT, 0, "format", "string", "Output format: table or json" },
	{ O_QUIET, 'q', "quiet", NULL, "Only display volume names" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_opt prune_opts[] = {
	{ O_ALL, 'a', "all", NULL, "Remove all unused volumes, not just anonymous ones" },
	{ O_FORCE, 'f', "force", NULL, "Do not prompt for confirmation" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_opt rm_opts[] = {
	{ O_FORCE, 'f', "force", NULL, "Also remove volumes stopped containers use; no error "
	  "for missing ones" },
	{ 0, 0, NULL, NULL, NULL },
};

static int sub_create(struct cli_ctx *ctx, int argc, char **argv);
static int sub_inspect(struct cli_ctx *ctx, int argc, char **argv);
static int sub_ls(struct cli_ctx *ctx, int argc, char **argv);
static int sub_prune(struct cli_ctx *ctx, int argc, char **argv);
static int sub_rm(struct cli_ctx *ctx, int argc, char **argv);

static const struct command subcommands[] = {
	{ "create", sub_create, "berth volume create [OPTIONS] [VOLUME]",
	  "Create a volume (a random anonymous name without VOLUME)", create_opts, 0 },
	{ "inspect", sub_inspect, "berth volume inspect VOLUME [VOLUME...]",
	  "Display detailed information on one or more volumes", inspect_opts, 0 },
	{ "ls", sub_ls, "berth volume ls [OPTIONS]", "List volumes", ls_opts, 0 },
	{ "prune", sub_prune, "berth volume prune [OPTIONS]",
	  "Remove unused anonymous volumes (all unused ones with -a)", prune_opts, 0 },
	{ "rm", sub_rm, "berth volume rm [OPTIONS] VOLUME [VOLUME...]",
	  "Remove one or more volumes no container uses", rm_opts, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0 },
};

static const struct command *sub_find(const char *name)
{
	return command_find_in(subcommands, name);
}

static void volume_usage(FILE *out)
{
	command_group_usage(out, "volume", "Manage volumes", subcommands);
}

/* Parse a subcommand's options; returns -1 to go on, else the exit status. */
static int sub_args(const char *name, struct args *a, int argc, char **argv, int *id,
		    const char **value)
{
	return command_sub_args(sub_find(name), "volume", a, argc, argv, id, value);
}

bool cli_confirm(const char *warning)
{
	char line[16];

	printf("WARNING! %s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static json_t *labels_json(const struct vol_info *v)
{
	json_t *o = json_object();

	for (size_t i = 0; i < v->n_labels; i++)
		json_object_set_new(o, v->labels[i].key, json_string(v->labels[i].value));
	return o;
}

/* Docker's shape: CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope. */
static json_t *volume_json(const struct vol_info *v)
{
	char created[48], path[PATH_MAX];
	json_t *o = json_object();

	rec_time_format(v->created - v->created % 1000000000, created, sizeof(created));
	if (paths_volume(path, sizeof(path), v->name) < 0)
		path[0] = '\0';
	json_object_set_new(o, "CreatedAt", json_string(created));
	json_object_set_new(o, "Driver", json_string("local"));
	json_object_set_new(o, "Labels", labels_json(v));
	json_object_set_new(o, "Mountpoint", json_string(path));
	json_object_set_new(o, "Name", json_string(v->name));
	json_object_set_new(o, "Options", json_object());
	json_object_set_new(o, "Scope", json_string("local"));
	if (v->problem)
		json_object_set_new(o, "Problem", json_string(v->problem));
	return o;
}

static int print_json(json_t *arr)
{
	char *s = json_dumps(arr, JSON_INDENT(4) | JSON_PRESERVE_ORDER);

	json_decref(arr);
	if (s == NULL)
		return EXIT_BERTH;
	puts(s);
	free(s);
	return EXIT_OK;
}

/* ---- create ---- */

static int sub_create(struct cli_ctx *ctx, int argc, char **argv)
{
	struct vol_label labels[64];
	size_t n_labels = 0;
	struct berr *err = NULL;
	struct vol_info v;
	const char *value;
	struct args a = { 0 };
	int id, r, ret;

	(void) ctx;
	while ((r = sub_args("create", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE) {
		if (id == O_DRIVER && strcmp(value, "local") != 0) {
			berr_usage(&err, "volume driver `%s` is not available: berth has \"local\" only",
				   value);
			return berr_report(err);
		}
		if (id == O_LABEL) {
			char *eq;
			if (n_labels == ARRAY_SIZE(labels)) {
				berr_usage(&err, "too many labels (at most %zu)", ARRAY_SIZE(labels));
				goto fail;
			}
			labels[n_labels].key = xstrdup(value);
			eq = strchr(labels[n_labels].key, '=');
			if (eq)
				*eq = '\0';
			labels[n_labels].value = eq ? eq + 1 : (char *) "";
			n_labels++;
		}
	}
	if (r >= 0) {
		ret = r;
		goto out;
	}
	if (argc - a.i > 1) {
		berr_usage(&err, "`berth volume create` takes at most one VOLUME name");
		goto fail;
	}
	if (vol_create(a.i < argc ? argv[a.i] : NULL, labels, n_labels, &v, NULL, &err) < 0)
		goto fail;
	puts(v.name);
	vol_info_free(&v);
	ret = EXIT_OK;
	goto out;
fail:
	ret = berr_report(err);
out:
	for (size_t i = 0; i < n_labels; i++)
		free(labels[i].key);
	return ret;
}

/* ---- inspect ---- */

static int sub_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	const char *value;
	struct args a = { 0 };
	json_t *out;
	int id, r, ret = EXIT_OK;

	(void) ctx;
	while ((r = sub_args("inspect", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE) {
		if (id == O_FORMAT && strcmp(value, "json") != 0) {
			berr_usage(&err, "bad value `%s` for --format: volume inspect prints json", value);
			return berr_report(err);
		}
	}
	if (r >= 0)
		return r;
	if (a.i >= argc) {
		berr_usage(&err, "`berth volume inspect` requires at least one VOLUME");
		return berr_report(err);
	}
	out = json_array();
	for (int i = a.i; i < argc; i++) {
		struct vol_info v;
		if (vol_inspect(argv[i], &v, &err) < 0) {
			int st = berr_report(err);
			err = NULL;
			if (ret == EXIT_OK)
				ret = st;
			continue;
		}
		json_array_append_new(out, volume_json(&v));
		vol_info_free(&v);
	}
	r = print_json(out);
	return ret != EXIT_OK ? ret : r;
}

/* ---- ls ---- */

struct ls_filter {
	int dangling;       /* -1: any, 0: used only, 1: unused only */
	const char *name;   /* substring, or NULL */
};

static int parse_filter(const char *f, struct ls_filter *out, struct berr **err)
{
	if (str_has_prefix(f, "dangling=")) {
		const char *v = f + strlen("dangling=");
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			out->dangling = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			out->dangling = 0;
		else
			return berr_usage(err, "bad filter `%s`: dangling is true or false", f);
		return 0;
	}
	if (str_has_prefix(f, "name=")) {
		out->name = f + strlen("name=");
		return 0;
	}
	return berr_usage(err, "bad filter `%s`: use dangling=true|false or name=SUBSTRING", f);
}

static int sub_ls(struct cli_ctx *ctx, int argc, char **argv)
{
	struct ls_filter filter = { .dangling = -1 };
	enum out_format fmt = OUT_TABLE;
	struct vol_list l = { 0 };
	struct rec_list recs = { 0 };
	struct berr *err = NULL;
	bool quiet = false;
	const char *value;
	struct args a = { 0 };
	json_t *arr = NULL;
	int id, r;

	(void) ctx;
	while ((r = sub_args("ls", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE) {
		if ((id == O_FORMAT && cli_parse_format(value, &fmt, &err) < 0) ||
		    (id == O_FILTER && parse_filter(value, &filter, &err) < 0))
			return berr_report(err);
		if (id == O_QUIET)
			quiet = true;
	}
	if (r >= 0)
		return r;
	if (a.i < argc) {
		berr_usage(&err, "`berth volume ls` takes no arguments");
		return berr_report(err);
	}
	if (vol_list_load(&l, &err) < 0 ||
	    (filter.dangling >= 0 && rec_list_load(&recs, &err) < 0)) {
		vol_list_free(&l);
		return berr_report(err);
	}
	if (fmt == OUT_JSON)
		arr = json_array();
	else if (!quiet)
		printf("%-9s %s\n", "DRIVER", "VOLUME NAME");
	for (size_t i = 0; i < l.n; i++) {
		const struct vol_info *v = &l.v[i];
		if (filter.name && strstr(v->name, filter.name) == NULL)
			continue;
		if (filter.dangling >= 0) {
			bool used = false;
			for (size_t k = 0; k < recs.n && !used; k++)
				for (size_t m = 0; m < recs.v[k].cfg.n_mounts; m++)
					if (recs.v[k].cfg.mounts[m].type == REC_MOUNT_VOLUME &&
					    strcmp(recs.v[k].cfg.mounts[m].name, v->name) == 0)
						used = true;
			if (used == (filter.dangling == 1))
				continue;
		}
		if (arr)
			json_array_append_new(arr, volume_json(v));
		else if (quiet)
			puts(v->name);
		else
			printf("%-9s %s\n", "local", v->name);
	}
	rec_list_free(&recs);
	vol_list_free(&l);
	return arr ? print_json(arr) : EXIT_OK;
}

/* ---- rm ---- */

static int sub_rm(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	bool force = false;
	const char *value;
	struct args a = { 0 };
	int id, r, ret = EXIT_OK;

	(void) ctx;
	while ((r = sub_args("rm", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE)
		if (id == O_FORCE)
			force = true;
	if (r >= 0)
		return r;
	if (a.i >= argc) {
		berr_usage(&err, "`berth volume rm` requires at least one VOLUME");
		return berr_report(err);
	}
	for (int i = a.i; i < argc; i++) {
		if (vol_remove(argv[i], force, NULL, &err) < 0) {
			int st = berr_report(err);
			err = NULL;
			if (ret == EXIT_OK || st == EXIT_BERTH)
				ret = st;
			continue;
		}
		puts(argv[i]);
	}
	return ret;
}

/* ---- prune ---- */

static void on_prune(void *data, const char *name, uint64_t size)
{
	bool *header = data;

	(void) size;
	if (!*header) {
		printf("Deleted Volumes:\n");
		*header = true;
	}
	puts(name);
}

static int sub_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	bool all = false, force = false, header = false;
	const char *value;
	struct args a = { 0 };
	uint64_t reclaimed = 0;
	char size[16];
	int id, r;

	(void) ctx;
	while ((r = sub_args("prune", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE) {
		if (id == O_ALL)
			all = true;
		else if (id == O_FORCE)
			force = true;
	}
	if (r >= 0)
		return r;
	if (a.i < argc) {
		berr_usage(&err, "`berth volume prune` takes no arguments");
		return berr_report(err);
	}
	if (!force && !cli_confirm(all ? "This will remove all local volumes not used by at least "
				   "one container." : "This will remove anonymous local volumes not "
				   "used by at least one container."))
		return EXIT_OK;
	r = vol_prune(all, on_prune, &header, &reclaimed, &err);
	if (header)
		printf("\n");
	cli_human_size(reclaimed, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	return r < 0 ? berr_report(err) : EXIT_OK;
}

int cmd_volume(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		volume_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		volume_usage(stdout);
		return EXIT_OK;
	}
	c = sub_find(argv[1]);
	if (c == NULL) {
		log_error("unknown command `berth volume %s`; see `berth volume --help`", argv[1]);
		return EXIT_USAGE;
	}
	return c->run(ctx, argc - 1, argv + 1);
}
