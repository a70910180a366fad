/* `berth status`: what a technician asks first on the serial console: the supervisor's
 * uptime and memory, the apps' states, cgroup mode, data partition use, how the last boot
 * ended. */
#include "cli.h"
#include "client.h"
#include "base/err.h"

#include <stdio.h>
#include <string.h>

enum { O_FORMAT = 1 };

const struct cli_opt cmd_status_opts[] = {
	{ O_FORMAT, 0, "format", "string", "table (default) or json" },
	{ 0, 0, NULL, NULL, NULL },
};

static void human_size(double b, char *buf, size_t size)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (b >= 1024 && i < 4)
		b /= 1024, i++;
	snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", b, u[i]);
}

static void duration(long long ms, char *buf, size_t size)
{
	long long s = ms / 1000;
	if (s < 60)
		snprintf(buf, size, "%llds", s);
	else if (s < 3600)
		snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, size, "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(buf, size, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static long long num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) ? (long long) json_integer_value(v) : 0;
}

static const char *str(json_t *o, const char *k, const char *def)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : def;
}

int cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	enum out_format fmt = OUT_TABLE;
	struct berr *err = NULL;
	json_t *r = NULL, *svcs;
	const char *value;
	struct args a;
	char up[32], rss[32], used[32], total[32];
	size_t i;
	json_t *v;
	int id;

	(void) ctx;
	args_init(&a, cmd_status_opts, argc, argv, "berth status");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("status"), stdout);
			return EXIT_OK;
		}
		if (id == O_FORMAT && cli_parse_format(value, &fmt, &err) < 0)
			return berr_report(err);
	}
	if (client_call(json_pack("{s:s}", "cmd", "status"), &r, &err) < 0)
		return berr_report(err);
	if (fmt == OUT_JSON) {
		json_object_del(r, "ok");
		json_dumpf(r, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(r);
		return EXIT_OK;
	}
	duration(num(r, "uptime_ms"), up, sizeof(up));
	human_size((double) num(r, "rss_kb") * 1024, rss, sizeof(rss));
	printf("supervisor:    up %s, pid %lld%s, RSS %s\n", up, num(r, "pid"),
	       json_is_true(json_object_get(r, "pid1")) ? " (init)" : "", rss);
	printf("cgroup:        %s\n", str(r, "cgroup", "?"));
	if (json_object_get(r, "data_size")) {
		long long size = num(r, "data_size"), fr = num(r, "data_free");
		human_size((double) (size - fr), used, sizeof(used));
		human_size((double) size, total, sizeof(total));
		printf("data:          %s, %s used of %s (%lld%%)\n", str(r, "data_root", "?"), used, total,
		       size ? (size - fr) * 100 / size : 0);
	}
	printf("last shutdown: %s\n", str(r, "last_shutdown", "n/a"));
	svcs = json_object_get(r, "services");
	printf("apps:          %zu", json_array_size(svcs));
	{
		const char *k;
		json_t *c;
		json_object_foreach(json_object_get(r, "counts"), k, c)
			printf(", %lld %s", (long long) json_integer_value(c), k);
	}
	printf("\n\n%-20s %-10s %-7s %-8s %-5s %s\n", "NAME", "STATE", "PID", "RESTARTS", "EXIT", "NOTE");
	json_array_foreach(svcs, i, v) {
		char pid[16] = "-", exitc[16] = "-", note[80] = "";
		const char *st = str(v, "state", "?");
		if (num(v, "pid") > 0)
			snprintf(pid, sizeof(pid), "%lld", num(v, "pid"));
		if (strcmp(st, "exited") == 0 || strcmp(st, "backoff") == 0)
			snprintf(exitc, sizeof(exitc), "%lld", num(v, "exit_code"));
		if (json_is_true(json_object_get(v, "oom_killed")))
			snprintf(note, sizeof(note), "OOM-killed");
		else if (str(v, "error", NULL)) {
			/* "/etc/berth/apps/web.conf:3: ...": the file's name is enough here */
			const char *e = str(v, "error", ""), *colon = strchr(e, ':'), *slash = NULL;
			for (const char *p = e; *e == '/' && colon && p < colon; p++)
				if (*p == '/')
					slash = p;
			snprintf(note, sizeof(note), "%.24s", slash ? slash + 1 : e);
		}
		printf("%-20.20s %-10s %-7s %-8lld %-5s %s\n", str(v, "name", "?"), st, pid,
		       num(v, "restart_count"), exitc, note);
	}
	json_decref(r);
	return EXIT_OK;
}
