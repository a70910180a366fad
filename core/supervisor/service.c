/* Services: one per app file and per `run -d` container. What happens to a service is an
 * explicit table of state x event; each cell is the step to take, NULL where the event means
 * nothing in that state. The loop turns child exits, timers, worker results and client
 * requests into events. */
#include "sup_int.h"
#include "base/err.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/signame.h"
#include "base/util.h"
#include "cli/cli.h"
#include "image/image.h"
#include "image/store.h"
#include "runtime/cgroup.h"
#include "supervisor/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const state_names[SVC_N_STATES] = {
	"created", "pulling", "starting", "running", "healthy", "unhealthy", "stopping", "exited",
	"backoff", "failed",
};

const char *svc_state_name(enum svc_state st)
{
	return st < SVC_N_STATES ? state_names[st] : "?";
}

int64_t sup_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool svc_live(const struct svc *v)
{
	return v->pid > 0;
}

/* The supervisor's own log: one line per event, with the wall-clock time, so a technician (and
 * a test) can follow restarts and their spacing. */
void svc_log(const struct svc *v, const char *fmt, ...)
{
	char msg[512], ts[40];
	struct timespec now;
	struct tm tm;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ berth: %s%s%s\n", ts, now.tv_nsec / 1000000, v ? v->name : "",
		v ? ": " : "", msg);
}

static void set_state(struct svc *v, enum svc_state st)
{
	if (v->state != st)
		log_debug("%s: %s -> %s", v->name, svc_state_name(v->state), svc_state_name(st));
	v->state = st;
}

static void set_error(struct svc *v, const char *msg)
{
	free(v->error);
	v->error = msg ? xstrdup(msg) : NULL;
}

struct svc *sup_find(struct sup *s, const char *ref)
{
	size_t len = strlen(ref);

	if (*ref == '/')
		ref++, len--;
	for (size_t i = 0; i < s->n_svc; i++)
		if (s->svc[i].used && strcmp(s->svc[i].name, ref) == 0)
			return &s->svc[i];
	for (size_t i = 0; i < s->n_svc; i++)
		if (s->svc[i].used && s->svc[i].id[0] && len >= 4 && strncmp(s->svc[i].id, ref, len) == 0)
			return &s->svc[i];
	return NULL;
}

struct svc *sup_add(struct sup *s, const char *name)
{
	struct svc *v = NULL;

	for (size_t i = 0; i < s->n_svc; i++)
		if (!s->svc[i].used) {
			v = &s->svc[i];
			break;
		}
	if (v == NULL) {
		if (s->n_svc == SUP_MAX_SVC)
			return NULL;
		v = &s->svc[s->n_svc++];
	}
	memset(v, 0, sizeof(*v));
	v->used = true;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->out_fd = v->err_fd = -1;
	v->stop_signal = SIGTERM;
	v->stop_timeout_ms = 10000;
	v->backoff_ms = SUP_BACKOFF_MIN_MS;
	for (int i = 0; i < SUP_WAITERS; i++)
		v->waiters[i].fd = -1;
	return v;
}

/* ---- waiters: clients whose reply waits for the service ---- */

int svc_add_waiter(struct svc *v, int fd, enum waiter_kind kind)
{
	for (int i = 0; i < SUP_WAITERS; i++)
		if (v->waiters[i].fd < 0) {
			v->waiters[i].fd = fd;
			v->waiters[i].kind = kind;
			return 0;
		}
	return -1;
}

void svc_reply_waiters(struct svc *v, enum waiter_kind kind, bool ok, const char *error)
{
	for (int i = 0; i < SUP_WAITERS; i++) {
		struct waiter *w = &v->waiters[i];
		json_t *r;
		if (w->fd < 0 || w->kind != kind)
			continue;
		r = ok ? json_pack("{s:b, s:s}", "ok", 1, "name", v->name)
		       : json_pack("{s:b, s:s, s:i}", "ok", 0, "error", error ? error : "failed", "status", 1);
		if (r) {
			char *t = json_dumps(r, JSON_COMPACT);
			if (t) {
				ssize_t n = write(w->fd, t, strlen(t));
				(void) n;
				n = write(w->fd, "\n", 1);
				free(t);
			}
			json_decref(r);
		}
		close(w->fd);
		w->fd = -1;
	}
}

/* ---- the container's output ---- */

static void close_pipes(struct sup *s, struct svc *v)
{
	if (v->out_fd >= 0) {
		sup_drain(s, v, v->out_fd);
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, v->out_fd, NULL);
		close(v->out_fd);
		v->out_fd = -1;
	}
	if (v->err_fd >= 0) {
		sup_drain(s, v, v->err_fd);
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, v->err_fd, NULL);
		close(v->err_fd);
		v->err_fd = -1;
	}
	logsink_close(v->log);
	v->log = NULL;
}

/* Read what is there (the fd is non-blocking) into the log, through one static buffer. */
void sup_drain(struct sup *s, struct svc *v, int fd)
{
	static char buf[16384];
	(void) s;
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (v->log)
			logsink_feed(v->log, fd == v->out_fd ? LOG_STDOUT : LOG_STDERR, buf, (size_t) n);
	}
}

static int add_fd(struct sup *s, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- the steps ---- */

/* Does the service's image exist in the store? */
static bool image_present(struct sup *s, const char *image)
{
	struct store_refs refs = { 0 };
	struct img_match m;
	struct berr *e = NULL;
	bool ok;

	if (store_refs_load(&refs, &e) < 0) {
		berr_free(e);
		return false;
	}
	ok = img_resolve(&refs, image, s->ctx->cfg.daemon.default_registry, &m, &e) == 0;
	berr_free(e);
	store_refs_free(&refs);
	return ok;
}

/* A worker: berth itself, re-executed, pulling the image. Its output goes to the
 * supervisor's own stderr (the console on a board). */
static int spawn_pull(struct sup *s, struct svc *v)
{
	char *argv[16];
	int n = 0;
	pid_t pid;

	argv[n++] = (char *) "berth";
	argv[n++] = (char *) "--root";
	argv[n++] = (char *) paths_root();
	argv[n++] = (char *) "--run-dir";
	argv[n++] = (char *) paths_run_dir();
	if (s->ctx->cfg.path) {
		argv[n++] = (char *) "--config";
		argv[n++] = s->ctx->cfg.path;
	}
	argv[n++] = (char *) "pull";
	argv[n++] = (char *) "-q";
	argv[n++] = v->app->image;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDWR);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (null >= 0)
			dup2(null, 0), dup2(null, 1);
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	v->worker = pid;
	return 0;
}

/* Make the app's record from its `berth run` arguments; they end with a label holding the
 * file's hash, so a changed file makes a new container. */
static int make_record(struct sup *s, struct svc *v, struct berr **err)
{
	const struct app *a = v->app;
	char **argv = xcalloc(a->n_run_args + 2, sizeof(char *));
	int ret;

	argv[0] = (char *) "run";
	for (size_t i = 0; i < a->n_run_args; i++)
		argv[i + 1] = a->run_args[i];
	ret = run_create_args(s->ctx, (int) a->n_run_args + 1, argv, v->id, err);
	free(argv);
	return ret;
}

static void begin_start(struct sup *s, struct svc *v);

static void to_backoff(struct sup *s, struct svc *v, const char *why)
{
	(void) s;
	set_state(v, SVC_BACKOFF);
	v->timer = sup_now() + v->backoff_ms;
	if (v->pull_retry)
		svc_log(v, "%s; retry in %lld ms", why, (long long) v->backoff_ms);
	else
		svc_log(v, "%s; restart %u in %lld ms", why, v->restart_count + 1, (long long) v->backoff_ms);
	v->backoff_ms = v->backoff_ms * 2 > SUP_BACKOFF_MAX_MS ? SUP_BACKOFF_MAX_MS : v->backoff_ms * 2;
}

/* After the container ended (or could not start) with `code`: restart or stay down, by the
 * restart policy and the goal. */
static void after_exit(struct sup *s, struct svc *v, int code, bool launched)
{
	char why[160];
	bool restart = false;

	if (launched && sup_now() - v->started_ms >= SUP_STABLE_MS)
		v->backoff_ms = SUP_BACKOFF_MIN_MS;
	if (v->want_up && !s->stopping) {
		switch (v->restart) {
		case REC_RESTART_NO: break;
		case REC_RESTART_ON_FAILURE:
			restart = code != 0 && (v->restart_max == 0 || (int) v->restart_count < v->restart_max);
			break;
		case REC_RESTART_ALWAYS:
		case REC_RESTART_UNLESS_STOPPED: restart = true; break;
		}
	}
	if (v->oom)
		snprintf(why, sizeof(why), "OOM-killed (memory limit reached), exit %d", code);
	else if (!launched)
		snprintf(why, sizeof(why), "failed to start (%d): %s", code, v->error ? v->error : "");
	else
		snprintf(why, sizeof(why), "exited with %d", code);
	if (restart) {
		to_backoff(s, v, why);
		return;
	}
	svc_log(v, "%s", why);
	set_state(v, SVC_EXITED);
	v->timer = 0;
	if (!s->stopping && v->want_up && v->restart == REC_RESTART_ON_FAILURE && code != 0)
		svc_log(v, "not restarted: on-failure:%d reached", v->restart_max);
	v->want_up = false;
	svc_reply_waiters(v, WAIT_STOP, true, NULL);
	for (int i = 0; i < SUP_WAITERS; i++)
		if (v->waiters[i].fd >= 0 && v->waiters[i].kind == WAIT_RESTART && !s->stopping) {
			/* `berth restart`: down, now up again */
			v->want_up = true;
			v->user_stopped = false;
			begin_start(s, v);
			return;
		}
	if (v->forget) {
		/* `rm -f`: the client removes the record; an app gets a new one when started */
		v->forget = false;
		v->id[0] = '\0';
		if (v->app == NULL)
			v->used = false;
	}
}

/* A start allocates a lot for a moment (the image's JSON, a seccomp filter compiled on a cold
 * cache); the supervisor then runs for months: hand the free heap back to the kernel, and
 * once starts have been quiet a while, the code they ran (supervisor.c pages it out). */
static void give_back_memory(struct sup *s)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	sup_page_out_later(s);
}

/* Start the container now (the record exists, the image is there). */
static void launch(struct sup *s, struct svc *v)
{
	struct berr *err = NULL;
	struct rec rec;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = EXIT_BERTH;

	set_state(v, SVC_STARTING);
	v->oom = false;
	if (v->id[0] == '\0' && v->app && make_record(s, v, &err) < 0)
		goto fail;
	if (rec_load(v->id, &rec, &err) < 0)
		goto fail;
	if (rec.cfg.stop_signal > 0)
		v->stop_signal = rec.cfg.stop_signal;
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		berr_make(&err, errno, "pipe");
		rec_free(&rec);
		goto fail;
	}
	{
		int stdio[3] = { -1, outp[1], errp[1] };
		int r = run_launch(s->ctx, &rec, stdio, v->restart_count, &v->live, &status, &err);
		rec_free(&rec);
		close(outp[1]);
		close(errp[1]);
		outp[1] = errp[1] = -1;
		if (r < 0)
			goto fail;
	}
	v->pid = v->live.pid;
	v->out_fd = outp[0];
	v->err_fd = errp[0];
	fcntl(v->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(v->err_fd, F_SETFL, O_NONBLOCK);
	add_fd(s, v->out_fd);
	add_fd(s, v->err_fd);
	{
		struct berr *e = NULL;
		v->log = logsink_open(s->logs_dir, v->id, v->name, s->log_cap,
				      v->app && v->app->console ? s->console_fd : -1, &e);
		if (v->log == NULL) {
			svc_log(v, "logs are lost: %s", e->msg);
			berr_free(e);
		}
	}
	v->started_ms = sup_now();
	v->timer = 0;
	set_error(v, NULL);
	set_state(v, SVC_RUNNING);
	svc_log(v, "started (pid %d%s)", (int) v->pid, v->restart_count ? ", after a restart" : "");
	health_setup(s, v);
	svc_reply_waiters(v, WAIT_RESTART, true, NULL);
	give_back_memory(s);
	return;
fail:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	set_error(v, err ? err->msg : "failed");
	berr_free(err);
	give_back_memory(s);
	v->exit_code = status;
	svc_reply_waiters(v, WAIT_RESTART, false, v->error);
	after_exit(s, v, status, false);
}

static void begin_start(struct sup *s, struct svc *v)
{
	v->want_up = true;
	if (v->app && (v->app->pull == APP_PULL_ALWAYS || !image_present(s, v->app->image)) &&
	    !(v->app->pull == APP_PULL_ALWAYS && v->id[0] && v->restart_count > 0)) {
		if (v->app->pull == APP_PULL_NEVER) {
			set_error(v, "its image is not on this device and `pull = never`");
			svc_log(v, "%s", v->error);
			set_state(v, SVC_FAILED);
			return;
		}
		if (spawn_pull(s, v) < 0) {
			v->pull_retry = true;
			to_backoff(s, v, "cannot fork a pull worker");
			return;
		}
		svc_log(v, "pulling %s", v->app->image);
		set_state(v, SVC_PULLING);
		return;
	}
	launch(s, v);
}

/* ---- the table ---- */

typedef void (*step_fn)(struct sup *s, struct svc *v);

static void st_start(struct sup *s, struct svc *v) { begin_start(s, v); }

static void st_stop(struct sup *s, struct svc *v)
{
	v->want_up = false;
	set_state(v, SVC_STOPPING);
	svc_log(v, "stopping (%s, then SIGKILL after %lld ms)", sig_name(v->stop_signal),
		(long long) v->stop_timeout_ms);
	if (svc_signal(v, v->stop_signal) < 0)
		svc_log(v, "cannot signal pid %d: %s", (int) v->pid, strerror(errno));
	v->timer = sup_now() + v->stop_timeout_ms;
}

static void st_stop_idle(struct sup *s, struct svc *v)
{
	(void) s;
	v->want_up = false;
	v->timer = 0;
	if (v->state != SVC_PULLING)
		set_state(v, SVC_EXITED);
	svc_reply_waiters(v, WAIT_STOP, true, NULL);
}

static void st_pulled(struct sup *s, struct svc *v)
{
	if (!v->want_up) {
		set_state(v, SVC_EXITED);
		svc_reply_waiters(v, WAIT_STOP, true, NULL);
		return;
	}
	launch(s, v);
}

static void st_pull_failed(struct sup *s, struct svc *v)
{
	if (!v->want_up) {
		set_state(v, SVC_EXITED);
		svc_reply_waiters(v, WAIT_STOP, true, NULL);
		return;
	}
	set_error(v, "the pull failed; retrying");
	v->pull_retry = true;
	to_backoff(s, v, "pull failed");
}

/* The process ended: finish it (state.json, cgroup, OOM), then the policy. */
static void st_exited(struct sup *s, struct svc *v)
{
	int code = v->exit_code;
	after_exit(s, v, code, true);
}

static void st_backoff_timer(struct sup *s, struct svc *v)
{
	v->timer = 0;
	if (!v->pull_retry)
		v->restart_count++; /* pulls retried are not restarts of the container */
	v->pull_retry = false;
	begin_start(s, v);
}

static void st_stopping_timer(struct sup *s, struct svc *v)
{
	(void) s;
	svc_log(v, "did not stop within %lld ms: SIGKILL", (long long) v->stop_timeout_ms);
	svc_signal(v, SIGKILL);
	v->timer = 0;
}

static void st_health_ok(struct sup *s, struct svc *v)
{
	(void) s;
	if (v->state != SVC_HEALTHY)
		svc_log(v, "healthy");
	set_state(v, SVC_HEALTHY);
}

static void st_health_fail(struct sup *s, struct svc *v)
{
	(void) s;
	if (v->hc.failures >= v->hc.retries && v->state != SVC_UNHEALTHY) {
		svc_log(v, "unhealthy (%d failed checks in a row)", v->hc.failures);
		set_state(v, SVC_UNHEALTHY);
	}
}

static const step_fn table[SVC_N_STATES][SVC_N_EVENTS] = {
	/*               START     STOP          PULLED      PULL_FAILED     EXITED     TIMER               HEALTH_OK     HEALTH_FAIL */
	[SVC_CREATED]  = { st_start, st_stop_idle, NULL,       NULL,           NULL,      NULL,               NULL,         NULL },
	[SVC_PULLING]  = { NULL,     st_stop_idle, st_pulled,  st_pull_failed, NULL,      NULL,               NULL,         NULL },
	[SVC_STARTING] = { NULL,     NULL,         NULL,       NULL,           st_exited, NULL,               NULL,         NULL },
	[SVC_RUNNING]  = { NULL,     st_stop,      NULL,       NULL,           st_exited, NULL,               st_health_ok, st_health_fail },
	[SVC_HEALTHY]  = { NULL,     st_stop,      NULL,       NULL,           st_exited, NULL,               st_health_ok, st_health_fail },
	[SVC_UNHEALTHY]= { NULL,     st_stop,      NULL,       NULL,           st_exited, NULL,               st_health_ok, st_health_fail },
	[SVC_STOPPING] = { NULL,     NULL,         NULL,       NULL,           st_exited, st_stopping_timer,  NULL,         NULL },
	[SVC_EXITED]   = { st_start, st_stop_idle, NULL,       NULL,           NULL,      NULL,               NULL,         NULL },
	[SVC_BACKOFF]  = { NULL,     st_stop_idle, NULL,       NULL,           NULL,      st_backoff_timer,   NULL,         NULL },
	[SVC_FAILED]   = { st_start, st_stop_idle, NULL,       NULL,           NULL,      NULL,               NULL,         NULL },
};

void sup_event(struct sup *s, struct svc *v, enum svc_event ev)
{
	step_fn f = table[v->state][ev];

	if (f)
		f(s, v);
	s->dirty = true;
}

int svc_signal(struct svc *v, int sig)
{
	if (v->pid <= 0)
		return 0;
	/* SIGKILL reaches every process of the container through its cgroup; other signals go
	 * to its first process, as Docker does. */
	if (sig == SIGKILL && v->live.cg_made) {
		struct berr *e = NULL;
		if (cg_kill_all(&v->live.cgh, SIGKILL, &e) == 0)
			return 0;
		berr_free(e);
	}
	return kill(v->pid, sig);
}

/* ---- child exits ---- */

void sup_child_exited(struct sup *s, pid_t pid, int ws)
{
	if (health_reap(s, pid, ws))
		return;
	for (size_t i = 0; i < s->n_svc; i++) {
		struct svc *v = &s->svc[i];
		if (!v->used)
			continue;
		if (v->worker == pid) {
			v->worker = 0;
			if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
				svc_log(v, "pulled %s", v->app->image);
				sup_event(s, v, EV_PULLED);
			} else {
				sup_event(s, v, EV_PULL_FAILED);
			}
			return;
		}
		if (v->pid == pid) {
			close_pipes(s, v);
			v->exit_code = run_finish(&v->live, ws);
			v->oom = v->live.st.oom_killed;	/* the cgroup's OOM count, not a SIGKILL from anyone */
			v->pid = 0;
			v->hc.next = 0;
			/* Once no container has ended for a while (health checks and pulls do not
			 * count: they come every few seconds), the layers no container stands on any
			 * more are unmounted. */
			s->release_at = sup_now() + (int64_t) s->ctx->cfg.daemon.layer_mount_idle;
			sup_event(s, v, EV_EXITED);
			return;
		}
	}
	/* an orphan that was re-parented to PID 1, or a finished helper: reaped, nothing more */
}

/* ---- reconcile: goals against states, dependencies, shutdown order ---- */

static struct svc *by_app_name(struct sup *s, const char *name)
{
	for (size_t i = 0; i < s->n_svc; i++)
		if (s->svc[i].used && s->svc[i].app && strcmp(s->svc[i].name, name) == 0)
			return &s->svc[i];
	return NULL;
}

static bool deps_met(struct sup *s, const struct svc *v)
{
	if (v->app == NULL)
		return true;
	for (size_t i = 0; i < v->app->n_deps; i++) {
		const struct svc *d = by_app_name(s, v->app->deps[i].name);
		if (d == NULL)
			return false;
		switch (v->app->deps[i].cond) {
		case APP_DEP_STARTED:
			if (d->state != SVC_RUNNING && d->state != SVC_HEALTHY && d->state != SVC_UNHEALTHY)
				return false;
			break;
		case APP_DEP_HEALTHY:
			if (d->state != SVC_HEALTHY)
				return false;
			break;
		case APP_DEP_COMPLETED:
			if (d->state != SVC_EXITED || d->exit_code != 0 || d->started_ms == 0)
				return false;
			break;
		}
	}
	return true;
}

/* Does a live service depend on v? (It must stop first.) */
static bool has_live_dependent(struct sup *s, const struct svc *v)
{
	for (size_t i = 0; i < s->n_svc; i++) {
		const struct svc *d = &s->svc[i];
		if (!d->used || d->app == NULL || !(svc_live(d) || d->state == SVC_PULLING))
			continue;
		for (size_t j = 0; j < d->app->n_deps; j++)
			if (strcmp(d->app->deps[j].name, v->name) == 0)
				return true;
	}
	return false;
}

void sup_reconcile(struct sup *s)
{
	for (int round = 0; round < 4 && s->dirty; round++) {
		s->dirty = false;
		for (size_t i = 0; i < s->n_svc; i++) {
			struct svc *v = &s->svc[i];
			if (!v->used)
				continue;
			if (s->stopping || !v->want_up) {
				if ((v->state == SVC_RUNNING || v->state == SVC_HEALTHY || v->state == SVC_UNHEALTHY) &&
				    !has_live_dependent(s, v))
					sup_event(s, v, EV_STOP);
				else if (v->state == SVC_BACKOFF || (v->state == SVC_CREATED && s->stopping))
					sup_event(s, v, EV_STOP);
				continue;
			}
			if ((v->state == SVC_CREATED || v->state == SVC_EXITED) && v->want_up && deps_met(s, v))
				sup_event(s, v, EV_START);
		}
	}
}
