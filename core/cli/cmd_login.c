/* `berth login` and `berth logout`: registry credentials checked against the registry and
 * kept root-only in Docker's config.json format ([daemon] auth-file, by default
 * <data-root>/auth.json), where pulls and pushes find them. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "image/ref.h"
#include "registry/client.h"
#include "registry/creds.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define LOGIN_FIELD_MAX 4096   /* bytes of a user name or password (a token can be long) */

enum { O_USER = 1, O_PASS, O_PASS_STDIN };

const struct cli_opt cmd_login_opts[] = {
	{ O_USER, 'u', "username", "USER", "Username" },
	{ O_PASS, 'p', "password", "PASS", "Password (visible to other users: prefer "
	  "--password-stdin)" },
	{ O_PASS_STDIN, 0, "password-stdin", NULL, "Take the password from stdin" },
	{ 0, 0, NULL, NULL, NULL },
};

const struct cli_opt cmd_logout_opts[] = {
	{ 0, 0, NULL, NULL, NULL },
};

/* One line from `f` without its line end; an over-long line is an error. */
static int read_line(FILE *f, char *buf, size_t size, const char *what, struct berr **err)
{
	size_t n;

	if (fgets(buf, (int) size, f) == NULL)
		return berr_usage(err, "no %s given (end of input)", what);
	n = strcspn(buf, "\r\n");
	if (buf[n] == '\0' && n == size - 1 && !feof(f))
		return berr_usage(err, "the %s is longer than %zu bytes", what, size - 2);
	buf[n] = '\0';
	return 0;
}

/* Ask on the terminal, without echo for the password. */
static int prompt(const char *label, bool secret, char *buf, size_t size, struct berr **err)
{
	struct termios old, quiet;
	bool echo_off = false;
	int ret;

	if (!isatty(STDIN_FILENO))
		return berr_usage(err, "no %s given and stdin is not a terminal: use %s", label,
				  secret ? "--password-stdin or -p" : "-u");
	fprintf(stderr, "%s: ", label);
	fflush(stderr);
	if (secret && tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t) ECHO;
		echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
	}
	ret = read_line(stdin, buf, size, label, err);
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return ret;
}

/* SERVER, or the default registry, normalised as the credentials file keys it. */
static int server_arg(struct cli_ctx *ctx, int argc, char **argv, int i, const char *cmd,
		      char server[CREDS_SERVER_MAX], struct berr **err)
{
	const char *s = argc - i == 1 ? argv[i] : ctx->cfg.daemon.default_registry;

	if (argc - i > 1)
		return berr_usage(err, "`berth %s` takes at most one server (see `berth %s --help`)",
				  cmd, cmd);
	if (!creds_server_key(s, server))
		return berr_usage(err, "`%s` is not a registry host[:port]", s);
	return 0;
}

int cmd_login(struct cli_ctx *ctx, int argc, char **argv)
{
	char server[CREDS_SERVER_MAX], path[PATH_MAX];
	char user[LOGIN_FIELD_MAX + 2] = "", pass[LOGIN_FIELD_MAX + 2] = "";
	bool have_user = false, have_pass = false, pass_stdin = false;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int id, ret = EXIT_OK;

	args_init(&a, cmd_login_opts, argc, argv, "berth login");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("login"), stdout);
			return EXIT_OK;
		case O_USER:
			snprintf(user, sizeof(user), "%s", value);
			have_user = true;
			break;
		case O_PASS:
			snprintf(pass, sizeof(pass), "%s", value);
			have_pass = true;
			break;
		case O_PASS_STDIN:
			pass_stdin = true;
			break;
		}
	}
	if (server_arg(ctx, argc, argv, a.i, "login", server, &err) < 0)
		return berr_report(err);
	if (have_pass && pass_stdin) {
		berr_usage(&err, "--password and --password-stdin are mutually exclusive");
		return berr_report(err);
	}
	if (pass_stdin && !have_user) {
		berr_usage(&err, "--password-stdin needs the user name in -u/--username");
		return berr_report(err);
	}
	if (have_pass)
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
			"--password-stdin.\n");
	if ((!have_user && prompt("Username", false, user, sizeof(user), &err) < 0) ||
	    (pass_stdin && read_line(stdin, pass, sizeof(pass), "password", &err) < 0) ||
	    (!have_pass && !pass_stdin && prompt("Password", true, pass, sizeof(pass), &err) < 0))
		goto fail;
	if (user[0] == '\0' || strchr(user, ':') != NULL) {
		berr_usage(&err, "the user name must be non-empty and hold no `:`");
		goto fail;
	}
	if (pass[0] == '\0') {
		berr_usage(&err, "the password is empty");
		goto fail;
	}
	if (creds_path(&ctx->cfg, path, sizeof(path)) < 0) {
		berr_make(&err, errno, "path of the credentials file");
		goto fail;
	}
	/* Like Docker: nothing is saved that the registry did not accept. */
	if (reg_login_check(&ctx->cfg, server, user, pass, &err) < 0) {
		berr_wrap(&err, "login to `%s`", server);
		goto fail;
	}
	if (creds_store(path, server, user, pass, &err) < 0)
		goto fail;
	printf("Login Succeeded\nCredentials saved (root only) in %s\n", path);
	goto out;
fail:
	ret = berr_report(err);
out:
	explicit_bzero(pass, sizeof(pass));
	return ret;
}

int cmd_logout(struct cli_ctx *ctx, int argc, char **argv)
{
	char server[CREDS_SERVER_MAX], path[PATH_MAX];
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int id, removed;

	args_init(&a, cmd_logout_opts, argc, argv, "berth logout");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("logout"), stdout);
			return EXIT_OK;
		}
	}
	if (server_arg(ctx, argc, argv, a.i, "logout", server, &err) < 0)
		return berr_report(err);
	if (creds_path(&ctx->cfg, path, sizeof(path)) < 0) {
		berr_make(&err, errno, "path of the credentials file");
		return berr_report(err);
	}
	removed = creds_erase(path, server, &err);
	if (removed < 0)
		return berr_report(err);
	if (removed)
		printf("Removing login credentials for %s\n", server);
	else
		printf("Not logged in to %s\n", server);
	return EXIT_OK;
}
