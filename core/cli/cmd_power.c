/* `berth poweroff`, `berth reboot`, `berth halt`: ask PID 1 for a clean shutdown with BusyBox
 * init's signals (SIGUSR2, SIGTERM, SIGUSR1), or with -f sync and call reboot(2) at once. */
#include "cli.h"
#include "base/err.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/reboot.h>
#include <unistd.h>

enum { O_FORCE = 1 };

const struct cli_opt cmd_power_opts[] = {
	{ O_FORCE, 'f', "force", NULL, "Do not ask PID 1: sync and power off, reboot or halt at once" },
	{ 0, 0, NULL, NULL, NULL },
};

static const struct {
	const char *name;
	const char *verb;
	int sig;      /* to PID 1 */
	int cmd;      /* reboot(2) with -f */
} actions[] = {
	{ "poweroff", "power off", SIGUSR2, RB_POWER_OFF },
	{ "reboot", "reboot", SIGTERM, RB_AUTOBOOT },
	{ "halt", "halt", SIGUSR1, RB_HALT_SYSTEM },
};

/* PID 1 must be an init that reads these signals as BusyBox does (berth, or BusyBox itself):
 * systemd, for one, takes SIGUSR2 as "dump state" and SIGTERM as "re-execute". Its program is
 * read from /proc/1/exe, else (not readable in some sandboxes) from /proc/1/comm, where berth
 * started by the kernel as /init or /sbin/init shows as `init`. When neither says, refuse. */
static int check_pid1(const char *cmd, const char *verb, struct berr **err)
{
	static const char *const ok_exe[] = { "berth", "busybox" };
	static const char *const ok_comm[] = { "berth", "busybox", "init" };
	const char *const *ok = ok_exe;
	size_t n_ok = 2;
	char exe[4096] = "";
	const char *name;
	ssize_t n = readlink("/proc/1/exe", exe, sizeof(exe) - 1);

	if (n >= 0) {
		exe[n] = '\0';
	} else {
		FILE *f = fopen("/proc/1/comm", "re");

		if (f && fgets(exe, sizeof(exe), f))
			exe[strcspn(exe, "\n")] = '\0';
		if (f)
			fclose(f);
		ok = ok_comm;
		n_ok = 3;
	}
	if (exe[0] == '\0')
		return berr_usage(err, "cannot tell which program PID 1 is (no /proc?): use `berth %s -f` "
				  "to %s at once without stopping the apps", cmd, verb);
	name = strrchr(exe, '/');
	name = name ? name + 1 : exe;
	for (size_t i = 0; i < n_ok; i++)
		if (strcmp(name, ok[i]) == 0)
			return 0;
	return berr_usage(err, "PID 1 is `%s`, not berth, and may read the signal differently: use its "
			  "own command, or `berth %s -f` to %s at once without stopping the apps",
			  exe, cmd, verb);
}

int cmd_power(struct cli_ctx *ctx, int argc, char **argv)
{
	struct berr *err = NULL;
	const char *value;
	bool force = false;
	struct args a;
	char label[32];
	size_t k;
	int id;

	(void) ctx;
	for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
		if (strcmp(argv[0], actions[k].name) == 0)
			break;
	if (k == sizeof(actions) / sizeof(actions[0])) {
		berr_usage(&err, "unknown power command `%s`", argv[0]);
		return berr_report(err);
	}
	snprintf(label, sizeof(label), "berth %s", actions[k].name);
	args_init(&a, cmd_power_opts, argc, argv, label);
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find(actions[k].name), stdout);
			return EXIT_OK;
		}
		if (id == O_FORCE)
			force = true;
	}
	if (a.i < argc) {
		berr_usage(&err, "`%s` takes no arguments", label);
		return berr_report(err);
	}
	if (force) {
		sync();
		if (reboot(actions[k].cmd) < 0) {
			berr_make(&err, errno, "%s: reboot(2)%s", label,
				  errno == EPERM ? " (needs root: CAP_SYS_BOOT)" : "");
			return berr_report(err);
		}
		return EXIT_OK; /* halt returns here on some kernels */
	}
	if (check_pid1(actions[k].name, actions[k].verb, &err) < 0)
		return berr_report(err);
	if (kill(1, actions[k].sig) < 0) {
		berr_make(&err, errno, "%s: signal PID 1%s", label, errno == EPERM ? " (needs root)" : "");
		return berr_report(err);
	}
	return EXIT_OK;
}
