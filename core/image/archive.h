/* Image archives: `berth load` of an OCI image layout tar (image-spec image-layout.md) or a
 * `docker save` tar, plain or gzip/zstd compressed, and `berth save` as an OCI layout tar.
 * Everything in an archive is outside input: paths, sizes, counts and JSON are checked, and
 * a bad archive changes nothing on flash. */
#ifndef BERTH_IMAGE_ARCHIVE_H
#define BERTH_IMAGE_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/manifest.h"
#include "image/layer.h"
#include "image/squashfs.h"

struct berr;

#define ARCH_ENTRIES_MAX 100000          /* tar entries in one archive */
#define ARCH_STAGED_MAX 4096             /* blobs (files) in one archive */
#define ARCH_IMAGES_MAX 256              /* images in one archive */
#define ARCH_TAGS_MAX 256                /* names of one image */
#define ARCH_META_MAX (4u << 20)         /* index.json, manifest.json, repositories, configs */
#define ARCH_BLOB_MAX ((uint64_t) 64 << 30) /* one blob */
#define ARCH_PATH_MAX 1024               /* an entry's path */
#define ARCH_LINK_DEPTH 8                /* symlinks followed to find a file */

/* Annotations of an index.json entry that name the image (image-spec annotations.md; the
 * second is what docker save writes beside it). */
#define ARCH_ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ARCH_ANN_IMAGE_NAME "io.containerd.image.name"

struct arch_load_opts {
	const char *default_registry;     /* for names in the archive; NULL: docker.io */
	const struct sqfs_options *sqfs;  /* layer conversion; NULL: defaults */
	enum layer_format format;         /* squashfs files or directories */
	bool keep_layer_blobs;            /* keep the compressed layers after conversion */
	/* Called once per name loaded (`key` a refs.json key), or with key NULL for an image
	 * loaded without a name; `id` is the image ID (config digest). */
	void (*on_loaded)(void *data, const char *key, const struct digest *id);
	void *data;
};

/* Read an archive from `fd` (a file or a pipe; `what` names it in messages), store its
 * blobs, convert its layers and name its images in refs.json. */
int arch_load(int fd, const char *what, const struct arch_load_opts *o, struct berr **err);

/* One image to save: its top (index or manifest) and the refs.json key to record as its
 * name (NULL: saved without a name). */
struct arch_save_image {
	struct digest top;
	const char *key;
};

/* Write an OCI image layout tar of `imgs` to `fd`. Fails before writing anything if a blob
 * is missing (a layer blob not kept on this device, with keep-layer-blobs = no). `labels`
 * (familiar names for messages) has n entries. */
int arch_save(int fd, const struct arch_save_image *imgs, const char *const *labels, size_t n,
	      struct berr **err);

/* ---- parsers, shared with the fuzzer ---- */

/* A tar entry's path: "./" and duplicate slashes dropped; absolute paths and ".." refused. */
int arch_clean_path(const char *in, char *out, size_t size, struct berr **err);

/* oci-layout: {"imageLayoutVersion": "1.0.x"}. */
int arch_parse_oci_layout(const char *data, size_t len, struct berr **err);

/* docker save's manifest.json: [{"Config": path, "RepoTags": [...], "Layers": [paths]}]. */
struct arch_docker_image {
	char *config;
	char **repo_tags;
	size_t n_repo_tags;
	char **layers;
	size_t n_layers;
};
struct arch_docker_manifest {
	struct arch_docker_image *v;
	size_t n;
};
int arch_parse_docker_manifest(const char *data, size_t len, struct arch_docker_manifest *out,
			       struct berr **err);
void arch_docker_manifest_free(struct arch_docker_manifest *m);

/* docker save's legacy `repositories`: {"name": {"tag": "<layer id>"}}. */
struct arch_repo_tag {
	char *name;   /* "name:tag" */
	char *id;     /* 64 hex: the top layer's directory in the archive */
};
int arch_parse_repositories(const char *data, size_t len, struct arch_repo_tag **out, size_t *n,
			    struct berr **err);
void arch_repo_tags_free(struct arch_repo_tag *v, size_t n);

/* The refs.json key an index.json entry names, from its annotations: "" if it names none
 * (no annotation, or a ref.name that is only a tag, such as `latest`). */
int arch_index_entry_key(const struct manifest_descriptor *d, const char *default_registry,
			 char *key, size_t size, struct berr **err);

/* Clean an archive entry path (shared by the parser and the loader); `allow_up` lets a
 * symlink target keep leading ".." components that stay inside the archive. */
int arch_normalize(const char *in, char *out, size_t size, bool allow_up);
void arch_digests_add(struct digest **v, size_t *n, const struct digest *d);

#endif
