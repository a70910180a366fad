/* libFuzzer target for [init] data-options (init_mount_options): any string must split into
 * mount flags and file system options that fit the buffer, or be refused as too long; the
 * options kept are a comma list of items from the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *opts, out[64];
	unsigned long flags;
	size_t n;

	opts = malloc(size + 1);
	if (opts == NULL)
		return 0;
	memcpy(opts, data, size);
	opts[size] = '\0';
	if (init_mount_options(opts, &flags, out, sizeof(out)) == 0) {
		n = strlen(out);
		/* Never past the buffer, no empty item, no leading or trailing comma. */
		if (n >= sizeof(out) || (n && (out[0] == ',' || out[n - 1] == ',')) || strstr(out, ",,"))
			__builtin_trap();
		/* Every kept byte came from the input. */
		for (size_t i = 0; i < n; i++)
			if (memchr(opts, out[i], strlen(opts)) == NULL)
				__builtin_trap();
	}
	free(opts);
	return 0;
}
