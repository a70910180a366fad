/* libFuzzer target for credentials files in Docker's config.json format
 * (core/registry/creds.c): every entry accepted has a normalised server, a non-empty user
 * without ':' and strings without NUL, and a failure always says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "registry/creds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berr *err = NULL;
	struct creds c;

	if (creds_parse(data, size, "config.json", &c, &err) == 0) {
		if (err != NULL)
			abort();
		for (size_t i = 0; i < c.n; i++) {
			const struct creds_entry *e = &c.v[i];
			char k[CREDS_SERVER_MAX];
			if (e->user[0] == '\0' || strchr(e->user, ':') != NULL ||
			    !creds_server_key(e->server, k) || strcmp(k, e->server) != 0 ||
			    creds_find(&c, e->server) == NULL)
				abort();
		}
		creds_free(&c);
	} else if (err == NULL || err->msg == NULL) {
		abort();
	}
	berr_free(err);
	return 0;
}
