/* The supervisor's insides, shared by its files: the loop (supervisor.c), the service state
 * machine (service.c), health checks (health.c) and the control requests (sup_ctl.c). */
#ifndef BERTH_SUP_INT_H
#define BERTH_SUP_INT_H

#include "cli/run.h"
#include "runtime/record.h"
#include "supervisor/app.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cli_ctx;
struct logsink;
struct secc_filter;

#define SUP_MAX_SVC 256          /* services: apps and `run -d` containers */
#define SUP_WAITERS 4            /* clients waiting on one service (stop, restart, rm) */
#define SUP_BACKOFF_MIN_MS 100
#define SUP_BACKOFF_MAX_MS 60000
#define SUP_STABLE_MS 10000      /* a run this long resets the backoff */
#define SUP_QUIET_MS 3000        /* after the last start, then the launch code is paged out */
#define SUP_CODE_RANGES 32       /* read-only file mappings the page-out covers */

enum svc_state {
	SVC_CREATED, SVC_PULLING, SVC_STARTING, SVC_RUNNING, SVC_HEALTHY, SVC_UNHEALTHY,
	SVC_STOPPING, SVC_EXITED, SVC_BACKOFF, SVC_FAILED, SVC_N_STATES
};

enum svc_event {
	EV_START,          /* goal up, dependencies met */
	EV_STOP,           /* goal down */
	EV_PULLED,         /* the pull worker succeeded */
	EV_PULL_FAILED,
	EV_EXITED,         /* the container's first process ended */
	EV_TIMER,          /* the service's deadline passed */
	EV_HEALTH_OK,
	EV_HEALTH_FAIL,    /* one failed check */
	SVC_N_EVENTS
};

enum waiter_kind { WAIT_STOP, WAIT_RESTART, WAIT_RM };

struct waiter {
	int fd;            /* -1: free */
	enum waiter_kind kind;
};

struct health {
	bool on;
	char **argv;       /* what runs in the container (owned) */
	char **env;        /* the container's environment (owned) */
	char *user;
	uint64_t caps;
	struct secc_filter *filter; /* Docker's default profile (owned) */
	int64_t interval_ms, timeout_ms, start_period_ms;
	int retries;
	int64_t next;      /* monotonic ms of the next check; 0: none planned */
	pid_t pid;         /* a check running; 0: none */
	int64_t deadline;  /* its timeout */
	int failures;      /* in a row */
	bool timed_out;
};

struct svc {
	bool used;
	char name[REC_NAME_MAX + 1];
	char id[REC_ID_LEN + 1];          /* record; "" until made */
	const struct app *app;            /* NULL: a `run -d` container */
	char *app_error;                  /* the app file's error: the service is failed */
	enum svc_state state;
	bool want_up;                     /* the goal */
	bool user_stopped;                /* `berth stop`: unless-stopped stays down */
	bool forget;                      /* `rm -f`: the service goes once the container is down */
	enum rec_restart restart;
	int restart_max;
	unsigned restart_count;
	int stop_signal;
	int64_t stop_timeout_ms;
	struct run_live live;             /* while pid > 0 */
	pid_t pid;
	int out_fd, err_fd;               /* read ends of the container's stdout/stderr pipes */
	struct logsink *log;
	int64_t timer;                    /* monotonic ms; 0: none */
	int64_t started_ms;
	int64_t backoff_ms;
	int exit_code;
	bool oom;
	char *error;                      /* the last failure, for ps/status */
	pid_t worker;                     /* a pull worker */
	bool pull_retry;                  /* the backoff is for a pull, not a restart */
	struct health hc;
	struct waiter waiters[SUP_WAITERS];
};

struct sup {
	struct cli_ctx *ctx;
	bool pid1;
	int64_t started_ms;
	int sfd, tfd, lfd, epfd;          /* signalfd, timerfd, listening socket, epoll */
	bool stopping;                    /* shutdown: every goal is down */
	int shutdown_signal;
	struct app_set apps;
	struct svc svc[SUP_MAX_SVC];
	size_t n_svc;
	char logs_dir[4096];
	uint64_t log_cap;
	int console_fd;
	pid_t console_pid;                /* PID 1's console shell */
	int64_t console_respawn;
	int64_t wd_next;        /* PID 1: when the watchdog is kicked next (0: not yet) */
	int64_t pageout_at;     /* when the code the starts used is handed back (0: not due) */
	int64_t release_at;     /* when layer mounts no container uses are released (0: not due) */
	struct { unsigned long lo, hi; } code[SUP_CODE_RANGES]; /* berth's read-only file
	                         * mappings on storage, found at start-up; none: no page-out */
	size_t n_code;
	bool dirty;                       /* something changed: reconcile */
};

/* supervisor.c: hand berth's code pages back SUP_QUIET_MS from now (after a burst of work) */
void sup_page_out_later(struct sup *s);

/* service.c */
int64_t sup_now(void);
void sup_event(struct sup *s, struct svc *v, enum svc_event ev);
void sup_reconcile(struct sup *s);
struct svc *sup_find(struct sup *s, const char *name_or_id);
struct svc *sup_add(struct sup *s, const char *name);
const char *svc_state_name(enum svc_state st);
bool svc_live(const struct svc *v);
void svc_log(const struct svc *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sup_child_exited(struct sup *s, pid_t pid, int ws);
void sup_drain(struct sup *s, struct svc *v, int fd);
void svc_reply_waiters(struct svc *v, enum waiter_kind kind, bool ok, const char *error);
int svc_add_waiter(struct svc *v, int fd, enum waiter_kind kind);
int svc_signal(struct svc *v, int sig);

/* health.c */
void health_setup(struct sup *s, struct svc *v);
void health_clear(struct svc *v);
void health_tick(struct sup *s, struct svc *v, int64_t now);
bool health_reap(struct sup *s, pid_t pid, int ws);

/* sup_ctl.c: handle one connection; the fd is closed unless kept as a waiter. */
void sup_ctl_handle(struct sup *s, int fd);

#endif
