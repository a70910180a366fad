/* `berth load`: images from an OCI layout or docker save tar, on a file or standard input. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "config.h"
#include "image/archive.h"
#include "image/image.h"
#include "image/ref.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { O_INPUT = 1, O_QUIET };

const struct cli_opt cmd_load_opts[] = {
	{ O_INPUT, 'i', "input", "FILE", "Read from a tar archive file, instead of STDIN" },
	{ O_QUIET, 'q', "quiet", NULL, "Suppress the load output" },
	{ 0, 0, NULL, NULL, NULL },
};

struct load_out {
	const char *default_registry;
	bool quiet;
};

static void on_loaded(void *data, const char *key, const struct digest *id)
{
	struct load_out *o = data;
	char name[REF_STR_SIZE], ds[DIGEST_STR_SIZE];

	if (o->quiet)
		return;
	if (key == NULL) {
		printf("Loaded image ID: %s\n", digest_format(id, ds));
		return;
	}
	img_key_familiar(key, o->default_registry, name, sizeof(name));
	printf("Loaded image: %s\n", name);
}

/* [store] settings to a layer format and squashfs writer options. */
int cli_store_options(const struct berth_config *cfg, enum layer_format *format,
		      struct sqfs_options *opt, struct berr **err)
{
	const struct cfg_store *s = &cfg->store;
	const char *name;
	int min, max;

	memset(opt, 0, sizeof(*opt));
	if (layer_format_choose(s->layer_format, format, err) < 0)
		return -1;
	opt->comp = s->compression ? sqfs_comp_named(s->compression) : SQFS_COMP_GZIP;
	if (opt->comp == 0)
		return berr_usage(err, "[store] compression = %s: use gzip, zstd or xz", s->compression);
	name = sqfs_comp_levels(opt->comp, &min, &max);
	if (name == NULL)
		return berr_usage(err, "[store] compression = %s, but this berth is built without "
				  "CONFIG_SQUASHFS_%s; use gzip%s", s->compression,
				  opt->comp == SQFS_COMP_XZ ? "XZ" : "ZSTD",
				  opt->comp == SQFS_COMP_XZ && ENABLE_SQUASHFS_ZSTD ? " or zstd" : "");
	if (s->compression_level && strcmp(s->compression_level, "default") != 0) {
		/* The config check let through 0-22; the range depends on the compressor. */
		int n = atoi(s->compression_level);

		if (n < min || n > max)
			return berr_usage(err, "[store] compression-level = %d, but %s's levels go "
					  "from %d to %d", n, name, min, max);
		opt->level = sqfs_level_given(opt->comp, n);
	}
	/* auto: 0, one per CPU; the default is 1, as a pull runs beside the board's apps */
	opt->threads = 1;
	if (s->convert_threads && strcmp(s->convert_threads, "auto") == 0)
		opt->threads = 0;
	else if (s->convert_threads)
		opt->threads = atoi(s->convert_threads);
	opt->block_size = (uint32_t) s->block_size;
	return 0;
}

int cmd_load(struct cli_ctx *ctx, int argc, char **argv)
{
	struct load_out out = { .default_registry = ctx->cfg.daemon.default_registry };
	struct arch_load_opts o = { .default_registry = ctx->cfg.daemon.default_registry,
				    .on_loaded = on_loaded, .data = &out };
	const char *input = NULL, *value;
	struct sqfs_options sqfs;
	struct berr *err = NULL;
	struct args a;
	int id, fd = STDIN_FILENO, ret;

	args_init(&a, cmd_load_opts, argc, argv, "berth load");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("load"), stdout);
			return EXIT_OK;
		case O_INPUT:
			input = value;
			break;
		case O_QUIET:
			out.quiet = true;
			break;
		}
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth load` takes no arguments: give the archive with -i FILE or "
			   "on standard input");
		return berr_report(err);
	}
	if (cli_store_options(&ctx->cfg, &o.format, &sqfs, &err) < 0)
		return berr_report(err);
	o.sqfs = &sqfs;
	o.keep_layer_blobs = ctx->cfg.store.keep_layer_blobs;
	if (input != NULL && strcmp(input, "-") != 0) {
		fd = open(input, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			berr_make(&err, errno, "open `%s`", input);
			err->status = EXIT_FAILED;
			return berr_report(err);
		}
	} else if (isatty(STDIN_FILENO)) {
		berr_usage(&err, "requested load from stdin, but stdin is a terminal: give -i FILE or "
			   "pipe an archive in");
		return berr_report(err);
	}
	ret = arch_load(fd, input && strcmp(input, "-") ? input : "standard input", &o, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (ret < 0) {
		if (err->status == EXIT_BERTH && err->errcode != ENOSPC && err->errcode != EIO)
			err->status = EXIT_FAILED; /* a bad archive, not a berth failure */
		return berr_report(err);
	}
	return EXIT_OK;
}
