/* The container's reaper for --init. No allocation and no signal handlers: the signals stay
 * blocked and are taken one at a time with sigwaitinfo, between rounds of waitpid. */
#include "runtime/init.h"
#include "runtime/caps.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void reaper_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
}

void init_block_signals(sigset_t *old)
{
	sigset_t set;

	reaper_set(&set);
	sigprocmask(SIG_BLOCK, &set, old);
}

int init_drop_privileges(struct berr **err)
{
	struct caps_sets s = { .bounding = CAPS_BIT(CAP_KILL), .effective = CAPS_BIT(CAP_KILL),
			       .permitted = CAPS_BIT(CAP_KILL) };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return berr_make(err, errno, "init: make it undumpable");
	if (caps_apply(&s, NULL, err) < 0 || caps_set_no_new_privs(err) < 0)
		return berr_wrap(err, "init");
	return 0;
}

static int exit_status(int ws)
{
	return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
}

void init_run(pid_t child)
{
	sigset_t set;

	reaper_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (;;) {
		siginfo_t si;
		pid_t pid;
		int ws;

		/* Every child that has ended, ours or an orphan that was handed to PID 1. */
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0)
			if (pid == child)
				_exit(exit_status(ws));
		if (pid < 0 && errno == ECHILD)
			_exit(125); /* cannot happen: the command is our child until we reap it */
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD)
			kill(child, si.si_signo);
	}
}
