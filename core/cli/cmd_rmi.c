/* `berth rmi` (`berth image rm`): untag images and delete those left without a name, with
 * the layers no other image needs. A mounted layer is never removed. */
#include "cli.h"
#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/ref.h"
#include "image/store.h"
#include "runtime/record.h"

#include <stdio.h>
#include <string.h>

enum { O_FORCE = 1, O_NO_PRUNE };

const struct cli_opt cmd_rmi_opts[] = {
	{ O_FORCE, 'f', "force", NULL, "Force removal of the image" },
	{ O_NO_PRUNE, 0, "no-prune", NULL, "Do not delete untagged parents (accepted; berth has none)" },
	{ 0, 0, NULL, NULL, NULL },
};

static void on_remove(void *data, enum gc_kind kind, const char *name, uint64_t size)
{
	(void) data;
	(void) size;
	if (kind == GC_LAYER || kind == GC_BLOB)
		printf("Deleted: %s\n", name);
}

/* Would dropping the keys of `top` remove a layer that is mounted? Returns the first such
 * chain id's index in img, or -1. */
static int mounted_layer(const struct store_refs *after, const struct img *img)
{
	struct gc_inuse inuse;
	struct gc_reach r;
	struct berr *e = NULL;
	int found = -1;

	if (gc_inuse_load(&inuse, &e) < 0) {
		berr_free(e);
		return -1;
	}
	if (gc_reach_load(after, false, &r, &e) == 0) {
		for (size_t i = 0; i < img->n_layers && found < 0; i++)
			if (!gc_reach_has_layer(&r, &img->chain_ids[i]) &&
			    gc_inuse_has(&inuse, img->chain_ids[i].hex))
				found = (int) i;
		gc_reach_free(&r);
	}
	berr_free(e);
	gc_inuse_free(&inuse);
	return found;
}

/* The short id of a container whose record was made from `top`, into id; false if none.
 * Unreadable records cannot say: they do not block (the GC keeps what it cannot judge). */
static bool used_by_container(const struct digest *top, char id[REC_SHORT_ID_LEN + 1])
{
	struct rec_list l = { 0 };
	struct berr *e = NULL;
	char ds[DIGEST_STR_SIZE];
	bool found = false;

	if (rec_list_load(&l, &e) < 0) {
		berr_free(e);
		return false;
	}
	digest_format(top, ds);
	for (size_t i = 0; i < l.n && !found; i++) {
		if (l.v[i].cfg.image_digest && strcmp(l.v[i].cfg.image_digest, ds) == 0) {
			snprintf(id, REC_SHORT_ID_LEN + 1, "%.12s", l.v[i].cfg.id);
			found = true;
		}
	}
	rec_list_free(&l);
	return found;
}

/* Docker's "conflict" errors are the user's to resolve, and exit 1 as its rmi does. */
static int conflict(struct berr **err)
{
	if (err && *err)
		(*err)->status = EXIT_FAILED;
	return -1;
}

static int remove_one(const char *s, const char *dreg, bool force, struct store_refs *refs,
		      struct berr **err)
{
	struct gc_opts go = { .on_remove = on_remove };
	struct gc_stats st;
	char name[REF_STR_SIZE], ds[DIGEST_STR_SIZE];
	struct img_match m;
	struct img img;
	bool have_img, named_left = false;
	size_t n_names = 0;
	struct berr *e = NULL;
	struct store_refs after = { 0 };
	int layer;

	if (img_resolve(refs, s, dreg, &m, err) < 0)
		return -1;
	have_img = img_open(&m.top, &img, &e) == 0;
	berr_free(e);
	for (size_t i = 0; i < refs->n; i++)
		if (digest_equal(&refs->v[i].digest, &m.top) && !img_key_is_dangling(refs->v[i].name))
			n_names++;
	if (!m.key[0] && n_names > 1 && !force) {
		if (have_img)
			img_close(&img);
		berr_make(err, 0, "conflict: unable to delete %s (must be forced) - image is "
			  "referenced in multiple repositories", s);
		return conflict(err);
	}
	/* The refs as they will be. */
	for (size_t i = 0; i < refs->n; i++) {
		bool drop = digest_equal(&refs->v[i].digest, &m.top) &&
			    (m.key[0] ? strcmp(refs->v[i].name, m.key) == 0 : true);
		if (!drop && store_refs_set(&after, refs->v[i].name, &refs->v[i].digest,
					    refs->v[i].created, err) < 0)
			goto fail;
		if (!drop && digest_equal(&refs->v[i].digest, &m.top) &&
		    !img_key_is_dangling(refs->v[i].name))
			named_left = true;
	}
	if (!named_left) {
		char cid[REC_SHORT_ID_LEN + 1];

		/* A container's image keeps its last name unless forced; forced, the name goes
		 * and the image stays for the container (the GC keeps what records use). */
		if (!force && used_by_container(&m.top, cid)) {
			berr_make(err, 0, "conflict: unable to remove repository reference \"%s\" (must "
				  "force) - container %s is using its referenced image %.12s", s, cid,
				  have_img ? img.id.hex : m.top.hex);
			conflict(err);
			goto fail;
		}
		/* The last name goes: so does the image, dangling key included. */
		img_dangling_key(&m.top, ds);
		store_refs_remove(&after, ds);
		if (have_img && (layer = mounted_layer(&after, &img)) >= 0) {
			if (!force) {
				berr_make(err, 0, "conflict: unable to remove %s: its layer %zu is "
					  "mounted; unmount it first (`berth image umount DIR`)", s,
					  (size_t) layer);
				conflict(err);
				goto fail;
			}
			log_warn("%s: mounted layers stay until unmounted and pruned", s);
		}
	}
	for (size_t i = 0; i < refs->n; i++)
		if (digest_equal(&refs->v[i].digest, &m.top) && !store_refs_lookup(&after, refs->v[i].name) &&
		    !img_key_is_dangling(refs->v[i].name)) {
			img_key_familiar(refs->v[i].name, dreg, name, sizeof(name));
			printf("Untagged: %s\n", name);
		}
	/* Refs first: a power cut after this leaves garbage, never a name without its image. */
	if (store_refs_save(&after, err) < 0)
		goto fail;
	store_refs_free(refs);
	*refs = after;
	if (have_img)
		img_close(&img);
	if (named_left)
		return 0;
	return gc_sweep(refs, &go, &st, err);
fail:
	store_refs_free(&after);
	if (have_img)
		img_close(&img);
	return -1;
}

int cmd_rmi(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *dreg = ctx->cfg.daemon.default_registry, *value;
	struct store_refs refs = { 0 };
	struct berr *err = NULL;
	bool force = false;
	int id, glock, rlock, ret = EXIT_OK;
	struct args a;

	args_init(&a, cmd_rmi_opts, argc, argv, "berth rmi");
	while ((id = args_next(&a, &value, &err)) != ARGS_DONE) {
		if (id == -1)
			return berr_report(err);
		if (id == ARGS_HELP) {
			command_usage(command_find("rmi"), stdout);
			return EXIT_OK;
		}
		if (id == O_FORCE)
			force = true;
	}
	if (a.i >= argc) {
		berr_usage(&err, "`berth rmi` requires at least one IMAGE");
		return berr_report(err);
	}
	glock = gc_lock(true, &err);
	if (glock < 0)
		return berr_report(err);
	rlock = store_refs_lock(&err);
	if (rlock < 0) {
		gc_unlock(glock);
		return berr_report(err);
	}
	if (store_refs_load(&refs, &err) < 0) {
		ret = berr_report(err);
		goto out;
	}
	for (int i = a.i; i < argc; i++) {
		if (remove_one(argv[i], dreg, force, &refs, &err) < 0) {
			int st = berr_report(err);
			err = NULL;
			if (ret == EXIT_OK || st == EXIT_BERTH)
				ret = st;
		}
	}
out:
	store_refs_free(&refs);
	store_refs_unlock(rlock);
	gc_unlock(glock);
	return ret;
}
