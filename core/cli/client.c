/* Talking to the supervisor: connect to <run-dir>/berth.sock, one request, one reply. */
#include "client.h"
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "runtime/record.h"
#include "supervisor/ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_sock(struct berr **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	int fd;

	if (paths_socket(path, sizeof(path)) < 0 || strlen(path) >= sizeof(sa.sun_path))
		return berr_make(err, ENAMETOOLONG, "control socket path under `%s`", paths_run_dir());
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berr_make(err, errno, "socket");
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED) {
			berr_make(err, 0, "no berth supervisor is running (no one answers on %s): start it "
				  "with `berth daemon`, or boot berth as init", path);
			(*err)->status = EXIT_BERTH;
			return -1;
		}
		return berr_make(err, e, "connect to the supervisor at %s", path);
	}
	return fd;
}

bool client_supervisor_up(void)
{
	struct berr *e = NULL;
	int fd = connect_sock(&e);

	berr_free(e);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int client_call(json_t *req, json_t **reply, struct berr **err)
{
	json_t *r = NULL;
	int fd, ret = -1;

	*reply = NULL;
	fd = connect_sock(err);
	if (fd < 0) {
		json_decref(req);
		return -1;
	}
	/* The supervisor may have work to do first (stopping a container waits for it). */
	if (ctl_write(fd, req, CTL_TIMEOUT_MS, err) < 0)
		goto out;
	shutdown(fd, SHUT_WR);
	if (ctl_read(fd, CTL_REPLY_MAX, 10 * 60 * 1000, &r, err) < 0) {
		berr_wrap(err, "the supervisor's reply");
		goto out;
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		const char *msg = ctl_str(r, "error");
		json_t *st = json_object_get(r, "status");
		berr_make(err, 0, "%s", msg ? msg : "the supervisor refused the request");
		(*err)->status = json_is_integer(st) ? (int) json_integer_value(st) : EXIT_FAILED;
		json_decref(r);
		goto out;
	}
	*reply = r;
	ret = 0;
out:
	json_decref(req);
	close(fd);
	return ret;
}

int run_detached(struct cli_ctx *ctx, const char *id, const char *name)
{
	struct berr *err = NULL;
	json_t *reply = NULL;

	(void) ctx;
	(void) name;
	if (client_call(json_pack("{s:s, s:s}", "cmd", "start", "name", id), &reply, &err) < 0) {
		struct berr *e = NULL;
		if (rec_remove(id, REC_RM_FORCE | REC_RM_VOLUMES, NULL, &e) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
		}
		return berr_report(err);
	}
	json_decref(reply);
	printf("%s\n", id);
	return EXIT_OK;
}
