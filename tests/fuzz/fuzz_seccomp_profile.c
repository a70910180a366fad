/* libFuzzer target for Docker-format seccomp profiles (core/runtime/seccomp_json.c): any bytes
 * give a profile or a usage error naming the field, never a crash or a leak; a profile that
 * parses must also compile to BPF or fail cleanly (core/runtime/seccomp.c). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "config.h"
#include "runtime/caps.h"
#include "runtime/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secc_profile p;
	struct secc_filter f;
	struct berr *err = NULL;

	if (secc_profile_parse("fuzz.json", (const char *) data, size, &p, &err) < 0) {
		/* A failed parse leaves nothing allocated and always says why. */
		if (err == NULL || err->msg == NULL || p.rules != NULL || p.arches != NULL)
			__builtin_trap();
		berr_free(err);
		return 0;
	}
	if (ENABLE_SECCOMP) {
		/* Both with and without the capabilities rules may depend on. */
		uint64_t caps[] = { 0, caps_default() | CAPS_BIT(21) /* CAP_SYS_ADMIN */ };
		for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
			if (secc_build(&p, caps[i], &f, &err) == 0) {
				if (f.insns == NULL || f.len == 0)
					__builtin_trap();
				secc_filter_free(&f);
			} else {
				if (err == NULL)
					__builtin_trap();
				berr_free(err);
				err = NULL;
			}
		}
	}
	secc_profile_free(&p);
	return 0;
}
