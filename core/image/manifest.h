/* Parsers for what a registry serves: OCI image manifests and indexes, Docker schema2
 * manifests and manifest lists, and the image config they point at. Everything is outside
 * input: sizes, counts and strings are bounded and every error names the field. */
#ifndef BERTH_IMAGE_MANIFEST_H
#define BERTH_IMAGE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/platform.h"

struct berr;

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

#define MANIFEST_SIZE_MAX (4u << 20)  /* manifest, index or config document */
#define MANIFEST_LAYERS_MAX 128       /* layers of one image (overlayfs stacks ~500 at most) */
#define MANIFEST_ENTRIES_MAX 1024     /* manifests in one index */
#define MANIFEST_ANNOTATIONS_MAX 256  /* annotations on one descriptor or manifest */
#define MANIFEST_URLS_MAX 16          /* urls of one (foreign) descriptor */
#define MANIFEST_ARGS_MAX 4096        /* Entrypoint, Cmd, Env, Healthcheck.Test entries */
#define MANIFEST_MAP_MAX 4096         /* ExposedPorts, Volumes, Labels keys */
#define MANIFEST_HISTORY_MAX 1024     /* history entries (empty layers included) */
#define MANIFEST_STR_MAX (256u << 10) /* any one string (a long RUN line in history) */
#define MANIFEST_MEDIA_TYPE_MAX 255   /* RFC 6838: 127 per name, type "/" subtype (+ params) */

enum manifest_kind {
	MANIFEST_UNKNOWN = 0,
	MANIFEST_OCI_MANIFEST,
	MANIFEST_OCI_INDEX,
	MANIFEST_DOCKER_MANIFEST, /* schema2 */
	MANIFEST_DOCKER_LIST,
};

/* What a layer descriptor's media type says about its bytes. */
enum manifest_layer_format {
	LAYER_UNKNOWN = 0, /* not an image layer (an artifact's blob, a signature payload) */
	LAYER_TAR,
	LAYER_TAR_GZIP,
	LAYER_TAR_ZSTD,
};

struct manifest_kv {
	char *key;
	char *value;
};

/* OCI image-spec descriptor.md. */
struct manifest_descriptor {
	char *media_type;
	struct digest digest;
	uint64_t size;
	bool has_platform;
	struct platform platform;          /* index entries only; normalised */
	struct manifest_kv *annotations;
	size_t n_annotations;
	char **urls;                       /* foreign layers may name download URLs */
	size_t n_urls;
	/* Layers only: */
	enum manifest_layer_format format;
	bool foreign;                      /* non-distributable: the registry may not hold it */
};

struct manifest {
	enum manifest_kind kind;
	const char *media_type;            /* static string of kind */
	/* Image manifests: */
	struct manifest_descriptor config;
	struct manifest_descriptor *layers;
	size_t n_layers;
	/* Indexes and manifest lists: */
	struct manifest_descriptor *manifests;
	size_t n_manifests;
	struct manifest_kv *annotations;
	size_t n_annotations;
};

/* Parse a manifest or an index. `content_type` is the registry's Content-Type (NULL if not
 * known); when the document carries `mediaType` the two must agree. Without either, the
 * shape decides (`manifests` -> index, `config` + `layers` -> manifest), as the OCI spec
 * lets `mediaType` be absent. Schema1 manifests are refused with a message saying so. */
int manifest_parse(const void *data, size_t len, const char *content_type, struct manifest *out,
		   struct berr **err);
void manifest_free(struct manifest *m);

/* MANIFEST_UNKNOWN for anything but the four supported types (parameters after ';' are
 * ignored, as in a Content-Type). */
enum manifest_kind manifest_kind_of(const char *media_type);
bool manifest_kind_is_index(enum manifest_kind kind);
/* Layer format and foreign flag of a layer media type. */
enum manifest_layer_format manifest_layer_format_of(const char *media_type, bool *foreign);

/* Image config (OCI image-spec config.md; Docker's has the same fields). */
struct manifest_healthcheck {
	char **test;          /* ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]; NULL: inherit */
	size_t n_test;
	int64_t interval_ns;  /* 0: default */
	int64_t timeout_ns;
	int64_t start_period_ns;
	int64_t start_interval_ns;
	int retries;
};

struct manifest_history {
	char *created;        /* RFC 3339, NULL if absent */
	char *created_by;
	char *author;
	char *comment;
	bool empty_layer;
};

struct manifest_config {
	struct platform platform;   /* os/architecture/variant; normalised */
	char *created;
	char *author;
	/* config.*: Docker's rule: null and missing both mean "not set". Entrypoint and Cmd
	 * keep whether they were set, since [] (set, empty) is not the same as unset when run
	 * options are merged. */
	char *user;
	char **env;
	size_t n_env;
	char **entrypoint;
	size_t n_entrypoint;
	bool has_entrypoint;
	char **cmd;
	size_t n_cmd;
	bool has_cmd;
	char *working_dir;
	char **exposed_ports; /* "80/tcp", "53/udp", "8000-8010/tcp" */
	size_t n_exposed_ports;
	char **volumes;       /* absolute paths */
	size_t n_volumes;
	struct manifest_healthcheck *healthcheck; /* NULL if none */
	char *stop_signal;
	struct manifest_kv *labels;
	size_t n_labels;
	/* rootfs: */
	struct digest *diff_ids;
	size_t n_diff_ids;
	struct manifest_history *history;
	size_t n_history;
};

int manifest_config_parse(const void *data, size_t len, struct manifest_config *out,
			  struct berr **err);
void manifest_config_free(struct manifest_config *c);

#endif
