/* A container's process from its image config and the run options (Docker's merge rules), and
 * the program's lookup through PATH inside a rootfs (resolve.c keeps it inside). The supervisor
 * starts containers too, so every allocation is checked: nothing here aborts. */
#include "runtime/spec.h"
#include "runtime/resolve.h"
#include "base/err.h"
#include "base/util.h"
#include "image/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- string vectors ---- */

struct strv {
	char **v;   /* NULL-terminated */
	size_t n;
	size_t cap;
};

static int strv_push_own(struct strv *s, char *str)
{
	if (str == NULL)
		return -1;
	if (s->n + 1 >= s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		char **nv = realloc(s->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			free(str);
			return -1;
		}
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = str;
	s->v[s->n] = NULL;
	return 0;
}

static int strv_push(struct strv *s, const char *str)
{
	return strv_push_own(s, strdup(str));
}

static void strv_clear(struct strv *s)
{
	spec_strv_free(s->v, s->n);
	memset(s, 0, sizeof(*s));
}

void spec_strv_free(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Length of the key of "KEY=VALUE" (or of "KEY"). */
static size_t env_key_len(const char *e)
{
	const char *eq = strchr(e, '=');
	return eq ? (size_t) (eq - e) : strlen(e);
}

static ssize_t env_find(const struct strv *s, const char *key, size_t klen)
{
	for (size_t i = 0; i < s->n; i++)
		if (env_key_len(s->v[i]) == klen && memcmp(s->v[i], key, klen) == 0 &&
		    (s->v[i][klen] == '=' || s->v[i][klen] == '\0'))
			return (ssize_t) i;
	return -1;
}

/* Apply one override to an environment: "KEY=VALUE" replaces KEY in place or appends it;
 * "KEY" removes KEY. */
static int env_apply(struct strv *s, const char *e)
{
	size_t klen = env_key_len(e);
	ssize_t at = env_find(s, e, klen);

	if (e[klen] != '=') {
		if (at >= 0) {
			free(s->v[at]);
			memmove(&s->v[at], &s->v[at + 1], (s->n - (size_t) at) * sizeof(char *));
			s->n--;
		}
		return 0;
	}
	if (at >= 0) {
		char *dup = strdup(e);
		if (dup == NULL)
			return -1;
		free(s->v[at]);
		s->v[at] = dup;
		return 0;
	}
	return strv_push(s, e);
}

/* `-e KEY` and a bare KEY in an env file: berth's own value, or KEY alone ("unset"). */
static char *env_resolve(const char *e)
{
	const char *val;
	char *out;

	if (strchr(e, '=') != NULL || (val = getenv(e)) == NULL)
		return strdup(e);
	if (asprintf(&out, "%s=%s", e, val) < 0)
		return NULL;
	return out;
}

/* ---- env files ---- */

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return n;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

int spec_envfile_parse(const char *name, const char *data, size_t len, char ***out, size_t *n,
		       struct berr **err)
{
	struct strv s = { 0 };
	size_t pos = 0, lineno = 0;

	*out = NULL;
	*n = 0;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
		pos = 3;
	while (pos < len) {
		const char *line = data + pos, *nl = memchr(line, '\n', len - pos);
		size_t llen = (size_t) ((nl ? nl : data + len) - line);
		_cleanup_free_ char *copy = NULL;
		char *p, *eq;

		pos += llen + (nl ? 1 : 0);
		lineno++;
		if (llen > 0 && line[llen - 1] == '\r') /* CRLF files */
			llen--;
		for (size_t i = 0; i < llen;) {
			size_t u = utf8_len((const unsigned char *) line + i, llen - i);
			if (u == 0 || line[i] == '\0') {
				strv_clear(&s);
				return berr_usage(err, "%s:%zu: %s", name, lineno,
						  line[i] == '\0' ? "NUL byte in the line"
								  : "invalid UTF-8");
			}
			i += u;
		}
		copy = strndup(line, llen);
		if (copy == NULL)
			goto oom;
		p = copy;
		while (is_blank(*p) || *p == '\n')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq == p) {
			strv_clear(&s);
			return berr_usage(err, "%s:%zu: no variable name before `=`", name, lineno);
		}
		for (const char *k = p; k < (eq ? eq : p + strlen(p)); k++) {
			if (is_blank(*k)) {
				size_t klen = eq ? (size_t) (eq - p) : strlen(p);
				strv_clear(&s);
				return berr_usage(err, "%s:%zu: variable name `%.*s` contains "
						  "whitespace", name, lineno, (int) klen, p);
			}
		}
		if (s.n >= SPEC_ENV_MAX) {
			strv_clear(&s);
			return berr_usage(err, "%s:%zu: more than %u variables", name, lineno,
					  SPEC_ENV_MAX);
		}
		if (strv_push_own(&s, env_resolve(p)) < 0)
			goto oom;
	}
	*out = s.v;
	*n = s.n;
	return 0;
oom:
	strv_clear(&s);
	return berr_make(err, ENOMEM, "%s", name);
}

int spec_envfile_read(const char *path, char ***out, size_t *n, struct berr **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return berr_usage(err, "--env-file `%s`: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return berr_make(err, errno, "--env-file `%s`", path);
	if (!S_ISREG(st.st_mode))
		return berr_usage(err, "--env-file `%s`: not a regular file", path);
	if ((uint64_t) st.st_size > SPEC_ENVFILE_MAX)
		return berr_usage(err, "--env-file `%s`: larger than %u bytes", path,
				  SPEC_ENVFILE_MAX);
	buf = malloc(SPEC_ENVFILE_MAX + 1);
	if (buf == NULL)
		return berr_make(err, ENOMEM, "--env-file `%s`", path);
	for (;;) {
		ssize_t r = read(fd, buf + len, SPEC_ENVFILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return berr_make(err, errno, "read --env-file `%s`", path);
		if (r == 0)
			break;
		len += (size_t) r;
		if (len > SPEC_ENVFILE_MAX)
			return berr_usage(err, "--env-file `%s`: larger than %u bytes", path,
					  SPEC_ENVFILE_MAX);
	}
	return spec_envfile_parse(path, buf, len, out, n, err);
}

/* ---- the process ---- */

static int build_argv(const struct manifest_config *img, const struct spec_run_opts *o,
		      struct strv *argv)
{
	char *const *entry = NULL, *const *cmd = NULL;
	size_t n_entry = 0, n_cmd = 0;
	const char *one[1];

	if (img) {
		entry = img->entrypoint;
		n_entry = img->n_entrypoint;
		cmd = img->cmd;
		n_cmd = img->n_cmd;
	}
	if (o->entrypoint != NULL) {
		/* --entrypoint replaces ENTRYPOINT and drops the image's CMD (Docker run
		 * reference, "Default ENTRYPOINT"); "" leaves no entrypoint. */
		one[0] = o->entrypoint;
		entry = (char *const *) one;
		n_entry = o->entrypoint[0] ? 1 : 0;
		cmd = NULL;
		n_cmd = 0;
	}
	if (o->n_args > 0) {
		cmd = o->args;
		n_cmd = o->n_args;
	}
	for (size_t i = 0; i < n_entry; i++)
		if (strv_push(argv, entry[i]) < 0)
			return -1;
	for (size_t i = 0; i < n_cmd; i++)
		if (strv_push(argv, cmd[i]) < 0)
			return -1;
	return 0;
}

static int build_env(const struct manifest_config *img, const struct spec_run_opts *o,
		     struct strv *env, struct berr **err)
{
	struct strv merged = { 0 };
	_cleanup_free_ char *host = NULL;
	int ret = -1;

	if (o->n_env_files > SPEC_ENVFILES_MAX)
		return berr_usage(err, "--env-file: more than %u files", SPEC_ENVFILES_MAX);
	for (size_t i = 0; img && i < img->n_env; i++)
		if (strchr(img->env[i], '=') != NULL && env_apply(&merged, img->env[i]) < 0)
			goto oom;
	/* --env-file entries first, then -e, so -e wins (Docker run reference, "ENV"). */
	for (size_t f = 0; f < o->n_env_files; f++) {
		char **v;
		size_t n;
		if (spec_envfile_read(o->env_files[f], &v, &n, err) < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			if (env_apply(&merged, v[i]) < 0) {
				spec_strv_free(v, n);
				goto oom;
			}
		}
		spec_strv_free(v, n);
	}
	for (size_t i = 0; i < o->n_env; i++) {
		_cleanup_free_ char *e = NULL;
		if (o->env[i][0] == '=' || o->env[i][0] == '\0') {
			berr_usage(err, "-e: invalid environment variable `%s`: no name", o->env[i]);
			goto out;
		}
		e = env_resolve(o->env[i]);
		if (e == NULL || env_apply(&merged, e) < 0)
			goto oom;
	}
	/* Defaults first, then the container's values over them: a removed variable (`-e KEY`
	 * with KEY unset here) removes the image's value, not the default. */
	if (strv_push(env, "PATH=" SPEC_DEFAULT_PATH) < 0)
		goto oom;
	if (o->hostname) {
		if (asprintf(&host, "HOSTNAME=%s", o->hostname) < 0) {
			host = NULL;
			goto oom;
		}
		if (strv_push(env, host) < 0)
			goto oom;
	}
	if (o->tty && strv_push(env, "TERM=xterm") < 0)
		goto oom;
	for (size_t i = 0; i < merged.n; i++)
		if (env_apply(env, merged.v[i]) < 0)
			goto oom;
	if (env->n > SPEC_ENV_MAX) {
		berr_usage(err, "more than %u environment variables", SPEC_ENV_MAX);
		goto out;
	}
	ret = 0;
	goto out;
oom:
	berr_make(err, ENOMEM, "environment");
out:
	strv_clear(&merged);
	return ret;
}

int spec_process_build(const struct manifest_config *img, const struct spec_run_opts *o,
		       struct spec_process *out, struct berr **err)
{
	struct strv argv = { 0 }, env = { 0 };
	const char *cwd = "/", *user = "";
	char *cwd_copy = NULL, *user_copy = NULL;

	memset(out, 0, sizeof(*out));
	if (o->workdir != NULL) {
		if (o->workdir[0] != '/')
			return berr_usage(err, "-w: working directory `%s` is not an absolute path",
					  o->workdir);
		cwd = o->workdir;
	} else if (img && img->working_dir && img->working_dir[0]) {
		cwd = img->working_dir;
	}
	if (o->user)
		user = o->user;
	else if (img && img->user)
		user = img->user;

	if (build_argv(img, o, &argv) < 0)
		goto oom;
	if (argv.n == 0) {
		strv_clear(&argv);
		return berr_make(err, 0, "no command specified: the image has neither ENTRYPOINT "
				 "nor CMD; give one after the image name or with --entrypoint");
	}
	if (build_env(img, o, &env, err) < 0) {
		strv_clear(&argv);
		strv_clear(&env);
		return -1;
	}
	/* An image's relative WorkingDir is taken from "/". */
	if (cwd[0] != '/') {
		if (asprintf(&cwd_copy, "/%s", cwd) < 0)
			cwd_copy = NULL;
	} else {
		cwd_copy = strdup(cwd);
	}
	user_copy = strdup(user);
	if (cwd_copy == NULL || user_copy == NULL)
		goto oom;
	out->argv = argv.v;
	out->argc = argv.n;
	out->env = env.v;
	out->n_env = env.n;
	out->cwd = cwd_copy;
	out->user = user_copy;
	out->tty = o->tty;
	return 0;
oom:
	free(cwd_copy);
	free(user_copy);
	strv_clear(&argv);
	strv_clear(&env);
	return berr_make(err, ENOMEM, "container process");
}

void spec_process_free(struct spec_process *p)
{
	spec_strv_free(p->argv, p->argc);
	spec_strv_free(p->env, p->n_env);
	free(p->cwd);
	free(p->user);
	memset(p, 0, sizeof(*p));
}

const char *spec_getenv(const struct spec_process *p, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < p->n_env; i++)
		if (strncmp(p->env[i], key, klen) == 0 && p->env[i][klen] == '=')
			return p->env[i] + klen + 1;
	return NULL;
}

int spec_env_default(struct spec_process *p, const char *key, const char *value,
		     struct berr **err)
{
	struct strv s = { p->env, p->n_env, p->n_env + 1 };
	char *e;

	if (spec_getenv(p, key) != NULL)
		return 0;
	if (asprintf(&e, "%s=%s", key, value) < 0)
		return berr_make(err, ENOMEM, "environment");
	if (strv_push_own(&s, e) < 0)
		return berr_make(err, ENOMEM, "environment");
	p->env = s.v;
	p->n_env = s.n;
	return 0;
}

/* 0: an executable regular file; else -errno (-EACCES: there but not executable). */
static int check_exec(int rootfd, const char *path)
{
	struct berr *e = NULL;
	struct stat st;
	int fd = resolve_in_root(rootfd, path, RESOLVE_NO_CREATE, &e), r = 0;

	if (fd < 0) {
		r = e && e->errcode ? -e->errcode : -ENOENT;
		berr_free(e);
		return r;
	}
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		r = -EACCES;
	close(fd);
	return r;
}

static int join(char *buf, size_t size, const char *cwd, const char *dir, const char *file)
{
	int cwdlen = (int) strlen(cwd), n;

	while (cwdlen > 0 && cwd[cwdlen - 1] == '/') /* "/" joins as "" */
		cwdlen--;
	if (dir[0] == '/')
		n = snprintf(buf, size, "%s/%s", dir, file);
	else if (dir[0] == '\0')
		n = snprintf(buf, size, "%.*s/%s", cwdlen, cwd, file);
	else
		n = snprintf(buf, size, "%.*s/%s/%s", cwdlen, cwd, dir, file);
	return n < 0 || (size_t) n >= size ? -1 : 0;
}

int spec_lookup_path(int rootfd, const char *file, const char *path_env, const char *cwd,
		     char **out, struct berr **err)
{
	char cand[PATH_MAX];
	bool denied = false;
	const char *p;
	int r;

	*out = NULL;
	if (cwd == NULL || cwd[0] == '\0')
		cwd = "/";
	if (file == NULL || file[0] == '\0') {
		berr_make(err, 0, "exec ``: no such file or directory");
		goto not_found;
	}
	if (strchr(file, '/')) {
		if (file[0] == '/' ? snprintf(cand, sizeof(cand), "%s", file) >= (int) sizeof(cand)
				   : join(cand, sizeof(cand), cwd, "", file) < 0) {
			berr_make(err, ENAMETOOLONG, "exec `%s`", file);
			goto not_found;
		}
		r = check_exec(rootfd, cand);
		if (r == 0)
			goto found;
		berr_make(err, -r, "exec `%s`", file);
		if (r == -EACCES || r == -EISDIR)
			goto denied;
		goto not_found;
	}
	p = path_env ? path_env : SPEC_DEFAULT_PATH;
	for (;;) {
		size_t len = strcspn(p, ":");
		char dir[PATH_MAX];

		if (len < sizeof(dir)) {
			memcpy(dir, p, len);
			dir[len] = '\0';
			if (join(cand, sizeof(cand), cwd, dir, file) == 0) {
				r = check_exec(rootfd, cand);
				if (r == 0)
					goto found;
				if (r == -EACCES || r == -EISDIR)
					denied = true;
			}
		}
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	if (denied) {
		berr_make(err, EACCES, "exec `%s`", file);
		goto denied;
	}
	berr_make(err, 0, "exec `%s`: executable file not found in $PATH", file);
	goto not_found;
found:
	*out = strdup(cand);
	if (*out == NULL)
		return berr_make(err, ENOMEM, "exec `%s`", file);
	return 0;
denied:
	if (err && *err)
		(*err)->status = EXIT_CANNOT_INVOKE;
	return -1;
not_found:
	if (err && *err)
		(*err)->status = EXIT_NOT_FOUND;
	return -1;
}
