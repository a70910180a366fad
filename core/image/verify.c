/* Store verification and repair. Every check reads what is on flash now; nothing is trusted
 * from an earlier run, since flash rots and power cuts leave leftovers. */
#include "image/verify.h"
#include "image/layer.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "base/util.h"
#include "image/gc.h"
#include "image/image.h"
#include "image/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SQFS_MAGIC 0x73717368u
#define SQFS_SUPER_SIZE 96
#define SQFS_PAD 4096u

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

int verify_sqfs_file(const char *path, char *why, size_t size, struct berr **err)
{
	unsigned char sb[SQFS_SUPER_SIZE];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	uint64_t used, padded;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return berr_make(err, errno, "open `%s`", path);
	n = pread(fd, sb, sizeof(sb), 0);
	if (n < 0)
		return berr_make(err, errno, "read `%s`", path);
	/* squashfs 4.0 superblock: s_magic at 0, s_major/s_minor at 28/30, bytes_used at 40,
	 * all little-endian. */
	if (n < (ssize_t) sizeof(sb)) {
		snprintf(why, size, "truncated: %lld bytes, shorter than a superblock", (long long) st.st_size);
		return 1;
	}
	if (le(sb, 4) != SQFS_MAGIC) {
		snprintf(why, size, "not a squashfs image (bad magic)");
		return 1;
	}
	if (le(sb + 28, 2) != 4 || le(sb + 30, 2) != 0) {
		snprintf(why, size, "squashfs version %u.%u, expected 4.0", (unsigned) le(sb + 28, 2),
			 (unsigned) le(sb + 30, 2));
		return 1;
	}
	used = le(sb + 40, 8);
	padded = (used + SQFS_PAD - 1) / SQFS_PAD * SQFS_PAD;
	if (used > (uint64_t) st.st_size) {
		snprintf(why, size, "truncated: %llu bytes, the image needs %llu",
			 (unsigned long long) st.st_size, (unsigned long long) used);
		return 1;
	}
	if (padded != (uint64_t) st.st_size) {
		snprintf(why, size, "%llu bytes, expected %llu (image of %llu bytes padded to 4 KiB)",
			 (unsigned long long) st.st_size, (unsigned long long) padded,
			 (unsigned long long) used);
		return 1;
	}
	return 0;
}

struct vstate {
	const struct verify_opts *o;
	struct verify_stats *st;
};

static void report(struct vstate *v, enum verify_kind kind, const char *subject, bool problem,
		   bool repaired, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void report(struct vstate *v, enum verify_kind kind, const char *subject, bool problem,
		   bool repaired, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (problem)
		v->st->problems++;
	if (repaired)
		v->st->repaired++;
	if (v->o->report)
		v->o->report(v->o->data, kind, subject, msg, repaired);
}

static int check_blobs(struct vstate *v, struct berr **err)
{
	char path[PATH_MAX], ds[DIGEST_STR_SIZE], gs[DIGEST_STR_SIZE];
	struct digest *all;
	size_t n;

	if (store_list(&all, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct digest got;
		struct berr *e = NULL;
		bool fixed = false;

		v->st->blobs++;
		if (store_blob_path(&all[i], path, sizeof(path), &e) < 0 ||
		    digest_file(path, &got, NULL, &e) < 0) {
			report(v, VERIFY_BLOB, digest_format(&all[i], ds), true, false, "unreadable: %s",
			       e ? e->msg : "?");
			berr_free(e);
			continue;
		}
		if (digest_equal(&got, &all[i]))
			continue;
		if (v->o->repair) {
			fixed = store_delete(&all[i], &e) == 0;
			berr_free(e);
		}
		report(v, VERIFY_BLOB, digest_format(&all[i], ds), true, fixed,
		       "corrupt: its content hashes to %.19s", digest_format(&got, gs));
	}
	free(all);
	return 0;
}

static int check_layers(struct vstate *v, struct berr **err)
{
	char dir[PATH_MAX], path[PATH_MAX], why[256];
	struct gc_inuse inuse = { 0 };
	struct dirent *de;
	DIR *d;

	if (paths_layers_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "layers path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	if (gc_inuse_load(&inuse, err) < 0) {
		closedir(d);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		struct digest chain;
		struct berr *e = NULL;
		bool fixed = false;
		int r;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (len == DIGEST_HEX_LEN && digest_hex_valid(de->d_name)) {
			v->st->layers++; /* a dir-format layer: nothing to check in it */
			continue;
		}
		if (len != DIGEST_HEX_LEN + 5 || strcmp(de->d_name + DIGEST_HEX_LEN, ".sqfs") != 0) {
			report(v, VERIFY_LAYER, de->d_name, true, false, "not a layer file; remove it by hand");
			continue;
		}
		memcpy(chain.hex, de->d_name, DIGEST_HEX_LEN);
		chain.hex[DIGEST_HEX_LEN] = '\0';
		if (!digest_hex_valid(chain.hex)) {
			report(v, VERIFY_LAYER, de->d_name, true, false, "not a layer file; remove it by hand");
			continue;
		}
		v->st->layers++;
		if (paths_layer(path, sizeof(path), chain.hex) < 0)
			continue;
		r = verify_sqfs_file(path, why, sizeof(why), &e);
		if (r < 0) {
			report(v, VERIFY_LAYER, chain.hex, true, false, "%s", e->msg);
			berr_free(e);
			continue;
		}
		if (r == 0)
			continue;
		if (v->o->repair) {
			if (gc_inuse_has(&inuse, chain.hex)) {
				report(v, VERIFY_LAYER, chain.hex, true, false, "%s; mounted, so not "
				       "removed: unmount it and repair again", why);
				continue;
			}
			fixed = unlink(path) == 0 && fs_fsync_dir(dir, NULL) == 0;
		}
		report(v, VERIFY_LAYER, chain.hex, true, fixed, "%s", why);
	}
	closedir(d);
	gc_inuse_free(&inuse);
	return 0;
}

static int check_images(struct vstate *v, struct berr **err)
{
	struct store_refs refs = { 0 };
	struct img_list list;
	struct berr *e = NULL;
	char ds[DIGEST_STR_SIZE];

	if (store_refs_load(&refs, &e) < 0) {
		report(v, VERIFY_IMAGE, "refs.json", true, false, "%s", e->msg);
		berr_free(e);
		return 0;
	}
	if (img_list_load(&refs, &list, err) < 0) {
		store_refs_free(&refs);
		return -1;
	}
	for (size_t i = 0; i < list.n; i++) {
		struct img_info *info = &list.v[i];
		const char *name = info->keys[0];

		v->st->images++;
		if (!info->ok) {
			report(v, VERIFY_IMAGE, name, true, false, "broken: %s; pull or load it again",
			       info->problem);
			continue;
		}
		for (size_t k = 0; k < info->img.n_layers; k++)
			if (!layer_exists(&info->img.chain_ids[k]))
				report(v, VERIFY_IMAGE, name, true, false, "layer %zu (%.19s) is missing; "
				       "pull or load the image again", k,
				       digest_format(&info->img.chain_ids[k], ds));
	}
	img_list_free(&list);
	/* Unreferenced data is not wrong (an interrupted pull leaves it); prune removes it. */
	{
		struct gc_reach r;
		struct digest *all = NULL;
		size_t n = 0, unref = 0;

		if (gc_reach_load(&refs, false, &r, &e) == 0 && !r.incomplete &&
		    store_list(&all, &n, &e) == 0) {
			for (size_t i = 0; i < n; i++)
				if (!gc_reach_has_blob(&r, &all[i]))
					unref++;
			if (unref)
				report(v, VERIFY_NOTE, "blobs", false, false, "%zu not used by any image; "
				       "`berth image prune` removes them", unref);
		}
		berr_free(e);
		free(all);
		gc_reach_free(&r);
	}
	store_refs_free(&refs);
	return 0;
}

static int check_tmp(struct vstate *v, struct berr **err)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (paths_tmp_dir(dir, sizeof(dir)) < 0)
		return berr_make(err, errno, "tmp path");
	d = opendir(dir);
	if (d == NULL)
		return errno == ENOENT ? 0 : berr_make(err, errno, "open `%s`", dir);
	while ((de = readdir(d)) != NULL) {
		char sub[300];
		struct berr *e = NULL;
		bool fixed = false;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "tmp/%s", de->d_name);
		if (gc_tmp_is_partial(de->d_name)) {
			report(v, VERIFY_NOTE, sub, false, false, "resumable download, kept");
			continue;
		}
		if (v->o->repair) {
			fixed = fs_rm_rf_at(dirfd(d), de->d_name, &e) == 0;
			berr_free(e);
		}
		report(v, VERIFY_TMP, sub, true, fixed, "leftover of interrupted work");
	}
	closedir(d);
	d = opendir(paths_root());
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		bool fixed = false;

		if (!str_has_prefix(de->d_name, "refs.json.tmp."))
			continue;
		if (v->o->repair)
			fixed = unlinkat(dirfd(d), de->d_name, 0) == 0;
		report(v, VERIFY_TMP, de->d_name, true, fixed, "leftover of interrupted work");
	}
	closedir(d);
	return 0;
}

int verify_store(const struct verify_opts *o, struct verify_stats *st, struct berr **err)
{
	struct vstate v = { .o = o, .st = st };
	int lock = -1, ret = -1;

	memset(st, 0, sizeof(*st));
	/* Repair removes files: hold off loads and pulls, whose work in progress would look
	 * like leftovers. */
	if (o->repair && (lock = gc_lock(true, err)) < 0)
		return -1;
	if (check_blobs(&v, err) < 0 || check_layers(&v, err) < 0 || check_images(&v, err) < 0 ||
	    check_tmp(&v, err) < 0)
		goto out;
	ret = 0;
out:
	gc_unlock(lock);
	return ret;
}
