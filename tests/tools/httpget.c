/* Test driver for the HTTP client (registry/http, tls, auth): one request, then the status line
 * and header fields on stdout and the body to -o FILE (or after the head on stdout).
 * Usage: httpget [--ca FILE] [--insecure] [--user U --password P] [--auth] [--scope S]
 *                [--authorization VALUE] [--range FROM] [-X METHOD] [-H 'Name: value'] [--no-redirect]
 *                [--timeout MS] [-o FILE] URL
 * --user or --auth answer 401 challenges (Basic or the token flow); without them a 401 is
 * printed like any status. Exit: 0 on 2xx, 1 on another status, 125 on an error. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "registry/auth.h"
#include "registry/http.h"

static int usage(void)
{
	fprintf(stderr, "usage: httpget [--ca FILE] [--insecure] [--user U --password P] [--auth] "
			"[--scope S] [--authorization VALUE] [--range FROM] [-X METHOD] [-H HEADER] [--no-redirect] "
			"[--timeout MS] [-o FILE] URL\n");
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct http_client_opts co = { 0 };
	struct http_request req = { .method = "GET", .max_redirects = -1 };
	const char *user = NULL, *password = NULL, *scope = NULL, *outfile = NULL;
	const char *headers[16] = { 0 };
	size_t n_headers = 0;
	bool use_auth = false;
	struct http_client *c = NULL;
	struct auth_session *s = NULL;
	struct http_response *r = NULL;
	struct berr *err = NULL;
	int i, out_fd = STDOUT_FILENO, rc;
	char buf[65536];

	if (getenv("HTTPGET_DEBUG"))
		log_set_level(LOG_LEVEL_DEBUG);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		bool has_arg = i + 1 < argc;
		if (strcmp(a, "--insecure") == 0)
			co.insecure = true;
		else if (strcmp(a, "--auth") == 0)
			use_auth = true;
		else if (strcmp(a, "--no-redirect") == 0)
			req.max_redirects = 0;
		else if (!has_arg)
			return usage();
		else if (strcmp(a, "--ca") == 0)
			co.ca_file = argv[++i];
		else if (strcmp(a, "--user") == 0)
			user = argv[++i], use_auth = true;
		else if (strcmp(a, "--password") == 0)
			password = argv[++i];
		else if (strcmp(a, "--authorization") == 0)
			req.authorization = argv[++i];
		else if (strcmp(a, "--scope") == 0)
			scope = argv[++i];
		else if (strcmp(a, "--range") == 0)
			req.range = true, req.range_from = strtoull(argv[++i], NULL, 10);
		else if (strcmp(a, "-X") == 0)
			req.method = argv[++i];
		else if (strcmp(a, "-H") == 0 && n_headers + 1 < ARRAY_SIZE(headers))
			headers[n_headers++] = argv[++i];
		else if (strcmp(a, "--timeout") == 0)
			co.read_timeout_ms = co.connect_timeout_ms = atoi(argv[++i]);
		else if (strcmp(a, "-o") == 0)
			outfile = argv[++i];
		else
			return usage();
	}
	if (i + 1 != argc)
		return usage();
	req.url = argv[i];
	req.headers = headers;

	if (http_client_new(&co, &c, &err) < 0)
		return berr_report(err);
	if (use_auth) {
		struct http_url u;
		char hp[HTTP_MAX_HOST + 16];
		if (http_url_parse(req.url, &u, &err) < 0)
			return berr_report(err);
		http_url_hostport(&u, hp, sizeof(hp));
		auth_session_new(c, NULL, hp, &s, &err);
		if (user)
			auth_session_set_credentials(s, user, password);
		rc = auth_send(s, scope, &req, &r, &err);
	} else {
		rc = http_send(c, &req, &r, &err);
	}
	if (rc < 0) {
		auth_session_free(s);
		http_client_free(c);
		return berr_report(err);
	}
	printf("HTTP %d %s\n", r->status, r->head.reason);
	for (size_t h = 0; h < r->head.n_headers; h++)
		printf("%s: %s\n", r->head.headers[h].name, r->head.headers[h].value);
	printf("\n");
	fflush(stdout);
	if (outfile) {
		out_fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0) {
			berr_make(&err, errno, "open `%s`", outfile);
			goto fail;
		}
	}
	for (;;) {
		ssize_t n = http_read(r, buf, sizeof(buf), &err);
		if (n < 0) {
			berr_wrap(&err, "%s %s", req.method, req.url);
			goto fail;
		}
		if (n == 0)
			break;
		if (write(out_fd, buf, (size_t) n) != n) {
			berr_make(&err, errno, "write");
			goto fail;
		}
	}
	if (outfile)
		close(out_fd);
	rc = r->status >= 200 && r->status <= 299 ? 0 : 1;
	http_response_free(r);
	auth_session_free(s);
	http_client_free(c);
	return rc;
fail:
	http_response_free(r);
	auth_session_free(s);
	http_client_free(c);
	return berr_report(err);
}
