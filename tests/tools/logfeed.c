/* Test driver: runs a command with its stdout and stderr on pipes and feeds both into a log
 * sink (supervisor/logs.h), as the supervisor does for a container, so the system tests can
 * read the files back with `berth logs`. Exits with the command's status.
 * Usage: logfeed [--cap BYTES] [--name NAME] [--console] DIR ID -- CMD [ARG...]
 * --console mirrors the lines to logfeed's own stdout. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "supervisor/logs.h"

int main(int argc, char **argv)
{
	unsigned long long cap = 1 << 20;
	const char *name = "logfeed";
	int console = -1, i = 1, out[2], errp[2], ws = 0;
	struct berr *err = NULL;
	struct logsink *s;
	pid_t pid;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i++) {
		if (strcmp(argv[i], "--cap") == 0 && i + 1 < argc)
			cap = strtoull(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (strcmp(argv[i], "--console") == 0)
			console = 1;
		else
			break;
	}
	if (argc - i < 4 || strcmp(argv[i + 2], "--") != 0) {
		fprintf(stderr, "usage: logfeed [--cap BYTES] [--name NAME] [--console] DIR ID -- CMD [ARG...]\n");
		return 2;
	}
	s = logsink_open(argv[i], argv[i + 1], name, cap, console, &err);
	if (s == NULL)
		return berr_report(err);
	if (pipe(out) < 0 || pipe(errp) < 0 || (pid = fork()) < 0) {
		perror("logfeed");
		return 125;
	}
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(errp[1], 2);
		close(out[0]);
		close(errp[0]);
		close(out[1]);
		close(errp[1]);
		execvp(argv[i + 3], argv + i + 3);
		_exit(127);
	}
	close(out[1]);
	close(errp[1]);
	{
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
		int open_fds = 2;
		char buf[777]; /* odd-sized reads, so lines arrive in pieces */
		while (open_fds) {
			if (poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			for (int k = 0; k < 2; k++) {
				ssize_t n;
				if (p[k].fd < 0 || !(p[k].revents & (POLLIN | POLLHUP)))
					continue;
				n = read(p[k].fd, buf, sizeof(buf));
				if (n > 0) {
					logsink_feed(s, k ? LOG_STDERR : LOG_STDOUT, buf, (size_t) n);
				} else if (n == 0 || errno != EINTR) {
					close(p[k].fd);
					p[k].fd = -1;
					open_fds--;
				}
			}
		}
	}
	waitpid(pid, &ws, 0);
	if (logsink_errors(s))
		fprintf(stderr, "logfeed: %llu write errors\n", (unsigned long long) logsink_errors(s));
	logsink_close(s);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
