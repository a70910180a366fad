/* core/supervisor/logs.c: lines split as the container wrote them, long lines in pieces, the
 * cap held by rotation, partial lines flushed at close, the console mirror, the line parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/fs.h"
#include "supervisor/logs.h"

static char dir[64];

struct parsed {
	int stream;
	char *text;
	int64_t time_ns;
};

struct file_lines {
	struct parsed v[4096];
	size_t n;
	size_t bytes;
};

/* Every line of <dir>/<id>.log.1 then <id>.log; each must parse. */
static void read_lines(const char *id, struct file_lines *out)
{
	memset(out, 0, sizeof(*out));
	for (int old = 1; old >= 0; old--) {
		char path[PATH_MAX], *data = NULL;
		struct berr *err = NULL;
		size_t len = 0, pos = 0;

		assert_int_equal(logs_file(path, sizeof(path), dir, id, old), 0);
		if (access(path, F_OK) < 0)
			continue;
		assert_int_equal(fs_read_file(path, 1u << 24, &data, &len, &err), 0);
		out->bytes += len;
		while (pos < len) {
			char *nl = memchr(data + pos, '\n', len - pos);
			struct log_entry e;
			assert_non_null(nl); /* every stored line ends with a newline */
			assert_int_equal(logs_parse_line(data + pos, (size_t) (nl - data - pos), &e), 0);
			assert_true(out->n < 4096);
			out->v[out->n].stream = e.stream;
			out->v[out->n].text = strndup(e.text, e.text_len);
			out->v[out->n].time_ns = e.time_ns;
			out->n++;
			pos = (size_t) (nl - data) + 1;
		}
		free(data);
	}
}

static void free_lines(struct file_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	l->n = 0;
}

static struct logsink *open_sink(const char *id, uint64_t cap, int console)
{
	struct berr *err = NULL;
	struct logsink *s = logsink_open(dir, id, "web", cap, console, &err);

	if (s == NULL)
		fail_msg("logsink_open: %s", err->msg);
	return s;
}

static void feed(struct logsink *s, int stream, const char *text)
{
	logsink_feed(s, stream, text, strlen(text));
}

static void test_lines_split_across_reads(void **state)
{
	static struct file_lines l;
	struct logsink *s = open_sink("split", 1 << 20, -1);

	(void) state;
	feed(s, LOG_STDOUT, "hel");
	feed(s, LOG_STDERR, "oops: ");
	feed(s, LOG_STDOUT, "lo\nwor");
	feed(s, LOG_STDERR, "disk full\n");
	feed(s, LOG_STDOUT, "ld\n\nlast\n");
	feed(s, LOG_STDOUT, "tab\there\r\n");
	logsink_close(s);
	read_lines("split", &l);
	assert_int_equal(l.n, 6);
	/* In the order lines were completed, each with its stream. */
	assert_string_equal(l.v[0].text, "hello");
	assert_int_equal(l.v[0].stream, LOG_STDOUT);
	assert_string_equal(l.v[1].text, "oops: disk full");
	assert_int_equal(l.v[1].stream, LOG_STDERR);
	assert_string_equal(l.v[2].text, "world");
	assert_string_equal(l.v[3].text, "");
	assert_string_equal(l.v[4].text, "last");
	assert_string_equal(l.v[5].text, "tab\there\r");
	for (size_t i = 1; i < l.n; i++)
		assert_true(l.v[i].time_ns >= l.v[i - 1].time_ns);
	free_lines(&l);
}

static void test_partial_line_flushed_at_close(void **state)
{
	static struct file_lines l;
	struct logsink *s = open_sink("partial", 1 << 20, -1);

	(void) state;
	feed(s, LOG_STDOUT, "done\nno newline at the end");
	feed(s, LOG_STDERR, "half");
	logsink_close(s);
	read_lines("partial", &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].text, "done");
	assert_string_equal(l.v[1].text, "no newline at the end");
	assert_int_equal(l.v[1].stream, LOG_STDOUT);
	assert_string_equal(l.v[2].text, "half");
	assert_int_equal(l.v[2].stream, LOG_STDERR);
	free_lines(&l);
}

static void test_long_line_in_pieces(void **state)
{
	static struct file_lines l;
	size_t n = 2 * LOG_LINE_MAX + 100;
	char *big = malloc(n + 1);
	struct logsink *s = open_sink("long", 1 << 20, -1);

	(void) state;
	for (size_t i = 0; i < n; i++)
		big[i] = (char) ('a' + i % 26);
	big[n] = '\n';
	/* In odd-sized reads, as a pipe would give it. */
	for (size_t off = 0; off <= n; off += 777)
		logsink_feed(s, LOG_STDOUT, big + off, off + 777 <= n + 1 ? 777 : n + 1 - off);
	feed(s, LOG_STDOUT, "after\n");
	logsink_close(s);
	read_lines("long", &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(strlen(l.v[0].text), LOG_LINE_MAX);
	assert_int_equal(strlen(l.v[1].text), LOG_LINE_MAX);
	assert_int_equal(strlen(l.v[2].text), 100);
	assert_memory_equal(l.v[0].text, big, LOG_LINE_MAX);
	assert_memory_equal(l.v[1].text, big + LOG_LINE_MAX, LOG_LINE_MAX);
	assert_memory_equal(l.v[2].text, big + 2 * LOG_LINE_MAX, 100);
	assert_string_equal(l.v[3].text, "after");
	free_lines(&l);
	free(big);
}

static void test_rotation_keeps_the_cap_and_the_newest_lines(void **state)
{
	static struct file_lines l;
	const uint64_t cap = 16384;
	struct logsink *s = open_sink("rot", cap, -1);
	char line[64], path[PATH_MAX];
	struct stat cur, old;
	int last = 0;

	(void) state;
	for (int i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "line %d of the container\n", i);
		feed(s, i % 3 ? LOG_STDOUT : LOG_STDERR, line);
		assert_int_equal(logs_file(path, sizeof(path), dir, "rot", false), 0);
		assert_int_equal(stat(path, &cur), 0);
		assert_true((uint64_t) cur.st_size <= cap / 2);
	}
	logsink_close(s);
	assert_int_equal(logs_file(path, sizeof(path), dir, "rot", true), 0);
	assert_int_equal(stat(path, &old), 0);
	assert_true((uint64_t) old.st_size <= cap / 2);
	read_lines("rot", &l);
	assert_true(l.bytes <= cap);
	assert_true(l.bytes > cap / 2); /* the older half is kept, not thrown away */
	/* The newest lines, in order, without a gap. */
	assert_string_equal(l.v[l.n - 1].text, "line 1999 of the container");
	for (size_t i = 0; i < l.n; i++) {
		int k;
		assert_int_equal(sscanf(l.v[i].text, "line %d", &k), 1);
		if (i)
			assert_int_equal(k, last + 1);
		assert_int_equal(l.v[i].stream, k % 3 ? LOG_STDOUT : LOG_STDERR);
		last = k;
	}
	free_lines(&l);
}

static void test_small_cap_splits_lines_to_fit(void **state)
{
	static struct file_lines l;
	char *big = malloc(LOG_LINE_MAX);
	struct logsink *s = open_sink("tiny", 1, -1); /* raised to LOG_CAP_MIN */

	(void) state;
	memset(big, 'x', LOG_LINE_MAX - 1);
	big[LOG_LINE_MAX - 1] = '\n';
	logsink_feed(s, LOG_STDOUT, big, LOG_LINE_MAX);
	logsink_close(s);
	read_lines("tiny", &l);
	assert_true(l.bytes <= LOG_CAP_MIN);
	assert_true(l.n >= 2);
	for (size_t i = 0; i < l.n; i++)
		assert_true(strlen(l.v[i].text) < LOG_CAP_MIN / 2);
	free_lines(&l);
	free(big);
}

static void test_reopen_appends(void **state)
{
	static struct file_lines l;
	struct logsink *s = open_sink("again", 1 << 20, -1);

	(void) state;
	feed(s, LOG_STDOUT, "first run\n");
	logsink_close(s);
	s = open_sink("again", 1 << 20, -1);
	feed(s, LOG_STDOUT, "second run\n");
	logsink_close(s);
	read_lines("again", &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].text, "first run");
	assert_string_equal(l.v[1].text, "second run");
	free_lines(&l);
	logs_remove(dir, "again");
	read_lines("again", &l);
	assert_int_equal(l.n, 0);
	logs_remove(dir, "again"); /* nothing left: fine */
}

static void test_console_mirror(void **state)
{
	int p[2];
	char buf[256];
	ssize_t n;
	struct logsink *s;

	(void) state;
	assert_int_equal(pipe(p), 0);
	s = open_sink("mirror", 1 << 20, p[1]);
	feed(s, LOG_STDOUT, "up\npart");
	feed(s, LOG_STDERR, "err\n");
	logsink_close(s);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "web | up\nweb | err\nweb | part\n");
	close(p[0]);
}

static void test_open_errors(void **state)
{
	struct berr *err = NULL;

	(void) state;
	assert_null(logsink_open(dir, "../escape", "x", 1 << 20, -1, &err));
	assert_non_null(strstr(err->msg, "not a container id"));
	berr_free(err);
	err = NULL;
	assert_null(logsink_open("/proc/nonexistent/logs", "x", "x", 1 << 20, -1, &err));
	assert_non_null(err);
	berr_free(err);
	logsink_close(NULL);
}

static void test_parse_line(void **state)
{
	struct log_entry e;
	const char *ok = "2024-01-02T03:04:05.123456789Z stderr some text";
	const char *empty = "2024-01-02T03:04:05Z stdout ";

	(void) state;
	assert_int_equal(logs_parse_line(ok, strlen(ok), &e), 0);
	assert_int_equal(e.stream, LOG_STDERR);
	assert_int_equal(e.text_len, 9);
	assert_memory_equal(e.text, "some text", 9);
	assert_int_equal(e.ts_len, 30);
	assert_true(e.time_ns == INT64_C(1704164645123456789));
	assert_int_equal(logs_parse_line(empty, strlen(empty), &e), 0);
	assert_int_equal(e.text_len, 0);
	assert_int_equal(e.stream, LOG_STDOUT);
	static const char *const bad[] = {
		"", "x", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z stdout", "2024-01-02T03:04:05Z stdin x",
		"2024-01-02T03:04:05Z stdoutx", "garbage stdout x", "2024-13-02T03:04:05Z stdout x",
		"2024-01-02T03:04:05.1234567891Z stdout x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (logs_parse_line(bad[i], strlen(bad[i]), &e) == 0)
			fail_msg("`%s` parsed", bad[i]);
}

static int group_setup(void **state)
{
	(void) state;
	snprintf(dir, sizeof(dir), "/tmp/berth-test-logs.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	struct berr *err = NULL;

	(void) state;
	return fs_rm_rf(dir, &err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_across_reads),
		cmocka_unit_test(test_partial_line_flushed_at_close),
		cmocka_unit_test(test_long_line_in_pieces),
		cmocka_unit_test(test_rotation_keeps_the_cap_and_the_newest_lines),
		cmocka_unit_test(test_small_cap_splits_lines_to_fit),
		cmocka_unit_test(test_reopen_appends),
		cmocka_unit_test(test_console_mirror),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_parse_line),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
