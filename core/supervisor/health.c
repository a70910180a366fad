/* Health checks, as Docker runs them: the app file's health-cmd, else the image's HEALTHCHECK;
 * the first check one interval after the start, each with a timeout, `retries` failures in a
 * row make the container unhealthy, failures within the start period do not count. A check is
 * a process joined to the container (its namespaces, cgroup, user, capabilities and seccomp),
 * a child of the supervisor that the loop reaps like any other. */
#include "sup_int.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "image/digest.h"
#include "image/image.h"
#include "runtime/exec.h"
#include "runtime/seccomp.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HC_DEFAULT_MS 30000

static char **strv_dup(char *const *v, size_t n)
{
	char **out = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void health_clear(struct svc *v)
{
	strv_free(v->hc.argv);
	strv_free(v->hc.env);
	free(v->hc.user);
	if (v->hc.filter) {
		secc_filter_free(v->hc.filter);
		free(v->hc.filter);
	}
	memset(&v->hc, 0, sizeof(v->hc));
}

/* Docker's test forms: ["CMD", argv...], ["CMD-SHELL", "cmd"] (sh -c), ["NONE"]. */
static char **test_argv(char *const *test, size_t n)
{
	if (n >= 2 && strcmp(test[0], "CMD") == 0)
		return strv_dup(test + 1, n - 1);
	if (n == 2 && strcmp(test[0], "CMD-SHELL") == 0) {
		char *sh[] = { (char *) "/bin/sh", (char *) "-c", test[1] };
		return strv_dup(sh, 3);
	}
	return NULL;
}

static int64_t ms_or(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

void health_setup(struct sup *s, struct svc *v)
{
	const struct app_health *ah = v->app ? &v->app->health : NULL;
	struct berr *e = NULL;
	struct rec rec;
	struct img img;
	struct digest top;
	bool have_img = false;

	(void) s;
	health_clear(v);
	if (ah && ah->disabled)
		return;
	if (rec_load(v->id, &rec, &e) < 0) {
		berr_free(e);
		return;
	}
	if (rec.cfg.image_digest && digest_parse(rec.cfg.image_digest, "image", &top, &e) == 0 &&
	    img_open(&top, &img, &e) == 0)
		have_img = true;
	berr_free(e);
	e = NULL;
	if (ah && ah->set) {
		v->hc.argv = test_argv(ah->test, ah->n_test);
	} else if (have_img && img.cfg.healthcheck && img.cfg.healthcheck->test) {
		const struct manifest_healthcheck *h = img.cfg.healthcheck;
		v->hc.argv = test_argv(h->test, h->n_test);
		v->hc.interval_ms = h->interval_ns / 1000000;
		v->hc.timeout_ms = h->timeout_ns / 1000000;
		v->hc.start_period_ms = h->start_period_ns / 1000000;
		v->hc.retries = h->retries;
	}
	if (have_img)
		img_close(&img);
	if (v->hc.argv == NULL) {
		rec_free(&rec);
		return;
	}
	if (ah && ah->set) {
		v->hc.interval_ms = ah->interval_ms;
		v->hc.timeout_ms = ah->timeout_ms;
		v->hc.start_period_ms = ah->start_period_ms;
		v->hc.retries = ah->retries;
	}
	v->hc.interval_ms = ms_or(v->hc.interval_ms, HC_DEFAULT_MS);
	v->hc.timeout_ms = ms_or(v->hc.timeout_ms, HC_DEFAULT_MS);
	v->hc.start_period_ms = v->hc.start_period_ms > 0 ? v->hc.start_period_ms : 0;
	v->hc.retries = v->hc.retries > 0 ? v->hc.retries : 3;
	v->hc.env = strv_dup(rec.cfg.env.v, rec.cfg.env.n);
	v->hc.user = xstrdup(rec.cfg.user ? rec.cfg.user : "");
	rec_free(&rec);
	if (rt_proc_caps(v->pid, &v->hc.caps, &e) < 0) {
		svc_log(v, "health checks are off: %s", e->msg);
		berr_free(e);
		health_clear(v);
		return;
	}
	v->hc.filter = xcalloc(1, sizeof(*v->hc.filter));
	if (secc_filter_cached(SECC_MODE_DEFAULT, NULL, v->hc.caps, v->hc.filter, &e) < 0) {
		berr_free(e);
		free(v->hc.filter);
		v->hc.filter = NULL;
	}
	v->hc.on = true;
	v->hc.next = v->started_ms + v->hc.interval_ms;
}

static void finish_check(struct sup *s, struct svc *v, bool ok)
{
	int64_t now = sup_now();

	v->hc.pid = 0;
	v->hc.deadline = 0;
	v->hc.next = now + v->hc.interval_ms;
	if (!svc_live(v))
		return;
	if (ok) {
		v->hc.failures = 0;
		sup_event(s, v, EV_HEALTH_OK);
		return;
	}
	if (now - v->started_ms < v->hc.start_period_ms)
		return; /* the start period: failures do not count */
	v->hc.failures++;
	sup_event(s, v, EV_HEALTH_FAIL);
}

void health_tick(struct sup *s, struct svc *v, int64_t now)
{
	struct rt_exec_opts o = { 0 };
	struct berr *e = NULL;
	pid_t child;
	int null;

	if (!v->hc.on || !svc_live(v))
		return;
	if (v->hc.pid > 0) {
		if (v->hc.deadline && now >= v->hc.deadline) {
			v->hc.timed_out = true;
			kill(v->hc.pid, SIGKILL);
			v->hc.deadline = 0;
		}
		return;
	}
	if (v->hc.next == 0 || now < v->hc.next)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	o.argv = v->hc.argv;
	o.env = v->hc.env;
	o.user = v->hc.user;
	o.caps = v->hc.caps;
	o.filter = v->hc.filter;
	o.no_new_privs = true;
	o.stdio[0] = o.stdio[1] = o.stdio[2] = null;
	o.err_fd = null;
	o.cg = v->live.cg_made ? &v->live.sys : NULL;
	if (rt_exec_in(v->pid, v->live.cg_made ? v->id : NULL, &o, &child, &e) < 0) {
		log_debug("%s: health check: %s", v->name, e->msg);
		berr_free(e);
		if (null >= 0)
			close(null);
		finish_check(s, v, false);
		return;
	}
	if (null >= 0)
		close(null);
	v->hc.pid = child;
	v->hc.timed_out = false;
	v->hc.deadline = now + v->hc.timeout_ms;
	v->hc.next = 0;
}

bool health_reap(struct sup *s, pid_t pid, int ws)
{
	for (size_t i = 0; i < s->n_svc; i++) {
		struct svc *v = &s->svc[i];
		if (v->used && v->hc.pid == pid) {
			bool ok = !v->hc.timed_out && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
			if (!ok && v->hc.timed_out)
				log_debug("%s: health check timed out", v->name);
			finish_check(s, v, ok);
			return true;
		}
	}
	return false;
}
