/* Container logs: the sink the supervisor feeds each container's stdout and stderr into (two
 * files per container, capped, in RAM unless [logs] persist = yes), and the reader's side of
 * the format for `berth logs`. One stored line is
 *     <RFC 3339 UTC timestamp, nanoseconds> <stdout|stderr> <text>\n
 */
#ifndef BERTH_SUPERVISOR_LOGS_H
#define BERTH_SUPERVISOR_LOGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct berr;
struct berth_config;

enum { LOG_STDOUT = 1, LOG_STDERR = 2 };

#define LOG_LINE_MAX 16384        /* bytes of text in one stored line; longer ones are split */
#define LOG_CAP_MIN 8192          /* the smallest cap a sink takes ([logs] max-size's floor) */
#define LOG_TS_MAX 40             /* bytes of a timestamp with its NUL */

struct logsink;

/* Logs go to files in `dir`: <dir>/<id>.log, and <dir>/<id>.log.1 (the older half). When the
 * current file would exceed cap/2, it is renamed over .log.1 and a new one started, so at most
 * `cap` bytes are kept per container. console_fd >= 0: every line is mirrored there as
 * "<name> | <text>" (give a non-blocking fd: a line that would block is dropped). An existing
 * <id>.log is appended to. The directory is made if missing. Outside RAM (tmpfs, ramfs) the
 * file is fsync'd at rotation and close only, never per line (flash wear). */
struct logsink *logsink_open(const char *dir, const char *id, const char *name, uint64_t cap,
			     int console_fd, struct berr **err);
/* Feed bytes read from the container's stdout (stream 1) or stderr (2). Splits into lines; each
 * stored line is "<RFC3339Nano UTC timestamp> <stdout|stderr> <text>\n". A line longer than
 * LOG_LINE_MAX (or than the cap allows) is stored in pieces. Never blocks long, never allocates
 * (a fixed buffer per stream), never fails loudly: a write error is counted and logged once. */
void logsink_feed(struct logsink *s, int stream, const char *buf, size_t len);
/* Write errors since the sink was opened. */
uint64_t logsink_errors(const struct logsink *s);
void logsink_close(struct logsink *s); /* flushes a partial line; NULL is fine */

/* The logs directory: <run-dir>/logs (RAM, default), or <data-root>/logs with
 * [logs] persist = yes. -1 (ENAMETOOLONG) if it does not fit. */
int logs_dir(const struct berth_config *cfg, char *buf, size_t size);
/* <dir>/<id>.log, or <dir>/<id>.log.1 with `old`. */
int logs_file(char *buf, size_t size, const char *dir, const char *id, bool old);
/* Remove a container's log files (on `rm`). Missing files are fine. */
void logs_remove(const char *dir, const char *id);
/* logs_remove in both places logs may be (RAM and flash: `persist` may have changed since). */
void logs_forget(const char *id);

/* One stored line, as logs_parse_line finds it in a file's bytes (pointers into them). */
struct log_entry {
	int64_t time_ns;          /* since the epoch */
	const char *ts;           /* the timestamp as stored */
	size_t ts_len;
	int stream;               /* LOG_STDOUT or LOG_STDERR */
	const char *text;         /* without the '\n' */
	size_t text_len;
};

/* Parse one stored line, `len` bytes without its '\n'. -1 if it is not one (a file written
 * by something else, or cut by a power loss): readers skip it. */
int logs_parse_line(const char *line, size_t len, struct log_entry *out);

/* Call fn for each well-formed line of `data` (a log file's bytes), in order, skipping
 * malformed ones; stops early when fn returns non-zero. A last line without its '\n' (still
 * being written) is not taken. Returns the bytes up to the end of the last complete line. */
size_t logs_scan(const char *data, size_t len, int (*fn)(const struct log_entry *e, void *arg),
		 void *arg);

#endif
