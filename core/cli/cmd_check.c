/* `berth check`: can this board run containers? One line per probe for an 80-column serial
 * console, a summary, and exit 1 when something required is missing. */
#include "cli.h"
#include "base/err.h"
#include "base/paths.h"
#include "base/util.h"
#include "runtime/kcheck.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

enum { O_FORMAT = 1 };

const struct cli_opt cmd_check_opts[] = {
	{ O_FORMAT, 'f', "format", "string", "Output format: table or json" },
	{ 0, 0, NULL, NULL, NULL },
};

static const char *status_color(enum kcheck_status st)
{
	switch (st) {
	case KCHECK_OK:
		return "\033[32m";
	case KCHECK_WARN:
		return "\033[33m";
	default:
		return "\033[1;31m";
	}
}

static void print_table(const struct kcheck_list *l, bool color)
{
	unsigned counts[3] = { 0, 0, 0 };

	for (size_t i = 0; i < l->n; i++) {
		const struct kcheck_item *it = &l->items[i];
		char detail[KCHECK_DETAIL_COLS + 1];

		/* Keep each line on one console row; --format json has the full text. */
		if (strlen(it->detail) > KCHECK_DETAIL_COLS) {
			memcpy(detail, it->detail, KCHECK_DETAIL_COLS - 3);
			memcpy(detail + KCHECK_DETAIL_COLS - 3, "...", 4);
		} else {
			memcpy(detail, it->detail, strlen(it->detail) + 1);
		}
		counts[it->status]++;
		if (color)
			printf("%s%-7s\033[0m %-22s %s\n", status_color(it->status),
			       kcheck_status_name(it->status), it->name, detail);
		else
			printf("%-7s %-22s %s\n", kcheck_status_name(it->status), it->name, detail);
	}
	printf("berth check: %u ok, %u warn, %u missing\n", counts[KCHECK_OK], counts[KCHECK_WARN],
	       counts[KCHECK_MISSING]);
}

static int print_json(const struct kcheck_list *l)
{
	json_t *root = json_object(), *checks = json_array();
	char *s;

	for (size_t i = 0; i < l->n; i++) {
		const struct kcheck_item *it = &l->items[i];
		json_t *o = json_object();
		json_object_set_new(o, "name", json_string(it->name));
		json_object_set_new(o, "status", json_string(kcheck_status_name(it->status)));
		json_object_set_new(o, "detail", json_string(it->detail));
		json_object_set_new(o, "required", json_boolean(it->required));
		json_array_append_new(checks, o);
	}
	json_object_set_new(root, "checks", checks);
	json_object_set_new(root, "ok", json_boolean(kcheck_list_ok(l)));
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		return -1;
	puts(s);
	free(s);
	return 0;
}

int cmd_check(struct cli_ctx *ctx, int argc, char **argv)
{
	struct kcheck_opts opts = { .data_root = paths_root(), .probe = true,
				    .compression = ctx->cfg.store.compression };
	struct kcheck_list list = { 0 };
	enum out_format fmt = OUT_TABLE;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int id, ret;

	args_init(&a, cmd_check_opts, argc, argv, "berth check");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("check"), stdout);
			return EXIT_OK;
		}
		if (id == O_FORMAT && cli_parse_format(value, &fmt, &err) < 0)
			return berr_report(err);
	}
	if (a.i < argc) {
		berr_usage(&err, "`berth check` takes no arguments");
		return berr_report(err);
	}
	if (kcheck_run(&list, &opts, &err) < 0)
		return berr_report(err);
	if (fmt == OUT_JSON) {
		if (print_json(&list) < 0) {
			kcheck_list_free(&list);
			berr_make(&err, 0, "format the check results as JSON");
			return berr_report(err);
		}
	} else {
		print_table(&list, ctx->color);
	}
	ret = kcheck_list_ok(&list) ? EXIT_OK : EXIT_FAILED;
	kcheck_list_free(&list);
	return ret;
}
