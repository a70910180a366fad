/* libFuzzer target for the token server's JSON answer (core/registry/auth.c): a token that is
 * accepted is a bounded b64token, safe to put in an Authorization header. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "registry/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr *err = NULL;
	char *token = NULL;
	int64_t expires = 0;

	if (auth_parse_token_response((const char *) data, size, &token, &expires, &err) == 0) {
		size_t n = strlen(token);
		if (err != NULL || n == 0 || n > AUTH_MAX_TOKEN || expires <= 0 ||
		    strpbrk(token, " \t\r\n,;\"") != NULL)
			abort();
		free(token);
	} else if (err == NULL || err->msg == NULL) {
		abort();
	}
	berr_free(err);
	return 0;
}
