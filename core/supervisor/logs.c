/* Container logs: a sink per container that splits its output into timestamped lines and keeps
 * the newest `cap` bytes in two files, and the parser `berth logs` reads them back with. The
 * sink runs inside the supervisor: after logsink_open it allocates nothing and never stops on
 * an error, it counts it. */
#include "logs.h"
#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/paths.h"
#include "base/util.h"
#include "runtime/record.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>


/* Timestamp, a blank, "stdout", a blank; the newline after the text. */
#define LOG_HDR_MAX (LOG_TS_MAX + 8)

struct line_buf {
	size_t len;
	char buf[LOG_LINE_MAX];
};

struct logsink {
	char path[PATH_MAX];      /* <dir>/<id>.log */
	char old[PATH_MAX];       /* <dir>/<id>.log.1 */
	char dir[PATH_MAX];
	char name[REC_NAME_MAX + 1];
	int fd;                   /* -1 after a failed rotation: reopened at the next line */
	int console_fd;           /* not owned */
	uint64_t cap;
	uint64_t size;            /* bytes in the current file */
	size_t piece;             /* longest text stored in one line */
	bool sync;                /* on flash: fsync at rotation and close */
	uint64_t errors;
	struct line_buf line[2];  /* partial lines of stdout and stderr */
};

static void count_error(struct logsink *s, const char *what, int e)
{
	if (s->errors++ == 0)
		log_warn("logs of %s: %s `%s`: %s; further errors are only counted", s->name, what,
			 s->path, strerror(e));
}

static void sync_dir(struct logsink *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0)
		count_error(s, "fsync the directory of", errno);
	if (fd >= 0)
		close(fd);
}

static int open_current(struct logsink *s, bool truncate)
{
	struct stat st;

	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | (truncate ? O_TRUNC : 0),
		     0640);
	if (s->fd < 0)
		return -1;
	s->size = fstat(s->fd, &st) == 0 ? (uint64_t) st.st_size : 0;
	return 0;
}

/* The current file becomes the older half; a new current file starts empty. */
static void rotate(struct logsink *s)
{
	if (s->fd >= 0) {
		if (s->sync && fsync(s->fd) < 0)
			count_error(s, "fsync", errno);
		close(s->fd);
		s->fd = -1;
	}
	if (rename(s->path, s->old) < 0 && errno != ENOENT) {
		/* Keeping the cap matters more than keeping the old half. */
		count_error(s, "rotate", errno);
		if (open_current(s, true) < 0)
			count_error(s, "open", errno);
		return;
	}
	if (open_current(s, true) < 0) {
		count_error(s, "open", errno);
		return;
	}
	if (s->sync)
		sync_dir(s);
}

static void emit(struct logsink *s, int stream, const char *text, size_t len)
{
	char hdr[LOG_HDR_MAX];
	struct timespec now;
	struct iovec iov[3];
	size_t total, done = 0;
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	rec_time_format((int64_t) now.tv_sec * 1000000000 + now.tv_nsec, hdr, LOG_TS_MAX);
	n = (int) strlen(hdr);
	n += snprintf(hdr + n, sizeof(hdr) - (size_t) n, " %s ", stream == LOG_STDERR ? "stderr" : "stdout");
	total = (size_t) n + len + 1;

	if (s->console_fd >= 0) {
		struct iovec c[4] = {
			{ s->name, strlen(s->name) }, { (void *) " | ", 3 }, { (void *) text, len },
			{ (void *) "\n", 1 },
		};
		/* A slow console drops lines (EAGAIN) rather than stall the supervisor; the
		 * file keeps them. */
		ssize_t w = writev(s->console_fd, c, 4);
		(void) w;
	}

	if (s->fd >= 0 && s->size > 0 && s->size + total > s->cap / 2)
		rotate(s);
	if (s->fd < 0 && open_current(s, false) < 0) {
		count_error(s, "open", errno);
		return;
	}
	iov[0] = (struct iovec){ hdr, (size_t) n };
	iov[1] = (struct iovec){ (void *) text, len };
	iov[2] = (struct iovec){ (void *) "\n", 1 };
	while (done < total) {
		struct iovec *v = iov;
		int cnt = 3;
		size_t skip = done;
		ssize_t w;
		/* After a short write, go on from where it stopped. */
		while (cnt && skip >= v->iov_len) {
			skip -= v->iov_len;
			v++;
			cnt--;
		}
		struct iovec first = *v;
		v->iov_base = (char *) v->iov_base + skip;
		v->iov_len -= skip;
		w = writev(s->fd, v, cnt);
		*v = first;
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			count_error(s, "write", w < 0 ? errno : ENOSPC);
			break;
		}
		done += (size_t) w;
	}
	s->size += done;
}

struct logsink *logsink_open(const char *dir, const char *id, const char *name, uint64_t cap,
			     int console_fd, struct berr **err)
{
	struct logsink *s;

	if (!paths_component_ok(id)) {
		berr_make(err, EINVAL, "logs: `%s` is not a container id", id);
		return NULL;
	}
	if (fs_mkdir_p(dir, 0700, err) < 0) {
		berr_wrap(err, "logs directory");
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		berr_make(err, ENOMEM, "logs of %s", name);
		return NULL;
	}
	if (str_copy(s->dir, sizeof(s->dir), dir) < 0 || logs_file(s->path, sizeof(s->path), dir, id, false) < 0 ||
	    logs_file(s->old, sizeof(s->old), dir, id, true) < 0) {
		free(s);
		berr_make(err, ENAMETOOLONG, "logs directory `%s`", dir);
		return NULL;
	}
	snprintf(s->name, sizeof(s->name), "%s", name && *name ? name : id);
	s->console_fd = console_fd;
	s->cap = cap < LOG_CAP_MIN ? LOG_CAP_MIN : cap;
	/* A line and its header fit in one half. */
	s->piece = s->cap / 2 - LOG_HDR_MAX < LOG_LINE_MAX ? s->cap / 2 - LOG_HDR_MAX : LOG_LINE_MAX;
	s->sync = fs_backed_by_storage(dir);
	if (open_current(s, false) < 0) {
		berr_make(err, errno, "open `%s`", s->path);
		free(s);
		return NULL;
	}
	return s;
}

void logsink_feed(struct logsink *s, int stream, const char *buf, size_t len)
{
	struct line_buf *b;

	if (s == NULL)
		return;
	b = &s->line[stream == LOG_STDERR];
	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t) (nl - buf) : len;

		/* Too long for one line: store full pieces. */
		while (b->len + n > s->piece) {
			size_t take = s->piece - b->len;
			if (b->len == 0) {
				emit(s, stream, buf, take);
			} else {
				memcpy(b->buf + b->len, buf, take);
				emit(s, stream, b->buf, s->piece);
				b->len = 0;
			}
			buf += take;
			n -= take;
			len -= take;
		}
		if (nl) {
			if (b->len) {
				memcpy(b->buf + b->len, buf, n);
				emit(s, stream, b->buf, b->len + n);
				b->len = 0;
			} else {
				emit(s, stream, buf, n);
			}
			buf += n + 1;
			len -= n + 1;
		} else {
			memcpy(b->buf + b->len, buf, n);
			b->len += n;
			len = 0;
		}
	}
}

uint64_t logsink_errors(const struct logsink *s)
{
	return s ? s->errors : 0;
}

void logsink_close(struct logsink *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < 2; i++)
		if (s->line[i].len) {
			emit(s, i ? LOG_STDERR : LOG_STDOUT, s->line[i].buf, s->line[i].len);
			s->line[i].len = 0;
		}
	if (s->fd >= 0) {
		/* Once per container run, so the last lines before a stop survive a power cut. */
		if (s->sync && fsync(s->fd) < 0)
			count_error(s, "fsync", errno);
		close(s->fd);
	}
	free(s);
}

int logs_dir(const struct berth_config *cfg, char *buf, size_t size)
{
	return paths_logs_dir(buf, size, cfg->logs.persist);
}

int logs_file(char *buf, size_t size, const char *dir, const char *id, bool old)
{
	int n;

	if (!paths_component_ok(id)) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, size, "%s/%s.log%s", dir, id, old ? ".1" : "");
	if (n < 0 || (size_t) n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

void logs_remove(const char *dir, const char *id)
{
	char path[PATH_MAX];

	for (int old = 0; old < 2; old++)
		if (logs_file(path, sizeof(path), dir, id, old) == 0 && unlink(path) < 0 && errno != ENOENT)
			log_warn("remove `%s`: %s", path, strerror(errno));
}

void logs_forget(const char *id)
{
	char dir[PATH_MAX];

	for (int persist = 0; persist < 2; persist++)
		if (paths_logs_dir(dir, sizeof(dir), persist) == 0)
			logs_remove(dir, id);
}

int logs_parse_line(const char *line, size_t len, struct log_entry *out)
{
	const char *sp = memchr(line, ' ', len < LOG_TS_MAX ? len : LOG_TS_MAX);
	char ts[LOG_TS_MAX];
	size_t tl, rest;

	if (sp == NULL)
		return -1;
	tl = (size_t) (sp - line);
	memcpy(ts, line, tl);
	ts[tl] = '\0';
	if (rec_time_parse(ts, &out->time_ns) < 0)
		return -1;
	rest = len - tl - 1;
	if (rest < 7 || sp[7] != ' ')
		return -1;
	if (memcmp(sp + 1, "stdout", 6) == 0)
		out->stream = LOG_STDOUT;
	else if (memcmp(sp + 1, "stderr", 6) == 0)
		out->stream = LOG_STDERR;
	else
		return -1;
	out->ts = line;
	out->ts_len = tl;
	out->text = sp + 8;
	out->text_len = rest - 7;
	return 0;
}

size_t logs_scan(const char *data, size_t len, int (*fn)(const struct log_entry *e, void *arg),
		 void *arg)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		struct log_entry e;
		size_t end;

		if (nl == NULL)
			break;
		end = (size_t) (nl - data) + 1;
		if (logs_parse_line(data + pos, end - 1 - pos, &e) == 0 && fn(&e, arg) != 0)
			return end;
		pos = end;
	}
	return pos;
}
