/* libFuzzer target for the container's /etc/passwd and /etc/group as user.c reads them: the
 * input is split at its first NUL into a passwd and a group file and resolved for a few user
 * specs. Any bytes give ids or an error, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/err.h"
#include "runtime/user.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const specs[] = { "", "root", "0", "1000", "alice", "alice:users",
					     "1000:wheel", "nobody:65534" };
	static char *extra[] = { "audio", "10" };
	const char *text = (const char *) data, *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t) (nul - text) : size;
	const char *group = nul ? nul + 1 : NULL;
	size_t glen = nul ? size - plen - 1 : 0;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct berr *err = NULL;
		struct user_ids u;
		if (user_resolve_buf(specs[i], text, plen, group, glen, extra, i % 3, &u, &err) == 0) {
			if (u.home == NULL || u.n_groups > USER_GROUPS_MAX)
				__builtin_trap();
			user_ids_free(&u);
		} else {
			if (err == NULL)
				__builtin_trap();
			berr_free(err);
		}
	}
	return 0;
}
