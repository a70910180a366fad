/* libFuzzer target for app files (core/supervisor/app.c): any bytes give an app or a usage
 * error whose every line starts with the file's name, never a crash or a leak. A parsed app
 * always has an image, a hash, and run arguments that start with --name and hold the image. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "supervisor/app.h"

#define PATH "/etc/berth/apps/fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr *err = NULL;
	struct app a;
	bool has_image = false;

	if (app_parse(PATH, (const char *) data, size, &a, &err) < 0) {
		const char *line;
		if (err == NULL || err->msg == NULL || a.name != NULL || a.run_args != NULL)
			__builtin_trap();
		for (line = err->msg; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
			if (strncmp(line, PATH, strlen(PATH)) != 0)
				__builtin_trap();
		berr_free(err);
		return 0;
	}
	if (a.image == NULL || a.hash == NULL || strlen(a.hash) != 64 || a.n_run_args < 3 ||
	    strcmp(a.run_args[0], "--name") != 0 || strcmp(a.run_args[1], "fuzz") != 0)
		__builtin_trap();
	for (size_t i = 0; i < a.n_run_args; i++)
		if (strcmp(a.run_args[i], a.image) == 0)
			has_image = true;
	if (!has_image || (a.health.set && a.health.n_test == 0))
		__builtin_trap();
	app_free(&a);
	return 0;
}
