/* `berth exec`: run a command in a running container (Docker's `exec`): its namespaces and
 * cgroup, the record's environment plus -e, its working directory or -w, its user or -u, the
 * default capabilities (never more than the container has), no_new_privs and Docker's
 * default seccomp profile. The exit status is the command's; 126/127 as `docker exec`. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "runtime/caps.h"
#include "runtime/exec.h"
#include "runtime/record.h"
#include "runtime/seccomp.h"
#include "runtime/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { O_INTERACTIVE = 1, O_TTY, O_ENV, O_USER, O_WORKDIR, O_DETACH };

const struct cli_opt cmd_exec_opts[] = {
	{ O_DETACH, 'd', "detach", NULL, "Detached mode: run command in the background" },
	{ O_ENV, 'e', "env", "list", "Set environment variables" },
	{ O_INTERACTIVE, 'i', "interactive", NULL, "Keep STDIN open" },
	{ O_TTY, 't', "tty", NULL, "Allocate a pseudo-TTY" },
	{ O_USER, 'u', "user", "string", "Username or UID (format: <name|uid>[:<group|gid>])" },
	{ O_WORKDIR, 'w', "workdir", "string", "Working directory inside the container" },
	{ 0, 0, NULL, NULL, NULL },
};

#define ENV_ARGS_MAX 256

static volatile pid_t exec_child;

static void forward(int sig)
{
	if (exec_child > 0)
		kill(exec_child, sig);
}

/* The record's environment with -e entries over it, key by key; `-e KEY` takes berth's own
 * value of KEY, or removes KEY when berth has none (as `run -e`). */
static char **merge_env(const struct rec_strv *base, char **set, size_t n_set)
{
	size_t n = 0, cap = base->n + n_set + 1;
	char **v = xcalloc(cap, sizeof(*v));

	for (size_t i = 0; i < base->n; i++)
		v[n++] = xstrdup(base->v[i]);
	for (size_t i = 0; i < n_set; i++) {
		const char *eq = strchr(set[i], '=');
		size_t kl = eq ? (size_t) (eq - set[i]) : strlen(set[i]);
		char *entry = NULL;
		size_t k;

		if (eq)
			entry = xstrdup(set[i]);
		else if (getenv(set[i]))
			entry = xasprintf("%s=%s", set[i], getenv(set[i]));
		for (k = 0; k < n; k++)
			if (strncmp(v[k], set[i], kl) == 0 && v[k][kl] == '=')
				break;
		if (k < n) {
			free(v[k]);
			if (entry) {
				v[k] = entry;
			} else {
				v[k] = v[--n];
				v[n] = NULL;
			}
		} else if (entry) {
			v[n++] = entry;
		}
	}
	return v;
}

static int not_running(const char *ref)
{
	struct berr *err = NULL;

	berr_make(&err, 0, "container %s is not running", ref);
	err->status = EXIT_FAILED;
	return berr_report(err);
}

int cmd_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	bool interactive = false, tty = false, detach = false;
	const char *user = NULL, *workdir = NULL, *value;
	char *envs[ENV_ARGS_MAX];
	size_t n_envs = 0;
	struct berr *err = NULL;
	struct secc_filter filter = { 0 };
	struct rt_exec_opts o;
	struct caps_opts copts = { 0 };
	struct args a;
	struct rec r;
	uint64_t caps, bounding;
	char **env = NULL;
	int id, ret = EXIT_BERTH, ws = 0, devnull = -1, master = -1;
	bool blocked = false;
	sigset_t relay_set, old_mask;
	pid_t pid;

	(void) ctx;
	args_init(&a, cmd_exec_opts, argc, argv, "berth exec");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("exec"), stdout);
			return EXIT_OK;
		case O_INTERACTIVE: interactive = true; break;
		case O_TTY: tty = true; break;
		case O_DETACH: detach = true; break;
		case O_USER: user = value; break;
		case O_WORKDIR:
			if (value[0] != '/') {
				berr_usage(&err, "-w `%s`: the working directory must be an absolute path", value);
				return berr_report(err);
			}
			workdir = value;
			break;
		case O_ENV:
			if (n_envs == ENV_ARGS_MAX) {
				berr_usage(&err, "too many -e options (at most %d)", ENV_ARGS_MAX);
				return berr_report(err);
			}
			if (value[0] == '=' || value[0] == '\0') {
				berr_usage(&err, "-e `%s`: use KEY=VALUE or KEY", value);
				return berr_report(err);
			}
			envs[n_envs++] = (char *) value;
			break;
		}
	}
	if (argc - a.i < 2) {
		berr_usage(&err, "`berth exec` requires a CONTAINER and a COMMAND");
		return berr_report(err);
	}
	if (rec_find(argv[a.i], &r, &err) < 0)
		return berr_report(err);
	if (r.st.status != REC_RUNNING || !rec_pid_alive(&r.st)) {
		rec_free(&r);
		return not_running(argv[a.i]);
	}

	/* Docker's default set, but never more than the container's first process holds
	 * (--cap-drop, or CAP_MKNOD where device access is not enforced). */
	if (caps_compute(&copts, caps_kernel_last(), &caps, &err) < 0 || rt_proc_caps(r.st.pid, &bounding, &err) < 0)
		goto fail;
	caps &= bounding;
	if (secc_filter_cached(SECC_MODE_DEFAULT, NULL, caps, &filter, &err) < 0)
		goto fail;
	/* -t: TERM=xterm where the container's environment has none, as `run -t` gives it. */
	if (tty && !detach && n_envs < ENV_ARGS_MAX) {
		bool has_term = false;
		for (size_t i = 0; i < r.cfg.env.n; i++)
			has_term |= strncmp(r.cfg.env.v[i], "TERM=", 5) == 0;
		for (size_t i = 0; i < n_envs; i++)
			has_term |= strncmp(envs[i], "TERM", 4) == 0 && (envs[i][4] == '=' || envs[i][4] == '\0');
		if (!has_term) {
			memmove(envs + 1, envs, n_envs * sizeof(*envs));
			envs[0] = (char *) "TERM=xterm";
			n_envs++;
		}
	}
	env = merge_env(&r.cfg.env, envs, n_envs);

	memset(&o, 0, sizeof(o));
	o.argv = argv + a.i + 1;
	o.env = env;
	o.cwd = workdir ? workdir : (r.cfg.workdir && r.cfg.workdir[0] == '/' ? r.cfg.workdir : "/");
	o.user = user ? user : r.cfg.user;
	o.caps = caps;
	o.filter = &filter;
	o.no_new_privs = true;
	o.stdio[0] = o.stdio[1] = o.stdio[2] = -1;
	o.err_fd = -1;
	o.target_start = r.st.pid_start;
	if (detach) {
		/* Nothing of berth's terminal stays with a detached command. */
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
		o.stdio[0] = o.stdio[1] = o.stdio[2] = devnull;
		o.err_fd = 2;
		tty = false;
	} else if (tty) {
		o.tty = true;
		o.pty_master = &master;
		tty_size(&o.tty_rows, &o.tty_cols);
		tty_signals(&relay_set);
		sigprocmask(SIG_BLOCK, &relay_set, &old_mask);
		blocked = true;
	} else if (!interactive) {
		devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		o.stdio[0] = devnull;
	}
	if (rt_exec_in(r.st.pid, r.cfg.id, &o, &pid, &err) < 0) {
		if (err->errcode == ESRCH || err->errcode == ENOENT) {
			berr_free(err);
			err = NULL;
			ret = not_running(argv[a.i]);
			goto out;
		}
		goto fail;
	}
	if (detach) {
		ret = EXIT_OK;
		goto out;
	}
	if (tty && master >= 0) {
		if (tty_relay(master, pid, interactive, &ws, &err) < 0) {
			log_warn("%s", err->msg);
			berr_free(err);
			err = NULL;
		}
		close(master);
	} else {
		if (blocked) {
			sigprocmask(SIG_SETMASK, &old_mask, NULL);
			blocked = false;
		}
		exec_child = pid;
		signal(SIGINT, forward);
		signal(SIGTERM, forward);
		signal(SIGHUP, forward);
		signal(SIGQUIT, forward);
		signal(SIGUSR1, forward);
		signal(SIGUSR2, forward);
		while (waitpid(pid, &ws, 0) < 0)
			if (errno != EINTR) {
				ws = EXIT_BERTH << 8;
				break;
			}
		exec_child = 0;
	}
	ret = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
	goto out;
fail:
	ret = berr_report(err);
	err = NULL;
out:
	if (blocked)
		sigprocmask(SIG_SETMASK, &old_mask, NULL);
	if (devnull >= 0)
		close(devnull);
	if (env) {
		for (size_t i = 0; env[i]; i++)
			free(env[i]);
		free(env);
	}
	secc_filter_free(&filter);
	rec_free(&r);
	return ret;
}
