/* libFuzzer target for signature payloads (core/trust/sig.c, sig_payload_parse): the
 * simple-signing JSON a registry serves as a signature layer's blob. A payload that parses
 * must name a valid digest, and one berth builds from it must parse back to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "trust/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_payload p, q;
	struct berr *err = NULL;
	char *built;
	size_t len;

	if (sig_payload_parse(data, size, &p, &err) < 0) {
		if (err == NULL)
			abort();
		berr_free(err);
		return 0;
	}
	if (!digest_is_set(&p.manifest) || !digest_hex_valid(p.manifest.hex))
		abort();
	if (sig_payload_build(p.docker_reference ? p.docker_reference : "x", &p.manifest, &built,
			      &len, &err) == 0) {
		if (sig_payload_parse(built, len, &q, NULL) < 0 ||
		    !digest_equal(&q.manifest, &p.manifest))
			abort();
		sig_payload_free(&q);
		free(built);
	}
	berr_free(err);
	sig_payload_free(&p);
	return 0;
}
