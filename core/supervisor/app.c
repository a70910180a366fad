/* App files (app.h): the [app] section read by inih through berth's line reader (raw values:
 * no inline comments, so commands keep their ';' and '#'), each value checked in app_keys.c,
 * then turned into `berth run` arguments and a hash. PID 1 parses these files: every
 * allocation is checked. */
#include "supervisor/app_int.h"
#include "base/err.h"
#include "base/util.h"
#include "image/digest.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define APP_MAX_ERRORS 20

/* ---- allocation, checked ---- */

char *app_sdup(struct pstate *st, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		st->oom = true;
	return d;
}

int app_sv_addn(struct pstate *st, struct strv *l, const char *s, size_t len)
{
	char *d;

	if (l->n + 1 >= l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **nv = realloc(l->v, cap * sizeof(char *));
		if (nv == NULL) {
			st->oom = true;
			return -1;
		}
		l->v = nv;
		l->cap = cap;
	}
	d = len == SIZE_MAX ? strdup(s) : strndup(s, len);
	if (d == NULL) {
		st->oom = true;
		return -1;
	}
	l->v[l->n++] = d;
	l->v[l->n] = NULL;
	return 0;
}

int app_sv_add(struct pstate *st, struct strv *l, const char *s)
{
	return app_sv_addn(st, l, s, SIZE_MAX);
}

void app_sv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- errors ---- */

void app_error_at(struct pstate *st, int line, const char *fmt, ...)
{
	char msg[600], where[32] = "", *joined = NULL;
	va_list ap;

	st->n_errors++;
	if (st->n_errors > APP_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st->n_errors == APP_MAX_ERRORS)
		snprintf(msg, sizeof(msg), "too many errors; fix these first");
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	if (asprintf(&joined, "%s%s%s%s: %s", st->errors ? st->errors : "", st->errors ? "\n" : "",
		     st->path, where, msg) < 0) {
		st->oom = true;
		return;
	}
	free(st->errors);
	st->errors = joined;
}

void app_bad(struct pstate *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	app_error_at(st, st->rd.line, "%s: %s", app_keys[st->key].name, msg);
}

/* ---- inih callbacks ---- */

static void reader_error(void *user, const char *msg)
{
	struct pstate *st = user;

	app_error_at(st, st->rd.line, "%s", msg);
}

static void reader_header(void *user, const char *line, size_t len)
{
	struct pstate *st = user;
	char name[64];
	size_t i = 1, n = 0;

	while (i < len && isspace((unsigned char) line[i]))
		i++;
	while (i < len && line[i] != ']' && n + 1 < sizeof(name))
		name[n++] = line[i++];
	while (n && isspace((unsigned char) name[n - 1]))
		n--;
	name[n] = '\0';
	st->n_headers++;
	st->in_app = false;
	if (i >= len || line[i] != ']') {
		app_error_at(st, st->rd.line, "section header is missing its closing ']'");
		return;
	}
	for (i++; i < len && line[i] != ';' && line[i] != '#'; i++)
		if (!isspace((unsigned char) line[i])) {
			app_error_at(st, st->rd.line, "text after the section header");
			return;
		}
	if (strcmp(name, "app") != 0) {
		app_error_at(st, st->rd.line, "unknown section [%s]; an app file has one [app] section",
			     name);
		return;
	}
	if (st->n_headers > 1) {
		app_error_at(st, st->rd.line, "a second [app] section; an app file holds one app");
		return;
	}
	st->in_app = true;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct pstate *st = user;
	char buf[INIL_MAX_LINE + 1];
	const struct app_key *k = NULL;
	size_t vl;

	(void) section;
	value = inil_value(&st->rd, value);
	if (!st->in_app) {
		if (st->n_headers == 0)
			app_error_at(st, st->rd.line, "key '%s' is outside [app]; start the file with [app]",
				     name);
		return 1; /* a bad section was reported at its header */
	}
	for (size_t i = 0; i < K_COUNT; i++)
		if (strcmp(app_keys[i].name, name) == 0) {
			k = &app_keys[i];
			st->key = (enum key_id) i;
			break;
		}
	if (k == NULL) {
		app_unknown_key(st, name);
		return 1;
	}
	if (!k->repeatable && st->lines[st->key]) {
		app_error_at(st, st->rd.line, "%s is set twice (first on line %d); it takes one value",
			     name, st->lines[st->key]);
		return 1;
	}
	st->lines[st->key] = st->rd.line;
	/* A value wholly in double quotes keeps its blanks; the quotes go. Keys that split
	 * words themselves see the quotes. */
	vl = strlen(value);
	if (!k->verbatim && vl >= 2 && value[0] == '"' && value[vl - 1] == '"' &&
	    memchr(value + 1, '"', vl - 2) == NULL) {
		memcpy(buf, value + 1, vl - 2);
		buf[vl - 2] = '\0';
		value = buf;
	}
	k->fn(st, value);
	return 1;
}

/* ---- run_args and the hash ---- */

static void arg2(struct pstate *st, struct strv *out, const char *opt, const char *v)
{
	if (v && app_sv_add(st, out, opt) == 0)
		app_sv_add(st, out, v);
}

static void args_list(struct pstate *st, struct strv *out, const char *opt, enum key_id k)
{
	for (size_t i = 0; i < st->list[k].n; i++)
		arg2(st, out, opt, st->list[k].v[i]);
}

static void hash_str(struct digest_ctx *d, const char *s)
{
	digest_update(d, s, strlen(s) + 1);
}

static void hash_int(struct digest_ctx *d, const char *what, long long v)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s=%lld", what, v);
	hash_str(d, buf);
}

/* SHA-256 over the run arguments (without the hash label: opts, then tail) and every key only
 * the supervisor reads, each NUL-ended. */
static int app_hash(struct app *a, const struct strv *opts, const struct strv *tail, struct berr **err)
{
	struct digest_ctx d;
	struct digest out;

	digest_init(&d);
	for (size_t i = 0; i < opts->n; i++)
		hash_str(&d, opts->v[i]);
	for (size_t i = 0; i < tail->n; i++)
		hash_str(&d, tail->v[i]);
	hash_str(&d, "--");
	hash_str(&d, app_pull_name(a->pull));
	for (size_t i = 0; i < a->n_deps; i++) {
		hash_str(&d, a->deps[i].name);
		hash_str(&d, app_dep_cond_name(a->deps[i].cond));
	}
	hash_int(&d, "health", a->health.set + 2 * a->health.disabled);
	for (size_t i = 0; i < a->health.n_test; i++)
		hash_str(&d, a->health.test[i]);
	hash_int(&d, "interval", a->health.interval_ms);
	hash_int(&d, "timeout", a->health.timeout_ms);
	hash_int(&d, "start-period", a->health.start_period_ms);
	hash_int(&d, "retries", a->health.retries);
	hash_int(&d, "stop-timeout", a->stop_timeout_ms);
	hash_int(&d, "console", a->console);
	if (digest_final(&d, &out, err) < 0)
		return -1;
	a->hash = strdup(out.hex);
	if (a->hash == NULL)
		return berr_make(err, ENOMEM, "app `%s`", a->name);
	return 0;
}

static void build_args(struct pstate *st, struct strv *out)
{
	struct app *a = st->a;
	char label[REC_NAME_MAX + 32], restart[48], secs[32];

	arg2(st, out, "--name", a->name);
	snprintf(label, sizeof(label), "%s=%s", APP_LABEL, a->name);
	arg2(st, out, "--label", label);
	if (a->restart != REC_RESTART_NO) {
		if (a->restart == REC_RESTART_ON_FAILURE && a->restart_max > 0)
			snprintf(restart, sizeof(restart), "on-failure:%d", a->restart_max);
		else
			snprintf(restart, sizeof(restart), "%s", rec_restart_name(a->restart));
		arg2(st, out, "--restart", restart);
	}
	args_list(st, out, "--env-file", K_ENV_FILE);
	args_list(st, out, "-e", K_ENVIRONMENT);
	args_list(st, out, "--volume", K_VOLUMES);
	args_list(st, out, "--tmpfs", K_TMPFS);
	arg2(st, out, "--memory", st->scalar[K_MEMORY]);
	arg2(st, out, "--cpus", st->scalar[K_CPUS]);
	arg2(st, out, "--pids-limit", st->scalar[K_PIDS_LIMIT]);
	arg2(st, out, "--user", st->scalar[K_USER]);
	arg2(st, out, "--workdir", st->scalar[K_WORKDIR]);
	arg2(st, out, "--hostname", st->scalar[K_HOSTNAME]);
	if (st->read_only)
		app_sv_add(st, out, "--read-only");
	args_list(st, out, "--cap-add", K_CAP_ADD);
	args_list(st, out, "--cap-drop", K_CAP_DROP);
	args_list(st, out, "--device", K_DEVICES);
	arg2(st, out, "--network", st->scalar[K_NETWORK]);
	arg2(st, out, "--stop-signal", st->scalar[K_STOP_SIGNAL]);
	if (st->lines[K_STOP_TIMEOUT]) {
		/* berth run counts whole seconds, as Docker does: round up. */
		snprintf(secs, sizeof(secs), "%lld", (long long) ((a->stop_timeout_ms + 999) / 1000));
		arg2(st, out, "--stop-timeout", secs);
	}
	args_list(st, out, "--label", K_LABELS);
	if (st->lines[K_ENTRYPOINT])
		arg2(st, out, "--entrypoint", st->entrypoint.n ? st->entrypoint.v[0] : "");
}

/* The options, the hash label, the image and the command words. */
static int finish(struct pstate *st, struct berr **err)
{
	struct app *a = st->a;
	struct strv opts = { 0 }, tail = { 0 };
	char label[DIGEST_HEX_LEN + 32];
	int ret = -1;

	build_args(st, &opts);
	app_sv_add(st, &tail, a->image);
	for (size_t i = 1; i < st->entrypoint.n; i++)
		app_sv_add(st, &tail, st->entrypoint.v[i]);
	for (size_t i = 0; i < st->command.n; i++)
		app_sv_add(st, &tail, st->command.v[i]);
	if (st->oom)
		goto out;
	if (app_hash(a, &opts, &tail, err) < 0)
		goto out;
	snprintf(label, sizeof(label), "%s=%s", APP_HASH_LABEL, a->hash);
	arg2(st, &opts, "--label", label);
	for (size_t i = 0; i < tail.n; i++)
		app_sv_add(st, &opts, tail.v[i]);
	if (st->oom)
		goto out;
	a->run_args = steal_ptr(&opts.v);
	a->n_run_args = opts.n;
	opts.n = 0;
	ret = 0;
out:
	if (st->oom && ret < 0 && (err == NULL || *err == NULL))
		berr_make(err, ENOMEM, "app file `%s`", st->path);
	app_sv_free(&opts);
	app_sv_free(&tail);
	return ret;
}

/* "web" from "/etc/berth/apps/web.conf". */
static char *name_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	return strndup(base, n);
}

static void pstate_free(struct pstate *st)
{
	app_sv_free(&st->command);
	app_sv_free(&st->entrypoint);
	for (size_t i = 0; i < K_COUNT; i++) {
		app_sv_free(&st->list[i]);
		free(st->scalar[i]);
	}
	free(st->errors);
}

/* Cross-checks once every key is read. */
static void check_app(struct pstate *st)
{
	static const enum key_id health_opts[] = { K_HEALTH_INTERVAL, K_HEALTH_TIMEOUT,
						   K_HEALTH_RETRIES, K_HEALTH_START_PERIOD };
	struct app *a = st->a;

	if (a->image == NULL && st->lines[K_IMAGE] == 0)
		app_error_at(st, 0, "no image; add `image = NAME:TAG` under [app]");
	if (a->health.disabled)
		for (size_t i = 0; i < ARRAY_SIZE(health_opts); i++)
			if (st->lines[health_opts[i]])
				app_error_at(st, st->lines[health_opts[i]], "%s: health-cmd = none (line %d) "
					     "turns the health check off; remove %s",
					     app_keys[health_opts[i]].name, st->lines[K_HEALTH_CMD],
					     app_keys[health_opts[i]].name);
}

int app_parse(const char *path, const char *text, size_t len, struct app *out, struct berr **err)
{
	struct pstate st = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	out->health.interval_ms = out->health.timeout_ms = out->health.start_period_ms = -1;
	out->health.retries = -1;
	out->stop_timeout_ms = 10000;
	out->file = strdup(path);
	out->name = name_of(path);
	st.path = path;
	st.a = out;
	if (out->file == NULL || out->name == NULL) {
		app_free(out);
		return berr_make(err, ENOMEM, "app file `%s`", path);
	}
	if (!rec_name_valid(out->name) || out->name[0] == '/')
		app_error_at(&st, 0, "`%s` is not a valid app name: name the file NAME.conf, NAME of 2 or "
			     "more letters, digits, '_', '.' or '-', starting with a letter or digit",
			     out->name);
	if (len > APP_FILE_MAX) {
		app_error_at(&st, 0, "larger than %u bytes", APP_FILE_MAX);
	} else {
		inil_init(&st.rd, text, len, true, reader_error, reader_header, &st);
		rc = ini_parse_stream(inil_read, &st.rd, handler, &st);
		if (rc != 0 && st.n_errors == 0 && !st.oom)
			app_error_at(&st, rc > 0 ? rc : st.rd.line, "syntax error");
		if (st.n_headers == 0 && st.n_errors == 0)
			app_error_at(&st, 0, "no [app] section; an app file starts with [app] and sets image");
		else
			check_app(&st);
	}
	if (!st.oom && st.n_errors == 0 && finish(&st, err) < 0) {
		pstate_free(&st);
		app_free(out);
		return -1;
	}
	if (st.oom) {
		pstate_free(&st);
		app_free(out);
		return berr_make(err, ENOMEM, "app file `%s`", path);
	}
	if (st.n_errors) {
		berr_usage(err, "%s", st.errors ? st.errors : "bad app file");
		pstate_free(&st);
		app_free(out);
		return -1;
	}
	pstate_free(&st);
	return 0;
}

void app_free(struct app *a)
{
	free(a->name);
	free(a->file);
	free(a->image);
	for (size_t i = 0; i < a->n_deps; i++)
		free(a->deps[i].name);
	free(a->deps);
	for (size_t i = 0; i < a->health.n_test; i++)
		free(a->health.test[i]);
	free(a->health.test);
	for (size_t i = 0; i < a->n_run_args; i++)
		free(a->run_args[i]);
	free(a->run_args);
	free(a->hash);
	memset(a, 0, sizeof(*a));
}

const char *app_pull_name(enum app_pull p)
{
	switch (p) {
	case APP_PULL_ALWAYS: return "always";
	case APP_PULL_NEVER: return "never";
	default: return "missing";
	}
}

const char *app_dep_cond_name(enum app_dep_cond c)
{
	switch (c) {
	case APP_DEP_HEALTHY: return "healthy";
	case APP_DEP_COMPLETED: return "completed";
	default: return "started";
	}
}

