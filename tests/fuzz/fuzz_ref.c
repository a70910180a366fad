/* libFuzzer target for reference and digest parsing (core/image/ref.c, digest.c). Besides not
 * crashing, a reference that parses must format to forms that parse back to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "image/digest.h"
#include "image/ref.h"

static void check_round_trip(const struct ref *r, const char *registry)
{
	static const enum ref_form forms[] = { REF_FULL, REF_FAMILIAR };
	char full[REF_STR_SIZE], buf[REF_STR_SIZE], again_full[REF_STR_SIZE];

	if (ref_format(r, REF_FULL, full, sizeof(full)) < 0)
		abort();
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct berr *err = NULL;
		struct ref again;

		if (ref_format(r, forms[i], buf, sizeof(buf)) < 0)
			abort();
		if (ref_parse(buf, registry, REF_NO_DEFAULT_TAG, &again, &err) < 0)
			abort(); /* a form we print must parse */
		if (ref_format(&again, REF_FULL, again_full, sizeof(again_full)) < 0 ||
		    strcmp(full, again_full) != 0)
			abort();
	}
	/* Tiny buffers are refused, never overrun. */
	for (size_t n = 0; n < 4; n++)
		if (ref_format(r, REF_FULL, buf, n) == 0)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *registries[] = { NULL, "reg.example:5000", "localhost", "[::1]:5000",
					    "Upper" };
	char *s = malloc(size + 1);
	struct digest d;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (size_t i = 0; i < sizeof(registries) / sizeof(registries[0]); i++) {
		for (unsigned flags = 0; flags < 4; flags++) {
			struct berr *err = NULL;
			struct ref r;

			if (ref_parse(s, registries[i], flags, &r, &err) == 0) {
				if (err != NULL)
					abort();
				check_round_trip(&r, registries[i]);
			} else if (err == NULL || err->msg == NULL) {
				abort();
			}
			berr_free(err);
		}
	}
	{
		struct berr *err = NULL;
		if (digest_parse(s, NULL, &d, &err) == 0) {
			char buf[DIGEST_STR_SIZE];
			if (!digest_valid(s) || strcmp(digest_format(&d, buf), s) != 0)
				abort();
		}
		berr_free(err);
	}
	(void) ref_domain_valid(s);
	free(s);
	return 0;
}
