/* --init: a tiny PID 1 for a container, forked from berth's own child before the exec step
 * (the container's root has no berth to exec). It reaps every process that ends up as its
 * child and passes the usual signals on to the command (Docker run reference, "--init"). */
#ifndef BERTH_RUNTIME_INIT_H
#define BERTH_RUNTIME_INIT_H

#include <signal.h>
#include <sys/types.h>

struct berr;

/* Block the signals the reaper forwards, and SIGCHLD; *old gets the mask before. Called before
 * the fork, so a signal sent in between waits for the reaper instead of being lost. */
void init_block_signals(sigset_t *old);

/* In the reaper after the fork: keep only CAP_KILL (to signal a command running as another
 * user), no new privileges, and not dumpable, so the container's processes can neither trace
 * it nor open its executable, which is the host's berth, through /proc/1/exe. */
int init_drop_privileges(struct berr **err);

/* The reaper's loop: reap every child; SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and
 * SIGWINCH go to `child`; when `child` ends, exit with its status (128 + signal if killed). */
void init_run(pid_t child) __attribute__((noreturn));

#endif
