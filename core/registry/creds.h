/* Registry credentials in files, in the format of Docker's config.json
 * ({"auths":{"host:port":{"auth":"base64(user:password)"}}}): the one `berth login` writes
 * (root-only, atomically) and, read only, an existing Docker config. Both are outside input:
 * sizes and counts are bounded and errors name the file and the entry. */
#ifndef BERTH_REGISTRY_CREDS_H
#define BERTH_REGISTRY_CREDS_H

#include <stdbool.h>
#include <stddef.h>

struct berr;
struct berth_config;

#define CREDS_FILE_MAX (1u << 20)   /* bytes of a config.json */
#define CREDS_ENTRIES_MAX 256       /* entries under "auths" */
#define CREDS_AUTH_MAX 8192         /* characters of one "auth" value */
#define CREDS_SERVER_MAX 256        /* bytes of a normalised server name */

struct creds_entry {
	char *server;     /* normalised: "host[:port]", Docker Hub as "docker.io" */
	char *user;
	char *password;
};

struct creds {
	struct creds_entry *v;
	size_t n;
	size_t n_ignored; /* entries without "auth" (credential helpers, identity tokens) */
};

/* Normalise a server as config.json keys and `berth login` arguments write it
 * ("https://index.docker.io/v1/", "http://host:5000/", "host:5000") to "host[:port]", with
 * Docker Hub's names as "docker.io". False if nothing like a host is left, or it is too long. */
bool creds_server_key(const char *s, char buf[CREDS_SERVER_MAX]);

/* Parse config.json content; `what` (a path) names it in errors. Entries with an "auth" that
 * is not base64 of "user:password" (user not empty, no NUL) are errors naming the entry. */
int creds_parse(const void *data, size_t len, const char *what, struct creds *out,
		struct berr **err);
void creds_free(struct creds *c);
/* The entry for `registry` ("host[:port]"), or NULL. */
const struct creds_entry *creds_find(const struct creds *c, const char *registry);

/* The file `berth login` writes: [daemon] auth-file, else <data-root>/auth.json. */
int creds_path(const struct berth_config *cfg, char *buf, size_t size);
/* Docker's: $DOCKER_CONFIG/config.json, else $HOME/.docker/config.json; -1 if neither is set. */
int creds_docker_path(char *buf, size_t size);

/* Credentials for `registry` from berth's file, then Docker's (a missing file is no error).
 * 1 with *user and *password (malloc'd) and `source` naming the file, 0 if none. */
int creds_lookup(const struct berth_config *cfg, const char *registry, char **user,
		 char **password, char *source, size_t source_size, struct berr **err);

/* Set `registry`'s entry in the file at `path`, keeping everything else in it; written
 * atomically with mode 0600. A file that does not parse is an error and is left alone. */
int creds_store(const char *path, const char *registry, const char *user, const char *password,
		struct berr **err);
/* Remove `registry`'s entry: 1 if removed, 0 if there was none. */
int creds_erase(const char *path, const char *registry, struct berr **err);

#endif
