/* Logging with levels, to stderr (commands) or /dev/kmsg (PID 1). */
#ifndef BERTH_LOG_H
#define BERTH_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_KMSG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "info", "debug"; returns -1 for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(enum log_level level);
/* Falls back to stderr when /dev/kmsg cannot be opened. */
void log_set_target(enum log_target target);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
