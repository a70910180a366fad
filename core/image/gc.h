/* Garbage collection of the store: blobs no ref reaches, layer files no image needs and
 * leftovers in tmp/, never anything mounted. Safe against a power cut at any instant: refs
 * are removed first, then blobs and layers, each by one unlink. */
#ifndef BERTH_IMAGE_GC_H
#define BERTH_IMAGE_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"
#include "image/store.h"

struct berr;

/* Writers that put blobs or layers into the store before refs.json names them (load, pull,
 * build) hold the GC lock shared from their first write until refs.json is saved; the GC
 * holds it exclusively, so it never takes their work for garbage. Returns the lock fd. */
int gc_lock(bool exclusive, struct berr **err);
void gc_unlock(int fd);

/* Layers in use: named by an overlay's options, or bind-mounted, or a dir layer mounted. A
 * squashfs layer's own mount under <run-dir>/layers/<hex>, which stays after its last
 * container for the next start, does not count; the GC releases such mounts before it
 * removes layer files (layer_release_unused). */
struct gc_inuse {
	char (*hex)[DIGEST_HEX_LEN + 1];
	size_t n;
};
int gc_inuse_load(struct gc_inuse *out, struct berr **err);
bool gc_inuse_has(const struct gc_inuse *u, const char *hex);
void gc_inuse_free(struct gc_inuse *u);

/* What refs.json reaches: blobs (manifests, indexes and the children of theirs present,
 * configs, layer blobs) and the chain ids of the layers the images need. */
struct gc_reach {
	struct digest *blobs;  /* sorted */
	size_t n_blobs;
	struct digest *layers; /* chain ids, sorted */
	size_t n_layers;
	bool incomplete;       /* a reachable manifest or config could not be read */
};
/* `skip_dangling`: leave untagged images out, as if already removed. */
int gc_reach_load(const struct store_refs *refs, bool skip_dangling, struct gc_reach *out,
		  struct berr **err);
bool gc_reach_has_blob(const struct gc_reach *r, const struct digest *d);
bool gc_reach_has_layer(const struct gc_reach *r, const struct digest *chain_id);
void gc_reach_free(struct gc_reach *r);

enum gc_kind { GC_REF, GC_BLOB, GC_LAYER, GC_TMP };

struct gc_opts {
	bool dry_run;       /* count, remove nothing */
	bool dangling;      /* remove untagged images' refs first */
	bool tmp;           /* remove tmp/ leftovers of interrupted work */
	bool partials;      /* also resumable downloads (tmp/<hex>.partial) */
	/* Called for each thing removed (or that would be): `name` is a refs key, a digest
	 * ("sha256:<hex>", the chain id for a layer) or a tmp/ file name. */
	void (*on_remove)(void *data, enum gc_kind kind, const char *name, uint64_t size);
	void *data;
};

struct gc_stats {
	size_t refs, blobs, layers, tmp;
	size_t kept_in_use;   /* unreferenced layers kept because they are mounted */
	uint64_t bytes;       /* reclaimed */
	bool incomplete;      /* blobs and layers were kept: some image could not be read */
};

/* Take the GC lock and the refs lock, then collect. */
int gc_run(const struct gc_opts *o, struct gc_stats *st, struct berr **err);

/* Collect with both locks already held (rmi), against refs as saved. */
int gc_sweep(const struct store_refs *refs, const struct gc_opts *o, struct gc_stats *st,
	     struct berr **err);

/* Is `name` (an entry of tmp/) a resumable download? */
bool gc_tmp_is_partial(const char *name);

#endif
