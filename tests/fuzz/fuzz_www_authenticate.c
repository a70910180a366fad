/* libFuzzer target for WWW-Authenticate parsing (core/registry/auth.c): any field value either
 * parses into at most AUTH_MAX_CHALLENGES NUL-terminated challenges or is an error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "registry/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct auth_challenge ch[AUTH_MAX_CHALLENGES];
	char *s = malloc(size + 1);
	struct berr *err = NULL;
	size_t n = 99;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (auth_parse_challenges(s, ch, AUTH_MAX_CHALLENGES, &n, &err) == 0) {
		if (err != NULL || n > AUTH_MAX_CHALLENGES)
			abort();
		for (size_t i = 0; i < n; i++)
			if (strlen(ch[i].realm) >= sizeof(ch[i].realm) ||
			    strlen(ch[i].scope) >= sizeof(ch[i].scope) ||
			    strlen(ch[i].service) >= sizeof(ch[i].service) ||
			    strlen(ch[i].error) >= sizeof(ch[i].error))
				abort();
		if (n > 0) {
			char *u = auth_token_url(ch[0].realm, ch[0].service, ch[0].scope);
			/* The realm is checked as a URL when used; what we append is encoded. */
			if (u == NULL || strncmp(u, ch[0].realm, strlen(ch[0].realm)) != 0 ||
			    strpbrk(u + strlen(ch[0].realm), " \r\n\"") != NULL)
				abort();
			free(u);
		}
	} else if (err == NULL || err->msg == NULL) {
		abort();
	}
	berr_free(err);
	free(s);
	return 0;
}
