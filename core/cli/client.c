/* Talking to the supervisor: connect to <run-dir>/berth.sock, one request, one reply. */
#include "client.h"
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "runtime/cgroup.h"
#include "runtime/record.h"
#include "supervisor/ctl.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
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

static int call(json_t *req, json_t **reply, bool *unknown, struct berr **err);

int client_call(json_t *req, json_t **reply, struct berr **err)
{
	return call(req, reply, NULL, err);
}

int client_try(json_t *req, json_t **reply, bool *handled, struct berr **err)
{
	bool unknown = false;

	*handled = false;
	*reply = NULL;
	if (!client_supervisor_up()) {
		json_decref(req);
		return 0;
	}
	if (call(req, reply, &unknown, err) < 0) {
		if (unknown) {
			berr_free(*err);
			*err = NULL;
			return 0;
		}
		*handled = true;
		return -1;
	}
	*handled = true;
	return 0;
}

static int call(json_t *req, json_t **reply, bool *unknown, struct berr **err)
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
	if (ctl_write(fd, req, CTL_TIMEOUT_MS, err) < 0) {
		/* The supervisor may have refused before reading (a peer it does not serve): its
		 * reply says why. */
		struct berr *e = NULL;
		if (ctl_read(fd, CTL_REPLY_MAX, CTL_TIMEOUT_MS, &r, &e) < 0) {
			berr_free(e);
			goto out;
		}
		berr_free(*err);
		*err = NULL;
	} else {
		shutdown(fd, SHUT_WR);
		if (ctl_read(fd, CTL_REPLY_MAX, 10 * 60 * 1000, &r, err) < 0) {
			berr_wrap(err, "the supervisor's reply");
			goto out;
		}
	}
	if (!json_is_true(json_object_get(r, "ok"))) {
		const char *msg = ctl_str(r, "error");
		json_t *st = json_object_get(r, "status");
		berr_make(err, 0, "%s", msg ? msg : "the supervisor refused the request");
		(*err)->status = json_is_integer(st) ? (int) json_integer_value(st) : EXIT_FAILED;
		if (unknown)
			*unknown = json_is_true(json_object_get(r, "unknown"));
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

/* ---- containers outside the supervisor (a foreground `berth run`) ---- */

int client_local_kill(const char *ref, int sig, bool wait_gone, int timeout_s, struct berr **err)
{
	struct rec rec;
	int64_t deadline;

	if (rec_find(ref, &rec, err) < 0)
		return -1;
	if (rec.st.status != REC_RUNNING || !rec_pid_alive(&rec.st)) {
		if (!wait_gone) {
			berr_make(err, 0, "container %s is not running", ref);
			rec_free(&rec);
			return -1;
		}
		rec_free(&rec); /* stopping a stopped container is fine, as in Docker */
		return 0;
	}
	if (kill(rec.st.pid, sig) < 0) {
		berr_make(err, errno, "signal container %s", ref);
		rec_free(&rec);
		return -1;
	}
	if (!wait_gone) {
		rec_free(&rec);
		return 0;
	}
	/* Wait for it to go; then SIGKILL every process of its cgroup. */
	deadline = rec_now() + (int64_t) timeout_s * 1000000000;
	while (rec_now() < deadline && rec_pid_alive(&rec.st))
		usleep(50000);
	if (rec_pid_alive(&rec.st)) {
		struct cg_system sys;
		struct cg_handle h = { 0 };
		struct berr *e = NULL;
		if (cg_detect(&sys, NULL, &e) == 0 && cg_open(&sys, rec.cfg.id, &h, &e) == 0 &&
		    cg_kill_all(&h, SIGKILL, &e) == 0) {
			/* gone */
		} else {
			berr_free(e);
			kill(rec.st.pid, SIGKILL);
		}
		deadline = rec_now() + 5 * 1000000000LL;
		while (rec_now() < deadline && rec_pid_alive(&rec.st))
			usleep(20000);
	}
	rec_free(&rec);
	return 0;
}
