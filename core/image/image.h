/* Images in the store: what a user's reference (name:tag, name@digest, an image ID or a short
 * prefix of one) points at, read back as manifest + config + chain ids, and listed. */
#ifndef BERTH_IMAGE_IMAGE_H
#define BERTH_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/manifest.h"
#include "image/store.h"

struct berr;

#define IMG_ID_PREFIX_MIN 4 /* hex digits of a short image ID, as Docker accepts */
#define IMG_SHORT_ID_LEN 12 /* as `berth images` shows an ID */

/* One image, opened: an index in refs.json has been resolved to this board's manifest. */
struct img {
	struct digest top;        /* what refs.json points at: an index or an image manifest */
	struct digest manifest;   /* the image manifest for this board */
	struct digest id;         /* the config digest, which Docker shows as the image ID */
	struct manifest m;        /* the image manifest */
	struct manifest_config cfg;
	struct digest *chain_ids; /* one per layer, bottom first */
	size_t n_layers;
};

/* Read `top` (a manifest or an index) and what it needs from the blob store, checking that
 * the config's diff_ids match the manifest's layers. An index resolves to this board's
 * platform. Errors name the blob that is missing or wrong. */
int img_open(const struct digest *top, struct img *out, struct berr **err);
void img_close(struct img *img);

/* This board's platform, detected once. */
int img_platform(struct platform *out, struct berr **err);

/* refs.json keys come in two kinds: references (`docker.io/library/nginx:1.25`,
 * `reg/app@sha256:...`) and, for images loaded without a name, the manifest digest itself
 * (`sha256:<hex>`), which keeps them from being collected until they are tagged or removed. */
bool img_key_is_dangling(const char *key);
/* The refs.json key of an untagged image. */
void img_dangling_key(const struct digest *top, char buf[DIGEST_STR_SIZE]);

/* A refs.json key as users read it: REPOSITORY and TAG of `berth images` (`<none>` where
 * there is none), or the whole familiar reference. `default_registry` as in ref_parse. */
void img_key_split(const char *key, const char *default_registry, char *repo, size_t repo_size,
		   char *tag, size_t tag_size);
void img_key_familiar(const char *key, const char *default_registry, char *buf, size_t size);
/* Normalise a user's `name[:tag]` to a refs.json key (REF_FULL), for tag and load. */
int img_name_key(const char *name, const char *default_registry, char *buf, size_t size,
		 struct berr **err);

/* What a user's reference resolved to. */
struct img_match {
	struct digest top;
	char key[STORE_REF_NAME_MAX + 1]; /* the refs.json key when named by tag, else "" */
	bool by_id;                        /* named by (a prefix of) the image ID */
};

/* Resolve `s`: a name[:tag] in refs.json; `name@sha256:...` of an image in the store (the
 * digest of its manifest or index); `sha256:<64 hex>` or a unique prefix of at least
 * IMG_ID_PREFIX_MIN hex digits of an image ID. Errors are EXIT_FAILED with Docker's wording
 * ("No such image: x"), or say which images an ambiguous prefix matches. */
int img_resolve(const struct store_refs *refs, const char *s, const char *default_registry,
		struct img_match *out, struct berr **err);

/* Every image the refs name, with the keys that name it. */
struct img_info {
	struct digest top;
	char **keys;              /* refs.json keys pointing at top, sorted */
	size_t n_keys;
	int64_t tagged;           /* newest `created` of its keys (when it was named) */
	bool ok;                  /* img was opened */
	char *problem;            /* why not, when !ok */
	struct img img;
	uint64_t size;            /* bytes on flash: its blobs and layer files */
};

struct img_list {
	struct img_info *v;
	size_t n;
};

int img_list_load(const struct store_refs *refs, struct img_list *out, struct berr **err);
void img_list_free(struct img_list *l);
/* The image whose top is `top`, or NULL. */
struct img_info *img_list_find(struct img_list *l, const struct digest *top);

/* Bytes the image takes on flash: top, index children it uses, config, layer blobs present
 * and layer files. Shared parts count for each image, as Docker's SIZE does. */
uint64_t img_disk_size(const struct img *img);

/* Seconds since the epoch of an RFC 3339 time (`2024-01-02T03:04:05.123Z`, offsets too);
 * -1 if it does not parse. */
int64_t img_parse_time(const char *s);

#endif
