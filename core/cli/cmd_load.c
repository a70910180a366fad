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

	memset(opt, 0, sizeof(*opt));
	if (layer_format_choose(s->layer_format, format, err) < 0)
		return -1;
	opt->comp = SQFS_COMP_GZIP;
	if (s->compression && strcmp(s->compression, "zstd") == 0) {
		if (ENABLE_SQUASHFS_ZSTD)
			opt->comp = SQFS_COMP_ZSTD;
		else
			return berr_usage(err, "[store] compression = zstd, but this berth is built "
					  "without CONFIG_SQUASHFS_ZSTD; use gzip");
	} else if (s->compression && strcmp(s->compression, "xz") == 0) {
		if (ENABLE_SQUASHFS_XZ)
			opt->comp = SQFS_COMP_XZ;
		else
			return berr_usage(err, "[store] compression = xz, but this berth is built "
					  "without CONFIG_SQUASHFS_XZ; use gzip%s",
					  ENABLE_SQUASHFS_ZSTD ? " or zstd" : "");
	}
	if (s->compression_level && strcmp(s->compression_level, "default") != 0) {
		/* The config check let through 0-22; the range depends on the compressor. */
		static const struct {
			enum sqfs_comp comp;
			const char *name;
			int min, max;
		} ranges[] = {
			{ SQFS_COMP_GZIP, "gzip", 1, 9 },
			{ SQFS_COMP_ZSTD, "zstd", 1, 22 },
			{ SQFS_COMP_XZ, "xz", 0, 9 },
		};

		opt->level = atoi(s->compression_level);
		for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
			if (ranges[i].comp == opt->comp &&
			    (opt->level < ranges[i].min || opt->level > ranges[i].max))
				return berr_usage(err, "[store] compression-level = %d, but %s's levels "
						  "go from %d to %d", opt->level, ranges[i].name,
						  ranges[i].min, ranges[i].max);
		if (opt->comp == SQFS_COMP_XZ && opt->level == 0)
			opt->level = SQFS_LEVEL_XZ_0;
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
