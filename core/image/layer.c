/* tar -> squashfs layer conversion. Two libarchive readers are chained: the outer one only
 * decompresses (format "raw"), so the uncompressed bytes can be hashed for the diff_id check on
 * their way into the inner tar reader. Nothing is ever extracted to disk. */
#include "image/layer.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/paths.h"
#include "base/util.h"
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define XATTR_MAX 64          /* per entry */

int layer_clean_path(const char *in, char *out, size_t size)
{
	const char *p = in;
	size_t n = 0;

	if (in[0] == '/')
		return -1;
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t) (end - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n + len + 2 > size)
				return -1;
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	if (n == 0) {
		if (size < 2)
			return -1;
		out[n++] = '.';
	}
	out[n] = '\0';
	return 0;
}

/* The outer reader: decompression only, hashing what comes out. */
struct stream {
	struct archive *outer;
	struct digest_ctx hash;
	uint64_t bytes;
	char buf[64 * 1024];
	bool eof;
	int error;             /* archive error seen in the outer reader */
	char errmsg[256];
};

static la_ssize_t inner_read(struct archive *a, void *data, const void **buf)
{
	struct stream *s = data;
	la_ssize_t n;

	(void) a;
	if (s->eof)
		return 0;
	n = archive_read_data(s->outer, s->buf, sizeof(s->buf));
	if (n < 0) {
		s->error = 1;
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", archive_error_string(s->outer));
		archive_set_error(a, EIO, "decompress: %s", s->errmsg);
		return -1;
	}
	if (n == 0)
		s->eof = true;
	digest_update(&s->hash, s->buf, (size_t) n);
	s->bytes += (uint64_t) n;
	*buf = s->buf;
	return n;
}

static int open_outer(struct stream *s, int in_fd, struct berr **err)
{
	s->outer = archive_read_new();
	if (s->outer == NULL)
		return berr_make(err, ENOMEM, "layer reader");
	/* Layer media types allow gzip, zstd or no compression (image-spec layer.md). */
	archive_read_support_filter_gzip(s->outer);
	archive_read_support_filter_zstd(s->outer);
	archive_read_support_format_raw(s->outer);
	if (archive_read_open_fd(s->outer, in_fd, 64 * 1024) != ARCHIVE_OK)
		return berr_make(err, 0, "open layer stream: %s", archive_error_string(s->outer));
	{
		struct archive_entry *e;
		if (archive_read_next_header(s->outer, &e) != ARCHIVE_OK)
			return berr_make(err, 0, "read layer stream: %s", archive_error_string(s->outer));
	}
	return 0;
}

static bool is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* One tar entry into the writer. */
static int add_entry(struct sqfs_writer *w, struct archive *in, struct archive_entry *e,
		     struct layer_stats *st, struct berr **err)
{
	char path[LAYER_MAX_PATH], target[LAYER_MAX_PATH];
	struct sqfs_xattr xattrs[XATTR_MAX];
	const char *name = archive_entry_pathname(e), *base, *hl, *xname;
	struct sqfs_attr a = { 0 };
	const void *xval;
	size_t n_x = 0, xsize;
	mode_t type = archive_entry_filetype(e);

	if (name == NULL)
		return berr_make(err, EINVAL, "tar entry without a name");
	if (strlen(name) >= LAYER_MAX_PATH || layer_clean_path(name, path, sizeof(path)) < 0)
		return berr_make(err, EINVAL, "tar entry `%.200s` escapes the layer root", name);
	if (++st->entries > LAYER_MAX_ENTRIES)
		return berr_make(err, E2BIG, "more than %d entries in one layer", LAYER_MAX_ENTRIES);

	a.mode = archive_entry_mode(e);
	a.uid = (uint32_t) archive_entry_uid(e);
	a.gid = (uint32_t) archive_entry_gid(e);
	a.mtime = archive_entry_mtime(e);
	for (archive_entry_xattr_reset(e); archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK;) {
		if (n_x == XATTR_MAX)
			return berr_make(err, E2BIG, "tar entry `%.200s`: more than %d xattrs", name, XATTR_MAX);
		xattrs[n_x++] = (struct sqfs_xattr){ xname, xval, xsize };
	}
	a.xattrs = xattrs;
	a.n_xattrs = n_x;

	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	/* OCI whiteouts become what overlayfs reads as whiteouts (image-spec layer.md). */
	if (strcmp(base, WH_OPAQUE) == 0) {
		static const struct sqfs_xattr opaque = { "trusted.overlay.opaque", "y", 1 };
		char dir[LAYER_MAX_PATH];
		size_t dl = (size_t) (base - path);
		if (dl == 0)
			return 0; /* an opaque root hides nothing below it: layers never stack on "/" alone */
		memcpy(dir, path, dl - 1);
		dir[dl - 1] = '\0';
		return sqfs_writer_add_xattr(w, dir, &opaque, err);
	}
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		struct sqfs_attr wh = { .mode = S_IFCHR | 0, .rdev = 0, .uid = a.uid, .gid = a.gid, .mtime = a.mtime };
		const char *hidden = base + strlen(WH_PREFIX);
		if (*hidden == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
			return berr_make(err, EINVAL, "tar entry `%.200s`: bad whiteout", name);
		memmove((char *) base, hidden, strlen(hidden) + 1);
		return sqfs_writer_add(w, path, &wh, err);
	}

	hl = archive_entry_hardlink(e);
	if (hl != NULL) {
		if (strlen(hl) >= LAYER_MAX_PATH || layer_clean_path(hl, target, sizeof(target)) < 0)
			return berr_make(err, EINVAL, "tar entry `%.200s`: hard link target `%.200s` escapes the layer root", name, hl);
		if (sqfs_writer_add_hardlink(w, path, target, err) < 0)
			return berr_wrap(err, "tar entry `%.200s`", name);
		return 0;
	}

	switch (type) {
	case AE_IFREG: {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r;
		if (sqfs_file_begin(w, path, &a, err) < 0)
			return -1;
		while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK) {
			if (off < 0 || sqfs_file_write(w, (uint64_t) off, buf, len, err) < 0)
				return off < 0 ? berr_make(err, EINVAL, "tar entry `%.200s`: bad offset", name) : -1;
		}
		if (r != ARCHIVE_EOF)
			return berr_make(err, 0, "tar entry `%.200s`: %s", name, archive_error_string(in));
		return sqfs_file_end(w, (uint64_t) archive_entry_size(e), err);
	}
	case AE_IFLNK:
		a.link_target = archive_entry_symlink(e);
		if (a.link_target == NULL || a.link_target[0] == '\0' || strlen(a.link_target) >= LAYER_MAX_PATH)
			return berr_make(err, EINVAL, "tar entry `%.200s`: bad symlink target", name);
		break;
	case AE_IFCHR:
	case AE_IFBLK:
		a.rdev = archive_entry_rdev(e);
		break;
	case AE_IFDIR:
	case AE_IFIFO:
	case AE_IFSOCK:
		break;
	default:
		return berr_make(err, EINVAL, "tar entry `%.200s`: unsupported file type 0%o", name, (unsigned) type);
	}
	return sqfs_writer_add(w, path, &a, err);
}

/* Read the layer stream entry by entry, calling `fn` for each; then read (and hash) what
 * follows the end-of-archive blocks, since the diff_id covers the whole uncompressed stream.
 * *diff_out gets that digest, *bytes its length. */
static int walk_layer(int in_fd, int (*fn)(struct archive *in, struct archive_entry *e, void *data,
					   struct berr **err),
		      void *data, struct digest *diff_out, uint64_t *bytes, struct berr **err)
{
	struct stream s = { 0 };
	struct archive *in = NULL;
	struct archive_entry *e;
	int ret = -1, r;

	digest_init(&s.hash);
	if (open_outer(&s, in_fd, err) < 0)
		goto out;
	in = archive_read_new();
	if (in == NULL) {
		berr_make(err, ENOMEM, "tar reader");
		goto out;
	}
	/* Docker and OCI layers are tar: ustar, pax or GNU (the tar reader covers all three). */
	archive_read_support_format_tar(in);
	if (archive_read_open(in, &s, NULL, inner_read, NULL) != ARCHIVE_OK) {
		berr_make(err, 0, "read layer: %s", archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)
		if (fn(in, e, data, err) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		berr_make(err, 0, "read layer: %s", s.error ? s.errmsg : archive_error_string(in));
		goto out;
	}
	while (!s.eof) {
		const void *b;
		if (inner_read(in, &s, &b) < 0) {
			berr_make(err, 0, "read layer: %s", s.errmsg);
			goto out;
		}
	}
	*bytes = s.bytes;
	ret = digest_final(&s.hash, diff_out, err);
	goto out_nohash;
out:
	digest_ctx_free(&s.hash);
out_nohash:
	if (in)
		archive_read_free(in);
	if (s.outer)
		archive_read_free(s.outer);
	return ret;
}

struct to_sqfs {
	struct sqfs_writer *w;
	struct layer_stats *st;
};

static int sqfs_entry(struct archive *in, struct archive_entry *e, void *data, struct berr **err)
{
	struct to_sqfs *t = data;

	return add_entry(t->w, in, e, t->st, err);
}

static int convert(int in_fd, int out_fd, const struct sqfs_options *opt, struct digest *diff_out,
		   struct layer_stats *stats, struct berr **err)
{
	struct layer_stats st = { 0 };
	struct to_sqfs t = { NULL, &st };
	int ret = -1;

	if (sqfs_writer_new(&t.w, out_fd, opt, err) < 0)
		return -1;
	if (walk_layer(in_fd, sqfs_entry, &t, diff_out, &st.tar_bytes, err) < 0 ||
	    sqfs_writer_finish(t.w, err) < 0)
		goto out;
	st.image_bytes = sqfs_writer_image_size(t.w);
	if (stats)
		*stats = st;
	ret = 0;
out:
	sqfs_writer_free(t.w);
	return ret;
}

int layer_convert_fd(int in_fd, int out_fd, const struct sqfs_options *opt,
		     struct digest *diff_id_out, struct layer_stats *stats, struct berr **err)
{
	struct digest d;

	if (convert(in_fd, out_fd, opt, &d, stats, err) < 0)
		return -1;
	if (diff_id_out)
		*diff_id_out = d;
	return 0;
}

bool layer_exists(const struct digest *chain_id)
{
	char path[PATH_MAX];
	struct stat st;

	if (paths_layer(path, sizeof(path), chain_id->hex) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return true;
	return paths_layer_dir(path, sizeof(path), chain_id->hex) == 0 && stat(path, &st) == 0 &&
	       S_ISDIR(st.st_mode);
}

/* ---- dir format ---- */

/* The dir format is extracted by berth itself, relative to the working directory (the
 * layer's tmp dir), with *at calls that never follow a symlink: every parent of an entry
 * (and of a hard link's target) is checked to be a real directory first. Directory
 * attributes are applied at the end, deepest first, so adding entries does not undo them. */

struct dir_attr {
	char *path;
	struct sqfs_attr a;     /* mode, owner, mtime (link_target and xattrs unused) */
	char *xnames;           /* NUL-separated names, then values: see dir_attrs_apply */
	size_t n_x;
	void **xvals;
	size_t *xsizes;
};

struct extract {
	struct dir_attr *dirs;
	size_t n_dirs, cap;
};

static void extract_free(struct extract *x)
{
	for (size_t i = 0; i < x->n_dirs; i++) {
		for (size_t j = 0; j < x->dirs[i].n_x; j++)
			free(x->dirs[i].xvals[j]);
		free(x->dirs[i].xvals);
		free(x->dirs[i].xsizes);
		free(x->dirs[i].xnames);
		free(x->dirs[i].path);
	}
	free(x->dirs);
}

static int parents_are_dirs(char *path, const char *name, struct berr **err)
{
	for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		struct stat pst;
		int r;
		*slash = '\0';
		r = lstat(path, &pst);
		*slash = '/';
		if (r == 0 && !S_ISDIR(pst.st_mode))
			return berr_make(err, ENOTDIR, "tar entry `%.200s`: a parent is not a directory", name);
	}
	return 0;
}

/* Make missing parents (0755; a later entry for them sets their attributes). */
static int make_parents(char *path, const char *name, struct berr **err)
{
	for (char *slash = strchr(path, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int saved = errno;
			*slash = '/';
			return berr_make(err, saved, "tar entry `%.200s`: create its directory", name);
		}
		*slash = '/';
	}
	return 0;
}

/* Clear the way for a new entry: last one wins, as when tar extracts. A directory stays
 * when the new entry is a directory too. */
static int clear_path(const char *path, bool keep_dir, const char *name, struct berr **err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berr_make(err, errno, "tar entry `%.200s`", name);
	if (S_ISDIR(st.st_mode)) {
		if (keep_dir)
			return 0;
		return fs_rm_rf(path, err) < 0 ? berr_wrap(err, "tar entry `%.200s`", name) : 0;
	}
	if (unlink(path) < 0)
		return berr_make(err, errno, "tar entry `%.200s`: replace", name);
	return 0;
}

static int set_xattrs(const char *path, struct archive_entry *e, const char *name, struct berr **err)
{
	const char *xname;
	const void *xval;
	size_t xsize;

	for (archive_entry_xattr_reset(e); archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK;)
		if (lsetxattr(path, xname, xval, xsize, 0) < 0)
			return berr_make(err, errno, "tar entry `%.200s`: xattr `%.100s`", name, xname);
	return 0;
}

static int remember_dir(struct extract *x, const char *path, struct archive_entry *e, struct berr **err)
{
	struct dir_attr *d;
	const char *xname;
	const void *xval;
	size_t xsize, n = 0;

	if (x->n_dirs == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct dir_attr *v = realloc(x->dirs, cap * sizeof(*v));
		if (v == NULL)
			return berr_make(err, ENOMEM, "extract layer");
		x->dirs = v;
		x->cap = cap;
	}
	d = &x->dirs[x->n_dirs];
	memset(d, 0, sizeof(*d));
	d->path = strdup(path);
	if (d->path == NULL)
		return berr_make(err, ENOMEM, "extract layer");
	x->n_dirs++;
	d->a.mode = archive_entry_mode(e);
	d->a.uid = (uint32_t) archive_entry_uid(e);
	d->a.gid = (uint32_t) archive_entry_gid(e);
	d->a.mtime = archive_entry_mtime(e);
	for (archive_entry_xattr_reset(e); archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK;)
		n++;
	if (n == 0)
		return 0;
	if (n > XATTR_MAX)
		return berr_make(err, E2BIG, "directory `%.200s`: more than %d xattrs", path, XATTR_MAX);
	d->xvals = calloc(n, sizeof(*d->xvals));
	d->xsizes = calloc(n, sizeof(*d->xsizes));
	{
		size_t names = 0;
		for (archive_entry_xattr_reset(e); archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK;)
			names += strlen(xname) + 1;
		d->xnames = malloc(names ? names : 1);
	}
	if (d->xvals == NULL || d->xsizes == NULL || d->xnames == NULL)
		return berr_make(err, ENOMEM, "extract layer");
	{
		char *np = d->xnames;
		for (archive_entry_xattr_reset(e); archive_entry_xattr_next(e, &xname, &xval, &xsize) == ARCHIVE_OK;) {
			d->xvals[d->n_x] = malloc(xsize ? xsize : 1);
			if (d->xvals[d->n_x] == NULL)
				return berr_make(err, ENOMEM, "extract layer");
			memcpy(d->xvals[d->n_x], xval, xsize);
			d->xsizes[d->n_x++] = xsize;
			strcpy(np, xname);
			np += strlen(xname) + 1;
		}
	}
	return 0;
}

static int apply_dirs(struct extract *x, struct berr **err)
{
	/* Owners, modes and xattrs in entry order, so a directory given twice keeps its last
	 * entry's; then times in reverse order (children before parents), when nothing more
	 * is created inside to change them. */
	for (size_t i = 0; i < x->n_dirs; i++) {
		struct dir_attr *d = &x->dirs[i];
		const char *np = d->xnames;
		if (lchown(d->path, d->a.uid, d->a.gid) < 0 || chmod(d->path, d->a.mode & 07777) < 0)
			return berr_make(err, errno, "directory `%.200s`", d->path);
		for (size_t j = 0; j < d->n_x; j++) {
			if (lsetxattr(d->path, np, d->xvals[j], d->xsizes[j], 0) < 0)
				return berr_make(err, errno, "directory `%.200s`: xattr `%.100s`", d->path, np);
			np += strlen(np) + 1;
		}
	}
	for (size_t i = x->n_dirs; i-- > 0;) {
		struct timespec ts[2] = { { x->dirs[i].a.mtime, 0 }, { x->dirs[i].a.mtime, 0 } };
		if (utimensat(AT_FDCWD, x->dirs[i].path, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return berr_make(err, errno, "directory `%.200s`", x->dirs[i].path);
	}
	return 0;
}

static int write_file(struct archive *in, struct archive_entry *e, const char *path, const char *name,
		      struct berr **err)
{
	const void *buf;
	size_t len;
	la_int64_t off;
	int fd, r, ret = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return berr_make(err, errno, "tar entry `%.200s`: create", name);
	/* Blocks come with their offsets: gaps stay holes. */
	while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		if (off < 0) {
			berr_make(err, EINVAL, "tar entry `%.200s`: bad offset", name);
			goto out;
		}
		while (len > 0) {
			ssize_t n = pwrite(fd, p, len, off);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				berr_make(err, errno, "tar entry `%.200s`: write", name);
				goto out;
			}
			p += n;
			len -= (size_t) n;
			off += n;
		}
	}
	if (r != ARCHIVE_EOF) {
		berr_make(err, 0, "tar entry `%.200s`: %s", name, archive_error_string(in));
		goto out;
	}
	if (ftruncate(fd, archive_entry_size(e)) < 0 ||
	    fchown(fd, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0 ||
	    fchmod(fd, archive_entry_mode(e) & 07777) < 0) { /* after chown, which clears set-id bits */
		berr_make(err, errno, "tar entry `%.200s`", name);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

static int extract_entry(struct archive *in, struct archive_entry *e, struct extract *x,
			 struct layer_stats *st, struct berr **err)
{
	char path[LAYER_MAX_PATH], target[LAYER_MAX_PATH];
	const char *name = archive_entry_pathname(e), *base, *hl;
	mode_t type = archive_entry_filetype(e);
	struct timespec ts[2];

	if (name == NULL)
		return berr_make(err, EINVAL, "tar entry without a name");
	if (strlen(name) >= LAYER_MAX_PATH || layer_clean_path(name, path, sizeof(path)) < 0)
		return berr_make(err, EINVAL, "tar entry `%.200s` escapes the layer root", name);
	if (++st->entries > LAYER_MAX_ENTRIES)
		return berr_make(err, E2BIG, "more than %d entries in one layer", LAYER_MAX_ENTRIES);
	/* As in the squashfs format, an entry below a symlink (or a file) is an error:
	 * extraction would otherwise follow it out of the layer. */
	if (parents_are_dirs(path, name, err) < 0 || make_parents(path, name, err) < 0)
		return -1;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strcmp(base, WH_OPAQUE) == 0) {
		size_t dl = (size_t) (base - path);
		if (dl == 0)
			return 0; /* as in the squashfs format: nothing is under the root */
		path[dl - 1] = '\0';
		if (lsetxattr(path, "trusted.overlay.opaque", "y", 1, 0) < 0)
			return berr_make(err, errno, "tar entry `%.200s`: mark opaque", name);
		return 0;
	}
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) == 0) {
		const char *hidden = base + strlen(WH_PREFIX);
		if (*hidden == '\0' || strcmp(hidden, ".") == 0 || strcmp(hidden, "..") == 0)
			return berr_make(err, EINVAL, "tar entry `%.200s`: bad whiteout", name);
		memmove((char *) base, hidden, strlen(hidden) + 1);
		if (clear_path(path, false, name, err) < 0)
			return -1;
		if (mknod(path, S_IFCHR | 0, 0) < 0)
			return berr_make(err, errno, "tar entry `%.200s`: whiteout", name);
		return 0;
	}
	if (strcmp(path, ".") == 0) {
		if (type != AE_IFDIR)
			return berr_make(err, EINVAL, "tar entry `%.200s`: the root must be a directory", name);
		return remember_dir(x, path, e, err);
	}
	hl = archive_entry_hardlink(e);
	if (hl != NULL) {
		struct stat tst;
		if (strlen(hl) >= LAYER_MAX_PATH || layer_clean_path(hl, target, sizeof(target)) < 0)
			return berr_make(err, EINVAL, "tar entry `%.200s`: hard link target `%.200s` escapes the layer root", name, hl);
		if (parents_are_dirs(target, name, err) < 0)
			return -1;
		if (lstat(target, &tst) < 0 || S_ISDIR(tst.st_mode))
			return berr_make(err, EINVAL, "tar entry `%.200s`: hard link target `%.200s` is not an earlier file", name, hl);
		if (strcmp(target, path) == 0)
			return 0;
		if (clear_path(path, false, name, err) < 0)
			return -1;
		if (linkat(AT_FDCWD, target, AT_FDCWD, path, 0) < 0)
			return berr_make(err, errno, "tar entry `%.200s`: link to `%.200s`", name, hl);
		return 0;
	}
	if (clear_path(path, type == AE_IFDIR, name, err) < 0)
		return -1;
	switch (type) {
	case AE_IFDIR:
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return berr_make(err, errno, "tar entry `%.200s`: mkdir", name);
		if (set_xattrs(path, e, name, err) < 0)
			return -1;
		return remember_dir(x, path, e, err);
	case AE_IFREG:
		if (write_file(in, e, path, name, err) < 0)
			return -1;
		break;
	case AE_IFLNK: {
		const char *t = archive_entry_symlink(e);
		if (t == NULL || *t == '\0' || strlen(t) >= LAYER_MAX_PATH)
			return berr_make(err, EINVAL, "tar entry `%.200s`: bad symlink target", name);
		if (symlink(t, path) < 0)
			return berr_make(err, errno, "tar entry `%.200s`: symlink", name);
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
	case AE_IFSOCK:
		if (mknod(path, (type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK :
				 type == AE_IFIFO ? S_IFIFO : S_IFSOCK) | 0600, archive_entry_rdev(e)) < 0)
			return berr_make(err, errno, "tar entry `%.200s`: mknod", name);
		if (chmod(path, archive_entry_mode(e) & 07777) < 0)
			return berr_make(err, errno, "tar entry `%.200s`", name);
		break;
	default:
		return berr_make(err, EINVAL, "tar entry `%.200s`: unsupported file type 0%o", name, (unsigned) type);
	}
	if (type != AE_IFREG && lchown(path, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0)
		return berr_make(err, errno, "tar entry `%.200s`: chown", name);
	if ((type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO || type == AE_IFSOCK) &&
	    chmod(path, archive_entry_mode(e) & 07777) < 0) /* chown cleared set-id bits */
		return berr_make(err, errno, "tar entry `%.200s`", name);
	if (set_xattrs(path, e, name, err) < 0)
		return -1;
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return berr_make(err, errno, "tar entry `%.200s`: times", name);
	return 0;
}

struct to_dir {
	struct extract x;
	struct layer_stats *st;
};

static int dir_entry(struct archive *in, struct archive_entry *e, void *data, struct berr **err)
{
	struct to_dir *t = data;

	return extract_entry(in, e, &t->x, t->st, err);
}

static int extract_all(int in_fd, struct digest *diff_out, struct layer_stats *st, struct berr **err)
{
	struct to_dir t = { { 0 }, st };
	int ret;

	ret = walk_layer(in_fd, dir_entry, &t, diff_out, &st->tar_bytes, err);
	if (ret == 0)
		ret = apply_dirs(&t.x, err);
	extract_free(&t.x);
	return ret;
}

int layer_convert_dir(int in_fd, const struct digest *diff_id, const struct digest *chain_id,
		      struct layer_stats *stats, struct berr **err)
{
	char final[PATH_MAX], tmp[PATH_MAX], name[128], dbuf[DIGEST_STR_SIZE], abuf[DIGEST_STR_SIZE];
	struct layer_stats st = { 0 };
	struct digest actual;
	int cwd = -1, dfd = -1, ret = -1;

	if (!digest_is_set(chain_id) || !is_hex(chain_id->hex))
		return berr_make(err, EINVAL, "layer without a chain id");
	if (layer_exists(chain_id))
		return 0;
	snprintf(name, sizeof(name), "%s.dir.tmp", chain_id->hex);
	if (paths_layer_dir(final, sizeof(final), chain_id->hex) < 0 ||
	    paths_tmp_file(tmp, sizeof(tmp), name) < 0)
		return berr_make(err, errno, "layer path");
	{
		char d[PATH_MAX];
		if (paths_layers_dir(d, sizeof(d)) < 0 || fs_mkdir_p(d, 0700, err) < 0)
			return -1;
	}
	/* A leftover from a power cut is not resumable: start over. */
	if (fs_rm_rf(tmp, err) < 0 || fs_mkdir_p(tmp, 0755, err) < 0)
		return -1;
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (cwd < 0 || dfd < 0 || fchdir(dfd) < 0) {
		berr_make(err, errno, "enter `%s`", tmp);
		goto fail;
	}
	/* libarchive extracts relative to the working directory; its symlink checks then
	 * cover only the layer's own tree, not the path to the data root. */
	ret = extract_all(in_fd, &actual, &st, err);
	if (fchdir(cwd) < 0 && ret == 0)
		ret = berr_make(err, errno, "leave `%s`", tmp);
	if (ret < 0)
		goto fail;
	ret = -1;
	if (digest_is_set(diff_id) && !digest_equal(diff_id, &actual)) {
		berr_make(err, 0, "layer content does not match its diff_id: expected %s, got %s",
			  digest_format(diff_id, dbuf), digest_format(&actual, abuf));
		goto fail;
	}
	/* One syncfs makes every extracted file durable before the rename publishes them. */
	if (syncfs(dfd) < 0) {
		berr_make(err, errno, "sync `%s`", tmp);
		goto fail;
	}
	if (rename(tmp, final) < 0) {
		berr_make(err, errno, "rename `%s` to `%s`", tmp, final);
		goto fail;
	}
	close(cwd);
	close(dfd);
	if (stats)
		*stats = st;
	return fs_fsync_parent(final, err);
fail:
	if (cwd >= 0)
		close(cwd);
	if (dfd >= 0)
		close(dfd);
	{
		struct berr *e2 = NULL;
		if (fs_rm_rf(tmp, &e2) < 0)
			berr_free(e2);
	}
	return -1;
}

int layer_convert(int in_fd, const struct digest *diff_id, const struct digest *chain_id,
		  const struct sqfs_options *opt, struct layer_stats *stats, struct berr **err)
{
	char final[PATH_MAX], tmp[PATH_MAX], name[128], dbuf[DIGEST_STR_SIZE], abuf[DIGEST_STR_SIZE];
	struct digest actual;
	int fd;

	if (!digest_is_set(chain_id) || !is_hex(chain_id->hex))
		return berr_make(err, EINVAL, "layer without a chain id");
	if (paths_layer(final, sizeof(final), chain_id->hex) < 0)
		return berr_make(err, errno, "layer path");
	if (layer_exists(chain_id))
		return 0;
	snprintf(name, sizeof(name), "%s.sqfs.tmp", chain_id->hex);
	if (paths_tmp_file(tmp, sizeof(tmp), name) < 0)
		return berr_make(err, errno, "layer tmp path");
	if (fs_mkdir_p(paths_root(), 0700, err) < 0)
		return -1;
	{
		char d[PATH_MAX];
		if (paths_tmp_dir(d, sizeof(d)) < 0 || fs_mkdir_p(d, 0700, err) < 0 ||
		    paths_layers_dir(d, sizeof(d)) < 0 || fs_mkdir_p(d, 0700, err) < 0)
			return -1;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return berr_make(err, errno, "create `%s`", tmp);
	if (convert(in_fd, fd, opt, &actual, stats, err) < 0)
		goto fail;
	if (digest_is_set(diff_id) && !digest_equal(diff_id, &actual)) {
		berr_make(err, 0, "layer content does not match its diff_id: expected %s, got %s",
			  digest_format(diff_id, dbuf), digest_format(&actual, abuf));
		goto fail;
	}
	if (fsync(fd) < 0) {
		berr_make(err, errno, "fsync `%s`", tmp);
		goto fail;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, final) < 0) {
		berr_make(err, errno, "rename `%s` to `%s`", tmp, final);
		goto fail;
	}
	return fs_fsync_parent(final, err);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int layer_format_choose(const char *setting, enum layer_format *out, struct berr **err)
{
	_cleanup_free_ char *fs = NULL;
	bool kernel_ok;

	if (setting == NULL || strcmp(setting, "auto") == 0) {
		/* The kernel lists squashfs once it is built in or its module is loaded; loop
		 * devices come through /dev/loop-control. */
		kernel_ok = fs_read_file("/proc/filesystems", 1u << 16, &fs, NULL, NULL) == 0 &&
			    strstr(fs, "\tsquashfs\n") != NULL && access("/dev/loop-control", F_OK) == 0;
		*out = ENABLE_SQUASHFS_WRITER && kernel_ok ? LAYER_FORMAT_SQUASHFS : LAYER_FORMAT_DIR;
		return 0;
	}
	if (strcmp(setting, "dir") == 0) {
		*out = LAYER_FORMAT_DIR;
		return 0;
	}
	if (strcmp(setting, "squashfs") == 0) {
		if (!ENABLE_SQUASHFS_WRITER)
			return berr_usage(err, "[store] layer-format = squashfs, but this berth is built "
					  "without CONFIG_SQUASHFS_WRITER; use dir or auto");
		*out = LAYER_FORMAT_SQUASHFS;
		return 0;
	}
	return berr_usage(err, "[store] layer-format `%s`: use auto, squashfs or dir", setting);
}

int layer_store(enum layer_format format, int in_fd, const struct digest *diff_id,
		const struct digest *chain_id, const struct sqfs_options *opt, struct layer_stats *stats,
		struct berr **err)
{
	if (format == LAYER_FORMAT_DIR)
		return layer_convert_dir(in_fd, diff_id, chain_id, stats, err);
	return layer_convert(in_fd, diff_id, chain_id, opt, stats, err);
}

int layer_remove(const struct digest *chain_id, struct berr **err)
{
	char path[PATH_MAX], tmp[PATH_MAX], name[DIGEST_HEX_LEN + 16];
	struct stat st;

	if (paths_layer(path, sizeof(path), chain_id->hex) < 0)
		return berr_make(err, errno, "layer path");
	if (unlink(path) == 0)
		return fs_fsync_parent(path, err);
	if (errno != ENOENT)
		return berr_make(err, errno, "remove `%s`", path);
	if (paths_layer_dir(path, sizeof(path), chain_id->hex) < 0)
		return berr_make(err, errno, "layer path");
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berr_make(err, errno, "stat `%s`", path);
	snprintf(name, sizeof(name), "%s.rm.tmp", chain_id->hex);
	if (paths_tmp_file(tmp, sizeof(tmp), name) < 0)
		return berr_make(err, errno, "layer tmp path");
	if (fs_move_aside(path, tmp, err) < 0)
		return -1;
	return fs_rm_rf(tmp, err);
}
