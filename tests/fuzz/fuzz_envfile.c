/* libFuzzer target for --env-file parsing (core/runtime/spec.c): any bytes give a list of
 * variables or a usage error with file:line, never a crash or a leak; each variable has a
 * non-empty name without blanks and no NUL. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "runtime/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr *err = NULL;
	char **v = NULL;
	size_t n = 0;

	if (spec_envfile_parse("fuzz.env", (const char *) data, size, &v, &n, &err) < 0) {
		if (err == NULL || strncmp(err->msg, "fuzz.env", 8) != 0 || v != NULL || n != 0)
			__builtin_trap();
		berr_free(err);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		size_t klen = strcspn(v[i], "=");
		if (klen == 0 || strcspn(v[i], " \t") < klen)
			__builtin_trap();
	}
	spec_strv_free(v, n);
	return 0;
}
