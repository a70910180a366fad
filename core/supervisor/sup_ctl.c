/* Control requests: who may ask (root, by SO_PEERCRED), what they may ask, and the replies.
 * A request that changes a running container replies when the change is done: `stop` when
 * the container has exited, `restart` when it runs again. */
#include "sup_int.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/signame.h"
#include "base/util.h"
#include "cli/cli.h"
#include "runtime/cgroup.h"
#include "supervisor/ctl.h"
#include "supervisor/logs.h"

#include <errno.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

const char *init_last_shutdown(void) __attribute__((weak));

static void reply(int fd, json_t *r)
{
	struct berr *e = NULL;
	if (r == NULL)
		r = json_pack("{s:b, s:s}", "ok", 0, "error", "out of memory");
	if (ctl_write(fd, r, CTL_TIMEOUT_MS, &e) < 0) {
		log_debug("%s", e->msg);
		berr_free(e);
	}
	json_decref(r);
	close(fd);
}

static void fail(int fd, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(int fd, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply(fd, json_pack("{s:b, s:s, s:i}", "ok", 0, "error", msg, "status", status));
}

static json_t *svc_json(const struct svc *v)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:b, s:s?, s:s?, s:b}",
			      "name", v->name, "id", v->id, "state", svc_state_name(v->state),
			      "pid", (int) v->pid, "exit_code", v->exit_code,
			      "restart_count", (int) v->restart_count, "oom_killed", v->oom,
			      "error", v->error, "app", v->app ? v->app->file : NULL, "goal_up", v->want_up);
	if (o && v->hc.on)
		json_object_set_new(o, "health_failures", json_integer(v->hc.failures));
	return o;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void do_status(struct sup *s, int fd)
{
	json_t *r = json_object(), *apps = json_array(), *counts = json_object();
	struct statvfs vfs;
	struct cg_system sys;
	struct berr *e = NULL;

	for (size_t i = 0; i < s->n_svc; i++) {
		const struct svc *v = &s->svc[i];
		json_t *c;
		if (!v->used)
			continue;
		json_array_append_new(apps, svc_json(v));
		c = json_object_get(counts, svc_state_name(v->state));
		json_object_set_new(counts, svc_state_name(v->state),
				    json_integer(c ? json_integer_value(c) + 1 : 1));
	}
	json_object_set_new(r, "ok", json_true());
	json_object_set_new(r, "pid", json_integer(getpid()));
	json_object_set_new(r, "pid1", json_boolean(s->pid1));
	json_object_set_new(r, "uptime_ms", json_integer(sup_now() - s->started_ms));
	json_object_set_new(r, "rss_kb", json_integer(rss_kb()));
	json_object_set_new(r, "services", apps);
	json_object_set_new(r, "counts", counts);
	if (cg_detect(&sys, NULL, &e) == 0)
		json_object_set_new(r, "cgroup", json_string(sys.version == CG_V2 ? "v2" : sys.version == CG_V1 ? "v1" : "none"));
	berr_free(e);
	if (statvfs(paths_root(), &vfs) == 0) {
		json_object_set_new(r, "data_root", json_string(paths_root()));
		json_object_set_new(r, "data_size", json_integer((json_int_t) ((uint64_t) vfs.f_blocks * vfs.f_frsize)));
		json_object_set_new(r, "data_free", json_integer((json_int_t) ((uint64_t) vfs.f_bavail * vfs.f_frsize)));
	}
	json_object_set_new(r, "last_shutdown", json_string(init_last_shutdown ? init_last_shutdown() : "n/a"));
	reply(fd, r);
}

/* A service for `name`, or for a record of that name (adopted: `run -d`, `create`). */
static struct svc *find_or_adopt(struct sup *s, const char *name, int fd)
{
	struct svc *v = sup_find(s, name);
	struct berr *e = NULL;
	struct rec rec;

	if (v)
		return v;
	if (rec_find(name, &rec, &e) < 0) {
		fail(fd, EXIT_FAILED, "%s", e->msg);
		berr_free(e);
		return NULL;
	}
	if (rec.broken || (rec.st.status == REC_RUNNING && !rec.stale)) {
		fail(fd, EXIT_FAILED, "container %s %s", name,
		     rec.broken ? "has a broken record" : "runs outside the supervisor (a foreground `berth run`)");
		rec_free(&rec);
		return NULL;
	}
	v = sup_find(s, rec.cfg.name);
	if (v == NULL && (v = sup_add(s, rec.cfg.name)) != NULL) {
		memcpy(v->id, rec.cfg.id, sizeof(v->id));
		v->restart = rec.cfg.restart;
		v->restart_max = rec.cfg.restart_max;
		v->stop_signal = rec.cfg.stop_signal ? rec.cfg.stop_signal : 15;
		v->stop_timeout_ms = rec.cfg.stop_timeout >= 0 ? (int64_t) rec.cfg.stop_timeout * 1000 : 10000;
		v->state = SVC_CREATED;
	}
	rec_free(&rec);
	if (v == NULL)
		fail(fd, EXIT_BERTH, "the supervisor has no room for another container (%d)", SUP_MAX_SVC);
	return v;
}

static void do_start(struct sup *s, int fd, const char *name)
{
	struct svc *v = find_or_adopt(s, name, fd);

	if (v == NULL)
		return;
	if (v->app_error) {
		fail(fd, EXIT_FAILED, "%s", v->app_error);
		return;
	}
	if (svc_live(v) || v->state == SVC_PULLING || v->state == SVC_BACKOFF) {
		reply(fd, json_pack("{s:b, s:s, s:s}", "ok", 1, "name", v->name, "state", svc_state_name(v->state)));
		return;
	}
	if (s->stopping) {
		fail(fd, EXIT_FAILED, "the supervisor is shutting down");
		return;
	}
	v->user_stopped = false;
	v->want_up = true;
	if (v->state == SVC_FAILED)
		v->state = SVC_EXITED;
	if (svc_add_waiter(v, fd, WAIT_RESTART) < 0) {
		fail(fd, EXIT_FAILED, "too many requests wait on %s", v->name);
		return;
	}
	sup_event(s, v, EV_START);
	/* Pulling, or waiting on dependencies: the start goes on in the background. */
	if (v->state == SVC_PULLING || v->state == SVC_CREATED || v->state == SVC_BACKOFF)
		svc_reply_waiters(v, WAIT_RESTART, true, NULL);
}

static void do_stop(struct sup *s, int fd, struct svc *v, enum waiter_kind kind)
{
	v->user_stopped = true;
	v->want_up = false;
	if (!svc_live(v)) {
		if (v->state == SVC_BACKOFF || v->state == SVC_PULLING || v->state == SVC_CREATED)
			sup_event(s, v, EV_STOP);
		if (kind == WAIT_RESTART) {
			if (svc_add_waiter(v, fd, WAIT_RESTART) < 0) {
				fail(fd, EXIT_FAILED, "too many requests wait on %s", v->name);
				return;
			}
			v->want_up = true;
			v->user_stopped = false;
			sup_event(s, v, EV_START);
			return;
		}
		reply(fd, json_pack("{s:b, s:s}", "ok", 1, "name", v->name));
		return;
	}
	if (svc_add_waiter(v, fd, kind) < 0) {
		fail(fd, EXIT_FAILED, "too many requests wait on %s", v->name);
		return;
	}
	if (v->state != SVC_STOPPING)
		sup_event(s, v, EV_STOP);
}

void sup_ctl_handle(struct sup *s, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct berr *e = NULL;
	json_t *req = NULL;
	struct ctl_req rq;
	struct svc *v;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
		fail(fd, EXIT_FAILED, "permission denied: the berth control socket is for root only");
		return;
	}
	if (ctl_read(fd, CTL_REQ_MAX, CTL_TIMEOUT_MS, &req, &e) < 0) {
		/* Unread bytes at close would reset the connection before the peer reads why:
		 * take (a bounded amount of) what it still sends, then answer. */
		char sink[4096];
		struct pollfd p = { fd, POLLIN, 0 };
		for (int i = 0; i < 64 && poll(&p, 1, 20) == 1; i++)
			if (read(fd, sink, sizeof(sink)) <= 0)
				break;
		fail(fd, EXIT_USAGE, "%s", e->msg);
		berr_free(e);
		return;
	}
	if (ctl_request(req, &rq, &e) < 0) {
		fail(fd, EXIT_USAGE, "%s", e->msg);
		berr_free(e);
		goto out;
	}
	if (rq.cmd == CTL_STATUS) {
		do_status(s, fd);
		goto out;
	}
	if (rq.cmd == CTL_START) {
		do_start(s, fd, rq.name);
		goto out;
	}
	v = sup_find(s, rq.name);
	if (v == NULL) {
		/* "unknown": the client may act on the record itself (a foreground container) */
		reply(fd, json_pack("{s:b, s:s, s:i, s:b}", "ok", 0, "error", "the supervisor does not run this container",
				    "status", EXIT_FAILED, "unknown", 1));
		goto out;
	}
	switch (rq.cmd) {
	case CTL_STOP:
		if (rq.timeout >= 0)
			v->stop_timeout_ms = (int64_t) rq.timeout * 1000;
		do_stop(s, fd, v, WAIT_STOP);
		break;
	case CTL_RESTART:
		if (rq.timeout >= 0)
			v->stop_timeout_ms = (int64_t) rq.timeout * 1000;
		do_stop(s, fd, v, WAIT_RESTART);
		break;
	case CTL_KILL:
		if (!svc_live(v)) {
			fail(fd, EXIT_FAILED, "container %s is not running", v->name);
			break;
		}
		if (rq.signal == SIGKILL || rq.signal == SIGTERM)
			v->user_stopped = true, v->want_up = false;
		if (svc_signal(v, rq.signal) < 0)
			fail(fd, EXIT_FAILED, "kill %s: %s", v->name, strerror(errno));
		else
			reply(fd, json_pack("{s:b, s:s}", "ok", 1, "name", v->name));
		break;
	default: /* rm: the container stops first with force; then the service is forgotten */
		if (svc_live(v) && !rq.force) {
			fail(fd, EXIT_FAILED, "container %s is running: stop it first, or use rm -f", v->name);
			break;
		}
		v->want_up = false;
		v->user_stopped = true;
		if (svc_live(v)) {
			v->stop_signal = SIGKILL;
			v->forget = true;
			do_stop(s, fd, v, WAIT_STOP);
			break;
		}
		if (v->state == SVC_BACKOFF || v->state == SVC_PULLING)
			sup_event(s, v, EV_STOP);
		v->id[0] = '\0'; /* the client removes the record */
		if (!v->app)
			v->used = false; /* a `run -d` container leaves the supervisor with its record */
		reply(fd, json_pack("{s:b, s:s}", "ok", 1, "name", v->name));
	}
out:
	json_decref(req);
}
