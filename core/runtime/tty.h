/* -t on berth's side: the user's terminal in raw mode while attached, bytes copied between it
 * and the container's pty master, window size changes passed on (Docker run reference,
 * "Foreground"). */
#ifndef BERTH_RUNTIME_TTY_H
#define BERTH_RUNTIME_TTY_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

struct berr;

/* The size of berth's terminal (stdin, else stdout); false when neither is a terminal. */
bool tty_size(unsigned short *rows, unsigned short *cols);

/* The signals tty_relay takes over: SIGCHLD, SIGWINCH and those passed on to the container.
 * Block them before the container is spawned (the child unblocks its own), so none is lost. */
void tty_signals(sigset_t *set);

/* Copy master -> stdout and, with `forward_stdin`, stdin -> master (berth's terminal in raw
 * mode meanwhile, restored before returning, error or not), until `child` has ended and the
 * pty has nothing more to say. SIGWINCH sets the pty's size; SIGINT, SIGTERM, SIGHUP,
 * SIGQUIT, SIGUSR1 and SIGUSR2 go to `child`. *wstatus is waitpid's status of `child`, which
 * is reaped here. The signals of tty_signals must be blocked. */
int tty_relay(int master, pid_t child, bool forward_stdin, int *wstatus, struct berr **err);

#endif
