/* libFuzzer target for what a registry serves: manifests and indexes (with each Content-Type
 * berth may be given), image configs, platform selection over a parsed index, and refs.json
 * (core/image/manifest.c, platform.c, store.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "image/manifest.h"
#include "image/platform.h"
#include "image/store.h"

static const char *content_types[] = {
	NULL,
	MT_OCI_MANIFEST,
	MT_OCI_INDEX,
	MT_DOCKER_MANIFEST,
	MT_DOCKER_LIST "; charset=utf-8",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
	"application/json",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest_config c;
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	struct manifest m;

	/* The parsers take a length and must never read past it. */
	for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
		if (manifest_parse(data, size, content_types[i], &m, &err) == 0) {
			static const char *boards[] = { "linux/arm/v7", "linux/arm64", "linux/amd64",
							"linux/arm/v5" };
			for (size_t b = 0; b < sizeof(boards) / sizeof(boards[0]); b++) {
				struct platform p;
				size_t chosen = SIZE_MAX;
				if (platform_parse(boards[b], &p, NULL) < 0)
					abort();
				if (platform_select(&p, m.manifests, m.n_manifests, &chosen, &err) == 0 &&
				    chosen >= m.n_manifests)
					abort();
				berr_free(err);
				err = NULL;
			}
			manifest_free(&m);
		} else if (err == NULL) {
			abort();
		}
		berr_free(err);
		err = NULL;
	}
	if (manifest_config_parse(data, size, &c, &err) == 0)
		manifest_config_free(&c);
	berr_free(err);
	err = NULL;
	if (store_refs_parse(&refs, (const char *) data, size, "refs.json", &err) == 0)
		store_refs_free(&refs);
	berr_free(err);
	return 0;
}
