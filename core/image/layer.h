/* Layer conversion: a (compressed) tar layer blob streamed into one squashfs file on flash,
 * `layers/<chainid>.sqfs`, with OCI whiteouts turned into overlayfs whiteouts and the
 * uncompressed stream checked against the config's diff_id (OCI image-spec layer.md). */
#ifndef BERTH_IMAGE_LAYER_H
#define BERTH_IMAGE_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/squashfs.h"

struct berr;

#define LAYER_MAX_ENTRIES 1000000  /* tar entries in one layer */
#define LAYER_MAX_PATH 4096

struct layer_stats {
	uint64_t entries;
	uint64_t tar_bytes;      /* uncompressed stream */
	uint64_t image_bytes;    /* the squashfs file */
};

/* Read a tar stream (gzip, zstd or uncompressed: detected from its first bytes) from `in_fd`
 * and write it as layer `chain_id`. If `diff_id` is set, the uncompressed stream must hash to
 * it, else nothing is stored. The file appears atomically (tmp, fsync, rename, fsync dir);
 * a layer already present is left alone and the stream is not read. `opt` may be NULL. */
int layer_convert(int in_fd, const struct digest *diff_id, const struct digest *chain_id,
		  const struct sqfs_options *opt, struct layer_stats *stats, struct berr **err);

/* Same, but write the squashfs image to `out_fd` (no store, no chain id): for tests, tools
 * and the benchmark. *diff_id_out (may be NULL) gets the digest of the uncompressed stream. */
int layer_convert_fd(int in_fd, int out_fd, const struct sqfs_options *opt,
		     struct digest *diff_id_out, struct layer_stats *stats, struct berr **err);

/* The dir layer format, for kernels without squashfs: the tar extracted (safely: nothing can
 * land outside the layer) into `layers/<chainid>/`, whiteouts as overlayfs reads them. The
 * directory appears atomically (extracted under tmp/, synced, renamed). Needs root, as the
 * files keep their owners and whiteouts are device nodes. */
int layer_convert_dir(int in_fd, const struct digest *diff_id, const struct digest *chain_id,
		      struct layer_stats *stats, struct berr **err);

/* Which format a store keeps layers in. */
enum layer_format { LAYER_FORMAT_SQUASHFS, LAYER_FORMAT_DIR };

/* `[store] layer-format` to a format: "squashfs", "dir", or "auto" (squashfs where this build
 * writes it and the kernel mounts it from a loop device, else dir). */
int layer_format_choose(const char *setting, enum layer_format *out, struct berr **err);

/* Convert into the store in `format` (layer_convert or layer_convert_dir). */
int layer_store(enum layer_format format, int in_fd, const struct digest *diff_id,
		const struct digest *chain_id, const struct sqfs_options *opt, struct layer_stats *stats,
		struct berr **err);

/* Remove a layer from the store in either format; a missing layer is fine. A directory is
 * first renamed into tmp/, so a power cut never leaves half a layer under layers/. */
int layer_remove(const struct digest *chain_id, struct berr **err);

/* Is the layer present in the store, as a squashfs file or a directory? */
bool layer_exists(const struct digest *chain_id);

/* Normalise a tar entry's path: strip "./" and duplicate slashes; reject absolute paths and
 * ".." components. Returns 0 with the clean relative path in out ("." for the root), or -1. */
int layer_clean_path(const char *in, char *out, size_t size);

#endif
