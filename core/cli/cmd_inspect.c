/* `berth inspect`: containers in Docker's shape (Id, State, Config, HostConfig, Mounts, ...)
 * and, for a name no container has, the image of that name as `berth image inspect` shows
 * it, all in one JSON array. `berth container inspect` looks at containers only. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/image.h"
#include "image/store.h"
#include "runtime/device.h"
#include "runtime/record.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define IMAGE_JSON_MAX (16u << 20)

enum { O_FORMAT = 1, O_TYPE };

const struct cli_opt cmd_inspect_opts[] = {
	{ O_FORMAT, 'f', "format", "string", "Output format: json (the only one)" },
	{ O_TYPE, 0, "type", "string", "Only look for this type: container or image" },
	{ 0, 0, NULL, NULL, NULL },
};

enum kind { KIND_ANY, KIND_CONTAINER, KIND_IMAGE };

static json_t *strv(const struct rec_strv *v)
{
	json_t *a;

	if (v->v == NULL)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *time_str(int64_t ns)
{
	char buf[48];

	rec_time_format(ns, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *mounts_json(const struct rec_config *c)
{
	json_t *a = json_array();

	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rec_mount *m = &c->mounts[i];
		char path[PATH_MAX] = "";
		json_t *o = json_object();

		if (m->type == REC_MOUNT_VOLUME) {
			if (paths_volume(path, sizeof(path), m->name) < 0)
				path[0] = '\0';
			json_object_set_new(o, "Type", json_string("volume"));
			json_object_set_new(o, "Name", json_string(m->name));
			json_object_set_new(o, "Source", json_string(path));
		} else if (m->type == REC_MOUNT_BIND) {
			json_object_set_new(o, "Type", json_string("bind"));
			json_object_set_new(o, "Source", json_string(m->source));
		} else {
			json_object_set_new(o, "Type", json_string("tmpfs"));
			json_object_set_new(o, "Source", json_string(""));
		}
		json_object_set_new(o, "Destination", json_string(m->destination));
		if (m->type == REC_MOUNT_VOLUME)
			json_object_set_new(o, "Driver", json_string("local"));
		json_object_set_new(o, "Mode", json_string(m->options ? m->options : ""));
		json_object_set_new(o, "RW", json_boolean(!m->readonly));
		json_object_set_new(o, "Propagation", json_string(m->type == REC_MOUNT_BIND ? "rprivate" : ""));
		json_array_append_new(a, o);
	}
	return a;
}

/* HostConfig.Devices, in Docker's shape, from the recorded --device options. */
static json_t *devices_json(const struct rec_config *c)
{
	json_t *a = json_array();
	char **av = xcalloc(c->host_args.n + 2, sizeof(char *));
	const char *v;
	struct berr *e = NULL;
	struct args ar;
	int id;

	av[0] = (char *) "run";
	for (size_t i = 0; i < c->host_args.n; i++)
		av[i + 1] = c->host_args.v[i];
	args_init(&ar, cmd_run_opts, (int) c->host_args.n + 1, av, "berth inspect");
	while ((id = args_next(&ar, &v, &e)) > 0) {
		const struct cli_opt *o = cmd_run_opts;
		struct dev_node d;

		while (o->id && o->id != id)
			o++;
		if (o->long_name == NULL || strcmp(o->long_name, "device") != 0)
			continue;
		if (dev_parse(v, &d, &e) < 0) {
			berr_free(e);
			e = NULL;
			continue;
		}
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "PathOnHost", d.host,
						   "PathInContainer", d.path, "CgroupPermissions", d.perms));
		dev_free(&d);
	}
	berr_free(e);
	free(av);
	return a;
}

static json_t *container_json(const struct rec *r)
{
	const struct rec_config *c = &r->cfg;
	const struct rec_state *s = &r->st;
	json_t *o = json_object(), *st = json_object(), *hc = json_object(), *cfg = json_object(),
	       *labels = json_object(), *args = json_array();
	char name[REC_NAME_MAX + 2];

	for (size_t i = 1; i < c->argv.n; i++)
		json_array_append_new(args, json_string(c->argv.v[i]));
	snprintf(name, sizeof(name), "/%s", c->name);
	json_object_set_new(o, "Id", json_string(c->id));
	json_object_set_new(o, "Created", time_str(c->created));
	json_object_set_new(o, "Path", json_string(c->argv.n ? c->argv.v[0] : ""));
	json_object_set_new(o, "Args", args);
	json_object_set_new(st, "Status", json_string(rec_status_name(s->status)));
	json_object_set_new(st, "Running", json_boolean(s->status == REC_RUNNING));
	json_object_set_new(st, "Paused", json_false());
	json_object_set_new(st, "Restarting", json_false());
	json_object_set_new(st, "OOMKilled", json_boolean(s->oom_killed));
	json_object_set_new(st, "Dead", json_boolean(s->status == REC_DEAD));
	json_object_set_new(st, "Pid", json_integer(s->status == REC_RUNNING ? s->pid : 0));
	json_object_set_new(st, "ExitCode", json_integer(s->exit_code));
	json_object_set_new(st, "Error", json_string(r->problem ? r->problem : s->error ? s->error : ""));
	json_object_set_new(st, "StartedAt", time_str(s->started));
	json_object_set_new(st, "FinishedAt", time_str(s->finished));
	json_object_set_new(o, "State", st);
	json_object_set_new(o, "Image", json_string(c->image_id ? c->image_id : ""));
	json_object_set_new(o, "Name", json_string(c->name[0] ? name : ""));
	json_object_set_new(o, "RestartCount", json_integer(s->restart_count));
	json_object_set_new(o, "Platform", json_string("linux"));
	json_object_set_new(hc, "Memory", json_integer(c->memory));
	json_object_set_new(hc, "NanoCpus", json_integer(c->nano_cpus));
	json_object_set_new(hc, "Devices", devices_json(c));
	json_object_set_new(hc, "PidsLimit", c->pids_limit ? json_integer(c->pids_limit) : json_null());
	json_object_set_new(hc, "AutoRemove", json_boolean(c->auto_remove));
	json_object_set_new(hc, "RestartPolicy",
			    json_pack("{s:s, s:i}", "Name", rec_restart_name(c->restart),
				      "MaximumRetryCount", c->restart_max));
	json_object_set_new(o, "HostConfig", hc);
	json_object_set_new(o, "Mounts", mounts_json(c));
	json_object_set_new(cfg, "Hostname", json_string(c->hostname ? c->hostname : ""));
	json_object_set_new(cfg, "User", json_string(c->user ? c->user : ""));
	json_object_set_new(cfg, "Env", strv(&c->env));
	json_object_set_new(cfg, "Cmd", strv(&c->cmd));
	json_object_set_new(cfg, "Image", json_string(c->image ? c->image : ""));
	json_object_set_new(cfg, "WorkingDir", json_string(c->workdir ? c->workdir : ""));
	json_object_set_new(cfg, "Entrypoint", strv(&c->entrypoint));
	for (size_t i = 0; i < c->n_labels; i++)
		json_object_set_new(labels, c->labels[i].key, json_string(c->labels[i].value));
	json_object_set_new(cfg, "Labels", labels);
	json_object_set_new(o, "Config", cfg);
	return o;
}

/* Run `berth image inspect NAMES...` with its output captured, and parse what it printed:
 * the image commands own that JSON. Returns a JSON array (NULL on failure). */
static json_t *image_inspect(struct cli_ctx *ctx, char **names, size_t n, int *status)
{
	_cleanup_free_ char **av = xcalloc(n + 3, sizeof(*av));
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int mfd = -1, saved = -1;
	size_t len = 0, cap = 0;
	json_error_t jerr;
	json_t *arr;

	av[0] = (char *) "image";
	av[1] = (char *) "inspect";
	memcpy(av + 2, names, n * sizeof(*av));
	fflush(stdout);
	mfd = memfd_create("berth-inspect", MFD_CLOEXEC);
	saved = dup(STDOUT_FILENO);
	if (mfd < 0 || saved < 0 || dup2(mfd, STDOUT_FILENO) < 0) {
		log_error("inspect: capture image output: %s", strerror(errno));
		*status = EXIT_BERTH;
		return NULL;
	}
	*status = cmd_image(ctx, (int) n + 2, av);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	if (lseek(mfd, 0, SEEK_SET) < 0)
		return NULL;
	for (;;) {
		ssize_t r;
		if (len == cap) {
			if (cap >= IMAGE_JSON_MAX)
				return NULL;
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		r = read(mfd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t) r;
	}
	arr = buf ? json_loadb(buf, len, 0, &jerr) : NULL;
	if (arr && !json_is_array(arr)) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

static void set_status(int *ret, int st)
{
	if (*ret == EXIT_OK || st == EXIT_BERTH)
		*ret = st;
}

static int inspect(struct cli_ctx *ctx, int argc, char **argv, enum kind kind, const char *cmd_name)
{
	const char *dreg = ctx->cfg.daemon.default_registry, *value;
	struct store_refs refs = { 0 };
	bool refs_loaded = false;
	struct berr *err = NULL;
	json_t *out, **items;
	char **images;
	size_t n_images = 0;
	struct args a;
	int id, ret = EXIT_OK;
	char *s;

	args_init(&a, cmd_inspect_opts, argc, argv, kind == KIND_CONTAINER ? "berth container inspect" :
		  "berth inspect");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find(cmd_name), stdout);
			return EXIT_OK;
		}
		if (id == O_FORMAT && strcmp(value, "json") != 0) {
			berr_usage(&err, "bad value `%s` for --format: inspect prints json", value);
			return berr_report(err);
		}
		if (id == O_TYPE) {
			if (strcmp(value, "container") == 0)
				kind = KIND_CONTAINER;
			else if (strcmp(value, "image") == 0)
				kind = KIND_IMAGE;
			else {
				berr_usage(&err, "bad value `%s` for --type: use container or image", value);
				return berr_report(err);
			}
		}
	}
	if (a.i >= argc) {
		berr_usage(&err, "`%s` requires at least one NAME or ID", a.cmd);
		return berr_report(err);
	}
	items = xcalloc((size_t) (argc - a.i), sizeof(*items));
	images = xcalloc((size_t) (argc - a.i), sizeof(*images));
	for (int i = a.i; i < argc; i++) {
		struct rec r;
		struct img_match m;

		if (kind != KIND_IMAGE && rec_find(argv[i], &r, &err) == 0) {
			items[i - a.i] = container_json(&r);
			rec_free(&r);
			continue;
		}
		if (kind == KIND_CONTAINER) {
			set_status(&ret, berr_report(err));
			err = NULL;
			continue;
		}
		berr_free(err);
		err = NULL;
		if (!refs_loaded && store_refs_load(&refs, &err) < 0) {
			set_status(&ret, berr_report(err));
			err = NULL;
			break;
		}
		refs_loaded = true;
		if (img_resolve(&refs, argv[i], dreg, &m, NULL) == 0) {
			images[n_images++] = argv[i];
			continue;
		}
		berr_make(&err, 0, "No such object: %s", argv[i]);
		err->status = EXIT_FAILED;
		set_status(&ret, berr_report(err));
		err = NULL;
	}
	if (refs_loaded)
		store_refs_free(&refs);
	out = json_array();
	if (n_images > 0) {
		int st;
		json_t *imgs = image_inspect(ctx, images, n_images, &st);
		size_t k = 0;

		if (st != EXIT_OK)
			set_status(&ret, st);
		if (imgs == NULL)
			set_status(&ret, EXIT_BERTH);
		/* Back into the order the user gave; if an image was left out (broken), they
		 * simply follow the containers. */
		if (imgs && json_array_size(imgs) == n_images) {
			for (int i = a.i; i < argc; i++)
				if (items[i - a.i] == NULL && k < n_images && images[k] == argv[i])
					items[i - a.i] = json_incref(json_array_get(imgs, k++));
		} else if (imgs) {
			for (int i = a.i; i < argc; i++)
				if (items[i - a.i])
					json_array_append_new(out, steal_ptr(&items[i - a.i]));
			json_array_extend(out, imgs);
		}
		json_decref(imgs);
	}
	for (int i = a.i; i < argc; i++)
		if (items[i - a.i])
			json_array_append_new(out, items[i - a.i]);
	free(items);
	free(images);
	s = json_dumps(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	json_decref(out);
	if (s == NULL)
		return EXIT_BERTH;
	puts(s);
	free(s);
	return ret;
}

int cmd_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	return inspect(ctx, argc, argv, KIND_ANY, "inspect");
}

int cmd_container_inspect(struct cli_ctx *ctx, int argc, char **argv)
{
	return inspect(ctx, argc, argv, KIND_CONTAINER, "inspect");
}
