/* libFuzzer target for what an image archive holds besides blobs: oci-layout, index.json
 * (with the names its annotations give), docker save's manifest.json and repositories, and
 * entry paths (core/image/archive.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "image/archive.h"
#include "image/manifest.h"
#include "image/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arch_docker_manifest dm;
	struct arch_repo_tag *tags;
	struct berr *err = NULL;
	struct manifest idx;
	char path[ARCH_PATH_MAX], key[STORE_REF_NAME_MAX + 1];
	size_t n;

	/* The parsers take a length and must never read past it; an error always says why. */
	if (arch_parse_oci_layout((const char *) data, size, &err) < 0 && err == NULL)
		abort();
	berr_free(err);
	err = NULL;
	if (arch_parse_docker_manifest((const char *) data, size, &dm, &err) == 0) {
		if (dm.n == 0 || dm.n > ARCH_IMAGES_MAX)
			abort();
		for (size_t i = 0; i < dm.n; i++) {
			if (arch_clean_path(dm.v[i].config, path, sizeof(path), &err) == 0 &&
			    (path[0] == '/' || strstr(path, "..") == path))
				abort();
			berr_free(err);
			err = NULL;
		}
		arch_docker_manifest_free(&dm);
	} else if (err == NULL) {
		abort();
	}
	berr_free(err);
	err = NULL;
	if (arch_parse_repositories((const char *) data, size, &tags, &n, &err) == 0)
		arch_repo_tags_free(tags, n);
	else if (err == NULL)
		abort();
	berr_free(err);
	err = NULL;
	if (manifest_parse(data, size, MT_OCI_INDEX, &idx, &err) == 0) {
		for (size_t i = 0; i < idx.n_manifests; i++) {
			if (arch_index_entry_key(&idx.manifests[i], NULL, key, sizeof(key), &err) == 0 &&
			    strlen(key) > STORE_REF_NAME_MAX)
				abort();
			berr_free(err);
			err = NULL;
		}
		manifest_free(&idx);
	}
	berr_free(err);
	err = NULL;
	/* The input as one entry path. */
	if (size < 2048) {
		char in[2048];
		memcpy(in, data, size);
		in[size] = '\0';
		if (arch_clean_path(in, path, sizeof(path), &err) == 0 &&
		    (path[0] == '/' || strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
		     strstr(path, "/../") != NULL))
			abort();
		berr_free(err);
	}
	return 0;
}
