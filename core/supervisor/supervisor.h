/* The supervisor: one single-threaded event loop (signalfd, child exits, the control socket,
 * timerfd timers) that is the direct parent of every app's container. It runs as `berth daemon`
 * and, in PID-1 mode, under init/ (which mounts the early filesystems first and powers off
 * after). See DESIGN.md, "Supervisor". */
#ifndef BERTH_SUPERVISOR_H
#define BERTH_SUPERVISOR_H

#include <stdbool.h>

struct cli_ctx;

struct sup_opts {
	bool pid1;          /* init duties: watchdog kicks, console shell, BusyBox-init signals */
	/* out: the signal that ended the loop (SIGTERM, SIGINT, SIGUSR1, SIGUSR2), after every app
	 * was stopped gracefully */
	int shutdown_signal;
};

/* Run until a stop signal; every app is stopped (stop signal, timeout, SIGKILL, in reverse
 * dependency order) before it returns. Returns an exit status (EXIT_OK after a clean stop).
 * In PID-1 mode it never exits the process on error: errors are logged and the loop goes on. */
int sup_run(struct cli_ctx *ctx, struct sup_opts *o);

#endif
