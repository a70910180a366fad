/* `berth pull`: an image from a registry into the store, with Docker's progress lines. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "image/image.h"
#include "image/platform.h"
#include "image/ref.h"
#include "registry/client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { O_PLATFORM = 1, O_QUIET };

const struct cli_opt cmd_pull_opts[] = {
	{ O_PLATFORM, 0, "platform", "string", "Pull for this platform (os/arch[/variant]) instead "
	  "of this board's" },
	{ O_QUIET, 'q', "quiet", NULL, "Suppress verbose output" },
	{ 0, 0, NULL, NULL, NULL },
};

struct pull_out {
	bool quiet;
	bool tty;
	bool bar_open;             /* a carriage-return progress line is on screen */
	struct timespec last;      /* when the progress line was last drawn */
};

/* "abc123def456", as Docker names a layer in its progress. */
static void short_id(const struct digest *d, char buf[13])
{
	memcpy(buf, d->hex, 12);
	buf[12] = '\0';
}

static void end_bar(struct pull_out *o)
{
	if (o->bar_open) {
		fputc('\n', stdout);
		o->bar_open = false;
	}
}

/* On a terminal, one line redrawn at most 5 times a second; elsewhere nothing, so a serial
 * console or a log gets only the start and end of each layer. */
static void progress(struct pull_out *o, const char *id, uint64_t done, uint64_t total)
{
	struct timespec now;
	char a[32], b[32];
	int width = 30, fill;

	if (!o->tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done < total && o->bar_open &&
	    (now.tv_sec - o->last.tv_sec) * 1000 + (now.tv_nsec - o->last.tv_nsec) / 1000000 < 200)
		return;
	o->last = now;
	fill = total ? (int) (done * (uint64_t) width / total) : width;
	cli_human_size(done, a, sizeof(a));
	cli_human_size(total, b, sizeof(b));
	printf("\r%s: Downloading [%.*s%*s] %s/%s\033[K", id, fill,
	       "==============================", width - fill, "", a, b);
	fflush(stdout);
	o->bar_open = true;
}

static void on_event(void *data, enum reg_event ev, const struct digest *d, uint64_t done,
		     uint64_t total)
{
	struct pull_out *o = data;
	char id[13], a[32], b[32];

	if (o->quiet)
		return;
	short_id(d, id);
	switch (ev) {
	case REG_LAYER_EXISTS:
		printf("%s: Already exists\n", id);
		break;
	case REG_LAYER_DOWNLOADING:
		cli_human_size(total, b, sizeof(b));
		if (done > 0) {
			cli_human_size(done, a, sizeof(a));
			printf("%s: Downloading %s (resuming at %s)\n", id, b, a);
		} else {
			printf("%s: Downloading %s\n", id, b);
		}
		break;
	case REG_LAYER_PROGRESS:
		progress(o, id, done, total);
		return;
	case REG_LAYER_DOWNLOADED:
		end_bar(o);
		printf("%s: Download complete\n", id);
		break;
	case REG_LAYER_COMPLETE:
		printf("%s: Pull complete\n", id);
		break;
	}
	fflush(stdout);
}

int cmd_pull(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pull_out out = { .tty = isatty(STDOUT_FILENO) };
	struct reg_pull_opts o = { .cfg = &ctx->cfg, .on_event = on_event, .data = &out };
	const char *value, *default_registry = ctx->cfg.daemon.default_registry;
	char name[REF_STR_SIZE], ds[DIGEST_STR_SIZE];
	struct reg_pull_result res;
	struct sqfs_options sqfs;
	struct platform plat;
	struct berr *err = NULL;
	struct ref image;
	struct args a;
	int id;

	args_init(&a, cmd_pull_opts, argc, argv, "berth pull");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("pull"), stdout);
			return EXIT_OK;
		case O_PLATFORM:
			if (platform_parse(value, &plat, &err) < 0) {
				berr_wrap(&err, "--platform");
				err->status = EXIT_USAGE;
				return berr_report(err);
			}
			o.platform = &plat;
			break;
		case O_QUIET:
			out.quiet = true;
			break;
		}
	}
	if (argc - a.i != 1) {
		berr_usage(&err, "`berth pull` takes exactly one image (see `berth pull --help`)");
		return berr_report(err);
	}
	if (ref_parse(argv[a.i], default_registry, 0, &image, &err) < 0)
		return berr_report(err);
	if (cli_store_options(&ctx->cfg, &o.format, &sqfs, &err) < 0)
		return berr_report(err);
	o.sqfs = &sqfs;
	ref_format(&image, REF_FAMILIAR, name, sizeof(name));
	if (!out.quiet) {
		printf("%s: Pulling from %s\n", digest_is_set(&image.digest) ? "sha256" : image.tag,
		       image.path);
		fflush(stdout);
	}
	if (reg_pull(&image, &o, &res, &err) < 0) {
		end_bar(&out);
		return berr_report(err);
	}
	if (out.quiet) {
		printf("%s\n", name);
		return EXIT_OK;
	}
	printf("Digest: %s\n", digest_format(&res.digest, ds));
	printf("Status: %s for %s\n", res.up_to_date ? "Image is up to date"
						      : "Downloaded newer image", name);
	printf("%s\n", name);
	return EXIT_OK;
}
