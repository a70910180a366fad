/* Credentials files in Docker's config.json format: parsing (bounded, strict about what it
 * uses, tolerant of what it does not), lookup for pulls and pushes, and the atomic rewrite
 * behind `berth login` and `berth logout`. */
#include "registry/creds.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>
#include <mbedtls/base64.h>

static const char *const hub_names[] = {
	"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com",
};

bool creds_server_key(const char *s, char buf[CREDS_SERVER_MAX])
{
	size_t n;

	if (strncasecmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		s += 7;
	n = strcspn(s, "/");
	if (n == 0 || n >= CREDS_SERVER_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		if (!isalnum(c) && !strchr(".-:[]_", c))
			return false;
		buf[i] = (char) tolower(c);
	}
	buf[n] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(hub_names); i++)
		if (strcmp(buf, hub_names[i]) == 0)
			snprintf(buf, CREDS_SERVER_MAX, "docker.io");
	return true;
}

void creds_free(struct creds *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].server);
		free(c->v[i].user);
		if (c->v[i].password) {
			explicit_bzero(c->v[i].password, strlen(c->v[i].password));
			free(c->v[i].password);
		}
	}
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* "auth": base64 of "user:password" (RFC 7617's form, which Docker stores). */
static int decode_auth(const char *b64, const char *what, const char *key,
		       struct creds_entry *e, struct berr **err)
{
	size_t len = strlen(b64), out_len = 0;
	_cleanup_free_ unsigned char *plain = NULL;
	char *colon;

	if (len > CREDS_AUTH_MAX)
		return berr_usage(err, "%s: auths.\"%.100s\".auth is longer than %u characters", what,
				  key, CREDS_AUTH_MAX);
	plain = xmalloc(len / 4 * 3 + 4);
	if (mbedtls_base64_decode(plain, len / 4 * 3 + 3, &out_len, (const unsigned char *) b64,
				  len) != 0)
		return berr_usage(err, "%s: auths.\"%.100s\".auth is not base64: run `berth login "
				  "%.100s` again, or fix the file", what, key, key);
	plain[out_len] = '\0';
	colon = memchr(plain, ':', out_len);
	if (memchr(plain, '\0', out_len) != NULL || colon == NULL || colon == (char *) plain) {
		explicit_bzero(plain, out_len);
		return berr_usage(err, "%s: auths.\"%.100s\".auth is not base64 of "
				  "`user:password`", what, key);
	}
	*colon = '\0';
	e->user = xstrdup((char *) plain);
	e->password = xstrdup(colon + 1);
	explicit_bzero(plain, out_len);
	return 0;
}

int creds_parse(const void *data, size_t len, const char *what, struct creds *out,
		struct berr **err)
{
	json_error_t jerr;
	json_t *root, *auths, *v;
	const char *key;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (len > CREDS_FILE_MAX)
		return berr_usage(err, "%s: larger than %u bytes", what, CREDS_FILE_MAX);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		return berr_usage(err, "%s: line %d column %d: %s", what, jerr.line, jerr.column,
				  jerr.text);
	if (!json_is_object(root)) {
		berr_usage(err, "%s: not a JSON object", what);
		goto out;
	}
	auths = json_object_get(root, "auths");
	if (auths == NULL || json_is_null(auths)) {
		ret = 0;
		goto out;
	}
	if (!json_is_object(auths)) {
		berr_usage(err, "%s: \"auths\" is not an object", what);
		goto out;
	}
	if (json_object_size(auths) > CREDS_ENTRIES_MAX) {
		berr_usage(err, "%s: more than %d entries in \"auths\"", what, CREDS_ENTRIES_MAX);
		goto out;
	}
	out->v = xcalloc(json_object_size(auths) + 1, sizeof(*out->v));
	json_object_foreach(auths, key, v) {
		char server[CREDS_SERVER_MAX];
		json_t *auth;
		struct creds_entry *e;

		if (!json_is_object(v)) {
			berr_usage(err, "%s: auths.\"%.100s\" is not an object", what, key);
			goto out;
		}
		auth = json_object_get(v, "auth");
		if (auth == NULL || json_is_null(auth) ||
		    (json_is_string(auth) && json_string_length(auth) == 0)) {
			/* Kept by credential helpers or holding an identity token: not ours. */
			out->n_ignored++;
			continue;
		}
		if (!json_is_string(auth)) {
			berr_usage(err, "%s: auths.\"%.100s\".auth is not a string", what, key);
			goto out;
		}
		if (!creds_server_key(key, server)) {
			berr_usage(err, "%s: auths.\"%.100s\" does not name a registry host", what, key);
			goto out;
		}
		e = &out->v[out->n];
		if (decode_auth(json_string_value(auth), what, key, e, err) < 0)
			goto out;
		e->server = xstrdup(server);
		out->n++;
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		creds_free(out);
	return ret;
}

const struct creds_entry *creds_find(const struct creds *c, const char *registry)
{
	char want[CREDS_SERVER_MAX];

	if (!creds_server_key(registry, want))
		return NULL;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].server, want) == 0)
			return &c->v[i];
	return NULL;
}

int creds_path(const struct berth_config *cfg, char *buf, size_t size)
{
	if (cfg && cfg->daemon.auth_file && cfg->daemon.auth_file[0]) {
		if (snprintf(buf, size, "%s", cfg->daemon.auth_file) >= (int) size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	return paths_auth_file(buf, size);
}

int creds_docker_path(char *buf, size_t size)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	int n;

	if (dir && *dir)
		n = snprintf(buf, size, "%s/config.json", dir);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.docker/config.json", home);
	else
		return -1;
	return n < 0 || (size_t) n >= size ? -1 : 0;
}

/* 1 found, 0 not (or no file), -1 error. */
static int lookup_in(const char *path, const char *registry, char **user, char **password,
		     struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	const struct creds_entry *e;
	struct creds c;
	struct berr *e2 = NULL;
	size_t len;
	int ret = 0;

	if (fs_read_file(path, CREDS_FILE_MAX, &data, &len, &e2) < 0) {
		if (e2->errcode == ENOENT || e2->errcode == ENOTDIR) {
			berr_free(e2);
			return 0;
		}
		if (err && !*err)
			*err = e2;
		else
			berr_free(e2);
		return -1;
	}
	if (creds_parse(data, len, path, &c, err) < 0)
		return -1;
	e = creds_find(&c, registry);
	if (e) {
		*user = xstrdup(e->user);
		*password = xstrdup(e->password);
		ret = 1;
	}
	creds_free(&c);
	return ret;
}

int creds_lookup(const struct berth_config *cfg, const char *registry, char **user,
		 char **password, char *source, size_t source_size, struct berr **err)
{
	char path[PATH_MAX];
	int found;

	if (creds_path(cfg, path, sizeof(path)) == 0) {
		found = lookup_in(path, registry, user, password, err);
		if (found != 0) {
			snprintf(source, source_size, "`%s` (berth login)", path);
			return found;
		}
	}
	if (creds_docker_path(path, sizeof(path)) == 0) {
		found = lookup_in(path, registry, user, password, err);
		if (found != 0) {
			snprintf(source, source_size, "Docker's `%s`", path);
			return found;
		}
	}
	return 0;
}

/* The file as a JSON object to edit: {} if it does not exist. */
static json_t *load_for_edit(const char *path, struct berr **err)
{
	_cleanup_free_ char *data = NULL;
	struct berr *e = NULL;
	struct creds check;
	json_error_t jerr;
	json_t *root;
	size_t len;

	if (fs_read_file(path, CREDS_FILE_MAX, &data, &len, &e) < 0) {
		if (e->errcode == ENOENT) {
			berr_free(e);
			return json_object();
		}
		if (err && !*err)
			*err = e;
		else
			berr_free(e);
		return NULL;
	}
	/* What we would not read back, we do not rewrite. */
	if (creds_parse(data, len, path, &check, err) < 0) {
		berr_wrap(err, "fix or remove the file");
		return NULL;
	}
	creds_free(&check);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		berr_usage(err, "%s: %s", path, jerr.text);
	return root;
}

static int save(const char *path, json_t *root, struct berr **err)
{
	_cleanup_free_ char *dir = xstrdup(path), *text = NULL;
	char *slash = strrchr(dir, '/');
	int ret;

	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (fs_mkdir_p(dir, 0700, err) < 0)
			return -1;
	}
	text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	if (text == NULL)
		return berr_make(err, ENOMEM, "%s: JSON", path);
	ret = fs_write_atomic(path, text, strlen(text), 0600, err);
	explicit_bzero(text, strlen(text));
	return ret;
}

int creds_store(const char *path, const char *registry, const char *user, const char *password,
		struct berr **err)
{
	char server[CREDS_SERVER_MAX];
	_cleanup_free_ char *plain = NULL, *b64 = NULL;
	json_t *root, *auths;
	size_t pl, bl = 0;
	int ret = -1;

	if (!creds_server_key(registry, server))
		return berr_usage(err, "`%s` is not a registry host", registry);
	if (user[0] == '\0' || strchr(user, ':') != NULL)
		return berr_usage(err, "user name `%s` must be non-empty and hold no `:`", user);
	plain = xasprintf("%s:%s", user, password);
	pl = strlen(plain);
	b64 = xmalloc((pl + 2) / 3 * 4 + 1);
	if (mbedtls_base64_encode((unsigned char *) b64, (pl + 2) / 3 * 4 + 1, &bl,
				  (const unsigned char *) plain, pl) != 0) {
		explicit_bzero(plain, pl);
		return berr_make(err, 0, "base64 encoding failed");
	}
	explicit_bzero(plain, pl);
	root = load_for_edit(path, err);
	if (root == NULL)
		goto out;
	auths = json_object_get(root, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(root, "auths", auths);
	}
	/* One entry per registry, whatever spelling (`https://host/`) was there before. */
	{
		const char *key;
		json_t *v;
		void *tmp;
		json_object_foreach_safe(auths, tmp, key, v) {
			char k[CREDS_SERVER_MAX];
			if (creds_server_key(key, k) && strcmp(k, server) == 0)
				json_object_del(auths, key);
		}
	}
	json_object_set_new(auths, server, json_pack("{s:s}", "auth", b64));
	ret = save(path, root, err);
out:
	explicit_bzero(b64, strlen(b64));
	json_decref(root);
	return ret;
}

int creds_erase(const char *path, const char *registry, struct berr **err)
{
	char server[CREDS_SERVER_MAX];
	json_t *root, *auths, *v;
	const char *key;
	void *tmp;
	int removed = 0, ret = -1;

	if (!creds_server_key(registry, server))
		return berr_usage(err, "`%s` is not a registry host", registry);
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = load_for_edit(path, err);
	if (root == NULL)
		return -1;
	auths = json_object_get(root, "auths");
	if (json_is_object(auths)) {
		json_object_foreach_safe(auths, tmp, key, v) {
			char k[CREDS_SERVER_MAX];
			if (creds_server_key(key, k) && strcmp(k, server) == 0) {
				json_object_del(auths, key);
				removed = 1;
			}
		}
	}
	ret = removed ? save(path, root, err) : 0;
	json_decref(root);
	return ret < 0 ? -1 : removed;
}
