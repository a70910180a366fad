/* `berth image SUBCOMMAND`: inspect, prune, mount, umount, and Docker's aliases (ls, rm,
 * load, save, tag) for the top-level image commands. */
#include "cli.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/mount.h"
#include "image/ref.h"
#include "image/store.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static const struct cli_opt no_opts[] = {
	{ 0, 0, NULL, NULL, NULL },
};

enum { O_ALL = 1, O_FORCE, O_FORMAT };

static const struct cli_opt inspect_opts[] = {
	{ O_FORMAT, 'f', "format", "string", "Output format: json (the only one)" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct cli_opt prune_opts[] = {
	{ O_ALL, 'a', "all", NULL, "Also remove resumable partial downloads" },
	{ O_FORCE, 'f', "force", NULL, "Do not prompt for confirmation" },
	{ 0, 0, NULL, NULL, NULL },
};

static int sub_inspect(struct cli_ctx *ctx, int argc, char **argv);
static int sub_prune(struct cli_ctx *ctx, int argc, char **argv);
static int sub_mount(struct cli_ctx *ctx, int argc, char **argv);
static int sub_umount(struct cli_ctx *ctx, int argc, char **argv);

static const struct command subcommands[] = {
	{ "inspect", sub_inspect, "berth image inspect IMAGE [IMAGE...]",
	  "Display detailed information on one or more images", inspect_opts, 0 },
	{ "load", cmd_load, "berth image load [OPTIONS]",
	  "Load images from a tar archive or STDIN", cmd_load_opts, 0 },
	{ "ls", cmd_images, "berth image ls [OPTIONS] [REPOSITORY[:TAG]]", "List images",
	  cmd_images_opts, 0 },
	{ "mount", sub_mount, "berth image mount IMAGE DIR",
	  "Mount an image's file system read-only at DIR", no_opts, 0 },
	{ "prune", sub_prune, "berth image prune [OPTIONS]",
	  "Remove untagged images, unused blobs and layers, and leftovers", prune_opts, 0 },
	{ "rm", cmd_rmi, "berth image rm [OPTIONS] IMAGE [IMAGE...]",
	  "Remove one or more images", cmd_rmi_opts, 0 },
	{ "save", cmd_save, "berth image save [OPTIONS] IMAGE [IMAGE...]",
	  "Save images to an OCI layout tar (STDOUT by default)", cmd_save_opts, 0 },
	{ "tag", cmd_tag, "berth image tag SOURCE_IMAGE TARGET_IMAGE[:TAG]",
	  "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", cmd_tag_opts, 0 },
	{ "umount", sub_umount, "berth image umount DIR",
	  "Unmount an image mounted with `berth image mount`", no_opts, 0 },
	{ NULL, NULL, NULL, NULL, NULL, 0 },
};

static const struct command *sub_find(const char *name)
{
	return command_find_in(subcommands, name);
}

static void image_usage(FILE *out)
{
	command_group_usage(out, "image", "Manage images", subcommands);
}

/* Parse a subcommand's options; returns -1 to go on, else the exit status. */
static int sub_args(const char *name, struct args *a, int argc, char **argv, int *id,
		    const char **value)
{
	return command_sub_args(sub_find(name), "image", a, argc, argv, id, value);
}

/* ---- inspect ---- */

static json_t *strv_json(char **v, size_t n, bool set)
{
	json_t *a;

	if (!set)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *set_json(char **v, size_t n)
{
	json_t *o;

	if (n == 0)
		return json_null();
	o = json_object();
	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, v[i], json_object());
	return o;
}

static json_t *inspect_json(const struct img_info *info, const char *dreg)
{
	const struct img *img = &info->img;
	const struct manifest_config *c = &img->cfg;
	json_t *o = json_object(), *tags = json_array(), *digests = json_array(), *cfg, *layers;
	char ds[DIGEST_STR_SIZE], name[REF_STR_SIZE];

	for (size_t k = 0; k < info->n_keys; k++) {
		struct ref r;
		char repo[REF_STR_SIZE], rd[REF_STR_SIZE + DIGEST_STR_SIZE];
		bool dup = false;

		if (img_key_is_dangling(info->keys[k]) ||
		    ref_parse(info->keys[k], dreg, REF_NO_DEFAULT_TAG, &r, NULL) < 0)
			continue;
		if (r.tag[0] && !digest_is_set(&r.digest)) {
			img_key_familiar(info->keys[k], dreg, name, sizeof(name));
			json_array_append_new(tags, json_string(name));
		}
		/* RepoDigests: each repository with the digest of what it points at. */
		ref_format(&r, REF_FAMILIAR_NAME, repo, sizeof(repo));
		snprintf(rd, sizeof(rd), "%s@%s", repo, digest_format(&img->top, ds));
		for (size_t j = 0; j < json_array_size(digests); j++)
			if (strcmp(json_string_value(json_array_get(digests, j)), rd) == 0)
				dup = true;
		if (!dup)
			json_array_append_new(digests, json_string(rd));
	}
	json_object_set_new(o, "Id", json_string(digest_format(&img->id, ds)));
	json_object_set_new(o, "RepoTags", tags);
	json_object_set_new(o, "RepoDigests", digests);
	json_object_set_new(o, "Created", c->created ? json_string(c->created) : json_null());
	if (c->author)
		json_object_set_new(o, "Author", json_string(c->author));
	json_object_set_new(o, "Architecture", json_string(c->platform.arch));
	if (c->platform.variant[0])
		json_object_set_new(o, "Variant", json_string(c->platform.variant));
	json_object_set_new(o, "Os", json_string(c->platform.os));
	cfg = json_object();
	json_object_set_new(cfg, "User", json_string(c->user ? c->user : ""));
	json_object_set_new(cfg, "ExposedPorts", set_json(c->exposed_ports, c->n_exposed_ports));
	json_object_set_new(cfg, "Env", strv_json(c->env, c->n_env, c->n_env > 0));
	json_object_set_new(cfg, "Cmd", strv_json(c->cmd, c->n_cmd, c->has_cmd));
	if (c->healthcheck) {
		json_t *h = json_object();
		json_object_set_new(h, "Test", strv_json(c->healthcheck->test, c->healthcheck->n_test,
							 c->healthcheck->test != NULL));
		if (c->healthcheck->interval_ns)
			json_object_set_new(h, "Interval", json_integer(c->healthcheck->interval_ns));
		if (c->healthcheck->timeout_ns)
			json_object_set_new(h, "Timeout", json_integer(c->healthcheck->timeout_ns));
		if (c->healthcheck->start_period_ns)
			json_object_set_new(h, "StartPeriod", json_integer(c->healthcheck->start_period_ns));
		if (c->healthcheck->start_interval_ns)
			json_object_set_new(h, "StartInterval",
					    json_integer(c->healthcheck->start_interval_ns));
		if (c->healthcheck->retries)
			json_object_set_new(h, "Retries", json_integer(c->healthcheck->retries));
		json_object_set_new(cfg, "Healthcheck", h);
	}
	json_object_set_new(cfg, "Volumes", set_json(c->volumes, c->n_volumes));
	json_object_set_new(cfg, "WorkingDir", json_string(c->working_dir ? c->working_dir : ""));
	json_object_set_new(cfg, "Entrypoint", strv_json(c->entrypoint, c->n_entrypoint, c->has_entrypoint));
	if (c->n_labels) {
		json_t *l = json_object();
		for (size_t i = 0; i < c->n_labels; i++)
			json_object_set_new(l, c->labels[i].key, json_string(c->labels[i].value));
		json_object_set_new(cfg, "Labels", l);
	} else {
		json_object_set_new(cfg, "Labels", json_null());
	}
	if (c->stop_signal)
		json_object_set_new(cfg, "StopSignal", json_string(c->stop_signal));
	json_object_set_new(o, "Config", cfg);
	layers = json_array();
	for (size_t i = 0; i < c->n_diff_ids; i++)
		json_array_append_new(layers, json_string(digest_format(&c->diff_ids[i], ds)));
	json_object_set_new(o, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
	json_object_set_new(o, "Size", json_integer((json_int_t) info->size));
	json_object_set_new(o, "Metadata", json_pack("{s:s}", "Manifest", digest_format(&img->manifest, ds)));
	return o;
}

static int sub_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *dreg = ctx->cfg.daemon.default_registry, *value;
	struct store_refs refs = { 0 };
	struct img_list list = { 0 };
	struct berr *err = NULL;
	json_t *out;
	struct args a = { 0 };
	char *s;
	int id, r, ret = EXIT_OK;

	while ((r = sub_args("inspect", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE) {
		if (id == O_FORMAT && strcmp(value, "json") != 0) {
			berr_usage(&err, "bad value `%s` for --format: image inspect prints json", value);
			return berr_report(err);
		}
	}
	if (r >= 0)
		return r;
	if (a.i >= argc) {
		berr_usage(&err, "`berth image inspect` requires at least one IMAGE");
		return berr_report(err);
	}
	if ((ret = cli_load_refs(&refs)) != EXIT_OK)
		return ret;
	img_list_load(&refs, &list, NULL);
	out = json_array();
	for (int i = a.i; i < argc; i++) {
		struct img_match m;
		struct img_info *info;

		if (img_resolve(&refs, argv[i], dreg, &m, &err) < 0) {
			int st = berr_report(err);
			err = NULL;
			ret = ret == EXIT_OK ? st : ret;
			continue;
		}
		info = img_list_find(&list, &m.top);
		if (info == NULL || !info->ok) {
			log_error("image %s is broken: %s", argv[i], info ? info->problem : "not listed");
			ret = EXIT_FAILED;
			continue;
		}
		json_array_append_new(out, inspect_json(info, dreg));
	}
	s = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(out);
	if (s) {
		puts(s);
		free(s);
	}
	img_list_free(&list);
	store_refs_free(&refs);
	return ret;
}

/* ---- prune ---- */

struct prune_out {
	bool header;
	const char *dreg;
};

static void on_prune(void *data, enum gc_kind kind, const char *name, uint64_t size)
{
	struct prune_out *p = data;
	char buf[REF_STR_SIZE];

	(void) size;
	if (kind == GC_TMP)
		return;
	if (!p->header) {
		printf("Deleted Images:\n");
		p->header = true;
	}
	if (kind == GC_REF) {
		img_key_familiar(name, p->dreg, buf, sizeof(buf));
		printf("untagged: %s\n", buf);
	} else {
		printf("deleted: %s\n", name);
	}
}

/* Ask on a terminal; without one, read the answer from stdin as Docker does (EOF: no). */
static bool confirm(const char *warning)
{
	char line[16];

	printf("WARNING! %s\nAre you sure you want to continue? [y/N] ", warning);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	return line[0] == 'y' || line[0] == 'Y';
}

static int sub_prune(struct cli_ctx *ctx, int argc, char **argv)
{
	struct prune_out po = { .dreg = ctx->cfg.daemon.default_registry };
	struct gc_opts o = { .dangling = true, .tmp = true, .on_remove = on_prune, .data = &po };
	struct gc_stats st;
	struct berr *err = NULL;
	bool force = false;
	const char *value;
	struct args a = { 0 };
	char size[16];
	int id, r;

	while ((r = sub_args("prune", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE) {
		if (id == O_ALL)
			o.partials = true;
		else if (id == O_FORCE)
			force = true;
	}
	if (r >= 0)
		return r;
	if (a.i < argc) {
		berr_usage(&err, "`berth image prune` takes no arguments");
		return berr_report(err);
	}
	if (!force && !confirm(o.partials ? "This will remove all dangling images, unused data and "
				"partial downloads." : "This will remove all dangling images and unused data."))
		return EXIT_OK;
	if (gc_run(&o, &st, &err) < 0)
		return berr_report(err);
	if (po.header)
		printf("\n");
	cli_human_size(st.bytes, size, sizeof(size));
	printf("Total reclaimed space: %s\n", size);
	if (st.kept_in_use)
		printf("%zu unused layer%s kept: mounted\n", st.kept_in_use, st.kept_in_use == 1 ? "" : "s");
	return EXIT_OK;
}

/* ---- mount / umount ---- */

static int sub_mount(struct cli_ctx *ctx, int argc, char **argv)
{
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	struct img_match m;
	struct img img;
	const char *value, **hexes;
	struct args a = { 0 };
	int id, r, ret;

	while ((r = sub_args("mount", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE)
		;
	if (r >= 0)
		return r;
	if (argc - a.i != 2) {
		berr_usage(&err, "`berth image mount` requires IMAGE and DIR");
		return berr_report(err);
	}
	if ((ret = cli_load_refs(&refs)) != EXIT_OK)
		return ret;
	if (img_resolve(&refs, argv[a.i], ctx->cfg.daemon.default_registry, &m, &err) < 0 ||
	    img_open(&m.top, &img, &err) < 0) {
		store_refs_free(&refs);
		return berr_report(err);
	}
	store_refs_free(&refs);
	if (img.n_layers == 0) {
		img_close(&img);
		berr_make(&err, 0, "image %s has no layers to mount", argv[a.i]);
		return berr_report(err);
	}
	hexes = xcalloc(img.n_layers, sizeof(*hexes));
	for (size_t i = 0; i < img.n_layers; i++)
		hexes[i] = img.chain_ids[i].hex;
	if (fs_mkdir_p(argv[a.i + 1], 0755, &err) < 0 ||
	    overlay_mount(hexes, img.n_layers, NULL, NULL, argv[a.i + 1], &err) < 0) {
		struct berr *e = NULL;
		free(hexes);
		img_close(&img);
		/* Layers mounted on the way stay only while something uses them. */
		if (layer_release_unused(&e) < 0)
			berr_free(e);
		berr_wrap(&err, "mount %s", argv[a.i]);
		return berr_report(err);
	}
	free(hexes);
	img_close(&img);
	printf("%s\n", argv[a.i + 1]);
	return EXIT_OK;
}

struct find_mount {
	const char *path;
	bool found;
};

static int find_mount_cb(const struct mountinfo_entry *e, void *data)
{
	struct find_mount *f = data;

	if (strcmp(e->mount_point, f->path) == 0)
		f->found = true;
	return 0;
}

static int sub_umount(struct cli_ctx *ctx, int argc, char **argv)
{
	struct find_mount f = { 0 };
	struct berr *err = NULL;
	char real[PATH_MAX];
	const char *value;
	struct args a = { 0 };
	int id, r;

	(void) ctx;
	while ((r = sub_args("umount", &a, argc, argv, &id, &value)) < 0 && id != ARGS_DONE)
		;
	if (r >= 0)
		return r;
	if (argc - a.i != 1) {
		berr_usage(&err, "`berth image umount` requires DIR");
		return berr_report(err);
	}
	if (realpath(argv[a.i], real) == NULL) {
		berr_make(&err, errno, "`%s`", argv[a.i]);
		err->status = EXIT_FAILED;
		return berr_report(err);
	}
	f.path = real;
	if (mountinfo_each(NULL, find_mount_cb, &f, &err) < 0)
		return berr_report(err);
	if (!f.found) {
		berr_make(&err, 0, "`%s` is not mounted", argv[a.i]);
		err->status = EXIT_FAILED;
		return berr_report(err);
	}
	if (umount2(real, 0) < 0) {
		berr_make(&err, errno, "unmount `%s`", real);
		err->status = EXIT_FAILED;
		return berr_report(err);
	}
	if (layer_release_unused(&err) < 0)
		return berr_report(err);
	return EXIT_OK;
}

int cmd_image(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		image_usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		image_usage(stdout);
		return EXIT_OK;
	}
	c = sub_find(argv[1]);
	if (c == NULL) {
		log_error("unknown command `berth image %s`; see `berth image --help`", argv[1]);
		return EXIT_USAGE;
	}
	return c->run(ctx, argc - 1, argv + 1);
}
