/* Signal names both ways, as --stop-signal and app files give them. */
#include "base/signame.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void test_parse(void **state)
{
	(void) state;
	assert_int_equal(sig_parse("SIGTERM"), SIGTERM);
	assert_int_equal(sig_parse("term"), SIGTERM);
	assert_int_equal(sig_parse("KILL"), SIGKILL);
	assert_int_equal(sig_parse("sigusr1"), SIGUSR1);
	assert_int_equal(sig_parse("15"), 15);
	assert_int_equal(sig_parse("SIGRTMIN+3"), SIGRTMIN + 3);
	assert_int_equal(sig_parse("RTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(sig_parse("0"), -1);
	assert_int_equal(sig_parse("999"), -1);
	assert_int_equal(sig_parse("SIGFOO"), -1);
	assert_int_equal(sig_parse("15x"), -1);
	assert_int_equal(sig_parse(""), -1);
	assert_int_equal(sig_parse(NULL), -1);
	assert_int_equal(sig_parse("RTMIN+99"), -1);
}

static void test_name(void **state)
{
	(void) state;
	assert_string_equal(sig_name(SIGTERM), "SIGTERM");
	assert_string_equal(sig_name(SIGKILL), "SIGKILL");
	assert_string_equal(sig_name(SIGRTMIN + 2), "SIGRTMIN+2");
	for (int s = 1; s < SIGRTMIN; s++)
		if (sig_name(s)[3] != '?')
			assert_int_equal(sig_parse(sig_name(s)), s == SIGIOT ? SIGABRT : s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
