/* The supervisor's loop: epoll over a signalfd (child exits, stop signals), a timerfd (the
 * nearest deadline of any service, the watchdog), the control socket and the containers'
 * output pipes. Single-threaded, nothing allocated per tick, no work in signal handlers. */
#include "supervisor.h"
#include "sup_int.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "cli/cli.h"
#include "image/mount.h"
#include "runtime/record.h"
#include "runtime/volume.h"
#include "supervisor/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* PID-1 hooks (init/): present in the full binary; weak so the supervisor links alone. */
int init_watchdog_interval_ms(void) __attribute__((weak));
void init_watchdog_kick(void) __attribute__((weak));
pid_t init_console_spawn(const struct berth_config *cfg) __attribute__((weak));

static int listen_socket(struct berr **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	mode_t old;
	int fd;

	if (paths_socket(path, sizeof(path)) < 0 || strlen(path) >= sizeof(sa.sun_path))
		return berr_make(err, ENAMETOOLONG, "control socket path under `%s`", paths_run_dir());
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return berr_make(err, errno, "socket");
	unlink(path); /* a stale one: the run-dir lock says no other supervisor has it */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		umask(old);
		close(fd);
		return berr_make(err, errno, "bind the control socket %s", path);
	}
	umask(old);
	chmod(path, 0600);
	if (listen(fd, 16) < 0) {
		close(fd);
		return berr_make(err, errno, "listen on %s", path);
	}
	return fd;
}

/* One supervisor per run dir: a lock held for the process's life. */
static int take_lock(struct berr **err)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/berth.lock", paths_run_dir()) >= (int) sizeof(path))
		return berr_make(err, ENAMETOOLONG, "lock path");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		berr_make(err, 0, "another berth supervisor runs with run dir %s", paths_run_dir());
		(*err)->status = EXIT_FAILED;
		return -1;
	}
	{
		char pid[24];
		int n = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
		if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t) n) < 0)
			log_debug("pid in lock file: %s", strerror(errno));
	}
	return fd;
}

static void oom_protect(void)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "-1000", 5) < 0)
			log_debug("oom_score_adj: %s", strerror(errno));
		close(fd);
	}
}

/* Startup repair: what a power cut or a crash left. Records that say running are not ours
 * (the process that ran them is gone): their containers are stopped, and their state is
 * corrected, so the services below start them afresh. */
static void repair(void)
{
	struct rec_list l = { 0 };
	struct berr *e = NULL;

	if (rec_repair(&e) < 0 || vol_repair(&e) < 0) {
		log_warn("repair: %s", e->msg);
		berr_free(e);
		e = NULL;
	}
	if (rec_list_load(&l, &e) < 0) {
		log_warn("%s", e->msg);
		berr_free(e);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct rec *r = &l.v[i];
		if (r->stale && rec_refresh(r, &e) < 0) {
			log_warn("%s", e->msg);
			berr_free(e);
			e = NULL;
		}
		if (r->st.status == REC_RUNNING && rec_pid_alive(&r->st)) {
			/* A container of a supervisor that died: no one can wait for it. */
			struct cg_system sys;
			struct cg_handle h = { 0 };
			svc_log(NULL, "container %s was left running by a supervisor that is gone: stopping it",
				r->cfg.name);
			if (cg_detect(&sys, NULL, &e) == 0 && cg_open(&sys, r->cfg.id, &h, &e) == 0) {
				cg_kill_all(&h, SIGKILL, &e);
				cg_destroy(&h, &e);
			} else {
				kill(r->st.pid, SIGKILL);
			}
			berr_free(e);
			e = NULL;
			r->st.status = REC_EXITED;
			r->st.exit_code = REC_EXIT_UNKNOWN;
			r->st.pid = 0;
			r->st.finished = rec_now();
			if (rec_save_state(r->cfg.id, &r->st, &e) < 0) {
				log_warn("%s", e->msg);
				berr_free(e);
				e = NULL;
			}
		}
	}
	rec_list_free(&l);
	run_release_layers(NULL);
}

static const char *label(const struct rec_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_labels; i++)
		if (strcmp(c->labels[i].key, key) == 0)
			return c->labels[i].value;
	return NULL;
}

/* Services: one per app file (reusing its record when the file did not change), and one per
 * record that asks to come back (restart always or unless-stopped: `run -d` containers). */
static void load_services(struct sup *s)
{
	struct app_errors errs = { 0 };
	struct rec_list l = { 0 };
	struct berr *e = NULL;

	if (app_load_dir(s->ctx->cfg.daemon.apps_dir, &s->apps, &errs, &e) < 0) {
		svc_log(NULL, "apps: %s", e->msg);
		berr_free(e);
		e = NULL;
	}
	if (rec_list_load(&l, &e) < 0) {
		svc_log(NULL, "%s", e->msg);
		berr_free(e);
		e = NULL;
	}
	for (size_t i = 0; i < s->apps.n; i++) {
		const struct app *a = &s->apps.v[i];
		struct svc *v = sup_add(s, a->name);
		if (v == NULL)
			break;
		v->app = a;
		v->want_up = true;
		v->restart = a->restart;
		v->restart_max = a->restart_max;
		v->stop_timeout_ms = a->stop_timeout_ms > 0 ? a->stop_timeout_ms : 10000;
		v->stop_signal = a->stop_signal > 0 ? a->stop_signal : SIGTERM;
		for (size_t j = 0; j < l.n; j++) {
			const struct rec_config *c = &l.v[j].cfg;
			const char *h;
			if (l.v[j].broken || strcmp(c->name, a->name) != 0)
				continue;
			h = label(c, APP_HASH_LABEL);
			if (h && a->hash && strcmp(h, a->hash) == 0) {
				memcpy(v->id, c->id, sizeof(v->id));
				v->stop_signal = c->stop_signal ? c->stop_signal : SIGTERM;
			} else {
				/* The file changed, or a container took the app's name: it goes. */
				struct rec_removed out;
				svc_log(v, "%s changed: its container %.12s is replaced", a->file, c->id);
				if (rec_remove(c->id, REC_RM_FORCE, &out, &e) < 0) {
					svc_log(v, "%s", e->msg);
					berr_free(e);
					e = NULL;
				}
			}
		}
	}
	for (size_t i = 0; i < errs.n; i++) {
		struct svc *v = sup_add(s, errs.v[i].name ? errs.v[i].name : "?");
		if (v == NULL)
			break;
		v->app_error = xstrdup(errs.v[i].msg);
		v->error = xstrdup(errs.v[i].msg);
		v->state = SVC_FAILED;
		svc_log(v, "%s", errs.v[i].msg);
	}
	app_errors_free(&errs);
	for (size_t j = 0; j < l.n; j++) {
		const struct rec *r = &l.v[j];
		struct svc *v;
		if (r->broken || label(&r->cfg, APP_HASH_LABEL) || sup_find(s, r->cfg.name))
			continue;
		if (r->cfg.restart != REC_RESTART_ALWAYS && r->cfg.restart != REC_RESTART_UNLESS_STOPPED)
			continue;
		if (r->cfg.restart == REC_RESTART_UNLESS_STOPPED && r->st.error &&
		    strcmp(r->st.error, "stopped") == 0)
			continue;
		v = sup_add(s, r->cfg.name);
		if (v == NULL)
			break;
		memcpy(v->id, r->cfg.id, sizeof(v->id));
		v->restart = r->cfg.restart;
		v->restart_max = r->cfg.restart_max;
		v->restart_count = r->st.restart_count;
		v->stop_signal = r->cfg.stop_signal ? r->cfg.stop_signal : SIGTERM;
		v->stop_timeout_ms = r->cfg.stop_timeout >= 0 ? (int64_t) r->cfg.stop_timeout * 1000 : 10000;
		v->want_up = true;
	}
	rec_list_free(&l);
	s->dirty = true;
}

/* Hand the pages of berth's own code and read-only data back to the kernel. Starting a
 * container runs a lot of code once (argument parsing, the image's JSON, mounts, seccomp,
 * records); the loop then runs a few functions for months, but every page a start touched
 * (and the 64 KiB the kernel maps around each fault) stays in the supervisor's RSS.
 * MADV_PAGEOUT reclaims the file-backed, read-only mappings' pages that no other process maps
 * (others' stay); what the loop needs comes back from flash on the next fault. Android
 * compacts cached apps the same way. No allocation: /proc/self/maps is read through a buffer
 * on the stack. */
static const char *hex_field(const char *p, unsigned long *v)
{
	*v = 0;
	for (;; p++) {
		unsigned d = (unsigned) (*p >= '0' && *p <= '9' ? *p - '0' :
					 *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : 16);
		if (d == 16)
			return p;
		*v = *v << 4 | d;
	}
}

/* A line of /proc/self/maps, "lo-hi perms offset dev inode path": a read-only private
 * mapping of a file? Then its range. */
static bool ro_file_mapping(const char *line, unsigned long *lo, unsigned long *hi)
{
	const char *p = hex_field(line, lo);
	int field = 0;

	if (*p != '-')
		return false;
	p = hex_field(p + 1, hi);
	if (*p != ' ' || p[2] != '-' || p[4] != 'p')
		return false; /* perms: not writable, private */
	for (; *p && field < 4; p++)
		if (*p == ' ') {
			while (p[1] == ' ')
				p++;
			field++;
		}
	/* p is at the inode: 0 for anonymous mappings, [stack], [vdso] */
	if (*p < '1' || *p > '9')
		return false;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	/* A file in RAM (an initramfs root, tmpfs) has no copy on flash: its pages are the
	 * file, so handing them back would free nothing and only lower the RSS figure. */
	return *p == '/' && fs_backed_by_storage(p);
}

/* Hand the pages of berth's own code and read-only data back to the kernel. Starting a
 * container runs a lot of code once (argument parsing, the image's JSON, mounts, seccomp,
 * records); the loop then runs a few functions for months, but every page a start touched
 * (and the 64 KiB the kernel maps around each fault) stays in the supervisor's RSS.
 * MADV_PAGEOUT reclaims the pages of the file-backed, read-only mappings that no other
 * process maps (others' stay); what the loop needs comes back from flash on the next fault.
 * Android compacts cached apps the same way. The ranges are found once, at start-up (no
 * library is loaded later), so a page-out is a few madvise calls and parses nothing that
 * would fault back what was just handed back. */
static void find_code(struct sup *s)
{
	char buf[4096];
	size_t have = 0;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	s->n_code = 0;
	if (fd < 0)
		return;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line, *nl;

		if (n <= 0)
			break;
		have += (size_t) n;
		buf[have] = '\0';
		line = buf;
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			if (s->n_code < SUP_CODE_RANGES &&
			    ro_file_mapping(line, &s->code[s->n_code].lo, &s->code[s->n_code].hi))
				s->n_code++;
			line = nl + 1;
		}
		have = (size_t) (buf + have - line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line longer than the buffer: skip it */
	}
	close(fd);
}

static void page_out_code(struct sup *s)
{
	for (size_t i = 0; i < s->n_code; i++)
		if (madvise((void *) s->code[i].lo, s->code[i].hi - s->code[i].lo, MADV_PAGEOUT) < 0 &&
		    errno == EINVAL) {
			log_debug("MADV_PAGEOUT: %s (kernel before 5.4)", strerror(errno));
			s->n_code = 0; /* never again */
			return;
		}
}

void sup_page_out_later(struct sup *s)
{
	if (s->n_code > 0)
		s->pageout_at = sup_now() + SUP_QUIET_MS;
}

/* The timerfd fires at the nearest deadline. */
static void arm_timer(struct sup *s)
{
	int64_t next = 0, now = sup_now();
	struct itimerspec its = { 0 };

#define EARLIER(t) do { if ((t) > 0 && (next == 0 || (t) < next)) next = (t); } while (0)
	for (size_t i = 0; i < s->n_svc; i++) {
		const struct svc *v = &s->svc[i];
		if (!v->used)
			continue;
		EARLIER(v->timer);
		EARLIER(v->hc.next);
		EARLIER(v->hc.deadline);
	}
	EARLIER(s->console_respawn);
	EARLIER(s->pageout_at);
	EARLIER(s->release_at);
	/* A fixed schedule: re-arming at now + interval on every pass would push the kick back
	 * for as long as events keep coming, and the hardware would reset a busy board. */
	if (s->pid1 && init_watchdog_interval_ms && init_watchdog_interval_ms() > 0) {
		if (s->wd_next == 0)
			s->wd_next = now + init_watchdog_interval_ms();
		EARLIER(s->wd_next);
	}
#undef EARLIER
	if (next) {
		int64_t d = next - now;
		if (d < 1)
			d = 1;
		its.it_value.tv_sec = d / 1000;
		its.it_value.tv_nsec = (d % 1000) * 1000000;
	}
	timerfd_settime(s->tfd, 0, &its, NULL);
}

static void release_layers(struct sup *s)
{
	struct berr *e = NULL;
	int n;

	s->release_at = 0;
	n = layer_release_unused(&e);
	if (n < 0) {
		log_warn("release layer mounts: %s", e->msg);
		berr_free(e);
	} else if (n > 0) {
		svc_log(NULL, "released %d layer mount%s no container uses", n, n == 1 ? "" : "s");
	}
	sup_page_out_later(s);
}

static void on_timer(struct sup *s)
{
	uint64_t ticks;
	int64_t now = sup_now();

	if (read(s->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_debug("timerfd: %s", strerror(errno));
	if (s->pid1 && init_watchdog_kick && s->wd_next && now >= s->wd_next) {
		init_watchdog_kick();
		s->wd_next = now + init_watchdog_interval_ms();
	}
	if (s->release_at && now >= s->release_at)
		release_layers(s);
	if (s->pageout_at && now >= s->pageout_at) {
		s->pageout_at = 0;
		page_out_code(s);
	}
	if (s->console_respawn && now >= s->console_respawn) {
		s->console_respawn = 0;
		if (init_console_spawn)
			s->console_pid = init_console_spawn(&s->ctx->cfg);
	}
	for (size_t i = 0; i < s->n_svc; i++) {
		struct svc *v = &s->svc[i];
		if (!v->used)
			continue;
		if (v->timer && now >= v->timer) {
			v->timer = 0;
			sup_event(s, v, EV_TIMER);
		}
		health_tick(s, v, now);
	}
}

static void on_signals(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int) si.ssi_signo;
		if (sig == SIGCHLD)
			continue; /* reaped below, every time */
		if (sig == SIGHUP) {
			svc_log(NULL, "SIGHUP: app files are read at start; restart berth to apply changes");
			continue;
		}
		if (!s->stopping) {
			svc_log(NULL, "%s: stopping every container", strsignal(sig));
			s->stopping = true;
			s->shutdown_signal = sig;
			s->dirty = true;
		}
	}
}

static void reap(struct sup *s)
{
	for (;;) {
		int ws;
		pid_t pid = waitpid(-1, &ws, WNOHANG);
		if (pid <= 0)
			break;
		if (pid == s->console_pid) {
			s->console_pid = 0;
			s->console_respawn = sup_now() + 1000;
			continue;
		}
		sup_child_exited(s, pid, ws);
	}
}

static bool all_down(const struct sup *s)
{
	for (size_t i = 0; i < s->n_svc; i++) {
		const struct svc *v = &s->svc[i];
		if (v->used && (v->pid > 0 || v->worker > 0 || v->hc.pid > 0))
			return false;
	}
	return true;
}

static struct svc *svc_by_fd(struct sup *s, int fd)
{
	for (size_t i = 0; i < s->n_svc; i++)
		if (s->svc[i].used && (s->svc[i].out_fd == fd || s->svc[i].err_fd == fd))
			return &s->svc[i];
	return NULL;
}

static void on_accept(struct sup *s)
{
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			break;
		sup_ctl_handle(s, fd);
		/* a client's request ran code the loop does not need: hand it back later */
		sup_page_out_later(s);
	}
}

static int setup(struct sup *s, struct berr **err)
{
	sigset_t set;
	struct epoll_event ev = { .events = EPOLLIN };

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->sfd < 0 || s->tfd < 0 || s->epfd < 0)
		return berr_make(err, errno, "signalfd, timerfd or epoll");
	s->lfd = listen_socket(err);
	if (s->lfd < 0)
		return -1;
	ev.data.fd = s->sfd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sfd, &ev);
	ev.data.fd = s->tfd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->tfd, &ev);
	ev.data.fd = s->lfd;
	epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev);
	return 0;
}

static struct sup the_sup; /* big (the service table): static, not on the stack */

int sup_run(struct cli_ctx *ctx, struct sup_opts *o)
{
	struct sup *s = &the_sup;
	struct berr *err = NULL;
	int lockfd, ret = EXIT_OK;
	char sock[PATH_MAX];

	/* `the_sup` starts zeroed: clearing it here would touch every page of the service
	 * table, which is RAM a board does not have to spare. */
	s->ctx = ctx;
	s->pid1 = o->pid1;
	s->started_ms = sup_now();
	s->console_fd = -1;
	s->sfd = s->tfd = s->lfd = s->epfd = -1;
	if (fs_mkdir_p(paths_run_dir(), 0700, &err) < 0)
		return berr_report(err);
	lockfd = take_lock(&err);
	if (lockfd < 0)
		return berr_report(err);
	oom_protect();
	if (setup(s, &err) < 0) {
		ret = berr_report(err);
		goto out;
	}
	if (logs_dir(&ctx->cfg, s->logs_dir, sizeof(s->logs_dir)) < 0)
		snprintf(s->logs_dir, sizeof(s->logs_dir), "%s/logs", paths_run_dir());
	s->log_cap = ctx->cfg.logs.max_size;
	s->console_fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (s->pid1 && init_console_spawn)
		s->console_pid = init_console_spawn(&ctx->cfg);
	repair();
	load_services(s);
	find_code(s);
	sup_page_out_later(s); /* start-up's code (config, repair, app files) */
	svc_log(NULL, "supervisor ready (%zu services, socket %s/berth.sock)", s->n_svc, paths_run_dir());

	for (;;) {
		struct epoll_event evs[32];
		int n;

		sup_reconcile(s);
		if (s->stopping && all_down(s))
			break;
		arm_timer(s);
		n = epoll_wait(s->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			if (!s->pid1)
				break;
			sleep(1);
			continue;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == s->sfd) {
				on_signals(s);
				reap(s);
			} else if (fd == s->tfd) {
				on_timer(s);
			} else if (fd == s->lfd) {
				on_accept(s);
			} else {
				struct svc *v = svc_by_fd(s, fd);
				if (v == NULL) {
					epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
					continue;
				}
				if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
					sup_drain(s, v, fd);
					/* the writer closed: stop watching; the exit comes by SIGCHLD */
					epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL);
				} else {
					sup_drain(s, v, fd);
				}
			}
		}
		/* A SIGCHLD may have been merged with others: reap anyway. */
		reap(s);
	}
	svc_log(NULL, "every container stopped");
	o->shutdown_signal = s->shutdown_signal;
out:
	if (paths_socket(sock, sizeof(sock)) == 0 && s->lfd >= 0)
		unlink(sock);
	for (int *fd = &s->sfd; fd <= &s->epfd; fd++)
		if (*fd >= 0)
			close(*fd);
	if (s->console_fd >= 0)
		close(s->console_fd);
	app_set_free(&s->apps);
	for (size_t i = 0; i < s->n_svc; i++) {
		free(s->svc[i].error);
		free(s->svc[i].app_error);
	}
	close(lockfd);
	return ret;
}
