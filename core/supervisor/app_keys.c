/* The values of app file keys: each checked with the parser `berth run` itself uses for the
 * option it becomes (sizes, CPUs, volumes, restart policies, capabilities, signals), command
 * words split shell-like or read as JSON, and the table of keys. Every allocation is checked. */
#include "supervisor/app_int.h"
#include "base/config.h"
#include "base/err.h"
#include "base/signame.h"
#include "base/util.h"
#include "image/ref.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/device.h"
#include "runtime/volume.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An error from one of `berth run`'s parsers: its "--memory " is the key's name here. */
static void bad_cli(struct pstate *st, struct berr *e)
{
	const char *m = e && e->msg ? e->msg : "bad value";

	if (e && e->errcode == ENOMEM) {
		st->oom = true;
	} else {
		if (m[0] == '-' && m[1] == '-' && strchr(m, ' '))
			m = strchr(m, ' ') + 1;
		app_bad(st, "%s", m);
	}
	berr_free(e);
}

/* A value that may go into one `berth run` argument and one line of /etc files or logs. */
static bool one_word(const char *v)
{
	for (; *v; v++)
		if ((unsigned char) *v <= ' ' || *v == 0x7f)
			return false;
	return true;
}

static bool has_ctl(const char *v)
{
	for (; *v; v++)
		if ((unsigned char) *v < ' ' || *v == 0x7f)
			return true;
	return false;
}

/* ---- words: shell-like quoting or a JSON array ---- */

/* Blanks separate words; '...' is literal; in "..." a backslash escapes only " \ $ `; outside
 * quotes a backslash takes the next character as it is. Nothing is expanded and no shell
 * runs (as compose splits a string command). Returns -1 with `why` set, or on OOM. */
static int split_words(struct pstate *st, const char *s, struct strv *out, char *why, size_t size)
{
	size_t n = strlen(s);
	_cleanup_free_ char *w = malloc(n + 1);
	const char *p = s;

	if (w == NULL) {
		st->oom = true;
		return -1;
	}
	for (;;) {
		size_t wl = 0;
		bool in_word = false;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			return 0;
		while (*p && *p != ' ' && *p != '\t') {
			in_word = true;
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');
				if (q == NULL) {
					snprintf(why, size, "the quote ' at column %d is not closed",
						 (int) (p - s) + 1);
					return -1;
				}
				memcpy(w + wl, p + 1, (size_t) (q - p - 1));
				wl += (size_t) (q - p - 1);
				p = q + 1;
			} else if (*p == '"') {
				const char *open = p++;
				while (*p && *p != '"') {
					if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
						p++;
					w[wl++] = *p++;
				}
				if (*p != '"') {
					snprintf(why, size, "the quote \" at column %d is not closed",
						 (int) (open - s) + 1);
					return -1;
				}
				p++;
			} else if (*p == '\\') {
				if (p[1] == '\0') {
					snprintf(why, size, "a backslash ends the value; write \\\\ for one");
					return -1;
				}
				w[wl++] = p[1];
				p += 2;
			} else {
				w[wl++] = *p++;
			}
		}
		if (in_word) {
			if (out->n >= APP_WORDS_MAX) {
				snprintf(why, size, "more than %d words", APP_WORDS_MAX);
				return -1;
			}
			if (app_sv_addn(st, out, w, wl) < 0)
				return -1;
		}
	}
}

/* `["ls", "-l"]`: a JSON array of strings. */
static int json_words(struct pstate *st, const char *s, struct strv *out, char *why, size_t size)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je), *item;
	size_t i;
	int ret = -1;

	if (j == NULL) {
		snprintf(why, size, "not a JSON array of strings: %s at column %d (a value that starts "
			 "with '[' is JSON; quote the '[' for a word)", je.text, je.column);
		return -1;
	}
	if (!json_is_array(j)) {
		snprintf(why, size, "not a JSON array of strings");
		goto out;
	}
	if (json_array_size(j) > APP_WORDS_MAX) {
		snprintf(why, size, "more than %d words", APP_WORDS_MAX);
		goto out;
	}
	json_array_foreach(j, i, item) {
		if (!json_is_string(item)) {
			snprintf(why, size, "element %zu of the JSON array is not a string", i + 1);
			goto out;
		}
		if (app_sv_add(st, out, json_string_value(item)) < 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}

static int words(struct pstate *st, const char *v, struct strv *out)
{
	char why[300];

	app_sv_free(out);
	if ((v[0] == '[' ? json_words(st, v, out, why, sizeof(why)) :
			   split_words(st, v, out, why, sizeof(why))) < 0) {
		if (!st->oom)
			app_bad(st, "%s", why);
		app_sv_free(out);
		return -1;
	}
	return 0;
}

/* ---- the keys ---- */

static void set_scalar(struct pstate *st, const char *v)
{
	free(st->scalar[st->key]);
	st->scalar[st->key] = app_sdup(st, v);
}

static void add_value(struct pstate *st, const char *v)
{
	if (st->list[st->key].n >= APP_LIST_MAX) {
		app_bad(st, "more than %d values", APP_LIST_MAX);
		return;
	}
	app_sv_add(st, &st->list[st->key], v);
}

static void key_image(struct pstate *st, const char *v)
{
	struct ref r;
	struct berr *e = NULL;

	if (*v == '\0') {
		app_bad(st, "empty; name an image such as registry.example:5000/app:1.2");
		return;
	}
	if (v[0] == '-' || ref_parse(v, NULL, 0, &r, &e) < 0) {
		app_bad(st, "`%s` is not an image name: %s", v, e ? e->msg : "it may not start with '-'");
		berr_free(e);
		return;
	}
	free(st->a->image);
	st->a->image = app_sdup(st, v);
}

static void key_command(struct pstate *st, const char *v)
{
	if (words(st, v, &st->command) == 0 && st->command.n == 0)
		app_bad(st, "empty; give a command, or remove the key to run the image's CMD");
}

static void key_entrypoint(struct pstate *st, const char *v)
{
	if (words(st, v, &st->entrypoint) < 0)
		return;
	if (st->entrypoint.n > 1 && st->entrypoint.v[0][0] == '\0')
		app_bad(st, "the program (first word) is empty");
}

static void key_environment(struct pstate *st, const char *v)
{
	size_t kl = strcspn(v, "=");

	if (kl == 0) {
		app_bad(st, "`%s`: use KEY=VALUE, or KEY to pass berth's own value on", v);
		return;
	}
	for (size_t i = 0; i < kl; i++)
		if (isspace((unsigned char) v[i]) || iscntrl((unsigned char) v[i])) {
			app_bad(st, "`%s`: the variable's name may not hold blanks; use KEY=VALUE", v);
			return;
		}
	add_value(st, v);
}

/* A relative env file is taken from the app file's directory, as compose does. */
static void key_env_file(struct pstate *st, const char *v)
{
	const char *slash = strrchr(st->path, '/');
	char *full = NULL;

	if (*v == '\0') {
		app_bad(st, "empty; give the path of a file of KEY=VALUE lines");
		return;
	}
	if (v[0] == '/' || slash == NULL) {
		add_value(st, v);
		return;
	}
	if (asprintf(&full, "%.*s/%s", (int) (slash - st->path), st->path, v) < 0) {
		st->oom = true;
		return;
	}
	add_value(st, full);
	free(full);
}

static void key_volumes(struct pstate *st, const char *v)
{
	struct vol_spec vs;
	struct berr *e = NULL;

	if (vol_spec_parse(v, &vs, &e) < 0) {
		bad_cli(st, e);
		return;
	}
	vol_spec_free(&vs);
	add_value(st, v);
}

static void key_tmpfs(struct pstate *st, const char *v)
{
	if (v[0] != '/' || !one_word(v)) {
		app_bad(st, "`%s`: use an absolute path, with :OPTIONS if any (/run:size=1m,mode=1777)", v);
		return;
	}
	add_value(st, v);
}

static void key_memory(struct pstate *st, const char *v)
{
	struct berr *e = NULL;
	int64_t b;

	if (cg_parse_memory(v, &b, &e) < 0)
		bad_cli(st, e);
	else
		set_scalar(st, v);
}

static void key_cpus(struct pstate *st, const char *v)
{
	struct berr *e = NULL;
	int64_t q, p;

	if (cg_parse_cpus(v, &q, &p, &e) < 0)
		bad_cli(st, e);
	else
		set_scalar(st, v);
}

static void key_pids_limit(struct pstate *st, const char *v)
{
	struct berr *e = NULL;
	int64_t m;

	if (cg_parse_pids_limit(v, &m, &e) < 0)
		bad_cli(st, e);
	else
		set_scalar(st, v);
}

static void key_restart(struct pstate *st, const char *v)
{
	struct berr *e = NULL;

	if (rec_restart_parse(v, &st->a->restart, &st->a->restart_max, &e) < 0)
		bad_cli(st, e);
}

static void key_depends_on(struct pstate *st, const char *v)
{
	static const struct {
		const char *name;
		enum app_dep_cond cond;
	} conds[] = {
		{ "started", APP_DEP_STARTED }, { "service_started", APP_DEP_STARTED },
		{ "healthy", APP_DEP_HEALTHY }, { "service_healthy", APP_DEP_HEALTHY },
		{ "completed", APP_DEP_COMPLETED }, { "service_completed_successfully", APP_DEP_COMPLETED },
	};
	struct app *a = st->a;
	const char *colon = strchr(v, ':');
	size_t nl = colon ? (size_t) (colon - v) : strlen(v);
	enum app_dep_cond cond = APP_DEP_STARTED;
	struct app_dep *grown;
	char *name;

	if (colon) {
		size_t i;
		for (i = 0; i < ARRAY_SIZE(conds); i++)
			if (strcmp(colon + 1, conds[i].name) == 0)
				break;
		if (i == ARRAY_SIZE(conds)) {
			app_bad(st, "`%s`: the condition must be started, healthy or completed (NAME:healthy)", v);
			return;
		}
		cond = conds[i].cond;
	}
	name = strndup(v, nl);
	if (name == NULL) {
		st->oom = true;
		return;
	}
	if (!rec_name_valid(name) || name[0] == '/') {
		app_bad(st, "`%s`: `%s` is not an app name (the name of another app file, without .conf)", v, name);
		free(name);
		return;
	}
	if (a->name && strcmp(name, a->name) == 0) {
		app_bad(st, "`%s`: an app cannot depend on itself", v);
		free(name);
		return;
	}
	for (size_t i = 0; i < a->n_deps; i++)
		if (strcmp(a->deps[i].name, name) == 0) {
			app_bad(st, "`%s` is named twice (line %d)", name, a->deps[i].line);
			free(name);
			return;
		}
	if (a->n_deps >= APP_LIST_MAX) {
		app_bad(st, "more than %d values", APP_LIST_MAX);
		free(name);
		return;
	}
	grown = realloc(a->deps, (a->n_deps + 1) * sizeof(*a->deps));
	if (grown == NULL) {
		st->oom = true;
		free(name);
		return;
	}
	a->deps = grown;
	a->deps[a->n_deps++] = (struct app_dep){ name, cond, st->rd.line };
}

static void set_test(struct pstate *st, struct strv *w)
{
	struct app_health *h = &st->a->health;

	for (size_t i = 0; i < h->n_test; i++)
		free(h->test[i]);
	free(h->test);
	h->test = steal_ptr(&w->v);
	h->n_test = w->n;
	w->n = w->cap = 0;
}

static void key_health_cmd(struct pstate *st, const char *v)
{
	struct app_health *h = &st->a->health;
	struct strv w = { 0 };

	h->set = true;
	h->disabled = false;
	if (strcasecmp(v, "none") == 0) {
		h->disabled = true;
		if (app_sv_add(st, &w, "NONE") == 0)
			set_test(st, &w);
	} else if (v[0] == '[') {
		if (words(st, v, &w) < 0)
			return;
		if (w.n == 0) {
			app_bad(st, "an empty list; give a command, or none to disable the image's check");
		} else if (strcmp(w.v[0], "NONE") == 0 && w.n == 1) {
			h->disabled = true;
			set_test(st, &w);
		} else if (strcmp(w.v[0], "CMD-SHELL") == 0 && w.n != 2) {
			app_bad(st, "[\"CMD-SHELL\", \"COMMAND\"] takes one command string");
		} else if ((strcmp(w.v[0], "CMD") == 0 || strcmp(w.v[0], "CMD-SHELL") == 0) && w.n < 2) {
			app_bad(st, "[\"CMD\", PROGRAM, ARGS...] needs a program");
		} else if (strcmp(w.v[0], "CMD") == 0 || strcmp(w.v[0], "CMD-SHELL") == 0) {
			set_test(st, &w);
		} else if (strcmp(w.v[0], "NONE") == 0) {
			app_bad(st, "[\"NONE\"] takes nothing more");
		} else {
			/* The exec form without its "CMD" tag, as a command is written. */
			struct strv t = { 0 };
			if (app_sv_add(st, &t, "CMD") == 0) {
				for (size_t i = 0; i < w.n; i++)
					if (app_sv_add(st, &t, w.v[i]) < 0)
						break;
				set_test(st, &t);
			}
			app_sv_free(&t);
		}
	} else if (*v == '\0') {
		app_bad(st, "empty; give a command for /bin/sh -c, a JSON array, or none");
	} else {
		if (app_sv_add(st, &w, "CMD-SHELL") == 0 && app_sv_add(st, &w, v) == 0)
			set_test(st, &w);
	}
	app_sv_free(&w);
}

static void duration(struct pstate *st, const char *v, int64_t min_ms, int64_t *out)
{
	uint64_t ms;

	if (parse_duration_go_ms(v, &ms) < 0 || ms > (uint64_t) INT64_MAX / 2) {
		app_bad(st, "`%s` is not a duration; use a number with a unit: 500ms, 30s, 1m30s, 2h", v);
		return;
	}
	if ((int64_t) ms < min_ms) {
		app_bad(st, "`%s` is too short: at least %lldms", v, (long long) min_ms);
		return;
	}
	*out = (int64_t) ms;
}

static void key_health_interval(struct pstate *st, const char *v) { duration(st, v, 1, &st->a->health.interval_ms); }
static void key_health_timeout(struct pstate *st, const char *v) { duration(st, v, 1, &st->a->health.timeout_ms); }
static void key_health_start_period(struct pstate *st, const char *v) { duration(st, v, 0, &st->a->health.start_period_ms); }
static void key_stop_timeout(struct pstate *st, const char *v)
{
	int64_t ms = -1;

	duration(st, v, 0, &ms);
	if (ms > 1000000000) /* berth run's --stop-timeout takes up to 1000000 s */
		app_bad(st, "`%s` is too long: at most 1000000s", v);
	else if (ms >= 0)
		st->a->stop_timeout_ms = ms;
}

static void key_health_retries(struct pstate *st, const char *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (!isdigit((unsigned char) v[0]) || *end || errno || n > 1000000) {
		app_bad(st, "`%s` is not a number of retries; use 0 to 1000000 (Docker's default is 3)", v);
		return;
	}
	st->a->health.retries = (int) n;
}

static void key_user(struct pstate *st, const char *v)
{
	if (*v == '\0' || !one_word(v) || v[0] == ':') {
		app_bad(st, "`%s`: use NAME or UID, with :GROUP or :GID if any", v);
		return;
	}
	set_scalar(st, v);
}

static void key_workdir(struct pstate *st, const char *v)
{
	if (v[0] != '/' || has_ctl(v)) {
		app_bad(st, "`%s`: use an absolute path inside the container", v);
		return;
	}
	set_scalar(st, v);
}

static void key_hostname(struct pstate *st, const char *v)
{
	if (*v == '\0' || strlen(v) > 63 || !one_word(v)) {
		app_bad(st, "`%s`: use 1 to 63 characters, no blanks", v);
		return;
	}
	set_scalar(st, v);
}

static bool bool_value(struct pstate *st, const char *v, bool *out)
{
	if (parse_bool(v, out) < 0) {
		app_bad(st, "`%s`: use yes or no", v);
		return false;
	}
	return true;
}

static void key_read_only(struct pstate *st, const char *v) { bool_value(st, v, &st->read_only); }
static void key_console(struct pstate *st, const char *v) { bool_value(st, v, &st->a->console); }

/* One name, or a comma list: CAP_NET_ADMIN, net_admin, ALL. */
static void key_caps(struct pstate *st, const char *v)
{
	const char *p = v;

	if (*v == '\0') {
		app_bad(st, "empty; name a capability such as NET_ADMIN (or ALL)");
		return;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		char name[64];

		while (n && isspace((unsigned char) p[n - 1]))
			n--;
		if (n == 0 || n >= sizeof(name)) {
			app_bad(st, "`%s`: use capability names separated by commas (NET_ADMIN,SYS_TIME)", v);
			return;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (strcasecmp(name, "ALL") != 0 && caps_from_name(name) < 0) {
			app_bad(st, "`%s` is not a capability; names are as in capabilities(7): NET_ADMIN, "
				"SYS_TIME, ... or ALL", name);
			return;
		}
		add_value(st, name);
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
		while (isspace((unsigned char) *p))
			p++;
	}
}

/* /dev/x[:/dev/y][:rwm] (Docker's --device): the syntax here, the host node at start (a
 * board may plug it in later). */
static void key_devices(struct pstate *st, const char *v)
{
	struct berr *e = NULL;
	struct dev_node d;

	if (!one_word(v) || dev_parse(v, &d, &e) < 0) {
		berr_free(e);
		app_bad(st, "`%s`: use /dev/HOST[:/dev/CONTAINER][:PERMISSIONS], permissions from r, w and m", v);
		return;
	}
	dev_free(&d);
	add_value(st, v);
}

static void key_network(struct pstate *st, const char *v)
{
	if (strcmp(v, "host") != 0 && strcmp(v, "none") != 0) {
		app_bad(st, "`%s`: use host or none%s", v,
		    strcmp(v, "bridge") == 0 ? " (bridge networking is not in berth yet)" : "");
		return;
	}
	set_scalar(st, v);
}

static void key_stop_signal(struct pstate *st, const char *v)
{
	int sig = sig_parse(v);

	if (sig < 0) {
		app_bad(st, "`%s` is not a signal; use a name such as SIGTERM, SIGINT, SIGQUIT or a number", v);
		return;
	}
	st->a->stop_signal = sig;
	set_scalar(st, sig_name(sig));
}

static void key_labels(struct pstate *st, const char *v)
{
	size_t kl = strcspn(v, "=");

	if (kl == 0 || v[kl] != '=' || has_ctl(v)) {
		app_bad(st, "`%s`: use KEY=VALUE", v);
		return;
	}
	if ((kl == strlen(APP_LABEL) || kl == strlen(APP_HASH_LABEL)) &&
	    (strncmp(v, APP_LABEL, kl) == 0 || strncmp(v, APP_HASH_LABEL, kl) == 0)) {
		app_bad(st, "`%.*s` is berth's own label; use another key", (int) kl, v);
		return;
	}
	add_value(st, v);
}

static void key_pull(struct pstate *st, const char *v)
{
	if (strcmp(v, "missing") == 0)
		st->a->pull = APP_PULL_MISSING;
	else if (strcmp(v, "always") == 0)
		st->a->pull = APP_PULL_ALWAYS;
	else if (strcmp(v, "never") == 0)
		st->a->pull = APP_PULL_NEVER;
	else
		app_bad(st, "`%s`: use missing, always or never", v);
}

const struct app_key app_keys[K_COUNT] = {
	[K_IMAGE] = { "image", false, false, key_image },
	[K_COMMAND] = { "command", false, true, key_command },
	[K_ENTRYPOINT] = { "entrypoint", false, true, key_entrypoint },
	[K_ENVIRONMENT] = { "environment", true, false, key_environment },
	[K_ENV_FILE] = { "env-file", true, false, key_env_file },
	[K_VOLUMES] = { "volumes", true, false, key_volumes },
	[K_TMPFS] = { "tmpfs", true, false, key_tmpfs },
	[K_MEMORY] = { "memory", false, false, key_memory },
	[K_CPUS] = { "cpus", false, false, key_cpus },
	[K_PIDS_LIMIT] = { "pids-limit", false, false, key_pids_limit },
	[K_RESTART] = { "restart", false, false, key_restart },
	[K_DEPENDS_ON] = { "depends-on", true, false, key_depends_on },
	[K_HEALTH_CMD] = { "health-cmd", false, true, key_health_cmd },
	[K_HEALTH_INTERVAL] = { "health-interval", false, false, key_health_interval },
	[K_HEALTH_TIMEOUT] = { "health-timeout", false, false, key_health_timeout },
	[K_HEALTH_RETRIES] = { "health-retries", false, false, key_health_retries },
	[K_HEALTH_START_PERIOD] = { "health-start-period", false, false, key_health_start_period },
	[K_USER] = { "user", false, false, key_user },
	[K_WORKDIR] = { "workdir", false, false, key_workdir },
	[K_HOSTNAME] = { "hostname", false, false, key_hostname },
	[K_READ_ONLY] = { "read-only", false, false, key_read_only },
	[K_CAP_ADD] = { "cap-add", true, false, key_caps },
	[K_CAP_DROP] = { "cap-drop", true, false, key_caps },
	[K_DEVICES] = { "devices", true, false, key_devices },
	[K_NETWORK] = { "network", false, false, key_network },
	[K_STOP_SIGNAL] = { "stop-signal", false, false, key_stop_signal },
	[K_STOP_TIMEOUT] = { "stop-timeout", false, false, key_stop_timeout },
	[K_LABELS] = { "labels", true, false, key_labels },
	[K_PULL] = { "pull", false, false, key_pull },
	[K_CONSOLE] = { "console", false, false, key_console },
};

/* Names from compose files and docker run that app files spell otherwise. */
static const struct {
	const char *other, *ours;
} aliases[] = {
	{ "working_dir", "workdir" }, { "working-dir", "workdir" }, { "mem_limit", "memory" },
	{ "mem-limit", "memory" }, { "stop_grace_period", "stop-timeout" },
	{ "stop-grace-period", "stop-timeout" }, { "env", "environment" }, { "volume", "volumes" },
	{ "label", "labels" }, { "device", "devices" }, { "healthcheck", "health-cmd" },
	{ "test", "health-cmd" }, { "network_mode", "network" }, { "network-mode", "network" },
	{ "net", "network" }, { "container_name", NULL }, { "name", NULL },
};

void app_unknown_key(struct pstate *st, const char *name)
{
	const char *best = NULL;
	size_t best_d = STR_SUGGEST_MAX + 1;

	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcmp(name, aliases[i].other) == 0) {
			if (aliases[i].ours)
				app_error_at(st, st->rd.line, "unknown key '%s'; app files call it '%s'", name,
					     aliases[i].ours);
			else
				app_error_at(st, st->rd.line, "unknown key '%s'; the app's name is its file's "
					     "name (NAME.conf)", name);
			return;
		}
	for (size_t i = 0; i < K_COUNT; i++) {
		size_t d = str_edit_distance(name, app_keys[i].name);
		if (d < best_d) {
			best_d = d;
			best = app_keys[i].name;
		}
	}
	if (best)
		app_error_at(st, st->rd.line, "unknown key '%s' in [app]; did you mean '%s'?", name, best);
	else
		app_error_at(st, st->rd.line, "unknown key '%s' in [app]; docs/apps.md lists the keys", name);
}

