/* `berth push`: an image from the store to a registry, with Docker's progress lines. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "image/image.h"
#include "image/ref.h"
#include "registry/push.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { O_QUIET = 1 };

const struct cli_opt cmd_push_opts[] = {
	{ O_QUIET, 'q', "quiet", NULL, "Suppress verbose output" },
	{ 0, 0, NULL, NULL, NULL },
};

struct push_out {
	bool quiet;
	bool tty;
	bool bar_open;             /* a carriage-return progress line is on screen */
	struct timespec last;      /* when the progress line was last drawn */
};

static void end_bar(struct push_out *o)
{
	if (o->bar_open) {
		fputc('\n', stdout);
		o->bar_open = false;
	}
}

/* On a terminal, one line redrawn at most 5 times a second; elsewhere nothing. */
static void progress(struct push_out *o, const char *id, uint64_t done, uint64_t total)
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
	printf("\r%s: Pushing [%.*s%*s] %s/%s\033[K", id, fill, "==============================",
	       width - fill, "", a, b);
	fflush(stdout);
	o->bar_open = true;
}

static void on_event(void *data, enum reg_push_event ev, const struct digest *d, uint64_t done,
		     uint64_t total, const char *from)
{
	struct push_out *o = data;
	char id[13], b[32];

	if (o->quiet)
		return;
	memcpy(id, d->hex, 12);
	id[12] = '\0';
	switch (ev) {
	case REG_PUSH_EXISTS:
		printf("%s: Layer already exists\n", id);
		break;
	case REG_PUSH_MOUNTED:
		printf("%s: Mounted from %.60s\n", id, from);
		break;
	case REG_PUSH_PUSHING:
		cli_human_size(total, b, sizeof(b));
		printf("%s: Pushing %s\n", id, b);
		break;
	case REG_PUSH_PROGRESS:
		progress(o, id, done, total);
		return;
	case REG_PUSH_PUSHED:
		end_bar(o);
		printf("%s: Pushed\n", id);
		break;
	}
	fflush(stdout);
}

int cmd_push(struct cli_ctx *ctx, int argc, char **argv)
{
	struct push_out out = { .tty = isatty(STDOUT_FILENO) };
	struct reg_push_opts o = { .cfg = &ctx->cfg, .on_event = on_event, .data = &out };
	const char *value, *dreg = ctx->cfg.daemon.default_registry;
	char key[REF_STR_SIZE], name[REF_STR_SIZE], ds[DIGEST_STR_SIZE];
	struct reg_push_result res;
	struct berr *err = NULL;
	struct ref image;
	struct args a;
	int id;

	args_init(&a, cmd_push_opts, argc, argv, "berth push");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("push"), stdout);
			return EXIT_OK;
		case O_QUIET:
			out.quiet = true;
			break;
		}
	}
	if (argc - a.i != 1) {
		berr_usage(&err, "`berth push` takes exactly one image (see `berth push --help`)");
		return berr_report(err);
	}
	if (ref_parse(argv[a.i], dreg, 0, &image, &err) < 0 ||
	    ref_format(&image, REF_FULL, key, sizeof(key)) < 0) {
		if (err == NULL)
			berr_usage(&err, "image name `%s` is too long", argv[a.i]);
		return berr_report(err);
	}
	ref_format(&image, REF_FAMILIAR_NAME, name, sizeof(name));
	if (!out.quiet) {
		printf("The push refers to repository [%s]\n", name);
		fflush(stdout);
	}
	if (reg_push(key, &image, &o, &res, &err) < 0) {
		end_bar(&out);
		return berr_report(err);
	}
	digest_format(&res.digest, ds);
	if (out.quiet)
		printf("%s@%s\n", name, ds);
	else
		printf("%s: digest: %s size: %llu\n", image.tag[0] ? image.tag : "sha256", ds,
		       (unsigned long long) res.size);
	return EXIT_OK;
}
