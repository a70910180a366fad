/* libFuzzer target for the option parser: the input, split on NUL bytes, is an argv. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/args.h"

static const struct cli_opt opts[] = {
	{ 1, 'i', "interactive", NULL, "Keep stdin open" },
	{ 2, 't', "tty", NULL, "Allocate a terminal" },
	{ 3, 'v', "volume", "SRC:DST", "Bind mount a volume" },
	{ 4, 0, "name", "string", "Name the container" },
	{ 5, 'e', "env", "KEY=VALUE", "Set an environment variable" },
	{ 6, 0, "rm", NULL, "Remove the container when it exits" },
	{ 7, 'x', NULL, NULL, "A short-only flag" },
	{ 0, 0, NULL, NULL, NULL },
};

#define MAX_ARGS 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *argv[MAX_ARGS + 1], *p, *end;
	struct berr *err = NULL;
	const char *value;
	struct args a;
	int argc = 0, id, steps = 0;

	/* A copy with a NUL after the last argument, so every argv[i] is a C string. */
	buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = (char *) "berth";
	for (p = buf, end = buf + size; p <= end && argc < MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;

	args_init(&a, opts, argc, argv, "berth run");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1) {
			if (err == NULL || err->status != EXIT_USAGE)
				__builtin_trap();
			berr_free(err);
			err = NULL;
			break;
		}
		if (id == ARGS_HELP)
			break;
		if (id < 1 || id > 7)
			__builtin_trap();
		/* An option with a metavar has a value, a flag has none. */
		if ((opts[id - 1].arg != NULL) != (value != NULL))
			__builtin_trap();
		if (value)
			(void) strlen(value);
		/* Every step consumes at least one character, so the loop ends. */
		if (++steps > (int) size + MAX_ARGS)
			__builtin_trap();
	}
	if (a.i < 1 || a.i > argc)
		__builtin_trap();
	free(buf);
	return 0;
}
