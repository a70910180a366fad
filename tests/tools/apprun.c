/* Test driver for app files: prints what the supervisor would hand to `berth run`.
 * Usage: apprun FILE        the app's run_args, one per line (exit 2 and the errors if bad)
 *        apprun --dir DIR   the loaded apps in start order ("name hash"), then each error */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/fs.h"
#include "supervisor/app.h"

static int one(const char *path)
{
	struct berr *err = NULL;
	struct app a;
	char *text = NULL;
	size_t len = 0;

	if (fs_read_file(path, APP_FILE_MAX, &text, &len, &err) < 0 ||
	    app_parse(path, text, len, &a, &err) < 0) {
		free(text);
		return berr_report(err);
	}
	free(text);
	for (size_t i = 0; i < a.n_run_args; i++)
		printf("%s\n", a.run_args[i]);
	app_free(&a);
	return 0;
}

static int dir(const char *path)
{
	struct berr *err = NULL;
	struct app_set s;
	struct app_errors e;
	size_t *order;

	if (app_load_dir(path, &s, &e, &err) < 0)
		return berr_report(err);
	order = calloc(s.n + 1, sizeof(*order));
	if (order == NULL || app_order(&s, order, &err) < 0) {
		free(order);
		return berr_report(err);
	}
	for (size_t i = 0; i < s.n; i++)
		printf("%s %s\n", s.v[order[i]].name, s.v[order[i]].hash);
	for (size_t i = 0; i < e.n; i++)
		printf("error %s: %s\n", e.v[i].name ? e.v[i].name : "-", e.v[i].msg);
	free(order);
	app_set_free(&s);
	app_errors_free(&e);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dir") == 0)
		return dir(argv[2]);
	if (argc == 2)
		return one(argv[1]);
	fprintf(stderr, "usage: apprun FILE | apprun --dir DIR\n");
	return 2;
}
