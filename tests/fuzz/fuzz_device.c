/* libFuzzer target for --device values (core/runtime/device.c), which come from the command
 * line and from app files: any bytes give a host path, a clean absolute container path and
 * permissions from "rwm", or a usage error; never a crash or a leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "runtime/device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr *err = NULL;
	struct dev_node d;
	char *spec;

	spec = malloc(size + 1);
	if (spec == NULL)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (dev_parse(spec, &d, &err) < 0) {
		if (err == NULL || err->status != EXIT_USAGE || strncmp(err->msg, "--device `", 10) != 0)
			__builtin_trap();
		berr_free(err);
		free(spec);
		return 0;
	}
	if (d.host[0] != '/' || strncmp(spec, d.host, strlen(d.host)) != 0)
		__builtin_trap();
	/* Clean: absolute, not the root, no empty, "." or ".." component, no trailing slash. */
	if (d.path[0] != '/' || strcmp(d.path, "/") == 0 || d.path[strlen(d.path) - 1] == '/' ||
	    strstr(d.path, "//") || strstr(d.path, "/./") || strstr(d.path, "/../") ||
	    (strlen(d.path) >= 2 && strcmp(d.path + strlen(d.path) - 2, "/.") == 0) ||
	    (strlen(d.path) >= 3 && strcmp(d.path + strlen(d.path) - 3, "/..") == 0))
		__builtin_trap();
	if (d.perms[0] == '\0' || strspn(d.perms, "rwm") != strlen(d.perms) ||
	    (strcmp(d.perms, "rwm") != 0 && strcmp(d.perms, "rw") != 0 && strcmp(d.perms, "rm") != 0 &&
	     strcmp(d.perms, "wm") != 0 && strcmp(d.perms, "r") != 0 && strcmp(d.perms, "w") != 0 &&
	     strcmp(d.perms, "m") != 0))
		__builtin_trap();
	dev_free(&d);
	free(spec);
	return 0;
}
