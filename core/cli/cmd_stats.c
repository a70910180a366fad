/* `berth stats`: CPU, memory and pids of running containers, read from their cgroups (v1 or
 * v2), as Docker's `stats` shows them: CPU % is the CPU time used between two samples about a
 * second apart over the wall time between them (100% is one CPU busy), memory leaves out the
 * page cache the kernel can drop, the limit is the board's memory when there is none. */
#include "cli.h"
#include "base/err.h"
#include "base/util.h"
#include "runtime/cgroup.h"
#include "runtime/record.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

enum { O_NO_STREAM = 1, O_FORMAT, O_ALL };

const struct cli_opt cmd_stats_opts[] = {
	{ O_ALL, 'a', "all", NULL, "Show all containers (default shows just running)" },
	{ O_FORMAT, 0, "format", "string", "Output format: table or json" },
	{ O_NO_STREAM, 0, "no-stream", NULL, "Disable streaming stats and only pull the first result" },
	{ 0, 0, NULL, NULL, NULL },
};

#define SAMPLE_MS 1000
#define NAME_W 16

struct target {
	char id[REC_ID_LEN + 1];
	char name[REC_NAME_MAX + 1];
	bool running;
	struct cg_handle h;
	bool have_cg;
	struct cg_stats prev, cur;
	int64_t prev_ns, cur_ns;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Docker's binary sizes: "1.523MiB", "64MiB", "0B". */
static void bytes_size(int64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes < 0 ? 0 : (double) bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	snprintf(buf, size, "%.4g%s", v, units[u]);
}

static uint64_t host_memory(void)
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return 0;
	return (uint64_t) si.totalram * si.mem_unit;
}

static void sample(struct target *t)
{
	struct berr *err = NULL;

	t->prev = t->cur;
	t->prev_ns = t->cur_ns;
	t->cur_ns = mono_ns();
	if (!t->have_cg || cg_stats(&t->h, &t->cur, &err) < 0) {
		berr_free(err);
		memset(&t->cur, 0xff, sizeof(t->cur)); /* -1 everywhere: unknown */
	}
}

/* The figures of one container, from its last two samples. */
struct figures {
	double cpu;              /* percent of one CPU; < 0 unknown */
	int64_t mem, limit;      /* bytes; < 0 unknown */
	double mem_pct;
	int64_t pids;
};

static void figures(const struct target *t, struct figures *f)
{
	int64_t dt = t->cur_ns - t->prev_ns;
	uint64_t host = host_memory();

	f->cpu = -1;
	if (t->running && t->prev_ns && dt > 0 && t->cur.cpu_usage_ns >= 0 && t->prev.cpu_usage_ns >= 0 &&
	    t->cur.cpu_usage_ns >= t->prev.cpu_usage_ns)
		f->cpu = (double) (t->cur.cpu_usage_ns - t->prev.cpu_usage_ns) * 100.0 / (double) dt;
	f->mem = t->cur.memory_current;
	if (f->mem >= 0 && t->cur.memory_inactive_file > 0 && t->cur.memory_inactive_file < f->mem)
		f->mem -= t->cur.memory_inactive_file;
	f->limit = t->cur.memory_limit;
	if (f->limit < 0 || (host && (uint64_t) f->limit > host))
		f->limit = host ? (int64_t) host : -1;
	f->mem_pct = f->mem >= 0 && f->limit > 0 ? (double) f->mem * 100.0 / (double) f->limit : -1;
	f->pids = t->cur.pids_current;
	if (!t->running) {
		f->mem = f->limit = f->pids = -1;
		f->mem_pct = -1;
	}
}

static void pct(double v, char *buf, size_t size)
{
	if (v < 0)
		snprintf(buf, size, "--");
	else
		snprintf(buf, size, "%.2f%%", v);
}

static void print_table(struct target *t, size_t n)
{
	printf("%-12s   %-*s  %7s  %-21s  %6s  %s\n", "CONTAINER ID", NAME_W, "NAME", "CPU %",
	       "MEM USAGE / LIMIT", "MEM %", "PIDS");
	for (size_t i = 0; i < n; i++) {
		struct figures f;
		char cpu[16], mem[16], lim[16], usage[40], mp[16], pids[24], name[NAME_W + 1];

		figures(&t[i], &f);
		pct(f.cpu, cpu, sizeof(cpu));
		pct(f.mem_pct, mp, sizeof(mp));
		if (f.mem >= 0 && f.limit >= 0) {
			bytes_size(f.mem, mem, sizeof(mem));
			bytes_size(f.limit, lim, sizeof(lim));
			snprintf(usage, sizeof(usage), "%s / %s", mem, lim);
		} else {
			snprintf(usage, sizeof(usage), "-- / --");
		}
		if (f.pids >= 0)
			snprintf(pids, sizeof(pids), "%lld", (long long) f.pids);
		else
			snprintf(pids, sizeof(pids), "--");
		/* A long name keeps its start and says it was cut. */
		if (strlen(t[i].name) > NAME_W)
			snprintf(name, sizeof(name), "%.*s~", NAME_W - 1, t[i].name);
		else
			snprintf(name, sizeof(name), "%s", t[i].name);
		printf("%.12s   %-*s  %7s  %-21s  %6s  %s\n", t[i].id, NAME_W, name, cpu, usage, mp, pids);
	}
}

static int print_json(struct target *t, size_t n, bool pretty)
{
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < n; i++) {
		struct figures f;
		char cpu[16], mem[16], lim[16], usage[40], mp[16], pids[24];
		json_t *o = json_object();

		figures(&t[i], &f);
		pct(f.cpu, cpu, sizeof(cpu));
		pct(f.mem_pct, mp, sizeof(mp));
		bytes_size(f.mem, mem, sizeof(mem));
		bytes_size(f.limit, lim, sizeof(lim));
		snprintf(usage, sizeof(usage), "%s / %s", mem, lim);
		snprintf(pids, sizeof(pids), "%lld", (long long) (f.pids < 0 ? 0 : f.pids));
		/* Docker's keys (strings), then the numbers behind them for scripts. */
		json_object_set_new(o, "Container", json_string(t[i].name));
		json_object_set_new(o, "ID", json_string(t[i].id));
		json_object_set_new(o, "Name", json_string(t[i].name));
		json_object_set_new(o, "CPUPerc", json_string(cpu));
		json_object_set_new(o, "MemUsage", json_string(usage));
		json_object_set_new(o, "MemPerc", json_string(mp));
		json_object_set_new(o, "NetIO", json_string("--"));
		json_object_set_new(o, "BlockIO", json_string("--"));
		json_object_set_new(o, "PIDs", json_string(pids));
		json_object_set_new(o, "Running", json_boolean(t[i].running));
		json_object_set_new(o, "CPUPercent", f.cpu < 0 ? json_null() : json_real(f.cpu));
		json_object_set_new(o, "MemoryUsage", f.mem < 0 ? json_null() : json_integer(f.mem));
		json_object_set_new(o, "MemoryLimit", f.limit < 0 ? json_null() : json_integer(f.limit));
		json_object_set_new(o, "PidsCurrent", f.pids < 0 ? json_null() : json_integer(f.pids));
		json_array_append_new(arr, o);
	}
	s = json_dumps(arr, (pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (s == NULL)
		return EXIT_BERTH;
	puts(s);
	free(s);
	return EXIT_OK;
}

static void target_from(struct target *t, const struct rec *r, const struct cg_system *sys)
{
	struct berr *err = NULL;

	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", r->cfg.id);
	snprintf(t->name, sizeof(t->name), "%s", r->cfg.name);
	t->running = r->st.status == REC_RUNNING && !r->broken;
	if (t->running && sys->version != CG_NONE) {
		t->have_cg = cg_open(sys, r->cfg.id, &t->h, &err) == 0;
		berr_free(err);
	}
}

/* The containers to show: the named ones, or every running one (every one with --all),
 * listed again at each round so new ones appear and stopped ones go. */
static int collect(char **names, size_t n_names, bool all, const struct cg_system *sys, struct target **out,
		   size_t *n_out, struct berr **err)
{
	struct target *t;
	size_t n = 0;

	if (n_names) {
		t = xcalloc(n_names, sizeof(*t));
		for (size_t i = 0; i < n_names; i++) {
			struct rec r;
			if (rec_find(names[i], &r, err) < 0) {
				free(t);
				return -1;
			}
			target_from(&t[n++], &r, sys);
			rec_free(&r);
		}
	} else {
		struct rec_list l;
		if (rec_list_load(&l, err) < 0)
			return -1;
		t = xcalloc(l.n ? l.n : 1, sizeof(*t));
		for (size_t i = 0; i < l.n; i++)
			if (all || (l.v[i].st.status == REC_RUNNING && !l.v[i].broken))
				target_from(&t[n++], &l.v[i], sys);
		rec_list_free(&l);
	}
	*out = t;
	*n_out = n;
	return 0;
}

/* Carry the previous round's samples over to the containers still shown. */
static void carry(struct target *to, size_t n_to, const struct target *from, size_t n_from)
{
	for (size_t i = 0; i < n_to; i++)
		for (size_t k = 0; k < n_from; k++)
			if (strcmp(to[i].id, from[k].id) == 0) {
				to[i].cur = from[k].cur;
				to[i].cur_ns = from[k].cur_ns;
				break;
			}
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cmd_stats(struct cli_ctx *ctx, int argc, char **argv)
{
	enum out_format fmt = OUT_TABLE;
	bool stream = true, all = false, tty = isatty(STDOUT_FILENO);
	struct berr *err = NULL;
	struct cg_system sys;
	struct target *t = NULL;
	const char *value;
	struct args a;
	size_t n = 0;
	int id;

	(void) ctx;
	args_init(&a, cmd_stats_opts, argc, argv, "berth stats");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("stats"), stdout);
			return EXIT_OK;
		case O_NO_STREAM: stream = false; break;
		case O_ALL: all = true; break;
		case O_FORMAT:
			if (cli_parse_format(value, &fmt, &err) < 0)
				return berr_report(err);
			break;
		}
	}
	if (cg_detect(&sys, NULL, &err) < 0)
		return berr_report(err);
	if (collect(argv + a.i, (size_t) (argc - a.i), all, &sys, &t, &n, &err) < 0)
		return berr_report(err);
	/* Two samples a second apart before the first figures: CPU % needs a span. */
	for (size_t i = 0; i < n; i++)
		sample(&t[i]);
	for (;;) {
		sleep_ms(SAMPLE_MS);
		for (size_t i = 0; i < n; i++)
			sample(&t[i]);
		if (tty && stream && fmt == OUT_TABLE)
			fputs("\033[2J\033[H", stdout); /* redraw in place, as Docker does */
		if (fmt == OUT_JSON)
			print_json(t, n, !stream);
		else
			print_table(t, n);
		if (!stream)
			break;
		if (!tty && fmt == OUT_TABLE)
			putchar('\n'); /* plain blocks, one per second */
		if (fflush(stdout) == EOF || ferror(stdout))
			break; /* the reader went away */
		{
			struct target *next;
			size_t nn;
			if (collect(argv + a.i, (size_t) (argc - a.i), all, &sys, &next, &nn, &err) < 0) {
				berr_free(err); /* a container removed meanwhile: keep the last list */
				err = NULL;
				continue;
			}
			carry(next, nn, t, n);
			free(t);
			t = next;
			n = nn;
		}
	}
	free(t);
	return EXIT_OK;
}
