/* The apps directory as a set: every *.conf parsed, then the set checked as a whole (each
 * depends-on names a loaded app, no dependency cycle), and the start order. An app whose file
 * or dependencies are wrong is set aside with its error; the others still load. PID 1 calls
 * this: allocations are checked. */
#include "supervisor/app.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long app_find(const struct app_set *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0)
			return (long) i;
	return -1;
}

static int add_error(struct app_errors *errs, const char *file, const char *name, const char *msg)
{
	struct app_error *grown = realloc(errs->v, (errs->n + 1) * sizeof(*errs->v));
	struct app_error e = { strdup(file), name ? strdup(name) : NULL, strdup(msg) };

	if (grown)
		errs->v = grown;
	if (grown == NULL || e.file == NULL || e.msg == NULL || (name && e.name == NULL)) {
		free(e.file);
		free(e.name);
		free(e.msg);
		return -1;
	}
	errs->v[errs->n++] = e;
	return 0;
}

/* Move app i out of the set into errs with `msg`. */
static int set_aside(struct app_set *s, size_t i, struct app_errors *errs, const char *msg)
{
	int ret = add_error(errs, s->v[i].file, s->v[i].name, msg);

	app_free(&s->v[i]);
	memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
	s->n--;
	return ret;
}

/* An error of one file, as "path: ..." (app_parse's errors are already). */
static int file_error(struct app_errors *errs, const char *path, const char *name, const char *msg)
{
	char *m = NULL;
	int r;

	if (strncmp(msg, path, strlen(path)) == 0 && msg[strlen(path)] == ':')
		return add_error(errs, path, name, msg);
	if (asprintf(&m, "%s: %s", path, msg) < 0)
		return -1;
	r = add_error(errs, path, name, m);
	free(m);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The *.conf names in dir, sorted. A missing dir gives none. */
static int list_dir(const char *dir, char ***names, size_t *n, struct berr **err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t cnt = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		return berr_make(err, errno, "apps directory `%s`", dir);
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char **grown;
		if (de->d_name[0] == '.' || l <= 5 || strcmp(de->d_name + l - 5, ".conf") != 0)
			continue;
		if (cnt >= APP_MAX) {
			berr_usage(err, "apps directory `%s`: more than %d app files", dir, APP_MAX);
			goto fail;
		}
		grown = realloc(v, (cnt + 1) * sizeof(*v));
		if (grown == NULL)
			goto oom;
		v = grown;
		if ((v[cnt] = strdup(de->d_name)) == NULL)
			goto oom;
		cnt++;
	}
	if (errno) {
		berr_make(err, errno, "read the apps directory `%s`", dir);
		goto fail;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_names);
	*names = v;
	*n = cnt;
	return 0;
oom:
	berr_make(err, ENOMEM, "apps directory `%s`", dir);
fail:
	for (size_t i = 0; i < cnt; i++)
		free(v[i]);
	free(v);
	closedir(d);
	return -1;
}

/* Set aside every app with a dependency that is not in the set, until none is left. */
static int prune_unknown(struct app_set *s, struct app_errors *errs, const char *dir)
{
	bool again = true;

	while (again) {
		again = false;
		for (size_t i = 0; i < s->n; i++) {
			const struct app *a = &s->v[i];
			for (size_t j = 0; j < a->n_deps; j++) {
				char msg[600];
				if (app_find(s, a->deps[j].name) >= 0)
					continue;
				snprintf(msg, sizeof(msg), "%s:%d: depends-on: no app `%s` is loaded (%s/%s.conf "
					 "is missing or has errors)", a->file, a->deps[j].line,
					 a->deps[j].name, dir, a->deps[j].name);
				if (set_aside(s, i, errs, msg) < 0)
					return -1;
				again = true;
				break;
			}
			if (again)
				break;
		}
	}
	return 0;
}

/* Depth-first search for a cycle; on finding one, `path` holds it (path[0..*np), ending with
 * the app that closes it). colour: 0 unseen, 1 on the stack, 2 done. */
static bool find_cycle(const struct app_set *s, size_t i, unsigned char *colour, size_t *path,
		       size_t *np)
{
	colour[i] = 1;
	path[(*np)++] = i;
	for (size_t j = 0; j < s->v[i].n_deps; j++) {
		long d = app_find(s, s->v[i].deps[j].name);
		if (d < 0)
			continue;
		if (colour[d] == 1) {
			path[(*np)++] = (size_t) d;
			return true;
		}
		if (colour[d] == 0 && find_cycle(s, (size_t) d, colour, path, np))
			return true;
	}
	colour[i] = 2;
	(*np)--;
	return false;
}

/* Set aside the apps of each dependency cycle, each with a message naming the cycle. */
static int prune_cycles(struct app_set *s, struct app_errors *errs)
{
	for (;;) {
		unsigned char *colour = calloc(s->n + 1, 1);
		size_t *path = calloc(s->n + 2, sizeof(size_t)), np = 0, start = 0;
		bool found = false;
		char cycle[1024] = "";
		char **names = NULL;
		int *lines = NULL;
		size_t n_in = 0;

		if (colour == NULL || path == NULL) {
			free(colour);
			free(path);
			return -1;
		}
		for (size_t i = 0; i < s->n && !found; i++)
			if (colour[i] == 0)
				found = find_cycle(s, i, colour, path, &np);
		if (!found) {
			free(colour);
			free(path);
			return 0;
		}
		/* The cycle is path[start..np-1], where path[start] == path[np-1]. */
		while (path[start] != path[np - 1])
			start++;
		for (size_t k = start; k < np; k++) {
			size_t used = strlen(cycle);
			snprintf(cycle + used, sizeof(cycle) - used, "%s%s", k > start ? " -> " : "",
				 s->v[path[k]].name);
		}
		n_in = np - 1 - start;
		names = calloc(n_in, sizeof(*names));
		lines = calloc(n_in, sizeof(*lines));
		if (names == NULL || lines == NULL) {
			free(names);
			free(lines);
			free(colour);
			free(path);
			return -1;
		}
		for (size_t k = 0; k < n_in; k++) {
			const struct app *a = &s->v[path[start + k]];
			const char *next = s->v[path[start + k + 1]].name;
			names[k] = a->name;
			for (size_t j = 0; j < a->n_deps; j++)
				if (strcmp(a->deps[j].name, next) == 0)
					lines[k] = a->deps[j].line;
		}
		/* Set aside by name: indexes move as apps leave. */
		for (size_t k = 0; k < n_in; k++) {
			long i = app_find(s, names[k]);
			char msg[1400];
			if (i < 0)
				continue;
			snprintf(msg, sizeof(msg), "%s:%d: depends-on: a dependency cycle: %s; remove one "
				 "of these depends-on", s->v[i].file, lines[k], cycle);
			/* names[k] points into the app about to be freed: later ones are other apps. */
			if (set_aside(s, (size_t) i, errs, msg) < 0) {
				free(names);
				free(lines);
				free(colour);
				free(path);
				return -1;
			}
		}
		free(names);
		free(lines);
		free(colour);
		free(path);
	}
}

int app_load_dir(const char *dir, struct app_set *out, struct app_errors *errs, struct berr **err)
{
	char **names = NULL;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	memset(errs, 0, sizeof(*errs));
	if (list_dir(dir, &names, &n, err) < 0)
		return -1;
	if (n) {
		out->v = calloc(n, sizeof(*out->v));
		if (out->v == NULL)
			goto oom;
	}
	for (size_t i = 0; i < n; i++) {
		char *path = NULL, *text = NULL;
		size_t len = 0;
		struct berr *e = NULL;

		if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
			goto oom;
		if (fs_read_file(path, APP_FILE_MAX, &text, &len, &e) == 0 &&
		    app_parse(path, text, len, &out->v[out->n], &e) == 0)
			out->n++;
		free(text);
		if (e) {
			bool oom = e->errcode == ENOMEM;
			char *name = oom ? NULL : strndup(names[i], strlen(names[i]) - 5);
			int r = oom || name == NULL ? -1 : file_error(errs, path, name, e->msg);
			berr_free(e);
			free(name);
			free(path);
			if (r < 0)
				goto oom;
			continue;
		}
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	names = NULL;
	if (prune_unknown(out, errs, dir) < 0 || prune_cycles(out, errs) < 0 ||
	    prune_unknown(out, errs, dir) < 0)
		goto oom;
	return 0;
oom:
	if (names)
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	free(names);
	app_set_free(out);
	app_errors_free(errs);
	return berr_make(err, ENOMEM, "apps directory `%s`", dir);
}

void app_set_free(struct app_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		app_free(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

void app_errors_free(struct app_errors *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].file);
		free(e->v[i].name);
		free(e->v[i].msg);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Kahn's algorithm, taking the apps in name order where several are ready, so the order is
 * the same at every boot. */
int app_order(const struct app_set *s, size_t *order, struct berr **err)
{
	bool *done = calloc(s->n + 1, sizeof(bool));
	size_t k = 0;

	if (done == NULL)
		return berr_make(err, ENOMEM, "app start order");
	while (k < s->n) {
		bool progress = false;
		for (size_t i = 0; i < s->n; i++) {
			bool ready = !done[i];
			for (size_t j = 0; ready && j < s->v[i].n_deps; j++) {
				long d = app_find(s, s->v[i].deps[j].name);
				if (d < 0) {
					free(done);
					return berr_usage(err, "%s: depends-on: no app `%s`", s->v[i].file,
							  s->v[i].deps[j].name);
				}
				ready = done[d];
			}
			if (ready) {
				done[i] = true;
				order[k++] = i;
				progress = true;
				break; /* start again from the first name */
			}
		}
		if (!progress) {
			free(done);
			return berr_usage(err, "the apps' depends-on form a cycle");
		}
	}
	free(done);
	return 0;
}
