/* `berth logs`: a container's output as the supervisor stored it (supervisor/logs.h), both files
 * in order, stdout lines to stdout and stderr lines to stderr as Docker prints them; -f follows
 * through rotations until the container stops. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "runtime/record.h"
#include "supervisor/logs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { O_FOLLOW = 1, O_TAIL, O_TIMESTAMPS, O_SINCE };

const struct cli_opt cmd_logs_opts[] = {
	{ O_FOLLOW, 'f', "follow", NULL, "Follow log output until the container stops" },
	{ O_TAIL, 'n', "tail", "string", "Number of lines to show from the end of the logs (or all)" },
	{ O_TIMESTAMPS, 't', "timestamps", NULL, "Show timestamps" },
	{ O_SINCE, 0, "since", "string", "Show logs since a timestamp (2024-01-02T15:04:05Z) or for "
	  "a duration back (42m)" },
	{ 0, 0, NULL, NULL, NULL },
};

#define POLL_MS 200
#define READ_MAX (1u << 30) /* bytes read from one log file at once */

struct logs_opts {
	bool follow, timestamps;
	long long tail;         /* -1: all */
	int64_t since;          /* ns; 0: from the start */
};

struct printer {
	const struct logs_opts *o;
	long long skip;         /* lines still to pass over (--tail) */
	long long count;        /* lines counted (the counting pass) */
	bool counting;
};

static int print_entry(const struct log_entry *e, void *arg)
{
	struct printer *p = arg;
	FILE *out = e->stream == LOG_STDERR ? stderr : stdout;

	if (e->time_ns < p->o->since)
		return 0;
	if (p->counting) {
		p->count++;
		return 0;
	}
	if (p->skip > 0) {
		p->skip--;
		return 0;
	}
	if (p->o->timestamps) {
		fwrite(e->ts, 1, e->ts_len, out);
		fputc(' ', out);
	}
	fwrite(e->text, 1, e->text_len, out);
	fputc('\n', out);
	return 0;
}

/* All of fd from its current offset, appended to *buf (*len bytes so far). */
static int read_rest(int fd, const char *path, char **buf, size_t *len, size_t *cap, struct berr **err)
{
	for (;;) {
		ssize_t n;
		if (*cap - *len < 65536) {
			if (*cap >= READ_MAX)
				return berr_make(err, EFBIG, "read `%s`: larger than %u bytes", path, READ_MAX);
			*cap = *cap ? *cap * 2 : 65536;
			*buf = xrealloc(*buf, *cap);
		}
		n = read(fd, *buf + *len, *cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return berr_make(err, errno, "read `%s`", path);
		if (n == 0)
			return 0;
		*len += (size_t) n;
	}
}

static int open_log(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Is the container still running? A record gone (removed) is not. */
static bool still_running(const char *id)
{
	struct berr *err = NULL;
	struct rec r;
	bool running;

	if (rec_load(id, &r, &err) < 0) {
		berr_free(err);
		return false;
	}
	running = r.st.status == REC_RUNNING && !r.broken;
	rec_free(&r);
	return running;
}

/* Follow <id>.log from `fd` (-1: not there yet), `pending` holding bytes of a line not yet
 * complete, until the container stops. A rotation shows as a new file at the path: the old
 * one is read to its end first. */
static int follow(const char *id, const char *dir, const char *cur_path, int fd, char *pending,
		  size_t plen, size_t pcap, struct printer *p, struct berr **err)
{
	int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	int64_t last_check = 0;
	bool last_round = false;
	int ret = 0;

	/* Without inotify (a kernel without it), polling every POLL_MS does the same. */
	if (in >= 0 && inotify_add_watch(in, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
		close(in);
		in = -1;
	}
	for (;;) {
		size_t used;

		if (fd < 0)
			fd = open_log(cur_path);
		if (fd >= 0) {
			if (read_rest(fd, cur_path, &pending, &plen, &pcap, err) < 0) {
				ret = -1;
				break;
			}
			used = logs_scan(pending, plen, print_entry, p);
			if (used)
				memmove(pending, pending + used, plen - used);
			plen -= used;
			fflush(stdout);
			fflush(stderr);
			if (!same_file(fd, cur_path)) {
				/* Rotated: the old file is complete; what is left of it was no line. */
				if (read_rest(fd, cur_path, &pending, &plen, &pcap, err) < 0) {
					ret = -1;
					break;
				}
				logs_scan(pending, plen, print_entry, p);
				plen = 0;
				close(fd);
				fd = -1;
				continue;
			}
		}
		if (last_round)
			break;
		if (now_ns(CLOCK_MONOTONIC) - last_check >= (int64_t) POLL_MS * 1000000) {
			last_check = now_ns(CLOCK_MONOTONIC);
			if (!still_running(id)) {
				last_round = true; /* read what the last moments wrote, then stop */
				continue;
			}
		}
		if (in >= 0) {
			struct pollfd pfd = { in, POLLIN, 0 };
			char ev[4096];
			if (poll(&pfd, 1, POLL_MS) > 0)
				while (read(in, ev, sizeof(ev)) > 0)
					;
		} else {
			struct timespec ts = { 0, POLL_MS * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	if (in >= 0)
		close(in);
	if (fd >= 0)
		close(fd);
	free(pending);
	return ret;
}

static int show(const struct rec *r, const char *dir, const struct logs_opts *o, struct berr **err)
{
	char cur_path[PATH_MAX], old_path[PATH_MAX];
	_cleanup_free_ char *old_buf = NULL;
	char *cur_buf = NULL;
	size_t old_len = 0, old_cap = 0, cur_len = 0, cur_cap = 0, used;
	int cur = -1, old = -1, ret = -1;
	struct printer p = { .o = o };

	if (logs_file(cur_path, sizeof(cur_path), dir, r->cfg.id, false) < 0 ||
	    logs_file(old_path, sizeof(old_path), dir, r->cfg.id, true) < 0)
		return berr_make(err, errno, "logs directory `%s`", dir);
	/* The current file first: if it rotates before the older one is opened, the older one is
	 * what was just read as current, and the current one is opened again. */
	cur = open_log(cur_path);
	old = open_log(old_path);
	if (cur >= 0 && old >= 0 && same_file(old, old_path) && !same_file(cur, cur_path)) {
		close(cur);
		cur = open_log(cur_path);
	}
	if (old >= 0 && read_rest(old, old_path, &old_buf, &old_len, &old_cap, err) < 0)
		goto out;
	if (cur >= 0 && read_rest(cur, cur_path, &cur_buf, &cur_len, &cur_cap, err) < 0)
		goto out;
	if (o->tail >= 0) {
		p.counting = true;
		logs_scan(old_buf, old_len, print_entry, &p);
		logs_scan(cur_buf, cur_len, print_entry, &p);
		p.counting = false;
		p.skip = p.count > o->tail ? p.count - o->tail : 0;
	}
	logs_scan(old_buf, old_len, print_entry, &p);
	used = logs_scan(cur_buf, cur_len, print_entry, &p);
	fflush(stdout);
	fflush(stderr);
	if (o->follow && r->st.status == REC_RUNNING) {
		if (used)
			memmove(cur_buf, cur_buf + used, cur_len - used);
		ret = follow(r->cfg.id, dir, cur_path, cur, cur_buf, cur_len - used, cur_cap, &p, err);
		cur = -1;
		cur_buf = NULL;
	} else {
		ret = 0;
	}
out:
	if (cur >= 0)
		close(cur);
	if (old >= 0)
		close(old);
	free(cur_buf);
	return ret;
}

static int parse_since(const char *v, int64_t *out, struct berr **err)
{
	uint64_t ms;
	char *end;
	long long secs;

	if (rec_time_parse(v, out) == 0)
		return 0;
	if (parse_duration_ms(v, &ms) == 0 && ms > 0) {
		*out = now_ns(CLOCK_REALTIME) - (int64_t) ms * 1000000;
		return 0;
	}
	errno = 0;
	secs = strtoll(v, &end, 10);
	if (*v && *end == '\0' && errno == 0 && secs >= 0 && secs < INT64_MAX / 1000000000) {
		*out = (int64_t) secs * 1000000000;
		return 0;
	}
	return berr_usage(err, "--since `%s`: use a time (2024-01-02T15:04:05Z), a Unix time in "
			  "seconds, or a duration (10s, 42m, 2h)", v);
}

int cmd_logs(struct cli_ctx *ctx, int argc, char **argv)
{
	struct logs_opts o = { .tail = -1 };
	struct berr *err = NULL;
	char dir[PATH_MAX];
	const char *value;
	struct args a;
	struct rec r;
	int id, ret;

	args_init(&a, cmd_logs_opts, argc, argv, "berth logs");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("logs"), stdout);
			return EXIT_OK;
		case O_FOLLOW: o.follow = true; break;
		case O_TIMESTAMPS: o.timestamps = true; break;
		case O_TAIL: {
			char *end;
			if (strcmp(value, "all") == 0) {
				o.tail = -1;
				break;
			}
			errno = 0;
			o.tail = strtoll(value, &end, 10);
			if (*value == '\0' || *end || errno || o.tail < 0) {
				berr_usage(&err, "--tail `%s`: use a number of lines or `all`", value);
				return berr_report(err);
			}
			break;
		}
		case O_SINCE:
			if (parse_since(value, &o.since, &err) < 0)
				return berr_report(err);
			break;
		}
	}
	if (argc - a.i != 1) {
		berr_usage(&err, "`berth logs` requires exactly one CONTAINER");
		return berr_report(err);
	}
	if (rec_find(argv[a.i], &r, &err) < 0)
		return berr_report(err);
	if (logs_dir(&ctx->cfg, dir, sizeof(dir)) < 0) {
		berr_make(&err, errno, "logs directory");
		rec_free(&r);
		return berr_report(err);
	}
	ret = show(&r, dir, &o, &err) < 0 ? berr_report(err) : EXIT_OK;
	rec_free(&r);
	return ret;
}
