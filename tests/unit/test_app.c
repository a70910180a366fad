/* Unit tests for core/supervisor/app.c and app_dir.c: every key and the `berth run` arguments
 * it becomes, the supervisor's own keys, quoting and JSON arrays, every error with its
 * file:line, the example apps shipped in rootfs/, and the directory as a set: unknown
 * dependencies, cycles, the start order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "base/err.h"
#include "base/fs.h"
#include "supervisor/app.h"

#define WEB "/etc/berth/apps/web.conf"
#define IMG "10.0.2.2:5000/berth/busybox:demo"

/* ---- helpers ---- */

static void parse_ok_as(const char *path, const char *text, struct app *a)
{
	struct berr *err = NULL;

	if (app_parse(path, text, strlen(text), a, &err) < 0)
		fail_msg("unexpected error: %s", err->msg);
	assert_null(err);
}

static void parse_ok(const char *text, struct app *a)
{
	parse_ok_as(WEB, text, a);
}

/* `text` must fail as a usage error whose message holds each NULL-terminated substring. */
static void parse_err_as(const char *path, const char *text, ...)
{
	struct berr *err = NULL;
	struct app a;
	const char *want;
	va_list ap;

	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(app_parse(path, text, strlen(text), &a, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, EXIT_USAGE);
	assert_null(a.name);
	assert_null(a.run_args);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL)
		if (strstr(err->msg, want) == NULL) {
			va_end(ap);
			fail_msg("error `%s`\n  does not contain `%s`", err->msg, want);
		}
	va_end(ap);
	berr_free(err);
}

#define parse_err(text, ...) parse_err_as(WEB, (text), __VA_ARGS__, NULL)

/* Index of the first run argument equal to s, or -1. */
static long arg_at(const struct app *a, const char *s)
{
	for (size_t i = 0; i < a->n_run_args; i++)
		if (strcmp(a->run_args[i], s) == 0)
			return (long) i;
	return -1;
}

/* The run arguments hold `opt value` as neighbours (anywhere before the image). */
static bool has_opt(const struct app *a, const char *opt, const char *value)
{
	long img = arg_at(a, a->image);

	for (long i = 0; i + 1 < img; i++)
		if (strcmp(a->run_args[i], opt) == 0 && strcmp(a->run_args[i + 1], value) == 0)
			return true;
	return false;
}

/* The image and what follows it, as one string with '|' between words. */
static void tail(const struct app *a, char *buf, size_t size)
{
	long img = arg_at(a, a->image);

	assert_true(img >= 0);
	buf[0] = '\0';
	for (size_t i = (size_t) img; i < a->n_run_args; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, "%s%s", i > (size_t) img ? "|" : "", a->run_args[i]);
	}
}

static void assert_tail(const char *text, const char *want)
{
	struct app a;
	char got[1024];

	parse_ok(text, &a);
	tail(&a, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("run args after the image: `%s`, wanted `%s`", got, want);
	app_free(&a);
}

/* ---- keys ---- */

static void test_minimal(void **state)
{
	struct app a;

	(void) state;
	parse_ok("[app]\nimage = " IMG "\n", &a);
	assert_string_equal(a.name, "web");
	assert_string_equal(a.file, WEB);
	assert_string_equal(a.image, IMG);
	assert_int_equal(a.pull, APP_PULL_MISSING);
	assert_int_equal(a.n_deps, 0);
	assert_false(a.health.set);
	assert_int_equal(a.health.interval_ms, -1);
	assert_int_equal(a.health.timeout_ms, -1);
	assert_int_equal(a.health.start_period_ms, -1);
	assert_int_equal(a.health.retries, -1);
	assert_int_equal(a.stop_timeout_ms, 10000);
	assert_int_equal(a.stop_signal, 0);
	assert_false(a.console);
	assert_int_equal(a.restart, REC_RESTART_NO);
	assert_non_null(a.hash);
	assert_int_equal(strlen(a.hash), 64);
	/* --name web --label berth.app=web --label berth.app.hash=H IMAGE */
	assert_int_equal(a.n_run_args, 7);
	assert_string_equal(a.run_args[0], "--name");
	assert_string_equal(a.run_args[1], "web");
	assert_true(has_opt(&a, "--label", "berth.app=web"));
	assert_string_equal(a.run_args[4], "--label");
	assert_true(strncmp(a.run_args[5], "berth.app.hash=", 15) == 0);
	assert_string_equal(a.run_args[5] + 15, a.hash);
	assert_string_equal(a.run_args[6], IMG);
	app_free(&a);
}

static void test_every_run_key(void **state)
{
	struct app a;

	(void) state;
	parse_ok("# comment\n; another\n[app]\n"
		 "image = " IMG "\n"
		 "environment = A=b c\n"
		 "environment = PASSED\n"
		 "env-file = web.env\n"
		 "env-file = /etc/common.env\n"
		 "volumes = data:/data\n"
		 "volumes = /srv/host:/srv:ro\n"
		 "volumes = /cache\n"
		 "tmpfs = /run:size=1m,mode=1777\n"
		 "memory = 64m\n"
		 "cpus = 0.5\n"
		 "pids-limit = 50\n"
		 "restart = on-failure:3\n"
		 "user = app:staff\n"
		 "workdir = /srv\n"
		 "hostname = web1\n"
		 "read-only = yes\n"
		 "cap-add = NET_ADMIN, sys_time\n"
		 "cap-drop = ALL\n"
		 "devices = /dev/ttyS1:/dev/ttyUSB0:rw\n"
		 "network = none\n"
		 "stop-signal = QUIT\n"
		 "labels = com.example.team=tools\n",
		 &a);
	assert_true(has_opt(&a, "-e", "A=b c"));
	assert_true(has_opt(&a, "-e", "PASSED"));
	/* A relative env file is beside the app file. */
	assert_true(has_opt(&a, "--env-file", "/etc/berth/apps/web.env"));
	assert_true(has_opt(&a, "--env-file", "/etc/common.env"));
	assert_true(has_opt(&a, "--volume", "data:/data"));
	assert_true(has_opt(&a, "--volume", "/srv/host:/srv:ro"));
	assert_true(has_opt(&a, "--volume", "/cache"));
	assert_true(has_opt(&a, "--tmpfs", "/run:size=1m,mode=1777"));
	assert_true(has_opt(&a, "--memory", "64m"));
	assert_true(has_opt(&a, "--cpus", "0.5"));
	assert_true(has_opt(&a, "--pids-limit", "50"));
	assert_true(has_opt(&a, "--restart", "on-failure:3"));
	assert_int_equal(a.restart, REC_RESTART_ON_FAILURE);
	assert_int_equal(a.restart_max, 3);
	assert_true(has_opt(&a, "--user", "app:staff"));
	assert_true(has_opt(&a, "--workdir", "/srv"));
	assert_true(has_opt(&a, "--hostname", "web1"));
	assert_true(arg_at(&a, "--read-only") >= 0);
	assert_true(has_opt(&a, "--cap-add", "NET_ADMIN"));
	assert_true(has_opt(&a, "--cap-add", "sys_time"));
	assert_true(has_opt(&a, "--cap-drop", "ALL"));
	assert_true(has_opt(&a, "--device", "/dev/ttyS1:/dev/ttyUSB0:rw"));
	assert_true(has_opt(&a, "--network", "none"));
	assert_true(has_opt(&a, "--stop-signal", "SIGQUIT"));
	assert_int_equal(a.stop_signal, SIGQUIT);
	assert_true(has_opt(&a, "--label", "com.example.team=tools"));
	/* Environment keeps its order: a later -e wins in berth run. */
	assert_true(arg_at(&a, "A=b c") < arg_at(&a, "PASSED"));
	/* Env files come before -e, so -e overrides them as Docker does. */
	assert_true(arg_at(&a, "/etc/common.env") < arg_at(&a, "A=b c"));
	app_free(&a);
}

static void test_restart_policies(void **state)
{
	static const struct {
		const char *v, *arg;
		enum rec_restart r;
	} cases[] = {
		{ "no", NULL, REC_RESTART_NO },
		{ "always", "always", REC_RESTART_ALWAYS },
		{ "unless-stopped", "unless-stopped", REC_RESTART_UNLESS_STOPPED },
		{ "on-failure", "on-failure", REC_RESTART_ON_FAILURE },
	};
	char text[256];

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct app a;
		snprintf(text, sizeof(text), "[app]\nimage = busybox\nrestart = %s\n", cases[i].v);
		parse_ok(text, &a);
		assert_int_equal(a.restart, cases[i].r);
		if (cases[i].arg)
			assert_true(has_opt(&a, "--restart", cases[i].arg));
		else
			assert_int_equal(arg_at(&a, "--restart"), -1);
		app_free(&a);
	}
}

static void test_supervisor_keys(void **state)
{
	struct app a;

	(void) state;
	parse_ok("[app]\nimage = busybox\n"
		 "pull = always\n"
		 "console = yes\n"
		 "stop-timeout = 1m30s\n"
		 "depends-on = db\n"
		 "depends-on = cache:healthy\n"
		 "depends-on = setup:completed\n"
		 "depends-on = legacy:service_healthy\n"
		 "health-cmd = wget -q -O- http://127.0.0.1:8080/ || exit 1\n"
		 "health-interval = 10s\n"
		 "health-timeout = 500ms\n"
		 "health-retries = 5\n"
		 "health-start-period = 1.5s\n",
		 &a);
	assert_int_equal(a.pull, APP_PULL_ALWAYS);
	assert_true(a.console);
	assert_int_equal(a.stop_timeout_ms, 90000);
	assert_int_equal(a.n_deps, 4);
	assert_string_equal(a.deps[0].name, "db");
	assert_int_equal(a.deps[0].cond, APP_DEP_STARTED);
	assert_int_equal(a.deps[0].line, 6);
	assert_string_equal(a.deps[1].name, "cache");
	assert_int_equal(a.deps[1].cond, APP_DEP_HEALTHY);
	assert_string_equal(a.deps[2].name, "setup");
	assert_int_equal(a.deps[2].cond, APP_DEP_COMPLETED);
	assert_int_equal(a.deps[3].cond, APP_DEP_HEALTHY);
	assert_true(a.health.set);
	assert_false(a.health.disabled);
	assert_int_equal(a.health.n_test, 2);
	assert_string_equal(a.health.test[0], "CMD-SHELL");
	assert_string_equal(a.health.test[1], "wget -q -O- http://127.0.0.1:8080/ || exit 1");
	assert_int_equal(a.health.interval_ms, 10000);
	assert_int_equal(a.health.timeout_ms, 500);
	assert_int_equal(a.health.retries, 5);
	assert_int_equal(a.health.start_period_ms, 1500);
	/* Of these, berth run takes only the stop timeout, in whole seconds. */
	assert_int_equal(arg_at(&a, "--health-cmd"), -1);
	assert_true(has_opt(&a, "--stop-timeout", "90"));
	assert_int_equal(a.n_run_args, 9);
	app_free(&a);

	parse_ok("[app]\nimage = busybox\npull = never\nconsole = no\nstop-timeout = 1500ms\n", &a);
	assert_int_equal(a.pull, APP_PULL_NEVER);
	assert_false(a.console);
	assert_int_equal(a.stop_timeout_ms, 1500);
	assert_true(has_opt(&a, "--stop-timeout", "2"));
	app_free(&a);
}

static void test_health_forms(void **state)
{
	struct app a;

	(void) state;
	parse_ok("[app]\nimage = busybox\nhealth-cmd = none\n", &a);
	assert_true(a.health.set);
	assert_true(a.health.disabled);
	assert_int_equal(a.health.n_test, 1);
	assert_string_equal(a.health.test[0], "NONE");
	app_free(&a);

	/* The exec form, as a command is written... */
	parse_ok("[app]\nimage = busybox\nhealth-cmd = [\"test\", \"-f\", \"/ok\"]\n", &a);
	assert_int_equal(a.health.n_test, 4);
	assert_string_equal(a.health.test[0], "CMD");
	assert_string_equal(a.health.test[1], "test");
	assert_string_equal(a.health.test[3], "/ok");
	app_free(&a);
	/* ...or as compose writes it. */
	parse_ok("[app]\nimage = busybox\nhealth-cmd = [\"CMD\", \"true\"]\n", &a);
	assert_int_equal(a.health.n_test, 2);
	assert_string_equal(a.health.test[0], "CMD");
	assert_string_equal(a.health.test[1], "true");
	app_free(&a);
	parse_ok("[app]\nimage = busybox\nhealth-cmd = [\"CMD-SHELL\", \"test -f /ok\"]\n", &a);
	assert_int_equal(a.health.n_test, 2);
	assert_string_equal(a.health.test[1], "test -f /ok");
	app_free(&a);
	parse_ok("[app]\nimage = busybox\nhealth-cmd = [\"NONE\"]\n", &a);
	assert_true(a.health.disabled);
	app_free(&a);
	/* Timing alone overrides the image's check without replacing its command. */
	parse_ok("[app]\nimage = busybox\nhealth-interval = 5s\n", &a);
	assert_false(a.health.set);
	assert_int_equal(a.health.interval_ms, 5000);
	app_free(&a);
}

/* ---- words ---- */

static void test_command_quoting(void **state)
{
	(void) state;
	assert_tail("[app]\nimage = busybox\ncommand = ls -l /data\n", "busybox|ls|-l|/data");
	assert_tail("[app]\nimage = busybox\ncommand = echo 'a  b' \"c d\" e\\ f\n",
		    "busybox|echo|a  b|c d|e f");
	/* Quotes join with what touches them; '' is an empty word. */
	assert_tail("[app]\nimage = busybox\ncommand = echo x'y z'w '' \"\"\n", "busybox|echo|xy zw||");
	/* Inside "...", a backslash escapes only \" \\ \$ and \`. */
	assert_tail("[app]\nimage = busybox\ncommand = echo \"a\\\"b\\\\c\\$d\\n\"\n",
		    "busybox|echo|a\"b\\c$d\\n");
	/* Inside '...', nothing is special. */
	assert_tail("[app]\nimage = busybox\ncommand = echo 'a\\b\"c'\n", "busybox|echo|a\\b\"c");
	/* No shell, no inline comment: ; # $ | reach the program. */
	assert_tail("[app]\nimage = busybox\ncommand = sh -c 'a ; b # c' ; $HOME | x\n",
		    "busybox|sh|-c|a ; b # c|;|$HOME|||x");
	/* Tabs separate words too; blanks around the value go. */
	assert_tail("[app]\nimage = busybox\ncommand =   a\tb   \n", "busybox|a|b");
}

static void test_json_arrays(void **state)
{
	(void) state;
	assert_tail("[app]\nimage = busybox\ncommand = [\"ls\", \"-l\", \"a b\"]\n", "busybox|ls|-l|a b");
	assert_tail("[app]\nimage = busybox\ncommand = [\"echo\", \"\\u00e9\\t\", \"\"]\n",
		    "busybox|echo|\xc3\xa9\t|");
	/* A word that starts with '[' is quoted. */
	assert_tail("[app]\nimage = busybox\ncommand = '[' -f /x ]\n", "busybox|[|-f|/x|]");
}

static void test_entrypoint(void **state)
{
	struct app a;

	(void) state;
	/* [a, b] with command [c]: --entrypoint a ... IMAGE b c. */
	parse_ok("[app]\nimage = busybox\nentrypoint = [\"sh\", \"-c\"]\ncommand = echo hi\n", &a);
	assert_true(has_opt(&a, "--entrypoint", "sh"));
	app_free(&a);
	assert_tail("[app]\nimage = busybox\nentrypoint = [\"sh\", \"-c\"]\ncommand = echo hi\n",
		    "busybox|-c|echo|hi");
	/* An entrypoint alone leaves no CMD (Docker clears it with --entrypoint). */
	assert_tail("[app]\nimage = busybox\nentrypoint = /bin/app --serve\n", "busybox|--serve");
	/* An empty entrypoint clears the image's. */
	parse_ok("[app]\nimage = busybox\nentrypoint = []\ncommand = ls\n", &a);
	assert_true(has_opt(&a, "--entrypoint", ""));
	app_free(&a);
	parse_ok("[app]\nimage = busybox\nentrypoint = ''\n", &a);
	assert_true(has_opt(&a, "--entrypoint", ""));
	app_free(&a);
}

static void test_values_quoted_and_long(void **state)
{
	struct app a;
	char *text, *big;
	size_t n = 3000;

	(void) state;
	/* A value wholly in double quotes keeps its blanks. */
	parse_ok("[app]\nimage = \"busybox\"\nenvironment = \"A= x \"\n", &a);
	assert_string_equal(a.image, "busybox");
	assert_true(has_opt(&a, "-e", "A= x "));
	app_free(&a);
	/* Leading blanks on a line, CRLF line ends and a byte order mark are fine. */
	parse_ok("\xEF\xBB\xBF[app]\r\n   image = busybox\r\n\tmemory = 8m\r\n", &a);
	assert_true(has_opt(&a, "--memory", "8m"));
	app_free(&a);
	/* A line far longer than inih's buffer. */
	big = malloc(n + 1);
	memset(big, 'x', n);
	big[n] = '\0';
	assert_true(asprintf(&text, "[app]\nimage = busybox\nenvironment = BIG=%s\n", big) > 0);
	parse_ok(text, &a);
	assert_int_equal(strlen(a.run_args[arg_at(&a, "-e") + 1]), n + 4);
	app_free(&a);
	free(text);
	free(big);
}

static void test_hash(void **state)
{
	struct app a, b, c, d;

	(void) state;
	/* The same content in another order and layout hashes the same... */
	parse_ok("[app]\nimage = busybox\nmemory = 8m\nconsole = yes\n", &a);
	parse_ok("# a comment\n[app]\n\nconsole = yes\n  memory = 8m\nimage = busybox\n", &b);
	assert_string_equal(a.hash, b.hash);
	/* ...a change to a run option or to a supervisor key does not. */
	parse_ok("[app]\nimage = busybox\nmemory = 9m\nconsole = yes\n", &c);
	parse_ok("[app]\nimage = busybox\nmemory = 8m\nconsole = yes\nstop-timeout = 3s\n", &d);
	assert_string_not_equal(a.hash, c.hash);
	assert_string_not_equal(a.hash, d.hash);
	assert_string_not_equal(c.hash, d.hash);
	app_free(&a);
	app_free(&b);
	app_free(&c);
	app_free(&d);
}

/* ---- errors ---- */

static void test_errors_values(void **state)
{
	(void) state;
	parse_err("[app]\nimage = busybox\nmemory = 64q\n", WEB ":3: memory: `64q`", "512m");
	parse_err("[app]\nimage = busybox\nmemory = 1m\n", WEB ":3: memory:", "minimum is 6m");
	parse_err("[app]\nimage = busybox\ncpus = lots\n", WEB ":3: cpus: `lots`");
	parse_err("[app]\nimage = busybox\npids-limit = x\n", WEB ":3: pids-limit: `x`", "-1 for unlimited");
	parse_err("[app]\nimage = busybox\nrestart = sometimes\n", WEB ":3: restart:", "on-failure");
	parse_err("[app]\nimage = busybox\npull = often\n", WEB ":3: pull: `often`: use missing, always or never");
	parse_err("[app]\nimage = busybox\nconsole = maybe\n", WEB ":3: console: `maybe`: use yes or no");
	parse_err("[app]\nimage = busybox\nread-only = 2\n", WEB ":3: read-only: `2`: use yes or no");
	parse_err("[app]\nimage = busybox\nstop-signal = SIGNOPE\n", WEB ":3: stop-signal: `SIGNOPE` is not a signal");
	parse_err("[app]\nimage = busybox\nstop-timeout = 10\n", WEB ":3: stop-timeout: `10` is not a duration", "1m30s");
	parse_err("[app]\nimage = busybox\nstop-timeout = 300h\n", WEB ":3: stop-timeout: `300h` is too long");
	parse_err("[app]\nimage = busybox\nhealth-interval = 0\n", WEB ":3: health-interval: `0` is too short");
	parse_err("[app]\nimage = busybox\nhealth-timeout = 1x\n", WEB ":3: health-timeout: `1x` is not a duration");
	parse_err("[app]\nimage = busybox\nhealth-start-period = -1s\n", WEB ":3: health-start-period:");
	parse_err("[app]\nimage = busybox\nhealth-retries = -1\n", WEB ":3: health-retries: `-1`");
	parse_err("[app]\nimage = busybox\nhealth-cmd =\n", WEB ":3: health-cmd: empty");
	parse_err("[app]\nimage = busybox\nhealth-cmd = []\n", WEB ":3: health-cmd: an empty list");
	parse_err("[app]\nimage = busybox\nhealth-cmd = [\"CMD-SHELL\", \"a\", \"b\"]\n",
		  WEB ":3: health-cmd:", "one command string");
	parse_err("[app]\nimage = busybox\nhealth-cmd = [\"CMD\"]\n", WEB ":3: health-cmd:", "needs a program");
	parse_err("[app]\nimage = busybox\nhealth-cmd = none\nhealth-retries = 3\n",
		  WEB ":4: health-retries: health-cmd = none (line 3)");
	parse_err("[app]\nimage = busybox\nvolumes = ./data:/data\n", WEB ":3: volumes: `./data:/data`",
		  "a host path must be absolute");
	parse_err("[app]\nimage = busybox\nvolumes = data:rel\n", WEB ":3: volumes:", "must be absolute");
	parse_err("[app]\nimage = busybox\nvolumes = data:/d:rx\n", WEB ":3: volumes:", "ro or rw");
	parse_err("[app]\nimage = busybox\ntmpfs = run\n", WEB ":3: tmpfs: `run`: use an absolute path");
	parse_err("[app]\nimage = busybox\nenvironment = =x\n", WEB ":3: environment: `=x`: use KEY=VALUE");
	parse_err("[app]\nimage = busybox\nenvironment = A B=c\n", WEB ":3: environment:", "blanks");
	parse_err("[app]\nimage = busybox\nenv-file =\n", WEB ":3: env-file: empty");
	parse_err("[app]\nimage = busybox\nuser = a b\n", WEB ":3: user: `a b`");
	parse_err("[app]\nimage = busybox\nworkdir = srv\n", WEB ":3: workdir: `srv`: use an absolute path");
	parse_err("[app]\nimage = busybox\nhostname = a b\n", WEB ":3: hostname: `a b`", "no blanks");
	parse_err("[app]\nimage = busybox\ncap-add = NET_ADMIN,CAP_FLY\n", WEB ":3: cap-add: `CAP_FLY` is not a capability");
	parse_err("[app]\nimage = busybox\ncap-drop = ,\n", WEB ":3: cap-drop:", "separated by commas");
	parse_err("[app]\nimage = busybox\ndevices = ttyS0\n", WEB ":3: devices: `ttyS0`", "/dev/HOST");
	parse_err("[app]\nimage = busybox\ndevices = /dev/ttyS0:rwx\n", WEB ":3: devices:");
	parse_err("[app]\nimage = busybox\nnetwork = bridge\n", WEB ":3: network: `bridge`: use host or none",
		  "not in berth yet");
	parse_err("[app]\nimage = busybox\nlabels = novalue\n", WEB ":3: labels: `novalue`: use KEY=VALUE");
	parse_err("[app]\nimage = busybox\nlabels = berth.app=x\n", WEB ":3: labels:", "berth's own label");
	parse_err("[app]\nimage = busybox\ndepends-on = db:ready\n", WEB ":3: depends-on: `db:ready`",
		  "started, healthy or completed");
	parse_err("[app]\nimage = busybox\ndepends-on = web\n", WEB ":3: depends-on:", "itself");
	parse_err("[app]\nimage = busybox\ndepends-on = db\ndepends-on = db:healthy\n",
		  WEB ":4: depends-on: `db` is named twice (line 3)");
	parse_err("[app]\nimage = busybox\ndepends-on = -x\n", WEB ":3: depends-on:", "not an app name");
	parse_err("[app]\nimage = Bad Name!\n", WEB ":2: image: `Bad Name!` is not an image name");
	parse_err("[app]\nimage =\n", WEB ":2: image: empty");
}

static void test_errors_words(void **state)
{
	(void) state;
	parse_err("[app]\nimage = busybox\ncommand = echo 'open\n", WEB ":3: command: the quote ' at column 6 is not closed");
	parse_err("[app]\nimage = busybox\ncommand = echo \"open\n", WEB ":3: command: the quote \" at column 6");
	parse_err("[app]\nimage = busybox\ncommand = echo \\\n", WEB ":3: command: a backslash ends the value");
	parse_err("[app]\nimage = busybox\ncommand = [\"ls\", 1]\n", WEB ":3: command: element 2 of the JSON array is not a string");
	parse_err("[app]\nimage = busybox\ncommand = [\"ls\"\n", WEB ":3: command: not a JSON array of strings");
	parse_err("[app]\nimage = busybox\ncommand = [ -f /x ]\n", WEB ":3: command: not a JSON array", "quote the '['");
	parse_err("[app]\nimage = busybox\ncommand =\n", WEB ":3: command: empty");
	parse_err("[app]\nimage = busybox\nentrypoint = [\"\", \"x\"]\n", WEB ":3: entrypoint: the program (first word) is empty");
}

static void test_errors_structure(void **state)
{
	(void) state;
	/* Unknown keys get the nearest known one, or the name app files use. */
	parse_err("[app]\nimage = busybox\nmemroy = 8m\n", WEB ":3: unknown key 'memroy' in [app]; did you mean 'memory'?");
	parse_err("[app]\nimage = busybox\ndepends_on = db\n", WEB ":3:", "did you mean 'depends-on'?");
	parse_err("[app]\nimage = busybox\nworking_dir = /x\n", WEB ":3: unknown key 'working_dir'; app files call it 'workdir'");
	parse_err("[app]\nimage = busybox\ncontainer_name = x\n", WEB ":3:", "its file's name");
	parse_err("[app]\nimage = busybox\nfrobnicate = 1\n", WEB ":3: unknown key 'frobnicate' in [app]; docs/apps.md");
	/* Sections. */
	parse_err("image = busybox\n[app]\n", WEB ":1: key 'image' is outside [app]; start the file with [app]");
	parse_err("[app]\nimage = busybox\n[app]\nmemory = 8m\n", WEB ":3: a second [app] section");
	parse_err("[app]\nimage = busybox\n[other]\nx = 1\n", WEB ":3: unknown section [other]");
	parse_err("[service]\nimage = busybox\n", WEB ":1: unknown section [service]; an app file has one [app] section");
	parse_err("[app\nimage = busybox\n", WEB ":1: section header is missing its closing ']'");
	parse_err("[app] x\nimage = busybox\n", WEB ":1: text after the section header");
	/* Lines. */
	parse_err("[app]\nimage = busybox\njust words\n", WEB ":3: expected `key = value`");
	parse_err("[app]\nimage = busybox\n= value\n", WEB ":3: expected `key = value`: the key is missing");
	/* Repeats of a one-value key. */
	parse_err("[app]\nimage = busybox\nmemory = 8m\nmemory = 9m\n",
		  WEB ":4: memory is set twice (first on line 3); it takes one value");
	parse_err("[app]\nimage = a\nimage = b\n", WEB ":3: image is set twice");
	/* The image is required: the error names the file. */
	parse_err("[app]\nmemory = 8m\n", WEB ": no image; add `image = NAME:TAG` under [app]");
	parse_err("", WEB ": no [app] section");
	parse_err("# only a comment\n", WEB ": no [app] section");
	/* Every error is reported, each on its line. */
	parse_err("[app]\nimage = busybox\nmemory = x\ncpus = y\n", WEB ":3: memory:", "\n" WEB ":4: cpus:");
	/* A NUL byte, and a line past the limit. */
	{
		const char text[] = "[app]\nimage = busy\0box\n";
		struct berr *err = NULL;
		struct app a;
		assert_int_equal(app_parse(WEB, text, sizeof(text) - 1, &a, &err), -1);
		assert_non_null(strstr(err->msg, WEB ":2: the line holds a NUL byte"));
		berr_free(err);
	}
	{
		size_t n = 5000;
		char *text = malloc(n + 32);
		strcpy(text, "[app]\nimage = ");
		memset(text + strlen(text), 'x', n);
		strcpy(text + 14 + n, "\n");
		parse_err(text, WEB ":2: the line is longer than 4096 bytes");
		free(text);
	}
}

static void test_errors_name(void **state)
{
	(void) state;
	parse_err_as("/etc/berth/apps/x.conf", "[app]\nimage = busybox\n", NULL);
	parse_err_as("/etc/berth/apps/bad name.conf", "[app]\nimage = busybox\n",
		     "/etc/berth/apps/bad name.conf: `bad name` is not a valid app name", NULL);
	parse_err_as("/etc/berth/apps/-x.conf", "[app]\nimage = busybox\n", "is not a valid app name", NULL);
}

/* ---- the shipped examples ---- */

static void test_examples(void **state)
{
	const char *dir = "rootfs/etc/berth/apps";
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	(void) state;
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char path[512], *text = NULL;
		size_t len = 0;
		struct berr *err = NULL;
		struct app a;

		if (strstr(de->d_name, ".conf") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (fs_read_file(path, APP_FILE_MAX, &text, &len, &err) < 0 ||
		    app_parse(path, text, len, &a, &err) < 0)
			fail_msg("%s", err->msg);
		assert_string_equal(a.image, IMG);
		assert_true(arg_at(&a, "--memory") >= 0);
		assert_true(arg_at(&a, "--volume") >= 0);
		app_free(&a);
		free(text);
		n++;
	}
	closedir(d);
	assert_true(n >= 2);
	{
		struct app_set s;
		struct app_errors e;
		struct berr *err = NULL;
		assert_int_equal(app_load_dir(dir, &s, &e, &err), 0);
		assert_int_equal(e.n, 0);
		assert_int_equal(s.n, (size_t) n);
		app_set_free(&s);
		app_errors_free(&e);
	}
}

/* ---- the directory ---- */

struct dirfix {
	char dir[64];
};

static int dir_setup(void **state)
{
	struct dirfix *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/berth-test-app.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int dir_teardown(void **state)
{
	struct dirfix *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void put(const struct dirfix *f, const char *name, const char *text)
{
	char path[256];
	struct berr *err = NULL;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (fs_write_atomic(path, text, strlen(text), 0644, &err) < 0)
		fail_msg("%s", err->msg);
}

static void load(const struct dirfix *f, struct app_set *s, struct app_errors *e)
{
	struct berr *err = NULL;

	if (app_load_dir(f->dir, s, e, &err) < 0)
		fail_msg("%s", err->msg);
}

static const char *error_of(const struct app_errors *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].name && strcmp(e->v[i].name, name) == 0)
			return e->v[i].msg;
	return NULL;
}

static void test_dir_missing_and_empty(void **state)
{
	struct dirfix *f = *state;
	struct app_set s;
	struct app_errors e;
	struct berr *err = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/nope", f->dir);
	assert_int_equal(app_load_dir(path, &s, &e, &err), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(e.n, 0);
	load(f, &s, &e);
	assert_int_equal(s.n, 0);
	/* A file where the directory should be cannot be read. */
	put(f, "notadir", "x");
	snprintf(path, sizeof(path), "%s/notadir", f->dir);
	assert_int_equal(app_load_dir(path, &s, &e, &err), -1);
	assert_non_null(strstr(err->msg, "apps directory"));
	berr_free(err);
}

static void test_dir_sorted_and_bad_files(void **state)
{
	struct dirfix *f = *state;
	struct app_set s;
	struct app_errors e;
	char path[256];

	put(f, "web.conf", "[app]\nimage = busybox\n");
	put(f, "api.conf", "[app]\nimage = busybox\n");
	put(f, "bad.conf", "[app]\nimage = busybox\nmemory = lots\n");
	put(f, "notes.txt", "not an app");
	put(f, ".hidden.conf", "[app]\n");
	load(f, &s, &e);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "api");
	assert_string_equal(s.v[1].name, "web");
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].name, "bad");
	snprintf(path, sizeof(path), "%s/bad.conf:3: memory:", f->dir);
	assert_non_null(strstr(e.v[0].msg, path));
	snprintf(path, sizeof(path), "%s/bad.conf", f->dir);
	assert_string_equal(e.v[0].file, path);
	app_set_free(&s);
	app_errors_free(&e);
}

static void test_dir_unknown_deps(void **state)
{
	struct dirfix *f = *state;
	struct app_set s;
	struct app_errors e;
	const char *m;

	put(f, "web.conf", "[app]\nimage = busybox\ndepends-on = db\n");
	put(f, "front.conf", "[app]\nimage = busybox\ndepends-on = web:healthy\n");
	put(f, "db.conf", "[app]\nimage = busybox\nmemory = lots\n");
	put(f, "alone.conf", "[app]\nimage = busybox\n");
	load(f, &s, &e);
	/* db fails, so web cannot start, so front cannot either. */
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].name, "alone");
	assert_int_equal(e.n, 3);
	m = error_of(&e, "web");
	assert_non_null(m);
	assert_non_null(strstr(m, "web.conf:3: depends-on: no app `db` is loaded"));
	m = error_of(&e, "front");
	assert_non_null(m);
	assert_non_null(strstr(m, "front.conf:3: depends-on: no app `web`"));
	app_set_free(&s);
	app_errors_free(&e);
}

static void test_dir_cycles(void **state)
{
	struct dirfix *f = *state;
	struct app_set s;
	struct app_errors e;
	const char *m;

	put(f, "a1.conf", "[app]\nimage = busybox\ndepends-on = b1\n");
	put(f, "b1.conf", "[app]\nimage = busybox\n\ndepends-on = c1:healthy\n");
	put(f, "c1.conf", "[app]\nimage = busybox\ndepends-on = a1\n");
	put(f, "d1.conf", "[app]\nimage = busybox\ndepends-on = a1\n");  /* on the cycle */
	put(f, "e1.conf", "[app]\nimage = busybox\n");
	put(f, "f1.conf", "[app]\nimage = busybox\ndepends-on = e1\n");
	load(f, &s, &e);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0].name, "e1");
	assert_string_equal(s.v[1].name, "f1");
	assert_int_equal(e.n, 4);
	m = error_of(&e, "b1");
	assert_non_null(m);
	assert_non_null(strstr(m, "b1.conf:4: depends-on: a dependency cycle: a1 -> b1 -> c1 -> a1"));
	assert_non_null(error_of(&e, "a1"));
	assert_non_null(strstr(error_of(&e, "c1"), "a1 -> b1 -> c1 -> a1"));
	assert_non_null(strstr(error_of(&e, "d1"), "no app `a1`"));
	app_set_free(&s);
	app_errors_free(&e);
}

static void test_order(void **state)
{
	struct dirfix *f = *state;
	struct app_set s;
	struct app_errors e;
	struct berr *err = NULL;
	size_t order[8];
	char got[128] = "";

	/* web needs api and cache; api needs db; cache and db need nothing. */
	put(f, "web.conf", "[app]\nimage = busybox\ndepends-on = api\ndepends-on = cache\n");
	put(f, "api.conf", "[app]\nimage = busybox\ndepends-on = db:healthy\n");
	put(f, "db.conf", "[app]\nimage = busybox\n");
	put(f, "cache.conf", "[app]\nimage = busybox\n");
	put(f, "zz.conf", "[app]\nimage = busybox\n");
	load(f, &s, &e);
	assert_int_equal(e.n, 0);
	assert_int_equal(app_order(&s, order, &err), 0);
	for (size_t i = 0; i < s.n; i++) {
		strcat(got, s.v[order[i]].name);
		strcat(got, " ");
	}
	/* Dependencies first; among those ready, by name. */
	assert_string_equal(got, "cache db api web zz ");
	assert_int_equal(app_find(&s, "db"), 2);
	assert_int_equal(app_find(&s, "nope"), -1);
	app_set_free(&s);
	app_errors_free(&e);
}

static void test_order_errors(void **state)
{
	struct app_set s = { 0 };
	struct app v[2];
	struct berr *err = NULL;
	size_t order[2];

	(void) state;
	parse_ok_as("/x/a1.conf", "[app]\nimage = busybox\ndepends-on = b1\n", &v[0]);
	parse_ok_as("/x/b1.conf", "[app]\nimage = busybox\ndepends-on = a1\n", &v[1]);
	s.v = v;
	s.n = 2;
	assert_int_equal(app_order(&s, order, &err), -1);
	assert_non_null(strstr(err->msg, "cycle"));
	berr_free(err);
	err = NULL;
	s.n = 1;
	assert_int_equal(app_order(&s, order, &err), -1);
	assert_non_null(strstr(err->msg, "/x/a1.conf: depends-on: no app `b1`"));
	berr_free(err);
	app_free(&v[0]);
	app_free(&v[1]);
	/* An empty set has an empty order. */
	s.n = 0;
	assert_int_equal(app_order(&s, order, NULL), 0);
}

/* ---- the shared duration parser app files brought ---- */

static void test_durations(void **state)
{
	uint64_t ms;

	(void) state;
	assert_int_equal(parse_duration_go_ms("1m30s", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(parse_duration_go_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(parse_duration_go_ms("1.5h", &ms), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(parse_duration_go_ms("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(parse_duration_go_ms("2500us", &ms), 0);
	assert_int_equal(ms, 2);
	assert_int_equal(parse_duration_go_ms("10", &ms), -1);
	assert_int_equal(parse_duration_go_ms("", &ms), -1);
	assert_int_equal(parse_duration_go_ms("s", &ms), -1);
	assert_int_equal(parse_duration_go_ms("1d", &ms), -1);
	assert_int_equal(parse_duration_go_ms("99999999999999999999h", &ms), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_every_run_key),
		cmocka_unit_test(test_restart_policies),
		cmocka_unit_test(test_supervisor_keys),
		cmocka_unit_test(test_health_forms),
		cmocka_unit_test(test_command_quoting),
		cmocka_unit_test(test_json_arrays),
		cmocka_unit_test(test_entrypoint),
		cmocka_unit_test(test_values_quoted_and_long),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_words),
		cmocka_unit_test(test_errors_structure),
		cmocka_unit_test(test_errors_name),
		cmocka_unit_test(test_examples),
		cmocka_unit_test_setup_teardown(test_dir_missing_and_empty, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_dir_sorted_and_bad_files, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_dir_unknown_deps, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_dir_cycles, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_order, dir_setup, dir_teardown),
		cmocka_unit_test(test_order_errors),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
