/* libFuzzer target for the berth.conf loader: any bytes must give a config or a usage error,
 * never a crash or a leak; a loaded config must also print. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"
#include "base/err.h"

static FILE *sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct berth_config cfg;
	struct berr *err = NULL;

	if (sink == NULL)
		sink = fopen("/dev/null", "w");
	if (config_load_buffer(&cfg, "fuzz.conf", (const char *) data, size, &err) < 0) {
		/* A failed load leaves nothing allocated and always says why. */
		if (err == NULL || err->msg == NULL || cfg.path != NULL || cfg.n_registries || cfg.n_trusts)
			__builtin_trap();
		berr_free(err);
		return 0;
	}
	if (sink)
		config_print(&cfg, sink);
	(void) config_find_registry(&cfg, "docker.io");
	config_free(&cfg);
	return 0;
}
