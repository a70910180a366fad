/* The host side of a container's pty: one poll loop over the user's stdin, the pty master
 * and a signalfd, so signals are handled in the loop and never in a handler. */
#include "runtime/tty.h"
#include "base/err.h"
#include "base/util.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define RELAY_BUF 4096
#define DRAIN_MS 200 /* after the command ends: how long the pty may still talk */

static const int passed_on[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

bool tty_size(unsigned short *rows, unsigned short *cols)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return false;
	*rows = ws.ws_row;
	*cols = ws.ws_col;
	return ws.ws_row > 0 && ws.ws_col > 0;
}

void tty_signals(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < ARRAY_SIZE(passed_on); i++)
		sigaddset(set, passed_on[i]);
	sigaddset(set, SIGCHLD);
	sigaddset(set, SIGWINCH);
	sigaddset(set, SIGPIPE); /* a closed stdout ends the copying, not berth */
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t) n;
	}
	return 0;
}

static void resize(int master)
{
	struct winsize ws = { 0 };

	if (tty_size(&ws.ws_row, &ws.ws_col))
		ioctl(master, TIOCSWINSZ, &ws);
}

int tty_relay(int master, pid_t child, bool forward_stdin, int *wstatus, struct berr **err)
{
	struct termios saved, raw;
	bool raw_on = false, child_done = false, master_done = false, out_ok = true;
	bool in_open = forward_stdin;
	char buf[RELAY_BUF];
	sigset_t set;
	int sfd, ret = 0;

	tty_signals(&set);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return berr_make(err, errno, "signalfd");
	/* Raw only when the user types into the container: otherwise ^C stays a signal to berth,
	 * which passes it on. */
	if (forward_stdin && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		raw_on = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	resize(master);
	while (!(child_done && master_done)) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = master_done ? -1 : master, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		int n = poll(p, 3, child_done ? DRAIN_MS : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = berr_make(err, errno, "poll");
			break;
		}
		if (n == 0) /* the command is gone and the pty quiet */
			break;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					if (!child_done && waitpid(child, wstatus, WNOHANG) == child)
						child_done = true;
				} else if (si.ssi_signo == SIGWINCH) {
					resize(master);
				} else if (si.ssi_signo != SIGPIPE) {
					kill(child, (int) si.ssi_signo);
				}
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0 && out_ok && write_all(STDOUT_FILENO, buf, (size_t) r) < 0)
				out_ok = false; /* keep draining, so the container is not blocked */
			else if (r < 0 && errno != EINTR && errno != EAGAIN)
				master_done = true; /* EIO: every slave is closed */
			else if (r == 0)
				master_done = true;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
			if (r > 0)
				write_all(master, buf, (size_t) r);
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				in_open = false;
		}
	}
	if (raw_on)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(sfd);
	if (!child_done) {
		if (ret < 0) /* the user can no longer reach it: end it rather than hang */
			kill(child, SIGKILL);
		while (waitpid(child, wstatus, 0) < 0)
			if (errno != EINTR) {
				*wstatus = 0;
				break;
			}
	}
	return ret;
}
