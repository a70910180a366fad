/* The console shell for a technician on the serial line: a login shell on the tty behind
 * /dev/console, in its own session with that tty as its controlling terminal (so ^C works). */
#include "init.h"
#include "base/config.h"
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CONSOLE_SHELL "/bin/sh"

/* The real tty behind /dev/console (the last one in /sys/class/tty/console/active, the one
 * the kernel reads input from): /dev/console itself cannot be a controlling terminal. */
static void console_tty(char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen("/sys/class/tty/console/active", "re");
	char line[256], *last;

	snprintf(buf, size, "/dev/console");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL)
		return;
	line[strcspn(line, "\n")] = '\0';
	last = strrchr(line, ' ');
	last = last ? last + 1 : line;
	if (*last && strchr(last, '/') == NULL) {
		char dev[300];

		snprintf(dev, sizeof(dev), "/dev/%s", last);
		if (access(dev, R_OK | W_OK) == 0)
			snprintf(buf, size, "%s", dev);
	}
}

static void close_from(int lowest)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned) lowest, ~0u, 0) == 0)
		return;
#endif
	for (int fd = lowest; fd < 1024; fd++)
		close(fd);
}

pid_t init_console_spawn(const struct berth_config *cfg)
{
	char tty[320];
	sigset_t none;
	pid_t pid;
	int fd;

	if (!cfg->init.console_shell)
		return -1;
	console_tty(tty, sizeof(tty));
	pid = fork();
	if (pid < 0) {
		init_report(true, "console shell: fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;

	/* The child: nothing of PID 1's signal setup stays. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	fd = open(tty, O_RDWR | O_NOCTTY);
	if (fd < 0) {
		init_report(true, "console shell: open `%s`: %s", tty, strerror(errno));
		_exit(126);
	}
	ioctl(fd, TIOCSCTTY, 1);
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	close_from(3);
	if (getenv("TERM") == NULL || strcmp(getenv("TERM"), "linux") == 0)
		setenv("TERM", "vt100", 1); /* a serial terminal, not the VGA console */
	setenv("HOME", "/root", 0);
	setenv("SHELL", CONSOLE_SHELL, 1);
	if (chdir("/root") < 0 && chdir("/") < 0) {
		/* stay where we are */
	}
	/* argv[0] "-sh": a login shell, which reads /etc/profile. */
	execl(CONSOLE_SHELL, "-sh", (char *) NULL);
	init_report(true, "console shell: cannot run " CONSOLE_SHELL ": %s", strerror(errno));
	_exit(127);
}
