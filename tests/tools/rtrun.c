/* Test driver for the container start: runs a command in a root directory with the runtime's
 * namespaces and mounts, and exits with its status (or berth's 125/126/127).
 * Usage: rtrun [--net-none] [--read-only] [--hostname H] [-w DIR] [-v SRC:DST[:ro]]...
 *              [--tmpfs DST] [-e K=V]... ROOT CMD [ARG...] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/util.h"
#include "runtime/container.h"

int main(int argc, char **argv)
{
	struct rt_config c = { .console_fd = -1, .stdio = { -1, -1, -1 } };
	struct rt_mount mounts[16];
	char *env[32] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
	size_t n_env = 1;
	struct rt_child ch;
	struct berr *err = NULL;
	int i, status = 0, ws;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--net-none") == 0) {
			c.new_net = true;
		} else if (strcmp(a, "--read-only") == 0) {
			c.readonly_rootfs = true;
		} else if (i + 1 < argc && strcmp(a, "--hostname") == 0) {
			c.hostname = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "-w") == 0) {
			c.cwd = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "-e") == 0 && n_env < 31) {
			env[n_env++] = argv[++i];
		} else if (i + 1 < argc && strcmp(a, "--tmpfs") == 0 && c.n_mounts < 16) {
			mounts[c.n_mounts++] = (struct rt_mount){ .kind = RT_MOUNT_TMPFS, .target = argv[++i] };
		} else if (i + 1 < argc && strcmp(a, "-v") == 0 && c.n_mounts < 16) {
			char *spec = xstrdup(argv[++i]), *dst = strchr(spec, ':'), *mode;
			if (dst == NULL)
				return 2;
			*dst++ = '\0';
			mode = strchr(dst, ':');
			if (mode)
				*mode++ = '\0';
			mounts[c.n_mounts++] = (struct rt_mount){ .kind = RT_MOUNT_BIND, .source = spec, .target = dst,
								  .readonly = mode && strcmp(mode, "ro") == 0 };
		} else {
			fprintf(stderr, "rtrun: bad option %s\n", a);
			return 2;
		}
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: rtrun [options] ROOT CMD [ARG...]\n");
		return 2;
	}
	c.rootfs = argv[i];
	c.argv = argv + i + 1;
	c.envp = env;
	c.mounts = mounts;
	if (rt_spawn(&c, &ch, &err) < 0)
		return berr_report(err);
	if (rt_release(&ch, &status, &err) < 0)
		return berr_report(err) ? status : status;
	while (waitpid(ch.pid, &ws, 0) < 0)
		if (errno != EINTR)
			return 125;
	if (WIFSIGNALED(ws))
		return 128 + WTERMSIG(ws);
	return WEXITSTATUS(ws);
}
