/* Unit tests for core/runtime/rlimit.c: --ulimit parsing with Docker's names, errors naming the
 * option, later values replacing earlier ones, and applying in a child. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "runtime/rlimit.h"

static struct rlimit_entry parse_ok(const char *s)
{
	struct rlimit_entry e;
	struct berr *err = NULL;

	if (rlimit_parse(s, &e, &err) < 0)
		fail_msg("`%s`: %s", s, err->msg);
	return e;
}

static void test_parse(void **state)
{
	struct rlimit_entry e;

	(void) state;
	e = parse_ok("nofile=1024:2048");
	assert_int_equal(e.resource, RLIMIT_NOFILE);
	assert_int_equal(e.limit.rlim_cur, 1024);
	assert_int_equal(e.limit.rlim_max, 2048);
	e = parse_ok("nproc=512");
	assert_int_equal(e.resource, RLIMIT_NPROC);
	assert_int_equal(e.limit.rlim_cur, 512);
	assert_int_equal(e.limit.rlim_max, 512);
	e = parse_ok("core=-1");
	assert_true(e.limit.rlim_cur == RLIM_INFINITY && e.limit.rlim_max == RLIM_INFINITY);
	e = parse_ok("memlock=0:unlimited");
	assert_int_equal(e.limit.rlim_cur, 0);
	assert_true(e.limit.rlim_max == RLIM_INFINITY);
	static const char *const names[] = { "core", "cpu", "data", "fsize", "locks", "memlock",
		"msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending",
		"stack" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char s[32];
		snprintf(s, sizeof(s), "%s=1", names[i]);
		e = parse_ok(s);
		assert_string_equal(rlimit_name(e.resource), names[i]);
	}
	assert_null(rlimit_name(RLIMIT_AS)); /* not one of Docker's names */
}

static void parse_fails(const char *s, const char *want)
{
	struct rlimit_entry e;
	struct berr *err = NULL;

	assert_int_equal(rlimit_parse(s, &e, &err), -1);
	assert_int_equal(err->status, EXIT_USAGE);
	if (strstr(err->msg, want) == NULL)
		fail_msg("`%s` does not say `%s`", err->msg, want);
	assert_non_null(strstr(err->msg, "--ulimit"));
	berr_free(err);
}

static void test_errors(void **state)
{
	(void) state;
	parse_fails("nofile", "expected name=soft[:hard]");
	parse_fails("as=10", "unknown limit `as`");
	parse_fails("=10", "unknown limit ``");
	parse_fails("nofile=", "decimal numbers");
	parse_fails("nofile=1k", "decimal numbers");
	parse_fails("nofile=1:", "decimal numbers");
	parse_fails("nofile=1:2:3", "decimal numbers");
	parse_fails("nofile=-2", "decimal numbers");
	parse_fails("nofile=99999999999999999999", "decimal numbers");
	parse_fails("nofile=2048:1024", "must not exceed");
	parse_fails("nofile=unlimited:10", "must not exceed");
}

static void test_set_and_apply(void **state)
{
	struct rlimit_entry tab[RLIMIT_ENTRIES_MAX], e;
	size_t n = 0;
	int status;
	pid_t pid;

	(void) state;
	e = parse_ok("nofile=100:200");
	rlimit_set(tab, &n, &e);
	e = parse_ok("core=0");
	rlimit_set(tab, &n, &e);
	e = parse_ok("nofile=64:128"); /* the later one wins */
	rlimit_set(tab, &n, &e);
	assert_int_equal(n, 2);
	assert_int_equal(tab[0].limit.rlim_cur, 64);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct berr *err = NULL;
		struct rlimit r;
		if (rlimit_apply(tab, n, &err) < 0)
			_exit(1);
		if (getrlimit(RLIMIT_NOFILE, &r) < 0 || r.rlim_cur != 64 || r.rlim_max != 128)
			_exit(2);
		if (getrlimit(RLIMIT_CORE, &r) < 0 || r.rlim_cur != 0)
			_exit(3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_set_and_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
