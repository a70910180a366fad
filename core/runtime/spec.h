/* The process of a container: command line, environment, working directory and user, merged
 * from the image config and the run options by Docker's rules (Docker run reference; Dockerfile
 * reference, "Understand how CMD and ENTRYPOINT interact"); and the few safe lookups inside a
 * rootfs that starting it needs (the program through PATH; resolve.h does the rest). */
#ifndef BERTH_RUNTIME_SPEC_H
#define BERTH_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct berr;
struct manifest_config;

#define SPEC_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPEC_ENV_MAX 4096             /* variables in a container's environment */
#define SPEC_ENVFILE_MAX (1u << 20)   /* bytes of one --env-file */
#define SPEC_ENVFILES_MAX 64          /* --env-file options */

/* What `berth run` was given besides the image. Nothing here is owned. */
struct spec_run_opts {
	char *const *args;          /* the arguments after the image name: they replace CMD */
	size_t n_args;
	const char *entrypoint;     /* --entrypoint: NULL if not given; "" resets it */
	char *const *env;           /* -e KEY=VALUE or -e KEY, in order */
	size_t n_env;
	char *const *env_files;     /* --env-file paths, in order */
	size_t n_env_files;
	const char *workdir;        /* -w: NULL for the image's */
	const char *user;           /* -u: NULL for the image's */
	const char *hostname;       /* HOSTNAME in the environment; NULL: not set */
	bool tty;                   /* -t: TERM=xterm */
};

struct spec_process {
	char **argv;   /* NULL-terminated */
	size_t argc;
	char **env;    /* NULL-terminated "KEY=VALUE", one per key */
	size_t n_env;
	char *cwd;     /* absolute, inside the container */
	char *user;    /* as given (-u or the image's User); "" is root */
	bool tty;
};

/* Merge the image config (NULL: an image without one) with the run options:
 * - argv: ENTRYPOINT followed by CMD, where run arguments replace CMD and `--entrypoint X`
 *   replaces ENTRYPOINT with [X] and drops the image's CMD (`--entrypoint ""` leaves no
 *   entrypoint). Shell forms were stored as ["/bin/sh", "-c", "..."] by the builder, so a
 *   shell-form ENTRYPOINT gets CMD as $0... and the shell ignores it, as the table says. No
 *   command at all is "no command specified" (status 125, as Docker).
 * - env: the image's Env, overridden key by key by --env-file entries then -e entries (-e wins,
 *   whatever the order on the command line); `KEY` without `=` takes berth's own value of KEY,
 *   or, when berth has none, removes KEY. Then PATH (SPEC_DEFAULT_PATH), HOSTNAME and, with -t,
 *   TERM=xterm are added where the result lacks them. HOME comes later, from the user
 *   (spec_env_default), since it needs the container's passwd.
 * - cwd: -w (must be absolute), else the image's WorkingDir, else "/".
 * - user: -u, else the image's User, else "". */
int spec_process_build(const struct manifest_config *img, const struct spec_run_opts *o,
		       struct spec_process *out, struct berr **err);
void spec_process_free(struct spec_process *p);

/* The value of KEY in the process environment, NULL if unset. */
const char *spec_getenv(const struct spec_process *p, const char *key);
/* Set KEY=value unless KEY is already set (HOME from the user's passwd entry). */
int spec_env_default(struct spec_process *p, const char *key, const char *value,
		     struct berr **err);

/* Parse an --env-file (Docker's format: KEY=VALUE lines taken verbatim, no quote processing;
 * leading blanks ignored; `#` comment and blank lines skipped; a bare KEY is taken from berth's
 * environment, or kept as `KEY` meaning "unset" when berth has none). Errors name `name:line`.
 * Returns a malloc'd vector of *n strings. */
int spec_envfile_parse(const char *name, const char *data, size_t len, char ***out, size_t *n,
		       struct berr **err);
/* Read and parse the file at `path` (at most SPEC_ENVFILE_MAX bytes). */
int spec_envfile_read(const char *path, char ***out, size_t *n, struct berr **err);
void spec_strv_free(char **v, size_t n);

/* Find the program `file` as execvp(3) would inside the container: a name with a '/' is taken
 * as is (relative to `cwd`), otherwise each directory of `path_env` (NULL: SPEC_DEFAULT_PATH)
 * is tried. *out is the path found, inside the container. Failure sets the error's status to
 * 127 when nothing was found and to 126 when what was found cannot be executed (not a regular
 * file, or no execute bit), as Docker's `run` reports them. */
int spec_lookup_path(int rootfd, const char *file, const char *path_env, const char *cwd,
		     char **out, struct berr **err);

#endif
