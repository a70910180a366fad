/* Store garbage collection: mark what refs.json reaches, sweep blobs, layer files and tmp/.
 * The kernel's mount table, not a record of ours, says which layers are in use. */
#include "image/gc.h"
#include "image/layer.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/mountinfo.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/image.h"
#include "image/manifest.h"
#include "image/mount.h"
#include "runtime/record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define INUSE_MAX 4096
#define WALK_DEPTH_MAX 4

/* ---- lock ---- */

int gc_lock(bool exclusive, struct berr **err)
{
	char path[PATH_MAX];
	int fd;

	if (paths_gc_lock(path, sizeof(path)) < 0)
		return berr_make(err, errno, "gc.lock path");
	if (fs_mkdir_p(paths_root(), 0700, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return berr_make(err, errno, "open `%s`", path);
	if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK)
		log_info("waiting for %s to finish", exclusive ? "a load or pull in progress" :
			 "a prune or rmi in progress");
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return berr_make(err, e, "lock `%s`", path);
	}
	return fd;
}

void gc_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ---- layers in use ---- */

static bool is_hex64(const char *s)
{
	for (int i = 0; i < DIGEST_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static void inuse_add(struct gc_inuse *u, const char *hex)
{
	if (gc_inuse_has(u, hex) || u->n >= INUSE_MAX)
		return;
	memcpy(u->hex[u->n], hex, DIGEST_HEX_LEN);
	u->hex[u->n][DIGEST_HEX_LEN] = '\0';
	u->n++;
}

/* Every "layers/<64 hex>" in `s`: layer mount points, overlay lower dirs (mounted squashfs
 * layers or dir-format layers). Matching a little too much only keeps more. */
static void scan_layer_names(struct gc_inuse *u, const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "layers/")) != NULL) {
		p += strlen("layers/");
		if (strnlen(p, DIGEST_HEX_LEN) == DIGEST_HEX_LEN && is_hex64(p))
			inuse_add(u, p);
	}
}

/* Layer mounts outlive their containers (image/mount.h): a layer's own mount under
 * <run>/layers/ does not make it in use, only what stacks on it or binds it does. */
struct inuse_scan {
	struct gc_inuse *u;
	const char *layers_dir;  /* <run>/layers */
	size_t dir_len;
	char (*kept)[DIGEST_HEX_LEN + 1];
	unsigned (*devs)[2];
	size_t n, cap;
	int pass;                /* 0: the layers' own mounts, 1: what uses them */
};

static const char *own_layer_mount(const struct inuse_scan *s, const char *mp)
{
	if (strncmp(mp, s->layers_dir, s->dir_len) != 0 || mp[s->dir_len] != '/')
		return NULL;
	mp += s->dir_len + 1;
	return strlen(mp) == DIGEST_HEX_LEN && is_hex64(mp) ? mp : NULL;
}

static int inuse_cb(const struct mountinfo_entry *e, void *data)
{
	struct inuse_scan *s = data;
	const char *own = own_layer_mount(s, e->mount_point);

	if (s->pass == 0) {
		if (own && s->n < s->cap) {
			memcpy(s->kept[s->n], own, DIGEST_HEX_LEN + 1);
			s->devs[s->n][0] = e->major;
			s->devs[s->n][1] = e->minor;
			s->n++;
		}
		return 0;
	}
	if (own)
		return 0;
	for (size_t i = 0; i < s->n; i++)
		if (e->major == s->devs[i][0] && e->minor == s->devs[i][1])
			inuse_add(s->u, s->kept[i]); /* a bind mount of the layer */
	scan_layer_names(s->u, e->mount_point);
	scan_layer_names(s->u, e->root);
	if (e->super_opts)
		scan_layer_names(s->u, e->super_opts);
	return 0;
}

int gc_inuse_load(struct gc_inuse *out, struct berr **err)
{
	char dir[PATH_MAX];
	struct inuse_scan s = { .u = out, .cap = 256 };
	int ret;

	if (snprintf(dir, sizeof(dir), "%s/layers", paths_run_dir()) >= (int) sizeof(dir))
		return berr_make(err, ENAMETOOLONG, "run dir");
	s.layers_dir = dir;
	s.dir_len = strlen(dir);
	s.kept = xcalloc(s.cap, sizeof(*s.kept));
	s.devs = xcalloc(s.cap, sizeof(*s.devs));
	out->n = 0;
	out->hex = xcalloc(INUSE_MAX, sizeof(*out->hex));
	ret = mountinfo_each(NULL, inuse_cb, &s, err);
	if (ret >= 0) {
		s.pass = 1;
		ret = mountinfo_each(NULL, inuse_cb, &s, err);
	}
	free(s.kept);
	free(s.devs);
	if (ret >= 0) {
		/* Running containers' overlays are out of the host's sight. */
		char (*running)[65] = NULL;
		size_t n = 0;
		ret = layer_running_set(&running, &n, err);
		for (size_t i = 0; i < n; i++)
			inuse_add(out, running[i]);
		free(running);
	}
	if (ret < 0) {
		gc_inuse_free(out);
		return -1;
	}
	return 0;
}

bool gc_inuse_has(const struct gc_inuse *u, const char *hex)
{
	for (size_t i = 0; i < u->n; i++)
		if (strncmp(u->hex[i], hex, DIGEST_HEX_LEN) == 0)
			return true;
	return false;
}

void gc_inuse_free(struct gc_inuse *u)
{
	free(u->hex);
	u->hex = NULL;
	u->n = 0;
}

/* ---- reachability ---- */

struct dset {
	struct digest *v;
	size_t n, cap;
};

static bool dset_has(const struct dset *s, const struct digest *d)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].hex, d->hex) == 0)
			return true;
	return false;
}

/* Returns true if added (it was not there). */
static bool dset_add(struct dset *s, const struct digest *d)
{
	if (dset_has(s, d))
		return false;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = *d;
	return true;
}

static int cmp_digest(const void *a, const void *b)
{
	return strcmp(((const struct digest *) a)->hex, ((const struct digest *) b)->hex);
}

static void mark_config(const struct manifest *m, struct dset *blobs, struct dset *layers,
			bool *incomplete)
{
	_cleanup_free_ char *data = NULL;
	struct manifest_config cfg;
	struct berr *e = NULL;
	char ds[DIGEST_STR_SIZE];
	size_t len;

	dset_add(blobs, &m->config.digest);
	for (size_t i = 0; i < m->n_layers; i++)
		dset_add(blobs, &m->layers[i].digest);
	if (store_get(&m->config.digest, MANIFEST_SIZE_MAX, &data, &len, &e) < 0 ||
	    manifest_config_parse(data, len, &cfg, &e) < 0) {
		log_debug("config %s: %s", digest_format(&m->config.digest, ds), e ? e->msg : "?");
		berr_free(e);
		*incomplete = true;
		return;
	}
	if (cfg.n_diff_ids > 0) {
		struct digest *ids = xcalloc(cfg.n_diff_ids, sizeof(*ids));
		if (digest_chain_ids(cfg.diff_ids, cfg.n_diff_ids, ids, &e) == 0) {
			for (size_t i = 0; i < cfg.n_diff_ids; i++)
				dset_add(layers, &ids[i]);
		} else {
			berr_free(e);
			*incomplete = true;
		}
		free(ids);
	}
	manifest_config_free(&cfg);
}

static void mark(const struct digest *d, int depth, struct dset *blobs, struct dset *layers,
		 bool *incomplete)
{
	_cleanup_free_ char *data = NULL;
	struct manifest m;
	struct berr *e = NULL;
	char ds[DIGEST_STR_SIZE];
	size_t len;

	if (!dset_add(blobs, d))
		return;
	if (depth > WALK_DEPTH_MAX || store_get(d, MANIFEST_SIZE_MAX, &data, &len, &e) < 0 ||
	    manifest_parse(data, len, NULL, &m, &e) < 0) {
		log_debug("manifest %s: %s", digest_format(d, ds), e ? e->msg : "nested too deep");
		berr_free(e);
		*incomplete = true;
		return;
	}
	if (manifest_kind_is_index(m.kind)) {
		/* Children of other platforms may be absent: only those present are kept. */
		for (size_t i = 0; i < m.n_manifests; i++)
			if (store_exists(&m.manifests[i].digest))
				mark(&m.manifests[i].digest, depth + 1, blobs, layers, incomplete);
	} else {
		mark_config(&m, blobs, layers, incomplete);
	}
	manifest_free(&m);
}

/* Images that container records were made from stay, named or not: a stopped container
 * must be able to start again. */
static void mark_container_images(struct dset *blobs, struct dset *layers, bool *incomplete)
{
	char (*hex)[REC_ID_LEN + 1] = NULL;
	struct berr *e = NULL;
	size_t n = 0;

	if (rec_image_roots(&hex, &n, &e) < 0) {
		/* Without the records we cannot tell what they need: keep everything. */
		log_warn("container records cannot be read (%s): blobs and layers are kept", e->msg);
		berr_free(e);
		*incomplete = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct digest d;
		memcpy(d.hex, hex[i], sizeof(d.hex));
		if (store_exists(&d))
			mark(&d, 0, blobs, layers, incomplete);
	}
	free(hex);
}

int gc_reach_load(const struct store_refs *refs, bool skip_dangling, struct gc_reach *out,
		  struct berr **err)
{
	struct dset blobs = { 0 }, layers = { 0 };

	(void) err;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < refs->n; i++) {
		if (skip_dangling && img_key_is_dangling(refs->v[i].name))
			continue;
		mark(&refs->v[i].digest, 0, &blobs, &layers, &out->incomplete);
	}
	mark_container_images(&blobs, &layers, &out->incomplete);
	if (blobs.n > 1)
		qsort(blobs.v, blobs.n, sizeof(*blobs.v), cmp_digest);
	if (layers.n > 1)
		qsort(layers.v, layers.n, sizeof(*layers.v), cmp_digest);
	out->blobs = blobs.v;
	out->n_blobs = blobs.n;
	out->layers = layers.v;
	out->n_layers = layers.n;
	return 0;
}

static bool sorted_has(const struct digest *v, size_t n, const struct digest *d)
{
	return n > 0 && bsearch(d, v, n, sizeof(*v), cmp_digest) != NULL;
}

bool gc_reach_has_blob(const struct gc_reach *r, const struct digest *d)
{
	return sorted_has(r->blobs, r->n_blobs, d);
}

bool gc_reach_has_layer(const struct gc_reach *r, const struct digest *chain_id)
{
	return sorted_has(r->layers, r->n_layers, chain_id);
}

void gc_reach_free(struct gc_reach *r)
{
	free(r->blobs);
	free(r->layers);
	memset(r, 0, sizeof(*r));
}

/* ---- sweep ---- */

bool gc_tmp_is_partial(const char *name)
{
	size_t n = strlen(name);

	return n > 8 && strcmp(name + n - 8, ".partial") == 0;
}

static void removed(const struct gc_opts *o, struct gc_stats *st, enum gc_kind kind,
		    const char *name, uint64_t size)
{
	st->bytes += size;
	switch (kind) {
	case GC_REF:
		st->refs++;
		break;
	case GC_BLOB:
		st->blobs++;
		break;
	case GC_LAYER:
		st->layers++;
		break;
	case GC_TMP:
		st->tmp++;
		break;
	}
	if (o->on_remove)
		o->on_remove(o->data, kind, name, size);
}

static int sweep_blobs(const struct gc_reach *r, const struct gc_opts *o, struct gc_stats *st,
		       struct berr **err)
{
	struct digest *all;
	char ds[DIGEST_STR_SIZE];
	size_t n;

	if (store_list(&all, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint64_t size = 0;
		struct berr *e = NULL;

		if (gc_reach_has_blob(r, &all[i]))
			continue;
		if (store_stat(&all[i], &size, &e) < 0)
			berr_free(e);
		if (!o->dry_run && store_delete(&all[i], err) < 0) {
			free(all);
			return -1;
		}
		removed(o, st, GC_BLOB, digest_format(&all[i], ds), size);
	}
	free(all);
	return 0;
}

static int sweep_layers(const struct gc_reach *r, const struct gc_opts *o, struct gc_stats *st,
			struct berr **err)
{
	struct gc_inuse inuse;
	char dir[PATH_MAX], ds[DIGEST_STR_SIZE];
	struct dirent *de;
	bool changed = false;
	DIR *d;
	int ret = 0;

	if (paths_layers_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "layers path");
	/* Layer mounts kept for the next start go first: a removed layer file must not stay
	 * held by a loop device. */
	if (!o->dry_run && layer_release_unused(err) < 0)
		return -1;
	if (gc_inuse_load(&inuse, err) < 0)
		return -1;
	d = opendir(dir);
	if (d == NULL) {
		gc_inuse_free(&inuse);
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	}
	while ((de = readdir(d)) != NULL) {
		struct digest chain;
		struct stat sb;
		size_t len = strlen(de->d_name);
		bool is_file = len == DIGEST_HEX_LEN + 5 && strcmp(de->d_name + DIGEST_HEX_LEN, ".sqfs") == 0;
		uint64_t size;

		if (!(is_file || len == DIGEST_HEX_LEN) || !is_hex64(de->d_name))
			continue;
		memcpy(chain.hex, de->d_name, DIGEST_HEX_LEN);
		chain.hex[DIGEST_HEX_LEN] = '\0';
		if (gc_reach_has_layer(r, &chain))
			continue;
		if (gc_inuse_has(&inuse, chain.hex)) {
			st->kept_in_use++;
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		size = S_ISDIR(sb.st_mode) ? fs_tree_size_at(dirfd(d), de->d_name) : (uint64_t) sb.st_size;
		if (!o->dry_run) {
			if (S_ISDIR(sb.st_mode)) {
				if (layer_remove(&chain, err) < 0) {
					ret = berr_wrap(err, "remove layer `%s`", de->d_name);
					break;
				}
			} else if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
				ret = berr_make(err, errno, "remove `%s/%s`", dir, de->d_name);
				break;
			}
			changed = true;
		}
		snprintf(ds, sizeof(ds), "sha256:%s", chain.hex);
		removed(o, st, GC_LAYER, ds, size);
	}
	closedir(d);
	gc_inuse_free(&inuse);
	if (ret == 0 && changed)
		ret = fs_fsync_dir(dir, err);
	return ret;
}

static int sweep_tmp(const struct gc_opts *o, struct gc_stats *st, struct berr **err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (paths_tmp_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "tmp path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d)) != NULL) {
		uint64_t size;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (gc_tmp_is_partial(de->d_name) && !o->partials)
			continue;
		size = fs_tree_size_at(dirfd(d), de->d_name);
		if (!o->dry_run && fs_rm_rf_at(dirfd(d), de->d_name, err) < 0) {
			ret = -1;
			break;
		}
		removed(o, st, GC_TMP, de->d_name, size);
	}
	closedir(d);
	/* refs.json is replaced through refs.json.tmp.<pid>, beside it: the refs lock we hold
	 * means no such file belongs to a live writer. */
	if (ret == 0 && (d = opendir(paths_root())) != NULL) {
		while ((de = readdir(d)) != NULL) {
			struct stat sb;
			if (!str_has_prefix(de->d_name, "refs.json.tmp."))
				continue;
			if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode))
				continue;
			if (!o->dry_run && unlinkat(dirfd(d), de->d_name, 0) < 0)
				continue;
			removed(o, st, GC_TMP, de->d_name, (uint64_t) sb.st_size);
		}
		closedir(d);
	}
	return ret;
}

int gc_sweep(const struct store_refs *refs, const struct gc_opts *o, struct gc_stats *st,
	     struct berr **err)
{
	struct gc_reach r;

	if (gc_reach_load(refs, o->dangling, &r, err) < 0)
		return -1;
	if (r.incomplete) {
		/* Without every reachable manifest and config we cannot tell what is garbage:
		 * keep blobs and layers rather than delete what a repair would reuse. */
		st->incomplete = true;
		log_warn("some images cannot be read (see `berth store verify`): blobs and layers "
			 "are kept");
	} else if (sweep_blobs(&r, o, st, err) < 0 || sweep_layers(&r, o, st, err) < 0) {
		gc_reach_free(&r);
		return -1;
	}
	gc_reach_free(&r);
	if (o->tmp && sweep_tmp(o, st, err) < 0)
		return -1;
	return 0;
}

int gc_run(const struct gc_opts *o, struct gc_stats *st, struct berr **err)
{
	struct store_refs refs = { 0 };
	int glock = -1, rlock = -1, ret = -1;

	memset(st, 0, sizeof(*st));
	if (!o->dry_run) {
		glock = gc_lock(true, err);
		if (glock < 0)
			return -1;
		rlock = store_refs_lock(err);
		if (rlock < 0)
			goto out;
	}
	if (store_refs_load(&refs, err) < 0)
		goto out;
	if (o->dangling) {
		bool changed = false;
		for (size_t i = 0; i < refs.n;) {
			if (!img_key_is_dangling(refs.v[i].name)) {
				i++;
				continue;
			}
			removed(o, st, GC_REF, refs.v[i].name, 0);
			if (o->dry_run) {
				i++;
				continue;
			}
			store_refs_remove(&refs, refs.v[i].name);
			changed = true;
		}
		/* Refs first: after a power cut here, the rest is plain garbage. */
		if (changed && store_refs_save(&refs, err) < 0)
			goto out;
	}
	ret = gc_sweep(&refs, o, st, err);
out:
	store_refs_free(&refs);
	store_refs_unlock(rlock);
	gc_unlock(glock);
	return ret;
}
