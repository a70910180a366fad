/* PID 1: load the config, run the early steps, hand over to the supervisor loop, and after it
 * returns stop what is left, unmount and power off or reboot. If a must step failed (no data
 * partition) or the loop ended without a stop signal, PID 1 stays in a small loop of its own
 * that reaps, feeds the watchdog, keeps the console shell and obeys the stop signals. */
#include "init.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/paths.h"
#include "base/util.h"
#include "cli/cli.h"
#include "image/gc.h"
#include "supervisor/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KILL_GRACE_MS 2000
#define UMOUNT_PASSES 5
#define MAX_MOUNTS 512

static const char *last_shutdown;   /* static strings only */
static bool data_root_ok;           /* last-shutdown can be written */

enum init_action init_signal_action(int sig)
{
	switch (sig) {
	case SIGUSR1:
		return INIT_HALT;
	case SIGUSR2:
		return INIT_POWEROFF;
	case SIGTERM:
	case SIGINT:
		return INIT_REBOOT;
	default:
		return INIT_NONE;
	}
}

const char *init_action_name(enum init_action a)
{
	switch (a) {
	case INIT_HALT:
		return "halt";
	case INIT_POWEROFF:
		return "poweroff";
	case INIT_REBOOT:
		return "reboot";
	default:
		return "none";
	}
}

const char *init_last_shutdown(void)
{
	return last_shutdown;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Read the reason the last boot ended, then mark this boot unclean until init_finish says
 * otherwise: a power cut or a watchdog reset leaves "unclean" behind. */
static void boot_read_last_shutdown(void)
{
	static const char *const clean[] = { "poweroff", "reboot", "halt" };
	char path[4096];
	_cleanup_free_ char *text = NULL;
	struct berr *err = NULL;

	if (paths_last_shutdown(path, sizeof(path)) < 0)
		return;
	if (fs_mkdir_p(paths_root(), 0700, &err) < 0) {
		init_report(true, "data root: %s", err->msg);
		berr_free(err);
		return;
	}
	if (fs_read_file(path, 64, &text, NULL, &err) < 0) {
		if (err->errcode == ENOENT)
			last_shutdown = "none";
		else
			init_report(true, "%s", err->msg);
		berr_free(err);
		err = NULL;
	} else {
		last_shutdown = "unclean";
		text[strcspn(text, "\n")] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(clean); i++)
			if (strcmp(text, clean[i]) == 0)
				last_shutdown = clean[i];
	}
	if (last_shutdown == NULL)
		return;
	if (fs_write_atomic(path, "unclean\n", 8, 0644, &err) < 0) {
		init_report(true, "%s", err->msg);
		berr_free(err);
		return;
	}
	data_root_ok = true;
	init_report(false, "last shutdown: %s", last_shutdown);
}

/* Leftovers of work a power cut interrupted (conversion scratch in tmp/, refs.json.tmp.*), as
 * `berth store verify --repair` removes them; resumable downloads stay. Nothing else of berth
 * runs yet, so nothing is in the middle of using them. */
static void boot_clean_store(void)
{
	char dir[PATH_MAX];
	struct berr *err = NULL;
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	if (paths_tmp_dir(dir, sizeof(dir)) < 0)
		return;
	d = opendir(dir);
	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || gc_tmp_is_partial(de->d_name))
				continue;
			if (fs_rm_rf_at(dirfd(d), de->d_name, &err) == 0) {
				n++;
			} else {
				init_report(true, "remove `%s/%s`: %s", dir, de->d_name, err->msg);
				berr_free(err);
				err = NULL;
			}
		}
		closedir(d);
	}
	d = opendir(paths_root());
	if (d != NULL) {
		while ((de = readdir(d)) != NULL)
			if (str_has_prefix(de->d_name, "refs.json.tmp.") && unlinkat(dirfd(d), de->d_name, 0) == 0)
				n++;
		closedir(d);
	}
	if (n == 0)
		return;
	if (fs_fsync_dir(dir, &err) < 0) {
		berr_free(err);
		err = NULL;
	}
	init_report(false, "removed %zu leftover%s of interrupted work from the store", n, n == 1 ? "" : "s");
}

static void record_shutdown(enum init_action a)
{
	char path[4096], text[16];
	struct berr *err = NULL;
	int n;

	if (!data_root_ok || paths_last_shutdown(path, sizeof(path)) < 0)
		return;
	n = snprintf(text, sizeof(text), "%s\n", init_action_name(a));
	if (fs_write_atomic(path, text, (size_t) n, 0644, &err) < 0) {
		init_report(true, "%s", err->msg);
		berr_free(err);
	}
}

/* Reap whatever has ended; true once no child is left. */
static bool reap_all(void)
{
	int ws;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
		;
	return pid < 0 && errno == ECHILD;
}

static void kill_everything(void)
{
	int64_t until;

	/* -1 reaches every process but PID 1 itself and kernel threads. */
	if (kill(-1, SIGTERM) < 0 && errno == ESRCH)
		return;
	until = now_ms() + KILL_GRACE_MS;
	while (!reap_all() && now_ms() < until) {
		init_watchdog_kick();
		sleep_ms(50);
	}
	if (kill(-1, SIGKILL) == 0) {
		until = now_ms() + 1000;
		while (!reap_all() && now_ms() < until)
			sleep_ms(20);
	}
}

struct mount_list {
	char *points[MAX_MOUNTS];
	bool writable[MAX_MOUNTS];
	size_t n;
};

static int collect_mount(const struct mountinfo_entry *e, void *data)
{
	struct mount_list *l = data;
	char *p;

	if (strcmp(e->mount_point, "/") == 0 || l->n >= MAX_MOUNTS)
		return 0;
	p = strdup(e->mount_point);
	if (p == NULL)
		return 0;
	/* The per-mount options start with "ro" or "rw". */
	l->writable[l->n] = !(strcmp(e->mount_opts, "ro") == 0 || str_has_prefix(e->mount_opts, "ro,"));
	l->points[l->n++] = p;
	return 0;
}

/* Unmount everything but / in reverse mount order; what stays busy is remounted read-only
 * (its data reaches the disk) and detached. */
static void unmount_all(void)
{
	static struct mount_list l; /* too big for PID 1's stack habits */
	struct berr *err = NULL;

	l.n = 0;
	if (mountinfo_each(NULL, collect_mount, &l, &err) < 0) {
		init_report(true, "%s", err->msg);
		berr_free(err);
		return;
	}
	for (int pass = 0; pass < UMOUNT_PASSES; pass++) {
		size_t left = 0;

		for (size_t i = l.n; i-- > 0;) {
			if (l.points[i] == NULL)
				continue;
			if (umount2(l.points[i], 0) == 0 || errno == EINVAL || errno == ENOENT) {
				free(l.points[i]);
				l.points[i] = NULL;
			} else {
				left++;
			}
		}
		if (left == 0)
			break;
		/* Loop devices let go of their files asynchronously: give them a moment. */
		sleep_ms(100);
	}
	for (size_t i = l.n; i-- > 0;) {
		if (l.points[i] == NULL)
			continue;
		if (l.writable[i] && mount(NULL, l.points[i], NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0 &&
		    errno != EBUSY)
			init_report(true, "cannot remount `%s` read-only: %s", l.points[i], strerror(errno));
		umount2(l.points[i], MNT_DETACH);
		free(l.points[i]);
		l.points[i] = NULL;
	}
}

void init_finish(enum init_action a)
{
	static const int cmds[] = { [INIT_HALT] = RB_HALT_SYSTEM, [INIT_POWEROFF] = RB_POWER_OFF,
				    [INIT_REBOOT] = RB_AUTOBOOT };

	if (a == INIT_NONE)
		a = INIT_REBOOT;
	init_report(false, "%s: stopping every process", init_action_name(a));
	kill_everything();
	sync();
	record_shutdown(a);
	unmount_all();
	sync();
	init_watchdog_close();
	init_report(false, "%s", a == INIT_POWEROFF ? "powering off" : a == INIT_HALT ? "halting" : "rebooting");
	reboot(cmds[a]);
	init_report(true, "reboot(2) failed: %s", strerror(errno));
	for (;;)
		pause();
}

/* PID 1 without the supervisor: reap, feed the watchdog, keep the console shell, obey the
 * stop signals. Never returns. */
static void init_idle_loop(const struct berth_config *cfg) __attribute__((noreturn));
static void init_idle_loop(const struct berth_config *cfg)
{
	pid_t shell = init_console_spawn(cfg);
	int64_t respawn_at = 0;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		int wd = init_watchdog_interval_ms(), ws, sig;
		long wait_ms = wd > 0 && wd < 1000 ? wd : 1000;
		struct timespec ts = { wait_ms / 1000, (wait_ms % 1000) * 1000000L };
		siginfo_t si;
		pid_t pid;

		sig = sigtimedwait(&set, &si, &ts);
		init_watchdog_kick();
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
			if (pid == shell) {
				shell = -1;
				respawn_at = now_ms() + 1000;
			}
		}
		if (sig > 0 && init_signal_action(sig) != INIT_NONE)
			init_finish(init_signal_action(sig));
		if (shell < 0 && cfg->init.console_shell && now_ms() >= respawn_at) {
			shell = init_console_spawn(cfg);
			respawn_at = now_ms() + 1000;
		}
	}
}

static void early_process_setup(void)
{
	sigset_t set;

	/* The stop signals wait in the queue until a loop takes them; none may kill PID 1. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Ctrl-Alt-Del becomes SIGINT to PID 1 instead of an immediate reboot. */
	reboot(RB_DISABLE_CAD);
	setsid();
	umask(022);
	if (chdir("/") < 0) {
		/* the root is always there */
	}
	setenv("PATH", "/sbin:/usr/sbin:/bin:/usr/bin", 0);
	setenv("HOME", "/", 0);
}

void init_main(int argc, char **argv)
{
	static struct cli_ctx ctx;
	struct berr *err = NULL;
	const char *cfg_env = getenv("BERTH_CONFIG"), *level;
	bool ok = true;
	int lvl;

	(void) argc;
	(void) argv;
	if (getpid() != 1) {
		fprintf(stderr, "berth init: must run as PID 1 (this is pid %d); `berth daemon` supervises "
				"apps on a running system\n", (int) getpid());
		exit(EXIT_USAGE);
	}
	early_process_setup();
	log_set_target(LOG_TARGET_STDERR);
	/* The kernel hands unknown `NAME=value` boot parameters to init as its environment. */
	ctx.config_explicit = cfg_env && *cfg_env;
	ctx.config_path = ctx.config_explicit ? cfg_env : PATHS_DEFAULT_CONFIG;
	init_report(false, "berth " BERTH_VERSION " starting as PID 1");
	if (config_load(&ctx.cfg, ctx.config_path, ctx.config_explicit, &err) < 0) {
		init_report(true, "%s", err->msg);
		init_report(true, "fix the config; starting without apps");
		berr_free(err);
		err = NULL;
		if (config_defaults(&ctx.cfg, &err) < 0) {
			berr_free(err); /* cannot happen: the built-in defaults are valid */
			err = NULL;
		}
		ok = false;
	}
	if (init_early(&ctx.cfg) < 0)
		ok = false;
	log_set_target(LOG_TARGET_KMSG);
	level = ctx.cfg.daemon.log_level ? ctx.cfg.daemon.log_level : "warn";
	lvl = log_level_parse(level);
	if (lvl >= 0)
		log_set_level((enum log_level) lvl);
	if (paths_init(ctx.cfg.daemon.data_root, ctx.cfg.daemon.run_dir) < 0) {
		init_report(true, "data root `%s` and run dir `%s` must be absolute paths", ctx.cfg.daemon.data_root,
			    ctx.cfg.daemon.run_dir);
		ok = false;
	} else if (ok) {
		boot_read_last_shutdown();
		boot_clean_store();
	}
	if (ok) {
		struct sup_opts o = { .pid1 = true };
		int st = sup_run(&ctx, &o);

		if (o.shutdown_signal)
			init_finish(init_signal_action(o.shutdown_signal));
		init_report(true, "the supervisor ended (status %d) without a stop signal", st);
	}
	init_report(true, "boot incomplete: no apps; stop signals still power off or reboot");
	init_idle_loop(&ctx.cfg);
}
