/* Container records as JSON: config.json and state.json parsed defensively (they may be cut
 * short by a power loss or rot on flash) and written back, with RFC 3339 times and the
 * status and restart-policy names. */
#include "runtime/record.h"
#include "runtime/volume.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REC_FORMAT_VERSION 1
static const char *const status_names[] = { "created", "running", "exited", "dead" };
static const char *const restart_names[] = { "no", "on-failure", "always", "unless-stopped" };

const char *rec_status_name(enum rec_status s)
{
	return (unsigned) s < ARRAY_SIZE(status_names) ? status_names[s] : "dead";
}

const char *rec_restart_name(enum rec_restart r)
{
	return (unsigned) r < ARRAY_SIZE(restart_names) ? restart_names[r] : "no";
}

static int parse_uint(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

int rec_restart_parse(const char *s, enum rec_restart *r, int *max, struct berr **err)
{
	long n = 0;

	*max = 0;
	if (strcmp(s, "") == 0 || strcmp(s, "no") == 0)
		*r = REC_RESTART_NO;
	else if (strcmp(s, "always") == 0)
		*r = REC_RESTART_ALWAYS;
	else if (strcmp(s, "unless-stopped") == 0)
		*r = REC_RESTART_UNLESS_STOPPED;
	else if (strcmp(s, "on-failure") == 0)
		*r = REC_RESTART_ON_FAILURE;
	else if (str_has_prefix(s, "on-failure:") && parse_uint(s + 11, 1000000, &n) == 0) {
		*r = REC_RESTART_ON_FAILURE;
		*max = (int) n;
	} else
		return berr_usage(err, "bad restart policy `%s`: use no, always, unless-stopped or "
				  "on-failure[:max-retries]", s);
	return 0;
}

int64_t rec_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void rec_time_format(int64_t ns, char *buf, size_t size)
{
	time_t sec;
	long frac;
	struct tm tm;
	char f[16];
	int n;

	if (ns <= 0) {
		snprintf(buf, size, "0001-01-01T00:00:00Z");
		return;
	}
	sec = (time_t) (ns / 1000000000);
	frac = (long) (ns % 1000000000);
	gmtime_r(&sec, &tm);
	f[0] = '\0';
	if (frac) {
		/* RFC 3339 with the fraction's trailing zeros dropped. */
		snprintf(f, sizeof(f), ".%09ld", frac);
		for (n = (int) strlen(f); f[n - 1] == '0'; n--)
			f[n - 1] = '\0';
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f);
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

int rec_time_parse(const char *s, int64_t *ns)
{
	struct tm tm = { 0 };
	int64_t frac = 0;
	const char *p;
	time_t sec;
	int nd = 0;

	if (strcmp(s, "0001-01-01T00:00:00Z") == 0) {
		*ns = 0;
		return 0;
	}
	/* YYYY-MM-DDTHH:MM:SS[.fraction]Z, exactly. */
	if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
	    !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return -1;
	tm.tm_year = num(s, 4) - 1900;
	tm.tm_mon = num(s + 5, 2) - 1;
	tm.tm_mday = num(s + 8, 2);
	tm.tm_hour = num(s + 11, 2);
	tm.tm_min = num(s + 14, 2);
	tm.tm_sec = num(s + 17, 2);
	if (tm.tm_year < 70 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	p = s + 19;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
			if (nd >= 9)
				return -1;
			frac = frac * 10 + (*p - '0');
		}
		if (nd == 0)
			return -1;
		for (int i = nd; i < 9; i++)
			frac *= 10;
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	sec = timegm(&tm);
	if (sec < 0 || (int64_t) sec > INT64_MAX / 1000000000 - 1)
		return -1;
	*ns = (int64_t) sec * 1000000000 + frac;
	return 0;
}

/* ---- JSON ---- */

void rec_state_free(struct rec_state *s)
{
	free(s->error);
	s->error = NULL;
}

static void strv_free(struct rec_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	v->v = NULL;
	v->n = 0;
}

void rec_config_free(struct rec_config *c)
{
	free(c->image);
	free(c->image_id);
	free(c->image_digest);
	strv_free(&c->argv);
	strv_free(&c->entrypoint);
	strv_free(&c->cmd);
	strv_free(&c->env);
	strv_free(&c->host_args);
	free(c->workdir);
	free(c->user);
	free(c->hostname);
	for (size_t i = 0; i < c->n_mounts; i++) {
		free(c->mounts[i].name);
		free(c->mounts[i].source);
		free(c->mounts[i].destination);
		free(c->mounts[i].options);
	}
	free(c->mounts);
	for (size_t i = 0; i < c->n_labels; i++) {
		free(c->labels[i].key);
		free(c->labels[i].value);
	}
	free(c->labels);
	memset(c, 0, sizeof(*c));
}

/* Parsing context: the file's name for messages, and the first error. */
struct jp {
	const char *what;
	struct berr **err;
	int failed;
};

static int jp_fail(struct jp *p, const char *key, const char *why)
{
	if (!p->failed)
		berr_make(p->err, 0, "`%s`: %s: %s", p->what, key, why);
	p->failed = 1;
	return -1;
}

static char *jp_dup(struct jp *p, const char *s)
{
	char *d = strdup(s);

	if (d == NULL && !p->failed) {
		berr_make(p->err, ENOMEM, "`%s`", p->what);
		p->failed = 1;
	}
	return d;
}

/* An optional string: absent or null gives NULL. */
static int jp_str(struct jp *p, json_t *o, const char *key, bool required, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? jp_fail(p, key, "missing") : 0;
	if (!json_is_string(v))
		return jp_fail(p, key, "not a string");
	*out = jp_dup(p, json_string_value(v));
	return *out ? 0 : -1;
}

static int jp_int(struct jp *p, json_t *o, const char *key, json_int_t min, json_int_t max,
		  json_int_t *out)
{
	json_t *v = json_object_get(o, key);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return jp_fail(p, key, "not an integer");
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return jp_fail(p, key, "out of range");
	*out = json_integer_value(v);
	return 0;
}

static int jp_bool(struct jp *p, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return jp_fail(p, key, "not a boolean");
	*out = json_is_true(v);
	return 0;
}

static int jp_time(struct jp *p, json_t *o, const char *key, int64_t *out)
{
	_cleanup_free_ char *s = NULL;

	*out = 0;
	if (jp_str(p, o, key, false, &s) < 0)
		return -1;
	if (s && rec_time_parse(s, out) < 0)
		return jp_fail(p, key, "not an RFC 3339 UTC time");
	return 0;
}

static int jp_strv(struct jp *p, json_t *o, const char *key, struct rec_strv *out)
{
	json_t *v = json_object_get(o, key);
	size_t n;

	out->v = NULL;
	out->n = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return jp_fail(p, key, "not an array");
	n = json_array_size(v);
	if (n > REC_STRV_MAX)
		return jp_fail(p, key, "too many entries");
	out->v = calloc(n + 1, sizeof(*out->v));
	if (out->v == NULL)
		return jp_fail(p, key, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s))
			return jp_fail(p, key, "an entry is not a string");
		out->v[i] = jp_dup(p, json_string_value(s));
		if (out->v[i] == NULL)
			return -1;
		out->n++;
	}
	return 0;
}

static json_t *strv_json(const struct rec_strv *v)
{
	json_t *a;

	if (v->v == NULL)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t ns)
{
	char buf[48];

	rec_time_format(ns, buf, sizeof(buf));
	return json_string(buf);
}

static const char *const mount_types[] = { "volume", "bind", "tmpfs" };

static int parse_mount(struct jp *p, json_t *m, struct rec_mount *out)
{
	_cleanup_free_ char *type = NULL;
	size_t t;

	if (!json_is_object(m))
		return jp_fail(p, "Mounts", "an entry is not an object");
	if (jp_str(p, m, "Type", true, &type) < 0)
		return -1;
	for (t = 0; t < ARRAY_SIZE(mount_types); t++)
		if (strcmp(type, mount_types[t]) == 0)
			break;
	if (t == ARRAY_SIZE(mount_types))
		return jp_fail(p, "Mounts.Type", "not volume, bind or tmpfs");
	out->type = (enum rec_mount_type) t;
	if (jp_str(p, m, "Name", out->type == REC_MOUNT_VOLUME, &out->name) < 0 ||
	    jp_str(p, m, "Source", out->type == REC_MOUNT_BIND, &out->source) < 0 ||
	    jp_str(p, m, "Destination", true, &out->destination) < 0 ||
	    jp_str(p, m, "Options", false, &out->options) < 0 ||
	    jp_bool(p, m, "ReadOnly", &out->readonly) < 0 ||
	    jp_bool(p, m, "Anonymous", &out->anonymous) < 0)
		return -1;
	if (out->name && !vol_name_valid(out->name))
		return jp_fail(p, "Mounts.Name", "not a valid volume name");
	if (out->destination[0] != '/')
		return jp_fail(p, "Mounts.Destination", "not an absolute path");
	if (out->source && out->source[0] != '/')
		return jp_fail(p, "Mounts.Source", "not an absolute path");
	return 0;
}

static int parse_config(struct jp *p, json_t *root, struct rec_config *c)
{
	_cleanup_free_ char *id = NULL, *name = NULL;
	json_t *mounts, *labels, *rp;
	json_int_t v;

	if (!json_is_object(root))
		return jp_fail(p, "(top)", "not an object");
	if (jp_int(p, root, "Version", 1, REC_FORMAT_VERSION, &v) < 0)
		return -1;
	if (jp_str(p, root, "Id", true, &id) < 0)
		return -1;
	if (!rec_id_valid(id))
		return jp_fail(p, "Id", "not 64 hex digits");
	memcpy(c->id, id, REC_ID_LEN + 1);
	if (jp_str(p, root, "Name", true, &name) < 0)
		return -1;
	if (!rec_name_valid(name) || name[0] == '/')
		return jp_fail(p, "Name", "not a valid container name");
	memcpy(c->name, name, strlen(name) + 1);
	if (jp_time(p, root, "Created", &c->created) < 0 ||
	    jp_str(p, root, "Image", true, &c->image) < 0 ||
	    jp_str(p, root, "ImageId", false, &c->image_id) < 0 ||
	    jp_str(p, root, "ImageDigest", false, &c->image_digest) < 0 ||
	    jp_strv(p, root, "Argv", &c->argv) < 0 ||
	    jp_strv(p, root, "Entrypoint", &c->entrypoint) < 0 ||
	    jp_strv(p, root, "Cmd", &c->cmd) < 0 ||
	    jp_strv(p, root, "Env", &c->env) < 0 ||
	    jp_str(p, root, "WorkingDir", false, &c->workdir) < 0 ||
	    jp_str(p, root, "User", false, &c->user) < 0 ||
	    jp_str(p, root, "Hostname", false, &c->hostname) < 0 ||
	    jp_int(p, root, "Memory", 0, INT64_MAX, &v) < 0)
		return -1;
	c->memory = v;
	if (jp_int(p, root, "NanoCpus", 0, INT64_MAX, &v) < 0)
		return -1;
	c->nano_cpus = v;
	if (jp_int(p, root, "PidsLimit", 0, INT64_MAX, &v) < 0)
		return -1;
	c->pids_limit = v;
	if (jp_strv(p, root, "HostArgs", &c->host_args) < 0 ||
	    jp_int(p, root, "StopSignal", 0, 64, &v) < 0)
		return -1;
	c->stop_signal = (int) v;
	if (jp_bool(p, root, "AutoRemove", &c->auto_remove) < 0)
		return -1;
	if (json_object_get(root, "StopTimeout")) {
		if (jp_int(p, root, "StopTimeout", -1, 1000000, &v) < 0)
			return -1;
		c->stop_timeout = (int) v;
	} else {
		c->stop_timeout = -1;
	}
	rp = json_object_get(root, "RestartPolicy");
	if (rp && !json_is_null(rp)) {
		_cleanup_free_ char *rn = NULL;
		size_t i;

		if (!json_is_object(rp))
			return jp_fail(p, "RestartPolicy", "not an object");
		if (jp_str(p, rp, "Name", false, &rn) < 0 ||
		    jp_int(p, rp, "MaximumRetryCount", 0, 1000000, &v) < 0)
			return -1;
		for (i = 0; rn && i < ARRAY_SIZE(restart_names); i++)
			if (strcmp(rn, restart_names[i]) == 0)
				break;
		if (rn && i == ARRAY_SIZE(restart_names))
			return jp_fail(p, "RestartPolicy.Name", "unknown policy");
		c->restart = rn ? (enum rec_restart) i : REC_RESTART_NO;
		c->restart_max = (int) v;
	}
	mounts = json_object_get(root, "Mounts");
	if (mounts && !json_is_null(mounts)) {
		size_t n;
		if (!json_is_array(mounts))
			return jp_fail(p, "Mounts", "not an array");
		n = json_array_size(mounts);
		if (n > REC_MOUNTS_MAX)
			return jp_fail(p, "Mounts", "too many entries");
		c->mounts = calloc(n ? n : 1, sizeof(*c->mounts));
		if (c->mounts == NULL)
			return jp_fail(p, "Mounts", "out of memory");
		for (size_t i = 0; i < n; i++) {
			c->n_mounts++;
			if (parse_mount(p, json_array_get(mounts, i), &c->mounts[i]) < 0)
				return -1;
		}
	}
	labels = json_object_get(root, "Labels");
	if (labels && !json_is_null(labels)) {
		const char *k;
		json_t *lv;
		if (!json_is_object(labels))
			return jp_fail(p, "Labels", "not an object");
		if (json_object_size(labels) > REC_LABELS_MAX)
			return jp_fail(p, "Labels", "too many entries");
		c->labels = calloc(json_object_size(labels) + 1, sizeof(*c->labels));
		if (c->labels == NULL)
			return jp_fail(p, "Labels", "out of memory");
		json_object_foreach(labels, k, lv) {
			struct rec_label *l = &c->labels[c->n_labels];
			if (!json_is_string(lv))
				return jp_fail(p, "Labels", "a value is not a string");
			l->key = jp_dup(p, k);
			l->value = jp_dup(p, json_string_value(lv));
			c->n_labels++;
			if (l->key == NULL || l->value == NULL)
				return -1;
		}
	}
	return 0;
}

static json_t *load_json(const char *data, size_t len, const char *what, struct berr **err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);

	if (root == NULL)
		berr_make(err, 0, "`%s` is corrupt (line %d: %s); it may have been cut short by a "
			  "power loss", what, jerr.line, jerr.text);
	return root;
}

int rec_config_parse(const char *data, size_t len, const char *what, struct rec_config *out,
		     struct berr **err)
{
	struct jp p = { what, err, 0 };
	json_t *root;

	memset(out, 0, sizeof(*out));
	root = load_json(data, len, what, err);
	if (root == NULL)
		return -1;
	if (parse_config(&p, root, out) < 0) {
		json_decref(root);
		rec_config_free(out);
		return -1;
	}
	json_decref(root);
	return 0;
}

int rec_state_parse(const char *data, size_t len, const char *what, struct rec_state *out,
		    struct berr **err)
{
	struct jp p = { what, err, 0 };
	_cleanup_free_ char *status = NULL, *boot = NULL;
	json_t *root;
	json_int_t v;
	size_t i;

	memset(out, 0, sizeof(*out));
	root = load_json(data, len, what, err);
	if (root == NULL)
		return -1;
	if (!json_is_object(root)) {
		jp_fail(&p, "(top)", "not an object");
		goto fail;
	}
	if (jp_str(&p, root, "Status", true, &status) < 0)
		goto fail;
	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (strcmp(status, status_names[i]) == 0)
			break;
	if (i == ARRAY_SIZE(status_names)) {
		jp_fail(&p, "Status", "not created, running, exited or dead");
		goto fail;
	}
	out->status = (enum rec_status) i;
	if (jp_int(&p, root, "Pid", 0, INT32_MAX, &v) < 0)
		goto fail;
	out->pid = (pid_t) v;
	if (jp_int(&p, root, "PidStart", 0, INT64_MAX, &v) < 0)
		goto fail;
	out->pid_start = (uint64_t) v;
	if (jp_str(&p, root, "BootId", false, &boot) < 0)
		goto fail;
	if (boot && str_copy(out->boot_id, sizeof(out->boot_id), boot) < 0) {
		jp_fail(&p, "BootId", "too long");
		goto fail;
	}
	if (jp_int(&p, root, "ExitCode", REC_EXIT_UNKNOWN, 255, &v) < 0)
		goto fail;
	out->exit_code = (int) v;
	if (jp_bool(&p, root, "OOMKilled", &out->oom_killed) < 0 ||
	    jp_time(&p, root, "StartedAt", &out->started) < 0 ||
	    jp_time(&p, root, "FinishedAt", &out->finished) < 0 ||
	    jp_int(&p, root, "RestartCount", 0, UINT32_MAX, &v) < 0)
		goto fail;
	out->restart_count = (unsigned) v;
	if (jp_str(&p, root, "Error", false, &out->error) < 0)
		goto fail;
	if (out->status == REC_RUNNING && out->pid <= 0) {
		jp_fail(&p, "Pid", "missing for a running container");
		goto fail;
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	rec_state_free(out);
	return -1;
}

static char *dump(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

char *rec_config_dump(const struct rec_config *c)
{
	json_t *o = json_object(), *mounts = json_array(), *labels = json_object();

	if (o == NULL || mounts == NULL || labels == NULL) {
		json_decref(o);
		json_decref(mounts);
		json_decref(labels);
		return NULL;
	}
	json_object_set_new(o, "Version", json_integer(REC_FORMAT_VERSION));
	json_object_set_new(o, "Id", json_string(c->id));
	json_object_set_new(o, "Name", json_string(c->name));
	json_object_set_new(o, "Created", time_json(c->created));
	json_object_set_new(o, "Image", json_string(c->image ? c->image : ""));
	json_object_set_new(o, "ImageId", str_or_null(c->image_id));
	json_object_set_new(o, "ImageDigest", str_or_null(c->image_digest));
	json_object_set_new(o, "Argv", strv_json(&c->argv));
	json_object_set_new(o, "Entrypoint", strv_json(&c->entrypoint));
	json_object_set_new(o, "Cmd", strv_json(&c->cmd));
	json_object_set_new(o, "Env", strv_json(&c->env));
	json_object_set_new(o, "WorkingDir", str_or_null(c->workdir));
	json_object_set_new(o, "User", str_or_null(c->user));
	json_object_set_new(o, "Hostname", str_or_null(c->hostname));
	for (size_t i = 0; i < c->n_mounts; i++) {
		const struct rec_mount *m = &c->mounts[i];
		json_t *j = json_object();

		json_object_set_new(j, "Type", json_string(mount_types[m->type]));
		if (m->name)
			json_object_set_new(j, "Name", json_string(m->name));
		if (m->source)
			json_object_set_new(j, "Source", json_string(m->source));
		json_object_set_new(j, "Destination", json_string(m->destination ? m->destination : ""));
		if (m->options)
			json_object_set_new(j, "Options", json_string(m->options));
		json_object_set_new(j, "ReadOnly", json_boolean(m->readonly));
		if (m->type == REC_MOUNT_VOLUME)
			json_object_set_new(j, "Anonymous", json_boolean(m->anonymous));
		json_array_append_new(mounts, j);
	}
	json_object_set_new(o, "Mounts", mounts);
	json_object_set_new(o, "Memory", json_integer(c->memory));
	json_object_set_new(o, "NanoCpus", json_integer(c->nano_cpus));
	json_object_set_new(o, "PidsLimit", json_integer(c->pids_limit));
	json_object_set_new(o, "HostArgs", strv_json(&c->host_args));
	json_object_set_new(o, "StopSignal", json_integer(c->stop_signal));
	json_object_set_new(o, "StopTimeout", json_integer(c->stop_timeout));
	if (c->auto_remove)
		json_object_set_new(o, "AutoRemove", json_true());
	json_object_set_new(o, "RestartPolicy",
			    json_pack("{s:s, s:i}", "Name", rec_restart_name(c->restart),
				      "MaximumRetryCount", c->restart_max));
	for (size_t i = 0; i < c->n_labels; i++)
		json_object_set_new(labels, c->labels[i].key, json_string(c->labels[i].value));
	json_object_set_new(o, "Labels", labels);
	return dump(o);
}

char *rec_state_dump(const struct rec_state *s)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	json_object_set_new(o, "Status", json_string(rec_status_name(s->status)));
	json_object_set_new(o, "Pid", json_integer(s->pid));
	json_object_set_new(o, "PidStart", json_integer((json_int_t) s->pid_start));
	json_object_set_new(o, "BootId", json_string(s->boot_id));
	json_object_set_new(o, "ExitCode", json_integer(s->exit_code));
	json_object_set_new(o, "OOMKilled", json_boolean(s->oom_killed));
	json_object_set_new(o, "StartedAt", time_json(s->started));
	json_object_set_new(o, "FinishedAt", time_json(s->finished));
	json_object_set_new(o, "RestartCount", json_integer(s->restart_count));
	json_object_set_new(o, "Error", json_string(s->error ? s->error : ""));
	return dump(o);
}
