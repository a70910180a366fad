/* Logging: one line per message, prefixed "berth: " on stderr, with a syslog priority on kmsg. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static enum log_level cur_level = LOG_LEVEL_WARN;
static int kmsg_fd = -1;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

int log_level_parse(const char *name)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int) i;
	return -1;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned) level < sizeof(level_names) / sizeof(level_names[0]))
		return level_names[level];
	return "?";
}

void log_set_target(enum log_target target)
{
	if (kmsg_fd >= 0) {
		close(kmsg_fd);
		kmsg_fd = -1;
	}
	if (target == LOG_TARGET_KMSG)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	/* kmsg wants one write per record; stderr gets one write per line too, so that lines
	 * from several processes never interleave mid-line. */
	static const int kmsg_prio[] = { 3, 4, 6, 7 };
	char buf[1024];
	int saved_errno = errno;
	int n = 0, m;
	va_list ap;

	if (level > cur_level)
		return;
	if (kmsg_fd >= 0)
		n = snprintf(buf, sizeof(buf), "<%d>berth: ", kmsg_prio[level]);
	else if (level == LOG_LEVEL_ERROR)
		n = snprintf(buf, sizeof(buf), "berth: ");
	else
		n = snprintf(buf, sizeof(buf), "berth: %s: ", level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(buf + n, sizeof(buf) - (size_t) n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int) sizeof(buf) - 2)
		n = (int) sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(kmsg_fd >= 0 ? kmsg_fd : STDERR_FILENO, buf, (size_t) n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved_errno;
}
