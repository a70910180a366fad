/* `berth ps` (`berth container ls`): the container records, as Docker lists containers, fitted
 * to an 80-column serial console. A record whose process vanished unwatched shows as exited,
 * and is corrected on flash on the way. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "runtime/record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { O_ALL = 1, O_QUIET, O_NO_TRUNC, O_FORMAT };

const struct cli_opt cmd_ps_opts[] = {
	{ O_ALL, 'a', "all", NULL, "Show all containers (default shows just running)" },
	{ O_FORMAT, 0, "format", "string", "Output format: table or json" },
	{ O_NO_TRUNC, 0, "no-trunc", NULL, "Don't truncate output" },
	{ O_QUIET, 'q', "quiet", NULL, "Only display container IDs" },
	{ 0, 0, NULL, NULL, NULL },
};

#define WIDTH 80
#define MIN_IMAGE 12
#define MIN_COMMAND 14  /* quotes included */
#define TIGHT_MIN 8     /* when even the minimums do not fit */

struct row {
	const struct rec *r;  /* not owned */
	char id[REC_ID_LEN + 1];
	char *image;
	char *command;        /* quoted */
	char created[40];
	char status[64];
	char *names;
};

/* Docker's durations: cli_human_since without " ago". */
static void human_duration(int64_t since_ns, char *buf, size_t size)
{
	size_t n;

	cli_human_since(since_ns / 1000000000, buf, size);
	n = strlen(buf);
	if (n > 4 && strcmp(buf + n - 4, " ago") == 0)
		buf[n - 4] = '\0';
}

static void status_text(const struct rec *r, char *buf, size_t size)
{
	char d[32];

	switch (r->st.status) {
	case REC_CREATED:
		snprintf(buf, size, "Created");
		break;
	case REC_RUNNING:
		human_duration(r->st.started, d, sizeof(d));
		snprintf(buf, size, "Up %s", d);
		break;
	case REC_EXITED:
		cli_human_since(r->st.finished / 1000000000, d, sizeof(d));
		if (r->st.exit_code == REC_EXIT_UNKNOWN)
			snprintf(buf, size, "Exited (?) %s", d);
		else
			snprintf(buf, size, "Exited (%d) %s", r->st.exit_code, d);
		break;
	default:
		snprintf(buf, size, "Dead");
		break;
	}
}

/* The command line as one string: argv joined by spaces. */
static char *command_line(const struct rec *r)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < r->cfg.argv.n; i++)
		len += strlen(r->cfg.argv.v[i]) + 1;
	s = xcalloc(1, len);
	for (size_t i = 0; i < r->cfg.argv.n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, r->cfg.argv.v[i]);
	}
	/* A control character would break the table (and the console). */
	for (char *p = s; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

/* Cut s to `width` columns with "..." at the end; a quoted string keeps its closing quote. */
static void fit(char *s, size_t width, bool quoted)
{
	size_t n = strlen(s);

	if (n <= width || width < 4)
		return;
	if (quoted && width >= 5) {
		strcpy(s + width - 4, "...\"");
		return;
	}
	strcpy(s + width - 3, "...");
}

static void widen(size_t *w, const char *s)
{
	if (strlen(s) > *w)
		*w = strlen(s);
}

/* Share `avail` columns between IMAGE and COMMAND, each at most what it needs. */
static void share(size_t avail, size_t *img, size_t *cmd)
{
	size_t half = avail / 2;

	if (*img + *cmd <= avail)
		return;
	if (*img <= half)
		*cmd = avail - *img;
	else if (*cmd <= avail - half)
		*img = avail - *cmd;
	else {
		*img = half;
		*cmd = avail - half;
	}
}

/* Ways to lay the table out, tried in order until one fits 80 columns: IMAGE and COMMAND
 * give way first, down to a useful minimum; then CREATED goes (STATUS still says since
 * when); then narrower gaps, then IMAGE and COMMAND shrink further, then COMMAND goes.
 * NAMES, what a technician types next, is cut only when nothing else is left. */
static const struct layout {
	int gap;
	bool created, command;
	size_t img_min, cmd_min;
} layouts[] = {
	{ 3, true, true, MIN_IMAGE, MIN_COMMAND },
	{ 3, false, true, MIN_IMAGE, MIN_COMMAND },
	{ 2, false, true, MIN_IMAGE, MIN_COMMAND },
	{ 2, false, true, TIGHT_MIN, TIGHT_MIN },
	{ 2, false, false, TIGHT_MIN, 0 },
};

static size_t min_of(size_t a, size_t b)
{
	return a < b ? a : b;
}

static void print_table(struct row *rows, size_t n, bool no_trunc)
{
	size_t w_id = strlen("CONTAINER ID"), w_img = strlen("IMAGE"), w_cmd = strlen("COMMAND"),
	       w_cr = strlen("CREATED"), w_st = strlen("STATUS"), w_nm = strlen("NAMES");
	const struct layout *lay = &layouts[0];
	size_t fixed = 0;

	for (size_t i = 0; i < n; i++) {
		widen(&w_id, rows[i].id);
		widen(&w_img, rows[i].image);
		widen(&w_cmd, rows[i].command);
		widen(&w_cr, rows[i].created);
		widen(&w_st, rows[i].status);
		widen(&w_nm, rows[i].names);
	}
	if (!no_trunc) {
		size_t img_min = 0, cmd_min = 0;
		for (size_t k = 0; k < ARRAY_SIZE(layouts); k++) {
			lay = &layouts[k];
			img_min = min_of(w_img, lay->img_min);
			cmd_min = lay->command ? min_of(w_cmd, lay->cmd_min) : 0;
			fixed = w_id + w_st + w_nm + (size_t) lay->gap * (lay->command ? 4 : 3) +
				(lay->created ? w_cr + (size_t) lay->gap : 0);
			if (fixed + img_min + cmd_min <= WIDTH)
				break;
		}
		if (fixed + img_min + cmd_min > WIDTH && w_nm > 10) {
			size_t cut = min_of(fixed + img_min + cmd_min - WIDTH, w_nm - 10);
			w_nm -= cut;
			fixed -= cut;
		}
		if (!lay->command)
			w_cmd = 0;
		share(WIDTH > fixed ? WIDTH - fixed : img_min + cmd_min, &w_img, &w_cmd);
		if (w_img < img_min)
			w_img = img_min;
		if (w_cmd < cmd_min)
			w_cmd = cmd_min;
	}
	printf("%-*s%*s%-*s%*s", (int) w_id, "CONTAINER ID", lay->gap, "", (int) w_img, "IMAGE",
	       lay->gap, "");
	if (lay->command)
		printf("%-*s%*s", (int) w_cmd, "COMMAND", lay->gap, "");
	if (lay->created)
		printf("%-*s%*s", (int) w_cr, "CREATED", lay->gap, "");
	printf("%-*s%*s%s\n", (int) w_st, "STATUS", lay->gap, "", "NAMES");
	for (size_t i = 0; i < n; i++) {
		struct row *r = &rows[i];
		fit(r->image, w_img, false);
		fit(r->command, w_cmd, true);
		fit(r->names, w_nm, false);
		printf("%-*s%*s%-*s%*s", (int) w_id, r->id, lay->gap, "", (int) w_img, r->image,
		       lay->gap, "");
		if (lay->command)
			printf("%-*s%*s", (int) w_cmd, r->command, lay->gap, "");
		if (lay->created)
			printf("%-*s%*s", (int) w_cr, r->created, lay->gap, "");
		printf("%-*s%*s%s\n", (int) w_st, r->status, lay->gap, "", r->names);
	}
}

static int print_json(struct row *rows, size_t n)
{
	json_t *arr = json_array();
	char *s;

	for (size_t i = 0; i < n; i++) {
		const struct rec *r = rows[i].r;
		char created[48], running[40], labels[1024] = "", mounts[1024] = "";
		size_t lo = 0, mo = 0;
		json_t *o = json_object();

		rec_time_format(r->cfg.created, created, sizeof(created));
		cli_human_since(r->cfg.created / 1000000000, running, sizeof(running));
		for (size_t k = 0; k < r->cfg.n_labels && lo < sizeof(labels); k++)
			lo += (size_t) snprintf(labels + lo, sizeof(labels) - lo, "%s%s=%s", k ? "," : "",
						r->cfg.labels[k].key, r->cfg.labels[k].value);
		for (size_t k = 0; k < r->cfg.n_mounts && mo < sizeof(mounts); k++) {
			const struct rec_mount *m = &r->cfg.mounts[k];
			mo += (size_t) snprintf(mounts + mo, sizeof(mounts) - mo, "%s%s", mo ? "," : "",
						m->type == REC_MOUNT_VOLUME ? m->name :
						m->type == REC_MOUNT_BIND ? m->source : m->destination);
		}
		json_object_set_new(o, "ID", json_string(r->cfg.id));
		json_object_set_new(o, "Image", json_string(r->cfg.image ? r->cfg.image : ""));
		json_object_set_new(o, "Command", json_string(rows[i].command));
		json_object_set_new(o, "CreatedAt", json_string(created));
		json_object_set_new(o, "RunningFor", json_string(running));
		json_object_set_new(o, "State", json_string(rec_status_name(r->st.status)));
		json_object_set_new(o, "Status", json_string(rows[i].status));
		json_object_set_new(o, "Names", json_string(r->cfg.name));
		json_object_set_new(o, "Labels", json_string(labels));
		json_object_set_new(o, "Mounts", json_string(mounts));
		if (r->st.status == REC_EXITED)
			json_object_set_new(o, "ExitCode", json_integer(r->st.exit_code));
		if (r->problem)
			json_object_set_new(o, "Problem", json_string(r->problem));
		json_array_append_new(arr, o);
	}
	s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(arr);
	if (s == NULL)
		return EXIT_BERTH;
	puts(s);
	free(s);
	return EXIT_OK;
}

int cmd_ps(struct cli_ctx *ctx, int argc, char **argv)
{
	enum out_format fmt = OUT_TABLE;
	bool all = false, quiet = false, no_trunc = false;
	struct rec_list l = { 0 };
	struct berr *err = NULL;
	struct row *rows;
	const char *value;
	struct args a;
	size_t n = 0;
	int id, ret = EXIT_OK;

	(void) ctx;
	args_init(&a, cmd_ps_opts, argc, argv, "berth ps");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		switch (id) {
		case -1:
			return berr_report(err);
		case ARGS_HELP:
			command_usage(command_find("ps"), stdout);
			return EXIT_OK;
		case O_ALL:
			all = true;
			break;
		case O_QUIET:
			quiet = true;
			break;
		case O_NO_TRUNC:
			no_trunc = true;
			break;
		case O_FORMAT:
			if (cli_parse_format(value, &fmt, &err) < 0)
				return berr_report(err);
			break;
		}
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth ps` takes no arguments");
		return berr_report(err);
	}
	if (rec_list_load(&l, &err) < 0)
		return berr_report(err);
	rows = xcalloc(l.n + 1, sizeof(*rows));
	for (size_t i = 0; i < l.n; i++) {
		struct rec *r = &l.v[i];
		struct row *w;

		/* A process that ended unwatched: say so on flash too (best effort: ps also
		 * works on a read-only data partition). */
		if (r->stale && rec_refresh(r, &err) < 0) {
			log_debug("%s", err->msg);
			berr_free(err);
			err = NULL;
		}
		if (!all && r->st.status != REC_RUNNING)
			continue;
		if (r->broken && !quiet && fmt == OUT_TABLE)
			log_warn("container %.12s is broken: %s", r->cfg.id, r->problem);
		w = &rows[n++];
		w->r = r;
		snprintf(w->id, sizeof(w->id), "%.*s", no_trunc ? REC_ID_LEN : REC_SHORT_ID_LEN, r->cfg.id);
		w->image = xstrdup(r->cfg.image ? r->cfg.image : "<unknown>");
		{
			_cleanup_free_ char *cl = command_line(r);
			w->command = xasprintf("\"%s\"", cl);
		}
		if (r->cfg.created)
			cli_human_since(r->cfg.created / 1000000000, w->created, sizeof(w->created));
		else
			snprintf(w->created, sizeof(w->created), "N/A");
		status_text(r, w->status, sizeof(w->status));
		w->names = xstrdup(r->cfg.name);
	}
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			puts(rows[i].id);
	} else if (fmt == OUT_JSON) {
		ret = print_json(rows, n);
	} else {
		print_table(rows, n, no_trunc);
	}
	for (size_t i = 0; i < n; i++) {
		free(rows[i].image);
		free(rows[i].command);
		free(rows[i].names);
	}
	free(rows);
	rec_list_free(&l);
	return ret;
}
