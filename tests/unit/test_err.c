/* Unit tests for core/base/err.c: building, wrapping, keeping the first error, reporting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"

static void test_make_without_errno(void **state)
{
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(berr_make(&err, 0, "open `%s`", "x"), -1);
	assert_non_null(err);
	assert_string_equal(err->msg, "open `x`");
	assert_int_equal(err->errcode, 0);
	assert_int_equal(err->status, EXIT_BERTH);
	berr_free(err);
}

static void test_make_with_errno(void **state)
{
	struct berr *err = NULL;
	char want[256];

	(void) state;
	snprintf(want, sizeof(want), "open `/nope`: %s", strerror(ENOENT));
	assert_int_equal(berr_make(&err, ENOENT, "open `%s`", "/nope"), -1);
	assert_non_null(err);
	assert_string_equal(err->msg, want);
	assert_int_equal(err->errcode, ENOENT);
	assert_int_equal(err->status, EXIT_BERTH);
	berr_free(err);
}

static void test_make_errno_macro(void **state)
{
	struct berr *err = NULL;

	(void) state;
	errno = EACCES;
	assert_int_equal(berr_make_errno(&err, "write"), -1);
	assert_int_equal(err->errcode, EACCES);
	assert_non_null(strstr(err->msg, strerror(EACCES)));
	berr_free(err);
}

static void test_wrap_prefixes_context(void **state)
{
	struct berr *err = NULL;

	(void) state;
	berr_make(&err, 0, "origin");
	assert_int_equal(berr_wrap(&err, "middle %d", 2), -1);
	assert_int_equal(berr_wrap(&err, "outer `%s`", "ref"), -1);
	assert_string_equal(err->msg, "outer `ref`: middle 2: origin");
	berr_free(err);
}

static void test_wrap_without_error_is_harmless(void **state)
{
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(berr_wrap(&err, "context"), -1);
	assert_null(err);
	assert_int_equal(berr_wrap(NULL, "context"), -1);
}

static void test_first_error_is_kept(void **state)
{
	struct berr *err = NULL;

	(void) state;
	berr_make(&err, EIO, "first");
	assert_int_equal(berr_make(&err, ENOENT, "second"), -1);
	assert_int_equal(berr_usage(&err, "third"), -1);
	assert_int_equal(err->errcode, EIO);
	assert_int_equal(err->status, EXIT_BERTH);
	assert_true(strncmp(err->msg, "first: ", 7) == 0);
	assert_null(strstr(err->msg, "second"));
	berr_free(err);
}

static void test_null_err_pointer(void **state)
{
	(void) state;
	assert_int_equal(berr_make(NULL, ENOENT, "nobody wants %s", "this"), -1);
	assert_int_equal(berr_usage(NULL, "nor this"), -1);
	berr_free(NULL);
	assert_int_equal(berr_report(NULL), EXIT_OK);
}

static void test_usage_status(void **state)
{
	struct berr *err = NULL;

	(void) state;
	assert_int_equal(berr_usage(&err, "bad flag `%s`", "-x"), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_int_equal(err->status, 2);
	assert_int_equal(err->errcode, 0);
	assert_string_equal(err->msg, "bad flag `-x`");
	berr_free(err);
}

/* Run berr_report with stderr going into a pipe; return what it printed. */
static int report_captured(struct berr *err, char *out, size_t size)
{
	int fds[2], saved, status;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	close(fds[1]);
	status = berr_report(err);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	n = read(fds[0], out, size - 1);
	close(fds[0]);
	out[n > 0 ? n : 0] = '\0';
	return status;
}

static void test_report_returns_status_and_prints(void **state)
{
	struct berr *err = NULL;
	char text[512];

	(void) state;
	berr_usage(&err, "unknown option `-q`");
	assert_int_equal(report_captured(err, text, sizeof(text)), EXIT_USAGE);
	assert_string_equal(text, "berth: unknown option `-q`\n");

	err = NULL;
	berr_make(&err, ENOENT, "open `%s`", "/etc/x");
	berr_wrap(&err, "config");
	assert_int_equal(report_captured(err, text, sizeof(text)), EXIT_BERTH);
	assert_true(strncmp(text, "berth: config: open `/etc/x`: ", 30) == 0);
	assert_non_null(strstr(text, strerror(ENOENT)));

	/* The status set by the caller wins. */
	err = NULL;
	berr_make(&err, 0, "container exited");
	err->status = EXIT_FAILED;
	assert_int_equal(report_captured(err, text, sizeof(text)), EXIT_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_without_errno),
		cmocka_unit_test(test_make_with_errno),
		cmocka_unit_test(test_make_errno_macro),
		cmocka_unit_test(test_wrap_prefixes_context),
		cmocka_unit_test(test_wrap_without_error_is_harmless),
		cmocka_unit_test(test_first_error_is_kept),
		cmocka_unit_test(test_null_err_pointer),
		cmocka_unit_test(test_usage_status),
		cmocka_unit_test(test_report_returns_status_and_prints),
	};

	log_set_level(LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
