/* App files (app.h): the [app] section read by inih through berth's line reader (raw values:
 * no inline comments, so commands keep their ';' and '#'), each value checked with the parsers
 * `berth run` itself uses, then turned into `berth run` arguments and a hash. PID 1 parses
 * these files: every allocation is checked. */
#include "supervisor/app.h"
#include "base/config.h"
#include "base/err.h"
#include "base/inilines.h"
#include "base/signame.h"
#include "base/util.h"
#include "image/digest.h"
#include "image/ref.h"
#include "runtime/caps.h"
#include "runtime/cgroup.h"
#include "runtime/volume.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define APP_MAX_ERRORS 20
#define APP_LIST_MAX 256   /* values of one repeatable key */
#define APP_WORDS_MAX 4096 /* words of a command */

struct strv {
	char **v;
	size_t n, cap;
};

enum key_id {
	K_IMAGE, K_COMMAND, K_ENTRYPOINT, K_ENVIRONMENT, K_ENV_FILE, K_VOLUMES, K_TMPFS, K_MEMORY,
	K_CPUS, K_PIDS_LIMIT, K_RESTART, K_DEPENDS_ON, K_HEALTH_CMD, K_HEALTH_INTERVAL,
	K_HEALTH_TIMEOUT, K_HEALTH_RETRIES, K_HEALTH_START_PERIOD, K_USER, K_WORKDIR, K_HOSTNAME,
	K_READ_ONLY, K_CAP_ADD, K_CAP_DROP, K_DEVICES, K_NETWORK, K_STOP_SIGNAL, K_STOP_TIMEOUT,
	K_LABELS, K_PULL, K_CONSOLE, K_COUNT
};

struct pstate {
	const char *path;
	struct app *a;
	struct inil rd;
	bool in_app;              /* under the [app] header */
	int n_headers;
	enum key_id key;          /* the key being handled */
	int lines[K_COUNT];       /* where each key was (last) set; 0: not set */
	char *errors;             /* "path:line: msg\n..." */
	size_t n_errors;
	bool oom;
	/* What becomes run_args. */
	struct strv command, entrypoint;
	struct strv list[K_COUNT];   /* repeatable keys' values, checked, as they go to berth run */
	char *scalar[K_COUNT];       /* single values, checked, as they go to berth run */
	bool read_only;
};

typedef void (*key_fn)(struct pstate *st, const char *v);

struct app_key {
	const char *name;
	bool repeatable;
	bool verbatim;   /* no unquoting: the key parses quotes itself */
	key_fn fn;
};

/* ---- allocation, checked ---- */

static char *sdup(struct pstate *st, const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		st->oom = true;
	return d;
}

/* Append a copy of s[0..len) (len: SIZE_MAX for the whole string). */
static int sv_addn(struct pstate *st, struct strv *l, const char *s, size_t len)
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

static int sv_add(struct pstate *st, struct strv *l, const char *s)
{
	return sv_addn(st, l, s, SIZE_MAX);
}

static void sv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- errors ---- */

static void add_error_at(struct pstate *st, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add_error_at(struct pstate *st, int line, const char *fmt, ...)
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

static const struct app_key keys[K_COUNT];

/* An error about the value of the key on the current line: "path:line: key: msg". */
static void bad(struct pstate *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct pstate *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_error_at(st, st->rd.line, "%s: %s", keys[st->key].name, msg);
}

/* An error from one of `berth run`'s parsers: its "--memory " is the key's name here. */
static void bad_cli(struct pstate *st, struct berr *e)
{
	const char *m = e && e->msg ? e->msg : "bad value";

	if (e && e->errcode == ENOMEM) {
		st->oom = true;
	} else {
		if (m[0] == '-' && m[1] == '-' && strchr(m, ' '))
			m = strchr(m, ' ') + 1;
		bad(st, "%s", m);
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
			if (sv_addn(st, out, w, wl) < 0)
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
		if (sv_add(st, out, json_string_value(item)) < 0)
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

	sv_free(out);
	if ((v[0] == '[' ? json_words(st, v, out, why, sizeof(why)) :
			   split_words(st, v, out, why, sizeof(why))) < 0) {
		if (!st->oom)
			bad(st, "%s", why);
		sv_free(out);
		return -1;
	}
	return 0;
}

/* ---- the keys ---- */

static void set_scalar(struct pstate *st, const char *v)
{
	free(st->scalar[st->key]);
	st->scalar[st->key] = sdup(st, v);
}

static void add_value(struct pstate *st, const char *v)
{
	if (st->list[st->key].n >= APP_LIST_MAX) {
		bad(st, "more than %d values", APP_LIST_MAX);
		return;
	}
	sv_add(st, &st->list[st->key], v);
}

static void key_image(struct pstate *st, const char *v)
{
	struct ref r;
	struct berr *e = NULL;

	if (*v == '\0') {
		bad(st, "empty; name an image such as registry.example:5000/app:1.2");
		return;
	}
	if (v[0] == '-' || ref_parse(v, NULL, 0, &r, &e) < 0) {
		bad(st, "`%s` is not an image name: %s", v, e ? e->msg : "it may not start with '-'");
		berr_free(e);
		return;
	}
	free(st->a->image);
	st->a->image = sdup(st, v);
}

static void key_command(struct pstate *st, const char *v)
{
	if (words(st, v, &st->command) == 0 && st->command.n == 0)
		bad(st, "empty; give a command, or remove the key to run the image's CMD");
}

static void key_entrypoint(struct pstate *st, const char *v)
{
	if (words(st, v, &st->entrypoint) < 0)
		return;
	if (st->entrypoint.n > 1 && st->entrypoint.v[0][0] == '\0')
		bad(st, "the program (first word) is empty");
}

static void key_environment(struct pstate *st, const char *v)
{
	size_t kl = strcspn(v, "=");

	if (kl == 0) {
		bad(st, "`%s`: use KEY=VALUE, or KEY to pass berth's own value on", v);
		return;
	}
	for (size_t i = 0; i < kl; i++)
		if (isspace((unsigned char) v[i]) || iscntrl((unsigned char) v[i])) {
			bad(st, "`%s`: the variable's name may not hold blanks; use KEY=VALUE", v);
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
		bad(st, "empty; give the path of a file of KEY=VALUE lines");
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
		bad(st, "`%s`: use an absolute path, with :OPTIONS if any (/run:size=1m,mode=1777)", v);
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
			bad(st, "`%s`: the condition must be started, healthy or completed (NAME:healthy)", v);
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
		bad(st, "`%s`: `%s` is not an app name (the name of another app file, without .conf)", v, name);
		free(name);
		return;
	}
	if (a->name && strcmp(name, a->name) == 0) {
		bad(st, "`%s`: an app cannot depend on itself", v);
		free(name);
		return;
	}
	for (size_t i = 0; i < a->n_deps; i++)
		if (strcmp(a->deps[i].name, name) == 0) {
			bad(st, "`%s` is named twice (line %d)", name, a->deps[i].line);
			free(name);
			return;
		}
	if (a->n_deps >= APP_LIST_MAX) {
		bad(st, "more than %d values", APP_LIST_MAX);
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
		if (sv_add(st, &w, "NONE") == 0)
			set_test(st, &w);
	} else if (v[0] == '[') {
		if (words(st, v, &w) < 0)
			return;
		if (w.n == 0) {
			bad(st, "an empty list; give a command, or none to disable the image's check");
		} else if (strcmp(w.v[0], "NONE") == 0 && w.n == 1) {
			h->disabled = true;
			set_test(st, &w);
		} else if (strcmp(w.v[0], "CMD-SHELL") == 0 && w.n != 2) {
			bad(st, "[\"CMD-SHELL\", \"COMMAND\"] takes one command string");
		} else if ((strcmp(w.v[0], "CMD") == 0 || strcmp(w.v[0], "CMD-SHELL") == 0) && w.n < 2) {
			bad(st, "[\"CMD\", PROGRAM, ARGS...] needs a program");
		} else if (strcmp(w.v[0], "CMD") == 0 || strcmp(w.v[0], "CMD-SHELL") == 0) {
			set_test(st, &w);
		} else if (strcmp(w.v[0], "NONE") == 0) {
			bad(st, "[\"NONE\"] takes nothing more");
		} else {
			/* The exec form without its "CMD" tag, as a command is written. */
			struct strv t = { 0 };
			if (sv_add(st, &t, "CMD") == 0) {
				for (size_t i = 0; i < w.n; i++)
					if (sv_add(st, &t, w.v[i]) < 0)
						break;
				set_test(st, &t);
			}
			sv_free(&t);
		}
	} else if (*v == '\0') {
		bad(st, "empty; give a command for /bin/sh -c, a JSON array, or none");
	} else {
		if (sv_add(st, &w, "CMD-SHELL") == 0 && sv_add(st, &w, v) == 0)
			set_test(st, &w);
	}
	sv_free(&w);
}

static void duration(struct pstate *st, const char *v, int64_t min_ms, int64_t *out)
{
	uint64_t ms;

	if (parse_duration_go_ms(v, &ms) < 0 || ms > (uint64_t) INT64_MAX / 2) {
		bad(st, "`%s` is not a duration; use a number with a unit: 500ms, 30s, 1m30s, 2h", v);
		return;
	}
	if ((int64_t) ms < min_ms) {
		bad(st, "`%s` is too short: at least %lldms", v, (long long) min_ms);
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
		bad(st, "`%s` is too long: at most 1000000s", v);
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
		bad(st, "`%s` is not a number of retries; use 0 to 1000000 (Docker's default is 3)", v);
		return;
	}
	st->a->health.retries = (int) n;
}

static void key_user(struct pstate *st, const char *v)
{
	if (*v == '\0' || !one_word(v) || v[0] == ':') {
		bad(st, "`%s`: use NAME or UID, with :GROUP or :GID if any", v);
		return;
	}
	set_scalar(st, v);
}

static void key_workdir(struct pstate *st, const char *v)
{
	if (v[0] != '/' || has_ctl(v)) {
		bad(st, "`%s`: use an absolute path inside the container", v);
		return;
	}
	set_scalar(st, v);
}

static void key_hostname(struct pstate *st, const char *v)
{
	if (*v == '\0' || strlen(v) > 63 || !one_word(v)) {
		bad(st, "`%s`: use 1 to 63 characters, no blanks", v);
		return;
	}
	set_scalar(st, v);
}

static bool bool_value(struct pstate *st, const char *v, bool *out)
{
	if (parse_bool(v, out) < 0) {
		bad(st, "`%s`: use yes or no", v);
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
		bad(st, "empty; name a capability such as NET_ADMIN (or ALL)");
		return;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		char name[64];

		while (n && isspace((unsigned char) p[n - 1]))
			n--;
		if (n == 0 || n >= sizeof(name)) {
			bad(st, "`%s`: use capability names separated by commas (NET_ADMIN,SYS_TIME)", v);
			return;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (strcasecmp(name, "ALL") != 0 && caps_from_name(name) < 0) {
			bad(st, "`%s` is not a capability; names are as in capabilities(7): NET_ADMIN, "
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

/* /dev/x[:/dev/y][:rwm] (Docker's --device). */
static void key_devices(struct pstate *st, const char *v)
{
	char copy[PATH_MAX * 2 + 8], *parts[3] = { NULL }, *p = copy;
	size_t np = 0;
	const char *perms = NULL;

	if (str_copy(copy, sizeof(copy), v) < 0 || v[0] != '/' || !one_word(v))
		goto bad;
	while (np < 3 && p) {
		parts[np++] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	if (p)
		goto bad;
	if (np == 3)
		perms = parts[2];
	else if (np == 2 && parts[1][0] != '/')
		perms = parts[1];
	if (np >= 2 && parts[1][0] != '/' && np == 3)
		goto bad;
	if (perms) {
		if (*perms == '\0' || strspn(perms, "rwm") != strlen(perms))
			goto bad;
	}
	add_value(st, v);
	return;
bad:
	bad(st, "`%s`: use /dev/HOST[:/dev/CONTAINER][:PERMISSIONS], permissions from r, w and m", v);
}

static void key_network(struct pstate *st, const char *v)
{
	if (strcmp(v, "host") != 0 && strcmp(v, "none") != 0) {
		bad(st, "`%s`: use host or none%s", v,
		    strcmp(v, "bridge") == 0 ? " (bridge networking is not in berth yet)" : "");
		return;
	}
	set_scalar(st, v);
}

static void key_stop_signal(struct pstate *st, const char *v)
{
	int sig = sig_parse(v);

	if (sig < 0) {
		bad(st, "`%s` is not a signal; use a name such as SIGTERM, SIGINT, SIGQUIT or a number", v);
		return;
	}
	st->a->stop_signal = sig;
	set_scalar(st, sig_name(sig));
}

static void key_labels(struct pstate *st, const char *v)
{
	size_t kl = strcspn(v, "=");

	if (kl == 0 || v[kl] != '=' || has_ctl(v)) {
		bad(st, "`%s`: use KEY=VALUE", v);
		return;
	}
	if ((kl == strlen(APP_LABEL) || kl == strlen(APP_HASH_LABEL)) &&
	    (strncmp(v, APP_LABEL, kl) == 0 || strncmp(v, APP_HASH_LABEL, kl) == 0)) {
		bad(st, "`%.*s` is berth's own label; use another key", (int) kl, v);
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
		bad(st, "`%s`: use missing, always or never", v);
}

static const struct app_key keys[K_COUNT] = {
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

static void unknown_key(struct pstate *st, const char *name)
{
	const char *best = NULL;
	size_t best_d = STR_SUGGEST_MAX + 1;

	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++)
		if (strcmp(name, aliases[i].other) == 0) {
			if (aliases[i].ours)
				add_error_at(st, st->rd.line, "unknown key '%s'; app files call it '%s'", name,
					     aliases[i].ours);
			else
				add_error_at(st, st->rd.line, "unknown key '%s'; the app's name is its file's "
					     "name (NAME.conf)", name);
			return;
		}
	for (size_t i = 0; i < K_COUNT; i++) {
		size_t d = str_edit_distance(name, keys[i].name);
		if (d < best_d) {
			best_d = d;
			best = keys[i].name;
		}
	}
	if (best)
		add_error_at(st, st->rd.line, "unknown key '%s' in [app]; did you mean '%s'?", name, best);
	else
		add_error_at(st, st->rd.line, "unknown key '%s' in [app]; docs/apps.md lists the keys", name);
}

/* ---- inih callbacks ---- */

static void reader_error(void *user, const char *msg)
{
	struct pstate *st = user;

	add_error_at(st, st->rd.line, "%s", msg);
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
		add_error_at(st, st->rd.line, "section header is missing its closing ']'");
		return;
	}
	for (i++; i < len && line[i] != ';' && line[i] != '#'; i++)
		if (!isspace((unsigned char) line[i])) {
			add_error_at(st, st->rd.line, "text after the section header");
			return;
		}
	if (strcmp(name, "app") != 0) {
		add_error_at(st, st->rd.line, "unknown section [%s]; an app file has one [app] section",
			     name);
		return;
	}
	if (st->n_headers > 1) {
		add_error_at(st, st->rd.line, "a second [app] section; an app file holds one app");
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
			add_error_at(st, st->rd.line, "key '%s' is outside [app]; start the file with [app]",
				     name);
		return 1; /* a bad section was reported at its header */
	}
	for (size_t i = 0; i < K_COUNT; i++)
		if (strcmp(keys[i].name, name) == 0) {
			k = &keys[i];
			st->key = (enum key_id) i;
			break;
		}
	if (k == NULL) {
		unknown_key(st, name);
		return 1;
	}
	if (!k->repeatable && st->lines[st->key]) {
		add_error_at(st, st->rd.line, "%s is set twice (first on line %d); it takes one value",
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
	if (v && sv_add(st, out, opt) == 0)
		sv_add(st, out, v);
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
		sv_add(st, out, "--read-only");
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
	sv_add(st, &tail, a->image);
	for (size_t i = 1; i < st->entrypoint.n; i++)
		sv_add(st, &tail, st->entrypoint.v[i]);
	for (size_t i = 0; i < st->command.n; i++)
		sv_add(st, &tail, st->command.v[i]);
	if (st->oom)
		goto out;
	if (app_hash(a, &opts, &tail, err) < 0)
		goto out;
	snprintf(label, sizeof(label), "%s=%s", APP_HASH_LABEL, a->hash);
	arg2(st, &opts, "--label", label);
	for (size_t i = 0; i < tail.n; i++)
		sv_add(st, &opts, tail.v[i]);
	if (st->oom)
		goto out;
	a->run_args = steal_ptr(&opts.v);
	a->n_run_args = opts.n;
	opts.n = 0;
	ret = 0;
out:
	if (st->oom && ret < 0 && (err == NULL || *err == NULL))
		berr_make(err, ENOMEM, "app file `%s`", st->path);
	sv_free(&opts);
	sv_free(&tail);
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
	sv_free(&st->command);
	sv_free(&st->entrypoint);
	for (size_t i = 0; i < K_COUNT; i++) {
		sv_free(&st->list[i]);
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
		add_error_at(st, 0, "no image; add `image = NAME:TAG` under [app]");
	if (a->health.disabled)
		for (size_t i = 0; i < ARRAY_SIZE(health_opts); i++)
			if (st->lines[health_opts[i]])
				add_error_at(st, st->lines[health_opts[i]], "%s: health-cmd = none (line %d) "
					     "turns the health check off; remove %s",
					     keys[health_opts[i]].name, st->lines[K_HEALTH_CMD],
					     keys[health_opts[i]].name);
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
		add_error_at(&st, 0, "`%s` is not a valid app name: name the file NAME.conf, NAME of 2 or "
			     "more letters, digits, '_', '.' or '-', starting with a letter or digit",
			     out->name);
	if (len > APP_FILE_MAX) {
		add_error_at(&st, 0, "larger than %u bytes", APP_FILE_MAX);
	} else {
		inil_init(&st.rd, text, len, true, reader_error, reader_header, &st);
		rc = ini_parse_stream(inil_read, &st.rd, handler, &st);
		if (rc != 0 && st.n_errors == 0 && !st.oom)
			add_error_at(&st, rc > 0 ? rc : st.rd.line, "syntax error");
		if (st.n_headers == 0 && st.n_errors == 0)
			add_error_at(&st, 0, "no [app] section; an app file starts with [app] and sets image");
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
