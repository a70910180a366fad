/* Unit tests for init/: BusyBox init's signal conventions, the names last-shutdown records,
 * and [init] data-options split into mount(2) flags and file system options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <sys/mount.h>

#include "init.h"

static void test_signals_as_busybox_init(void **state)
{
	(void) state;
	assert_int_equal(init_signal_action(SIGUSR1), INIT_HALT);
	assert_int_equal(init_signal_action(SIGUSR2), INIT_POWEROFF);
	assert_int_equal(init_signal_action(SIGTERM), INIT_REBOOT);
	assert_int_equal(init_signal_action(SIGINT), INIT_REBOOT);
	assert_int_equal(init_signal_action(SIGHUP), INIT_NONE);
	assert_int_equal(init_signal_action(SIGCHLD), INIT_NONE);
	assert_int_equal(init_signal_action(SIGKILL), INIT_NONE);
}

static void test_action_names(void **state)
{
	(void) state;
	assert_string_equal(init_action_name(INIT_HALT), "halt");
	assert_string_equal(init_action_name(INIT_POWEROFF), "poweroff");
	assert_string_equal(init_action_name(INIT_REBOOT), "reboot");
	assert_string_equal(init_action_name(INIT_NONE), "none");
}

static void test_mount_options_flags_and_data(void **state)
{
	unsigned long flags;
	char data[64];

	(void) state;
	assert_int_equal(init_mount_options("noatime,ro,errors=remount-ro,nosuid,commit=30", &flags, data,
					    sizeof(data)), 0);
	assert_int_equal(flags, MS_NOATIME | MS_RDONLY | MS_NOSUID);
	assert_string_equal(data, "errors=remount-ro,commit=30");

	/* Later flags undo earlier ones, as mount(8) reads them. */
	assert_int_equal(init_mount_options("ro,rw,relatime,noatime", &flags, data, sizeof(data)), 0);
	assert_int_equal(flags, MS_NOATIME);
	assert_string_equal(data, "");

	/* Empty items and `defaults` are nothing. */
	assert_int_equal(init_mount_options(",defaults,,data=journal,", &flags, data, sizeof(data)), 0);
	assert_int_equal(flags, 0);
	assert_string_equal(data, "data=journal");

	assert_int_equal(init_mount_options(NULL, &flags, data, sizeof(data)), 0);
	assert_int_equal(flags, 0);
	assert_string_equal(data, "");
}

static void test_mount_options_too_long(void **state)
{
	unsigned long flags;
	char data[9];

	(void) state;
	assert_int_equal(init_mount_options("commit=30,barrier=1", &flags, data, sizeof(data)), -1);
	assert_int_equal(init_mount_options("noatime,commit=3", &flags, data, sizeof(data)), 0);
	assert_string_equal(data, "commit=3");
	assert_int_equal(init_mount_options("commit=30", &flags, data, sizeof(data)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals_as_busybox_init),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_mount_options_flags_and_data),
		cmocka_unit_test(test_mount_options_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
